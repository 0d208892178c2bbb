//! buzon-connector: what every platform connector is — the [`Connector`] trait, the error
//! type that tells the dispatcher and pollers what to do next, the normalized items that
//! parsing produces — and the one shared HTTP client (timeouts, jittered exponential retries
//! with `backon`, and respect for the platforms' rate-limit headers).
//!
//! It must not depend on the store or the web crate: connectors never touch the database.
//! Verifying and parsing are pure (bytes in, values out); only polling, sending and
//! moderating do I/O.

#![forbid(unsafe_code)]

mod client;
mod error;
pub mod oauth;
mod signature;

pub use client::{
    meta_usage_wait, x_rate_limit_wait, HttpClient, RateLimitGate, RawResponse, RetryPolicy,
    READS_DEFER_TO_SENDS,
};
pub use error::ConnectorError;
pub use http::HeaderMap;
pub use oauth::{AuthorizationStart, OAuthApp, OAuthTokens};
pub use signature::{constant_time_eq, hmac_sha256};

use buzon_core::{
    Attachment, Channel, ChannelCredentials, ChannelKind, ConversationKind, DeliveryStatus,
    ExternalId, NewContact, Timestamp,
};
use std::time::Duration;

/// One part of a delivery (an entry, a change, a messaging event, a status, an event of an
/// activity batch) and what became of it. Every part of a delivery yields exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Where the part sits in the delivery, as a JSON path: `entry[0].messaging[1]`,
    /// `entry[0].changes[0].value.statuses[2]`, `tweet_create_events[0]`; `$` is the whole body.
    pub path: String,
    /// What it became.
    pub item: InboundItem,
}

impl Part {
    /// A part at `path` that became `item`.
    pub fn new(path: impl Into<String>, item: InboundItem) -> Part {
        Part {
            path: path.into(),
            item,
        }
    }
}

/// What a connector makes of one part of a raw body: something to store, a known event that
/// carries no message, or a part it did not recognise. There is no fourth outcome: nothing a
/// platform sends is silently dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundItem {
    /// A new message, comment, post, mention or DM.
    Message(PlatformMessage),
    /// An edit of a message already seen (or not yet seen: then it is stored as new).
    Edited(PlatformMessage),
    /// The platform removed a message (a deleted comment or tweet).
    Removed {
        /// The platform account (Page id, phone number id, X user id) it arrived for.
        account: ExternalId,
        /// The removed message's platform id.
        platform_id: ExternalId,
    },
    /// A message was hidden or unhidden on the platform.
    Hidden {
        /// The platform account it arrived for.
        account: ExternalId,
        /// The message's platform id.
        platform_id: ExternalId,
        /// Hidden (true) or shown again (false).
        hidden: bool,
    },
    /// A delivery status for one of our outbound messages.
    Status {
        /// The platform account it arrived for.
        account: ExternalId,
        /// Our outbound message's platform id.
        platform_id: ExternalId,
        /// sent, delivered, read or failed.
        status: DeliveryStatus,
        /// The failure in words, for failed.
        error: Option<String>,
        /// The platform's time of the status.
        at: Timestamp,
        /// The reference buzon sent with the message, when the platform echoes it (WhatsApp's
        /// `biz_opaque_callback_data`): it settles a send whose answer was lost.
        reference: Option<String>,
    },
    /// A known event that carries no message for the inbox (the echo of our own send, a read
    /// or delivery receipt, typing, the account's own post, a like of the Page…), named by
    /// kind. Each connector lists the kinds it knows.
    Known {
        /// The platform account it arrived for, when the part says.
        account: Option<ExternalId>,
        /// What it is, from the connector's list (`echo`, `read`, `delivery`, `typing`…).
        kind: &'static str,
    },
    /// A notification that names an object without its content (a Facebook Page mention: the
    /// webhook carries ids, not text): the channel's poller fetches it with
    /// [`Connector::fetch_objects`] and stores the answer in the event log like a polled page.
    /// A repeat (an edit) fetches it again.
    Fetch {
        /// The platform account it arrived for.
        account: ExternalId,
        /// The object to fetch (a post or comment id).
        object_id: ExternalId,
    },
    /// A part the connector did not recognise: its event is kept as `unparsed` with the part's
    /// path and this reason, counted and shown to admins, and can be replayed once buzon
    /// understands it.
    Unrecognized {
        /// The platform account it arrived for, when that much could be read.
        account: Option<ExternalId>,
        /// Why, in words (never a token; the part's own words may appear).
        reason: String,
    },
}

/// What kind of thing a platform message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A comment or a reply to a comment on a post.
    Comment,
    /// A post by someone else on the Page.
    Post,
    /// A public mention (X).
    Mention,
    /// A private message (Messenger, WhatsApp, X DM).
    Direct,
}

