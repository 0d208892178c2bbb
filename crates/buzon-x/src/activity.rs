//! Account Activity API webhooks: the CRC answer, the signature check and the deliveries.
//!
//! Deliveries carry v1.1 objects. A v1.1 tweet has no conversation id, so a webhook mention
//! threads on the tweet it answers (`tweet:<in_reply_to_status_id_str>`) or on itself
//! (`tweet:<id_str>`). For a reply to a conversation's first tweet that is the same key the
//! v2 poller uses (`tweet:<conversation_id>`); for a reply deeper in a thread it is not, so the
//! same public conversation can split in two in the inbox. Fixing that needs a v2 lookup of
//! the tweet (network), which [`crate::XConnector::normalize`] must not do.
//!
//! # Parts and outcomes
//!
//! A delivery is `{"for_user_id", <event arrays>, "users", "apps", flags}`; each entry of an
//! event array is one part at `<array>[k]`, in the order the body lists them. Sources: the
//! "Account Activity data objects" guide
//! (<https://developer.x.com/en/docs/twitter-api/enterprise/account-activity-api/guides/account-activity-data-objects>,
//! read through copies in client libraries), its published examples (`aaa_direct_message_events.json`,
//! `aaa_tweet_delete_events.json`), and the event lists of client libraries (machinat's
//! Twitter event factory, twitter-bot-manager), which also name `unfollow_events`,
//! `unblock_events` and `unmute_events`.
//!
//! - `tweet_create_events[]`: the account's own tweet (its `user` is the account) is the known
//!   event `own_post`; a tweet with `retweeted_status` is `retweet`; any other tweet (a
//!   mention, a reply, a quote of the account's tweet) is a message. Its text is the first of
//!   `extended_tweet.note_tweet.text`, `note_tweet.text` (long posts; where X puts them in
//!   v1.1 payloads is **unsure**, so both are looked at), `extended_tweet.full_text` (tweets
//!   over 140 characters), `full_text` (`tweet_mode=extended`), `text`. Media come from
//!   `extended_tweet.extended_entities`, `extended_tweet.entities`, `extended_entities` or
//!   `entities` (the first with media): `photo`, `video` (its best MP4), `animated_gif`;
//!   another type is a placeholder. Times: `created_at` (`Wed Oct 10 20:19:24 +0000 2018`, or
//!   RFC 3339), else `timestamp_ms`.
//! - `direct_message_events[]` of type `message_create` (or without `type`): from the account
//!   it is the known event `echo`, otherwise a message named from `users` (top level, inside
//!   `apps` as the published example has it, or beside the apps). `message_data.attachment` of
//!   type `media` (`photo`, `video`, `animated_gif`) is an attachment, and one of type
//!   `location` (`shared_coordinate`, recorded in jimmoffitt/FloodSocial) a `location`
//!   attachment with a `geo:` URI; another type, or one that cannot be read, is a
//!   placeholder. A quick reply's answer (`quick_reply_response`, with or without `metadata`)
//!   is a message with the chosen option's text. Another `type` is unrecognized. The DM
//!   deliveries recorded in 2017 (FloodSocial) have no `for_user_id`: the DM's
//!   `target.recipient_id` is then taken for the account (so the account's own DMs cannot be
//!   told apart in them).
//! - `tweet_delete_events[]`: the tweet `status.id` is removed.
//! - `favorite_events`, `follow_events`/`unfollow_events`, `block_events`/`unblock_events`,
//!   `mute_events`/`unmute_events`, `direct_message_indicate_typing_events`,
//!   `direct_message_mark_read_events`: one known event per entry (`favorite`, `follow`,
//!   `block`, `mute`, `typing`, `read`).
//! - `user_event` (`{"revoke": {…}}`, sent without `for_user_id`): the known event `revoke`,
//!   at path `user_event`.
//! - Any other top-level member whose value is an array or an object, or whose name ends in
//!   `_event`/`_events`: one unrecognized part at `<name>`. Other scalars (`user_has_blocked`,
//!   `is_blocked_by`…) are flags of the envelope.
//!
//! A part that is not an object, a tweet or DM without a readable id, or one whose text is not
//! a string is unrecognized; any other odd field of a tweet or DM (see `loose`) leaves a
//! message with its text, placeholders for what cannot be shown, and its raw JSON.

