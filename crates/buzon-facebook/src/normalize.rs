//! From Meta's JSON to [`Part`]s: Page webhooks (`feed` changes, Messenger events) and the
//! polled Graph pages. Pure: no network, no clock.
//!
//! # Parts and their paths
//! - A webhook's parts are `entry[i].changes[j]`, `entry[i].messaging[j]` and
//!   `entry[i].standby[j]`, in that order within each entry. An entry that cannot be routed
//!   (not an object, no valid Page id, none of those lists) is one part at `entry[i]`; a list
//!   that is not a list is one part at `entry[i].changes` (and so on).
//! - A polled page's parts are `data[k]`. Polled pages do not nest parts: the comments of a
//!   post come in their own pages (`comments:<post-id>`), so a feed page is read for its
//!   posts only.
//! - Each part is read on its own, first as JSON and then as the typed struct for it (see
//!   `wire`), so one odd part never spoils its neighbours. The whole body is refused (and kept
//!   unparsed at `$`) only when it is not a Page delivery: not JSON, not an object, an
//!   `object` other than `page`, no `entry` list; or, for a polled page, not a Graph list
//!   (a page without `data` is an empty page).
//!
//! # What each part becomes
//! Page `feed` changes (webhooks reference, Page object,
//! <https://developers.facebook.com/docs/graph-api/webhooks/reference/page/>; recorded
//! variants from restfb's webhook fixtures, `src/test/resources/json/webhooks/feed-*.json`,
//! and Bottender's `FacebookConnector.spec.ts`):
//! - `comment` add / `edited` (or `edit`): a comment ([`InboundItem::Message`] /
//!   [`InboundItem::Edited`]), its `photo` and `video` URLs as attachments; `remove` (or
//!   `delete`): [`InboundItem::Removed`]; `hide` / `unhide`: [`InboundItem::Hidden`]. A reply's
//!   `parent_id` names its parent comment; a top-level comment's names the post.
//! - `post`, `status`, `photo`, `video` by a visitor: a post (visitor posts), with `link` as
//!   the media of a photo or video post and `photos[]` as images; same verbs as comments.
//! - The Page's own posts and comments (author = the Page): `own_post`. Page-only objects
//!   (`event`, `album`, `milestone`, `note`…) without another author: `own_post`.
//! - `reaction` (add, edit, remove; on posts, comments, replies) and a `like` on a post or a
//!   comment: `reaction`. A `like` with no post or comment (the Page liked), or the verb
//!   `follow`: `like`. `share` by someone else: `share`. The verbs `block`/`unblock` (e.g. a
//!   video blocked) and `mute`/`unmute`: `block` and `mute`.
//! - The `ratings` field (reviews) and the `mention` field (the Page tagged elsewhere): see
//!   the `listening` module. Comments on and likes of reviews, and a feed `rating` item:
//!   `rating`. Any other field (`conversations`, `leadgen`…) and any other item or verb is
//!   unrecognized.
//!
//! Messenger events (webhook events reference,
//! <https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events>;
//! restfb `messaging-*.json`), the same in `messaging[]` and `standby[]` (a customer who
//! writes while another app owns the thread still wrote, so standby messages are messages):
//! - `message` from the customer: a direct message in the thread `messenger:<PSID>`, with its
//!   text (a `quick_reply` keeps its text), `reply_to.mid` as the message it answers, and its
//!   attachments: `image`, `video`, `audio`, `file` (payload `url`), stickers (`sticker_id`,
//!   kind `sticker`), `location` (`geo:` URI), `reel`, `ig_reel`, `story_mention`, `share`
//!   (payload `url`, `title` as the caption). `is_deleted`: [`InboundItem::Removed`].
//! - `message` with `is_echo`, or sent by the Page itself: `echo`.
//! - `message_edit` (`mid`, `text`, `num_edit`): [`InboundItem::Edited`].
//! - `postback` with a button title: a message whose text is the title (the customer's tap
//!   is what they said); without a title: `postback`.
//! - `reaction` (react/unreact): `reaction`. `referral` without a
//!   message: `referral`. `optin` (plugin, user_ref, notification messages, one-time
//!   notification): `optin`. `read`: `read`. `delivery`: `delivery`.
//!   `pass_thread_control`, `take_thread_control`, `request_thread_control`, `app_roles`:
//!   `handover`. `account_linking`: `account_linking`. `policy-enforcement` (also spelt
//!   `policy_enforcement`): `policy_enforcement`.
//! - Any other event is unrecognized, naming its fields.
//!
//! # Salvage
//! A customer's message or comment with something odd in it is still a message. Its text is
//! kept; each thing that cannot be shown gets the placeholder of
//! [`buzon_connector::unsupported_placeholder`] after the text (an attachment of type
//! `fallback`, `template` or one buzon does not know, an attachment that is not an object or
//! has no type, `is_unsupported`, a message with no content buzon knows, a text or media field
//! of the wrong shape); and the part's JSON is kept in `raw` whenever something was odd:
//! those, an attachment without a usable payload, a field buzon does not know beside the
//! message's. A part fully understood has `raw: None`.
//!
//! Loose reading (see `wire`): ids as strings or numbers, times in seconds or milliseconds
//! (numbers or strings) or Graph's ISO times, flags as booleans, numbers or strings,
//! free-form payloads as any JSON, unknown items, verbs and attachment types kept as
//! `Other`, unknown fields ignored, every field optional until a part needs it.
//!
//! Reasons never quote message text or tokens; field names and platform values are cut to
//! 40 characters.

