//! Events out: webhook subscriptions (their secret sealed like every credential) and the
//! deliveries the database's triggers queue, claimed with leases and finished by the sender.

use crate::rows;
use crate::{Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::query;

/// A subscription, its secret opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSubscription {
    /// Its id.
    pub id: i64,
    /// Where events are posted.
    pub url: String,
    /// The events it wants.
    pub events: Vec<String>,
    /// The signing secret.
    pub secret: String,
    /// Whether it gets events.
    pub active: bool,
    /// When it was added.
    pub created_at: Timestamp,
}

/// A delivery of one event to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDelivery {
    /// Its id: the event's id for the receiver (the same on every retry).
    pub id: i64,
    /// The subscription.
    pub subscription_id: i64,
    /// `message.received`, `message.sent`, `conversation.status_changed`,
    /// `conversation.escalated` or `test`.
    pub event: String,
    /// What it is about (see the table's definition).
    pub subject_id: i64,
    /// `queued`, `sending`, `sent` or `failed`.
    pub state: String,
    /// Tries so far.
    pub attempts: i64,
    /// When it is next tried.
    pub next_attempt_at: Timestamp,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When the event happened.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

const DELIVERY_COLUMNS: &str = "id, subscription_id, event, subject_id, state, attempts, \
     next_attempt_at, last_status, last_error, created_at, updated_at";

fn delivery(row: &crate::Row) -> Result<EventDelivery, StoreError> {
    Ok(EventDelivery {
        id: rows::get(row, "id")?,
        subscription_id: rows::get(row, "subscription_id")?,
        event: rows::get(row, "event")?,
        subject_id: rows::get(row, "subject_id")?,
        state: rows::get(row, "state")?,
        attempts: rows::get(row, "attempts")?,
        next_attempt_at: rows::ts(row, "next_attempt_at")?,
        last_status: rows::get(row, "last_status")?,
        last_error: rows::get(row, "last_error")?,
        created_at: rows::ts(row, "created_at")?,
        updated_at: rows::ts(row, "updated_at")?,
    })
}

pub(crate) fn secret_context(id: i64) -> Vec<u8> {
    format!("event-subscription:{id}:secret").into_bytes()
}

/// A status change, as a `conversation.status_changed` event tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatusChange {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The new status.
    pub status: String,
    /// Who changed it (none: buzon, or a customer's message).
    pub user_id: Option<UserId>,
    /// When.
    pub changed_at: Timestamp,
}

impl Store {
    /// Every subscription, secrets opened.
    pub async fn event_subscriptions(&self) -> Result<Vec<EventSubscription>, StoreError> {
        let rows = query(
            "SELECT id, url, events, secret, active, created_at FROM event_subscriptions ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = rows::get(row, "id")?;
                let sealed: Vec<u8> = rows::get(row, "secret")?;
                let secret = self
                    .cipher()
                    .open(&secret_context(id), &sealed)
                    .map_err(|_| StoreError::Decrypt)
                    .and_then(|plain| String::from_utf8(plain).map_err(|_| StoreError::Decrypt))?;
                Ok(EventSubscription {
                    id,
                    url: rows::get(row, "url")?,
                    events: rows::get::<String>(row, "events")?
                        .split(',')
                        .filter(|event| !event.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    secret,
                    active: rows::flag(row, "active")?,
                    created_at: rows::ts(row, "created_at")?,
                })
            })
            .collect()
    }

