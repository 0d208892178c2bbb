//! The domain model: what buzon stores and reasons about.

use crate::{
    AuditId, ChannelId, ContactId, ConversationId, DomainError, EventId, ExternalId, FoundBy,
    MessageId, OutboxId, PersonId, Timestamp, TokenId, UserId,
};
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $err:ident, { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The lowercase name used in URLs, JSON, config and the database.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// Parses the lowercase name.
            pub fn parse(text: &str) -> Result<$name, DomainError> {
                match text { $($text => Ok($name::$variant),)* other => Err(DomainError::$err(other.to_owned())) }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.pad(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

text_enum! {
    /// The platform a channel talks to.
    ChannelKind, UnknownChannelKind, {
        /// A Facebook Page: feed comments, visitor posts and Messenger.
        Facebook = "facebook",
        /// A WhatsApp Business number (Cloud API).
        Whatsapp = "whatsapp",
        /// An X account: mentions, replies and DMs.
        X = "x",
    }
}

text_enum! {
    /// What a user may do. Each role can do everything the roles below it can.
    Role, UnknownRole, {
        /// Connects channels, manages users and settings.
        Admin = "admin",
        /// Works the inbox: replies, tags, assigns, resolves.
        Agent = "agent",
        /// Reads, searches, reports and exports; changes nothing.
        Viewer = "viewer",
    }
}

text_enum! {
    /// Where a conversation stands in the queue.
    ConversationStatus, UnknownStatus, {
        /// Waiting for us.
        Open = "open",
        /// Waiting on the customer; the clock does not run.
        Pending = "pending",
        /// Hidden until a time or a new message.
        Snoozed = "snoozed",
        /// Done.
        Resolved = "resolved",
    }
}

text_enum! {
    /// What kind of conversation a thread is, set by the connector that first saw it and
    /// stored with the conversation: the platform's rules (reply window, hiding, privacy)
    /// follow from it, never from the shape of a thread key.
    ConversationKind, UnknownConversationKind, {
        /// Public comments under a Facebook post (a Page post or a visitor's post).
        Comment = "comment",
        /// A private Messenger thread with a Page.
        Messenger = "messenger",
        /// A WhatsApp chat with a business number.
        Whatsapp = "whatsapp",
        /// A public X thread that mentions or answers the account.
        XMention = "x_mention",
        /// An X direct-message thread.
        XDm = "x_dm",
        /// A post or comment elsewhere on Facebook that tags the Page (listening); replies
        /// are comments on it, where its author allows them.
        PageMention = "page_mention",
        /// A review (recommendation) of the Page; replies are comments on the review.
        PageReview = "page_review",
    }
}

impl ConversationKind {
    /// The platform the conversation lives on.
    pub const fn channel_kind(self) -> ChannelKind {
        match self {
            ConversationKind::Comment
            | ConversationKind::Messenger
            | ConversationKind::PageMention
            | ConversationKind::PageReview => ChannelKind::Facebook,
            ConversationKind::Whatsapp => ChannelKind::Whatsapp,
            ConversationKind::XMention | ConversationKind::XDm => ChannelKind::X,
        }
    }

    /// Whether the platform accepts free-form replies only within [`REPLY_WINDOW_MILLIS`] of
    /// the customer's last message (WhatsApp and Messenger; public threads and X have none).
    pub const fn has_reply_window(self) -> bool {
        matches!(
            self,
            ConversationKind::Messenger | ConversationKind::Whatsapp
        )
    }

    /// Whether only the customer and the account see it.
    pub const fn is_private(self) -> bool {
        matches!(
            self,
            ConversationKind::Messenger | ConversationKind::Whatsapp | ConversationKind::XDm
        )
    }

    /// Whether a customer's message in it can be hidden from the public on the platform (a
    /// Page can hide comments on its own posts, not posts elsewhere nor reviews).
    pub const fn can_hide_messages(self) -> bool {
        !self.is_private()
            && !matches!(
                self,
                ConversationKind::PageMention | ConversationKind::PageReview
            )
    }

    /// The kinds with a reply window, for queries that sort by it.
    pub fn with_reply_window() -> impl Iterator<Item = ConversationKind> {
        ConversationKind::ALL
            .iter()
            .copied()
            .filter(|kind| kind.has_reply_window())
    }
}

impl Role {
    /// Whether this role may reply, tag, assign and change conversations.
    pub fn can_act(self) -> bool {
        matches!(self, Role::Admin | Role::Agent)
    }

    /// Whether this role may administer channels, users and settings.
    pub fn can_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// How a channel is doing, as shown to admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelHealth {
    /// Nothing has been heard from the platform yet.
    Unknown,
    /// The last poll, webhook or send worked.
    Healthy,
    /// Something needs attention; `health_reason` says what.
    Unhealthy,
    /// An admin paused the channel.
    Paused,
}

impl ChannelHealth {
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChannelHealth::Unknown => "unknown",
            ChannelHealth::Healthy => "healthy",
            ChannelHealth::Unhealthy => "unhealthy",
            ChannelHealth::Paused => "paused",
        }
    }

    /// Parses the lowercase name; anything unknown reads as `Unknown`.
    pub fn parse_lenient(text: &str) -> ChannelHealth {
        match text {
            "healthy" => ChannelHealth::Healthy,
            "unhealthy" => ChannelHealth::Unhealthy,
            "paused" => ChannelHealth::Paused,
            _ => ChannelHealth::Unknown,
        }
    }
}

/// A connected platform account. Its credentials live apart, encrypted, and never travel
/// with this struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Our id.
    pub id: ChannelId,
    /// Which platform.
    pub kind: ChannelKind,
    /// The name admins gave it.
    pub name: String,
    /// The Page id, phone number id or X user id.
    pub platform_id: ExternalId,
    /// How it is doing.
    pub health: ChannelHealth,
    /// Why it is unhealthy, in words.
    pub health_reason: Option<String>,
    /// The poller's position (since_id, a time…), opaque to everyone but its connector.
    pub cursor: Option<String>,
    /// When a poll, webhook or send last worked.
    pub last_success_at: Option<Timestamp>,
    /// When it was connected.
    pub created_at: Timestamp,
    /// Grows whenever the credentials change.
    pub credentials_version: i64,
    /// Whether new public comments of trolls and spammers are hidden on the platform.
    pub auto_hide_flagged: bool,
    /// Whether its response times appear on the public page.
    pub published: bool,
}