use crate::wire::{
    AttachmentKind, AttachmentPayload, Author, Change, Entry, Envelope, FeedItem, FeedValue,
    FeedVerb, FlexBool, FlexId, FlexTime, GraphList, GraphObject, Loose, LooseField, MessageEdit,
    MessagingEvent, MessengerAttachment, MessengerMessage, ReplyTo,
};
use buzon_connector::{
    unsupported_placeholder, ConnectorError, InboundItem, MessageKind, Part, PlatformMessage,
};
use buzon_core::{Attachment, ConversationKind, ExternalId, NewContact, Timestamp};
use serde_json::value::RawValue;
use serde_json::Value;

/// The poll endpoint name of the Page feed page.
pub(crate) const FEED_ENDPOINT: &str = "feed";
/// The prefix of the poll endpoint names of a post's comments (`comments:<post-id>`).
pub(crate) const COMMENTS_ENDPOINT_PREFIX: &str = "comments:";

/// Every kind of known no-message event this connector names, and where each comes from.
pub const KNOWN_EVENTS: &[&str] = &[
    // Messenger `message_echoes`: `message.is_echo`, or a message sent by the Page itself.
    ECHO,
    // Messenger `message_reads`: `read{watermark}`.
    READ,
    // Messenger `message_deliveries`: `delivery{mids,watermark}`.
    DELIVERY,
    // Page `feed`: a post, comment, share or event whose author is the Page.
    OWN_POST,
    // Page `feed` item `reaction`, or a `like` of a post or comment; Messenger
    // `message_reactions`: `reaction{reaction,emoji,action,mid}`.
    REACTION,
    // Messenger `messaging_postbacks`: `postback{title,payload}`, a button tap.
    POSTBACK,
    // Messenger `messaging_optins`: `optin{ref,user_ref}`, notification messages, one-time
    // notification requests.
    OPTIN,
    // Messenger `messaging_referrals`: `referral{ref,source,type}` with no message.
    REFERRAL,
    // Messenger `messaging_handovers`: `pass_thread_control`, `take_thread_control`,
    // `request_thread_control`, `app_roles`.
    HANDOVER,
    // Page `feed` item `like` with no post or comment (a like of the Page), or verb `follow`.
    LIKE,
    // Page `feed` item `share` by someone other than the Page.
    SHARE,
    // Page `ratings` items other than a review (comments on and likes of reviews), and the
    // `feed` item `rating`.
    RATING,
    // Page `feed` verbs `block`/`unblock` (restfb `feed-video-block.json`).
    BLOCK,
    // Page `feed` verbs `mute`/`unmute` (restfb `feed-video-mute.json`).
    MUTE,
    // Messenger `messaging_account_linking`: `account_linking{status}`.
    ACCOUNT_LINKING,
    // Messenger `messaging_policy_enforcement`: `policy-enforcement{action,reason}`.
    POLICY_ENFORCEMENT,
];

const ECHO: &str = "echo";
const READ: &str = "read";
const DELIVERY: &str = "delivery";
const OWN_POST: &str = "own_post";
const REACTION: &str = "reaction";
const POSTBACK: &str = "postback";
const OPTIN: &str = "optin";
const REFERRAL: &str = "referral";
const HANDOVER: &str = "handover";
const LIKE: &str = "like";
const SHARE: &str = "share";
const RATING: &str = "rating";
const BLOCK: &str = "block";
const MUTE: &str = "mute";
const ACCOUNT_LINKING: &str = "account_linking";
const POLICY_ENFORCEMENT: &str = "policy_enforcement";

/// The fields of a Messenger event besides the one that says what it is.
const EVENT_ENVELOPE_FIELDS: &[&str] = &["sender", "recipient", "timestamp"];

/// Messenger event fields that name a known no-message event, in the order they are tried.
const KNOWN_EVENT_FIELDS: &[(&str, &str)] = &[
    ("reaction", REACTION),
    ("postback", POSTBACK),
    ("referral", REFERRAL),
    ("optin", OPTIN),
    ("read", READ),
    ("delivery", DELIVERY),
    ("pass_thread_control", HANDOVER),
    ("take_thread_control", HANDOVER),
    ("request_thread_control", HANDOVER),
    ("app_roles", HANDOVER),
    ("account_linking", ACCOUNT_LINKING),
    ("policy-enforcement", POLICY_ENFORCEMENT),
    ("policy_enforcement", POLICY_ENFORCEMENT),
];

