//! Webhook deliveries to parts: pure, no network, no clock.
//!
//! # Parts and paths
//!
//! A delivery is `{"object":"whatsapp_business_account","entry":[{"id":…,"changes":[…]}]}`.
//! Each of these is one [`Part`], in the order of the body:
//! - `entry[i].changes[j].value.messages[k]`, `….value.statuses[k]` and `….value.errors[k]` of a
//!   `messages` change;
//! - `entry[i].changes[j]` itself when it carries none of those: a change of another field
//!   (account, template and phone-number updates, echoes, calls…), or a `messages` change
//!   with none of the three lists;
//! - `entry[i]` when an entry has no `changes` list, and `….value.<list>` when one of the three
//!   lists is not a list.
//!
//! Only a body that is not a WhatsApp delivery at all (not JSON, not an object, another
//! `object`, no `entry` list) is an error: the caller keeps it as unparsed at `$`.
//!
//! # What each part becomes
//!
//! Sources: the Meta messages webhook reference
//! (<https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages>,
//! with its status, group and system pages), the webhook fields list
//! (<https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/overview>),
//! and the recorded payloads of david-lev/pywa (`tests/data/updates/*.json`: `message.json`,
//! `message_status.json`, `system.json`, `chat_opened.json`, `edit_message.json`,
//! `delete_message.json`, `outgoing_message.json`, `call_status.json`,
//! `user_marketing_preferences.json`, `call_permission_update.json`), as collected in
//! `tests/fixtures/whatsapp/` and `tests/fixtures/corpus/whatsapp/`.
//!
//! Messages (`value.messages[k]`), by `type`:
//! - `text`: its body (also read when `text` is a bare string). A `referral` (click-to-WhatsApp
//!   ad) or `context.forwarded` beside it changes nothing: it is the customer's message.
//! - `image`, `audio`, `video`, `document`, `sticker`: the caption as text, or `""`, and one
//!   attachment with the media id (and `url`, when Meta sends one) to fetch it by.
//! - `location`: `📍 <name> <address> (<latitude>, <longitude>)`; its attachment's `url` is the
//!   location's own URL or else a `geo:` URI (RFC 5870).
//! - `contacts`: `👤 <name> (<phones>), …` and an attachment of kind `contacts`.
//! - `reaction`: the emoji, answering (`in_reply_to`) the message reacted to; a removed
//!   reaction (no or empty `emoji`) reads [`REACTION_REMOVED`]. Reactions are kept as
//!   messages, as they always were here: in a chat they are the customer's answer.
//! - `button` (template quick reply): its text, or else its payload.
//! - `interactive`: a `button_reply` or `list_reply` title (a list row's description after
//!   ` — `); a Flow answer (`nfm_reply`) gives its body and the response JSON on the next line.
//! - `order`: `🛒 Order: <quantity> × <product>, …` and the order's note on the next line.
//! - `edit`: [`InboundItem::Edited`] of `edit.original_message_id`, with the new content.
//! - `revoke`: [`InboundItem::Removed`] of `revoke.original_message_id`.
//! - `system` (number or user id changed, identity changed): known, `system`.
//! - `request_welcome` (a user opens the chat for the first time): known, `request_welcome`.
//! - `unsupported` and any type buzon does not know: a message whose text is the placeholder
//!   `[message of an unsupported kind: <type>]` (after any text it carries), followed by the
//!   platform's errors in parentheses when it sent any (`unsupported` carries 131051).
//! - A message with a `group_id` (Groups API) is unrecognized: buzon does not handle groups,
//!   and a group's words must not land in the member's private chat.
//!
//! Statuses (`value.statuses[k]`): `sent`, `delivered`, `read`, `failed` (with its errors in
//! words) and `played` (a voice message listened to: counts as `read`); `conversation` and
//! `pricing` (CBP or PMP) are not read. Any other status is unrecognized.
//!
//! Errors (`value.errors[k]`): known, `error` (and logged with code and title).
//!
//! Other change fields: see [`KNOWN_EVENTS`]; any field not listed there is unrecognized.
//!
//! # Salvage
//!
//! A part that is recognisably a customer's message stays a message when something in it is
//! odd: a field of another shape, a missing content object, an unknown type or interactive
//! type. What can be read is kept (text first); each thing that cannot be shown adds a
//! placeholder made by [`unsupported_placeholder`]; and the part's JSON as it arrived is kept
//! in [`PlatformMessage::raw`]. A message is unrecognized only when it cannot be stored at all:
//! no readable id, timestamp, sender or phone number id.
//!
//! Reasons name fields and types, never message content or tokens.

