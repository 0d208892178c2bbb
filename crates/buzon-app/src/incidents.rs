//! Incident mode and spike detection.
//!
//! While an incident is on, each new customer message that mentions one of its keywords joins
//! it: the conversation gets the incident's label and, once, the incident's message as an
//! automatic reply (in the customer's language; by the same rules as the out-of-hours reply:
//! never to trolls, spammers or blocked authors, within the platform's window, on public
//! threads only where the channel's auto-reply allows it). When it ends, an agent answers
//! every conversation of the incident at once with one text, through the outbox.
//!
//! Spike detection looks every minute at the customer messages of the last ten minutes: when
//! there are at least [`SPIKE_MIN_MESSAGES`] and five times the usual for that hour of the
//! week (the mean of the same ten minutes over the four previous weeks), or when at least
//! [`SPIKE_MIN_MESSAGES`] of them share a word, it raises a "possible incident" banner with
//! the shared words and samples, and alerts whoever is on call, so the team can start
//! incident mode in one click.

use crate::alerts::{folded, mentions_any};
use crate::{target, Actor, App, AppError};
use buzon_core::*;
use buzon_store::{NewAlertDelivery, StoreError, StoreTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The window spike detection counts over.
pub const SPIKE_WINDOW_MILLIS: i64 = 10 * 60_000;
/// The fewest messages in the window that can make a spike.
pub const SPIKE_MIN_MESSAGES: i64 = 20;
/// How many times the usual volume makes a spike.
pub const SPIKE_FACTOR: i64 = 5;
/// The name of the current spike among the team settings.
const SPIKE: &str = "spike";
/// How far back starting an incident looks for customers who already wrote about it.
const JOIN_LOOKBACK_MILLIS: i64 = 60 * 60_000;
/// Words too common to say what a burst is about.
const COMMON: [&str; 62] = [
    "que", "the", "and", "por", "los", "las", "del", "una", "con", "you", "not", "for", "are",
    "but", "hay", "mas", "muy", "sin", "ese", "esa", "mis", "hoy", "hola", "para", "como", "pero",
    "esta", "este", "estoy", "tengo", "porque", "cuando", "donde", "nada", "todo", "todos",
    "desde", "hace", "sigue", "sois", "with", "that", "this", "have", "from", "what", "your",
    "when", "there", "they", "just", "still", "tienda", "buzon", "gracias", "thanks", "please",
    "favor", "alguien", "someone", "about", "will",
];

/// An incident as the API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Checkout down", "keywords": ["caída", "no funciona", "down"], "texts": {"es": "Sabemos que el pago falla; lo estamos arreglando.", "en": "We know checkout fails; we are fixing it."}, "label": "incidente"}))]
pub struct IncidentInput {
    /// What happened, for the team.
    pub title: String,
    /// Words or phrases customers use about it.
    pub keywords: Vec<String>,
    /// The message per language (ISO 639-1); the first language given is the default.
    pub texts: BTreeMap<String, String>,
    /// The label its conversations get.
    #[serde(default = "incident_label")]
    pub label: String,
}

buzon_core::schema_with_fields!(Incident: IncidentInput, {
    /// Its id.
    id: i64,
    /// Whether it is on.
    active: bool,
    /// When it started (RFC 3339).
    started_at: String,
    /// When it ended.
    ended_at: Option<String>,
    /// Who started it.
    started_by: String,
    /// How many conversations joined it.
    conversations: i64,
});

fn incident_label() -> String {
    "incidente".to_owned()
}

/// An incident as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// Its id.
    pub id: i64,
    /// Title, keywords, texts, label.
    #[serde(flatten)]
    pub incident: IncidentInput,
    /// Whether it is on.
    pub active: bool,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended.
    pub ended_at: Option<String>,
    /// Who started it.
    pub started_by: String,
    /// How many conversations joined it.
    pub conversations: i64,
}

/// What a bulk reply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BulkReply {
    /// Replies queued.
    pub queued: usize,
    /// Conversations left out: the platform's window had closed, or the same text was sent
    /// to it before.
    pub skipped: usize,
}

