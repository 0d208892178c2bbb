//! The WhatsApp Cloud API's JSON, as it travels. Nothing here leaves the crate: `inbound` and
//! `outbound` turn it into core types at the edge.
//!
//! Inbound structs are lenient: every field a payload might leave out is optional and unknown
//! fields are ignored, so that a new field or a new message type never makes a delivery
//! unreadable. Ids and timestamps are strings on the wire but are also accepted as numbers.

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

/// The whole body of a webhook delivery.
#[derive(Debug, Deserialize)]
pub(crate) struct Notification {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// One WhatsApp Business Account's part of a delivery.
#[derive(Debug, Deserialize)]
pub(crate) struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change. `value` is read as [`ChangeValue`] only for the `messages` field; other fields
/// (template status updates, account updates…) have other shapes.
#[derive(Debug, Deserialize)]
pub(crate) struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: serde_json::Value,
}

/// The `value` of a `messages` change.
#[derive(Debug, Deserialize)]
pub(crate) struct ChangeValue {
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
    #[serde(default)]
    pub errors: Vec<GraphErrorItem>,
}

/// Our business number the change is about.
#[derive(Debug, Deserialize)]
pub(crate) struct Metadata {
    pub phone_number_id: Option<Lenient>,
}

/// The user a message is from: `wa_id` (a phone number), and since 2026 a business-scoped
/// user id (`user_id`) and a username. `wa_id` may be absent for username users.
#[derive(Debug, Deserialize)]
pub(crate) struct Contact {
    pub profile: Option<Profile>,
    pub wa_id: Option<Lenient>,
    pub user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Profile {
    pub name: Option<String>,
    pub username: Option<String>,
}

/// An inbound message. `kind` decides which of the optional objects is filled.
#[derive(Debug, Deserialize)]
pub(crate) struct Message {
    pub from: Option<Lenient>,
    pub from_user_id: Option<String>,
    pub id: Option<Lenient>,
    pub timestamp: Option<Lenient>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub context: Option<Context>,
    pub text: Option<TextBody>,
    pub image: Option<Media>,
    pub audio: Option<Media>,
    pub video: Option<Media>,
    pub document: Option<Media>,
    pub sticker: Option<Media>,
    pub location: Option<Location>,
    pub contacts: Option<Vec<SharedContact>>,
    pub reaction: Option<Reaction>,
    pub button: Option<Button>,
    pub interactive: Option<Interactive>,
    pub order: Option<Order>,
    pub system: Option<System>,
    #[serde(default)]
    pub errors: Vec<GraphErrorItem>,
}

/// What a message answers or quotes.
#[derive(Debug, Deserialize)]
pub(crate) struct Context {
    pub id: Option<Lenient>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TextBody {
    pub body: Option<String>,
}

/// image, audio, video, document or sticker.
#[derive(Debug, Deserialize)]
pub(crate) struct Media {
    pub id: Option<Lenient>,
    pub mime_type: Option<String>,
    pub caption: Option<String>,
    pub filename: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Location {
    pub latitude: Option<Lenient>,
    pub longitude: Option<Lenient>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub url: Option<String>,
}

/// A contact card the user shared.
#[derive(Debug, Deserialize)]
pub(crate) struct SharedContact {
    pub name: Option<SharedContactName>,
    #[serde(default)]
    pub phones: Vec<SharedContactPhone>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SharedContactName {
    pub formatted_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SharedContactPhone {
    pub phone: Option<String>,
}

/// A reaction; without `emoji` when the user removed it.
#[derive(Debug, Deserialize)]
pub(crate) struct Reaction {
    pub message_id: Option<Lenient>,
    pub emoji: Option<String>,
}

/// A template quick-reply button press.
#[derive(Debug, Deserialize)]
pub(crate) struct Button {
    pub text: Option<String>,
    pub payload: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Interactive {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub button_reply: Option<Reply>,
    pub list_reply: Option<Reply>,
    pub nfm_reply: Option<FlowReply>,
}

/// `button_reply` or `list_reply`.
#[derive(Debug, Deserialize)]
pub(crate) struct Reply {
    pub title: Option<String>,
    pub description: Option<String>,
}

/// A WhatsApp Flow's answer.
#[derive(Debug, Deserialize)]
pub(crate) struct FlowReply {
    pub body: Option<String>,
    pub response_json: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Order {
    pub text: Option<String>,
    #[serde(default)]
    pub product_items: Vec<ProductItem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProductItem {
    pub product_retailer_id: Option<Lenient>,
    pub quantity: Option<Lenient>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct System {
    pub body: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A status of one of our outbound messages. `recipient_id` is not read: it is absent for
/// username (BSUID-only) users.
#[derive(Debug, Deserialize)]
pub(crate) struct Status {
    pub id: Option<Lenient>,
    pub status: Option<String>,
    pub timestamp: Option<Lenient>,
    #[serde(default)]
    pub errors: Vec<GraphErrorItem>,
}

/// An error as webhooks carry it (`value.errors[]`, `messages[].errors[]`, `statuses[].errors[]`).
#[derive(Debug, Deserialize)]
pub(crate) struct GraphErrorItem {
    pub code: Option<i64>,
    pub title: Option<String>,
    pub message: Option<String>,
    pub error_data: Option<serde_json::Value>,
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
