//! Polled v2 pages: mentions (`GET /2/users/:id/mentions`) and DM events (`GET /2/dm_events`).

use crate::wire::{DmEventPage, Includes, TweetPage, V2User};
use crate::{external_id, payload_error, user_contact, UNKNOWN_AUTHOR};
use buzon_connector::{ConnectorError, InboundItem, MessageKind, PlatformMessage};
use buzon_core::{ConversationKind, ExternalId, Timestamp};

/// The endpoint name of mention pages.
pub(crate) const MENTIONS: &str = "mentions";
/// The endpoint name of DM event pages.
pub(crate) const DM_EVENTS: &str = "dm_events";

/// Turns a mentions page into items.
///
/// A tweet without `author_id` (a page requested without `tweet.fields`, such as
/// `mentions_page_default_fields_real.json`) gets the author id `x-unknown-author`; one
/// without `created_at` gets time 0; one without `conversation_id` threads on itself.
pub(crate) fn normalize_mentions(
    account: &ExternalId,
    body: &[u8],
) -> Result<Vec<InboundItem>, ConnectorError> {
    let page: TweetPage = serde_json::from_slice(body).map_err(payload_error)?;
    let includes = page.includes.unwrap_or_default();
    let mut items = Vec::with_capacity(page.data.len());
    for tweet in page.data {
        let platform_id = external_id(&tweet.id, "data[].id")?;
        let author_id = tweet.author_id.as_deref().unwrap_or(UNKNOWN_AUTHOR);
        if author_id == account.as_str() {
            items.push(InboundItem::Ignored {
                reason: format!("x tweet {platform_id} is our own"),
            });
            continue;
        }
        let user = find_user(&includes, author_id);
        let author = user_contact(
            author_id,
            user.and_then(|user| user.name.as_deref()),
            user.and_then(|user| user.username.as_deref()),
        )?;
        let thread_root = tweet.conversation_id.as_deref().unwrap_or(&tweet.id);
        let in_reply_to = tweet
            .referenced_tweets
            .iter()
            .find(|reference| reference.kind == "replied_to")
            .map(|reference| external_id(&reference.id, "referenced_tweets[].id"))
            .transpose()?;
        items.push(InboundItem::Message(PlatformMessage {
            account: account.clone(),
            thread_key: format!("tweet:{thread_root}"),
            conversation: ConversationKind::XMention,
            platform_id,
            kind: MessageKind::Mention,
            author,
            text: tweet.text,
            attachments: Vec::new(),
            created_at: v2_time(tweet.created_at.as_deref()),
            in_reply_to,
        }));
    }
    Ok(items)
}

/// Turns a DM events page into items: `MessageCreate` events from others become direct
/// messages threaded on the sender; our own and other event types are ignored.
///
/// An event without `sender_id` (a page requested without `dm_event.fields`) is kept with the
/// author `x-unknown-author`, so its text is not lost; its thread cannot be answered.
pub(crate) fn normalize_dm_events(
    account: &ExternalId,
    body: &[u8],
) -> Result<Vec<InboundItem>, ConnectorError> {
    let page: DmEventPage = serde_json::from_slice(body).map_err(payload_error)?;
    let includes = page.includes.unwrap_or_default();
    let mut items = Vec::with_capacity(page.data.len());
    for event in page.data {
        let platform_id = external_id(&event.id, "data[].id")?;
        if event.event_type.as_deref().unwrap_or("MessageCreate") != "MessageCreate" {
            items.push(InboundItem::Ignored {
                reason: format!("x dm event {platform_id} is not a MessageCreate"),
            });
            continue;
        }
        let sender = event.sender_id.as_deref().unwrap_or(UNKNOWN_AUTHOR);
        if sender == account.as_str() {
            items.push(InboundItem::Ignored {
                reason: format!("x direct message {platform_id} is our own"),
            });
            continue;
        }
        let user = find_user(&includes, sender);
        let author = user_contact(
            sender,
            user.and_then(|user| user.name.as_deref()),
            user.and_then(|user| user.username.as_deref()),
        )?;
        items.push(InboundItem::Message(PlatformMessage {
            account: account.clone(),
            platform_id,
            thread_key: format!("dm:{sender}"),
            conversation: ConversationKind::XDm,
            kind: MessageKind::Direct,
            author,
            text: event.text.unwrap_or_default(),
            attachments: Vec::new(),
            created_at: v2_time(event.created_at.as_deref()),
            in_reply_to: None,
        }));
    }
    Ok(items)
}

fn find_user<'a>(includes: &'a Includes, id: &str) -> Option<&'a V2User> {
    includes.users.iter().find(|user| user.id == id)
}

/// An RFC 3339 time, or 0 when the field was not requested or is garbled.
fn v2_time(text: Option<&str>) -> Timestamp {
    text.and_then(Timestamp::parse_rfc3339)
        .unwrap_or(Timestamp::from_millis(0))
}

/// Whether `candidate` is a later X id than `current`. X ids are decimal strings without
/// leading zeros, so the longer one is larger and equal lengths compare as text; no float is
/// involved.
pub(crate) fn id_is_newer(candidate: &str, current: &str) -> bool {
    (candidate.len(), candidate) > (current.len(), current)
}

/// Whether `text` looks like an X id: 1 to 20 ASCII digits.
pub(crate) fn is_numeric_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 20 && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_by_length_then_digits() {
        assert!(id_is_newer("1578516295611748353", "1578516107798884353"));
        assert!(id_is_newer("10000000000000000000", "9999999999999999999"));
        assert!(!id_is_newer("1578516107798884353", "1578516295611748353"));
        assert!(!id_is_newer("1578516295611748353", "1578516295611748353"));
    }

    #[test]
    fn only_digit_strings_are_ids() {
        assert!(is_numeric_id("783214"));
        assert!(!is_numeric_id(""));
        assert!(!is_numeric_id("x-unknown-author"));
        assert!(!is_numeric_id("12/../34"));
    }
}
