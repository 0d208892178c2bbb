//! Web sessions, login throttling, internal notes, reply templates and moderation jobs.

use crate::rows::{self, OUTBOX_COLUMNS, USER_COLUMNS};
use crate::secrets::hash_token;
use crate::tx::one_transaction;
use crate::{Store, StoreError, StoreTx};
use buzon_core::*;
use sqlx::query;

/// A signed-in user's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user (active: sessions of deactivated users are never returned).
    pub user: User,
    /// The token every form of this session must carry.
    pub csrf_token: String,
}

/// Failed sign-ins in the throttling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    /// For this email from this address.
    pub pair: i64,
    /// The latest of those.
    pub pair_last: Option<Timestamp>,
    /// For this email from any address.
    pub by_email: i64,
    /// The latest of those.
    pub email_last: Option<Timestamp>,
    /// From this address for any email.
    pub by_address: i64,
}

impl Store {
    /// The live session for a cookie value: not expired, and its user active.
    pub async fn session(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let columns = USER_COLUMNS
            .split(", ")
            .map(|column| format!("u.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = query(&format!(
            "SELECT {columns}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        ))
        .bind(hash_token(secret))
        .bind(now.as_millis())
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok(Session {
                user: rows::user(&row)?,
                csrf_token: rows::get(&row, "csrf_token")?,
            })
        })
        .transpose()
    }

    /// The notes of a conversation, oldest first.
    pub async fn notes(&self, conversation_id: ConversationId) -> Result<Vec<Note>, StoreError> {
        let rows = query("SELECT user_id, text, created_at FROM notes WHERE conversation_id = $1 ORDER BY created_at, id")
            .bind(conversation_id.get())
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Note {
                    user_id: rows::get::<Option<i64>>(row, "user_id")?.map(UserId),
                    text: rows::get(row, "text")?,
                    created_at: rows::ts(row, "created_at")?,
                })
            })
            .collect()
    }

    /// Adds an approved template.
    pub async fn add_template(
        &self,
        kind: ChannelKind,
        name: &str,
        language: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        if name.trim().is_empty() || language.trim().is_empty() {
            return Err(DomainError::Empty("the template name and language").into());
        }
        query("INSERT INTO reply_templates (kind, name, language, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(kind.as_str())
            .bind(name.trim())
            .bind(language.trim())
            .bind(bound_text(body, 4096))
            .bind(Timestamp::now().as_millis())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The approved templates of a platform.
    pub async fn templates(&self, kind: ChannelKind) -> Result<Vec<ReplyTemplate>, StoreError> {
        templates_on(&self.read, kind).await
    }
}

impl Store {
    /// A version of the shared activity that changes whenever a message arrives, a reply is
    /// queued or sent, or a conversation changes: live views compare it.
    pub async fn activity_version(&self) -> Result<String, StoreError> {
        let row = query(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM messages) AS messages, \
             (SELECT COALESCE(MAX(changed), 0) FROM messages) AS changed, \
             (SELECT COALESCE(MAX(updated_at), 0) FROM outbox) AS outbox, \
             (SELECT COALESCE(MAX(id), 0) FROM audit_log) AS changes",
        )
        .fetch_one(&self.read)
        .await?;
        let messages: i64 = rows::get(&row, "messages")?;
        let changed: i64 = rows::get(&row, "changed")?;
        let outbox: i64 = rows::get(&row, "outbox")?;
        let changes: i64 = rows::get(&row, "changes")?;
        Ok(format!("{messages}:{changed}:{outbox}:{changes}"))
    }
}

impl StoreTx {
    /// The approved templates of a platform.
    pub async fn templates(&mut self, kind: ChannelKind) -> Result<Vec<ReplyTemplate>, StoreError> {
        templates_on(self.conn(), kind).await
    }