/// The secrets a channel needs to talk to its platform. Debug output never shows them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ChannelCredentials {
    /// The Page token, system-user token or OAuth access token.
    pub access_token: String,
    /// The OAuth refresh token, where the platform has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

impl fmt::Debug for ChannelCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ChannelCredentials")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A label on a conversation or an author: lowercase letters, digits, `-` and `_`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Label(String);

impl Label {
    /// An author who provokes; their messages leave the default queue.
    pub const TROLL: &'static str = "troll";
    /// An author who spams; their messages leave the default queue.
    pub const SPAM: &'static str = "spam";
    /// An author with reach; sorted first.
    pub const INFLUENCER: &'static str = "influencer";
    /// A valued customer; sorted first.
    pub const VIP: &'static str = "vip";
    /// A blocked author: messages are kept but quarantined.
    pub const BLOCKED: &'static str = "blocked";

    /// Lowercases and checks a label.
    pub fn parse(raw: &str) -> Result<Label, DomainError> {
        let label = raw.trim().to_lowercase();
        let valid = !label.is_empty()
            && label.chars().count() <= 48
            && label
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(Label(label))
        } else {
            Err(DomainError::InvalidLabel(raw.chars().take(64).collect()))
        }
    }

    /// The label as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the label takes an author's messages out of the default queue.
    pub fn is_flagging(&self) -> bool {
        matches!(self.0.as_str(), Label::TROLL | Label::SPAM | Label::BLOCKED)
    }
}

/// An author as seen on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// Our id.
    pub id: ContactId,
    /// The channel the author wrote on.
    pub channel_id: ChannelId,
    /// The person this contact belongs to, when an agent linked it.
    pub person_id: Option<PersonId>,
    /// The platform's id of the author (PSID, wa_id, X user id…).
    pub platform_id: ExternalId,
    /// The display name.
    pub name: Option<String>,
    /// The handle (@name, phone number).
    pub handle: Option<String>,
    /// Labels such as troll, spam, influencer, vip.
    pub labels: Vec<Label>,
    /// When buzon first saw the author.
    pub created_at: Timestamp,
    /// A URL of their picture, when the platform gave one.
    pub picture_url: Option<String>,
}

