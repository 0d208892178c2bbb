//! Admin pages: channels and their credentials, users, API tokens, the audit log, the
//! inbound event log. Admins only: every handler takes the [`Admin`](crate::http::Admin)
//! extractor (agents and viewers get 403, signed-out visitors go to /login) and every form is
//! a [`CsrfForm`](crate::http::CsrfForm). Each change is one call to the application layer,
//! which checks the role again and writes the audit line with the change. No credential is
//! ever rendered back (pages say "set" or "not set" and when a token expires).

mod alerts;
mod channels;
mod hours;
mod logs;
mod oauth;
mod users;
mod webhooks;

use crate::http::{Caller, WebError};
use crate::view::{render, Page};
use crate::AppState;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use buzon_app::AppError;
use serde::Serialize;

/// Templates of the admin pages: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "admin_index",
        include_str!("../../templates/admin/index.hbs"),
    ),
    (
        "admin_channels",
        include_str!("../../templates/admin/channels.hbs"),
    ),
    (
        "admin_pick_pages",
        include_str!("../../templates/admin/pick_pages.hbs"),
    ),
    (
        "admin_users",
        include_str!("../../templates/admin/users.hbs"),
    ),
    (
        "admin_webhooks",
        include_str!("../../templates/admin/webhooks.hbs"),
    ),
    (
        "admin_tokens",
        include_str!("../../templates/admin/tokens.hbs"),
    ),
    (
        "admin_audit",
        include_str!("../../templates/admin/audit.hbs"),
    ),
    (
        "admin_events",
        include_str!("../../templates/admin/events.hbs"),
    ),
    ("admin_nav", include_str!("../../templates/admin/nav.hbs")),
    (
        "admin_alerts",
        include_str!("../../templates/admin/alerts.hbs"),
    ),
    (
        "admin_hours",
        include_str!("../../templates/admin/hours.hbs"),
    ),
    (
        "admin_channel_hours",
        include_str!("../../templates/admin/channel_hours.hbs"),
    ),
    (
        "admin_hours_fields",
        include_str!("../../templates/admin/hours_fields.hbs"),
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
        .route(
            "/admin/channels/{id}/templates",
            post(channels::post_template),
        )
        .route(
            "/admin/channels/{id}/templates/{template}/delete",
            post(channels::post_template_delete),
        )
        .route("/admin/channels/{id}/searches", post(channels::post_search))
        .route(
            "/admin/channels/{id}/searches/{search}",
            post(channels::post_search_update),
        )
        .route(
            "/admin/channels/{id}/searches/{search}/delete",
            post(channels::post_search_delete),
        )
        .route("/admin/channels/{id}/pause", post(channels::post_pause))
        .route("/admin/channels/{id}/resume", post(channels::post_resume))
        .route("/admin/channels/{id}/publish", post(channels::post_publish))
        .route(
            "/admin/channels/{id}/auto-hide",
            post(channels::post_auto_hide),
        )
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
        .route("/admin/users/{id}/supervisor", post(users::post_supervisor))
        .route("/admin/users/{id}/password", post(users::post_password))
        .route(
            "/admin/tokens",
            get(users::list_tokens).post(users::post_token),
        )
        .route("/admin/tokens/{id}/revoke", post(users::post_revoke))
        .route(
            "/admin/hours",
            get(hours::show_hours).post(hours::post_hours),
        )
        .route("/admin/hours/channels/{id}", get(hours::show_channel_hours))
        .route(
            "/admin/hours/channels/{id}/hours",
            post(hours::post_channel_hours),
        )
        .route(
            "/admin/hours/channels/{id}/auto-reply",
            post(hours::post_auto_reply),
        )
        .route(
            "/admin/hours/channels/{id}/replies",
            post(hours::post_replies),
        )
        .route(
            "/admin/webhooks",
            get(webhooks::show_webhooks).post(webhooks::post_webhook),
        )
        .route("/admin/webhooks/{id}/test", post(webhooks::post_test))
        .route("/admin/webhooks/{id}/delete", post(webhooks::post_delete))
        .route(
            "/admin/webhooks/deliveries/{id}/retry",
            post(webhooks::post_retry),
        )
        .route("/admin/alerts", get(alerts::show_alerts))
        .route("/admin/alerts/rules", post(alerts::post_rule))
        .route(
            "/admin/alerts/escalation-rules",
            post(alerts::post_escalation_rule),
        )
        .route(
            "/admin/alerts/escalation-rules/{id}/delete",
            post(alerts::post_delete_escalation_rule),
        )
        .route(
            "/admin/alerts/rules/{id}/delete",
            post(alerts::post_delete_rule),
        )
        .route("/admin/alerts/on-call", post(alerts::post_on_call))
        .route(
            "/admin/alerts/deliveries/{id}/retry",
            post(alerts::post_retry),
        )
        .route("/admin/audit", get(logs::show_audit))
        .route("/admin/events", get(logs::show_events))
        .route("/admin/events/{id}/replay", post(logs::post_replay))
        .route("/admin/events/{id}/dismiss", post(logs::post_dismiss))
}

