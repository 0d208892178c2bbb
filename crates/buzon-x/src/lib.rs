//! buzon-x: the X (Twitter) connector. It answers Account Activity CRC checks, verifies and
//! reads webhook deliveries (mentions, DMs, deletions), polls the v2 mentions timeline and DM
//! events, sends reply tweets and DMs, and hides replies.
//!
//! It is the only crate that knows X's JSON; it must not depend on the store or the web crate.
//! Verifying and normalizing are pure; polling, sending and moderating go through the shared
//! [`HttpClient`], which honours X's rate-limit headers.
//!
//! Placeholders, where X leaves a field out:
//! - a tweet or DM without an author id has the author `x-unknown-author` ([`UNKNOWN_AUTHOR`]);
//! - a message without a time has time 0 (the epoch);
//! - a polled tweet without `conversation_id` threads on itself, `tweet:<id>`.
//!
//! Webhook mentions are v1.1 tweets without a conversation id, so they thread on the tweet they
//! answer; see the `activity` module for when that differs from the poller's key.

#![forbid(unsafe_code)]

mod account;
mod activity;
mod api;
mod timeline;
mod wire;

#[cfg(test)]
mod tests;

pub use activity::crc_response;

use buzon_connector::{
    Connector, ConnectorError, HeaderMap, HttpClient, InboundItem, Moderation, Origin, PollPage,
    ReplyRequest, SentReply,
};
use buzon_core::{Channel, ChannelCredentials, ChannelKind, ExternalId, NewContact};
use std::fmt;
use std::time::Duration;

/// The author id given to a tweet or DM whose author X did not report.
pub const UNKNOWN_AUTHOR: &str = "x-unknown-author";

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

    fn normalize(
        &self,
        origin: Origin<'_>,
        body: &[u8],
    ) -> Result<Vec<InboundItem>, ConnectorError> {
        match origin {
            Origin::Webhook => activity::normalize(body),
            Origin::Poll { endpoint, account } => match endpoint {
                timeline::MENTIONS => timeline::normalize_mentions(account, body),
                timeline::DM_EVENTS => timeline::normalize_dm_events(account, body),
                other => Err(ConnectorError::Payload(format!(
                    "x has no polled endpoint named {other:?}"
                ))),
            },
        }
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

/// A platform id from a payload, or a `Payload` error naming the field.
fn external_id(raw: &str, field: &str) -> Result<ExternalId, ConnectorError> {
    ExternalId::parse(raw).map_err(|_| ConnectorError::Payload(format!("invalid id in {field}")))
}

/// An author from an id and the optional name and handle (without `@`).
fn user_contact(
    id: &str,
    name: Option<&str>,
    handle: Option<&str>,
) -> Result<NewContact, ConnectorError> {
    Ok(NewContact {
        platform_id: external_id(id, "author id")?,
        name: name.map(str::to_owned),
        handle: handle.map(str::to_owned),
    })
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
