//! Connecting channels with OAuth: Facebook Login (the Page tokens of the Pages the admin
//! picks) and X (Authorization Code + PKCE). The application layer keeps the one-time
//! `state`, bound to the admin who started the sign-in, and the sealed tokens; these pages
//! send the admin to the platform, take them back, and say how it went. Codes, states and
//! tokens never reach a log line (requests are logged by route template).

use super::channels::channels_page;
use super::{admin_page, respond, NoFields};
use crate::http::{see_other, Admin, CsrfForm, WebError};
use crate::i18n::text;
use crate::view::url_encode;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use buzon_app::{OAuthCallback, OAuthOutcome};
use buzon_core::ChannelKind;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The platforms that connect with OAuth, by the name in their routes.
fn platform(name: &str) -> Result<ChannelKind, WebError> {
    match name {
        "facebook" => Ok(ChannelKind::Facebook),
        "x" => Ok(ChannelKind::X),
        _ => Err(WebError::not_found()),
    }
}

/// `POST /admin/oauth/{platform}/start`: sends the admin to the platform's consent page.
pub(crate) async fn post_start(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(name): Path<String>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    let kind = platform(&name)?;
    let url = state.app().oauth_start(&caller.actor, kind).await?;
    Ok(see_other(&url))
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

/// `GET /admin/oauth/{platform}/callback`: the platform sends the admin back here. A
/// refused `state` answers 403, a refused consent or no account 200, a failed exchange 502,
/// each on the channels page; Facebook goes on to picking Pages, X to its channel.
pub(crate) async fn callback(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(name): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let kind = platform(&name)?;
    let lang = caller.lang;
    let given = OAuthCallback {
        code: query.code,
        state: query.state,
        error: query.error,
        error_reason: query.error_reason,
    };
    let outcome = state
        .app()
        .oauth_callback(&caller.actor, kind, &given)
        .await?;
    let (status, error) = match outcome {
        OAuthOutcome::PickPages(flow) => {
            return Ok(see_other(&format!(
                "/admin/oauth/facebook/pages?flow={}",
                url_encode(&flow)
            )))
        }
        OAuthOutcome::Connected(channels) => {
            let id = channels.last().map(|id| id.get()).unwrap_or_default();
            return Ok(see_other(&format!("/admin/channels/{id}?notice=connected")));
        }
        OAuthOutcome::StateRefused => (StatusCode::FORBIDDEN, text(lang, "admin-error-state")),
        OAuthOutcome::Denied => (StatusCode::OK, text(lang, "admin-error-denied")),
        OAuthOutcome::Failed(message) => (
            StatusCode::BAD_GATEWAY,
            format!("{} {message}", text(lang, "admin-error-exchange")),
        ),
        OAuthOutcome::NoAccounts => (StatusCode::OK, text(lang, "admin-error-no_accounts")),
    };
    channels_page(&state, &caller, None, None, Some(error), status).await
}

#[derive(Deserialize)]
pub(crate) struct PickQuery {
    #[serde(default)]
    flow: String,
}

/// A granted Page to pick.
#[derive(Serialize)]
struct PageChoice {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct PickView {
    flow: String,
    pages: Vec<PageChoice>,
}

/// `GET /admin/oauth/facebook/pages?flow=…`: the granted Pages, to pick from.
pub(crate) async fn show_pages(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Query(query): Query<PickQuery>,
) -> Result<Response, WebError> {
    let pages = state.app().oauth_pages(&caller.actor, &query.flow).await?;
    let view = PickView {
        flow: query.flow,
        pages: pages
            .into_iter()
            .map(|page| PageChoice {
                id: page.platform_id,
                name: page.name,
            })
            .collect(),
    };
    let page = admin_page(&caller, "admin-pick-title", "channels", view);
    respond(&state, &caller, StatusCode::OK, "admin_pick_pages", &page).await
}

/// `POST /admin/oauth/facebook/pages`: connects the picked Pages (`page_<id>=on`); the
/// choice is spent.
pub(crate) async fn post_pages(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let flow = form.get("flow").map(String::as_str).unwrap_or_default();
    let picked: Vec<String> = form
        .keys()
        .filter_map(|key| key.strip_prefix("page_"))
        .map(str::to_owned)
        .collect();
    let connected = state
        .app()
        .oauth_connect_pages(&caller.actor, flow, &picked)
        .await?;
    match connected.as_slice() {
        [one] => Ok(see_other(&format!(
            "/admin/channels/{one}?notice=connected"
        ))),
        _ => Ok(see_other("/admin/channels?notice=connected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::testing::{admin, render};

    #[test]
    fn only_facebook_and_x_connect_with_oauth() {
        assert_eq!(platform("facebook").unwrap(), ChannelKind::Facebook);
        assert_eq!(platform("x").unwrap(), ChannelKind::X);
        assert_eq!(
            platform("whatsapp").unwrap_err().status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn the_pick_page_renders() {
        let caller = admin();
        let view = PickView {
            flow: "bzn_flow".into(),
            pages: vec![PageChoice {
                id: "1234".into(),
                name: "Tienda".into(),
            }],
        };
        let page = admin_page(&caller, "admin-pick-title", "channels", view);
        let html = render("admin_pick_pages", &page);
        assert!(html.contains("name=\"page_1234\""), "{html}");
        assert!(html.contains("name=\"flow\" value=\"bzn_flow\""));
    }
}
