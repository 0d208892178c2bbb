//! The team's routes of the JSON API: internal notes, assignment and person links on a
//! conversation (agents), and users and tokens (admins). Each is a call to the application
//! layer, audited there.

use crate::api::Items;
use crate::http::{Admin, Agent, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use buzon_app::{AppError, NewUser};
use buzon_core::{ApiToken, ConversationId, PersonId, Role, TokenId, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An internal note.
#[derive(Serialize, ToSchema)]
pub(crate) struct NoteJson {
    user_id: Option<UserId>,
    /// The writer's name.
    author: Option<String>,
    text: String,
    /// RFC 3339.
    created_at: String,
}

/// Who a conversation is assigned to now.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssignJson {
    id: i64,
    assignee_id: Option<UserId>,
}

/// The person the author now belongs to.
#[derive(Serialize, ToSchema)]
pub(crate) struct PersonJson {
    person_id: PersonId,
}

/// What was changed.
#[derive(Serialize, ToSchema)]
pub(crate) struct IdJson {
    pub(crate) id: i64,
}

/// A new token with its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub(crate) struct NewTokenJson {
    #[serde(flatten)]
    token: ApiToken,
    /// Send it as `Authorization: Bearer <secret>`; buzon keeps only its hash.
    secret: String,
}

/// A note's text.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"text": "Called the courier: it leaves tomorrow."}))]
pub(crate) struct NoteBody {
    text: String,
}

/// `GET /api/v1/conversations/{id}/notes`: the internal notes, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/notes",
    tag = "team",
    operation_id = "list_notes",
    params(("id" = i64, Path, example = 1, description = "The conversation's id")),
    responses((status = 200, description = "The internal notes, oldest first", body = Items<NoteJson>)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn list_notes(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Items<NoteJson>>, WebError> {
    let detail = state
        .app()
        .conversation(&caller.actor, ConversationId(id))
        .await?;
    let items = detail
        .notes
        .iter()
        .map(|note| NoteJson {
            user_id: note.user_id,
            author: note
                .user_id
                .and_then(|user| detail.thread.user_names.get(&user).cloned()),
            text: note.text.clone(),
            created_at: note.created_at.to_rfc3339(),
        })
        .collect();
    Ok(Items::of(items))
}

/// `POST /api/v1/conversations/{id}/notes` `{"text": …}`: 201.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/notes",
    tag = "team",
    operation_id = "post_note",
    params(("id" = i64, Path, example = 1, description = "The conversation's id")),
    request_body = NoteBody,
    responses((status = 201, description = "Noted")),
    security(("token" = ["agent"]))
)]
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

/// Who to assign.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"assignee": "me"}))]
pub(crate) struct AssignBody {
    /// A user id, `"me"`, or null for nobody.
    #[serde(deserialize_with = "Option::deserialize")]
    #[schema(required = true)]
    assignee: Option<Assignee>,
}

