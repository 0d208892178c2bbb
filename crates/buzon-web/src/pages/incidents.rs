//! Incident mode in the pages: the banners over the queue (an incident that is on, with its
//! live count; a burst buzon noticed, with a one-click start), and `/incidents` to start one,
//! end it and answer all its conversations at once. Every action is one call to the
//! application layer, for agents and admins.

use crate::http::{see_other, Agent, Caller, CsrfForm, Viewer, WebError};
use crate::i18n::{text, text_with, Lang};
use crate::view::{render, Page};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use buzon_app::{AppError, IncidentInput};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The message an incident started from the banner sends, per language, until someone
/// writes a better one.
fn default_texts() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "es".to_owned(),
            "Sabemos que hay un problema y ya estamos trabajando en ello. Te avisaremos por aquí en cuanto esté resuelto.".to_owned(),
        ),
        (
            "en".to_owned(),
            "We know something is wrong and we are working on it. We will update you here as soon as it is fixed.".to_owned(),
        ),
    ])
}

/// The banners over the queue.
#[derive(Serialize, Default)]
pub(crate) struct Banners {
    incidents: Vec<IncidentBanner>,
    spike: Option<SpikeBanner>,
    can_act: bool,
}

#[derive(Serialize)]
struct IncidentBanner {
    id: i64,
    text: String,
    label: String,
}

#[derive(Serialize)]
struct SpikeBanner {
    text: String,
    samples: Vec<String>,
}

/// The banners for `caller` now.
pub(crate) async fn banners(state: &AppState, caller: &Caller) -> Result<Banners, WebError> {
    let lang = caller.lang;
    let incidents = state.app().incidents(&caller.actor).await?;
    let spike = state.app().spike(&caller.actor).await?;
    Ok(Banners {
        incidents: incidents
            .iter()
            .filter(|incident| incident.active)
            .map(|incident| IncidentBanner {
                id: incident.id,
                text: text_with(
                    lang,
                    "incident-banner",
                    &[
                        ("title", incident.incident.title.clone().into()),
                        ("count", incident.conversations.into()),
                    ],
                ),
                label: incident.incident.label.clone(),
            })
            .collect(),
        spike: spike.map(|spike| SpikeBanner {
            text: spike_text(lang, spike.recent, spike.usual, &spike.words),
            samples: spike
                .samples
                .iter()
                .map(|sample| sample.text.clone())
                .collect(),
        }),
        can_act: caller.actor.require(buzon_core::Role::Agent).is_ok(),
    })
}

fn spike_text(lang: Lang, recent: i64, usual: i64, words: &[String]) -> String {
    text_with(
        lang,
        "incident-spike",
        &[
            ("recent", recent.into()),
            ("usual", usual.into()),
            ("words", words.join(", ").into()),
        ],
    )
}

#[derive(Serialize)]
struct IncidentRow {
    id: i64,
    title: String,
    active: bool,
    keywords: String,
    label: String,
    conversations: i64,
    started_at: String,
    ended_at: Option<String>,
}

#[derive(Serialize)]
struct IncidentsView {
    incidents: Vec<IncidentRow>,
    can_act: bool,
    notice: Option<String>,
    error: Option<String>,
    text_es: String,
    text_en: String,
}

/// `?done=` after an action.
#[derive(Deserialize, Default)]
pub(crate) struct DoneQuery {
    done: Option<String>,
    queued: Option<usize>,
    skipped: Option<usize>,
}

/// `GET /incidents`.
pub(crate) async fn show_incidents(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_deref() {
        Some("bulk") => Some(text_with(
            caller.lang,
            "incident-bulk_done",
            &[
                ("queued", query.queued.unwrap_or_default().into()),
                ("skipped", query.skipped.unwrap_or_default().into()),
            ],
        )),
        Some(_) => Some(text(caller.lang, "admin-hours-saved")),
        None => None,
    };
    incidents_page(&state, &caller, notice, None).await
}

