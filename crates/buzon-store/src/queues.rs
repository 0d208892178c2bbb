//! The inbound event log and the outbox: durable queues that workers on any number of nodes
//! claim with leases. A claim is one statement (with `FOR UPDATE SKIP LOCKED` on PostgreSQL;
//! SQLite serialises writers), so two workers never hold the same row.

use crate::conversations::snippet;
use crate::rows::{self, EVENT_COLUMNS, MESSAGE_COLUMNS, OUTBOX_COLUMNS};
use crate::tx::one_transaction;
use crate::{Engine, Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::query;

/// An inbound event claimed by a worker until its lease runs out.
pub type ClaimedEvent = InboundEvent;
/// An outbox row claimed by a dispatcher until its lease runs out.
pub type ClaimedOutbox = OutboxItem;

impl Store {
    pub(crate) fn skip_locked(&self) -> &'static str {
        match self.engine {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        }
    }

    /// Stores a raw delivery durably. Returns its id, or `None` when the same delivery (same
    /// source and dedup key) was stored before.
    pub async fn insert_inbound_event(
        &self,
        event: &NewInboundEvent,
    ) -> Result<Option<EventId>, StoreError> {
        let row = query(
            "INSERT INTO inbound_events (source, channel_id, origin, dedup_key, body, received_at, state) \
             VALUES ($1, $2, $6, $3, $4, $5, 'pending') ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id",
        )
        .bind(event.source.as_str())
        .bind(event.channel_id.map(ChannelId::get))
        .bind(&event.dedup_key)
        .bind(&event.body)
        .bind(Timestamp::now().as_millis())
        .bind(&event.origin)
        .fetch_optional(&self.write)
        .await?;
        row.map(|row| rows::get::<i64>(&row, "id").map(EventId))
            .transpose()
    }

    /// Stores many raw deliveries durably in one statement (one commit, one fsync): the group
    /// commit behind webhook acceptance. Returns, for each delivery in order, its id, or
    /// `None` when the same delivery was stored before (or earlier in the same batch).
    pub async fn insert_inbound_events(
        &self,
        events: &[NewInboundEvent],
    ) -> Result<Vec<Option<EventId>>, StoreError> {
        let mut stored: std::collections::HashMap<(String, String), i64> =
            std::collections::HashMap::new();
        let now = Timestamp::now().as_millis();
        // SQLite allows 32,766 bound values; six a row.
        for batch in events.chunks(1000) {
            let mut statement = crate::conversations::Statement::default();
            let mut rows = Vec::with_capacity(batch.len());
            for event in batch {
                use crate::conversations::Value;
                let values = [
                    statement.push(Value::Text(event.source.as_str().to_owned())),
                    statement.push(match event.channel_id {
                        Some(id) => Value::Int(id.get()),
                        None => Value::Null,
                    }),
                    statement.push(Value::Text(event.origin.clone())),
                    statement.push(Value::Text(event.dedup_key.clone())),
                    statement.push(Value::Bytes(event.body.clone())),
                    statement.push(Value::Int(now)),
                ];
                rows.push(format!("({}, 'pending')", values.join(", ")));
            }
            statement.text = format!(
                "INSERT INTO inbound_events (source, channel_id, origin, dedup_key, body, received_at, state) \
                 VALUES {} ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id, source, dedup_key",
                rows.join(", ")
            );
            for row in statement
                .query(self.engine())
                .fetch_all(&self.write)
                .await?
            {
                stored.insert(
                    (rows::get(&row, "source")?, rows::get(&row, "dedup_key")?),
                    rows::get(&row, "id")?,
                );
            }
        }
        Ok(events
            .iter()
            .map(|event| {
                stored
                    .remove(&(event.source.as_str().to_owned(), event.dedup_key.clone()))
                    .map(EventId)
            })
            .collect())
    }

    /// Claims up to `limit` pending events, oldest first, for `owner` until `lease_until`.
    /// Events whose lease ran out (a worker died) are claimable again.
    pub async fn claim_inbound_events(
        &self,
        owner: &str,
        limit: u32,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<ClaimedEvent>, StoreError> {
        let sql = format!(
            "UPDATE inbound_events SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM inbound_events WHERE state = 'pending' \
             AND (lease_until IS NULL OR lease_until < $3) ORDER BY id LIMIT $4 {}) \
             RETURNING {EVENT_COLUMNS}",
            self.skip_locked()
        );
        let rows = query(&sql)
            .bind(owner)
            .bind(lease_until.as_millis())
            .bind(now.as_millis())
            .bind(i64::from(limit))
            .fetch_all(&self.write)
            .await?;
        let mut events = rows
            .iter()
            .map(rows::event)
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(|event| event.id);
        Ok(events)
    }

    /// Gives up on pending events that keep failing to finish (a worker died on each attempt):
    /// after `max_attempts` claims whose leases ran out they are marked failed with the reason,
    /// visible in the event log, instead of being retried forever. Returns how many.
    pub async fn fail_exhausted_inbound_events(
        &self,
        now: Timestamp,
        max_attempts: i32,
    ) -> Result<u64, StoreError> {
        let result = query(
            "UPDATE inbound_events SET state = 'failed', processed_at = $1, lease_owner = NULL, lease_until = NULL, \
             error = 'processing stopped after ' || CAST(attempts AS TEXT) || ' attempts that never finished' \
             WHERE state = 'pending' AND attempts >= $2 AND lease_until IS NOT NULL AND lease_until < $1",
        )
        .bind(now.as_millis())
        .bind(i64::from(max_attempts))
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected())
    }

    /// How many events are `unparsed`, by source platform and channel (unknown channel: none).
    pub async fn unparsed_counts(
        &self,
    ) -> Result<Vec<(ChannelKind, Option<ChannelId>, i64)>, StoreError> {
        let rows = query(
            "SELECT source, channel_id, COUNT(*) AS n FROM inbound_events WHERE state = 'unparsed' \
             GROUP BY source, channel_id ORDER BY source, channel_id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    ChannelKind::parse(&rows::get::<String>(row, "source")?)?,
                    rows::get::<Option<i64>>(row, "channel_id")?.map(ChannelId),
                    rows::get(row, "n")?,
                ))
            })
            .collect()
    }

    /// Events that failed to process, newest first.
    pub async fn failed_inbound_events(
        &self,
        limit: u32,
        before: Option<EventId>,
    ) -> Result<Vec<InboundEvent>, StoreError> {
        let rows = query(&format!(
            "SELECT {EVENT_COLUMNS} FROM inbound_events WHERE state IN ('failed', 'unparsed') \
             AND id < $2 ORDER BY id DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .bind(before.map_or(i64::MAX, EventId::get))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::event).collect()
    }

    /// Releases every lease `owner` holds (events, outbox rows, pollers), for a clean shutdown:
    /// other nodes take the work at once instead of waiting for the leases to run out.
    /// Outbox rows in the middle of a send are left alone: their outcome is unknown.
    pub async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        query("UPDATE inbound_events SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 AND state = 'pending'")
            .bind(owner)
            .execute(&self.write)
            .await?;
        query("DELETE FROM channel_leases WHERE owner = $1")
            .bind(owner)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The outbox row with this idempotency key, if any.
    pub async fn outbox_by_key(&self, key: &str) -> Result<Option<OutboxItem>, StoreError> {
        outbox_by_key_on(&self.write, key).await
    }

    /// Claims up to `limit` due outbox rows for `owner` until `lease_until`, oldest first.
    /// A claimed row moves to `sending`; if its dispatcher dies, the row is not sent again
    /// blindly: [`Store::expire_stuck_sends`] moves it to `unknown` for checking.
    pub async fn claim_outbox(
        &self,
        owner: &str,
        limit: u32,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<ClaimedOutbox>, StoreError> {
        let sql = format!(
            "UPDATE outbox SET state = 'sending', lease_owner = $1, lease_until = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= $3 \
             ORDER BY next_attempt_at, id LIMIT $4 {}) RETURNING {OUTBOX_COLUMNS}",
            self.skip_locked()
        );
        let rows = query(&sql)
            .bind(owner)
            .bind(lease_until.as_millis())
            .bind(now.as_millis())
            .bind(i64::from(limit))
            .fetch_all(&self.write)
            .await?;
        let mut items = rows
            .iter()
            .map(rows::outbox)
            .collect::<Result<Vec<_>, _>>()?;
        items.sort_by_key(|item| (item.next_attempt_at, item.id));
        Ok(items)
    }

    /// Extends `owner`'s lease on a claimed row to `until`, just before its platform call; false
    /// when the row is no longer `owner`'s to send (the lease ran out first). A send starts only
    /// after this returns true, so a lost lease never leads to a send.
    pub async fn renew_outbox_lease(
        &self,
        id: OutboxId,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = query(
            "UPDATE outbox SET lease_until = $1, updated_at = $2 \
             WHERE id = $3 AND lease_owner = $4 AND state = 'sending' AND lease_until >= $2",
        )
        .bind(until.as_millis())
        .bind(now.as_millis())
        .bind(id.get())
        .bind(owner)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records a send the platform accepted: the outbox row is done and the message carries
    /// the platform's id. Returns false when `owner` no longer held the row.
    pub async fn complete_outbox(
        &self,
        id: OutboxId,
        owner: &str,
        platform_id: &ExternalId,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now().as_millis();
        let mut tx = self.write.begin().await?;
        let row = query(
            "UPDATE outbox SET state = 'sent', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = $1 \
             WHERE id = $2 AND lease_owner = $3 AND state IN ('sending', 'unknown') RETURNING message_id",
        )
        .bind(now)
        .bind(id.get())
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let message_id: i64 = rows::get(&row, "message_id")?;
        query(
            "UPDATE messages SET platform_id = $1, status = 'sent', error = NULL \
             WHERE id = $2 AND status IN ('queued', 'unknown')",
        )
        .bind(platform_id.as_str())
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        // A status the platform sent before this send was recorded applies now.
        let early = query(
            "DELETE FROM early_statuses WHERE channel_id = (SELECT channel_id FROM messages WHERE id = $1) \
             AND platform_id = $2 RETURNING status, error",
        )
        .bind(message_id)
        .bind(platform_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(early) = early {
            let status = DeliveryStatus::parse_lenient(&rows::get::<String>(&early, "status")?);
            if DeliveryStatus::Sent.may_advance_to(status) {
                query("UPDATE messages SET status = $1, error = COALESCE($2, error) WHERE id = $3")
                    .bind(status.as_str())
                    .bind(rows::get::<Option<String>>(&early, "error")?)
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records a failed send: with `retry_at`, the row is due again then; without, it has
    /// failed for good and the message shows the reason.
    pub async fn fail_outbox(
        &self,
        id: OutboxId,
        owner: &str,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now().as_millis();
        let error = bound_text(error, 2000);
        let mut tx = self.write.begin().await?;
        let (state, next) = match retry_at {
            Some(at) => ("queued", at.as_millis()),
            None => ("failed", now),
        };
        let row = query(
            "UPDATE outbox SET state = $1, next_attempt_at = $2, last_error = $3, lease_owner = NULL, \
             lease_until = NULL, updated_at = $4 WHERE id = $5 AND lease_owner = $6 AND state IN ('sending', 'unknown') \
             RETURNING message_id, kind",
        )
        .bind(state)
        .bind(next)
        .bind(&error)
        .bind(now)
        .bind(id.get())
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let kind: String = rows::get(&row, "kind")?;
        if retry_at.is_none() && kind == "reply" {
            let message_id: i64 = rows::get(&row, "message_id")?;
            query("UPDATE messages SET status = 'failed', error = $1 WHERE id = $2")
                .bind(&error)
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Moves sends whose dispatcher's lease ran out mid-send to `unknown`: the platform may or
    /// may not have the reply, so it must be checked before any new attempt. The row keeps its
    /// last owner, so the dispatcher that was sending it can still record what the platform
    /// answered; nobody else claims it again. Returns how many.
    pub async fn expire_stuck_sends(&self, now: Timestamp) -> Result<u64, StoreError> {
        let result = query(
            "UPDATE outbox SET state = 'unknown', lease_until = NULL, updated_at = $1 \
             WHERE state = 'sending' AND lease_until < $1",
        )
        .bind(now.as_millis())
        .execute(&self.write)
        .await?;
        if result.rows_affected() > 0 {
            query(
                "UPDATE messages SET status = 'unknown', \
                 error = 'outcome unknown: the send was interrupted before the platform answered' \
                 WHERE status = 'queued' AND id IN (SELECT message_id FROM outbox \
                 WHERE state = 'unknown' AND kind = 'reply')",
            )
            .execute(&self.write)
            .await?;
        }
        Ok(result.rows_affected())
    }

    /// The outbox row with this id.
    pub async fn outbox_item(&self, id: OutboxId) -> Result<OutboxItem, StoreError> {
        let row = query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1"
        ))
        .bind(id.get())
        .fetch_one(&self.read)
        .await?;
        rows::outbox(&row)
    }

    /// Queue depths for `/metrics`: (pending inbound events, failed inbound events, queued
    /// outbox rows, outbox rows with unknown outcome).
    pub async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        let row = query(
            "SELECT (SELECT COUNT(*) FROM inbound_events WHERE state = 'pending') AS inbound_pending, \
             (SELECT COUNT(*) FROM inbound_events WHERE state = 'failed') AS inbound_failed, \
             (SELECT COUNT(*) FROM inbound_events WHERE state = 'unparsed') AS inbound_unparsed, \
             (SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')) AS outbox_pending, \
             (SELECT COUNT(*) FROM outbox WHERE state = 'unknown') AS outbox_unknown, \
             (SELECT COUNT(*) FROM outbox WHERE state = 'failed') AS outbox_failed",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(QueueDepths {
            inbound_pending: rows::get(&row, "inbound_pending")?,
            inbound_failed: rows::get(&row, "inbound_failed")?,
            inbound_unparsed: rows::get(&row, "inbound_unparsed")?,
            outbox_pending: rows::get(&row, "outbox_pending")?,
            outbox_unknown: rows::get(&row, "outbox_unknown")?,
            outbox_failed: rows::get(&row, "outbox_failed")?,
        })
    }
}

impl Store {
    /// Records a send whose outcome is unknown: the row leaves the queue as `unknown` and the
    /// message says so, so nobody resends it blindly.
    pub async fn mark_outbox_unknown(
        &self,
        id: OutboxId,
        owner: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now().as_millis();
        let mut tx = self.write.begin().await?;
        let row = query(
            "UPDATE outbox SET state = 'unknown', last_error = $1, lease_owner = NULL, lease_until = NULL, updated_at = $2 \
             WHERE id = $3 AND lease_owner = $4 AND state IN ('sending', 'unknown') AND kind = 'reply' \
             RETURNING message_id",
        )
        .bind(bound_text(reason, 2000))
        .bind(now)
        .bind(id.get())
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let message_id: i64 = rows::get(&row, "message_id")?;
        query("UPDATE messages SET status = 'unknown', error = $1 WHERE id = $2 AND status = 'queued'")
            .bind(format!("outcome unknown: {}", bound_text(reason, 1900)))
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // The platform may have said so already, while the send was in flight.
        self.settle_unknown_sends_from_kept_statuses().await?;
        Ok(true)
    }

    /// Settles every send of unknown outcome for which a kept status (one that arrived while
    /// the send was in flight, see [`Store::apply_delivery_status`]) carries the send's
    /// reference: the platform took it. Returns how many were settled.
    pub async fn settle_unknown_sends_from_kept_statuses(&self) -> Result<u64, StoreError> {
        let rows = query(
            "SELECT o.channel_id, o.idempotency_key, o.message_id, e.platform_id FROM outbox o \
             JOIN early_statuses e ON e.channel_id = o.channel_id AND e.reference = o.idempotency_key \
             WHERE o.state = 'unknown' AND o.kind = 'reply' ORDER BY o.id LIMIT 100",
        )
        .fetch_all(&self.write)
        .await?;
        let mut settled = 0;
        for row in &rows {
            let channel_id = ChannelId(rows::get(row, "channel_id")?);
            let key: String = rows::get(row, "idempotency_key")?;
            let message_id = MessageId(rows::get(row, "message_id")?);
            let platform_id = rows::external_id(row, "platform_id")?;
            if self
                .settle_send_by_reference(channel_id, &key, &platform_id)
                .await?
            {
                self.apply_early_statuses(message_id, &platform_id).await?;
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// Applies the status kept for `platform_id` (see [`Store::apply_delivery_status`]) to the
    /// message that now has it.
    async fn apply_early_statuses(
        &self,
        message_id: MessageId,
        platform_id: &ExternalId,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        let early = query(
            "DELETE FROM early_statuses WHERE channel_id = (SELECT channel_id FROM messages WHERE id = $1) \
             AND platform_id = $2 RETURNING status, error",
        )
        .bind(message_id.get())
        .bind(platform_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(early) = early {
            let status = DeliveryStatus::parse_lenient(&rows::get::<String>(&early, "status")?);
            if DeliveryStatus::Sent.may_advance_to(status) {
                query("UPDATE messages SET status = $1, error = COALESCE($2, error) WHERE id = $3 AND status = 'sent'")
                    .bind(status.as_str())
                    .bind(rows::get::<Option<String>>(&early, "error")?)
                    .bind(message_id.get())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The newest inbound message of a conversation that is still on the platform, which a
    /// reply answers.
    pub async fn latest_inbound_platform_id(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Option<ExternalId>, StoreError> {
        latest_inbound_platform_id_on(&self.read, conversation_id).await
    }
}

impl StoreTx {
    /// The outbox row with this idempotency key, if any.
    pub async fn outbox_by_key(&mut self, key: &str) -> Result<Option<OutboxItem>, StoreError> {
        outbox_by_key_on(self.conn(), key).await
    }

    /// The newest inbound message of a conversation that is still on the platform, which a
    /// reply answers.
    pub async fn latest_inbound_platform_id(
        &mut self,
        conversation_id: ConversationId,
    ) -> Result<Option<ExternalId>, StoreError> {
        latest_inbound_platform_id_on(self.conn(), conversation_id).await
    }

    /// Settles a reply whose outcome is unknown, as a person decided: it arrived (the message
    /// is sent), or it is sent again (back in the queue). `NotFound` when the message has no
    /// send of unknown outcome.
    pub async fn settle_unknown_send(
        &mut self,
        message: MessageId,
        arrived: bool,
    ) -> Result<OutboxId, StoreError> {
        let now = Timestamp::now().as_millis();
        let row = query(
            "UPDATE outbox SET state = $1, next_attempt_at = $2, updated_at = $2, lease_owner = NULL, \
             lease_until = NULL, last_error = NULL WHERE message_id = $3 AND kind = 'reply' AND state = 'unknown' \
             RETURNING id",
        )
        .bind(if arrived { "sent" } else { "queued" })
        .bind(now)
        .bind(message.get())
        .fetch_optional(self.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        query("UPDATE messages SET status = $1, error = NULL WHERE id = $2")
            .bind(if arrived { "sent" } else { "queued" })
            .bind(message.get())
            .execute(self.conn())
            .await?;
        Ok(OutboxId(rows::get(&row, "id")?))
    }

    /// Sets a failed or unparsed event aside for good.
    pub async fn dismiss_inbound_event(&mut self, id: EventId) -> Result<(), StoreError> {
        let result = query(
            "UPDATE inbound_events SET state = 'done', processed_at = $1, lease_owner = NULL, \
             lease_until = NULL WHERE id = $2 AND state IN ('failed', 'unparsed')",
        )
        .bind(Timestamp::now().as_millis())
        .bind(id.get())
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Puts a failed or unparsed event back in the queue.
    pub async fn replay_inbound_event(&mut self, id: EventId) -> Result<(), StoreError> {
        let result = query(
            "UPDATE inbound_events SET state = 'pending', processed_at = NULL, error = NULL, \
             unparsed = NULL, attempts = 0, lease_owner = NULL, lease_until = NULL WHERE id = $1 AND state IN ('failed', 'unparsed')",
        )
        .bind(id.get())
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Queues a reply: the outbound message (status queued) and its outbox row, before any
    /// platform call. The same idempotency key twice returns the first reply and queues
    /// nothing new (`new` is false). When a concurrent transaction queued the same key first,
    /// this one must be rolled back: that is `Conflict`, and the caller reads the winner with
    /// [`Store::outbox_by_key`].
    pub async fn queue_reply(
        &mut self,
        reply: &NewOutboundReply,
    ) -> Result<QueuedReply, StoreError> {
        if let Some(existing) = self.outbox_by_key(&reply.idempotency_key).await? {
            let message = self.message(existing.message_id).await?;
            return Ok(QueuedReply {
                message,
                outbox: existing,
                new: false,
            });
        }
        let conversation = self.conversation(reply.conversation_id).await?;
        let now = Timestamp::now().as_millis();
        let text = bound_text(&reply.text, MAX_MESSAGE_BYTES);
        let message = query(&format!(
            "INSERT INTO messages (conversation_id, channel_id, direction, user_id, text, attachments, \
             created_at, received_at, status, automatic) VALUES ($1, $2, 'outbound', $3, $4, '[]', $5, $5, 'queued', $6) \
             RETURNING {MESSAGE_COLUMNS}"
        ))
        .bind(conversation.id.get())
        .bind(conversation.channel_id.get())
        .bind(reply.user_id.map(UserId::get))
        .bind(&text)
        .bind(now)
        .bind(i64::from(reply.automatic))
        .fetch_one(self.conn())
        .await?;
        let message = rows::message(&message)?;
        let payload = OutboxPayload::Reply(reply.payload.clone());
        let outbox = query(&format!(
            "INSERT INTO outbox (message_id, kind, conversation_id, channel_id, idempotency_key, payload, state, \
             attempts, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7, $7) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING {OUTBOX_COLUMNS}"
        ))
        .bind(message.id.get())
        .bind(payload.kind())
        .bind(conversation.id.get())
        .bind(conversation.channel_id.get())
        .bind(&reply.idempotency_key)
        .bind(payload.to_json())
        .bind(now)
        .fetch_optional(self.conn())
        .await?;
        let Some(outbox) = outbox else {
            return Err(StoreError::Conflict);
        };
        let outbox = rows::outbox(&outbox)?;
        // A reply by a person answers the customer: the wait ends. An automatic reply does not.
        query(
            "UPDATE conversations SET last_activity_at = CASE WHEN $1 > last_activity_at THEN $1 ELSE last_activity_at END, \
             last_message_text = $2, waiting_since = CASE WHEN $3 = 1 THEN waiting_since ELSE NULL END WHERE id = $4",
        )
        .bind(now)
        .bind(snippet(&text))
        .bind(i64::from(reply.automatic))
        .bind(conversation.id.get())
        .execute(self.conn())
        .await?;
        Ok(QueuedReply {
            message,
            outbox,
            new: true,
        })
    }
}

/// A reply in the outbox.
#[derive(Debug, Clone)]
pub struct QueuedReply {
    /// The outbound message (status queued until the dispatcher sends it).
    pub message: Message,
    /// Its outbox row.
    pub outbox: OutboxItem,
    /// False when the idempotency key had queued it before.
    pub new: bool,
}

impl Store {
    /// Queues a reply in a transaction of its own; a repeated idempotency key returns the
    /// first reply, also when two requests race.
    pub async fn queue_reply(
        &self,
        reply: &NewOutboundReply,
    ) -> Result<(Message, OutboxItem), StoreError> {
        let mut tx = self.begin().await?;
        match tx.queue_reply(reply).await {
            Ok(queued) => {
                tx.commit().await?;
                Ok((queued.message, queued.outbox))
            }
            Err(StoreError::Conflict) => {
                drop(tx);
                let existing = self
                    .outbox_by_key(&reply.idempotency_key)
                    .await?
                    .ok_or(StoreError::Conflict)?;
                let message = self.message(existing.message_id).await?;
                Ok((message, existing))
            }
            Err(err) => Err(err),
        }
    }
}

one_transaction! {
    /// Puts a failed event back in the queue.
    pub async fn replay_inbound_event(&self, id: EventId) -> Result<(), StoreError>;
    /// Sets a failed or unparsed event aside for good (it is then pruned like a processed one).
    pub async fn dismiss_inbound_event(&self, id: EventId) -> Result<(), StoreError>;
}

/// The outbox row with this idempotency key, if any.
pub(crate) async fn outbox_by_key_on<'e, E>(
    executor: E,
    key: &str,
) -> Result<Option<OutboxItem>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE idempotency_key = $1"
    ))
    .bind(key)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(rows::outbox).transpose()
}

/// The newest inbound message of a conversation that is still on the platform, which a
/// reply answers.
pub(crate) async fn latest_inbound_platform_id_on<'e, E>(
    executor: E,
    conversation_id: ConversationId,
) -> Result<Option<ExternalId>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(
            "SELECT platform_id FROM messages WHERE conversation_id = $1 AND direction = 'inbound' AND deleted = 0 \
             AND platform_id IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(conversation_id.get())
        .fetch_optional(executor)
        .await?;
    row.map(|row| rows::external_id(&row, "platform_id"))
        .transpose()
}

impl StoreTx {
    /// Marks a claimed event processed. Returns false when `owner` no longer held it.
    pub async fn complete_inbound_event(
        &mut self,
        id: EventId,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let result = query(
            "UPDATE inbound_events SET state = 'done', processed_at = $1, error = NULL, \
             lease_owner = NULL, lease_until = NULL WHERE id = $2 AND lease_owner = $3 AND state = 'pending'",
        )
        .bind(Timestamp::now().as_millis())
        .bind(id.get())
        .bind(owner)
        .execute(self.conn())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Keeps a claimed event whose parts were not all recognised as `unparsed`, with each
    /// part's path and reason and the channel it was for (its other parts are stored); it stays
    /// in the log for admins to replay once buzon understands it.
    pub async fn mark_inbound_event_unparsed(
        &mut self,
        id: EventId,
        owner: &str,
        channel: Option<ChannelId>,
        parts: &[UnparsedPart],
    ) -> Result<bool, StoreError> {
        let summary: Vec<String> = parts
            .iter()
            .map(|part| format!("{}: {}", part.path, part.reason))
            .collect();
        let parts: Vec<UnparsedPart> = parts
            .iter()
            .take(100)
            .map(|part| UnparsedPart {
                path: bound_text(&part.path, 200),
                reason: bound_text(&part.reason, 500),
            })
            .collect();
        let result = query(
            "UPDATE inbound_events SET state = 'unparsed', processed_at = $1, error = $2, unparsed = $3, \
             channel_id = COALESCE(channel_id, $4), lease_owner = NULL, lease_until = NULL \
             WHERE id = $5 AND lease_owner = $6 AND state = 'pending'",
        )
        .bind(Timestamp::now().as_millis())
        .bind(bound_text(&summary.join("; "), 2000))
        .bind(serde_json::to_string(&parts).expect("parts serialize"))
        .bind(channel.map(ChannelId::get))
        .bind(id.get())
        .bind(owner)
        .execute(self.conn())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Marks a claimed event failed with a reason; it stays in the log for admins to replay.
    pub async fn fail_inbound_event(
        &mut self,
        id: EventId,
        owner: &str,
        error: &str,
    ) -> Result<bool, StoreError> {
        let result = query(
            "UPDATE inbound_events SET state = 'failed', processed_at = $1, error = $2, \
             lease_owner = NULL, lease_until = NULL WHERE id = $3 AND lease_owner = $4 AND state = 'pending'",
        )
        .bind(Timestamp::now().as_millis())
        .bind(bound_text(error, 2000))
        .bind(id.get())
        .bind(owner)
        .execute(self.conn())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Applies a platform edit to a stored inbound message. Returns false when the message is
    /// unknown (the caller then stores it as new).
    pub async fn apply_edit(
        &mut self,
        channel_id: ChannelId,
        platform_id: &ExternalId,
        text: &str,
    ) -> Result<bool, StoreError> {
        // The same text again (a repeated edit, a mention fetched twice) changes nothing.
        let text = bound_text(text, MAX_MESSAGE_BYTES);
        let result = query(
            "UPDATE messages SET text = $1, edited_at = $2 WHERE channel_id = $3 AND platform_id = $4 \
             AND direction = 'inbound' AND text <> $1",
        )
        .bind(text.as_str())
        .bind(Timestamp::now().as_millis())
        .bind(channel_id.get())
        .bind(platform_id.as_str())
        .execute(self.conn())
        .await?;
        if result.rows_affected() > 0 {
            return Ok(true);
        }
        let stored = query(
            "SELECT 1 AS one FROM messages WHERE channel_id = $1 AND platform_id = $2 AND direction = 'inbound'",
        )
        .bind(channel_id.get())
        .bind(platform_id.as_str())
        .fetch_optional(self.conn())
        .await?;
        Ok(stored.is_some())
    }

    /// Marks a message the platform removed. Its text is kept for the record; it is shown as
    /// removed. Returns false when the message is unknown.
    pub async fn mark_removed(
        &mut self,
        channel_id: ChannelId,
        platform_id: &ExternalId,
    ) -> Result<bool, StoreError> {
        let result =
            query("UPDATE messages SET deleted = 1 WHERE channel_id = $1 AND platform_id = $2")
                .bind(channel_id.get())
                .bind(platform_id.as_str())
                .execute(self.conn())
                .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Keeps a removal that found no message (see migration `0023_early_removals`).
    async fn keep_early_removal(
        &mut self,
        channel_id: ChannelId,
        platform_id: &ExternalId,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO early_removals (channel_id, platform_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id, platform_id) DO NOTHING",
        )
        .bind(channel_id.get())
        .bind(platform_id.as_str())
        .bind(Timestamp::now().as_millis())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Retracts every stored message whose removal came first, and forgets those early
    /// removals: the ones a batch just stored, and one that two nodes on PostgreSQL stored and
    /// kept the removal of at the same moment (neither saw the other's uncommitted row; the
    /// next batch that stores messages, on either node, or the hourly pruning mends it). The
    /// early removals left are the few of objects that never came (kept a week); each batch
    /// reads them and looks each up by key.
    pub(crate) async fn apply_early_removals(&mut self) -> Result<(), StoreError> {
        let kept = query("SELECT channel_id, platform_id FROM early_removals")
            .fetch_all(self.conn())
            .await?;
        if kept.is_empty() {
            return Ok(());
        }
        let mut by_channel: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
        for row in &kept {
            by_channel
                .entry(rows::get(row, "channel_id")?)
                .or_default()
                .push(rows::get(row, "platform_id")?);
        }
        for (channel, ids) in by_channel {
            for chunk in ids.chunks(500) {
                let keys: Vec<&str> = chunk.iter().map(String::as_str).collect();
                let arrived = self
                    .rows_by_key("messages", &["platform_id"], "platform_id", channel, &keys)
                    .await?;
                for row in arrived {
                    let platform_id = rows::external_id(&row, "platform_id")?;
                    self.mark_removed(ChannelId(channel), &platform_id).await?;
                    query("DELETE FROM early_removals WHERE channel_id = $1 AND platform_id = $2")
                        .bind(channel)
                        .bind(platform_id.as_str())
                        .execute(self.conn())
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Records that a message is hidden (or shown again) on the platform.
    pub async fn mark_hidden(
        &mut self,
        channel_id: ChannelId,
        platform_id: &ExternalId,
        hidden: bool,
    ) -> Result<bool, StoreError> {
        let result =
            query("UPDATE messages SET hidden = $1 WHERE channel_id = $2 AND platform_id = $3")
                .bind(i64::from(hidden))
                .bind(channel_id.get())
                .bind(platform_id.as_str())
                .execute(self.conn())
                .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Applies a delivery status report to one of our outbound messages. Statuses arrive out
    /// of order and never move backwards; a failure is final. Returns whether it changed.
    pub async fn apply_delivery_status(
        &mut self,
        channel_id: ChannelId,
        platform_id: &ExternalId,
        status: DeliveryStatus,
        error: Option<&str>,
        reference: Option<&str>,
    ) -> Result<bool, StoreError> {
        let row = query("SELECT id, status FROM messages WHERE channel_id = $1 AND platform_id = $2 AND direction = 'outbound'")
            .bind(channel_id.get())
            .bind(platform_id.as_str())
            .fetch_optional(self.conn())
            .await?;
        let Some(row) = row else {
            // Not ours yet, or the status came first: kept until the send is recorded.
            query(
                "INSERT INTO early_statuses (channel_id, platform_id, status, error, received_at, reference) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, platform_id) DO UPDATE SET \
                 status = excluded.status, error = COALESCE(excluded.error, early_statuses.error), \
                 received_at = excluded.received_at, \
                 reference = COALESCE(excluded.reference, early_statuses.reference)",
            )
            .bind(channel_id.get())
            .bind(platform_id.as_str())
            .bind(status.as_str())
            .bind(error.map(|error| bound_text(error, 2000)))
            .bind(Timestamp::now().as_millis())
            .bind(reference.map(|reference| bound_text(reference, 600)))
            .execute(self.conn())
            .await?;
            return Ok(false);
        };
        let id: i64 = rows::get(&row, "id")?;
        let current_text: String = rows::get(&row, "status")?;
        let current = DeliveryStatus::parse_lenient(&current_text);
        if !current.may_advance_to(status) {
            return Ok(false);
        }
        let result = query("UPDATE messages SET status = $1, error = COALESCE($2, error) WHERE id = $3 AND status = $4")
            .bind(status.as_str())
            .bind(error.map(|error| bound_text(error, 2000)))
            .bind(id)
            .bind(current_text)
            .execute(self.conn())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Settles a send of unknown outcome on the platform's own word: a status carrying the
    /// reference buzon sent with the message (WhatsApp's `biz_opaque_callback_data`, the
    /// outbox row's idempotency key) proves the platform took it, as `platform_id`. The row
    /// becomes `sent`, the message learns its platform id, and the audit log says the platform
    /// settled it. A row still being sent, or one already settled, is left alone. Returns
    /// whether a send was settled.
    pub async fn settle_send_by_reference(
        &mut self,
        channel_id: ChannelId,
        reference: &str,
        platform_id: &ExternalId,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now().as_millis();
        let row = query(
            "UPDATE outbox SET state = 'sent', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = $1 \
             WHERE idempotency_key = $2 AND channel_id = $3 AND kind = 'reply' AND state = 'unknown' RETURNING message_id",
        )
        .bind(now)
        .bind(reference)
        .bind(channel_id.get())
        .fetch_optional(self.conn())
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let message_id: i64 = rows::get(&row, "message_id")?;
        query(
            "UPDATE messages SET platform_id = $1, status = 'sent', error = NULL \
             WHERE id = $2 AND status = 'unknown'",
        )
        .bind(platform_id.as_str())
        .bind(message_id)
        .execute(self.conn())
        .await?;
        self.audit(
            "system:platform",
            "message.arrived",
            &format!("message:{message_id}"),
            &serde_json::json!({ "platform_id": platform_id.as_str() }),
        )
        .await?;
        Ok(true)
    }
}

one_transaction! {
    /// The same as [`StoreTx::complete_inbound_event`], in a transaction of its own.
    pub async fn complete_inbound_event(&self, id: EventId, owner: &str) -> Result<bool, StoreError>;
    /// The same as [`StoreTx::mark_inbound_event_unparsed`], in a transaction of its own.
    pub async fn mark_inbound_event_unparsed(&self, id: EventId, owner: &str, channel: Option<ChannelId>, parts: &[UnparsedPart]) -> Result<bool, StoreError>;
    /// The same as [`StoreTx::fail_inbound_event`], in a transaction of its own.
    pub async fn fail_inbound_event(&self, id: EventId, owner: &str, error: &str) -> Result<bool, StoreError>;
    /// The same as [`StoreTx::apply_edit`], in a transaction of its own.
    pub async fn apply_edit(&self, channel_id: ChannelId, platform_id: &ExternalId, text: &str) -> Result<bool, StoreError>;
    /// The same as [`StoreTx::mark_removed`], in a transaction of its own.
    pub async fn mark_removed(&self, channel_id: ChannelId, platform_id: &ExternalId) -> Result<bool, StoreError>;
    /// The same as [`StoreTx::mark_hidden`], in a transaction of its own.
    pub async fn mark_hidden(&self, channel_id: ChannelId, platform_id: &ExternalId, hidden: bool) -> Result<bool, StoreError>;
    /// The same as [`StoreTx::apply_delivery_status`], in a transaction of its own.
    pub async fn apply_delivery_status(&self, channel_id: ChannelId, platform_id: &ExternalId, status: DeliveryStatus, error: Option<&str>, reference: Option<&str>) -> Result<bool, StoreError>;
    /// The same as [`StoreTx::settle_send_by_reference`], in a transaction of its own.
    pub async fn settle_send_by_reference(&self, channel_id: ChannelId, reference: &str, platform_id: &ExternalId) -> Result<bool, StoreError>;
}

/// What one claimed inbound event came to: the writes its parts ask for, and how it ends.
/// The normalizer works these out for a whole batch, then [`Store::finish_inbound_events`]
/// writes the batch in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventResult {
    pub id: EventId,
    pub writes: Vec<EventWrite>,
    pub end: EventEnd,
}

/// One write asked for by a part of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventWrite {
    /// A new message (a repeat changes nothing); with `hide_if_flagged`, a flagged author's
    /// message is hidden in the same transaction.
    Message {
        message: NewInboundMessage,
        hide_if_flagged: bool,
    },
    /// An edit; a message not seen before is stored as new.
    Edit(NewInboundMessage),
    /// The platform removed a message.
    Removed {
        channel_id: ChannelId,
        platform_id: ExternalId,
    },
    /// A message hidden or shown again on the platform.
    Hidden {
        channel_id: ChannelId,
        platform_id: ExternalId,
        hidden: bool,
    },
    /// An object a webhook named without its content, for the channel's poller to fetch.
    Fetch {
        channel_id: ChannelId,
        object_id: ExternalId,
    },
    /// A delivery status of one of our messages; with a `reference` (the send's idempotency
    /// key), it also settles a send of unknown outcome.
    Status {
        channel_id: ChannelId,
        platform_id: ExternalId,
        status: DeliveryStatus,
        error: Option<String>,
        reference: Option<String>,
    },
}

/// How a processed event ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventEnd {
    /// Every part stored or known.
    Done,
    /// These parts were not recognised (the others are stored): kept for replay.
    Unparsed {
        channel: Option<ChannelId>,
        parts: Vec<UnparsedPart>,
    },
    /// The event as a whole could not be processed: kept for replay with the reason.
    Failed(String),
}

/// What writing a batch of events did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchWritten {
    /// New messages stored.
    pub messages: usize,
    /// Sends of unknown outcome settled by the platform's status.
    pub settled_sends: usize,
}

impl StoreTx {
    /// Applies an event's writes other than its plain new messages, which
    /// [`Store::finish_inbound_events`] stores for the whole batch at once.
    async fn apply_event_writes(
        &mut self,
        result: &EventResult,
    ) -> Result<BatchWritten, StoreError> {
        let mut written = BatchWritten::default();
        for write in &result.writes {
            match write {
                EventWrite::Message {
                    hide_if_flagged: false,
                    ..
                } => {}
                EventWrite::Message {
                    message,
                    hide_if_flagged: true,
                } => {
                    if let IngestOutcome::Inserted { .. } =
                        self.ingest_message(message, true).await?
                    {
                        written.messages += 1;
                    }
                }
                EventWrite::Edit(message) => {
                    if let Some(recommendation) = message.found_by.and_then(FoundBy::recommendation)
                    {
                        self.set_recommendation(
                            message.channel_id,
                            &message.platform_id,
                            recommendation,
                        )
                        .await?;
                    }
                    if !self
                        .apply_edit(message.channel_id, &message.platform_id, &message.text)
                        .await?
                    {
                        if let IngestOutcome::Inserted { .. } =
                            self.ingest_message(message, false).await?
                        {
                            written.messages += 1;
                        }
                    }
                }
                EventWrite::Removed {
                    channel_id,
                    platform_id,
                } => {
                    if !self.mark_removed(*channel_id, platform_id).await? {
                        // Before its object (webhooks in any order, or a mention's fetch
                        // under way): kept, and applied when the object is stored.
                        self.keep_early_removal(*channel_id, platform_id).await?;
                    }
                    self.forget_fetch(*channel_id, platform_id).await?;
                }
                EventWrite::Hidden {
                    channel_id,
                    platform_id,
                    hidden,
                } => {
                    self.mark_hidden(*channel_id, platform_id, *hidden).await?;
                }
                EventWrite::Fetch {
                    channel_id,
                    object_id,
                } => {
                    self.queue_fetch(*channel_id, object_id).await?;
                }
                EventWrite::Status {
                    channel_id,
                    platform_id,
                    status,
                    error,
                    reference,
                } => {
                    if let Some(reference) = reference {
                        if self
                            .settle_send_by_reference(*channel_id, reference, platform_id)
                            .await?
                        {
                            written.settled_sends += 1;
                        }
                    }
                    self.apply_delivery_status(
                        *channel_id,
                        platform_id,
                        *status,
                        error.as_deref(),
                        reference.as_deref(),
                    )
                    .await?;
                }
            }
        }
        Ok(written)
    }

    /// Marks many claimed events processed in one statement (those `owner` still holds).
    async fn complete_inbound_events(
        &mut self,
        ids: &[EventId],
        owner: &str,
    ) -> Result<(), StoreError> {
        for chunk in ids.chunks(1000) {
            let mut statement = crate::conversations::Statement::default();
            use crate::conversations::Value;
            let now = statement.push(Value::Int(Timestamp::now().as_millis()));
            let owner = statement.push(Value::Text(owner.to_owned()));
            let placeholders: Vec<String> = chunk
                .iter()
                .map(|id| statement.push(Value::Int(id.get())))
                .collect();
            statement.text = format!(
                "UPDATE inbound_events SET state = 'done', processed_at = {now}, error = NULL, \
                 lease_owner = NULL, lease_until = NULL WHERE id IN ({}) AND lease_owner = {owner} AND state = 'pending'",
                placeholders.join(", ")
            );
            statement.query(self.engine()).execute(self.conn()).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Writes a batch of processed events in one transaction, so the batch costs one commit
    /// (one fsync) rather than one per message, and an event's messages and its end commit
    /// together: a crash leaves the event pending with none of its writes, and a retry
    /// repeats nothing. `touched` channels record that something arrived for them.
    pub async fn finish_inbound_events(
        &self,
        owner: &str,
        results: &[EventResult],
        touched: &[ChannelId],
    ) -> Result<BatchWritten, StoreError> {
        let mut tx = self.begin().await?;
        let mut total = BatchWritten::default();
        // The batch's new messages first, in a few multi-row statements; then what else each
        // event asks for (edits, removals, statuses apply to messages stored just before),
        // and the events' ends, the plain "done" ones in one statement.
        let messages: Vec<&NewInboundMessage> = results
            .iter()
            .flat_map(|result| &result.writes)
            .filter_map(|write| match write {
                EventWrite::Message {
                    message,
                    hide_if_flagged: false,
                } => Some(message),
                _ => None,
            })
            .collect();
        total.messages += tx.ingest_messages(&messages).await?.len();
        let mut done = Vec::new();
        for result in results {
            let written = tx.apply_event_writes(result).await?;
            total.messages += written.messages;
            total.settled_sends += written.settled_sends;
            match &result.end {
                EventEnd::Done => done.push(result.id),
                EventEnd::Unparsed { channel, parts } => {
                    tx.mark_inbound_event_unparsed(result.id, owner, *channel, parts)
                        .await?;
                }
                EventEnd::Failed(reason) => {
                    tx.fail_inbound_event(result.id, owner, reason).await?;
                }
            }
        }
        if total.messages > 0 {
            tx.apply_early_removals().await?;
        }
        tx.complete_inbound_events(&done, owner).await?;
        for channel in touched {
            tx.touch_channel(*channel).await?;
        }
        tx.commit().await?;
        Ok(total)
    }
}
