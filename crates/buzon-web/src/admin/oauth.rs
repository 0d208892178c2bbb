//! Connecting channels with OAuth: Facebook Login (code → user token → long-lived token →
//! the Page tokens of the Pages the admin picks) and X (Authorization Code + PKCE).
//!
//! The `state` is one-time, bound to the admin who started the sign-in and expires in ten
//! minutes; it is stored only as a hash, and the PKCE verifier and the granted Page tokens
//! only sealed. A callback whose `state` does not match is refused and nothing is stored.
//! Codes, states and tokens never reach a log line (requests are logged by route template).

use super::channels::{channels_page, kind_of};
use super::{actor, admin, admin_form, http, page_data, t};
use crate::pages::{render, PageError, Viewer};
use crate::{AppError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use buzon_connector::OAuthApp;
use buzon_core::*;
use buzon_store::OAuthStage;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// How long an admin has to consent on the platform.
const AUTHORIZE_MILLIS: i64 = 10 * 60 * 1000;
/// How long granted Pages wait for the admin to pick.
const PICK_MILLIS: i64 = 15 * 60 * 1000;

fn platform(name: &str) -> Result<ChannelKind, PageError> {
    match name {
        "facebook" => Ok(ChannelKind::Facebook),
        "x" => Ok(ChannelKind::X),
        _ => Err(PageError::App(AppError::NotFound)),
    }
}

fn app(state: &AppState, kind: ChannelKind) -> Option<&OAuthApp> {
    match kind {
        ChannelKind::Facebook => state.settings().facebook_oauth.as_ref(),
        ChannelKind::X => state.settings().x_oauth.as_ref(),
        ChannelKind::Whatsapp => None,
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// `POST /admin/oauth/{platform}/start`: sends the admin to the platform's consent page.
pub(crate) async fn post_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let kind = platform(&name)?;
    let Some(app) = app(&state, kind) else {
        return Err(PageError::App(AppError::BadRequest(t(
            viewer.lang,
            "admin.error.oauth_not_configured",
        ))));
    };
    let start = app
        .start()
        .map_err(|err| PageError::App(AppError::BadRequest(err.to_string())))?;
    let verifier = start.pkce_verifier.clone().unwrap_or_default();
    state
        .store()
        .save_oauth_flow(
            kind,
            OAuthStage::Authorize,
            &start.state,
            viewer.session.user.id,
            verifier.as_bytes(),
            Timestamp::now().plus_millis(AUTHORIZE_MILLIS),
        )
        .await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            "channel.oauth_start",
            &format!("oauth:{}", kind.as_str()),
            &json!({}),
        )
        .await?;
    Ok(Redirect::to(&start.url).into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_reason: Option<String>,
}

/// `GET /admin/oauth/{platform}/callback`: the platform sends the admin back here.
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    let kind = platform(&name)?;
    let lang = viewer.lang;
    let Some(app) = app(&state, kind).cloned() else {
        return Err(PageError::App(AppError::NotFound));
    };
    let given_state = query.state.as_deref().unwrap_or_default();
    let flow = if given_state.is_empty() || given_state.len() > 512 {
        None
    } else {
        state
            .store()
            .oauth_flow(
                kind,
                OAuthStage::Authorize,
                given_state,
                viewer.session.user.id,
                true,
            )
            .await?
    };
    let Some(verifier) = flow else {
        state
            .store()
            .audit(
                &actor(&viewer),
                "channel.oauth_refused",
                &format!("oauth:{}", kind.as_str()),
                &json!({"reason": "state"}),
            )
            .await?;
        let message = t(lang, "admin.error.state");
        return channels_page(
            &state,
            &viewer,
            None,
            None,
            Some(message),
            StatusCode::FORBIDDEN,
        )
        .await;
    };
    if query.error.is_some() || query.code.is_none() {
        let reason = query
            .error_reason
            .as_deref()
            .or(query.error.as_deref())
            .unwrap_or("no_code");
        state
            .store()
            .audit(
                &actor(&viewer),
                "channel.oauth_denied",
                &format!("oauth:{}", kind.as_str()),
                &json!({"reason": bounded_code(reason)}),
            )
            .await?;
        let message = t(lang, "admin.error.denied");
        return channels_page(&state, &viewer, None, None, Some(message), StatusCode::OK).await;
    }
    let code = query.code.unwrap_or_default();
    let verifier = String::from_utf8(verifier).unwrap_or_default();
    let verifier = (!verifier.is_empty()).then_some(verifier);
    let granted = async {
        let tokens = app
            .exchange_code(http(), &code, verifier.as_deref())
            .await?;
        let connector = state.connector(kind).ok_or_else(|| {
            buzon_connector::ConnectorError::Permanent(format!("no {kind} connector"))
        })?;
        connector.granted_accounts(&app, &tokens).await
    }
    .await;
    let accounts = match granted {
        Ok(accounts) => accounts,
        Err(err) => {
            state
                .store()
                .audit(
                    &actor(&viewer),
                    "channel.oauth_failed",
                    &format!("oauth:{}", kind.as_str()),
                    &json!({"reason": kind_of(&err)}),
                )
                .await?;
            let message = format!("{} {err}", t(lang, "admin.error.exchange"));
            return channels_page(
                &state,
                &viewer,
                None,
                None,
                Some(message),
                StatusCode::BAD_GATEWAY,
            )
            .await;
        }
    };
    if accounts.is_empty() {
        let message = t(lang, "admin.error.no_accounts");
        return channels_page(&state, &viewer, None, None, Some(message), StatusCode::OK).await;
    }
    match kind {
        ChannelKind::Facebook => {
            // The admin picks which Pages to connect; until then their tokens stay sealed.
            let parked: Vec<Parked> = accounts
                .into_iter()
                .map(|account| Parked {
                    platform_id: account.platform_id.into_string(),
                    name: account.name,
                    credentials: account.credentials,
                })
                .collect();
            let secret = serde_json::to_vec(&parked).expect("parked pages serialize");
            let pick = buzon_store::secrets::generate_token();
            state
                .store()
                .save_oauth_flow(
                    kind,
                    OAuthStage::Pick,
                    &pick,
                    viewer.session.user.id,
                    &secret,
                    Timestamp::now().plus_millis(PICK_MILLIS),
                )
                .await?;
            Ok(Redirect::to(&format!("/admin/oauth/facebook/pages?flow={pick}")).into_response())
        }
        _ => {
            let mut last = None;
            for account in accounts {
                last = Some(
                    connect(
                        &state,
                        &viewer,
                        kind,
                        account.platform_id,
                        &account.name,
                        &account.credentials,
                    )
                    .await?,
                );
            }
            let id = last.map(|channel| channel.get()).unwrap_or_default();
            Ok(Redirect::to(&format!("/admin/channels/{id}?notice=connected")).into_response())
        }
    }
}

/// A granted Page waiting to be picked (sealed in the store).
#[derive(Serialize, Deserialize)]
struct Parked {
    platform_id: String,
    name: String,
    credentials: ChannelCredentials,
}

#[derive(Deserialize)]
pub(crate) struct PickQuery {
    #[serde(default)]
    flow: String,
}

/// `GET /admin/oauth/facebook/pages?flow=…`: the granted Pages, to pick from.
pub(crate) async fn show_pages(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PickQuery>,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    let parked = parked(&state, &viewer, &query.flow, false).await?;
    let mut data = page_data(&viewer, "admin.pick.title", "channels");
    data["flow"] = json!(query.flow);
    data["pages"] = json!(parked
        .iter()
        .map(|page| json!({"id": page.platform_id, "name": page.name}))
        .collect::<Vec<_>>());
    Ok(render(&state, "admin_pick_pages", &data)?.into_response())
}

/// `POST /admin/oauth/facebook/pages`: connects the picked Pages (`page_<id>=on`).
pub(crate) async fn post_pages(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let csrf = form.get("_csrf").cloned().unwrap_or_default();
    let viewer = admin_form(&state, &headers, &csrf).await?;
    let flow = form.get("flow").cloned().unwrap_or_default();
    let parked = parked(&state, &viewer, &flow, true).await?;
    let mut connected = Vec::new();
    for page in parked {
        if !form.contains_key(&format!("page_{}", page.platform_id)) {
            continue;
        }
        let platform_id = ExternalId::parse(page.platform_id)?;
        connected.push(
            connect(
                &state,
                &viewer,
                ChannelKind::Facebook,
                platform_id,
                &page.name,
                &page.credentials,
            )
            .await?,
        );
    }
    match connected.as_slice() {
        [one] => Ok(
            Redirect::to(&format!("/admin/channels/{}?notice=connected", one.get()))
                .into_response(),
        ),
        _ => Ok(Redirect::to("/admin/channels?notice=connected").into_response()),
    }
}

async fn parked(
    state: &AppState,
    viewer: &Viewer,
    flow: &str,
    consume: bool,
) -> Result<Vec<Parked>, PageError> {
    let found = if flow.is_empty() || flow.len() > 512 {
        None
    } else {
        state
            .store()
            .oauth_flow(
                ChannelKind::Facebook,
                OAuthStage::Pick,
                flow,
                viewer.session.user.id,
                consume,
            )
            .await?
    };
    let secret = found.ok_or_else(|| {
        PageError::App(AppError::BadRequest(t(
            viewer.lang,
            "admin.error.pick_expired",
        )))
    })?;
    serde_json::from_slice(&secret).map_err(|_| {
        PageError::App(AppError::Internal(anyhow::anyhow!(
            "parked pages do not decode"
        )))
    })
}

async fn connect(
    state: &AppState,
    viewer: &Viewer,
    kind: ChannelKind,
    platform_id: ExternalId,
    name: &str,
    credentials: &ChannelCredentials,
) -> Result<ChannelId, PageError> {
    let (channel, new) = state
        .store()
        .connect_channel(kind, name, &platform_id, credentials)
        .await?;
    state
        .store()
        .audit(
            &actor(viewer),
            if new {
                "channel.connect"
            } else {
                "channel.credentials"
            },
            &format!("channel:{}", channel.id),
            &json!({"kind": kind.as_str(), "via": "oauth"}),
        )
        .await?;
    state.wake_workers();
    Ok(channel.id)
}

/// A platform's error code, kept to its fixed vocabulary for the audit log.
fn bounded_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect()
}
