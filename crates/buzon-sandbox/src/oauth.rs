//! The platforms' OAuth 2.0 sign-in, as their documentation describes it:
//! - Facebook Login: the consent dialog (`https://www.facebook.com/v21.0/dialog/oauth`, here
//!   `/facebook/dialog/oauth`) sends the browser back with `code` and `state` (or
//!   `error=access_denied&error_reason=user_denied`); `GET|POST {graph}/oauth/access_token`
//!   exchanges the code (client id and secret in the parameters) for a short-lived user token,
//!   or with `grant_type=fb_exchange_token` a user token for a long-lived one; `GET
//!   {graph}/me/accounts` with a user token lists the Page with its Page token.
//! - X OAuth 2.0 Authorization Code with PKCE: `https://x.com/i/oauth2/authorize` (here
//!   `/x/i/oauth2/authorize`, `code_challenge_method=S256` required) and `POST
//!   {x}/2/oauth2/token` with HTTP Basic client authentication, for `authorization_code` (the
//!   `code_verifier` is checked against the challenge) and `refresh_token` (refresh tokens
//!   rotate: each is good once). Access tokens it issues work on the X API routes until they
//!   expire (`SandboxConfig::x_token_lifetime`).
//!
//! Codes are single-use and live ten minutes.

use crate::clock::now_ms;
use crate::world::PAGE_NAME;
use crate::Shared;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

type Params = HashMap<String, String>;

const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;
const FB_SHORT_LIVED_SECS: i64 = 5_400;
const FB_LONG_LIVED_SECS: i64 = 5_183_944;

/// What the sandbox's authorization servers remember.
#[derive(Debug, Default)]
pub(crate) struct OAuthWorld {
    codes: HashMap<String, PendingCode>,
    x_access: HashMap<String, i64>,
    x_refresh: HashMap<String, String>,
    facebook_user: HashMap<String, i64>,
    /// Every code and token issued, for tests that look for leaks.
    pub issued: Vec<String>,
    /// Refresh grants served.
    pub refreshes: u64,
}

#[derive(Debug, Clone)]
struct PendingCode {
    platform: &'static str,
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
    expires_at: i64,
}

impl OAuthWorld {
    fn issue(&mut self, prefix: &str) -> String {
        let token = format!(
            "{prefix}{}",
            hex::encode(rand::thread_rng().gen::<[u8; 16]>())
        );
        self.issued.push(token.clone());
        token
    }

    /// Whether `token` is a live X access token issued by the sandbox.
    pub(crate) fn x_token_live(&self, token: &str) -> bool {
        self.x_access
            .get(token)
            .is_some_and(|expires_at| *expires_at > now_ms())
    }

    fn facebook_user_live(&self, token: &str) -> bool {
        self.facebook_user
            .get(token)
            .is_some_and(|expires_at| *expires_at > now_ms())
    }
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/facebook/dialog/oauth", get(facebook_dialog))
        .route("/facebook/{version}/dialog/oauth", get(facebook_dialog))
        .route(
            "/graph/{version}/oauth/access_token",
            get(facebook_token).post(facebook_token),
        )
        .route("/graph/{version}/me/accounts", get(facebook_accounts))
        .route("/x/i/oauth2/authorize", get(x_authorize))
        .route("/x/2/oauth2/token", post(x_token))
}

// ---- Facebook Login ------------------------------------------------------------------------

async fn facebook_dialog(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Params>,
) -> Response {
    let (Some(client_id), Some(redirect_uri)) = (query.get("client_id"), query.get("redirect_uri"))
    else {
        return error_page("client_id and redirect_uri are required");
    };
    if *client_id != shared.config.facebook_app_id {
        return error_page("Invalid App ID: the app id is not a valid app ID");
    }
    let state = query.get("state").cloned().unwrap_or_default();
    if shared.faults().refuse_consent {
        return redirect(
            redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_code", "200"),
                ("error_description", "Permissions error"),
                ("error_reason", "user_denied"),
                ("state", &state),
            ],
        );
    }
    let code = {
        let mut oauth = shared.oauth();
        let code = oauth.issue("fbcode-");
        oauth.codes.insert(
            code.clone(),
            PendingCode {
                platform: "facebook",
                client_id: client_id.clone(),
                redirect_uri: redirect_uri.clone(),
                challenge: None,
                scope: query.get("scope").cloned().unwrap_or_default(),
                expires_at: now_ms() + CODE_LIFETIME_MS,
            },
        );
        code
    };
    redirect(redirect_uri, &[("code", &code), ("state", &state)])
}

async fn facebook_token(State(shared): State<Arc<Shared>>, Form(params): Form<Params>) -> Response {
    let config = &shared.config;
    if params.get("client_id") != Some(&config.facebook_app_id)
        || params.get("client_secret") != Some(&config.facebook_app_secret)
    {
        return graph_oauth_error(101, "Error validating application. Invalid application ID.");
    }
    let mut oauth = shared.oauth();
    if params.get("grant_type").map(String::as_str) == Some("fb_exchange_token") {
        let given = params.get("fb_exchange_token").cloned().unwrap_or_default();
        if !oauth.facebook_user_live(&given) {
            return graph_oauth_error(
                190,
                "Invalid OAuth access token - Cannot parse access token",
            );
        }
        let token = oauth.issue("fbuser-long-");
        oauth
            .facebook_user
            .insert(token.clone(), now_ms() + FB_LONG_LIVED_SECS * 1000);
        return Json(json!({"access_token": token, "token_type": "bearer", "expires_in": FB_LONG_LIVED_SECS}))
            .into_response();
    }
    let code = params.get("code").cloned().unwrap_or_default();
    let Some(pending) = oauth.codes.remove(&code) else {
        return graph_oauth_error(100, "Invalid verification code format.");
    };
    if pending.platform != "facebook"
        || pending.expires_at < now_ms()
        || params.get("redirect_uri") != Some(&pending.redirect_uri)
    {
        return graph_oauth_error(
            100,
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        );
    }
    let token = oauth.issue("fbuser-");
    oauth
        .facebook_user
        .insert(token.clone(), now_ms() + FB_SHORT_LIVED_SECS * 1000);
    Json(json!({"access_token": token, "token_type": "bearer", "expires_in": FB_SHORT_LIVED_SECS}))
        .into_response()
}

