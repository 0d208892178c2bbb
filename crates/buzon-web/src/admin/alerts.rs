//! Urgent alerts: the rules (add, delete), the on-call rota, and the log of deliveries with
//! their failures (a failed one can be tried again). A rota line reads
//! `saturday sunday 00:00-24:00 ana@shop.example` (days, then ranges, then the user).

use super::{admin_page, refusal, respond, NoFields};
use crate::http::{see_other, Admin, Caller, CsrfForm, WebError};
use crate::i18n::text;
use crate::view::when;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use buzon_app::{AlertRuleInput, AppError, OnCall, Shift, WebhookInput};
use buzon_core::metrics::Weekday;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize)]
struct RuleRow {
    id: i64,
    name: String,
    criteria: String,
    when: String,
    destinations: String,
}

#[derive(Serialize)]
struct DeliveryRow {
    id: i64,
    at: Option<String>,
    rule: String,
    conversation: i64,
    kind: String,
    destination: String,
    state: String,
    failed: bool,
    attempts: i64,
    error: Option<String>,
}

#[derive(Serialize)]
struct AlertsView {
    rules: Vec<RuleRow>,
    rota_zone: String,
    rota: String,
    deliveries: Vec<DeliveryRow>,
    escalation_rules: Vec<EscalationRow>,
    channel_choices: Vec<ChannelChoice>,
}

/// An escalation rule as the page lists it.
#[derive(Serialize)]
struct EscalationRow {
    id: i64,
    channel: String,
    label: String,
    target_minutes: i64,
}

#[derive(Serialize)]
struct ChannelChoice {
    id: i64,
    name: String,
}

