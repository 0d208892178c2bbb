//! Keeping the database from growing without bound, and consistent copies of it.

use crate::{Engine, Store, StoreError};
use buzon_core::Timestamp;
use sqlx::{query, Executor};
use std::path::Path;

/// Rows removed at most per statement, so pruning never holds the writer for long.
const PRUNE_STEP: i64 = 5_000;

/// How long finished work is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Processed raw deliveries (`done`), in milliseconds. Failed and unparsed ones are kept
    /// until they are replayed or dismissed.
    pub events_millis: i64,
    /// Outbox rows that were sent or failed for good, in milliseconds. Rows of unknown outcome
    /// are kept until someone settles them.
    pub outbox_millis: i64,
}

/// What one round of pruning removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    /// Processed raw deliveries.
    pub events: u64,
    /// Finished outbox rows.
    pub outbox: u64,
    /// Expired sessions and old failed sign-ins.
    pub sessions: u64,
}

impl Store {
    /// Removes processed deliveries, finished outbox rows, expired sessions and failed sign-ins
    /// older than `retention`, a step at a time. Safe on several nodes at once.
    pub async fn prune(&self, now: Timestamp, retention: Retention) -> Result<Pruned, StoreError> {
        let mut pruned = Pruned::default();
        let events_before = now.as_millis() - retention.events_millis;
        let outbox_before = now.as_millis() - retention.outbox_millis;
        loop {
            let removed = query(
                "DELETE FROM inbound_events WHERE id IN (SELECT id FROM inbound_events \
                 WHERE state = 'done' AND processed_at < $1 LIMIT $2)",
            )
            .bind(events_before)
            .bind(PRUNE_STEP)
            .execute(&self.write)
            .await?
            .rows_affected();
            pruned.events += removed;
            if removed < PRUNE_STEP as u64 {
                break;
            }
        }
        loop {
            let removed = query(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                 WHERE state IN ('sent', 'failed') AND updated_at < $1 LIMIT $2)",
            )
            .bind(outbox_before)
            .bind(PRUNE_STEP)
            .execute(&self.write)
            .await?
            .rows_affected();
            pruned.outbox += removed;
            if removed < PRUNE_STEP as u64 {
                break;
            }
        }
        // Statuses of sends buzon never recorded (another system's, or lost) are not kept long.
        // A removal kept while another node stored its object (PostgreSQL) is applied here at
        // the latest, when no batch did it since.
        let mut tx = self.begin().await?;
        tx.apply_early_removals().await?;
        tx.commit().await?;
        // The same for removals of objects that never came.
        for table in ["early_statuses", "early_removals"] {
            query(&format!("DELETE FROM {table} WHERE received_at < $1"))
                .bind(now.as_millis() - 7 * 24 * 60 * 60 * 1000)
                .execute(&self.write)
                .await?;
        }
        pruned.sessions += query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now.as_millis())
            .execute(&self.write)
            .await?
            .rows_affected();
        pruned.sessions += query("DELETE FROM login_failures WHERE at < $1")
            .bind(now.as_millis() - 24 * 60 * 60 * 1000)
            .execute(&self.write)
            .await?
            .rows_affected();
        Ok(pruned)
    }

    /// Writes a consistent copy of a SQLite database to `path` (a new file), while buzon
    /// keeps running: `VACUUM INTO` reads one snapshot. PostgreSQL is backed up with
    /// `pg_dump` instead.
    pub async fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        if self.engine() == Engine::Postgres {
            return Err(StoreError::InvalidUrl(
                "buzon backup copies SQLite databases; back PostgreSQL up with pg_dump".into(),
            ));
        }
        if path.exists() {
            return Err(StoreError::InvalidUrl(format!(
                "{} exists already: a backup never overwrites a file",
                path.display()
            )));
        }
        let target = path.to_string_lossy().replace('\'', "''");
        let mut connection = self.read.acquire().await?;
        connection
            .execute(format!("VACUUM INTO '{target}'").as_str())
            .await?;
        Ok(())
    }
}