use crate::content::{content_of, Content, Salvage};
use crate::user::UserKey;
use crate::wire::{self, Lenient, Loose, MessageType, StatusKind};
use buzon_connector::{ConnectorError, InboundItem, MessageKind, Part, PlatformMessage};
use buzon_core::{ConversationKind, DeliveryStatus, ExternalId, NewContact, Timestamp};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

#[cfg(doc)]
use buzon_connector::unsupported_placeholder;

/// The `object` of every WhatsApp Business webhook.
pub(crate) const OBJECT: &str = "whatsapp_business_account";

/// The text of a message that removes an earlier reaction (the webhook has no emoji).
pub const REACTION_REMOVED: &str = "(reaction removed)";

/// A message the business sent from the WhatsApp Business app (coexistence), echoed back:
/// the `smb_message_echoes` field, including echoed edits and deletes (Meta
/// `smb_message_echoes` reference; pywa `outgoing_message.json`, `edit_message.json`).
const ECHO: &str = "echo";
/// A system message: the user changed number or user id, or their identity changed
/// (`type: "system"`; Meta messages reference, system messages; pywa `system.json`).
const SYSTEM: &str = "system";
/// A user opened the chat for the first time and no message was written yet
/// (`type: "request_welcome"`; Meta conversational components; pywa `chat_opened.json`).
const REQUEST_WELCOME: &str = "request_welcome";
/// An error the platform reports about the number, beside or instead of messages
/// (`value.errors[]`; Meta messages reference; pywa `message.json` `interactive_message_with_err`).
const ERROR: &str = "error";
/// An account, template, phone-number or business notification: the fields in
/// [`ACCOUNT_FIELDS`] (Meta webhooks overview, fields list; pywa `account_update.json`,
/// `template_*.json`).
const ACCOUNT_UPDATE: &str = "account_update";
/// A user stopped or resumed marketing messages (the `user_preferences` field; Meta
/// `user_preferences` reference; pywa `user_marketing_preferences.json`).
const OPTIN: &str = "optin";
/// A WhatsApp call: connect, terminate or call status (the `calls` field; Meta Calling API
/// webhooks; pywa `call_connect.json`, `call_terminate.json`, `call_status.json`).
const CALL: &str = "call";
/// The WhatsApp Business app's chat history, synchronized when a coexistence number is
/// onboarded (the `history` field; Meta webhooks overview). buzon does not import it.
const HISTORY: &str = "history";
/// A purchase or lead detected in a chat that began with a click-to-WhatsApp ad (the
/// `automatic_events` field; Meta webhooks overview).
const AUTOMATIC_EVENT: &str = "automatic_event";

/// Every kind of known no-message event this connector reports, each documented above its
/// constant in this module.
pub const KNOWN_EVENTS: &[&str] = &[
    ECHO,
    SYSTEM,
    REQUEST_WELCOME,
    ERROR,
    ACCOUNT_UPDATE,
    OPTIN,
    CALL,
    HISTORY,
    AUTOMATIC_EVENT,
];

/// Change fields about the account, its templates, numbers and business, none of which
/// carries a message (Meta webhooks overview, fields list).
const ACCOUNT_FIELDS: &[&str] = &[
    "account_alerts",
    "account_review_update",
    "account_update",
    "business_capability_update",
    "flows",
    "message_template_components_update",
    "message_template_quality_update",
    "message_template_status_update",
    "partner_solutions",
    "payment_configuration_update",
    "phone_number_name_update",
    "phone_number_quality_update",
    "security",
    "smb_app_state_sync",
    "template_category_update",
];