async fn incidents_page(
    state: &AppState,
    caller: &Caller,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let incidents = state.app().incidents(&caller.actor).await?;
    let texts = default_texts();
    let view = IncidentsView {
        incidents: incidents
            .iter()
            .map(|incident| IncidentRow {
                id: incident.id,
                title: incident.incident.title.clone(),
                active: incident.active,
                keywords: incident.incident.keywords.join(", "),
                label: incident.incident.label.clone(),
                conversations: incident.conversations,
                started_at: incident
                    .started_at
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .replace('T', " "),
                ended_at: incident
                    .ended_at
                    .as_ref()
                    .map(|at| at.chars().take(16).collect::<String>().replace('T', " ")),
            })
            .collect(),
        can_act: caller.actor.require(buzon_core::Role::Agent).is_ok(),
        notice,
        text_es: texts["es"].clone(),
        text_en: texts["en"].clone(),
        error,
    };
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = Page::new(caller, "incident-title", "incidents", view);
    Ok((status, render(state, "incidents", &page)?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct IncidentForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    keywords: String,
    #[serde(default)]
    text_es: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    label: String,
}

fn words(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /incidents`: starts an incident.
pub(crate) async fn post_incident(
    State(state): State<AppState>,
    Agent(caller): Agent,
    CsrfForm(form): CsrfForm<IncidentForm>,
) -> Result<Response, WebError> {
    let incident = IncidentInput {
        title: form.title,
        keywords: words(&form.keywords),
        texts: [("es", form.text_es), ("en", form.text_en)]
            .into_iter()
            .map(|(language, text)| (language.to_owned(), text))
            .collect(),
        label: if form.label.trim().is_empty() {
            "incidente".into()
        } else {
            form.label
        },
    };
    match state.app().start_incident(&caller.actor, incident).await {
        Ok(_) => Ok(see_other("/incidents?done=start")),
        Err(err) => after_refusal(&state, &caller, err).await,
    }
}

/// `POST /incidents/from-spike`: starts an incident about the burst in one click, with the
/// words its messages share and a message that says the team knows.
pub(crate) async fn post_from_spike(
    State(state): State<AppState>,
    Agent(caller): Agent,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    let Some(spike) = state.app().spike(&caller.actor).await? else {
        return Ok(see_other("/inbox"));
    };
    let incident = IncidentInput {
        title: spike.words.join(", "),
        keywords: spike.words.clone(),
        texts: default_texts(),
        label: "incidente".into(),
    };
    match state.app().start_incident(&caller.actor, incident).await {
        Ok(_) => Ok(see_other("/incidents?done=start")),
        Err(err) => after_refusal(&state, &caller, err).await,
    }
}

/// `POST /incidents/{id}/end`.
pub(crate) async fn post_end(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state.app().end_incident(&caller.actor, id).await?;
    Ok(see_other("/incidents?done=end"))
}

use crate::http::NoFields;

#[derive(Deserialize)]
pub(crate) struct BulkForm {
    #[serde(default)]
    text: String,
}

/// `POST /incidents/{id}/bulk-reply`: one reply to every conversation of the incident.
pub(crate) async fn post_bulk(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BulkForm>,
) -> Result<Response, WebError> {
    match state.app().bulk_reply(&caller.actor, id, &form.text).await {
        Ok(done) => Ok(see_other(&format!(
            "/incidents?done=bulk&queued={}&skipped={}",
            done.queued, done.skipped
        ))),
        Err(err) => after_refusal(&state, &caller, err).await,
    }
}

async fn after_refusal(
    state: &AppState,
    caller: &Caller,
    err: AppError,
) -> Result<Response, WebError> {
    match err {
        AppError::Invalid { .. } | AppError::Conflict { .. } => {
            let message = WebError::from(err).message_in(caller.lang);
            incidents_page(state, caller, None, Some(message)).await
        }
        other => Err(other.into()),
    }
}
