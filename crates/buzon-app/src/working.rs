//! Working the queue: the canned-reply library (shared and personal, placeholders filled once
//! at send time, usage counted), snoozing until a time and coming back, escalation to the
//! supervisors (by hand with a note, or by a rule on waiting time in business hours), and the
//! channel's reply signature.

use crate::conversations::{labels_of, language_code, reply_text, Queued};
use crate::{target, Actor, App, AppError, AutoReply};
use buzon_core::metrics::{snooze_until, BusinessCalendar};
use buzon_core::*;
use buzon_store::{CannedReplyInput, EscalationRule, NewAlertDelivery, StoreError};
use serde::Deserialize;
use serde_json::json;

/// The longest canned-reply name, in characters.
const MAX_CANNED_NAME: usize = 100;
/// The longest shortcut, in characters.
const MAX_SHORTCUT: usize = 32;
/// The longest escalation note, in bytes.
const MAX_ESCALATION_NOTE: usize = 4096;
/// How many snoozed conversations one wake-up brings back at most.
const WAKE_BATCH: u32 = 500;

/// A canned reply as an agent or admin writes it (the API's JSON and the library's form).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "Shipping delay", "shortcut": "envios", "text": "Hola {{customer.first_name}}, tu pedido sale mañana.", "language": "es", "labels": ["envios"]}))]
pub struct CannedReplyForm {
    /// Its name.
    pub name: String,
    /// What to type after `/`: letters, digits, `-` and `_`.
    pub shortcut: String,
    /// The text, with placeholders.
    pub text: String,
    /// ISO 639-1; empty or absent: any language.
    #[serde(default)]
    pub language: Option<String>,
    /// Labels of the conversations it suits.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Shared with the team (admins only; the default for admins) or the author's own (the
    /// default for agents).
    #[serde(default)]
    pub shared: Option<bool>,
}

impl CannedReplyForm {
    fn validated(&self) -> Result<CannedReplyInput, AppError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_CANNED_NAME {
            return Err(AppError::invalid(
                "bad_name",
                format!("the name must have 1 to {MAX_CANNED_NAME} characters"),
            ));
        }
        let shortcut = self.shortcut.trim().trim_start_matches('/').to_lowercase();
        if shortcut.is_empty()
            || shortcut.chars().count() > MAX_SHORTCUT
            || !shortcut
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AppError::invalid(
                "bad_shortcut",
                format!("the shortcut must have 1 to {MAX_SHORTCUT} letters, digits, - or _"),
            ));
        }
        let text = reply_text(&self.text)?;
        if let Some(unknown) = unknown_placeholder(&text, &REPLY_PLACEHOLDERS) {
            return Err(unknown_placeholder_error(unknown));
        }
        let language = language_code(self.language.as_deref())?;
        let mut labels = labels_of(&self.labels)?;
        labels.sort();
        labels.dedup();
        Ok(CannedReplyInput {
            name: sanitize_text(name),
            shortcut,
            text,
            language,
            labels,
        })
    }
}

fn unknown_placeholder_error(name: &str) -> AppError {
    AppError::invalid(
        "unknown_placeholder",
        format!(
            "unknown placeholder {{{{{name}}}}}: the known ones are {}",
            REPLY_PLACEHOLDERS
                .iter()
                .map(|known| format!("{{{{{known}}}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// The values a reply's placeholders take in a conversation (shown beside the reply box).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceholderValues {
    /// `(name, value)` in [`REPLY_PLACEHOLDERS`] order; a value is none when it cannot be
    /// filled (a token that acts for no user has no first name).
    pub values: Vec<(&'static str, Option<String>)>,
}

impl PlaceholderValues {
    fn get(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(known, _)| *known == name)
            .and_then(|(_, value)| value.clone())
    }
}

/// Escalations and satisfaction in a report's period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFigures {
    /// Escalations.
    pub escalations: EscalationCounts,
    /// Answers to the closing question.
    pub satisfaction: SatisfactionReport,
}

/// Answers to closing questions: how many, how many satisfied, and the rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SatisfactionFigures {
    /// Answers.
    pub answers: u64,
    /// Satisfied answers.
    pub satisfied: u64,
    /// Satisfied / answers (none without answers).
    pub rate: Option<f64>,
}

impl SatisfactionFigures {
    fn add(&mut self, satisfied: bool) {
        self.answers += 1;
        self.satisfied += u64::from(satisfied);
        self.rate = Some(self.satisfied as f64 / self.answers as f64);
    }
}

/// Satisfaction in a period, in all and per group.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SatisfactionReport {
    /// Every answer.
    pub overall: SatisfactionFigures,
    /// Per agent who resolved the conversation (keyed by user id).
    #[schema(value_type = std::collections::BTreeMap<String, SatisfactionFigures>)]
    pub by_agent: std::collections::BTreeMap<UserId, SatisfactionFigures>,
    /// Per channel (keyed by channel id).
    #[schema(value_type = std::collections::BTreeMap<String, SatisfactionFigures>)]
    pub by_channel: std::collections::BTreeMap<ChannelId, SatisfactionFigures>,
    /// Per conversation label.
    pub by_label: std::collections::BTreeMap<String, SatisfactionFigures>,
}

/// Escalations in a period, for the reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct EscalationCounts {
    /// Every escalation.
    pub total: u64,
    /// Those a waiting-time rule made.
    pub by_rule: u64,
    /// Those an agent made, with a note.
    pub by_hand: u64,
}

