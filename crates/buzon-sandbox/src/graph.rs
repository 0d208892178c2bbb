//! The Graph API as Facebook Pages, Messenger and the WhatsApp Cloud API speak it
//! (`https://graph.facebook.com/v21.0`): objects, feed and comment edges with cursor paging,
//! comment replies and moderation, the Page's `tagged` and `ratings` edges (posts that tag
//! the Page, reviews) with replies to them, the Messenger Send API and WhatsApp sends, with
//! the 24-hour window rules and Graph error bodies.

use crate::clock::{graph_time, now_ms, now_secs};
use crate::model::{Platform, RecordedReply, Source};
use crate::webhooks::meta_json;
use crate::world::{Comment, Review, Tagged, World, DISPLAY_PHONE_NUMBER, PAGE_NAME};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

type Params = HashMap<String, String>;

const DAY_MS: i64 = 86_400_000;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/graph/{version}/{id}",
            get(get_object).post(post_object).delete(delete_object),
        )
        .route("/graph/{version}/{id}/feed", get(get_feed))
        .route("/graph/{version}/{id}/posts", get(get_feed))
        .route("/graph/{version}/{id}/published_posts", get(get_feed))
        .route("/graph/{version}/{id}/tagged", get(get_tagged))
        .route("/graph/{version}/{id}/ratings", get(get_ratings))
        .route(
            "/graph/{version}/{id}/comments",
            get(get_comments).post(post_comment),
        )
        .route(
            "/graph/{version}/{id}/messages",
            axum::routing::post(post_messages),
        )
        .route(
            "/graph/{version}/{id}/subscribed_apps",
            get(subscribed_apps).post(subscribe_app),
        )
        .route(
            "/graph/{version}/{id}/{edge}",
            get(unknown_edge).post(unknown_edge),
        )
        .route("/whatsapp-media/{id}", get(download_media))
}

// ---- handlers ----------------------------------------------------------------------------

async fn get_object(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let platform = match guard(&shared, &headers, &query).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    let fields = query.get("fields").map(String::as_str);
    let world = shared.world();
    let config = &shared.config;
    let object = if id == config.facebook_page_id || (id == "me" && platform == Platform::Facebook)
    {
        Some(select(
            json!({"id": config.facebook_page_id, "name": PAGE_NAME, "category": "Clothing Store", "fan_count": 1234, "link": format!("https://www.facebook.com/{}", config.facebook_page_id)}),
            fields,
            &["name", "id"],
        ))
    } else if id == config.whatsapp_phone_number_id && platform == Platform::Whatsapp {
        Some(select(
            json!({"id": id, "verified_name": PAGE_NAME, "display_phone_number": format!("+{DISPLAY_PHONE_NUMBER}"), "quality_rating": "GREEN", "code_verification_status": "VERIFIED", "platform_type": "CLOUD_API", "throughput": {"level": "STANDARD"}}),
            fields,
            &[
                "verified_name",
                "code_verification_status",
                "display_phone_number",
                "quality_rating",
                "platform_type",
                "throughput",
                "id",
            ],
        ))
    } else if let Some(post) = world.posts.iter().find(|post| post.id == id) {
        Some(select(
            post_json(&world, &post.id),
            fields,
            &["created_time", "message", "id"],
        ))
    } else if let Some(comment) = world
        .comments
        .iter()
        .find(|comment| comment.id == id && !comment.deleted)
    {
        Some(select(
            comment_object(&world, comment),
            fields,
            &["created_time", "from", "message", "id"],
        ))
    } else if let Some(tagged) = world
        .tagged
        .iter()
        .find(|tagged| tagged.id == id && !tagged.removed)
        .filter(|_| platform == Platform::Facebook)
    {
        Some(select(
            tagged_object(&world, tagged),
            fields,
            if tagged.is_comment {
                &["created_time", "from", "message", "id"]
            } else {
                &["created_time", "message", "id"]
            },
        ))
    } else if let Some(review) = world
        .reviews
        .iter()
        .find(|review| review.id == id && !review.removed)
        .filter(|_| platform == Platform::Facebook)
    {
        Some(select(
            review_object(&world, review),
            fields,
            &[
                "created_time",
                "recommendation_type",
                "review_text",
                "reviewer",
                "id",
            ],
        ))
    } else if let Some(name) = world.messenger_names.get(&id) {
        let mut parts = name.splitn(2, ' ');
        let first = parts.next().unwrap_or_default();
        let last = parts.next().unwrap_or_default();
        Some(select(
            json!({"id": id, "name": name, "first_name": first, "last_name": last, "profile_pic": format!("https://platform-lookaside.fbsbx.com/platform/profilepic/?psid={id}")}),
            fields,
            &["first_name", "last_name", "profile_pic", "id"],
        ))
    } else if let (Some((mime_type, sha256)), Platform::Whatsapp) = (world.media.get(&id), platform)
    {
        Some(json!({
            "messaging_product": "whatsapp",
            "url": format!("{}/whatsapp-media/{id}", shared.base_url),
            "mime_type": mime_type,
            "sha256": sha256,
            "file_size": PIXEL_JPEG.len(),
            "id": id,
        }))
    } else {
        None
    };
    drop(world);
    match object {
        Some(object) => graph_ok(&shared, StatusCode::OK, &object),
        None => unsupported(&shared, "get", &id),
    }
}

