//! The JSON API (`/api/v1`), authenticated with API tokens.

use crate::auth::Principal;
use crate::{AppError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use buzon_core::*;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    channel: Option<String>,
    tag: Option<String>,
    assignee: Option<String>,
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    flagged: Option<String>,
    sort: Option<String>,
}

/// `GET /api/v1/conversations`.
pub(crate) async fn list_conversations(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, AppError> {
    let principal = Principal::from_bearer(&state, &headers).await?;
    let channel_id = match query.channel.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(ChannelId(raw.parse().map_err(|_| {
            AppError::BadRequest("channel must be a channel id".into())
        })?)),
    };
    let assignee =
        match query.assignee.as_deref().filter(|a| !a.is_empty()) {
            None => AssigneeFilter::Any,
            Some("none") | Some("unassigned") => AssigneeFilter::Unassigned,
            Some("me") | Some("mine") => principal
                .user_id
                .map(AssigneeFilter::User)
                .ok_or_else(|| AppError::BadRequest("this token acts for no user".into()))?,
            Some(raw) => AssigneeFilter::User(UserId(raw.parse().map_err(|_| {
                AppError::BadRequest("assignee must be a user id, me or none".into())
            })?)),
        };
    let flagged = match query.flagged.as_deref() {
        None | Some("") | Some("exclude") => FlaggedFilter::Exclude,
        Some("only") => FlaggedFilter::Only,
        Some("include") => FlaggedFilter::Include,
        Some(_) => {
            return Err(AppError::BadRequest(
                "flagged must be exclude, only or include".into(),
            ))
        }
    };
    let filter = ConversationFilter {
        sort: SortOrder::parse_lenient(query.sort.as_deref()),
        status: StatusFilter::parse(query.status.as_deref())?,
        channel_id,
        label: query
            .tag
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(Label::parse)
            .transpose()?,
        assignee,
        flagged,
        query: query.q.filter(|q| !q.trim().is_empty()),
    };
    let page = state
        .store()
        .list_conversations(&filter, page_size(query.limit), query.cursor.as_deref())
        .await?;
    let mut contacts = ContactCache::default();
    let mut items = Vec::with_capacity(page.items.len());
    for conversation in &page.items {
        let contact = contacts.get(&state, conversation.contact_id).await?;
        items.push(conversation_json(conversation, contact.as_ref()));
    }
    Ok(Json(
        json!({ "items": items, "next_cursor": page.next_cursor }),
    ))
}

/// `GET /api/v1/conversations/{id}`.
pub(crate) async fn show_conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    Principal::from_bearer(&state, &headers).await?;
    let conversation = state.store().conversation(ConversationId(id)).await?;
    let messages = state.store().messages_in(conversation.id).await?;
    let mut contacts = ContactCache::default();
    let contact = contacts.get(&state, conversation.contact_id).await?;
    let mut body = conversation_json(&conversation, contact.as_ref());
    let mut rendered = Vec::with_capacity(messages.len());
    for message in &messages {
        let author = match message.contact_id {
            Some(contact_id) => contacts.get(&state, contact_id).await?,
            None => None,
        };
        rendered.push(message_json(
            message,
            conversation.channel_kind,
            author.as_ref(),
        ));
    }
    body["messages"] = Value::Array(rendered);
    Ok(Json(body))
}

#[derive(Deserialize)]
pub(crate) struct ReplyBody {
    text: String,
}

/// `POST /api/v1/conversations/{id}/replies`: queues a reply (202), or 409 when the platform's
/// reply window is closed.
pub(crate) async fn post_reply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<ReplyBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let principal = Principal::from_bearer(&state, &headers).await?;
    principal.require_agent()?;
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .filter(|key| !key.is_empty() && key.len() <= 200)
        .map(|key| format!("api:{}:{key}", principal.actor));
    let (message, channel) = queue_reply(
        &state,
        ConversationId(id),
        principal.user_id,
        &principal.actor,
        &body.text,
        key,
        None,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(message_json(&message, channel, None)),
    ))
}

