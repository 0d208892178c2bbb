//! Meta's JSON, as it arrives: Page webhooks (`feed` changes and Messenger events) and Graph
//! API v21.0 responses. Private to the crate; converted to core types in `normalize` and
//! `graph`.
//!
//! References: Page webhooks <https://developers.facebook.com/docs/graph-api/webhooks/reference/page/>,
//! Messenger `messages` events
//! <https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages>,
//! Graph errors <https://developers.facebook.com/docs/graph-api/guides/error-handling>.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An id that Meta sends as a string, or (legacy payloads) as a JSON integer. Integers are
/// read as integers, never through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlexId(pub(crate) String);

impl<'de> Deserialize<'de> for FlexId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FlexId, D::Error> {
        struct FlexIdVisitor;

        impl Visitor<'_> for FlexIdVisitor {
            type Value = FlexId;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an id as a string or an integer")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<FlexId, E> {
                Ok(FlexId(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<FlexId, E> {
                Ok(FlexId(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<FlexId, E> {
                Ok(FlexId(value.to_string()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<FlexId, E> {
                Ok(FlexId(value.to_string()))
            }
        }

        deserializer.deserialize_any(FlexIdVisitor)
    }
}

/// A Unix time that Meta sends as an integer, or sometimes as a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlexInt(pub(crate) i64);

impl<'de> Deserialize<'de> for FlexInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FlexInt, D::Error> {
        struct FlexIntVisitor;

        impl Visitor<'_> for FlexIntVisitor {
            type Value = FlexInt;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an integer, or a string of digits")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<FlexInt, E> {
                i64::try_from(value)
                    .map(FlexInt)
                    .map_err(|_| E::custom("integer out of range"))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<FlexInt, E> {
                Ok(FlexInt(value))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<FlexInt, E> {
                value
                    .trim()
                    .parse()
                    .map(FlexInt)
                    .map_err(|_| E::custom("not an integer"))
            }
        }

        deserializer.deserialize_any(FlexIntVisitor)
    }
}

/// `{"object":"page","entry":[…]}`. Changes and Messenger events stay loose JSON here so
/// that one odd event cannot spoil the rest of a batch.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    pub(crate) object: String,
    #[serde(default)]
    pub(crate) entry: Vec<Entry>,
}

/// One Page's share of a delivery.
#[derive(Debug, Deserialize)]
pub(crate) struct Entry {
    pub(crate) id: FlexId,
    /// Seconds in most payloads, milliseconds in Messenger ones.
    #[serde(default)]
    pub(crate) time: Option<FlexInt>,
    #[serde(default)]
    pub(crate) changes: Vec<serde_json::Value>,
    #[serde(default)]
    pub(crate) messaging: Vec<serde_json::Value>,
    #[serde(default)]
    pub(crate) standby: Vec<serde_json::Value>,
}

/// `entry[].changes[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Change {
    #[serde(default)]
    pub(crate) field: String,
    #[serde(default)]
    pub(crate) value: serde_json::Value,
}

/// The `value` of a `feed` change.
#[derive(Debug, Deserialize)]
pub(crate) struct FeedValue {
    #[serde(default)]
    pub(crate) item: Option<String>,
    #[serde(default)]
    pub(crate) verb: Option<String>,
    #[serde(default)]
    pub(crate) comment_id: Option<FlexId>,
    #[serde(default)]
    pub(crate) post_id: Option<FlexId>,
    #[serde(default)]
    pub(crate) parent_id: Option<FlexId>,
    #[serde(default)]
    pub(crate) from: Option<Author>,
    /// Legacy author id (a JSON number in old payloads).
    #[serde(default)]
    pub(crate) sender_id: Option<FlexId>,
    /// Legacy author name.
    #[serde(default)]
    pub(crate) sender_name: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    /// Unix seconds; absent on `remove`.
    #[serde(default)]
    pub(crate) created_time: Option<FlexInt>,
    /// Media URL of a comment with a photo.
    #[serde(default)]
    pub(crate) photo: Option<String>,
    /// Media URL of a comment with a video.
    #[serde(default)]
    pub(crate) video: Option<String>,
    /// Media URL of a `photo` or `video` post.
    #[serde(default)]
    pub(crate) link: Option<String>,
}

/// `from{id,name}` in webhooks and Graph responses.
#[derive(Debug, Deserialize)]
pub(crate) struct Author {
    pub(crate) id: FlexId,
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// One `messaging[]` (or `standby[]`) item. Which key is present says what it is.
#[derive(Debug, Deserialize)]
pub(crate) struct MessagingEvent {
    #[serde(default)]
    pub(crate) sender: Option<Party>,
    #[serde(default)]
    pub(crate) timestamp: Option<FlexInt>,
    #[serde(default)]
    pub(crate) message: Option<MessengerMessage>,
    #[serde(default)]
    pub(crate) read: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) delivery: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) postback: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) reaction: Option<serde_json::Value>,
}

/// `sender` / `recipient`.
#[derive(Debug, Deserialize)]
pub(crate) struct Party {
    pub(crate) id: FlexId,
}

/// `message` of a Messenger event.
#[derive(Debug, Deserialize)]
pub(crate) struct MessengerMessage {
    #[serde(default)]
    pub(crate) mid: Option<FlexId>,
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) is_echo: bool,
    #[serde(default)]
    pub(crate) is_deleted: bool,
    #[serde(default)]
    pub(crate) is_unsupported: bool,
    #[serde(default)]
    pub(crate) attachments: Vec<MessengerAttachment>,
    #[serde(default)]
    pub(crate) reply_to: Option<ReplyTo>,
}

