//! The service-practice routes of the JSON API (../shared/INTERFACE.md, "Service practices"):
//! business hours (the team's and each channel's) and each channel's out-of-hours auto-reply.
//! Reading takes any token; changing takes an admin.

use crate::api::Items;
use crate::http::{Admin, Agent, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use buzon_app::Spike;
use buzon_app::{AlertRule, AlertRuleInput, AutoReply, BulkReply, Incident, IncidentInput, OnCall};
use buzon_core::metrics::HoursDocument;
use buzon_core::ChannelId;
use serde::Serialize;
use utoipa::ToSchema;

/// Business hours with whether the team is open now and when it is back.
#[derive(Serialize)]
pub(crate) struct HoursAnswer {
    #[serde(flatten)]
    hours: HoursDocument,
    open_now: bool,
    back_at: Option<String>,
}

buzon_core::schema_with_fields!(HoursAnswer: HoursDocument, {
    open_now: bool,
    back_at: Option<String>,
});

/// The incidents, and the burst of messages buzon noticed, if any.
#[derive(Serialize, ToSchema)]
pub(crate) struct IncidentsJson {
    items: Vec<Incident>,
    spike: Option<Spike>,
}

/// `GET /api/v1/business-hours`: the team's hours (the configuration's until an admin saves
/// some), with whether the team is open now and when it is back.
#[utoipa::path(
    get,
    path = "/api/v1/business-hours",
    tag = "service",
    operation_id = "get_business_hours",
    responses((status = 200, description = "The team's hours", body = HoursAnswer)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn get_business_hours(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<HoursAnswer>, WebError> {
    let hours = state.app().business_hours(&caller.actor).await?;
    hours_answer(&state, hours, None).await
}

/// `PUT /api/v1/business-hours`: saves the team's hours; `null` goes back to the
/// configuration's.
#[utoipa::path(
    put,
    path = "/api/v1/business-hours",
    tag = "service",
    operation_id = "put_business_hours",
    request_body = Option<HoursDocument>,
    responses((status = 200, description = "Saved", body = HoursAnswer)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn put_business_hours(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<Option<HoursDocument>>,
) -> Result<Json<HoursAnswer>, WebError> {
    let hours = state.app().set_business_hours(&caller.actor, body).await?;
    hours_answer(&state, hours, None).await
}

/// `GET /api/v1/channels/{id}/business-hours`: the channel's own hours, or `null` when it
/// follows the team's.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}/business-hours",
    tag = "service",
    operation_id = "get_channel_business_hours",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    responses((status = 200, description = "The channel's own hours, or null", body = Option<HoursDocument>)),
    security(("token" = ["viewer"]))
)]
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
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/business-hours",
    tag = "service",
    operation_id = "put_channel_business_hours",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    request_body = Option<HoursDocument>,
    responses((status = 200, description = "Saved", body = Option<HoursDocument>)),
    security(("token" = ["admin"]))
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}/auto-reply",
    tag = "service",
    operation_id = "get_auto_reply",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    responses((status = 200, description = "The auto-reply", body = AutoReply)),
    security(("token" = ["viewer"]))
)]
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
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/auto-reply",
    tag = "service",
    operation_id = "put_auto_reply",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    request_body = AutoReply,
    responses((status = 200, description = "Saved", body = AutoReply)),
    security(("token" = ["admin"]))
)]
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
) -> Result<Json<HoursAnswer>, WebError> {
    let opening = state.app().opening_state(channel).await?;
    Ok(Json(HoursAnswer {
        hours,
        open_now: opening.open,
        back_at: opening.back_at.map(|at| at.to_rfc3339()),
    }))
}

