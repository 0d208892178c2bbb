//! buzon-store: everything buzon keeps, in SQLite (one file, the default) or PostgreSQL (any
//! number of nodes), behind one [`Store`]. This is the only crate with SQL in it.
//!
//! It knows no HTTP and no platform: it stores and returns `buzon-core` values. Both engines
//! run the same statements through sqlx's `Any` driver (placeholders are `$N`, times are
//! integer milliseconds, flags are integers); where the dialects differ (`FOR UPDATE SKIP
//! LOCKED`, full-text search) the SQL is chosen per [`Engine`]. Migrations for each engine
//! live under `migrations/` and are embedded in the binary.

#![forbid(unsafe_code)]

mod accounts;
mod admin;
mod alerts;
mod channels;
mod conversations;
mod error;
mod events_out;
mod incidents;
mod ingest;
mod listening;
mod maintenance;
mod migrations;
mod profiles;
mod queues;
mod reports;
mod rows;
pub mod secrets;
mod seed;
mod service;
mod tx;
mod web;
mod working;

pub use admin::OAuthStage;
pub use alerts::{AlertDelivery, NewAlertDelivery, StoredAlertRule};
pub use buzon_core::{AuditFilter, ChannelLimits, Note, QueueDepths, ReplyTemplate};
pub use error::StoreError;
pub use events_out::{EventDelivery, EventSubscription, StoredStatusChange};
pub use incidents::{RecentMessage, StoredIncident};
pub use listening::{ListeningVolume, SavedSearch, SearchRun, WatchedFind};
pub use maintenance::{Pruned, Retention};
pub use profiles::ProfileRequest;
pub use queues::{
    BatchWritten, ClaimedEvent, ClaimedOutbox, EventEnd, EventResult, EventWrite, QueuedReply,
};
pub use reports::{StatusChange, API_AGENT};
pub use secrets::{Cipher, CipherError, KeyLoader};
pub use seed::{PastConversation, PastMessage};
pub use service::{ChannelService, TEAM_BUSINESS_HOURS};
pub use tx::StoreTx;
pub use web::{LoginFailures, Session};
pub use working::{CannedReplyInput, CannedUse, Escalation, EscalationRule, SatisfactionAnswer};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The database engine behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One SQLite file in WAL mode; writes go through a single connection.
    Sqlite,
    /// A PostgreSQL server shared by any number of nodes.
    Postgres,
}

/// A database URL that buzon understands, checked before anything connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    engine: Engine,
    url: String,
    sqlite_path: Option<PathBuf>,
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH` (relative or absolute) and `postgres://…`/`postgresql://…`.
    pub fn parse(raw: &str) -> Result<DatabaseUrl, StoreError> {
        let raw = raw.trim();
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path.starts_with(':') {
                return Err(StoreError::InvalidUrl(
                    "a sqlite URL needs a file path, e.g. sqlite://data/buzon.db".into(),
                ));
            }
            return Ok(DatabaseUrl {
                engine: Engine::Sqlite,
                url: format!("sqlite://{path}?mode=rwc"),
                sqlite_path: Some(PathBuf::from(path)),
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            // Let the PostgreSQL driver judge the rest, without connecting.
            sqlx::postgres::PgConnectOptions::from_str(raw).map_err(|err| {
                StoreError::InvalidUrl(format!(
                    "malformed postgres URL: {}",
                    redact(&err.to_string())
                ))
            })?;
            let after_scheme = raw.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            if after_scheme.is_empty() || after_scheme.starts_with('/') && !raw.contains("host=") {
                return Err(StoreError::InvalidUrl(
                    "malformed postgres URL: it names no host".into(),
                ));
            }
            return Ok(DatabaseUrl {
                engine: Engine::Postgres,
                url: raw.to_owned(),
                sqlite_path: None,
            });
        }
        Err(StoreError::InvalidUrl(
            "the database URL must start with sqlite:// or postgres://".into(),
        ))
    }

    /// Which engine the URL selects.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The SQLite file, for a sqlite URL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref()
    }
}