/// `POST /api/v1/conversations/{id}/assign` `{"assignee": 7 | "me" | null}`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/assign",
    tag = "team",
    operation_id = "post_assign",
    params(("id" = i64, Path, example = 1, description = "The conversation's id")),
    request_body = AssignBody,
    responses((status = 200, description = "Assigned", body = AssignJson)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn post_assign(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<AssignBody>,
) -> Result<Json<AssignJson>, WebError> {
    let assignee = match body.assignee {
        None => None,
        Some(Assignee::User(id)) => Some(UserId(id)),
        Some(Assignee::Me(me)) if me == "me" => Some(
            caller
                .actor
                .user_id()
                .ok_or_else(|| AppError::invalid("no_user", "this token acts for no user"))?,
        ),
        Some(Assignee::Me(_)) => {
            return Err(WebError::bad_request(
                "assignee must be a user id, \"me\" or null",
            ))
        }
    };
    state
        .app()
        .assign(&caller.actor, ConversationId(id), assignee)
        .await?;
    Ok(Json(AssignJson {
        id,
        assignee_id: assignee,
    }))
}

/// The profile to link.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"query": "@ana_ruiz"}))]
pub(crate) struct LinkBody {
    /// A name, handle or number of the same person's profile on another channel.
    query: String,
}

/// `POST /api/v1/conversations/{id}/link` `{"query": …}`: links the author to their profile
/// elsewhere.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/link",
    tag = "team",
    operation_id = "post_link",
    params(("id" = i64, Path, example = 1, description = "The conversation's id")),
    request_body = LinkBody,
    responses((status = 200, description = "Linked", body = PersonJson)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn post_link(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
    Json(body): Json<LinkBody>,
) -> Result<Json<PersonJson>, WebError> {
    let person = state
        .app()
        .link_person(&caller.actor, ConversationId(id), &body.query)
        .await?;
    Ok(Json(PersonJson { person_id: person }))
}

/// `GET /api/v1/users`.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "team",
    operation_id = "list_users",
    responses((status = 200, description = "Every user", body = Items<User>)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Items<User>>, WebError> {
    Ok(Items::of(state.app().users(&caller.actor).await?))
}

/// A new user.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"email": "ana@shop.example", "name": "Ana", "role": "agent", "password": "a long pass phrase"}))]
pub(crate) struct NewUserBody {
    email: String,
    #[serde(default)]
    name: String,
    /// `admin`, `agent` or `viewer`.
    role: String,
    /// At least 10 characters.
    password: String,
}

/// `POST /api/v1/users` `{"email","name","role","password"}`: 201.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "team",
    operation_id = "create_user",
    request_body = NewUserBody,
    responses((status = 201, description = "The new user", body = User)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<NewUserBody>,
) -> Result<(StatusCode, Json<User>), WebError> {
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
    Ok((StatusCode::CREATED, Json(user)))
}

/// A change to a user: the role, whether they may sign in, or both.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"role": "viewer"}))]
pub(crate) struct UserChange {
    /// `admin`, `agent` or `viewer`.
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    active: Option<bool>,
}

/// `PUT /api/v1/users/{id}` `{"role": …, "active": …}` (either or both).
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}",
    tag = "team",
    operation_id = "update_user",
    params(("id" = i64, Path, example = 1, description = "The user's id")),
    request_body = UserChange,
    responses((status = 200, description = "Changed", body = IdJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<UserChange>,
) -> Result<Json<IdJson>, WebError> {
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
    Ok(Json(IdJson { id }))
}

/// `GET /api/v1/tokens`: every token (never a secret).
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "team",
    operation_id = "list_tokens",
    responses((status = 200, description = "Every token, never a secret", body = Items<ApiToken>)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> Result<Json<Items<ApiToken>>, WebError> {
    Ok(Items::of(state.app().tokens(&caller.actor).await?))
}

/// A new token.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "crm", "role": "viewer"}))]
pub(crate) struct NewTokenBody {
    name: String,
    /// `admin`, `agent` or `viewer`.
    role: String,
    /// The user it acts for (notes, `me`, signatures).
    #[serde(default)]
    user_id: Option<i64>,
}

/// `POST /api/v1/tokens` `{"name","role","user_id"}`: 201 with the secret, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "team",
    operation_id = "create_token",
    request_body = NewTokenBody,
    responses((status = 201, description = "The token and its secret, shown this once", body = NewTokenJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Json(body): Json<NewTokenBody>,
) -> Result<(StatusCode, Json<NewTokenJson>), WebError> {
    let role = Role::parse(body.role.trim()).map_err(AppError::from)?;
    let (token, secret) = state
        .app()
        .create_token(&caller.actor, &body.name, role, body.user_id.map(UserId))
        .await?;
    Ok((StatusCode::CREATED, Json(NewTokenJson { token, secret })))
}

/// `DELETE /api/v1/tokens/{id}`: 204.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "team",
    operation_id = "revoke_token",
    params(("id" = i64, Path, example = 1, description = "The token's id")),
    responses((status = 204, description = "Revoked")),
    security(("token" = ["admin"]))
)]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, WebError> {
    state.app().revoke_token(&caller.actor, TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user id, or `"me"` for the caller.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum Assignee {
    /// A user id.
    User(i64),
    /// `"me"`.
    Me(String),
}
