//! From Meta's JSON to [`InboundItem`]s: Page webhooks (`feed` changes, Messenger events) and
//! the polled Graph pages. Pure: no network, no clock.

use crate::graph::parse_graph_time;
use crate::wire::{
    Author, Change, Envelope, FeedValue, FlexId, FlexInt, GraphList, GraphObject, MessagingEvent,
    MessengerMessage,
};
use buzon_connector::{ConnectorError, InboundItem, MessageKind, PlatformMessage};
use buzon_core::{Attachment, ConversationKind, ExternalId, NewContact, Timestamp};

/// The poll endpoint name of the Page feed page.
pub(crate) const FEED_ENDPOINT: &str = "feed";
/// The prefix of the poll endpoint names of a post's comments (`comments:<post-id>`).
pub(crate) const COMMENTS_ENDPOINT_PREFIX: &str = "comments:";

/// Parses a verified webhook delivery: every entry × `changes[]`, `messaging[]` and
/// `standby[]`.
pub(crate) fn webhook(body: &[u8]) -> Result<Vec<InboundItem>, ConnectorError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|err| payload_error(&err))?;
    if envelope.object != "page" {
        return Err(ConnectorError::Payload(format!(
            "expected a Page webhook (object \"page\"), got object {:?}",
            shorten(&envelope.object)
        )));
    }
    let mut items = Vec::new();
    for entry in envelope.entry {
        let account = match ExternalId::parse(entry.id.0) {
            Ok(account) => account,
            Err(_) => {
                items.push(ignored("an entry without a valid Page id"));
                continue;
            }
        };
        let entry_time = entry.time.map(|FlexInt(time)| seconds_or_millis(time));
        for change in entry.changes {
            items.push(feed_change(&account, entry_time, change).unwrap_or_else(ignored_owned));
        }
        for event in entry.messaging.into_iter().chain(entry.standby) {
            items.push(messaging_event(&account, event).unwrap_or_else(ignored_owned));
        }
    }
    Ok(items)
}

/// Parses a page the poller fetched from `endpoint` for the Page `account`.
pub(crate) fn polled(
    endpoint: &str,
    account: &ExternalId,
    body: &[u8],
) -> Result<Vec<InboundItem>, ConnectorError> {
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
    let list: GraphList<serde_json::Value> =
        serde_json::from_slice(body).map_err(|err| payload_error(&err))?;
    Ok(list
        .data
        .into_iter()
        .map(|object| {
            serde_json::from_value::<GraphObject>(object)
                .map_err(|_| "a Graph object without an id".to_owned())
                .and_then(|object| graph_object(account, kind, object))
                .unwrap_or_else(ignored_owned)
        })
        .collect())
}

/// One `feed` change.
fn feed_change(
    account: &ExternalId,
    entry_time: Option<Timestamp>,
    change: serde_json::Value,
) -> Result<InboundItem, String> {
    let change: Change =
        serde_json::from_value(change).map_err(|_| "a change that is not an object".to_owned())?;
    if change.field != "feed" {
        return Err(format!(
            "the {:?} field is not handled",
            shorten(&change.field)
        ));
    }
    let value: FeedValue = serde_json::from_value(change.value)
        .map_err(|_| "a feed change with an unexpected shape".to_owned())?;
    let item = value.item.as_deref().unwrap_or_default();
    let kind = match item {
        "comment" => MessageKind::Comment,
        "post" | "status" | "photo" | "video" => MessageKind::Post,
        "reaction" | "like" => return Err(format!("a {item} on the feed")),
        other => return Err(format!("the feed item {:?} is not handled", shorten(other))),
    };
    let noun = if kind == MessageKind::Comment {
        "comment"
    } else {
        "post"
    };
    let platform_id = match kind {
        MessageKind::Comment => value.comment_id.clone(),
        _ => value.post_id.clone(),
    }
    .and_then(|id| ExternalId::parse(id.0).ok())
    .ok_or_else(|| format!("a feed {noun} without a valid id"))?;
    let verb = value.verb.as_deref().unwrap_or_default();
    match verb {
        "add" | "edited" | "edit" => {}
        "remove" | "delete" => {
            return Ok(InboundItem::Removed {
                account: account.clone(),
                platform_id,
            })
        }
        "hide" | "unhide" => {
            return Ok(InboundItem::Hidden {
                account: account.clone(),
                platform_id,
                hidden: verb == "hide",
            })
        }
        other => {
            return Err(format!(
                "the feed verb {:?} on a {noun} is not handled",
                shorten(other)
            ))
        }
    }
    // Only new and edited content is checked for the Page's own authorship: those are our
    // replies echoing back. A remove or hide from the Page is the Page moderating, and it
    // must still retract or hide the stored message.
    let author = feed_author(&value).ok_or_else(|| format!("a feed {noun} without an author"))?;
    if author.platform_id == *account {
        return Err(format!("the Page's own {noun}"));
    }
    let created_at = value
        .created_time
        .map(|FlexInt(secs)| Timestamp::from_secs(secs))
        .or(entry_time)
        .ok_or_else(|| format!("a feed {noun} without a time"))?;
    let (thread_key, in_reply_to) = match kind {
        MessageKind::Comment => {
            let post_id = value.post_id.as_ref().map(|id| id.0.as_str());
            comment_thread(&platform_id, value.parent_id.map(|id| id.0), post_id)
        }
        _ => (format!("post:{platform_id}"), None),
    };
    let mut attachments = Vec::new();
    if kind == MessageKind::Comment {
        attachments.extend(value.photo.map(|url| url_attachment("image", url)));
        attachments.extend(value.video.map(|url| url_attachment("video", url)));
    } else if let Some(url) = value.link.filter(|_| item == "photo" || item == "video") {
        attachments.push(url_attachment(
            if item == "photo" { "image" } else { "video" },
            url,
        ));
    }
    let message = PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key,
        conversation: ConversationKind::Comment,
        kind,
        author,
        text: value.message.unwrap_or_default(),
        attachments,
        created_at,
        in_reply_to,
    };
    Ok(if verb == "add" {
        InboundItem::Message(message)
    } else {
        InboundItem::Edited(message)
    })
}

