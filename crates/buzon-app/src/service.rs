//! Service practices: business hours edited in the UI (the team's and each channel's), the
//! out-of-hours auto-reply, and the rules that look at every new customer message once.
//!
//! The auto-reply, in order of the checks:
//! - only when the channel's auto-reply is on and its calendar (its own hours, else the
//!   team's) is closed at the moment buzon looks at the message;
//! - at most one per conversation per closed period: its outbox key is the conversation and
//!   the instant the team is back, so two nodes, a retry or a second message in the same night
//!   can never queue a second one;
//! - never to trolls, spammers or blocked authors (labels that follow the person), nor to an
//!   author labelled `bot`; never to our own messages (echoes are not customer messages), and
//!   never twice in a period, so two automatic systems cannot talk in a loop;
//! - public comments and X mentions only when the admin allows it (a reply to a post that
//!   mentioned the account is the one automated reply X's rules allow; nothing unsolicited);
//! - within the platform's window: WhatsApp and Messenger accept it only within 24 hours of
//!   the customer's message, and a message older than that gets none anywhere;
//! - in the customer's language when the channel has a text in it, else the channel's default
//!   language; `{{back_at}}` reads in that language, in the calendar's zone.
//!
//! It goes through the outbox like any reply, marked automatic (it does not end the wait or
//! count as a response).

use crate::{target, Actor, App, AppError};
use buzon_core::metrics::{back_at_text, BusinessCalendar, HoursDocument};
use buzon_core::*;
use buzon_store::{StoreError, StoreTx, TEAM_BUSINESS_HOURS};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// The most characters of an auto-reply text.
pub const MAX_AUTO_REPLY_CHARS: usize = 1_000;

/// How many new messages the rules look at in one transaction.
pub const RULES_BATCH: u32 = 200;

/// The placeholders an auto-reply may use.
const AUTO_REPLY_PLACEHOLDERS: [&str; 1] = ["back_at"];

/// Where "now" comes from: the system clock, or (for tests of hours and auto-replies) a file
/// holding an RFC 3339 instant, read on every use (`BUZON_TEST_CLOCK_FILE`).
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// The instant written in a file; the system clock when it is missing or unreadable.
    File(PathBuf),
}

impl Clock {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::File(path) => std::fs::read_to_string(path)
                .ok()
                .and_then(|text| Timestamp::parse_rfc3339(text.trim()))
                .unwrap_or_else(Timestamp::now),
        }
    }
}

/// A channel's out-of-hours auto-reply, as the API and the admin page exchange it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "public_comments": false, "texts": {"en": "Thanks! A person will answer {{back_at}}.", "es": "¡Gracias! Una persona te responderá {{back_at}}."}, "default_language": "es"}))]
pub struct AutoReply {
    /// Whether it is sent.
    pub enabled: bool,
    /// Whether public comments and X mentions get it too (private messages always do).
    #[serde(default)]
    pub public_comments: bool,
    /// The text per language (ISO 639-1), with `{{back_at}}` for when the team is back.
    #[serde(default)]
    pub texts: BTreeMap<String, String>,
    /// The language used when the customer's is unknown or has no text; also the channel's
    /// default language.
    #[serde(default = "default_language")]
    pub default_language: String,
}

fn default_language() -> String {
    "es".to_owned()
}

impl Default for AutoReply {
    fn default() -> AutoReply {
        AutoReply {
            enabled: false,
            public_comments: false,
            texts: BTreeMap::new(),
            default_language: default_language(),
        }
    }
}

