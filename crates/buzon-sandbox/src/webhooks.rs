//! Webhook bodies and their delivery: Meta's escaped JSON and `X-Hub-Signature-256`, X's
//! `x-twitter-webhooks-signature`, retries with backoff, and the duplicate and shuffle faults.

use crate::model::Platform;
use crate::Shared;
use base64::Engine;
use buzon_connector::hmac_sha256;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Waits between Meta-like retries: at once, then less and less often.
const RETRY_DELAYS_MS: &[u64] = &[0, 500, 2_000, 5_000, 15_000];
/// How many deliveries the shuffle fault reorders together at most.
const SHUFFLE_BATCH: usize = 8;
/// How long a passed X CRC check holds before X challenges the target again.
const CRC_VALIDITY: Duration = Duration::from_secs(3_600);

/// A webhook body to deliver, maybe later (WhatsApp statuses follow a send).
#[derive(Clone)]
pub(crate) struct Outgoing {
    pub platform: Platform,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Outgoing {
    pub fn now(platform: Platform, body: Vec<u8>) -> Outgoing {
        Outgoing {
            platform,
            body,
            delay: Duration::ZERO,
        }
    }
}

/// A signed delivery in the queue.
#[derive(Clone)]
pub(crate) struct Delivery {
    platform: Platform,
    body: Arc<Vec<u8>>,
    signature: String,
}

/// Serializes like Meta: compact JSON, every non-ASCII character as a lowercase `\uXXXX`
/// escape (astral characters as surrogate pairs) and `/` as `\/`.
pub(crate) fn meta_json(value: &Value) -> Vec<u8> {
    let compact = value.to_string();
    let mut escaped = String::with_capacity(compact.len() + compact.len() / 8);
    for character in compact.chars() {
        if character == '/' {
            escaped.push_str("\\/");
        } else if character.is_ascii() {
            escaped.push(character);
        } else {
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                let _ = write!(escaped, "\\u{unit:04x}");
            }
        }
    }
    escaped.into_bytes()
}

/// Serializes like X: compact UTF-8, except astral characters (emoji), which X sends as
/// uppercase surrogate-pair escapes.
pub(crate) fn x_json(value: &Value) -> Vec<u8> {
    let compact = value.to_string();
    let mut escaped = String::with_capacity(compact.len());
    for character in compact.chars() {
        if u32::from(character) > 0xFFFF {
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                let _ = write!(escaped, "\\u{unit:04X}");
            }
        } else {
            escaped.push(character);
        }
    }
    escaped.into_bytes()
}

/// The signature header value a platform puts on `body`.
pub(crate) fn signature(shared: &Shared, platform: Platform, body: &[u8]) -> String {
    match platform {
        Platform::Facebook | Platform::Whatsapp => {
            let mac = hmac_sha256(shared.config.app_secret.as_bytes(), body);
            format!("sha256={}", hex::encode(mac))
        }
        Platform::X => {
            let mac = hmac_sha256(shared.config.consumer_secret.as_bytes(), body);
            format!(
                "sha256={}",
                base64::engine::general_purpose::STANDARD.encode(mac)
            )
        }
    }
}