/// How long a closing question waits for its answer.
pub(crate) const SURVEY_ANSWER_MILLIS: i64 = 7 * 24 * 60 * 60 * 1000;

/// What a customer's message says to "Did this solve it? Reply 1 for yes, 2 for no": satisfied,
/// not, or no answer at all (anything else is a message like any other).
pub fn closing_answer(text: &str) -> Option<bool> {
    let answer: String = text
        .trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || c == '¡' || c == '¿')
        .to_lowercase();
    match answer.as_str() {
        "1" | "si" | "sí" | "yes" | "y" | "sim" | "oui" | "ja" | "👍" => Some(true),
        "2" | "no" | "n" | "não" | "nao" | "non" | "nein" | "👎" => Some(false),
        _ => None,
    }
}

/// Records `message` as the answer to its conversation's pending closing question, if it is
/// one; returns what it said.
pub(crate) async fn record_if_answer(
    tx: &mut buzon_store::StoreTx,
    message: &Message,
    since: Timestamp,
    now: Timestamp,
) -> Result<Option<bool>, AppError> {
    let Some(satisfied) = closing_answer(&message.text) else {
        return Ok(None);
    };
    let Some(request) = tx
        .pending_satisfaction(message.conversation_id, message.id, since)
        .await?
    else {
        return Ok(None);
    };
    tx.record_satisfaction(request, message, satisfied, now)
        .await?;
    tx.audit(
        "system:closing-question",
        "conversation.satisfaction",
        &target("conversation", message.conversation_id),
        &json!({"satisfied": satisfied}),
    )
    .await?;
    Ok(Some(satisfied))
}

/// The first word of a name (or the whole of it).
fn first_name(name: &str) -> String {
    name.split_whitespace().next().unwrap_or(name).to_owned()
}

impl App {
    /// The canned replies an actor may use: the shared ones and their own (admins see every
    /// one), matching `q` and `language`, most used first. Every role may read them.
    pub async fn canned_replies(
        &self,
        actor: &Actor,
        q: Option<&str>,
        language: Option<&str>,
    ) -> Result<Vec<CannedReply>, AppError> {
        actor.require(Role::Viewer)?;
        let q = q.map(str::trim).filter(|q| !q.is_empty());
        let language = language
            .map(str::trim)
            .filter(|language| !language.is_empty());
        Ok(self
            .store()
            .canned_replies(actor.user_id(), actor.role() == Role::Admin, q, language)
            .await?)
    }

    /// The canned replies offered in a conversation: those in its language first, then those
    /// for any language, then the rest; within each, those whose labels it has first, then
    /// the most used.
    pub async fn canned_for(
        &self,
        actor: &Actor,
        conversation: &Conversation,
    ) -> Result<Vec<CannedReply>, AppError> {
        let mut replies = self.canned_replies(actor, None, None).await?;
        let language = conversation.language.as_deref();
        replies.sort_by_key(|reply| {
            let language_rank = match (reply.language.as_deref(), language) {
                (Some(own), Some(wanted)) if own == wanted => 0,
                (None, _) => 1,
                _ => 2,
            };
            let label_rank = if reply.labels.iter().any(|l| conversation.labels.contains(l)) {
                0
            } else {
                1
            };
            (language_rank, label_rank, -reply.uses)
        });
        Ok(replies)
    }