async fn post_object(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = merged_params(&query, &headers, &body);
    let platform = match guard_with(&shared, &headers, &query, &params).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    let mut world = shared.world();
    let Some(index) = world
        .comments
        .iter()
        .position(|comment| comment.id == id && !comment.deleted)
        .filter(|_| platform == Platform::Facebook)
    else {
        drop(world);
        return unsupported(&shared, "post", &id);
    };
    let hidden = params.get("is_hidden").and_then(as_bool);
    let message = params
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string);
    if hidden.is_none() && message.is_none() {
        drop(world);
        return graph_error(
            &shared,
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) No fields to update were specified",
            None,
        );
    }
    let mut outgoing = Vec::new();
    // Only comments on the Page's own posts are in its `feed`.
    let on_page_post = world.is_page_post(&world.comments[index].post_id);
    if let Some(hidden) = hidden {
        world.comments[index].hidden = hidden;
        if on_page_post {
            outgoing.push(world.feed_webhook(&id, if hidden { "hide" } else { "unhide" }));
        }
        record(
            &mut world,
            Source::Facebook,
            if hidden { "hide" } else { "unhide" },
            Method::POST,
            &uri,
            &id,
            None,
            None,
            200,
        );
    }
    if let Some(message) = message {
        world.comments[index].message = message.clone();
        if on_page_post {
            outgoing.push(world.feed_webhook(&id, "edited"));
        }
        record(
            &mut world,
            Source::Facebook,
            "edit",
            Method::POST,
            &uri,
            &id,
            Some(message),
            None,
            200,
        );
    }
    drop(world);
    shared.dispatch(outgoing);
    graph_ok(&shared, StatusCode::OK, &json!({"success": true}))
}

async fn delete_object(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let platform = match guard(&shared, &headers, &query).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    let mut world = shared.world();
    let Some(index) = world
        .comments
        .iter()
        .position(|comment| comment.id == id && !comment.deleted)
        .filter(|_| platform == Platform::Facebook)
    else {
        drop(world);
        return unsupported(&shared, "delete", &id);
    };
    world.comments[index].deleted = true;
    let outgoing = if world.is_page_post(&world.comments[index].post_id) {
        vec![world.feed_webhook(&id, "remove")]
    } else {
        Vec::new()
    };
    record(
        &mut world,
        Source::Facebook,
        "delete",
        Method::DELETE,
        &uri,
        &id,
        None,
        None,
        200,
    );
    drop(world);
    shared.dispatch(outgoing);
    graph_ok(&shared, StatusCode::OK, &json!({"success": true}))
}

async fn get_feed(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let platform = match guard(&shared, &headers, &query).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    if platform != Platform::Facebook || (id != shared.config.facebook_page_id && id != "me") {
        return unsupported(&shared, "get", &id);
    }
    let since = query
        .get("since")
        .and_then(|value| value.parse::<i64>().ok());
    let until = query
        .get("until")
        .and_then(|value| value.parse::<i64>().ok());
    let fields = query.get("fields").map(String::as_str);
    let world = shared.world();
    let mut posts: Vec<(i64, &str)> = world
        .posts
        .iter()
        .filter(|post| since.is_none_or(|since| post.created >= since))
        .filter(|post| until.is_none_or(|until| post.created <= until))
        .map(|post| (post.created, post.id.as_str()))
        .collect();
    posts.sort_by(|left, right| right.cmp(left));
    let items: Vec<(String, Value)> = posts
        .iter()
        .map(|(_, post_id)| {
            (
                (*post_id).to_string(),
                select(
                    post_json(&world, post_id),
                    fields,
                    &["created_time", "message", "id"],
                ),
            )
        })
        .collect();
    drop(world);
    let page = paginate(&shared, &version, uri.path(), &query, &headers, items);
    graph_ok(&shared, StatusCode::OK, &page)
}

async fn get_comments(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let platform = match guard(&shared, &headers, &query).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    let world = shared.world();
    // Posts that tag the Page and reviews take comments (the Page's replies) too.
    let is_post = world.posts.iter().any(|post| post.id == id)
        || world
            .tagged
            .iter()
            .any(|tagged| tagged.id == id && !tagged.is_comment && !tagged.removed)
        || world
            .reviews
            .iter()
            .any(|review| review.id == id && !review.removed);
    let is_comment = world
        .comments
        .iter()
        .any(|comment| comment.id == id && !comment.deleted)
        || world
            .tagged
            .iter()
            .any(|tagged| tagged.id == id && tagged.is_comment && !tagged.removed);
    if platform != Platform::Facebook || !(is_post || is_comment) {
        drop(world);
        return unsupported(&shared, "get", &id);
    }
    let stream = query.get("filter").map(String::as_str) == Some("stream");
    let since = query
        .get("since")
        .and_then(|value| value.parse::<i64>().ok());
    let until = query
        .get("until")
        .and_then(|value| value.parse::<i64>().ok());
    let reverse = query.get("order").map(String::as_str) == Some("reverse_chronological");
    let fields = query.get("fields").map(String::as_str);
    let mut comments: Vec<&Comment> = world
        .comments
        .iter()
        .filter(|comment| !comment.deleted)
        .filter(|comment| {
            if is_post {
                comment.post_id == id && (stream || comment.parent_id.is_none())
            } else {
                comment.parent_id.as_deref() == Some(id.as_str())
            }
        })
        .filter(|comment| since.is_none_or(|since| comment.created >= since))
        .filter(|comment| until.is_none_or(|until| comment.created <= until))
        .collect();
    comments.sort_by_key(|comment| (comment.created, comment.seq));
    if reverse {
        comments.reverse();
    }
    let total = comments.len();
    let items: Vec<(String, Value)> = comments
        .iter()
        .map(|comment| {
            (
                comment.seq.to_string(),
                select(
                    comment_object(&world, comment),
                    fields,
                    &["created_time", "from", "message", "id"],
                ),
            )
        })
        .collect();
    drop(world);
    let mut page = paginate(&shared, &version, uri.path(), &query, &headers, items);
    if query.get("summary").map(String::as_str) == Some("true") {
        page["summary"] = json!({
            "order": if reverse { "reverse_chronological" } else { "chronological" },
            "total_count": total,
            "can_comment": true,
        });
    }
    graph_ok(&shared, StatusCode::OK, &page)
}

