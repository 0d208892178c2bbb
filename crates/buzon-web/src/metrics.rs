//! `GET /metrics`: Prometheus text, open to the clients listed in `server.metrics_addresses`
//! (loopback by default: the usual Prometheus sidecar), else to admin tokens.

use crate::http::{bearer, WebError};
use crate::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use buzon_app::Actor;
use std::net::SocketAddr;

/// `GET /metrics`.
pub(crate) async fn show_metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    // The client is the peer, or the address a trusted proxy forwarded; a relayed request
    // from an untrusted proxy on a listed address still needs a token.
    let settings = state.settings();
    let client = crate::http::client_address(&peer, &headers, &settings.trusted_proxies);
    let relayed = !settings.trusted_proxies.contains(peer.ip())
        && (headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded"));
    let actor = if settings.metrics_addresses.contains(client) && !relayed {
        Actor::System("loopback scrape")
    } else {
        let secret = bearer(&headers).ok_or(WebError::unauthorized())?;
        state
            .app()
            .authenticate_token(secret)
            .await?
            .ok_or(WebError::unauthorized())?
    };
    let text = state.app().prometheus_text(&actor).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
