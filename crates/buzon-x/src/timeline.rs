//! Polled v2 pages: mentions (`GET /2/users/:id/mentions`) and DM events (`GET /2/dm_events`).
//!
//! A page is a JSON object; each entry of its `data[]` is one part, at path `data[k]`, read on
//! its own. `includes.users[]` names the authors and `includes.media[]` describes attachments
//! (read leniently: an odd `includes` only costs names); `meta` and the partial `errors[]` of a
//! 200 response are not parts. A page without `data` (`{"meta":{"result_count":0}}`) has no
//! parts; a page that is not an object, or whose `data` is not an array, is an error.
//!
//! Variants accepted, and where each came from:
//! - tweets with only `id`, `text`, `edit_history_tweet_ids` (a page requested without
//!   `tweet.fields`: `mentions_page_default_fields_real.json`, a tweepy cassette): author
//!   `x-unknown-author`, time 0, threaded on themselves;
//! - tweets with `author_id`, `created_at`, `conversation_id`, `referenced_tweets` and
//!   `includes.users` (what the poller requests; `mentions_page.json`, from the docs.x.com
//!   mentions quickstart);
//! - `note_tweet.text`, the whole text of a long post, read before `text` (docs.x.com Post
//!   object, `note_tweet` field) when the page carries it;
//! - `attachments.media_keys` with `includes.media[]` (`photo`, `video`, `animated_gif`; docs.x.com
//!   Media object), when the page carries them; another media type, or a key without its
//!   media, becomes a placeholder;
//! - `referenced_tweets` of type `retweeted`: a retweet (known event `retweet`); `replied_to`
//!   gives `in_reply_to`; `quoted` and other types are kept as messages;
//! - DM events of type `MessageCreate` (or without `event_type`, a page requested without
//!   `dm_event.fields`: `dm_events_page.json`, a tweepy cassette), `ParticipantsJoin` and
//!   `ParticipantsLeave` (docs.x.com DM events, group conversations: known event
//!   `participants`); another type is unrecognized;
//! - ids as strings or integers, `created_at` as RFC 3339 (an unreadable time is 0).

use crate::activity::first_text;
use crate::loose::{raw_array, reason_word, Loose, LooseList, Notes, OrderedObject};
use crate::wire::{DmEvent, Includes, Tweet, V2Attachments, V2User};
use crate::{kind, media_kind, payload_error, unknown_author};
use buzon_connector::{ConnectorError, InboundItem, MessageKind, Part, PlatformMessage};
use buzon_core::{Attachment, ConversationKind, ExternalId, NewContact, Timestamp};
use serde_json::value::RawValue;

/// The endpoint name of mention pages.
pub(crate) const MENTIONS: &str = "mentions";
/// The endpoint name of DM event pages.
pub(crate) const DM_EVENTS: &str = "dm_events";
/// The prefix of the endpoint names of saved-search pages (`search:<saved search id>`).
pub(crate) const SEARCH_PREFIX: &str = "search:";

/// A page's entries and what they refer to.
struct Page<'a> {
    entries: Vec<&'a RawValue>,
    includes: Includes,
}

fn read_page(body: &[u8]) -> Result<Page<'_>, ConnectorError> {
    let page: OrderedObject<'_> = serde_json::from_slice(body).map_err(payload_error)?;
    let entries = match page.get("data") {
        None => Vec::new(),
        Some(raw) if raw.get().trim() == "null" => Vec::new(),
        Some(raw) => raw_array(raw)
            .ok_or_else(|| ConnectorError::Payload("a page whose data is not an array".into()))?,
    };
    let includes = page
        .get("includes")
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or_default();
    Ok(Page { entries, includes })
}

/// Turns a page of tweets into its parts, one per `data[k]`: a mentions page (`search`
/// none), or a page of the saved search `search` (recent search). A search's posts are
/// finds of listening, except those addressed to the account (they @-mention it or answer
/// it), which are mentions like the mentions timeline's — the same post id, so one message
/// whichever of the two brings it first. A search keeps retweets: a query that does not
/// exclude them (`-is:retweet`) asks for them.
pub(crate) fn normalize_tweets(
    account: &ExternalId,
    body: &[u8],
    search: Option<i64>,
) -> Result<Vec<Part>, ConnectorError> {
    let page = read_page(body)?;
    Ok(page
        .entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            Part::new(
                format!("data[{index}]"),
                mention(account, &page.includes, entry, search),
            )
        })
        .collect())
}

