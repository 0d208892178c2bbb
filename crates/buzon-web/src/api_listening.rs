//! The listening routes of the JSON API (../shared/INTERFACE.md, "Listening"): an X channel's
//! saved searches, and promoting or dismissing what listening found. Each is a call to the
//! application layer.

use crate::api::{Items, SearchJson};
use crate::http::{Admin, Agent, Viewer, WebError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use buzon_core::{ChannelId, ConversationId, Promote};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A saved search to create or change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"query": "(tiendabuzon OR \"tienda buzón\") -is:retweet", "promote": "negative"}))]
pub(crate) struct SearchBody {
    /// X's query syntax, 1 to 512 characters.
    query: String,
    /// Which finds go straight into the queue (`none` when absent).
    #[serde(default = "no_promotion")]
    promote: Promote,
}

fn no_promotion() -> Promote {
    Promote::None
}

/// A conversation after a promotion or dismissal.
#[derive(Serialize, ToSchema)]
pub(crate) struct MonitorJson {
    id: i64,
    /// `queue` after a promotion, `dismissed` after a dismissal.
    now_in: &'static str,
}

/// `GET /api/v1/channels/{id}/searches`.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}/searches",
    tag = "listening",
    operation_id = "list_searches",
    params(("id" = i64, Path, example = 3, description = "An X channel's id")),
    responses((status = 200, description = "The channel's saved searches", body = Items<SearchJson>)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn list_searches(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Items<SearchJson>>, WebError> {
    let searches = state
        .app()
        .saved_searches(&caller.actor, ChannelId(id))
        .await?;
    Ok(Items::of(searches.iter().map(SearchJson::of).collect()))
}

/// `POST /api/v1/channels/{id}/searches`.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{id}/searches",
    tag = "listening",
    operation_id = "create_search",
    params(("id" = i64, Path, example = 3, description = "An X channel's id")),
    request_body = SearchBody,
    responses((status = 201, description = "Saved; polled within the channel's request budget", body = SearchJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn create_search(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<i64>,
    Json(body): Json<SearchBody>,
) -> Result<(StatusCode, Json<SearchJson>), WebError> {
    let search = state
        .app()
        .add_saved_search(&caller.actor, ChannelId(id), &body.query, body.promote)
        .await?;
    Ok((StatusCode::CREATED, Json(SearchJson::of(&search))))
}

/// `PUT /api/v1/channels/{id}/searches/{search_id}`: a changed query starts over.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{id}/searches/{search_id}",
    tag = "listening",
    operation_id = "update_search",
    params(
        ("id" = i64, Path, example = 3, description = "An X channel's id"),
        ("search_id" = i64, Path, example = 1, description = "The saved search's id")
    ),
    request_body = SearchBody,
    responses((status = 200, description = "Changed", body = SearchJson)),
    security(("token" = ["admin"]))
)]
pub(crate) async fn update_search(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, search_id)): Path<(i64, i64)>,
    Json(body): Json<SearchBody>,
) -> Result<Json<SearchJson>, WebError> {
    let search = state
        .app()
        .update_saved_search(
            &caller.actor,
            ChannelId(id),
            search_id,
            &body.query,
            body.promote,
        )
        .await?;
    Ok(Json(SearchJson::of(&search)))
}

/// `DELETE /api/v1/channels/{id}/searches/{search_id}`: what it found stays.
#[utoipa::path(
    delete,
    path = "/api/v1/channels/{id}/searches/{search_id}",
    tag = "listening",
    operation_id = "delete_search",
    params(
        ("id" = i64, Path, example = 3, description = "An X channel's id"),
        ("search_id" = i64, Path, example = 1, description = "The saved search's id")
    ),
    responses((status = 204, description = "Forgotten")),
    security(("token" = ["admin"]))
)]
pub(crate) async fn delete_search(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, search_id)): Path<(i64, i64)>,
) -> Result<StatusCode, WebError> {
    state
        .app()
        .delete_saved_search(&caller.actor, ChannelId(id), search_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/conversations/{id}/promote`: from the monitoring view into the queue.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/promote",
    tag = "listening",
    operation_id = "promote_conversation",
    params(("id" = i64, Path, example = 1, description = "A conversation in the monitoring view")),
    responses((status = 200, description = "In the queue; its response time counts from now", body = MonitorJson)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn post_promote(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
) -> Result<Json<MonitorJson>, WebError> {
    state
        .app()
        .promote(&caller.actor, ConversationId(id))
        .await?;
    Ok(Json(MonitorJson {
        id,
        now_in: "queue",
    }))
}

/// `POST /api/v1/conversations/{id}/dismiss`: out of sight.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/dismiss",
    tag = "listening",
    operation_id = "dismiss_conversation",
    params(("id" = i64, Path, example = 1, description = "A conversation in the monitoring view")),
    responses((status = 200, description = "Dismissed", body = MonitorJson)),
    security(("token" = ["agent"]))
)]
pub(crate) async fn post_dismiss(
    State(state): State<AppState>,
    Agent(caller): Agent,
    Path(id): Path<i64>,
) -> Result<Json<MonitorJson>, WebError> {
    state
        .app()
        .dismiss(&caller.actor, ConversationId(id))
        .await?;
    Ok(Json(MonitorJson {
        id,
        now_in: "dismissed",
    }))
}