/// The known kind of a change of a field other than `messages`.
fn known_field(field: &str) -> Option<&'static str> {
    match field {
        "smb_message_echoes" => Some(ECHO),
        "user_preferences" => Some(OPTIN),
        "calls" => Some(CALL),
        "history" => Some(HISTORY),
        "automatic_events" => Some(AUTOMATIC_EVENT),
        field if ACCOUNT_FIELDS.contains(&field) => Some(ACCOUNT_UPDATE),
        _ => None,
    }
}

type Raw<'a> = &'a RawValue;
type Object<'a> = BTreeMap<String, Raw<'a>>;

fn object_of(raw: Raw<'_>) -> Option<Object<'_>> {
    serde_json::from_str(raw.get()).ok()
}

fn array_of(raw: Raw<'_>) -> Option<Vec<Raw<'_>>> {
    serde_json::from_str(raw.get()).ok()
}

fn string_of(raw: Raw<'_>) -> Option<String> {
    serde_json::from_str(raw.get()).ok()
}

fn is_object(raw: Raw<'_>) -> bool {
    raw.get().trim_start().starts_with('{')
}

fn unrecognized(
    path: impl Into<String>,
    account: Option<&ExternalId>,
    reason: impl Into<String>,
) -> Part {
    Part::new(
        path,
        InboundItem::Unrecognized {
            account: account.cloned(),
            reason: reason.into(),
        },
    )
}

/// Turns a webhook body into its parts, in the order the body lists them.
pub(crate) fn normalize_webhook(body: &[u8]) -> Result<Vec<Part>, ConnectorError> {
    let root: Raw<'_> =
        serde_json::from_slice(body).map_err(|err| payload_error("the body is not JSON", &err))?;
    let root = object_of(root)
        .ok_or_else(|| ConnectorError::Payload("the body is not a JSON object".into()))?;
    match root.get("object").copied().and_then(string_of).as_deref() {
        Some(OBJECT) => {}
        Some(other) => {
            return Err(ConnectorError::Payload(format!(
                "object is {:?}, expected {OBJECT:?}",
                bounded(other)
            )))
        }
        None => {
            return Err(ConnectorError::Payload(format!(
                "the body has no object {OBJECT:?}"
            )))
        }
    }
    let entries = root
        .get("entry")
        .copied()
        .and_then(array_of)
        .ok_or_else(|| ConnectorError::Payload("the body has no entry list".into()))?;
    let mut parts = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        normalize_entry(entry, &format!("entry[{index}]"), &mut parts);
    }
    Ok(parts)
}

fn normalize_entry(entry: Raw<'_>, path: &str, parts: &mut Vec<Part>) {
    let Some(entry) = object_of(entry) else {
        parts.push(unrecognized(
            path,
            None,
            "an entry that is not a JSON object",
        ));
        return;
    };
    let Some(changes) = entry.get("changes").copied().and_then(array_of) else {
        let fields: Vec<&str> = entry.keys().map(|key| bounded(key)).take(8).collect();
        parts.push(unrecognized(
            path,
            None,
            format!(
                "an entry without a changes list (its fields: {})",
                fields.join(", ")
            ),
        ));
        return;
    };
    for (index, change) in changes.into_iter().enumerate() {
        normalize_change(change, &format!("{path}.changes[{index}]"), parts);
    }
}

fn normalize_change(change: Raw<'_>, path: &str, parts: &mut Vec<Part>) {
    let Some(change) = object_of(change) else {
        parts.push(unrecognized(
            path,
            None,
            "a change that is not a JSON object",
        ));
        return;
    };
    let value = change.get("value").copied().and_then(object_of);
    let account = value.as_ref().and_then(account_of);
    let Some(field) = change.get("field").copied().and_then(string_of) else {
        parts.push(unrecognized(
            path,
            account.as_ref(),
            "a change without a field name",
        ));
        return;
    };
    if field == "messages" {
        match value {
            Some(value) => normalize_messages_change(&value, path, account.as_ref(), parts),
            None => parts.push(unrecognized(
                path,
                account.as_ref(),
                "a messages change without a value object",
            )),
        }
        return;
    }
    match known_field(&field) {
        Some(kind) => parts.push(Part::new(path, InboundItem::Known { account, kind })),
        None => parts.push(unrecognized(
            path,
            account.as_ref(),
            format!(
                "a change of a field buzon does not know: {}",
                bounded(&field)
            ),
        )),
    }
}

/// `value.metadata.phone_number_id`: our business number, the channel's account.
fn account_of(value: &Object<'_>) -> Option<ExternalId> {
    let metadata = object_of(value.get("metadata").copied()?)?;
    let id: Lenient = serde_json::from_str(metadata.get("phone_number_id")?.get()).ok()?;
    ExternalId::parse(id.into_string().trim().to_owned()).ok()
}

/// The three lists of a `messages` change, each element a part.
const LISTS: [&str; 3] = ["messages", "statuses", "errors"];

fn normalize_messages_change(
    value: &Object<'_>,
    path: &str,
    account: Option<&ExternalId>,
    parts: &mut Vec<Part>,
) {
    let contacts = value
        .get("contacts")
        .map(|raw| read_contacts(raw))
        .unwrap_or_default();
    let before = parts.len();
    for list in LISTS {
        let Some(raw) = value.get(list).copied() else {
            continue;
        };
        if raw.get() == "null" {
            continue;
        }
        let list_path = format!("{path}.value.{list}");
        let Some(items) = array_of(raw) else {
            parts.push(unrecognized(
                list_path,
                account,
                format!("value.{list} is not a list"),
            ));
            continue;
        };
        for (index, item) in items.into_iter().enumerate() {
            let outcome = match list {
                "messages" => normalize_message(item, account, &contacts),
                "statuses" => normalize_status(item, account),
                _ => normalize_error(item, account),
            };
            parts.push(Part::new(format!("{list_path}[{index}]"), outcome));
        }
    }
    if parts.len() == before {
        parts.push(unrecognized(
            path,
            account,
            "a messages change with no messages, statuses or errors",
        ));
    }
}

/// A `contacts[]` entry, flattened.
struct KnownContact {
    wa_id: Option<String>,
    user_id: Option<String>,
    name: Option<String>,
    username: Option<String>,
}

/// The readable entries of `value.contacts`; odd ones are passed over (they are not parts).
fn read_contacts(raw: Raw<'_>) -> Vec<KnownContact> {
    let contacts: wire::LooseList<wire::Contact> =
        serde_json::from_str(raw.get()).unwrap_or_default();
    contacts
        .ok()
        .unwrap_or_default()
        .into_iter()
        .filter_map(Loose::ok)
        .map(|contact| {
            let (name, username) = match contact.profile.ok() {
                Some(profile) => (profile.name.ok(), profile.username.ok()),
                None => (None, None),
            };
            KnownContact {
                wa_id: non_blank(contact.wa_id.text()),
                user_id: non_blank(contact.user_id.text()),
                name: non_blank(name),
                username: non_blank(username),
            }
        })
        .collect()
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
    raw: Raw<'_>,
    account: Option<&ExternalId>,
    contacts: &[KnownContact],
) -> InboundItem {
    let unrecognized = |account: Option<&ExternalId>, reason: &str| InboundItem::Unrecognized {
        account: account.cloned(),
        reason: reason.to_owned(),
    };
    if !is_object(raw) {
        return unrecognized(account, "a message that is not a JSON object");
    }
    let Ok(mut message) = serde_json::from_str::<wire::Message>(raw.get()) else {
        return unrecognized(account, "a message that is not a JSON object");
    };
    let mut salvage = Salvage::default();
    if matches!(message.kind, Loose::Absent) {
        // `type` is documented on every message: its content is read by what is present.
        salvage.mark_odd();
    }
    let kind = salvage.take(std::mem::take(&mut message.kind));
    match kind {
        Some(MessageType::System) => {
            return InboundItem::Known {
                account: account.cloned(),
                kind: SYSTEM,
            }
        }
        Some(MessageType::RequestWelcome) => {
            return InboundItem::Known {
                account: account.cloned(),
                kind: REQUEST_WELCOME,
            }
        }
        _ => {}
    }
    // An edit or revoke whose type is missing, odd or unknown is still an edit or a revoke.
    let kind = match kind {
        None | Some(MessageType::Other(_)) if matches!(message.edit, Loose::Ok(_)) => {
            salvage.mark_odd();
            Some(MessageType::Edit)
        }
        None | Some(MessageType::Other(_)) if matches!(message.revoke, Loose::Ok(_)) => {
            Some(MessageType::Revoke)
        }
        kind => kind,
    };
    if !matches!(message.group_id, Loose::Absent) {
        return unrecognized(
            account,
            "a message in a WhatsApp group (group_id): buzon does not handle groups",
        );
    }
    let Some(account) = account else {
        return unrecognized(
            None,
            "a message without a readable metadata.phone_number_id",
        );
    };
    if kind == Some(MessageType::Revoke) {
        let original = std::mem::take(&mut message.revoke)
            .ok()
            .and_then(|revoke| revoke.original_message_id.text())
            .and_then(|id| ExternalId::parse(id).ok());
        return match original {
            Some(platform_id) => InboundItem::Removed {
                account: account.clone(),
                platform_id,
            },
            None => unrecognized(
                Some(account),
                "a revoke without a readable revoke.original_message_id",
            ),
        };
    }
    let Some(platform_id) = message.id.text().and_then(|id| ExternalId::parse(id).ok()) else {
        return unrecognized(Some(account), "a message without a readable id");
    };
    let Some(created_at) = parse_time(&message.timestamp) else {
        return unrecognized(Some(account), "a message without a readable timestamp");
    };
    let from = non_blank(
        salvage
            .take(std::mem::take(&mut message.from))
            .map(Lenient::into_string),
    );
    let from_user_id = non_blank(
        salvage
            .take(std::mem::take(&mut message.from_user_id))
            .map(Lenient::into_string),
    );
    let contact = find_contact(contacts, from.as_deref(), from_user_id.as_deref());
    let Some(user) = from
        .map(UserKey::Phone)
        .or_else(|| from_user_id.map(UserKey::Bsuid))
        .or_else(|| contact.and_then(|contact| contact.wa_id.clone().map(UserKey::Phone)))
        .or_else(|| contact.and_then(|contact| contact.user_id.clone().map(UserKey::Bsuid)))
    else {
        return unrecognized(
            Some(account),
            "a message that neither from, from_user_id nor a contact names the sender of",
        );
    };
    let Ok(author_id) = ExternalId::parse(user.id().to_owned()) else {
        return unrecognized(Some(account), "a message whose sender id is not a valid id");
    };
    let handle = match &user {
        UserKey::Phone(wa_id) => Some(format!("+{}", wa_id.trim_start_matches('+'))),
        UserKey::Bsuid(_) => contact.and_then(|contact| contact.username.clone()),
    };
    let author = NewContact {
        platform_id: author_id,
        name: contact.and_then(|contact| contact.name.clone()),
        handle,
    };
    let context_id = salvage
        .take(std::mem::take(&mut message.context))
        .and_then(|context| salvage.take(context.id))
        .map(Lenient::into_string);

    // An edit names the message it replaces; without that name it is kept as a new message.
    let mut original = None;
    let content = if kind == Some(MessageType::Edit) {
        let edit = salvage.take(std::mem::take(&mut message.edit));
        let new_message = match edit {
            Some(edit) => {
                original = salvage
                    .take(edit.original_message_id)
                    .map(Lenient::into_string)
                    .and_then(|id| ExternalId::parse(id).ok());
                salvage.take(edit.message)
            }
            None => None,
        };
        if original.is_none() {
            salvage.mark_odd();
        }
        match new_message {
            Some(new_message) => {
                let mut new_message = *new_message;
                let new_kind = salvage.take(std::mem::take(&mut new_message.kind));
                content_of(new_kind, new_message, raw, &mut salvage)
            }
            None => content_of(kind, message, raw, &mut salvage),
        }
    } else {
        content_of(kind, message, raw, &mut salvage)
    };
    let common = Common {
        account,
        user: &user,
        author,
        created_at,
        context_id,
    };
    match original {
        Some(original) => InboundItem::Edited(common.message(original, content, raw, salvage)),
        None => InboundItem::Message(common.message(platform_id, content, raw, salvage)),
    }
}

/// What every message of a part shares, whatever its content.
struct Common<'a> {
    account: &'a ExternalId,
    user: &'a UserKey,
    author: NewContact,
    created_at: Timestamp,
    context_id: Option<String>,
}

