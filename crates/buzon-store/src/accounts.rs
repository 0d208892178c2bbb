//! Users, API tokens and the audit log.

use crate::rows::{self, TOKEN_COLUMNS, USER_COLUMNS};
use crate::secrets::{generate_token, hash_token};
use crate::tx::one_transaction;
use crate::{Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::query;

impl Store {
    /// Replaces a user's password hash and ends their sessions. Returns false for an unknown
    /// email.
    pub async fn set_password(&self, email: &str, password_hash: &str) -> Result<bool, StoreError> {
        let email = parse_email(email)?;
        let result = query("UPDATE users SET password_hash = $1 WHERE email = $2")
            .bind(password_hash)
            .bind(&email)
            .execute(&self.write)
            .await?;
        query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE email = $1)")
            .bind(&email)
            .execute(&self.write)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The user with this id.
    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        user_on(&self.read, id).await
    }

    /// The user with this email and their password hash, for signing in.
    pub async fn user_for_login(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let Ok(email) = parse_email(email) else {
            return Ok(None);
        };
        let row = query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| Ok((rows::user(&row)?, rows::get(&row, "password_hash")?)))
            .transpose()
    }

    /// Every user, by email.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY email"))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(rows::user).collect()
    }

    /// The live token with this secret, if any; records its use. A token of a deactivated
    /// user is not live.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<ApiToken>, StoreError> {
        let row = query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id AND u.active = 1))"
        ))
        .bind(hash_token(secret))
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let token = rows::token(&row)?;
        let now = Timestamp::now();
        // Recording use is best effort and coarse (once a minute), to keep reads cheap.
        let stale = token
            .last_used_at
            .is_none_or(|used| now.as_millis() - used.as_millis() > 60_000);
        if stale {
            query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now.as_millis())
                .bind(token.id.get())
                .execute(&self.write)
                .await?;
        }
        Ok(Some(token))
    }

    /// Every token, newest first (never their secrets).
    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id DESC"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::token).collect()
    }

    /// Appends a line to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.audit(actor, action, target, detail).await?;
        tx.commit().await
    }

    /// The newest audit lines, optionally of one action.
    pub async fn list_audit(
        &self,
        action: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = query(
            "SELECT id, at, actor, action, target, detail FROM audit_log \
             WHERE ($1 IS NULL OR action = $1) ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(action)
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
}

impl StoreTx {
    /// The user with this id.
    pub async fn user(&mut self, id: UserId) -> Result<User, StoreError> {
        user_on(self.conn(), id).await
    }

    /// Adds a user with an already hashed password. A taken email is `Conflict`.
    pub async fn create_user(
        &mut self,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<User, StoreError> {
        let email = parse_email(email)?;
        let row = query(&format!(
            "INSERT INTO users (email, name, role, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) RETURNING {USER_COLUMNS}"
        ))
        .bind(&email)
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.conn())
        .await?;
        rows::user(&row)
    }

    /// Creates an API token; returns it with its only clear-text copy.
    pub async fn create_token(
        &mut self,
        name: &str,
        role: Role,
        user_id: Option<UserId>,
    ) -> Result<(ApiToken, String), StoreError> {
        if name.trim().is_empty() {
            return Err(DomainError::Empty("the token name").into());
        }
        let secret = generate_token();
        let row = query(&format!(
            "INSERT INTO api_tokens (name, role, user_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(name.trim())
        .bind(role.as_str())
        .bind(user_id.map(UserId::get))
        .bind(hash_token(&secret))
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.conn())
        .await?;
        Ok((rows::token(&row)?, secret))
    }
}

one_transaction! {
    /// Adds a user with an already hashed password. A taken email is `Conflict`.
    pub async fn create_user(&self, email: &str, name: &str, role: Role, password_hash: &str) -> Result<User, StoreError>;
    /// Creates an API token; returns it with its only clear-text copy.
    pub async fn create_token(&self, name: &str, role: Role, user_id: Option<UserId>) -> Result<(ApiToken, String), StoreError>;
}

/// The user with this id.
pub(crate) async fn user_on<'e, E>(executor: E, id: UserId) -> Result<User, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id.get())
        .fetch_one(executor)
        .await?;
    rows::user(&row)
}
