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

/// `GET /api/v1/webhooks`: the outgoing webhooks (never their secrets).
pub(crate) async fn list_webhooks(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Value>, WebError> {
    let items = state.app().event_subscriptions(&caller.actor).await?;
    Ok(Json(json!({ "items": items })))
}

/// `POST /api/v1/webhooks` `{"url":…, "events":[…], "secret":…}`: 201 with the secret, shown
/// this once (buzon makes one when none is given).
pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<buzon_app::SubscriptionInput>,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let (view, secret) = state
        .app()
        .add_event_subscription(&caller.actor, &body)
        .await?;
    let mut answer = serde_json::to_value(view).expect("a subscription serializes");
    answer["secret"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `DELETE /api/v1/webhooks/{id}`: 204.
pub(crate) async fn delete_webhook(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state
        .app()
        .delete_event_subscription(&caller.actor, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/webhooks/{id}/test`: 202, a `test` event queued.
pub(crate) async fn test_webhook(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let delivery = state.app().send_test_event(&caller.actor, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "delivery_id": format!("evt_{delivery}") })),
    ))
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the delivery log, newest first.
pub(crate) async fn webhook_deliveries(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<Json<Value>, WebError> {
    let deliveries = state
        .app()
        .event_deliveries(&caller.actor, Some(id), 200)
        .await?;
    let items: Vec<Value> = deliveries.iter().map(delivery_json).collect();
    Ok(Json(json!({ "items": items })))
}

pub(crate) fn delivery_json(delivery: &buzon_app::EventDelivery) -> Value {
    json!({
        "id": format!("evt_{}", delivery.id),
        "webhook_id": delivery.subscription_id,
        "event": delivery.event,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at.to_rfc3339(),
        "created_at": delivery.created_at.to_rfc3339(),
    })
}

/// `POST /api/v1/webhooks/deliveries/{id}/retry`: a failed delivery, queued again.
pub(crate) async fn retry_webhook_delivery(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, WebError> {
    let id: i64 = id
        .trim_start_matches("evt_")
        .parse()
        .map_err(|_| WebError::bad_request("a delivery id such as evt_12"))?;
    state.app().retry_event_delivery(&caller.actor, id).await?;
    Ok(Json(
        json!({ "id": format!("evt_{id}"), "state": "queued" }),
    ))
}