impl Common<'_> {
    fn message(
        self,
        platform_id: ExternalId,
        content: Content,
        raw: Raw<'_>,
        mut salvage: Salvage,
    ) -> PlatformMessage {
        let in_reply_to = match non_blank(content.in_reply_to.or(self.context_id)) {
            Some(id) => match ExternalId::parse(id) {
                Ok(id) => Some(id),
                Err(_) => {
                    salvage.mark_odd();
                    None
                }
            },
            None => None,
        };
        let raw = salvage.raw(raw);
        PlatformMessage {
            account: self.account.clone(),
            platform_id,
            thread_key: self.user.thread_key(),
            conversation: ConversationKind::Whatsapp,
            kind: MessageKind::Direct,
            author: self.author,
            text: salvage.text(content.text),
            attachments: content.attachments,
            created_at: self.created_at,
            in_reply_to,
            raw,
            found_by: None,
        }
    }
}

fn normalize_status(raw: Raw<'_>, account: Option<&ExternalId>) -> InboundItem {
    let unrecognized = |reason: String| InboundItem::Unrecognized {
        account: account.cloned(),
        reason,
    };
    if !is_object(raw) {
        return unrecognized("a status that is not a JSON object".into());
    }
    let Ok(status) = serde_json::from_str::<wire::Status>(raw.get()) else {
        return unrecognized("a status that is not a JSON object".into());
    };
    let Some(account) = account else {
        return unrecognized("a status without a readable metadata.phone_number_id".into());
    };
    let Some(platform_id) = status.id.text().and_then(|id| ExternalId::parse(id).ok()) else {
        return unrecognized("a status without a readable id".into());
    };
    let Some(at) = parse_time(&status.timestamp) else {
        return unrecognized("a status without a readable timestamp".into());
    };
    let delivery = match status.status {
        Loose::Ok(StatusKind::Sent) => DeliveryStatus::Sent,
        Loose::Ok(StatusKind::Delivered) => DeliveryStatus::Delivered,
        Loose::Ok(StatusKind::Read | StatusKind::Played) => DeliveryStatus::Read,
        Loose::Ok(StatusKind::Failed) => DeliveryStatus::Failed,
        Loose::Ok(StatusKind::Other(name)) => {
            return unrecognized(format!("a status buzon does not track: {}", bounded(&name)))
        }
        Loose::Absent | Loose::Odd => {
            return unrecognized("a status without a readable status".into())
        }
    };
    let error = (delivery == DeliveryStatus::Failed).then(|| {
        describe_errors(&readable(status.errors))
            .unwrap_or_else(|| "the platform gave no reason".to_owned())
    });
    let reference = match status.biz_opaque_callback_data {
        Loose::Ok(reference) if !reference.is_empty() => Some(reference),
        _ => None,
    };
    InboundItem::Status {
        account: account.clone(),
        platform_id,
        status: delivery,
        error,
        at,
        reference,
    }
}