impl AutoReply {
    /// Checks it, or says what is wrong; texts are trimmed and empty ones dropped.
    pub fn validated(mut self) -> Result<AutoReply, AppError> {
        self.default_language = self.default_language.trim().to_lowercase();
        if !is_known_language(&self.default_language) {
            return Err(AppError::invalid(
                "unknown_language",
                format!(
                    "unknown default language {:?}: use one of {}",
                    self.default_language.chars().take(16).collect::<String>(),
                    known_languages().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let mut texts = BTreeMap::new();
        for (language, text) in std::mem::take(&mut self.texts) {
            let language = language.trim().to_lowercase();
            if !is_known_language(&language) {
                return Err(AppError::invalid(
                    "unknown_language",
                    format!(
                        "unknown language {:?}: use one of {}",
                        language.chars().take(16).collect::<String>(),
                        known_languages().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if text.chars().count() > MAX_AUTO_REPLY_CHARS {
                return Err(AppError::invalid(
                    "text_too_long",
                    format!("the {language} text is longer than {MAX_AUTO_REPLY_CHARS} characters"),
                ));
            }
            if let Some(unknown) = unknown_placeholder(text, &AUTO_REPLY_PLACEHOLDERS) {
                return Err(AppError::invalid(
                    "unknown_placeholder",
                    format!("unknown placeholder {{{{{unknown}}}}} in the {language} text: only {{{{back_at}}}} is filled in"),
                ));
            }
            texts.insert(language, sanitize_text(text));
        }
        self.texts = texts;
        if self.enabled && !self.texts.contains_key(&self.default_language) {
            return Err(AppError::invalid(
                "missing_text",
                format!(
                    "an auto-reply that is on needs a text in its default language ({})",
                    self.default_language
                ),
            ));
        }
        Ok(self)
    }

    /// The language and text for a customer who wrote in `language`.
    pub fn text_for(&self, language: Option<&str>) -> Option<(&str, &str)> {
        language
            .and_then(|language| self.texts.get_key_value(language))
            .or_else(|| self.texts.get_key_value(&self.default_language))
            .map(|(language, text)| (language.as_str(), text.as_str()))
    }
}

/// Whether the team is open at a moment, and when it is back if not.
#[derive(Debug, Clone)]
pub struct OpeningState {
    /// Open now.
    pub open: bool,
    /// When it opens next (none when open, or when it never opens).
    pub back_at: Option<Timestamp>,
    /// The moment it was judged at.
    pub now: Timestamp,
    /// The calendar it was judged by.
    pub calendar: BusinessCalendar,
}

impl OpeningState {
    /// "on Monday at 09:00" in a language, when closed and it opens again.
    pub fn back_at_text(&self, language: &str) -> Option<String> {
        self.back_at
            .map(|back_at| back_at_text(language, back_at, self.now, &self.calendar))
    }
}

impl App {
    /// The current time (the test clock when one is set).
    pub fn now(&self) -> Timestamp {
        self.inner.settings.clock.now()
    }

    /// The team's business hours: those an admin saved, else the configuration's.
    pub async fn team_calendar(&self) -> Result<BusinessCalendar, AppError> {
        if let Some((saved, _)) = self.store().team_setting(TEAM_BUSINESS_HOURS).await? {
            match serde_json::from_str::<HoursDocument>(&saved).map(|document| document.calendar())
            {
                Ok(Ok(calendar)) => return Ok(calendar),
                _ => {
                    tracing::warn!("saved business hours cannot be read; using the configuration's")
                }
            }
        }
        Ok(self
            .inner
            .settings
            .business_calendar
            .clone()
            .unwrap_or_else(BusinessCalendar::always_open))
    }

    /// A channel's business hours: its own, else the team's.
    pub async fn channel_calendar(&self, id: ChannelId) -> Result<BusinessCalendar, AppError> {
        let service = self.store().channel_service(id).await?;
        if let Some(own) = service.business_hours.as_deref() {
            if let Ok(Ok(calendar)) =
                serde_json::from_str::<HoursDocument>(own).map(|document| document.calendar())
            {
                return Ok(calendar);
            }
        }
        self.team_calendar().await
    }

    /// Whether the team (or one channel's team) is open now, and when it is back.
    pub async fn opening_state(
        &self,
        channel: Option<ChannelId>,
    ) -> Result<OpeningState, AppError> {
        let calendar = match channel {
            Some(channel) => self.channel_calendar(channel).await?,
            None => self.team_calendar().await?,
        };
        let now = self.now();
        let open = calendar.is_open(now);
        let back_at = if open {
            None
        } else {
            calendar.next_opening(now)
        };
        Ok(OpeningState {
            open,
            back_at,
            now,
            calendar,
        })
    }

    /// The team's business hours as a document. Any role.
    pub async fn business_hours(&self, actor: &Actor) -> Result<HoursDocument, AppError> {
        actor.require(Role::Viewer)?;
        Ok(HoursDocument::of(&self.team_calendar().await?))
    }

    /// Saves the team's business hours (`None`: back to the configuration's). Admins.
    pub async fn set_business_hours(
        &self,
        actor: &Actor,
        hours: Option<HoursDocument>,
    ) -> Result<HoursDocument, AppError> {
        actor.require(Role::Admin)?;
        let saved = hours.map(checked_hours).transpose()?;
        let mut tx = self.store().begin().await?;
        tx.set_team_setting(
            TEAM_BUSINESS_HOURS,
            saved.as_ref().map(|(_, json)| json.as_str()),
        )
        .await?;
        tx.audit(
            &actor.audit_name(),
            "settings.business_hours",
            "team",
            &json!({"hours": saved.as_ref().map(|(document, _)| document)}),
        )
        .await?;
        tx.commit().await?;
        self.business_hours(actor).await
    }

    /// A channel's own business hours (`None`: it follows the team's). Any role.
    pub async fn channel_business_hours(
        &self,
        actor: &Actor,
        id: ChannelId,
    ) -> Result<Option<HoursDocument>, AppError> {
        actor.require(Role::Viewer)?;
        let service = self.store().channel_service(id).await?;
        Ok(service
            .business_hours
            .and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Saves a channel's own business hours (`None`: follow the team's). Admins.
    pub async fn set_channel_business_hours(
        &self,
        actor: &Actor,
        id: ChannelId,
        hours: Option<HoursDocument>,
    ) -> Result<Option<HoursDocument>, AppError> {
        actor.require(Role::Admin)?;
        let saved = hours.map(checked_hours).transpose()?;
        let mut tx = self.store().begin().await?;
        tx.set_channel_business_hours(id, saved.as_ref().map(|(_, json)| json.as_str()))
            .await?;
        tx.audit(
            &actor.audit_name(),
            "channel.business_hours",
            &target("channel", id),
            &json!({"hours": saved.as_ref().map(|(document, _)| document)}),
        )
        .await?;
        tx.commit().await?;
        Ok(saved.map(|(document, _)| document))
    }

    /// A channel's auto-reply (off when never set). Any role.
    pub async fn auto_reply(&self, actor: &Actor, id: ChannelId) -> Result<AutoReply, AppError> {
        actor.require(Role::Viewer)?;
        let service = self.store().channel_service(id).await?;
        Ok(stored_auto_reply(service.auto_reply.as_deref()))
    }

    /// Saves a channel's auto-reply. Admins.
    pub async fn set_auto_reply(
        &self,
        actor: &Actor,
        id: ChannelId,
        auto_reply: AutoReply,
    ) -> Result<AutoReply, AppError> {
        actor.require(Role::Admin)?;
        let auto_reply = auto_reply.validated()?;
        let json = serde_json::to_string(&auto_reply).expect("an auto-reply serializes");
        let mut tx = self.store().begin().await?;
        tx.set_channel_auto_reply(id, Some(&json)).await?;
        tx.audit(
            &actor.audit_name(),
            "channel.auto_reply",
            &target("channel", id),
            &json!({"enabled": auto_reply.enabled, "public_comments": auto_reply.public_comments,
                    "languages": auto_reply.texts.keys().collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(auto_reply)
    }

    /// Looks at up to [`RULES_BATCH`] new customer messages once each, in one transaction:
    /// queues the auto-replies they call for and takes them off the list. Returns how many
    /// it looked at. Buzon's own worker calls it; it is safe on several nodes at once.
    pub async fn run_rules(&self) -> Result<usize, AppError> {
        // Most wake-ups find nothing new: then no settings are read and no writer is taken.
        if !self.store().rule_checks_waiting().await? {
            return Ok(0);
        }
        let now = self.now();
        // What there is to apply, read before the transaction (on SQLite it holds the writer).
        let rules = self.active_alert_rules().await?;
        let incidents = self.active_incidents().await?;
        let auto_replies = self.store().channels_with_auto_reply().await?;
        let on_call = self.stored_on_call().await?;
        let surveys_since = now.plus_millis(-crate::working::SURVEY_ANSWER_MILLIS);
        let surveys = self.store().satisfaction_pending_any(surveys_since).await?;
        let mut tx = self.store().begin().await?;
        let ids = tx.take_rule_checks(RULES_BATCH).await?;
        if ids.is_empty() {
            return Ok(0);
        }
        // Messages in conversations listening found and nobody promoted yet.
        let watched = tx.watched_finds(&ids).await?;
        // The searches' promotions matter only when there are finds to judge.
        let searches = if watched.is_empty() {
            HashMap::new()
        } else {
            self.store().search_promotions().await?
        };
        if watched.is_empty()
            && incidents.is_empty()
            && !surveys
            && auto_replies.is_empty()
            && rules.iter().all(|rule| rule.rule.waiting_minutes.is_some())
        {
            // Nothing applies to a new message: they are looked at, and done.
            tx.finish_rule_checks(&ids).await?;
            tx.commit().await?;
            return Ok(ids.len());
        }
        let mut channels: HashMap<ChannelId, Option<(AutoReply, BusinessCalendar)>> =
            HashMap::new();
        let mut calendars: HashMap<ChannelId, BusinessCalendar> = HashMap::new();
        let mut public_allowed: HashMap<ChannelId, bool> = HashMap::new();
        let mut queued = 0;
        let mut alerts = 0;
        for id in &ids {
            let message = match tx.message(*id).await {
                Ok(message) => message,
                Err(StoreError::NotFound) => continue,
                Err(err) => return Err(err.into()),
            };
            if message.direction != Direction::Inbound || message.deleted {
                continue;
            }
            // An answer to a closing question is recorded; a satisfied one is not a new
            // question, so nothing else applies to it.
            if surveys
                && crate::working::record_if_answer(&mut tx, &message, surveys_since, now).await?
                    == Some(true)
            {
                continue;
            }
            let alerts_before = alerts;
            if rules.iter().any(|rule| rule.rule.waiting_minutes.is_none()) {
                if let std::collections::hash_map::Entry::Vacant(entry) =
                    calendars.entry(message.channel_id)
                {
                    entry.insert(self.channel_calendar(message.channel_id).await?);
                }
                let calendar = &calendars[&message.channel_id];
                let conversation = tx.conversation(message.conversation_id).await?;
                let author = match message.contact_id {
                    Some(contact) => Some(tx.contact(contact).await?),
                    None => None,
                };
                let flagged = tx.author_flagged(message.id).await?;
                let candidate = crate::alerts::Candidate {
                    conversation: &conversation,
                    author: author.as_ref(),
                    flagged,
                    text: &message.text,
                    message: Some(&message),
                };
                let judging = crate::alerts::Judging {
                    calendar,
                    on_call: &on_call,
                    now,
                };
                for rule in &rules {
                    alerts += self
                        .alert_if_matching(&mut tx, rule, &candidate, &judging, false)
                        .await?;
                }
            }
            // A find of listening is not answered automatically (nobody addressed the account:
            // an auto-reply there would be spam); it may go into the queue, and stops here.
            if let Some(find) = watched.get(&message.id) {
                self.promote_if_called_for(
                    &mut tx,
                    &message,
                    find,
                    &searches,
                    alerts > alerts_before,
                    now,
                )
                .await?;
                continue;
            }
            if !incidents.is_empty() {
                if let std::collections::hash_map::Entry::Vacant(entry) =
                    public_allowed.entry(message.channel_id)
                {
                    let service = self.store().channel_service(message.channel_id).await?;
                    entry.insert(stored_auto_reply(service.auto_reply.as_deref()).public_comments);
                }
                let public = public_allowed[&message.channel_id];
                match self
                    .apply_incidents(&mut tx, &incidents, &message, public, now)
                    .await
                {
                    // The incident's message answers; the out-of-hours one is not needed.
                    Ok(true) => {
                        queued += 1;
                        continue;
                    }
                    Ok(false) => {}
                    // Another node's transaction queued the same reply: start again after it.
                    Err(AppError::Conflict {
                        code: "conflict", ..
                    }) => return Ok(0),
                    Err(err) => return Err(err),
                }
            }
            if let std::collections::hash_map::Entry::Vacant(entry) =
                channels.entry(message.channel_id)
            {
                entry.insert(self.auto_reply_settings(message.channel_id).await?);
            }
            let Some((auto_reply, calendar)) = &channels[&message.channel_id] else {
                continue;
            };
            let Some(reply) = auto_reply_to(&mut tx, &message, auto_reply, calendar, now).await?
            else {
                continue;
            };
            match tx.queue_reply(&reply).await {
                Ok(done) if done.new => {
                    tx.audit(
                        &Actor::System("auto-reply").audit_name(),
                        "conversation.auto_reply",
                        &target("conversation", message.conversation_id),
                        &json!({"message_id": done.message.id, "in_reply_to": message.id}),
                    )
                    .await?;
                    queued += 1;
                }
                Ok(_) => {}
                // Another node queued this period's reply for the conversation in a
                // transaction still open: start again once it has committed.
                Err(StoreError::Conflict) => return Ok(0),
                Err(err) => return Err(err.into()),
            }
        }
        tx.finish_rule_checks(&ids).await?;
        tx.commit().await?;
        if queued > 0 {
            self.metrics().count_auto_replies(queued);
        }
        if queued > 0 || alerts > 0 {
            self.wake_workers();
        }
        Ok(ids.len())
    }

    async fn auto_reply_settings(
        &self,
        channel: ChannelId,
    ) -> Result<Option<(AutoReply, BusinessCalendar)>, AppError> {
        let service = match self.store().channel_service(channel).await {
            Ok(service) => service,
            Err(StoreError::NotFound) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let auto_reply = stored_auto_reply(service.auto_reply.as_deref());
        if !auto_reply.enabled {
            return Ok(None);
        }
        Ok(Some((auto_reply, self.channel_calendar(channel).await?)))
    }
}

/// The reply the auto-reply rules call for, if any (see the module's notes).
async fn auto_reply_to(
    tx: &mut StoreTx,
    message: &Message,
    auto_reply: &AutoReply,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Result<Option<NewOutboundReply>, AppError> {
    if message.direction != Direction::Inbound || message.deleted || calendar.is_open(now) {
        return Ok(None);
    }
    let Some(back_at) = calendar.next_opening(now) else {
        return Ok(None);
    };
    if now.as_millis() - message.created_at.as_millis() > REPLY_WINDOW_MILLIS {
        return Ok(None);
    }
    let conversation = tx.conversation(message.conversation_id).await?;
    if !conversation.kind.is_private() && !auto_reply.public_comments {
        return Ok(None);
    }
    if conversation.reply_window_closed(now) {
        return Ok(None);
    }
    if tx.author_flagged(message.id).await? {
        return Ok(None);
    }
    if let Some(contact) = message.contact_id {
        let contact = tx.contact(contact).await?;
        if contact.labels.iter().any(|label| label.as_str() == "bot") {
            return Ok(None);
        }
    }
    let Some((language, text)) = auto_reply.text_for(message.language.as_deref()) else {
        return Ok(None);
    };
    let text = text.replace(
        "{{back_at}}",
        &back_at_text(language, back_at, now, calendar),
    );
    let text = bound_text(&text, MAX_MESSAGE_BYTES);
    Ok(Some(NewOutboundReply {
        conversation_id: conversation.id,
        user_id: None,
        text: text.clone(),
        idempotency_key: format!("auto-reply:{}:{}", conversation.id, back_at.as_millis()),
        payload: ReplyPayload {
            thread_key: conversation.thread_key.clone(),
            conversation_kind: Some(conversation.kind),
            in_reply_to: message.platform_id.clone(),
            text,
            template: None,
        },
        automatic: true,
    }))
}

/// Whether a channel's auto-reply settings allow automatic replies on public threads.
pub(crate) fn public_comments_allowed(json: Option<&str>) -> bool {
    stored_auto_reply(json).public_comments
}

/// An auto-reply-shaped setting (the auto-reply, the closing question) as saved; off when
/// absent or unreadable.
pub(crate) fn stored_auto_reply(json: Option<&str>) -> AutoReply {
    json.and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// A document that makes a calendar, with its JSON; or why not.
fn checked_hours(document: HoursDocument) -> Result<(HoursDocument, String), AppError> {
    let calendar = document
        .calendar()
        .map_err(|err| AppError::invalid("invalid_business_hours", err.to_string()))?;
    // Stored as read back from the calendar: sorted, canonical ranges.
    let document = HoursDocument::of(&calendar);
    let json = serde_json::to_string(&document).expect("hours serialize");
    Ok((document, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_auto_reply_needs_known_languages_and_its_default_text() {
        let mut reply = AutoReply {
            enabled: true,
            texts: BTreeMap::from([("en".to_owned(), "Back {{back_at}}".to_owned())]),
            ..AutoReply::default()
        };
        assert!(matches!(
            reply.clone().validated(),
            Err(AppError::Invalid {
                code: "missing_text",
                ..
            })
        ));
        reply.default_language = "EN".into();
        let valid = reply.clone().validated().unwrap();
        assert_eq!(valid.default_language, "en");
        assert_eq!(valid.text_for(Some("es")), Some(("en", "Back {{back_at}}")));
        reply.texts.insert("xx".into(), "?".into());
        assert!(matches!(
            reply.validated(),
            Err(AppError::Invalid {
                code: "unknown_language",
                ..
            })
        ));
    }
}
