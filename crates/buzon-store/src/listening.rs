//! Listening: saved searches and where each stands, the objects a webhook named without
//! their content (fetched by the channel's poller), the monitoring state of conversations
//! found by listening, and the volume listening brings in.

use crate::rows;
use crate::{Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::query;

/// A saved search of an X channel, and where its runs stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSearch {
    /// Our id.
    pub id: i64,
    /// Its channel.
    pub channel_id: ChannelId,
    /// X's query, as the admin wrote it.
    pub query: String,
    /// Which finds go straight into the queue.
    pub promote: Promote,
    /// The newest post id of the last finished run.
    pub since_id: Option<String>,
    /// While a run pages back: its newest id.
    pub newest_id: Option<String>,
    /// While a run pages back: the next page.
    pub next_token: Option<String>,
    /// When it may ask X again.
    pub next_poll_at: Timestamp,
    /// When it last asked X.
    pub last_polled_at: Option<Timestamp>,
    /// X's refusal of the last run (an invalid query), shown on the channel's health.
    pub last_error: Option<String>,
    /// When it was saved.
    pub created_at: Timestamp,
}

/// Where a run of a saved search left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRun {
    /// The query the run asked X: the run is saved only while it is still the search's (a
    /// search changed or deleted meanwhile starts over rather than inherit the old cursor).
    pub query: String,
    /// See [`SavedSearch::since_id`].
    pub since_id: Option<String>,
    /// See [`SavedSearch::newest_id`].
    pub newest_id: Option<String>,
    /// See [`SavedSearch::next_token`].
    pub next_token: Option<String>,
    /// See [`SavedSearch::next_poll_at`].
    pub next_poll_at: Timestamp,
    /// See [`SavedSearch::last_error`].
    pub last_error: Option<String>,
}

/// Listening volume of one day: what one search (or Page mentions, or reviews) brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListeningVolume {
    /// The day, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// `search`, `mention` or `review`.
    pub found_by: String,
    /// The saved search, for `search`.
    pub search_id: Option<i64>,
    /// Messages found.
    pub messages: i64,
}

const SEARCH_COLUMNS: &str = "id, channel_id, query, promote, since_id, newest_id, next_token, \
     next_poll_at, last_polled_at, last_error, created_at";

fn saved_search(row: &sqlx::any::AnyRow) -> Result<SavedSearch, StoreError> {
    Ok(SavedSearch {
        id: rows::get(row, "id")?,
        channel_id: ChannelId(rows::get(row, "channel_id")?),
        query: rows::get(row, "query")?,
        promote: Promote::parse(&rows::get::<String>(row, "promote")?)
            .map_err(|err| StoreError::Corrupt(format!("promote: {err}")))?,
        since_id: rows::get(row, "since_id")?,
        newest_id: rows::get(row, "newest_id")?,
        next_token: rows::get(row, "next_token")?,
        next_poll_at: rows::ts(row, "next_poll_at")?,
        last_polled_at: rows::opt_ts(row, "last_polled_at")?,
        last_error: rows::get(row, "last_error")?,
        created_at: rows::ts(row, "created_at")?,
    })
}

impl Store {
    /// The saved searches of a channel, oldest first.
    pub async fn saved_searches(
        &self,
        channel_id: ChannelId,
    ) -> Result<Vec<SavedSearch>, StoreError> {
        let rows = query(&format!(
            "SELECT {SEARCH_COLUMNS} FROM saved_searches WHERE channel_id = $1 ORDER BY id"
        ))
        .bind(channel_id.get())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(saved_search).collect()
    }

    /// One saved search of a channel.
    pub async fn saved_search(
        &self,
        channel_id: ChannelId,
        id: i64,
    ) -> Result<SavedSearch, StoreError> {
        let row = query(&format!(
            "SELECT {SEARCH_COLUMNS} FROM saved_searches WHERE channel_id = $1 AND id = $2"
        ))
        .bind(channel_id.get())
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        saved_search(&row)
    }

