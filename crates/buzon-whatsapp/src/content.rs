//! What a message says, whatever its type, and what could not be read of it (see the
//! `inbound` module for the rules).

use crate::inbound::{bounded, describe_errors, non_blank, readable, REACTION_REMOVED};
use crate::wire::{self, InteractiveType, Lenient, Loose, MessageType};
use buzon_connector::unsupported_placeholder;
use buzon_core::Attachment;
use serde_json::value::RawValue;

/// What could not be read or shown of one message: whether a field was odd, and the
/// placeholders to show for what could not be shown.
#[derive(Debug, Default)]
pub(crate) struct Salvage {
    odd: bool,
    placeholders: Vec<String>,
}

impl Salvage {
    /// The value of a loose field; an odd field is remembered.
    pub(crate) fn take<T>(&mut self, field: Loose<T>) -> Option<T> {
        match field {
            Loose::Ok(value) => Some(value),
            Loose::Absent => None,
            Loose::Odd => {
                self.odd = true;
                None
            }
        }
    }

    pub(crate) fn mark_odd(&mut self) {
        self.odd = true;
    }

    /// Adds `[<what> of an unsupported kind: <kind>]`, and `(<errors>)` after it when the
    /// platform said why.
    fn placeholder(&mut self, what: &str, kind: &str, errors: Option<String>) {
        let kind = if kind.trim().is_empty() {
            "none"
        } else {
            bounded(kind)
        };
        let mut placeholder = unsupported_placeholder(what, kind);
        if let Some(errors) = errors {
            placeholder.push_str(&format!(" ({errors})"));
        }
        self.placeholders.push(placeholder);
    }

    /// The message's text: what it carries first, then the placeholders, joined by spaces.
    pub(crate) fn text(&self, text: String) -> String {
        let mut words: Vec<&str> = Vec::new();
        if !text.trim().is_empty() {
            words.push(&text);
        }
        words.extend(self.placeholders.iter().map(String::as_str));
        if words.is_empty() {
            text
        } else {
            words.join(" ")
        }
    }

    /// The part's JSON as it arrived, when something in it was odd or could not be shown.
    pub(crate) fn raw(&self, raw: &RawValue) -> Option<String> {
        (self.odd || !self.placeholders.is_empty()).then(|| raw.get().to_owned())
    }
}

/// What a message says.
#[derive(Debug, Default)]
pub(crate) struct Content {
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// The message it refers to, when its type has one (a reaction's target).
    pub in_reply_to: Option<String>,
}

impl Content {
    fn text(text: String) -> Content {
        Content {
            text,
            ..Content::default()
        }
    }
}

/// The content of a message of type `kind` (inferred from the content objects present when
/// the type is missing or odd). `raw` is the part's JSON, read for the words of types buzon
/// does not know.
pub(crate) fn content_of(
    kind: Option<MessageType>,
    mut message: wire::Message,
    raw: &RawValue,
    salvage: &mut Salvage,
) -> Content {
    // The declared type's content object, or else the one the message carries.
    let kind = match kind {
        Some(kind) if has_content(&kind, &message) => Some(kind),
        declared => match infer_kind(&message) {
            Some(inferred) => {
                salvage.mark_odd();
                if let Some(MessageType::Other(name)) = &declared {
                    // What the unknown type adds to the content read cannot be shown.
                    let errors = describe_errors(&readable(std::mem::take(&mut message.errors)));
                    salvage.placeholder("message", name, errors);
                }
                Some(inferred)
            }
            None => declared,
        },
    };
    let Some(kind) = kind else {
        // No type and no content object buzon knows.
        let errors = describe_errors(&readable(message.errors));
        salvage.placeholder("message", "none", errors);
        return Content::default();
    };
    match kind {
        MessageType::Text => match text_of(message.text, salvage) {
            Some(text) => Content::text(text),
            None => missing(&kind, message.errors, salvage),
        },
        MessageType::Image => media_content(&kind, message.image, salvage),
        MessageType::Audio => media_content(&kind, message.audio, salvage),
        MessageType::Video => media_content(&kind, message.video, salvage),
        MessageType::Document => media_content(&kind, message.document, salvage),
        MessageType::Sticker => media_content(&kind, message.sticker, salvage),
        MessageType::Location => match salvage.take(message.location) {
            Some(location) => location_content(location, salvage),
            None => missing(&kind, message.errors, salvage),
        },
        MessageType::Contacts => contacts_content(message.contacts, salvage)
            .unwrap_or_else(|| missing(&kind, message.errors, salvage)),
        MessageType::Reaction => match salvage.take(message.reaction) {
            Some(reaction) => reaction_content(reaction, salvage),
            None => missing(&kind, message.errors, salvage),
        },
        MessageType::Button => match salvage.take(message.button).and_then(|button| {
            let text = non_blank(salvage.take(button.text));
            text.or_else(|| match salvage.take(button.payload) {
                Some(serde_json::Value::String(payload)) => non_blank(Some(payload)),
                Some(serde_json::Value::Null) | None => None,
                Some(payload) => Some(payload.to_string()),
            })
        }) {
            Some(text) => Content::text(text),
            None => missing(&kind, message.errors, salvage),
        },
        MessageType::Interactive => match salvage.take(message.interactive) {
            Some(interactive) => Content::text(interactive_text(interactive, salvage)),
            None => missing(&kind, message.errors, salvage),
        },
        MessageType::Order => match salvage.take(message.order) {
            Some(order) => Content::text(order_text(order, salvage)),
            None => missing(&kind, message.errors, salvage),
        },
        MessageType::Unsupported
        | MessageType::System
        | MessageType::RequestWelcome
        | MessageType::Edit
        | MessageType::Revoke => missing(&kind, message.errors, salvage),
        MessageType::Other(ref name) => {
            // A type buzon does not know: keep any words it carries, then the placeholder.
            let mut words: Vec<String> = Vec::new();
            words.extend(text_of(message.text, salvage));
            words.extend(words_of_other(raw, name));
            let errors = describe_errors(&readable(message.errors));
            salvage.placeholder("message", name, errors);
            Content::text(words.join(" "))
        }
    }
}