    /// Registers an approved template; the same name and language twice is `Conflict`.
    /// Returns its id.
    pub async fn insert_template(
        &mut self,
        kind: ChannelKind,
        name: &str,
        language: &str,
        body: &str,
    ) -> Result<i64, StoreError> {
        let row = query(
            "INSERT INTO reply_templates (kind, name, language, body, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(name)
        .bind(language)
        .bind(bound_text(body, 4096))
        .bind(Timestamp::now().as_millis())
        .fetch_one(self.conn())
        .await?;
        rows::get(&row, "id")
    }

    /// Forgets a template (`NotFound` when there is none).
    pub async fn delete_template(&mut self, id: i64) -> Result<(), StoreError> {
        let result = query("DELETE FROM reply_templates WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Adds an internal note.
    pub async fn add_note(
        &mut self,
        conversation_id: ConversationId,
        user_id: Option<UserId>,
        text: &str,
    ) -> Result<(), StoreError> {
        query("INSERT INTO notes (conversation_id, user_id, text, created_at) VALUES ($1, $2, $3, $4)")
            .bind(conversation_id.get())
            .bind(user_id.map(UserId::get))
            .bind(bound_text(text, 16 * 1024))
            .bind(Timestamp::now().as_millis())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Queues a hide or unhide of `message_id` on the platform (never done inside a request).
    pub async fn queue_moderation(
        &mut self,
        message_id: MessageId,
        action: ModerationAction,
    ) -> Result<OutboxItem, StoreError> {
        let message = self.message(message_id).await?;
        let platform_id = message.platform_id.ok_or(StoreError::NotFound)?;
        let now = Timestamp::now().as_millis();
        let payload = OutboxPayload::Moderate(ModerationPayload {
            action,
            platform_id,
        });
        let key = format!(
            "moderate:{}:{}:{now}:{:08x}",
            message_id.get(),
            action.as_str(),
            rand::random::<u32>()
        );
        let row = query(&format!(
            "INSERT INTO outbox (message_id, kind, conversation_id, channel_id, idempotency_key, payload, state, \
             attempts, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7, $7) \
             RETURNING {OUTBOX_COLUMNS}"
        ))
        .bind(message_id.get())
        .bind(payload.kind())
        .bind(message.conversation_id.get())
        .bind(message.channel_id.get())
        .bind(key)
        .bind(payload.to_json())
        .bind(now)
        .fetch_one(self.conn())
        .await?;
        rows::outbox(&row)
    }

    /// Opens a session for `user_id` lasting until `expires_at`; returns the cookie value
    /// (stored only as a hash) and the session's CSRF token.
    pub async fn create_session(
        &mut self,
        user_id: UserId,
        expires_at: Timestamp,
    ) -> Result<(String, String), StoreError> {
        let secret = crate::secrets::generate_token();
        let csrf = crate::secrets::generate_token();
        query("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(hash_token(&secret))
            .bind(user_id.get())
            .bind(&csrf)
            .bind(Timestamp::now().as_millis())
            .bind(expires_at.as_millis())
            .execute(self.conn())
            .await?;
        Ok((secret, csrf))
    }

    /// Ends a session.
    pub async fn delete_session(&mut self, secret: &str) -> Result<(), StoreError> {
        query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(hash_token(secret))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Serializes the sign-ins of one email for the rest of the transaction (PostgreSQL: an
    /// advisory lock; SQLite's one writer already does), so that counting the failures and
    /// recording a new attempt happen as one step.
    pub async fn lock_login(&mut self, email: &str) -> Result<(), StoreError> {
        if self.engine() == crate::Engine::Postgres {
            query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7301))")
                .bind(format!("login:{}", email.trim().to_lowercase()))
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Failed sign-ins since `since`, in this transaction.
    pub async fn login_failures(
        &mut self,
        email: &str,
        ip: &str,
        since: Timestamp,
    ) -> Result<LoginFailures, StoreError> {
        let row = query(
            "SELECT (SELECT COUNT(*) FROM login_failures WHERE email = $1 AND ip = $2 AND at > $3) AS pair, \
             (SELECT MAX(at) FROM login_failures WHERE email = $1 AND ip = $2 AND at > $3) AS pair_last, \
             (SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at > $3) AS by_email, \
             (SELECT MAX(at) FROM login_failures WHERE email = $1 AND at > $3) AS email_last, \
             (SELECT COUNT(*) FROM login_failures WHERE ip = $2 AND at > $3) AS by_ip",
        )
        .bind(email.trim().to_lowercase())
        .bind(ip)
        .bind(since.as_millis())
        .fetch_one(self.conn())
        .await?;
        Ok(LoginFailures {
            pair: rows::get(&row, "pair")?,
            pair_last: rows::opt_ts(&row, "pair_last")?,
            by_email: rows::get(&row, "by_email")?,
            email_last: rows::opt_ts(&row, "email_last")?,
            by_address: rows::get(&row, "by_ip")?,
        })
    }

    /// Records a failed sign-in.
    pub async fn record_login_failure(&mut self, email: &str, ip: &str) -> Result<(), StoreError> {
        query("INSERT INTO login_failures (email, ip, at) VALUES ($1, $2, $3)")
            .bind(email.trim().to_lowercase())
            .bind(ip)
            .bind(Timestamp::now().as_millis())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Forgets the failed sign-ins of an email after a successful one.
    pub async fn clear_login_failures(&mut self, email: &str) -> Result<(), StoreError> {
        query("DELETE FROM login_failures WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Queues a hide (`true`) or unhide of a message on the platform.
    pub async fn queue_moderation(
        &self,
        message_id: MessageId,
        hide: bool,
    ) -> Result<OutboxItem, StoreError> {
        let action = if hide {
            ModerationAction::Hide
        } else {
            ModerationAction::Unhide
        };
        let mut tx = self.begin().await?;
        let item = tx.queue_moderation(message_id, action).await?;
        tx.commit().await?;
        Ok(item)
    }
}

one_transaction! {
    /// Opens a session for `user_id` lasting until `expires_at`; returns the cookie value
    /// (stored only as a hash) and the session's CSRF token.
    pub async fn create_session(&self, user_id: UserId, expires_at: Timestamp) -> Result<(String, String), StoreError>;
    /// Ends a session.
    pub async fn delete_session(&self, secret: &str) -> Result<(), StoreError>;
    /// Records a failed sign-in.
    pub async fn record_login_failure(&self, email: &str, ip: &str) -> Result<(), StoreError>;
    /// Forgets the failed sign-ins of an email after a successful one.
    pub async fn clear_login_failures(&self, email: &str) -> Result<(), StoreError>;
    /// Adds an internal note.
    pub async fn add_note(&self, conversation_id: ConversationId, user_id: Option<UserId>, text: &str) -> Result<(), StoreError>;
}

/// The approved templates of a platform.
pub(crate) async fn templates_on<'e, E>(
    executor: E,
    kind: ChannelKind,
) -> Result<Vec<ReplyTemplate>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = query("SELECT id, kind, name, language, body FROM reply_templates WHERE kind = $1 ORDER BY name, language")
            .bind(kind.as_str())
            .fetch_all(executor)
            .await?;
    rows.iter()
        .map(|row| {
            Ok(ReplyTemplate {
                id: rows::get(row, "id")?,
                kind: ChannelKind::parse(&rows::get::<String>(row, "kind")?)?,
                name: rows::get(row, "name")?,
                language: rows::get(row, "language")?,
                body: rows::get(row, "body")?,
            })
        })
        .collect()
}