/// A burst of customer messages buzon noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Spike {
    /// When it was first seen (RFC 3339).
    pub detected_at: String,
    /// Customer messages in the last ten minutes.
    pub recent: i64,
    /// The usual for those ten minutes of the week.
    pub usual: i64,
    /// The words many of them share.
    pub words: Vec<String>,
    /// A few of them.
    pub samples: Vec<SpikeSample>,
}

/// One message of a burst.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SpikeSample {
    /// Its conversation.
    pub conversation_id: i64,
    /// Its text (shortened).
    pub text: String,
}

impl IncidentInput {
    fn validated(mut self) -> Result<IncidentInput, AppError> {
        let invalid = |message: &str| AppError::invalid("invalid_incident", message.to_owned());
        self.title = self.title.trim().chars().take(120).collect();
        if self.title.is_empty() {
            return Err(invalid("the incident needs a title"));
        }
        self.keywords = self
            .keywords
            .iter()
            .map(|word| sanitize_text(word.trim()).to_lowercase())
            .filter(|word| !word.is_empty())
            .collect();
        if self.keywords.is_empty() || self.keywords.len() > 50 {
            return Err(invalid("the incident needs 1 to 50 keywords"));
        }
        if self.keywords.iter().any(|word| word.chars().count() > 100) {
            return Err(invalid("a keyword is longer than 100 characters"));
        }
        let mut texts = BTreeMap::new();
        for (language, text) in std::mem::take(&mut self.texts) {
            let language = language.trim().to_lowercase();
            if !is_known_language(&language) {
                return Err(invalid("unknown language for a text"));
            }
            let text = text.trim();
            if text.chars().count() > 1_000 {
                return Err(invalid("a text is longer than 1000 characters"));
            }
            if !text.is_empty() {
                texts.insert(language, sanitize_text(text));
            }
        }
        if texts.is_empty() {
            return Err(invalid(
                "the incident needs its message in at least one language",
            ));
        }
        self.texts = texts;
        self.label = Label::parse(&self.label)?.as_str().to_owned();
        Ok(self)
    }

    /// The text for a customer who wrote in `language`: theirs, else Spanish, else English,
    /// else the first.
    fn text_for(&self, language: Option<&str>) -> Option<&str> {
        language
            .and_then(|language| self.texts.get(language))
            .or_else(|| self.texts.get("es"))
            .or_else(|| self.texts.get("en"))
            .or_else(|| self.texts.values().next())
            .map(String::as_str)
    }
}

impl App {
    /// Incidents, the ones on first. Any role.
    pub async fn incidents(&self, actor: &Actor) -> Result<Vec<Incident>, AppError> {
        actor.require(Role::Viewer)?;
        self.stored_incidents().await
    }

    pub(crate) async fn stored_incidents(&self) -> Result<Vec<Incident>, AppError> {
        Ok(self
            .store()
            .incidents(100)
            .await?
            .into_iter()
            .filter_map(|stored| {
                let incident: IncidentInput = serde_json::from_str(&stored.definition).ok()?;
                Some(Incident {
                    id: stored.id,
                    incident,
                    active: stored.ended_at.is_none(),
                    started_at: stored.started_at.to_rfc3339(),
                    ended_at: stored.ended_at.map(Timestamp::to_rfc3339),
                    started_by: stored.started_by,
                    conversations: stored.conversations,
                })
            })
            .collect())
    }