/// Fields of a Messenger `message` that buzon reads or knows to be harmless: any other keeps
/// the part's raw JSON with the message.
const KNOWN_MESSAGE_FIELDS: &[&str] = &[
    "mid",
    "text",
    "quick_reply",
    "reply_to",
    "attachments",
    "is_echo",
    "is_deleted",
    "is_unsupported",
    "sticker_id",
    "app_id",
    "metadata",
    "seq",
    "referral",
    "nlp",
    "commands",
    "tags",
];

/// Fields of a `feed` change value that buzon reads or knows to be harmless (restfb's
/// fixtures and real captures): any other keeps the part's raw JSON with the message.
const KNOWN_FEED_FIELDS: &[&str] = &[
    "item",
    "verb",
    "comment_id",
    "post_id",
    "parent_id",
    "from",
    "sender_id",
    "sender_name",
    "message",
    "created_time",
    "photo",
    "photos",
    "video",
    "link",
    "published",
    "post",
    "is_hidden",
    "share_id",
    "photo_id",
    "video_id",
    "story",
    "reaction_type",
    "message_tags",
    "recipient_id",
    "edited_time",
];

/// Parses a verified webhook delivery into its parts.
pub(crate) fn webhook(body: &[u8]) -> Result<Vec<Part>, ConnectorError> {
    let envelope: Envelope<'_> = serde_json::from_slice(body).map_err(|err| payload_error(&err))?;
    match &envelope.object {
        Some(Value::String(object)) if object == "page" => {}
        Some(Value::String(object)) => {
            return Err(ConnectorError::Payload(format!(
                "expected a Page webhook (object \"page\"), got object {:?}",
                shorten(object)
            )))
        }
        _ => {
            return Err(ConnectorError::Payload(
                "expected a Page webhook (object \"page\"), got a body without an object name"
                    .to_owned(),
            ))
        }
    }
    let entries: Vec<&RawValue> = envelope
        .entry
        .and_then(|entries| serde_json::from_str(entries.get()).ok())
        .ok_or_else(|| {
            ConnectorError::Payload("a Page webhook without a list of entries".to_owned())
        })?;
    let mut parts = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        entry_parts(&mut parts, index, entry);
    }
    Ok(parts)
}

/// The parts of `entry[index]`.
fn entry_parts(parts: &mut Vec<Part>, index: usize, raw: &RawValue) {
    let path = format!("entry[{index}]");
    let Ok(entry) = serde_json::from_str::<Entry<'_>>(raw.get()) else {
        parts.push(Part::new(
            path,
            unrecognized(None, "an entry that is not an object"),
        ));
        return;
    };
    let Some(account) = entry
        .id
        .known()
        .and_then(|FlexId(id)| ExternalId::parse(id).ok())
    else {
        parts.push(Part::new(
            path,
            unrecognized(None, "an entry without a valid Page id"),
        ));
        return;
    };
    let entry_time = entry.time.known().map(|FlexTime(time)| time);
    let lists = [
        ("changes", entry.changes),
        ("messaging", entry.messaging),
        ("standby", entry.standby),
    ];
    let mut any = false;
    for (name, list) in lists {
        let Some(list) = list.filter(|list| list.get() != "null") else {
            continue;
        };
        any = true;
        let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(list.get()) else {
            parts.push(Part::new(
                format!("{path}.{name}"),
                unrecognized(Some(&account), format!("`{name}` is not a list")),
            ));
            continue;
        };
        for (item_index, item) in items.into_iter().enumerate() {
            let outcome = if name == "changes" {
                change(&account, entry_time, item.get())
            } else {
                messaging_event(&account, entry_time, item.get())
            };
            let item = outcome.unwrap_or_else(|reason| unrecognized(Some(&account), reason));
            parts.push(Part::new(format!("{path}.{name}[{item_index}]"), item));
        }
    }
    if !any {
        parts.push(Part::new(
            path,
            unrecognized(
                Some(&account),
                "an entry with none of changes, messaging or standby",
            ),
        ));
    }
}

/// Parses a page the poller fetched from `endpoint` for the Page `account`.
pub(crate) fn polled(
    endpoint: &str,
    account: &ExternalId,
    body: &[u8],
) -> Result<Vec<Part>, ConnectorError> {
    if let Some(parts) = crate::listening::polled(account, endpoint, body) {
        return parts.map_err(ConnectorError::Payload);
    }
    let kind = if endpoint == FEED_ENDPOINT {
        MessageKind::Post
    } else if endpoint.starts_with(COMMENTS_ENDPOINT_PREFIX) {
        MessageKind::Comment
    } else {
        return Err(ConnectorError::Payload(format!(
            "unknown Facebook poll endpoint {:?}",
            shorten(endpoint)
        )));
    };
    let list: GraphList<&RawValue> =
        serde_json::from_slice(body).map_err(|err| payload_error(&err))?;
    Ok(list
        .data
        .into_iter()
        .enumerate()
        .map(|(index, object)| {
            let item = serde_json::from_str::<GraphObject>(object.get())
                .map_err(|_| "a Graph object that is not an object".to_owned())
                .and_then(|parsed| graph_object(account, kind, parsed, object.get()))
                .unwrap_or_else(|reason| unrecognized(Some(account), reason));
            Part::new(format!("data[{index}]"), item)
        })
        .collect())
}

