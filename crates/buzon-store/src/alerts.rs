//! Urgent alerts: rules (their JSON definition, the webhook secret sealed apart) and the
//! deliveries, a durable queue claimed with leases like the outbox. A delivery is created at
//! most once per rule, conversation and destination (a unique key), in the transaction of the
//! rules' look at a message, so a retry or a second node never alerts twice.

use crate::rows;
use crate::{Store, StoreError, StoreTx};
use buzon_core::{ConversationId, Timestamp};
use sqlx::query;

/// A stored alert rule: its definition as JSON (without the secret) and whether it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlertRule {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The definition, as the application layer wrote it.
    pub definition: String,
    /// The outgoing webhook's secret, opened.
    pub webhook_secret: Option<String>,
}

/// A delivery to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertDelivery {
    /// The rule that matched.
    pub rule_id: i64,
    /// The conversation it is about.
    pub conversation_id: ConversationId,
    /// `email` or `webhook`.
    pub kind: &'static str,
    /// The address or URL.
    pub destination: String,
    /// The alert, as JSON.
    pub payload: String,
}

/// A delivery as the queue holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDelivery {
    /// Its id.
    pub id: i64,
    /// The rule that matched.
    pub rule_id: i64,
    /// The conversation it is about.
    pub conversation_id: ConversationId,
    /// `email` or `webhook`.
    pub kind: String,
    /// The address or URL.
    pub destination: String,
    /// The alert, as JSON.
    pub payload: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub state: String,
    /// Tries so far.
    pub attempts: i64,
    /// When it is next tried.
    pub next_attempt_at: Timestamp,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

const DELIVERY_COLUMNS: &str = "id, rule_id, conversation_id, kind, destination, payload, state, \
     attempts, next_attempt_at, last_error, created_at, updated_at";

fn delivery(row: &sqlx::any::AnyRow) -> Result<AlertDelivery, StoreError> {
    Ok(AlertDelivery {
        id: rows::get(row, "id")?,
        rule_id: rows::get(row, "rule_id")?,
        conversation_id: ConversationId(rows::get(row, "conversation_id")?),
        kind: rows::get(row, "kind")?,
        destination: rows::get(row, "destination")?,
        payload: rows::get(row, "payload")?,
        state: rows::get(row, "state")?,
        attempts: rows::get(row, "attempts")?,
        next_attempt_at: rows::ts(row, "next_attempt_at")?,
        last_error: rows::get(row, "last_error")?,
        created_at: rows::ts(row, "created_at")?,
        updated_at: rows::ts(row, "updated_at")?,
    })
}

pub(crate) fn secret_context(rule: i64) -> Vec<u8> {
    format!("alert-rule:{rule}:webhook-secret").into_bytes()
}