/// `value.errors[k]`: the platform reports an error about the number. Known, and logged
/// with its code and title (Meta's words, not the customer's).
fn normalize_error(raw: Raw<'_>, account: Option<&ExternalId>) -> InboundItem {
    let described = serde_json::from_str::<wire::GraphErrorItem>(raw.get())
        .map(|error| describe_error(&error))
        .unwrap_or_else(|_| "an error in an unexpected shape".to_owned());
    tracing::warn!(
        account = account.map_or("unknown", ExternalId::as_str),
        error = %bounded(&described),
        "whatsapp reported an error in a webhook"
    );
    InboundItem::Known {
        account: account.cloned(),
        kind: ERROR,
    }
}

/// The readable elements of a loose list.
pub(crate) fn readable<T>(list: wire::LooseList<T>) -> Vec<T> {
    list.ok()
        .unwrap_or_default()
        .into_iter()
        .filter_map(Loose::ok)
        .collect()
}

/// `<code> <title>: <details>` for each error, joined by `; `; `None` when there are none.
pub(crate) fn describe_errors(errors: &[wire::GraphErrorItem]) -> Option<String> {
    let described: Vec<String> = errors.iter().map(describe_error).collect();
    (!described.is_empty()).then(|| described.join("; "))
}

fn describe_error(error: &wire::GraphErrorItem) -> String {
    let title = error
        .title
        .as_ref()
        .ok()
        .or(error.message.as_ref().ok())
        .filter(|title| !title.trim().is_empty());
    let head: Vec<String> = [error.code.text(), title.cloned()]
        .into_iter()
        .flatten()
        .collect();
    let head = head.join(" ");
    match (
        head.is_empty(),
        wire::error_details(error.error_data.as_ref().ok()),
    ) {
        (false, Some(details)) => format!("{head}: {details}"),
        (true, Some(details)) => details.to_owned(),
        (false, None) => head,
        (true, None) => "unknown error".to_owned(),
    }
}