// ---- feed ---------------------------------------------------------------------------------

/// One `changes[]` item.
fn change(
    account: &ExternalId,
    entry_time: Option<Timestamp>,
    raw: &str,
) -> Result<InboundItem, String> {
    let change: Change =
        serde_json::from_str(raw).map_err(|_| "a change that is not an object".to_owned())?;
    let field = change
        .field
        .known()
        .ok_or_else(|| "a change without a field name".to_owned())?;
    match field.as_str() {
        "feed" => feed_change(account, entry_time, change.value, raw),
        "ratings" => crate::listening::rating_change(account, entry_time, change.value.as_ref()),
        "mention" => crate::listening::mention_change(account, change.value.as_ref()),
        other => Err(format!(
            "a change of the field {:?}, which buzon does not handle",
            shorten(other)
        )),
    }
}

/// The `value` of a `feed` change.
fn feed_change(
    account: &ExternalId,
    entry_time: Option<Timestamp>,
    value: Option<Value>,
    raw: &str,
) -> Result<InboundItem, String> {
    let value = value
        .filter(Value::is_object)
        .ok_or_else(|| "a feed change whose value is not an object".to_owned())?;
    let value: FeedValue = serde_json::from_value(value)
        .map_err(|_| "a feed change with an unexpected shape".to_owned())?;
    let item = value
        .item
        .known_ref()
        .cloned()
        .ok_or_else(|| "a feed change without an item".to_owned())?;
    let verb = value.verb.known_ref().cloned();
    let author = feed_author(&value);
    let own = author
        .as_ref()
        .is_some_and(|author| author.platform_id == *account);
    match verb {
        Some(FeedVerb::Block) => return Ok(known(account, BLOCK)),
        Some(FeedVerb::Mute) => return Ok(known(account, MUTE)),
        Some(FeedVerb::Follow) => return Ok(known(account, LIKE)),
        _ => {}
    }
    let kind = match &item {
        FeedItem::Comment => MessageKind::Comment,
        FeedItem::Post | FeedItem::Status | FeedItem::Photo | FeedItem::Video => MessageKind::Post,
        FeedItem::Reaction => return Ok(known(account, REACTION)),
        FeedItem::Like => {
            let on_content = value.post_id.is_some() || value.comment_id.is_some();
            return Ok(known(account, if on_content { REACTION } else { LIKE }));
        }
        FeedItem::Rating => return Ok(known(account, RATING)),
        FeedItem::Share => return Ok(known(account, if own { OWN_POST } else { SHARE })),
        FeedItem::PageObject if own || author.is_none() => return Ok(known(account, OWN_POST)),
        FeedItem::Other(_) if own => return Ok(known(account, OWN_POST)),
        FeedItem::PageObject | FeedItem::Other(_) => {
            return Err(format!(
                "the feed item {:?} is not handled",
                shorten(&item_name(&item, raw))
            ))
        }
    };
    let noun = if kind == MessageKind::Comment {
        "comment"
    } else {
        "post"
    };
    let platform_id = match kind {
        MessageKind::Comment => value.comment_id.known_ref(),
        _ => value.post_id.known_ref(),
    }
    .and_then(|FlexId(id)| ExternalId::parse(id.as_str()).ok())
    .ok_or_else(|| format!("a feed {noun} without a valid id"))?;
    match verb {
        Some(FeedVerb::Add | FeedVerb::Edited) => {}
        Some(FeedVerb::Remove) => {
            return Ok(InboundItem::Removed {
                account: account.clone(),
                platform_id,
            })
        }
        Some(verb @ (FeedVerb::Hide | FeedVerb::Unhide)) => {
            return Ok(InboundItem::Hidden {
                account: account.clone(),
                platform_id,
                hidden: verb == FeedVerb::Hide,
            })
        }
        Some(other) => {
            return Err(format!(
                "the feed verb {:?} on a {noun} is not handled",
                verb_name(&other)
            ))
        }
        None => return Err(format!("a feed {noun} without a verb")),
    }
    // Only new and edited content is checked for the Page's own authorship: those are our
    // replies echoing back. A remove or hide from the Page is the Page moderating, and it
    // must still retract or hide the stored message.
    let author = author.ok_or_else(|| format!("a feed {noun} without an author"))?;
    if own {
        return Ok(known(account, OWN_POST));
    }
    let created_at = value
        .created_time
        .known_ref()
        .map(|FlexTime(time)| *time)
        .or(entry_time)
        .ok_or_else(|| format!("a feed {noun} without a time"))?;
    let (thread_key, in_reply_to) = match kind {
        MessageKind::Comment => {
            let post_id = value.post_id.known_ref().map(|FlexId(id)| id.as_str());
            let parent_id = value.parent_id.known_ref().map(|FlexId(id)| id.clone());
            comment_thread(&platform_id, parent_id, post_id)
        }
        _ => (format!("post:{platform_id}"), None),
    };
    let mut content = Content::default();
    content.text_field(value.message);
    if kind == MessageKind::Comment {
        content.url_field("image", "photo", value.photo);
        content.url_field("video", "video", value.video);
    } else {
        if matches!(item, FeedItem::Photo | FeedItem::Video) {
            let media = if item == FeedItem::Photo {
                "image"
            } else {
                "video"
            };
            content.url_field(media, "link", value.link);
        }
        match value.photos {
            Some(Loose::Known(photos)) => {
                for photo in photos {
                    content.url_field("image", "photos", Some(photo));
                }
            }
            photos if photos.is_odd() => content.unsupported("attachment", "photos"),
            _ => {}
        }
    }
    if value
        .others
        .keys()
        .any(|key| !KNOWN_FEED_FIELDS.contains(&key.as_str()))
    {
        content.odd = true;
    }
    let message = PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key,
        conversation: ConversationKind::Comment,
        kind,
        author,
        text: content.text(),
        raw: content.raw(raw),
        attachments: content.attachments,
        created_at,
        in_reply_to,
        found_by: None,
    };
    Ok(if verb == Some(FeedVerb::Add) {
        InboundItem::Message(message)
    } else {
        InboundItem::Edited(message)
    })
}

