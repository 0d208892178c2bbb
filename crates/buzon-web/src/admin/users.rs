//! Users (add, change role, deactivate, reset password) and API tokens (create, list,
//! revoke). A deactivated user's sessions end at once and their tokens stop working.

use super::{actor, admin, admin_form, page_data, t, when};
use crate::pages::{render, PageError, Viewer};
use crate::{AppError, AppState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use buzon_core::*;
use buzon_store::StoreError;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

/// `GET /admin/users`.
pub(crate) async fn list_users(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    users_page(&state, &viewer, None).await
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    error: Option<String>,
) -> Result<Response, PageError> {
    let lang = viewer.lang;
    let users = state.store().list_users().await?;
    let mut data = page_data(viewer, "admin.users.title", "users");
    data["error"] = json!(error);
    data["roles"] = json!(Role::ALL
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>());
    data["users"] = json!(users
        .iter()
        .map(|user| json!({
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role.as_str(),
            "active": user.active,
            "status": t(lang, if user.active { "admin.users.active" } else { "admin.users.inactive" }),
            "is_me": user.id == viewer.session.user.id,
            "created": when(Some(user.created_at)),
            "roles": Role::ALL.iter().map(|role| json!({"value": role.as_str(), "selected": *role == user.role})).collect::<Vec<_>>(),
        }))
        .collect::<Vec<_>>());
    let status = if data["error"].is_null() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    Ok((status, render(state, "admin_users", &data)?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct UserForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    active: String,
}

fn check_password(viewer: &Viewer, password: &str) -> Result<(), PageError> {
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(PageError::App(AppError::BadRequest(t(
            viewer.lang,
            "admin.error.password",
        ))));
    }
    Ok(())
}

/// `POST /admin/users`: adds a user with the password the admin chose (they pass it on).
pub(crate) async fn post_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let role = Role::parse(form.role.trim())?;
    let email = parse_email(&form.email)?;
    check_password(&viewer, &form.password)?;
    let name = if form.name.trim().is_empty() {
        email.split('@').next().unwrap_or_default().to_owned()
    } else {
        bound_text(form.name.trim(), 200)
    };
    let hash = buzon_store::secrets::hash_password(&form.password);
    let user = match state.store().create_user(&email, &name, role, &hash).await {
        Err(StoreError::Conflict) => {
            return users_page(
                &state,
                &viewer,
                Some(t(viewer.lang, "admin.error.email_taken")),
            )
            .await
        }
        other => other?,
    };
    state
        .store()
        .audit(
            &actor(&viewer),
            "user.add",
            &format!("user:{}", user.id),
            &json!({"role": role.as_str()}),
        )
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// Refuses to leave buzon without an active admin.
async fn keep_an_admin(state: &AppState, viewer: &Viewer, user: &User) -> Result<(), PageError> {
    if user.role == Role::Admin && user.active && state.store().active_admins().await? <= 1 {
        return Err(PageError::App(AppError::BadRequest(t(
            viewer.lang,
            "admin.error.last_admin",
        ))));
    }
    Ok(())
}

/// `POST /admin/users/{id}/role`.
pub(crate) async fn post_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let role = Role::parse(form.role.trim())?;
    let user = state.store().user(UserId(id)).await?;
    if role != Role::Admin {
        keep_an_admin(&state, &viewer, &user).await?;
    }
    state.store().set_user_role(user.id, role).await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            "user.role",
            &format!("user:{id}"),
            &json!({"from": user.role.as_str(), "to": role.as_str()}),
        )
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/active` with `active=1|0`: (de)activates; deactivation ends the
/// user's sessions at once, and their tokens are refused from the next request.
pub(crate) async fn post_active(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let active = form.active == "1";
    let user = state.store().user(UserId(id)).await?;
    if !active {
        keep_an_admin(&state, &viewer, &user).await?;
    }
    state.store().set_user_active(user.id, active).await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            if active {
                "user.activate"
            } else {
                "user.deactivate"
            },
            &format!("user:{id}"),
            &json!({}),
        )
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/password`: sets a new password and ends the user's sessions.
pub(crate) async fn post_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    check_password(&viewer, &form.password)?;
    let hash = buzon_store::secrets::hash_password(&form.password);
    state.store().reset_user_password(UserId(id), &hash).await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            "user.password_reset",
            &format!("user:{id}"),
            &json!({}),
        )
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `GET /admin/tokens`.
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = admin(&state, &headers).await?;
    tokens_page(&state, &viewer, None).await
}

