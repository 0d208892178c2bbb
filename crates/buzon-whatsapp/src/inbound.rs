//! Webhook deliveries to inbound items: pure, no network, no clock.
//!
//! Choices made here (and tested in `tests/connector/webhooks.rs`):
//! - Every message is kept, whatever its type. Types buzon cannot show get the placeholder
//!   text `[unsupported message type: <type>]`, followed by the platform's errors in
//!   parentheses when it sent any (`type:"unsupported"` carries 131051).
//! - A media message (image, audio, video, document, sticker) has the caption as its text, or
//!   `""`, and one attachment holding the media id to fetch it by.
//! - A reaction's text is its emoji, and it answers (`in_reply_to`) the message reacted to. A
//!   removed reaction comes without an emoji; it is kept with the text [`REACTION_REMOVED`].
//! - A location's text is `📍 <name> <address> (<latitude>, <longitude>)`; its attachment's
//!   `url` is the location's own URL or else a `geo:` URI (RFC 5870).
//! - Shared contact cards become `👤 <name> (<phones>), …` and an attachment of kind `contacts`.
//! - Interactive replies give the button or list row title (a list row's description after
//!   ` — `); a Flow answer gives its body and the response JSON on the next line.
//! - Status `played` (voice messages) counts as `read`; statuses buzon does not track are
//!   `Ignored`, and so are changes of fields other than `messages` and `value.errors[]`.
//! - A structural fault (no message id, no timestamp, no phone number id, no user id) fails
//!   the whole delivery with `Payload`, so it stays in the event log for replay rather than
//!   being half-stored. Error texts never quote message content.

use crate::user::UserKey;
use crate::wire::{self, Lenient};
use buzon_connector::{ConnectorError, InboundItem, MessageKind, PlatformMessage};
use buzon_core::{Attachment, ConversationKind, DeliveryStatus, ExternalId, NewContact, Timestamp};

/// The `object` of every WhatsApp Business webhook.
pub(crate) const OBJECT: &str = "whatsapp_business_account";

/// The text of a message that removes an earlier reaction (the webhook has no emoji).
pub const REACTION_REMOVED: &str = "(reaction removed)";

/// Turns a webhook body into items, in the order the body lists them.
pub(crate) fn normalize_webhook(body: &[u8]) -> Result<Vec<InboundItem>, ConnectorError> {
    let notification: wire::Notification = serde_json::from_slice(body)
        .map_err(|err| payload_error("the body is not a WhatsApp notification", &err))?;
    if notification.object != OBJECT {
        return Err(ConnectorError::Payload(format!(
            "object is {:?}, expected {OBJECT:?}",
            bounded(&notification.object)
        )));
    }
    let mut items = Vec::new();
    for (entry_index, entry) in notification.entry.into_iter().enumerate() {
        for (change_index, change) in entry.changes.into_iter().enumerate() {
            let place = format!("entry[{entry_index}].changes[{change_index}]");
            if change.field != "messages" {
                items.push(InboundItem::Ignored {
                    reason: format!(
                        "whatsapp {:?} changes are not handled",
                        bounded(&change.field)
                    ),
                });
                continue;
            }
            let value: wire::ChangeValue = serde_json::from_value(change.value)
                .map_err(|err| payload_error(&format!("{place}.value"), &err))?;
            normalize_change(value, &place, &mut items).map_err(ConnectorError::Payload)?;
        }
    }
    Ok(items)
}