/// A message of a known type whose content could not be read: only the placeholder.
fn missing(
    kind: &MessageType,
    errors: wire::LooseList<wire::GraphErrorItem>,
    salvage: &mut Salvage,
) -> Content {
    let errors = describe_errors(&readable(errors));
    salvage.placeholder("message", kind.name(), errors);
    Content::default()
}

/// Whether the message carries a readable content object for `kind`.
fn has_content(kind: &MessageType, message: &wire::Message) -> bool {
    match kind {
        MessageType::Text => matches!(message.text, Loose::Ok(_)),
        MessageType::Image => matches!(message.image, Loose::Ok(_)),
        MessageType::Audio => matches!(message.audio, Loose::Ok(_)),
        MessageType::Video => matches!(message.video, Loose::Ok(_)),
        MessageType::Document => matches!(message.document, Loose::Ok(_)),
        MessageType::Sticker => matches!(message.sticker, Loose::Ok(_)),
        MessageType::Location => matches!(message.location, Loose::Ok(_)),
        MessageType::Contacts => matches!(message.contacts, Loose::Ok(_)),
        MessageType::Reaction => matches!(message.reaction, Loose::Ok(_)),
        MessageType::Button => matches!(message.button, Loose::Ok(_)),
        MessageType::Interactive => matches!(message.interactive, Loose::Ok(_)),
        MessageType::Order => matches!(message.order, Loose::Ok(_)),
        // These have no content object of their own to show, or none buzon knows.
        MessageType::Unsupported
        | MessageType::System
        | MessageType::RequestWelcome
        | MessageType::Edit
        | MessageType::Revoke
        | MessageType::Other(_) => false,
    }
}

/// The type a message has by the content object it carries, for a message whose `type` is
/// missing, odd, unknown, or names an object the message does not carry.
fn infer_kind(message: &wire::Message) -> Option<MessageType> {
    [
        (matches!(message.text, Loose::Ok(_)), MessageType::Text),
        (matches!(message.image, Loose::Ok(_)), MessageType::Image),
        (matches!(message.video, Loose::Ok(_)), MessageType::Video),
        (matches!(message.audio, Loose::Ok(_)), MessageType::Audio),
        (
            matches!(message.document, Loose::Ok(_)),
            MessageType::Document,
        ),
        (
            matches!(message.sticker, Loose::Ok(_)),
            MessageType::Sticker,
        ),
        (
            matches!(message.location, Loose::Ok(_)),
            MessageType::Location,
        ),
        (
            matches!(message.contacts, Loose::Ok(_)),
            MessageType::Contacts,
        ),
        (
            matches!(message.reaction, Loose::Ok(_)),
            MessageType::Reaction,
        ),
        (matches!(message.button, Loose::Ok(_)), MessageType::Button),
        (
            matches!(message.interactive, Loose::Ok(_)),
            MessageType::Interactive,
        ),
        (matches!(message.order, Loose::Ok(_)), MessageType::Order),
    ]
    .into_iter()
    .find_map(|(present, kind)| present.then_some(kind))
}