fn unrecognized(account: &ExternalId, reason: impl Into<String>) -> InboundItem {
    InboundItem::Unrecognized {
        account: Some(account.clone()),
        reason: reason.into(),
    }
}

fn known(account: &ExternalId, kind: &'static str) -> InboundItem {
    InboundItem::Known {
        account: Some(account.clone()),
        kind,
    }
}

/// One polled tweet: the account's own, a retweet, or a mention (a message); with `search`,
/// a post found by that saved search.
fn mention(
    account: &ExternalId,
    includes: &Includes,
    entry: &RawValue,
    search: Option<i64>,
) -> InboundItem {
    let tweet: Tweet = match serde_json::from_str(entry.get()) {
        Ok(tweet) => tweet,
        Err(_) => return unrecognized(account, "a data entry that is not an object"),
    };
    let mut notes = Notes::default();
    let Some(platform_id) = tweet.id.read("id", &mut notes).map(|id| id.0.clone()) else {
        return unrecognized(account, "a tweet without a readable id");
    };
    let author_id = tweet.author_id.read("author_id", &mut notes);
    if author_id.is_some_and(|id| id.0 == *account) {
        return known(account, kind::OWN_POST);
    }
    let references: Vec<(&str, Option<&ExternalId>)> =
        read_list(&tweet.referenced_tweets, "referenced_tweets", &mut notes)
            .into_iter()
            .filter_map(|reference| {
                let kind = reference
                    .kind
                    .read("referenced_tweets[].type", &mut notes)?;
                Some((kind.as_str(), reference.id.get().map(|id| &id.0)))
            })
            .collect();
    let retweet = references.iter().any(|(kind, _)| *kind == "retweeted");
    if search.is_none() && retweet {
        return known(account, kind::RETWEET);
    }
    // Addressed to the account: it answers or @-mentions it. A retweet only repeats someone
    // else's words (`RT @someone: @account …`): never addressed.
    let addressed = !retweet
        && (tweet
            .in_reply_to_user_id
            .get()
            .is_some_and(|id| id.0 == *account)
            || tweet
                .entities
                .get()
                .and_then(|entities| entities.mentions.get())
                .is_some_and(|mentions| {
                    mentions.iter().any(|mention| {
                        mention
                            .get()
                            .and_then(|mention| mention.id.get())
                            .is_some_and(|id| id.0 == *account)
                    })
                }));
    let found_by = search
        .filter(|_| !addressed)
        .map(buzon_core::FoundBy::Search);
    let note = tweet.note_tweet.read("note_tweet", &mut notes);
    let absent = Loose::Absent;
    let candidates = [
        (note.map_or(&absent, |note| &note.text), "note_tweet.text"),
        (&tweet.text, "text"),
    ];
    let Some(text) = first_text(&candidates, &mut notes) else {
        return unrecognized(account, "a tweet whose text is not a string");
    };
    let author_id = author_id.map_or_else(unknown_author, |id| id.0.clone());
    let user = find_user(includes, &author_id);
    let author = NewContact {
        name: user.and_then(|user| user.name.get().cloned()),
        handle: user.and_then(|user| user.username.get().cloned()),
        platform_id: author_id,
    };
    let thread_root = tweet
        .conversation_id
        .read("conversation_id", &mut notes)
        .map_or_else(|| platform_id.clone(), |id| id.0.clone());
    let in_reply_to = references
        .iter()
        .find(|(kind, _)| *kind == "replied_to")
        .and_then(|(_, id)| id.cloned());
    let attachments = v2_attachments(&tweet.attachments, includes, &mut notes);
    let created_at = v2_time(&tweet.created_at, &mut notes);
    InboundItem::Message(PlatformMessage {
        account: account.clone(),
        thread_key: format!("tweet:{thread_root}"),
        conversation: ConversationKind::XMention,
        platform_id,
        kind: MessageKind::Mention,
        author,
        text: notes.text(text),
        attachments,
        created_at,
        in_reply_to,
        raw: notes.raw(entry),
        found_by,
    })
}

/// Turns a DM events page into its parts: one per `data[k]`. `MessageCreate` events from
/// others become direct messages threaded on the sender; our own are echoes.
///
/// An event without `sender_id` (a page requested without `dm_event.fields`) is kept with the
/// author `x-unknown-author`, so its text is not lost; its thread cannot be answered.
pub(crate) fn normalize_dm_events(
    account: &ExternalId,
    body: &[u8],
) -> Result<Vec<Part>, ConnectorError> {
    let page = read_page(body)?;
    Ok(page
        .entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            Part::new(
                format!("data[{index}]"),
                dm_event(account, &page.includes, entry),
            )
        })
        .collect())
}