/// `from{id,name}`, else the legacy `sender_id`/`sender_name`.
fn feed_author(value: &FeedValue) -> Option<NewContact> {
    match &value.from {
        Some(from) => contact(from),
        None => Some(NewContact {
            platform_id: ExternalId::parse(value.sender_id.clone()?.0).ok()?,
            name: value.sender_name.clone().filter(|name| !name.is_empty()),
            handle: None,
        }),
    }
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

/// One `messaging[]` or `standby[]` event.
fn messaging_event(account: &ExternalId, event: serde_json::Value) -> Result<InboundItem, String> {
    let event: MessagingEvent = serde_json::from_value(event)
        .map_err(|_| "a Messenger event with an unexpected shape".to_owned())?;
    let Some(message) = event.message else {
        return Err(if event.read.is_some() {
            "a Messenger read receipt".to_owned()
        } else if event.delivery.is_some() {
            "a Messenger delivery receipt".to_owned()
        } else if event.postback.is_some() {
            "a Messenger postback".to_owned()
        } else if event.reaction.is_some() {
            "a Messenger reaction".to_owned()
        } else {
            "a Messenger event without a message".to_owned()
        });
    };
    let sender = event
        .sender
        .and_then(|sender| ExternalId::parse(sender.id.0).ok())
        .ok_or_else(|| "a Messenger message without a sender".to_owned())?;
    if message.is_echo || sender == *account {
        return Err("the Page's own Messenger message (echo)".to_owned());
    }
    let platform_id = message
        .mid
        .clone()
        .and_then(|mid| ExternalId::parse(mid.0).ok())
        .ok_or_else(|| "a Messenger message without a mid".to_owned())?;
    if message.is_deleted {
        return Ok(InboundItem::Removed {
            account: account.clone(),
            platform_id,
        });
    }
    let FlexInt(millis) = event
        .timestamp
        .ok_or_else(|| "a Messenger message without a timestamp".to_owned())?;
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
        text: messenger_text(&message),
        attachments: message
            .attachments
            .into_iter()
            .map(|attachment| Attachment {
                kind: attachment.kind.unwrap_or_else(|| "file".to_owned()),
                mime_type: None,
                media_id: None,
                url: attachment.payload.and_then(|payload| payload.url),
                filename: None,
                caption: None,
            })
            .collect(),
        created_at: Timestamp::from_millis(millis),
        in_reply_to: message
            .reply_to
            .and_then(|reply_to| reply_to.mid)
            .and_then(|FlexId(mid)| ExternalId::parse(mid).ok()),
    }))
}

fn messenger_text(message: &MessengerMessage) -> String {
    match &message.text {
        Some(text) => text.clone(),
        None if message.is_unsupported => "[unsupported message]".to_owned(),
        None => String::new(),
    }
}

/// One post or comment of a polled Graph page.
fn graph_object(
    account: &ExternalId,
    kind: MessageKind,
    object: GraphObject,
) -> Result<InboundItem, String> {
    let noun = if kind == MessageKind::Comment {
        "comment"
    } else {
        "post"
    };
    let platform_id =
        ExternalId::parse(object.id.0).map_err(|_| format!("a {noun} without a valid id"))?;
    let author = object
        .from
        .as_ref()
        .and_then(contact)
        .ok_or_else(|| format!("a {noun} without an author"))?;
    if author.platform_id == *account {
        return Err(format!("the Page's own {noun}"));
    }
    let created_at = object
        .created_time
        .as_deref()
        .and_then(parse_graph_time)
        .ok_or_else(|| format!("a {noun} without a valid time"))?;
    let (thread_key, in_reply_to) = match kind {
        MessageKind::Comment => {
            comment_thread(&platform_id, object.parent.map(|parent| parent.id.0), None)
        }
        _ => (format!("post:{platform_id}"), None),
    };
    Ok(InboundItem::Message(PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key,
        conversation: ConversationKind::Comment,
        kind,
        author,
        text: object.message.unwrap_or_default(),
        attachments: Vec::new(),
        created_at,
        in_reply_to,
    }))
}

fn contact(author: &Author) -> Option<NewContact> {
    Some(NewContact {
        platform_id: ExternalId::parse(author.id.0.clone()).ok()?,
        name: author.name.clone().filter(|name| !name.is_empty()),
        handle: None,
    })
}

fn url_attachment(kind: &str, url: String) -> Attachment {
    Attachment {
        kind: kind.to_owned(),
        mime_type: None,
        media_id: None,
        url: Some(url),
        filename: None,
        caption: None,
    }
}

/// Entry times are seconds in feed deliveries and milliseconds in Messenger ones.
fn seconds_or_millis(time: i64) -> Timestamp {
    if time > 100_000_000_000 {
        Timestamp::from_millis(time)
    } else {
        Timestamp::from_secs(time)
    }
}

fn ignored(reason: &str) -> InboundItem {
    ignored_owned(reason.to_owned())
}

fn ignored_owned(reason: String) -> InboundItem {
    InboundItem::Ignored { reason }
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
