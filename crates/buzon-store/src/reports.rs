//! What response-time reports read: each conversation's timeline of customer messages, replies
//! and status changes, ready for `buzon_core::metrics::compute`, and its status history.

use crate::rows;
use crate::{Engine, Store, StoreError};
use buzon_core::metrics::{ConversationTimeline, MetricEvent};
use buzon_core::*;
use sqlx::query;
use std::collections::BTreeMap;

/// The user id given to replies written through an API token that acts for no user: they are
/// replies by a person, but by nobody buzon can name.
pub const API_AGENT: UserId = UserId(0);

/// The conversations in scope whose author is flagged (troll, spam or blocked), on their own
/// contact or on any contact of the same person. The flagged contacts are few: found once.
const FLAGGED_IN_SCOPE: &str = "SELECT c.id FROM conversations c \
     WHERE c.id IN (SELECT conversation_id FROM report_scope) AND c.contact_id IN ( \
       SELECT f.contact_id FROM contact_labels f WHERE f.label IN ('troll', 'spam', 'blocked') \
       UNION SELECT k2.id FROM contact_labels f JOIN contacts k1 ON k1.id = f.contact_id \
       JOIN contacts k2 ON k2.person_id = k1.person_id \
       WHERE f.label IN ('troll', 'spam', 'blocked') AND k1.person_id IS NOT NULL)";

/// One recorded change of a conversation's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The status it moved to.
    pub status: ConversationStatus,
    /// Who moved it; `None` for buzon itself (a customer message reopening it).
    pub user_id: Option<UserId>,
    /// When, at buzon's time.
    pub changed_at: Timestamp,
}

impl Store {
    /// The timelines of every conversation (on `channel`, when given) that had a customer
    /// message or a status change in `[from, to)`, each with all of its events, before and
    /// after the period too, so cycles are cut where they really start. Failed replies are left
    /// out: the customer never got them.
    #[tracing::instrument(skip_all)]
    pub async fn metric_timelines(
        &self,
        from: Timestamp,
        to: Timestamp,
        channel: Option<ChannelId>,
    ) -> Result<Vec<ConversationTimeline>, StoreError> {
        let scope = match channel {
            None => "SELECT conversation_id FROM messages \
                     WHERE direction = 'inbound' AND created_at >= $1 AND created_at < $2 \
                     UNION SELECT conversation_id FROM conversation_status_changes \
                     WHERE changed_at >= $1 AND changed_at < $2",
            Some(_) => "SELECT conversation_id FROM messages \
                     WHERE direction = 'inbound' AND created_at >= $1 AND created_at < $2 AND channel_id = $3 \
                     UNION SELECT s.conversation_id FROM conversation_status_changes s \
                     JOIN conversations c ON c.id = s.conversation_id \
                     WHERE s.changed_at >= $1 AND s.changed_at < $2 AND c.channel_id = $3",
        };
        let mut binds = vec![from.as_millis(), to.as_millis()];
        binds.extend(channel.map(ChannelId::get));
        self.timelines_in_scope(scope, &binds).await
    }

