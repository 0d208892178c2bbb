//! Contacts, conversations and messages: ingesting inbound messages exactly once, and the
//! queue with its filters, search and keyset pagination.

use crate::rows::{self, CONTACT_COLUMNS, CONVERSATION_COLUMNS, MESSAGE_COLUMNS};
use crate::tx::one_transaction;
use crate::{Engine, Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{query, Any};

/// A value bound into a statement built at run time.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    /// A NULL where an integer goes.
    Null,
    /// A NULL where text goes (PostgreSQL checks a parameter's type against its column).
    NullText,
}

/// A statement built at run time, with `$N` placeholders numbered as values are pushed.
#[derive(Debug, Default)]
pub(crate) struct Statement {
    pub(crate) text: String,
    pub(crate) values: Vec<Value>,
}

impl Statement {
    /// Adds a value and returns its placeholder.
    pub(crate) fn push(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// The statement to run on `engine`. On SQLite, numbered placeholders that appear once
    /// each and in order become plain `?`: SQLite keeps `$N` (and `?N`) in a list it searches
    /// from the start for each one, when the statement is prepared and again for each value
    /// bound (sqlx asks each parameter's name), so a multi-row statement of thousands of
    /// values cost time quadratic in their number (the profile of the engine benchmark had
    /// `sqlite3_bind_parameter_name` as the server's hottest function).
    pub(crate) fn query(&mut self, engine: Engine) -> Query<'_, Any, AnyArguments<'_>> {
        if engine == Engine::Sqlite {
            if let Some(text) = anonymous_placeholders(&self.text, self.values.len()) {
                self.text = text;
            }
        }
        let mut statement = query(&self.text);
        for value in &self.values {
            statement = match value {
                Value::Int(int) => statement.bind(*int),
                Value::Text(text) => statement.bind(text.as_str()),
                Value::Bytes(bytes) => statement.bind(bytes.as_slice()),
                Value::Null => statement.bind(None::<i64>),
                Value::NullText => statement.bind(None::<String>),
            };
        }
        statement
    }
}

/// `text` with its placeholders `$1` … `$count` written `?`, when each appears exactly once
/// and in order (outside quoted literals and names); otherwise `None`.
fn anonymous_placeholders(text: &str, count: usize) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut next = 1usize;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match quote {
            Some(open) => {
                if c == open {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' => {
                let mut number = String::new();
                while let Some(&(_, digit)) = chars.peek() {
                    if !digit.is_ascii_digit() {
                        break;
                    }
                    number.push(digit);
                    chars.next();
                }
                if number.parse::<usize>().ok()? != next {
                    return None;
                }
                next += 1;
                out.push('?');
            }
            None => out.push(c),
        }
    }
    (next == count + 1).then_some(out)
}

/// How many matching messages a search looks at, newest first. A word in half a million
/// messages would otherwise cost a second per page; the newest matches are the ones an agent
/// is after, and a narrower search reaches older ones.
const SEARCH_MATCHES: u32 = 10_000;

/// Turns what a user typed into an FTS5 query that matches every word, with no operator
/// syntax: each word is quoted, quotes inside doubled.
fn fts5_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .take(16)
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

const FLAGGED_LABELS: &str = "('troll', 'spam', 'blocked')";

/// The priority (1 or 0) of a conversation whose author is the contact `$author` (an SQL
/// expression) from the labels of the author's person: influencers and VIPs sort first.
macro_rules! author_priority {
    ($author:literal) => {
        concat!(
            "CASE WHEN \
             EXISTS (SELECT 1 FROM contact_labels f WHERE f.contact_id = ",
            $author,
            " AND f.label IN ('vip', 'influencer')) \
             OR EXISTS (SELECT 1 FROM contacts k1 JOIN contacts k2 ON k2.person_id = k1.person_id \
               JOIN contact_labels f ON f.contact_id = k2.id \
               WHERE k1.id = ",
            $author,
            " AND k1.person_id IS NOT NULL AND f.label IN ('vip', 'influencer')) \
             THEN 1 ELSE 0 END"
        )
    };
}

