use std::time::Duration;

/// What went wrong talking to a platform, named for what the caller does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// A passing failure (5xx, timeout, Graph codes 1/2): try again, after `retry_after` if
    /// the platform said.
    #[error("temporary platform failure: {reason}")]
    Retryable {
        /// What happened, in words.
        reason: String,
        /// How long the platform asked us to wait.
        retry_after: Option<Duration>,
    },
    /// Too many calls (429, Graph 4/17/32/613/80001, WhatsApp 130429/131056): wait, then retry.
    #[error("rate limited by the platform: {reason}")]
    RateLimited {
        /// What happened, in words.
        reason: String,
        /// How long to wait, from the reset headers when the platform sends them.
        retry_after: Option<Duration>,
    },
    /// The token expired or was revoked (401, Graph 190): stop and re-authenticate.
    #[error("access token expired or revoked: {0}")]
    AuthExpired(String),
    /// The platform's reply window is closed (WhatsApp 131047, Messenger outside 24 h): send
    /// an approved template instead.
    #[error("the reply window is closed: {0}")]
    WindowClosed(String),
    /// A quota that does not reset soon (X monthly usage cap): stop until an admin acts.
    #[error("platform usage cap reached: {0}")]
    QuotaExhausted(String),
    /// A request the platform will never accept (permissions, bad recipient, reply gating).
    #[error("the platform refused the request: {0}")]
    Permanent(String),
    /// A webhook without a valid signature.
    #[error("missing or invalid webhook signature")]
    BadSignature,
    /// A body that is not what the platform documents.
    #[error("unexpected payload: {0}")]
    Payload(String),
    /// The outcome of a send is unknown (the connection broke after the request was sent).
    #[error("the outcome of the request is unknown: {0}")]
    Unknown(String),
}

impl PlatformError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PlatformError::Retryable { .. } | PlatformError::RateLimited { .. }
        )
    }

    /// How long the platform asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PlatformError::Retryable { retry_after, .. }
            | PlatformError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The variant's stable name for metrics and the audit log, e.g. `rate_limited`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            PlatformError::Retryable { .. } => "retryable",
            PlatformError::RateLimited { .. } => "rate_limited",
            PlatformError::AuthExpired(_) => "auth_expired",
            PlatformError::WindowClosed(_) => "window_closed",
            PlatformError::QuotaExhausted(_) => "quota_exhausted",
            PlatformError::Permanent(_) => "permanent",
            PlatformError::BadSignature => "bad_signature",
            PlatformError::Payload(_) => "payload",
            PlatformError::Unknown(_) => "unknown",
        }
    }
}
