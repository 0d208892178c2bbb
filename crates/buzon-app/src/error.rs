//! How a use case fails, named for what the caller does next. The web turns these into a
//! page or JSON, the command line into one line on standard error.

use buzon_core::{DomainError, ReplyTemplate};
use buzon_store::StoreError;

/// Every way a use case can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such thing.
    #[error("not found")]
    NotFound,
    /// No credentials, or bad ones.
    #[error("authentication required")]
    Unauthorized,
    /// The actor's role may not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// The input is wrong; `code` names the rule (pages translate it), `message` says how.
    #[error("{message}")]
    Invalid {
        /// A stable name of the rule broken, e.g. `password_too_short`.
        code: &'static str,
        /// What to fix, in English.
        message: String,
    },
    /// The request conflicts with what exists (a taken email, the last admin).
    #[error("{message}")]
    Conflict {
        /// A stable name of the conflict, e.g. `email_taken`.
        code: &'static str,
        /// What conflicts, in English.
        message: String,
    },
    /// The platform's reply window is closed: only these approved templates may be sent.
    #[error("more than 24 hours have passed since the customer's last message: only an approved template may be sent")]
    WindowClosed {
        /// The templates that may be sent instead.
        templates: Vec<ReplyTemplate>,
    },
    /// Too many failed attempts; try again later.
    #[error("too many failed attempts; try again in a few minutes")]
    Throttled,
    /// The platform refused or could not be asked (a credentials check, an OAuth exchange).
    #[error("{message}")]
    Platform {
        /// The kind of failure (`refused`, `unauthorized`, `retryable`…), for the audit log.
        code: &'static str,
        /// The platform's answer in words (never a token).
        message: String,
    },
    /// A part buzon needs cannot be reached now (the database).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else: logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// An `Invalid` error.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The stable machine-readable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::Invalid { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Platform { code, .. } => code,
            AppError::WindowClosed { .. } => "reply_window_closed",
            AppError::Throttled => "throttled",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> AppError {
        match err {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Domain(domain) => domain.into(),
            StoreError::Conflict => AppError::Conflict {
                code: "conflict",
                message: "already exists".into(),
            },
            StoreError::KeyUnavailable => {
                AppError::Unavailable(StoreError::KeyUnavailable.to_string())
            }
            err if err.is_unavailable() => {
                AppError::Unavailable("the database is unavailable".into())
            }
            err => AppError::Internal(anyhow::Error::new(err)),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(err: DomainError) -> AppError {
        AppError::Invalid {
            code: "bad_request",
            message: err.to_string(),
        }
    }
}