/// A conversation in the shared queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conversation {
    /// Our id.
    pub id: ConversationId,
    /// The channel it belongs to.
    pub channel_id: ChannelId,
    /// The kind of that channel.
    pub channel_kind: ChannelKind,
    /// What kind of thread it is (set by the connector that first saw it).
    pub kind: ConversationKind,
    /// The customer.
    pub contact_id: ContactId,
    /// The platform's thread key (top-level comment id, PSID, wa_id, X conversation id).
    pub thread_key: String,
    /// Where it stands.
    pub status: ConversationStatus,
    /// Who is on it.
    pub assignee_id: Option<UserId>,
    /// Free labels such as shipping or refund.
    pub labels: Vec<Label>,
    /// Higher sorts first; influencers and VIPs raise it.
    pub priority: i32,
    /// Since when the customer has waited for an answer, if they are waiting.
    pub waiting_since: Option<Timestamp>,
    /// The time of the newest message, which orders the queue.
    pub last_activity_at: Timestamp,
    /// When the customer last wrote, which opens the platform's reply window.
    pub last_inbound_at: Option<Timestamp>,
    /// When the conversation was created.
    pub created_at: Timestamp,
    /// The text of the newest message, for the queue's snippet.
    pub last_message_text: Option<String>,
    /// The language of the customer's newest message that had one (ISO 639-1).
    pub language: Option<String>,
    /// Until when it is snoozed (none: until the customer writes, or not snoozed).
    pub snoozed_until: Option<Timestamp>,
    /// When it came back from a snooze (its time came or the customer wrote): the mark in the
    /// queue, until someone changes its status.
    pub returned_at: Option<Timestamp>,
    /// When it was escalated to the supervisors, while it is.
    pub escalated_at: Option<Timestamp>,
    /// Listening: watching (in the monitoring view) or dismissed; none when it is in the
    /// answer queue like any conversation.
    pub monitor: Option<Monitor>,
    /// What found it, when nobody addressed it to the account.
    pub found_by: Option<FoundBy>,
    /// When it was promoted from the monitoring view into the queue (its response time
    /// counts from then).
    pub promoted_at: Option<Timestamp>,
}

text_enum! {
    /// Where a conversation found by listening stands outside the answer queue.
    Monitor, UnknownMonitor, {
        /// In the monitoring view, waiting for someone to promote or dismiss it.
        Watching = "watching",
        /// Dismissed: out of sight (a new find in it does not bring it back).
        Dismissed = "dismissed",
    }
}

/// How long after the customer's last message WhatsApp and Messenger accept free-form replies.
pub const REPLY_WINDOW_MILLIS: i64 = 24 * 60 * 60 * 1000;

impl Conversation {
    /// Whether the platform limits free-form replies to a window after the customer's last
    /// message (WhatsApp chats and Messenger threads; public comments and X have none).
    pub fn has_reply_window(&self) -> bool {
        self.kind.has_reply_window()
    }

    /// How long the reply window stays open after `now` (negative once closed); `None` when
    /// the conversation has no window or the customer never wrote.
    pub fn reply_window_left(&self, now: Timestamp) -> Option<i64> {
        if !self.has_reply_window() {
            return None;
        }
        let last = self.last_inbound_at?;
        Some(REPLY_WINDOW_MILLIS - (now.as_millis() - last.as_millis()))
    }

    /// Whether only an approved template may be sent now.
    pub fn reply_window_closed(&self, now: Timestamp) -> bool {
        self.has_reply_window() && self.reply_window_left(now).is_none_or(|left| left < 0)
    }
}

/// Inbound (from the customer) or outbound (from us).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Written by the customer.
    Inbound,
    /// Written by us.
    Outbound,
}

