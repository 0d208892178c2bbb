//! The platforms' webhooks: verify the signature over the raw bytes, store the body durably,
//! and only then answer 200. Parsing happens later, in the workers.

use crate::http::WebError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use buzon_app::{AppError, WebhookReceipt};
use buzon_connector::{constant_time_eq, hmac_sha256};
use buzon_core::ChannelKind;
use serde::Deserialize;
use serde_json::json;

/// The largest webhook body accepted (1 MiB); larger ones get 413.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Deserialize)]
pub(crate) struct MetaHandshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// `GET /webhooks/facebook|whatsapp`: Meta's subscription handshake.
pub(crate) async fn verify_meta(
    State(state): State<AppState>,
    Query(handshake): Query<MetaHandshake>,
) -> Response {
    let expected = state.settings().meta_verify_token.as_deref();
    let matches = match (expected, handshake.verify_token.as_deref()) {
        (Some(expected), Some(given)) => constant_time_eq(expected.as_bytes(), given.as_bytes()),
        _ => false,
    };
    match (handshake.mode.as_deref(), handshake.challenge) {
        (Some("subscribe"), Some(challenge)) if matches && challenge.len() <= 256 => {
            (StatusCode::OK, [("content-type", "text/plain")], challenge).into_response()
        }
        _ => (StatusCode::FORBIDDEN, "verification failed").into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct Crc {
    crc_token: Option<String>,
}

/// `GET /webhooks/x?crc_token=…`: X's challenge-response check.
pub(crate) async fn crc_x(
    State(state): State<AppState>,
    Query(crc): Query<Crc>,
) -> Result<Json<serde_json::Value>, WebError> {
    let secret = state
        .settings()
        .x_consumer_secret
        .as_deref()
        .ok_or_else(|| AppError::Unavailable("x.consumer_secret is not configured".into()))?;
    let token = crc
        .crc_token
        // X signs deliveries with the same HMAC it asks for here, so an answer for an
        // arbitrary string would be a valid signature for that string as a body. Real CRC
        // tokens are short URL-safe strings: refuse anything else (no JSON can pass).
        .filter(|token| is_crc_token(token))
        .ok_or_else(|| WebError::bad_request("crc_token is required"))?;
    let mac = hmac_sha256(secret.as_bytes(), token.as_bytes());
    let encoded = base64::engine::general_purpose::STANDARD.encode(mac);
    Ok(Json(
        json!({ "response_token": format!("sha256={encoded}") }),
    ))
}

/// Whether `token` looks like a CRC token X sends: 1 to 256 URL-safe characters.
fn is_crc_token(token: &str) -> bool {
    (1..=256).contains(&token.len())
        && token
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_+/=.".contains(&byte))
}

/// `POST /webhooks/facebook`.
pub(crate) async fn receive_facebook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(state, ChannelKind::Facebook, headers, body).await
}

/// `POST /webhooks/whatsapp`.
pub(crate) async fn receive_whatsapp(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(state, ChannelKind::Whatsapp, headers, body).await
}

/// `POST /webhooks/x`.
pub(crate) async fn receive_x(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(state, ChannelKind::X, headers, body).await
}

async fn receive(state: AppState, kind: ChannelKind, headers: HeaderMap, body: Bytes) -> Response {
    let configured = match kind {
        ChannelKind::Facebook | ChannelKind::Whatsapp => state.settings().meta_configured,
        ChannelKind::X => state.settings().x_consumer_secret.is_some(),
    };
    if !configured {
        state
            .app()
            .metrics()
            .count_webhook(kind.as_str(), "unconfigured");
        return WebError::from(AppError::Unavailable(format!(
            "{kind} webhooks are not configured"
        )))
        .into_response();
    }
    // Answered 200 only once the body is durably stored; otherwise the platform retries.
    match state.app().accept_webhook(kind, &headers, &body).await {
        Ok(WebhookReceipt::Stored) => {
            (StatusCode::OK, Json(json!({"status": "stored"}))).into_response()
        }
        Ok(WebhookReceipt::Duplicate) => {
            (StatusCode::OK, Json(json!({"status": "duplicate"}))).into_response()
        }
        Err(err) => WebError::from(err).into_response(),
    }
}
