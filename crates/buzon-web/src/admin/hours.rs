//! Business hours and out-of-hours auto-replies: the team's hours (a zone, ranges per day,
//! holidays, one-off exceptions), and per channel its own hours (or the team's) and its
//! auto-reply. Ranges are typed as people say them, `09:00-14:00, 16:00-20:00`; a range past
//! midnight is `22:00-02:00`; an exception is a line `2026-12-24 09:00-13:00` (or the date
//! alone: closed that day). Each form is one call to the application layer.

use super::{admin_page, refusal, respond};
use crate::http::{see_other, Admin, Caller, CsrfForm, WebError};
use crate::i18n::{text, text_with};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use buzon_app::{AppError, AutoReply};
use buzon_core::metrics::{ExceptionDocument, HoursDocument, WeekDocument, Weekday};
use buzon_core::ChannelId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The languages the auto-reply form offers a text for (others set through the API are kept).
const FORM_LANGUAGES: [&str; 2] = ["es", "en"];

/// The fields of an hours form, as text.
#[derive(Deserialize, Serialize, Default, Clone)]
pub(crate) struct HoursForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    monday: String,
    #[serde(default)]
    tuesday: String,
    #[serde(default)]
    wednesday: String,
    #[serde(default)]
    thursday: String,
    #[serde(default)]
    friday: String,
    #[serde(default)]
    saturday: String,
    #[serde(default)]
    sunday: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    exceptions: String,
    /// `reset` (team: back to the configuration's; channel: follow the team's), else save.
    #[serde(default)]
    action: String,
}

impl HoursForm {
    fn day(&self, weekday: Weekday) -> &str {
        match weekday {
            Weekday::Monday => &self.monday,
            Weekday::Tuesday => &self.tuesday,
            Weekday::Wednesday => &self.wednesday,
            Weekday::Thursday => &self.thursday,
            Weekday::Friday => &self.friday,
            Weekday::Saturday => &self.saturday,
            Weekday::Sunday => &self.sunday,
        }
    }

    /// The document the form describes (checked by the application layer).
    fn document(&self) -> HoursDocument {
        let list = |text: &str| -> Vec<String> {
            text.split([',', ';', '\n'])
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut week = WeekDocument::default();
        for weekday in Weekday::ALL {
            *week.day_mut(weekday) = list(self.day(weekday));
        }
        let exceptions = self
            .exceptions
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (date, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let rest = rest.trim();
                let closed = ["closed", "cerrado", "-"].contains(&rest.to_lowercase().as_str());
                ExceptionDocument {
                    date: date.to_owned(),
                    hours: if closed { Vec::new() } else { list(rest) },
                }
            })
            .collect();
        HoursDocument {
            time_zone: self.time_zone.trim().to_owned(),
            week,
            holidays: list(&self.holidays),
            exceptions,
        }
    }