/// A text body: `{"body": …}` or a bare string.
fn text_of(text: Loose<wire::TextBody>, salvage: &mut Salvage) -> Option<String> {
    let text = match salvage.take(text)? {
        wire::TextBody::Bare(text) => Some(text),
        wire::TextBody::Object { body } => salvage.take(body).map(Lenient::into_string),
    };
    non_blank(text)
}

/// The words of a message of a type buzon does not know: `<type>.body`, `.caption` or
/// `.text` when its object has them as strings.
fn words_of_other(raw: &RawValue, kind: &str) -> Option<String> {
    let message: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
    let object = message.get(kind)?;
    ["body", "caption", "text"]
        .into_iter()
        .find_map(|key| object.get(key)?.as_str().map(str::to_owned))
        .filter(|words| !words.trim().is_empty())
}

fn media_content(kind: &MessageType, media: Loose<wire::Media>, salvage: &mut Salvage) -> Content {
    let Some(media) = salvage.take(media) else {
        salvage.placeholder("attachment", kind.name(), None);
        return Content::default();
    };
    let caption = non_blank(salvage.take(media.caption));
    let media_id = non_blank(salvage.take(media.id).map(Lenient::into_string));
    let url = non_blank(salvage.take(media.url));
    let mut content = Content::text(caption.clone().unwrap_or_default());
    if media_id.is_none() && url.is_none() {
        // Nothing to fetch it by: it cannot be shown.
        salvage.placeholder("attachment", kind.name(), None);
        return content;
    }
    content.attachments.push(Attachment {
        kind: kind.name().to_owned(),
        mime_type: non_blank(salvage.take(media.mime_type)),
        media_id,
        url,
        filename: non_blank(salvage.take(media.filename)),
        caption,
    });
    content
}

fn location_content(location: wire::Location, salvage: &mut Salvage) -> Content {
    let latitude = non_blank(salvage.take(location.latitude).map(Lenient::into_string));
    let longitude = non_blank(salvage.take(location.longitude).map(Lenient::into_string));
    let coordinates = match (&latitude, &longitude) {
        (Some(latitude), Some(longitude)) => Some((latitude.clone(), longitude.clone())),
        _ => None,
    };
    let mut parts = vec!["📍".to_owned()];
    parts.extend(non_blank(salvage.take(location.name)));
    parts.extend(non_blank(salvage.take(location.address)));
    if let Some((latitude, longitude)) = &coordinates {
        parts.push(format!("({latitude}, {longitude})"));
    }
    let url = non_blank(salvage.take(location.url))
        .or_else(|| coordinates.map(|(latitude, longitude)| format!("geo:{latitude},{longitude}")));
    Content {
        text: parts.join(" "),
        attachments: vec![Attachment {
            url,
            ..bare_attachment("location")
        }],
        in_reply_to: None,
    }
}

/// Shared contact cards, or `None` when there is no readable card.
fn contacts_content(
    contacts: wire::LooseList<wire::SharedContact>,
    salvage: &mut Salvage,
) -> Option<Content> {
    let contacts = salvage.take(contacts)?;
    let mut cards: Vec<String> = Vec::new();
    for contact in contacts {
        let Some(contact) = salvage.take(contact) else {
            continue;
        };
        let name = salvage
            .take(contact.name)
            .and_then(|name| {
                non_blank(salvage.take(name.formatted_name)).or_else(|| {
                    let parts: Vec<String> =
                        [salvage.take(name.first_name), salvage.take(name.last_name)]
                            .into_iter()
                            .filter_map(non_blank)
                            .collect();
                    (!parts.is_empty()).then(|| parts.join(" "))
                })
            })
            .unwrap_or_else(|| "(no name)".to_owned());
        let mut phones: Vec<String> = Vec::new();
        for phone in salvage.take(contact.phones).unwrap_or_default() {
            if let Some(phone) = salvage.take(phone) {
                phones.extend(non_blank(
                    salvage.take(phone.phone).map(Lenient::into_string),
                ));
            }
        }
        cards.push(if phones.is_empty() {
            name
        } else {
            format!("{name} ({})", phones.join(", "))
        });
    }
    (!cards.is_empty()).then(|| Content {
        text: format!("👤 {}", cards.join(", ")),
        attachments: vec![bare_attachment("contacts")],
        in_reply_to: None,
    })
}