    /// The timelines of the conversations `ids` (those that exist), with all their events.
    pub async fn metric_timelines_of(
        &self,
        ids: &[ConversationId],
    ) -> Result<Vec<ConversationTimeline>, StoreError> {
        let mut timelines = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            // Integers only: written into the statement, nothing to escape.
            let list: Vec<String> = chunk.iter().map(|id| id.get().to_string()).collect();
            let scope = format!(
                "SELECT id FROM conversations WHERE id IN ({})",
                list.join(", ")
            );
            timelines.extend(self.timelines_in_scope(&scope, &[]).await?);
        }
        Ok(timelines)
    }

    /// The timelines of at most `limit` conversations with ids above `after`, in id order: a
    /// way to walk every conversation in bounded steps.
    pub async fn metric_timelines_after(
        &self,
        after: ConversationId,
        limit: u32,
    ) -> Result<Vec<ConversationTimeline>, StoreError> {
        self.timelines_in_scope(
            "SELECT id FROM conversations WHERE id > $1 ORDER BY id LIMIT $2",
            &[after.get(), i64::from(limit)],
        )
        .await
    }

    /// The timelines of the conversations that `scope` (a `SELECT` of one id column, with
    /// `binds` as `$1`, `$2`…) names. They are selected once into a temporary table of this
    /// connection (dropped before the transaction ends), then each query joins it.
    async fn timelines_in_scope(
        &self,
        scope: &str,
        binds: &[i64],
    ) -> Result<Vec<ConversationTimeline>, StoreError> {
        let mut tx = self.read.begin().await?;
        if self.engine == Engine::Sqlite {
            query("PRAGMA temp_store = MEMORY")
                .execute(&mut *tx)
                .await?;
        }
        query("CREATE TEMPORARY TABLE report_scope (conversation_id BIGINT PRIMARY KEY)")
            .execute(&mut *tx)
            .await?;
        let fill_sql = format!("INSERT INTO report_scope (conversation_id) {scope}");
        let mut fill = query(&fill_sql);
        for bind in binds {
            fill = fill.bind(*bind);
        }
        fill.execute(&mut *tx).await?;

        // Listening: what is still in the monitoring view (or was dismissed) is not the team's
        // to answer and counts for nothing; a promoted conversation counts from its promotion.
        let conversations = query(
            "SELECT c.id, c.channel_id, c.promoted_at FROM conversations c \
             WHERE c.id IN (SELECT conversation_id FROM report_scope) AND c.monitor IS NULL ORDER BY c.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut timelines: BTreeMap<i64, ConversationTimeline> = BTreeMap::new();
        let mut promoted: std::collections::HashMap<i64, Timestamp> =
            std::collections::HashMap::new();
        for row in &conversations {
            let id: i64 = rows::get(row, "id")?;
            if let Some(at) = rows::opt_ts(row, "promoted_at")? {
                promoted.insert(id, at);
            }
            timelines.insert(
                id,
                ConversationTimeline {
                    conversation_id: ConversationId(id),
                    channel_id: ChannelId(rows::get(row, "channel_id")?),
                    labels: Vec::new(),
                    author_flagged: false,
                    events: Vec::new(),
                },
            );
        }

        let flagged = query(FLAGGED_IN_SCOPE).fetch_all(&mut *tx).await?;
        for row in &flagged {
            if let Some(timeline) = timelines.get_mut(&rows::get::<i64>(row, "id")?) {
                timeline.author_flagged = true;
            }
        }

        let labels = query(
            "SELECT conversation_id, label FROM conversation_labels \
             WHERE conversation_id IN (SELECT conversation_id FROM report_scope)",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &labels {
            let id: i64 = rows::get(row, "conversation_id")?;
            if let (Some(timeline), Ok(label)) = (
                timelines.get_mut(&id),
                Label::parse(&rows::get::<String>(row, "label")?),
            ) {
                timeline.labels.push(label);
            }
        }

        let messages = query(
            "SELECT conversation_id, CASE WHEN direction = 'inbound' THEN 1 ELSE 0 END AS inbound, \
             created_at, user_id, automatic FROM messages \
             WHERE conversation_id IN (SELECT conversation_id FROM report_scope) \
             AND ((direction = 'inbound' AND automatic = 0) OR (direction = 'outbound' AND status <> 'failed')) \
             ORDER BY conversation_id, created_at, id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &messages {
            let id: i64 = rows::get(row, "conversation_id")?;
            let Some(timeline) = timelines.get_mut(&id) else {
                continue;
            };
            let at = rows::ts(row, "created_at")?;
            let event = if rows::flag(row, "inbound")? {
                let at = match promoted.get(&id) {
                    Some(promoted_at) if *promoted_at > at => *promoted_at,
                    _ => at,
                };
                MetricEvent::customer_message(at)
            } else if rows::flag(row, "automatic")? {
                MetricEvent::automatic_reply(at)
            } else {
                let agent = rows::get::<Option<i64>>(row, "user_id")?.map_or(API_AGENT, UserId);
                MetricEvent::human_reply(at, agent)
            };
            timeline.events.push(event);
        }

        let changes = query(
            "SELECT conversation_id, status, changed_at FROM conversation_status_changes \
             WHERE conversation_id IN (SELECT conversation_id FROM report_scope)",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &changes {
            let id: i64 = rows::get(row, "conversation_id")?;
            let Some(timeline) = timelines.get_mut(&id) else {
                continue;
            };
            let status = ConversationStatus::parse(&rows::get::<String>(row, "status")?)
                .map_err(|err| StoreError::Corrupt(format!("status: {err}")))?;
            timeline.events.push(MetricEvent::status_change(
                rows::ts(row, "changed_at")?,
                status,
            ));
        }
        query("DROP TABLE report_scope").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(timelines
            .into_values()
            .map(|mut timeline| {
                timeline.labels.sort();
                timeline
            })
            .collect())
    }

    /// The newest entry of the journal of metric changes (0 when empty).
    pub async fn metric_changes_head(&self) -> Result<i64, StoreError> {
        let row = query("SELECT COALESCE(MAX(id), 0) AS head FROM metric_changes")
            .fetch_one(&self.read)
            .await?;
        rows::get(&row, "head")
    }

    /// The journal entries with ids above `after` or inside one of `ranges` (inclusive id
    /// ranges once skipped over, whose transactions may have committed since):
    /// (entry id, conversation), in id order.
    pub async fn metric_changes_after(
        &self,
        after: i64,
        ranges: &[(i64, i64)],
    ) -> Result<Vec<(i64, ConversationId)>, StoreError> {
        let mut sql = "SELECT id, conversation_id FROM metric_changes WHERE id > $1".to_owned();
        for (from, to) in ranges {
            // Integers only: written into the statement, nothing to escape.
            sql.push_str(&format!(" OR id BETWEEN {from} AND {to}"));
        }
        sql.push_str(" ORDER BY id");
        let found = query(&sql).bind(after).fetch_all(&self.read).await?;
        found
            .iter()
            .map(|row| {
                Ok((
                    rows::get(row, "id")?,
                    ConversationId(rows::get(row, "conversation_id")?),
                ))
            })
            .collect()
    }

    /// The ids of the journal entries in `[from, to]`, ascending.
    pub async fn metric_change_ids(&self, from: i64, to: i64) -> Result<Vec<i64>, StoreError> {
        let found = query("SELECT id FROM metric_changes WHERE id BETWEEN $1 AND $2 ORDER BY id")
            .bind(from)
            .bind(to)
            .fetch_all(&self.read)
            .await?;
        found.iter().map(|row| rows::get(row, "id")).collect()
    }

    /// Deletes the journal entries recorded before `before`, in batches so writers never
    /// wait long; returns how many.
    pub async fn prune_metric_changes(&self, before: Timestamp) -> Result<u64, StoreError> {
        const BATCH: i64 = 5_000;
        let mut pruned = 0;
        loop {
            let done = query(
                "DELETE FROM metric_changes WHERE id IN \
                 (SELECT id FROM metric_changes WHERE recorded_at < $1 ORDER BY id LIMIT $2)",
            )
            .bind(before.as_millis())
            .bind(BATCH)
            .execute(&self.write)
            .await?;
            pruned += done.rows_affected();
            if done.rows_affected() < BATCH as u64 {
                return Ok(pruned);
            }
        }
    }

    /// The status changes of a conversation, oldest first.
    pub async fn status_changes(
        &self,
        id: ConversationId,
    ) -> Result<Vec<StatusChange>, StoreError> {
        let found = query(
            "SELECT status, user_id, changed_at FROM conversation_status_changes \
             WHERE conversation_id = $1 ORDER BY changed_at, id",
        )
        .bind(id.get())
        .fetch_all(&self.read)
        .await?;
        found
            .iter()
            .map(|row| {
                Ok(StatusChange {
                    status: ConversationStatus::parse(&rows::get::<String>(row, "status")?)
                        .map_err(|err| StoreError::Corrupt(format!("status: {err}")))?,
                    user_id: rows::get::<Option<i64>>(row, "user_id")?.map(UserId),
                    changed_at: rows::ts(row, "changed_at")?,
                })
            })
            .collect()
    }
}

/// Records a move to `status` of conversation `id` at `at`, unless it already has that status.
/// Run it before the update, inside the same transaction.
pub(crate) const RECORD_STATUS_CHANGE: &str =
    "INSERT INTO conversation_status_changes (conversation_id, status, user_id, changed_at) \
     SELECT id, $1, $2, $3 FROM conversations WHERE id = $4 AND status <> $1";