/// `message.attachments[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct MessengerAttachment {
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) payload: Option<AttachmentPayload>,
}

/// `attachments[].payload`; only the URL matters here.
#[derive(Debug, Deserialize)]
pub(crate) struct AttachmentPayload {
    #[serde(default)]
    pub(crate) url: Option<String>,
}

/// `message.reply_to`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReplyTo {
    #[serde(default)]
    pub(crate) mid: Option<FlexId>,
}

/// A Graph list: `{"data":[…],"paging":{…}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct GraphList<T> {
    #[serde(default = "Vec::new")]
    pub(crate) data: Vec<T>,
    #[serde(default)]
    pub(crate) paging: Option<Paging>,
}

/// `paging` of a Graph list.
#[derive(Debug, Deserialize)]
pub(crate) struct Paging {
    #[serde(default)]
    pub(crate) cursors: Option<PagingCursors>,
    #[serde(default)]
    pub(crate) next: Option<String>,
}

/// `paging.cursors`.
#[derive(Debug, Deserialize)]
pub(crate) struct PagingCursors {
    #[serde(default)]
    pub(crate) after: Option<String>,
}

/// A post from `GET /{page-id}/feed?fields=id,message,created_time,from`, or a comment from
/// `GET /{post-id}/comments?fields=id,message,created_time,from,parent{id}`.
#[derive(Debug, Deserialize)]
pub(crate) struct GraphObject {
    pub(crate) id: FlexId,
    #[serde(default)]
    pub(crate) message: Option<String>,
    /// `2024-01-15T10:30:00+0000`.
    #[serde(default)]
    pub(crate) created_time: Option<String>,
    #[serde(default)]
    pub(crate) from: Option<Author>,
    #[serde(default)]
    pub(crate) parent: Option<Parent>,
}

/// `parent{id}` of a reply.
#[derive(Debug, Deserialize)]
pub(crate) struct Parent {
    pub(crate) id: FlexId,
}

/// The Graph error envelope.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub(crate) error: GraphError,
}

/// `error{…}`.
#[derive(Debug, Deserialize)]
pub(crate) struct GraphError {
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) code: Option<FlexInt>,
    #[serde(default)]
    pub(crate) error_subcode: Option<FlexInt>,
    #[serde(default)]
    pub(crate) fbtrace_id: Option<String>,
    #[serde(default)]
    pub(crate) is_transient: bool,
}

/// `POST /{object-id}/comments` body.
#[derive(Debug, Serialize)]
pub(crate) struct CommentRequest<'a> {
    pub(crate) message: &'a str,
}

/// `POST /{object-id}/comments` answer.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedObject {
    pub(crate) id: FlexId,
}

/// `POST /{page-id}/messages` body (Send API).
#[derive(Debug, Serialize)]
pub(crate) struct SendMessageRequest<'a> {
    pub(crate) recipient: Recipient<'a>,
    pub(crate) messaging_type: &'static str,
    pub(crate) message: TextMessage<'a>,
}

/// `recipient` of a Send API call.
#[derive(Debug, Serialize)]
pub(crate) struct Recipient<'a> {
    pub(crate) id: &'a str,
}

/// `message` of a Send API call.
#[derive(Debug, Serialize)]
pub(crate) struct TextMessage<'a> {
    pub(crate) text: &'a str,
}

/// Send API answer, `{"recipient_id":…,"message_id":…}`; only the message id is kept.
#[derive(Debug, Deserialize)]
pub(crate) struct SendMessageResponse {
    pub(crate) message_id: FlexId,
}

/// `POST /{comment-id}` body that hides or shows a comment.
#[derive(Debug, Serialize)]
pub(crate) struct HideRequest {
    pub(crate) is_hidden: bool,
}

/// `{"success":true}`.
#[derive(Debug, Deserialize)]
pub(crate) struct SuccessResponse {
    #[serde(default)]
    pub(crate) success: bool,
}
