//! Many new messages in a few statements: the normalizer's batches store their messages with
//! multi-row statements (authors, conversations, messages, status history) and one update per
//! conversation, instead of eight round trips per message. The outcome is the one
//! [`StoreTx::ingest_message`] gives applied message by message, in order; the conformance
//! tests hold both to it.

use crate::conversations::{snippet, Statement, Value, CONVERSATION_PRIORITY};
use crate::rows;
use crate::{StoreError, StoreTx};
use buzon_core::*;
use std::collections::{HashMap, HashSet};

/// A new message's conversation, time, snippet and detected language.
type Inserted = (i64, i64, String, Option<&'static str>);

/// A new conversation's channel, thread key, author, kind, time and what found it.
type NewThread<'a> = (i64, String, i64, &'a str, i64, Option<FoundBy>);

/// Messages per round of statements: SQLite takes at most 32,766 bound values, and a message
/// row binds nine.
const CHUNK: usize = 500;

impl StoreTx {
    /// Stores new inbound messages in this transaction, each exactly once per (channel,
    /// platform id), creating authors and conversations as needed, as [`StoreTx::ingest_message`]
    /// would one after the other (that one is this for one message, plus the auto-hide of
    /// flagged authors). Returns the messages that were new, in the order given.
    pub async fn ingest_messages(
        &mut self,
        messages: &[&NewInboundMessage],
    ) -> Result<Vec<(MessageId, ConversationId)>, StoreError> {
        let mut stored = Vec::new();
        for chunk in messages.chunks(CHUNK) {
            stored.extend(self.ingest_chunk(chunk).await?);
        }
        Ok(stored)
    }

