//! Urgent alerts: rules of keywords (per language), labels, authors (influencer, VIP) and a
//! waiting time; the on-call rota; and the matching that queues a delivery (e-mail, signed
//! webhook) for whoever is on call, at most once per conversation and rule. Deliveries go
//! out from their own durable queue (buzon's alert worker), so a mail server that is down
//! never holds up ingestion: it is retried, and its failures show on the admin page.
//!
//! A rule's criteria must all hold (a rule of keywords and VIP authors alerts when a VIP
//! writes one of the keywords). Keywords match whole words or phrases, ignoring case and
//! accents, in any of the rule's languages. Messages of trolls, spammers and blocked authors
//! never alert, unless the rule names their label. `when: outside_hours` alerts only while the
//! conversation's channel is closed; `always` at any time. A waiting-time rule alerts when an
//! open conversation has waited longer than its minutes (looked at every half minute).

use crate::{target, Actor, App, AppError};
use buzon_core::metrics::{BusinessCalendar, OpenInterval, Weekday, WeeklySchedule};
use buzon_core::*;
use buzon_store::{NewAlertDelivery, StoreTx, StoredAlertRule};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// The name of the on-call rota among the team settings.
pub const ON_CALL: &str = "on_call";

/// An outgoing webhook of a rule, as written to the API (the secret is never read back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where to POST the alert.
    pub url: String,
    /// The HMAC-SHA256 key of `X-Buzon-Signature`; absent on an update keeps the old one.
    #[serde(default, skip_serializing)]
    pub secret: Option<String>,
}

/// An alert rule as the API and the admin page exchange it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Urgent words", "keywords": {"es": ["urgente", "fraude"], "en": ["urgent"]}, "labels": [], "authors": ["influencer", "vip"], "waiting_minutes": null, "when": "outside_hours", "email": ["oncall@shop.example"], "webhook": null}))]
pub struct AlertRuleInput {
    /// A name people recognise.
    pub name: String,
    /// Keywords per language (ISO 639-1).
    #[serde(default)]
    pub keywords: BTreeMap<String, Vec<String>>,
    /// Conversation or author labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Author labels such as `influencer` and `vip`.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Minutes an open conversation has waited.
    #[serde(default)]
    pub waiting_minutes: Option<u32>,
    /// `outside_hours` (the default) or `always`.
    #[serde(default = "outside_hours")]
    pub when: String,
    /// Addresses told besides whoever is on call.
    #[serde(default)]
    pub email: Vec<String>,
    /// A signed outgoing webhook.
    #[serde(default)]
    pub webhook: Option<WebhookInput>,
}

buzon_core::schema_with_fields!(AlertRule: AlertRuleInput, {
    /// Its id.
    id: i64,
    /// Whether its webhook has a secret.
    webhook_secret_set: bool,
});

fn outside_hours() -> String {
    "outside_hours".to_owned()
}

/// An alert rule as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRule {
    /// Its id.
    pub id: i64,
    /// Everything but the webhook's secret.
    #[serde(flatten)]
    pub rule: AlertRuleInput,
    /// Whether its webhook has a secret.
    pub webhook_secret_set: bool,
}

