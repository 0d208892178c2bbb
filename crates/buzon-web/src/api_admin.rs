//! The administration routes of the JSON API, beside the pages of /admin: connecting a
//! channel with a pasted token, replacing its token, testing, pausing, publishing and
//! auto-hiding it; resetting a password; the audit log (keyset-paginated); the alert
//! deliveries and their retry. Each is a call to the application layer, audited there. Only
//! the OAuth sign-ins stay pages: they are a browser's round trip to the platform.

use crate::api::{bad_cursor, next_cursor, ChannelJson, Items, List};
use crate::http::{Admin, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use buzon_app::{CredentialCheck, NewChannel};
use buzon_core::{
    AuditEntry, AuditFilter, AuditId, ChannelId, ChannelKind, ReplyTemplate, Timestamp, UserId,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn default_true() -> bool {
    true
}

fn check(with_platform: bool) -> CredentialCheck {
    if with_platform {
        CredentialCheck::WithPlatform
    } else {
        CredentialCheck::Skip
    }
}

/// A channel to connect with a pasted token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "whatsapp", "platform_id": "106540352242922", "access_token": "EAAG…", "name": "Tienda WhatsApp"}))]
pub(crate) struct ConnectBody {
    kind: ChannelKind,
    /// The Page id, phone number id or X user id.
    platform_id: String,
    access_token: String,
    /// X only.
    #[serde(default)]
    refresh_token: Option<String>,
    /// The name to show (the platform's when empty and checked).
    #[serde(default)]
    name: String,
    /// Ask the platform whether the token works before saving it (the default).
    #[serde(default = "default_true")]
    check: bool,
}

/// `POST /api/v1/channels`: connects a channel (409 when the account is connected already).
#[utoipa::path(
    post,
    path = "/api/v1/channels",
    tag = "channels",
    operation_id = "connect_channel",
    request_body = ConnectBody,
    responses((status = 201, description = "Connected", body = ChannelJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn connect_channel(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<ConnectBody>,
) -> Result<(StatusCode, Json<ChannelJson>), WebError> {
    let new = NewChannel {
        kind: body.kind,
        platform_id: body.platform_id,
        access_token: body.access_token,
        refresh_token: body.refresh_token,
        name: body.name,
        replace_existing: false,
        via: "api",
    };
    let (channel, _) = state
        .app()
        .connect_channel(&caller.actor, &new, check(body.check))
        .await?;
    Ok((StatusCode::CREATED, Json(ChannelJson::of(&channel))))
}

/// A channel's new token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"access_token": "EAAG…"}))]
pub(crate) struct TokenBody {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    /// Ask the platform first (the default).
    #[serde(default = "default_true")]
    check: bool,
}

/// `PUT /api/v1/channels/{id}/token`: replaces a channel's token; polling resumes.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/token",
    tag = "channels",
    operation_id = "replace_channel_token",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    request_body = TokenBody,
    responses((status = 200, description = "Replaced", body = ChannelJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn replace_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<TokenBody>,
) -> Result<Json<ChannelJson>, WebError> {
    let channel = state
        .app()
        .replace_token(
            &caller.actor,
            ChannelId(id),
            &body.access_token,
            body.refresh_token.as_deref(),
            check(body.check),
        )
        .await?;
    Ok(Json(ChannelJson::of(&channel)))
}

/// What the platform said of a channel's stored credentials.
#[derive(Serialize, ToSchema)]
pub(crate) struct TestJson {
    ok: bool,
    /// The platform's refusal, in words.
    refusal: Option<String>,
}

/// `POST /api/v1/channels/{id}/test`: asks the platform whether the token works, and records
/// the channel's health.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{id}/test",
    tag = "channels",
    operation_id = "test_channel",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    responses((status = 200, description = "The platform's answer", body = TestJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn test_channel(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<Json<TestJson>, WebError> {
    let refusal = state
        .app()
        .test_channel(&caller.actor, ChannelId(id))
        .await?;
    Ok(Json(TestJson {
        ok: refusal.is_none(),
        refusal,
    }))
}

/// A channel switch: paused (no polls, no sends), published (on the public page) or
/// auto-hide (flagged authors' new public messages hidden on the platform).
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"on": true}))]
pub(crate) struct SwitchBody {
    on: bool,
}

/// `PUT /api/v1/channels/{id}/paused` `{"on": true}`: pauses or resumes a channel.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/paused",
    tag = "channels",
    operation_id = "pause_channel",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    request_body = SwitchBody,
    responses((status = 200, description = "Set", body = SwitchBody)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn put_paused(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<SwitchBody>,
) -> Result<Json<SwitchBody>, WebError> {
    state
        .app()
        .pause_channel(&caller.actor, ChannelId(id), body.on)
        .await?;
    Ok(Json(body))
}

/// `PUT /api/v1/channels/{id}/published` `{"on": true}`: the channel's response times on
/// the public page, or not.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/published",
    tag = "channels",
    operation_id = "publish_channel",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    request_body = SwitchBody,
    responses((status = 200, description = "Set", body = SwitchBody)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn put_published(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<SwitchBody>,
) -> Result<Json<SwitchBody>, WebError> {
    state
        .app()
        .publish_channel(&caller.actor, ChannelId(id), body.on)
        .await?;
    Ok(Json(body))
}

/// `PUT /api/v1/channels/{id}/auto-hide` `{"on": true}`: flagged authors' new public
/// messages hidden on the platform, or not.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/auto-hide",
    tag = "channels",
    operation_id = "auto_hide_channel",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    request_body = SwitchBody,
    responses((status = 200, description = "Set", body = SwitchBody)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn put_auto_hide(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<SwitchBody>,
) -> Result<Json<SwitchBody>, WebError> {
    state
        .app()
        .auto_hide_channel(&caller.actor, ChannelId(id), body.on)
        .await?;
    Ok(Json(body))
}

/// A new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "a long pass phrase"}))]
pub(crate) struct PasswordBody {
    /// 8 characters at least.
    password: String,
}

/// `PUT /api/v1/users/{id}/password`: sets a user's password and ends their sessions.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/password",
    tag = "team",
    operation_id = "reset_password",
    params(("id" = i64, Path, example = 1, description = "The user's id")),
    request_body = PasswordBody,
    responses((status = 204, description = "Set; their sessions ended")),
    security(("token" = ["admin"]))
)]
pub(crate) async fn put_password(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<PasswordBody>,
) -> Result<StatusCode, WebError> {
    state
        .app()
        .reset_password(&caller.actor, UserId(id), &body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Filters and page of the audit log.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Exactly this actor: `user:3`, `token:2`, `cli`, `system`.
    actor: Option<String>,
    /// Actions starting with this: `user.` is every user action.
    action: Option<String>,
    /// Exactly this target: `conversation:12`.
    target: Option<String>,
    /// Page size (1 to 500; 100 when absent; a larger one is cut to the most).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /api/v1/audit`: the audit log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "team",
    operation_id = "audit_log",
    params(AuditQuery),
    responses((status = 200, description = "A page of the audit log", body = List<AuditEntry>)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Query(query): Query<AuditQuery>,
) -> Result<Json<List<AuditEntry>>, WebError> {
    let after = match query.cursor.as_deref().filter(|cursor| !cursor.is_empty()) {
        None => None,
        Some(cursor) => {
            let (at, id) = cursor
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse().ok()?, id.parse().ok()?)))
                .ok_or_else(bad_cursor)?;
            Some((Timestamp::from_millis(at), AuditId(id)))
        }
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        target: query.target,
        since: None,
        until: None,
        after,
    };
    let entries = state.app().audit_log(&caller.actor, &filter, limit).await?;
    let next_cursor = next_cursor(&entries, limit, |last| {
        format!("{}.{}", last.at.as_millis(), last.id.get())
    });
    Ok(Json(List::new(entries, next_cursor)))
}

/// An alert's delivery (an e-mail or a webhook).
#[derive(Serialize, ToSchema)]
pub(crate) struct AlertDeliveryJson {
    id: i64,
    rule_id: i64,
    conversation_id: i64,
    /// `email` or `webhook`.
    kind: String,
    /// The address or URL.
    destination: String,
    /// `queued`, `delivered` or `failed`.
    state: String,
    attempts: i64,
    last_error: Option<String>,
    /// RFC 3339.
    next_attempt_at: String,
    /// RFC 3339.
    created_at: String,
}

/// `GET /api/v1/alert-deliveries`: the newest alert deliveries with their state.
#[utoipa::path(
    get,
    path = "/api/v1/alert-deliveries",
    tag = "alerts",
    operation_id = "alert_deliveries",
    responses((status = 200, description = "The newest 200", body = Items<AlertDeliveryJson>)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn alert_deliveries(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Items<AlertDeliveryJson>>, WebError> {
    let deliveries = state.app().alert_deliveries(&caller.actor, 200).await?;
    Ok(Items::of(
        deliveries
            .into_iter()
            .map(|delivery| AlertDeliveryJson {
                id: delivery.id,
                rule_id: delivery.rule_id,
                conversation_id: delivery.conversation_id.get(),
                kind: delivery.kind,
                destination: delivery.destination,
                state: delivery.state,
                attempts: delivery.attempts,
                last_error: delivery.last_error,
                next_attempt_at: delivery.next_attempt_at.to_rfc3339(),
                created_at: delivery.created_at.to_rfc3339(),
            })
            .collect(),
    ))
}

/// `POST /api/v1/alert-deliveries/{id}/retry`: a failed alert delivery, queued again.
#[utoipa::path(
    post,
    path = "/api/v1/alert-deliveries/{id}/retry",
    tag = "alerts",
    operation_id = "retry_alert_delivery",
    params(("id" = i64, Path, example = 1, description = "The delivery's id")),
    responses((status = 204, description = "Queued again")),
    security(("token" = ["admin"]))
)]
pub(crate) async fn retry_alert_delivery(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app().retry_alert_delivery(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/whatsapp-templates`: the approved templates agents are offered when the
/// 24-hour window has closed.
#[utoipa::path(
    get,
    path = "/api/v1/whatsapp-templates",
    tag = "channels",
    operation_id = "list_templates",
    responses((status = 200, description = "The registered templates", body = Items<ReplyTemplate>)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn list_templates(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<Items<ReplyTemplate>>, WebError> {
    Ok(Items::of(
        state
            .app()
            .templates(&caller.actor, ChannelKind::Whatsapp)
            .await?,
    ))
}

/// A template approved in the WhatsApp Manager, as approved.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "pedido_enviado", "language": "es", "body": "Hola, tu pedido ya está en camino."}))]
pub(crate) struct TemplateBody {
    /// Lowercase letters, digits and `_`.
    name: String,
    /// `es`, `en`, `en_US`…
    language: String,
    /// As approved, at most 1,024 characters; without parameters (`{{1}}`), which buzon does
    /// not fill yet.
    body: String,
}

/// `POST /api/v1/whatsapp-templates`: registers an approved template (409 when its name and
/// language are registered already).
#[utoipa::path(
    post,
    path = "/api/v1/whatsapp-templates",
    tag = "channels",
    operation_id = "add_template",
    request_body = TemplateBody,
    responses((status = 201, description = "Registered", body = ReplyTemplate)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn add_template(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<TemplateBody>,
) -> Result<(StatusCode, Json<ReplyTemplate>), WebError> {
    let template = state
        .app()
        .add_template(&caller.actor, &body.name, &body.language, &body.body)
        .await?;
    Ok((StatusCode::CREATED, Json(template)))
}

/// `DELETE /api/v1/whatsapp-templates/{id}`: no longer offered.
#[utoipa::path(
    delete,
    path = "/api/v1/whatsapp-templates/{id}",
    tag = "channels",
    operation_id = "delete_template",
    params(("id" = i64, Path, example = 1, description = "The template's id")),
    responses((status = 204, description = "Forgotten")),
    security(("token" = ["admin"]))
)]
pub(crate) async fn delete_template(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app().delete_template(&caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
