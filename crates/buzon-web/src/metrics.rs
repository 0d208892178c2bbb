//! `GET /metrics`: Prometheus text, open to a direct request from loopback (the usual
//! Prometheus sidecar), else to admin tokens.

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
    // A request relayed by a reverse proxy on this machine arrives from loopback too: only a
    // direct local request (no forwarding header) is trusted without a token.
    let forwarded = headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded");
    let actor = if peer.ip().is_loopback() && !forwarded {
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
