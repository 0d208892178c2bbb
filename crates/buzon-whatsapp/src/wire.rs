//! The WhatsApp Cloud API's JSON, as it travels. Nothing here leaves the crate: `inbound` and
//! `outbound` turn it into core types at the edge.
//!
//! Inbound structs are as loose as the platform. Every field buzon reads is a [`Loose`]: absent,
//! of the expected shape, or odd (any other JSON), so that one field in an unexpected shape
//! spoils only itself, never its message or its neighbours; unknown fields are ignored. Ids,
//! timestamps and coordinates are strings on the wire but are also accepted as numbers
//! ([`Lenient`]); a text body is also accepted as a bare string; enum-like values (`type`,
//! `status`, `interactive.type`) keep unknown values as `Other(String)`.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};

/// A string, or a number where Meta documents a string (ids, timestamps, coordinates).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Lenient {
    Text(String),
    Number(serde_json::Number),
}

impl Lenient {
    pub(crate) fn into_string(self) -> String {
        match self {
            Lenient::Text(text) => text,
            Lenient::Number(number) => number.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Webhook notifications
//
// The envelope (`object`, `entry[]`, `changes[]`, `field`, `value`) is walked as raw JSON by
// `inbound`, part by part; these types read one part (a message, a status, an error, a
// contact) once its JSON is known to be there.

/// A field read loosely: absent (or `null`), of the expected shape, or odd (present, but in a
/// shape buzon does not read). Deserializing a `Loose` never fails.
#[derive(Debug, Clone, Default)]
pub(crate) enum Loose<T> {
    #[default]
    Absent,
    Ok(T),
    Odd,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Loose<T>, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.is_null() {
            return Ok(Loose::Absent);
        }
        Ok(match serde_json::from_value(value) {
            Ok(value) => Loose::Ok(value),
            Err(_) => Loose::Odd,
        })
    }
}

impl<T> Loose<T> {
    pub(crate) fn as_ref(&self) -> Loose<&T> {
        match self {
            Loose::Absent => Loose::Absent,
            Loose::Ok(value) => Loose::Ok(value),
            Loose::Odd => Loose::Odd,
        }
    }

    /// The value, if it had the expected shape.
    pub(crate) fn ok(self) -> Option<T> {
        match self {
            Loose::Ok(value) => Some(value),
            Loose::Absent | Loose::Odd => None,
        }
    }
}

impl Loose<Lenient> {
    pub(crate) fn text(&self) -> Option<String> {
        self.as_ref().ok().cloned().map(Lenient::into_string)
    }
}

/// A list whose elements are read one by one.
pub(crate) type LooseList<T> = Loose<Vec<Loose<T>>>;

/// A `contacts[]` entry of a `messages` change: the user a message is from. `wa_id` is a
/// phone number; since 2026 a business-scoped user id (`user_id`) and a username come too,
/// and `wa_id` may be absent for username users.
#[derive(Debug, Deserialize)]
pub(crate) struct Contact {
    #[serde(default)]
    pub profile: Loose<Profile>,
    #[serde(default)]
    pub wa_id: Loose<Lenient>,
    #[serde(default)]
    pub user_id: Loose<Lenient>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Profile {
    #[serde(default)]
    pub name: Loose<String>,
    #[serde(default)]
    pub username: Loose<String>,
}

/// A message's `type`. Unknown types are kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MessageType {
    Text,
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    Location,
    Contacts,
    Reaction,
    Button,
    Interactive,
    Order,
    System,
    Unsupported,
    RequestWelcome,
    Edit,
    Revoke,
    Other(String),
}

impl MessageType {
    pub(crate) fn from_name(name: &str) -> MessageType {
        match name {
            "text" => MessageType::Text,
            "image" => MessageType::Image,
            "audio" => MessageType::Audio,
            "video" => MessageType::Video,
            "document" => MessageType::Document,
            "sticker" => MessageType::Sticker,
            "location" => MessageType::Location,
            "contacts" => MessageType::Contacts,
            "reaction" => MessageType::Reaction,
            "button" => MessageType::Button,
            "interactive" => MessageType::Interactive,
            "order" => MessageType::Order,
            "system" => MessageType::System,
            "unsupported" => MessageType::Unsupported,
            "request_welcome" => MessageType::RequestWelcome,
            "edit" => MessageType::Edit,
            "revoke" => MessageType::Revoke,
            other => MessageType::Other(other.to_owned()),
        }
    }

    pub(crate) fn name(&self) -> &str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::Audio => "audio",
            MessageType::Video => "video",
            MessageType::Document => "document",
            MessageType::Sticker => "sticker",
            MessageType::Location => "location",
            MessageType::Contacts => "contacts",
            MessageType::Reaction => "reaction",
            MessageType::Button => "button",
            MessageType::Interactive => "interactive",
            MessageType::Order => "order",
            MessageType::System => "system",
            MessageType::Unsupported => "unsupported",
            MessageType::RequestWelcome => "request_welcome",
            MessageType::Edit => "edit",
            MessageType::Revoke => "revoke",
            MessageType::Other(name) => name,
        }
    }
}

