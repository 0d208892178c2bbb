/// What can go wrong in the store, named for what the caller would do differently.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique rule would be broken (a duplicate email, channel or token).
    #[error("already exists")]
    Conflict,
    /// The database URL cannot be used.
    #[error("{0}")]
    InvalidUrl(String),
    /// A value breaks a domain rule.
    #[error(transparent)]
    Domain(#[from] buzon_core::DomainError),
    /// Stored credentials could not be decrypted (wrong secret key, or tampering).
    #[error("stored credentials cannot be decrypted: is security.secret_key the one they were written with?")]
    Decrypt,
    /// The secrets are sealed under a key this node does not hold (another node rotated it):
    /// nothing is written under an old key; retried once the node has the new one.
    #[error("the secrets are sealed under a key this node does not hold yet: give it the new security.secret_key")]
    KeyUnavailable,
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not decode (a bug or a hand-edited database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> StoreError {
        match err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            err => StoreError::Database(err),
        }
    }
}

impl StoreError {
    /// Whether the error means the database is unreachable rather than the request wrong.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
            ) | StoreError::KeyUnavailable
        )
    }
}
