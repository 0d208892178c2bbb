//! Identifiers. Our own rows have integer ids; platform ids are opaque strings.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The integer value of the id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.pad(&self.0.to_string())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map($name)
            }
        }
    )*};
}

row_id! {
    /// A connected channel (one Facebook Page, one WhatsApp number, one X account).
    ChannelId,
    /// An author as seen on one channel.
    ContactId,
    /// A person, linking contacts across channels.
    PersonId,
    /// A conversation (a comment thread, a DM thread, a WhatsApp chat).
    ConversationId,
    /// A message, inbound or outbound.
    MessageId,
    /// A buzon user.
    UserId,
    /// An API token.
    TokenId,
    /// A row of the inbound event log.
    EventId,
    /// A row of the outbox.
    OutboxId,
    /// A row of the audit log.
    AuditId,
}

/// An id as the platform reports it (comment id, wamid, tweet id, PSID…). Opaque, never parsed
/// as a number: 64-bit X ids must not pass through a float.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct ExternalId(String);

impl ExternalId {
    /// Accepts 1 to 256 characters without control characters.
    pub fn parse(raw: impl Into<String>) -> Result<ExternalId, DomainError> {
        let raw = raw.into();
        if raw.is_empty() || raw.len() > 256 || raw.chars().any(char::is_control) {
            return Err(DomainError::InvalidExternalId);
        }
        Ok(ExternalId(raw))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.pad(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_reject_empty_long_and_control_text() {
        assert!(ExternalId::parse("").is_err());
        assert!(ExternalId::parse("a".repeat(257)).is_err());
        assert!(ExternalId::parse("a\nb").is_err());
        assert_eq!(
            ExternalId::parse("1578516295611748353").unwrap().as_str(),
            "1578516295611748353"
        );
    }
}
