/// A value from outside (a user, a platform, a config file) that breaks a domain rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A platform id that is empty or too long.
    #[error("invalid platform id: it must be 1 to 256 characters")]
    InvalidExternalId,
    /// A channel kind other than facebook, whatsapp or x.
    #[error("unknown channel kind {0:?}: expected facebook, whatsapp or x")]
    UnknownChannelKind(String),
    /// A role other than admin, agent or viewer.
    #[error("unknown role {0:?}: expected admin, agent or viewer")]
    UnknownRole(String),
    /// An event state buzon does not know.
    #[error("unknown event state {0:?}")]
    UnknownEventState(String),
    /// A conversation kind buzon does not know.
    #[error("unknown conversation kind {0:?}")]
    UnknownConversationKind(String),
    /// A saved-search promotion other than none, questions, negative or all.
    #[error("unknown promotion {0:?}: expected none, questions, negative or all")]
    UnknownPromote(String),
    /// A recommendation other than positive or negative.
    #[error("unknown recommendation {0:?}: expected positive or negative")]
    UnknownRecommendation(String),
    /// A monitoring state other than watching or dismissed.
    #[error("unknown monitoring state {0:?}: expected watching or dismissed")]
    UnknownMonitor(String),
    /// A saved-search query buzon cannot pass to X (empty, too long, control characters).
    #[error("invalid search query: {0}")]
    InvalidSearch(String),
    /// A conversation status other than open, pending, snoozed or resolved.
    #[error("unknown status {0:?}: expected open, pending, snoozed or resolved")]
    UnknownStatus(String),
    /// A label that is empty, too long or holds characters labels may not hold.
    #[error("invalid label {0:?}: use 1 to 48 letters, digits, '-' or '_'")]
    InvalidLabel(String),
    /// An email address that does not look like one.
    #[error("invalid email address {0:?}")]
    InvalidEmail(String),
    /// A pagination cursor that was not produced by buzon.
    #[error("invalid cursor")]
    InvalidCursor,
    /// An outbox action or kind buzon does not know.
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    /// A stored payload that does not have the expected shape.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// A name of something that must not be empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
}