impl<'de> Deserialize<'de> for MessageType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MessageType, D::Error> {
        String::deserialize(deserializer).map(|name| MessageType::from_name(&name))
    }
}

/// An inbound message (also the `message` inside an `edit`, which has only the content).
/// `kind` says which of the content objects is filled.
#[derive(Debug, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    pub from: Loose<Lenient>,
    #[serde(default)]
    pub from_user_id: Loose<Lenient>,
    #[serde(default)]
    pub id: Loose<Lenient>,
    #[serde(default)]
    pub timestamp: Loose<Lenient>,
    #[serde(default, rename = "type")]
    pub kind: Loose<MessageType>,
    /// Set on messages in a group made with the Groups API.
    #[serde(default)]
    pub group_id: Loose<Lenient>,
    #[serde(default)]
    pub context: Loose<Context>,
    #[serde(default)]
    pub text: Loose<TextBody>,
    #[serde(default)]
    pub image: Loose<Media>,
    #[serde(default)]
    pub audio: Loose<Media>,
    #[serde(default)]
    pub video: Loose<Media>,
    #[serde(default)]
    pub document: Loose<Media>,
    #[serde(default)]
    pub sticker: Loose<Media>,
    #[serde(default)]
    pub location: Loose<Location>,
    #[serde(default)]
    pub contacts: LooseList<SharedContact>,
    #[serde(default)]
    pub reaction: Loose<Reaction>,
    #[serde(default)]
    pub button: Loose<Button>,
    #[serde(default)]
    pub interactive: Loose<Interactive>,
    #[serde(default)]
    pub order: Loose<Order>,
    #[serde(default)]
    pub edit: Loose<Edit>,
    #[serde(default)]
    pub revoke: Loose<Revoke>,
    #[serde(default)]
    pub errors: LooseList<GraphErrorItem>,
}

/// What a message answers or quotes (`forwarded` and `frequently_forwarded` are not read).
#[derive(Debug, Deserialize)]
pub(crate) struct Context {
    #[serde(default)]
    pub id: Loose<Lenient>,
}

/// `text`: `{"body": …}` as documented, or a bare string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum TextBody {
    Bare(String),
    Object {
        #[serde(default)]
        body: Loose<Lenient>,
    },
}

