//! X's JSON as it travels, mirrored just far enough to read what buzon needs. Nothing here
//! leaves the crate: [`crate::activity`] and [`crate::timeline`] turn it into connector types.
//!
//! Inbound parts (a tweet, a DM event, a polled tweet) are read one at a time, every field a
//! [`Loose`] one: ids as strings or integers ([`XId`], never through a float), times as
//! milliseconds or seconds ([`XTime`]), enum-like strings (`type`, `event_type`) as any string,
//! free-form objects as any JSON, unknown fields ignored, every field optional. What a field
//! in an odd shape means for its part is decided in `activity` and `timeline`.

use crate::loose::{Loose, LooseList, XId, XTime};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Account Activity API webhook parts (v1.1 objects).
// https://developer.x.com/en/docs/twitter-api/enterprise/account-activity-api/guides/account-activity-data-objects
// The envelope (`for_user_id`, the event arrays, `users`, `apps`) is read in `activity`.
// ---------------------------------------------------------------------------------------------

/// A v1.1 Tweet object, as `tweet_create_events[]` carries it.
/// https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/tweet
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Tweet {
    pub id_str: Loose<XId>,
    pub id: Loose<XId>,
    pub text: Loose<String>,
    /// `tweet_mode=extended` payloads carry the whole text here instead of `text`.
    pub full_text: Loose<String>,
    /// A tweet over 140 characters: `extended_tweet.full_text` and its entities.
    pub extended_tweet: Loose<V1ExtendedTweet>,
    /// A long post (over 280 characters), where a payload carries it at the top level. [unsure]
    pub note_tweet: Loose<NoteTweet>,
    /// `Wed Oct 10 20:19:24 +0000 2018`.
    pub created_at: Loose<String>,
    pub timestamp_ms: Loose<XTime>,
    pub in_reply_to_status_id_str: Loose<XId>,
    pub in_reply_to_status_id: Loose<XId>,
    pub user: Loose<V1User>,
    /// Present on retweets, which are not messages to answer.
    pub retweeted_status: Loose<serde_json::Value>,
    pub entities: Loose<V1Entities>,
    pub extended_entities: Loose<V1Entities>,
}

/// The long text of a tweet over 140 characters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1ExtendedTweet {
    pub full_text: Loose<String>,
    /// A long post's whole text, where a payload nests it here. [unsure]
    pub note_tweet: Loose<NoteTweet>,
    pub entities: Loose<V1Entities>,
    pub extended_entities: Loose<V1Entities>,
}

/// A long post's text (`note_tweet.text`, v2; the same name is looked for in v1.1 objects).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NoteTweet {
    pub text: Loose<String>,
}

/// A v1.1 User object (only what a contact needs).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1User {
    pub id_str: Loose<XId>,
    pub id: Loose<XId>,
    pub name: Loose<String>,
    pub screen_name: Loose<String>,
}

/// `entities` or `extended_entities` of a tweet: only the media.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Entities {
    pub media: LooseList<V1Media>,
}

/// A v1.1 media object, in a tweet's entities or a DM's `attachment.media`.
/// https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/entities#media
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V1Media {
    pub id_str: Loose<XId>,
    pub id: Loose<XId>,
    /// `photo`, `video` or `animated_gif`; any other value is kept as it came.
    #[serde(rename = "type")]
    pub kind: Loose<String>,
    pub media_url_https: Loose<String>,
    pub media_url: Loose<String>,
    pub video_info: Loose<VideoInfo>,
}

/// A video's or GIF's encodings.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VideoInfo {
    pub variants: LooseList<VideoVariant>,
}

/// One encoding of a video.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VideoVariant {
    pub bitrate: Loose<u64>,
    pub content_type: Loose<String>,
    pub url: Loose<String>,
}

/// One `direct_message_events[]` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ActivityDirectMessage {
    /// `message_create`, the only type the Account Activity API documents.
    #[serde(rename = "type")]
    pub event_type: Loose<String>,
    pub id: Loose<XId>,
    pub created_timestamp: Loose<XTime>,
    pub message_create: Loose<MessageCreate>,
}

/// The `message_create` of a DM event. `target.recipient_id` is read only when the delivery
/// has no `for_user_id` (the 2017 recordings): the recipient is then taken for the account.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MessageCreate {
    pub sender_id: Loose<XId>,
    pub target: Loose<DmTarget>,
    pub message_data: Loose<MessageData>,
}

/// `message_create.target`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DmTarget {
    pub recipient_id: Loose<XId>,
}

/// A DM's content.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MessageData {
    pub text: Loose<String>,
    /// `{"type": "media", "media": {…}}`; another type is kept as it came.
    pub attachment: Loose<DmAttachment>,
    /// `{"type": "options", "metadata": "…"}` when the DM answers a quick reply: the text is
    /// the chosen option's label. Any JSON.
    pub quick_reply_response: Loose<serde_json::Value>,
}

/// A DM's attachment: `media`, or a shared `location`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DmAttachment {
    #[serde(rename = "type")]
    pub kind: Loose<String>,
    pub media: Loose<V1Media>,
    pub location: Loose<DmLocation>,
}

/// A location shared in a DM: `{"type": "shared_coordinate", "shared_coordinate":
/// {"coordinates": {"type": "Point", "coordinates": [longitude, latitude]}}}` (recorded in
/// jimmoffitt/FloodSocial); another type (`shared_place`) is kept as it came.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DmLocation {
    #[serde(rename = "type")]
    pub kind: Loose<String>,
    pub shared_coordinate: Loose<SharedCoordinate>,
}