/// A message as a platform reported it, before it has a channel id of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformMessage {
    /// The platform account it arrived for (Page id, phone number id, X user id).
    pub account: ExternalId,
    /// The message's platform id (comment id, mid, wamid, tweet id, DM event id).
    pub platform_id: ExternalId,
    /// The conversation key: `comment:<top-level comment id>`, `post:<post id>`,
    /// `messenger:<PSID>`, `whatsapp:<wa_id or BSUID>`, `tweet:<conversation id>`, `dm:<user id>`.
    /// Opaque outside its connector.
    pub thread_key: String,
    /// What kind of conversation the thread is; stored with the conversation, so that the
    /// platform's rules (reply window, hiding) never depend on the thread key's shape.
    pub conversation: ConversationKind,
    /// What it is.
    pub kind: MessageKind,
    /// The author.
    pub author: NewContact,
    /// The text ("" for media-only messages; a placeholder for unknown types).
    pub text: String,
    /// Attachment metadata.
    pub attachments: Vec<Attachment>,
    /// The platform's time.
    pub created_at: Timestamp,
    /// The message it answers, when the platform says (parent comment, quoted message).
    pub in_reply_to: Option<ExternalId>,
    /// The raw JSON of the part, kept when something in it could not be shown (an attachment
    /// of an unknown kind, an odd field): the text then carries a visible placeholder for it.
    pub raw: Option<String>,
    /// What found it, when it was not addressed to the account (a saved search, a Page
    /// mention elsewhere, a review): listening, shown in the monitoring view.
    pub found_by: Option<buzon_core::FoundBy>,
}

/// Where a raw body came from, which decides how it is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// A webhook delivery (already verified).
    Webhook,
    /// A page polled from an endpoint, named as the connector named it in [`PollPage`].
    Poll {
        /// The endpoint name, e.g. `mentions`.
        endpoint: &'a str,
        /// The platform account that was polled.
        account: &'a ExternalId,
    },
}

/// One polled page, to be stored raw in the inbound event log before it is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolledBody {
    /// The endpoint name, stored as `poll:<endpoint>`.
    pub endpoint: String,
    /// The raw response body.
    pub body: Vec<u8>,
}

/// What one poll of a channel brought back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PollPage {
    /// Raw pages, oldest first.
    pub bodies: Vec<PolledBody>,
    /// The cursor to save once the bodies are stored (`None` keeps the old one).
    pub next_cursor: Option<String>,
    /// How long the poller should wait before polling this channel again, at least.
    pub wait_at_least: Option<Duration>,
}

/// A saved search to run once, with where its last run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// Our id of the saved search (the endpoint of its pages is `search:<id>`).
    pub id: i64,
    /// The query, in the platform's own syntax, passed unchanged.
    pub query: String,
    /// The newest post id a finished run saw: the next run asks only for newer posts.
    pub since_id: Option<String>,
    /// While a run pages back: the newest id of the run, which becomes `since_id` at its end.
    pub newest_id: Option<String>,
    /// While a run pages back: the page to fetch next.
    pub next_token: Option<String>,
    /// How many saved searches share the account's request budget.
    pub searches: usize,
}

/// What one request of a saved search brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The raw page (endpoint `search:<id>`), when there was one with posts.
    pub body: Option<PolledBody>,
    /// Where the search stands now (saved once the body is stored).
    pub since_id: Option<String>,
    /// See [`SearchRequest::newest_id`].
    pub newest_id: Option<String>,
    /// See [`SearchRequest::next_token`].
    pub next_token: Option<String>,
    /// How long this search waits before its next request, within the shared budget.
    pub wait: Duration,
}

/// An object fetched for an [`InboundItem::Fetch`], or why not.
#[derive(Debug)]
pub struct Fetched {
    /// The object asked for.
    pub object_id: ExternalId,
    /// Its raw body (endpoint named by the connector), or the platform's refusal.
    pub outcome: Result<PolledBody, ConnectorError>,
}

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRequest {
    /// The conversation's thread key (see [`PlatformMessage::thread_key`]).
    pub thread_key: String,
    /// The newest inbound message of the conversation, which a reply answers.
    pub in_reply_to: Option<ExternalId>,
    /// The text.
    pub text: String,
    /// An approved template to send instead of free text (outside the 24-hour window).
    pub template: Option<TemplateRequest>,
    /// Our idempotency key, passed to platforms that accept one.
    pub idempotency_key: String,
}

