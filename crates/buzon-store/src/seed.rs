//! The demo's past: conversations written at explicit times (weeks ago), so that a fresh demo
//! shows real figures in the reports, the heatmap and the public page. Only `buzon serve
//! --demo` writes here; the platforms' messages always come through ingest.

use crate::rows;
use crate::{Store, StoreError};
use buzon_core::*;
use sqlx::query;

/// A message of the past.
#[derive(Debug, Clone)]
pub struct PastMessage {
    /// From the customer (else a reply).
    pub inbound: bool,
    /// Its text.
    pub text: String,
    /// When.
    pub at: Timestamp,
    /// Who replied (outbound).
    pub user_id: Option<UserId>,
}

/// A conversation of the past.
#[derive(Debug, Clone)]
pub struct PastConversation {
    /// Its channel.
    pub channel_id: ChannelId,
    /// What kind of thread.
    pub kind: ConversationKind,
    /// Unique on the channel.
    pub thread_key: String,
    /// The customer's platform id (unique on the channel).
    pub author_id: String,
    /// The customer's name.
    pub author_name: String,
    /// The customer's labels (troll, vip…).
    pub author_labels: Vec<Label>,
    /// The conversation's labels.
    pub labels: Vec<Label>,
    /// The language it is in.
    pub language: Option<String>,
    /// Its messages, oldest first.
    pub messages: Vec<PastMessage>,
    /// When it was resolved, and by whom.
    pub resolved: Option<(Timestamp, Option<UserId>)>,
    /// The closing question sent at the resolution (its text), and the answer: when, and
    /// whether the customer was satisfied.
    pub closing: Option<(String, Option<(Timestamp, bool)>)>,
    /// When a waiting-time rule escalated it.
    pub escalated_at: Option<Timestamp>,
}

impl Store {
    /// Whether the past was written already (a thread key starting `past-`).
    pub async fn has_past(&self) -> Result<bool, StoreError> {
        let row = query("SELECT COUNT(*) AS n FROM conversations WHERE thread_key LIKE 'past-%'")
            .fetch_one(&self.read)
            .await?;
        Ok(rows::get::<i64>(&row, "n")? > 0)
    }