    /// The form showing a document.
    fn of(document: &HoursDocument) -> HoursForm {
        let day = |weekday| document.week.day(weekday).join(", ");
        HoursForm {
            time_zone: document.time_zone.clone(),
            monday: day(Weekday::Monday),
            tuesday: day(Weekday::Tuesday),
            wednesday: day(Weekday::Wednesday),
            thursday: day(Weekday::Thursday),
            friday: day(Weekday::Friday),
            saturday: day(Weekday::Saturday),
            sunday: day(Weekday::Sunday),
            holidays: document.holidays.join("\n"),
            exceptions: document
                .exceptions
                .iter()
                .map(|exception| {
                    if exception.hours.is_empty() {
                        format!("{} closed", exception.date)
                    } else {
                        format!("{} {}", exception.date, exception.hours.join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            action: String::new(),
        }
    }
}

/// One day's field of an hours form.
#[derive(Serialize)]
struct DayField {
    name: &'static str,
    label: String,
    value: String,
}

/// An hours form as a template shows it.
#[derive(Serialize)]
struct HoursFields {
    time_zone: String,
    days: Vec<DayField>,
    holidays: String,
    exceptions: String,
}

fn hours_fields(caller: &Caller, form: &HoursForm) -> HoursFields {
    HoursFields {
        time_zone: form.time_zone.clone(),
        days: Weekday::ALL
            .iter()
            .map(|weekday| DayField {
                name: weekday.as_str(),
                label: text(caller.lang, &format!("admin-hours-{}", weekday.as_str())),
                value: form.day(*weekday).to_owned(),
            })
            .collect(),
        holidays: form.holidays.clone(),
        exceptions: form.exceptions.clone(),
    }
}

/// A channel in the list of the hours page.
#[derive(Serialize)]
struct ChannelLine {
    id: i64,
    kind: &'static str,
    name: String,
    own_hours: bool,
    auto_reply: bool,
}

#[derive(Serialize)]
struct HoursView {
    state: String,
    team: HoursFields,
    channels: Vec<ChannelLine>,
}

/// `?saved=1` after a change.
#[derive(Deserialize, Default)]
pub(crate) struct SavedQuery {
    saved: Option<String>,
}

/// `GET /admin/hours`.
pub(crate) async fn show_hours(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Query(query): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let document = state.app().business_hours(&caller.actor).await?;
    let notice = query
        .saved
        .is_some()
        .then(|| text(caller.lang, "admin-hours-saved"));
    hours_page(&state, &caller, HoursForm::of(&document), notice, None).await
}

async fn hours_page(
    state: &AppState,
    caller: &Caller,
    form: HoursForm,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let opening = state.app().opening_state(None).await?;
    let state_text = match opening.back_at_text(lang.code()) {
        Some(when) => text_with(lang, "hours-closed_banner", &[("when", when.into())]),
        None => text(lang, "hours-open_now"),
    };
    let mut channels = Vec::new();
    for channel in state.app().channel_list(&caller.actor).await? {
        channels.push(ChannelLine {
            id: channel.id.get(),
            kind: channel.kind.as_str(),
            name: channel.name.clone(),
            own_hours: state
                .app()
                .channel_business_hours(&caller.actor, channel.id)
                .await?
                .is_some(),
            auto_reply: state
                .app()
                .auto_reply(&caller.actor, channel.id)
                .await?
                .enabled,
        });
    }
    let view = HoursView {
        state: state_text,
        team: hours_fields(caller, &form),
        channels,
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut page = admin_page(caller, "admin-hours-title", "hours", view);
    page.body.notice = notice;
    page.body.error = error;
    respond(state, caller, status, "admin_hours", &page).await
}

/// `POST /admin/hours`: saves the team's hours, or goes back to the configuration's.
pub(crate) async fn post_hours(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<HoursForm>,
) -> Result<Response, WebError> {
    let document = (form.action != "reset").then(|| form.document());
    match state
        .app()
        .set_business_hours(&caller.actor, document)
        .await
    {
        Ok(_) => Ok(see_other("/admin/hours?saved=1")),
        Err(err) => {
            let message = refusal(&caller, err)?;
            hours_page(&state, &caller, form, None, Some(message)).await
        }
    }
}

/// A language's text field of the auto-reply form.
#[derive(Serialize)]
struct TextField {
    language: &'static str,
    label: String,
    value: String,
}

/// A language the default-language select offers.
#[derive(Serialize)]
struct LanguageChoice {
    value: &'static str,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct ChannelHoursView {
    channel: ChannelLine,
    state: String,
    own_hours: bool,
    hours: HoursFields,
    enabled: bool,
    public_comments: bool,
    texts: Vec<TextField>,
    language_choices: Vec<LanguageChoice>,
    /// Replies carry the agent's first name.
    signature: bool,
    /// The closing question: on, its texts, its default language.
    closing_enabled: bool,
    closing_texts: Vec<TextField>,
    closing_language_choices: Vec<LanguageChoice>,
}

/// The closing question offered until an admin writes their own.
fn default_question(language: &str) -> &'static str {
    match language {
        "es" => "¿Hemos resuelto tu consulta? Responde 1 si sí o 2 si no.",
        _ => "Did this solve it? Reply 1 for yes, 2 for no.",
    }
}

/// `GET /admin/hours/channels/{id}`.
pub(crate) async fn show_channel_hours(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let notice = query
        .saved
        .is_some()
        .then(|| text(caller.lang, "admin-hours-saved"));
    channel_hours_page(&state, &caller, ChannelId(id), None, None, notice, None).await
}

#[allow(clippy::too_many_arguments)]
async fn channel_hours_page(
    state: &AppState,
    caller: &Caller,
    id: ChannelId,
    hours_form: Option<HoursForm>,
    auto_reply_form: Option<AutoReply>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let channel = state.app().channel(&caller.actor, id).await?;
    let own = state
        .app()
        .channel_business_hours(&caller.actor, id)
        .await?;
    let own_hours = own.is_some();
    let hours_form = match (hours_form, own) {
        (Some(form), _) => form,
        (None, Some(document)) => HoursForm::of(&document),
        (None, None) => HoursForm::of(&state.app().business_hours(&caller.actor).await?),
    };
    let auto_reply = match auto_reply_form {
        Some(form) => form,
        None => state.app().auto_reply(&caller.actor, id).await?,
    };
    let signature = state.app().channel_signature(&caller.actor, id).await?;
    let question = state.app().closing_question(&caller.actor, id).await?;
    let opening = state.app().opening_state(Some(id)).await?;
    let state_text = match opening.back_at_text(lang.code()) {
        Some(when) => text_with(lang, "hours-closed_banner", &[("when", when.into())]),
        None => text(lang, "hours-open_now"),
    };
    let view = ChannelHoursView {
        channel: ChannelLine {
            id: channel.id.get(),
            kind: channel.kind.as_str(),
            name: channel.name.clone(),
            own_hours,
            auto_reply: auto_reply.enabled,
        },
        state: state_text,
        own_hours,
        hours: hours_fields(caller, &hours_form),
        enabled: auto_reply.enabled,
        public_comments: auto_reply.public_comments,
        texts: FORM_LANGUAGES
            .iter()
            .map(|language| TextField {
                language,
                label: text(lang, &format!("language-{language}")),
                value: auto_reply.texts.get(*language).cloned().unwrap_or_default(),
            })
            .collect(),
        language_choices: buzon_core::known_languages()
            .map(|value| LanguageChoice {
                value,
                label: text(lang, &format!("language-{value}")),
                selected: value == auto_reply.default_language,
            })
            .collect(),
        signature,
        closing_enabled: question.enabled,
        closing_texts: FORM_LANGUAGES
            .iter()
            .map(|language| TextField {
                language,
                label: text(lang, &format!("language-{language}")),
                value: question
                    .texts
                    .get(*language)
                    .cloned()
                    .unwrap_or_else(|| default_question(language).to_owned()),
            })
            .collect(),
        closing_language_choices: buzon_core::known_languages()
            .map(|value| LanguageChoice {
                value,
                label: text(lang, &format!("language-{value}")),
                selected: value == question.default_language,
            })
            .collect(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut page = admin_page(caller, "admin-hours-channel_title", "hours", view);
    page.body.notice = notice;
    page.body.error = error;
    respond(state, caller, status, "admin_channel_hours", &page).await
}

/// `POST /admin/hours/channels/{id}/hours`: the channel's own hours, or the team's.
pub(crate) async fn post_channel_hours(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<HoursForm>,
) -> Result<Response, WebError> {
    let document = (form.action != "reset").then(|| form.document());
    match state
        .app()
        .set_channel_business_hours(&caller.actor, ChannelId(id), document)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/admin/hours/channels/{id}?saved=1"))),
        Err(err) => {
            let message = refusal(&caller, err)?;
            channel_hours_page(
                &state,
                &caller,
                ChannelId(id),
                Some(form),
                None,
                None,
                Some(message),
            )
            .await
        }
    }
}

/// The replies form: the signature and the closing question.
#[derive(Deserialize)]
pub(crate) struct RepliesForm {
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    closing_enabled: Option<String>,
    #[serde(default)]
    default_language: String,
    #[serde(default)]
    text_es: String,
    #[serde(default)]
    text_en: String,
}

/// `POST /admin/hours/channels/{id}/replies`.
pub(crate) async fn post_replies(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RepliesForm>,
) -> Result<Response, WebError> {
    let id = ChannelId(id);
    let done: Result<(), AppError> = async {
        let mut texts: BTreeMap<String, String> =
            state.app().closing_question(&caller.actor, id).await?.texts;
        for (language, value) in [("es", &form.text_es), ("en", &form.text_en)] {
            texts.insert(language.to_owned(), value.clone());
        }
        state
            .app()
            .set_closing_question(
                &caller.actor,
                id,
                AutoReply {
                    enabled: form.closing_enabled.is_some(),
                    public_comments: false,
                    texts,
                    default_language: form.default_language.clone(),
                },
            )
            .await?;
        state
            .app()
            .set_channel_signature(&caller.actor, id, form.signature.is_some())
            .await
    }
    .await;
    match done {
        Ok(()) => Ok(see_other(&format!("/admin/hours/channels/{}?saved=1", id))),
        Err(err) => {
            let message = refusal(&caller, err)?;
            channel_hours_page(&state, &caller, id, None, None, None, Some(message)).await
        }
    }
}

/// The auto-reply form.
#[derive(Deserialize)]
pub(crate) struct AutoReplyForm {
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    public_comments: Option<String>,
    #[serde(default)]
    default_language: String,
    #[serde(default)]
    text_es: String,
    #[serde(default)]
    text_en: String,
}

/// `POST /admin/hours/channels/{id}/auto-reply`.
pub(crate) async fn post_auto_reply(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AutoReplyForm>,
) -> Result<Response, WebError> {
    let id = ChannelId(id);
    let done: Result<AutoReply, AppError> = async {
        // Texts in languages the form does not show (set through the API) are kept.
        let mut texts: BTreeMap<String, String> =
            state.app().auto_reply(&caller.actor, id).await?.texts;
        for (language, value) in [("es", &form.text_es), ("en", &form.text_en)] {
            texts.insert(language.to_owned(), value.clone());
        }
        let auto_reply = AutoReply {
            enabled: form.enabled.is_some(),
            public_comments: form.public_comments.is_some(),
            texts,
            default_language: form.default_language.clone(),
        };
        state
            .app()
            .set_auto_reply(&caller.actor, id, auto_reply)
            .await
    }
    .await;
    match done {
        Ok(_) => Ok(see_other(&format!("/admin/hours/channels/{}?saved=1", id))),
        Err(err) => {
            let message = refusal(&caller, err)?;
            let shown = AutoReply {
                enabled: form.enabled.is_some(),
                public_comments: form.public_comments.is_some(),
                texts: [("es", &form.text_es), ("en", &form.text_en)]
                    .into_iter()
                    .map(|(language, value)| (language.to_owned(), value.clone()))
                    .collect(),
                default_language: form.default_language.clone(),
            };
            channel_hours_page(&state, &caller, id, None, Some(shown), None, Some(message)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_ranges_holidays_and_exceptions_as_people_type_them() {
        let form = HoursForm {
            time_zone: " Europe/Madrid ".into(),
            monday: "09:00-14:00, 16:00-20:00".into(),
            friday: "22:00-02:00".into(),
            holidays: "2026-12-25\n2027-01-01".into(),
            exceptions: "2026-12-24 09:00-13:00\n2026-12-31 cerrado\n2026-12-27".into(),
            ..HoursForm::default()
        };
        let document = form.document();
        assert_eq!(document.time_zone, "Europe/Madrid");
        assert_eq!(document.week.monday, vec!["09:00-14:00", "16:00-20:00"]);
        assert_eq!(document.holidays, vec!["2026-12-25", "2027-01-01"]);
        assert_eq!(document.exceptions[0].hours, vec!["09:00-13:00"]);
        assert!(document.exceptions[1].hours.is_empty());
        assert!(document.exceptions[2].hours.is_empty());
        let calendar = document.calendar().unwrap();
        let again = HoursForm::of(&HoursDocument::of(&calendar));
        assert_eq!(again.monday, "09:00-14:00, 16:00-20:00");
        assert_eq!(again.friday, "22:00-02:00");
        assert_eq!(
            again.exceptions,
            "2026-12-24 09:00-13:00\n2026-12-27 closed\n2026-12-31 closed"
        );
    }
}