/// An approved message template (WhatsApp) to send outside the customer-service window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRequest {
    /// The template's name.
    pub name: String,
    /// Its language code, e.g. `en_US`.
    pub language: String,
    /// Body parameters, in order.
    pub parameters: Vec<String>,
}

/// What the platform said about a sent reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentReply {
    /// The platform's id of the new message.
    pub platform_id: ExternalId,
}

/// A moderation action on a platform message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    /// Hide a comment or reply from the public.
    Hide,
    /// Show it again.
    Unhide,
}

/// What a platform says of a person it knows by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The display name.
    pub name: Option<String>,
    /// A URL of their picture, when the platform gives one.
    pub picture_url: Option<String>,
}

/// The placeholder shown where a message carries something buzon cannot show, e.g.
/// `[attachment of an unsupported kind: fallback]`.
pub fn unsupported_placeholder(what: &str, kind: &str) -> String {
    format!("[{what} of an unsupported kind: {kind}]")
}

/// Key aliases: an operator's way to teach a connector a renamed field before a release does,
/// e.g. `message_v2=message` when a platform starts sending `message_v2` for what buzon reads
/// as `message`. Parsed from `new=known, new2=known2`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyAliases(Vec<(String, String)>);

impl KeyAliases {
    /// Parses `new=known` pairs separated by commas or whitespace; an empty text is no aliases.
    pub fn parse(text: &str) -> Result<KeyAliases, String> {
        let mut pairs = Vec::new();
        for pair in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|pair| !pair.is_empty())
        {
            match pair.split_once('=') {
                Some((new, known)) if !new.is_empty() && !known.is_empty() && new != known => {
                    pairs.push((new.to_owned(), known.to_owned()))
                }
                _ => return Err(format!("{pair:?} is not a NEW=KNOWN key alias")),
            }
        }
        Ok(KeyAliases(pairs))
    }

    /// True when there is nothing to rename.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The body with every object key named like an alias renamed to the key buzon knows, at
    /// any depth; an object that already has the known key keeps both as they are. None when
    /// nothing was renamed or the body is not JSON (it is then parsed as it came).
    pub fn apply(&self, body: &[u8]) -> Option<Vec<u8>> {
        if self.is_empty() {
            return None;
        }
        let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let mut renamed = false;
        self.rename(&mut value, &mut renamed);
        renamed.then(|| serde_json::to_vec(&value).expect("a JSON value serializes"))
    }

    fn rename(&self, value: &mut serde_json::Value, renamed: &mut bool) {
        match value {
            serde_json::Value::Object(object) => {
                for (new, known) in &self.0 {
                    if !object.contains_key(known) {
                        if let Some(moved) = object.remove(new) {
                            object.insert(known.clone(), moved);
                            *renamed = true;
                        }
                    }
                }
                for child in object.values_mut() {
                    self.rename(child, renamed);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    self.rename(item, renamed);
                }
            }
            _ => {}
        }
    }
}

/// An account that an OAuth sign-in gives access to, with the credentials that connect it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedAccount {
    /// The Page id or X user id.
    pub platform_id: ExternalId,
    /// Its name on the platform.
    pub name: String,
    /// The credentials (a Page token; X access and refresh tokens). Debug output hides them.
    pub credentials: ChannelCredentials,
}