fn normalize_change(
    value: wire::ChangeValue,
    place: &str,
    items: &mut Vec<InboundItem>,
) -> Result<(), String> {
    let account = value
        .metadata
        .and_then(|metadata| metadata.phone_number_id)
        .map(Lenient::into_string);
    let contacts: Vec<KnownContact> = value.contacts.into_iter().map(KnownContact::from).collect();
    let needs_account = !value.messages.is_empty() || !value.statuses.is_empty();
    let account = match account {
        Some(account) => Some(
            ExternalId::parse(account)
                .map_err(|_| format!("{place}: metadata.phone_number_id is not a valid id"))?,
        ),
        None if needs_account => {
            return Err(format!("{place}: metadata.phone_number_id is missing"));
        }
        None => None,
    };
    if let Some(account) = &account {
        for (index, message) in value.messages.into_iter().enumerate() {
            let message = normalize_message(message, account, &contacts)
                .map_err(|fault| format!("{place}.value.messages[{index}]: {fault}"))?;
            items.push(InboundItem::Message(message));
        }
        for (index, status) in value.statuses.into_iter().enumerate() {
            let status = normalize_status(status, account)
                .map_err(|fault| format!("{place}.value.statuses[{index}]: {fault}"))?;
            items.push(status);
        }
    }
    if let Some(errors) = describe_errors(&value.errors) {
        let about = account
            .as_ref()
            .map_or("an unknown number", ExternalId::as_str);
        items.push(InboundItem::Ignored {
            reason: format!("whatsapp reported errors for {about}: {errors}"),
        });
    }
    Ok(())
}

/// A `contacts[]` entry, flattened.
struct KnownContact {
    wa_id: Option<String>,
    user_id: Option<String>,
    name: Option<String>,
    username: Option<String>,
}

impl From<wire::Contact> for KnownContact {
    fn from(contact: wire::Contact) -> KnownContact {
        let (name, username) = match contact.profile {
            Some(profile) => (profile.name, profile.username),
            None => (None, None),
        };
        KnownContact {
            wa_id: non_blank(contact.wa_id.map(Lenient::into_string)),
            user_id: non_blank(contact.user_id),
            name: non_blank(name),
            username: non_blank(username),
        }
    }
}

/// The contact a message is from: the one with its `from` or `from_user_id`, or the only one.
fn find_contact<'a>(
    contacts: &'a [KnownContact],
    from: Option<&str>,
    from_user_id: Option<&str>,
) -> Option<&'a KnownContact> {
    let by_phone = from.and_then(|from| {
        contacts
            .iter()
            .find(|contact| contact.wa_id.as_deref() == Some(from))
    });
    let by_bsuid = || {
        from_user_id.and_then(|user_id| {
            contacts
                .iter()
                .find(|contact| contact.user_id.as_deref() == Some(user_id))
        })
    };
    let only = || match contacts {
        [contact] => Some(contact),
        _ => None,
    };
    by_phone.or_else(by_bsuid).or_else(only)
}

fn normalize_message(
    message: wire::Message,
    account: &ExternalId,
    contacts: &[KnownContact],
) -> Result<PlatformMessage, String> {
    let platform_id = required_id(message.id.clone(), "id")?;
    let created_at = parse_time(message.timestamp.clone())?;
    let from = non_blank(message.from.clone().map(Lenient::into_string));
    let from_user_id = non_blank(message.from_user_id.clone());
    let contact = find_contact(contacts, from.as_deref(), from_user_id.as_deref());
    let user = from
        .map(UserKey::Phone)
        .or_else(|| from_user_id.map(UserKey::Bsuid))
        .or_else(|| contact.and_then(|contact| contact.wa_id.clone().map(UserKey::Phone)))
        .or_else(|| contact.and_then(|contact| contact.user_id.clone().map(UserKey::Bsuid)))
        .ok_or("neither from, from_user_id nor a contact names the user")?;
    let handle = match &user {
        UserKey::Phone(wa_id) => Some(format!("+{}", wa_id.trim_start_matches('+'))),
        UserKey::Bsuid(_) => contact.and_then(|contact| contact.username.clone()),
    };
    let author = NewContact {
        platform_id: ExternalId::parse(user.id()).map_err(|_| "the user id is not a valid id")?,
        name: contact.and_then(|contact| contact.name.clone()),
        handle,
    };
    let context_id = message
        .context
        .as_ref()
        .and_then(|context| context.id.clone())
        .map(Lenient::into_string);
    let content = content_of(message);
    let in_reply_to = match non_blank(content.in_reply_to.or(context_id)) {
        Some(id) => Some(ExternalId::parse(id).map_err(|_| "the replied-to id is not a valid id")?),
        None => None,
    };
    Ok(PlatformMessage {
        account: account.clone(),
        platform_id,
        thread_key: user.thread_key(),
        conversation: ConversationKind::Whatsapp,
        kind: MessageKind::Direct,
        author,
        text: content.text,
        attachments: content.attachments,
        created_at,
        in_reply_to,
    })
}

