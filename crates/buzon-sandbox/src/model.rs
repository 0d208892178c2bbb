//! The sandbox's public vocabulary: what can be injected, what was generated, what was
//! received, which faults are on and what was counted.

use crate::content::{Category, Language};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A platform as the sandbox stands in for it (and as webhook targets are named).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Facebook Pages and Messenger (Graph API).
    Facebook,
    /// WhatsApp Business Cloud API (Graph API).
    Whatsapp,
    /// X API v2.
    X,
}

impl Platform {
    /// The lowercase name used in URLs: `facebook`, `whatsapp`, `x`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Facebook => "facebook",
            Platform::Whatsapp => "whatsapp",
            Platform::X => "x",
        }
    }
}

/// Where an item appears: a platform surface with its own ids and delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A comment (or a reply to a comment) on one of the Page's posts.
    Facebook,
    /// A Messenger message to the Page.
    Messenger,
    /// A WhatsApp message to the business number.
    Whatsapp,
    /// A public X post mentioning the account.
    X,
    /// An X direct message to the account.
    XDm,
    /// A post or comment outside the Page's own feed that tags the Page (the Page `mention`
    /// webhook, which carries no text: clients fetch the object).
    FacebookMention,
    /// A recommendation (review) of the Page (the Page `ratings` webhook and edge).
    FacebookReview,
    /// A public X post that does not mention the account (found by recent search only; X
    /// sends no Account Activity event for it).
    XPost,
}

impl Source {
    /// The platform the surface belongs to.
    pub fn platform(self) -> Platform {
        match self {
            Source::Facebook
            | Source::Messenger
            | Source::FacebookMention
            | Source::FacebookReview => Platform::Facebook,
            Source::Whatsapp => Platform::Whatsapp,
            Source::X | Source::XDm | Source::XPost => Platform::X,
        }
    }
}

/// One specific item to create now, as if a customer had written it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Injection {
    /// Where it appears.
    pub platform: Source,
    /// Its text.
    pub text: String,
    /// The author's platform id (Facebook user id, PSID, wa_id, X user id). A generated
    /// customer's when absent.
    #[serde(default)]
    pub author_id: Option<String>,
    /// The author's display name.
    #[serde(default)]
    pub author_name: Option<String>,
    /// When the customer wrote it, Unix seconds (now when absent). An old time closes the
    /// 24-hour window for that customer.
    #[serde(default)]
    pub at: Option<i64>,
    /// Facebook: the post to comment on (`<pageid>_<postid>`); the newest post when absent.
    /// Facebook mention of `item` `comment`: the post (someone else's, `<userid>_<postid>`)
    /// the tagging comment is on; a new one when absent.
    #[serde(default)]
    pub post_id: Option<String>,
    /// Facebook: the comment to reply to. X: the post to reply to. X post with `retweet`:
    /// the post to repost (its text is used; `text` is then ignored).
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Facebook mention: `post` (the default; a post on the author's own timeline) or
    /// `comment` (a comment on someone else's post).
    #[serde(default)]
    pub item: Option<String>,
    /// How many times the webhook is delivered (1 when absent; 0 sends none, to leave a gap
    /// that only polling can fill; at most 100). Works for every source.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// Facebook review: `positive` (the default) or `negative`.
    #[serde(default)]
    pub recommendation: Option<String>,
    /// X post or X mention: the post's language (`es`, `en`, …, as `lang` gives it); the
    /// author's when absent.
    #[serde(default)]
    pub lang: Option<String>,
    /// X post: a repost (`RT @<author>: <text>`, `referenced_tweets` `retweeted`). The
    /// original is created too, eight days earlier (outside recent search's window), unless
    /// `parent_id` names it.
    #[serde(default)]
    pub retweet: bool,
}

impl Injection {
    /// An injection of `text` on `platform`, by a generated customer, now.
    pub fn new(platform: Source, text: impl Into<String>) -> Injection {
        Injection {
            platform,
            text: text.into(),
            author_id: None,
            author_name: None,
            at: None,
            post_id: None,
            parent_id: None,
            item: None,
            repeat: None,
            recommendation: None,
            lang: None,
            retweet: false,
        }
    }

    /// The same injection by a given author.
    pub fn by(mut self, author_id: impl Into<String>, author_name: impl Into<String>) -> Injection {
        self.author_id = Some(author_id.into());
        self.author_name = Some(author_name.into());
        self
    }

    /// The same injection written at `unix_secs`.
    pub fn at(mut self, unix_secs: i64) -> Injection {
        self.at = Some(unix_secs);
        self
    }
}

