//! Turning rows into core values. Every decoder reads columns by name.

use crate::{Row, StoreError};
use buzon_core::*;
use sqlx::Row as _;

pub(crate) fn get<'r, T>(row: &'r Row, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column)
        .map_err(|err| StoreError::Corrupt(format!("column {column}: {err}")))
}

pub(crate) fn ts(row: &Row, column: &str) -> Result<Timestamp, StoreError> {
    Ok(Timestamp::from_millis(get::<i64>(row, column)?))
}

pub(crate) fn opt_ts(row: &Row, column: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(get::<Option<i64>>(row, column)?.map(Timestamp::from_millis))
}

pub(crate) fn flag(row: &Row, column: &str) -> Result<bool, StoreError> {
    Ok(get::<i64>(row, column)? != 0)
}

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

pub(crate) fn external_id(row: &Row, column: &str) -> Result<ExternalId, StoreError> {
    ExternalId::parse(get::<String>(row, column)?).map_err(|err| corrupt(column, err))
}

pub(crate) fn labels(joined: Option<String>) -> Vec<Label> {
    let mut labels: Vec<Label> = joined
        .unwrap_or_default()
        .split(',')
        .filter(|part| !part.is_empty())
        .filter_map(|part| Label::parse(part).ok())
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

pub(crate) const USER_COLUMNS: &str = "id, email, name, role, active, created_at, supervisor";

pub(crate) fn user(row: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(get(row, "id")?),
        email: get(row, "email")?,
        name: get(row, "name")?,
        role: Role::parse(&get::<String>(row, "role")?).map_err(|err| corrupt("role", err))?,
        active: flag(row, "active")?,
        created_at: ts(row, "created_at")?,
        supervisor: flag(row, "supervisor")?,
    })
}

pub(crate) const TOKEN_COLUMNS: &str =
    "id, name, role, user_id, created_at, last_used_at, revoked_at";

pub(crate) fn token(row: &Row) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: TokenId(get(row, "id")?),
        name: get(row, "name")?,
        role: Role::parse(&get::<String>(row, "role")?).map_err(|err| corrupt("role", err))?,
        user_id: get::<Option<i64>>(row, "user_id")?.map(UserId),
        created_at: ts(row, "created_at")?,
        last_used_at: opt_ts(row, "last_used_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
    })
}

pub(crate) const CHANNEL_COLUMNS: &str =
    "id, kind, name, platform_id, health, health_reason, cursor, last_success_at, created_at, \
     credentials_version, auto_hide_flagged, published";

pub(crate) fn channel(row: &Row) -> Result<Channel, StoreError> {
    Ok(Channel {
        id: ChannelId(get(row, "id")?),
        kind: ChannelKind::parse(&get::<String>(row, "kind")?)
            .map_err(|err| corrupt("kind", err))?,
        name: get(row, "name")?,
        platform_id: external_id(row, "platform_id")?,
        health: ChannelHealth::parse_lenient(&get::<String>(row, "health")?),
        health_reason: get(row, "health_reason")?,
        cursor: get(row, "cursor")?,
        last_success_at: opt_ts(row, "last_success_at")?,
        created_at: ts(row, "created_at")?,
        credentials_version: get(row, "credentials_version")?,
        auto_hide_flagged: flag(row, "auto_hide_flagged")?,
        published: flag(row, "published")?,
    })
}

pub(crate) const CONTACT_COLUMNS: &str = "k.id, k.channel_id, k.person_id, k.platform_id, k.name, \
     k.handle, k.created_at, k.picture_url, \
     (SELECT string_agg(label, ',') FROM contact_labels l WHERE l.contact_id = k.id) AS labels";

pub(crate) fn contact(row: &Row) -> Result<Contact, StoreError> {
    Ok(Contact {
        id: ContactId(get(row, "id")?),
        channel_id: ChannelId(get(row, "channel_id")?),
        person_id: get::<Option<i64>>(row, "person_id")?.map(PersonId),
        platform_id: external_id(row, "platform_id")?,
        name: get(row, "name")?,
        handle: get(row, "handle")?,
        labels: labels(get(row, "labels")?),
        created_at: ts(row, "created_at")?,
        picture_url: get(row, "picture_url")?,
    })
}

pub(crate) const CONVERSATION_COLUMNS: &str = "c.id, c.channel_id, ch.kind AS channel_kind, \
     c.kind, c.contact_id, c.thread_key, c.status, c.assignee_id, c.priority, c.waiting_since, \
     c.last_activity_at, c.last_inbound_at, c.created_at, c.last_message_text, c.language, \
     c.snoozed_until, c.returned_at, c.escalated_at, c.monitor, c.found_by, c.search_id, \
     c.promoted_at, c.recommendation, \
     (SELECT string_agg(label, ',') FROM conversation_labels l WHERE l.conversation_id = c.id) AS labels";