/// Queues a reply (or an approved template) to a conversation: the outbound message and its
/// outbox row in one transaction, before any platform call. Refuses free text when the
/// platform's 24-hour window is closed (409, with the templates that may be sent).
pub(crate) async fn queue_reply(
    state: &AppState,
    conversation_id: ConversationId,
    user_id: Option<UserId>,
    actor: &str,
    text: &str,
    idempotency_key: Option<String>,
    template: Option<&buzon_store::ReplyTemplate>,
) -> Result<(Message, ChannelKind), AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::BadRequest("text must not be empty".into()));
    }
    if text.len() > 8192 {
        return Err(AppError::BadRequest(
            "text must be at most 8192 bytes".into(),
        ));
    }
    let conversation = state.store().conversation(conversation_id).await?;
    if template.is_none() && conversation.reply_window_closed(Timestamp::now()) {
        let templates = state.store().templates(conversation.channel_kind).await?;
        return Err(AppError::Conflict {
            code: "reply_window_closed",
            message: "more than 24 hours have passed since the customer's last message: only an approved template may be sent".into(),
            detail: json!({ "templates": templates.iter().map(|t| json!({"id": t.id, "name": t.name, "language": t.language, "body": t.body})).collect::<Vec<_>>() }),
        });
    }
    let in_reply_to = state
        .store()
        .latest_inbound_platform_id(conversation.id)
        .await?;
    let mut payload = json!({
        "thread_key": conversation.thread_key,
        "in_reply_to": in_reply_to.as_ref().map(ExternalId::as_str),
        "text": text,
    });
    if let Some(template) = template {
        payload["template"] =
            json!({"name": template.name, "language": template.language, "parameters": []});
    }
    let idempotency_key = idempotency_key
        .unwrap_or_else(|| format!("auto:{}", hex::encode(rand::random::<[u8; 16]>())));
    let (message, _outbox) = state
        .store()
        .queue_reply(&NewOutboundReply {
            conversation_id: conversation.id,
            user_id,
            text: text.to_owned(),
            idempotency_key,
            payload: payload.to_string(),
            automatic: false,
        })
        .await?;
    state
        .store()
        .audit(
            actor,
            "conversation.reply",
            &format!("conversation:{}", conversation.id),
            &json!({"message_id": message.id}),
        )
        .await?;
    state.wake_workers();
    Ok((message, conversation.channel_kind))
}

#[derive(Deserialize)]
pub(crate) struct TagsBody {
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

fn parse_labels(raw: &[String]) -> Result<Vec<Label>, AppError> {
    if raw.len() > 32 {
        return Err(AppError::BadRequest("at most 32 labels at a time".into()));
    }
    raw.iter()
        .map(|label| Label::parse(label).map_err(AppError::from))
        .collect()
}

/// `POST /api/v1/conversations/{id}/tags`.
pub(crate) async fn post_conversation_tags(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<TagsBody>,
) -> Result<Json<Value>, AppError> {
    let principal = Principal::from_bearer(&state, &headers).await?;
    principal.require_agent()?;
    let (add, remove) = (parse_labels(&body.add)?, parse_labels(&body.remove)?);
    let labels = state
        .store()
        .tag_conversation(ConversationId(id), &add, &remove)
        .await?;
    state
        .store()
        .audit(
            &principal.actor,
            "conversation.tags",
            &format!("conversation:{id}"),
            &json!({"add": body.add, "remove": body.remove}),
        )
        .await?;
    Ok(Json(json!({ "tags": labels })))
}

/// `POST /api/v1/contacts/{id}/tags`.
pub(crate) async fn post_contact_tags(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<TagsBody>,
) -> Result<Json<Value>, AppError> {
    let principal = Principal::from_bearer(&state, &headers).await?;
    principal.require_agent()?;
    let (add, remove) = (parse_labels(&body.add)?, parse_labels(&body.remove)?);
    let labels = state
        .store()
        .tag_contact(ContactId(id), &add, &remove)
        .await?;
    state
        .store()
        .audit(
            &principal.actor,
            "contact.tags",
            &format!("contact:{id}"),
            &json!({"add": body.add, "remove": body.remove}),
        )
        .await?;
    Ok(Json(json!({ "tags": labels })))
}

#[derive(Deserialize)]
pub(crate) struct StatusBody {
    status: String,
}

/// `POST /api/v1/conversations/{id}/status`.
pub(crate) async fn post_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<StatusBody>,
) -> Result<Json<Value>, AppError> {
    let principal = Principal::from_bearer(&state, &headers).await?;
    principal.require_agent()?;
    let status = ConversationStatus::parse(body.status.trim())?;
    state
        .store()
        .set_conversation_status(ConversationId(id), status)
        .await?;
    state
        .store()
        .audit(
            &principal.actor,
            "conversation.status",
            &format!("conversation:{id}"),
            &json!({"status": status.as_str()}),
        )
        .await?;
    Ok(Json(json!({ "id": id, "status": status.as_str() })))
}