    /// Announces an incident: from now on, matching messages join it and get its message.
    /// Agents and admins. The spike banner, if any, goes away.
    pub async fn start_incident(
        &self,
        actor: &Actor,
        incident: IncidentInput,
    ) -> Result<Incident, AppError> {
        actor.require(Role::Agent)?;
        let incident = incident.validated()?;
        let definition = serde_json::to_string(&incident).expect("an incident serializes");
        let mut tx = self.store().begin().await?;
        let id = tx
            .start_incident(&incident.title, &definition, &actor.audit_name())
            .await?;
        tx.set_team_setting(SPIKE, None).await?;
        tx.audit(
            &actor.audit_name(),
            "incident.start",
            &target("incident", id),
            &json!({"title": incident.title, "keywords": incident.keywords}),
        )
        .await?;
        tx.commit().await?;
        let started = self
            .stored_incidents()
            .await?
            .into_iter()
            .find(|stored| stored.id == id)
            .ok_or(AppError::NotFound)?;
        // Those who wrote about it in the last hour join it too, and get its message.
        let since = Timestamp::now().plus_millis(-JOIN_LOOKBACK_MILLIS);
        let now = Timestamp::now();
        let mut public: HashMap<ChannelId, bool> = HashMap::new();
        let mut replied = false;
        for recent in self.store().inbound_since(since, 2_000).await? {
            if !mentions_any(&recent.text, &started.incident.keywords) {
                continue;
            }
            // What listening found and nobody promoted is not answered in bulk.
            if self
                .store()
                .conversation(recent.conversation_id)
                .await?
                .monitor
                .is_some()
            {
                continue;
            }
            let message = self.store().message(recent.id).await?;
            if let std::collections::hash_map::Entry::Vacant(entry) =
                public.entry(message.channel_id)
            {
                let service = self.store().channel_service(message.channel_id).await?;
                entry.insert(crate::service::public_comments_allowed(
                    service.auto_reply.as_deref(),
                ));
            }
            let mut tx = self.store().begin().await?;
            replied |= self
                .apply_incidents(
                    &mut tx,
                    std::slice::from_ref(&started),
                    &message,
                    public[&message.channel_id],
                    now,
                )
                .await?;
            tx.commit().await?;
        }
        if replied {
            self.wake_workers();
        }
        self.activity_changed();
        self.stored_incidents()
            .await?
            .into_iter()
            .find(|stored| stored.id == id)
            .ok_or(AppError::NotFound)
    }