/// The `SET` term that gives a conversation its priority from its author's person's labels.
macro_rules! priority_term {
    () => {
        concat!("priority = ", author_priority!("conversations.contact_id"))
    };
}

/// The priority a new conversation of the contact `k` (a row of `contacts`) takes.
pub(crate) const PRIORITY_OF_AUTHOR: &str = author_priority!("k.id");

/// The ids of the contacts of the same person as contact `$1` (itself included).
macro_rules! same_person {
    () => {
        "SELECT id FROM contacts WHERE id = $1 UNION SELECT k2.id FROM contacts k1 \
         JOIN contacts k2 ON k2.person_id = k1.person_id WHERE k1.id = $1 AND k1.person_id IS NOT NULL"
    };
}

/// A conversation's priority. A new message changes no label, so ingest sets it on its own
/// conversations only; label changes refresh every conversation of the person
/// ([`REFRESH_PRIORITY`]).
pub(crate) const CONVERSATION_PRIORITY: &str = priority_term!();

/// Recomputes the priority of every conversation of the given author's person.
const REFRESH_PRIORITY: &str = concat!(
    "UPDATE conversations SET ",
    priority_term!(),
    " WHERE contact_id IN (",
    same_person!(),
    ")"
);

/// The ids of the contacts of the same person as contact `$1` (itself included).
const SAME_PERSON: &str = same_person!();

impl Store {
    /// Stores an inbound message exactly once per (channel, platform id), creating its author
    /// and conversation as needed. A repeated delivery changes nothing.
    pub async fn ingest_message(
        &self,
        message: &NewInboundMessage,
    ) -> Result<IngestOutcome, StoreError> {
        self.ingest(message, false).await
    }

    /// The same, for a public message on a channel that hides flagged authors' new public
    /// messages: when the author is flagged (troll, spam, blocked, on any contact of the same
    /// person), the hide is queued in the outbox with its audit line (`system:auto-hide`,
    /// `message.hide`) in the same transaction as the message, so a crash never stores the one
    /// without the other.
    pub async fn ingest_message_hiding_flagged(
        &self,
        message: &NewInboundMessage,
    ) -> Result<IngestOutcome, StoreError> {
        self.ingest(message, true).await
    }

    async fn ingest(
        &self,
        message: &NewInboundMessage,
        hide_if_flagged: bool,
    ) -> Result<IngestOutcome, StoreError> {
        // The common repeat is answered from a reader, without taking the writer.
        let seen = query("SELECT id FROM messages WHERE channel_id = $1 AND platform_id = $2")
            .bind(message.channel_id.get())
            .bind(message.platform_id.as_str())
            .fetch_optional(&self.read)
            .await?;
        if seen.is_some() {
            return Ok(IngestOutcome::Duplicate);
        }
        let mut tx = self.begin().await?;
        let outcome = tx.ingest_message(message, hide_if_flagged).await?;
        if matches!(outcome, IngestOutcome::Inserted { .. }) {
            tx.commit().await?;
        }
        // A duplicate: the transaction is dropped, so the author and conversation touches
        // are undone too and a repeat changes nothing.
        Ok(outcome)
    }
}

impl StoreTx {
    /// Stores an inbound message in this transaction, exactly once per (channel, platform
    /// id), creating its author and conversation as needed; with `hide_if_flagged`, a flagged
    /// author's message is hidden in the same transaction (see
    /// [`Store::ingest_message_hiding_flagged`]). A message already stored, by this
    /// transaction or another, is a `Duplicate` and changes no message.
    pub async fn ingest_message(
        &mut self,
        message: &NewInboundMessage,
        hide_if_flagged: bool,
    ) -> Result<IngestOutcome, StoreError> {
        let Some(&(message_id, conversation_id)) = self.ingest_messages(&[message]).await?.first()
        else {
            return Ok(IngestOutcome::Duplicate);
        };
        let tx = self;
        if hide_if_flagged && author_flagged_on(tx.conn(), message_id).await? {
            tx.queue_moderation(message_id, ModerationAction::Hide)
                .await?;
            tx.audit(
                "system:auto-hide",
                "message.hide",
                &format!("message:{message_id}"),
                &serde_json::json!({}),
            )
            .await?;
        }
        Ok(IngestOutcome::Inserted {
            message_id,
            conversation_id,
        })
    }
}