    async fn ingest_chunk(
        &mut self,
        messages: &[&NewInboundMessage],
    ) -> Result<Vec<(MessageId, ConversationId)>, StoreError> {
        // Repeats, within the batch and of what is stored, change nothing.
        let mut seen: HashSet<(i64, &str)> = HashSet::new();
        let mut fresh: Vec<&NewInboundMessage> = messages
            .iter()
            .copied()
            .filter(|message| seen.insert((message.channel_id.get(), message.platform_id.as_str())))
            .collect();
        let mut by_channel: HashMap<i64, Vec<&str>> = HashMap::new();
        for message in &fresh {
            by_channel
                .entry(message.channel_id.get())
                .or_default()
                .push(message.platform_id.as_str());
        }
        let mut stored_before: HashSet<(i64, String)> = HashSet::new();
        for (channel, ids) in &by_channel {
            let mut statement = Statement::default();
            let channel_placeholder = statement.push(Value::Int(*channel));
            let placeholders: Vec<String> = ids
                .iter()
                .map(|id| statement.push(Value::Text((*id).to_owned())))
                .collect();
            statement.text = match self.engine() {
                // SQLite looks each id of the list up in the (channel, platform id) index.
                crate::Engine::Sqlite => format!(
                    "SELECT platform_id FROM messages WHERE channel_id = {channel_placeholder} AND platform_id IN ({})",
                    placeholders.join(", ")
                ),
                // PostgreSQL may take the list as a filter over every message of the channel,
                // each compared with the whole list (45-80 ms a batch at 10,000 messages in
                // the engine benchmark, growing with the channel); from a join it looks each
                // id up, or hashes them once (under 20 ms).
                crate::Engine::Postgres => format!(
                    "SELECT m.platform_id FROM (VALUES {}) AS batch \
                     JOIN messages m ON m.channel_id = {channel_placeholder} AND m.platform_id = batch.column1",
                    placeholders
                        .iter()
                        .map(|placeholder| format!("({placeholder})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            for row in statement
                .query(self.engine())
                .fetch_all(self.conn())
                .await?
            {
                stored_before.insert((*channel, rows::get(&row, "platform_id")?));
            }
        }
        fresh.retain(|message| {
            !stored_before.contains(&(
                message.channel_id.get(),
                message.platform_id.as_str().to_owned(),
            ))
        });
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let now = Timestamp::now().as_millis();

        // Authors: one row per (channel, author); the last name and handle given win, as
        // they would message by message.
        let mut authors: Vec<(i64, &str, Option<String>, Option<String>)> = Vec::new();
        let mut author_index: HashMap<(i64, &str), usize> = HashMap::new();
        for message in &fresh {
            let key = (
                message.channel_id.get(),
                message.author.platform_id.as_str(),
            );
            let name = message
                .author
                .name
                .as_deref()
                .map(|name| bound_text(name, MAX_NAME_BYTES));
            let handle = message
                .author
                .handle
                .as_deref()
                .map(|handle| bound_text(handle, MAX_NAME_BYTES));
            match author_index.get(&key) {
                Some(&index) => {
                    let author = &mut authors[index];
                    author.2 = name.or(author.2.take());
                    author.3 = handle.or(author.3.take());
                }
                None => {
                    author_index.insert(key, authors.len());
                    authors.push((key.0, key.1, name, handle));
                }
            }
        }
        let mut statement = Statement::default();
        let rows_text: Vec<String> = authors
            .iter()
            .map(|(channel, platform_id, name, handle)| {
                format!(
                    "({}, {}, {}, {}, {})",
                    statement.push(Value::Int(*channel)),
                    statement.push(Value::Text((*platform_id).to_owned())),
                    statement.push(name.clone().map_or(Value::NullText, Value::Text)),
                    statement.push(handle.clone().map_or(Value::NullText, Value::Text)),
                    statement.push(Value::Int(now)),
                )
            })
            .collect();
        statement.text = format!(
            "INSERT INTO contacts (channel_id, platform_id, name, handle, created_at) VALUES {} \
             ON CONFLICT (channel_id, platform_id) DO UPDATE SET \
             name = COALESCE(excluded.name, contacts.name), handle = COALESCE(excluded.handle, contacts.handle) \
             RETURNING id, channel_id, platform_id",
            rows_text.join(", ")
        );
        let mut contact_ids: HashMap<(i64, String), i64> = HashMap::new();
        for row in statement
            .query(self.engine())
            .fetch_all(self.conn())
            .await?
        {
            contact_ids.insert(
                (
                    rows::get(&row, "channel_id")?,
                    rows::get(&row, "platform_id")?,
                ),
                rows::get(&row, "id")?,
            );
        }
        let contact_of = |message: &NewInboundMessage| -> Result<i64, StoreError> {
            contact_ids
                .get(&(
                    message.channel_id.get(),
                    message.author.platform_id.as_str().to_owned(),
                ))
                .copied()
                .ok_or_else(|| StoreError::Corrupt("an author was not stored".into()))
        };

        // Conversations: a new one takes its first message's author, kind and time; one found
        // by listening (a saved search, a Page mention, a review) waits in the monitoring view.
        let mut threads: Vec<NewThread<'_>> = Vec::new();
        let mut thread_seen: HashSet<(i64, String)> = HashSet::new();
        for message in &fresh {
            let key = (
                message.channel_id.get(),
                bound_text(&message.thread_key, 512),
            );
            if thread_seen.insert(key.clone()) {
                threads.push((
                    key.0,
                    key.1,
                    contact_of(message)?,
                    message.conversation_kind.as_str(),
                    message.created_at.as_millis(),
                    message.found_by,
                ));
            }
        }
        let mut statement = Statement::default();
        let rows_text: Vec<String> = threads
            .iter()
            .map(|(channel, thread, contact, kind, at, found_by)| {
                let text = |value: Option<&str>| {
                    value.map_or(Value::NullText, |value| Value::Text(value.to_owned()))
                };
                format!(
                    "({}, {}, {}, {}, 'open', {}, {}, {}, {}, {}, {})",
                    statement.push(Value::Int(*channel)),
                    statement.push(Value::Int(*contact)),
                    statement.push(Value::Text(thread.clone())),
                    statement.push(Value::Text((*kind).to_owned())),
                    statement.push(Value::Int(*at)),
                    statement.push(Value::Int(now)),
                    statement.push(text(found_by.map(|_| Monitor::Watching.as_str()))),
                    statement.push(text(found_by.map(FoundBy::as_str))),
                    statement.push(
                        found_by
                            .and_then(FoundBy::search_id)
                            .map_or(Value::Null, Value::Int)
                    ),
                    statement.push(text(
                        found_by
                            .and_then(FoundBy::recommendation)
                            .map(Recommendation::as_str)
                    )),
                )
            })
            .collect();
        statement.text = format!(
            "INSERT INTO conversations (channel_id, contact_id, thread_key, kind, status, last_activity_at, created_at, \
             monitor, found_by, search_id, recommendation) \
             VALUES {} ON CONFLICT (channel_id, thread_key) DO UPDATE SET kind = conversations.kind \
             RETURNING id, channel_id, thread_key, monitor",
            rows_text.join(", ")
        );
        let mut conversation_ids: HashMap<(i64, String), i64> = HashMap::new();
        let mut watching: HashSet<i64> = HashSet::new();
        for row in statement
            .query(self.engine())
            .fetch_all(self.conn())
            .await?
        {
            let id: i64 = rows::get(&row, "id")?;
            // Watched or dismissed: outside the queue.
            if rows::get::<Option<String>>(&row, "monitor")?.is_some() {
                watching.insert(id);
            }
            conversation_ids.insert(
                (
                    rows::get(&row, "channel_id")?,
                    rows::get(&row, "thread_key")?,
                ),
                rows::get(&row, "id")?,
            );
        }

        // The messages; one another node stored meanwhile is left out (no row returned).
        let mut statement = Statement::default();
        let mut rows_text = Vec::with_capacity(fresh.len());
        let mut texts: HashMap<(i64, String), Inserted> = HashMap::new();
        let mut addressed: HashSet<i64> = HashSet::new();
        for message in &fresh {
            let conversation = *conversation_ids
                .get(&(
                    message.channel_id.get(),
                    bound_text(&message.thread_key, 512),
                ))
                .ok_or_else(|| StoreError::Corrupt("a conversation was not stored".into()))?;
            let text = bound_text(&message.text, MAX_MESSAGE_BYTES);
            let language = detect_language(&text);
            texts.insert(
                (
                    message.channel_id.get(),
                    message.platform_id.as_str().to_owned(),
                ),
                (
                    conversation,
                    message.created_at.as_millis(),
                    snippet(&text),
                    language,
                ),
            );
            let attachments =
                serde_json::to_string(&message.attachments).expect("attachments serialize to JSON");
            // A message addressed to the account in a conversation listening found (the author
            // answers the account, or @-mentions it) brings that conversation into the queue.
            if message.found_by.is_none() && watching.contains(&conversation) {
                addressed.insert(conversation);
            }
            rows_text.push(format!(
                "({}, {}, 'inbound', {}, {}, {}, {}, {}, {}, 'received', {}, {}, {}, {}, {})",
                statement.push(Value::Int(conversation)),
                statement.push(Value::Int(message.channel_id.get())),
                statement.push(Value::Text(message.platform_id.as_str().to_owned())),
                statement.push(Value::Int(contact_of(message)?)),
                statement.push(Value::Text(text)),
                statement.push(Value::Text(attachments)),
                statement.push(Value::Int(message.created_at.as_millis())),
                statement.push(Value::Int(now)),
                statement.push(
                    message
                        .raw
                        .as_deref()
                        .map(|raw| Value::Text(bound_text(raw, 64 * 1024)))
                        .unwrap_or(Value::NullText)
                ),
                statement
                    .push(language.map_or(Value::NullText, |code| Value::Text(code.to_owned()))),
                statement.push(
                    message
                        .found_by
                        .map_or(Value::NullText, |found| Value::Text(
                            found.as_str().to_owned()
                        ))
                ),
                statement.push(
                    message
                        .found_by
                        .and_then(FoundBy::search_id)
                        .map_or(Value::Null, Value::Int)
                ),
                statement.push(
                    message
                        .found_by
                        .and_then(FoundBy::recommendation)
                        .map_or(Value::NullText, |recommendation| {
                            Value::Text(recommendation.as_str().to_owned())
                        })
                ),
            ));
        }
        statement.text = format!(
            "INSERT INTO messages (conversation_id, channel_id, direction, platform_id, contact_id, \
             text, attachments, created_at, received_at, status, raw_part, language, found_by, search_id, \
             recommendation) VALUES {} \
             ON CONFLICT (channel_id, platform_id) DO NOTHING RETURNING id, channel_id, platform_id",
            rows_text.join(", ")
        );
        // In the order given: per conversation, the newest message (the later one on a tie)
        // sets the snippet, as one by one.
        let mut inserted: Vec<Inserted> = Vec::new();
        let mut returned: HashMap<(i64, String), i64> = HashMap::new();
        for row in statement
            .query(self.engine())
            .fetch_all(self.conn())
            .await?
        {
            returned.insert(
                (
                    rows::get(&row, "channel_id")?,
                    rows::get(&row, "platform_id")?,
                ),
                rows::get(&row, "id")?,
            );
        }
        let mut stored = Vec::new();
        for message in &fresh {
            let key = (
                message.channel_id.get(),
                message.platform_id.as_str().to_owned(),
            );
            if let Some(&id) = returned.get(&key) {
                let (conversation, at, snippet, language) =
                    texts.remove(&key).expect("every message has its text");
                stored.push((MessageId(id), ConversationId(conversation)));
                inserted.push((conversation, at, snippet, language));
            }
        }
        if inserted.is_empty() {
            return Ok(stored);
        }

        // The rules (auto-reply, incidents, alerts) look at every new customer message once:
        // the list of what they have yet to see commits with the messages.
        let mut statement = Statement::default();
        let at = statement.push(Value::Int(now));
        let rows_text: Vec<String> = stored
            .iter()
            .map(|(message, _)| format!("({}, {at})", statement.push(Value::Int(message.get()))))
            .collect();
        statement.text = format!(
            "INSERT INTO rule_checks (message_id, created_at) VALUES {} ON CONFLICT (message_id) DO NOTHING",
            rows_text.join(", ")
        );
        statement.query(self.engine()).execute(self.conn()).await?;

        // A customer message reopens its conversation; the report's history records it.
        let conversations: Vec<i64> = {
            let mut seen = HashSet::new();
            inserted
                .iter()
                .map(|(conversation, ..)| *conversation)
                .filter(|conversation| seen.insert(*conversation))
                .collect()
        };
        let mut statement = Statement::default();
        let open = statement.push(Value::Text(ConversationStatus::Open.as_str().to_owned()));
        let at = statement.push(Value::Int(now));
        let ids: Vec<String> = conversations
            .iter()
            .map(|id| statement.push(Value::Int(*id)))
            .collect();
        statement.text = format!(
            "INSERT INTO conversation_status_changes (conversation_id, status, user_id, changed_at) \
             SELECT id, {open}, NULL, {at} FROM conversations WHERE id IN ({}) AND status <> {open}",
            ids.join(", ")
        );
        statement.query(self.engine()).execute(self.conn()).await?;

        // The wait starts at the oldest customer message with no reply at or after it.
        let mut statement = Statement::default();
        let ids: Vec<String> = conversations
            .iter()
            .map(|id| statement.push(Value::Int(*id)))
            .collect();
        statement.text = format!(
            "SELECT conversation_id, MAX(created_at) AS answered FROM messages \
             WHERE direction = 'outbound' AND conversation_id IN ({}) GROUP BY conversation_id",
            ids.join(", ")
        );
        let mut answered: HashMap<i64, i64> = HashMap::new();
        for row in statement
            .query(self.engine())
            .fetch_all(self.conn())
            .await?
        {
            answered.insert(
                rows::get(&row, "conversation_id")?,
                rows::get(&row, "answered")?,
            );
        }
        // Every touched conversation in one statement: the newest message moves the queue
        // position and snippet, the oldest unanswered one starts the wait (-1: none).
        let mut statement = Statement::default();
        let mut rows_text = Vec::with_capacity(conversations.len());
        for conversation in conversations {
            let mut newest: Option<(i64, &str)> = None;
            let mut waiting: Option<i64> = None;
            let mut language: Option<(i64, &str)> = None;
            for (_, at, snippet, detected) in inserted.iter().filter(|(id, ..)| *id == conversation)
            {
                if newest.is_none_or(|(newest, _)| *at >= newest) {
                    newest = Some((*at, snippet));
                }
                if let Some(detected) = detected {
                    if language.is_none_or(|(newest, _)| *at >= newest) {
                        language = Some((*at, detected));
                    }
                }
                if answered
                    .get(&conversation)
                    .is_none_or(|answered| *answered < *at)
                {
                    waiting = Some(waiting.map_or(*at, |waiting| waiting.min(*at)));
                }
            }
            let (newest, snippet) = newest.expect("a conversation here has a new message");
            rows_text.push(format!(
                "(CAST({} AS BIGINT), CAST({} AS BIGINT), CAST({} AS TEXT), CAST({} AS BIGINT), CAST({} AS TEXT))",
                statement.push(Value::Int(conversation)),
                statement.push(Value::Int(newest)),
                statement.push(Value::Text(snippet.to_owned())),
                statement.push(Value::Int(waiting.unwrap_or(-1))),
                statement.push(language.map_or(Value::NullText, |(_, code)| Value::Text(code.to_owned()))),
            ));
        }
        statement.text = format!(
            "WITH v (id, newest, snippet, waiting, language) AS (VALUES {}) \
             UPDATE conversations SET \
             last_activity_at = CASE WHEN v.newest > conversations.last_activity_at THEN v.newest ELSE conversations.last_activity_at END, \
             last_message_text = CASE WHEN v.newest >= conversations.last_activity_at OR conversations.last_message_text IS NULL \
                 THEN v.snippet ELSE conversations.last_message_text END, \
             last_inbound_at = CASE WHEN conversations.last_inbound_at IS NULL OR v.newest > conversations.last_inbound_at \
                 THEN v.newest ELSE conversations.last_inbound_at END, \
             waiting_since = CASE WHEN v.waiting < 0 THEN conversations.waiting_since \
                 WHEN conversations.waiting_since IS NULL OR v.waiting < conversations.waiting_since THEN v.waiting \
                 ELSE conversations.waiting_since END, \
             language = COALESCE(v.language, conversations.language), \
             returned_at = CASE WHEN conversations.status = 'snoozed' THEN v.newest ELSE conversations.returned_at END, \
             status = 'open', snoozed_until = NULL, {CONVERSATION_PRIORITY} \
             FROM v WHERE conversations.id = v.id",
            rows_text.join(", ")
        );
        statement.query(self.engine()).execute(self.conn()).await?;

        // Conversations outside the queue (watched or dismissed) that a message addressed to
        // the account joined go into the queue now (their wait counts from now).
        let promoted_at = Timestamp::from_millis(now);
        let mut addressed: Vec<i64> = addressed.into_iter().collect();
        addressed.sort_unstable();
        for conversation in addressed {
            self.promote_conversation(ConversationId(conversation), promoted_at, false)
                .await?;
        }
        Ok(stored)
    }
}