    /// Saves where a run of a search left it, while `owner` holds the channel's poll lease
    /// (false, and nothing saved, when it does not: another node polls now).
    pub async fn save_search_run(
        &self,
        channel_id: ChannelId,
        search_id: i64,
        owner: &str,
        now: Timestamp,
        run: &SearchRun,
    ) -> Result<bool, StoreError> {
        let result = query(
            "UPDATE saved_searches SET since_id = $1, newest_id = $2, next_token = $3, next_poll_at = $4, \
             last_polled_at = $5, last_error = $6 WHERE id = $7 AND channel_id = $8 AND query = $10 AND EXISTS \
             (SELECT 1 FROM channel_leases l WHERE l.channel_id = $8 AND l.owner = $9 AND l.lease_until >= $5)",
        )
        .bind(run.since_id.as_deref())
        .bind(run.newest_id.as_deref())
        .bind(run.next_token.as_deref())
        .bind(run.next_poll_at.as_millis())
        .bind(now.as_millis())
        .bind(run.last_error.as_deref().map(|error| bound_text(error, 1024)))
        .bind(search_id)
        .bind(channel_id.get())
        .bind(owner)
        .bind(run.query.as_str())
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The channels with objects waiting to be fetched (due at `now`) and the channels with
    /// saved searches, in one round trip (the pollers ask twice a second).
    pub async fn listening_channels(
        &self,
        now: Timestamp,
    ) -> Result<(Vec<ChannelId>, Vec<ChannelId>), StoreError> {
        let rows = query(
            "SELECT DISTINCT channel_id, CAST(1 AS BIGINT) AS is_fetch FROM listening_fetches WHERE next_at <= $1 \
             UNION ALL SELECT DISTINCT channel_id, CAST(0 AS BIGINT) AS is_fetch FROM saved_searches",
        )
        .bind(now.as_millis())
        .fetch_all(&self.read)
        .await?;
        let (mut fetching, mut searching) = (Vec::new(), Vec::new());
        for row in &rows {
            let channel = ChannelId(rows::get(row, "channel_id")?);
            if rows::flag(row, "is_fetch")? {
                fetching.push(channel);
            } else {
                searching.push(channel);
            }
        }
        Ok((fetching, searching))
    }

    /// Objects of a channel waiting to be fetched, due at `now`, oldest request first, with
    /// the time of their request.
    pub async fn due_fetches(
        &self,
        channel_id: ChannelId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(ExternalId, i64, i64)>, StoreError> {
        let rows = query(
            "SELECT object_id, requested_at, attempts FROM listening_fetches WHERE channel_id = $1 AND next_at <= $2 \
             ORDER BY requested_at LIMIT $3",
        )
        .bind(channel_id.get())
        .bind(now.as_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .filter_map(|row| {
                let read = || -> Result<(String, i64, i64), StoreError> {
                    Ok((
                        rows::get(row, "object_id")?,
                        rows::get(row, "requested_at")?,
                        rows::get(row, "attempts")?,
                    ))
                };
                match read() {
                    Ok((id, requested, attempts)) => ExternalId::parse(id)
                        .ok()
                        .map(|id| Ok((id, requested, attempts))),
                    Err(err) => Some(Err(err)),
                }
            })
            .collect()
    }

    /// Forgets a fetch that is done (its body is in the event log) or pointless (the object is
    /// gone) — unless it was asked for again since (an edit): then it stays, to fetch again.
    pub async fn finish_fetch(
        &self,
        channel_id: ChannelId,
        object_id: &ExternalId,
        requested_at: i64,
    ) -> Result<(), StoreError> {
        query("DELETE FROM listening_fetches WHERE channel_id = $1 AND object_id = $2 AND requested_at = $3")
            .bind(channel_id.get())
            .bind(object_id.as_str())
            .bind(requested_at)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Puts a fetch off until `retry_at`, with the reason.
    pub async fn delay_fetch(
        &self,
        channel_id: ChannelId,
        object_id: &ExternalId,
        requested_at: i64,
        retry_at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        // Not when it was asked for again meanwhile (an edit): that request is due at once.
        query(
            "UPDATE listening_fetches SET attempts = attempts + 1, next_at = $1, last_error = $2 \
             WHERE channel_id = $3 AND object_id = $4 AND requested_at = $5",
        )
        .bind(retry_at.as_millis())
        .bind(bound_text(error, 1024))
        .bind(channel_id.get())
        .bind(object_id.as_str())
        .bind(requested_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// How many messages listening brought in per day (UTC) and source in `[from, to)`,
    /// newest day first.
    pub async fn listening_volume(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ListeningVolume>, StoreError> {
        let rows = query(
            "SELECT received_at, found_by, search_id FROM messages \
             WHERE found_by IS NOT NULL AND direction = 'inbound' AND received_at >= $1 AND received_at < $2",
        )
        .bind(from.as_millis())
        .bind(to.as_millis())
        .fetch_all(&self.read)
        .await?;
        let mut counts: std::collections::BTreeMap<(String, String, Option<i64>), i64> =
            std::collections::BTreeMap::new();
        for row in &rows {
            let at = rows::ts(row, "received_at")?;
            let day = at.to_rfc3339().chars().take(10).collect::<String>();
            let key = (
                day,
                rows::get::<String>(row, "found_by")?,
                rows::get::<Option<i64>>(row, "search_id")?,
            );
            *counts.entry(key).or_default() += 1;
        }
        let mut volume: Vec<ListeningVolume> = counts
            .into_iter()
            .map(|((day, found_by, search_id), messages)| ListeningVolume {
                day,
                found_by,
                search_id,
                messages,
            })
            .collect();
        volume.sort_by(|a, b| {
            b.day
                .cmp(&a.day)
                .then(a.found_by.cmp(&b.found_by))
                .then(a.search_id.cmp(&b.search_id))
        });
        Ok(volume)
    }
}

impl StoreTx {
    /// Saves a new search of a channel; returns its id.
    pub async fn insert_saved_search(
        &mut self,
        channel_id: ChannelId,
        query_text: &str,
        promote: Promote,
    ) -> Result<i64, StoreError> {
        let row = query(
            "INSERT INTO saved_searches (channel_id, query, promote, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(channel_id.get())
        .bind(query_text)
        .bind(promote.as_str())
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.conn())
        .await?;
        rows::get(&row, "id")
    }

    /// Changes a search's query and promotion. A new query starts over (its posts are not
    /// the old query's) and may be tried at once.
    pub async fn update_saved_search(
        &mut self,
        channel_id: ChannelId,
        id: i64,
        query_text: &str,
        promote: Promote,
    ) -> Result<(), StoreError> {
        let result = query(
            "UPDATE saved_searches SET \
             since_id = CASE WHEN query = $1 THEN since_id ELSE NULL END, \
             newest_id = CASE WHEN query = $1 THEN newest_id ELSE NULL END, \
             next_token = CASE WHEN query = $1 THEN next_token ELSE NULL END, \
             last_error = CASE WHEN query = $1 THEN last_error ELSE NULL END, \
             next_poll_at = CASE WHEN query = $1 THEN next_poll_at ELSE 0 END, \
             query = $1, promote = $2 WHERE channel_id = $3 AND id = $4",
        )
        .bind(query_text)
        .bind(promote.as_str())
        .bind(channel_id.get())
        .bind(id)
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Forgets a saved search (what it found stays).
    pub async fn delete_saved_search(
        &mut self,
        channel_id: ChannelId,
        id: i64,
    ) -> Result<(), StoreError> {
        let result = query("DELETE FROM saved_searches WHERE channel_id = $1 AND id = $2")
            .bind(channel_id.get())
            .bind(id)
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Asks the channel's poller to fetch an object a webhook named; asking again (an edit)
    /// fetches it again.
    pub async fn queue_fetch(
        &mut self,
        channel_id: ChannelId,
        object_id: &ExternalId,
    ) -> Result<(), StoreError> {
        // Strictly increasing per request, so that a fetch finished for an older request
        // never forgets a newer one.
        let now = Timestamp::now().as_millis();
        query(
            "INSERT INTO listening_fetches (channel_id, object_id, requested_at, next_at) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (channel_id, object_id) DO UPDATE SET \
             requested_at = CASE WHEN excluded.requested_at > listening_fetches.requested_at \
                 THEN excluded.requested_at ELSE listening_fetches.requested_at + 1 END, \
             next_at = 0, attempts = 0, last_error = NULL",
        )
        .bind(channel_id.get())
        .bind(object_id.as_str())
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Forgets a pending fetch of an object the platform removed. A fetch already under way
    /// may still store the object after the removal: the removal, which found no message, is
    /// kept as an early removal and retracts the object's message when it is stored.
    pub async fn forget_fetch(
        &mut self,
        channel_id: ChannelId,
        object_id: &ExternalId,
    ) -> Result<(), StoreError> {
        query("DELETE FROM listening_fetches WHERE channel_id = $1 AND object_id = $2")
            .bind(channel_id.get())
            .bind(object_id.as_str())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// A review's recommendation as the platform now says (an edited review): its message
    /// and conversation show it.
    pub async fn set_recommendation(
        &mut self,
        channel_id: ChannelId,
        platform_id: &ExternalId,
        recommendation: Recommendation,
    ) -> Result<(), StoreError> {
        query("UPDATE messages SET recommendation = $1 WHERE channel_id = $2 AND platform_id = $3")
            .bind(recommendation.as_str())
            .bind(channel_id.get())
            .bind(platform_id.as_str())
            .execute(self.conn())
            .await?;
        query(
            "UPDATE conversations SET recommendation = $1 WHERE id IN \
             (SELECT conversation_id FROM messages WHERE channel_id = $2 AND platform_id = $3)",
        )
        .bind(recommendation.as_str())
        .bind(channel_id.get())
        .bind(platform_id.as_str())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Moves a conversation found by listening into the answer queue, as of `at`: its
    /// customer's waiting (and response time) count from then. A dismissed one comes back too,
    /// unless `only_watching` (the rules promote only what nobody dismissed). False when it is
    /// not outside the queue.
    pub async fn promote_conversation(
        &mut self,
        id: ConversationId,
        at: Timestamp,
        only_watching: bool,
    ) -> Result<bool, StoreError> {
        let which = if only_watching {
            "monitor = 'watching'"
        } else {
            "monitor IS NOT NULL"
        };
        let result = query(&format!(
            "UPDATE conversations SET monitor = NULL, promoted_at = $1, \
             waiting_since = CASE WHEN waiting_since IS NOT NULL AND waiting_since < $1 THEN $1 ELSE waiting_since END \
             WHERE id = $2 AND {which}"
        ))
        .bind(at.as_millis())
        .bind(id.get())
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        self.record_metric_change(id).await?;
        Ok(true)
    }

    /// Takes a watching conversation out of sight. False when it is not in the monitoring view.
    pub async fn dismiss_conversation(&mut self, id: ConversationId) -> Result<bool, StoreError> {
        let result = query(
            "UPDATE conversations SET monitor = 'dismissed' WHERE id = $1 AND monitor = 'watching'",
        )
        .bind(id.get())
        .execute(self.conn())
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn record_metric_change(&mut self, id: ConversationId) -> Result<(), StoreError> {
        query("INSERT INTO metric_changes (conversation_id, recorded_at) VALUES ($1, $2)")
            .bind(id.get())
            .bind(Timestamp::now().as_millis())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

crate::tx::one_transaction! {
    /// The same as [`StoreTx::queue_fetch`], in a transaction of its own.
    pub async fn queue_fetch(&self, channel_id: ChannelId, object_id: &ExternalId) -> Result<(), StoreError>;
}

/// A new message in a conversation still in the monitoring view, for the rules to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchedFind {
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// What found the message (none: it was addressed to the account).
    pub found_by: Option<FoundBy>,
}

impl Store {
    /// Every saved search's query, by id.
    pub async fn search_queries(
        &self,
    ) -> Result<std::collections::HashMap<i64, String>, StoreError> {
        let rows = query("SELECT id, query FROM saved_searches")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| Ok((rows::get(row, "id")?, rows::get(row, "query")?)))
            .collect()
    }

    /// Every saved search's promotion, by id.
    pub async fn search_promotions(
        &self,
    ) -> Result<std::collections::HashMap<i64, Promote>, StoreError> {
        let rows = query("SELECT id, promote FROM saved_searches")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| {
                let promote = Promote::parse(&rows::get::<String>(row, "promote")?)
                    .map_err(|err| StoreError::Corrupt(format!("promote: {err}")))?;
                Ok((rows::get(row, "id")?, promote))
            })
            .collect()
    }
}

impl StoreTx {
    /// Which of these messages sit in a conversation still in the monitoring view.
    pub async fn watched_finds(
        &mut self,
        ids: &[MessageId],
    ) -> Result<std::collections::HashMap<MessageId, WatchedFind>, StoreError> {
        let mut finds = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let mut statement = crate::conversations::Statement::default();
            let placeholders: Vec<String> = chunk
                .iter()
                .map(|id| statement.push(crate::conversations::Value::Int(id.get())))
                .collect();
            statement.text = format!(
                // A scalar subquery, not a join: PostgreSQL joined by hashing every watched
                // conversation (a sequential scan of them all, 13 ms for each batch of new
                // messages at 50,000 conversations); this is one key lookup per message.
                "SELECT m.id, m.conversation_id, m.found_by, m.search_id, m.recommendation FROM messages m \
                 WHERE m.id IN ({}) \
                 AND (SELECT c.monitor FROM conversations c WHERE c.id = m.conversation_id) IS NOT NULL",
                placeholders.join(", ")
            );
            for row in statement
                .query(self.engine())
                .fetch_all(self.conn())
                .await?
            {
                let found_by = rows::found_by(&row)?;
                finds.insert(
                    MessageId(rows::get(&row, "id")?),
                    WatchedFind {
                        conversation_id: ConversationId(rows::get(&row, "conversation_id")?),
                        found_by,
                    },
                );
            }
        }
        Ok(finds)
    }
}
