//! The events-out sender: posts each queued delivery to its subscription's URL, signed
//! (`X-Buzon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as the
//! alert webhooks), with its id in `X-Buzon-Delivery` and the body's `id` (the same on every
//! retry), retried with doubling delays for 24 hours, then failed (retryable by hand).

use crate::alerts::{outgoing_client, signature};
use buzon_app::App;
use buzon_core::Timestamp;
use buzon_store::{EventDelivery, EventSubscription, Store};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const MAX_RETRY_DELAY: Duration = Duration::from_secs(30 * 60);
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
const SEND_TIMEOUT: Duration = Duration::from_secs(15);
const BATCH: u32 = 20;

/// The sender.
#[derive(Clone)]
pub struct EventSender {
    store: Store,
    app: App,
    node_id: String,
    lease: Duration,
    first_retry: Duration,
    http: reqwest::Client,
    allow_private_urls: bool,
}

impl EventSender {
    /// The sender for this node.
    pub fn new(
        store: Store,
        app: App,
        node_id: &str,
        lease: Duration,
        first_retry: Duration,
        allow_private_urls: bool,
    ) -> EventSender {
        EventSender {
            store,
            app,
            node_id: format!("{node_id}:events"),
            lease,
            first_retry: first_retry.max(Duration::from_secs(1)),
            http: outgoing_client("buzon-events", SEND_TIMEOUT, allow_private_urls),
            allow_private_urls,
        }
    }

    /// Delivers until `stop` turns true; woken when something is queued, else every second.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let wake = self.app.worker_signal();
        while !*stop.borrow() {
            let worked = match self.pass().await {
                Ok(count) => count > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "events out: store unavailable");
                    false
                }
            };
            if worked {
                continue;
            }
            tokio::select! {
                _ = stop.changed() => {}
                () = wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn pass(&self) -> Result<usize, anyhow::Error> {
        let now = Timestamp::now();
        let claimed = self
            .store
            .claim_event_deliveries(
                &self.node_id,
                BATCH,
                now,
                now.plus_millis(self.lease.as_millis() as i64),
            )
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let subscriptions: HashMap<i64, EventSubscription> = self
            .app
            .subscriptions_for_sending()
            .await?
            .into_iter()
            .map(|subscription| (subscription.id, subscription))
            .collect();
        for delivery in &claimed {
            let started = Instant::now();
            let (status, outcome) = match subscriptions.get(&delivery.subscription_id) {
                None => (None, Err("the subscription was deleted".to_owned())),
                Some(subscription) => self.deliver(delivery, subscription).await,
            };
            let result = match &outcome {
                Ok(()) => Ok(()),
                Err(error) => {
                    let age = now.as_millis() - delivery.created_at.as_millis();
                    let retry = (age < GIVE_UP_AFTER.as_millis() as i64
                        && subscriptions.contains_key(&delivery.subscription_id))
                    .then(|| {
                        let doublings = (delivery.attempts - 1).clamp(0, 20) as u32;
                        let delay = self
                            .first_retry
                            .saturating_mul(1 << doublings)
                            .min(MAX_RETRY_DELAY);
                        Timestamp::now().plus_millis(delay.as_millis() as i64)
                    });
                    Err((error.as_str(), retry))
                }
            };
            tracing::info!(
                delivery = delivery.id,
                event = %delivery.event,
                status = status.unwrap_or(0),
                ok = outcome.is_ok(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "event delivery"
            );
            self.store
                .finish_event_delivery(delivery.id, &self.node_id, status, result)
                .await?;
        }
        Ok(claimed.len())
    }

    async fn deliver(
        &self,
        delivery: &EventDelivery,
        subscription: &EventSubscription,
    ) -> (Option<u16>, Result<(), String>) {
        if !self.allow_private_urls && buzon_core::url_is_private(&subscription.url) {
            return (
                None,
                Err("the URL points at this machine or a private network".into()),
            );
        }
        let payload = match self.app.event_payload(delivery).await {
            Ok(payload) => payload,
            Err(err) => return (None, Err(format!("the event could not be built: {err}"))),
        };
        let body = payload.to_string();
        let now = Timestamp::now().as_millis() / 1000;
        let sent = self
            .http
            .post(&subscription.url)
            .header("content-type", "application/json")
            .header("x-buzon-event", delivery.event.as_str())
            .header("x-buzon-delivery", format!("evt_{}", delivery.id))
            .header(
                "x-buzon-signature",
                signature(&subscription.secret, now, &body),
            )
            .body(body)
            .send()
            .await;
        match sent {
            Err(err) => (
                None,
                Err(format!(
                    "the webhook could not be reached: {}",
                    err.without_url()
                )),
            ),
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), Ok(()))
            }
            Ok(response) => (
                Some(response.status().as_u16()),
                Err(format!("the webhook answered {}", response.status())),
            ),
        }
    }
}