fn reaction_content(reaction: wire::Reaction, salvage: &mut Salvage) -> Content {
    let emoji = non_blank(salvage.take(reaction.emoji));
    let target = salvage.take(reaction.message_id).map(Lenient::into_string);
    Content {
        text: emoji.unwrap_or_else(|| REACTION_REMOVED.to_owned()),
        attachments: Vec::new(),
        in_reply_to: target,
    }
}

fn interactive_text(interactive: wire::Interactive, salvage: &mut Salvage) -> String {
    let present = |kind: &InteractiveType| match kind {
        InteractiveType::ButtonReply => matches!(interactive.button_reply, Loose::Ok(_)),
        InteractiveType::ListReply => matches!(interactive.list_reply, Loose::Ok(_)),
        InteractiveType::NfmReply => matches!(interactive.nfm_reply, Loose::Ok(_)),
        InteractiveType::Other(_) => false,
    };
    // The reply object the message carries, for a type that is missing, odd, unknown or names
    // an object that is not there.
    let inferred = [
        InteractiveType::ButtonReply,
        InteractiveType::ListReply,
        InteractiveType::NfmReply,
    ]
    .into_iter()
    .find(|kind| present(kind));
    let kind = match salvage.take(interactive.kind) {
        Some(kind) if present(&kind) => Some(kind),
        declared => match inferred {
            Some(inferred) => {
                salvage.mark_odd();
                Some(inferred)
            }
            None => declared,
        },
    };
    let (name, text) = match kind {
        Some(InteractiveType::ButtonReply) => (
            "button_reply",
            salvage
                .take(interactive.button_reply)
                .and_then(|reply| non_blank(salvage.take(reply.title))),
        ),
        Some(InteractiveType::ListReply) => (
            "list_reply",
            salvage.take(interactive.list_reply).and_then(|reply| {
                match (
                    non_blank(salvage.take(reply.title)),
                    non_blank(salvage.take(reply.description)),
                ) {
                    (Some(title), Some(description)) => Some(format!("{title} — {description}")),
                    (Some(title), None) => Some(title),
                    (None, description) => description,
                }
            }),
        ),
        Some(InteractiveType::NfmReply) => (
            "nfm_reply",
            salvage.take(interactive.nfm_reply).and_then(|reply| {
                let response = match salvage.take(reply.response_json) {
                    Some(serde_json::Value::String(json)) => Some(json),
                    Some(serde_json::Value::Null) | None => None,
                    Some(json) => Some(json.to_string()),
                };
                let lines: Vec<String> = [non_blank(salvage.take(reply.body)), non_blank(response)]
                    .into_iter()
                    .flatten()
                    .collect();
                (!lines.is_empty()).then(|| lines.join("\n"))
            }),
        ),
        Some(InteractiveType::Other(name)) => {
            salvage.placeholder("interactive reply", &name, None);
            return String::new();
        }
        None => ("none", None),
    };
    match text {
        Some(text) => text,
        None => {
            salvage.placeholder("interactive reply", name, None);
            String::new()
        }
    }
}

fn order_text(order: wire::Order, salvage: &mut Salvage) -> String {
    let mut items: Vec<String> = Vec::new();
    for item in salvage.take(order.product_items).unwrap_or_default() {
        let Some(item) = salvage.take(item) else {
            continue;
        };
        let quantity = salvage
            .take(item.quantity)
            .map(Lenient::into_string)
            .unwrap_or_else(|| "1".to_owned());
        let product = salvage
            .take(item.product_retailer_id)
            .map(Lenient::into_string)
            .unwrap_or_else(|| "?".to_owned());
        items.push(format!("{quantity} × {product}"));
    }
    let mut text = format!("🛒 Order: {}", items.join(", "));
    if let Some(note) = non_blank(salvage.take(order.text)) {
        text.push('\n');
        text.push_str(&note);
    }
    text
}

fn bare_attachment(kind: &str) -> Attachment {
    Attachment {
        kind: kind.to_owned(),
        mime_type: None,
        media_id: None,
        url: None,
        filename: None,
        caption: None,
    }
}
