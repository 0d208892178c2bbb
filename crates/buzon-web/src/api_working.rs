//! The working-the-queue routes of the JSON API (../shared/INTERFACE.md, "Service practices"):
//! canned replies, escalation and escalation rules. Each is a call to the application layer.

use crate::api::Items;
use crate::api_team::IdJson;
use crate::http::{Admin, Agent, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use buzon_app::CannedReplyForm;
use buzon_app::SubscriptionView;
use buzon_core::{CannedReply, ChannelId, ConversationId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A conversation after an escalation.
#[derive(Serialize, ToSchema)]
pub(crate) struct EscalatedJson {
    id: i64,
    escalated: bool,
}

/// An escalation rule: escalate when a conversation of the channel and/or label has waited
/// longer than the target, counted in business hours.
#[derive(Serialize, ToSchema)]
pub(crate) struct EscalationRuleJson {
    id: i64,
    channel_id: Option<ChannelId>,
    label: Option<buzon_core::Label>,
    target_minutes: i64,
}

/// A user's supervisor mark.
#[derive(Serialize, ToSchema)]
pub(crate) struct SupervisorJson {
    id: i64,
    supervisor: bool,
}

/// A new outgoing webhook with its signing secret, shown this once.
#[derive(Serialize, ToSchema)]
pub(crate) struct NewWebhookJson {
    #[serde(flatten)]
    webhook: SubscriptionView,
    /// The HMAC-SHA256 key of `X-Buzon-Signature`.
    secret: String,
}

/// A queued test event.
#[derive(Serialize, ToSchema)]
pub(crate) struct TestEventJson {
    /// The delivery's id (`evt_…`), also the event's `id`.
    delivery_id: String,
}

/// One delivery of an outgoing webhook.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryJson {
    /// `evt_…`, the `id` the receiver deduplicates by.
    id: String,
    webhook_id: i64,
    event: String,
    /// `queued`, `delivered` or `failed`.
    state: String,
    attempts: i64,
    /// The receiver's last HTTP status.
    last_status: Option<i64>,
    last_error: Option<String>,
    /// RFC 3339.
    next_attempt_at: String,
    /// RFC 3339.
    created_at: String,
}

/// A delivery's state after a retry.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryStateJson {
    id: String,
    state: &'static str,
}

/// Filters of the canned replies.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CannedQuery {
    /// Words in the name, shortcut or text.
    q: Option<String>,
    /// ISO 639-1: replies in that language, and those for any language.
    language: Option<String>,
}