impl Shared {
    /// Queues webhook bodies for delivery (nothing happens without a target).
    pub(crate) fn dispatch(self: &Arc<Self>, outgoing: Vec<Outgoing>) {
        if self.webhook_target().is_none() {
            return;
        }
        for item in outgoing {
            let delivery = Delivery {
                platform: item.platform,
                signature: signature(self, item.platform, &item.body),
                body: Arc::new(item.body),
            };
            self.pending.fetch_add(1, Ordering::SeqCst);
            if item.delay.is_zero() {
                if self.outbox.send(delivery).is_err() {
                    self.pending.fetch_sub(1, Ordering::SeqCst);
                }
            } else {
                let shared = Arc::clone(self);
                tokio::spawn(async move {
                    tokio::time::sleep(item.delay).await;
                    if shared.outbox.send(delivery).is_err() {
                        shared.pending.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        }
    }

    /// Makes the next X delivery challenge the target with a CRC first.
    pub(crate) fn forget_crc(&self) {
        *self
            .x_crc_valid_until
            .lock()
            .expect("the CRC lock is not poisoned") = None;
    }

    fn webhook_target(&self) -> Option<String> {
        self.webhook_target
            .lock()
            .expect("the webhook target lock is not poisoned")
            .clone()
    }
}

/// Delivers queued webhooks until the queue closes.
pub(crate) async fn run_delivery(
    shared: Arc<Shared>,
    mut queue: mpsc::UnboundedReceiver<Delivery>,
) {
    while let Some(first) = queue.recv().await {
        let faults = shared.faults();
        let mut batch = vec![first];
        if faults.shuffle_webhooks {
            // Give the batch a moment to fill, so that there is something to reorder.
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        while batch.len() < SHUFFLE_BATCH {
            match queue.try_recv() {
                Ok(delivery) => batch.push(delivery),
                Err(_) => break,
            }
        }
        if faults.duplicate_webhooks {
            let copies: Vec<Delivery> = batch.to_vec();
            shared
                .pending
                .fetch_add(copies.len() as u64, Ordering::SeqCst);
            batch.extend(copies);
        }
        if faults.shuffle_webhooks && batch.len() > 1 {
            let original: Vec<Arc<Vec<u8>>> = batch
                .iter()
                .map(|delivery| Arc::clone(&delivery.body))
                .collect();
            {
                let mut world = shared.world();
                batch.shuffle(&mut world.fault_rng);
            }
            let unchanged = batch
                .iter()
                .zip(&original)
                .all(|(delivery, body)| Arc::ptr_eq(&delivery.body, body));
            if unchanged {
                batch.reverse();
            }
        }
        for delivery in batch {
            if !attempt(&shared, &delivery).await {
                let shared = Arc::clone(&shared);
                tokio::spawn(async move { retry(shared, delivery).await });
            } else {
                shared.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

async fn retry(shared: Arc<Shared>, delivery: Delivery) {
    for delay in RETRY_DELAYS_MS {
        tokio::time::sleep(Duration::from_millis(*delay)).await;
        if attempt(&shared, &delivery).await {
            shared.pending.fetch_sub(1, Ordering::SeqCst);
            return;
        }
    }
    shared.counters().webhooks_failed += 1;
    shared.pending.fetch_sub(1, Ordering::SeqCst);
    tracing::warn!(
        platform = delivery.platform.as_str(),
        "webhook delivery given up"
    );
}

/// One POST; true when the target answered 2xx.
async fn attempt(shared: &Shared, delivery: &Delivery) -> bool {
    let Some(target) = shared.webhook_target() else {
        return false;
    };
    let url = format!(
        "{}/webhooks/{}",
        target.trim_end_matches('/'),
        delivery.platform.as_str()
    );
    if delivery.platform == Platform::X && !crc_passed(shared, &url).await {
        return false;
    }
    shared.counters().webhook_attempts += 1;
    let request = shared.http.post(url).body(delivery.body.as_ref().clone());
    let request = match delivery.platform {
        Platform::Facebook | Platform::Whatsapp => request
            .header("content-type", "application/json")
            .header("user-agent", "facebookexternalua")
            .header("x-hub-signature-256", &delivery.signature),
        Platform::X => request
            .header("content-type", "application/json; charset=utf-8")
            .header("user-agent", "Twitter-Webhooks/1.0")
            .header("x-twitter-webhooks-signature", &delivery.signature),
    };
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            shared.counters().webhooks_delivered += 1;
            true
        }
        Ok(response) => {
            tracing::debug!(status = response.status().as_u16(), "webhook refused");
            false
        }
        Err(err) => {
            tracing::debug!(error = %err, "webhook delivery failed");
            false
        }
    }
}

/// Like X, challenges the target with `GET ?crc_token=` (on first use and hourly) and accepts
/// only `{"response_token":"sha256=<base64 HMAC-SHA256(consumer_secret, token)>"}`.
async fn crc_passed(shared: &Shared, url: &str) -> bool {
    let valid_until = *shared
        .x_crc_valid_until
        .lock()
        .expect("the CRC lock is not poisoned");
    if valid_until.is_some_and(|until| Instant::now() < until) {
        return true;
    }
    let token: String = {
        let mut world = shared.world();
        (0..24)
            .map(|_| {
                char::from(
                    b"abcdefghijklmnopqrstuvwxyz0123456789"[world.fault_rng.gen_range(0..36)],
                )
            })
            .collect()
    };
    shared.counters().x_crc_checks += 1;
    let expected = signature(shared, Platform::X, token.as_bytes());
    let answer = match shared
        .http
        .get(url)
        .query(&[("crc_token", &token)])
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => response.json::<Value>().await.ok(),
        _ => None,
    };
    let passed = answer
        .as_ref()
        .and_then(|answer| answer.get("response_token"))
        .and_then(Value::as_str)
        == Some(expected.as_str());
    if passed {
        *shared
            .x_crc_valid_until
            .lock()
            .expect("the CRC lock is not poisoned") = Some(Instant::now() + CRC_VALIDITY);
    } else {
        shared.counters().x_crc_failures += 1;
        tracing::warn!("the webhook target failed the X CRC check");
    }
    passed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn meta_bodies_escape_non_ascii_and_slashes() {
        let body = meta_json(&json!({"text": "¡Olá 🦀 </b>"}));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"text":"\u00a1Ol\u00e1 \ud83e\udd80 <\/b>"}"#
        );
    }

    #[test]
    fn x_bodies_escape_only_astral_characters() {
        let body = x_json(&json!({"text": "’ 🤨"}));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "{\"text\":\"’ \\uD83E\\uDD28\"}"
        );
    }
}