/// `GET /api/v1/admin/events`: inbound events that could not be processed, with their error
/// (admins only). The raw body is shown as text, for diagnosis; it is what the platform sent.
pub(crate) async fn list_failed_events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    let principal = Principal::from_bearer(&state, &headers).await?;
    principal.require_admin()?;
    let events = state.store().failed_inbound_events(200).await?;
    let items: Vec<Value> = events
        .iter()
        .map(|event| {
            json!({
                "id": event.id,
                "source": event.source.as_str(),
                "channel_id": event.channel_id,
                "origin": event.origin,
                "received_at": event.received_at.to_rfc3339(),
                "processed_at": event.processed_at.map(Timestamp::to_rfc3339),
                "attempts": event.attempts,
                "error": event.error,
                "body": String::from_utf8_lossy(&event.body.iter().take(64 * 1024).copied().collect::<Vec<u8>>()),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

/// `POST /api/v1/admin/events/{id}/replay`: puts a failed event back in the queue.
pub(crate) async fn replay_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let principal = Principal::from_bearer(&state, &headers).await?;
    principal.require_admin()?;
    state.store().replay_inbound_event(EventId(id)).await?;
    state
        .store()
        .audit(
            &principal.actor,
            "event.replay",
            &format!("event:{id}"),
            &json!({}),
        )
        .await?;
    state.wake_workers();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "id": id, "state": "pending" })),
    ))
}

#[derive(Default)]
struct ContactCache {
    contacts: HashMap<ContactId, Option<Contact>>,
}

impl ContactCache {
    async fn get(&mut self, state: &AppState, id: ContactId) -> Result<Option<Contact>, AppError> {
        if let Some(contact) = self.contacts.get(&id) {
            return Ok(contact.clone());
        }
        let contact = match state.store().contact(id).await {
            Ok(contact) => Some(contact),
            Err(buzon_store::StoreError::NotFound) => None,
            Err(err) => return Err(err.into()),
        };
        self.contacts.insert(id, contact.clone());
        Ok(contact)
    }
}

fn author_json(contact: Option<&Contact>) -> Value {
    match contact {
        Some(contact) => json!({
            "id": contact.id,
            "platform_id": contact.platform_id,
            "name": contact.name,
            "handle": contact.handle,
            "tags": contact.labels,
        }),
        None => Value::Null,
    }
}

pub(crate) fn conversation_json(conversation: &Conversation, contact: Option<&Contact>) -> Value {
    json!({
        "id": conversation.id,
        "channel": conversation.channel_kind.as_str(),
        "channel_id": conversation.channel_id,
        "thread_key": conversation.thread_key,
        "status": conversation.status.as_str(),
        "assignee_id": conversation.assignee_id,
        "tags": conversation.labels,
        "priority": conversation.priority,
        "contact": author_json(contact),
        "last_message": conversation.last_message_text,
        "last_activity_at": conversation.last_activity_at.to_rfc3339(),
        "waiting_since": conversation.waiting_since.map(Timestamp::to_rfc3339),
        "reply_window_open": !conversation.reply_window_closed(Timestamp::now()),
    })
}

pub(crate) fn message_json(
    message: &Message,
    channel: ChannelKind,
    author: Option<&Contact>,
) -> Value {
    let mut body = json!({
        "id": message.id,
        "conversation_id": message.conversation_id,
        "channel": channel.as_str(),
        "direction": message.direction.as_str(),
        "platform_id": message.platform_id,
        "text": message.text,
        "attachments": message.attachments,
        "author": match author {
            Some(contact) => json!({"platform_id": contact.platform_id, "name": contact.name, "handle": contact.handle}),
            None => Value::Null,
        },
        "created_at": message.created_at.to_rfc3339(),
        "received_at": message.received_at.to_rfc3339(),
        "automatic": message.automatic,
        "deleted": message.deleted,
    });
    if message.direction == Direction::Outbound {
        let status = match message.status {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Failed => "failed",
            _ => "sent",
        };
        body["status"] = json!(status);
        body["delivery"] = json!(message.status.as_str());
        body["error"] = json!(message.error);
    }
    body
}