async fn post_comment(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = merged_params(&query, &headers, &body);
    let platform = match guard_with(&shared, &headers, &query, &params).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    let mut world = shared.world();
    let target = comment_target(&world, &id);
    let Some((post_id, parent_id, source)) = target.filter(|_| platform == Platform::Facebook)
    else {
        drop(world);
        return unsupported(&shared, "post", &id);
    };
    let message = params
        .get("message")
        .and_then(Value::as_str)
        .filter(|message| !message.trim().is_empty())
        .map(str::to_string);
    let Some(message) = message else {
        record(
            &mut world,
            source,
            "comment_reply",
            Method::POST,
            &uri,
            &id,
            None,
            None,
            400,
        );
        drop(world);
        return graph_error(
            &shared,
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) Missing message or attachment",
            None,
        );
    };
    let page_id = shared.config.facebook_page_id.clone();
    let (comment_id, outgoing) = world.add_comment(
        &post_id,
        parent_id,
        &page_id,
        PAGE_NAME,
        &message,
        now_secs(),
    );
    record(
        &mut world,
        source,
        "comment_reply",
        Method::POST,
        &uri,
        &id,
        Some(message),
        Some(comment_id.clone()),
        200,
    );
    drop(world);
    shared.dispatch(outgoing);
    graph_ok(&shared, StatusCode::OK, &json!({"id": comment_id}))
}

/// Where a comment on `id` goes: its post, the comment it answers and the surface it is
/// recorded under. Replies are one level deep: answering a reply lands in its top-level
/// thread. Posts and comments that tag the Page, and reviews, take the Page's replies too.
fn comment_target(world: &World, id: &str) -> Option<(String, Option<String>, Source)> {
    if let Some(comment) = world
        .comments
        .iter()
        .find(|comment| comment.id == id && !comment.deleted)
    {
        let source = if world.is_page_post(&comment.post_id) {
            Source::Facebook
        } else if world
            .reviews
            .iter()
            .any(|review| review.id == comment.post_id)
        {
            Source::FacebookReview
        } else {
            Source::FacebookMention
        };
        let parent = comment
            .parent_id
            .clone()
            .unwrap_or_else(|| comment.id.clone());
        return Some((comment.post_id.clone(), Some(parent), source));
    }
    if world.is_page_post(id) {
        return Some((id.to_string(), None, Source::Facebook));
    }
    if let Some(tagged) = world
        .tagged
        .iter()
        .find(|tagged| tagged.id == id && !tagged.removed)
    {
        let parent = tagged.is_comment.then(|| tagged.id.clone());
        return Some((tagged.post_id.clone(), parent, Source::FacebookMention));
    }
    world
        .reviews
        .iter()
        .find(|review| review.id == id && !review.removed)
        .map(|review| (review.id.clone(), None, Source::FacebookReview))
}

/// `GET /{page-id}/tagged`: the posts (not comments) that tag the Page, newest first.
async fn get_tagged(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let platform = match guard(&shared, &headers, &query).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    if platform != Platform::Facebook || (id != shared.config.facebook_page_id && id != "me") {
        return unsupported(&shared, "get", &id);
    }
    let fields = query.get("fields").map(String::as_str);
    let world = shared.world();
    let mut posts: Vec<&Tagged> = world
        .tagged
        .iter()
        .filter(|tagged| !tagged.is_comment && !tagged.removed)
        .collect();
    posts.sort_by_key(|tagged| std::cmp::Reverse((tagged.created, tagged.seq)));
    let items: Vec<(String, Value)> = posts
        .iter()
        .map(|tagged| {
            (
                tagged.seq.to_string(),
                select(
                    tagged_object(&world, tagged),
                    fields,
                    &["created_time", "message", "id"],
                ),
            )
        })
        .collect();
    drop(world);
    let page = paginate(&shared, &version, uri.path(), &query, &headers, items);
    graph_ok(&shared, StatusCode::OK, &page)
}

/// `GET /{page-id}/ratings`: the Page's reviews, newest first.
async fn get_ratings(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let platform = match guard(&shared, &headers, &query).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    if platform != Platform::Facebook || (id != shared.config.facebook_page_id && id != "me") {
        return unsupported(&shared, "get", &id);
    }
    let fields = query.get("fields").map(String::as_str);
    let world = shared.world();
    let mut reviews: Vec<&Review> = world
        .reviews
        .iter()
        .filter(|review| !review.removed)
        .collect();
    reviews.sort_by_key(|review| std::cmp::Reverse((review.created, review.seq)));
    let items: Vec<(String, Value)> = reviews
        .iter()
        .map(|review| (review.seq.to_string(), rating_object(review, fields)))
        .collect();
    drop(world);
    let page = paginate(&shared, &version, uri.path(), &query, &headers, items);
    graph_ok(&shared, StatusCode::OK, &page)
}

async fn post_messages(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = merged_params(&query, &headers, &body);
    let platform = match guard_with(&shared, &headers, &query, &params).await {
        Ok(platform) => platform,
        Err(response) => return response,
    };
    if id == shared.config.whatsapp_phone_number_id && platform == Platform::Whatsapp {
        whatsapp_send(&shared, &uri, &params)
    } else if (id == shared.config.facebook_page_id || id == "me") && platform == Platform::Facebook
    {
        messenger_send(&shared, &uri, &params)
    } else {
        unsupported(&shared, "post", &id)
    }
}

/// `POST /{page-id}/subscribed_apps?subscribed_fields=feed,mention,…` with the Page token:
/// the Page installs the app for those webhook fields (`{"success": true}`).
async fn subscribe_app(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = guard(&shared, &headers, &query).await {
        return response;
    }
    if id != shared.config.facebook_page_id {
        return graph_error(
            &shared,
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) The parameter subscribed_fields is only valid for a Page",
            None,
        );
    }
    let Some(fields) = query
        .get("subscribed_fields")
        .filter(|fields| !fields.is_empty())
    else {
        return graph_error(
            &shared,
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) The parameter subscribed_fields is required",
            None,
        );
    };
    shared.world().subscribed_fields = fields.split(',').map(str::to_owned).collect();
    graph_ok(
        &shared,
        StatusCode::OK,
        &serde_json::json!({"success": true}),
    )
}