/// `GET /api/v1/alert-rules`: every rule (a webhook's secret is never shown, only whether it
/// is set).
#[utoipa::path(
    get,
    path = "/api/v1/alert-rules",
    tag = "alerts",
    operation_id = "list_alert_rules",
    responses((status = 200, description = "The rules", body = Items<AlertRule>)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn list_alert_rules(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<Items<AlertRule>>, WebError> {
    Ok(Items::of(state.app().alert_rules(&caller.actor).await?))
}

/// `POST /api/v1/alert-rules`.
#[utoipa::path(
    post,
    path = "/api/v1/alert-rules",
    tag = "alerts",
    operation_id = "post_alert_rule",
    request_body = AlertRuleInput,
    responses((status = 201, description = "The new rule", body = AlertRule)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn post_alert_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<AlertRuleInput>,
) -> Result<(StatusCode, Json<AlertRule>), WebError> {
    let rule = state.app().add_alert_rule(&caller.actor, body).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// `PUT /api/v1/alert-rules/{id}`: a webhook without a secret keeps the one it had.
#[utoipa::path(
    put,
    path = "/api/v1/alert-rules/{id}",
    tag = "alerts",
    operation_id = "put_alert_rule",
    params(("id" = i64, Path, example = 1, description = "The rule's id")),
    request_body = AlertRuleInput,
    responses((status = 200, description = "Saved", body = AlertRule)),
    security(("token" = ["admin"]))
)]
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
#[utoipa::path(
    delete,
    path = "/api/v1/alert-rules/{id}",
    tag = "alerts",
    operation_id = "delete_alert_rule",
    params(("id" = i64, Path, example = 1, description = "The rule's id")),
    responses((status = 204, description = "Deleted")),
    security(("token" = ["admin"]))
)]
pub(crate) async fn delete_alert_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app().delete_alert_rule(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/on-call`: the rota.
#[utoipa::path(
    get,
    path = "/api/v1/on-call",
    tag = "alerts",
    operation_id = "get_on_call",
    responses((status = 200, description = "The rota", body = OnCall)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn get_on_call(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<OnCall>, WebError> {
    Ok(Json(state.app().on_call(&caller.actor).await?))
}

/// `PUT /api/v1/on-call`: every shift's user must be an active user.
#[utoipa::path(
    put,
    path = "/api/v1/on-call",
    tag = "alerts",
    operation_id = "put_on_call",
    request_body = OnCall,
    responses((status = 200, description = "Saved", body = OnCall)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn put_on_call(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<OnCall>,
) -> Result<Json<OnCall>, WebError> {
    Ok(Json(state.app().set_on_call(&caller.actor, body).await?))
}

/// `GET /api/v1/incidents`: incidents (the ones on first) and the burst buzon noticed, if any.
#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "incidents",
    operation_id = "list_incidents",
    responses((status = 200, description = "Incidents and the noticed burst", body = IncidentsJson)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn list_incidents(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<IncidentsJson>, WebError> {
    let items = state.app().incidents(&caller.actor).await?;
    let spike = state.app().spike(&caller.actor).await?;
    Ok(Json(IncidentsJson { items, spike }))
}

/// `POST /api/v1/incidents`: announces an incident.
#[utoipa::path(
    post,
    path = "/api/v1/incidents",
    tag = "incidents",
    operation_id = "post_incident",
    request_body = IncidentInput,
    responses((status = 201, description = "Started", body = Incident)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn post_incident(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Json(body): Json<IncidentInput>,
) -> Result<(StatusCode, Json<Incident>), WebError> {
    let incident = state.app().start_incident(&caller.actor, body).await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

/// `POST /api/v1/incidents/{id}/end`.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/end",
    tag = "incidents",
    operation_id = "end_incident",
    params(("id" = i64, Path, example = 1, description = "The incident's id")),
    responses((status = 200, description = "Ended", body = Incident)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn end_incident(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
) -> Result<Json<Incident>, WebError> {
    Ok(Json(state.app().end_incident(&caller.actor, id).await?))
}

/// The body of a bulk reply.
#[derive(serde::Deserialize, ToSchema)]
#[schema(example = json!({"text": "We know the shop is down and are fixing it. Sorry!"}))]
pub(crate) struct BulkBody {
    text: String,
}

/// `POST /api/v1/incidents/{id}/bulk-reply`: `{"text": …}`, one reply per conversation.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/bulk-reply",
    tag = "incidents",
    operation_id = "bulk_reply",
    params(("id" = i64, Path, example = 1, description = "The incident's id")),
    request_body = BulkBody,
    responses((status = 202, description = "Replies queued", body = BulkReply)),
    security(("token" = ["agent"]))
)]
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
