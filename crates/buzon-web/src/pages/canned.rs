//! The canned-reply library ("respuestas tipo"): every reply the caller may use with its
//! shortcut, language, labels and how often it was used (a reply nobody used for a month is
//! marked as dead), a form to save a new one or change one, and delete. Agents save their own;
//! admins curate the shared ones. Every action is one call to the application layer.

use crate::http::{see_other, Agent, Caller, CsrfForm, Viewer, WebError};
use crate::i18n::text;
use crate::view::{minute, render, Page};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use buzon_app::{AppError, CannedReplyForm};
use buzon_core::{CannedReply, Role, Timestamp, REPLY_PLACEHOLDERS};
use serde::{Deserialize, Serialize};

/// A reply unused for this long is "dead" in the library.
const DEAD_AFTER_MILLIS: i64 = 30 * 24 * 60 * 60 * 1000;

#[derive(Serialize)]
struct CannedRow {
    id: i64,
    name: String,
    shortcut: String,
    text: String,
    language: String,
    labels: String,
    shared: bool,
    uses: i64,
    last_used: Option<String>,
    dead: bool,
    editable: bool,
}

#[derive(Serialize, Default)]
struct FormValues {
    id: Option<i64>,
    name: String,
    shortcut: String,
    text: String,
    language: String,
    labels: String,
    shared: bool,
}

#[derive(Serialize)]
struct LanguageChoice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct LibraryView {
    replies: Vec<CannedRow>,
    can_act: bool,
    is_admin: bool,
    form: FormValues,
    language_choices: Vec<LanguageChoice>,
    placeholders: Vec<String>,
    q: String,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct LibraryQuery {
    q: Option<String>,
    edit: Option<i64>,
    done: Option<String>,
}

/// `GET /canned-replies`.
pub(crate) async fn show_library(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(query): Query<LibraryQuery>,
) -> Result<Response, WebError> {
    let notice = query
        .done
        .as_deref()
        .map(|_| text(caller.lang, "canned-saved"));
    library(&state, &caller, &query, None, notice, None).await
}

async fn library(
    state: &AppState,
    caller: &Caller,
    query: &LibraryQuery,
    form: Option<FormValues>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let replies = state
        .app()
        .canned_replies(&caller.actor, query.q.as_deref(), None)
        .await?;
    let is_admin = caller.actor.role() == Role::Admin;
    let editable = |reply: &CannedReply| {
        is_admin || (reply.owner_id.is_some() && reply.owner_id == caller.actor.user_id())
    };
    let form = match (form, query.edit) {
        (Some(form), _) => form,
        (None, Some(id)) => replies
            .iter()
            .find(|reply| reply.id == id && editable(reply))
            .map(|reply| FormValues {
                id: Some(reply.id),
                name: reply.name.clone(),
                shortcut: reply.shortcut.clone(),
                text: reply.text.clone(),
                language: reply.language.clone().unwrap_or_default(),
                labels: labels_text(reply),
                shared: reply.owner_id.is_none(),
            })
            .unwrap_or_default(),
        (None, None) => FormValues {
            shared: is_admin,
            ..FormValues::default()
        },
    };
    let now = Timestamp::now().as_millis();
    let view = LibraryView {
        replies: replies
            .iter()
            .map(|reply| CannedRow {
                id: reply.id,
                name: reply.name.clone(),
                shortcut: reply.shortcut.clone(),
                text: reply.text.clone(),
                language: reply
                    .language
                    .as_deref()
                    .map(|code| text(lang, &format!("language-{code}")))
                    .unwrap_or_else(|| text(lang, "language-any")),
                labels: labels_text(reply),
                shared: reply.owner_id.is_none(),
                uses: reply.uses,
                last_used: reply.last_used_at.map(minute),
                dead: reply.last_used_at.map_or(
                    now - reply.updated_at.as_millis() > DEAD_AFTER_MILLIS,
                    |at| now - at.as_millis() > DEAD_AFTER_MILLIS,
                ),
                editable: editable(reply),
            })
            .collect(),
        can_act: caller.actor.require(Role::Agent).is_ok(),
        is_admin,
        language_choices: std::iter::once(("".to_owned(), text(lang, "language-any")))
            .chain(
                buzon_core::known_languages()
                    .map(|code| (code.to_owned(), text(lang, &format!("language-{code}")))),
            )
            .map(|(value, label)| LanguageChoice {
                selected: value == form.language,
                value,
                label,
            })
            .collect(),
        form,
        placeholders: REPLY_PLACEHOLDERS
            .iter()
            .map(|name| format!("{{{{{name}}}}}"))
            .collect(),
        q: query.q.clone().unwrap_or_default(),
        notice,
        error,
    };
    let status = if view.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = Page::new(caller, "canned-title", "canned", view);
    Ok((status, render(state, "canned", &page)?).into_response())
}

fn labels_text(reply: &CannedReply) -> String {
    reply
        .labels
        .iter()
        .map(|label| label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize)]
pub(crate) struct CannedPageForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    shortcut: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    labels: String,
    #[serde(default)]
    shared: Option<String>,
}

impl CannedPageForm {
    fn to_app(&self) -> CannedReplyForm {
        CannedReplyForm {
            name: self.name.clone(),
            shortcut: self.shortcut.clone(),
            text: self.text.clone(),
            language: Some(self.language.clone()),
            labels: self
                .labels
                .split([',', ' '])
                .map(str::trim)
                .filter(|label| !label.is_empty())
                .map(str::to_owned)
                .collect(),
            shared: Some(self.shared.is_some()),
        }
    }

    fn values(&self, id: Option<i64>) -> FormValues {
        FormValues {
            id,
            name: self.name.clone(),
            shortcut: self.shortcut.clone(),
            text: self.text.clone(),
            language: self.language.clone(),
            labels: self.labels.clone(),
            shared: self.shared.is_some(),
        }
    }
}

/// `POST /canned-replies`: saves a new reply.
pub(crate) async fn post_create(
    State(state): State<AppState>,
    Agent(caller): Agent,
    CsrfForm(form): CsrfForm<CannedPageForm>,
) -> Result<Response, WebError> {
    save(&state, &caller, None, form).await
}

/// `POST /canned-replies/{id}`: changes a reply.
pub(crate) async fn post_update(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<CannedPageForm>,
) -> Result<Response, WebError> {
    save(&state, &caller, Some(id), form).await
}

async fn save(
    state: &AppState,
    caller: &Caller,
    id: Option<i64>,
    form: CannedPageForm,
) -> Result<Response, WebError> {
    match state
        .app()
        .save_canned_reply(&caller.actor, id, &form.to_app())
        .await
    {
        Ok(_) => Ok(see_other("/canned-replies?done=saved")),
        Err(err @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let message = WebError::from(err).message_in(caller.lang);
            library(
                state,
                caller,
                &LibraryQuery::default(),
                Some(form.values(id)),
                None,
                Some(message),
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /canned-replies/{id}/delete`.
pub(crate) async fn post_delete(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::http::NoFields>,
) -> Result<Response, WebError> {
    state.app().delete_canned_reply(&caller.actor, id).await?;
    Ok(see_other("/canned-replies?done=deleted"))
}