/// `GET /api/v1/canned-replies?q=&language=`: the shared replies and the caller's own.
#[utoipa::path(
    get,
    path = "/api/v1/canned-replies",
    tag = "canned replies",
    operation_id = "list_canned",
    params(CannedQuery),
    responses((status = 200, description = "The shared replies and the caller's own", body = Items<CannedReply>)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn list_canned(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(query): Query<CannedQuery>,
) -> Result<Json<Items<CannedReply>>, WebError> {
    let replies = state
        .app()
        .canned_replies(&caller.actor, query.q.as_deref(), query.language.as_deref())
        .await?;
    Ok(Items::of(replies))
}

/// `POST /api/v1/canned-replies`: 201 with the saved reply.
#[utoipa::path(
    post,
    path = "/api/v1/canned-replies",
    tag = "canned replies",
    operation_id = "create_canned",
    request_body = CannedReplyForm,
    responses((status = 201, description = "Saved", body = CannedReply)),
    security(("token" = ["agent"]))
)]
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
#[utoipa::path(
    put,
    path = "/api/v1/canned-replies/{id}",
    tag = "canned replies",
    operation_id = "update_canned",
    params(("id" = i64, Path, example = 1, description = "The canned reply's id")),
    request_body = CannedReplyForm,
    responses((status = 200, description = "Saved", body = CannedReply)),
    security(("token" = ["agent"]))
)]
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
#[utoipa::path(
    delete,
    path = "/api/v1/canned-replies/{id}",
    tag = "canned replies",
    operation_id = "delete_canned",
    params(("id" = i64, Path, example = 1, description = "The canned reply's id")),
    responses((status = 204, description = "Deleted")),
    security(("token" = ["agent"]))
)]
pub(crate) async fn delete_canned(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app().delete_canned_reply(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why it is escalated.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"note": "Threatens to go to the press"}))]
pub(crate) struct EscalateBody {
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/conversations/{id}/escalate` `{"note": …}`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/escalate",
    tag = "escalation",
    operation_id = "post_escalate",
    params(("id" = i64, Path, example = 1, description = "The conversation's id")),
    request_body = EscalateBody,
    responses((status = 200, description = "Escalated to the supervisors", body = EscalatedJson)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn post_escalate(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<EscalateBody>,
) -> Result<Json<EscalatedJson>, WebError> {
    state
        .app()
        .escalate(&caller.actor, ConversationId(id), &body.note)
        .await?;
    Ok(Json(EscalatedJson {
        id,
        escalated: true,
    }))
}

/// `GET /api/v1/escalation-rules`.
#[utoipa::path(
    get,
    path = "/api/v1/escalation-rules",
    tag = "escalation",
    operation_id = "list_escalation_rules",
    responses((status = 200, description = "The rules", body = Items<EscalationRuleJson>)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn list_escalation_rules(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<Items<EscalationRuleJson>>, WebError> {
    let rules = state.app().escalation_rules(&caller.actor).await?;
    let items = rules
        .into_iter()
        .map(|rule| EscalationRuleJson {
            id: rule.id,
            channel_id: rule.channel_id,
            label: rule.label,
            target_minutes: rule.target_minutes,
        })
        .collect();
    Ok(Items::of(items))
}

/// A new escalation rule.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"channel_id": 1, "label": "vip", "target_minutes": 60}))]
pub(crate) struct EscalationRuleBody {
    #[serde(default)]
    channel_id: Option<i64>,
    #[serde(default)]
    label: Option<String>,
    target_minutes: i64,
}

/// `POST /api/v1/escalation-rules` `{"channel_id":…, "label":…, "target_minutes":…}`: 201.
#[utoipa::path(
    post,
    path = "/api/v1/escalation-rules",
    tag = "escalation",
    operation_id = "create_escalation_rule",
    request_body = EscalationRuleBody,
    responses((status = 201, description = "The new rule's id", body = IdJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn create_escalation_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<EscalationRuleBody>,
) -> Result<(StatusCode, Json<IdJson>), WebError> {
    let id = state
        .app()
        .add_escalation_rule(
            &caller.actor,
            body.channel_id.map(ChannelId),
            body.label.as_deref(),
            body.target_minutes,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(IdJson { id })))
}

/// `DELETE /api/v1/escalation-rules/{id}`: 204.
#[utoipa::path(
    delete,
    path = "/api/v1/escalation-rules/{id}",
    tag = "escalation",
    operation_id = "delete_escalation_rule",
    params(("id" = i64, Path, example = 1, description = "The rule's id")),
    responses((status = 204, description = "Deleted")),
    security(("token" = ["admin"]))
)]
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

/// Whether escalations go to the user.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"supervisor": true}))]
pub(crate) struct SupervisorBody {
    supervisor: bool,
}

/// `PUT /api/v1/users/{id}/supervisor` `{"supervisor": true}`: escalations go to supervisors.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/supervisor",
    tag = "escalation",
    operation_id = "put_supervisor",
    params(("id" = i64, Path, example = 1, description = "The user's id")),
    request_body = SupervisorBody,
    responses((status = 200, description = "Changed", body = SupervisorJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn put_supervisor(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<SupervisorBody>,
) -> Result<Json<SupervisorJson>, WebError> {
    state
        .app()
        .set_supervisor(&caller.actor, buzon_core::UserId(id), body.supervisor)
        .await?;
    Ok(Json(SupervisorJson {
        id,
        supervisor: body.supervisor,
    }))
}

/// Whether a channel's replies end with `— <agent's first name>`.
#[derive(Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"signature": true}))]
pub(crate) struct SignatureBody {
    signature: bool,
}

/// `GET /api/v1/channels/{id}/signature`: whether replies carry the agent's first name.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}/signature",
    tag = "channels",
    operation_id = "get_signature",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    responses((status = 200, description = "Whether replies are signed", body = SignatureBody)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn get_signature(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<SignatureBody>, WebError> {
    let on = state
        .app()
        .channel_signature(&caller.actor, ChannelId(id))
        .await?;
    Ok(Json(SignatureBody { signature: on }))
}

/// `PUT /api/v1/channels/{id}/signature` `{"signature": true}`.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/signature",
    tag = "channels",
    operation_id = "put_signature",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    request_body = SignatureBody,
    responses((status = 200, description = "Changed", body = SignatureBody)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn put_signature(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<SignatureBody>,
) -> Result<Json<SignatureBody>, WebError> {
    state
        .app()
        .set_channel_signature(&caller.actor, ChannelId(id), body.signature)
        .await?;
    Ok(Json(body))
}

/// `GET /api/v1/channels/{id}/closing-question`: the question sent when an agent resolves.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}/closing-question",
    tag = "channels",
    operation_id = "get_closing_question",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    responses((status = 200, description = "The closing question", body = buzon_app::AutoReply)),
    security(("token" = ["viewer"]))
)]
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
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/closing-question",
    tag = "channels",
    operation_id = "put_closing_question",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    request_body = buzon_app::AutoReply,
    responses((status = 200, description = "Saved", body = buzon_app::AutoReply)),
    security(("token" = ["admin"]))
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "events out",
    operation_id = "list_webhooks",
    responses((status = 200, description = "The outgoing webhooks, never their secrets", body = Items<SubscriptionView>)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn list_webhooks(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Items<SubscriptionView>>, WebError> {
    Ok(Items::of(
        state.app().event_subscriptions(&caller.actor).await?,
    ))
}

/// `POST /api/v1/webhooks` `{"url":…, "events":[…], "secret":…}`: 201 with the secret, shown
/// this once (buzon makes one when none is given).
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "events out",
    operation_id = "create_webhook",
    request_body = buzon_app::SubscriptionInput,
    responses((status = 201, description = "The webhook and its secret, shown this once", body = NewWebhookJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<buzon_app::SubscriptionInput>,
) -> Result<(StatusCode, Json<NewWebhookJson>), WebError> {
    let (webhook, secret) = state
        .app()
        .add_event_subscription(&caller.actor, &body)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewWebhookJson { webhook, secret }),
    ))
}

/// `DELETE /api/v1/webhooks/{id}`: 204.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "events out",
    operation_id = "delete_webhook",
    params(("id" = i64, Path, example = 1, description = "The webhook's id")),
    responses((status = 204, description = "Deleted")),
    security(("token" = ["admin"]))
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/test",
    tag = "events out",
    operation_id = "test_webhook",
    params(("id" = i64, Path, example = 1, description = "The webhook's id")),
    responses((status = 202, description = "A test event queued", body = TestEventJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn test_webhook(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<TestEventJson>), WebError> {
    let delivery = state.app().send_test_event(&caller.actor, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TestEventJson {
            delivery_id: format!("evt_{delivery}"),
        }),
    ))
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the delivery log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    tag = "events out",
    operation_id = "webhook_deliveries",
    params(("id" = i64, Path, example = 1, description = "The webhook's id")),
    responses((status = 200, description = "The delivery log, newest first", body = Items<DeliveryJson>)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn webhook_deliveries(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<Json<Items<DeliveryJson>>, WebError> {
    let deliveries = state
        .app()
        .event_deliveries(&caller.actor, Some(id), 200)
        .await?;
    Ok(Items::of(deliveries.iter().map(DeliveryJson::of).collect()))
}

impl DeliveryJson {
    pub(crate) fn of(delivery: &buzon_app::EventDelivery) -> DeliveryJson {
        DeliveryJson {
            id: format!("evt_{}", delivery.id),
            webhook_id: delivery.subscription_id,
            event: delivery.event.clone(),
            state: delivery.state.clone(),
            attempts: delivery.attempts,
            last_status: delivery.last_status,
            last_error: delivery.last_error.clone(),
            next_attempt_at: delivery.next_attempt_at.to_rfc3339(),
            created_at: delivery.created_at.to_rfc3339(),
        }
    }
}

/// `POST /api/v1/webhooks/deliveries/{id}/retry`: a failed delivery, queued again.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/deliveries/{id}/retry",
    tag = "events out",
    operation_id = "retry_webhook_delivery",
    params(("id" = String, Path, example = "evt_1", description = "The delivery's id, `evt_…`")),
    responses((status = 200, description = "Queued again", body = DeliveryStateJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn retry_webhook_delivery(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Json<DeliveryStateJson>, WebError> {
    let id: i64 = id
        .trim_start_matches("evt_")
        .parse()
        .map_err(|_| WebError::bad_request("a delivery id such as evt_12"))?;
    state.app().retry_event_delivery(&caller.actor, id).await?;
    Ok(Json(DeliveryStateJson {
        id: format!("evt_{id}"),
        state: "queued",
    }))
}