/// The verb's name, for a reason.
fn verb_name(verb: &FeedVerb) -> String {
    match verb {
        FeedVerb::Add => "add".to_owned(),
        FeedVerb::Edited => "edited".to_owned(),
        FeedVerb::Remove => "remove".to_owned(),
        FeedVerb::Hide => "hide".to_owned(),
        FeedVerb::Unhide => "unhide".to_owned(),
        FeedVerb::Block => "block".to_owned(),
        FeedVerb::Mute => "mute".to_owned(),
        FeedVerb::Follow => "follow".to_owned(),
        FeedVerb::Update => "update".to_owned(),
        FeedVerb::Other(other) => shorten(other),
    }
}

/// The item's name as it came, for a reason.
fn item_name(item: &FeedItem, raw: &str) -> String {
    match item {
        FeedItem::Other(name) => name.clone(),
        _ => serde_json::from_str::<Value>(raw)
            .ok()
            .and_then(|change| change["value"]["item"].as_str().map(str::to_owned))
            .unwrap_or_default(),
    }
}

/// `from{id,name}`, else the legacy `sender_id`/`sender_name`.
fn feed_author(value: &FeedValue) -> Option<NewContact> {
    if let Some(from) = value.from.known_ref() {
        if let Some(author) = contact(from) {
            return Some(author);
        }
    }
    let FlexId(id) = value.sender_id.known_ref()?;
    Some(NewContact {
        platform_id: ExternalId::parse(id.as_str()).ok()?,
        name: value
            .sender_name
            .known_ref()
            .filter(|name| !name.is_empty())
            .cloned(),
        handle: None,
    })
}

/// The thread of a comment: its own for a top-level comment (no parent, or the post as the
/// parent), its parent's for a reply.
fn comment_thread(
    comment_id: &ExternalId,
    parent_id: Option<String>,
    post_id: Option<&str>,
) -> (String, Option<ExternalId>) {
    match parent_id.and_then(|parent| ExternalId::parse(parent).ok()) {
        Some(parent) if Some(parent.as_str()) != post_id => {
            (format!("comment:{parent}"), Some(parent))
        }
        _ => (format!("comment:{comment_id}"), None),
    }
}

// ---- Messenger ----------------------------------------------------------------------------

/// One `messaging[]` or `standby[]` event.
fn messaging_event(
    account: &ExternalId,
    entry_time: Option<Timestamp>,
    raw: &str,
) -> Result<InboundItem, String> {
    let event: MessagingEvent = serde_json::from_str(raw)
        .map_err(|_| "a messaging event that is not an object".to_owned())?;
    let sender = event
        .sender
        .known_ref()
        .and_then(|party| ExternalId::parse(party.id.0.as_str()).ok());
    let time = event
        .timestamp
        .known_ref()
        .map(|FlexTime(time)| *time)
        .or(entry_time);
    if let Some(message) = event.rest.get("message").filter(|value| !value.is_null()) {
        return messenger_message(account, sender, time, message, raw);
    }
    if let Some(edit) = event
        .rest
        .get("message_edit")
        .filter(|value| !value.is_null())
    {
        return message_edit(account, sender, time, edit, raw);
    }
    if let Some(tapped) = event
        .rest
        .get("postback")
        .and_then(|postback| postback_message(account, sender.as_ref(), time, postback))
    {
        return tapped;
    }
    if let Some((_, kind)) = KNOWN_EVENT_FIELDS
        .iter()
        .find(|(field, _)| event.rest.get(*field).is_some_and(|value| !value.is_null()))
    {
        return Ok(known(account, kind));
    }
    let fields: Vec<String> = event
        .rest
        .keys()
        .filter(|key| !EVENT_ENVELOPE_FIELDS.contains(&key.as_str()))
        .take(5)
        .map(|key| shorten(key))
        .collect();
    Err(if fields.is_empty() {
        "a messaging event with no fields besides sender, recipient and timestamp".to_owned()
    } else {
        format!(
            "a messaging event with none of the fields buzon knows: {}",
            fields.join(", ")
        )
    })
}

