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
use utoipa::{IntoParams, ToSchema};

/// The filters and page of the conversation list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `open`, `pending`, `snoozed`, `resolved` or `all`.
    status: Option<String>,
    /// A channel kind (`facebook`, `whatsapp`, `x`) or a channel id.
    channel: Option<String>,
    /// A conversation label.
    tag: Option<String>,
    /// A user id, `me` or `none`.
    assignee: Option<String>,
    /// Words to search in the messages.
    q: Option<String>,
    /// Page size (1 to 200; 50 when absent; a larger one is cut to the most).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `exclude` (the default), `include` or `only`: conversations of flagged authors (trolls,
    /// spam).
    flagged: Option<String>,
    /// `newest` (the default), `waiting` (longest waiting first) or `window` (the reply window
    /// closing soonest first).
    sort: Option<String>,
    /// An ISO 639-1 language.
    language: Option<String>,
    /// `queue` (the default), `escalated`, or `monitoring` (what listening found that nobody
    /// promoted or dismissed; every status unless `status` says).
    view: Option<String>,
}

/// A list and the cursor of its next page (none on the last page).
#[derive(Serialize, ToSchema)]
pub(crate) struct List<T: Serialize + ToSchema> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

impl<T: Serialize + ToSchema> List<T> {
    pub(crate) fn new(items: Vec<T>, next_cursor: Option<String>) -> List<T> {
        List { items, next_cursor }
    }
}

/// The cursor of the page after `items`, a full page of `limit`: `key` of its last item;
/// none on a shorter page (the last).
pub(crate) fn next_cursor<T>(
    items: &[T],
    limit: u32,
    key: impl FnOnce(&T) -> String,
) -> Option<String> {
    (items.len() == limit as usize)
        .then(|| items.last().map(key))
        .flatten()
}

/// A cursor that is not one of ours.
pub(crate) fn bad_cursor() -> WebError {
    WebError::bad_request("cursor: use the next_cursor of a page")
}

/// A whole list (no pages).
#[derive(Serialize, ToSchema)]
pub(crate) struct Items<T: Serialize + ToSchema> {
    pub(crate) items: Vec<T>,
}

impl<T: Serialize + ToSchema> Items<T> {
    pub(crate) fn of(items: Vec<T>) -> axum::Json<Items<T>> {
        axum::Json(Items { items })
    }
}

/// A conversation with its messages, oldest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct ConversationDetail {
    #[serde(flatten)]
    conversation: ConversationJson,
    messages: Vec<MessageJson>,
}

/// A conversation's status after a change.
#[derive(Serialize, ToSchema)]
pub(crate) struct StatusJson {
    id: i64,
    status: ConversationStatus,
    /// Until when it is snoozed (RFC 3339), when a time was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<String>,
}

/// A message after an agent's action on it.
#[derive(Serialize, ToSchema)]
pub(crate) struct MessageActionJson {
    id: i64,
    /// After `arrived` (`sent`) or `send-again` (`queued`).
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery: Option<&'static str>,
    /// After `hide` or `unhide`: whether it is (being) hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    hidden: Option<bool>,
}

/// An inbound event's state after an admin's action on it.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventStateJson {
    id: i64,
    /// `pending` (queued again) or `done` (set aside).
    state: &'static str,
}

/// `GET /api/v1/conversations`.
#[utoipa::path(
    get,
    path = "/api/v1/conversations",
    tag = "conversations",
    operation_id = "list_conversations",
    params(ListQuery),
    responses((status = 200, description = "A page of conversations, newest activity first", body = List<ConversationJson>)),
    security(("token" = ["viewer"]))
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}",
    tag = "conversations",
    operation_id = "show_conversation",
    params(("id" = i64, Path, example = 1, description = "The conversation's id")),
    responses((status = 200, description = "The conversation and its messages", body = ConversationDetail)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn show_conversation(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<ConversationDetail>, WebError> {
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
    let rendered: Vec<MessageJson> = messages
        .iter()
        .map(|message| {
            let author = message.contact_id.and_then(|id| contacts.get(&id));
            MessageJson::of(message, conversation.channel_kind, author)
        })
        .collect();
    Ok(Json(ConversationDetail {
        conversation: ConversationJson::of(
            &conversation,
            contacts.get(&conversation.contact_id),
            now,
        ),
        messages: rendered,
    }))
}

/// A reply: a text, a canned reply, or a canned reply with its text replaced.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"text": "Hola {{customer.first_name}}, ya lo estamos mirando."}))]
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
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/replies",
    tag = "conversations",
    operation_id = "post_reply",
    params(("id" = i64, Path, example = 1, description = "The conversation's id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a repeated request the same reply")),
    request_body = ReplyBody,
    responses((status = 202, description = "The queued reply", body = MessageJson)),
    security(("token" = ["agent"]))
)]
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