/// `GET /{page-id}/subscribed_apps`: the app and the fields it is subscribed to.
async fn subscribed_apps(
    State(shared): State<Arc<Shared>>,
    Path((_version, _id)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = guard(&shared, &headers, &query).await {
        return response;
    }
    let fields = shared.world().subscribed_fields.clone();
    let data = if fields.is_empty() {
        serde_json::json!([])
    } else {
        serde_json::json!([{"name": "buzon", "id": "1234567890", "subscribed_fields": fields}])
    };
    graph_ok(&shared, StatusCode::OK, &serde_json::json!({"data": data}))
}

async fn unknown_edge(
    State(shared): State<Arc<Shared>>,
    Path((_version, _id, edge)): Path<(String, String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = guard(&shared, &headers, &query).await {
        return response;
    }
    graph_error(
        &shared,
        StatusCode::BAD_REQUEST,
        100,
        None,
        &format!("(#100) Tried accessing nonexisting field ({edge})"),
        None,
    )
}

async fn download_media(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = guard(&shared, &headers, &query).await {
        return response;
    }
    let mime_type = shared
        .world()
        .media
        .get(&id)
        .map(|(mime_type, _)| mime_type.clone());
    match mime_type {
        Some(mime_type) => ([(header::CONTENT_TYPE, mime_type)], PIXEL_JPEG).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---- sends -------------------------------------------------------------------------------

fn messenger_send(shared: &Arc<Shared>, uri: &Uri, params: &Map<String, Value>) -> Response {
    let recipient = params.get("recipient").cloned().unwrap_or(Value::Null);
    let message = params.get("message").cloned().unwrap_or(Value::Null);
    let messaging_type = params
        .get("messaging_type")
        .and_then(Value::as_str)
        .unwrap_or("RESPONSE");
    let tag = params.get("tag").and_then(Value::as_str);
    let faults = shared.faults();
    let mut world = shared.world();
    let now = now_ms();
    // A private reply to a comment goes to its author, within 7 days of the comment.
    let (psid, last_inbound, target) =
        if let Some(comment_id) = recipient.get("comment_id").and_then(Value::as_str) {
            let comment = world
                .comments
                .iter()
                .find(|comment| comment.id == comment_id && !comment.deleted);
            let Some(comment) = comment else {
                drop(world);
                return graph_error(
                    shared,
                    StatusCode::BAD_REQUEST,
                    100,
                    Some(2018001),
                    "(#100) No matching user found",
                    None,
                );
            };
            let (author, name, created) = (
                comment.from_id.clone(),
                comment.from_name.clone(),
                comment.created,
            );
            let psid = psid_for_commenter(&mut world, &author, &name);
            let last = created * 1000 + 6 * DAY_MS;
            (psid, Some(last), comment_id.to_string())
        } else if let Some(psid) = recipient.get("id").and_then(Value::as_str) {
            // Someone who never wrote to the Page has no open window: the send is refused
            // below with the outside-window error.
            if psid.is_empty() || !psid.chars().all(|character| character.is_ascii_digit()) {
                drop(world);
                return graph_error(
                    shared,
                    StatusCode::BAD_REQUEST,
                    100,
                    Some(2018001),
                    "(#100) No matching user found",
                    None,
                );
            }
            (
                psid.to_string(),
                world.messenger_last_inbound(psid),
                psid.to_string(),
            )
        } else {
            drop(world);
            return graph_error(
                shared,
                StatusCode::BAD_REQUEST,
                100,
                None,
                "(#100) param recipient must be non-empty.",
                None,
            );
        };
    if params.get("sender_action").is_some() {
        drop(world);
        return graph_ok(shared, StatusCode::OK, &json!({"recipient_id": psid}));
    }
    let text = message
        .get("text")
        .and_then(Value::as_str)
        .map(str::to_string);
    if text.as_deref().is_none_or(str::is_empty) && message.get("attachment").is_none() {
        drop(world);
        return graph_error(
            shared,
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) Message cannot be empty, must provide valid attachment or text",
            None,
        );
    }
    let age = last_inbound.map(|last| now - last);
    let open = match (messaging_type, tag) {
        ("MESSAGE_TAG", Some("HUMAN_AGENT")) => age.is_some_and(|age| age <= 7 * DAY_MS),
        ("MESSAGE_TAG", Some(_)) => true,
        _ => !faults.window_closed && age.is_some_and(|age| age <= DAY_MS),
    };
    if !open {
        record(
            &mut world,
            Source::Messenger,
            "message",
            Method::POST,
            uri,
            &target,
            text,
            None,
            400,
        );
        drop(world);
        return graph_error(
            shared,
            StatusCode::BAD_REQUEST,
            10,
            Some(2018278),
            "(#10) This message is sent outside of allowed window.",
            None,
        );
    }
    let mid = world.messenger_outbound(&psid);
    record(
        &mut world,
        Source::Messenger,
        "message",
        Method::POST,
        uri,
        &target,
        text,
        Some(mid.clone()),
        200,
    );
    drop(world);
    graph_ok(
        shared,
        StatusCode::OK,
        &json!({"recipient_id": psid, "message_id": mid}),
    )
}

fn psid_for_commenter(world: &mut World, author: &str, name: &str) -> String {
    if let Some(person) = world.people.iter().find(|person| person.fb_id == author) {
        return person.psid.clone();
    }
    let psid = format!(
        "{}",
        7_000_000_000_000_000u64 + author.parse::<u64>().unwrap_or(0) % 1_000_000_000_000_000
    );
    world
        .messenger_names
        .entry(psid.clone())
        .or_insert_with(|| name.to_string());
    psid
}

fn whatsapp_send(shared: &Arc<Shared>, uri: &Uri, params: &Map<String, Value>) -> Response {
    if params.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return whatsapp_error(
            shared,
            100,
            "(#100) The parameter messaging_product is required.",
            "The parameter messaging_product is required.",
        );
    }
    if params.get("status").and_then(Value::as_str) == Some("read") {
        let Some(message_id) = params.get("message_id").and_then(Value::as_str) else {
            return whatsapp_error(
                shared,
                100,
                "(#100) The parameter message_id is required.",
                "The parameter message_id is required.",
            );
        };
        let mut world = shared.world();
        record(
            &mut world,
            Source::Whatsapp,
            "read",
            Method::POST,
            uri,
            message_id,
            None,
            None,
            200,
        );
        drop(world);
        return graph_ok(shared, StatusCode::OK, &json!({"success": true}));
    }
    let Some(to) = params.get("to").and_then(Value::as_str).map(str::to_string) else {
        return whatsapp_error(
            shared,
            100,
            "(#100) The parameter to is required.",
            "The parameter to is required.",
        );
    };
    let wa_id: String = to.chars().filter(char::is_ascii_digit).collect();
    let kind = params
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("text")
        .to_string();
    let text = match kind.as_str() {
        "text" => {
            let body = params
                .get("text")
                .and_then(|text| text.get("body"))
                .and_then(Value::as_str);
            match body {
                None | Some("") => {
                    return whatsapp_error(
                        shared,
                        100,
                        "(#100) The parameter text['body'] is required.",
                        "The parameter text['body'] is required.",
                    );
                }
                Some(body) if body.chars().count() > 4096 => {
                    return whatsapp_error(
                        shared,
                        100,
                        "(#100) Param text['body'] must be at most 4096 characters long.",
                        "Param text['body'] must be at most 4096 characters long.",
                    );
                }
                Some(body) => Some(body.to_string()),
            }
        }
        "template" => {
            let name = params
                .get("template")
                .and_then(|template| template.get("name"))
                .and_then(Value::as_str);
            match name {
                Some(name) => Some(format!("template:{name}")),
                None => {
                    return whatsapp_error(
                        shared,
                        100,
                        "(#100) The parameter template['name'] is required.",
                        "The parameter template['name'] is required.",
                    );
                }
            }
        }
        "reaction" => params
            .get("reaction")
            .and_then(|reaction| reaction.get("emoji"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    let faults = shared.faults();
    let mut world = shared.world();
    let action = if kind == "template" {
        "template"
    } else {
        "message"
    };
    let open = !faults.window_closed
        && world
            .whatsapp_last_inbound(&wa_id)
            .is_some_and(|last| now_secs() - last <= 86_400);
    if kind != "template" && !open {
        record(
            &mut world,
            Source::Whatsapp,
            action,
            Method::POST,
            uri,
            &wa_id,
            text,
            None,
            400,
        );
        drop(world);
        return whatsapp_error(
            shared,
            131047,
            "(#131047) Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        );
    }
    let template_category = (kind == "template").then_some("utility");
    let reference = params
        .get("biz_opaque_callback_data")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (wamid, outgoing) =
        world.whatsapp_outbound(&wa_id, &kind, template_category, reference.as_deref());
    record(
        &mut world,
        Source::Whatsapp,
        action,
        Method::POST,
        uri,
        &wa_id,
        text,
        Some(wamid.clone()),
        200,
    );
    drop(world);
    shared.dispatch(outgoing);
    graph_ok(
        shared,
        StatusCode::OK,
        &json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}],
            "messages": [{"id": wamid}],
        }),
    )
}

// ---- auth and faults ---------------------------------------------------------------------

async fn guard(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    query: &Params,
) -> Result<Platform, Response> {
    guard_with(shared, headers, query, &Map::new()).await
}

/// Checks the access token (Bearer header, `access_token` query or body parameter) and
/// applies the faults in force. Returns which platform the token belongs to.
async fn guard_with(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    query: &Params,
    params: &Map<String, Value>,
) -> Result<Platform, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("OAuth "))
        })
        .map(|token| token.trim().to_string())
        .or_else(|| query.get("access_token").cloned())
        .or_else(|| {
            params
                .get("access_token")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let Some(token) = token else {
        return Err(graph_error(
            shared,
            StatusCode::BAD_REQUEST,
            104,
            None,
            "An access token is required to request this resource.",
            None,
        ));
    };
    let platform = if token == shared.config.facebook_page_token {
        Platform::Facebook
    } else if token == shared.config.whatsapp_token {
        Platform::Whatsapp
    } else {
        return Err(with_www_authenticate(graph_error(
            shared,
            StatusCode::UNAUTHORIZED,
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
            None,
        )));
    };
    let faults = shared.faults();
    if faults.expired_token.contains(&platform) {
        return Err(with_www_authenticate(graph_error(
            shared,
            StatusCode::UNAUTHORIZED,
            190,
            Some(463),
            "Error validating access token: Session has expired on Wednesday, 14-Feb-18 18:00:00 PST. The current time is Thursday, 15-Feb-18 13:46:35 PST.",
            None,
        )));
    }
    if faults.error_ratio > 0.0 {
        let (hit, throttle) = {
            let mut world = shared.world();
            let hit = world.fault_rng.gen_bool(faults.error_ratio.clamp(0.0, 1.0));
            (hit, world.fault_rng.gen_bool(0.5))
        };
        if hit {
            return Err(match (throttle, platform) {
                (true, Platform::Whatsapp) => whatsapp_error_status(
                    shared,
                    StatusCode::TOO_MANY_REQUESTS,
                    130429,
                    Some(2494055),
                    "(#130429) Rate limit hit",
                    "Cloud API message throughput has been reached.",
                ),
                (true, _) => {
                    shared.counters().throttled += 1;
                    let mut response = graph_error(
                        shared,
                        StatusCode::BAD_REQUEST,
                        32,
                        None,
                        "(#32) Page request limit reached",
                        None,
                    );
                    response.headers_mut().insert(
                        "x-app-usage",
                        HeaderValue::from_static(
                            "{\"call_count\": 28, \"total_time\": 25, \"total_cputime\": 25}",
                        ),
                    );
                    response
                }
                (false, _) => {
                    let trace = shared.world().fbtrace();
                    graph_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &json!({"error": {
                            "message": "An unexpected error has occurred. Please retry your request later.",
                            "type": "OAuthException",
                            "is_transient": true,
                            "code": 2,
                            "fbtrace_id": trace,
                        }}),
                    )
                }
            });
        }
    }
    Ok(platform)
}