impl Direction {
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Where a message stands on its way to or from the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// An inbound message we received.
    Received,
    /// Waiting in the outbox.
    Queued,
    /// Sent, but whether the platform has it is not known (the answer was lost): settled by the
    /// platform's status or by a person, never by sending blindly again.
    Unknown,
    /// Accepted by the platform.
    Sent,
    /// Delivered to the customer's device.
    Delivered,
    /// Read by the customer.
    Read,
    /// Given up on; `error` says why.
    Failed,
}

impl DeliveryStatus {
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Received => "received",
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Unknown => "unknown",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Parses the lowercase name; anything unknown reads as `Queued`.
    pub fn parse_lenient(text: &str) -> DeliveryStatus {
        match text {
            "received" => DeliveryStatus::Received,
            "unknown" => DeliveryStatus::Unknown,
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Queued,
        }
    }

    /// Whether a status report may move a message from `self` to `next`. Statuses arrive out
    /// of order and never move backwards; a failure is final.
    pub fn may_advance_to(self, next: DeliveryStatus) -> bool {
        self != DeliveryStatus::Failed && next > self
    }
}

/// Metadata of a file attached to a message. buzon keeps the reference, not the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    /// image, audio, video, document, sticker, location, contacts, file…
    pub kind: String,
    /// The MIME type, when the platform says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The platform's media id (WhatsApp) to fetch it by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// A URL, when the platform gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file name, for documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Our id.
    pub id: MessageId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// The channel it came from or goes to.
    pub channel_id: ChannelId,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The platform's id; none for an outbound message not yet sent.
    pub platform_id: Option<ExternalId>,
    /// The author, for inbound messages.
    pub contact_id: Option<ContactId>,
    /// The user who wrote it, for outbound messages written by a person.
    pub user_id: Option<UserId>,
    /// The text, bounded and sanitized.
    pub text: String,
    /// Attachment metadata.
    pub attachments: Vec<Attachment>,
    /// The platform's time of the message.
    pub created_at: Timestamp,
    /// When buzon received or queued it.
    pub received_at: Timestamp,
    /// Delivery status.
    pub status: DeliveryStatus,
    /// The failure reason, in words, when `status` is failed.
    pub error: Option<String>,
    /// Whether an automatic rule wrote it (auto-replies do not count as responses).
    pub automatic: bool,
    /// Whether the platform retracted it (a removed comment).
    pub deleted: bool,
    /// Whether it is hidden on the platform.
    pub hidden: bool,
    /// The language detected in an inbound text (ISO 639-1), when it could be told.
    pub language: Option<String>,
}

/// An author as a connector reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    /// The platform's id of the author.
    pub platform_id: ExternalId,
    /// The display name.
    pub name: Option<String>,
    /// The handle (@name, phone number).
    pub handle: Option<String>,
}

/// An inbound message as a connector reports it, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboundMessage {
    /// The channel it arrived on.
    pub channel_id: ChannelId,
    /// The platform's id; unique per channel.
    pub platform_id: ExternalId,
    /// The conversation it threads into.
    pub thread_key: String,
    /// What kind of conversation that is (used when the conversation is created).
    pub conversation_kind: ConversationKind,
    /// The author.
    pub author: NewContact,
    /// The text (bounded and sanitized by the store).
    pub text: String,
    /// Attachment metadata.
    pub attachments: Vec<Attachment>,
    /// The platform's time.
    pub created_at: Timestamp,
    /// The raw JSON of the part, kept when something in it could not be shown.
    pub raw: Option<String>,
    /// What found it, when nobody addressed it to the account (listening): its conversation
    /// then waits in the monitoring view until promoted.
    pub found_by: Option<FoundBy>,
}

/// What storing an inbound message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new message in the given conversation.
    Inserted {
        /// The new message.
        message_id: MessageId,
        /// Its conversation.
        conversation_id: ConversationId,
    },
    /// The platform delivered it before; nothing changed.
    Duplicate,
}

