//! Channels, their encrypted credentials, health, poller leases and cursors.

use crate::rows::{self, CHANNEL_COLUMNS};
use crate::tx::one_transaction;
use crate::{Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::query;

/// The context a channel's credentials are sealed under: a ciphertext copied to another
/// channel's row does not open.
pub(crate) fn credentials_context(kind: ChannelKind, platform_id: &ExternalId) -> Vec<u8> {
    format!("buzon:channel:{}:{}", kind.as_str(), platform_id.as_str()).into_bytes()
}

impl Store {
    /// Every channel, by id.
    pub async fn list_channels(&self) -> Result<Vec<Channel>, StoreError> {
        let rows = query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY id"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::channel).collect()
    }

    /// The channel with this id.
    pub async fn channel(&self, id: ChannelId) -> Result<Channel, StoreError> {
        channel_on(&self.read, id).await
    }

    /// The channel of this kind for this platform account, if connected.
    pub async fn channel_by_platform_id(
        &self,
        kind: ChannelKind,
        platform_id: &str,
    ) -> Result<Option<Channel>, StoreError> {
        channel_by_platform_id_on(&self.read, kind, platform_id).await
    }

    /// Opens a channel's credentials.
    pub async fn channel_credentials(
        &self,
        id: ChannelId,
    ) -> Result<ChannelCredentials, StoreError> {
        let row = query("SELECT kind, platform_id, credentials FROM channels WHERE id = $1")
            .bind(id.get())
            .fetch_one(&self.read)
            .await?;
        let kind = ChannelKind::parse(&rows::get::<String>(&row, "kind")?)?;
        let platform_id = rows::external_id(&row, "platform_id")?;
        let sealed: Vec<u8> = rows::get(&row, "credentials")?;
        let plaintext = self
            .cipher()
            .open(&credentials_context(kind, &platform_id), &sealed)
            .map_err(|_| StoreError::Decrypt)?;
        serde_json::from_slice(&plaintext).map_err(|_| StoreError::Decrypt)
    }

    /// Takes or renews the poller lease of a channel for `owner` until `until`. Returns
    /// whether `owner` holds it: only one live holder at a time, across all nodes.
    pub async fn acquire_poll_lease(
        &self,
        channel_id: ChannelId,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = query(
            "INSERT INTO channel_leases (channel_id, owner, lease_until) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until \
             WHERE channel_leases.owner = excluded.owner OR channel_leases.lease_until < $4",
        )
        .bind(channel_id.get())
        .bind(owner)
        .bind(until.as_millis())
        .bind(now.as_millis())
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives up a poller lease, so another node can take it at once.
    pub async fn release_poll_lease(
        &self,
        channel_id: ChannelId,
        owner: &str,
    ) -> Result<(), StoreError> {
        query("DELETE FROM channel_leases WHERE channel_id = $1 AND owner = $2")
            .bind(channel_id.get())
            .bind(owner)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Saves a poller's cursor, only while `owner` still holds the channel's lease (a node that
    /// lost its lease cannot move the cursor back). Returns whether it was saved.
    pub async fn save_cursor(
        &self,
        channel_id: ChannelId,
        owner: &str,
        now: Timestamp,
        cursor: &str,
    ) -> Result<bool, StoreError> {
        let result = query(
            "UPDATE channels SET cursor = $1 WHERE id = $2 AND EXISTS (SELECT 1 FROM channel_leases l \
             WHERE l.channel_id = $2 AND l.owner = $3 AND l.lease_until >= $4)",
        )
        .bind(cursor)
        .bind(channel_id.get())
        .bind(owner)
        .bind(now.as_millis())
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

impl StoreTx {
    /// The channel with this id.
    pub async fn channel(&mut self, id: ChannelId) -> Result<Channel, StoreError> {
        channel_on(self.conn(), id).await
    }

    /// The channel of this kind for this platform account, if connected.
    pub async fn channel_by_platform_id(
        &mut self,
        kind: ChannelKind,
        platform_id: &str,
    ) -> Result<Option<Channel>, StoreError> {
        channel_by_platform_id_on(self.conn(), kind, platform_id).await
    }

    /// Connects a channel, sealing its credentials. The same platform account twice is
    /// `Conflict`.
    pub async fn add_channel(
        &mut self,
        kind: ChannelKind,
        name: &str,
        platform_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<Channel, StoreError> {
        if credentials.access_token.trim().is_empty() {
            return Err(DomainError::Empty("the access token").into());
        }
        let name = if name.trim().is_empty() {
            format!("{} {}", kind.as_str(), platform_id.as_str())
        } else {
            bound_text(name.trim(), MAX_NAME_BYTES)
        };
        let plaintext = serde_json::to_vec(credentials).expect("credentials serialize to JSON");
        let key = self.current_key().await?;
        let sealed = self
            .cipher()
            .seal(&credentials_context(kind, platform_id), &plaintext);
        let row = query(&format!(
            "INSERT INTO channels (kind, name, platform_id, credentials, credentials_key, health, created_at) \
             VALUES ($1, $2, $3, $4, $6, 'unknown', $5) RETURNING {CHANNEL_COLUMNS}"
        ))
        .bind(kind.as_str())
        .bind(name)
        .bind(platform_id.as_str())
        .bind(sealed)
        .bind(Timestamp::now().as_millis())
        .bind(key)
        .fetch_one(self.conn())
        .await?;
        rows::channel(&row)
    }

    /// Replaces a channel's credentials (a fixed or refreshed token), sealed under the
    /// current key. The write is fenced by the key: it applies only while the row is sealed
    /// under the key this node seals with (or under none named), so a node that has not heard
    /// of a rotation cannot put back a secret under the old key; it reads the current key
    /// again and retries once.
    pub async fn set_channel_credentials(
        &mut self,
        id: ChannelId,
        credentials: &ChannelCredentials,
    ) -> Result<(), StoreError> {
        let channel = self.channel(id).await?;
        let plaintext = serde_json::to_vec(credentials).expect("credentials serialize to JSON");
        for _ in 0..2 {
            let key = self.current_key().await?;
            let sealed = self.cipher().seal(
                &credentials_context(channel.kind, &channel.platform_id),
                &plaintext,
            );
            let written = query(
                "UPDATE channels SET credentials = $1, credentials_key = $3, \
                 credentials_version = credentials_version + 1 \
                 WHERE id = $2 AND (credentials_key IS NULL OR credentials_key = $3)",
            )
            .bind(sealed)
            .bind(id.get())
            .bind(&key)
            .execute(self.conn())
            .await?;
            if written.rows_affected() == 1 {
                return Ok(());
            }
        }
        Err(StoreError::KeyUnavailable)
    }

    /// Records how a channel is doing. `Healthy` also records the time of the success,
    /// `Unhealthy` the time of the failure. A paused channel stays paused (only an admin
    /// resumes it).
    pub async fn set_channel_health(
        &mut self,
        id: ChannelId,
        health: ChannelHealth,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let success_at = (health == ChannelHealth::Healthy).then(|| Timestamp::now().as_millis());
        let error_at = (health == ChannelHealth::Unhealthy).then(|| Timestamp::now().as_millis());
        query(
            "UPDATE channels SET health = $1, health_reason = $2, \
             last_success_at = COALESCE($3, last_success_at), \
             last_error_at = COALESCE($5, last_error_at) \
             WHERE id = $4 AND (health <> 'paused' OR $1 = 'paused')",
        )
        .bind(health.as_str())
        .bind(reason.map(|reason| bound_text(reason, 1000)))
        .bind(success_at)
        .bind(id.get())
        .bind(error_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

one_transaction! {
    /// Connects a channel, sealing its credentials. The same platform account twice is
    /// `Conflict`.
    pub async fn add_channel(&self, kind: ChannelKind, name: &str, platform_id: &ExternalId, credentials: &ChannelCredentials) -> Result<Channel, StoreError>;
    /// Replaces a channel's credentials (a fixed or refreshed token).
    pub async fn set_channel_credentials(&self, id: ChannelId, credentials: &ChannelCredentials) -> Result<(), StoreError>;
    /// Records how a channel is doing. `Healthy` also records the time of the success,
    /// `Unhealthy` the time of the failure. A paused channel stays paused (only an admin
    /// resumes it).
    pub async fn set_channel_health(&self, id: ChannelId, health: ChannelHealth, reason: Option<&str>) -> Result<(), StoreError>;
}

/// The channel with this id.
pub(crate) async fn channel_on<'e, E>(executor: E, id: ChannelId) -> Result<Channel, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1"
    ))
    .bind(id.get())
    .fetch_one(executor)
    .await?;
    rows::channel(&row)
}

/// The channel of this kind for this platform account, if connected.
pub(crate) async fn channel_by_platform_id_on<'e, E>(
    executor: E,
    kind: ChannelKind,
    platform_id: &str,
) -> Result<Option<Channel>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels WHERE kind = $1 AND platform_id = $2"
    ))
    .bind(kind.as_str())
    .bind(platform_id)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(rows::channel).transpose()
}