/// A `message` event: the customer's message, its echo, or its deletion.
fn messenger_message(
    account: &ExternalId,
    sender: Option<ExternalId>,
    time: Option<Timestamp>,
    message: &Value,
    raw: &str,
) -> Result<InboundItem, String> {
    if !message.is_object() {
        return Err("a Messenger message that is not an object".to_owned());
    }
    let message: MessengerMessage = serde_json::from_value(message.clone())
        .map_err(|_| "a Messenger message with an unexpected shape".to_owned())?;
    if flag(&message.is_echo) || sender.as_ref() == Some(account) {
        return Ok(known(account, ECHO));
    }
    let sender = sender.ok_or_else(|| "a Messenger message without a sender".to_owned())?;
    let platform_id = message
        .mid
        .known_ref()
        .and_then(|FlexId(mid)| ExternalId::parse(mid.as_str()).ok())
        .ok_or_else(|| "a Messenger message without a mid".to_owned())?;
    if flag(&message.is_deleted) {
        return Ok(InboundItem::Removed {
            account: account.clone(),
            platform_id,
        });
    }
    let created_at = time.ok_or_else(|| "a Messenger message without a timestamp".to_owned())?;
    let mut content = Content::default();
    content.text_field(message.text);
    let sticker = message.sticker_id.as_ref().is_some_and(|id| !id.is_null());
    match message.attachments {
        Some(Loose::Known(attachments)) => {
            for attachment in &attachments {
                content.messenger_attachment(attachment, sticker);
            }
        }
        attachments if attachments.is_odd() => content.unsupported("attachment", "attachments"),
        _ => {}
    }
    if flag(&message.is_unsupported) {
        content.unsupported("message", "unsupported");
    }
    let unknown_field = message
        .others
        .keys()
        .find(|key| !KNOWN_MESSAGE_FIELDS.contains(&key.as_str()))
        .cloned();
    if unknown_field.is_some() || message.is_deleted.is_odd() || message.is_echo.is_odd() {
        content.odd = true;
    }
    if content.is_empty() {
        // Nothing buzon can show: say what it was, if a field tells.
        let what = unknown_field.map_or_else(|| "empty".to_owned(), |field| shorten(&field));
        content.unsupported("message", &what);
    }
    let in_reply_to = match message.reply_to {
        Some(Loose::Known(ReplyTo { mid })) => {
            if mid.is_odd() {
                content.odd = true;
            }
            mid.known()
                .and_then(|FlexId(mid)| ExternalId::parse(mid).ok())
        }
        reply_to => {
            if reply_to.is_odd() {
                content.odd = true;
            }
            None
        }
    };
    Ok(InboundItem::Message(PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key: format!("messenger:{sender}"),
        conversation: ConversationKind::Messenger,
        kind: MessageKind::Direct,
        author: NewContact {
            platform_id: sender,
            name: None,
            handle: None,
        },
        text: content.text(),
        raw: content.raw(raw),
        attachments: content.attachments,
        created_at,
        in_reply_to,
        found_by: None,
    }))
}

/// A `postback` whose button has a title: the customer tapped "Get Started", a persistent menu
/// item or a button, and the tap is what they said, so it reaches the inbox as their message
/// (buzon runs no bot that would answer it). Its id is the postback's `mid`, or one made of
/// the sender and the time when an older delivery has none. A postback with no title stays
/// the known event `postback`; a titled one that cannot be stored (no sender id, no time) is
/// unrecognized, so that its words are kept.
fn postback_message(
    account: &ExternalId,
    sender: Option<&ExternalId>,
    time: Option<Timestamp>,
    postback: &Value,
) -> Option<Result<InboundItem, String>> {
    let title = match postback.get("title")? {
        Value::String(title) if !title.trim().is_empty() => title.trim(),
        _ => return None,
    };
    if sender == Some(account) {
        return None;
    }
    // A tap with words that cannot be stored is kept, not taken for a bare postback.
    let Some(sender) = sender else {
        return Some(Err("a titled postback without a sender id".to_owned()));
    };
    let Some(created_at) = time else {
        return Some(Err("a titled postback without a timestamp".to_owned()));
    };
    let platform_id = match postback.get("mid") {
        Some(Value::String(mid)) => ExternalId::parse(mid).ok(),
        _ => None,
    }
    .or_else(|| ExternalId::parse(format!("postback:{sender}:{}", created_at.as_millis())).ok());
    let Some(platform_id) = platform_id else {
        return Some(Err("a titled postback without a usable id".to_owned()));
    };
    Some(Ok(InboundItem::Message(PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key: format!("messenger:{sender}"),
        conversation: ConversationKind::Messenger,
        kind: MessageKind::Direct,
        author: NewContact {
            platform_id: sender.clone(),
            name: None,
            handle: None,
        },
        text: title.to_owned(),
        attachments: Vec::new(),
        created_at,
        in_reply_to: None,
        raw: None,
        found_by: None,
    })))
}