/// A raw delivery in the inbound event log, kept before anything else happens to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEvent {
    /// Our id.
    pub id: EventId,
    /// The platform it came from.
    pub source: ChannelKind,
    /// The channel, when known at receipt (pollers know it; webhooks route later).
    pub channel_id: Option<ChannelId>,
    /// `webhook`, or `poll:<endpoint>` for a page a poller fetched.
    pub origin: String,
    /// The key that makes a repeated delivery a duplicate.
    pub dedup_key: String,
    /// The exact bytes received.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: Timestamp,
    /// When it was processed successfully.
    pub processed_at: Option<Timestamp>,
    /// Why processing failed, in words.
    pub error: Option<String>,
    /// How many times processing was tried.
    pub attempts: i32,
    /// Where it stands.
    pub state: EventState,
    /// The parts buzon did not recognise, when it is `unparsed`.
    pub unparsed: Vec<UnparsedPart>,
}

text_enum! {
    /// Where an inbound event stands.
    EventState, UnknownEventState, {
        /// Waiting to be processed.
        Pending = "pending",
        /// Every part stored or known.
        Done = "done",
        /// Processing failed as a whole (kept for replay).
        Failed = "failed",
        /// Some parts were not recognised (the others are stored; kept for replay).
        Unparsed = "unparsed",
    }
}

/// A part of a delivery buzon did not recognise: where it is and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnparsedPart {
    /// Its JSON path in the delivery, e.g. `entry[0].messaging[1]`.
    pub path: String,
    /// Why it was not recognised.
    pub reason: String,
}

/// A raw delivery before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboundEvent {
    /// The platform it came from.
    pub source: ChannelKind,
    /// The channel, when known.
    pub channel_id: Option<ChannelId>,
    /// `webhook`, or `poll:<endpoint>` for a page a poller fetched.
    pub origin: String,
    /// The key that makes a repeated delivery a duplicate.
    pub dedup_key: String,
    /// The exact bytes received.
    pub body: Vec<u8>,
}

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Due at `next_attempt_at`.
    Queued,
    /// Claimed by a dispatcher.
    Sending,
    /// The platform accepted it.
    Sent,
    /// Given up; `last_error` says why.
    Failed,
    /// A send whose outcome is unknown: checked, not blindly repeated.
    Unknown,
}

impl OutboxState {
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Unknown => "unknown",
        }
    }

    /// Parses the lowercase name; anything unknown reads as `Unknown`.
    pub fn parse_lenient(text: &str) -> OutboxState {
        match text {
            "queued" => OutboxState::Queued,
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "failed" => OutboxState::Failed,
            _ => OutboxState::Unknown,
        }
    }
}

/// A reply waiting to be sent, with everything a dispatcher needs to send it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Our id.
    pub id: OutboxId,
    /// The outbound message it sends.
    pub message_id: MessageId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// The key that makes a repeated request the same reply.
    pub idempotency_key: String,
    /// What to do, read back from the row (an error names a row buzon cannot act on).
    pub payload: Result<crate::OutboxPayload, DomainError>,
    /// Where it stands.
    pub state: OutboxState,
    /// How many sends were tried.
    pub attempts: i32,
    /// When it is due.
    pub next_attempt_at: Timestamp,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
}

/// A reply to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboundReply {
    /// The conversation to answer.
    pub conversation_id: ConversationId,
    /// The user who wrote it, or none for an automatic reply.
    pub user_id: Option<UserId>,
    /// The text.
    pub text: String,
    /// The key that makes a repeated request the same reply.
    pub idempotency_key: String,
    /// What to send.
    pub payload: crate::ReplyPayload,
    /// Whether an automatic rule wrote it.
    pub automatic: bool,
}

/// A buzon user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    /// Our id.
    pub id: UserId,
    /// The login email, lowercase.
    pub email: String,
    /// The display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// Whether the user may sign in.
    pub active: bool,
    /// When the user was added.
    pub created_at: Timestamp,
    /// Whether escalated conversations go to this user.
    pub supervisor: bool,
}

/// An API token. Only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// Our id.
    pub id: TokenId,
    /// What it is for.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The user it acts for, if any.
    pub user_id: Option<UserId>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Its id (the log's order within a millisecond).
    pub id: AuditId,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it: `user:<id>`, `token:<id>`, `cli` or `system`.
    pub actor: String,
    /// What they did, e.g. `user.add`, `channel.add`, `conversation.reply`.
    pub action: String,
    /// What they did it to, e.g. `user:3`.
    pub target: String,
    /// Details as JSON (never secrets, never message text).
    pub detail: String,
}