impl Store {
    /// Every alert rule, oldest first, with its secret opened (for the delivery of its alerts).
    pub async fn alert_rules(&self) -> Result<Vec<StoredAlertRule>, StoreError> {
        let rows =
            query("SELECT id, name, definition, webhook_secret FROM alert_rules ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = rows::get(row, "id")?;
                let sealed: Option<Vec<u8>> = rows::get(row, "webhook_secret")?;
                let webhook_secret = sealed
                    .map(|sealed| {
                        self.cipher()
                            .open(&secret_context(id), &sealed)
                            .map_err(|_| StoreError::Decrypt)
                            .and_then(|plain| {
                                String::from_utf8(plain).map_err(|_| StoreError::Decrypt)
                            })
                    })
                    .transpose()?;
                Ok(StoredAlertRule {
                    id,
                    name: rows::get(row, "name")?,
                    definition: rows::get(row, "definition")?,
                    webhook_secret,
                })
            })
            .collect()
    }

    /// The newest deliveries, newest first.
    pub async fn alert_deliveries(&self, limit: u32) -> Result<Vec<AlertDelivery>, StoreError> {
        let rows = query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries ORDER BY created_at DESC, id DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(delivery).collect()
    }

    /// Claims up to `limit` due deliveries for `owner` until `lease_until` (a delivery whose
    /// sender died is due again once its lease has run out).
    pub async fn claim_alert_deliveries(
        &self,
        owner: &str,
        limit: u32,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<AlertDelivery>, StoreError> {
        let rows = self
            .claim_leased(
                "alert_deliveries",
                DELIVERY_COLUMNS,
                owner,
                limit,
                now,
                lease_until,
            )
            .await?;
        rows.iter().map(delivery).collect()
    }

    /// Claims up to `limit` due rows of a delivery queue (`state`, `next_attempt_at`,
    /// `lease_owner`, `lease_until`, `attempts`, `updated_at`) for `owner` until
    /// `lease_until`: queued ones that are due, and sending ones whose sender's lease ran out.
    pub(crate) async fn claim_leased(
        &self,
        table: &str,
        columns: &str,
        owner: &str,
        limit: u32,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<crate::Row>, StoreError> {
        let lock = self.skip_locked();
        Ok(query(&format!(
            "UPDATE {table} SET state = 'sending', lease_owner = $1, lease_until = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM {table} WHERE \
             (state = 'queued' AND next_attempt_at <= $3) OR (state = 'sending' AND lease_until < $3) \
             ORDER BY next_attempt_at, id LIMIT $4 {lock}) RETURNING {columns}"
        ))
        .bind(owner)
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.write)
        .await?)
    }

    /// Records the outcome of a try by `owner`: sent; or failed for now, due again at `retry_at`
    /// (`None`: given up, failed for good). A lease another node took meanwhile is left alone.
    pub async fn finish_alert_delivery(
        &self,
        id: i64,
        owner: &str,
        outcome: Result<(), (&str, Option<Timestamp>)>,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_millis();
        let (state, error, next) = match outcome {
            Ok(()) => ("sent", None, now),
            Err((error, Some(retry_at))) => ("queued", Some(error), retry_at.as_millis()),
            Err((error, None)) => ("failed", Some(error), now),
        };
        query(
            "UPDATE alert_deliveries SET state = $1, last_error = $2, next_attempt_at = $3, \
             lease_owner = NULL, lease_until = NULL, updated_at = $4 WHERE id = $5 AND lease_owner = $6",
        )
        .bind(state)
        .bind(error.map(|error| error.chars().take(500).collect::<String>()))
        .bind(next)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Open conversations that have waited since before `waiting_before`, oldest first, that
    /// rule `rule_id` has not alerted about yet.
    pub async fn waiting_without_alert(
        &self,
        rule_id: i64,
        waiting_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<ConversationId>, StoreError> {
        let rows = query(
            "SELECT c.id FROM conversations c WHERE c.status = 'open' AND c.waiting_since IS NOT NULL AND c.monitor IS NULL \
             AND c.waiting_since <= $1 AND NOT EXISTS (SELECT 1 FROM alert_deliveries d \
             WHERE d.rule_id = $2 AND d.conversation_id = c.id) ORDER BY c.waiting_since, c.id LIMIT $3",
        )
        .bind(waiting_before.as_millis())
        .bind(rule_id)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok(ConversationId(rows::get(row, "id")?)))
            .collect()
    }
}

impl StoreTx {
    /// Adds an alert rule; returns its id.
    pub async fn add_alert_rule(
        &mut self,
        name: &str,
        definition: &str,
        webhook_secret: Option<&str>,
    ) -> Result<i64, StoreError> {
        let now = Timestamp::now().as_millis();
        let row = query(
            "INSERT INTO alert_rules (name, definition, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(name)
        .bind(definition)
        .bind(now)
        .fetch_one(self.conn())
        .await?;
        let id: i64 = rows::get(&row, "id")?;
        self.set_alert_secret(id, webhook_secret).await?;
        Ok(id)
    }

    /// Replaces an alert rule's definition; its secret too unless `webhook_secret` is `None`
    /// (kept) — `Some(None)` removes it.
    pub async fn update_alert_rule(
        &mut self,
        id: i64,
        name: &str,
        definition: &str,
        webhook_secret: Option<Option<&str>>,
    ) -> Result<(), StoreError> {
        let result = query(
            "UPDATE alert_rules SET name = $1, definition = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(name)
        .bind(definition)
        .bind(Timestamp::now().as_millis())
        .bind(id)
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some(secret) = webhook_secret {
            self.set_alert_secret(id, secret).await?;
        }
        Ok(())
    }

    async fn set_alert_secret(&mut self, id: i64, secret: Option<&str>) -> Result<(), StoreError> {
        self.current_key().await?;
        let sealed =
            secret.map(|secret| self.cipher().seal(&secret_context(id), secret.as_bytes()));
        query("UPDATE alert_rules SET webhook_secret = $1 WHERE id = $2")
            .bind(sealed)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Deletes an alert rule (its deliveries stay in the log).
    pub async fn delete_alert_rule(&mut self, id: i64) -> Result<(), StoreError> {
        let result = query("DELETE FROM alert_rules WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Queues a delivery unless this rule already alerted this destination about this
    /// conversation; returns whether it was queued.
    pub async fn queue_alert_delivery(
        &mut self,
        delivery: &NewAlertDelivery,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now().as_millis();
        let result = query(
            "INSERT INTO alert_deliveries (rule_id, conversation_id, kind, destination, payload, state, \
             attempts, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, $6) \
             ON CONFLICT (rule_id, conversation_id, kind, destination) DO NOTHING",
        )
        .bind(delivery.rule_id)
        .bind(delivery.conversation_id.get())
        .bind(delivery.kind)
        .bind(&delivery.destination)
        .bind(&delivery.payload)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Whether rule `rule_id` alerted anyone about this conversation already.
    pub async fn alerted(
        &mut self,
        rule_id: i64,
        conversation: ConversationId,
    ) -> Result<bool, StoreError> {
        let row = query(
            "SELECT COUNT(*) AS sent FROM alert_deliveries WHERE rule_id = $1 AND conversation_id = $2",
        )
        .bind(rule_id)
        .bind(conversation.get())
        .fetch_one(self.conn())
        .await?;
        Ok(rows::get::<i64>(&row, "sent")? > 0)
    }

    /// Puts a failed delivery back in the queue, due now.
    pub async fn retry_alert_delivery(&mut self, id: i64) -> Result<(), StoreError> {
        let result = query(
            "UPDATE alert_deliveries SET state = 'queued', next_attempt_at = $1, updated_at = $1 \
             WHERE id = $2 AND state = 'failed'",
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
