//! buzon-x: the X (Twitter) connector. It answers Account Activity CRC checks, verifies and
//! reads webhook deliveries (mentions, DMs, deletions), polls the v2 mentions timeline and DM
//! events, sends reply tweets and DMs, and hides replies.
//!
//! It is the only crate that knows X's JSON; it must not depend on the store or the web crate.
//! Verifying and normalizing are pure; polling, sending and moderating go through the shared
//! [`HttpClient`], which honours X's rate-limit headers.
//!
//! Every part of a delivery (an entry of an Account Activity event array, an entry of a polled
//! page's `data`) has exactly one outcome: something to store, a known event of one of the
//! [`KNOWN_EVENTS`] kinds, or unrecognized. Parts are read one at a time and loosely (see the
//! `loose` module); a customer's tweet or DM with an odd field still becomes a message, with a
//! placeholder for what cannot be shown and its raw JSON kept. The `activity` and `timeline`
//! modules list the variants accepted and where each came from.
//!
//! Placeholders, where X leaves a field out:
//! - a tweet or DM without an author id has the author `x-unknown-author` ([`UNKNOWN_AUTHOR`]);
//! - a message without a time has time 0 (the epoch);
//! - a polled tweet without `conversation_id` threads on itself, `tweet:<id>`.
//!
//! Names: webhook tweets carry their author (`user`), webhook DMs name the sender in the
//! delivery's `users` map, polled pages in `includes.users` (the poller asks for them). A DM
//! whose sender is missing from `users`, or a page without `includes.users`, carries only the
//! id; the connector does not ask X for the name then (no `fetch_profile`).
//!
//! Webhook mentions are v1.1 tweets without a conversation id, so they thread on the tweet they
//! answer; see the `activity` module for when that differs from the poller's key.

#![forbid(unsafe_code)]

mod account;
mod activity;
mod api;
mod loose;
mod timeline;
mod wire;

#[cfg(test)]
mod tests;

pub use activity::crc_response;

use buzon_connector::{
    Connector, ConnectorError, HeaderMap, HttpClient, Moderation, Origin, Part, PollPage,
    ReplyRequest, SentReply,
};
use buzon_core::{Channel, ChannelCredentials, ChannelKind, ExternalId};
use std::fmt;
use std::time::Duration;

/// The author id given to a tweet or DM whose author X did not report.
pub const UNKNOWN_AUTHOR: &str = "x-unknown-author";

/// The kinds of known events that carry no message for the inbox, as
/// [`buzon_connector::InboundItem::Known`] names them. Account Activity payloads:
/// <https://developer.x.com/en/docs/twitter-api/enterprise/account-activity-api/guides/account-activity-data-objects>;
/// v2 DM events: <https://docs.x.com/x-api/direct-messages/lookup>.
pub mod kind {
    /// The account's own DM, echoed back (`direct_message_events[]` whose `sender_id` is the
    /// account, whether buzon or another app sent it; a polled `MessageCreate` from the
    /// account).
    pub const ECHO: &str = "echo";
    /// The account's own tweet, reply, quote or retweet (`tweet_create_events[]` whose
    /// `user.id_str` is the account; a polled tweet whose `author_id` is the account).
    pub const OWN_POST: &str = "own_post";
    /// Someone's retweet of a tweet of (or mentioning) the account (`tweet_create_events[]`
    /// with `retweeted_status`; a polled tweet with a `retweeted` reference).
    pub const RETWEET: &str = "retweet";
    /// A like of the account's tweet, or by the account (`favorite_events[]`).
    pub const FAVORITE: &str = "favorite";
    /// A follow or unfollow, either way (`follow_events[]`, `unfollow_events[]`).
    pub const FOLLOW: &str = "follow";
    /// A block or unblock by the account (`block_events[]`, `unblock_events[]`).
    pub const BLOCK: &str = "block";
    /// A mute or unmute by the account (`mute_events[]`, `unmute_events[]`).
    pub const MUTE: &str = "mute";
    /// Someone is typing a DM (`direct_message_indicate_typing_events[]`).
    pub const TYPING: &str = "typing";
    /// A DM was read (`direct_message_mark_read_events[]`).
    pub const READ: &str = "read";
    /// The account revoked the app's access (`user_event.revoke`); polling will then fail
    /// with 401 and the channel's health says so.
    pub const REVOKE: &str = "revoke";
    /// Someone joined or left a group DM (polled `ParticipantsJoin`, `ParticipantsLeave`).
    pub const PARTICIPANTS: &str = "participants";
}

/// Every kind of known no-message event this connector names (see [`kind`]).
pub const KNOWN_EVENTS: &[&str] = &[
    kind::ECHO,
    kind::OWN_POST,
    kind::RETWEET,
    kind::FAVORITE,
    kind::FOLLOW,
    kind::BLOCK,
    kind::MUTE,
    kind::TYPING,
    kind::READ,
    kind::REVOKE,
    kind::PARTICIPANTS,
];

/// What the X connector needs to know, handed to it by the binary.
#[derive(Clone)]
pub struct XSettings {
    /// The API origin, e.g. `https://api.x.com`; `/2/...` paths are appended to it.
    pub api_base: String,
    /// The app's consumer secret (API secret key), which signs webhooks and CRC answers.
    pub consumer_secret: Option<String>,
    /// The longest one request to X may take.
    pub request_timeout: Duration,
    /// buzon's OAuth 2.0 client at X, which renews access tokens with their refresh tokens
    /// (None: tokens are not renewed; a pasted token works until it expires).
    pub oauth: Option<buzon_connector::OAuthApp>,
}

impl Default for XSettings {
    fn default() -> XSettings {
        XSettings {
            api_base: "https://api.x.com".to_owned(),
            consumer_secret: None,
            request_timeout: Duration::from_secs(30),
            oauth: None,
        }
    }
}

