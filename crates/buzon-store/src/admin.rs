//! What admins change: users' roles and access, API tokens, channels' pause and publication,
//! OAuth sign-ins in progress, the filtered audit log, and re-encrypting every credential
//! under a new secret key.

use crate::channels::credentials_context;
use crate::rows::{self, CHANNEL_COLUMNS};
use crate::secrets::hash_token;
use crate::tx::one_transaction;
use crate::{Cipher, Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::query;

/// Where an OAuth sign-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthStage {
    /// The admin was sent to the consent page; the callback brings `state` back.
    Authorize,
    /// The platform granted accounts; the admin picks which to connect.
    Pick,
}

impl OAuthStage {
    fn as_str(self) -> &'static str {
        match self {
            OAuthStage::Authorize => "authorize",
            OAuthStage::Pick => "pick",
        }
    }
}

impl Store {
    /// How many active admins there are (the last one may not be demoted or deactivated).
    pub async fn active_admins(&self) -> Result<i64, StoreError> {
        active_admins_on(&self.read).await
    }

    /// The newest audit lines matching `filter`, newest first.
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut conditions = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut times: Vec<i64> = Vec::new();
        // Text parameters first ($1…), then times, so placeholders number in bind order.
        if let Some(actor) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
            texts.push(actor.to_owned());
            conditions.push(format!("actor = ${}", texts.len()));
        }
        if let Some(action) = filter.action.as_deref().filter(|a| !a.is_empty()) {
            let escaped = action
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            texts.push(format!("{escaped}%"));
            conditions.push(format!("action LIKE ${} ESCAPE '\\'", texts.len()));
        }
        if let Some(target) = filter.target.as_deref().filter(|t| !t.is_empty()) {
            texts.push(target.to_owned());
            conditions.push(format!("target = ${}", texts.len()));
        }
        for (bound, op) in [(filter.since, ">="), (filter.until, "<")] {
            if let Some(at) = bound {
                times.push(at.as_millis());
                conditions.push(format!("at {op} ${}", texts.len() + times.len()));
            }
        }
        if let Some((at, id)) = filter.after {
            times.push(at.as_millis());
            times.push(id.get());
            let (at, id) = (texts.len() + times.len() - 1, texts.len() + times.len());
            conditions.push(format!("(at < ${at} OR (at = ${at} AND id < ${id}))"));
        }
        let mut sql = "SELECT id, at, actor, action, target, detail FROM audit_log".to_owned();
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(&format!(
            " ORDER BY at DESC, id DESC LIMIT ${}",
            texts.len() + times.len() + 1
        ));
        let mut statement = query(&sql);
        for text in texts {
            statement = statement.bind(text);
        }
        for at in times {
            statement = statement.bind(at);
        }
        let rows = statement
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: AuditId(rows::get(row, "id")?),
                    at: rows::ts(row, "at")?,
                    actor: rows::get(row, "actor")?,
                    action: rows::get(row, "action")?,
                    target: rows::get(row, "target")?,
                    detail: rows::get(row, "detail")?,
                })
            })
            .collect()
    }

    /// Records until when the platform asked us to hold back (None: not limited).
    pub async fn set_channel_rate_limited(
        &self,
        id: ChannelId,
        until: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        query("UPDATE channels SET rate_limited_until = $1 WHERE id = $2")
            .bind(until.map(Timestamp::as_millis))
            .bind(id.get())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The rate-limit and error times of a channel.
    pub async fn channel_limits(&self, id: ChannelId) -> Result<ChannelLimits, StoreError> {
        let row = query("SELECT rate_limited_until, last_error_at FROM channels WHERE id = $1")
            .bind(id.get())
            .fetch_one(&self.read)
            .await?;
        Ok(ChannelLimits {
            rate_limited_until: rows::opt_ts(&row, "rate_limited_until")?,
            last_error_at: rows::opt_ts(&row, "last_error_at")?,
        })
    }

    /// Every channel with its rate-limit and error times.
    pub async fn list_channels_with_limits(
        &self,
    ) -> Result<Vec<(Channel, ChannelLimits)>, StoreError> {
        let rows = query(&format!(
            "SELECT {CHANNEL_COLUMNS}, rate_limited_until, last_error_at FROM channels ORDER BY id"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    rows::channel(row)?,
                    ChannelLimits {
                        rate_limited_until: rows::opt_ts(row, "rate_limited_until")?,
                        last_error_at: rows::opt_ts(row, "last_error_at")?,
                    },
                ))
            })
            .collect()
    }
}

