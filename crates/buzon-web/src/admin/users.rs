//! Users (add, change role, deactivate, reset password) and API tokens (create, list,
//! revoke). A deactivated user's sessions end at once and their tokens stop working. A form
//! the application layer refuses (a short password, a taken email, the last admin, a token
//! above its user's role) shows its page again, with status 400 and the reason in words.

use super::{admin_page, refusal, respond, NoFields};
use crate::http::{see_other, Admin, Caller, CsrfForm, WebError};
use crate::i18n::text;
use crate::view::when;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use buzon_app::{AppError, NewUser};
use buzon_core::{Role, TokenId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A role a select offers.
#[derive(Serialize)]
struct RoleChoice {
    value: &'static str,
    selected: bool,
}

/// One row of the users table.
#[derive(Serialize)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: &'static str,
    active: bool,
    status: String,
    is_me: bool,
    supervisor: bool,
    created: Option<String>,
    roles: Vec<RoleChoice>,
}

#[derive(Serialize)]
struct UsersView {
    roles: Vec<&'static str>,
    users: Vec<UserRow>,
}

/// Every role's name, for the selects.
fn role_names() -> Vec<&'static str> {
    Role::ALL.iter().map(|role| role.as_str()).collect()
}

/// A role as a form names it.
fn parse_role(text: &str) -> Result<Role, AppError> {
    Ok(Role::parse(text.trim())?)
}

/// `GET /admin/users`.
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Response, WebError> {
    users_page(&state, &caller, None).await
}