/// Labels to add and to remove.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"add": ["envios"], "remove": []}))]
pub(crate) struct TagsBody {
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

/// The labels after the change.
#[derive(Serialize, ToSchema)]
pub(crate) struct TagsJson {
    tags: Vec<Label>,
}

/// `POST /api/v1/conversations/{id}/tags`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/tags",
    tag = "conversations",
    operation_id = "post_conversation_tags",
    params(("id" = i64, Path, example = 1, description = "The conversation's id")),
    request_body = TagsBody,
    responses((status = 200, description = "The conversation's labels", body = TagsJson)),
    security(("token" = ["agent"]))
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/tags",
    tag = "conversations",
    operation_id = "post_contact_tags",
    params(("id" = i64, Path, example = 1, description = "The contact's id")),
    request_body = TagsBody,
    responses((status = 200, description = "The author's labels", body = TagsJson)),
    security(("token" = ["agent"]))
)]
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

/// A new status, and for `snoozed` optionally until when: RFC 3339, or `later`, `tomorrow`,
/// `monday`, or a local `YYYY-MM-DDTHH:MM` in the team's zone.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"status": "snoozed", "until": "tomorrow"}))]
pub(crate) struct StatusBody {
    /// `open`, `pending`, `snoozed` or `resolved`.
    status: String,
    #[serde(default)]
    until: Option<String>,
}

