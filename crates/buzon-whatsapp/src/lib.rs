//! buzon's WhatsApp connector: the WhatsApp Business Cloud API (Graph API `/{phone-number-id}/messages`).
//!
//! - **Webhooks** are checked with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body under
//!   the Meta app secret) and normalized part by part (each message, status and error of each
//!   change) into messages, edits, removals, delivery statuses, known no-message events
//!   ([`KNOWN_EVENTS`]) or unrecognized parts; see the `inbound` module for the paths, the
//!   variants accepted and their sources, and how odd messages are salvaged.
//! - **Profiles**: none are fetched. Each delivery names its senders (`contacts[].profile.name`).
//! - **Polling**: there is none. The Cloud API has no endpoint to list received messages;
//!   everything inbound arrives by webhook, so [`Connector::poll`] returns an empty page.
//! - **Sending** posts a text, or an approved template outside the 24-hour customer-service
//!   window, to `{api_base}/{phone-number-id}/messages`.
//! - **Moderation**: WhatsApp messages cannot be hidden.
//!
//! Users are keyed by phone number (`wa_id`, thread key `whatsapp:<wa_id>`) or, for users
//! whose number WhatsApp withholds since the 2026 usernames rollout, by business-scoped user
//! id (thread key `whatsapp:bsuid:<user id>`).
//!
//! Nothing here logs tokens, phone numbers or message text; only ids of messages and channels.

#![forbid(unsafe_code)]

mod check;
mod content;
mod inbound;
mod outbound;
#[cfg(test)]
mod tests;
mod user;
mod wire;

pub use inbound::{KNOWN_EVENTS, REACTION_REMOVED};

use buzon_connector::{
    constant_time_eq, hmac_sha256, meta_usage_wait, Connector, ConnectorError, HeaderMap,
    HttpClient, Moderation, Origin, Part, PollPage, ReplyRequest, RetryPolicy, SentReply,
};
use buzon_core::{Channel, ChannelCredentials, ChannelKind, ExternalId};
use std::fmt;
use std::time::Duration;
use user::UserKey;

/// The header Meta signs webhook deliveries with.
const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The WhatsApp connector's piece of the configuration.
#[derive(Clone)]
pub struct WhatsappSettings {
    /// The Graph API base with its version, e.g. `https://graph.facebook.com/v21.0`.
    pub api_base: String,
    /// The Meta app secret that signs webhooks. Without it every webhook is refused.
    pub app_secret: Option<String>,
    /// How long one request to the platform may take.
    pub request_timeout: Duration,
}

impl Default for WhatsappSettings {
    fn default() -> WhatsappSettings {
        WhatsappSettings {
            api_base: "https://graph.facebook.com/v21.0".to_owned(),
            app_secret: None,
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for WhatsappSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("WhatsappSettings")
            .field("api_base", &self.api_base)
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// The WhatsApp Business Cloud API, as a [`Connector`].
#[derive(Debug, Clone)]
pub struct WhatsappConnector {
    settings: WhatsappSettings,
    client: HttpClient,
}

impl WhatsappConnector {
    /// A connector with its settings and the shared HTTP client.
    pub fn new(settings: WhatsappSettings, client: HttpClient) -> WhatsappConnector {
        WhatsappConnector { settings, client }
    }
}

#[async_trait::async_trait]
impl Connector for WhatsappConnector {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Whatsapp
    }

    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`, compared in constant
    /// time. Without a configured app secret nothing verifies.
    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), ConnectorError> {
        let secret = self
            .settings
            .app_secret
            .as_deref()
            .filter(|secret| !secret.is_empty())
            .ok_or(ConnectorError::BadSignature)?;
        let claimed = headers
            .get(SIGNATURE_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().strip_prefix("sha256="))
            .and_then(|hex_digest| hex::decode(hex_digest).ok())
            .ok_or(ConnectorError::BadSignature)?;
        let expected = hmac_sha256(secret.as_bytes(), body);
        if constant_time_eq(&expected, &claimed) {
            Ok(())
        } else {
            Err(ConnectorError::BadSignature)
        }
    }

    fn normalize(&self, origin: Origin<'_>, body: &[u8]) -> Result<Vec<Part>, ConnectorError> {
        match origin {
            Origin::Webhook => inbound::normalize_webhook(body),
            Origin::Poll { .. } => Err(ConnectorError::Payload(
                "WhatsApp is never polled: its messages arrive by webhook".into(),
            )),
        }
    }

    fn known_events(&self) -> &'static [&'static str] {
        KNOWN_EVENTS
    }

    /// The Cloud API has no endpoint that lists received messages or statuses: they are only
    /// ever pushed by webhook. So there is nothing to poll, and the page is empty.
    async fn poll(
        &self,
        _channel: &Channel,
        _credentials: &ChannelCredentials,
        _cursor: Option<&str>,
    ) -> Result<PollPage, ConnectorError> {
        Ok(PollPage::default())
    }

    #[tracing::instrument(skip_all, fields(platform = "whatsapp", channel = %channel.id))]
    async fn send(
        &self,
        channel: &Channel,
        credentials: &ChannelCredentials,
        reply: &ReplyRequest,
    ) -> Result<SentReply, ConnectorError> {
        let recipient = UserKey::from_thread_key(&reply.thread_key).ok_or_else(|| {
            ConnectorError::Permanent("the conversation is not a WhatsApp chat".into())
        })?;
        let request = outbound::send_request(&recipient, reply)?;
        let url = outbound::messages_url(&self.settings.api_base, &channel.platform_id)?;
        let gate_key = format!("whatsapp:{}", channel.platform_id);
        let token = credentials.access_token.as_str();
        let timeout = self.settings.request_timeout;
        let platform_id: ExternalId = self
            .client
            .execute(
                &gate_key,
                RetryPolicy::SEND,
                |client| {
                    let builder = client.post(url.clone()).bearer_auth(token).json(&request);
                    if timeout.is_zero() {
                        builder
                    } else {
                        builder.timeout(timeout)
                    }
                },
                |response| meta_usage_wait(&response.headers),
                outbound::read_send_response,
            )
            .await?;
        tracing::debug!(message = %platform_id, "whatsapp accepted the message");
        Ok(SentReply { platform_id })
    }

    async fn moderate(
        &self,
        _channel: &Channel,
        _credentials: &ChannelCredentials,
        _platform_id: &ExternalId,
        _action: Moderation,
    ) -> Result<(), ConnectorError> {
        Err(ConnectorError::Permanent(
            "WhatsApp messages cannot be hidden".into(),
        ))
    }

    async fn check_credentials(
        &self,
        platform_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<String, ConnectorError> {
        self.check_number(platform_id, credentials).await
    }
}