// ---- responses ---------------------------------------------------------------------------

fn graph_response(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, meta_json(value)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    headers.insert("facebook-api-version", HeaderValue::from_static("v21.0"));
    response
}

fn graph_ok(shared: &Arc<Shared>, status: StatusCode, value: &Value) -> Response {
    let mut response = graph_response(status, value);
    let trace = shared.world().fbtrace();
    let headers = response.headers_mut();
    if let Ok(trace) = HeaderValue::from_str(&trace) {
        headers.insert("x-fb-trace-id", trace);
    }
    headers.insert(
        "x-app-usage",
        HeaderValue::from_static("{\"call_count\":1,\"total_cputime\":1,\"total_time\":1}"),
    );
    let usage = json!({
        shared.config.facebook_page_id.clone(): [{
            "type": "pages",
            "call_count": 1,
            "total_cputime": 1,
            "total_time": 1,
            "estimated_time_to_regain_access": 0,
        }]
    })
    .to_string();
    if let Ok(usage) = HeaderValue::from_str(&usage) {
        headers.insert("x-business-use-case-usage", usage);
    }
    response
}

/// A Graph error body: `{"error":{"message","type","code","error_subcode"?,"fbtrace_id"}}`.
fn graph_error(
    shared: &Arc<Shared>,
    status: StatusCode,
    code: u32,
    subcode: Option<u32>,
    message: &str,
    error_data: Option<Value>,
) -> Response {
    let trace = shared.world().fbtrace();
    let mut error = json!({"message": message, "type": "OAuthException", "code": code});
    if let Some(error_data) = error_data {
        error["error_data"] = error_data;
    }
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    error["fbtrace_id"] = json!(trace);
    graph_response(status, &json!({"error": error}))
}