    /// Saves a canned reply (new with `id` none). Agents save their own; admins also curate
    /// the shared ones (and may change any). A taken shortcut is a conflict.
    pub async fn save_canned_reply(
        &self,
        actor: &Actor,
        id: Option<i64>,
        form: &CannedReplyForm,
    ) -> Result<CannedReply, AppError> {
        actor.require(Role::Agent)?;
        let input = form.validated()?;
        let admin = actor.role() == Role::Admin;
        let mut tx = self.store().begin().await?;
        let saved = match id {
            None => {
                let shared = form.shared.unwrap_or(admin);
                if shared && !admin {
                    return Err(AppError::Forbidden);
                }
                let owner = if shared {
                    None
                } else {
                    Some(actor.user_id().ok_or_else(|| {
                        AppError::invalid(
                            "no_user",
                            "this token acts for no user: only shared replies",
                        )
                    })?)
                };
                tx.insert_canned_reply(&input, owner).await
            }
            Some(id) => {
                let existing = tx.canned_reply(id).await?;
                if !admin && (existing.owner_id.is_none() || existing.owner_id != actor.user_id()) {
                    return Err(AppError::Forbidden);
                }
                tx.update_canned_reply(id, &input).await.map(|()| id)
            }
        };
        let saved = match saved {
            Ok(id) => id,
            Err(StoreError::Conflict) => {
                return Err(AppError::Conflict {
                    code: "shortcut_taken",
                    message: format!("another reply already has the shortcut /{}", input.shortcut),
                })
            }
            Err(err) => return Err(err.into()),
        };
        tx.audit(
            &actor.audit_name(),
            if id.is_some() {
                "canned_reply.update"
            } else {
                "canned_reply.create"
            },
            &target("canned_reply", saved),
            &json!({"shortcut": input.shortcut}),
        )
        .await?;
        tx.commit().await?;
        Ok(self.store().canned_reply(saved).await?)
    }