    /// Writes conversations of the past in one transaction; returns how many.
    pub async fn write_past(&self, past: &[PastConversation]) -> Result<usize, StoreError> {
        let mut tx = self.begin().await?;
        for conversation in past {
            let (Some(first), Some(last)) =
                (conversation.messages.first(), conversation.messages.last())
            else {
                continue;
            };
            let contact: i64 = rows::get(
                &query(
                    "INSERT INTO contacts (channel_id, platform_id, name, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (channel_id, platform_id) DO UPDATE SET name = excluded.name RETURNING id",
                )
                .bind(conversation.channel_id.get())
                .bind(&conversation.author_id)
                .bind(&conversation.author_name)
                .bind(first.at.as_millis())
                .fetch_one(tx.conn())
                .await?,
                "id",
            )?;
            for label in &conversation.author_labels {
                query(
                    "INSERT INTO contact_labels (contact_id, label, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (contact_id, label) DO NOTHING",
                )
                .bind(contact)
                .bind(label.as_str())
                .bind(first.at.as_millis())
                .execute(tx.conn())
                .await?;
            }
            // The wait: the oldest customer message after the last reply, unless resolved.
            let last_reply = conversation
                .messages
                .iter()
                .rposition(|message| !message.inbound);
            let waiting_since = match conversation.resolved {
                Some(_) => None,
                None => conversation.messages[last_reply.map_or(0, |at| at + 1)..]
                    .iter()
                    .find(|message| message.inbound)
                    .map(|message| message.at.as_millis()),
            };
            let last_inbound = conversation
                .messages
                .iter()
                .rev()
                .find(|message| message.inbound)
                .map(|message| message.at.as_millis());
            let status = if conversation.resolved.is_some() {
                "resolved"
            } else {
                "open"
            };
            let id: i64 = rows::get(
                &query(
                    "INSERT INTO conversations (channel_id, contact_id, thread_key, status, waiting_since, \
                     last_activity_at, last_inbound_at, last_message_text, created_at, kind, language) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(conversation.channel_id.get())
                .bind(contact)
                .bind(&conversation.thread_key)
                .bind(status)
                .bind(waiting_since)
                .bind(last.at.as_millis())
                .bind(last_inbound)
                .bind(bound_text(&last.text, 500))
                .bind(first.at.as_millis())
                .bind(conversation.kind.as_str())
                .bind(conversation.language.as_deref())
                .fetch_one(tx.conn())
                .await?,
                "id",
            )?;
            for label in &conversation.labels {
                query(
                    "INSERT INTO conversation_labels (conversation_id, label, created_at) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(label.as_str())
                .bind(first.at.as_millis())
                .execute(tx.conn())
                .await?;
            }
            for (index, message) in conversation.messages.iter().enumerate() {
                let (direction, status, contact_id) = if message.inbound {
                    ("inbound", "received", Some(contact))
                } else {
                    ("outbound", "read", None)
                };
                query(
                    "INSERT INTO messages (conversation_id, channel_id, direction, platform_id, contact_id, \
                     user_id, text, created_at, received_at, status, language) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)",
                )
                .bind(id)
                .bind(conversation.channel_id.get())
                .bind(direction)
                .bind(format!("{}-{index}", conversation.thread_key))
                .bind(contact_id)
                .bind(message.user_id.map(UserId::get))
                .bind(&message.text)
                .bind(message.at.as_millis())
                .bind(status)
                .bind(conversation.language.as_deref())
                .execute(tx.conn())
                .await?;
            }
            if let Some(at) = conversation.escalated_at {
                query(
                    "INSERT INTO escalations (conversation_id, escalated_at, escalated_by, note) \
                     VALUES ($1, $2, 'rule:demo', 'waited past the target')",
                )
                .bind(id)
                .bind(at.as_millis())
                .execute(tx.conn())
                .await?;
            }
            if let (Some((question, answer)), Some((asked, user))) =
                (&conversation.closing, conversation.resolved)
            {
                let message = |text: &str, direction: &str, at: Timestamp, key: &str| {
                    query(
                        "INSERT INTO messages (conversation_id, channel_id, direction, platform_id, contact_id, \
                         text, created_at, received_at, status, automatic, language) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 'read', 1, $8) RETURNING id",
                    )
                    .bind(id)
                    .bind(conversation.channel_id.get())
                    .bind(direction.to_owned())
                    .bind(format!("{}-{key}", conversation.thread_key))
                    .bind((direction == "inbound").then_some(contact))
                    .bind(text.to_owned())
                    .bind(at.as_millis())
                    .bind(conversation.language.clone())
                };
                let question_id: i64 = rows::get(
                    &message(question, "outbound", asked, "question")
                        .fetch_one(tx.conn())
                        .await?,
                    "id",
                )?;
                let (answer_id, answered_at, satisfied) = match answer {
                    Some((at, satisfied)) => {
                        let text = if *satisfied { "1" } else { "2" };
                        let answer_id: i64 = rows::get(
                            &message(text, "inbound", *at, "answer")
                                .fetch_one(tx.conn())
                                .await?,
                            "id",
                        )?;
                        (
                            Some(answer_id),
                            Some(at.as_millis()),
                            Some(i64::from(*satisfied)),
                        )
                    }
                    None => (None, None, None),
                };
                query(
                    "INSERT INTO satisfaction_requests (conversation_id, question_id, agent_id, asked_at, \
                     answer_id, answered_at, satisfied) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(question_id)
                .bind(user.map(UserId::get))
                .bind(asked.as_millis())
                .bind(answer_id)
                .bind(answered_at)
                .bind(satisfied)
                .execute(tx.conn())
                .await?;
            }
            if let Some((at, user)) = conversation.resolved {
                query(
                    "INSERT INTO conversation_status_changes (conversation_id, status, user_id, changed_at) \
                     VALUES ($1, 'resolved', $2, $3)",
                )
                .bind(id)
                .bind(user.map(UserId::get))
                .bind(at.as_millis())
                .execute(tx.conn())
                .await?;
            }
        }
        tx.commit().await?;
        Ok(past.len())
    }
}