/// An internal note on a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Who wrote it.
    pub user_id: Option<UserId>,
    /// The text.
    pub text: String,
    /// When.
    pub created_at: Timestamp,
}

/// A canned reply ("respuesta tipo"): a text the team wrote ahead, with placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CannedReply {
    /// Its id.
    pub id: i64,
    /// Its name, as the library lists it.
    pub name: String,
    /// What the agent types after `/` to find it.
    pub shortcut: String,
    /// The text, with `{{placeholders}}`.
    pub text: String,
    /// The language it is written in (ISO 639-1); none: any.
    pub language: Option<String>,
    /// The labels of the conversations it suits.
    pub labels: Vec<Label>,
    /// The agent who saved it for themself; none: shared by the team.
    pub owner_id: Option<UserId>,
    /// How many replies used it.
    pub uses: i64,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

/// An approved message template (WhatsApp) offered when the reply window is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReplyTemplate {
    /// Its row id.
    pub id: i64,
    /// The platform it is approved on.
    pub kind: ChannelKind,
    /// The template's name on the platform.
    pub name: String,
    /// Its language code, e.g. `es_MX`.
    pub language: String,
    /// Its body as approved, with `{{1}}` placeholders.
    pub body: String,
}

/// Which audit lines to show; every field narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly this actor (`user:3`, `token:2`, `cli`, `system`).
    pub actor: Option<String>,
    /// Actions starting with this (`user.` matches every user action).
    pub action: Option<String>,
    /// Exactly this target (`conversation:12`).
    pub target: Option<String>,
    /// At or after.
    pub since: Option<Timestamp>,
    /// Before.
    pub until: Option<Timestamp>,
    /// After this line in the log's order, newest first (a page's last line): the next page.
    pub after: Option<(Timestamp, AuditId)>,
}

/// A channel's rate-limit state, for its health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelLimits {
    /// Until when the platform's budget is spent, if it is.
    pub rate_limited_until: Option<Timestamp>,
    /// When a call last failed.
    pub last_error_at: Option<Timestamp>,
}

/// How much work waits in the queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepths {
    /// Inbound events not yet processed.
    pub inbound_pending: i64,
    /// Inbound events that failed to process.
    pub inbound_failed: i64,
    /// Inbound events with parts buzon did not recognise.
    pub inbound_unparsed: i64,
    /// Replies queued or being sent.
    pub outbox_pending: i64,
    /// Replies whose send outcome is unknown.
    pub outbox_unknown: i64,
    /// Replies that failed for good.
    pub outbox_failed: i64,
}