/// An item the sandbox created (generated or injected), with its platform ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedItem {
    /// Creation order, from 1.
    pub seq: u64,
    /// Where it appears.
    pub platform: Source,
    /// `comment`, `reply`, `message`, `image`, `location`, `reaction`, `mention`, `dm`;
    /// `post` or `comment` (Facebook mentions), `review` (Facebook reviews), `post` or
    /// `retweet` (X posts).
    pub kind: String,
    /// Its platform id: comment id, mid, wamid, post id, DM event id or review id (the
    /// review's `open_graph_story` id).
    pub id: String,
    /// The thread: the post id (Facebook, Facebook mentions), PSID (Messenger), wa_id
    /// (WhatsApp), conversation id (X, X posts), DM conversation id (X DM) or the review id.
    pub thread_id: String,
    /// The parent comment (Facebook replies), the replied-to post (X) or the reposted post
    /// (X retweets).
    pub parent_id: Option<String>,
    /// The author's platform id.
    pub author_id: String,
    /// The author's display name.
    pub author_name: String,
    /// The text (the caption or emoji for media and reactions; the review text).
    pub text: String,
    /// When the customer wrote it, Unix seconds.
    pub at: i64,
    /// The kind of text.
    pub category: Category,
    /// Its language.
    pub language: Language,
}

/// A write the sandbox received from a client: a reply, hide, delete or send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedReply {
    /// Where it was sent.
    pub platform: Source,
    /// `comment_reply`, `hide`, `unhide`, `delete`, `message`, `template`, `read`, `post`,
    /// `reply`, `dm`.
    pub action: String,
    /// The HTTP method.
    pub method: String,
    /// The request path, as received.
    pub path: String,
    /// The thread or target id (comment, PSID, wa_id, replied-to post, DM participant).
    pub target_id: String,
    /// The text sent, when there was one.
    pub text: Option<String>,
    /// The id the sandbox returned for the new object.
    pub returned_id: Option<String>,
    /// The HTTP status the sandbox answered.
    pub status: u16,
    /// Whether the platform accepted it (a refused send outside the window is recorded too).
    pub accepted: bool,
    /// When it was received, Unix seconds.
    pub at: i64,
}

/// Misbehaviour to inject. Posting a new set replaces the old one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// The share of API calls (0.0–1.0) answered with a throttling error or a 500, half each.
    pub error_ratio: f64,
    /// Delay added to every Graph and X API response, in milliseconds. The request takes
    /// effect first, so a client that times out does not know whether its write happened.
    pub slow_ms: u64,
    /// Platforms whose tokens are reported expired (Graph 190/463, X 401).
    pub expired_token: Vec<Platform>,
    /// Treat every Messenger and WhatsApp 24-hour window as closed.
    pub window_closed: bool,
    /// Deliver each webhook twice.
    pub duplicate_webhooks: bool,
    /// Deliver webhooks out of order within small batches.
    pub shuffle_webhooks: bool,
    /// The user refuses consent on the OAuth dialogs (Facebook Login and X).
    pub refuse_consent: bool,
    /// X refuses refresh-token grants (as when the user revoked the app).
    pub refuse_refresh: bool,
    /// The share of sends (replies, comments, DMs, tweets; 0.0–1.0) that take effect — the
    /// customer gets them — and are then answered with a 500 (Graph code 1, X's problem
    /// JSON): the failure that reveals a client that repeats sends.
    pub accepted_then_500: f64,
    /// The share of sends that take effect and are never answered (the client times out).
    pub accepted_then_silent: f64,
    /// The share of sends answered with the same 500 *before* they take effect: to the client
    /// it looks exactly like `accepted_then_500`, but nothing reached the customer.
    pub refused_with_500: f64,
}

/// What the sandbox counted since it started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests per endpoint, keyed `METHOD /route/{param}`.
    pub requests: BTreeMap<String, u64>,
    /// Responses with HTTP status 429.
    pub responses_429: u64,
    /// Throttling answers of any form: 429s and Graph rate-limit errors (code 32, HTTP 400).
    pub throttled: u64,
    /// Responses with a 5xx status.
    pub server_errors: u64,
    /// X requests made while the endpoint's remaining budget was already 0 (a well-behaved
    /// client keeps this at 0).
    pub rate_limit_violations: u64,
    /// Webhook deliveries answered 2xx.
    pub webhooks_delivered: u64,
    /// Webhook deliveries given up after every retry.
    pub webhooks_failed: u64,
    /// Webhook POST attempts, retries included.
    pub webhook_attempts: u64,
    /// Webhook deliveries queued, scheduled or being retried.
    pub webhooks_pending: u64,
    /// X CRC challenges sent to the target before Account Activity deliveries.
    pub x_crc_checks: u64,
    /// X CRC challenges the target answered wrongly (its X deliveries wait and retry).
    pub x_crc_failures: u64,
    /// Items generated or injected.
    pub generated: u64,
    /// Writes recorded (see [`RecordedReply`]).
    pub replies: u64,
    /// Sends that took effect and were answered with a 500 (`accepted_then_500`).
    pub accepted_then_failed: u64,
    /// Sends that took effect and were never answered (`accepted_then_silent`).
    pub accepted_then_silent: u64,
    /// Sends answered 500 before they took effect (`refused_with_500`).
    pub refused_with_500: u64,
}