/// What a message says, whatever its type.
struct Content {
    text: String,
    attachments: Vec<Attachment>,
    /// The message it refers to, when its type has one (a reaction's target).
    in_reply_to: Option<String>,
}

impl Content {
    fn text(text: String) -> Content {
        Content {
            text,
            attachments: Vec::new(),
            in_reply_to: None,
        }
    }
}

fn content_of(message: wire::Message) -> Content {
    let kind = message.kind.unwrap_or_default();
    match kind.as_str() {
        "text" => Content::text(message.text.and_then(|text| text.body).unwrap_or_default()),
        "image" => media_content(&kind, message.image),
        "audio" => media_content(&kind, message.audio),
        "video" => media_content(&kind, message.video),
        "document" => media_content(&kind, message.document),
        "sticker" => media_content(&kind, message.sticker),
        "location" => location_content(message.location),
        "contacts" => contacts_content(message.contacts.unwrap_or_default()),
        "reaction" => {
            let (emoji, target) = match message.reaction {
                Some(reaction) => (
                    non_blank(reaction.emoji),
                    reaction.message_id.map(Lenient::into_string),
                ),
                None => (None, None),
            };
            Content {
                text: emoji.unwrap_or_else(|| REACTION_REMOVED.to_owned()),
                attachments: Vec::new(),
                in_reply_to: target,
            }
        }
        "button" => Content::text(
            message
                .button
                .and_then(|button| non_blank(button.text).or(button.payload))
                .unwrap_or_default(),
        ),
        "interactive" => Content::text(match message.interactive {
            Some(interactive) => interactive_text(interactive),
            None => unsupported(&kind, &message.errors),
        }),
        "order" => Content::text(match message.order {
            Some(order) => order_text(order),
            None => unsupported(&kind, &message.errors),
        }),
        "system" => Content::text(
            message
                .system
                .and_then(|system| {
                    non_blank(system.body).or_else(|| {
                        system
                            .kind
                            .map(|kind| format!("[system message: {}]", bounded(&kind)))
                    })
                })
                .unwrap_or_else(|| "[system message]".to_owned()),
        ),
        _ => Content::text(unsupported(&kind, &message.errors)),
    }
}

/// `[unsupported message type: <type>]`, plus the platform's errors when it gave any.
fn unsupported(kind: &str, errors: &[wire::GraphErrorItem]) -> String {
    let kind = if kind.is_empty() {
        "none"
    } else {
        bounded(kind)
    };
    let mut text = format!("[unsupported message type: {kind}]");
    if let Some(errors) = describe_errors(errors) {
        text.push_str(&format!(" ({errors})"));
    }
    text
}

fn media_content(kind: &str, media: Option<wire::Media>) -> Content {
    let media = media.unwrap_or(wire::Media {
        id: None,
        mime_type: None,
        caption: None,
        filename: None,
        url: None,
    });
    let caption = non_blank(media.caption);
    Content {
        text: caption.clone().unwrap_or_default(),
        attachments: vec![Attachment {
            kind: kind.to_owned(),
            mime_type: non_blank(media.mime_type),
            media_id: non_blank(media.id.map(Lenient::into_string)),
            url: non_blank(media.url),
            filename: non_blank(media.filename),
            caption,
        }],
        in_reply_to: None,
    }
}