impl Store {
    /// One page of the queue in the filter's order.
    pub async fn list_conversations(
        &self,
        filter: &ConversationFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Conversation>, StoreError> {
        let limit = page_size(Some(limit));
        let mut statement = Statement::default();
        let mut conditions: Vec<String> = Vec::new();
        match filter.status {
            StatusFilter::OpenQueue => conditions.push("c.status = 'open'".into()),
            StatusFilter::All => {}
            StatusFilter::Only(status) => {
                let placeholder = statement.push(Value::Text(status.as_str().into()));
                conditions.push(format!("c.status = {placeholder}"));
            }
        }
        if let Some(channel_id) = filter.channel_id {
            let placeholder = statement.push(Value::Int(channel_id.get()));
            conditions.push(format!("c.channel_id = {placeholder}"));
        }
        match filter.assignee {
            AssigneeFilter::Any => {}
            AssigneeFilter::Unassigned => conditions.push("c.assignee_id IS NULL".into()),
            AssigneeFilter::User(user_id) => {
                let placeholder = statement.push(Value::Int(user_id.get()));
                conditions.push(format!("c.assignee_id = {placeholder}"));
            }
        }
        if filter.escalated {
            conditions.push("c.escalated_at IS NOT NULL".into());
        }
        conditions.push(if filter.monitoring {
            "c.monitor = 'watching'".into()
        } else {
            "c.monitor IS NULL".into()
        });
        if let Some(language) = &filter.language {
            let placeholder = statement.push(Value::Text(language.clone()));
            conditions.push(format!("c.language = {placeholder}"));
        }
        if let Some(label) = &filter.label {
            let placeholder = statement.push(Value::Text(label.as_str().into()));
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.label = {placeholder})"
            ));
        }
        // Labels follow the person: a troll on one platform is a troll on every linked one.
        // Two indexed probes (the author, then the author's person) keep this cheap per row.
        let flagged = format!(
            "(EXISTS (SELECT 1 FROM contact_labels f WHERE f.contact_id = c.contact_id AND f.label IN {FLAGGED_LABELS}) \
             OR EXISTS (SELECT 1 FROM contacts k1 JOIN contacts k2 ON k2.person_id = k1.person_id \
             JOIN contact_labels f ON f.contact_id = k2.id \
             WHERE k1.id = c.contact_id AND k1.person_id IS NOT NULL AND f.label IN {FLAGGED_LABELS}))"
        );
        match filter.flagged {
            FlaggedFilter::Exclude => conditions.push(format!("NOT {flagged}")),
            // Few authors are flagged: start from them rather than scanning the queue.
            FlaggedFilter::Only => conditions.push(format!(
                "c.contact_id IN (SELECT f.contact_id FROM contact_labels f WHERE f.label IN {FLAGGED_LABELS} \
                 UNION SELECT k2.id FROM contact_labels f JOIN contacts k1 ON k1.id = f.contact_id \
                 JOIN contacts k2 ON k2.person_id = k1.person_id \
                 WHERE f.label IN {FLAGGED_LABELS} AND k1.person_id IS NOT NULL)"
            )),
            FlaggedFilter::Include => {}
        }
        if let Some(text) = filter
            .query
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
        {
            match self.engine {
                Engine::Sqlite => {
                    if let Some(fts) = fts5_query(text) {
                        let placeholder = statement.push(Value::Text(fts));
                        conditions.push(format!(
                            "c.id IN (SELECT m.conversation_id FROM messages m WHERE m.id IN \
                             (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {placeholder} \
                             ORDER BY rowid DESC LIMIT {SEARCH_MATCHES}))"
                        ));
                    }
                }
                Engine::Postgres => {
                    let placeholder = statement.push(Value::Text(text.chars().take(500).collect()));
                    conditions.push(format!(
                        "c.id = ANY(ARRAY(SELECT m.conversation_id FROM messages m \
                         WHERE m.search @@ plainto_tsquery('simple', {placeholder}) \
                         ORDER BY m.id DESC LIMIT {SEARCH_MATCHES}))"
                    ));
                }
            }
        }
        // Each order has its sort time, and a keyset cursor in the same order.
        let (sort_time, order) = match filter.sort {
            SortOrder::Newest => (
                "c.last_activity_at",
                "c.priority DESC, c.last_activity_at DESC, c.id DESC",
            ),
            SortOrder::LongestWaiting => {
                conditions.push("c.waiting_since IS NOT NULL".into());
                ("c.waiting_since", "c.waiting_since ASC, c.id ASC")
            }
            SortOrder::WindowClosing => {
                let open_since = statement.push(Value::Int(
                    Timestamp::now().as_millis() - REPLY_WINDOW_MILLIS,
                ));
                let windowed: Vec<String> = ConversationKind::with_reply_window()
                    .map(|kind| format!("'{}'", kind.as_str()))
                    .collect();
                conditions.push(format!(
                    "c.last_inbound_at > {open_since} AND c.kind IN ({})",
                    windowed.join(", ")
                ));
                ("c.last_inbound_at", "c.last_inbound_at ASC, c.id ASC")
            }
        };
        if let Some(cursor) = cursor.filter(|cursor| !cursor.is_empty()) {
            let cursor = PageCursor::decode(cursor)?;
            let at = statement.push(Value::Int(cursor.last_activity_at.as_millis()));
            let id = statement.push(Value::Int(cursor.id));
            match filter.sort {
                SortOrder::Newest => {
                    let priority = statement.push(Value::Int(cursor.priority));
                    conditions.push(format!(
                        "(c.priority < {priority} OR (c.priority = {priority} AND (c.last_activity_at < {at} \
                         OR (c.last_activity_at = {at} AND c.id < {id}))))"
                    ));
                }
                SortOrder::LongestWaiting | SortOrder::WindowClosing => conditions.push(format!(
                    "({sort_time} > {at} OR ({sort_time} = {at} AND c.id > {id}))"
                )),
            }
        }
        let limit_placeholder = statement.push(Value::Int(i64::from(limit) + 1));
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        statement.text = format!(
            "SELECT {CONVERSATION_COLUMNS}, {sort_time} AS sort_time FROM conversations c \
             JOIN channels ch ON ch.id = c.channel_id {where_clause} ORDER BY {order} LIMIT {limit_placeholder}"
        );
        let found = statement.query(self.engine()).fetch_all(&self.read).await?;
        let mut items = found
            .iter()
            .map(rows::conversation)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            let last_row = &found[limit as usize - 1];
            let sort_time = rows::ts(last_row, "sort_time")?;
            items.last().map(|last| {
                PageCursor {
                    priority: if filter.sort == SortOrder::Newest {
                        i64::from(last.priority)
                    } else {
                        0
                    },
                    last_activity_at: sort_time,
                    id: last.id.get(),
                }
                .encode()
            })
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// The conversation with this id.
    pub async fn conversation(&self, id: ConversationId) -> Result<Conversation, StoreError> {
        conversation_on(&self.read, id).await
    }

    /// The messages of a conversation, oldest first (by the platform's time).
    pub async fn messages_in(&self, id: ConversationId) -> Result<Vec<Message>, StoreError> {
        let rows = query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY created_at, id"
        ))
        .bind(id.get())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::message).collect()
    }

    /// The message with this id.
    pub async fn message(&self, id: MessageId) -> Result<Message, StoreError> {
        message_on(&self.read, id).await
    }

    /// The author with this id.
    pub async fn contact(&self, id: ContactId) -> Result<Contact, StoreError> {
        contact_on(&self.read, id).await
    }
}