async fn tokens_page(
    state: &AppState,
    viewer: &Viewer,
    created: Option<(String, String)>,
) -> Result<Response, PageError> {
    let lang = viewer.lang;
    let users: HashMap<UserId, User> = state
        .store()
        .list_users()
        .await?
        .into_iter()
        .map(|user| (user.id, user))
        .collect();
    let tokens = state.store().list_tokens().await?;
    let mut data = page_data(viewer, "admin.tokens.title", "tokens");
    data["roles"] = json!(Role::ALL
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>());
    data["users"] = json!(users
        .values()
        .filter(|user| user.active)
        .map(|user| json!({"id": user.id, "email": user.email}))
        .collect::<Vec<_>>());
    data["created"] = match created {
        Some((name, secret)) => json!({"name": name, "secret": secret}),
        None => json!(null),
    };
    data["tokens"] = json!(tokens
        .iter()
        .map(|token| json!({
            "id": token.id,
            "name": token.name,
            "role": token.role.as_str(),
            "user": token.user_id.and_then(|id| users.get(&id)).map(|user| user.email.clone()),
            "created": when(Some(token.created_at)),
            "last_used": when(token.last_used_at).unwrap_or_else(|| t(lang, "admin.never")),
            "revoked": when(token.revoked_at),
        }))
        .collect::<Vec<_>>());
    Ok(render(state, "admin_tokens", &data)?.into_response())
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    user_id: String,
}

/// `POST /admin/tokens`: creates a token and shows it this once (200, not a redirect: the
/// token is stored only as a hash, so no later page could show it).
pub(crate) async fn post_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    let role = Role::parse(form.role.trim())?;
    let user_id = match form.user_id.trim() {
        "" => None,
        id => {
            let id = UserId(
                id.parse()
                    .map_err(|_| PageError::App(AppError::BadRequest("unknown user".into())))?,
            );
            let user = state.store().user(id).await?;
            // A token never does more than the user it acts for.
            if !role_within(role, user.role) {
                return Err(PageError::App(AppError::BadRequest(t(
                    viewer.lang,
                    "admin.error.token_role",
                ))));
            }
            Some(id)
        }
    };
    let name = bound_text(form.name.trim(), 100);
    let (token, secret) = state.store().create_token(&name, role, user_id).await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            "token.create",
            &format!("token:{}", token.id),
            &json!({"role": role.as_str(), "user": user_id}),
        )
        .await?;
    tokens_page(&state, &viewer, Some((token.name, secret))).await
}

fn role_within(role: Role, of: Role) -> bool {
    let rank = |role: Role| match role {
        Role::Viewer => 0,
        Role::Agent => 1,
        Role::Admin => 2,
    };
    rank(role) <= rank(of)
}

/// `POST /admin/tokens/{id}/revoke`.
pub(crate) async fn post_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let viewer = admin_form(&state, &headers, &form.csrf).await?;
    state.store().revoke_token(TokenId(id)).await?;
    state
        .store()
        .audit(
            &actor(&viewer),
            "token.revoke",
            &format!("token:{id}"),
            &json!({}),
        )
        .await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_outranks_its_user() {
        assert!(role_within(Role::Viewer, Role::Agent));
        assert!(role_within(Role::Agent, Role::Agent));
        assert!(!role_within(Role::Admin, Role::Agent));
        assert!(!role_within(Role::Agent, Role::Viewer));
    }
}
