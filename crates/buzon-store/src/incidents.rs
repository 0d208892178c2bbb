//! Incidents (announced by the team; the conversations that join them) and the counts spike
//! detection reads.

use crate::rows;
use crate::{Store, StoreError, StoreTx};
use buzon_core::{ConversationId, MessageId, Timestamp};
use sqlx::query;

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIncident {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Keywords, texts and label, as the application layer wrote them.
    pub definition: String,
    /// Who started it (the audit name).
    pub started_by: String,
    /// When.
    pub started_at: Timestamp,
    /// When it ended; none while on.
    pub ended_at: Option<Timestamp>,
    /// How many conversations joined it.
    pub conversations: i64,
}

/// A recent customer message, for spike detection's samples and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentMessage {
    /// Its id.
    pub id: MessageId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its text.
    pub text: String,
}

impl Store {
    /// Incidents, the ones on first, then the newest; at most `limit`.
    pub async fn incidents(&self, limit: u32) -> Result<Vec<StoredIncident>, StoreError> {
        let rows = query(
            "SELECT i.id, i.title, i.definition, i.started_by, i.started_at, i.ended_at, \
             (SELECT COUNT(*) FROM incident_conversations c WHERE c.incident_id = i.id) AS conversations \
             FROM incidents i ORDER BY CASE WHEN i.ended_at IS NULL THEN 0 ELSE 1 END, i.started_at DESC, i.id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredIncident {
                    id: rows::get(row, "id")?,
                    title: rows::get(row, "title")?,
                    definition: rows::get(row, "definition")?,
                    started_by: rows::get(row, "started_by")?,
                    started_at: rows::ts(row, "started_at")?,
                    ended_at: rows::opt_ts(row, "ended_at")?,
                    conversations: rows::get(row, "conversations")?,
                })
            })
            .collect()
    }

    /// The conversations of an incident.
    pub async fn incident_conversations(&self, id: i64) -> Result<Vec<ConversationId>, StoreError> {
        let rows = query(
            "SELECT conversation_id FROM incident_conversations WHERE incident_id = $1 ORDER BY conversation_id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok(ConversationId(rows::get(row, "conversation_id")?)))
            .collect()
    }

    /// How many customer messages arrived in `[from, to)`. Listening's finds count at the time
    /// they were written, not found: a new saved search brings a week of posts at once, which
    /// is not a surge; a burst of untagged complaints written now is.
    pub async fn inbound_between(&self, from: Timestamp, to: Timestamp) -> Result<i64, StoreError> {
        let row = query(
            "SELECT (SELECT COUNT(*) FROM messages WHERE received_at >= $1 AND received_at < $2 \
             AND direction = 'inbound' AND found_by IS NULL) + (SELECT COUNT(*) FROM messages \
             WHERE found_by IS NOT NULL AND created_at >= $1 AND created_at < $2) AS arrived",
        )
        .bind(from.as_millis())
        .bind(to.as_millis())
        .fetch_one(&self.read)
        .await?;
        rows::get(&row, "arrived")
    }

    /// The newest customer messages that arrived since `from`, at most `limit`.
    pub async fn inbound_since(
        &self,
        from: Timestamp,
        limit: u32,
    ) -> Result<Vec<RecentMessage>, StoreError> {
        let rows = query(
            "SELECT id, conversation_id, text, received_at AS at FROM messages WHERE received_at >= $1 \
             AND direction = 'inbound' AND found_by IS NULL \
             UNION ALL SELECT id, conversation_id, text, created_at AS at FROM messages \
             WHERE found_by IS NOT NULL AND created_at >= $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(from.as_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RecentMessage {
                    id: MessageId(rows::get(row, "id")?),
                    conversation_id: ConversationId(rows::get(row, "conversation_id")?),
                    text: rows::get(row, "text")?,
                })
            })
            .collect()
    }
}

impl StoreTx {
    /// Starts an incident; returns its id.
    pub async fn start_incident(
        &mut self,
        title: &str,
        definition: &str,
        started_by: &str,
    ) -> Result<i64, StoreError> {
        let row = query(
            "INSERT INTO incidents (title, definition, started_by, started_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(title)
        .bind(definition)
        .bind(started_by)
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.conn())
        .await?;
        rows::get(&row, "id")
    }

    /// Ends an incident that is on.
    pub async fn end_incident(&mut self, id: i64) -> Result<(), StoreError> {
        let result = query("UPDATE incidents SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(Timestamp::now().as_millis())
            .bind(id)
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Adds a conversation to an incident; returns whether it is new to it.
    pub async fn join_incident(
        &mut self,
        id: i64,
        conversation: ConversationId,
    ) -> Result<bool, StoreError> {
        let result = query(
            "INSERT INTO incident_conversations (incident_id, conversation_id, joined_at) VALUES ($1, $2, $3) \
             ON CONFLICT (incident_id, conversation_id) DO NOTHING",
        )
        .bind(id)
        .bind(conversation.get())
        .bind(Timestamp::now().as_millis())
        .execute(self.conn())
        .await?;
        Ok(result.rows_affected() > 0)
    }
}