fn location_content(location: Option<wire::Location>) -> Content {
    let Some(location) = location else {
        return Content {
            text: "📍".to_owned(),
            attachments: vec![bare_attachment("location")],
            in_reply_to: None,
        };
    };
    let latitude = non_blank(location.latitude.map(Lenient::into_string));
    let longitude = non_blank(location.longitude.map(Lenient::into_string));
    let coordinates = match (&latitude, &longitude) {
        (Some(latitude), Some(longitude)) => Some((latitude.clone(), longitude.clone())),
        _ => None,
    };
    let mut parts = vec!["📍".to_owned()];
    parts.extend(non_blank(location.name));
    parts.extend(non_blank(location.address));
    if let Some((latitude, longitude)) = &coordinates {
        parts.push(format!("({latitude}, {longitude})"));
    }
    let url = non_blank(location.url)
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

fn contacts_content(contacts: Vec<wire::SharedContact>) -> Content {
    let cards: Vec<String> = contacts
        .into_iter()
        .map(|contact| {
            let name = contact
                .name
                .and_then(|name| {
                    non_blank(name.formatted_name).or_else(|| {
                        let parts: Vec<String> = [name.first_name, name.last_name]
                            .into_iter()
                            .filter_map(non_blank)
                            .collect();
                        (!parts.is_empty()).then(|| parts.join(" "))
                    })
                })
                .unwrap_or_else(|| "(no name)".to_owned());
            let phones: Vec<String> = contact
                .phones
                .into_iter()
                .filter_map(|phone| non_blank(phone.phone))
                .collect();
            if phones.is_empty() {
                name
            } else {
                format!("{name} ({})", phones.join(", "))
            }
        })
        .collect();
    Content {
        text: format!("👤 {}", cards.join(", ")).trim_end().to_owned(),
        attachments: vec![bare_attachment("contacts")],
        in_reply_to: None,
    }
}

fn interactive_text(interactive: wire::Interactive) -> String {
    let kind = interactive.kind.unwrap_or_default();
    match kind.as_str() {
        "button_reply" => interactive
            .button_reply
            .and_then(|reply| non_blank(reply.title))
            .unwrap_or_default(),
        "list_reply" => match interactive.list_reply {
            Some(reply) => match (non_blank(reply.title), non_blank(reply.description)) {
                (Some(title), Some(description)) => format!("{title} — {description}"),
                (Some(title), None) => title,
                (None, description) => description.unwrap_or_default(),
            },
            None => String::new(),
        },
        "nfm_reply" => match interactive.nfm_reply {
            Some(reply) => [non_blank(reply.body), non_blank(reply.response_json)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n"),
            None => String::new(),
        },
        other => format!(
            "[unsupported interactive reply: {}]",
            if other.is_empty() {
                "none"
            } else {
                bounded(other)
            }
        ),
    }
}

fn order_text(order: wire::Order) -> String {
    let items: Vec<String> = order
        .product_items
        .into_iter()
        .map(|item| {
            let quantity = item
                .quantity
                .map(Lenient::into_string)
                .unwrap_or_else(|| "1".to_owned());
            let product = item
                .product_retailer_id
                .map(Lenient::into_string)
                .unwrap_or_else(|| "?".to_owned());
            format!("{quantity} × {product}")
        })
        .collect();
    let mut text = format!("🛒 Order: {}", items.join(", "));
    if let Some(note) = non_blank(order.text) {
        text.push('\n');
        text.push_str(&note);
    }
    text
}

fn normalize_status(status: wire::Status, account: &ExternalId) -> Result<InboundItem, String> {
    let platform_id = required_id(status.id, "id")?;
    let at = parse_time(status.timestamp)?;
    let name = status.status.unwrap_or_default();
    let delivery = match name.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" | "played" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        other => {
            return Ok(InboundItem::Ignored {
                reason: format!(
                    "whatsapp status {:?} of {platform_id} is not tracked",
                    bounded(other)
                ),
            })
        }
    };
    let error = (delivery == DeliveryStatus::Failed).then(|| {
        describe_errors(&status.errors).unwrap_or_else(|| "the platform gave no reason".to_owned())
    });
    Ok(InboundItem::Status {
        account: account.clone(),
        platform_id,
        status: delivery,
        error,
        at,
    })
}

