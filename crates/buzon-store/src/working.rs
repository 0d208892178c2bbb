//! Working the queue: the canned-reply library and its uses, snoozes coming back, escalations
//! and their rules, and the channel's reply signature.

use crate::rows;
use crate::{Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::query;

const CANNED_COLUMNS: &str =
    "id, name, shortcut, body, language, labels, owner_id, uses, last_used_at, updated_at";

fn canned(row: &crate::Row) -> Result<CannedReply, StoreError> {
    Ok(CannedReply {
        id: rows::get(row, "id")?,
        name: rows::get(row, "name")?,
        shortcut: rows::get(row, "shortcut")?,
        text: rows::get(row, "body")?,
        language: rows::get(row, "language")?,
        labels: rows::labels(rows::get(row, "labels")?),
        owner_id: rows::get::<Option<i64>>(row, "owner_id")?.map(UserId),
        uses: rows::get(row, "uses")?,
        last_used_at: rows::opt_ts(row, "last_used_at")?,
        updated_at: rows::ts(row, "updated_at")?,
    })
}

async fn canned_reply_on<'e, E>(executor: E, id: i64) -> Result<CannedReply, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(&format!(
        "SELECT {CANNED_COLUMNS} FROM canned_replies WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await?
    .ok_or(StoreError::NotFound)?;
    canned(&row)
}

/// A canned reply as written (new or changed).
#[derive(Debug, Clone)]
pub struct CannedReplyInput {
    /// Its name.
    pub name: String,
    /// Its shortcut.
    pub shortcut: String,
    /// The text.
    pub text: String,
    /// ISO 639-1, or none for any language.
    pub language: Option<String>,
    /// Labels.
    pub labels: Vec<Label>,
}

/// A canned reply used with a person: which, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedUse {
    /// The reply's name.
    pub name: String,
    /// Its shortcut.
    pub shortcut: String,
    /// When it was sent.
    pub used_at: Timestamp,
}

/// A rule that escalates conversations waiting longer than a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationRule {
    /// Its id.
    pub id: i64,
    /// The channel it watches; none: every channel.
    pub channel_id: Option<ChannelId>,
    /// The conversation label it watches; none: any.
    pub label: Option<Label>,
    /// The longest wait, in business minutes.
    pub target_minutes: i64,
}

/// An answer to a closing question, for the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SatisfactionAnswer {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Who resolved it (and so asked).
    pub agent_id: Option<UserId>,
    /// Its labels.
    pub labels: Vec<Label>,
    /// Satisfied (1) or not (2).
    pub satisfied: bool,
}

/// An escalation, as the reports count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// When.
    pub escalated_at: Timestamp,
    /// Who asked: an audit name, or `rule:<id>`.
    pub escalated_by: String,
    /// The note.
    pub note: String,
}

impl Store {
    /// The canned replies `viewer` may use (the shared ones and their own; every one with
    /// `None`), matching `q` in the name, shortcut or text (case-insensitive) and `language`
    /// (replies for any language always match), most used first.
    pub async fn canned_replies(
        &self,
        viewer: Option<UserId>,
        all: bool,
        q: Option<&str>,
        language: Option<&str>,
    ) -> Result<Vec<CannedReply>, StoreError> {
        let pattern = q
            .map(|q| format!("%{}%", q.to_lowercase().replace(['%', '_'], "")))
            .unwrap_or_else(|| "%".to_owned());
        let rows = query(&format!(
            "SELECT {CANNED_COLUMNS} FROM canned_replies \
             WHERE ($1 = 1 OR owner_id IS NULL OR owner_id = $2) \
             AND (LOWER(name) LIKE $3 OR LOWER(shortcut) LIKE $3 OR LOWER(body) LIKE $3) \
             AND ($4 = '' OR language IS NULL OR language = $4) \
             ORDER BY uses DESC, name, id LIMIT 500"
        ))
        .bind(i64::from(all))
        .bind(viewer.map_or(0, UserId::get))
        .bind(pattern)
        .bind(language.unwrap_or(""))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(canned).collect()
    }

    /// One canned reply.
    pub async fn canned_reply(&self, id: i64) -> Result<CannedReply, StoreError> {
        canned_reply_on(&self.read, id).await
    }

