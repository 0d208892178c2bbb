//! The alert worker: delivers urgent alerts from their durable queue, by e-mail (SMTP, with
//! `lettre`) and by signed webhook, retrying with growing delays, and sweeps the waiting-time
//! rules every half minute. A mail server that is down delays alerts, never ingestion: the
//! rules queue deliveries in their own transaction and this worker alone talks to the outside.
//!
//! Webhooks carry `X-Buzon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
//! "<t>.<body>")>`, `X-Buzon-Event: alert` and `X-Buzon-Delivery: <id>` (the same id on every
//! retry, so a receiver can drop a repeat).

use crate::config::AlertSettings;
use buzon_app::App;
use buzon_core::Timestamp;
use buzon_store::{AlertDelivery, Store};
use hmac::{Hmac, Mac};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Deliveries claimed per round.
const BATCH: u32 = 10;
/// The first retry's delay; each next one doubles, up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(15);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30 * 60);
/// After this long a delivery is given up (failed, with its last error, retryable by hand).
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// How often the waiting-time rules are looked at.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// The longest one delivery may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// The alert worker.
#[derive(Clone)]
pub struct AlertSender {
    store: Store,
    app: App,
    node_id: String,
    lease: Duration,
    smtp: Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), String>,
    http: reqwest::Client,
    public_url: String,
    allow_private_urls: bool,
}

/// Resolves names as the system does, but never to a private address: a name that points
/// at this machine or the private network (or is rebound there after the rule was saved) is
/// not reached. Only the addresses it returns are connected to.
struct PublicOnly;