/// Meta's timestamps: Unix seconds, as a string (sometimes a number). Milliseconds (a value
/// past the year 5000 in seconds), fractional seconds and RFC 3339 are accepted too.
fn parse_time(timestamp: &Loose<Lenient>) -> Option<Timestamp> {
    let text = timestamp.text()?;
    let text = text.trim();
    if let Ok(number) = text.parse::<i64>() {
        return Some(if number.abs() >= 100_000_000_000 {
            Timestamp::from_millis(number)
        } else {
            Timestamp::from_secs(number)
        });
    }
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() && seconds.abs() < 100_000_000_000.0 {
            return Some(Timestamp::from_millis((seconds * 1000.0).round() as i64));
        }
    }
    Timestamp::parse_rfc3339(text)
}

pub(crate) fn non_blank(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

/// At most 64 characters of a platform-chosen name (a type, a field), for reasons and texts.
pub(crate) fn bounded(text: &str) -> &str {
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

    /// A type that cannot read `{"body": 5}`, as a stand-in for any strict wire type.
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Strict {
        body: String,
    }

    #[test]
    fn serde_errors_do_not_quote_the_offending_text() {
        let err = serde_json::from_str::<Strict>(r#"{"body": 5}"#).unwrap_err();
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

    #[test]
    fn timestamps_are_read_in_seconds_milliseconds_and_rfc_3339() {
        let time = |json: &str| parse_time(&serde_json::from_str(json).unwrap());
        assert_eq!(
            time(r#""1749416383""#),
            Some(Timestamp::from_secs(1_749_416_383))
        );
        assert_eq!(
            time("1749416383"),
            Some(Timestamp::from_secs(1_749_416_383))
        );
        assert_eq!(
            time("1749416383123"),
            Some(Timestamp::from_millis(1_749_416_383_123))
        );
        assert_eq!(
            time(r#""1749416383.5""#),
            Some(Timestamp::from_millis(1_749_416_383_500))
        );
        assert_eq!(
            time(r#""2025-06-08T20:59:43Z""#),
            Some(Timestamp::from_secs(1_749_416_383))
        );
        assert_eq!(time(r#""yesterday""#), None);
        assert_eq!(time("{}"), None);
        assert_eq!(time("null"), None);
    }
}
