//! The service-practice routes of the JSON API (../shared/INTERFACE.md, "Service practices"):
//! business hours (the team's and each channel's) and each channel's out-of-hours auto-reply.
//! Reading takes any token; changing takes an admin.

use crate::http::{Admin, Agent, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use buzon_app::{AlertRule, AlertRuleInput, AutoReply, BulkReply, Incident, IncidentInput, OnCall};
use buzon_core::metrics::HoursDocument;
use buzon_core::ChannelId;
use serde_json::{json, Value};

/// `GET /api/v1/business-hours`: the team's hours (the configuration's until an admin saves
/// some), with whether the team is open now and when it is back.
pub(crate) async fn get_business_hours(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<Value>, WebError> {
    let hours = state.app().business_hours(&caller.actor).await?;
    hours_answer(&state, hours, None).await
}

/// `PUT /api/v1/business-hours`: saves the team's hours; `null` goes back to the
/// configuration's.
pub(crate) async fn put_business_hours(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<Option<HoursDocument>>,
) -> Result<Json<Value>, WebError> {
    let hours = state.app().set_business_hours(&caller.actor, body).await?;
    hours_answer(&state, hours, None).await
}

/// `GET /api/v1/channels/{id}/business-hours`: the channel's own hours, or `null` when it
/// follows the team's.
pub(crate) async fn get_channel_business_hours(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Option<HoursDocument>>, WebError> {
    let hours = state
        .app()
        .channel_business_hours(&caller.actor, ChannelId(id))
        .await?;
    Ok(Json(hours))
}

/// `PUT /api/v1/channels/{id}/business-hours`: the channel's own hours; `null` follows the
/// team's.
pub(crate) async fn put_channel_business_hours(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<Option<HoursDocument>>,
) -> Result<Json<Option<HoursDocument>>, WebError> {
    let hours = state
        .app()
        .set_channel_business_hours(&caller.actor, ChannelId(id), body)
        .await?;
    Ok(Json(hours))
}

/// `GET /api/v1/channels/{id}/auto-reply`.
pub(crate) async fn get_auto_reply(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<AutoReply>, WebError> {
    Ok(Json(
        state.app().auto_reply(&caller.actor, ChannelId(id)).await?,
    ))
}

/// `PUT /api/v1/channels/{id}/auto-reply`.
pub(crate) async fn put_auto_reply(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<AutoReply>,
) -> Result<Json<AutoReply>, WebError> {
    Ok(Json(
        state
            .app()
            .set_auto_reply(&caller.actor, ChannelId(id), body)
            .await?,
    ))
}

async fn hours_answer(
    state: &AppState,
    hours: HoursDocument,
    channel: Option<ChannelId>,
) -> Result<Json<Value>, WebError> {
    let opening = state.app().opening_state(channel).await?;
    let mut answer = serde_json::to_value(&hours).expect("hours serialize");
    answer["open_now"] = json!(opening.open);
    answer["back_at"] = json!(opening.back_at.map(|at| at.to_rfc3339()));
    Ok(Json(answer))
}

/// `GET /api/v1/alert-rules`: every rule (a webhook's secret is never shown, only whether it
/// is set).
pub(crate) async fn list_alert_rules(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<Value>, WebError> {
    let rules = state.app().alert_rules(&caller.actor).await?;
    Ok(Json(json!({ "items": rules })))
}

/// `POST /api/v1/alert-rules`.
pub(crate) async fn post_alert_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<AlertRuleInput>,
) -> Result<(StatusCode, Json<AlertRule>), WebError> {
    let rule = state.app().add_alert_rule(&caller.actor, body).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// `PUT /api/v1/alert-rules/{id}`: a webhook without a secret keeps the one it had.
pub(crate) async fn put_alert_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<AlertRuleInput>,
) -> Result<Json<AlertRule>, WebError> {
    Ok(Json(
        state
            .app()
            .update_alert_rule(&caller.actor, id, body)
            .await?,
    ))
}

/// `DELETE /api/v1/alert-rules/{id}`.
pub(crate) async fn delete_alert_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app().delete_alert_rule(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/on-call`: the rota.
pub(crate) async fn get_on_call(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<OnCall>, WebError> {
    Ok(Json(state.app().on_call(&caller.actor).await?))
}

/// `PUT /api/v1/on-call`: every shift's user must be an active user.
pub(crate) async fn put_on_call(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<OnCall>,
) -> Result<Json<OnCall>, WebError> {
    Ok(Json(state.app().set_on_call(&caller.actor, body).await?))
}

/// `GET /api/v1/incidents`: incidents (the ones on first) and the burst buzon noticed, if any.
pub(crate) async fn list_incidents(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<Value>, WebError> {
    let incidents = state.app().incidents(&caller.actor).await?;
    let spike = state.app().spike(&caller.actor).await?;
    Ok(Json(json!({ "items": incidents, "spike": spike })))
}

/// `POST /api/v1/incidents`: announces an incident.
pub(crate) async fn post_incident(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Json(body): Json<IncidentInput>,
) -> Result<(StatusCode, Json<Incident>), WebError> {
    let incident = state.app().start_incident(&caller.actor, body).await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

/// `POST /api/v1/incidents/{id}/end`.
pub(crate) async fn end_incident(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
) -> Result<Json<Incident>, WebError> {
    Ok(Json(state.app().end_incident(&caller.actor, id).await?))
}

/// The body of a bulk reply.
#[derive(serde::Deserialize)]
pub(crate) struct BulkBody {
    text: String,
}

/// `POST /api/v1/incidents/{id}/bulk-reply`: `{"text": …}`, one reply per conversation.
pub(crate) async fn bulk_reply(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<BulkBody>,
) -> Result<(StatusCode, Json<BulkReply>), WebError> {
    let done = state
        .app()
        .bulk_reply(&caller.actor, id, &body.text)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(done)))
}