use crate::loose::{
    json_kind, object_keys, raw_array, reason_word, Loose, Notes, OrderedObject, XId,
};
use crate::wire::{ActivityDirectMessage, DmAttachment, TweetDeleteEvent, V1Media, V1Tweet};
use crate::{kind, media_kind, payload_error, unknown_author};
use base64::Engine;
use buzon_connector::{
    constant_time_eq, hmac_sha256, ConnectorError, HeaderMap, InboundItem, MessageKind, Part,
    PlatformMessage,
};
use buzon_core::{Attachment, ConversationKind, ExternalId, NewContact, Timestamp};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

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

/// The top-level keys of a delivery that describe it rather than carry events: the account,
/// flags, and the `users`/`apps` maps that DM events refer to.
const ENVELOPE_KEYS: &[&str] = &[
    "for_user_id",
    "user_has_blocked",
    "is_blocked_by",
    "users",
    "apps",
];

/// Event arrays whose entries are known events that carry no message, with their kind. The
/// `un…` arrays are named by client libraries beside the documented ones (the documented
/// payloads put `unfollow`, `unblock`, `unmute` in the same arrays, as `type`).
const KNOWN_ARRAYS: &[(&str, &str)] = &[
    ("favorite_events", kind::FAVORITE),
    ("follow_events", kind::FOLLOW),
    ("unfollow_events", kind::FOLLOW),
    ("block_events", kind::BLOCK),
    ("unblock_events", kind::BLOCK),
    ("mute_events", kind::MUTE),
    ("unmute_events", kind::MUTE),
    ("direct_message_indicate_typing_events", kind::TYPING),
    ("direct_message_mark_read_events", kind::READ),
];

/// Turns one Account Activity delivery into its parts, in the order they arrived: one per
/// entry of each event array (`tweet_create_events[0]`…), one for `user_event`, and one for
/// each top-level key buzon does not know whose value is an array or an object, or whose name
/// ends in `_event`/`_events` (`<name>`). Scalars under other names are envelope flags.
///
/// An error means the body is not an activity delivery: not a JSON object, or without a
/// readable `for_user_id` (only a `user_event`, which X sends without one, and DM deliveries,
/// recorded without one in 2017, may lack it).
pub(crate) fn normalize(body: &[u8]) -> Result<Vec<Part>, ConnectorError> {
    let envelope: OrderedObject<'_> = serde_json::from_slice(body).map_err(payload_error)?;
    let account = match envelope.get("for_user_id") {
        Some(raw) => Some(
            serde_json::from_str::<XId>(raw.get())
                .map_err(|_| ConnectorError::Payload("for_user_id is not an x id".into()))?
                .0,
        ),
        None => None,
    };
    // Two recorded variants come without for_user_id: user_event (documented so) and the DM
    // deliveries recorded in 2017 (jimmoffitt/FloodSocial). Anything else without it is not a
    // delivery buzon knows.
    if account.is_none()
        && envelope.get("user_event").is_none()
        && envelope.get("direct_message_events").is_none()
    {
        return Err(ConnectorError::Payload(
            "an activity delivery without for_user_id".into(),
        ));
    }
    let map = |key: &str| {
        envelope
            .get(key)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or(Value::Null)
    };
    let delivery = Delivery {
        account,
        users: map("users"),
        apps: map("apps"),
    };
    let mut parts = Vec::new();
    for (key, raw) in &envelope.0 {
        let key = key.as_str();
        if ENVELOPE_KEYS.contains(&key) {
            continue;
        }
        match key {
            "tweet_create_events" => delivery.each(key, raw, &mut parts, Delivery::tweet),
            "direct_message_events" => {
                delivery.each(key, raw, &mut parts, Delivery::direct_message)
            }
            "tweet_delete_events" => delivery.each(key, raw, &mut parts, Delivery::tweet_delete),
            "user_event" => parts.push(Part::new(key, delivery.user_event(raw))),
            _ => {
                if let Some((_, kind)) = KNOWN_ARRAYS.iter().find(|(name, _)| *name == key) {
                    delivery.each(key, raw, &mut parts, |delivery, entry| {
                        delivery.known(key, kind, entry)
                    });
                } else if is_event(key, raw) {
                    parts.push(Part::new(
                        top_level_path(key),
                        delivery.unrecognized(format!(
                            "an event array buzon does not know: {}",
                            reason_word(key)
                        )),
                    ));
                }
            }
        }
    }
    Ok(parts)
}