/// `POST /api/v1/conversations/{id}/status`: `{"status": …}`, and `"until"` (RFC 3339) to
/// snooze until a time.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/status",
    tag = "conversations",
    operation_id = "post_status",
    params(("id" = i64, Path, example = 1, description = "The conversation's id")),
    request_body = StatusBody,
    responses((status = 200, description = "The new status", body = StatusJson)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn post_status(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<StatusBody>,
) -> Result<Json<StatusJson>, WebError> {
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
            return Ok(Json(StatusJson {
                id,
                status,
                until: Some(at.to_rfc3339()),
            }));
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
    Ok(Json(StatusJson {
        id,
        status,
        until: None,
    }))
}

/// An event that could not be processed, with its error and its body as text.
#[derive(Serialize, ToSchema)]
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

/// The page of the event log.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Page size (1 to 200; 50 when absent; a larger one is cut to the most).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /api/v1/admin/events`: inbound events that could not be processed, with their error
/// (admins only), newest first, keyset-paginated by id. The raw body is shown as text, for
/// diagnosis; it is what the platform sent.
#[utoipa::path(
    get,
    path = "/api/v1/admin/events",
    tag = "events",
    operation_id = "list_failed_events",
    params(EventsQuery),
    responses((status = 200, description = "Inbound events that failed or held unknown parts", body = List<EventJson>)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn list_failed_events(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Query(query): Query<EventsQuery>,
) -> Result<Json<List<EventJson>>, WebError> {
    let before = match query.cursor.as_deref().filter(|cursor| !cursor.is_empty()) {
        Some(cursor) => Some(EventId(cursor.parse().map_err(|_| bad_cursor())?)),
        None => None,
    };
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let events = state
        .app()
        .failed_events(&caller.actor, limit, before)
        .await?;
    let next_cursor = next_cursor(&events, limit, |event| event.id.get().to_string());
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
    Ok(Json(List { items, next_cursor }))
}

/// `POST /api/v1/conversations/{id}/messages/{message}/{action}`: `arrived` or `send-again`
/// settle a reply whose outcome is unknown (`delivery: "unknown"`), after checking on the
/// platform; `hide` and `unhide` hide a customer's public comment from the public or show it
/// again (queued to the platform).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/messages/{message}/{action}",
    tag = "conversations",
    operation_id = "message_action",
    params(("id" = i64, Path, example = 1, description = "The conversation's id"), ("message" = i64, Path, example = 1, description = "The message's id"), ("action" = String, Path, example = "hide", description = "`arrived`, `send-again`, `hide` or `unhide`", pattern = "^(arrived|send-again|hide|unhide)$")),
    responses((status = 200, description = "Done", body = MessageActionJson)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn message_action(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path((id, message, action)): Path<(i64, i64, String)>,
) -> Result<Json<MessageActionJson>, WebError> {
    let app = state.app();
    let (conversation, message_id) = (ConversationId(id), MessageId(message));
    let answer = match action.as_str() {
        "arrived" | "send-again" => {
            let arrived = action == "arrived";
            app.settle_send(&caller.actor, conversation, message_id, arrived)
                .await?;
            MessageActionJson {
                id: message,
                delivery: Some(if arrived { "sent" } else { "queued" }),
                hidden: None,
            }
        }
        other => {
            let action = ModerationAction::parse(other).map_err(|_| WebError::not_found())?;
            app.moderate(&caller.actor, conversation, message_id, action)
                .await?;
            MessageActionJson {
                id: message,
                delivery: None,
                hidden: Some(action == ModerationAction::Hide),
            }
        }
    };
    Ok(Json(answer))
}

/// `POST /api/v1/admin/events/{id}/replay`: puts a failed event back in the queue.
#[utoipa::path(
    post,
    path = "/api/v1/admin/events/{id}/replay",
    tag = "events",
    operation_id = "replay_event",
    params(("id" = i64, Path, example = 1, description = "The event's id")),
    responses((status = 202, description = "Queued again", body = EventStateJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn replay_event(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<EventStateJson>), WebError> {
    state.app().replay_event(&caller.actor, EventId(id)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(EventStateJson {
            id,
            state: "pending",
        }),
    ))
}

/// `POST /api/v1/admin/events/{id}/dismiss`: sets a failed or unparsed event aside for good.
#[utoipa::path(
    post,
    path = "/api/v1/admin/events/{id}/dismiss",
    tag = "events",
    operation_id = "dismiss_event",
    params(("id" = i64, Path, example = 1, description = "The event's id")),
    responses((status = 200, description = "Set aside", body = EventStateJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn dismiss_event(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<Json<EventStateJson>, WebError> {
    state
        .app()
        .dismiss_event(&caller.actor, EventId(id))
        .await?;
    Ok(Json(EventStateJson { id, state: "done" }))
}

/// A saved search of an X channel.
#[derive(Serialize, ToSchema)]
pub(crate) struct SearchJson {
    id: i64,
    channel_id: ChannelId,
    /// X's query, passed to recent search unchanged.
    query: String,
    promote: Promote,
    /// When it last asked X (RFC 3339).
    last_polled_at: Option<String>,
    /// When it may ask X again, within the shared request budget (RFC 3339).
    next_poll_at: String,
    /// X's refusal of the query (e.g. an invalid operator), until the query is changed.
    error: Option<String>,
    /// RFC 3339.
    created_at: String,
}

impl SearchJson {
    pub(crate) fn of(search: &buzon_app::SavedSearch) -> SearchJson {
        SearchJson {
            id: search.id,
            channel_id: search.channel_id,
            query: search.query.clone(),
            promote: search.promote,
            last_polled_at: search.last_polled_at.map(Timestamp::to_rfc3339),
            next_poll_at: search.next_poll_at.to_rfc3339(),
            error: search.last_error.clone(),
            created_at: search.created_at.to_rfc3339(),
        }
    }
}

/// A channel as the API shows it (never a secret).
#[derive(Serialize, ToSchema)]
pub(crate) struct ChannelJson {
    id: ChannelId,
    kind: ChannelKind,
    name: String,
    /// The Page id, phone number id or X user id.
    platform_id: ExternalId,
    health: ChannelHealth,
    /// What needs attention, when unhealthy.
    health_reason: Option<String>,
    /// The last poll, webhook or send that worked (RFC 3339).
    last_success_at: Option<String>,
    /// Whether its response times are on the public page.
    published: bool,
}

impl ChannelJson {
    pub(crate) fn of(channel: &Channel) -> ChannelJson {
        ChannelJson {
            id: channel.id,
            kind: channel.kind,
            name: channel.name.clone(),
            platform_id: channel.platform_id.clone(),
            health: channel.health,
            health_reason: channel.health_reason.clone(),
            last_success_at: channel.last_success_at.map(Timestamp::to_rfc3339),
            published: channel.published,
        }
    }
}

/// A channel's health as admins see it: the platform's limits, whether its credentials open
/// with this node's key, and deliveries not read completely.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChannelHealthJson {
    #[serde(flatten)]
    channel: ChannelJson,
    /// Until when the platform asked buzon to wait (RFC 3339).
    rate_limited_until: Option<String>,
    /// The last error (RFC 3339).
    last_error_at: Option<String>,
    /// `set` or `undecryptable` (they do not open with this node's key).
    credentials: &'static str,
    access_token_set: bool,
    refresh_token_set: bool,
    /// When the access token expires, if known (RFC 3339).
    token_expires_at: Option<String>,
    /// Deliveries with parts buzon did not recognise.
    unparsed_events: i64,
    /// X: the saved searches, each with X's refusal of its query (`error`), if any.
    searches: Vec<SearchJson>,
}

/// `GET /api/v1/channels`: every channel, with its health.
#[utoipa::path(
    get,
    path = "/api/v1/channels",
    tag = "channels",
    operation_id = "list_channels",
    responses((status = 200, description = "Every channel", body = Items<ChannelJson>)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn list_channels(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Json<Items<ChannelJson>>, WebError> {
    let channels = state.app().channel_list(&caller.actor).await?;
    Ok(Items::of(channels.iter().map(ChannelJson::of).collect()))
}

/// `GET /api/v1/channels/{id}/health`: one channel's health in detail (admins).
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}/health",
    tag = "channels",
    operation_id = "channel_health",
    params(("id" = i64, Path, example = 1, description = "The channel's id")),
    responses((status = 200, description = "The channel's health", body = ChannelHealthJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn channel_health(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<Json<ChannelHealthJson>, WebError> {
    let overview = state
        .app()
        .channel_overview(&caller.actor, ChannelId(id))
        .await?;
    let (credentials, access_token_set, refresh_token_set, token_expires_at) =
        match overview.credentials {
            buzon_app::CredentialsState::Set {
                access_token,
                refresh_token,
                expires_at,
            } => ("set", access_token, refresh_token, expires_at),
            buzon_app::CredentialsState::Undecryptable => ("undecryptable", false, false, None),
        };
    Ok(Json(ChannelHealthJson {
        channel: ChannelJson::of(&overview.channel),
        rate_limited_until: overview
            .limits
            .rate_limited_until
            .map(Timestamp::to_rfc3339),
        last_error_at: overview.limits.last_error_at.map(Timestamp::to_rfc3339),
        credentials,
        access_token_set,
        refresh_token_set,
        token_expires_at: token_expires_at.map(Timestamp::to_rfc3339),
        unparsed_events: overview.unparsed,
        searches: overview.searches.iter().map(SearchJson::of).collect(),
    }))
}

/// A contact as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContactJson {
    id: ContactId,
    platform_id: ExternalId,
    name: Option<String>,
    handle: Option<String>,
    tags: Vec<Label>,
}

/// A conversation as the API shows it.
#[derive(Serialize, ToSchema)]
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
    /// Listening: `watching` (in the monitoring view) or `dismissed`; none in the queue.
    monitor: Option<Monitor>,
    /// Listening: what found it (`search`, `mention` or `review`), when nobody addressed it to
    /// the account.
    found_by: Option<&'static str>,
    /// The saved search that found it.
    search_id: Option<i64>,
    /// A review's `positive` or `negative` recommendation.
    recommendation: Option<Recommendation>,
    /// When it was promoted from the monitoring view (its response time counts from then).
    promoted_at: Option<String>,
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
            monitor: conversation.monitor,
            found_by: conversation.found_by.map(FoundBy::as_str),
            search_id: conversation.found_by.and_then(FoundBy::search_id),
            recommendation: conversation.found_by.and_then(FoundBy::recommendation),
            promoted_at: conversation.promoted_at.map(Timestamp::to_rfc3339),
        }
    }
}

/// A message's author as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuthorJson {
    platform_id: ExternalId,
    name: Option<String>,
    handle: Option<String>,
}

/// A message as the API shows it (../shared/INTERFACE.md).
#[derive(Serialize, ToSchema)]
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
