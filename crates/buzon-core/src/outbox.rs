//! What an outbox row asks a dispatcher to do. The row's `kind` column names the variant and
//! its `payload` column holds the variant's JSON; both are written and read only through
//! [`OutboxPayload`], so a row that names an action buzon does not know is an error, never a
//! default.

use crate::{ConversationKind, DomainError, ExternalId};
use serde::{Deserialize, Serialize};

/// One effect waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxPayload {
    /// A reply (free text or an approved template) to a conversation.
    Reply(ReplyPayload),
    /// Hiding or showing again a customer's message on the platform.
    Moderate(ModerationPayload),
}

/// A reply, with everything the connector needs to send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPayload {
    /// The conversation's thread key, as its connector made it.
    pub thread_key: String,
    /// What kind of conversation it answers (absent in rows queued before kinds were stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_kind: Option<ConversationKind>,
    /// The customer's newest message, which the reply answers.
    #[serde(default)]
    pub in_reply_to: Option<ExternalId>,
    /// The text.
    pub text: String,
    /// An approved template to send instead of free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplatePayload>,
}

/// An approved template and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatePayload {
    /// The template's name on the platform.
    pub name: String,
    /// Its language code, e.g. `es_MX`.
    pub language: String,
    /// Body parameters, in order.
    #[serde(default)]
    pub parameters: Vec<String>,
}

/// A moderation action on one platform message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationPayload {
    /// Hide or unhide.
    pub action: ModerationAction,
    /// The message's platform id.
    pub platform_id: ExternalId,
}

/// Hide or show again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationAction {
    /// Hide the message from the public.
    Hide,
    /// Show it again.
    Unhide,
}

impl ModerationAction {
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ModerationAction::Hide => "hide",
            ModerationAction::Unhide => "unhide",
        }
    }

    /// Parses `hide` or `unhide`; anything else is an error.
    pub fn parse(text: &str) -> Result<ModerationAction, DomainError> {
        match text {
            "hide" => Ok(ModerationAction::Hide),
            "unhide" => Ok(ModerationAction::Unhide),
            other => Err(DomainError::UnknownAction(other.chars().take(40).collect())),
        }
    }
}

impl OutboxPayload {
    /// The value of the row's `kind` column.
    pub const fn kind(&self) -> &'static str {
        match self {
            OutboxPayload::Reply(_) => "reply",
            OutboxPayload::Moderate(_) => "moderate",
        }
    }

    /// The JSON stored in the row's `payload` column.
    pub fn to_json(&self) -> String {
        let json = match self {
            OutboxPayload::Reply(reply) => serde_json::to_string(reply),
            OutboxPayload::Moderate(moderation) => serde_json::to_string(moderation),
        };
        json.expect("outbox payloads serialize to JSON")
    }

    /// Reads a row's `kind` and `payload` back; an unknown kind, action or shape is an error
    /// that names what is wrong.
    pub fn parse(kind: &str, json: &str) -> Result<OutboxPayload, DomainError> {
        let invalid = |err: serde_json::Error| DomainError::InvalidPayload(err.to_string());
        match kind {
            "reply" => serde_json::from_str(json)
                .map(OutboxPayload::Reply)
                .map_err(invalid),
            "moderate" => serde_json::from_str(json)
                .map(OutboxPayload::Moderate)
                .map_err(invalid),
            other => Err(DomainError::UnknownAction(other.chars().take(40).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_through_their_row_columns() {
        let reply = OutboxPayload::Reply(ReplyPayload {
            thread_key: "messenger:42".into(),
            conversation_kind: Some(ConversationKind::Messenger),
            in_reply_to: Some(ExternalId::parse("m_1").unwrap()),
            text: "hola".into(),
            template: Some(TemplatePayload {
                name: "pedido".into(),
                language: "es_MX".into(),
                parameters: vec!["1".into()],
            }),
        });
        let moderation = OutboxPayload::Moderate(ModerationPayload {
            action: ModerationAction::Unhide,
            platform_id: ExternalId::parse("c_9").unwrap(),
        });
        for payload in [reply, moderation] {
            assert_eq!(
                OutboxPayload::parse(payload.kind(), &payload.to_json()),
                Ok(payload.clone())
            );
        }
    }

    #[test]
    fn rows_written_before_the_typed_payload_still_read() {
        let reply = OutboxPayload::parse(
            "reply",
            r#"{"thread_key":"whatsapp:1","in_reply_to":null,"text":"hi"}"#,
        )
        .unwrap();
        assert!(
            matches!(reply, OutboxPayload::Reply(ReplyPayload { ref text, template: None, .. }) if text == "hi")
        );
        let hide = OutboxPayload::parse(
            "moderate",
            r#"{"kind":"moderate","action":"hide","platform_id":"c_1"}"#,
        )
        .unwrap();
        assert!(matches!(
            hide,
            OutboxPayload::Moderate(ModerationPayload {
                action: ModerationAction::Hide,
                ..
            })
        ));
    }

    #[test]
    fn an_unknown_action_or_kind_is_an_error_never_an_unhide() {
        assert!(matches!(
            OutboxPayload::parse("moderate", r#"{"action":"delete","platform_id":"c_1"}"#),
            Err(DomainError::InvalidPayload(_))
        ));
        assert!(matches!(
            OutboxPayload::parse("like", "{}"),
            Err(DomainError::UnknownAction(_))
        ));
        assert!(matches!(
            OutboxPayload::parse("reply", r#"{"text":"no thread"}"#),
            Err(DomainError::InvalidPayload(_))
        ));
        assert!(ModerationAction::parse("HIDE").is_err());
    }
}