fn dm_event(account: &ExternalId, includes: &Includes, entry: &RawValue) -> InboundItem {
    let event: DmEvent = match serde_json::from_str(entry.get()) {
        Ok(event) => event,
        Err(_) => return unrecognized(account, "a data entry that is not an object"),
    };
    let mut notes = Notes::default();
    let Some(platform_id) = event.id.read("id", &mut notes).map(|id| id.0.clone()) else {
        return unrecognized(account, "a dm event without a readable id");
    };
    match event
        .event_type
        .read("event_type", &mut notes)
        .map(String::as_str)
    {
        None | Some("MessageCreate") => {}
        Some("ParticipantsJoin" | "ParticipantsLeave") => {
            return known(account, kind::PARTICIPANTS)
        }
        Some(other) => {
            return unrecognized(
                account,
                format!(
                    "a dm event of a type buzon does not know: {}",
                    reason_word(other)
                ),
            )
        }
    }
    let sender = event.sender_id.read("sender_id", &mut notes);
    if sender.is_some_and(|sender| sender.0 == *account) {
        return known(account, kind::ECHO);
    }
    let Some(text) = first_text(&[(&event.text, "text")], &mut notes) else {
        return unrecognized(account, "a direct message whose text is not a string");
    };
    let sender = sender.map_or_else(unknown_author, |sender| sender.0.clone());
    let user = find_user(includes, &sender);
    let author = NewContact {
        name: user.and_then(|user| user.name.get().cloned()),
        handle: user.and_then(|user| user.username.get().cloned()),
        platform_id: sender,
    };
    let attachments = v2_attachments(&event.attachments, includes, &mut notes);
    let created_at = v2_time(&event.created_at, &mut notes);
    InboundItem::Message(PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key: format!("dm:{}", author.platform_id),
        conversation: ConversationKind::XDm,
        kind: MessageKind::Direct,
        author,
        text: notes.text(text),
        attachments,
        created_at,
        in_reply_to: None,
        raw: notes.raw(entry),
        found_by: None,
    })
}

/// The readable entries of a list; an odd list or entry is noted as `field`.
fn read_list<'a, T>(list: &'a LooseList<T>, field: &'static str, notes: &mut Notes) -> Vec<&'a T> {
    list.read(field, notes)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| entry.read(field, notes))
                .collect()
        })
        .unwrap_or_default()
}

fn find_user<'a>(includes: &'a Includes, id: &ExternalId) -> Option<&'a V2User> {
    includes
        .users
        .get()?
        .iter()
        .filter_map(Loose::get)
        .find(|user| user.id.get().is_some_and(|user_id| user_id.0 == *id))
}

/// The attachments named by `attachments.media_keys`, from `includes.media[]`; a key whose
/// media is missing or of another type becomes a placeholder.
fn v2_attachments(
    attachments: &Loose<V2Attachments>,
    includes: &Includes,
    notes: &mut Notes,
) -> Vec<Attachment> {
    let Some(attachments) = attachments.read("attachments", notes) else {
        return Vec::new();
    };
    let media: Vec<_> = includes
        .media
        .get()
        .map(|media| media.iter().filter_map(Loose::get).collect())
        .unwrap_or_default();
    let mut found = Vec::new();
    for key in read_list(&attachments.media_keys, "attachments.media_keys", notes) {
        let item = media.iter().find(|item| item.media_key.get() == Some(key));
        let Some(item) = item else {
            notes.unsupported("attachment", "media");
            continue;
        };
        let kind = item.kind.get().map_or("unknown", String::as_str);
        let Some(attachment_kind) = media_kind(kind) else {
            notes.unsupported("attachment", kind);
            continue;
        };
        found.push(Attachment {
            kind: attachment_kind.to_owned(),
            mime_type: None,
            media_id: Some(key.clone()),
            url: item.url.get().or(item.preview_image_url.get()).cloned(),
            filename: None,
            caption: None,
        });
    }
    found
}

/// An RFC 3339 time; 0 when the field was not requested, and 0 (noted) when it is garbled.
fn v2_time(field: &Loose<String>, notes: &mut Notes) -> Timestamp {
    match field.read("created_at", notes) {
        Some(text) => Timestamp::parse_rfc3339(text).unwrap_or_else(|| {
            notes.odd("created_at");
            Timestamp::from_millis(0)
        }),
        None => Timestamp::from_millis(0),
    }
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
