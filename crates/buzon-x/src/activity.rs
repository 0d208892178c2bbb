//! Account Activity API webhooks: the CRC answer, the signature check and the deliveries.
//!
//! Deliveries carry v1.1 objects. A v1.1 tweet has no conversation id, so a webhook mention
//! threads on the tweet it answers (`tweet:<in_reply_to_status_id_str>`) or on itself
//! (`tweet:<id_str>`). For a reply to a conversation's first tweet that is the same key the
//! v2 poller uses (`tweet:<conversation_id>`); for a reply deeper in a thread it is not, so the
//! same public conversation can split in two in the inbox. Fixing that needs a v2 lookup of
//! the tweet (network), which [`crate::XConnector::normalize`] must not do.

use crate::wire::{ActivityDirectMessage, ActivityPayload, V1Tweet};
use crate::{external_id, payload_error, user_contact, UNKNOWN_AUTHOR};
use base64::Engine;
use buzon_connector::{
    constant_time_eq, hmac_sha256, ConnectorError, HeaderMap, InboundItem, MessageKind,
    PlatformMessage,
};
use buzon_core::{ConversationKind, ExternalId, NewContact, Timestamp};

/// The header X signs webhook deliveries with.
pub(crate) const SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";

/// The JSON body that answers X's CRC check:
/// `{"response_token":"sha256=<base64 HMAC-SHA256(consumer_secret, crc_token)>"}`.
pub fn crc_response(consumer_secret: &str, crc_token: &str) -> String {
    let token = signature_value(consumer_secret, crc_token.as_bytes());
    serde_json::json!({ "response_token": token }).to_string()
}

/// `sha256=<base64 HMAC-SHA256(secret, message)>`.
fn signature_value(secret: &str, message: &[u8]) -> String {
    let mac = hmac_sha256(secret.as_bytes(), message);
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    )
}

