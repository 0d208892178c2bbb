//! Outgoing webhooks ("events out"): register a URL for some events (its secret is shown once),
//! send a test event, delete, and the delivery log with "try again" for a failed one.

use super::{admin_page, refusal, respond, NoFields};
use crate::http::{see_other, Admin, Caller, CsrfForm, WebError};
use crate::i18n::text;
use crate::view::when;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use buzon_app::{SubscriptionInput, EVENT_KINDS};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct SubscriptionRow {
    id: i64,
    url: String,
    events: String,
    created: String,
}

#[derive(Serialize)]
struct DeliveryRow {
    id: i64,
    at: Option<String>,
    event: String,
    webhook: i64,
    state: String,
    failed: bool,
    attempts: i64,
    status: Option<i64>,
    error: Option<String>,
}

#[derive(Serialize)]
struct EventChoice {
    value: &'static str,
}

#[derive(Serialize)]
struct WebhooksView {
    subscriptions: Vec<SubscriptionRow>,
    deliveries: Vec<DeliveryRow>,
    event_choices: Vec<EventChoice>,
    /// The secret of the webhook just added, shown this once.
    new_secret: Option<String>,
}

/// `GET /admin/webhooks`.
pub(crate) async fn show_webhooks(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Response, WebError> {
    webhooks_page(&state, &caller, None, None, None).await
}

async fn webhooks_page(
    state: &AppState,
    caller: &Caller,
    new_secret: Option<String>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let subscriptions = state.app().event_subscriptions(&caller.actor).await?;
    let deliveries = state
        .app()
        .event_deliveries(&caller.actor, None, 100)
        .await?;
    let view = WebhooksView {
        subscriptions: subscriptions
            .iter()
            .map(|subscription| SubscriptionRow {
                id: subscription.id,
                url: subscription.url.clone(),
                events: subscription.events.join(", "),
                created: subscription
                    .created_at
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .replace('T', " "),
            })
            .collect(),
        deliveries: deliveries
            .iter()
            .map(|delivery| DeliveryRow {
                id: delivery.id,
                at: when(Some(delivery.created_at)),
                event: delivery.event.clone(),
                webhook: delivery.subscription_id,
                state: text(lang, &format!("admin-alerts-state_{}", delivery.state)),
                failed: delivery.state == "failed",
                attempts: delivery.attempts,
                status: delivery.last_status,
                error: delivery.last_error.clone(),
            })
            .collect(),
        event_choices: EVENT_KINDS
            .iter()
            .map(|value| EventChoice { value })
            .collect(),
        new_secret,
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut page = admin_page(caller, "admin-webhooks-title", "webhooks", view);
    page.body.notice = notice;
    page.body.error = error;
    respond(state, caller, status, "admin_webhooks", &page).await
}

/// The form: the URL, the events (checkboxes, each named `event`), an optional secret.
#[derive(Deserialize)]
pub(crate) struct WebhookForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
    #[serde(default, rename = "event")]
    events: Vec<String>,
}

/// `POST /admin/webhooks`.
pub(crate) async fn post_webhook(
    State(state): State<AppState>,
    Admin(caller): Admin,
    axum::extract::RawForm(raw): axum::extract::RawForm,
) -> Result<Response, WebError> {
    // Repeated `event` fields: read as pairs (the CSRF token among them).
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&raw)
        .map_err(|_| WebError::bad_request("the form could not be read"))?;
    let csrf = pairs
        .iter()
        .find(|(key, _)| key == "_csrf")
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    if !crate::http::constant_time_eq(csrf.as_bytes(), caller.csrf().as_bytes()) {
        return Err(WebError::csrf());
    }
    let form = WebhookForm {
        url: pairs
            .iter()
            .find(|(key, _)| key == "url")
            .map(|(_, value)| value.clone())
            .unwrap_or_default(),
        secret: pairs
            .iter()
            .find(|(key, _)| key == "secret")
            .map(|(_, value)| value.clone())
            .unwrap_or_default(),
        events: pairs
            .iter()
            .filter(|(key, _)| key == "event")
            .map(|(_, value)| value.clone())
            .collect(),
    };
    let input = SubscriptionInput {
        url: form.url,
        events: form.events,
        secret: Some(form.secret.trim().to_owned()).filter(|secret| !secret.is_empty()),
    };
    match state
        .app()
        .add_event_subscription(&caller.actor, &input)
        .await
    {
        Ok((_, secret)) => {
            let notice = text(caller.lang, "admin-webhooks-added");
            webhooks_page(&state, &caller, Some(secret), Some(notice), None).await
        }
        Err(err) => {
            let message = refusal(&caller, err)?;
            webhooks_page(&state, &caller, None, None, Some(message)).await
        }
    }
}

/// `POST /admin/webhooks/{id}/test`.
pub(crate) async fn post_test(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state.app().send_test_event(&caller.actor, id).await?;
    Ok(see_other("/admin/webhooks"))
}

/// `POST /admin/webhooks/{id}/delete`.
pub(crate) async fn post_delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state
        .app()
        .delete_event_subscription(&caller.actor, id)
        .await?;
    Ok(see_other("/admin/webhooks"))
}

/// `POST /admin/webhooks/deliveries/{id}/retry`.
pub(crate) async fn post_retry(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state.app().retry_event_delivery(&caller.actor, id).await?;
    Ok(see_other("/admin/webhooks"))
}