/// A `message_edit` event: the customer changed the text of an earlier message.
fn message_edit(
    account: &ExternalId,
    sender: Option<ExternalId>,
    time: Option<Timestamp>,
    edit: &Value,
    raw: &str,
) -> Result<InboundItem, String> {
    if sender.as_ref() == Some(account) {
        return Ok(known(account, ECHO));
    }
    let edit: MessageEdit = serde_json::from_value(edit.clone())
        .map_err(|_| "a Messenger message edit that is not an object".to_owned())?;
    let sender = sender.ok_or_else(|| "a Messenger message edit without a sender".to_owned())?;
    let platform_id = edit
        .mid
        .known()
        .and_then(|FlexId(mid)| ExternalId::parse(mid).ok())
        .ok_or_else(|| "a Messenger message edit without a mid".to_owned())?;
    let created_at =
        time.ok_or_else(|| "a Messenger message edit without a timestamp".to_owned())?;
    let mut content = Content::default();
    content.text_field(edit.text);
    Ok(InboundItem::Edited(PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key: format!("messenger:{sender}"),
        conversation: ConversationKind::Messenger,
        kind: MessageKind::Direct,
        author: NewContact {
            platform_id: sender,
            name: None,
            handle: None,
        },
        text: content.text(),
        raw: content.raw(raw),
        attachments: content.attachments,
        created_at,
        in_reply_to: None,
        found_by: None,
    }))
}

fn flag(field: &Option<Loose<FlexBool>>) -> bool {
    field.known_ref().is_some_and(|FlexBool(flag)| *flag)
}

// ---- polled pages -------------------------------------------------------------------------

/// One post or comment of a polled Graph page.
fn graph_object(
    account: &ExternalId,
    kind: MessageKind,
    object: GraphObject,
    raw: &str,
) -> Result<InboundItem, String> {
    let noun = if kind == MessageKind::Comment {
        "comment"
    } else {
        "post"
    };
    let platform_id = object
        .id
        .known()
        .and_then(|FlexId(id)| ExternalId::parse(id).ok())
        .ok_or_else(|| format!("a {noun} without a valid id"))?;
    let author = object
        .from
        .known_ref()
        .and_then(contact)
        .ok_or_else(|| format!("a {noun} without an author"))?;
    if author.platform_id == *account {
        return Ok(known(account, OWN_POST));
    }
    let created_at = object
        .created_time
        .known()
        .map(|FlexTime(time)| time)
        .ok_or_else(|| format!("a {noun} without a valid time"))?;
    let (thread_key, in_reply_to) = match kind {
        MessageKind::Comment => {
            let parent = object.parent.known().map(|parent| parent.id.0);
            comment_thread(&platform_id, parent, None)
        }
        _ => (format!("post:{platform_id}"), None),
    };
    let mut content = Content::default();
    content.text_field(object.message);
    Ok(InboundItem::Message(PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key,
        conversation: ConversationKind::Comment,
        kind,
        author,
        text: content.text(),
        raw: content.raw(raw),
        attachments: content.attachments,
        created_at,
        in_reply_to,
        found_by: None,
    }))
}

// ---- shared -------------------------------------------------------------------------------

/// What a message shows: its text, its attachments, placeholders for what cannot be shown,
/// and whether anything was odd (then the part's raw JSON is kept).
#[derive(Default)]
struct Content {
    text: String,
    placeholders: Vec<String>,
    attachments: Vec<Attachment>,
    odd: bool,
}

impl Content {
    /// The text field: a string, or (odd) a number or flag as written, or a placeholder.
    fn text_field(&mut self, text: Option<Loose<String>>) {
        match text {
            Some(Loose::Known(text)) => self.text = text,
            Some(Loose::Odd(Value::Null)) | None => {}
            Some(Loose::Odd(value @ (Value::Number(_) | Value::Bool(_)))) => {
                self.odd = true;
                self.text = value.to_string();
            }
            Some(Loose::Odd(_)) => self.unsupported("message", "text"),
        }
    }

    /// A field holding a media URL: an attachment of `kind`, or a placeholder when it is not
    /// a string.
    fn url_field(&mut self, kind: &str, field: &str, url: Option<Loose<String>>) {
        match url {
            Some(Loose::Known(url)) if !url.trim().is_empty() => {
                self.attachments.push(attachment(kind, Some(url), None));
            }
            Some(Loose::Known(_)) => {
                self.odd = true;
                self.attachments.push(attachment(kind, None, None));
            }
            Some(Loose::Odd(Value::Null)) | None => {}
            Some(Loose::Odd(_)) => self.unsupported("attachment", field),
        }
    }