impl AlertRuleInput {
    /// Checks and normalises a rule, or says what is wrong.
    pub fn validated(mut self) -> Result<AlertRuleInput, AppError> {
        let invalid = |message: String| AppError::invalid("invalid_alert_rule", message);
        self.name = self.name.trim().chars().take(100).collect();
        if self.name.is_empty() {
            return Err(invalid("the rule needs a name".into()));
        }
        let mut keywords = BTreeMap::new();
        for (language, words) in std::mem::take(&mut self.keywords) {
            let language = language.trim().to_lowercase();
            if !is_known_language(&language) {
                return Err(invalid(format!(
                    "unknown language {:?} for keywords",
                    language.chars().take(16).collect::<String>()
                )));
            }
            let words: Vec<String> = words
                .iter()
                .map(|word| sanitize_text(word.trim()).to_lowercase())
                .filter(|word| !word.is_empty())
                .collect();
            if words.len() > 100 || words.iter().any(|word| word.chars().count() > 100) {
                return Err(invalid(
                    "at most 100 keywords of 100 characters per language".into(),
                ));
            }
            if !words.is_empty() {
                keywords.insert(language, words);
            }
        }
        self.keywords = keywords;
        let labels = |raw: &[String]| -> Result<Vec<String>, AppError> {
            raw.iter()
                .map(|label| Ok(Label::parse(label)?.as_str().to_owned()))
                .collect()
        };
        self.labels = labels(&self.labels)?;
        self.authors = labels(&self.authors)?;
        if let Some(minutes) = self.waiting_minutes {
            if minutes == 0 || minutes > 7 * 24 * 60 {
                return Err(invalid(
                    "waiting_minutes must be between 1 and 10080".into(),
                ));
            }
        }
        if !["outside_hours", "always"].contains(&self.when.as_str()) {
            return Err(invalid("when must be outside_hours or always".into()));
        }
        if self.keywords.is_empty()
            && self.labels.is_empty()
            && self.authors.is_empty()
            && self.waiting_minutes.is_none()
        {
            return Err(invalid(
                "the rule needs keywords, labels, authors or a waiting time".into(),
            ));
        }
        self.email = self
            .email
            .iter()
            .map(|address| address.trim().to_lowercase())
            .filter(|address| !address.is_empty())
            .collect();
        if let Some(bad) = self.email.iter().find(|address| !plausible_email(address)) {
            return Err(invalid(format!(
                "{:?} is not an e-mail address",
                bad.chars().take(64).collect::<String>()
            )));
        }
        if let Some(webhook) = &mut self.webhook {
            webhook.url = webhook.url.trim().to_owned();
            let url = reqwest_free_url_check(&webhook.url);
            if !url {
                return Err(invalid(
                    "the webhook URL must be an http:// or https:// URL".into(),
                ));
            }
            if let Some(secret) = &webhook.secret {
                if secret.len() < 16 || secret.len() > 256 {
                    return Err(invalid("the webhook secret must be 16 to 256 bytes".into()));
                }
            }
        }
        Ok(self)
    }
}

impl App {
    /// Refuses an outgoing URL that names this machine or a private address, unless the
    /// configuration allows it (`alerts.allow_private_urls`).
    pub(crate) fn check_outgoing_url(&self, url: Option<&str>) -> Result<(), AppError> {
        match url {
            Some(url) if !self.inner.settings.allow_private_urls && url_is_private(url) => {
                Err(AppError::invalid(
                    "private_url",
                    "the URL points at this machine or a private network, which an admin setting (alerts.allow_private_urls) must allow",
                ))
            }
            _ => Ok(()),
        }
    }

    /// Whether outgoing URLs may point at this machine or a private network.
    pub fn private_urls_allowed(&self) -> bool {
        self.inner.settings.allow_private_urls
    }
}

/// An address with one `@`, a dot after it, and no space or control character (so it cannot
/// smuggle a header into a mail).
fn plausible_email(address: &str) -> bool {
    address.len() <= 254
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == '<' || c == '>')
        && match address.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty() && domain.contains('.') && !domain.contains('@')
            }
            None => false,
        }
}

fn reqwest_free_url_check(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty()
                && url.len() <= 2_000
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// The on-call rota: who is on call by day and hour, in a zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"time_zone": "Europe/Madrid", "shifts": [{"days": ["saturday", "sunday"], "hours": ["00:00-24:00"], "user": "demo@buzon.example"}]}))]
pub struct OnCall {
    /// An IANA zone.
    pub time_zone: String,
    /// The shifts.
    #[serde(default)]
    pub shifts: Vec<Shift>,
}

/// One shift of the rota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Weekdays (`monday`…`sunday`).
    pub days: Vec<Weekday>,
    /// Ranges, `HH:MM-HH:MM`.
    pub hours: Vec<String>,
    /// The user's e-mail.
    pub user: String,
}

impl OnCall {
    /// The e-mails of whoever is on call at `at`.
    pub fn on_call_at(&self, at: Timestamp) -> Vec<String> {
        let mut people = Vec::new();
        for shift in &self.shifts {
            if let Ok(calendar) = shift_calendar(&self.time_zone, shift) {
                if calendar.is_open(at) && !people.contains(&shift.user) {
                    people.push(shift.user.clone());
                }
            }
        }
        people
    }
}

