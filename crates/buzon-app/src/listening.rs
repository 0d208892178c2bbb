//! Listening: the saved searches of X channels, promoting and dismissing what listening found,
//! the rules that promote a find on their own, and the volume listening brings in.

use crate::{target, Actor, App, AppError};
use buzon_core::listening::{check_search_query, promotes, PROMOTING_LABELS};
use buzon_core::*;
use buzon_store::{ListeningVolume, SavedSearch, StoreTx, WatchedFind};
use serde_json::json;

/// The most saved searches one channel keeps: each shares the tier's request budget, so more
/// would poll each too rarely to be useful (with the Basic tier's 60 requests per 15 minutes,
/// ten searches ask every 2.5 minutes each).
pub const MAX_SEARCHES_PER_CHANNEL: usize = 10;

impl App {
    /// The saved searches of an X channel. Every role may read them.
    pub async fn saved_searches(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
    ) -> Result<Vec<SavedSearch>, AppError> {
        actor.require(Role::Viewer)?;
        self.search_channel(channel_id).await?;
        Ok(self.store().saved_searches(channel_id).await?)
    }

    /// Every saved search's query, by id, to name what found a conversation. Every role.
    pub async fn search_queries(
        &self,
        actor: &Actor,
    ) -> Result<std::collections::HashMap<i64, String>, AppError> {
        actor.require(Role::Viewer)?;
        Ok(self.store().search_queries().await?)
    }

    /// Saves a search of an X channel: X's query, passed unchanged, and which finds go
    /// straight into the queue. Admins.
    pub async fn add_saved_search(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
        query: &str,
        promote: Promote,
    ) -> Result<SavedSearch, AppError> {
        actor.require(Role::Admin)?;
        self.search_channel(channel_id).await?;
        let query = check_search_query(query)
            .map_err(|err| AppError::invalid("invalid_search", err.to_string()))?;
        if self.store().saved_searches(channel_id).await?.len() >= MAX_SEARCHES_PER_CHANNEL {
            return Err(AppError::invalid(
                "too_many_searches",
                format!(
                    "a channel keeps at most {MAX_SEARCHES_PER_CHANNEL} saved searches; they share X's request budget"
                ),
            ));
        }
        let mut tx = self.store().begin().await?;
        let id = tx.insert_saved_search(channel_id, &query, promote).await?;
        tx.audit(
            &actor.audit_name(),
            "search.add",
            &target("search", id),
            &json!({"channel_id": channel_id, "query": query, "promote": promote.as_str()}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(self.store().saved_search(channel_id, id).await?)
    }

    /// Changes a saved search; a new query starts over. Admins.
    pub async fn update_saved_search(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
        id: i64,
        query: &str,
        promote: Promote,
    ) -> Result<SavedSearch, AppError> {
        actor.require(Role::Admin)?;
        self.search_channel(channel_id).await?;
        let query = check_search_query(query)
            .map_err(|err| AppError::invalid("invalid_search", err.to_string()))?;
        let mut tx = self.store().begin().await?;
        tx.update_saved_search(channel_id, id, &query, promote)
            .await?;
        tx.audit(
            &actor.audit_name(),
            "search.update",
            &target("search", id),
            &json!({"query": query, "promote": promote.as_str()}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(self.store().saved_search(channel_id, id).await?)
    }

    /// Forgets a saved search; what it found stays. Admins.
    pub async fn delete_saved_search(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
        id: i64,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.delete_saved_search(channel_id, id).await?;
        tx.audit(
            &actor.audit_name(),
            "search.delete",
            &target("search", id),
            &json!({"channel_id": channel_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Only X channels have saved searches (recent search is X's).
    async fn search_channel(&self, channel_id: ChannelId) -> Result<Channel, AppError> {
        let channel = self.store().channel(channel_id).await?;
        if channel.kind != ChannelKind::X {
            return Err(AppError::invalid(
                "not_searchable",
                "saved searches are for X channels (Facebook listening is the Page's mentions and reviews)",
            ));
        }
        Ok(channel)
    }

    /// Moves a conversation from the monitoring view (or one dismissed before) into the answer
    /// queue: it is answered like any other, and its response time counts from now. Agents
    /// and admins.
    pub async fn promote(&self, actor: &Actor, id: ConversationId) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let conversation = self.store().conversation(id).await?;
        let mut tx = self.store().begin().await?;
        if !tx.promote_conversation(id, self.now(), false).await? {
            return Err(not_watching(&conversation));
        }
        tx.audit(
            &actor.audit_name(),
            "conversation.promote",
            &target("conversation", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// Takes a conversation of the monitoring view out of sight. Agents and admins.
    pub async fn dismiss(&self, actor: &Actor, id: ConversationId) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let conversation = self.store().conversation(id).await?;
        let mut tx = self.store().begin().await?;
        if !tx.dismiss_conversation(id).await? {
            return Err(not_watching(&conversation));
        }
        tx.audit(
            &actor.audit_name(),
            "conversation.dismiss",
            &target("conversation", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// What listening brought in per day and source in a period. Every role.
    pub async fn listening_volume(
        &self,
        actor: &Actor,
        period: buzon_core::metrics::Period,
    ) -> Result<Vec<ListeningVolume>, AppError> {
        actor.require(Role::Viewer)?;
        Ok(self
            .store()
            .listening_volume(period.start, period.end)
            .await?)
    }

    /// The rules' part in listening, for a new message in a conversation still in the
    /// monitoring view: whether it goes into the queue on its own (the saved search's
    /// promotion, a negative review, an author tagged VIP, influencer or press, or an alert
    /// rule that matched it). Returns whether it was promoted.
    pub(crate) async fn promote_if_called_for(
        &self,
        tx: &mut StoreTx,
        message: &Message,
        find: &WatchedFind,
        searches: &std::collections::HashMap<i64, Promote>,
        alerted: bool,
        now: Timestamp,
    ) -> Result<bool, AppError> {
        let by_search = match find.found_by {
            // Addressed to the account: the ingest promoted it already, or does now.
            None => true,
            Some(FoundBy::Search(search)) => promotes(
                searches.get(&search).copied().unwrap_or(Promote::None),
                &message.text,
                message.language.as_deref(),
            ),
            Some(FoundBy::Review(Recommendation::Negative)) => true,
            Some(FoundBy::Review(Recommendation::Positive) | FoundBy::Mention) => false,
        };
        let by_author = match message.contact_id {
            Some(contact) => tx
                .contact(contact)
                .await?
                .labels
                .iter()
                .any(|label| PROMOTING_LABELS.contains(&label.as_str())),
            None => false,
        };
        if !(by_search || by_author || alerted) {
            return Ok(false);
        }
        // Rules bring back only what nobody dismissed.
        if !tx
            .promote_conversation(find.conversation_id, now, true)
            .await?
        {
            return Ok(false);
        }
        let why = if alerted {
            "alert"
        } else if by_author {
            "author"
        } else {
            "rule"
        };
        tx.audit(
            &Actor::System("listening").audit_name(),
            "conversation.promote",
            &target("conversation", find.conversation_id),
            &json!({"message_id": message.id, "why": why}),
        )
        .await?;
        Ok(true)
    }
}

fn not_watching(conversation: &Conversation) -> AppError {
    AppError::Conflict {
        code: "not_monitored",
        message: match conversation.monitor {
            Some(Monitor::Dismissed) => "the conversation was dismissed already".to_owned(),
            _ => "the conversation is not in the monitoring view".to_owned(),
        },
    }
}
