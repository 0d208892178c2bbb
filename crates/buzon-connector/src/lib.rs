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

/// What a connector makes of one raw body (a webhook delivery or a polled page).
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
    },
    /// Something understood and deliberately not stored (our own echo, a read receipt…).
    Ignored {
        /// Why, in words, for the event log.
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

    /// Turns a verified delivery or a polled page into items. Pure: no network, no clock.
    fn normalize(
        &self,
        origin: Origin<'_>,
        body: &[u8],
    ) -> Result<Vec<InboundItem>, ConnectorError>;

    /// Fetches what is new since `cursor`. Pages are returned raw, for the event log.
    async fn poll(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        cursor: Option<&str>,
    ) -> Result<PollPage, ConnectorError>;

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