fn shift_calendar(time_zone: &str, shift: &Shift) -> Result<BusinessCalendar, AppError> {
    let mut schedule = WeeklySchedule::closed();
    for day in &shift.days {
        for range in &shift.hours {
            let interval = OpenInterval::parse(range)
                .map_err(|err| AppError::invalid("invalid_on_call", err.to_string()))?;
            schedule = schedule.with(*day, interval);
        }
    }
    BusinessCalendar::new(time_zone, schedule, [])
        .map_err(|err| AppError::invalid("invalid_on_call", err.to_string()))
}

/// Lowercase, without accents, words separated by single spaces and padded with one: so that
/// `" caida "` is found in `" la web esta caida "`.
pub(crate) fn folded(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            other => other,
        };
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if !space {
        out.push(' ');
    }
    out
}

/// Whether `text` holds one of `keywords` as whole words.
pub(crate) fn mentions_any<'k>(text: &str, keywords: impl IntoIterator<Item = &'k String>) -> bool {
    let text = folded(text);
    keywords.into_iter().any(|keyword| {
        let keyword = folded(keyword);
        !keyword.trim().is_empty() && text.contains(&keyword)
    })
}

/// When and for whom a rule judges: the channel's calendar, the rota, the moment.
pub(crate) struct Judging<'a> {
    pub calendar: &'a BusinessCalendar,
    pub on_call: &'a OnCall,
    pub now: Timestamp,
}

/// What one rule needs to know of a conversation to judge it.
pub(crate) struct Candidate<'a> {
    pub conversation: &'a Conversation,
    pub author: Option<&'a Contact>,
    pub flagged: bool,
    /// The text to look for keywords in (the new message, or the conversation's last text).
    pub text: &'a str,
    pub message: Option<&'a Message>,
}

impl App {
    /// Every alert rule (never a webhook's secret). Any role.
    pub async fn alert_rules(&self, actor: &Actor) -> Result<Vec<AlertRule>, AppError> {
        actor.require(Role::Viewer)?;
        Ok(self
            .store()
            .alert_rules()
            .await?
            .into_iter()
            .filter_map(|stored| read_rule(&stored))
            .collect())
    }