/// Normalizes an email address and checks it looks like one.
pub fn parse_email(raw: &str) -> Result<String, DomainError> {
    let email = raw.trim().to_lowercase();
    let mut parts = email.split('@');
    let valid = match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && email.len() <= 254
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        _ => false,
    };
    if valid {
        Ok(email)
    } else {
        Err(DomainError::InvalidEmail(raw.chars().take(80).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_roles_and_statuses_round_trip_through_text() {
        for kind in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(kind.as_str()), Ok(*kind));
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(*role));
        }
        for status in ConversationStatus::ALL {
            assert_eq!(ConversationStatus::parse(status.as_str()), Ok(*status));
        }
        for kind in ConversationKind::ALL {
            assert_eq!(ConversationKind::parse(kind.as_str()), Ok(*kind));
        }
        assert_eq!(
            Role::parse("owner"),
            Err(DomainError::UnknownRole("owner".into()))
        );
    }

    #[test]
    fn only_agents_and_admins_act_and_only_admins_administer() {
        assert!(Role::Agent.can_act() && Role::Admin.can_act() && !Role::Viewer.can_act());
        assert!(Role::Admin.can_admin() && !Role::Agent.can_admin());
    }

    #[test]
    fn labels_are_lowercased_and_checked() {
        assert_eq!(Label::parse(" Troll ").unwrap().as_str(), "troll");
        assert!(Label::parse("").is_err());
        assert!(Label::parse("<script>").is_err());
        assert!(Label::parse("envío").is_ok());
        assert!(Label::parse("troll").unwrap().is_flagging());
        assert!(!Label::parse("vip").unwrap().is_flagging());
    }

    #[test]
    fn the_reply_window_is_24_hours_on_whatsapp_and_messenger_only() {
        let now = Timestamp::from_millis(100 * REPLY_WINDOW_MILLIS);
        let conversation = |kind: ConversationKind, thread: &str, last: Option<i64>| Conversation {
            id: ConversationId(1),
            channel_id: ChannelId(1),
            channel_kind: kind.channel_kind(),
            kind,
            contact_id: ContactId(1),
            thread_key: thread.into(),
            status: ConversationStatus::Open,
            assignee_id: None,
            labels: vec![],
            priority: 0,
            waiting_since: None,
            last_activity_at: now,
            last_inbound_at: last.map(|ago| now.plus_millis(-ago)),
            created_at: now,
            last_message_text: None,
            language: None,
            snoozed_until: None,
            returned_at: None,
            escalated_at: None,
            monitor: None,
            found_by: None,
            promoted_at: None,
        };
        let hour = 3_600_000;
        assert!(
            !conversation(ConversationKind::Whatsapp, "whatsapp:1", Some(23 * hour))
                .reply_window_closed(now)
        );
        assert!(
            conversation(ConversationKind::Whatsapp, "whatsapp:1", Some(25 * hour))
                .reply_window_closed(now)
        );
        assert!(
            conversation(ConversationKind::Messenger, "messenger:9", Some(25 * hour))
                .reply_window_closed(now)
        );
        assert!(
            conversation(ConversationKind::Whatsapp, "whatsapp:1", None).reply_window_closed(now)
        );
        assert!(
            !conversation(ConversationKind::Comment, "comment:5", Some(90 * hour))
                .reply_window_closed(now)
        );
        assert!(!conversation(ConversationKind::XDm, "dm:5", None).reply_window_closed(now));
        assert_eq!(
            conversation(ConversationKind::Whatsapp, "whatsapp:1", Some(hour))
                .reply_window_left(now),
            Some(23 * hour)
        );
    }

    #[test]
    fn only_public_threads_can_have_messages_hidden_and_only_chats_have_a_window() {
        let windowed: Vec<_> = ConversationKind::with_reply_window().collect();
        assert_eq!(
            windowed,
            vec![ConversationKind::Messenger, ConversationKind::Whatsapp]
        );
        assert!(ConversationKind::Comment.can_hide_messages());
        assert!(ConversationKind::XMention.can_hide_messages());
        assert!(!ConversationKind::XDm.can_hide_messages());
        assert!(!ConversationKind::Messenger.can_hide_messages());
        assert_eq!(ConversationKind::XDm.channel_kind(), ChannelKind::X);
    }

    #[test]
    fn delivery_statuses_never_move_backwards() {
        assert!(DeliveryStatus::Sent.may_advance_to(DeliveryStatus::Read));
        assert!(!DeliveryStatus::Read.may_advance_to(DeliveryStatus::Delivered));
        assert!(!DeliveryStatus::Failed.may_advance_to(DeliveryStatus::Read));
        assert!(DeliveryStatus::Sent.may_advance_to(DeliveryStatus::Failed));
        assert!(DeliveryStatus::Queued.may_advance_to(DeliveryStatus::Unknown));
        assert!(
            DeliveryStatus::Unknown.may_advance_to(DeliveryStatus::Delivered),
            "the platform's status settles a send of unknown outcome"
        );
        assert!(!DeliveryStatus::Sent.may_advance_to(DeliveryStatus::Unknown));
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            parse_email(" Ana@Shop.Example ").unwrap(),
            "ana@shop.example"
        );
        assert!(parse_email("ana").is_err());
        assert!(parse_email("ana@localhost").is_err());
        assert!(parse_email("a@b@c.d").is_err());
    }

    #[test]
    fn credentials_debug_output_hides_the_tokens() {
        let credentials = ChannelCredentials {
            access_token: "EAAB-secret".into(),
            refresh_token: Some("refresh-secret".into()),
            expires_at: None,
        };
        let shown = format!("{credentials:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
