//! Meta's JSON, as it arrives: Page webhooks (`feed` changes and Messenger events) and Graph
//! API v21.0 responses. Private to the crate; converted to core types in `normalize` and
//! `graph`.
//!
//! References: Page webhooks <https://developers.facebook.com/docs/graph-api/webhooks/reference/page/>,
//! Messenger `messages` events
//! <https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages>,
//! Graph errors <https://developers.facebook.com/docs/graph-api/guides/error-handling>.

use crate::graph::parse_graph_time;
use buzon_core::Timestamp;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
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

/// A Unix time in seconds or milliseconds (as a number or a string of digits), or Graph's
/// ISO time (`2024-01-15T10:30:00+0000`). Numbers above 10^11 are milliseconds: Meta sends
/// seconds in feed changes and milliseconds in Messenger events, and payloads mix them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlexTime(pub(crate) Timestamp);

impl<'de> Deserialize<'de> for FlexTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FlexTime, D::Error> {
        struct FlexTimeVisitor;

        impl Visitor<'_> for FlexTimeVisitor {
            type Value = FlexTime;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a Unix time or a Graph time")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<FlexTime, E> {
                i64::try_from(value)
                    .map(|value| FlexTime(seconds_or_millis(value)))
                    .map_err(|_| E::custom("time out of range"))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<FlexTime, E> {
                Ok(FlexTime(seconds_or_millis(value)))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<FlexTime, E> {
                if value.is_finite() && value.abs() < 1e15 {
                    // Whole seconds or milliseconds; a fraction is dropped.
                    Ok(FlexTime(seconds_or_millis(value.trunc() as i64)))
                } else {
                    Err(E::custom("time out of range"))
                }
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<FlexTime, E> {
                let value = value.trim();
                if let Ok(number) = value.parse::<i64>() {
                    return Ok(FlexTime(seconds_or_millis(number)));
                }
                parse_graph_time(value)
                    .map(FlexTime)
                    .ok_or_else(|| E::custom("not a time"))
            }
        }

        deserializer.deserialize_any(FlexTimeVisitor)
    }
}

/// Seconds, or milliseconds when the number is too large to be seconds (after the year 5000).
pub(crate) fn seconds_or_millis(time: i64) -> Timestamp {
    if time.abs() > 100_000_000_000 {
        Timestamp::from_millis(time)
    } else {
        Timestamp::from_secs(time)
    }
}

/// A flag sent as `true`/`false`, `1`/`0` or their strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlexBool(pub(crate) bool);

impl<'de> Deserialize<'de> for FlexBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FlexBool, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Bool(flag) => Ok(FlexBool(flag)),
            serde_json::Value::Number(number) => Ok(FlexBool(number.as_f64() != Some(0.0))),
            serde_json::Value::String(text) => match text.trim() {
                "true" | "1" => Ok(FlexBool(true)),
                "false" | "0" | "" => Ok(FlexBool(false)),
                _ => Err(de::Error::custom("not a flag")),
            },
            serde_json::Value::Null => Ok(FlexBool(false)),
            _ => Err(de::Error::custom("not a flag")),
        }
    }
}

/// A field that should read as `T` but may arrive in another shape. Deserializing a `Loose`
/// never fails: what does not fit `T` is kept as the JSON it was, so one odd field cannot
/// spoil the part around it, and the part can say that something was odd.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Loose<T> {
    /// It had the expected shape.
    Known(T),
    /// It did not.
    Odd(serde_json::Value),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Loose<T>, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(match T::deserialize(&value) {
            Ok(known) => Loose::Known(known),
            Err(_) => Loose::Odd(value),
        })
    }
}

/// Reading an optional loose field: absent, as expected, or odd.
pub(crate) trait LooseField<T> {
    /// The value when it had the expected shape.
    fn known(self) -> Option<T>;
    /// The value, borrowed, when it had the expected shape.
    fn known_ref(&self) -> Option<&T>;
    /// Whether it was present but had another shape (JSON `null` reads as absent).
    fn is_odd(&self) -> bool;
}

impl<T> LooseField<T> for Option<Loose<T>> {
    fn known(self) -> Option<T> {
        match self {
            Some(Loose::Known(value)) => Some(value),
            _ => None,
        }
    }

    fn known_ref(&self) -> Option<&T> {
        match self {
            Some(Loose::Known(value)) => Some(value),
            _ => None,
        }
    }

    fn is_odd(&self) -> bool {
        matches!(self, Some(Loose::Odd(value)) if !value.is_null())
    }
}