fn flow_context(kind: ChannelKind, stage: OAuthStage, token_hash: &str) -> Vec<u8> {
    format!(
        "buzon:oauth:{}:{}:{token_hash}",
        kind.as_str(),
        stage.as_str()
    )
    .into_bytes()
}

fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl StoreTx {
    /// How many active admins there are (the last one may not be demoted or deactivated).
    pub async fn active_admins(&mut self) -> Result<i64, StoreError> {
        active_admins_on(self.conn()).await
    }

    /// Changes a user's role. Ending their sessions is not needed: roles are read per request.
    pub async fn set_user_role(&mut self, id: UserId, role: Role) -> Result<(), StoreError> {
        let result = query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(id.get())
            .execute(self.conn())
            .await?;
        found(result.rows_affected())
    }

    /// Activates or deactivates a user. Deactivating ends their sessions in the same
    /// transaction; their API tokens stop working because tokens of inactive users are refused.
    pub async fn set_user_active(&mut self, id: UserId, active: bool) -> Result<(), StoreError> {
        let result = query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(id.get())
            .execute(self.conn())
            .await?;
        found(result.rows_affected())?;
        if !active {
            query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id.get())
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Replaces a user's password hash and ends their sessions.
    pub async fn reset_user_password(
        &mut self,
        id: UserId,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let result = query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.get())
            .execute(self.conn())
            .await?;
        found(result.rows_affected())?;
        query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.get())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Revokes an API token at once. Revoking twice is harmless.
    pub async fn revoke_token(&mut self, id: TokenId) -> Result<(), StoreError> {
        let result =
            query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
                .bind(Timestamp::now().as_millis())
                .bind(id.get())
                .execute(self.conn())
                .await?;
        found(result.rows_affected())
    }

    /// Pauses a channel (no polls, no sends) or resumes it (health unknown until the next
    /// success).
    pub async fn set_channel_paused(
        &mut self,
        id: ChannelId,
        paused: bool,
    ) -> Result<(), StoreError> {
        let (health, reason) = if paused {
            (ChannelHealth::Paused, Some("paused by an admin"))
        } else {
            (ChannelHealth::Unknown, None)
        };
        let result = query("UPDATE channels SET health = $1, health_reason = $2 WHERE id = $3")
            .bind(health.as_str())
            .bind(reason)
            .bind(id.get())
            .execute(self.conn())
            .await?;
        found(result.rows_affected())
    }

    /// Turns the automatic hiding of flagged authors' new public messages on or off.
    pub async fn set_auto_hide_flagged(
        &mut self,
        id: ChannelId,
        on: bool,
    ) -> Result<(), StoreError> {
        let result = query("UPDATE channels SET auto_hide_flagged = $1 WHERE id = $2")
            .bind(i64::from(on))
            .bind(id.get())
            .execute(self.conn())
            .await?;
        found(result.rows_affected())
    }

    /// Whether a channel's response times appear on the public page.
    pub async fn set_channel_published(
        &mut self,
        id: ChannelId,
        published: bool,
    ) -> Result<(), StoreError> {
        let result = query("UPDATE channels SET published = $1 WHERE id = $2")
            .bind(i64::from(published))
            .bind(id.get())
            .execute(self.conn())
            .await?;
        found(result.rows_affected())
    }

    /// Connects a channel, or gives an already connected one new credentials (its health then
    /// starts over, unless an admin paused it). Returns the channel and whether it is new.
    pub async fn connect_channel(
        &mut self,
        kind: ChannelKind,
        name: &str,
        platform_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<(Channel, bool), StoreError> {
        match self
            .channel_by_platform_id(kind, platform_id.as_str())
            .await?
        {
            Some(existing) => {
                self.set_channel_credentials(existing.id, credentials)
                    .await?;
                if existing.health != ChannelHealth::Paused {
                    query("UPDATE channels SET health = 'unknown', health_reason = NULL WHERE id = $1")
                        .bind(existing.id.get())
                        .execute(self.conn())
                        .await?;
                }
                Ok((self.channel(existing.id).await?, false))
            }
            None => Ok((
                self.add_channel(kind, name, platform_id, credentials)
                    .await?,
                true,
            )),
        }
    }

    /// Remembers an OAuth sign-in in progress under `token` (the `state`, or a one-time pick
    /// token) for `user_id`, with `secret` sealed, until `expires_at`. Expired sign-ins are
    /// forgotten on the way.
    pub async fn save_oauth_flow(
        &mut self,
        kind: ChannelKind,
        stage: OAuthStage,
        token: &str,
        user_id: UserId,
        secret: &[u8],
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_millis();
        query("DELETE FROM oauth_flows WHERE expires_at < $1")
            .bind(now)
            .execute(self.conn())
            .await?;
        let token_hash = hash_token(token);
        let sealed = self
            .cipher()
            .seal(&flow_context(kind, stage, &token_hash), secret);
        query(
            "INSERT INTO oauth_flows (token_hash, kind, stage, user_id, sealed, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_hash)
        .bind(kind.as_str())
        .bind(stage.as_str())
        .bind(user_id.get())
        .bind(sealed)
        .bind(now)
        .bind(expires_at.as_millis())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The sealed secret of a live sign-in of `user_id` under `token`, consumed when `consume`
    /// (a `state` is good once). `None` for an unknown, expired or someone else's token.
    pub async fn oauth_flow(
        &mut self,
        kind: ChannelKind,
        stage: OAuthStage,
        token: &str,
        user_id: UserId,
        consume: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let token_hash = hash_token(token);
        let sql = if consume {
            "DELETE FROM oauth_flows WHERE token_hash = $1 AND kind = $2 AND stage = $3 \
             RETURNING user_id, sealed, expires_at"
        } else {
            "SELECT user_id, sealed, expires_at FROM oauth_flows WHERE token_hash = $1 AND kind = $2 AND stage = $3"
        };
        let row = query(sql)
            .bind(&token_hash)
            .bind(kind.as_str())
            .bind(stage.as_str())
            .fetch_optional(self.conn())
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let owner: i64 = rows::get(&row, "user_id")?;
        let expires_at = rows::ts(&row, "expires_at")?;
        if owner != user_id.get() || expires_at < Timestamp::now() {
            return Ok(None);
        }
        let sealed: Vec<u8> = rows::get(&row, "sealed")?;
        let secret = self
            .cipher()
            .open(&flow_context(kind, stage, &token_hash), &sealed)
            .map_err(|_| StoreError::Decrypt)?;
        Ok(Some(secret))
    }

    /// Re-encrypts every secret at rest — channel credentials, alert rules' webhook secrets,
    /// outgoing webhooks' signing secrets — from `current` (a ring: a secret may be under any
    /// of its keys) to `next`, in one transaction, and records `next` as the key secrets are
    /// sealed under (what fences every later write). If any does not open, nothing is written
    /// and the error is `Decrypt`. OAuth sign-ins in progress are dropped. Returns how many
    /// channel credentials were re-encrypted.
    pub async fn reseal_credentials(
        &mut self,
        current: &Cipher,
        next: &Cipher,
    ) -> Result<usize, StoreError> {
        let rows = query("SELECT id, kind, platform_id, credentials FROM channels ORDER BY id")
            .fetch_all(self.conn())
            .await?;
        let mut count = 0;
        for row in &rows {
            let id: i64 = rows::get(row, "id")?;
            let kind = ChannelKind::parse(&rows::get::<String>(row, "kind")?)?;
            let platform_id = rows::external_id(row, "platform_id")?;
            let sealed: Vec<u8> = rows::get(row, "credentials")?;
            let context = credentials_context(kind, &platform_id);
            query("UPDATE channels SET credentials = $1, credentials_key = $3 WHERE id = $2")
                .bind(reseal(current, next, &context, &sealed)?)
                .bind(id)
                .bind(next.key_id())
                .execute(self.conn())
                .await?;
            count += 1;
        }
        // The other secrets at rest: (table, column, the context each is bound to).
        let others: [(&str, &str, SecretContext); 2] = [
            (
                "alert_rules",
                "webhook_secret",
                crate::alerts::secret_context,
            ),
            (
                "event_subscriptions",
                "secret",
                crate::events_out::secret_context,
            ),
        ];
        for (table, column, context) in others {
            let rows = query(&format!(
                "SELECT id, {column} AS sealed FROM {table} WHERE {column} IS NOT NULL"
            ))
            .fetch_all(self.conn())
            .await?;
            for row in &rows {
                let id: i64 = rows::get(row, "id")?;
                let sealed: Vec<u8> = rows::get(row, "sealed")?;
                // A subscription's row is written before its secret (it binds the row's id).
                if sealed.is_empty() {
                    continue;
                }
                query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
                    .bind(reseal(current, next, &context(id), &sealed)?)
                    .bind(id)
                    .execute(self.conn())
                    .await?;
            }
        }
        let now = Timestamp::now().as_millis();
        query(
            "INSERT INTO team_settings (name, value, updated_at) VALUES ('credentials_key', $1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(next.key_id())
        .bind(now)
        .execute(self.conn())
        .await?;
        query("DELETE FROM oauth_flows")
            .execute(self.conn())
            .await?;
        Ok(count)
    }
}

/// The context a secret of a row (by id) is sealed with.
type SecretContext = fn(i64) -> Vec<u8>;

/// `sealed`, opened with `current` (a ring) and sealed again with `next`.
fn reseal(
    current: &Cipher,
    next: &Cipher,
    context: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let plaintext = current
        .open(context, sealed)
        .map_err(|_| StoreError::Decrypt)?;
    Ok(next.seal(context, &plaintext))
}

one_transaction! {
    /// Changes a user's role.
    pub async fn set_user_role(&self, id: UserId, role: Role) -> Result<(), StoreError>;
    /// Activates or deactivates a user; deactivation ends their sessions at once.
    pub async fn set_user_active(&self, id: UserId, active: bool) -> Result<(), StoreError>;
    /// Sets a new password hash and ends the user's sessions.
    pub async fn reset_user_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError>;
    /// Revokes a token (idempotent).
    pub async fn revoke_token(&self, id: TokenId) -> Result<(), StoreError>;
    /// Pauses a channel (no polls, no sends) or resumes it.
    pub async fn set_channel_paused(&self, id: ChannelId, paused: bool) -> Result<(), StoreError>;
    /// Whether a channel's response times appear on the public page.
    pub async fn set_channel_published(&self, id: ChannelId, published: bool) -> Result<(), StoreError>;
    /// Turns the automatic hiding of flagged authors' new public messages on or off.
    pub async fn set_auto_hide_flagged(&self, id: ChannelId, on: bool) -> Result<(), StoreError>;
    /// Connects a channel, or replaces the credentials of the same platform account when it
    /// is connected already. Returns the channel and whether it is new.
    pub async fn connect_channel(&self, kind: ChannelKind, name: &str, platform_id: &ExternalId, credentials: &ChannelCredentials) -> Result<(Channel, bool), StoreError>;
    /// Keeps an OAuth sign-in in progress: `token` (stored as a hash) names it, `secret` is
    /// sealed, and it lasts until `expires_at`.
    pub async fn save_oauth_flow(&self, kind: ChannelKind, stage: OAuthStage, token: &str, user_id: UserId, secret: &[u8], expires_at: Timestamp) -> Result<(), StoreError>;
    /// The secret of an OAuth sign-in in progress, if `token` names one of `user_id`'s that
    /// has not expired; `consume` deletes it (one use).
    pub async fn oauth_flow(&self, kind: ChannelKind, stage: OAuthStage, token: &str, user_id: UserId, consume: bool) -> Result<Option<Vec<u8>>, StoreError>;
    /// Re-seals every channel credential from `current` to `next`, in one transaction; if
    /// any does not open, nothing changes. Returns how many.
    pub async fn reseal_credentials(&self, current: &Cipher, next: &Cipher) -> Result<usize, StoreError>;
}

/// How many active admins there are (the last one may not be demoted or deactivated).
pub(crate) async fn active_admins_on<'e, E>(executor: E) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = 1")
        .fetch_one(executor)
        .await?;
    rows::get(&row, "n")
}

impl StoreTx {
    /// Records that something arrived for a channel (a webhook or a polled page), without
    /// changing its health. Written at most once a minute per channel.
    pub async fn touch_channel(&mut self, id: ChannelId) -> Result<(), StoreError> {
        let now = Timestamp::now().as_millis();
        query(
            "UPDATE channels SET last_success_at = $1 WHERE id = $2 \
             AND (last_success_at IS NULL OR last_success_at < $3)",
        )
        .bind(now)
        .bind(id.get())
        .bind(now - 60_000)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

one_transaction! {
    /// The same as [`StoreTx::touch_channel`], in a transaction of its own.
    pub async fn touch_channel(&self, id: ChannelId) -> Result<(), StoreError>;
}