fn whatsapp_error(shared: &Arc<Shared>, code: u32, message: &str, details: &str) -> Response {
    whatsapp_error_status(
        shared,
        StatusCode::BAD_REQUEST,
        code,
        None,
        message,
        details,
    )
}

fn whatsapp_error_status(
    shared: &Arc<Shared>,
    status: StatusCode,
    code: u32,
    subcode: Option<u32>,
    message: &str,
    details: &str,
) -> Response {
    graph_error(
        shared,
        status,
        code,
        subcode,
        message,
        Some(json!({"messaging_product": "whatsapp", "details": details})),
    )
}

/// Graph's answer for an object that does not exist (or was removed, or is not readable):
/// code 100, subcode 33, type `GraphMethodException`.
fn unsupported(shared: &Arc<Shared>, verb: &str, id: &str) -> Response {
    let trace = shared.world().fbtrace();
    graph_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": {
            "message": format!("Unsupported {verb} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"),
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
            "fbtrace_id": trace,
        }}),
    )
}

fn with_www_authenticate(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token\"",
        ),
    );
    response
}

// ---- objects, fields and paging ------------------------------------------------------------

fn post_json(world: &World, post_id: &str) -> Value {
    let post = world
        .posts
        .iter()
        .find(|post| post.id == post_id)
        .expect("the post exists");
    let post_part = post.id.split('_').nth(1).unwrap_or_default();
    json!({
        "id": post.id,
        "message": post.message,
        "created_time": graph_time(post.created),
        "updated_time": graph_time(post.created),
        "from": {"id": world.config.facebook_page_id, "name": PAGE_NAME},
        "permalink_url": format!("https://www.facebook.com/{}/posts/{post_part}", world.config.facebook_page_id),
        "status_type": "mobile_status_update",
        "is_hidden": false,
        "is_published": true,
    })
}

fn comment_object(world: &World, comment: &Comment) -> Value {
    let post_part = comment.post_id.split('_').nth(1).unwrap_or_default();
    let replies = world
        .comments
        .iter()
        .filter(|reply| reply.parent_id.as_deref() == Some(comment.id.as_str()) && !reply.deleted)
        .count();
    let own = comment.from_id == world.config.facebook_page_id;
    let owner = comment.post_id.split('_').next().unwrap_or_default();
    let mut object = json!({
        "id": comment.id,
        "message": comment.message,
        "created_time": graph_time(comment.created),
        "from": {"id": comment.from_id, "name": comment.from_name},
        "is_hidden": comment.hidden,
        "can_hide": !own,
        "can_remove": true,
        "can_comment": true,
        "comment_count": replies,
        "like_count": 0,
        "user_likes": false,
        "permalink_url": format!("https://www.facebook.com/{owner}/posts/{post_part}?comment_id={}", comment.id.split('_').nth(1).unwrap_or_default()),
    });
    if let Some(parent) = &comment.parent_id {
        object["parent"] = json!({
            "id": parent,
            "created_time": world.comments.iter().find(|other| &other.id == parent).map(|other| graph_time(other.created)),
            "from": world.comments.iter().find(|other| &other.id == parent).map(|other| json!({"id": other.from_id, "name": other.from_name})),
            "message": world.comments.iter().find(|other| &other.id == parent).map(|other| other.message.clone()),
        });
    }
    object
}