/// A string enum whose unknown values are kept as `Other`.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = [$($text:literal),+],)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub(crate) enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value buzon does not know, as it came.
            Other(String),
        }

        impl $name {
            pub(crate) fn parse(text: &str) -> $name {
                match text.trim() {
                    $($($text)|+ => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok($name::parse(&text))
            }
        }
    };
}

/// `{"object":"page","entry":[…]}`, with each entry kept as the bytes it arrived as.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<'a> {
    #[serde(default)]
    pub(crate) object: Option<serde_json::Value>,
    #[serde(default, borrow)]
    pub(crate) entry: Option<&'a RawValue>,
}

/// One Page's share of a delivery; its lists are kept as bytes, split part by part later.
#[derive(Debug, Deserialize)]
pub(crate) struct Entry<'a> {
    #[serde(default)]
    pub(crate) id: Option<Loose<FlexId>>,
    /// Seconds in feed deliveries, milliseconds in Messenger ones.
    #[serde(default)]
    pub(crate) time: Option<Loose<FlexTime>>,
    #[serde(default, borrow)]
    pub(crate) changes: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub(crate) messaging: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub(crate) standby: Option<&'a RawValue>,
}

/// `entry[].changes[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Change {
    #[serde(default)]
    pub(crate) field: Option<Loose<String>>,
    #[serde(default)]
    pub(crate) value: Option<serde_json::Value>,
}

open_enum! {
    /// `value.item` of a `feed` change.
    FeedItem {
        Comment = ["comment"],
        Post = ["post"],
        Status = ["status"],
        Photo = ["photo"],
        Video = ["video"],
        Share = ["share"],
        Reaction = ["reaction"],
        Like = ["like"],
        Rating = ["rating"],
        /// Page-only objects: events, albums, milestones, notes, offers, cover photos.
        PageObject = ["event", "album", "milestone", "note", "coupon", "offer", "page", "cover_photo", "photo_album"],
    }
}

open_enum! {
    /// `value.verb` of a `feed` change.
    FeedVerb {
        Add = ["add"],
        Edited = ["edited", "edit"],
        Remove = ["remove", "delete"],
        Hide = ["hide"],
        Unhide = ["unhide"],
        Block = ["block", "unblock"],
        Mute = ["mute", "unmute"],
        Follow = ["follow", "unfollow"],
        Update = ["update"],
    }
}

/// The `value` of a `feed` change. Every field is optional and loose; `others` holds the
/// fields not named here.
#[derive(Debug, Deserialize)]
pub(crate) struct FeedValue {
    #[serde(default)]
    pub(crate) item: Option<Loose<FeedItem>>,
    #[serde(default)]
    pub(crate) verb: Option<Loose<FeedVerb>>,
    #[serde(default)]
    pub(crate) comment_id: Option<Loose<FlexId>>,
    #[serde(default)]
    pub(crate) post_id: Option<Loose<FlexId>>,
    #[serde(default)]
    pub(crate) parent_id: Option<Loose<FlexId>>,
    #[serde(default)]
    pub(crate) from: Option<Loose<Author>>,
    /// Legacy author id (a JSON number in old payloads).
    #[serde(default)]
    pub(crate) sender_id: Option<Loose<FlexId>>,
    /// Legacy author name.
    #[serde(default)]
    pub(crate) sender_name: Option<Loose<String>>,
    #[serde(default)]
    pub(crate) message: Option<Loose<String>>,
    /// Unix seconds; absent on `remove`.
    #[serde(default)]
    pub(crate) created_time: Option<Loose<FlexTime>>,
    /// Media URL of a comment with a photo.
    #[serde(default)]
    pub(crate) photo: Option<Loose<String>>,
    /// Media URL of a comment with a video.
    #[serde(default)]
    pub(crate) video: Option<Loose<String>>,
    /// Media URL of a `photo` or `video` post.
    #[serde(default)]
    pub(crate) link: Option<Loose<String>>,
    /// Photo URLs of a post with several photos.
    #[serde(default)]
    pub(crate) photos: Option<Loose<Vec<Loose<String>>>>,
    #[serde(flatten)]
    pub(crate) others: serde_json::Map<String, serde_json::Value>,
}

/// `from{id,name}` in webhooks and Graph responses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Author {
    pub(crate) id: FlexId,
    #[serde(default)]
    pub(crate) name: Option<Loose<String>>,
}

/// One `messaging[]` (or `standby[]`) event. Which other key is present says what it is;
/// those stay in `rest`.
#[derive(Debug, Deserialize)]
pub(crate) struct MessagingEvent {
    #[serde(default)]
    pub(crate) sender: Option<Loose<Party>>,
    #[serde(default)]
    pub(crate) timestamp: Option<Loose<FlexTime>>,
    #[serde(flatten)]
    pub(crate) rest: serde_json::Map<String, serde_json::Value>,
}

