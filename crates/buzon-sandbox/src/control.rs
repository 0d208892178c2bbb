//! The control API under `/sandbox`: inject and generate items, edit or remove what a
//! customer wrote, read what was generated and what clients sent, set faults and read the
//! counters.

use crate::model::{Faults, Injection};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The most items one `POST /sandbox/generate` creates.
const MAX_GENERATE: usize = 10_000;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(index))
        .route("/sandbox/mentions", post(inject))
        .route("/sandbox/generate", post(generate))
        .route("/sandbox/burst", post(burst))
        .route("/sandbox/generated", get(generated))
        .route("/sandbox/items/{id}/edit", post(edit_item))
        .route("/sandbox/items/{id}/remove", post(remove_item))
        .route("/sandbox/replies", get(replies))
        .route("/sandbox/faults", get(show_faults).post(set_faults))
        .route("/sandbox/stats", get(stats))
        .route("/sandbox/webhook-target", post(set_webhook_target))
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    let base = &shared.base_url;
    Json(json!({
        "sandbox": "buzon",
        "graph_base": format!("{base}/graph/v21.0"),
        "x_base": format!("{base}/x"),
        "facebook_page_id": shared.config.facebook_page_id,
        "whatsapp_phone_number_id": shared.config.whatsapp_phone_number_id,
        "x_user_id": shared.config.x_user_id,
        "control": [
            "POST /sandbox/mentions",
            "POST /sandbox/generate",
            "POST /sandbox/burst",
            "GET /sandbox/generated",
            "POST /sandbox/items/{id}/edit",
            "POST /sandbox/items/{id}/remove",
            "GET /sandbox/replies",
            "GET|POST /sandbox/faults",
            "GET /sandbox/stats",
            "POST /sandbox/webhook-target",
        ],
    }))
    .into_response()
}

async fn inject(State(shared): State<Arc<Shared>>, Json(injection): Json<Injection>) -> Response {
    match shared.inject(&injection) {
        Ok(item) => (StatusCode::CREATED, Json(item)).into_response(),
        Err(message) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "invalid_injection", "message": message}})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct GenerateRequest {
    #[serde(default = "one")]
    count: usize,
}

fn one() -> usize {
    1
}

async fn generate(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<GenerateRequest>,
) -> Response {
    let items = shared.generate(request.count.min(MAX_GENERATE));
    Json(json!({"items": items})).into_response()
}

/// `POST /sandbox/burst` `{"count": 40}`: customers writing about the same outage at once.
async fn burst(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<GenerateRequest>,
) -> Response {
    let items = shared.burst(request.count.min(MAX_GENERATE));
    Json(json!({"items": items})).into_response()
}

/// The body of `POST /sandbox/items/{id}/edit` and `/remove` (optional for remove).
#[derive(Deserialize, Default)]
struct ItemChange {
    /// The new text (edit only).
    #[serde(default)]
    text: Option<String>,
    /// How many times the webhook is delivered (1 when absent).
    #[serde(default)]
    repeat: Option<u32>,
}

fn control_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Parses an optional JSON body; an empty body is the default.
fn item_change(body: &[u8]) -> Result<ItemChange, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ItemChange::default());
    }
    serde_json::from_slice(body).map_err(|err| err.to_string())
}

/// `POST /sandbox/items/{id}/edit` `{"text": "…"}`: the customer edits a Facebook mention,
/// review or feed comment; the platform's webhook follows (verb `edit`, `edited` on `feed`).
async fn edit_item(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let change = match item_change(&body) {
        Ok(change) => change,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, "invalid_body", &message),
    };
    let Some(text) = change.text.filter(|text| !text.trim().is_empty()) else {
        return control_error(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "an edit needs a non-empty text",
        );
    };
    match shared.edit_item(&id, &text, change.repeat.unwrap_or(1)) {
        Ok(source) => Json(json!({"id": id, "platform": source, "verb": "edit", "text": text}))
            .into_response(),
        Err(message) => control_error(StatusCode::NOT_FOUND, "unknown_item", &message),
    }
}

/// `POST /sandbox/items/{id}/remove`: the customer deletes a Facebook mention, review or feed
/// comment; the platform's webhook follows (verb `remove`).
async fn remove_item(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let change = match item_change(&body) {
        Ok(change) => change,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, "invalid_body", &message),
    };
    match shared.remove_item(&id, change.repeat.unwrap_or(1)) {
        Ok(source) => Json(json!({"id": id, "platform": source, "verb": "remove"})).into_response(),
        Err(message) => control_error(StatusCode::NOT_FOUND, "unknown_item", &message),
    }
}

async fn generated(State(shared): State<Arc<Shared>>) -> Response {
    let items = shared.world().generated.clone();
    Json(json!({"items": items})).into_response()
}

async fn replies(State(shared): State<Arc<Shared>>) -> Response {
    let items = shared.world().replies.clone();
    Json(json!({"items": items})).into_response()
}

async fn show_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.faults()).into_response()
}

async fn set_faults(State(shared): State<Arc<Shared>>, Json(faults): Json<Faults>) -> Response {
    *shared
        .faults
        .lock()
        .expect("the faults lock is not poisoned") = faults.clone();
    Json(faults).into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.stats()).into_response()
}

#[derive(Deserialize)]
struct TargetRequest {
    target: Option<String>,
}

async fn set_webhook_target(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<TargetRequest>,
) -> Response {
    *shared
        .webhook_target
        .lock()
        .expect("the webhook target lock is not poisoned") = request.target.clone();
    shared.forget_crc();
    Json(json!({"target": request.target})).into_response()
}
