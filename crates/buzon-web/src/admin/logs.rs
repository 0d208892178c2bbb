//! The audit log (who did what and when, filterable; append-only in the store) and the
//! inbound event log (bodies that failed to normalize, with their error, and replay).

use super::{admin_page, respond, NoFields};
use crate::http::{see_other, Admin, CsrfForm, WebError};
use crate::view::when;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use buzon_core::{bound_text, AuditFilter, EventId, Timestamp};
use serde::{Deserialize, Serialize};

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

/// The filters as typed, to show them again.
#[derive(Serialize)]
struct AuditFilters {
    actor: String,
    action: String,
    target: String,
    since: String,
    until: String,
}

/// One audit line.
#[derive(Serialize)]
struct AuditRow {
    at: Option<String>,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Serialize)]
struct AuditView {
    filters: AuditFilters,
    entries: Vec<AuditRow>,
}

/// How many audit lines the page shows.
const AUDIT_LINES: u32 = 500;
/// How many failed events the page shows.
const FAILED_EVENTS: u32 = 200;

/// `GET /admin/audit?actor=&action=&target=&since=&until=`.
pub(crate) async fn show_audit(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let filter = AuditFilter {
        actor: Some(query.actor.trim().to_owned()),
        action: Some(query.action.trim().to_owned()),
        target: Some(query.target.trim().to_owned()),
        since: day_start(&query.since),
        until: day_start(&query.until).map(|at| at.plus_millis(DAY_MILLIS)),
        after: None,
    };
    let entries = state
        .app()
        .audit_log(&caller.actor, &filter, AUDIT_LINES)
        .await?;
    let view = AuditView {
        filters: AuditFilters {
            actor: query.actor.trim().to_owned(),
            action: query.action.trim().to_owned(),
            target: query.target.trim().to_owned(),
            since: query.since.trim().to_owned(),
            until: query.until.trim().to_owned(),
        },
        entries: entries
            .iter()
            .map(|entry| AuditRow {
                at: when(Some(entry.at)),
                actor: entry.actor.clone(),
                action: entry.action.clone(),
                target: entry.target.clone(),
                detail: if entry.detail == "{}" {
                    String::new()
                } else {
                    bound_text(&entry.detail, 300)
                },
            })
            .collect(),
    };
    let page = admin_page(&caller, "admin-audit-title", "audit", view);
    respond(&state, &caller, StatusCode::OK, "admin_audit", &page).await
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

/// One failed inbound event (never its body: only its size).
#[derive(Serialize)]
struct EventRow {
    id: i64,
    source: &'static str,
    origin: String,
    channel: Option<i64>,
    received: Option<String>,
    error: Option<String>,
    attempts: i32,
    size: usize,
    state: &'static str,
    parts: Vec<PartRow>,
}

/// A part of a delivery buzon did not recognise.
#[derive(Serialize)]
struct PartRow {
    path: String,
    reason: String,
}

#[derive(Serialize)]
struct EventsView {
    events: Vec<EventRow>,
}

/// `GET /admin/events`: inbound events that failed to normalize.
pub(crate) async fn show_events(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Response, WebError> {
    let events = state
        .app()
        .failed_events(&caller.actor, FAILED_EVENTS, None)
        .await?;
    let view = EventsView {
        events: events
            .iter()
            .map(|event| EventRow {
                id: event.id.get(),
                source: event.source.as_str(),
                origin: event.origin.clone(),
                channel: event.channel_id.map(|id| id.get()),
                received: when(Some(event.received_at)),
                error: event.error.as_deref().map(|error| bound_text(error, 500)),
                attempts: event.attempts,
                size: event.body.len(),
                state: event.state.as_str(),
                parts: event
                    .unparsed
                    .iter()
                    .map(|part| PartRow {
                        path: part.path.clone(),
                        reason: bound_text(&part.reason, 300),
                    })
                    .collect(),
            })
            .collect(),
    };
    let page = admin_page(&caller, "admin-events-title", "events", view);
    respond(&state, &caller, StatusCode::OK, "admin_events", &page).await
}

/// `POST /admin/events/{id}/replay`: queues the event to be normalized again.
pub(crate) async fn post_replay(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state.app().replay_event(&caller.actor, EventId(id)).await?;
    Ok(see_other("/admin/events"))
}

/// `POST /admin/events/{id}/dismiss`: sets the event aside for good.
pub(crate) async fn post_dismiss(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state
        .app()
        .dismiss_event(&caller.actor, EventId(id))
        .await?;
    Ok(see_other("/admin/events"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::testing::{admin, render};

    #[test]
    fn audit_days_are_whole_utc_days() {
        let start = day_start("2026-11-23").unwrap();
        assert!(start.to_rfc3339().starts_with("2026-11-23T00:00:00"));
        assert!(day_start("23/11/2026").is_none());
        assert!(day_start("").is_none());
    }

    #[test]
    fn the_audit_and_event_pages_render() {
        let caller = admin();
        let view = AuditView {
            filters: AuditFilters {
                actor: "user:1".into(),
                action: "user.".into(),
                target: String::new(),
                since: "2026-11-01".into(),
                until: String::new(),
            },
            entries: vec![AuditRow {
                at: Some("2026-11-23 17:05 UTC".into()),
                actor: "user:1".into(),
                action: "user.add".into(),
                target: "user:2".into(),
                detail: "{\"role\":\"agent\"}".into(),
            }],
        };
        let html = render(
            "admin_audit",
            &admin_page(&caller, "admin-audit-title", "audit", view),
        );
        assert!(html.contains("class=\"audit-entry\""), "{html}");
        assert!(html.contains("value=\"2026-11-01\""));
        let view = EventsView {
            events: vec![EventRow {
                state: "unparsed",
                parts: vec![PartRow {
                    path: "entry[0].messaging[1]".into(),
                    reason: "a messaging event of an unknown kind".into(),
                }],
                id: 9,
                source: "whatsapp",
                origin: "webhook".into(),
                channel: None,
                received: Some("2026-11-23 17:05 UTC".into()),
                error: Some("entry is not a list".into()),
                attempts: 1,
                size: 60,
            }],
        };
        let html = render(
            "admin_events",
            &admin_page(&caller, "admin-events-title", "events", view),
        );
        assert!(html.contains("id=\"event-9\""), "{html}");
        assert!(html.contains("/admin/events/9/replay"));
    }
}