    /// The newest deliveries (of one subscription when given), newest first.
    pub async fn event_deliveries(
        &self,
        subscription: Option<i64>,
        limit: u32,
    ) -> Result<Vec<EventDelivery>, StoreError> {
        let rows = query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE ($1 = 0 OR subscription_id = $1) \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(subscription.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(delivery).collect()
    }

    /// Claims up to `limit` due deliveries for `owner` until `lease_until` (one whose sender
    /// died is due again once its lease has run out).
    pub async fn claim_event_deliveries(
        &self,
        owner: &str,
        limit: u32,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<EventDelivery>, StoreError> {
        let rows = self
            .claim_leased(
                "event_deliveries",
                DELIVERY_COLUMNS,
                owner,
                limit,
                now,
                lease_until,
            )
            .await?;
        rows.iter().map(delivery).collect()
    }

    /// Records a try by `owner`: sent; or failed for now, due again at `retry_at` (`None`:
    /// given up). A lease another node took meanwhile is left alone.
    pub async fn finish_event_delivery(
        &self,
        id: i64,
        owner: &str,
        status: Option<u16>,
        outcome: Result<(), (&str, Option<Timestamp>)>,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_millis();
        let (state, error, next) = match outcome {
            Ok(()) => ("sent", None, now),
            Err((error, Some(retry_at))) => ("queued", Some(error), retry_at.as_millis()),
            Err((error, None)) => ("failed", Some(error), now),
        };
        query(
            "UPDATE event_deliveries SET state = $1, last_error = $2, next_attempt_at = $3, last_status = $4, \
             lease_owner = NULL, lease_until = NULL, updated_at = $5 WHERE id = $6 AND lease_owner = $7",
        )
        .bind(state)
        .bind(error.map(|error| error.chars().take(500).collect::<String>()))
        .bind(next)
        .bind(status.map(i64::from))
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A conversation status change, by its id.
    pub async fn status_change(&self, id: i64) -> Result<StoredStatusChange, StoreError> {
        let row = query(
            "SELECT conversation_id, status, user_id, changed_at FROM conversation_status_changes WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(StoredStatusChange {
            conversation_id: ConversationId(rows::get(&row, "conversation_id")?),
            status: rows::get(&row, "status")?,
            user_id: rows::get::<Option<i64>>(&row, "user_id")?.map(UserId),
            changed_at: rows::ts(&row, "changed_at")?,
        })
    }

    /// An escalation, by its id.
    pub async fn escalation(&self, id: i64) -> Result<crate::Escalation, StoreError> {
        let row = query(
            "SELECT conversation_id, escalated_at, escalated_by, note FROM escalations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(crate::Escalation {
            conversation_id: ConversationId(rows::get(&row, "conversation_id")?),
            escalated_at: rows::ts(&row, "escalated_at")?,
            escalated_by: rows::get(&row, "escalated_by")?,
            note: rows::get(&row, "note")?,
        })
    }
}

impl StoreTx {
    /// Adds a subscription; returns its id.
    pub async fn add_event_subscription(
        &mut self,
        url: &str,
        events: &[&str],
        secret: &str,
    ) -> Result<i64, StoreError> {
        let row = query(
            "INSERT INTO event_subscriptions (url, events, secret, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(url)
        .bind(format!(",{},", events.join(",")))
        .bind(Vec::<u8>::new())
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.conn())
        .await?;
        let id: i64 = rows::get(&row, "id")?;
        self.current_key().await?;
        let sealed = self.cipher().seal(&secret_context(id), secret.as_bytes());
        query("UPDATE event_subscriptions SET secret = $1 WHERE id = $2")
            .bind(sealed)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(id)
    }

    /// Deletes a subscription; its queued deliveries fail (the log keeps them).
    pub async fn delete_event_subscription(&mut self, id: i64) -> Result<(), StoreError> {
        let result = query("DELETE FROM event_subscriptions WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        query(
            "UPDATE event_deliveries SET state = 'failed', last_error = 'the subscription was deleted', \
             lease_owner = NULL, lease_until = NULL WHERE subscription_id = $1 AND state IN ('queued', 'sending')",
        )
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Queues a `test` event for a subscription; returns the delivery's id.
    pub async fn queue_test_event(&mut self, subscription: i64) -> Result<i64, StoreError> {
        let now = Timestamp::now().as_millis();
        let row = query(
            "INSERT INTO event_deliveries (subscription_id, event, subject_id, next_attempt_at, created_at, updated_at) \
             SELECT id, 'test', 0, $2, $2, $2 FROM event_subscriptions WHERE id = $1 RETURNING id",
        )
        .bind(subscription)
        .bind(now)
        .fetch_optional(self.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        rows::get(&row, "id")
    }

    /// Puts a failed delivery back in the queue, due now.
    pub async fn retry_event_delivery(&mut self, id: i64) -> Result<(), StoreError> {
        let result = query(
            "UPDATE event_deliveries SET state = 'queued', next_attempt_at = $1, updated_at = $1 \
             WHERE id = $2 AND state = 'failed' \
             AND subscription_id IN (SELECT id FROM event_subscriptions)",
        )
        .bind(Timestamp::now().as_millis())
        .bind(id)
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