/// `shared_coordinate` of a DM location.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SharedCoordinate {
    pub coordinates: Loose<GeoPoint>,
}

/// A GeoJSON point: `coordinates` is `[longitude, latitude]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GeoPoint {
    pub coordinates: Loose<Vec<f64>>,
}

/// One `tweet_delete_events[]` entry: `{"status": {"id", "user_id"}, "timestamp_ms"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TweetDeleteEvent {
    pub status: Loose<DeletedStatus>,
}

/// The deleted tweet.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DeletedStatus {
    pub id: Loose<XId>,
    pub id_str: Loose<XId>,
}

// ---------------------------------------------------------------------------------------------
// X API v2 page entries.
// https://docs.x.com/x-api/posts/timelines/quickstart/user-mention-quickstart (GET /2/users/:id/mentions)
// https://docs.x.com/x-api/direct-messages/lookup (GET /2/dm_events)
// The page (`data`, `includes`, `meta`, `errors`) is read in `timeline`.
// ---------------------------------------------------------------------------------------------

/// A v2 tweet with the fields buzon requests (and `note_tweet`, `attachments` when present).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Tweet {
    pub id: Loose<XId>,
    pub text: Loose<String>,
    /// A long post's whole text; `text` then holds its first 280 characters.
    pub note_tweet: Loose<NoteTweet>,
    pub author_id: Loose<XId>,
    pub created_at: Loose<String>,
    pub conversation_id: Loose<XId>,
    pub referenced_tweets: LooseList<ReferencedTweet>,
    pub attachments: Loose<V2Attachments>,
    /// Whom it answers (`tweet.fields=in_reply_to_user_id`).
    pub in_reply_to_user_id: Loose<XId>,
    /// `entities.mentions[]` (`tweet.fields=entities`): whom it @-mentions.
    pub entities: Loose<V2Entities>,
}

/// `entities` of a v2 tweet: only the mentions are read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V2Entities {
    pub mentions: LooseList<V2Mention>,
}

/// `entities.mentions[]`: `{start, end, username, id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V2Mention {
    pub id: Loose<XId>,
}

/// `{type: replied_to|quoted|retweeted, id}`; another type is kept as it came.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReferencedTweet {
    #[serde(rename = "type")]
    pub kind: Loose<String>,
    pub id: Loose<XId>,
}

/// `attachments{media_keys[]}` of a v2 tweet or DM event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V2Attachments {
    pub media_keys: LooseList<String>,
}

/// Expanded objects of a page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Includes {
    pub users: LooseList<V2User>,
    pub media: LooseList<V2Media>,
}

/// A v2 user from `includes.users[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V2User {
    pub id: Loose<XId>,
    pub name: Loose<String>,
    pub username: Loose<String>,
}

/// A v2 media object from `includes.media[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct V2Media {
    pub media_key: Loose<String>,
    /// `photo`, `video` or `animated_gif`; any other value is kept as it came.
    #[serde(rename = "type")]
    pub kind: Loose<String>,
    pub url: Loose<String>,
    pub preview_image_url: Loose<String>,
}

/// A v2 DM event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DmEvent {
    pub id: Loose<XId>,
    /// `MessageCreate`, `ParticipantsJoin` or `ParticipantsLeave`; another value is kept.
    pub event_type: Loose<String>,
    pub text: Loose<String>,
    pub created_at: Loose<String>,
    pub sender_id: Loose<XId>,
    pub attachments: Loose<V2Attachments>,
}

/// The paging part of any v2 list response.
#[derive(Debug, Deserialize)]
pub(crate) struct PageMeta {
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    #[serde(default)]
    pub meta: Option<Meta>,
}

/// `meta{newest_id, next_token}`; an empty page has neither (`{"meta":{"result_count":0}}`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Meta {
    #[serde(default)]
    pub newest_id: Option<String>,
    #[serde(default)]
    pub next_token: Option<String>,
}

/// `POST /2/tweets` body. https://docs.x.com/x-api/posts/create-post
#[derive(Debug, Serialize)]
pub(crate) struct CreateTweet<'a> {
    pub text: &'a str,
    pub reply: CreateTweetReply<'a>,
}

/// The reply part of `POST /2/tweets`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateTweetReply<'a> {
    pub in_reply_to_tweet_id: &'a str,
}

/// `POST /2/tweets` answer: `{"data":{"id","text"}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedTweet {
    pub data: CreatedTweetData,
}

/// The created tweet.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedTweetData {
    pub id: String,
}

/// `POST /2/dm_conversations/with/:participant_id/messages` body.
#[derive(Debug, Serialize)]
pub(crate) struct CreateDirectMessage<'a> {
    pub text: &'a str,
}

/// Its answer: `{"data":{"dm_conversation_id","dm_event_id"}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedDirectMessage {
    pub data: CreatedDirectMessageData,
}

/// The created DM event.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedDirectMessageData {
    pub dm_event_id: String,
}

/// `PUT /2/tweets/:id/hidden` body and answer's `data`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Hidden {
    pub hidden: bool,
}

/// `PUT /2/tweets/:id/hidden` answer: `{"data":{"hidden":bool}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct HiddenResponse {
    pub data: Hidden,
}

/// An error body: RFC 7807 problem JSON (`type`, `title`, `detail`), or the legacy
/// `{"errors":[{"code":88,"message":…}]}`, or `errors[]` of a 200 response.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Problem {
    #[serde(default, rename = "type")]
    pub problem_type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub errors: Vec<ProblemError>,
}

/// One entry of `errors[]`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProblemError {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub problem_type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}