impl fmt::Debug for XSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("XSettings")
            .field("api_base", &self.api_base)
            .field(
                "consumer_secret",
                &self.consumer_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("request_timeout", &self.request_timeout)
            .field("oauth", &self.oauth)
            .finish()
    }
}

/// The X connector.
#[derive(Debug, Clone)]
pub struct XConnector {
    settings: XSettings,
    client: HttpClient,
}

impl XConnector {
    /// A connector that talks to `settings.api_base` through `client`.
    pub fn new(settings: XSettings, client: HttpClient) -> XConnector {
        XConnector { settings, client }
    }

    /// The CRC answer for `crc_token`, or `None` when no consumer secret is configured.
    pub fn crc_response(&self, crc_token: &str) -> Option<String> {
        let secret = self.settings.consumer_secret.as_deref()?;
        (!secret.is_empty()).then(|| crc_response(secret, crc_token))
    }
}

#[async_trait::async_trait]
impl Connector for XConnector {
    fn kind(&self) -> ChannelKind {
        ChannelKind::X
    }

    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), ConnectorError> {
        activity::verify(self.settings.consumer_secret.as_deref(), headers, body)
    }

    fn normalize(&self, origin: Origin<'_>, body: &[u8]) -> Result<Vec<Part>, ConnectorError> {
        match origin {
            Origin::Webhook => activity::normalize(body),
            Origin::Poll { endpoint, account } => match endpoint {
                timeline::MENTIONS => timeline::normalize_tweets(account, body, None),
                timeline::DM_EVENTS => timeline::normalize_dm_events(account, body),
                other => match other
                    .strip_prefix(timeline::SEARCH_PREFIX)
                    .and_then(|id| id.parse::<i64>().ok())
                {
                    Some(search_id) => timeline::normalize_tweets(account, body, Some(search_id)),
                    None => Err(ConnectorError::Payload(format!(
                        "x has no polled endpoint named {other:?}"
                    ))),
                },
            },
        }
    }

    fn known_events(&self) -> &'static [&'static str] {
        KNOWN_EVENTS
    }

    #[tracing::instrument(skip_all, fields(platform = "x", channel = %channel.id))]
    async fn poll(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        cursor: Option<&str>,
    ) -> Result<PollPage, ConnectorError> {
        self.poll_channel(channel, credentials, cursor).await
    }

    #[tracing::instrument(skip_all, fields(platform = "x", channel = %channel.id, search = search.id))]
    async fn search(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        search: &buzon_connector::SearchRequest,
    ) -> Result<buzon_connector::SearchPage, ConnectorError> {
        self.run_search(channel, credentials, search).await
    }

    #[tracing::instrument(skip_all, fields(platform = "x", channel = %channel.id))]
    async fn send(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        reply: &ReplyRequest,
    ) -> Result<SentReply, ConnectorError> {
        self.send_reply(channel, credentials, reply).await
    }

    #[tracing::instrument(skip_all, fields(platform = "x", channel = %channel.id, %platform_id))]
    async fn moderate(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        platform_id: &ExternalId,
        action: Moderation,
    ) -> Result<(), ConnectorError> {
        self.hide_reply(channel, credentials, platform_id, action)
            .await
    }

    /// `GET /2/users/me` with the token: it must belong to this account.
    async fn check_credentials(
        &self,
        platform_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<String, ConnectorError> {
        let (id, name) = self.users_me(&credentials.access_token).await?;
        if &id != platform_id {
            return Err(ConnectorError::Permanent(
                "the token belongs to another X account".into(),
            ));
        }
        Ok(name)
    }

    fn can_refresh(&self, credentials: &ChannelCredentials) -> bool {
        self.settings.oauth.is_some() && credentials.refresh_token.is_some()
    }

    async fn refresh_credentials(
        &self,
        credentials: &ChannelCredentials,
        now: buzon_core::Timestamp,
    ) -> Result<ChannelCredentials, ConnectorError> {
        let (Some(app), Some(refresh_token)) = (
            self.settings.oauth.as_ref(),
            credentials.refresh_token.as_deref(),
        ) else {
            return Err(ConnectorError::Permanent(
                "there is no refresh token or no OAuth client to renew the access token".into(),
            ));
        };
        let tokens = app.refresh(&self.client, refresh_token).await?;
        Ok(ChannelCredentials {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.or(credentials.refresh_token.clone()),
            expires_at: tokens
                .expires_in
                .map(|lifetime| now.plus_millis(lifetime.as_millis() as i64)),
        })
    }

    async fn granted_accounts(
        &self,
        _app: &buzon_connector::OAuthApp,
        tokens: &buzon_connector::OAuthTokens,
    ) -> Result<Vec<buzon_connector::GrantedAccount>, ConnectorError> {
        self.granted(tokens).await
    }
}

/// The author of a tweet or DM whose author X did not report.
fn unknown_author() -> ExternalId {
    ExternalId::parse(UNKNOWN_AUTHOR).expect("the placeholder author id is valid")
}

/// The attachment kind of an X media type: `photo` is an image, `video` a video,
/// `animated_gif` a gif (X serves it as an MP4); `None` for a type buzon does not know.
fn media_kind(media_type: &str) -> Option<&'static str> {
    match media_type {
        "photo" => Some("image"),
        "video" => Some("video"),
        "animated_gif" => Some("gif"),
        _ => None,
    }
}

/// A body that is not the JSON X documents. Only the position is kept: serde's message can
/// quote the offending value, which may be message text.
fn payload_error(err: serde_json::Error) -> ConnectorError {
    ConnectorError::Payload(format!(
        "not the JSON x documents ({:?} error at line {} column {})",
        err.classify(),
        err.line(),
        err.column()
    ))
}
