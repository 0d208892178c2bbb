//! The working-the-queue routes of the JSON API (../shared/INTERFACE.md, "Service practices"):
//! canned replies, escalation and escalation rules. Each is a call to the application layer.

use crate::http::{Admin, Agent, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use buzon_app::CannedReplyForm;
use buzon_core::{CannedReply, ChannelId, ConversationId};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub(crate) struct CannedQuery {
    q: Option<String>,
    language: Option<String>,
}

/// `GET /api/v1/canned-replies?q=&language=`: the shared replies and the caller's own.
pub(crate) async fn list_canned(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(query): Query<CannedQuery>,
) -> Result<Json<Value>, WebError> {
    let replies = state
        .app()
        .canned_replies(&caller.actor, query.q.as_deref(), query.language.as_deref())
        .await?;
    Ok(Json(json!({ "items": replies })))
}

/// `POST /api/v1/canned-replies`: 201 with the saved reply.
pub(crate) async fn create_canned(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Json(body): Json<CannedReplyForm>,
) -> Result<(StatusCode, Json<CannedReply>), WebError> {
    let saved = state
        .app()
        .save_canned_reply(&caller.actor, None, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// `PUT /api/v1/canned-replies/{id}`.
pub(crate) async fn update_canned(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<CannedReplyForm>,
) -> Result<Json<CannedReply>, WebError> {
    let saved = state
        .app()
        .save_canned_reply(&caller.actor, Some(id), &body)
        .await?;
    Ok(Json(saved))
}

/// `DELETE /api/v1/canned-replies/{id}`: 204.
pub(crate) async fn delete_canned(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app().delete_canned_reply(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct EscalateBody {
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/conversations/{id}/escalate` `{"note": …}`.
pub(crate) async fn post_escalate(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<EscalateBody>,
) -> Result<Json<Value>, WebError> {
    state
        .app()
        .escalate(&caller.actor, ConversationId(id), &body.note)
        .await?;
    Ok(Json(json!({ "id": id, "escalated": true })))
}

/// `GET /api/v1/escalation-rules`.
pub(crate) async fn list_escalation_rules(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<Value>, WebError> {
    let rules = state.app().escalation_rules(&caller.actor).await?;
    let items: Vec<Value> = rules
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "channel_id": rule.channel_id,
                "label": rule.label,
                "target_minutes": rule.target_minutes,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
pub(crate) struct EscalationRuleBody {
    #[serde(default)]
    channel_id: Option<i64>,
    #[serde(default)]
    label: Option<String>,
    target_minutes: i64,
}

/// `POST /api/v1/escalation-rules` `{"channel_id":…, "label":…, "target_minutes":…}`: 201.
pub(crate) async fn create_escalation_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<EscalationRuleBody>,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let id = state
        .app()
        .add_escalation_rule(
            &caller.actor,
            body.channel_id.map(ChannelId),
            body.label.as_deref(),
            body.target_minutes,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `DELETE /api/v1/escalation-rules/{id}`: 204.
pub(crate) async fn delete_escalation_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state
        .app()
        .delete_escalation_rule(&caller.actor, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct SupervisorBody {
    supervisor: bool,
}

/// `PUT /api/v1/users/{id}/supervisor` `{"supervisor": true}`: escalations go to supervisors.
pub(crate) async fn put_supervisor(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<SupervisorBody>,
) -> Result<Json<Value>, WebError> {
    state
        .app()
        .set_supervisor(&caller.actor, buzon_core::UserId(id), body.supervisor)
        .await?;
    Ok(Json(json!({ "id": id, "supervisor": body.supervisor })))
}

#[derive(Deserialize)]
pub(crate) struct SignatureBody {
    signature: bool,
}

/// `GET /api/v1/channels/{id}/signature`: whether replies carry the agent's first name.
pub(crate) async fn get_signature(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Value>, WebError> {
    let on = state
        .app()
        .channel_signature(&caller.actor, ChannelId(id))
        .await?;
    Ok(Json(json!({ "signature": on })))
}

/// `PUT /api/v1/channels/{id}/signature` `{"signature": true}`.
pub(crate) async fn put_signature(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<SignatureBody>,
) -> Result<Json<Value>, WebError> {
    state
        .app()
        .set_channel_signature(&caller.actor, ChannelId(id), body.signature)
        .await?;
    Ok(Json(json!({ "signature": body.signature })))
}

/// `GET /api/v1/channels/{id}/closing-question`: the question sent when an agent resolves.
pub(crate) async fn get_closing_question(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<buzon_app::AutoReply>, WebError> {
    let question = state
        .app()
        .closing_question(&caller.actor, ChannelId(id))
        .await?;
    Ok(Json(question))
}

/// `PUT /api/v1/channels/{id}/closing-question` `{"enabled":…, "texts":{"es":…}, "default_language":…}`.
pub(crate) async fn put_closing_question(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<buzon_app::AutoReply>,
) -> Result<Json<buzon_app::AutoReply>, WebError> {
    let question = state
        .app()
        .set_closing_question(&caller.actor, ChannelId(id), body)
        .await?;
    Ok(Json(question))
}