pub(crate) fn conversation(row: &Row) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: ConversationId(get(row, "id")?),
        channel_id: ChannelId(get(row, "channel_id")?),
        channel_kind: ChannelKind::parse(&get::<String>(row, "channel_kind")?)
            .map_err(|err| corrupt("channel_kind", err))?,
        kind: ConversationKind::parse(&get::<String>(row, "kind")?)
            .map_err(|err| corrupt("kind", err))?,
        contact_id: ContactId(get(row, "contact_id")?),
        thread_key: get(row, "thread_key")?,
        status: ConversationStatus::parse(&get::<String>(row, "status")?)
            .map_err(|err| corrupt("status", err))?,
        assignee_id: get::<Option<i64>>(row, "assignee_id")?.map(UserId),
        labels: labels(get(row, "labels")?),
        priority: get::<i64>(row, "priority")? as i32,
        waiting_since: opt_ts(row, "waiting_since")?,
        last_activity_at: ts(row, "last_activity_at")?,
        last_inbound_at: opt_ts(row, "last_inbound_at")?,
        created_at: ts(row, "created_at")?,
        last_message_text: get(row, "last_message_text")?,
        language: get(row, "language")?,
        snoozed_until: opt_ts(row, "snoozed_until")?,
        returned_at: opt_ts(row, "returned_at")?,
        escalated_at: opt_ts(row, "escalated_at")?,
        monitor: get::<Option<String>>(row, "monitor")?
            .map(|monitor| Monitor::parse(&monitor))
            .transpose()
            .map_err(|err| corrupt("monitor", err))?,
        found_by: found_by(row)?,
        promoted_at: opt_ts(row, "promoted_at")?,
    })
}

/// What found a row's message or conversation, from its `found_by`, `search_id` and
/// `recommendation` columns.
pub(crate) fn found_by(row: &Row) -> Result<Option<FoundBy>, StoreError> {
    let Some(found) = get::<Option<String>>(row, "found_by")? else {
        return Ok(None);
    };
    let recommendation: Option<String> = get(row, "recommendation")?;
    Ok(FoundBy::from_stored(
        &found,
        get(row, "search_id")?,
        recommendation.as_deref(),
    ))
}

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, channel_id, direction, platform_id, \
     contact_id, user_id, text, attachments, created_at, received_at, status, error, automatic, deleted, hidden, language";

pub(crate) fn message(row: &Row) -> Result<Message, StoreError> {
    let platform_id: Option<String> = get(row, "platform_id")?;
    let attachments: String = get(row, "attachments")?;
    Ok(Message {
        id: MessageId(get(row, "id")?),
        conversation_id: ConversationId(get(row, "conversation_id")?),
        channel_id: ChannelId(get(row, "channel_id")?),
        direction: match get::<String>(row, "direction")?.as_str() {
            "outbound" => Direction::Outbound,
            _ => Direction::Inbound,
        },
        platform_id: platform_id
            .map(ExternalId::parse)
            .transpose()
            .map_err(|err| corrupt("platform_id", err))?,
        contact_id: get::<Option<i64>>(row, "contact_id")?.map(ContactId),
        user_id: get::<Option<i64>>(row, "user_id")?.map(UserId),
        text: get(row, "text")?,
        attachments: serde_json::from_str(&attachments)
            .map_err(|err| corrupt("attachments", err))?,
        created_at: ts(row, "created_at")?,
        received_at: ts(row, "received_at")?,
        status: DeliveryStatus::parse_lenient(&get::<String>(row, "status")?),
        error: get(row, "error")?,
        automatic: flag(row, "automatic")?,
        deleted: flag(row, "deleted")?,
        hidden: flag(row, "hidden")?,
        language: get(row, "language")?,
    })
}

pub(crate) const EVENT_COLUMNS: &str = "id, source, channel_id, origin, dedup_key, body, \
     received_at, processed_at, error, attempts, state, unparsed";

pub(crate) fn event(row: &Row) -> Result<InboundEvent, StoreError> {
    Ok(InboundEvent {
        id: EventId(get(row, "id")?),
        source: ChannelKind::parse(&get::<String>(row, "source")?)
            .map_err(|err| corrupt("source", err))?,
        channel_id: get::<Option<i64>>(row, "channel_id")?.map(ChannelId),
        origin: get(row, "origin")?,
        dedup_key: get(row, "dedup_key")?,
        body: get(row, "body")?,
        received_at: ts(row, "received_at")?,
        processed_at: opt_ts(row, "processed_at")?,
        error: get(row, "error")?,
        attempts: get::<i64>(row, "attempts")? as i32,
        state: EventState::parse(&get::<String>(row, "state")?)
            .map_err(|err| corrupt("state", err))?,
        unparsed: match get::<Option<String>>(row, "unparsed")? {
            Some(json) => serde_json::from_str(&json).map_err(|err| corrupt("unparsed", err))?,
            None => Vec::new(),
        },
    })
}

pub(crate) const OUTBOX_COLUMNS: &str = "id, message_id, conversation_id, channel_id, \
     idempotency_key, kind, payload, state, attempts, next_attempt_at, last_error, created_at";

pub(crate) fn outbox(row: &Row) -> Result<OutboxItem, StoreError> {
    Ok(OutboxItem {
        id: OutboxId(get(row, "id")?),
        message_id: MessageId(get(row, "message_id")?),
        conversation_id: ConversationId(get(row, "conversation_id")?),
        channel_id: ChannelId(get(row, "channel_id")?),
        idempotency_key: get(row, "idempotency_key")?,
        payload: OutboxPayload::parse(
            &get::<String>(row, "kind")?,
            &get::<String>(row, "payload")?,
        ),
        state: OutboxState::parse_lenient(&get::<String>(row, "state")?),
        attempts: get::<i64>(row, "attempts")? as i32,
        next_attempt_at: ts(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        created_at: ts(row, "created_at")?,
    })
}
