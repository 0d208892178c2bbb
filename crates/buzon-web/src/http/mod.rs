//! The web's plumbing, shared by every feature and depending on none: who is asking
//! ([`Caller`], [`Viewer`], [`Agent`], [`Admin`]), forms with their CSRF token checked
//! ([`CsrfForm`]), the one error type ([`WebError`]) and cookies.

mod address;
mod auth;
mod csrf;
mod error;

pub use address::{client_address, AddressList};
pub use auth::{bearer, Admin, Agent, Caller, Viewer, SESSION_COOKIE};
pub use buzon_connector::constant_time_eq;
pub use csrf::{CsrfForm, NoFields};
pub use error::{not_found, render_errors, WebError};

pub(crate) use crate::i18n::cookie;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, and Secure when buzon is served over https.
pub fn set_cookie(secure: bool, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie values are URL-safe")
}

/// `303 See Other` to `path`: where a successful form POST goes.
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}