/// image, audio, video, document or sticker.
#[derive(Debug, Deserialize)]
pub(crate) struct Media {
    #[serde(default)]
    pub id: Loose<Lenient>,
    #[serde(default)]
    pub mime_type: Loose<String>,
    #[serde(default)]
    pub caption: Loose<String>,
    #[serde(default)]
    pub filename: Loose<String>,
    #[serde(default)]
    pub url: Loose<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Location {
    #[serde(default)]
    pub latitude: Loose<Lenient>,
    #[serde(default)]
    pub longitude: Loose<Lenient>,
    #[serde(default)]
    pub name: Loose<String>,
    #[serde(default)]
    pub address: Loose<String>,
    #[serde(default)]
    pub url: Loose<String>,
}

/// A contact card the user shared.
#[derive(Debug, Deserialize)]
pub(crate) struct SharedContact {
    #[serde(default)]
    pub name: Loose<SharedContactName>,
    #[serde(default)]
    pub phones: LooseList<SharedContactPhone>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SharedContactName {
    #[serde(default)]
    pub formatted_name: Loose<String>,
    #[serde(default)]
    pub first_name: Loose<String>,
    #[serde(default)]
    pub last_name: Loose<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SharedContactPhone {
    #[serde(default)]
    pub phone: Loose<Lenient>,
}

/// A reaction; without `emoji` (or with an empty one) when the user removed it.
#[derive(Debug, Deserialize)]
pub(crate) struct Reaction {
    #[serde(default)]
    pub message_id: Loose<Lenient>,
    #[serde(default)]
    pub emoji: Loose<String>,
}

/// A template quick-reply button press. `payload` is the developer's, any JSON.
#[derive(Debug, Deserialize)]
pub(crate) struct Button {
    #[serde(default)]
    pub text: Loose<String>,
    #[serde(default)]
    pub payload: Loose<serde_json::Value>,
}

/// `interactive.type`. Unknown types are kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InteractiveType {
    ButtonReply,
    ListReply,
    NfmReply,
    Other(String),
}

impl<'de> Deserialize<'de> for InteractiveType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<InteractiveType, D::Error> {
        Ok(match String::deserialize(deserializer)?.as_str() {
            "button_reply" => InteractiveType::ButtonReply,
            "list_reply" => InteractiveType::ListReply,
            "nfm_reply" => InteractiveType::NfmReply,
            other => InteractiveType::Other(other.to_owned()),
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Interactive {
    #[serde(default, rename = "type")]
    pub kind: Loose<InteractiveType>,
    #[serde(default)]
    pub button_reply: Loose<Reply>,
    #[serde(default)]
    pub list_reply: Loose<Reply>,
    #[serde(default)]
    pub nfm_reply: Loose<FlowReply>,
}

/// `button_reply` or `list_reply`.
#[derive(Debug, Deserialize)]
pub(crate) struct Reply {
    #[serde(default)]
    pub title: Loose<String>,
    #[serde(default)]
    pub description: Loose<String>,
}

/// A WhatsApp Flow's answer. `response_json` is documented as a string holding JSON; an
/// object is accepted too.
#[derive(Debug, Deserialize)]
pub(crate) struct FlowReply {
    #[serde(default)]
    pub body: Loose<String>,
    #[serde(default)]
    pub response_json: Loose<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Order {
    #[serde(default)]
    pub text: Loose<String>,
    #[serde(default)]
    pub product_items: LooseList<ProductItem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProductItem {
    #[serde(default)]
    pub product_retailer_id: Loose<Lenient>,
    #[serde(default)]
    pub quantity: Loose<Lenient>,
}

/// The user edited an earlier message: its id, and the new content.
#[derive(Debug, Deserialize)]
pub(crate) struct Edit {
    #[serde(default)]
    pub original_message_id: Loose<Lenient>,
    #[serde(default)]
    pub message: Loose<Box<Message>>,
}

/// The user deleted an earlier message for everyone.
#[derive(Debug, Deserialize)]
pub(crate) struct Revoke {
    #[serde(default)]
    pub original_message_id: Loose<Lenient>,
}

/// `statuses[].status`. `played` is a voice message listened to. Unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatusKind {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
    Other(String),
}

impl<'de> Deserialize<'de> for StatusKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StatusKind, D::Error> {
        Ok(match String::deserialize(deserializer)?.as_str() {
            "sent" => StatusKind::Sent,
            "delivered" => StatusKind::Delivered,
            "read" => StatusKind::Read,
            "played" => StatusKind::Played,
            "failed" => StatusKind::Failed,
            other => StatusKind::Other(other.to_owned()),
        })
    }
}

/// A status of one of our outbound messages. `recipient_id` is not read: it is absent for
/// username (BSUID-only) users; `conversation` and `pricing` (CBP or PMP) are not read
/// either. `biz_opaque_callback_data` echoes what the send carried.
#[derive(Debug, Deserialize)]
pub(crate) struct Status {
    #[serde(default)]
    pub id: Loose<Lenient>,
    #[serde(default)]
    pub status: Loose<StatusKind>,
    #[serde(default)]
    pub timestamp: Loose<Lenient>,
    #[serde(default)]
    pub errors: LooseList<GraphErrorItem>,
    /// What the sender passed as `biz_opaque_callback_data` (buzon: its idempotency key).
    #[serde(default)]
    pub biz_opaque_callback_data: Loose<String>,
}

/// An error as webhooks carry it (`value.errors[]`, `messages[].errors[]`, `statuses[].errors[]`).
#[derive(Debug, Deserialize)]
pub(crate) struct GraphErrorItem {
    #[serde(default)]
    pub code: Loose<Lenient>,
    #[serde(default)]
    pub title: Loose<String>,
    #[serde(default)]
    pub message: Loose<String>,
    #[serde(default)]
    pub error_data: Loose<serde_json::Value>,
}

/// `error_data.details`, when `error_data` is an object holding it (Graph sometimes sends
/// `error_data` as a string instead).
pub(crate) fn error_details(error_data: Option<&serde_json::Value>) -> Option<&str> {
    error_data?
        .get("details")?
        .as_str()
        .filter(|details| !details.trim().is_empty())
}

// ---------------------------------------------------------------------------------------------
// Sending

/// The body of `POST /{phone-number-id}/messages`.
#[derive(Debug, Serialize)]
pub(crate) struct SendRequest<'a> {
    pub messaging_product: &'static str,
    pub recipient_type: &'static str,
    /// A wa_id (phone number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<&'a str>,
    /// A BSUID, for users known only by one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<&'a str>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<OutgoingText<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<OutgoingTemplate<'a>>,
    /// Echoed in this message's status webhooks: buzon's idempotency key of the send, so
    /// that a send whose answer was lost is settled by the platform's own word.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct OutgoingText<'a> {
    pub preview_url: bool,
    pub body: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct OutgoingTemplate<'a> {
    pub name: &'a str,
    pub language: TemplateLanguage<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<TemplateComponent<'a>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TemplateLanguage<'a> {
    pub code: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct TemplateComponent<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub parameters: Vec<TemplateParameter<'a>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TemplateParameter<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: &'a str,
}

/// A 200 answer to a send: `messages[0].id` is the new message's wamid.
#[derive(Debug, Deserialize)]
pub(crate) struct SendResponse {
    #[serde(default)]
    pub messages: Vec<SentMessage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SentMessage {
    pub id: Option<Lenient>,
}

/// The Graph error envelope `{"error":{…}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub error: Option<GraphError>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GraphError {
    pub message: Option<String>,
    pub code: Option<i64>,
    pub error_data: Option<serde_json::Value>,
}
