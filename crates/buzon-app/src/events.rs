//! The inbound event log: accepting a platform's webhook (verified over its raw bytes, stored
//! durably before the answer), the events that could not be processed, and replaying one.

use crate::{target, Actor, App, AppError};
use buzon_connector::{ConnectorError, HeaderMap};
use buzon_core::*;
use serde_json::json;
use sha2::{Digest, Sha256};

/// What happened to a webhook delivery that was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookReceipt {
    /// Stored durably, for the workers.
    Stored,
    /// The same body was stored before.
    Duplicate,
}

impl App {
    /// Verifies a platform's webhook over its exact bytes and stores it durably (fsync'd, in
    /// the writer's group commit) before returning; a duplicate body (by SHA-256) is recognised. A bad signature is
    /// `Unauthorized` and stores nothing. Counted per platform and outcome.
    pub async fn accept_webhook(
        &self,
        kind: ChannelKind,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookReceipt, AppError> {
        let platform = kind.as_str();
        let connector = match self.connector(kind) {
            Ok(connector) => connector,
            Err(_) => {
                self.metrics().count_webhook(platform, "unconfigured");
                return Err(AppError::Unavailable(format!(
                    "{platform} webhooks are not configured"
                )));
            }
        };
        if let Err(err) = connector.verify_webhook(headers, body) {
            self.metrics().count_webhook(platform, "rejected");
            tracing::warn!(platform, error = %err, "webhook refused");
            return Err(match err {
                ConnectorError::BadSignature => AppError::Unauthorized,
                other => AppError::invalid("bad_webhook", other.to_string()),
            });
        }
        // Every platform posts a JSON object: anything else (signed or not) is refused before it
        // is stored, so the event log only holds what a parser could read.
        if !is_json_object(body) {
            self.metrics().count_webhook(platform, "rejected");
            return Err(AppError::invalid(
                "not_a_json_object",
                "a webhook body must be a JSON object",
            ));
        }
        let event = NewInboundEvent {
            source: kind,
            channel_id: None,
            origin: "webhook".into(),
            dedup_key: format!("sha256:{}", hex::encode(Sha256::digest(body))),
            body: body.to_vec(),
        };
        match self.store_delivery(event).await {
            Ok(Some(_)) => {
                self.metrics().count_webhook(platform, "accepted");
                self.wake_workers();
                Ok(WebhookReceipt::Stored)
            }
            Ok(None) => {
                self.metrics().count_webhook(platform, "duplicate");
                Ok(WebhookReceipt::Duplicate)
            }
            // Not stored, so not acknowledged: the platform retries.
            Err(err) => {
                self.metrics().count_webhook(platform, "store_failed");
                Err(err)
            }
        }
    }

    /// Inbound events that could not be processed or were not read completely (`unparsed`),
    /// newest first, with their error and parts. Admins only.
    pub async fn failed_events(
        &self,
        actor: &Actor,
        limit: u32,
        before: Option<EventId>,
    ) -> Result<Vec<InboundEvent>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().failed_inbound_events(limit, before).await?)
    }

    /// How many events are `unparsed`, by platform and channel (none: not known). Admins only.
    pub async fn unparsed_counts(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(ChannelKind, Option<ChannelId>, i64)>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().unparsed_counts().await?)
    }

    /// Puts a failed event back in the queue, to be processed again. Admins and the command
    /// line.
    pub async fn replay_event(&self, actor: &Actor, id: EventId) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.replay_inbound_event(id).await?;
        tx.audit(
            &actor.audit_name(),
            "event.replay",
            &target("event", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// Sets a failed or unparsed event aside for good: it stops asking for attention and is
    /// pruned later. Admins and the command line.
    pub async fn dismiss_event(&self, actor: &Actor, id: EventId) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.dismiss_inbound_event(id).await?;
        tx.audit(
            &actor.audit_name(),
            "event.dismiss",
            &target("event", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The Prometheus text of this node's counters and the shared queue depths. Admins (the
    /// web lets loopback scrape it as `Actor::System`).
    pub async fn prometheus_text(&self, actor: &Actor) -> Result<String, AppError> {
        actor.require(Role::Admin)?;
        let depths = self.store().queue_depths().await.ok();
        Ok(self.metrics().prometheus_text(depths))
    }

    /// Whether the database answers, within `limit`.
    pub async fn database_health(&self, limit: std::time::Duration) -> Result<(), &'static str> {
        match tokio::time::timeout(limit, self.store().ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "health check: database unavailable");
                Err("unreachable")
            }
            Err(_) => Err("timeout"),
        }
    }
}

/// Whether `body` is one JSON object (and nothing after it but whitespace).
fn is_json_object(body: &[u8]) -> bool {
    let starts_as_object = body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'{');
    starts_as_object && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

#[cfg(test)]
mod json_tests {
    use super::is_json_object;

    #[test]
    fn only_one_json_object_is_a_webhook_body() {
        assert!(is_json_object(br#" {"object":"page","entry":[]} "#));
        for bad in [
            &b"[1,2]"[..],
            b"\"text\"",
            b"42",
            b"",
            b"{\"a\":1",
            b"{\"a\":1} {}",
            b"<xml/>",
        ] {
            assert!(!is_json_object(bad), "{}", String::from_utf8_lossy(bad));
        }
    }
}
