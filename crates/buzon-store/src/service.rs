//! The team's service settings edited in the UI (business hours), each channel's own hours and
//! auto-reply (stored as the JSON documents the API exchanges; the application layer validates
//! them), and the durable list of new customer messages the rules have yet to look at.

use crate::rows;
use crate::{Engine, Store, StoreError, StoreTx};
use buzon_core::{ChannelId, MessageId, Timestamp};
use sqlx::query;

/// The name of the team's business hours among the team settings.
pub const TEAM_BUSINESS_HOURS: &str = "business_hours";

/// A channel's service settings, as stored: JSON documents, `None` when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelService {
    /// Its own business hours (`None`: the team's).
    pub business_hours: Option<String>,
    /// Its out-of-hours auto-reply (`None`: none).
    pub auto_reply: Option<String>,
}

impl Store {
    /// A team setting's value and when it was saved, if an admin saved one.
    pub async fn team_setting(
        &self,
        name: &str,
    ) -> Result<Option<(String, Timestamp)>, StoreError> {
        let row = query("SELECT value, updated_at FROM team_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| Ok((rows::get(&row, "value")?, rows::ts(&row, "updated_at")?)))
            .transpose()
    }

    /// A channel's service settings.
    pub async fn channel_service(&self, id: ChannelId) -> Result<ChannelService, StoreError> {
        let row = query("SELECT business_hours, auto_reply FROM channels WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(ChannelService {
            business_hours: rows::get(&row, "business_hours")?,
            auto_reply: rows::get(&row, "auto_reply")?,
        })
    }

    /// The channels whose auto-reply is saved as on.
    pub async fn channels_with_auto_reply(&self) -> Result<Vec<ChannelId>, StoreError> {
        let rows = query("SELECT id, auto_reply FROM channels WHERE auto_reply IS NOT NULL")
            .fetch_all(&self.read)
            .await?;
        let mut on = Vec::new();
        for row in &rows {
            let json: String = rows::get(row, "auto_reply")?;
            let enabled = serde_json::from_str::<serde_json::Value>(&json)
                .ok()
                .and_then(|value| value["enabled"].as_bool())
                .unwrap_or(false);
            if enabled {
                on.push(ChannelId(rows::get(row, "id")?));
            }
        }
        Ok(on)
    }

    /// Whether any new customer message waits for the rules (a read, no writer taken).
    pub async fn rule_checks_waiting(&self) -> Result<bool, StoreError> {
        let row = query("SELECT COUNT(*) AS waiting FROM (SELECT 1 FROM rule_checks LIMIT 1) w")
            .fetch_one(&self.read)
            .await?;
        Ok(rows::get::<i64>(&row, "waiting")? > 0)
    }
}

impl StoreTx {
    /// Saves a team setting (`None` removes it, so that the configuration applies again).
    pub async fn set_team_setting(
        &mut self,
        name: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        match value {
            Some(value) => {
                query(
                    "INSERT INTO team_settings (name, value, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(value)
                .bind(Timestamp::now().as_millis())
                .execute(self.conn())
                .await?;
            }
            None => {
                query("DELETE FROM team_settings WHERE name = $1")
                    .bind(name)
                    .execute(self.conn())
                    .await?;
            }
        }
        Ok(())
    }

    /// Saves a channel's own business hours (`None`: the team's apply).
    pub async fn set_channel_business_hours(
        &mut self,
        id: ChannelId,
        hours: Option<&str>,
    ) -> Result<(), StoreError> {
        self.set_channel_column(id, "business_hours", hours).await
    }

    /// Saves a channel's auto-reply (`None`: none).
    pub async fn set_channel_auto_reply(
        &mut self,
        id: ChannelId,
        auto_reply: Option<&str>,
    ) -> Result<(), StoreError> {
        self.set_channel_column(id, "auto_reply", auto_reply).await
    }

    async fn set_channel_column(
        &mut self,
        id: ChannelId,
        column: &'static str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let result = query(&format!("UPDATE channels SET {column} = $1 WHERE id = $2"))
            .bind(value)
            .bind(id.get())
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Up to `limit` new customer messages the rules have yet to look at, oldest first, held
    /// by this transaction (another node's transaction skips them on PostgreSQL; SQLite has
    /// one writer). They stay on the list until [`StoreTx::finish_rule_checks`] in the same
    /// transaction commits, so a crash means they are looked at again.
    pub async fn take_rule_checks(&mut self, limit: u32) -> Result<Vec<MessageId>, StoreError> {
        let lock = match self.engine() {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let rows = query(&format!(
            "SELECT message_id FROM rule_checks ORDER BY message_id LIMIT $1 {lock}"
        ))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|row| Ok(MessageId(rows::get(row, "message_id")?)))
            .collect()
    }

    /// Takes messages off the rules' list.
    pub async fn finish_rule_checks(&mut self, ids: &[MessageId]) -> Result<(), StoreError> {
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let text = format!(
                "DELETE FROM rule_checks WHERE message_id IN ({})",
                placeholders.join(", ")
            );
            let mut statement = query(&text);
            for id in chunk {
                statement = statement.bind(id.get());
            }
            statement.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// Whether the author of a message is flagged (troll, spam or blocked), on this contact or
    /// any contact linked to the same person.
    pub async fn author_flagged(&mut self, message_id: MessageId) -> Result<bool, StoreError> {
        crate::conversations::author_flagged_on(self.conn(), message_id).await
    }
}
