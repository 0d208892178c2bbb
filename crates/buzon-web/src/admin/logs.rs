//! The audit log (who did what and when, filterable; append-only in the store) and the
//! inbound event log (bodies that failed to normalize, with their error, and replay).

use super::{actor, admin, admin_form, page_data, when};
use crate::pages::{render, PageError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use buzon_core::*;
use buzon_store::AuditFilter;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    #[serde(default)]
    since: String,
    /// `YYYY-MM-DD`, to the end of that day (UTC).
    #[serde(default)]
    until: String,
}

/// `GET /admin/audit?actor=&action=&target=&since=&until=`.
pub(crate) async fn show_audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    let filter = AuditFilter {
        actor: Some(query.actor.trim().to_owned()),
        action: Some(query.action.trim().to_owned()),
        target: Some(query.target.trim().to_owned()),
        since: day_start(&query.since),
        until: day_start(&query.until).map(|at| at.plus_millis(DAY_MILLIS)),
    };
    let entries = state.store().audit_log(&filter, 500).await?;
    let mut data = page_data(&viewer, "admin.audit.title", "audit");
    data["filters"] = json!({
        "actor": query.actor.trim(),
        "action": query.action.trim(),
        "target": query.target.trim(),
        "since": query.since.trim(),
        "until": query.until.trim(),
    });
    data["entries"] = json!(entries
        .iter()
        .map(|entry| json!({
            "at": when(Some(entry.at)),
            "actor": entry.actor,
            "action": entry.action,
            "target": entry.target,
            "detail": if entry.detail == "{}" { String::new() } else { bound_text(&entry.detail, 300) },
        }))
        .collect::<Vec<_>>());
    Ok(render(&state, "admin_audit", &data)?.into_response())
}

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// The start (UTC) of a `YYYY-MM-DD` day.
fn day_start(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.len() != 10 {
        return None;
    }
    Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z"))
}

/// `GET /admin/events`: inbound events that failed to normalize.
pub(crate) async fn show_events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    let events = state.store().failed_inbound_events(200).await?;
    let mut data = page_data(&viewer, "admin.events.title", "events");
    data["events"] = json!(events
        .iter()
        .map(|event| json!({
            "id": event.id,
            "source": event.source.as_str(),
            "origin": event.origin,
            "channel": event.channel_id,
            "received": when(Some(event.received_at)),
            "error": event.error.as_deref().map(|error| bound_text(error, 500)),
            "attempts": event.attempts,
            "size": event.body.len(),
        }))
        .collect::<Vec<_>>());
    Ok(render(&state, "admin_events", &data)?.into_response())
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// `POST /admin/events/{id}/replay`: queues the event to be normalized again.
pub(crate) async fn post_replay(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    state.store().replay_inbound_event(EventId(id)).await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            "event.replay",
            &format!("event:{id}"),
            &json!({}),
        )
        .await?;
    state.wake_workers();
    Ok(Redirect::to("/admin/events").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_days_are_whole_utc_days() {
        let start = day_start("2026-11-23").unwrap();
        assert!(start.to_rfc3339().starts_with("2026-11-23T00:00:00"));
        assert!(day_start("23/11/2026").is_none());
        assert!(day_start("").is_none());
    }
}