/// The users page; with an error, answered with 400.
async fn users_page(
    state: &AppState,
    caller: &Caller,
    error: Option<String>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let users = state.app().users(&caller.actor).await?;
    let me = caller.actor.user_id();
    let view = UsersView {
        roles: role_names(),
        users: users
            .iter()
            .map(|user| UserRow {
                id: user.id.get(),
                email: user.email.clone(),
                name: user.name.clone(),
                role: user.role.as_str(),
                active: user.active,
                status: text(
                    lang,
                    if user.active {
                        "admin-users-active"
                    } else {
                        "admin-users-inactive"
                    },
                ),
                is_me: me == Some(user.id),
                supervisor: user.supervisor,
                created: when(Some(user.created_at)),
                roles: Role::ALL
                    .iter()
                    .map(|role| RoleChoice {
                        value: role.as_str(),
                        selected: *role == user.role,
                    })
                    .collect(),
            })
            .collect(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut page = admin_page(caller, "admin-users-title", "users", view);
    page.body.error = error;
    respond(state, caller, status, "admin_users", &page).await
}

/// Back to the users list after a change, or the users page again with the refusal.
async fn after_change(
    state: &AppState,
    caller: &Caller,
    done: Result<(), AppError>,
) -> Result<Response, WebError> {
    match done {
        Ok(()) => Ok(see_other("/admin/users")),
        Err(err) => {
            let message = refusal(caller, err)?;
            users_page(state, caller, Some(message)).await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/users`: adds a user with the password the admin chose (they pass it on).
pub(crate) async fn post_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> Result<Response, WebError> {
    let done = async {
        let new = NewUser {
            email: &form.email,
            name: &form.name,
            role: parse_role(&form.role)?,
            password: &form.password,
        };
        state.app().add_user(&caller.actor, &new).await?;
        Ok(())
    }
    .await;
    after_change(&state, &caller, done).await
}

#[derive(Deserialize)]
pub(crate) struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /admin/users/{id}/role`: the last active admin cannot stop being one.
pub(crate) async fn post_role(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, WebError> {
    let done = async {
        let role = parse_role(&form.role)?;
        state.app().set_role(&caller.actor, UserId(id), role).await
    }
    .await;
    after_change(&state, &caller, done).await
}

#[derive(Deserialize)]
pub(crate) struct ActiveForm {
    #[serde(default)]
    active: String,
}

/// `POST /admin/users/{id}/active` with `active=1|0`: (de)activates; deactivation ends the
/// user's sessions at once, and their tokens are refused from the next request.
pub(crate) async fn post_active(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> Result<Response, WebError> {
    let active = form.active == "1";
    let done = state
        .app()
        .set_active(&caller.actor, UserId(id), active)
        .await;
    after_change(&state, &caller, done).await
}

/// `POST /admin/users/{id}/supervisor` with `supervisor=1|0`: escalations go to supervisors.
pub(crate) async fn post_supervisor(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SupervisorForm>,
) -> Result<Response, WebError> {
    let done = state
        .app()
        .set_supervisor(&caller.actor, UserId(id), form.supervisor == "1")
        .await;
    after_change(&state, &caller, done).await
}

#[derive(Deserialize)]
pub(crate) struct SupervisorForm {
    #[serde(default)]
    supervisor: String,
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// `POST /admin/users/{id}/password`: sets a new password and ends the user's sessions.
pub(crate) async fn post_password(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let done = state
        .app()
        .reset_password(&caller.actor, UserId(id), &form.password)
        .await;
    after_change(&state, &caller, done).await
}

/// A user a token may act for.
#[derive(Serialize)]
struct TokenUser {
    id: i64,
    email: String,
}

/// A token just created: its only clear-text copy.
#[derive(Serialize)]
struct CreatedToken {
    name: String,
    secret: String,
}

/// One row of the tokens table (never a secret).
#[derive(Serialize)]
struct TokenRow {
    id: i64,
    name: String,
    role: &'static str,
    user: Option<String>,
    created: Option<String>,
    last_used: String,
    revoked: Option<String>,
}

#[derive(Serialize)]
struct TokensView {
    roles: Vec<&'static str>,
    users: Vec<TokenUser>,
    created: Option<CreatedToken>,
    tokens: Vec<TokenRow>,
}

/// `GET /admin/tokens`.
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Response, WebError> {
    tokens_page(&state, &caller, None, None).await
}

/// The tokens page, with a token just created or an error (answered with 400).
async fn tokens_page(
    state: &AppState,
    caller: &Caller,
    created: Option<CreatedToken>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let lang = caller.lang;
    let users = state.app().users(&caller.actor).await?;
    let emails: HashMap<UserId, &str> = users
        .iter()
        .map(|user| (user.id, user.email.as_str()))
        .collect();
    let tokens = state.app().tokens(&caller.actor).await?;
    let view = TokensView {
        roles: role_names(),
        users: users
            .iter()
            .filter(|user| user.active)
            .map(|user| TokenUser {
                id: user.id.get(),
                email: user.email.clone(),
            })
            .collect(),
        created,
        tokens: tokens
            .iter()
            .map(|token| TokenRow {
                id: token.id.get(),
                name: token.name.clone(),
                role: token.role.as_str(),
                user: token
                    .user_id
                    .and_then(|id| emails.get(&id))
                    .map(|email| (*email).to_owned()),
                created: when(Some(token.created_at)),
                last_used: when(token.last_used_at).unwrap_or_else(|| text(lang, "admin-never")),
                revoked: when(token.revoked_at),
            })
            .collect(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut page = admin_page(caller, "admin-tokens-title", "tokens", view);
    page.body.error = error;
    respond(state, caller, status, "admin_tokens", &page).await
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    user_id: String,
}

/// `POST /admin/tokens`: creates a token and shows it this once (200, not a redirect: the
/// token is stored only as a hash, so no later page could show it). A token never does more
/// than the user it acts for.
pub(crate) async fn post_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, WebError> {
    let created = async {
        let role = parse_role(&form.role)?;
        let for_user = match form.user_id.trim() {
            "" => None,
            id => Some(
                id.parse()
                    .map_err(|_| AppError::invalid("unknown_user", "unknown user"))?,
            ),
        };
        state
            .app()
            .create_token(&caller.actor, &form.name, role, for_user)
            .await
    }
    .await;
    match created {
        Ok((token, secret)) => {
            let created = CreatedToken {
                name: token.name,
                secret,
            };
            tokens_page(&state, &caller, Some(created), None).await
        }
        Err(err) => {
            let message = refusal(&caller, err)?;
            tokens_page(&state, &caller, None, Some(message)).await
        }
    }
}

/// `POST /admin/tokens/{id}/revoke`: refused from the next request on.
pub(crate) async fn post_revoke(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    state.app().revoke_token(&caller.actor, TokenId(id)).await?;
    Ok(see_other("/admin/tokens"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::testing::{admin, render};

    #[test]
    fn the_users_page_renders_with_a_refusal() {
        let caller = admin();
        let view = UsersView {
            roles: role_names(),
            users: vec![UserRow {
                id: 1,
                email: "admin@shop.example".into(),
                name: "Ana".into(),
                role: "admin",
                active: true,
                status: text(caller.lang, "admin-users-active"),
                is_me: true,
                supervisor: false,
                created: when(Some(buzon_core::Timestamp::now())),
                roles: Role::ALL
                    .iter()
                    .map(|role| RoleChoice {
                        value: role.as_str(),
                        selected: *role == Role::Admin,
                    })
                    .collect(),
            }],
        };
        let mut page = admin_page(&caller, "admin-users-title", "users", view);
        page.body.error = Some("buzon needs at least one active admin.".into());
        let html = render("admin_users", &page);
        assert!(html.contains("id=\"user-1\""), "{html}");
        assert!(html.contains("<option value=\"admin\" selected>"), "{html}");
        assert!(html.contains("role=\"alert\">buzon needs at least one active admin."));
        assert!(html.contains("href=\"/admin/users\" aria-current=\"page\""));
    }

    #[test]
    fn the_tokens_page_shows_a_new_token_once_and_never_a_stored_one() {
        let caller = admin();
        let view = |created: Option<CreatedToken>| TokensView {
            roles: role_names(),
            users: vec![TokenUser {
                id: 2,
                email: "agent@shop.example".into(),
            }],
            created,
            tokens: vec![TokenRow {
                id: 3,
                name: "script".into(),
                role: "agent",
                user: Some("agent@shop.example".into()),
                created: Some("2026-11-23 17:05 UTC".into()),
                last_used: text(caller.lang, "admin-never"),
                revoked: None,
            }],
        };
        let created = CreatedToken {
            name: "script".into(),
            secret: "bzn_secret".into(),
        };
        let html = render(
            "admin_tokens",
            &admin_page(&caller, "admin-tokens-title", "tokens", view(Some(created))),
        );
        assert!(
            html.contains("<code id=\"new-token\">bzn_secret</code>"),
            "{html}"
        );
        assert!(html.contains("/admin/tokens/3/revoke"));
        let html = render(
            "admin_tokens",
            &admin_page(&caller, "admin-tokens-title", "tokens", view(None)),
        );
        assert!(!html.contains("new-token"), "{html}");
    }
}