    /// The canned replies last used with any of these profiles (one person), newest first.
    pub async fn canned_uses(
        &self,
        contacts: &[ContactId],
        limit: u32,
    ) -> Result<Vec<CannedUse>, StoreError> {
        if contacts.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> =
            (0..contacts.len()).map(|i| format!("${}", i + 2)).collect();
        let text = format!(
            "SELECT r.name, r.shortcut, u.used_at FROM canned_reply_uses u \
             JOIN canned_replies r ON r.id = u.canned_reply_id \
             WHERE u.contact_id IN ({}) ORDER BY u.used_at DESC, u.message_id DESC LIMIT $1",
            placeholders.join(", ")
        );
        let mut statement = query(&text).bind(i64::from(limit));
        for contact in contacts {
            statement = statement.bind(contact.get());
        }
        let rows = statement.fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| {
                Ok(CannedUse {
                    name: rows::get(row, "name")?,
                    shortcut: rows::get(row, "shortcut")?,
                    used_at: rows::ts(row, "used_at")?,
                })
            })
            .collect()
    }

    /// The escalation rules.
    pub async fn escalation_rules(&self) -> Result<Vec<EscalationRule>, StoreError> {
        let rows =
            query("SELECT id, channel_id, label, target_minutes FROM escalation_rules ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(EscalationRule {
                    id: rows::get(row, "id")?,
                    channel_id: rows::get::<Option<i64>>(row, "channel_id")?.map(ChannelId),
                    label: rows::get::<Option<String>>(row, "label")?
                        .and_then(|label| Label::parse(&label).ok()),
                    target_minutes: rows::get(row, "target_minutes")?,
                })
            })
            .collect()
    }

    /// Conversations waiting since before `before` (open or pending, not escalated), on a
    /// channel and with a label when given, oldest wait first; at most `limit`.
    pub async fn waiting_unescalated(
        &self,
        before: Timestamp,
        channel: Option<ChannelId>,
        label: Option<&Label>,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError> {
        let text = format!(
            "SELECT {} FROM conversations c JOIN channels ch ON ch.id = c.channel_id \
             WHERE c.waiting_since IS NOT NULL AND c.waiting_since < $1 AND c.escalated_at IS NULL AND c.monitor IS NULL \
             AND c.status IN ('open', 'pending') AND ($2 = 0 OR c.channel_id = $2) \
             AND ($3 = '' OR EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.label = $3)) \
             ORDER BY c.waiting_since, c.id LIMIT $4",
            rows::CONVERSATION_COLUMNS
        );
        let rows = query(&text)
            .bind(before.as_millis())
            .bind(channel.map_or(0, ChannelId::get))
            .bind(label.map_or("", Label::as_str))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(rows::conversation).collect()
    }

    /// Escalations in `[from, to)` (of one channel's conversations when given), oldest first.
    pub async fn escalations_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        channel: Option<ChannelId>,
    ) -> Result<Vec<Escalation>, StoreError> {
        let rows = query(
            "SELECT conversation_id, escalated_at, escalated_by, note FROM escalations \
             WHERE escalated_at >= $1 AND escalated_at < $2 \
             AND ($3 = 0 OR conversation_id IN (SELECT id FROM conversations WHERE channel_id = $3)) \
             ORDER BY escalated_at, id",
        )
        .bind(from.as_millis())
        .bind(to.as_millis())
        .bind(channel.map_or(0, ChannelId::get))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Escalation {
                    conversation_id: ConversationId(rows::get(row, "conversation_id")?),
                    escalated_at: rows::ts(row, "escalated_at")?,
                    escalated_by: rows::get(row, "escalated_by")?,
                    note: rows::get(row, "note")?,
                })
            })
            .collect()
    }

    /// The active supervisors.
    pub async fn supervisors(&self) -> Result<Vec<User>, StoreError> {
        let rows = query(&format!(
            "SELECT {} FROM users WHERE supervisor = 1 AND active = 1 ORDER BY id",
            rows::USER_COLUMNS
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::user).collect()
    }

    /// A channel's closing question (JSON), when one was saved.
    pub async fn channel_closing_question(
        &self,
        channel: ChannelId,
    ) -> Result<Option<String>, StoreError> {
        let row = query("SELECT closing_question FROM channels WHERE id = $1")
            .bind(channel.get())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        rows::get(&row, "closing_question")
    }

    /// Whether any closing question asked since `since` is still unanswered.
    pub async fn satisfaction_pending_any(&self, since: Timestamp) -> Result<bool, StoreError> {
        let row = query(
            "SELECT COUNT(*) AS n FROM satisfaction_requests WHERE answered_at IS NULL AND asked_at >= $1",
        )
        .bind(since.as_millis())
        .fetch_one(&self.read)
        .await?;
        Ok(rows::get::<i64>(&row, "n")? > 0)
    }

    /// The answers to closing questions given in `[from, to)` (of one channel when given).
    pub async fn satisfaction_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        channel: Option<ChannelId>,
    ) -> Result<Vec<SatisfactionAnswer>, StoreError> {
        let rows = query(
            "SELECT r.conversation_id, c.channel_id, r.agent_id, r.satisfied, \
             (SELECT string_agg(label, ',') FROM conversation_labels l WHERE l.conversation_id = r.conversation_id) AS labels \
             FROM satisfaction_requests r JOIN conversations c ON c.id = r.conversation_id \
             WHERE r.answered_at >= $1 AND r.answered_at < $2 AND ($3 = 0 OR c.channel_id = $3) \
             ORDER BY r.answered_at, r.id",
        )
        .bind(from.as_millis())
        .bind(to.as_millis())
        .bind(channel.map_or(0, ChannelId::get))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SatisfactionAnswer {
                    conversation_id: ConversationId(rows::get(row, "conversation_id")?),
                    channel_id: ChannelId(rows::get(row, "channel_id")?),
                    agent_id: rows::get::<Option<i64>>(row, "agent_id")?.map(UserId),
                    labels: rows::labels(rows::get(row, "labels")?),
                    satisfied: rows::get::<i64>(row, "satisfied")? != 0,
                })
            })
            .collect()
    }

    /// Whether replies on a channel carry the agent's first name.
    pub async fn channel_signature(&self, channel: ChannelId) -> Result<bool, StoreError> {
        let row = query("SELECT signature FROM channels WHERE id = $1")
            .bind(channel.get())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        rows::flag(&row, "signature")
    }
}

