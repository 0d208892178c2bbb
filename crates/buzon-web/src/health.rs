//! `GET /healthz`.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;

/// `200 {"status":"ok","database":"ok"}`, or 503 naming the failing part. The database check
/// is bounded, so a hung database cannot hang the health check.
pub(crate) async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.app().database_health(Duration::from_secs(3)).await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "ok"})),
        ),
        Err(problem) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": problem})),
        ),
    }
}