/// The start of a message, for the queue's snippet column.
pub(crate) fn snippet(text: &str) -> String {
    bound_text(text, 280)
}

impl Store {
    /// Every author linked to the same person as `id` (itself included).
    pub async fn person_contacts(&self, id: ContactId) -> Result<Vec<Contact>, StoreError> {
        let rows = query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts k WHERE k.id IN ({SAME_PERSON}) ORDER BY k.id"
        ))
        .bind(id.get())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::contact).collect()
    }

    /// The conversations of a person on every channel, newest first.
    pub async fn person_conversations(
        &self,
        id: ContactId,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError> {
        let rows = query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN channels ch ON ch.id = c.channel_id \
             WHERE c.contact_id IN ({SAME_PERSON}) ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2"
        ))
        .bind(id.get())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::conversation).collect()
    }

    /// Authors whose name or handle contains `text` (case-insensitive), for linking.
    pub async fn search_contacts(
        &self,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Contact>, StoreError> {
        let pattern = format!("%{}%", text.trim().to_lowercase().replace(['%', '_'], ""));
        let rows = query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts k WHERE LOWER(COALESCE(k.name, '')) LIKE $1 \
             OR LOWER(COALESCE(k.handle, '')) LIKE $1 OR k.platform_id LIKE $1 ORDER BY k.id DESC LIMIT $2"
        ))
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::contact).collect()
    }

    /// The authors with these ids (in any order; unknown ids are left out).
    pub async fn contacts(&self, ids: &[ContactId]) -> Result<Vec<Contact>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = Statement::default();
        let placeholders: Vec<String> = ids
            .iter()
            .map(|id| statement.push(Value::Int(id.get())))
            .collect();
        statement.text = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts k WHERE k.id IN ({})",
            placeholders.join(", ")
        );
        let rows = statement.query(self.engine()).fetch_all(&self.read).await?;
        rows.iter().map(rows::contact).collect()
    }

    /// Whether the author of a message is flagged (troll, spam or blocked), on this contact or
    /// any contact linked to the same person.
    pub async fn author_flagged(&self, message_id: MessageId) -> Result<bool, StoreError> {
        author_flagged_on(&self.read, message_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_gets_plain_placeholders_only_when_they_run_in_order() {
        assert_eq!(
            anonymous_placeholders("INSERT INTO t VALUES ($1, 'a$2', $2), ($3, \"$x\")", 3)
                .as_deref(),
            Some("INSERT INTO t VALUES (?, 'a$2', ?), (?, \"$x\")")
        );
        assert_eq!(
            anonymous_placeholders("SELECT $2, $1", 2),
            None,
            "out of order"
        );
        assert_eq!(
            anonymous_placeholders("SELECT $1, $1", 1),
            None,
            "used twice"
        );
        assert_eq!(
            anonymous_placeholders("SELECT $1", 2),
            None,
            "a value unused"
        );
        assert_eq!(
            anonymous_placeholders("SELECT 1", 0).as_deref(),
            Some("SELECT 1")
        );
    }

    #[test]
    fn search_text_becomes_quoted_words() {
        assert_eq!(fts5_query("  "), None);
        assert_eq!(
            fts5_query("envío \"roto\" OR x*"),
            Some("\"envío\" \"\"\"roto\"\"\" \"OR\" \"x*\"".into())
        );
    }
}

impl StoreTx {
    /// The conversation with this id.
    pub async fn conversation(&mut self, id: ConversationId) -> Result<Conversation, StoreError> {
        conversation_on(self.conn(), id).await
    }

    /// The author with this id.
    pub async fn contact(&mut self, id: ContactId) -> Result<Contact, StoreError> {
        contact_on(self.conn(), id).await
    }

    /// The message with this id.
    pub async fn message(&mut self, id: MessageId) -> Result<Message, StoreError> {
        message_on(self.conn(), id).await
    }

    /// Moves a conversation to another status.
    pub async fn set_conversation_status(
        &mut self,
        id: ConversationId,
        status: ConversationStatus,
    ) -> Result<(), StoreError> {
        // Recorded for response-time reports: resolutions end cycles, pending time is paused.
        query(crate::reports::RECORD_STATUS_CHANGE)
            .bind(status.as_str())
            .bind(None::<i64>)
            .bind(Timestamp::now().as_millis())
            .bind(id.get())
            .execute(self.conn())
            .await?;
        let result = query(
            "UPDATE conversations SET status = $1, returned_at = NULL, \
             escalated_at = CASE WHEN $1 = 'resolved' THEN NULL ELSE escalated_at END, \
             snoozed_until = CASE WHEN $1 = 'snoozed' THEN snoozed_until ELSE NULL END WHERE id = $2",
        )
        .bind(status.as_str())
        .bind(id.get())
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Snoozes a conversation until a time (or until the customer writes, with `None`).
    pub async fn snooze_conversation(
        &mut self,
        id: ConversationId,
        until: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.set_conversation_status(id, ConversationStatus::Snoozed)
            .await?;
        query("UPDATE conversations SET snoozed_until = $1 WHERE id = $2")
            .bind(until.map(Timestamp::as_millis))
            .bind(id.get())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Assigns a conversation to a user, or to nobody.
    pub async fn assign_conversation(
        &mut self,
        id: ConversationId,
        assignee: Option<UserId>,
    ) -> Result<(), StoreError> {
        let result = query("UPDATE conversations SET assignee_id = $1 WHERE id = $2")
            .bind(assignee.map(UserId::get))
            .bind(id.get())
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Adds and removes labels on a conversation; returns the labels it then has.
    pub async fn tag_conversation(
        &mut self,
        id: ConversationId,
        add: &[Label],
        remove: &[Label],
    ) -> Result<Vec<Label>, StoreError> {
        self.conversation(id).await?;
        let now = Timestamp::now().as_millis();
        for label in add {
            query(
                "INSERT INTO conversation_labels (conversation_id, label, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (conversation_id, label) DO NOTHING",
            )
            .bind(id.get())
            .bind(label.as_str())
            .bind(now)
            .execute(self.conn())
            .await?;
        }
        for label in remove {
            query("DELETE FROM conversation_labels WHERE conversation_id = $1 AND label = $2")
                .bind(id.get())
                .bind(label.as_str())
                .execute(self.conn())
                .await?;
        }
        Ok(self.conversation(id).await?.labels)
    }

    /// Adds and removes labels on an author; returns the labels they then have. Labels such as
    /// troll and spam apply to every conversation of the author, past and future, because the
    /// queue reads them at query time.
    pub async fn tag_contact(
        &mut self,
        id: ContactId,
        add: &[Label],
        remove: &[Label],
    ) -> Result<Vec<Label>, StoreError> {
        self.contact(id).await?;
        let now = Timestamp::now().as_millis();
        for label in add {
            query(
                "INSERT INTO contact_labels (contact_id, label, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (contact_id, label) DO NOTHING",
            )
            .bind(id.get())
            .bind(label.as_str())
            .bind(now)
            .execute(self.conn())
            .await?;
        }
        for label in remove {
            query("DELETE FROM contact_labels WHERE contact_id = $1 AND label = $2")
                .bind(id.get())
                .bind(label.as_str())
                .execute(self.conn())
                .await?;
        }
        query(REFRESH_PRIORITY)
            .bind(id.get())
            .execute(self.conn())
            .await?;
        Ok(self.contact(id).await?.labels)
    }

    /// Links two authors as one person (on any channels): their labels then follow the person
    /// into every conversation. Returns the person.
    pub async fn link_contacts(
        &mut self,
        first: ContactId,
        second: ContactId,
    ) -> Result<PersonId, StoreError> {
        let one = self.contact(first).await?;
        let other = self.contact(second).await?;
        let person = match (one.person_id, other.person_id) {
            (Some(person), _) | (None, Some(person)) => person.get(),
            (None, None) => {
                let row =
                    query("INSERT INTO persons (name, created_at) VALUES ($1, $2) RETURNING id")
                        .bind(one.name.clone().or(other.name.clone()))
                        .bind(Timestamp::now().as_millis())
                        .fetch_one(self.conn())
                        .await?;
                rows::get::<i64>(&row, "id")?
            }
        };
        // Merge: every contact of either person joins the one person.
        query(
            "UPDATE contacts SET person_id = $1 WHERE id IN ($2, $3) \
             OR (person_id IS NOT NULL AND person_id IN (SELECT person_id FROM contacts WHERE id IN ($2, $3) AND person_id IS NOT NULL))",
        )
        .bind(person)
        .bind(first.get())
        .bind(second.get())
        .execute(self.conn())
        .await?;
        query(REFRESH_PRIORITY)
            .bind(first.get())
            .execute(self.conn())
            .await?;
        Ok(PersonId(person))
    }
}

one_transaction! {
    /// Moves a conversation to another status.
    pub async fn set_conversation_status(&self, id: ConversationId, status: ConversationStatus) -> Result<(), StoreError>;
    /// Assigns a conversation to a user, or to nobody.
    pub async fn assign_conversation(&self, id: ConversationId, assignee: Option<UserId>) -> Result<(), StoreError>;
    /// Adds and removes labels on a conversation; returns the labels it then has.
    pub async fn tag_conversation(&self, id: ConversationId, add: &[Label], remove: &[Label]) -> Result<Vec<Label>, StoreError>;
    /// Adds and removes labels on an author; returns the labels they then have. Labels such as
    /// troll and spam apply to every conversation of the author, past and future.
    pub async fn tag_contact(&self, id: ContactId, add: &[Label], remove: &[Label]) -> Result<Vec<Label>, StoreError>;
    /// Links two authors as one person (on any channels): their labels then follow the person
    /// into every conversation. Returns the person.
    pub async fn link_contacts(&self, first: ContactId, second: ContactId) -> Result<PersonId, StoreError>;
}

/// The conversation with this id.
pub(crate) async fn conversation_on<'e, E>(
    executor: E,
    id: ConversationId,
) -> Result<Conversation, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN channels ch ON ch.id = c.channel_id WHERE c.id = $1"
        ))
        .bind(id.get())
        .fetch_one(executor)
        .await?;
    rows::conversation(&row)
}