async fn facebook_accounts(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let token = bearer(&headers).or_else(|| query.get("access_token").cloned());
    let live = token
        .as_deref()
        .is_some_and(|token| shared.oauth().facebook_user_live(token));
    if !live {
        let mut response = graph_oauth_error(
            190,
            "Invalid OAuth access token - Cannot parse access token",
        );
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return response;
    }
    let config = &shared.config;
    Json(json!({
        "data": [{
            "access_token": config.facebook_page_token,
            "category": "Clothing Store",
            "category_list": [{"id": "2209", "name": "Clothing Store"}],
            "name": PAGE_NAME,
            "id": config.facebook_page_id,
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
        }],
        "paging": {"cursors": {"before": "QVFIUjNq", "after": "QVFIUjNq"}},
    }))
    .into_response()
}

// ---- X OAuth 2.0 with PKCE -----------------------------------------------------------------

async fn x_authorize(State(shared): State<Arc<Shared>>, Query(query): Query<Params>) -> Response {
    let (Some(client_id), Some(redirect_uri)) = (query.get("client_id"), query.get("redirect_uri"))
    else {
        return error_page("client_id and redirect_uri are required");
    };
    if *client_id != shared.config.x_client_id {
        return error_page("Something went wrong: the client id is not valid");
    }
    if query.get("response_type").map(String::as_str) != Some("code") {
        return error_page("response_type must be code");
    }
    let Some(challenge) = query.get("code_challenge").filter(|c| !c.is_empty()) else {
        return error_page("code_challenge is required");
    };
    if query.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return error_page("code_challenge_method must be S256 here");
    }
    let state = query.get("state").cloned().unwrap_or_default();
    if shared.faults().refuse_consent {
        return redirect(
            redirect_uri,
            &[("error", "access_denied"), ("state", &state)],
        );
    }
    let code = {
        let mut oauth = shared.oauth();
        let code = oauth.issue("xcode-");
        oauth.codes.insert(
            code.clone(),
            PendingCode {
                platform: "x",
                client_id: client_id.clone(),
                redirect_uri: redirect_uri.clone(),
                challenge: Some(challenge.clone()),
                scope: query.get("scope").cloned().unwrap_or_default(),
                expires_at: now_ms() + CODE_LIFETIME_MS,
            },
        );
        code
    };
    redirect(redirect_uri, &[("state", &state), ("code", &code)])
}

async fn x_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    let config = &shared.config;
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let expected = format!("{}:{}", config.x_client_id, config.x_client_secret);
    if basic.as_deref() != Some(expected.as_str()) {
        return x_oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Missing valid authorization header",
        );
    }
    let mut oauth = shared.oauth();
    let scope = match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = params.get("code").cloned().unwrap_or_default();
            let Some(pending) = oauth.codes.remove(&code) else {
                return x_oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the authorization code was invalid.",
                );
            };
            let verifier = params.get("code_verifier").cloned().unwrap_or_default();
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()));
            if pending.platform != "x"
                || pending.expires_at < now_ms()
                || pending.client_id != config.x_client_id
                || params.get("redirect_uri") != Some(&pending.redirect_uri)
                || pending.challenge.as_deref() != Some(challenge.as_str())
            {
                return x_oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the authorization code was invalid.",
                );
            }
            pending.scope
        }
        Some("refresh_token") => {
            let given = params.get("refresh_token").cloned().unwrap_or_default();
            if shared.faults().refuse_refresh {
                oauth.x_refresh.remove(&given);
                return x_oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the token was invalid.",
                );
            }
            let Some(scope) = oauth.x_refresh.remove(&given) else {
                return x_oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the token was invalid.",
                );
            };
            oauth.refreshes += 1;
            scope
        }
        _ => {
            return x_oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )
        }
    };
    let lifetime = config.x_token_lifetime.as_secs().max(1);
    let access = oauth.issue("xat-");
    oauth
        .x_access
        .insert(access.clone(), now_ms() + lifetime as i64 * 1000);
    let mut answer = json!({
        "token_type": "bearer",
        "expires_in": lifetime,
        "access_token": access,
        "scope": scope,
    });
    if scope.split(' ').any(|s| s == "offline.access") {
        let refresh = oauth.issue("xrt-");
        oauth.x_refresh.insert(refresh.clone(), scope.clone());
        answer["refresh_token"] = json!(refresh);
    }
    Json(answer).into_response()
}

// ---- helpers -------------------------------------------------------------------------------

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned())
}

/// A 302 back to the client's redirect URI with `params` added to its query.
fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let query: Vec<String> = params
        .iter()
        .map(|(key, value)| format!("{key}={}", percent_encode(value)))
        .collect();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", query.join("&"));
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => error_page("the redirect_uri is not a valid URL"),
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

fn graph_oauth_error(code: u32, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AOAuthSandbox"}})),
    )
        .into_response()
}

fn x_oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_parameters_are_percent_encoded() {
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(percent_encode("Az09-_.~"), "Az09-_.~");
    }
}
