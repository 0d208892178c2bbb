//! Unit tests of webhook normalization: each known event kind, salvage of odd messages, the
//! shapes of parts, and the recorded corpus.

mod corpus;
mod known;
mod mutations;
mod salvage;

use crate::inbound::normalize_webhook;
use buzon_connector::{InboundItem, Part, PlatformMessage};
use buzon_core::ExternalId;

fn id(raw: &str) -> ExternalId {
    ExternalId::parse(raw).expect("a valid id")
}

/// The parts of a body that is a WhatsApp delivery.
fn parts(body: &str) -> Vec<Part> {
    normalize_webhook(body.as_bytes()).unwrap_or_else(|err| panic!("{err}: {body}"))
}

/// A delivery of one change of `field` with `value` (JSON).
fn change(field: &str, value: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"field":"{field}","value":{value}}}]}}]}}"#
    )
}

/// A `messages` change on number 106540352242922 from Sheena (16505551234) carrying
/// `messages` (the JSON of the list's elements).
fn messages(messages: &str) -> String {
    change(
        "messages",
        &format!(
            r#"{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},
            "contacts":[{{"profile":{{"name":"Sheena Nelson"}},"wa_id":"16505551234"}}],"messages":[{messages}]}}"#
        ),
    )
}

/// The one part of a body.
fn only_part(body: &str) -> Part {
    match <[Part; 1]>::try_from(parts(body)) {
        Ok([part]) => part,
        Err(parts) => panic!("expected one part, got {parts:?}"),
    }
}

/// The one part of a body, which must be a message.
fn only_message(body: &str) -> PlatformMessage {
    match only_part(body).item {
        InboundItem::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}