/// Checks `x-twitter-webhooks-signature` over the exact body bytes, in constant time.
pub(crate) fn verify(
    consumer_secret: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ConnectorError> {
    let secret = consumer_secret
        .filter(|secret| !secret.is_empty())
        .ok_or(ConnectorError::BadSignature)?;
    let received = headers
        .get(SIGNATURE_HEADER)
        .ok_or(ConnectorError::BadSignature)?
        .as_bytes();
    let expected = signature_value(secret, body);
    if constant_time_eq(received.trim_ascii(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ConnectorError::BadSignature)
    }
}

/// Turns one Account Activity delivery into items.
pub(crate) fn normalize(body: &[u8]) -> Result<Vec<InboundItem>, ConnectorError> {
    let payload: ActivityPayload = serde_json::from_slice(body).map_err(payload_error)?;
    let account_id = payload.for_user_id.as_deref().ok_or_else(|| {
        ConnectorError::Payload("an activity delivery without for_user_id".into())
    })?;
    let account = external_id(account_id, "for_user_id")?;
    let mut items = Vec::new();
    for tweet in &payload.tweet_create_events {
        items.push(tweet_item(&account, tweet)?);
    }
    for event in &payload.direct_message_events {
        items.push(direct_message_item(&account, &payload, event)?);
    }
    for event in &payload.tweet_delete_events {
        items.push(InboundItem::Removed {
            account: account.clone(),
            platform_id: external_id(&event.status.id, "tweet_delete_events[].status.id")?,
        });
    }
    // Other event types (favorite_events, follow_events, …, and user_event, which reports an
    // app revocation) are acknowledged and not stored: one Ignored per event.
    for (key, value) in &payload.other {
        if key.ends_with("_events") || key.ends_with("_event") {
            let count = value.as_array().map_or(1, Vec::len);
            items.extend((0..count).map(|_| InboundItem::Ignored {
                reason: format!("x {key} are not stored"),
            }));
        }
    }
    Ok(items)
}

fn tweet_item(account: &ExternalId, tweet: &V1Tweet) -> Result<InboundItem, ConnectorError> {
    let id = tweet
        .id_str
        .as_deref()
        .or(tweet.id.as_deref())
        .ok_or_else(|| ConnectorError::Payload("a tweet without id_str".into()))?;
    let platform_id = external_id(id, "tweet id_str")?;
    let user = tweet.user.as_ref();
    let author_id = user.and_then(|user| user.id_str.as_deref().or(user.id.as_deref()));
    if author_id == Some(account.as_str()) {
        return Ok(InboundItem::Ignored {
            reason: format!("x tweet {platform_id} is our own"),
        });
    }
    if tweet.retweeted_status.is_some() {
        return Ok(InboundItem::Ignored {
            reason: format!("x tweet {platform_id} is a retweet"),
        });
    }
    let author = NewContact {
        platform_id: external_id(author_id.unwrap_or(UNKNOWN_AUTHOR), "tweet user.id_str")?,
        name: user.and_then(|user| user.name.clone()),
        handle: user.and_then(|user| user.screen_name.clone()),
    };
    let text = tweet
        .extended_tweet
        .as_ref()
        .and_then(|extended| extended.full_text.as_deref())
        .or(tweet.full_text.as_deref())
        .or(tweet.text.as_deref())
        .unwrap_or_default();
    let in_reply_to = tweet
        .in_reply_to_status_id_str
        .as_deref()
        .map(|id| external_id(id, "in_reply_to_status_id_str"))
        .transpose()?;
    let thread_root = in_reply_to.as_ref().unwrap_or(&platform_id);
    let created_at = tweet
        .created_at
        .as_deref()
        .and_then(parse_v1_time)
        .or_else(|| {
            tweet
                .timestamp_ms
                .as_deref()
                .and_then(|millis| millis.parse().ok())
                .map(Timestamp::from_millis)
        })
        .unwrap_or(Timestamp::from_millis(0));
    Ok(InboundItem::Message(PlatformMessage {
        account: account.clone(),
        thread_key: format!("tweet:{thread_root}"),
        conversation: ConversationKind::XMention,
        platform_id,
        kind: MessageKind::Mention,
        author,
        text: text.to_owned(),
        attachments: Vec::new(),
        created_at,
        in_reply_to,
    }))
}

fn direct_message_item(
    account: &ExternalId,
    payload: &ActivityPayload,
    event: &ActivityDirectMessage,
) -> Result<InboundItem, ConnectorError> {
    let platform_id = external_id(&event.id, "direct_message_events[].id")?;
    let message = match (&event.event_type, &event.message_create) {
        (Some(kind), Some(message)) if kind == "message_create" => message,
        _ => {
            return Ok(InboundItem::Ignored {
                reason: format!("x direct message event {platform_id} is not a message_create"),
            })
        }
    };
    let sender = message.sender_id.as_deref().unwrap_or(UNKNOWN_AUTHOR);
    if sender == account.as_str() {
        return Ok(InboundItem::Ignored {
            reason: format!("x direct message {platform_id} is our own"),
        });
    }
    let user = find_user(payload, sender);
    let author = user_contact(
        sender,
        user.and_then(|user| user.get("name"))
            .and_then(serde_json::Value::as_str),
        user.and_then(|user| user.get("screen_name"))
            .and_then(serde_json::Value::as_str),
    )?;
    let created_at = event
        .created_timestamp
        .as_deref()
        .and_then(|millis| millis.parse().ok())
        .map(Timestamp::from_millis)
        .unwrap_or(Timestamp::from_millis(0));
    let text = message
        .message_data
        .as_ref()
        .and_then(|data| data.text.clone())
        .unwrap_or_default();
    Ok(InboundItem::Message(PlatformMessage {
        account: account.clone(),
        platform_id,
        // We skip our own messages above, so the other participant is the sender.
        thread_key: format!("dm:{sender}"),
        conversation: ConversationKind::XDm,
        kind: MessageKind::Direct,
        author,
        text,
        attachments: Vec::new(),
        created_at,
        in_reply_to: None,
    }))
}

/// Looks a user object up in the top-level `users` map, then in `apps.users`, then beside the
/// apps (where the published example puts them).
fn find_user<'a>(payload: &'a ActivityPayload, id: &str) -> Option<&'a serde_json::Value> {
    payload
        .users
        .get(id)
        .or_else(|| payload.apps.get("users").and_then(|users| users.get(id)))
        .or_else(|| {
            payload
                .apps
                .get(id)
                .filter(|object| object.get("screen_name").is_some())
        })
}

/// Parses a v1.1 time such as `Wed Oct 10 20:19:24 +0000 2018`.
fn parse_v1_time(text: &str) -> Option<Timestamp> {
    let format = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute] [year]"
    );
    let parsed = time::OffsetDateTime::parse(text, &format).ok()?;
    Some(Timestamp::from_millis(
        (parsed.unix_timestamp_nanos() / 1_000_000) as i64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_times_parse_with_their_offset() {
        let parsed = parse_v1_time("Wed Oct 10 20:19:24 +0000 2018").expect("a v1.1 time");
        assert_eq!(parsed.to_rfc3339(), "2018-10-10T20:19:24.000Z");
        let shifted = parse_v1_time("Wed Oct 10 22:19:24 +0200 2018").expect("a v1.1 time");
        assert_eq!(shifted, parsed);
        assert_eq!(parse_v1_time("2018-10-10T20:19:24Z"), None);
    }
}