/// A platform, as buzon talks to it.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// The platform.
    fn kind(&self) -> ChannelKind;

    /// Checks the platform's signature over the exact bytes of a webhook delivery. No network.
    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), ConnectorError>;

    /// Turns a verified delivery or a polled page into its parts, each with exactly one
    /// outcome. Pure: no network, no clock. An error means the body as a whole is not a
    /// delivery of this platform (it is then kept as unparsed at path `$`).
    fn normalize(&self, origin: Origin<'_>, body: &[u8]) -> Result<Vec<Part>, ConnectorError>;

    /// Every kind of known no-message event this connector names in [`InboundItem::Known`].
    fn known_events(&self) -> &'static [&'static str];

    /// The display name and picture of a person the platform knows only by id (a Messenger
    /// sender), asked with the channel's credentials. `Ok(None)` when the platform has none
    /// to give; the default asks nothing.
    async fn fetch_profile(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        person: &ExternalId,
    ) -> Result<Option<Profile>, ConnectorError> {
        let _ = (channel, credentials, person);
        Ok(None)
    }

    /// Fetches what is new since `cursor`. Pages are returned raw, for the event log.
    async fn poll(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        cursor: Option<&str>,
    ) -> Result<PollPage, ConnectorError>;

    /// Runs one request of a saved search (X recent search). The default has no search.
    async fn search(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        search: &SearchRequest,
    ) -> Result<SearchPage, ConnectorError> {
        let _ = (channel, credentials, search);
        Err(ConnectorError::Permanent(format!(
            "{} has no saved searches",
            self.kind()
        )))
    }

    /// Fetches objects that notifications named without their content, one answer each. The
    /// default fetches nothing.
    async fn fetch_objects(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        objects: &[ExternalId],
    ) -> Vec<Fetched> {
        let _ = (channel, credentials);
        objects
            .iter()
            .map(|object_id| Fetched {
                object_id: object_id.clone(),
                outcome: Err(ConnectorError::Permanent(format!(
                    "{} fetches no objects",
                    self.kind()
                ))),
            })
            .collect()
    }

    /// Whatever the platform needs once an account is connected (Facebook: the Page installs
    /// the app for the webhook fields buzon reads). The default needs nothing.
    async fn after_connect(
        &self,
        platform_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<(), ConnectorError> {
        let _ = (platform_id, credentials);
        Ok(())
    }

    /// Sends one reply.
    async fn send(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        reply: &ReplyRequest,
    ) -> Result<SentReply, ConnectorError>;

    /// Hides or unhides a message on the platform.
    async fn moderate(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        platform_id: &ExternalId,
        action: Moderation,
    ) -> Result<(), ConnectorError>;

    /// Checks credentials against the platform before they are saved, and returns the
    /// account's name there. The default trusts them.
    async fn check_credentials(
        &self,
        platform_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<String, ConnectorError> {
        let _ = credentials;
        Ok(platform_id.as_str().to_owned())
    }

    /// Whether these credentials can be renewed with the platform: an OAuth refresh token,
    /// and an OAuth client configured to spend it. The default cannot.
    fn can_refresh(&self, credentials: &ChannelCredentials) -> bool {
        let _ = credentials;
        false
    }

    /// Exchanges the credentials' refresh token for new credentials, as of `now` (X rotates
    /// the refresh token too, so the old one is spent). The default has nothing to refresh.
    async fn refresh_credentials(
        &self,
        credentials: &ChannelCredentials,
        now: Timestamp,
    ) -> Result<ChannelCredentials, ConnectorError> {
        let _ = (credentials, now);
        Err(ConnectorError::Permanent(format!(
            "{} tokens are not refreshed",
            self.kind()
        )))
    }

    /// The accounts the tokens of an OAuth sign-in give access to, each with the credentials
    /// that connect it (Facebook: the Pages the user manages, with Page tokens obtained through
    /// a long-lived user token; X: the signed-in account). The default has no OAuth sign-in.
    async fn granted_accounts(
        &self,
        app: &OAuthApp,
        tokens: &OAuthTokens,
    ) -> Result<Vec<GrantedAccount>, ConnectorError> {
        let _ = (app, tokens);
        Err(ConnectorError::Permanent(format!(
            "{} accounts are not connected with OAuth",
            self.kind()
        )))
    }
}

#[cfg(test)]
mod key_alias_tests {
    use super::KeyAliases;

    #[test]
    fn aliases_rename_keys_at_any_depth_and_never_overwrite_a_known_key() {
        let aliases = KeyAliases::parse("message_v2=message, sender_v2=sender").unwrap();
        let body = br#"{"entry":[{"messaging":[{"sender_v2":{"id":"1"},"message_v2":{"text":"hola"}},{"message":{"text":"kept"},"message_v2":{"text":"other"}}]}],"big":10201978818232600}"#;
        let renamed: serde_json::Value =
            serde_json::from_slice(&aliases.apply(body).expect("something was renamed")).unwrap();
        let messaging = &renamed["entry"][0]["messaging"];
        assert_eq!(messaging[0]["message"]["text"], "hola");
        assert_eq!(messaging[0]["sender"]["id"], "1");
        assert!(messaging[0].get("message_v2").is_none());
        assert_eq!(messaging[1]["message"]["text"], "kept");
        assert_eq!(messaging[1]["message_v2"]["text"], "other");
        // Ids beyond 2^53 survive the round trip exactly.
        assert_eq!(renamed["big"].as_u64(), Some(10201978818232600));
    }

    #[test]
    fn nothing_to_rename_leaves_the_body_as_it_came() {
        let aliases = KeyAliases::parse("message_v2=message").unwrap();
        assert_eq!(aliases.apply(br#"{"message":{"text":"x"}}"#), None);
        assert_eq!(aliases.apply(b"not json"), None);
        assert_eq!(KeyAliases::parse("").unwrap().apply(b"{}"), None);
    }

    #[test]
    fn malformed_aliases_are_refused() {
        for bad in ["message_v2", "=message", "a=", "a=a"] {
            assert!(KeyAliases::parse(bad).is_err(), "{bad:?}");
        }
    }
}