/// `<code> <title>: <details>` for each error, joined by `; `; `None` when there are none.
pub(crate) fn describe_errors(errors: &[wire::GraphErrorItem]) -> Option<String> {
    let described: Vec<String> = errors.iter().map(describe_error).collect();
    (!described.is_empty()).then(|| described.join("; "))
}

fn describe_error(error: &wire::GraphErrorItem) -> String {
    let title = error
        .title
        .as_deref()
        .or(error.message.as_deref())
        .filter(|title| !title.trim().is_empty());
    let head: Vec<String> = [
        error.code.map(|code| code.to_string()),
        title.map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .collect();
    let head = head.join(" ");
    match (
        head.is_empty(),
        wire::error_details(error.error_data.as_ref()),
    ) {
        (false, Some(details)) => format!("{head}: {details}"),
        (true, Some(details)) => details.to_owned(),
        (false, None) => head,
        (true, None) => "unknown error".to_owned(),
    }
}

fn required_id(id: Option<Lenient>, field: &str) -> Result<ExternalId, String> {
    let id = id
        .map(Lenient::into_string)
        .ok_or_else(|| format!("{field} is missing"))?;
    ExternalId::parse(id).map_err(|_| format!("{field} is not a valid id"))
}

/// Meta's timestamps: Unix seconds, as a string.
fn parse_time(timestamp: Option<Lenient>) -> Result<Timestamp, String> {
    let timestamp = timestamp
        .map(Lenient::into_string)
        .ok_or("timestamp is missing")?;
    let seconds: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| "timestamp is not a number of seconds")?;
    Ok(Timestamp::from_secs(seconds))
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

fn non_blank(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

/// At most 64 characters of a platform-chosen name (a type, a field), for error texts.
fn bounded(text: &str) -> &str {
    match text.char_indices().nth(64) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

/// A serde error without the offending value: serde quotes it for invalid types and values,
/// and message text must never reach the event log's error column or the logs.
pub(crate) fn payload_error(what: &str, err: &serde_json::Error) -> ConnectorError {
    let text = err.to_string();
    let shown = match (
        err.classify(),
        text.split_once(':'),
        text.rfind(", expected "),
    ) {
        (serde_json::error::Category::Data, Some((category, _)), Some(expected)) => {
            format!("{category}{}", &text[expected..])
        }
        _ => text,
    };
    ConnectorError::Payload(format!("{what}: {shown}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_errors_do_not_quote_the_offending_text() {
        let err = serde_json::from_str::<wire::TextBody>(r#"{"body": 5}"#).unwrap_err();
        let ConnectorError::Payload(shown) = payload_error("x", &err) else {
            panic!("a payload error")
        };
        assert!(shown.contains("expected"), "{shown}");
        let err = serde_json::from_str::<u64>(r#""my secret text""#).unwrap_err();
        let ConnectorError::Payload(shown) = payload_error("x", &err) else {
            panic!("a payload error")
        };
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn errors_are_described_with_code_title_and_details() {
        let errors: Vec<wire::GraphErrorItem> = serde_json::from_str(
            r#"[{"code":131026,"title":"Message undeliverable","error_data":{"details":"x"}},
                {"message":"only a message"},
                {"code":1,"error_data":"a string"}]"#,
        )
        .unwrap();
        assert_eq!(
            describe_errors(&errors).as_deref(),
            Some("131026 Message undeliverable: x; only a message; 1")
        );
        assert_eq!(describe_errors(&[]), None);
    }
}