    /// One of `message.attachments[]`.
    fn messenger_attachment(&mut self, value: &Value, sticker: bool) {
        let Ok(parsed) = serde_json::from_value::<MessengerAttachment>(value.clone()) else {
            self.unsupported("attachment", "unknown");
            return;
        };
        let payload = match &parsed.payload {
            Some(payload @ Value::Object(_)) => {
                serde_json::from_value::<AttachmentPayload>(payload.clone()).ok()
            }
            _ => None,
        };
        let payload_is_object = payload.is_some();
        // The URL: the payload's, else a payload that is a URL itself, else the attachment's.
        let url = payload
            .as_ref()
            .and_then(|payload| payload.url.known_ref().cloned())
            .or_else(|| match &parsed.payload {
                Some(Value::String(text)) if looks_like_url(text) => Some(text.clone()),
                _ => None,
            })
            .or_else(|| parsed.url.known_ref().cloned())
            .filter(|url| !url.trim().is_empty());
        let title = payload
            .as_ref()
            .and_then(|payload| payload.title.known_ref().cloned())
            .or_else(|| parsed.title.known_ref().cloned())
            .filter(|title| !title.trim().is_empty());
        let kind = match parsed.kind {
            Some(Loose::Known(kind)) => kind,
            Some(Loose::Odd(Value::Null)) | None => {
                self.odd = true;
                match url {
                    Some(url) => self.attachments.push(attachment("file", Some(url), None)),
                    None => self.unsupported("attachment", "unknown"),
                }
                return;
            }
            Some(Loose::Odd(_)) => {
                self.unsupported("attachment", "unknown");
                return;
            }
        };
        let name = match &kind {
            AttachmentKind::Image => {
                let is_sticker = sticker
                    || payload
                        .as_ref()
                        .is_some_and(|payload| payload.sticker_id.is_some());
                if is_sticker {
                    "sticker"
                } else {
                    "image"
                }
            }
            AttachmentKind::Video => "video",
            AttachmentKind::Audio => "audio",
            AttachmentKind::File => "file",
            AttachmentKind::Reel => "reel",
            AttachmentKind::IgReel => "ig_reel",
            AttachmentKind::StoryMention => "story_mention",
            AttachmentKind::Share => "share",
            AttachmentKind::Location => {
                let coordinates = payload
                    .as_ref()
                    .and_then(|payload| payload.coordinates.known_ref());
                match coordinates {
                    Some(coordinates) => self.attachments.push(attachment(
                        "location",
                        Some(format!("geo:{},{}", coordinates.lat, coordinates.long)),
                        title,
                    )),
                    None => {
                        self.odd = true;
                        self.attachments.push(attachment("location", url, title));
                    }
                }
                return;
            }
            AttachmentKind::Fallback => {
                self.unsupported("attachment", "fallback");
                return;
            }
            AttachmentKind::Template => {
                self.unsupported("attachment", "template");
                return;
            }
            AttachmentKind::Other(other) => {
                let other = if other.is_empty() {
                    "unknown".to_owned()
                } else {
                    shorten(other)
                };
                self.unsupported("attachment", &other);
                return;
            }
        };
        if url.is_none() || !payload_is_object {
            self.odd = true;
        }
        self.attachments.push(attachment(name, url, title));
    }

    /// Something that cannot be shown: a placeholder, and the raw part kept.
    fn unsupported(&mut self, what: &str, kind: &str) {
        self.odd = true;
        self.placeholders.push(unsupported_placeholder(what, kind));
    }

    fn is_empty(&self) -> bool {
        self.text.is_empty() && self.placeholders.is_empty() && self.attachments.is_empty()
    }

    /// The text, then the placeholders, joined with spaces.
    fn text(&self) -> String {
        let mut pieces: Vec<&str> = Vec::new();
        if !self.text.is_empty() {
            pieces.push(&self.text);
        }
        pieces.extend(self.placeholders.iter().map(String::as_str));
        pieces.join(" ")
    }

    /// The part's JSON as it arrived, when something in it was odd.
    fn raw(&self, raw: &str) -> Option<String> {
        self.odd.then(|| raw.to_owned())
    }
}

fn looks_like_url(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("https://") || text.starts_with("http://")
}

fn contact(author: &Author) -> Option<NewContact> {
    Some(NewContact {
        platform_id: ExternalId::parse(author.id.0.as_str()).ok()?,
        name: author
            .name
            .known_ref()
            .filter(|name| !name.is_empty())
            .cloned(),
        handle: None,
    })
}

fn attachment(kind: &str, url: Option<String>, caption: Option<String>) -> Attachment {
    Attachment {
        kind: kind.to_owned(),
        mime_type: None,
        media_id: None,
        url,
        filename: None,
        caption,
    }
}

fn known(account: &ExternalId, kind: &'static str) -> InboundItem {
    InboundItem::Known {
        account: Some(account.clone()),
        kind,
    }
}

fn unrecognized(account: Option<&ExternalId>, reason: impl Into<String>) -> InboundItem {
    InboundItem::Unrecognized {
        account: account.cloned(),
        reason: reason.into(),
    }
}

/// Says where a body stopped making sense without quoting it: serde's messages can carry
/// values from the body, which may be people's text.
fn payload_error(err: &serde_json::Error) -> ConnectorError {
    let what = match err.classify() {
        serde_json::error::Category::Data => "the body does not have the shape of a Graph payload",
        _ => "the body is not JSON",
    };
    ConnectorError::Payload(format!(
        "{what} (line {}, column {})",
        err.line(),
        err.column()
    ))
}

/// Platform-chosen names (items, fields, objects) cut short enough for the event log.
fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}