/// How long a request may wait for a database connection before the store reports it down.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The one way into buzon's data.
#[derive(Clone)]
pub struct Store {
    engine: Engine,
    /// Writes. On SQLite a single connection, so that writers queue instead of failing busy.
    write: AnyPool,
    /// Reads. On PostgreSQL the same pool as `write`.
    read: AnyPool,
    cipher: Cipher,
    /// The PostgreSQL URL, for the connection that listens to other nodes' changes.
    listen_url: Option<std::sync::Arc<str>>,
}

/// Changes committed by any node of a PostgreSQL installation (`LISTEN buzon_activity`; see
/// migration 0014). SQLite has none: one process writes, and signals itself in memory.
pub struct ActivityListener(sqlx::postgres::PgListener);

impl ActivityListener {
    /// Waits for the next committed change. After a lost connection it reconnects by itself
    /// (a change made meanwhile may be missed: callers keep a slow poll as well).
    pub async fn next(&mut self) -> Result<(), StoreError> {
        self.0.recv().await?;
        Ok(())
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Store")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database (creating a SQLite file and its folder when missing). Does not
    /// migrate: call [`Store::migrate`].
    pub async fn connect(url: &DatabaseUrl, cipher: Cipher) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        match url.engine {
            Engine::Sqlite => {
                if let Some(folder) = url.sqlite_path().and_then(Path::parent) {
                    if !folder.as_os_str().is_empty() {
                        std::fs::create_dir_all(folder).map_err(|err| {
                            StoreError::InvalidUrl(format!(
                                "cannot create the database folder {}: {err}",
                                folder.display()
                            ))
                        })?;
                    }
                }
                // The writer syncs every commit to disk (a webhook is acknowledged only once
                // its body is); group commit keeps that fast. Readers need no syncing.
                let write = sqlite_pool(&url.url, 1, "FULL").await?;
                let read = sqlite_pool(&url.url, 4, "NORMAL").await?;
                Ok(Store {
                    engine: Engine::Sqlite,
                    write,
                    read,
                    cipher,
                    listen_url: None,
                })
            }
            Engine::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .min_connections(0)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy(&url.url)?;
                Ok(Store {
                    engine: Engine::Postgres,
                    write: pool.clone(),
                    read: pool,
                    cipher,
                    listen_url: Some(url.url.as_str().into()),
                })
            }
        }
    }

    /// Applies the pending migrations of this engine. Safe to run from several nodes at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::run(self.engine, &self.write).await
    }

    /// The engine behind this store.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// A listener for the changes every node commits, on PostgreSQL; `None` on SQLite.
    pub async fn activity_listener(&self) -> Result<Option<ActivityListener>, StoreError> {
        let Some(url) = &self.listen_url else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen("buzon_activity").await?;
        Ok(Some(ActivityListener(listener)))
    }

    /// Checks that the database answers, for `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.read.acquire().await?;
        connection.execute("SELECT 1").await?;
        Ok(())
    }

    /// Closes every connection, waiting for the ones in use.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    pub(crate) fn cipher(&self) -> &Cipher {
        &self.cipher
    }
}

async fn sqlite_pool(
    url: &str,
    connections: u32,
    synchronous: &'static str,
) -> Result<AnyPool, StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |connection, _meta| {
            Box::pin(async move {
                connection
                    .execute(
                        format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
                             PRAGMA busy_timeout = 15000; PRAGMA foreign_keys = ON;"
                        )
                        .as_str(),
                    )
                    .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?;
    Ok(pool)
}

/// Removes a password from text that may quote a database URL.
fn redact(text: &str) -> String {
    match (text.find("://"), text.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://[redacted]{}", &text[..scheme], &text[at..])
        }
        _ => text.to_owned(),
    }
}

pub(crate) type Row = AnyRow;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_checked_before_connecting() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/buzon.db")
                .unwrap()
                .engine(),
            Engine::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1:5432/test")
                .unwrap()
                .engine(),
            Engine::Postgres
        );
        for bad in [
            "mysql://localhost/db",
            "sqlite://",
            "sqlite::memory:",
            "postgres://",
            "postgres://user@host:notaport/db",
            "buzon.db",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords_are_redacted_from_error_text() {
        assert_eq!(
            redact("postgres://user:hunter2@db/x"),
            "postgres://[redacted]@db/x"
        );
    }
}
