//! X's JSON as it travels, mirrored just far enough to read what buzon needs. Nothing here
//! leaves the crate: [`crate::activity`] and [`crate::timeline`] turn it into connector types.
//!
//! Ids are read as strings. Where an older payload may carry a bare number, [`id_string`]
//! accepts it as an integer (serde_json keeps integers that fit in `u64` exact), never as a
//! float.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashMap;

/// Reads an id that is a JSON string or a JSON integer, as a string.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum RawId {
        Text(String),
        Number(u64),
    }
    Ok(match RawId::deserialize(deserializer)? {
        RawId::Text(text) => text,
        RawId::Number(number) => number.to_string(),
    })
}

/// [`id_string`] for an optional field.
pub(crate) fn optional_id_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "id_string")] String);
    Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(id)| id))
}

// ---------------------------------------------------------------------------------------------
// Account Activity API webhook bodies (v1.1 objects).
// https://developer.twitter.com/en/docs/twitter-api/enterprise/account-activity-api/guides/account-activity-data-objects
// ---------------------------------------------------------------------------------------------

/// One Account Activity delivery: `for_user_id` plus one or more `*_events` arrays.
#[derive(Debug, Deserialize)]
pub(crate) struct ActivityPayload {
    #[serde(default, deserialize_with = "optional_id_string")]
    pub for_user_id: Option<String>,
    #[serde(default)]
    pub tweet_create_events: Vec<V1Tweet>,
    #[serde(default)]
    pub direct_message_events: Vec<ActivityDirectMessage>,
    #[serde(default)]
    pub tweet_delete_events: Vec<TweetDeleteEvent>,
    /// User objects by id, for DM events.
    #[serde(default)]
    pub users: HashMap<String, serde_json::Value>,
    /// App objects by id. The published DM example nests `users` in here, and puts user
    /// objects beside the apps, so user lookups search this map too.
    #[serde(default)]
    pub apps: HashMap<String, serde_json::Value>,
    /// Every other key: other event types (`favorite_events`, `follow_events`, …) and flags.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A v1.1 Tweet object, as `tweet_create_events[]` carries it.
/// https://developer.twitter.com/en/docs/twitter-api/v1/data-dictionary/object-model/tweet
#[derive(Debug, Deserialize)]
pub(crate) struct V1Tweet {
    #[serde(default)]
    pub id_str: Option<String>,
    #[serde(default, deserialize_with = "optional_id_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub full_text: Option<String>,
    #[serde(default)]
    pub extended_tweet: Option<V1ExtendedTweet>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub timestamp_ms: Option<String>,
    #[serde(default)]
    pub in_reply_to_status_id_str: Option<String>,
    #[serde(default)]
    pub user: Option<V1User>,
    /// Present on retweets, which are not messages to answer.
    #[serde(default)]
    pub retweeted_status: Option<serde_json::Value>,
}

/// The long text of a tweet over 140 characters.
#[derive(Debug, Deserialize)]
pub(crate) struct V1ExtendedTweet {
    #[serde(default)]
    pub full_text: Option<String>,
}

/// A v1.1 User object (only what a contact needs).
#[derive(Debug, Deserialize)]
pub(crate) struct V1User {
    #[serde(default)]
    pub id_str: Option<String>,
    #[serde(default, deserialize_with = "optional_id_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub screen_name: Option<String>,
}

/// One `direct_message_events[]` entry.
#[derive(Debug, Deserialize)]
pub(crate) struct ActivityDirectMessage {
    #[serde(default, rename = "type")]
    pub event_type: Option<String>,
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(default)]
    pub created_timestamp: Option<String>,
    #[serde(default)]
    pub message_create: Option<MessageCreate>,
}

/// The `message_create` of a DM event. `target.recipient_id` is not read: deliveries of
/// our own DMs are skipped, so the recipient is always the account.
#[derive(Debug, Deserialize)]
pub(crate) struct MessageCreate {
    #[serde(default, deserialize_with = "optional_id_string")]
    pub sender_id: Option<String>,
    #[serde(default)]
    pub message_data: Option<MessageData>,
}

/// A DM's content.
#[derive(Debug, Deserialize)]
pub(crate) struct MessageData {
    #[serde(default)]
    pub text: Option<String>,
}

/// One `tweet_delete_events[]` entry.
#[derive(Debug, Deserialize)]
pub(crate) struct TweetDeleteEvent {
    pub status: DeletedStatus,
}

/// The deleted tweet.
#[derive(Debug, Deserialize)]
pub(crate) struct DeletedStatus {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
}

// ---------------------------------------------------------------------------------------------
// X API v2 responses.
// https://docs.x.com/x-api/posts/timelines/quickstart/user-mention-quickstart (GET /2/users/:id/mentions)
// https://docs.x.com/x-api/direct-messages/lookup (GET /2/dm_events)
// ---------------------------------------------------------------------------------------------

/// A page of tweets (`GET /2/users/:id/mentions`). `errors[]` beside `data` (partial errors)
/// is ignored on purpose.
#[derive(Debug, Deserialize)]
pub(crate) struct TweetPage {
    #[serde(default)]
    pub data: Vec<Tweet>,
    #[serde(default)]
    pub includes: Option<Includes>,
}

/// A v2 tweet with the fields buzon requests.
#[derive(Debug, Deserialize)]
pub(crate) struct Tweet {
    pub id: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub author_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub referenced_tweets: Vec<ReferencedTweet>,
}

/// `{type: replied_to|quoted|retweeted, id}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReferencedTweet {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// Expanded objects.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Includes {
    #[serde(default)]
    pub users: Vec<V2User>,
}

/// A v2 user from `includes.users[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct V2User {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// A page of DM events (`GET /2/dm_events`).
#[derive(Debug, Deserialize)]
pub(crate) struct DmEventPage {
    #[serde(default)]
    pub data: Vec<DmEvent>,
    #[serde(default)]
    pub includes: Option<Includes>,
}

/// A v2 DM event.
#[derive(Debug, Deserialize)]
pub(crate) struct DmEvent {
    pub id: String,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub sender_id: Option<String>,
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