/// A post or comment that tags the Page, with the tag in `message_tags`.
fn tagged_object(world: &World, tagged: &Tagged) -> Value {
    let owner = tagged.post_id.split('_').next().unwrap_or_default();
    let post_part = tagged.post_id.split('_').nth(1).unwrap_or_default();
    let permalink = if tagged.is_comment {
        let comment_part = tagged.id.split('_').nth(1).unwrap_or_default();
        format!("https://www.facebook.com/{owner}/posts/{post_part}?comment_id={comment_part}")
    } else {
        format!("https://www.facebook.com/{owner}/posts/{post_part}")
    };
    let mut object = json!({
        "id": tagged.id,
        "message": tagged.message,
        "from": {"id": tagged.from_id, "name": tagged.from_name},
        "created_time": graph_time(tagged.created),
        "permalink_url": permalink,
        "message_tags": page_tags(world, &tagged.message),
    });
    if tagged.is_comment {
        object["can_comment"] = json!(true);
        object["comment_count"] = json!(world
            .comments
            .iter()
            .filter(
                |reply| reply.parent_id.as_deref() == Some(tagged.id.as_str()) && !reply.deleted
            )
            .count());
    } else {
        object["updated_time"] = json!(graph_time(tagged.created));
        object["tagged_time"] = json!(graph_time(tagged.created));
        object["status_type"] = json!("mobile_status_update");
        object["is_published"] = json!(true);
    }
    object
}

/// The Page's tags in `message` (Graph offsets count UTF-16 units).
fn page_tags(world: &World, message: &str) -> Value {
    let tags: Vec<Value> = message
        .match_indices(PAGE_NAME)
        .map(|(start, _)| {
            json!({
                "id": world.config.facebook_page_id,
                "name": PAGE_NAME,
                "type": "page",
                "offset": message[..start].encode_utf16().count(),
                "length": PAGE_NAME.encode_utf16().count(),
            })
        })
        .collect();
    json!(tags)
}

/// A review as `GET /{review-id}` gives it: the rating's fields, and `message`/`from` as
/// the story carries them.
fn review_object(world: &World, review: &Review) -> Value {
    let mut object = rating_json(review);
    object["id"] = json!(review.id);
    object["from"] = json!({"id": review.reviewer_id, "name": review.reviewer_name});
    object["type"] = json!("og.recommends");
    object["start_time"] = json!(graph_time(review.created));
    if !review.text.is_empty() {
        object["message"] = json!(review.text);
    }
    object["comment_count"] = json!(world
        .comments
        .iter()
        .filter(|reply| reply.post_id == review.id && !reply.deleted)
        .count());
    object
}

/// A review as the ratings edge lists it (no `id`: the rating itself has none).
fn rating_json(review: &Review) -> Value {
    let mut story = json!({
        "id": review.id,
        "from": {"id": review.reviewer_id, "name": review.reviewer_name},
        "start_time": graph_time(review.created),
        "type": "og.recommends",
        "data": {"recommendation_type": review.recommendation},
    });
    let mut object = json!({
        "created_time": graph_time(review.created),
        "recommendation_type": review.recommendation,
        "reviewer": {"id": review.reviewer_id, "name": review.reviewer_name},
        "has_rating": false,
        "has_review": !review.text.is_empty(),
    });
    if !review.text.is_empty() {
        object["review_text"] = json!(review.text);
        story["message"] = json!(review.text);
        story["data"]["review_text"] = json!(review.text);
    }
    object["open_graph_story"] = story;
    object
}

/// A rating with the requested fields; `open_graph_story` without a sub-selection is just
/// `{"id"}`, as Graph gives a node reference.
fn rating_object(review: &Review, fields: Option<&str>) -> Value {
    let mut object = select(
        rating_json(review),
        fields,
        &["created_time", "recommendation_type", "review_text"],
    );
    let story_unselected = fields
        .map(split_fields)
        .unwrap_or_default()
        .iter()
        .any(|(name, sub)| name == "open_graph_story" && sub.is_none());
    if story_unselected {
        object["open_graph_story"] = json!({"id": review.id});
    }
    object
}

/// Keeps the requested `fields` (with `field{sub,fields}` selections), or the defaults.
fn select(object: Value, fields: Option<&str>, defaults: &[&str]) -> Value {
    let requested: Vec<(String, Option<String>)> = match fields {
        Some(fields) if !fields.trim().is_empty() => split_fields(fields),
        _ => defaults
            .iter()
            .map(|field| ((*field).to_string(), None))
            .collect(),
    };
    let Value::Object(all) = object else {
        return object;
    };
    let mut selected = Map::new();
    for (name, sub) in requested {
        let Some(value) = all.get(&name) else {
            continue;
        };
        let value = match (sub, value) {
            (Some(sub), Value::Object(_)) => select(value.clone(), Some(&sub), &[]),
            (_, value) => value.clone(),
        };
        selected.insert(name, value);
    }
    if let Some(id) = all.get("id") {
        selected.insert("id".to_string(), id.clone());
    }
    Value::Object(selected)
}

/// Splits `id,message,parent{id},from{id,name}` at top-level commas.
fn split_fields(fields: &str) -> Vec<(String, Option<String>)> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for character in fields.chars().chain(std::iter::once(',')) {
        match character {
            '{' => {
                depth += 1;
                current.push(character);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                current.push(character);
            }
            ',' if depth == 0 => {
                let part = current.trim().to_string();
                current.clear();
                if part.is_empty() {
                    continue;
                }
                let (name, sub) = match part.find('{') {
                    Some(open) => (
                        part[..open].to_string(),
                        Some(part[open + 1..].trim_end_matches('}').to_string()),
                    ),
                    None => (part.clone(), None),
                };
                // Modifiers such as `comments.limit(5)` select the field itself.
                let name = name
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                parts.push((name, sub));
            }
            _ => current.push(character),
        }
    }
    parts
}