/// `sender` / `recipient`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Party {
    pub(crate) id: FlexId,
}

/// `message` of a Messenger event; `others` holds the fields not named here.
#[derive(Debug, Deserialize)]
pub(crate) struct MessengerMessage {
    #[serde(default)]
    pub(crate) mid: Option<Loose<FlexId>>,
    #[serde(default)]
    pub(crate) text: Option<Loose<String>>,
    #[serde(default)]
    pub(crate) is_echo: Option<Loose<FlexBool>>,
    #[serde(default)]
    pub(crate) is_deleted: Option<Loose<FlexBool>>,
    #[serde(default)]
    pub(crate) is_unsupported: Option<Loose<FlexBool>>,
    /// Each attachment stays JSON until it is read on its own.
    #[serde(default)]
    pub(crate) attachments: Option<Loose<Vec<serde_json::Value>>>,
    #[serde(default)]
    pub(crate) reply_to: Option<Loose<ReplyTo>>,
    /// Set on stickers (the thumbs-up "like" too), beside an `image` attachment.
    #[serde(default)]
    pub(crate) sticker_id: Option<serde_json::Value>,
    #[serde(flatten)]
    pub(crate) others: serde_json::Map<String, serde_json::Value>,
}

/// `message_edit` of a Messenger event.
#[derive(Debug, Deserialize)]
pub(crate) struct MessageEdit {
    #[serde(default)]
    pub(crate) mid: Option<Loose<FlexId>>,
    #[serde(default)]
    pub(crate) text: Option<Loose<String>>,
}

open_enum! {
    /// `message.attachments[].type`.
    AttachmentKind {
        Image = ["image"],
        Video = ["video"],
        Audio = ["audio"],
        File = ["file"],
        Location = ["location"],
        Reel = ["reel"],
        IgReel = ["ig_reel"],
        StoryMention = ["story_mention"],
        Share = ["share"],
        Fallback = ["fallback"],
        Template = ["template"],
    }
}

/// `message.attachments[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct MessengerAttachment {
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<Loose<AttachmentKind>>,
    /// An object in most attachments; a string in legacy `fallback` ones; sometimes absent.
    #[serde(default)]
    pub(crate) payload: Option<serde_json::Value>,
    /// `fallback` attachments carry these beside the payload.
    #[serde(default)]
    pub(crate) title: Option<Loose<String>>,
    #[serde(default)]
    pub(crate) url: Option<Loose<String>>,
}

/// `attachments[].payload` when it is an object.
#[derive(Debug, Deserialize)]
pub(crate) struct AttachmentPayload {
    #[serde(default)]
    pub(crate) url: Option<Loose<String>>,
    #[serde(default)]
    pub(crate) title: Option<Loose<String>>,
    #[serde(default)]
    pub(crate) sticker_id: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) coordinates: Option<Loose<Coordinates>>,
}

/// `payload.coordinates` of a `location` attachment.
#[derive(Debug, Deserialize)]
pub(crate) struct Coordinates {
    pub(crate) lat: f64,
    pub(crate) long: f64,
}

/// `message.reply_to`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReplyTo {
    #[serde(default)]
    pub(crate) mid: Option<Loose<FlexId>>,
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
    #[serde(default)]
    pub(crate) id: Option<Loose<FlexId>>,
    #[serde(default)]
    pub(crate) message: Option<Loose<String>>,
    /// `2024-01-15T10:30:00+0000`.
    #[serde(default)]
    pub(crate) created_time: Option<Loose<FlexTime>>,
    #[serde(default)]
    pub(crate) from: Option<Loose<Author>>,
    #[serde(default)]
    pub(crate) parent: Option<Loose<Parent>>,
}

/// `parent{id}` of a reply.
#[derive(Debug, Deserialize)]
pub(crate) struct Parent {
    pub(crate) id: FlexId,
}

/// The User Profile API's answer for a PSID, `GET /{psid}?fields=first_name,last_name,profile_pic`
/// (<https://developers.facebook.com/docs/messenger-platform/identity/user-profile>).
#[derive(Debug, Deserialize)]
pub(crate) struct UserProfile {
    #[serde(default)]
    pub(crate) first_name: Option<Loose<String>>,
    #[serde(default)]
    pub(crate) last_name: Option<Loose<String>>,
    /// Not asked for, but kept when an answer carries it.
    #[serde(default)]
    pub(crate) name: Option<Loose<String>>,
    #[serde(default)]
    pub(crate) profile_pic: Option<Loose<String>>,
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