/// `GET /admin/alerts`.
pub(crate) async fn show_alerts(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Response, WebError> {
    alerts_page(&state, &caller, None, None).await
}

async fn alerts_page(
    state: &AppState,
    caller: &Caller,
    rota_form: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let rules = state.app().alert_rules(&caller.actor).await?;
    let names: BTreeMap<i64, String> = rules
        .iter()
        .map(|rule| (rule.id, rule.rule.name.clone()))
        .collect();
    let (rota_zone, rota) = match rota_form {
        Some(form) => form,
        None => {
            let rota = state.app().on_call(&caller.actor).await?;
            (rota.time_zone.clone(), rota_text(&rota))
        }
    };
    let deliveries = state.app().alert_deliveries(&caller.actor, 100).await?;
    let channels = state.app().channel_list(&caller.actor).await?;
    let channel_name = |id: buzon_core::ChannelId| {
        channels
            .iter()
            .find(|channel| channel.id == id)
            .map(|channel| format!("{} ({})", channel.name, channel.kind.as_str()))
            .unwrap_or_else(|| format!("#{}", id.get()))
    };
    let escalation_rules = state
        .app()
        .escalation_rules(&caller.actor)
        .await?
        .iter()
        .map(|rule| EscalationRow {
            id: rule.id,
            channel: rule
                .channel_id
                .map(channel_name)
                .unwrap_or_else(|| text(lang, "admin-escalation-any")),
            label: rule
                .label
                .as_ref()
                .map(|label| label.as_str().to_owned())
                .unwrap_or_else(|| text(lang, "admin-escalation-any")),
            target_minutes: rule.target_minutes,
        })
        .collect();
    let view = AlertsView {
        escalation_rules,
        channel_choices: channels
            .iter()
            .map(|channel| ChannelChoice {
                id: channel.id.get(),
                name: format!("{} ({})", channel.name, channel.kind.as_str()),
            })
            .collect(),
        rules: rules
            .iter()
            .map(|rule| {
                let criteria = &rule.rule;
                let mut parts: Vec<String> = criteria
                    .keywords
                    .iter()
                    .map(|(language, words)| format!("{language}: {}", words.join(", ")))
                    .collect();
                if !criteria.labels.is_empty() {
                    parts.push(format!("#{}", criteria.labels.join(" #")));
                }
                if !criteria.authors.is_empty() {
                    parts.push(criteria.authors.join(", "));
                }
                if let Some(minutes) = criteria.waiting_minutes {
                    parts.push(format!("> {minutes} min"));
                }
                let mut destinations: Vec<String> = vec![text(lang, "admin-alerts-on_call")];
                destinations.extend(criteria.email.iter().cloned());
                if let Some(webhook) = &criteria.webhook {
                    destinations.push(webhook.url.clone());
                }
                RuleRow {
                    id: rule.id,
                    name: criteria.name.clone(),
                    criteria: parts.join(" · "),
                    when: text(lang, &format!("admin-alerts-when_{}", criteria.when)),
                    destinations: destinations.join(", "),
                }
            })
            .collect(),
        rota_zone,
        rota,
        deliveries: deliveries
            .iter()
            .map(|delivery| DeliveryRow {
                id: delivery.id,
                at: when(Some(delivery.created_at)),
                // Escalations share the queue under negative ids.
                rule: if delivery.rule_id < 0 {
                    text(lang, "admin-escalation-delivery")
                } else {
                    names
                        .get(&delivery.rule_id)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", delivery.rule_id))
                },
                conversation: delivery.conversation_id.get(),
                kind: delivery.kind.clone(),
                destination: delivery.destination.clone(),
                state: text(lang, &format!("admin-alerts-state_{}", delivery.state)),
                failed: delivery.state == "failed",
                attempts: delivery.attempts,
                error: delivery.last_error.clone(),
            })
            .collect(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut page = admin_page(caller, "admin-alerts-title", "alerts", view);
    page.body.error = error;
    respond(state, caller, status, "admin_alerts", &page).await
}

fn rota_text(rota: &OnCall) -> String {
    rota.shifts
        .iter()
        .map(|shift| {
            let days: Vec<&str> = shift.days.iter().map(|day| day.as_str()).collect();
            format!(
                "{} {} {}",
                days.join(" "),
                shift.hours.join(" "),
                shift.user
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads rota lines: weekdays, ranges, then the user's e-mail.
fn rota_of(time_zone: &str, lines: &str) -> Result<OnCall, AppError> {
    let mut shifts = Vec::new();
    for line in lines.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let mut days = Vec::new();
        let mut hours = Vec::new();
        let mut user = None;
        for word in line.split([' ', ',', '\t']).filter(|word| !word.is_empty()) {
            let lower = word.to_lowercase();
            if let Some(day) = Weekday::ALL.iter().find(|day| day.as_str() == lower) {
                days.push(*day);
            } else if word.contains('@') {
                user = Some(lower);
            } else {
                hours.push(word.to_owned());
            }
        }
        let user = user.ok_or_else(|| {
            AppError::invalid(
                "invalid_on_call",
                format!(
                    "no user's e-mail on the line {:?}",
                    line.chars().take(80).collect::<String>()
                ),
            )
        })?;
        shifts.push(Shift { days, hours, user });
    }
    Ok(OnCall {
        time_zone: time_zone.trim().to_owned(),
        shifts,
    })
}

#[derive(Deserialize)]
pub(crate) struct RotaForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    rota: String,
}

/// `POST /admin/alerts/on-call`.
pub(crate) async fn post_on_call(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<RotaForm>,
) -> Result<Response, WebError> {
    let done = match rota_of(&form.time_zone, &form.rota) {
        Ok(rota) => state
            .app()
            .set_on_call(&caller.actor, rota)
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    match done {
        Ok(()) => Ok(see_other("/admin/alerts")),
        Err(err) => {
            let message = refusal(&caller, err)?;
            alerts_page(
                &state,
                &caller,
                Some((form.time_zone, form.rota)),
                Some(message),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct RuleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    keywords_es: String,
    #[serde(default)]
    keywords_en: String,
    #[serde(default)]
    labels: String,
    #[serde(default)]
    influencer: Option<String>,
    #[serde(default)]
    vip: Option<String>,
    #[serde(default)]
    waiting_minutes: String,
    #[serde(default)]
    when: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    webhook_url: String,
    #[serde(default)]
    webhook_secret: String,
}

fn list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /admin/alerts/rules`.
pub(crate) async fn post_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> Result<Response, WebError> {
    let done = async {
        let waiting_minutes = match form.waiting_minutes.trim() {
            "" => None,
            minutes => Some(minutes.parse::<u32>().map_err(|_| {
                AppError::invalid(
                    "invalid_alert_rule",
                    "the waiting time is a number of minutes",
                )
            })?),
        };
        let mut keywords = BTreeMap::new();
        for (language, words) in [("es", &form.keywords_es), ("en", &form.keywords_en)] {
            let words = list(words);
            if !words.is_empty() {
                keywords.insert(language.to_owned(), words);
            }
        }
        let authors = [("influencer", &form.influencer), ("vip", &form.vip)]
            .into_iter()
            .filter(|(_, checked)| checked.is_some())
            .map(|(label, _)| label.to_owned())
            .collect();
        let rule = AlertRuleInput {
            name: form.name.clone(),
            keywords,
            labels: list(&form.labels),
            authors,
            waiting_minutes,
            when: if form.when.is_empty() {
                "outside_hours".into()
            } else {
                form.when.clone()
            },
            email: list(&form.email),
            webhook: (!form.webhook_url.trim().is_empty()).then(|| WebhookInput {
                url: form.webhook_url.clone(),
                secret: (!form.webhook_secret.is_empty()).then(|| form.webhook_secret.clone()),
            }),
        };
        state.app().add_alert_rule(&caller.actor, rule).await
    }
    .await;
    match done {
        Ok(_) => Ok(see_other("/admin/alerts")),
        Err(err) => {
            let message = refusal(&caller, err)?;
            alerts_page(&state, &caller, None, Some(message)).await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct EscalationForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    target_minutes: String,
}

/// `POST /admin/alerts/escalation-rules`.
pub(crate) async fn post_escalation_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<EscalationForm>,
) -> Result<Response, WebError> {
    let done = async {
        let channel = match form.channel.trim() {
            "" => None,
            id => Some(buzon_core::ChannelId(id.parse().map_err(|_| {
                AppError::invalid("bad_channel", "channel must be a channel id")
            })?)),
        };
        let minutes = form.target_minutes.trim().parse::<i64>().map_err(|_| {
            AppError::invalid("bad_target", "the target must be a number of minutes")
        })?;
        state
            .app()
            .add_escalation_rule(&caller.actor, channel, Some(form.label.as_str()), minutes)
            .await
    }
    .await;
    match done {
        Ok(_) => Ok(see_other("/admin/alerts#escalation")),
        Err(err) => {
            let message = refusal(&caller, err)?;
            alerts_page(&state, &caller, None, Some(message)).await
        }
    }
}

/// `POST /admin/alerts/escalation-rules/{id}/delete`.
pub(crate) async fn post_delete_escalation_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state
        .app()
        .delete_escalation_rule(&caller.actor, id)
        .await?;
    Ok(see_other("/admin/alerts#escalation"))
}

/// `POST /admin/alerts/rules/{id}/delete`.
pub(crate) async fn post_delete_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state.app().delete_alert_rule(&caller.actor, id).await?;
    Ok(see_other("/admin/alerts"))
}

/// `POST /admin/alerts/deliveries/{id}/retry`.
pub(crate) async fn post_retry(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state.app().retry_alert_delivery(&caller.actor, id).await?;
    Ok(see_other("/admin/alerts"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rota_lines_read_days_ranges_and_the_user() {
        let rota = rota_of(
            "Europe/Madrid",
            "saturday sunday 00:00-24:00 Ana@Shop.example\nmonday, friday 20:00-08:00 luis@shop.example",
        )
        .unwrap();
        assert_eq!(rota.shifts.len(), 2);
        assert_eq!(
            rota.shifts[0].days,
            vec![Weekday::Saturday, Weekday::Sunday]
        );
        assert_eq!(rota.shifts[0].user, "ana@shop.example");
        assert_eq!(rota.shifts[1].hours, vec!["20:00-08:00"]);
        assert_eq!(
            rota_text(&rota),
            "saturday sunday 00:00-24:00 ana@shop.example\nmonday friday 20:00-08:00 luis@shop.example"
        );
        assert!(rota_of("UTC", "monday 09:00-17:00").is_err());
    }
}