/// One page of `items` (each with a stable cursor key) with Graph cursor paging.
fn paginate(
    shared: &Arc<Shared>,
    version: &str,
    path: &str,
    query: &Params,
    headers: &HeaderMap,
    items: Vec<(String, Value)>,
) -> Value {
    let limit = query
        .get("limit")
        .and_then(|limit| limit.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let position = |cursor: &String| -> Option<usize> {
        let key = decode_cursor(cursor)?;
        items.iter().position(|(item_key, _)| *item_key == key)
    };
    let (start, end) = if let Some(after) = query.get("after") {
        let start = position(after)
            .map(|index| index + 1)
            .unwrap_or(items.len());
        (start, (start + limit).min(items.len()))
    } else if let Some(before) = query.get("before") {
        let end = position(before).unwrap_or(0);
        (end.saturating_sub(limit), end)
    } else {
        (0, limit.min(items.len()))
    };
    let page = &items[start..end];
    let Some(((first, _), (last, _))) = page.first().zip(page.last()) else {
        return json!({"data": []});
    };
    let mut paging = json!({
        "cursors": {"before": encode_cursor(first), "after": encode_cursor(last)},
    });
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| query.get("access_token").cloned())
        .unwrap_or_default();
    let link = |cursor_name: &str, cursor: &str| -> String {
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .filter(|(key, _)| {
                !matches!(key.as_str(), "after" | "before" | "access_token" | "limit")
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        pairs.sort();
        pairs.push(("access_token".to_string(), token.clone()));
        pairs.push(("limit".to_string(), limit.to_string()));
        pairs.push((cursor_name.to_string(), cursor.to_string()));
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
            .collect();
        let tail = path
            .strip_prefix(&format!("/graph/{version}"))
            .unwrap_or(path);
        format!(
            "{}/graph/{version}{tail}?{}",
            shared.base_url,
            encoded.join("&")
        )
    };
    if end < items.len() {
        paging["next"] = json!(link("after", &encode_cursor(last)));
    }
    if start > 0 {
        paging["previous"] = json!(link("before", &encode_cursor(first)));
    }
    let data: Vec<Value> = page.iter().map(|(_, value)| value.clone()).collect();
    json!({"data": data, "paging": paging})
}

fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("QVFIU{key}"))
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor.trim())
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("QVFIU")
        .map(str::to_string)
}

fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

// ---- request parameters ----------------------------------------------------------------------

/// Graph takes parameters from the query string, a JSON body or a form body alike; form
/// values that hold JSON (`recipient={"id":…}`) are decoded.
fn merged_params(query: &Params, headers: &HeaderMap, body: &[u8]) -> Map<String, Value> {
    let mut params: Map<String, Value> = query
        .iter()
        .map(|(key, value)| (key.clone(), decode_form_value(value)))
        .collect();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let trimmed = body
        .iter()
        .skip_while(|byte| byte.is_ascii_whitespace())
        .copied()
        .next();
    if content_type.starts_with("application/json") || trimmed == Some(b'{') {
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
            params.extend(object);
        }
    } else if let Ok(text) = std::str::from_utf8(body) {
        for pair in text.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            params.insert(form_decode(key), decode_form_value(&form_decode(value)));
        }
    }
    params
}

fn decode_form_value(value: &str) -> Value {
    if value.trim_start().starts_with('{') {
        if let Ok(parsed) = serde_json::from_str::<Value>(value) {
            return parsed;
        }
    }
    Value::String(value.to_string())
}

fn form_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let high = char::from(bytes[index + 1]).to_digit(16);
                let low = char::from(bytes[index + 2]).to_digit(16);
                match high.zip(low) {
                    Some((high, low)) => {
                        decoded.push((high * 16 + low) as u8);
                        index += 2;
                    }
                    None => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => match text.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Value::Number(number) => number.as_i64().map(|number| number != 0),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    world: &mut World,
    platform: Source,
    action: &str,
    method: Method,
    uri: &Uri,
    target: &str,
    text: Option<String>,
    returned_id: Option<String>,
    status: u16,
) {
    world.record(RecordedReply {
        platform,
        action: action.to_string(),
        method: method.to_string(),
        path: uri.path().to_string(),
        target_id: target.to_string(),
        text,
        returned_id,
        status,
        accepted: (200..300).contains(&status),
        at: now_secs(),
    });
}

/// A 1×1 JPEG, served for every WhatsApp media download.
const PIXEL_JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08,
    0x07, 0x07, 0x07, 0x09, 0x09, 0x08, 0x0A, 0x0C, 0x14, 0x0D, 0x0C, 0x0B, 0x0B, 0x0C, 0x19, 0x12,
    0x13, 0x0F, 0x14, 0x1D, 0x1A, 0x1F, 0x1E, 0x1D, 0x1A, 0x1C, 0x1C, 0x20, 0x24, 0x2E, 0x27, 0x20,
    0x22, 0x2C, 0x23, 0x1C, 0x1C, 0x28, 0x37, 0x29, 0x2C, 0x30, 0x31, 0x34, 0x34, 0x34, 0x1F, 0x27,
    0x39, 0x3D, 0x38, 0x32, 0x3C, 0x2E, 0x33, 0x34, 0x32, 0xFF, 0xD9,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_at_top_level_commas() {
        let fields = split_fields("id,message,parent{id},from{id,name},comments.limit(0)");
        let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["id", "message", "parent", "from", "comments"]);
        assert_eq!(fields[3].1.as_deref(), Some("id,name"));
    }

    #[test]
    fn form_values_decode() {
        assert_eq!(form_decode("hola+mundo%21%C3%A9"), "hola mundo!é");
        assert_eq!(form_decode("100%"), "100%");
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor("17")).as_deref(), Some("17"));
    }
}
