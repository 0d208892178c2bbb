//! Many new messages in a few statements: the normalizer's batches store their messages with
//! multi-row statements (authors, conversations, messages, status history) and one update per
//! conversation, instead of eight round trips per message. The outcome is the one
//! [`StoreTx::ingest_message`] gives applied message by message, in order; the conformance
//! tests hold both to it.

use crate::conversations::{snippet, Statement, Value, CONVERSATION_PRIORITY, PRIORITY_OF_AUTHOR};
use crate::rows;
use crate::{StoreError, StoreTx};
use buzon_core::*;
use std::collections::{HashMap, HashSet};

/// A new message's conversation, time, snippet and detected language.
type Inserted = (i64, i64, String, Option<&'static str>);

/// A new conversation's channel, thread key, author, kind and what found it.
type NewThread<'a> = (i64, String, i64, &'a str, Option<FoundBy>);

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
        let now = Timestamp::now().as_millis();
        let (stored, addressed) = self.store_chunk(messages, now).await?;
        self.promote_addressed(addressed, now).await?;
        Ok(stored)
    }

    /// Stores a chunk's new messages; returns them and the conversations outside the queue
    /// that a message addressed to the account joined or named again.
    async fn store_chunk(
        &mut self,
        messages: &[&NewInboundMessage],
        now: i64,
    ) -> Result<(Vec<(MessageId, ConversationId)>, HashSet<i64>), StoreError> {
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
        // A post stored as a listening find and delivered again as addressed to the account
        // (the mentions timeline or a webhook names it, where the search's copy did not show
        // the @-mention) is still one message, and its conversation comes into the queue.
        let addressed_copies: HashSet<(i64, &str)> = fresh
            .iter()
            .filter(|message| message.found_by.is_none())
            .map(|message| (message.channel_id.get(), message.platform_id.as_str()))
            .collect();
        let mut refound: HashSet<i64> = HashSet::new();
        let mut stored_before: HashSet<(i64, String)> = HashSet::new();
        for (channel, ids) in &by_channel {
            let columns = ["platform_id", "found_by", "conversation_id"];
            for row in self
                .rows_by_key("messages", &columns, "platform_id", *channel, ids)
                .await?
            {
                let platform_id: String = rows::get(&row, "platform_id")?;
                if rows::get::<Option<String>>(&row, "found_by")?.is_some()
                    && addressed_copies.contains(&(*channel, platform_id.as_str()))
                {
                    refound.insert(rows::get(&row, "conversation_id")?);
                }
                stored_before.insert((*channel, platform_id));
            }
        }
        fresh.retain(|message| {
            !stored_before.contains(&(
                message.channel_id.get(),
                message.platform_id.as_str().to_owned(),
            ))
        });
        if fresh.is_empty() {
            return Ok((Vec::new(), refound));
        }

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
                // Placeholders in order (each value pushed where it is used), so SQLite binds
                // them positionally (see `Statement::query`).
                format!(
                    "({}, {}, {}, {}, {}, {})",
                    statement.push(Value::Int(*channel)),
                    statement.push(Value::Text((*platform_id).to_owned())),
                    statement.push(name.clone().map_or(Value::NullText, Value::Text)),
                    statement.push(handle.clone().map_or(Value::NullText, Value::Text)),
                    statement.push(Value::Int(now)),
                    statement.push(Value::Int(now)),
                )
            })
            .collect();
        // The profile worker asks again about people who wrote since their profile was asked
        // for (a partial index on `wrote_since_check_at > profile_checked_at`): the time moves
        // only for an author asked about and not in that index yet, so most updates of an
        // author change no indexed column.
        statement.text = format!(
            "INSERT INTO contacts (channel_id, platform_id, name, handle, created_at, wrote_since_check_at) VALUES {} \
             ON CONFLICT (channel_id, platform_id) DO UPDATE SET \
             name = COALESCE(excluded.name, contacts.name), handle = COALESCE(excluded.handle, contacts.handle), \
             wrote_since_check_at = CASE WHEN contacts.profile_checked_at IS NULL \
               OR contacts.wrote_since_check_at > contacts.profile_checked_at \
               THEN contacts.wrote_since_check_at ELSE excluded.wrote_since_check_at END \
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
        // Each message's stored text and detected language, worked out once.
        let prepared: Vec<(String, Option<&'static str>)> = fresh
            .iter()
            .map(|message| {
                let text = bound_text(&message.text, MAX_MESSAGE_BYTES);
                let language = detect_language(&text);
                (text, language)
            })
            .collect();
        let mut threads: Vec<NewThread<'_>> = Vec::new();
        let mut thread_index: HashMap<(i64, String), usize> = HashMap::new();
        let mut summaries: Vec<ThreadSummary> = Vec::new();
        for (message, (text, language)) in fresh.iter().zip(&prepared) {
            let key = (
                message.channel_id.get(),
                bound_text(&message.thread_key, 512),
            );
            let at = message.created_at.as_millis();
            match thread_index.get(&key) {
                Some(&index) => summaries[index].add(at, text, *language),
                None => {
                    thread_index.insert(key.clone(), threads.len());
                    summaries.push(ThreadSummary::first(at, text, *language));
                    threads.push((
                        key.0,
                        key.1,
                        contact_of(message)?,
                        message.conversation_kind.as_str(),
                        message.found_by,
                    ));
                }
            }
        }
        // A conversation this batch creates is written with its queue position, snippet, wait,
        // language and priority at once; only the ones that existed are updated after the
        // messages (every index of a conversation is written once, not twice). The authors who
        // come first (VIPs, influencers, on any linked contact) are asked for in one statement:
        // the priority term in each row of the insert made the database plan a subquery per
        // row, which cost more than the update it saved.
        let mut first: HashSet<i64> = HashSet::new();
        let authors: Vec<i64> = {
            let mut seen = HashSet::new();
            threads
                .iter()
                .map(|(_, _, contact, ..)| *contact)
                .filter(|contact| seen.insert(*contact))
                .collect()
        };
        for chunk in authors.chunks(CHUNK) {
            let mut statement = Statement::default();
            let placeholders: Vec<String> = chunk
                .iter()
                .map(|contact| statement.push(Value::Int(*contact)))
                .collect();
            statement.text = format!(
                "SELECT k.id FROM contacts k WHERE k.id IN ({}) AND ({}) = 1",
                placeholders.join(", "),
                PRIORITY_OF_AUTHOR
            );
            for row in statement
                .query(self.engine())
                .fetch_all(self.conn())
                .await?
            {
                first.insert(rows::get(&row, "id")?);
            }
        }
        let mut statement = Statement::default();
        let rows_text: Vec<String> = threads
            .iter()
            .zip(&summaries)
            .map(|((channel, thread, contact, kind, found_by), summary)| {
                let text = |value: Option<&str>| {
                    value.map_or(Value::NullText, |value| Value::Text(value.to_owned()))
                };
                let mut row = format!(
                    "({}, {}, {}, {}, 'open', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, ",
                    statement.push(Value::Int(*channel)),
                    statement.push(Value::Int(*contact)),
                    statement.push(Value::Text(thread.clone())),
                    statement.push(Value::Text((*kind).to_owned())),
                    statement.push(Value::Int(summary.newest_at)),
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
                    statement.push(Value::Text(snippet(summary.newest_text))),
                    statement.push(Value::Int(summary.newest_at)),
                    statement.push(Value::Int(summary.oldest_at)),
                    statement.push(text(summary.language.map(|(_, code)| code))),
                );
                row.push_str(&statement.push(Value::Int(i64::from(first.contains(contact)))));
                row.push(')');
                row
            })
            .collect();
        statement.text = format!(
            "INSERT INTO conversations (channel_id, contact_id, thread_key, kind, status, last_activity_at, created_at, \
             monitor, found_by, search_id, recommendation, last_message_text, last_inbound_at, waiting_since, language, \
             priority) \
             VALUES {} ON CONFLICT (channel_id, thread_key) DO NOTHING \
             RETURNING id, channel_id, thread_key, monitor",
            rows_text.join(", ")
        );
        let mut conversation_ids: HashMap<(i64, String), i64> = HashMap::new();
        let mut watching: HashSet<i64> = HashSet::new();
        let mut created: HashSet<i64> = HashSet::new();
        for row in statement
            .query(self.engine())
            .fetch_all(self.conn())
            .await?
        {
            note(
                &row,
                true,
                &mut conversation_ids,
                &mut watching,
                &mut created,
            )?;
        }
        // The conversations that existed already (or that another node created meanwhile:
        // PostgreSQL waited for it, and this statement sees it).
        let mut existing: HashMap<i64, Vec<&str>> = HashMap::new();
        for (channel, thread, ..) in &threads {
            if !conversation_ids.contains_key(&(*channel, thread.clone())) {
                existing.entry(*channel).or_default().push(thread.as_str());
            }
        }
        for (channel, keys) in &existing {
            for keys in keys.chunks(CHUNK) {
                let columns = ["id", "channel_id", "thread_key", "monitor"];
                for row in self
                    .rows_by_key("conversations", &columns, "thread_key", *channel, keys)
                    .await?
                {
                    note(
                        &row,
                        false,
                        &mut conversation_ids,
                        &mut watching,
                        &mut created,
                    )?;
                }
            }
        }

        // The messages; one another node stored meanwhile is left out (no row returned).
        let mut statement = Statement::default();
        let mut rows_text = Vec::with_capacity(fresh.len());
        let mut texts: HashMap<(i64, String), Inserted> = HashMap::new();
        let mut addressed: HashSet<i64> = refound;
        for (message, (text, language)) in fresh.iter().zip(prepared) {
            let conversation = *conversation_ids
                .get(&(
                    message.channel_id.get(),
                    bound_text(&message.thread_key, 512),
                ))
                .ok_or_else(|| StoreError::Corrupt("a conversation was not stored".into()))?;
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
            } else if let Some((conversation, ..)) = texts.get(&key) {
                // Written with this message in its figures, but another node stored it: the
                // update below sets the conversation from what it holds.
                created.remove(conversation);
            }
        }
        if inserted.is_empty() {
            return Ok((stored, addressed));
        }

        // The rules (auto-reply, incidents, alerts) look at every new customer message once:
        // the list of what they have yet to see commits with the messages.
        let mut statement = Statement::default();
        let rows_text: Vec<String> = stored
            .iter()
            .map(|(message, _)| {
                format!(
                    "({}, {})",
                    statement.push(Value::Int(message.get())),
                    statement.push(Value::Int(now))
                )
            })
            .collect();
        statement.text = format!(
            "INSERT INTO rule_checks (message_id, created_at) VALUES {} ON CONFLICT (message_id) DO NOTHING",
            rows_text.join(", ")
        );
        statement.query(self.engine()).execute(self.conn()).await?;

        // The conversations that existed: a customer message reopens one (the report's
        // history records it) and moves it in the queue. The ones created here are set.
        let conversations: Vec<i64> = {
            let mut seen = HashSet::new();
            inserted
                .iter()
                .map(|(conversation, ..)| *conversation)
                .filter(|conversation| !created.contains(conversation))
                .filter(|conversation| seen.insert(*conversation))
                .collect()
        };
        if conversations.is_empty() {
            return Ok((stored, addressed));
        }
        let mut statement = Statement::default();
        let open = statement.push(Value::Text(ConversationStatus::Open.as_str().to_owned()));
        let at = statement.push(Value::Int(now));
        let ids: Vec<String> = conversations
            .iter()
            .map(|id| statement.push(Value::Int(*id)))
            .collect();
        let still_open = statement.push(Value::Text(ConversationStatus::Open.as_str().to_owned()));
        statement.text = format!(
            "INSERT INTO conversation_status_changes (conversation_id, status, user_id, changed_at) \
             SELECT id, {open}, NULL, {at} FROM conversations WHERE id IN ({}) AND status <> {still_open}",
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
        Ok((stored, addressed))
    }

    /// Conversations outside the queue (watched or dismissed) that a message addressed to
    /// the account joined go into the queue now (their wait counts from now).
    async fn promote_addressed(
        &mut self,
        addressed: HashSet<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let promoted_at = Timestamp::from_millis(now);
        let mut addressed: Vec<i64> = addressed.into_iter().collect();
        addressed.sort_unstable();
        for conversation in addressed {
            self.promote_conversation(ConversationId(conversation), promoted_at, false)
                .await?;
        }
        Ok(())
    }

    /// Reads `columns` of the rows of `table` in `channel` whose `key` column is
    /// one of `keys` (`(channel_id, key)` is unique in `table`). SQLite looks each key of an `IN`
    /// list up in that index. PostgreSQL may take a list as a filter over every row of the channel
    /// (45–80 ms a batch at 10,000 messages) and a join as a hash of every row of the channel
    /// (auto_explain: 25 ms a batch at 60,000, growing with the channel); a lateral subquery with
    /// a `LIMIT` cannot be flattened, so each key is one probe of the index whatever the size.
    pub(crate) async fn rows_by_key(
        &mut self,
        table: &str,
        columns: &[&str],
        key: &str,
        channel: i64,
        keys: &[&str],
    ) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        let mut statement = Statement::default();
        let channel_placeholder = statement.push(Value::Int(channel));
        let placeholders: Vec<String> = keys
            .iter()
            .map(|value| statement.push(Value::Text((*value).to_owned())))
            .collect();
        statement.text = match self.engine() {
            crate::Engine::Sqlite => format!(
                "SELECT {} FROM {table} WHERE channel_id = {channel_placeholder} AND {key} IN ({})",
                columns.join(", "),
                placeholders.join(", ")
            ),
            crate::Engine::Postgres => format!(
                "SELECT {} FROM (VALUES {}) AS batch (k) CROSS JOIN LATERAL (SELECT {} FROM {table} \
                 WHERE channel_id = {channel_placeholder} AND {key} = batch.k LIMIT 1) found",
                columns
                    .iter()
                    .map(|column| format!("found.{column}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                placeholders
                    .iter()
                    .map(|placeholder| format!("({placeholder})"))
                    .collect::<Vec<_>>()
                    .join(", "),
                columns.join(", ")
            ),
        };
        Ok(statement
            .query(self.engine())
            .fetch_all(self.conn())
            .await?)
    }
}

/// Notes a conversation row (`id`, `channel_id`, `thread_key`, `monitor`): its id by thread,
/// whether it is outside the queue (watched or dismissed), whether this batch created it.
fn note(
    row: &sqlx::any::AnyRow,
    new: bool,
    conversation_ids: &mut HashMap<(i64, String), i64>,
    watching: &mut HashSet<i64>,
    created: &mut HashSet<i64>,
) -> Result<(), StoreError> {
    let id: i64 = rows::get(row, "id")?;
    if rows::get::<Option<String>>(row, "monitor")?.is_some() {
        watching.insert(id);
    }
    if new {
        created.insert(id);
    }
    conversation_ids.insert(
        (rows::get(row, "channel_id")?, rows::get(row, "thread_key")?),
        id,
    );
    Ok(())
}

/// A new thread's figures from the batch's messages: the newest (the later one on a tie, as
/// message by message) gives the queue position and snippet, the oldest starts the wait, the
/// newest with a detected language gives the language.
struct ThreadSummary<'a> {
    newest_at: i64,
    newest_text: &'a str,
    oldest_at: i64,
    language: Option<(i64, &'static str)>,
}

impl<'a> ThreadSummary<'a> {
    fn first(at: i64, text: &'a str, language: Option<&'static str>) -> ThreadSummary<'a> {
        ThreadSummary {
            newest_at: at,
            newest_text: text,
            oldest_at: at,
            language: language.map(|code| (at, code)),
        }
    }

    fn add(&mut self, at: i64, text: &'a str, language: Option<&'static str>) {
        if at >= self.newest_at {
            self.newest_at = at;
            self.newest_text = text;
        }
        self.oldest_at = self.oldest_at.min(at);
        if let Some(code) = language {
            if self.language.is_none_or(|(newest, _)| at >= newest) {
                self.language = Some((at, code));
            }
        }
    }
}