/// Whether an unknown top-level member is an event rather than an envelope flag.
fn is_event(key: &str, raw: &RawValue) -> bool {
    let text = raw.get().trim_start();
    key.ends_with("_events")
        || key.ends_with("_event")
        || text.starts_with('[')
        || text.starts_with('{')
}

/// The path of a top-level member: its name, or `["…"]` when the name is not a plain word.
fn top_level_path(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        key.to_owned()
    } else {
        format!("[{}]", Value::String(key.to_owned()))
    }
}

/// What every part of one delivery shares.
struct Delivery {
    /// `for_user_id`: the subscribed account.
    account: Option<ExternalId>,
    /// The top-level `users` map.
    users: Value,
    /// The top-level `apps` map.
    apps: Value,
}

impl Delivery {
    /// One part per entry of the event array `key`, read by `read`; one unrecognized part at
    /// `key` when it is not an array.
    fn each(
        &self,
        key: &str,
        raw: &RawValue,
        parts: &mut Vec<Part>,
        read: impl Fn(&Delivery, &RawValue) -> InboundItem,
    ) {
        match raw_array(raw) {
            Some(entries) => parts.extend(
                entries
                    .into_iter()
                    .enumerate()
                    .map(|(index, entry)| Part::new(format!("{key}[{index}]"), read(self, entry))),
            ),
            None => parts.push(Part::new(
                top_level_path(key),
                self.unrecognized(format!(
                    "{key} is {}, not an array",
                    json_kind(&serde_json::from_str(raw.get()).unwrap_or(Value::Null))
                )),
            )),
        }
    }

    fn unrecognized(&self, reason: impl Into<String>) -> InboundItem {
        InboundItem::Unrecognized {
            account: self.account.clone(),
            reason: reason.into(),
        }
    }

    fn known(&self, key: &str, kind: &'static str, entry: &RawValue) -> InboundItem {
        match serde_json::from_str::<Value>(entry.get()) {
            Ok(Value::Object(_)) => InboundItem::Known {
                account: self.account.clone(),
                kind,
            },
            Ok(other) => self.unrecognized(format!(
                "a {key} entry that is {}, not an object",
                json_kind(&other)
            )),
            Err(_) => self.unrecognized(format!("a {key} entry that cannot be read")),
        }
    }

