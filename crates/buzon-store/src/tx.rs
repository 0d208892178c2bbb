//! Transactions: a use case writes its change and its audit line through one [`StoreTx`] and
//! commits once, so a crash or a failed audit line leaves nothing half-done. The `Store`
//! methods of the same names are each one transaction of their own.

use crate::{Cipher, Engine, Store, StoreError};
use buzon_core::Timestamp;
use sqlx::{query, Any, AnyConnection, Transaction};

/// One open transaction on the store's writer. Dropped without [`StoreTx::commit`], it rolls
/// back. Never hold one across a platform call.
pub struct StoreTx {
    tx: Transaction<'static, Any>,
    cipher: Cipher,
    engine: Engine,
}

impl std::fmt::Debug for StoreTx {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StoreTx")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens a transaction. On SQLite it holds the single writer until it ends, so keep it
    /// short: read what a decision needs, write, audit, commit. It takes the writer at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails at once
    /// with "database is locked" when another process (the command line beside a running
    /// server) wrote in between, where an immediate one waits its turn (`busy_timeout`).
    pub async fn begin(&self) -> Result<StoreTx, StoreError> {
        let tx = match self.engine {
            crate::Engine::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            crate::Engine::Postgres => self.write.begin().await?,
        };
        Ok(StoreTx {
            tx,
            cipher: self.cipher().clone(),
            engine: self.engine,
        })
    }
}

impl StoreTx {
    /// Makes every write of the transaction durable at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Appends a line to the audit log, in this transaction: it commits with the change it
    /// records, or neither does.
    pub async fn audit(
        &mut self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(Timestamp::now().as_millis())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail.to_string())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The engine behind the transaction.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub(crate) fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    /// The fingerprint of the key secrets are sealed under now, read in this transaction
    /// (`buzon rotate-key` writes it), with the cipher set to seal under it; `KeyUnavailable`
    /// when this node does not hold that key. Every write of a secret asks first, so a node
    /// that has not heard of a rotation never seals under the old key.
    pub(crate) async fn current_key(&mut self) -> Result<String, StoreError> {
        let row = query("SELECT value FROM team_settings WHERE name = 'credentials_key'")
            .fetch_optional(self.conn())
            .await?;
        let Some(row) = row else {
            return Ok(self.cipher.key_id());
        };
        let wanted: String = crate::rows::get(&row, "value")?;
        if wanted != self.cipher.key_id() && !self.cipher.prefer(&wanted) {
            return Err(StoreError::KeyUnavailable);
        }
        Ok(wanted)
    }
}

/// `Store` methods that are one transaction: `store.x(args)` is `begin; tx.x(args); commit`.
macro_rules! one_transaction {
    ($(
        $(#[$doc:meta])*
        pub async fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $out:ty;
    )*) => {
        impl $crate::Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $out {
                    let mut tx = self.begin().await?;
                    let out = tx.$name($($arg),*).await?;
                    tx.commit().await?;
                    Ok(out)
                }
            )*
        }
    };
}
pub(crate) use one_transaction;