impl StoreTx {
    /// Saves a new canned reply; `Conflict` when its shortcut is taken (among the shared ones,
    /// or the owner's own: the unique index `canned_replies_shortcut` says so).
    pub async fn insert_canned_reply(
        &mut self,
        input: &CannedReplyInput,
        owner: Option<UserId>,
    ) -> Result<i64, StoreError> {
        let now = Timestamp::now().as_millis();
        let row = query(
            "INSERT INTO canned_replies (name, shortcut, body, language, labels, owner_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&input.name)
        .bind(&input.shortcut)
        .bind(&input.text)
        .bind(input.language.as_deref())
        .bind(joined(&input.labels))
        .bind(owner.map(UserId::get))
        .bind(now)
        .fetch_one(self.conn())
        .await?;
        rows::get(&row, "id")
    }

    /// Changes a canned reply (its owner stays); `Conflict` when the new shortcut is taken.
    pub async fn update_canned_reply(
        &mut self,
        id: i64,
        input: &CannedReplyInput,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE canned_replies SET name = $1, shortcut = $2, body = $3, language = $4, labels = $5, \
             updated_at = $6 WHERE id = $7",
        )
        .bind(&input.name)
        .bind(&input.shortcut)
        .bind(&input.text)
        .bind(input.language.as_deref())
        .bind(joined(&input.labels))
        .bind(Timestamp::now().as_millis())
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Deletes a canned reply and the record of its uses.
    pub async fn delete_canned_reply(&mut self, id: i64) -> Result<(), StoreError> {
        query("DELETE FROM canned_reply_uses WHERE canned_reply_id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        let result = query("DELETE FROM canned_replies WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// One canned reply, in this transaction.
    pub async fn canned_reply(&mut self, id: i64) -> Result<CannedReply, StoreError> {
        canned_reply_on(self.conn(), id).await
    }

    /// Records that a queued message came from a canned reply: counted once per message.
    pub async fn record_canned_use(
        &mut self,
        canned_reply: i64,
        message: MessageId,
        contact: ContactId,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_millis();
        let result = query(
            "INSERT INTO canned_reply_uses (message_id, canned_reply_id, contact_id, used_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message.get())
        .bind(canned_reply)
        .bind(contact.get())
        .bind(now)
        .execute(self.conn())
        .await?;
        if result.rows_affected() > 0 {
            query("UPDATE canned_replies SET uses = uses + 1, last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(canned_reply)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Brings back the snoozed conversations whose time has come (at most `limit`), marked as
    /// returned; returns them. Their status change is recorded for the reports.
    pub async fn wake_snoozed(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<ConversationId>, StoreError> {
        let rows = query(
            "SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until IS NOT NULL \
             AND snoozed_until <= $1 ORDER BY snoozed_until, id LIMIT $2",
        )
        .bind(now.as_millis())
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await?;
        let mut woken = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = rows::get(row, "id")?;
            query(crate::reports::RECORD_STATUS_CHANGE)
                .bind(ConversationStatus::Open.as_str())
                .bind(None::<i64>)
                .bind(now.as_millis())
                .bind(id)
                .execute(self.conn())
                .await?;
            // Only if it is still snoozed until then: a concurrent change wins.
            let result = query(
                "UPDATE conversations SET status = 'open', snoozed_until = NULL, returned_at = $1 \
                 WHERE id = $2 AND status = 'snoozed' AND snoozed_until <= $1",
            )
            .bind(now.as_millis())
            .bind(id)
            .execute(self.conn())
            .await?;
            if result.rows_affected() > 0 {
                woken.push(ConversationId(id));
            }
        }
        Ok(woken)
    }

    /// Escalates a conversation: marks it (if it is not already) and records the escalation;
    /// returns the escalation's id. A rule's escalation of a wait it already escalated is
    /// refused with `Conflict`.
    pub async fn escalate(
        &mut self,
        conversation: ConversationId,
        by: &str,
        rule: Option<(i64, Timestamp)>,
        note: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let inserted = query(
            "INSERT INTO escalations (conversation_id, escalated_at, escalated_by, rule_id, wait_started, note) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(conversation.get())
        .bind(now.as_millis())
        .bind(by)
        .bind(rule.map(|(id, _)| id))
        .bind(rule.map(|(_, wait)| wait.as_millis()))
        .bind(note)
        .fetch_optional(self.conn())
        .await?
        .ok_or(StoreError::Conflict)?;
        query("UPDATE conversations SET escalated_at = COALESCE(escalated_at, $1) WHERE id = $2")
            .bind(now.as_millis())
            .bind(conversation.get())
            .execute(self.conn())
            .await?;
        rows::get(&inserted, "id")
    }

    /// Adds an escalation rule; returns its id.
    pub async fn add_escalation_rule(
        &mut self,
        channel: Option<ChannelId>,
        label: Option<&Label>,
        target_minutes: i64,
    ) -> Result<i64, StoreError> {
        let row = query(
            "INSERT INTO escalation_rules (channel_id, label, target_minutes, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(channel.map(ChannelId::get))
        .bind(label.map(Label::as_str))
        .bind(target_minutes)
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.conn())
        .await?;
        rows::get(&row, "id")
    }

    /// Deletes an escalation rule.
    pub async fn delete_escalation_rule(&mut self, id: i64) -> Result<(), StoreError> {
        let result = query("DELETE FROM escalation_rules WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Marks a user as a supervisor, or not.
    pub async fn set_supervisor(
        &mut self,
        user: UserId,
        supervisor: bool,
    ) -> Result<(), StoreError> {
        let result = query("UPDATE users SET supervisor = $1 WHERE id = $2")
            .bind(i64::from(supervisor))
            .bind(user.get())
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Saves a channel's closing question (JSON), or removes it.
    pub async fn set_channel_closing_question(
        &mut self,
        channel: ChannelId,
        json: Option<&str>,
    ) -> Result<(), StoreError> {
        let result = query("UPDATE channels SET closing_question = $1 WHERE id = $2")
            .bind(json)
            .bind(channel.get())
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Whether a person replied in the conversation since its last closing question (or at
    /// all, when none was asked).
    pub async fn answered_since_last_question(
        &mut self,
        conversation: ConversationId,
    ) -> Result<bool, StoreError> {
        let row = query(
            "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = $1 AND direction = 'outbound' \
             AND automatic = 0 AND status <> 'failed' AND id > COALESCE((SELECT MAX(question_id) \
             FROM satisfaction_requests WHERE conversation_id = $1), 0)",
        )
        .bind(conversation.get())
        .fetch_one(self.conn())
        .await?;
        Ok(rows::get::<i64>(&row, "n")? > 0)
    }

    /// Records that a closing question (the queued message `question`) was asked.
    pub async fn ask_satisfaction(
        &mut self,
        conversation: ConversationId,
        question: MessageId,
        agent: Option<UserId>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO satisfaction_requests (conversation_id, question_id, agent_id, asked_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(conversation.get())
        .bind(question.get())
        .bind(agent.map(UserId::get))
        .bind(at.as_millis())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The conversation's latest closing question asked since `since`, still unanswered and
    /// sent before `message` (a later message of the customer may answer it): its id.
    pub async fn pending_satisfaction(
        &mut self,
        conversation: ConversationId,
        message: MessageId,
        since: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let row = query(
            "SELECT id FROM satisfaction_requests WHERE conversation_id = $1 AND answered_at IS NULL \
             AND asked_at >= $2 AND question_id < $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(conversation.get())
        .bind(since.as_millis())
        .bind(message.get())
        .fetch_optional(self.conn())
        .await?;
        row.map(|row| rows::get(&row, "id")).transpose()
    }

    /// Records the customer's answer to a closing question. A satisfied answer closes the
    /// conversation again as if the answer had not reopened it (the answer is marked as one,
    /// so the response-time figures leave it out, and the reopen it caused is undone); an
    /// unsatisfied one leaves it open for the team.
    pub async fn record_satisfaction(
        &mut self,
        request: i64,
        answer: &Message,
        satisfied: bool,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE satisfaction_requests SET answer_id = $1, answered_at = $2, satisfied = $3 WHERE id = $4",
        )
        .bind(answer.id.get())
        .bind(at.as_millis())
        .bind(i64::from(satisfied))
        .bind(request)
        .execute(self.conn())
        .await?;
        if !satisfied {
            return Ok(());
        }
        query("UPDATE messages SET automatic = 1 WHERE id = $1")
            .bind(answer.id.get())
            .execute(self.conn())
            .await?;
        let asked: i64 = rows::get(
            &query("SELECT asked_at FROM satisfaction_requests WHERE id = $1")
                .bind(request)
                .fetch_one(self.conn())
                .await?,
            "asked_at",
        )?;
        // Only the answer reopened it: nothing else came from the customer since the question.
        let resolved_again = query(
            "UPDATE conversations SET status = 'resolved', waiting_since = NULL, returned_at = NULL \
             WHERE id = $1 AND status = 'open' AND NOT EXISTS (SELECT 1 FROM messages m \
             WHERE m.conversation_id = $1 AND m.direction = 'inbound' AND m.automatic = 0 \
             AND m.id > (SELECT question_id FROM satisfaction_requests WHERE id = $2))",
        )
        .bind(answer.conversation_id.get())
        .bind(request)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1;
        // The reopening the answer caused is undone only when the conversation is resolved
        // again; one the customer kept open keeps its history.
        if resolved_again {
            query(
                "DELETE FROM conversation_status_changes WHERE conversation_id = $1 AND status = 'open' AND changed_at >= $2",
            )
            .bind(answer.conversation_id.get())
            .bind(asked)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Turns a channel's reply signature on or off.
    pub async fn set_channel_signature(
        &mut self,
        channel: ChannelId,
        on: bool,
    ) -> Result<(), StoreError> {
        let result = query("UPDATE channels SET signature = $1 WHERE id = $2")
            .bind(i64::from(on))
            .bind(channel.get())
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

fn joined(labels: &[Label]) -> String {
    labels
        .iter()
        .map(Label::as_str)
        .collect::<Vec<_>>()
        .join(",")
}