    /// A `tweet_create_events[]` entry: the account's own tweet, a retweet, or a tweet that
    /// mentions, answers or quotes the account (a message).
    fn tweet(&self, entry: &RawValue) -> InboundItem {
        let Some(account) = &self.account else {
            return self.unrecognized("a tweet in a delivery without for_user_id");
        };
        let tweet: V1Tweet = match serde_json::from_str(entry.get()) {
            Ok(tweet) => tweet,
            Err(_) => {
                return self.unrecognized("a tweet_create_events entry that is not an object")
            }
        };
        let mut notes = Notes::default();
        let Some(platform_id) = tweet
            .id_str
            .read("id_str", &mut notes)
            .or_else(|| tweet.id.read("id", &mut notes))
            .map(|id| id.0.clone())
        else {
            return self.unrecognized("a tweet without a readable id_str or id");
        };
        let user = tweet.user.read("user", &mut notes);
        let author_id = user.and_then(|user| {
            user.id_str
                .read("user.id_str", &mut notes)
                .or_else(|| user.id.read("user.id", &mut notes))
        });
        if author_id.is_some_and(|id| id.0 == *account) {
            return InboundItem::Known {
                account: Some(account.clone()),
                kind: kind::OWN_POST,
            };
        }
        if tweet.retweeted_status.is_present() {
            return InboundItem::Known {
                account: Some(account.clone()),
                kind: kind::RETWEET,
            };
        }
        let author = NewContact {
            platform_id: author_id.map_or_else(unknown_author, |id| id.0.clone()),
            name: user.and_then(|user| user.name.read("user.name", &mut notes).cloned()),
            handle: user.and_then(|user| {
                user.screen_name
                    .read("user.screen_name", &mut notes)
                    .cloned()
            }),
        };
        let extended = tweet.extended_tweet.read("extended_tweet", &mut notes);
        let extended_note = extended.and_then(|extended| {
            extended
                .note_tweet
                .read("extended_tweet.note_tweet", &mut notes)
        });
        let note = tweet.note_tweet.read("note_tweet", &mut notes);
        let absent = Loose::Absent;
        let candidates = [
            (
                extended_note.map_or(&absent, |note| &note.text),
                "extended_tweet.note_tweet.text",
            ),
            (note.map_or(&absent, |note| &note.text), "note_tweet.text"),
            (
                extended.map_or(&absent, |extended| &extended.full_text),
                "extended_tweet.full_text",
            ),
            (&tweet.full_text, "full_text"),
            (&tweet.text, "text"),
        ];
        let Some(text) = first_text(&candidates, &mut notes) else {
            return self.unrecognized("a tweet whose text is not a string");
        };
        let media_sources = [
            extended.map_or(&Loose::Absent, |extended| &extended.extended_entities),
            extended.map_or(&Loose::Absent, |extended| &extended.entities),
            &tweet.extended_entities,
            &tweet.entities,
        ];
        let mut attachments = Vec::new();
        for entities in media_sources {
            let Some(entities) = entities.read("entities", &mut notes) else {
                continue;
            };
            let Some(media) = entities.media.read("entities.media", &mut notes) else {
                continue;
            };
            if media.is_empty() {
                continue;
            }
            for item in media {
                match item.read("entities.media[]", &mut notes) {
                    Some(media) => attachments.extend(v1_media_attachment(media, &mut notes)),
                    None => notes.unsupported("attachment", "unknown"),
                }
            }
            break;
        }
        let in_reply_to = tweet
            .in_reply_to_status_id_str
            .read("in_reply_to_status_id_str", &mut notes)
            .or_else(|| {
                tweet
                    .in_reply_to_status_id
                    .read("in_reply_to_status_id", &mut notes)
            })
            .map(|id| id.0.clone());
        let created_at = match tweet.created_at.read("created_at", &mut notes) {
            Some(text) => parse_v1_time(text)
                .or_else(|| Timestamp::parse_rfc3339(text))
                .or_else(|| {
                    notes.odd("created_at");
                    None
                }),
            None => None,
        }
        .or_else(|| {
            tweet
                .timestamp_ms
                .read("timestamp_ms", &mut notes)
                .map(|time| time.0)
        })
        .unwrap_or(Timestamp::from_millis(0));
        let thread_root = in_reply_to.as_ref().unwrap_or(&platform_id);
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
            found_by: None,
        })
    }

    /// A `direct_message_events[]` entry: the account's own DM (an echo) or a customer's.
    fn direct_message(&self, entry: &RawValue) -> InboundItem {
        let event: ActivityDirectMessage = match serde_json::from_str(entry.get()) {
            Ok(event) => event,
            Err(_) => {
                return self.unrecognized("a direct_message_events entry that is not an object")
            }
        };
        let mut notes = Notes::default();
        let Some(platform_id) = event.id.read("id", &mut notes).map(|id| id.0.clone()) else {
            return self.unrecognized("a direct message event without a readable id");
        };
        if let Some(kind) = event.event_type.read("type", &mut notes) {
            if kind != "message_create" {
                return self.unrecognized(format!(
                    "a direct message event of a type buzon does not know: {}",
                    reason_word(kind)
                ));
            }
        }
        let Some(message) = event.message_create.read("message_create", &mut notes) else {
            return self.unrecognized("a direct message event without a readable message_create");
        };
        // Without for_user_id (the 2017 recordings) the recipient is taken for the account.
        let recipient = || {
            message
                .target
                .get()
                .and_then(|target| target.recipient_id.get())
                .map(|recipient| recipient.0.clone())
        };
        let Some(account) = self.account.clone().or_else(recipient) else {
            return self.unrecognized(
                "a direct message in a delivery without for_user_id or target.recipient_id",
            );
        };
        let sender = message.sender_id.read("sender_id", &mut notes);
        if sender.is_some_and(|sender| sender.0 == account) {
            return InboundItem::Known {
                account: Some(account),
                kind: kind::ECHO,
            };
        }
        let data = message.message_data.read("message_data", &mut notes);
        if !message.message_data.is_present() {
            notes.odd("message_data");
        }
        let text = match data.map(|data| &data.text) {
            Some(Loose::Read(text)) => text.as_str(),
            Some(Loose::Odd(_)) => {
                return self.unrecognized("a direct message whose text is not a string")
            }
            Some(Loose::Absent) | None => "",
        };
        let mut attachments = Vec::new();
        if let Some(data) = data {
            match &data.attachment {
                Loose::Absent => {}
                Loose::Read(attachment) => {
                    match attachment.kind.read("attachment.type", &mut notes) {
                        Some(kind) if kind == "location" => {
                            attachments.extend(location_attachment(attachment, &mut notes))
                        }
                        Some(kind) if kind != "media" => notes.unsupported("attachment", kind),
                        kind => match attachment.media.read("attachment.media", &mut notes) {
                            Some(media) => {
                                attachments.extend(v1_media_attachment(media, &mut notes))
                            }
                            None => notes
                                .unsupported("attachment", kind.map_or("unknown", String::as_str)),
                        },
                    }
                }
                Loose::Odd(_) => {
                    notes.odd("attachment");
                    notes.unsupported("attachment", "unknown");
                }
            }
        }
        let sender = sender.map_or_else(unknown_author, |sender| sender.0.clone());
        let user = self.find_user(sender.as_str());
        let author = NewContact {
            name: user
                .and_then(|user| user.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            handle: user
                .and_then(|user| user.get("screen_name"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            platform_id: sender,
        };
        let created_at = event
            .created_timestamp
            .read("created_timestamp", &mut notes)
            .map_or(Timestamp::from_millis(0), |time| time.0);
        InboundItem::Message(PlatformMessage {
            account,
            platform_id,
            // Our own messages are echoes (above), so the other participant is the sender.
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

    /// A `tweet_delete_events[]` entry: the tweet is removed.
    fn tweet_delete(&self, entry: &RawValue) -> InboundItem {
        let Some(account) = &self.account else {
            return self.unrecognized("a tweet deletion in a delivery without for_user_id");
        };
        let mut notes = Notes::default();
        let id = serde_json::from_str::<TweetDeleteEvent>(entry.get())
            .ok()
            .and_then(|event| {
                let status = event.status.read("status", &mut notes)?;
                status
                    .id_str
                    .read("status.id_str", &mut notes)
                    .or_else(|| status.id.read("status.id", &mut notes))
                    .map(|id| id.0.clone())
            });
        match id {
            Some(platform_id) => InboundItem::Removed {
                account: account.clone(),
                platform_id,
            },
            None => self.unrecognized("a tweet_delete_events entry without a readable status.id"),
        }
    }

    /// `user_event`: `{"revoke": {…}}` when the account revoked the app's access.
    fn user_event(&self, raw: &RawValue) -> InboundItem {
        let value: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
        let Some(revoke) = value.get("revoke") else {
            return match value {
                Value::Object(_) => self.unrecognized(format!(
                    "a user_event with none of the fields buzon knows: {}",
                    object_keys(&value)
                )),
                other => self.unrecognized(format!(
                    "user_event is {}, not an object",
                    json_kind(&other)
                )),
            };
        };
        let account = self.account.clone().or_else(|| {
            revoke
                .pointer("/source/user_id")
                .and_then(|id| XId::deserialize(id).ok())
                .map(|id| id.0)
        });
        InboundItem::Known {
            account,
            kind: kind::REVOKE,
        }
    }

    /// Looks a user object up in the top-level `users` map, then in `apps.users`, then beside
    /// the apps (where the published example puts them).
    fn find_user(&self, id: &str) -> Option<&Value> {
        self.users
            .get(id)
            .or_else(|| self.apps.get("users").and_then(|users| users.get(id)))
            .or_else(|| {
                self.apps
                    .get(id)
                    .filter(|object| object.get("screen_name").is_some())
            })
    }
}

/// The first of `candidates` that is a string. `None` when none is, but one is present in
/// another shape; `""` when none is present at all.
pub(crate) fn first_text<'a>(
    candidates: &[(&'a Loose<String>, &'static str)],
    notes: &mut Notes,
) -> Option<&'a str> {
    let mut odd = false;
    for (candidate, field) in candidates {
        match candidate {
            Loose::Read(text) => return Some(text),
            Loose::Odd(_) => {
                notes.odd(field);
                odd = true;
            }
            Loose::Absent => {}
        }
    }
    (!odd).then_some("")
}

/// The attachment of a v1.1 media object: a photo, a video or an animated GIF; anything else
/// becomes a placeholder in `notes`.
fn v1_media_attachment(media: &V1Media, notes: &mut Notes) -> Option<Attachment> {
    let media_id = media
        .id_str
        .read("media.id_str", notes)
        .or_else(|| media.id.read("media.id", notes))
        .map(|id| id.as_str().to_owned());
    let picture = media
        .media_url_https
        .read("media.media_url_https", notes)
        .or_else(|| media.media_url.read("media.media_url", notes))
        .cloned();
    let Some(kind) = media.kind.read("media.type", notes) else {
        notes.unsupported("attachment", "unknown");
        return None;
    };
    let Some(attachment_kind) = media_kind(kind) else {
        notes.unsupported("attachment", kind);
        return None;
    };
    let (url, mime_type) = if attachment_kind == "image" {
        (picture, None)
    } else {
        best_variant(media, notes)
            .map(|(url, mime_type)| (Some(url), mime_type))
            .unwrap_or((picture, None))
    };
    Some(Attachment {
        kind: attachment_kind.to_owned(),
        mime_type,
        media_id,
        url,
        filename: None,
        caption: None,
    })
}

/// A location shared in a DM, as a `geo:` URI (RFC 5870); a location of another type, or
/// without readable coordinates, becomes a placeholder in `notes`.
fn location_attachment(attachment: &DmAttachment, notes: &mut Notes) -> Option<Attachment> {
    let point = attachment
        .location
        .read("attachment.location", notes)
        .and_then(|location| {
            match location.kind.read("attachment.location.type", notes) {
                Some(kind) if kind != "shared_coordinate" => return None,
                _ => {}
            }
            location
                .shared_coordinate
                .read("attachment.location.shared_coordinate", notes)?
                .coordinates
                .read("shared_coordinate.coordinates", notes)?
                .coordinates
                .read("shared_coordinate.coordinates.coordinates", notes)
        });
    match point.map(Vec::as_slice) {
        Some([longitude, latitude, ..]) if longitude.is_finite() && latitude.is_finite() => {
            Some(Attachment {
                kind: "location".to_owned(),
                mime_type: None,
                media_id: None,
                url: Some(format!("geo:{latitude},{longitude}")),
                filename: None,
                caption: None,
            })
        }
        _ => {
            notes.unsupported("attachment", "location");
            None
        }
    }
}

/// The URL and MIME type of a video's best encoding: the highest bitrate, MP4 first.
fn best_variant(media: &V1Media, notes: &mut Notes) -> Option<(String, Option<String>)> {
    let info = media.video_info.read("media.video_info", notes)?;
    let variants = info.variants.read("media.video_info.variants", notes)?;
    variants
        .iter()
        .filter_map(|variant| variant.read("media.video_info.variants[]", notes))
        .filter_map(|variant| {
            let url = variant.url.get()?.clone();
            let mime_type = variant.content_type.get().cloned();
            let mp4 = mime_type.as_deref() == Some("video/mp4");
            Some((
                (mp4, variant.bitrate.get().copied().unwrap_or(0)),
                url,
                mime_type,
            ))
        })
        .max_by_key(|(rank, _, _)| *rank)
        .map(|(_, url, mime_type)| (url, mime_type))
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