    /// Adds an alert rule. Admins.
    pub async fn add_alert_rule(
        &self,
        actor: &Actor,
        rule: AlertRuleInput,
    ) -> Result<AlertRule, AppError> {
        actor.require(Role::Admin)?;
        let rule = rule.validated()?;
        self.check_outgoing_url(rule.webhook.as_ref().map(|webhook| webhook.url.as_str()))?;
        let secret = rule
            .webhook
            .as_ref()
            .and_then(|webhook| webhook.secret.clone());
        let definition = serde_json::to_string(&rule).expect("a rule serializes");
        let mut tx = self.store().begin().await?;
        let id = tx
            .add_alert_rule(&rule.name, &definition, secret.as_deref())
            .await?;
        tx.audit(
            &actor.audit_name(),
            "alert_rule.add",
            &target("alert_rule", id),
            &json!({"name": rule.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(AlertRule {
            id,
            webhook_secret_set: secret.is_some(),
            rule,
        })
    }

    /// Replaces an alert rule (a webhook without a secret keeps the old secret). Admins.
    pub async fn update_alert_rule(
        &self,
        actor: &Actor,
        id: i64,
        rule: AlertRuleInput,
    ) -> Result<AlertRule, AppError> {
        actor.require(Role::Admin)?;
        let rule = rule.validated()?;
        self.check_outgoing_url(rule.webhook.as_ref().map(|webhook| webhook.url.as_str()))?;
        let secret = match &rule.webhook {
            None => Some(None),
            Some(webhook) => webhook.secret.as_deref().map(Some),
        };
        let definition = serde_json::to_string(&rule).expect("a rule serializes");
        let mut tx = self.store().begin().await?;
        tx.update_alert_rule(id, &rule.name, &definition, secret)
            .await?;
        tx.audit(
            &actor.audit_name(),
            "alert_rule.update",
            &target("alert_rule", id),
            &json!({"name": rule.name}),
        )
        .await?;
        tx.commit().await?;
        self.alert_rules(actor)
            .await?
            .into_iter()
            .find(|stored| stored.id == id)
            .ok_or(AppError::NotFound)
    }

    /// Deletes an alert rule. Admins.
    pub async fn delete_alert_rule(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.delete_alert_rule(id).await?;
        tx.audit(
            &actor.audit_name(),
            "alert_rule.delete",
            &target("alert_rule", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The on-call rota (empty in UTC when never set). Any role.
    pub async fn on_call(&self, actor: &Actor) -> Result<OnCall, AppError> {
        actor.require(Role::Viewer)?;
        self.stored_on_call().await
    }

    pub(crate) async fn stored_on_call(&self) -> Result<OnCall, AppError> {
        Ok(self
            .store()
            .team_setting(ON_CALL)
            .await?
            .and_then(|(json, _)| serde_json::from_str(&json).ok())
            .unwrap_or(OnCall {
                time_zone: "UTC".into(),
                shifts: Vec::new(),
            }))
    }

    /// Saves the on-call rota: every shift's user must be an active user. Admins.
    pub async fn set_on_call(&self, actor: &Actor, rota: OnCall) -> Result<OnCall, AppError> {
        actor.require(Role::Admin)?;
        let users = self.store().list_users().await?;
        let mut rota = rota;
        if rota.shifts.len() > 200 {
            return Err(AppError::invalid("invalid_on_call", "at most 200 shifts"));
        }
        for shift in &mut rota.shifts {
            shift.user = shift.user.trim().to_lowercase();
            if !users
                .iter()
                .any(|user| user.active && user.email == shift.user)
            {
                return Err(AppError::invalid(
                    "invalid_on_call",
                    format!(
                        "{:?} is not an active user",
                        shift.user.chars().take(64).collect::<String>()
                    ),
                ));
            }
            if shift.days.is_empty() || shift.hours.is_empty() {
                return Err(AppError::invalid(
                    "invalid_on_call",
                    "each shift needs days and hours",
                ));
            }
            shift_calendar(&rota.time_zone, shift)?;
        }
        // The zone as the database spells it.
        rota.time_zone = BusinessCalendar::always_open_in(&rota.time_zone)
            .map_err(|err| AppError::invalid("invalid_on_call", err.to_string()))?
            .time_zone()
            .to_owned();
        let json = serde_json::to_string(&rota).expect("a rota serializes");
        let mut tx = self.store().begin().await?;
        tx.set_team_setting(ON_CALL, Some(&json)).await?;
        tx.audit(
            &actor.audit_name(),
            "settings.on_call",
            "team",
            &json!({"shifts": rota.shifts.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(rota)
    }

    /// The newest alert deliveries, with their state and last error. Admins.
    pub async fn alert_deliveries(
        &self,
        actor: &Actor,
        limit: u32,
    ) -> Result<Vec<buzon_store::AlertDelivery>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().alert_deliveries(limit.min(500)).await?)
    }

    /// Tries a failed alert delivery again. Admins.
    pub async fn retry_alert_delivery(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.retry_alert_delivery(id).await?;
        tx.audit(
            &actor.audit_name(),
            "alert_delivery.retry",
            &target("alert_delivery", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// The rules as the matcher reads them.
    pub(crate) async fn active_alert_rules(&self) -> Result<Vec<AlertRule>, AppError> {
        Ok(self
            .store()
            .alert_rules()
            .await?
            .into_iter()
            .filter_map(|stored| read_rule(&stored))
            .collect())
    }

    /// Queues the deliveries of `rule` about a candidate, if it matches and has not alerted
    /// about the conversation yet; returns how many were queued.
    pub(crate) async fn alert_if_matching(
        &self,
        tx: &mut StoreTx,
        rule: &AlertRule,
        candidate: &Candidate<'_>,
        judging: &Judging<'_>,
        waited: bool,
    ) -> Result<usize, AppError> {
        let Judging {
            calendar,
            on_call,
            now,
        } = *judging;
        let criteria = &rule.rule;
        if criteria.when == "outside_hours" && calendar.is_open(now) {
            return Ok(0);
        }
        // A waiting-time rule alerts from the sweep, other rules on a new message.
        if criteria.waiting_minutes.is_some() != waited {
            return Ok(0);
        }
        let author_labels: Vec<&str> = candidate
            .author
            .map(|author| author.labels.iter().map(Label::as_str).collect())
            .unwrap_or_default();
        let conversation_labels: Vec<&str> = candidate
            .conversation
            .labels
            .iter()
            .map(Label::as_str)
            .collect();
        if candidate.flagged
            && !criteria
                .labels
                .iter()
                .any(|label| author_labels.contains(&label.as_str()))
        {
            return Ok(0);
        }
        let mut matched = Vec::new();
        if !criteria.keywords.is_empty() {
            if !mentions_any(candidate.text, criteria.keywords.values().flatten()) {
                return Ok(0);
            }
            matched.push("keywords");
        }
        if !criteria.labels.is_empty() {
            if !criteria.labels.iter().any(|label| {
                conversation_labels.contains(&label.as_str())
                    || author_labels.contains(&label.as_str())
            }) {
                return Ok(0);
            }
            matched.push("labels");
        }
        if !criteria.authors.is_empty() {
            if !criteria
                .authors
                .iter()
                .any(|label| author_labels.contains(&label.as_str()))
            {
                return Ok(0);
            }
            matched.push("authors");
        }
        if waited {
            matched.push("waiting");
        }
        if tx.alerted(rule.id, candidate.conversation.id).await? {
            return Ok(0);
        }
        let conversation = candidate.conversation;
        let payload = json!({
            "event": "alert",
            "rule": {"id": rule.id, "name": criteria.name},
            "matched": matched,
            "conversation": {
                "id": conversation.id,
                "channel_id": conversation.channel_id,
                "channel": conversation.channel_kind.as_str(),
                "kind": conversation.kind.as_str(),
                "waiting_since": conversation.waiting_since.map(Timestamp::to_rfc3339),
            },
            "message": candidate.message.map(|message| json!({
                "id": message.id,
                "text": bound_text(&message.text, 2_000),
                "language": message.language,
                "created_at": message.created_at.to_rfc3339(),
            })),
            "author": candidate.author.map(|author| json!({
                "name": author.name,
                "handle": author.handle,
                "labels": author_labels,
            })),
            "at": now.to_rfc3339(),
        })
        .to_string();
        let mut destinations: Vec<(&'static str, String)> = Vec::new();
        for address in on_call
            .on_call_at(now)
            .into_iter()
            .chain(criteria.email.clone())
        {
            if !destinations.iter().any(|(_, known)| *known == address) {
                destinations.push(("email", address));
            }
        }
        if let Some(webhook) = &criteria.webhook {
            destinations.push(("webhook", webhook.url.clone()));
        }
        let mut queued = 0;
        for (kind, destination) in destinations {
            if tx
                .queue_alert_delivery(&NewAlertDelivery {
                    rule_id: rule.id,
                    conversation_id: conversation.id,
                    kind,
                    destination,
                    payload: payload.clone(),
                })
                .await?
            {
                queued += 1;
            }
        }
        if queued > 0 {
            tx.audit(
                &Actor::System("alerts").audit_name(),
                "conversation.alert",
                &target("conversation", conversation.id),
                &json!({"rule_id": rule.id, "deliveries": queued}),
            )
            .await?;
        }
        Ok(queued)
    }

    /// One sweep of the waiting-time rules: open conversations that waited longer than a
    /// rule's minutes. Returns how many deliveries it queued.
    pub async fn sweep_waiting_alerts(&self) -> Result<usize, AppError> {
        let rules: Vec<AlertRule> = self
            .active_alert_rules()
            .await?
            .into_iter()
            .filter(|rule| rule.rule.waiting_minutes.is_some())
            .collect();
        if rules.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let on_call = self.stored_on_call().await?;
        let mut queued = 0;
        for rule in &rules {
            let minutes = i64::from(rule.rule.waiting_minutes.unwrap_or_default());
            let waiting = self
                .store()
                .waiting_without_alert(rule.id, now.plus_millis(-minutes * 60_000), 200)
                .await?;
            for id in waiting {
                let mut tx = self.store().begin().await?;
                let conversation = tx.conversation(id).await?;
                let author = tx.contact(conversation.contact_id).await?;
                let calendar = self.channel_calendar(conversation.channel_id).await?;
                let flagged = author.labels.iter().any(Label::is_flagging);
                let text = conversation.last_message_text.clone().unwrap_or_default();
                let candidate = Candidate {
                    conversation: &conversation,
                    author: Some(&author),
                    flagged,
                    text: &text,
                    message: None,
                };
                let judging = Judging {
                    calendar: &calendar,
                    on_call: &on_call,
                    now,
                };
                queued += self
                    .alert_if_matching(&mut tx, rule, &candidate, &judging, true)
                    .await?;
                tx.commit().await?;
            }
        }
        if queued > 0 {
            self.wake_workers();
        }
        Ok(queued)
    }
}

fn read_rule(stored: &StoredAlertRule) -> Option<AlertRule> {
    let rule: AlertRuleInput = serde_json::from_str(&stored.definition).ok()?;
    Some(AlertRule {
        id: stored.id,
        rule,
        webhook_secret_set: stored.webhook_secret.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_whole_words_without_case_or_accents() {
        let words = [
            "caída".to_owned(),
            "no funciona".to_owned(),
            "down".to_owned(),
        ];
        assert!(mentions_any("¡La web está CAIDA!", &words));
        assert!(mentions_any("el pago no  funciona, ayuda", &words));
        assert!(mentions_any("is the site down?", &words));
        assert!(!mentions_any("downtown store", &words));
        assert!(!mentions_any("funciona bien", &words));
    }

    #[test]
    fn a_rule_needs_a_criterion_and_valid_destinations() {
        let rule = |json: serde_json::Value| {
            serde_json::from_value::<AlertRuleInput>(json)
                .unwrap()
                .validated()
        };
        assert!(rule(json!({"name": "x"})).is_err());
        assert!(rule(json!({"name": "x", "keywords": {"es": ["urgente"]}, "email": ["a@b.example\r\nBcc: x@y.z"]})).is_err());
        assert!(rule(
            json!({"name": "x", "keywords": {"es": ["urgente"]}, "webhook": {"url": "ftp://x"}})
        )
        .is_err());
        assert!(rule(json!({"name": "x", "keywords": {"xx": ["urgente"]}})).is_err());
        let ok = rule(json!({"name": " Fraude ", "keywords": {"es": [" Urgente "]}, "email": ["OnCall@Shop.example"],
                             "webhook": {"url": "https://hooks.shop.example/buzon", "secret": "0123456789abcdef"}}))
        .unwrap();
        assert_eq!(ok.name, "Fraude");
        assert_eq!(ok.keywords["es"], vec!["urgente"]);
        assert_eq!(ok.email, vec!["oncall@shop.example"]);
        assert_eq!(ok.when, "outside_hours");
        // The secret is never written back out.
        assert!(!serde_json::to_string(&ok)
            .unwrap()
            .contains("0123456789abcdef"));
    }

    #[test]
    fn whoever_has_the_shift_is_on_call() {
        let rota: OnCall = serde_json::from_value(json!({"time_zone": "Europe/Madrid", "shifts": [
            {"days": ["saturday", "sunday"], "hours": ["00:00-24:00"], "user": "ana@shop.example"},
            {"days": ["monday"], "hours": ["20:00-08:00"], "user": "luis@shop.example"}]}))
        .unwrap();
        let at = |text: &str| Timestamp::parse_rfc3339(text).unwrap();
        assert_eq!(
            rota.on_call_at(at("2026-12-13T23:00:00+01:00")),
            vec!["ana@shop.example"]
        );
        assert_eq!(
            rota.on_call_at(at("2026-12-15T03:00:00+01:00")),
            vec!["luis@shop.example"]
        );
        assert!(rota.on_call_at(at("2026-12-15T12:00:00+01:00")).is_empty());
    }
}
