//! Admin pages: channels and their credentials, users, API tokens, the audit log, the
//! inbound event log. Admins only: agents and viewers get 403, signed-out visitors go to
//! /login. Every form carries the session's CSRF token, every change is audited, and no
//! credential is ever rendered back (pages say "set" or "not set" and when a token expires).

mod channels;
mod logs;
mod oauth;
mod texts;
mod users;

use crate::i18n::{self, Lang};
use crate::pages::{viewer, PageError, Viewer};
use crate::AppState;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use buzon_connector::{constant_time_eq, HttpClient};
use buzon_core::Timestamp;
use serde_json::Value;
use std::sync::OnceLock;
use std::time::Duration;

/// Texts of the admin pages: (key, English, Spanish).
pub const TEXTS: &[(&str, &str, &str)] = texts::TEXTS;

/// Templates of the admin pages: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "admin_index",
        include_str!("../../../../templates/admin/index.hbs"),
    ),
    (
        "admin_channels",
        include_str!("../../../../templates/admin/channels.hbs"),
    ),
    (
        "admin_pick_pages",
        include_str!("../../../../templates/admin/pick_pages.hbs"),
    ),
    (
        "admin_users",
        include_str!("../../../../templates/admin/users.hbs"),
    ),
    (
        "admin_tokens",
        include_str!("../../../../templates/admin/tokens.hbs"),
    ),
    (
        "admin_audit",
        include_str!("../../../../templates/admin/audit.hbs"),
    ),
    (
        "admin_events",
        include_str!("../../../../templates/admin/events.hbs"),
    ),
    (
        "admin_nav",
        include_str!("../../../../templates/admin/nav.hbs"),
    ),
];

/// The admin routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/admin.css", get(stylesheet))
        .route("/admin", get(channels::show_index))
        .route(
            "/admin/channels",
            get(channels::list_channels).post(channels::post_channel),
        )
        .route("/admin/channels/{id}", get(channels::show_channel))
        .route("/admin/channels/{id}/token", post(channels::post_token))
        .route("/admin/channels/{id}/test", post(channels::post_test))
        .route("/admin/channels/{id}/pause", post(channels::post_pause))
        .route("/admin/channels/{id}/resume", post(channels::post_resume))
        .route("/admin/channels/{id}/publish", post(channels::post_publish))
        .route("/admin/oauth/{platform}/start", post(oauth::post_start))
        .route("/admin/oauth/{platform}/callback", get(oauth::callback))
        .route(
            "/admin/oauth/facebook/pages",
            get(oauth::show_pages).post(oauth::post_pages),
        )
        .route(
            "/admin/users",
            get(users::list_users).post(users::post_user),
        )
        .route("/admin/users/{id}/role", post(users::post_role))
        .route("/admin/users/{id}/active", post(users::post_active))
        .route("/admin/users/{id}/password", post(users::post_password))
        .route(
            "/admin/tokens",
            get(users::list_tokens).post(users::post_token),
        )
        .route("/admin/tokens/{id}/revoke", post(users::post_revoke))
        .route("/admin/audit", get(logs::show_audit))
        .route("/admin/events", get(logs::show_events))
        .route("/admin/events/{id}/replay", post(logs::post_replay))
}

/// `GET /static/admin.css`: the admin pages' stylesheet (nothing secret in it).
async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("admin.css"),
    )
}

/// The signed-in admin of a request: signed out is `SignIn`, another role `Forbidden`.
pub(crate) async fn admin(state: &AppState, headers: &HeaderMap) -> Result<Viewer, PageError> {
    let viewer = viewer(state, headers).await?;
    if viewer.session.user.role.can_admin() {
        Ok(viewer)
    } else {
        Err(PageError::Forbidden)
    }
}

/// The signed-in admin of a form POST, whose CSRF token must be the session's.
pub(crate) async fn admin_form(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Viewer, PageError> {
    let viewer = admin(state, headers).await?;
    if constant_time_eq(csrf.as_bytes(), viewer.session.csrf_token.as_bytes()) {
        Ok(viewer)
    } else {
        Err(PageError::Csrf)
    }
}

/// Who did it, for the audit log.
pub(crate) fn actor(viewer: &Viewer) -> String {
    format!("user:{}", viewer.session.user.id)
}

/// The base view data of an admin page, with the admin navigation marked.
pub(crate) fn page_data(viewer: &Viewer, title_key: &str, section: &str) -> Value {
    let lang = viewer.lang;
    let mut data = crate::pages::base(Some(viewer), lang, i18n::text(lang, title_key), "admin");
    data["section"] = Value::String(section.to_owned());
    data["notice"] = Value::Null;
    data["error"] = Value::Null;
    data
}

/// A time for people: `2026-11-23 17:05 UTC`.
pub(crate) fn when(at: Option<Timestamp>) -> Option<String> {
    at.map(|at| {
        let text = at.to_rfc3339().replace('T', " ");
        format!("{} UTC", text.chars().take(16).collect::<String>())
    })
}

/// A translated text.
pub(crate) fn t(lang: Lang, key: &str) -> String {
    i18n::text(lang, key).to_owned()
}

/// The HTTP client for OAuth exchanges and credential checks made from admin pages.
pub(crate) fn http() -> &'static HttpClient {
    static CLIENT: OnceLock<HttpClient> = OnceLock::new();
    CLIENT.get_or_init(|| HttpClient::new(Duration::from_secs(20)))
}