/// `GET /static/admin.css`: the admin pages' stylesheet (nothing secret in it).
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("admin.css"),
    )
}

/// What every admin page shows besides its own fields: which section of the admin
/// navigation is current, and a notice or an error in words.
#[derive(Serialize)]
pub(crate) struct AdminView<T: Serialize> {
    /// The current section of the admin navigation.
    section: &'static str,
    /// A notice in words (after a redirect), if any.
    notice: Option<String>,
    /// An error in words (a refused form), if any.
    error: Option<String>,
    /// The page's own fields.
    #[serde(flatten)]
    fields: T,
}

/// An admin page for `caller`, titled by `title_key`, in `section` of the admin navigation.
pub(crate) fn admin_page<T: Serialize>(
    caller: &Caller,
    title_key: &str,
    section: &'static str,
    fields: T,
) -> Page<AdminView<T>> {
    Page::new(
        caller,
        title_key,
        "admin",
        AdminView {
            section,
            notice: None,
            error: None,
            fields,
        },
    )
}

/// Renders an admin page with `status`, with the banner every admin page shows while some
/// deliveries could not be read.
pub(crate) async fn respond<T: Serialize>(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    name: &str,
    page: &Page<AdminView<T>>,
) -> Result<Response, WebError> {
    let unparsed: i64 = state
        .app()
        .unparsed_counts(&caller.actor)
        .await?
        .iter()
        .map(|(_, _, count)| count)
        .sum();
    let view = WithBanner {
        page,
        unparsed_banner: (unparsed > 0).then(|| {
            crate::i18n::text_with(
                caller.lang,
                "admin-unparsed-banner",
                &[("count", unparsed.into())],
            )
        }),
    };
    Ok((status, render(state, name, &view)?).into_response())
}

/// An admin page and the banner over it.
#[derive(Serialize)]
pub(crate) struct WithBanner<'a, T: Serialize> {
    #[serde(flatten)]
    pub(crate) page: &'a Page<AdminView<T>>,
    pub(crate) unparsed_banner: Option<String>,
}

/// A form's refusal to show on the page it came from, in the reader's language: an invalid
/// input or a conflict (a short password, a taken email, the last admin). Anything else (a
/// role that may not, something missing, a failure of ours) is not the form's fault and is
/// handed back as the error it is.
pub(crate) fn refusal(caller: &Caller, err: AppError) -> Result<String, WebError> {
    match err {
        AppError::Invalid { .. } | AppError::Conflict { .. } => {
            Ok(WebError::from(err).message_in(caller.lang))
        }
        other => Err(other.into()),
    }
}

pub(crate) use crate::http::NoFields;

/// What the admin modules' tests share: a signed-in admin and the templates in strict mode.
#[cfg(test)]
pub(crate) mod testing {
    use super::AdminView;
    use crate::http::Caller;
    use crate::i18n::Lang;
    use crate::view::{Page, Templates};
    use buzon_app::{Actor, Session};
    use buzon_core::{Role, Timestamp, User, UserId};
    use serde::Serialize;

    /// A signed-in admin reading English.
    pub(crate) fn admin() -> Caller {
        Caller {
            actor: Actor::User {
                id: UserId(1),
                role: Role::Admin,
            },
            session: Some(Session {
                user: User {
                    id: UserId(1),
                    email: "admin@shop.example".into(),
                    name: "Ana".into(),
                    role: Role::Admin,
                    active: true,
                    created_at: Timestamp::now(),
                    supervisor: false,
                },
                csrf_token: "the-csrf-token".into(),
            }),
            lang: Lang::english(),
        }
    }

    /// Renders an admin page as the server would; a field a template names and the view
    /// lacks fails (strict mode).
    pub(crate) fn render<T: Serialize>(name: &str, page: &Page<AdminView<T>>) -> String {
        let view = super::WithBanner {
            page,
            unparsed_banner: Some("2 deliveries could not be read".into()),
        };
        Templates::new(&[crate::view::TEMPLATES, super::TEMPLATES])
            .render(name, &view)
            .unwrap_or_else(|err| panic!("{name} renders: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalog;

    #[test]
    fn a_refused_form_is_told_in_the_readers_language_and_other_errors_pass() {
        let mut caller = testing::admin();
        let taken = || AppError::Conflict {
            code: "email_taken",
            message: "a user with email a@b.example already exists".into(),
        };
        assert_eq!(
            refusal(&caller, taken()).unwrap(),
            "A user with this email already exists."
        );
        caller.lang = catalog().find("es").unwrap();
        assert_eq!(
            refusal(&caller, taken()).unwrap(),
            crate::i18n::text(caller.lang, "error-email_taken")
        );
        let short = AppError::invalid("password_too_short", "at least 8");
        assert!(!refusal(&caller, short).unwrap().is_empty());
        assert_eq!(
            refusal(&caller, AppError::Forbidden).unwrap_err().status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            refusal(&caller, AppError::NotFound).unwrap_err().status(),
            StatusCode::NOT_FOUND
        );
    }
}
