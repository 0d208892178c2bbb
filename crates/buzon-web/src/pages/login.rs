//! Signing in and out, and the language switch. Sessions are cookies (HttpOnly, SameSite=Lax,
//! Secure over https) whose hash is stored; the sign-in form carries a double-submit CSRF
//! token, since there is no session yet.

use crate::http::{
    constant_time_eq, cookie, set_cookie, Caller, CsrfForm, WebError, SESSION_COOKIE,
};
use crate::i18n::{text, Lang};
use crate::view::{render, Page};
use crate::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use buzon_app::{AppError, SignInAttempt, SESSION_LENGTH};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The pre-login CSRF cookie's name (double-submit on the sign-in form).
const LOGIN_CSRF_COOKIE: &str = "buzon_login_csrf";

#[derive(Serialize)]
struct LoginView {
    error: Option<String>,
    email: String,
}

/// `GET /login`.
pub(crate) async fn show_login(
    State(state): State<AppState>,
    caller: Option<Caller>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if caller.is_some() {
        return Ok(Redirect::to("/inbox").into_response());
    }
    login_page(&state, &headers, None, "", StatusCode::OK)
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    error: Option<&str>,
    email: &str,
    status: StatusCode,
) -> Result<Response, WebError> {
    let lang = Lang::of(headers);
    let csrf = hex::encode(rand::random::<[u8; 24]>());
    let view = Page::anonymous(
        lang,
        text(lang, "login-title"),
        "login",
        csrf.clone(),
        LoginView {
            error: error.map(|key| text(lang, key)),
            email: email.to_owned(),
        },
    );
    let mut response = (status, render(state, "login", &view)?).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            state.settings().secure_cookies,
            LOGIN_CSRF_COOKIE,
            &csrf,
            3600,
        ),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// `POST /login`: throttled per email and per address; the same answer for an unknown email
/// and a wrong password.
pub(crate) async fn post_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(WebError::csrf());
    }
    let address =
        crate::http::client_address(&peer, &headers, &state.settings().trusted_proxies).to_string();
    let email = form.email.trim().to_lowercase();
    let attempt = SignInAttempt {
        email: &email,
        password: &form.password,
        address: &address,
    };
    let signed_in = match state.app().sign_in(&attempt).await {
        Ok(signed_in) => signed_in,
        Err(AppError::Throttled) => {
            return login_page(
                &state,
                &headers,
                Some("login-throttled"),
                &email,
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(AppError::Unauthorized) => {
            return login_page(
                &state,
                &headers,
                Some("login-failed"),
                &email,
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(err) => return Err(err.into()),
    };
    let secure = state.settings().secure_cookies;
    let mut response = Redirect::to("/inbox").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            secure,
            SESSION_COOKIE,
            &signed_in.secret,
            SESSION_LENGTH.as_secs() as i64,
        ),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(secure, LOGIN_CSRF_COOKIE, "", 0),
    );
    Ok(response)
}

use crate::http::NoFields;

/// `POST /logout`.
pub(crate) async fn post_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.app().sign_out(&secret).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state.settings().secure_cookies, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct LangForm {
    #[serde(default)]
    lang: String,
}

/// `POST /lang`: the language switch; back to the page it was pressed on.
pub(crate) async fn post_lang(
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LangForm>,
) -> Result<Response, WebError> {
    let lang = crate::i18n::catalog()
        .find(form.lang.trim())
        .unwrap_or_else(Lang::english);
    let back = headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|referer| {
            referer.find("://").and_then(|i| {
                referer[i + 3..]
                    .find('/')
                    .map(|j| referer[i + 3 + j..].to_owned())
            })
        })
        .filter(|path| {
            path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.bytes().any(|byte| byte < 0x20)
        })
        .unwrap_or_else(|| "/inbox".to_owned());
    let mut response = Redirect::to(&back).into_response();
    let value = HeaderValue::from_str(&format!(
        "lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
        lang.code()
    ))
    .expect("language codes are ASCII");
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(response)
}