/// The client buzon posts to admins' URLs with (alert webhooks, events out): no redirects (a
/// redirect could lead inside), a timeout, and — unless private URLs are allowed — names
/// resolved to public addresses only.
pub(crate) fn outgoing_client(
    user_agent: &str,
    timeout: Duration,
    allow_private_urls: bool,
) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent);
    let builder = if allow_private_urls {
        builder
    } else {
        builder.dns_resolver(std::sync::Arc::new(PublicOnly))
    };
    builder.build().expect("the outgoing HTTP client builds")
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| !buzon_core::is_private_address(address.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl AlertSender {
    /// The worker, with the SMTP server and sender of `settings` (an unusable one makes every
    /// e-mail delivery fail with the reason, visibly).
    pub fn new(
        store: Store,
        app: App,
        settings: &AlertSettings,
        public_url: &str,
        node_id: &str,
        lease: Duration,
    ) -> AlertSender {
        AlertSender {
            store,
            app,
            node_id: format!("{node_id}:alerts"),
            lease,
            smtp: smtp_transport(settings),
            http: outgoing_client("buzon-alerts", SEND_TIMEOUT, settings.allow_private_urls),
            allow_private_urls: settings.allow_private_urls,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Delivers alerts until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut last_sweep: Option<Instant> = None;
        let wake = self.app.worker_signal();
        while !*stop.borrow() {
            if last_sweep.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                if let Err(err) = self.app.sweep_waiting_alerts().await {
                    tracing::warn!(error = %err, "alerts: the waiting-time sweep failed");
                }
                last_sweep = Some(Instant::now());
            }
            let worked = match self.deliver_once().await {
                Ok(count) => count > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "alerts: store unavailable");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    _ = stop.changed() => {}
                    () = wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    /// Claims and delivers one batch; returns how many were claimed.
    pub async fn deliver_once(&self) -> Result<usize, buzon_store::StoreError> {
        let now = Timestamp::now();
        let claimed = self
            .store
            .claim_alert_deliveries(
                &self.node_id,
                BATCH,
                now,
                now.plus_millis(self.lease.as_millis() as i64),
            )
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let secrets: HashMap<i64, Option<String>> = self
            .store
            .alert_rules()
            .await?
            .into_iter()
            .map(|rule| (rule.id, rule.webhook_secret))
            .collect();
        for delivery in &claimed {
            let outcome = self.deliver(delivery, &secrets).await;
            match &outcome {
                Ok(()) => tracing::info!(
                    delivery = delivery.id,
                    kind = %delivery.kind,
                    "alert delivered"
                ),
                Err(error) => tracing::warn!(
                    delivery = delivery.id,
                    kind = %delivery.kind,
                    attempts = delivery.attempts,
                    error = %error,
                    "alert not delivered"
                ),
            }
            let outcome = outcome.map_err(|error| {
                let age = Timestamp::now().as_millis() - delivery.created_at.as_millis();
                let retry = (age < GIVE_UP_AFTER.as_millis() as i64)
                    .then(|| Timestamp::now().plus_millis(retry_delay(delivery.attempts)));
                (error, retry)
            });
            self.store
                .finish_alert_delivery(
                    delivery.id,
                    &self.node_id,
                    outcome
                        .as_ref()
                        .map(|_| ())
                        .map_err(|(error, retry)| (error.as_str(), *retry)),
                )
                .await?;
        }
        Ok(claimed.len())
    }

    async fn deliver(
        &self,
        delivery: &AlertDelivery,
        secrets: &HashMap<i64, Option<String>>,
    ) -> Result<(), String> {
        let mut payload: Value = serde_json::from_str(&delivery.payload)
            .map_err(|err| format!("the alert cannot be read: {err}"))?;
        let link = format!(
            "{}/conversations/{}",
            self.public_url, delivery.conversation_id
        );
        payload["conversation"]["url"] = Value::String(link.clone());
        match delivery.kind.as_str() {
            "email" => self.mail(delivery, &payload, &link).await,
            "webhook" => {
                let secret = match secrets.get(&delivery.rule_id) {
                    Some(secret) => secret.as_deref(),
                    None => return Err("the rule was deleted".into()),
                };
                self.post(delivery, &payload, secret).await
            }
            other => Err(format!("unknown delivery kind {other}")),
        }
    }

    async fn mail(
        &self,
        delivery: &AlertDelivery,
        payload: &Value,
        link: &str,
    ) -> Result<(), String> {
        if payload["event"] == "possible_incident" {
            let words: Vec<&str> = payload["words"]
                .as_array()
                .map(|words| words.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let samples: Vec<&str> = payload["samples"]
                .as_array()
                .map(|samples| samples.iter().filter_map(|s| s["text"].as_str()).collect())
                .unwrap_or_default();
            let subject = format!(
                "buzon: possible incident - {} messages in 10 minutes",
                payload["recent"]
            );
            let body = format!(
                "Posible incidencia / Possible incident: {} mensajes en 10 minutos / messages in 10 minutes (normal / usual: {}).\n\
                 {}\n\n{}\n\nAbrir la bandeja / Open the inbox:\n{}/inbox\n\n— buzon\n",
                payload["recent"],
                payload["usual"],
                words.join(", "),
                samples.join("\n"),
                self.public_url
            );
            return self.send_mail(delivery, subject, body).await;
        }
        if payload["event"] == "escalation" {
            let snippet = payload["conversation"]["snippet"].as_str().unwrap_or("");
            let channel = payload["conversation"]["channel"].as_str().unwrap_or("");
            let subject: String =
                format!("buzon: escalated - {channel} #{}", delivery.conversation_id)
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect();
            let body = format!(
                "Conversación escalada / Escalated conversation ({} · {channel})\n\n{}\n\n{snippet}\n\n\
                 Abrir la conversación / Open the conversation:\n{link}\n\n— buzon\n",
                payload["by"].as_str().unwrap_or(""),
                payload["note"].as_str().unwrap_or(""),
            );
            return self.send_mail(delivery, subject, body).await;
        }
        let rule = payload["rule"]["name"].as_str().unwrap_or("alert");
        let author = payload["author"]["name"]
            .as_str()
            .or(payload["author"]["handle"].as_str())
            .unwrap_or("?");
        let channel = payload["conversation"]["channel"].as_str().unwrap_or("");
        let text = payload["message"]["text"].as_str().unwrap_or("");
        let subject: String = format!("buzon: {rule} - {author} ({channel})")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let body = format!(
            "Alerta urgente / Urgent alert: {rule}\n\n\
             {author} · {channel}\n\n\
             {text}\n\n\
             Abrir la conversación / Open the conversation:\n{link}\n\n\
             — buzon\n"
        );
        self.send_mail(delivery, subject, body).await
    }

    async fn send_mail(
        &self,
        delivery: &AlertDelivery,
        subject: String,
        body: String,
    ) -> Result<(), String> {
        let (transport, from) = self.smtp.as_ref().map_err(Clone::clone)?;
        let to: Mailbox = delivery
            .destination
            .parse()
            .map_err(|err| format!("bad address: {err}"))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .body(body)
            .map_err(|err| format!("the mail cannot be built: {err}"))?;
        match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(format!("the mail server refused or failed: {err}")),
            Err(_) => Err("the mail server did not answer in time".into()),
        }
    }

    async fn post(
        &self,
        delivery: &AlertDelivery,
        payload: &Value,
        secret: Option<&str>,
    ) -> Result<(), String> {
        if !self.allow_private_urls && buzon_core::url_is_private(&delivery.destination) {
            return Err("the URL points at this machine or a private network".into());
        }
        let body = payload.to_string();
        let mut request = self
            .http
            .post(&delivery.destination)
            .header("content-type", "application/json")
            .header("x-buzon-event", "alert")
            .header("x-buzon-delivery", delivery.id.to_string());
        if let Some(secret) = secret {
            let now = Timestamp::now().as_millis() / 1000;
            request = request.header("x-buzon-signature", signature(secret, now, &body));
        }
        let response =
            request.body(body).send().await.map_err(|err| {
                format!("the webhook could not be reached: {}", without_url(&err))
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {}", response.status()))
        }
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, unix_secs: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{unix_secs}.{body}").as_bytes());
    format!(
        "t={unix_secs},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The delay before try `attempts + 1`.
fn retry_delay(attempts: i64) -> i64 {
    let doublings = attempts.clamp(1, 20) - 1;
    (FIRST_RETRY_DELAY.as_millis() as i64)
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_DELAY.as_millis() as i64)
}

/// A reqwest error without its URL (which may carry a token in its query).
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "the webhook URL");
    }
    text
}

fn smtp_transport(
    settings: &AlertSettings,
) -> Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), String> {
    let url = settings.smtp_url.expose().trim();
    if url.is_empty() {
        return Err("no mail server: set alerts.smtp_url (BUZON_ALERTS_SMTP_URL)".into());
    }
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|_| "alerts.smtp_url is not a valid smtp:// or smtps:// URL".to_owned())?
        .timeout(Some(SEND_TIMEOUT))
        .build();
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|err| format!("alerts.from is not a valid address: {err}"))?;
    Ok((transport, from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_documented_hmac() {
        // HMAC-SHA256("secret", "1700000000.{}"), computed independently with openssl.
        assert_eq!(
            signature("secret", 1_700_000_000, "{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }

    #[test]
    fn retries_wait_longer_and_longer_up_to_half_an_hour() {
        assert_eq!(retry_delay(1), 15_000);
        assert_eq!(retry_delay(2), 30_000);
        assert_eq!(retry_delay(3), 60_000);
        assert_eq!(retry_delay(30), 30 * 60_000);
    }
}
