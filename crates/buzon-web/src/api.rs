//! The JSON API (`/api/v1`), authenticated with API tokens: each handler reads its input,
//! calls the application layer, and shapes the answer of ../shared/INTERFACE.md.

use crate::http::{Admin, Agent, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use buzon_app::{AppError, InboxParams, Thread};
use buzon_core::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

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
    language: Option<String>,
    view: Option<String>,
}

/// A list and the cursor of its next page.
#[derive(Serialize)]
pub(crate) struct List<T: Serialize> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/conversations`.
pub(crate) async fn list_conversations(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Json<List<ConversationJson>>, WebError> {
    let params = InboxParams {
        status: query.status,
        channel: query.channel,
        tag: query.tag,
        assignee: query.assignee,
        q: query.q,
        sort: query.sort,
        flagged: query.flagged,
        language: query.language,
        limit: query.limit,
        cursor: query.cursor,
        view: query.view,
    };
    let page = state.app().inbox(&caller.actor, &params).await?;
    let now = Timestamp::now();
    let items = page
        .conversations
        .iter()
        .map(|conversation| {
            ConversationJson::of(
                conversation,
                page.contacts.get(&conversation.contact_id),
                now,
            )
        })
        .collect();
    Ok(Json(List {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// `GET /api/v1/conversations/{id}`.
pub(crate) async fn show_conversation(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Value>, WebError> {
    let Thread {
        conversation,
        messages,
        contacts,
        ..
    } = state
        .app()
        .thread(&caller.actor, ConversationId(id))
        .await?;
    let now = Timestamp::now();
    let mut body = serde_json::to_value(ConversationJson::of(
        &conversation,
        contacts.get(&conversation.contact_id),
        now,
    ))
    .expect("views serialize");
    let rendered: Vec<MessageJson> = messages
        .iter()
        .map(|message| {
            let author = message.contact_id.and_then(|id| contacts.get(&id));
            MessageJson::of(message, conversation.channel_kind, author)
        })
        .collect();
    body["messages"] = serde_json::to_value(rendered).expect("views serialize");
    Ok(Json(body))
}

#[derive(Deserialize)]
pub(crate) struct ReplyBody {
    /// The text (with placeholders); with `canned_reply_id`, replaces the canned text.
    #[serde(default)]
    text: Option<String>,
    /// A canned reply to send, its placeholders filled.
    #[serde(default)]
    canned_reply_id: Option<i64>,
}

/// `POST /api/v1/conversations/{id}/replies`: queues a reply (202), or 409 when the platform's
/// reply window is closed (with the templates that may be sent). An `Idempotency-Key` header
/// makes a repeated request the same reply.
pub(crate) async fn post_reply(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<ReplyBody>,
) -> Result<(StatusCode, Json<MessageJson>), WebError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok());
    let queued = match (body.canned_reply_id, body.text.as_deref()) {
        (Some(canned), text) => {
            state
                .app()
                .reply_canned(&caller.actor, ConversationId(id), canned, text, key)
                .await?
        }
        (None, Some(text)) => {
            state
                .app()
                .reply(&caller.actor, ConversationId(id), text, key)
                .await?
        }
        (None, None) => return Err(WebError::bad_request("text or canned_reply_id is required")),
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(MessageJson::of(&queued.message, queued.channel_kind, None)),
    ))
}

#[derive(Deserialize)]
pub(crate) struct TagsBody {
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct TagsJson {
    tags: Vec<Label>,
}

/// `POST /api/v1/conversations/{id}/tags`.
pub(crate) async fn post_conversation_tags(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<TagsBody>,
) -> Result<Json<TagsJson>, WebError> {
    let tags = state
        .app()
        .tag_conversation(&caller.actor, ConversationId(id), &body.add, &body.remove)
        .await?;
    Ok(Json(TagsJson { tags }))
}

/// `POST /api/v1/contacts/{id}/tags`.
pub(crate) async fn post_contact_tags(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<TagsBody>,
) -> Result<Json<TagsJson>, WebError> {
    let tags = state
        .app()
        .tag_contact(&caller.actor, ContactId(id), &body.add, &body.remove)
        .await?;
    Ok(Json(TagsJson { tags }))
}

#[derive(Deserialize)]
pub(crate) struct StatusBody {
    status: String,
    #[serde(default)]
    until: Option<String>,
}

/// `POST /api/v1/conversations/{id}/status`: `{"status": …}`, and `"until"` (RFC 3339) to
/// snooze until a time.
pub(crate) async fn post_status(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<StatusBody>,
) -> Result<Json<Value>, WebError> {
    let status = ConversationStatus::parse(body.status.trim()).map_err(AppError::from)?;
    let until = body
        .until
        .as_deref()
        .map(str::trim)
        .filter(|at| !at.is_empty());
    match (status, until) {
        // An RFC 3339 instant, or a choice (later, tomorrow, monday, a local date and time)
        // read in the team's time zone.
        (ConversationStatus::Snoozed, Some(until)) => {
            let at = state
                .app()
                .snooze_until_choice(&caller.actor, ConversationId(id), until, None)
                .await?;
            return Ok(Json(
                json!({ "id": id, "status": status.as_str(), "until": at.to_rfc3339() }),
            ));
        }
        (ConversationStatus::Snoozed, None) => {
            state
                .app()
                .snooze(&caller.actor, ConversationId(id), None)
                .await?
        }
        (_, Some(_)) => return Err(WebError::bad_request("until goes only with status snoozed")),
        (status, None) => {
            state
                .app()
                .set_status(&caller.actor, ConversationId(id), status)
                .await?
        }
    }
    Ok(Json(json!({ "id": id, "status": status.as_str() })))
}

/// An event that could not be processed, with its error and its body as text.
#[derive(Serialize)]
pub(crate) struct EventJson {
    id: EventId,
    source: &'static str,
    channel_id: Option<ChannelId>,
    origin: String,
    received_at: String,
    processed_at: Option<String>,
    attempts: i32,
    state: &'static str,
    error: Option<String>,
    /// The parts buzon did not recognise, when `unparsed`.
    unparsed: Vec<UnparsedPart>,
    body: String,
}

/// `GET /api/v1/admin/events`: inbound events that could not be processed, with their error
/// (admins only). The raw body is shown as text, for diagnosis; it is what the platform sent.
pub(crate) async fn list_failed_events(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<List<EventJson>>, WebError> {
    let events = state.app().failed_events(&caller.actor, 200).await?;
    let items = events
        .iter()
        .map(|event| EventJson {
            id: event.id,
            source: event.source.as_str(),
            channel_id: event.channel_id,
            origin: event.origin.clone(),
            received_at: event.received_at.to_rfc3339(),
            processed_at: event.processed_at.map(Timestamp::to_rfc3339),
            attempts: event.attempts,
            state: event.state.as_str(),
            error: event.error.clone(),
            unparsed: event.unparsed.clone(),
            body: String::from_utf8_lossy(&event.body[..event.body.len().min(64 * 1024)])
                .into_owned(),
        })
        .collect();
    Ok(Json(List {
        items,
        next_cursor: None,
    }))
}

/// `POST /api/v1/conversations/{id}/messages/{message}/arrived|send-again`: settles a reply
/// whose outcome is unknown (`delivery: "unknown"`), after checking on the platform.
pub(crate) async fn settle_send(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path((id, message, action)): Path<(i64, i64, String)>,
) -> Result<Json<Value>, WebError> {
    let arrived = match action.as_str() {
        "arrived" => true,
        "send-again" => false,
        _ => return Err(WebError::not_found()),
    };
    state
        .app()
        .settle_send(
            &caller.actor,
            ConversationId(id),
            MessageId(message),
            arrived,
        )
        .await?;
    Ok(Json(json!({
        "id": message,
        "delivery": if arrived { "sent" } else { "queued" },
    })))
}

/// `POST /api/v1/admin/events/{id}/replay`: puts a failed event back in the queue.
pub(crate) async fn replay_event(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), WebError> {
    state.app().replay_event(&caller.actor, EventId(id)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "id": id, "state": "pending" })),
    ))
}

/// `POST /api/v1/admin/events/{id}/dismiss`: sets a failed or unparsed event aside for good.
pub(crate) async fn dismiss_event(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<Json<Value>, WebError> {
    state
        .app()
        .dismiss_event(&caller.actor, EventId(id))
        .await?;
    Ok(Json(json!({ "id": id, "state": "done" })))
}

/// A contact as the API shows it.
#[derive(Serialize)]
pub(crate) struct ContactJson {
    id: ContactId,
    platform_id: ExternalId,
    name: Option<String>,
    handle: Option<String>,
    tags: Vec<Label>,
}

/// A conversation as the API shows it.
#[derive(Serialize)]
pub(crate) struct ConversationJson {
    id: ConversationId,
    channel: &'static str,
    channel_id: ChannelId,
    kind: &'static str,
    thread_key: String,
    status: &'static str,
    assignee_id: Option<UserId>,
    tags: Vec<Label>,
    priority: i32,
    contact: Option<ContactJson>,
    last_message: Option<String>,
    last_activity_at: String,
    waiting_since: Option<String>,
    reply_window_open: bool,
    language: Option<String>,
    /// Until when it is snoozed (RFC 3339), while it is.
    snoozed_until: Option<String>,
    /// When it came back from a snooze (the mark in the queue).
    returned_at: Option<String>,
    /// When it was escalated to the supervisors, while it is.
    escalated_at: Option<String>,
}

impl ConversationJson {
    fn of(
        conversation: &Conversation,
        contact: Option<&Contact>,
        now: Timestamp,
    ) -> ConversationJson {
        ConversationJson {
            id: conversation.id,
            channel: conversation.channel_kind.as_str(),
            channel_id: conversation.channel_id,
            kind: conversation.kind.as_str(),
            thread_key: conversation.thread_key.clone(),
            status: conversation.status.as_str(),
            assignee_id: conversation.assignee_id,
            tags: conversation.labels.clone(),
            priority: conversation.priority,
            contact: contact.map(|contact| ContactJson {
                id: contact.id,
                platform_id: contact.platform_id.clone(),
                name: contact.name.clone(),
                handle: contact.handle.clone(),
                tags: contact.labels.clone(),
            }),
            last_message: conversation.last_message_text.clone(),
            snoozed_until: conversation.snoozed_until.map(Timestamp::to_rfc3339),
            returned_at: conversation.returned_at.map(Timestamp::to_rfc3339),
            escalated_at: conversation.escalated_at.map(Timestamp::to_rfc3339),
            language: conversation.language.clone(),
            last_activity_at: conversation.last_activity_at.to_rfc3339(),
            waiting_since: conversation.waiting_since.map(Timestamp::to_rfc3339),
            reply_window_open: !conversation.reply_window_closed(now),
        }
    }
}

/// A message's author as the API shows it.
#[derive(Serialize)]
pub(crate) struct AuthorJson {
    platform_id: ExternalId,
    name: Option<String>,
    handle: Option<String>,
}

/// A message as the API shows it (../shared/INTERFACE.md).
#[derive(Serialize)]
pub(crate) struct MessageJson {
    id: MessageId,
    conversation_id: ConversationId,
    channel: &'static str,
    direction: &'static str,
    platform_id: Option<ExternalId>,
    text: String,
    attachments: Vec<Attachment>,
    author: Option<AuthorJson>,
    created_at: String,
    received_at: String,
    automatic: bool,
    deleted: bool,
    language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Option<String>>,
}

impl MessageJson {
    fn of(message: &Message, channel: ChannelKind, author: Option<&Contact>) -> MessageJson {
        let outbound = message.direction == Direction::Outbound;
        MessageJson {
            id: message.id,
            conversation_id: message.conversation_id,
            channel: channel.as_str(),
            direction: message.direction.as_str(),
            platform_id: message.platform_id.clone(),
            text: message.text.clone(),
            attachments: message.attachments.clone(),
            author: author.map(|contact| AuthorJson {
                platform_id: contact.platform_id.clone(),
                name: contact.name.clone(),
                handle: contact.handle.clone(),
            }),
            created_at: message.created_at.to_rfc3339(),
            received_at: message.received_at.to_rfc3339(),
            automatic: message.automatic,
            deleted: message.deleted,
            language: message.language.clone(),
            status: outbound.then_some(match message.status {
                DeliveryStatus::Queued => "queued",
                DeliveryStatus::Unknown => "unknown",
                DeliveryStatus::Failed => "failed",
                _ => "sent",
            }),
            delivery: outbound.then_some(message.status.as_str()),
            error: outbound.then(|| message.error.clone()),
        }
    }
}