    /// Deletes a canned reply: an agent their own, an admin any.
    pub async fn delete_canned_reply(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let mut tx = self.store().begin().await?;
        let existing = tx.canned_reply(id).await?;
        if actor.role() != Role::Admin
            && (existing.owner_id.is_none() || existing.owner_id != actor.user_id())
        {
            return Err(AppError::Forbidden);
        }
        tx.delete_canned_reply(id).await?;
        tx.audit(
            &actor.audit_name(),
            "canned_reply.delete",
            &target("canned_reply", id),
            &json!({"shortcut": existing.shortcut}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends a canned reply (its text, or `text` when the agent edited it after picking it),
    /// placeholders filled once, counting the use. Agents and admins.
    pub async fn reply_canned(
        &self,
        actor: &Actor,
        id: ConversationId,
        canned_reply: i64,
        text: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<Queued, AppError> {
        actor.require(Role::Agent)?;
        let canned = self.store().canned_reply(canned_reply).await?;
        if canned.owner_id.is_some() && canned.owner_id != actor.user_id() {
            return Err(AppError::NotFound);
        }
        let conversation = self.store().conversation(id).await?;
        let text = text
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .unwrap_or(&canned.text)
            .to_owned();
        self.send_text(actor, conversation, &text, Some(canned.id), idempotency_key)
            .await
    }

    /// What each placeholder means in a conversation, for this actor.
    pub async fn placeholder_values(
        &self,
        actor: &Actor,
        conversation: &Conversation,
    ) -> Result<PlaceholderValues, AppError> {
        let contact = self.store().contact(conversation.contact_id).await?;
        let customer = contact
            .name
            .clone()
            .or_else(|| {
                contact
                    .handle
                    .clone()
                    .map(|h| h.trim_start_matches('@').to_owned())
            })
            .unwrap_or_default();
        let agent = match actor.user_id() {
            Some(_) => Some(self.agent_first_name(actor).await?),
            None => None,
        };
        let language = conversation.language.as_deref().unwrap_or("en");
        let opening = self.opening_state(Some(conversation.channel_id)).await?;
        let back_at = match opening.back_at_text(language) {
            Some(back_at) => back_at,
            None if language == "es" => "en breve".to_owned(),
            None => "shortly".to_owned(),
        };
        Ok(PlaceholderValues {
            values: vec![
                ("customer.first_name", Some(first_name(&customer))),
                ("customer.name", Some(customer)),
                ("agent.first_name", agent),
                ("back_at", Some(back_at)),
                ("conversation.id", Some(conversation.id.to_string())),
            ],
        })
    }

    /// Fills a reply's placeholders once; an unknown one (or one with no value) is refused.
    pub(crate) async fn fill_reply(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        text: &str,
    ) -> Result<String, AppError> {
        if !text.contains("{{") {
            return Ok(text.to_owned());
        }
        if let Some(unknown) = unknown_placeholder(text, &REPLY_PLACEHOLDERS) {
            return Err(unknown_placeholder_error(unknown));
        }
        let values = self.placeholder_values(actor, conversation).await?;
        fill_placeholders(text, |name| values.get(name)).map_err(|name| {
            AppError::invalid(
                "unfilled_placeholder",
                format!("{{{{{name}}}}} has no value here (this token acts for no user)"),
            )
        })
    }

    pub(crate) async fn agent_first_name(&self, actor: &Actor) -> Result<String, AppError> {
        let user = actor
            .user_id()
            .ok_or_else(|| AppError::invalid("no_user", "this token acts for no user"))?;
        Ok(first_name(&self.store().user(user).await?.name))
    }

    /// Snoozes a conversation until a choice read in the viewer's time zone (`zone`, an IANA
    /// name from the browser; the team's zone when absent or unknown): `later`, `tomorrow`,
    /// `monday`, a local `YYYY-MM-DDTHH:MM`, or an RFC 3339 instant.
    pub async fn snooze_until_choice(
        &self,
        actor: &Actor,
        id: ConversationId,
        choice: &str,
        zone: Option<&str>,
    ) -> Result<Timestamp, AppError> {
        actor.require(Role::Agent)?;
        let calendar = match zone
            .map(str::trim)
            .filter(|zone| !zone.is_empty())
            .and_then(|zone| BusinessCalendar::always_open_in(zone).ok())
        {
            Some(calendar) => calendar,
            None => {
                let team = self.team_calendar().await?;
                BusinessCalendar::always_open_in(team.time_zone())
                    .unwrap_or_else(|_| BusinessCalendar::always_open())
            }
        };
        let until = snooze_until(choice, &calendar, self.now())
            .map_err(|message| AppError::invalid("bad_until", message))?;
        self.snooze(actor, id, Some(until)).await?;
        Ok(until)
    }

    /// The rules that run on time: escalations of conversations waiting past a target, then
    /// snoozed conversations whose time has come, both judged at one reading of the app's clock
    /// (so whoever sees a conversation come back knows the escalations of that moment are done).
    /// Returns (escalated, returned).
    pub async fn run_timed_rules(&self) -> Result<(usize, usize), AppError> {
        let now = self.now();
        let escalated = self.run_escalation_rules(now).await?;
        let returned = self.wake_snoozed(now).await?;
        if returned > 0 {
            // Open queues show them back at once.
            self.wake_workers();
        }
        Ok((escalated, returned))
    }

    /// Brings back the snoozed conversations whose time has come at `now`, marked; each return
    /// is in the audit log. Returns how many came back.
    pub async fn wake_snoozed(&self, now: Timestamp) -> Result<usize, AppError> {
        let mut tx = self.store().begin().await?;
        let woken = tx.wake_snoozed(now, WAKE_BATCH).await?;
        for id in &woken {
            tx.audit(
                "buzon",
                "conversation.snooze_ended",
                &target("conversation", *id),
                &json!({"at": now.to_rfc3339()}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(woken.len())
    }

    /// Escalates a conversation to the supervisors with a note. Agents and admins.
    pub async fn escalate(
        &self,
        actor: &Actor,
        id: ConversationId,
        note: &str,
    ) -> Result<(), AppError> {
        actor.require(Role::Agent)?;
        let note = bound_text(note.trim(), MAX_ESCALATION_NOTE);
        let conversation = self.store().conversation(id).await?;
        let now = self.now();
        let by = actor.audit_name();
        let mut tx = self.store().begin().await?;
        let escalation = tx.escalate(id, &by, None, &note, now).await?;
        // A find of listening escalated by hand is the team's now: into the queue.
        if conversation.monitor.is_some() && tx.promote_conversation(id, now, false).await? {
            tx.audit(
                &by,
                "conversation.promote",
                &target("conversation", id),
                &json!({"why": "escalate"}),
            )
            .await?;
        }
        if !note.is_empty() {
            tx.add_note(id, actor.user_id(), &format!("⚑ {note}"))
                .await?;
        }
        self.notify_supervisors(&mut tx, &conversation, escalation, &by, &note, now)
            .await?;
        tx.audit(
            &by,
            "conversation.escalate",
            &target("conversation", id),
            &json!({"note": note}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// Escalates every conversation that has waited longer than a rule's target at `now`
    /// (counted in the business hours of its channel), once per wait and rule. Returns how many.
    pub async fn run_escalation_rules(&self, now: Timestamp) -> Result<usize, AppError> {
        let rules = self.store().escalation_rules().await?;
        if rules.is_empty() {
            return Ok(0);
        }
        let mut escalated = 0;
        let mut calendars: std::collections::HashMap<ChannelId, BusinessCalendar> =
            std::collections::HashMap::new();
        for rule in rules {
            let target_millis = rule.target_minutes.saturating_mul(60_000);
            // Business time is never more than wall time: only waits at least this long qualify.
            let candidates = self
                .store()
                .waiting_unescalated(
                    now.plus_millis(-target_millis),
                    rule.channel_id,
                    rule.label.as_ref(),
                    200,
                )
                .await?;
            for conversation in candidates {
                let Some(since) = conversation.waiting_since else {
                    continue;
                };
                if let std::collections::hash_map::Entry::Vacant(entry) =
                    calendars.entry(conversation.channel_id)
                {
                    entry.insert(self.channel_calendar(conversation.channel_id).await?);
                }
                let calendar = &calendars[&conversation.channel_id];
                if calendar.business_millis_between(since, now) < target_millis {
                    continue;
                }
                let by = format!("rule:{}", rule.id);
                let note = format!("waited more than {} business minutes", rule.target_minutes);
                let mut tx = self.store().begin().await?;
                let escalation = match tx
                    .escalate(conversation.id, &by, Some((rule.id, since)), &note, now)
                    .await
                {
                    Ok(escalation) => escalation,
                    Err(StoreError::Conflict) => continue,
                    Err(err) => return Err(err.into()),
                };
                self.notify_supervisors(&mut tx, &conversation, escalation, &by, &note, now)
                    .await?;
                tx.audit(
                    &by,
                    "conversation.escalate",
                    &target("conversation", conversation.id),
                    &json!({"rule_id": rule.id, "target_minutes": rule.target_minutes}),
                )
                .await?;
                tx.commit().await?;
                escalated += 1;
            }
        }
        if escalated > 0 {
            self.wake_workers();
        }
        Ok(escalated)
    }

    /// Queues an e-mail to each supervisor through the alert deliveries (the same durable,
    /// retried queue as urgent alerts).
    async fn notify_supervisors(
        &self,
        tx: &mut buzon_store::StoreTx,
        conversation: &Conversation,
        escalation: i64,
        by: &str,
        note: &str,
        now: Timestamp,
    ) -> Result<(), AppError> {
        let payload = json!({
            "event": "escalation",
            "rule": {"name": "escalation"},
            "by": by,
            "note": note,
            "conversation": {
                "id": conversation.id,
                "channel_id": conversation.channel_id,
                "channel": conversation.channel_kind.as_str(),
                "kind": conversation.kind.as_str(),
                "waiting_since": conversation.waiting_since.map(Timestamp::to_rfc3339),
                "snippet": conversation.last_message_text.as_deref().map(|text| bound_text(text, 500)),
            },
            "at": now.to_rfc3339(),
        })
        .to_string();
        for supervisor in self.store().supervisors().await? {
            tx.queue_alert_delivery(&NewAlertDelivery {
                // Escalations share the alert queue under negative ids: one e-mail per
                // escalation and supervisor.
                rule_id: -escalation,
                conversation_id: conversation.id,
                kind: "email",
                destination: supervisor.email,
                payload: payload.clone(),
            })
            .await?;
        }
        Ok(())
    }

    /// The queue's own figures for a report's period and channel: escalations and
    /// satisfaction. Every role may read them.
    pub async fn queue_figures(
        &self,
        actor: &Actor,
        data: &crate::reports::ReportData,
    ) -> Result<QueueFigures, AppError> {
        let (from, to, channel) = (data.period.start, data.period.end, data.key.channel);
        Ok(QueueFigures {
            escalations: self.escalation_counts(actor, from, to, channel).await?,
            satisfaction: self.satisfaction_report(actor, from, to, channel).await?,
        })
    }

    /// How many conversations were escalated in `[from, to)` (on one channel when given): in
    /// all, by a rule, and by hand. Every role may read it.
    pub async fn escalation_counts(
        &self,
        actor: &Actor,
        from: Timestamp,
        to: Timestamp,
        channel: Option<ChannelId>,
    ) -> Result<EscalationCounts, AppError> {
        actor.require(Role::Viewer)?;
        let escalations = self.store().escalations_between(from, to, channel).await?;
        let by_rule = escalations
            .iter()
            .filter(|escalation| escalation.escalated_by.starts_with("rule:"))
            .count() as u64;
        Ok(EscalationCounts {
            total: escalations.len() as u64,
            by_rule,
            by_hand: escalations.len() as u64 - by_rule,
        })
    }

    /// The escalation rules. Every role may read them.
    pub async fn escalation_rules(&self, actor: &Actor) -> Result<Vec<EscalationRule>, AppError> {
        actor.require(Role::Viewer)?;
        Ok(self.store().escalation_rules().await?)
    }

    /// Adds an escalation rule: conversations on `channel` (or any) with `label` (or any)
    /// waiting more than `target_minutes` business minutes. Admins only.
    pub async fn add_escalation_rule(
        &self,
        actor: &Actor,
        channel: Option<ChannelId>,
        label: Option<&str>,
        target_minutes: i64,
    ) -> Result<i64, AppError> {
        actor.require(Role::Admin)?;
        if !(1..=60 * 24 * 30).contains(&target_minutes) {
            return Err(AppError::invalid(
                "bad_target",
                "the target must be 1 to 43200 minutes",
            ));
        }
        let label = label
            .map(str::trim)
            .filter(|label| !label.is_empty())
            .map(Label::parse)
            .transpose()?;
        let mut tx = self.store().begin().await?;
        if let Some(channel) = channel {
            tx.channel(channel).await?;
        }
        let id = tx
            .add_escalation_rule(channel, label.as_ref(), target_minutes)
            .await?;
        tx.audit(
            &actor.audit_name(),
            "escalation_rule.create",
            &target("escalation_rule", id),
            &json!({"channel_id": channel, "label": label, "target_minutes": target_minutes}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes an escalation rule. Admins only.
    pub async fn delete_escalation_rule(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.delete_escalation_rule(id).await?;
        tx.audit(
            &actor.audit_name(),
            "escalation_rule.delete",
            &target("escalation_rule", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a user as a supervisor (escalations go to them), or not. Admins only.
    pub async fn set_supervisor(
        &self,
        actor: &Actor,
        user: UserId,
        supervisor: bool,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.set_supervisor(user, supervisor).await?;
        tx.audit(
            &actor.audit_name(),
            "user.supervisor",
            &target("user", user),
            &json!({"supervisor": supervisor}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Turns a channel's reply signature ("— Ana") on or off. Admins only.
    pub async fn set_channel_signature(
        &self,
        actor: &Actor,
        channel: ChannelId,
        on: bool,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.set_channel_signature(channel, on).await?;
        tx.audit(
            &actor.audit_name(),
            "channel.signature",
            &target("channel", channel),
            &json!({"on": on}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A channel's closing question (off until an admin saves one). Every role may read it.
    pub async fn closing_question(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<AutoReply, AppError> {
        actor.require(Role::Viewer)?;
        Ok(crate::service::stored_auto_reply(
            self.store()
                .channel_closing_question(channel)
                .await?
                .as_deref(),
        ))
    }

    /// Saves a channel's closing question: a text per language, sent (in the customer's
    /// language) when an agent resolves a private conversation someone answered. Admins.
    pub async fn set_closing_question(
        &self,
        actor: &Actor,
        channel: ChannelId,
        question: AutoReply,
    ) -> Result<AutoReply, AppError> {
        actor.require(Role::Admin)?;
        let question = AutoReply {
            // Never on public threads: a survey under a post is noise.
            public_comments: false,
            ..question
        }
        .validated()?;
        let json = serde_json::to_string(&question).expect("a question serializes");
        let mut tx = self.store().begin().await?;
        tx.set_channel_closing_question(channel, Some(&json))
            .await?;
        tx.audit(
            &actor.audit_name(),
            "channel.closing_question",
            &target("channel", channel),
            &json!({"enabled": question.enabled, "languages": question.texts.keys().collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(question)
    }

    /// Sends the channel's closing question in a conversation an agent just resolved (in the
    /// transaction that resolves it), when the platform allows it: a private thread, the reply
    /// window open, an author not flagged, a person's reply since the last question.
    pub(crate) async fn ask_on_resolve(
        &self,
        tx: &mut buzon_store::StoreTx,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<(), AppError> {
        let conversation = tx.conversation(id).await?;
        let now = self.now();
        if !conversation.kind.is_private() || conversation.reply_window_closed(now) {
            return Ok(());
        }
        let question = crate::service::stored_auto_reply(
            self.store()
                .channel_closing_question(conversation.channel_id)
                .await?
                .as_deref(),
        );
        if !question.enabled {
            return Ok(());
        }
        let contact = tx.contact(conversation.contact_id).await?;
        if contact
            .labels
            .iter()
            .any(|label| label.is_flagging() || label.as_str() == "bot")
        {
            return Ok(());
        }
        if !tx.answered_since_last_question(id).await? {
            return Ok(());
        }
        let Some((_, text)) = question.text_for(conversation.language.as_deref()) else {
            return Ok(());
        };
        let in_reply_to = tx.latest_inbound_platform_id(id).await?;
        let reply = crate::incidents::reply_to(
            &conversation,
            in_reply_to,
            text,
            format!("closing:{}:{}", id, now.as_millis()),
            None,
            true,
        );
        let queued = tx.queue_reply(&reply).await?;
        if queued.new {
            tx.ask_satisfaction(id, queued.message.id, actor.user_id(), now)
                .await?;
        }
        Ok(())
    }

    /// How satisfied customers said they were in `[from, to)` (on one channel when given):
    /// in all, per agent (who resolved), per channel and per label. Every role may read it.
    pub async fn satisfaction_report(
        &self,
        actor: &Actor,
        from: Timestamp,
        to: Timestamp,
        channel: Option<ChannelId>,
    ) -> Result<SatisfactionReport, AppError> {
        actor.require(Role::Viewer)?;
        let answers = self.store().satisfaction_between(from, to, channel).await?;
        let mut report = SatisfactionReport::default();
        for answer in &answers {
            report.overall.add(answer.satisfied);
            if let Some(agent) = answer.agent_id {
                report
                    .by_agent
                    .entry(agent)
                    .or_default()
                    .add(answer.satisfied);
            }
            report
                .by_channel
                .entry(answer.channel_id)
                .or_default()
                .add(answer.satisfied);
            for label in &answer.labels {
                report
                    .by_label
                    .entry(label.as_str().to_owned())
                    .or_default()
                    .add(answer.satisfied);
            }
        }
        Ok(report)
    }

    /// Writes the demo's past once (nothing when a past is there already); returns how many
    /// conversations were written. Admins (and the demo) only.
    pub async fn write_past(
        &self,
        actor: &Actor,
        past: &[buzon_store::PastConversation],
    ) -> Result<usize, AppError> {
        actor.require(Role::Admin)?;
        if self.store().has_past().await? {
            return Ok(0);
        }
        Ok(self.store().write_past(past).await?)
    }

    /// Whether a channel's replies are signed. Every role may read it.
    pub async fn channel_signature(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<bool, AppError> {
        actor.require(Role::Viewer)?;
        Ok(self.store().channel_signature(channel).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_answers_are_one_or_two_or_a_plain_yes_or_no() {
        for yes in ["1", " 1. ", "Sí", "si!", "YES", "👍"] {
            assert_eq!(closing_answer(yes), Some(true), "{yes}");
        }
        for no in ["2", "No", "no.", "¡no!", "👎"] {
            assert_eq!(closing_answer(no), Some(false), "{no}");
        }
        for other in ["12", "sí, pero el pedido no llegó", "1 y 2", "", "gracias"] {
            assert_eq!(closing_answer(other), None, "{other}");
        }
    }

    #[test]
    fn first_names_are_the_first_word() {
        assert_eq!(first_name("Ana María López"), "Ana");
        assert_eq!(first_name("  Luis "), "Luis");
        assert_eq!(first_name(""), "");
    }
}