/// The author with this id.
pub(crate) async fn contact_on<'e, E>(executor: E, id: ContactId) -> Result<Contact, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts k WHERE k.id = $1"
    ))
    .bind(id.get())
    .fetch_one(executor)
    .await?;
    rows::contact(&row)
}

/// The message with this id.
pub(crate) async fn message_on<'e, E>(executor: E, id: MessageId) -> Result<Message, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1"
    ))
    .bind(id.get())
    .fetch_one(executor)
    .await?;
    rows::message(&row)
}

/// [`Store::author_flagged`] on any connection or pool.
pub(crate) async fn author_flagged_on<'e, E>(
    executor: E,
    message_id: MessageId,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row = query(&format!(
        "SELECT EXISTS (SELECT 1 FROM contact_labels f WHERE f.label IN {FLAGGED_LABELS} AND f.contact_id IN ( \
         SELECT id FROM contacts WHERE id = (SELECT contact_id FROM messages WHERE id = $1) \
         UNION SELECT k2.id FROM messages m JOIN contacts k1 ON k1.id = m.contact_id \
         JOIN contacts k2 ON k2.person_id = k1.person_id WHERE m.id = $1 AND k1.person_id IS NOT NULL)) AS flagged"
    ))
    .bind(message_id.get())
    .fetch_one(executor)
    .await?;
    let flagged: i64 = match rows::get::<bool>(&row, "flagged") {
        Ok(flag) => i64::from(flag),
        Err(_) => rows::get(&row, "flagged")?,
    };
    Ok(flagged != 0)
}