    /// Ends an incident: no more automatic replies for it. Agents and admins.
    pub async fn end_incident(&self, actor: &Actor, id: i64) -> Result<Incident, AppError> {
        actor.require(Role::Agent)?;
        let mut tx = self.store().begin().await?;
        tx.end_incident(id).await?;
        tx.audit(
            &actor.audit_name(),
            "incident.end",
            &target("incident", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.activity_changed();
        self.stored_incidents()
            .await?
            .into_iter()
            .find(|stored| stored.id == id)
            .ok_or(AppError::NotFound)
    }

    /// Answers every conversation of an incident with `text`, one reply each through the
    /// outbox (a person's reply: it ends the wait). Conversations whose platform window has
    /// closed are left out, and so are those that had this same text from it before.
    pub async fn bulk_reply(
        &self,
        actor: &Actor,
        id: i64,
        text: &str,
    ) -> Result<BulkReply, AppError> {
        actor.require(Role::Agent)?;
        let text = sanitize_text(text.trim());
        if text.is_empty() {
            return Err(AppError::invalid("empty_reply", "the reply is empty"));
        }
        if text.len() > crate::MAX_REPLY_BYTES {
            return Err(AppError::invalid("reply_too_long", "the reply is too long"));
        }
        if !self
            .stored_incidents()
            .await?
            .iter()
            .any(|incident| incident.id == id)
        {
            return Err(AppError::NotFound);
        }
        let digest = short_digest(&text);
        let now = Timestamp::now();
        let mut result = BulkReply {
            queued: 0,
            skipped: 0,
        };
        for conversation_id in self.store().incident_conversations(id).await? {
            let conversation = self.store().conversation(conversation_id).await?;
            if conversation.reply_window_closed(now) {
                result.skipped += 1;
                continue;
            }
            let in_reply_to = self
                .store()
                .latest_inbound_platform_id(conversation.id)
                .await?;
            let reply = reply_to(
                &conversation,
                in_reply_to,
                &text,
                format!("incident-bulk:{id}:{}:{digest}", conversation.id),
                actor.user_id(),
                false,
            );
            let mut tx = self.store().begin().await?;
            match tx.queue_reply(&reply).await {
                Ok(queued) if queued.new => {
                    tx.audit(
                        &actor.audit_name(),
                        "incident.bulk_reply",
                        &target("conversation", conversation.id),
                        &json!({"incident_id": id, "message_id": queued.message.id}),
                    )
                    .await?;
                    tx.commit().await?;
                    result.queued += 1;
                }
                Ok(_) | Err(StoreError::Conflict) => result.skipped += 1,
                Err(err) => return Err(err.into()),
            }
        }
        if result.queued > 0 {
            self.wake_workers();
        }
        Ok(result)
    }

    /// The incidents that are on (for the rules and the banners).
    pub(crate) async fn active_incidents(&self) -> Result<Vec<Incident>, AppError> {
        Ok(self
            .stored_incidents()
            .await?
            .into_iter()
            .filter(|incident| incident.active)
            .collect())
    }

    /// Joins a new customer message to the incidents it mentions and queues the incident's
    /// automatic reply once per conversation; returns whether an automatic reply was queued
    /// (then the out-of-hours one is not needed).
    pub(crate) async fn apply_incidents(
        &self,
        tx: &mut StoreTx,
        incidents: &[Incident],
        message: &Message,
        public_allowed: bool,
        now: Timestamp,
    ) -> Result<bool, AppError> {
        let mut replied = false;
        for incident in incidents {
            if !mentions_any(&message.text, &incident.incident.keywords) {
                continue;
            }
            let conversation = tx.conversation(message.conversation_id).await?;
            tx.join_incident(incident.id, conversation.id).await?;
            let label = Label::parse(&incident.incident.label)?;
            tx.tag_conversation(conversation.id, std::slice::from_ref(&label), &[])
                .await?;
            if replied
                || tx.author_flagged(message.id).await?
                || conversation.reply_window_closed(now)
                || (!conversation.kind.is_private() && !public_allowed)
            {
                continue;
            }
            let Some(text) = incident.incident.text_for(message.language.as_deref()) else {
                continue;
            };
            let reply = reply_to(
                &conversation,
                message.platform_id.clone(),
                text,
                format!("incident:{}:{}", incident.id, conversation.id),
                None,
                true,
            );
            match tx.queue_reply(&reply).await {
                Ok(queued) => {
                    if queued.new {
                        tx.audit(
                            &Actor::System("incidents").audit_name(),
                            "conversation.incident_reply",
                            &target("conversation", conversation.id),
                            &json!({"incident_id": incident.id, "message_id": queued.message.id}),
                        )
                        .await?;
                    }
                    replied = true;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(replied)
    }

    /// The burst buzon noticed, while it lasts and no incident is on.
    pub async fn spike(&self, actor: &Actor) -> Result<Option<Spike>, AppError> {
        actor.require(Role::Viewer)?;
        if !self.active_incidents().await?.is_empty() {
            return Ok(None);
        }
        Ok(self
            .store()
            .team_setting(SPIKE)
            .await?
            .and_then(|(json, _)| serde_json::from_str(&json).ok()))
    }

    /// Looks for a burst of customer messages (see the module's notes): raises or clears the
    /// "possible incident" banner, and alerts whoever is on call when one starts. Returns
    /// whether a burst is on.
    pub async fn detect_spike(&self) -> Result<bool, AppError> {
        let now = Timestamp::now();
        let since = now.plus_millis(-SPIKE_WINDOW_MILLIS);
        let recent = self.store().inbound_between(since, now).await?;
        let mut usual_total = 0;
        for weeks in 1..=4 {
            let shift = weeks * 7 * buzon_core::metrics::DAY_MILLIS;
            usual_total += self
                .store()
                .inbound_between(since.plus_millis(-shift), now.plus_millis(-shift))
                .await?;
        }
        let usual = usual_total / 4;
        let stored: Option<Spike> = self
            .store()
            .team_setting(SPIKE)
            .await?
            .and_then(|(json, _)| serde_json::from_str(&json).ok());
        if recent < SPIKE_MIN_MESSAGES / 2 {
            if stored.is_some() {
                let mut tx = self.store().begin().await?;
                tx.set_team_setting(SPIKE, None).await?;
                tx.audit(
                    &Actor::System("spikes").audit_name(),
                    "spike.over",
                    "team",
                    &json!({"recent": recent}),
                )
                .await?;
                tx.commit().await?;
                self.activity_changed();
            }
            return Ok(false);
        }
        let messages = self.store().inbound_since(since, 500).await?;
        let words = shared_words(messages.iter().map(|message| message.text.as_str()));
        let volume = recent >= SPIKE_MIN_MESSAGES && recent >= SPIKE_FACTOR * usual.max(1);
        let topical = words
            .first()
            .is_some_and(|(_, count)| *count as i64 >= SPIKE_MIN_MESSAGES);
        if !(volume || topical) {
            return Ok(stored.is_some());
        }
        if !self.active_incidents().await?.is_empty() {
            return Ok(true);
        }
        let spike = Spike {
            detected_at: stored
                .as_ref()
                .map(|spike| spike.detected_at.clone())
                .unwrap_or_else(|| now.to_rfc3339()),
            recent,
            usual,
            words: words.iter().take(3).map(|(word, _)| word.clone()).collect(),
            // The messages that share the top word say best what the burst is about.
            samples: messages
                .iter()
                .filter(|message| {
                    words.first().is_none_or(|(word, _)| {
                        folded(&message.text).contains(&format!(" {word} "))
                    })
                })
                .take(5)
                .map(|message| SpikeSample {
                    conversation_id: message.conversation_id.get(),
                    text: message.text.chars().take(160).collect(),
                })
                .collect(),
        };
        let mut tx = self.store().begin().await?;
        tx.set_team_setting(
            SPIKE,
            Some(&serde_json::to_string(&spike).expect("a spike serializes")),
        )
        .await?;
        if stored.is_none() {
            tx.audit(
                &Actor::System("spikes").audit_name(),
                "spike.detected",
                "team",
                &json!({"recent": recent, "usual": usual, "words": spike.words}),
            )
            .await?;
            // Whoever is on call hears of it once (rule 0 is spike detection).
            if let Some(first) = messages.first() {
                let on_call = self.stored_on_call().await?;
                let payload = json!({
                    "event": "possible_incident",
                    "rule": {"id": 0, "name": "spike"},
                    "recent": recent, "usual": usual, "words": spike.words,
                    "samples": spike.samples,
                    "conversation": {"id": first.conversation_id},
                    "at": now.to_rfc3339(),
                })
                .to_string();
                for address in on_call.on_call_at(self.now()) {
                    tx.queue_alert_delivery(&NewAlertDelivery {
                        rule_id: 0,
                        conversation_id: first.conversation_id,
                        kind: "email",
                        destination: address,
                        payload: payload.clone(),
                    })
                    .await?;
                }
            }
        }
        tx.commit().await?;
        if stored.is_none() {
            self.activity_changed();
            self.wake_workers();
        }
        Ok(true)
    }
}

/// The words of at least three letters that many texts share, most shared first, with how
/// many texts have each (common words left out).
fn shared_words<'t>(texts: impl Iterator<Item = &'t str>) -> Vec<(String, usize)> {
    let common: HashSet<&str> = COMMON.into_iter().collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for text in texts {
        let words: HashSet<String> = folded(text)
            .split_whitespace()
            .filter(|word| word.chars().count() >= 3 && !common.contains(word))
            .map(str::to_owned)
            .collect();
        for word in words {
            *counts.entry(word).or_default() += 1;
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().filter(|(_, n)| *n >= 3).collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words
}

/// Eight hex digits of a text's SHA-free digest (FNV-1a): tells two bulk texts apart.
fn short_digest(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:016x}", hash)
}

/// A reply to `conversation`, answering `in_reply_to`.
pub(crate) fn reply_to(
    conversation: &Conversation,
    in_reply_to: Option<ExternalId>,
    text: &str,
    idempotency_key: String,
    user_id: Option<UserId>,
    automatic: bool,
) -> NewOutboundReply {
    let text = bound_text(text, MAX_MESSAGE_BYTES);
    NewOutboundReply {
        conversation_id: conversation.id,
        user_id,
        text: text.clone(),
        idempotency_key,
        payload: ReplyPayload {
            thread_key: conversation.thread_key.clone(),
            conversation_kind: Some(conversation.kind),
            in_reply_to,
            text,
            template: None,
        },
        automatic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_about_the_words_its_messages_share() {
        let texts = [
            "¿Está caída la web? No puedo pagar",
            "La web no funciona desde hace una hora",
            "no carga la web, ¿qué pasa?",
            "hola, quería saber el precio de la camiseta",
        ];
        let words = shared_words(texts.into_iter());
        assert_eq!(words[0], ("web".to_owned(), 3));
    }
}
