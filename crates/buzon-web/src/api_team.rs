//! The team's routes of the JSON API: internal notes, assignment and person links on a
//! conversation (agents), and users and tokens (admins). Each is a call to the application
//! layer, audited there.

use crate::http::{Admin, Agent, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use buzon_app::{AppError, NewUser};
use buzon_core::{ConversationId, Role, TokenId, UserId};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub(crate) struct NoteBody {
    text: String,
}

/// `GET /api/v1/conversations/{id}/notes`: the internal notes, oldest first.
pub(crate) async fn list_notes(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Value>, WebError> {
    let detail = state
        .app()
        .conversation(&caller.actor, ConversationId(id))
        .await?;
    let items: Vec<Value> = detail
        .notes
        .iter()
        .map(|note| {
            json!({
                "user_id": note.user_id,
                "author": note.user_id.and_then(|user| detail.thread.user_names.get(&user).cloned()),
                "text": note.text,
                "created_at": note.created_at.to_rfc3339(),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `POST /api/v1/conversations/{id}/notes` `{"text": …}`: 201.
pub(crate) async fn post_note(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<NoteBody>,
) -> Result<StatusCode, WebError> {
    state
        .app()
        .add_note(&caller.actor, ConversationId(id), &body.text)
        .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
pub(crate) struct AssignBody {
    /// A user id, `"me"`, or null for nobody.
    assignee: Value,
}

/// `POST /api/v1/conversations/{id}/assign` `{"assignee": 7 | "me" | null}`.
pub(crate) async fn post_assign(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<AssignBody>,
) -> Result<Json<Value>, WebError> {
    let assignee =
        match &body.assignee {
            Value::Null => None,
            Value::String(me) if me == "me" => Some(
                caller
                    .actor
                    .user_id()
                    .ok_or_else(|| AppError::invalid("no_user", "this token acts for no user"))?,
            ),
            Value::Number(number) => Some(UserId(number.as_i64().ok_or_else(|| {
                WebError::bad_request("assignee must be a user id, \"me\" or null")
            })?)),
            _ => {
                return Err(WebError::bad_request(
                    "assignee must be a user id, \"me\" or null",
                ))
            }
        };
    state
        .app()
        .assign(&caller.actor, ConversationId(id), assignee)
        .await?;
    Ok(Json(json!({ "id": id, "assignee_id": assignee })))
}

#[derive(Deserialize)]
pub(crate) struct LinkBody {
    /// A name, handle or number of the same person's profile on another channel.
    query: String,
}

/// `POST /api/v1/conversations/{id}/link` `{"query": …}`: links the author to their profile
/// elsewhere.
pub(crate) async fn post_link(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<LinkBody>,
) -> Result<Json<Value>, WebError> {
    let person = state
        .app()
        .link_person(&caller.actor, ConversationId(id), &body.query)
        .await?;
    Ok(Json(json!({ "person_id": person })))
}

/// `GET /api/v1/users`.
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Value>, WebError> {
    let users = state.app().users(&caller.actor).await?;
    Ok(Json(json!({ "items": users })))
}

#[derive(Deserialize)]
pub(crate) struct NewUserBody {
    email: String,
    #[serde(default)]
    name: String,
    role: String,
    password: String,
}

/// `POST /api/v1/users` `{"email","name","role","password"}`: 201.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<NewUserBody>,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let role = Role::parse(body.role.trim()).map_err(AppError::from)?;
    let user = state
        .app()
        .add_user(
            &caller.actor,
            &NewUser {
                email: &body.email,
                name: &body.name,
                role,
                password: &body.password,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(user))))
}

#[derive(Deserialize)]
pub(crate) struct UserChange {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    active: Option<bool>,
}

/// `PUT /api/v1/users/{id}` `{"role": …, "active": …}` (either or both).
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<UserChange>,
) -> Result<Json<Value>, WebError> {
    if let Some(role) = &body.role {
        let role = Role::parse(role.trim()).map_err(AppError::from)?;
        state
            .app()
            .set_role(&caller.actor, UserId(id), role)
            .await?;
    }
    if let Some(active) = body.active {
        state
            .app()
            .set_active(&caller.actor, UserId(id), active)
            .await?;
    }
    Ok(Json(json!({ "id": id })))
}

/// `GET /api/v1/tokens`: every token (never a secret).
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Value>, WebError> {
    let tokens = state.app().tokens(&caller.actor).await?;
    Ok(Json(json!({ "items": tokens })))
}

#[derive(Deserialize)]
pub(crate) struct NewTokenBody {
    name: String,
    role: String,
    #[serde(default)]
    user_id: Option<i64>,
}

/// `POST /api/v1/tokens` `{"name","role","user_id"}`: 201 with the secret, shown this once.
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<NewTokenBody>,
) -> Result<(StatusCode, Json<Value>), WebError> {
    let role = Role::parse(body.role.trim()).map_err(AppError::from)?;
    let (token, secret) = state
        .app()
        .create_token(&caller.actor, &body.name, role, body.user_id.map(UserId))
        .await?;
    let mut answer = json!(token);
    answer["secret"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `DELETE /api/v1/tokens/{id}`: 204.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app().revoke_token(&caller.actor, TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
