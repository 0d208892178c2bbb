//! The X API v2 (`https://api.x.com/2/…`): the mentions timeline, recent search (with X's
//! query language, see the `search` module) and DM events with field selection, expansions
//! and token paging; posting replies (with reply gating), hiding replies and sending DMs;
//! per-endpoint rate-limit headers and problem-JSON errors.

use crate::clock::{now_ms, now_secs, now_secs_f64, x_time};
use crate::model::{Platform, RecordedReply, Source};
use crate::search::{Candidate, SearchQuery};
use crate::webhooks::x_json;
use crate::world::{dm_conversation_id, DmEvent, RateDecision, Tweet, World, X_SEARCH_ENDPOINT};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

type Params = HashMap<String, String>;

/// Only the most recent 800 mentions are reachable, as on X.
const MENTIONS_REACH: usize = 800;
/// Recent search reaches back seven days.
const SEARCH_WINDOW_MS: i64 = 7 * 86_400_000;
/// X refuses an `end_time` less than ten seconds before the request.
const END_TIME_MARGIN_MS: i64 = 10_000;

/// How a listing of posts pages: the token's parameter name, the smallest `max_results`,
/// how many posts are reachable and from when.
struct Listing {
    /// `pagination_token` (timelines) or `next_token` (search).
    token_parameter: &'static str,
    /// The smallest `max_results` (5 on timelines, 10 on search).
    min_results: usize,
    /// How many of the newest posts can be reached at all (timelines: 800).
    reach: Option<usize>,
    /// Posts older than this (Unix ms) are out of reach (search: seven days).
    not_before_ms: Option<i64>,
}

const TIMELINE: Listing = Listing {
    token_parameter: "pagination_token",
    min_results: 5,
    reach: Some(MENTIONS_REACH),
    not_before_ms: None,
};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/x/2/users/me", get(users_me))
        .route("/x/2/users/{id}/mentions", get(mentions))
        .route("/x/2/users/{id}/tweets", get(user_posts))
        .route("/x/2/tweets/{id}", get(lookup_post))
        .route("/x/2/tweets/search/recent", get(search_recent))
        .route("/x/2/dm_events", get(dm_events))
        .route(
            "/x/2/dm_conversations/with/{id}/dm_events",
            get(dm_events_with),
        )
        .route("/x/2/tweets", post(create_post))
        .route("/x/2/tweets/{id}/hidden", put(hide_reply))
        .route("/x/2/dm_conversations/with/{id}/messages", post(send_dm))
}

// ---- handlers ----------------------------------------------------------------------------

async fn users_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let rate = match guard(&shared, &headers, "GET /2/users/me").await {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    let world = shared.world();
    let me = world.x_users.get(&shared.config.x_user_id).cloned();
    drop(world);
    let me = me.expect("the account's own user exists");
    x_response(
        &rate,
        StatusCode::OK,
        &json!({"data": {"id": me.id, "name": me.name, "username": me.username}}),
    )
}

async fn mentions(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let rate = match guard(&shared, &headers, "GET /2/users/:id/mentions").await {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    let us = shared.config.x_user_id.clone();
    let mentions_of_us = id == us;
    timeline(&shared, &query, rate, &TIMELINE, move |_, tweet| {
        mentions_of_us && tweet.mentions_us && tweet.author_id != us
    })
}

async fn user_posts(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let rate = match guard(&shared, &headers, "GET /2/users/:id/tweets").await {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    timeline(&shared, &query, rate, &TIMELINE, move |_, tweet| {
        tweet.author_id == id
    })
}

/// `GET /2/tweets/search/recent`: the posts of the last seven days that match `query`.
async fn search_recent(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let rate = match guard(&shared, &headers, X_SEARCH_ENDPOINT).await {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    let Some(text) = query.get("query") else {
        let body = json!({
            "errors": [{"parameters": {"query": []}, "message": "The `query` query parameter can not be empty"}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        });
        return with_rate(problem_response(StatusCode::BAD_REQUEST, &body), &rate);
    };
    let search = match SearchQuery::parse(text) {
        Ok(search) => search,
        Err(error) => return invalid_request(&rate, "query", text, &error.message()),
    };
    let now = now_ms();
    let not_before = now - SEARCH_WINDOW_MS;
    if let Some(start) = query.get("start_time") {
        if parse_time(start).is_some_and(|start| start < not_before) {
            let message = format!(
                "Invalid 'start_time':'{start}'. 'start_time' must be on or after {}",
                x_time(not_before)
            );
            return invalid_request(&rate, "start_time", start, &message);
        }
    }
    if let Some(end) = query.get("end_time") {
        if parse_time(end).is_some_and(|end| end > now - END_TIME_MARGIN_MS) {
            let message = format!("Invalid 'end_time':'{end}'. 'end_time' must be a minimum of 10 seconds prior to the request time.");
            return invalid_request(&rate, "end_time", end, &message);
        }
    }
    let listing = Listing {
        token_parameter: "next_token",
        min_results: 10,
        reach: None,
        not_before_ms: Some(not_before),
    };
    timeline(&shared, &query, rate, &listing, move |world, tweet| {
        let author = world.x_users.get(&tweet.author_id);
        search.matches(&Candidate {
            text: &tweet.text,
            lang: &tweet.language,
            author_id: &tweet.author_id,
            author_username: author
                .map(|user| user.username.as_str())
                .unwrap_or_default(),
            is_retweet: tweet.retweet_of.is_some(),
            is_reply: tweet.in_reply_to_tweet_id.is_some(),
        })
    })
}

async fn lookup_post(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let rate = match guard(&shared, &headers, "GET /2/tweets/:id").await {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    let world = shared.world();
    let Some(tweet) = id
        .parse::<u64>()
        .ok()
        .and_then(|tweet_id| world.tweets.iter().find(|tweet| tweet.id == tweet_id))
    else {
        drop(world);
        return x_response(
            &rate,
            StatusCode::OK,
            &json!({"errors": [{
                "value": id,
                "detail": format!("Could not find tweet with id: [{id}]."),
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "id",
                "resource_id": id,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }]}),
        );
    };
    let fields = list(&query, "tweet.fields");
    let mut body = json!({"data": tweet_object(&world, tweet, &fields)});
    let includes = includes(
        &world,
        &[tweet],
        &list(&query, "expansions"),
        &list(&query, "user.fields"),
        &fields,
    );
    if !includes.as_object().is_none_or(|object| object.is_empty()) {
        body["includes"] = includes;
    }
    drop(world);
    x_response(&rate, StatusCode::OK, &body)
}

/// A reverse-chronological page of the posts `keep` selects, with `since_id`, `until_id`,
/// `start_time`, `end_time`, `max_results` and the paging token as the v2 timelines and
/// recent search take them (`listing` says which token and bounds). `rate` is the guarded
/// request's rate-limit decision.
fn timeline(
    shared: &Arc<Shared>,
    query: &Params,
    rate: RateDecision,
    listing: &Listing,
    keep: impl Fn(&World, &Tweet) -> bool,
) -> Response {
    let max_results = match bounded(query, "max_results", 10, listing.min_results, 100) {
        Ok(value) => value,
        Err(message) => {
            return invalid_request(&rate, "max_results", &query["max_results"], &message)
        }
    };
    let mut bounds = [None, None];
    for (slot, name) in bounds.iter_mut().zip(["since_id", "until_id"]) {
        if let Some(value) = query.get(name) {
            match value.parse::<u64>() {
                Ok(id) => *slot = Some(id),
                Err(_) => {
                    return invalid_request(
                        &rate,
                        name,
                        value,
                        &format!("The `{name}` query parameter value [{value}] is not valid"),
                    );
                }
            }
        }
    }
    let [since_id, until_id] = bounds;
    let mut times = [None, None];
    for (slot, name) in times.iter_mut().zip(["start_time", "end_time"]) {
        if let Some(value) = query.get(name) {
            match parse_time(value) {
                Some(ms) => *slot = Some(ms),
                None => {
                    return invalid_request(
                        &rate,
                        name,
                        value,
                        &format!("The `{name}` query parameter value [{value}] is not a valid RFC3339 date-time"),
                    );
                }
            }
        }
    }
    // The ids take precedence over the times, as X documents.
    let start_ms = times[0].filter(|_| since_id.is_none());
    let end_ms = times[1].filter(|_| until_id.is_none());
    let token_parameter = listing.token_parameter;
    let below = match query.get(token_parameter) {
        Some(token) => match decode_token(token) {
            Some(below) => Some(below),
            None => {
                return invalid_request(
                    &rate,
                    token_parameter,
                    token,
                    &format!(
                        "The `{token_parameter}` query parameter value [{token}] is not valid"
                    ),
                );
            }
        },
        None => None,
    };
    let world = shared.world();
    let mut candidates: Vec<&Tweet> = world
        .tweets
        .iter()
        .filter(|tweet| {
            listing
                .not_before_ms
                .is_none_or(|not_before| tweet.created_ms >= not_before)
        })
        .filter(|tweet| keep(&world, tweet))
        .collect();
    candidates.sort_by_key(|tweet| std::cmp::Reverse(tweet.id));
    if let Some(reach) = listing.reach {
        candidates.truncate(reach);
    }
    let matching: Vec<&Tweet> = candidates
        .into_iter()
        .filter(|tweet| since_id.is_none_or(|since| tweet.id > since))
        .filter(|tweet| until_id.is_none_or(|until| tweet.id < until))
        .filter(|tweet| start_ms.is_none_or(|start| tweet.created_ms >= start))
        .filter(|tweet| end_ms.is_none_or(|end| tweet.created_ms < end))
        .filter(|tweet| below.is_none_or(|below| tweet.id < below))
        .collect();
    let page: Vec<&Tweet> = matching.iter().take(max_results).copied().collect();
    let Some((newest, oldest)) = page.first().zip(page.last()) else {
        drop(world);
        return x_response(&rate, StatusCode::OK, &json!({"meta": {"result_count": 0}}));
    };
    let fields = list(query, "tweet.fields");
    let expansions = list(query, "expansions");
    let user_fields = list(query, "user.fields");
    let data: Vec<Value> = page
        .iter()
        .map(|tweet| tweet_object(&world, tweet, &fields))
        .collect();
    let mut body = json!({"data": data});
    let includes = includes(&world, &page, &expansions, &user_fields, &fields);
    if !includes.as_object().is_none_or(|object| object.is_empty()) {
        body["includes"] = includes;
    }
    let mut meta = json!({
        "newest_id": newest.id.to_string(),
        "oldest_id": oldest.id.to_string(),
        "result_count": page.len(),
    });
    if matching.len() > page.len() {
        meta["next_token"] = json!(encode_token(oldest.id));
    }
    body["meta"] = meta;
    drop(world);
    x_response(&rate, StatusCode::OK, &body)
}

async fn dm_events(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    list_dm_events(shared, query, headers, None, "GET /2/dm_events").await
}

async fn dm_events_with(
    State(shared): State<Arc<Shared>>,
    Path(participant): Path<String>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    list_dm_events(
        shared,
        query,
        headers,
        Some(participant),
        "GET /2/dm_conversations/with/:participant_id/dm_events",
    )
    .await
}

async fn list_dm_events(
    shared: Arc<Shared>,
    query: Params,
    headers: HeaderMap,
    participant: Option<String>,
    endpoint: &'static str,
) -> Response {
    let rate = match guard(&shared, &headers, endpoint).await {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    let max_results = match bounded(&query, "max_results", 100, 1, 100) {
        Ok(value) => value,
        Err(message) => {
            return invalid_request(&rate, "max_results", &query["max_results"], &message)
        }
    };
    let (below, above) = match query.get("pagination_token") {
        Some(token) => match (decode_token(token), decode_previous_token(token)) {
            (Some(below), _) => (Some(below), None),
            (None, Some(above)) => (None, Some(above)),
            (None, None) => {
                return invalid_request(
                    &rate,
                    "pagination_token",
                    token,
                    &format!("The `pagination_token` query parameter value [{token}] is not valid"),
                );
            }
        },
        None => (None, None),
    };
    let world = shared.world();
    let mut events: Vec<&DmEvent> = world
        .dms
        .iter()
        .filter(|event| {
            participant
                .as_ref()
                .is_none_or(|participant| &event.participant_id == participant)
        })
        .collect();
    events.sort_by_key(|event| std::cmp::Reverse(event.id));
    let after_cursor: Vec<&DmEvent> = events
        .iter()
        .filter(|event| below.is_none_or(|below| event.id < below))
        .filter(|event| above.is_none_or(|above| event.id > above))
        .copied()
        .collect();
    let page: Vec<&DmEvent> = if above.is_some() {
        let skip = after_cursor.len().saturating_sub(max_results);
        after_cursor[skip..].to_vec()
    } else {
        after_cursor.iter().take(max_results).copied().collect()
    };
    let Some((newest, oldest)) = page.first().zip(page.last()) else {
        drop(world);
        return x_response(&rate, StatusCode::OK, &json!({"meta": {"result_count": 0}}));
    };
    let fields = list(&query, "dm_event.fields");
    let expansions = list(&query, "expansions");
    let user_fields = list(&query, "user.fields");
    let us = shared.config.x_user_id.clone();
    let data: Vec<Value> = page
        .iter()
        .map(|event| {
            let mut object = json!({"id": event.id.to_string(), "event_type": "MessageCreate", "text": event.text});
            if fields.contains("created_at") {
                object["created_at"] = json!(x_time(event.created_ms));
            }
            if fields.contains("sender_id") {
                object["sender_id"] = json!(event.sender_id);
            }
            if fields.contains("dm_conversation_id") {
                object["dm_conversation_id"] = json!(dm_conversation_id(&event.participant_id, &us));
            }
            object
        })
        .collect();
    let mut body = json!({"data": data});
    if expansions.contains("sender_id") || expansions.contains("participant_ids") {
        let mut users = BTreeSet::new();
        for event in &page {
            users.insert(event.sender_id.clone());
            if expansions.contains("participant_ids") {
                users.insert(event.participant_id.clone());
                users.insert(us.clone());
            }
        }
        let users: Vec<Value> = users
            .iter()
            .map(|user| user_object(&world, user, &user_fields))
            .collect();
        body["includes"] = json!({"users": users});
    }
    let mut meta = json!({"result_count": page.len()});
    let oldest_overall = events.last().map(|event| event.id);
    let newest_overall = events.first().map(|event| event.id);
    if oldest_overall.is_some_and(|oldest_overall| oldest.id > oldest_overall) {
        meta["next_token"] = json!(encode_token(oldest.id));
    }
    if newest_overall.is_some_and(|newest_overall| newest.id < newest_overall) {
        meta["previous_token"] = json!(encode_previous_token(newest.id));
    }
    body["meta"] = meta;
    drop(world);
    x_response(&rate, StatusCode::OK, &body)
}

async fn create_post(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let rate = match guard(&shared, &headers, "POST /2/tweets").await {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid_body(&rate);
    };
    let Some(text) = request
        .get("text")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return invalid_request(
            &rate,
            "text",
            "",
            "The `text` field is required when no media is attached",
        );
    };
    let reply_to = request
        .get("reply")
        .and_then(|reply| reply.get("in_reply_to_tweet_id"))
        .and_then(|id| {
            id.as_str()
                .map(str::to_string)
                .or_else(|| id.as_u64().map(|id| id.to_string()))
        });
    if weighted_length(&text) > 280 {
        return invalid_request(&rate, "text", &text, "Your Tweet text is too long. For more information on how X determines text length see https://github.com/twitter/twitter-text.");
    }
    let mut world = shared.world();
    let us = shared.config.x_user_id.clone();
    let action = if reply_to.is_some() { "reply" } else { "post" };
    let target = reply_to.clone().unwrap_or_default();
    let parent = match &reply_to {
        Some(parent) => {
            let known = parent.parse::<u64>().ok().and_then(|parent| {
                world
                    .tweets
                    .iter()
                    .find(|tweet| {
                        tweet.id == parent && (tweet.mentions_us || tweet.author_id == us)
                    })
                    .map(|tweet| tweet.id)
            });
            match known {
                Some(parent) => Some(parent),
                None => {
                    record(&mut world, action, &uri, &target, Some(text), None, 403);
                    drop(world);
                    return problem(
                        &rate,
                        StatusCode::FORBIDDEN,
                        "Forbidden",
                        "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.",
                        "about:blank",
                    );
                }
            }
        }
        None => None,
    };
    let duplicate = world.tweets.iter().any(|tweet| {
        tweet.author_id == us && tweet.text == text && tweet.in_reply_to_tweet_id == parent
    });
    if duplicate {
        record(&mut world, action, &uri, &target, Some(text), None, 403);
        drop(world);
        return problem(
            &rate,
            StatusCode::FORBIDDEN,
            "Forbidden",
            "You are not allowed to create a Tweet with duplicate content.",
            "about:blank",
        );
    }
    let (id, outgoing) = world.x_own_post(&text, parent);
    record(
        &mut world,
        action,
        &uri,
        &target,
        Some(text.clone()),
        Some(id.to_string()),
        201,
    );
    drop(world);
    shared.dispatch(vec![outgoing]);
    x_response(
        &rate,
        StatusCode::CREATED,
        &json!({"data": {"id": id.to_string(), "text": text, "edit_history_tweet_ids": [id.to_string()]}}),
    )
}

async fn hide_reply(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let rate = match guard(&shared, &headers, "PUT /2/tweets/:id/hidden").await {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    let Some(hidden) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|request| request.get("hidden").and_then(Value::as_bool))
    else {
        return invalid_body(&rate);
    };
    let mut world = shared.world();
    let us = shared.config.x_user_id.clone();
    let tweet = id.parse::<u64>().ok().and_then(|tweet_id| {
        world
            .tweets
            .iter_mut()
            .find(|tweet| tweet.id == tweet_id && tweet.author_id != us)
    });
    let Some(tweet) = tweet else {
        drop(world);
        return problem(
            &rate,
            StatusCode::NOT_FOUND,
            "Not Found Error",
            &format!("Could not find tweet with id: [{id}]."),
            "https://api.twitter.com/2/problems/resource-not-found",
        );
    };
    tweet.hidden = hidden;
    record(
        &mut world,
        if hidden { "hide" } else { "unhide" },
        &uri,
        &id,
        None,
        None,
        200,
    );
    drop(world);
    x_response(&rate, StatusCode::OK, &json!({"data": {"hidden": hidden}}))
}

async fn send_dm(
    State(shared): State<Arc<Shared>>,
    Path(participant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let rate = match guard(
        &shared,
        &headers,
        "POST /2/dm_conversations/with/:participant_id/messages",
    )
    .await
    {
        Ok(rate) => rate,
        Err(response) => return response,
    };
    let text = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|request| {
            request
                .get("text")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|text| !text.is_empty());
    let Some(text) = text else {
        return invalid_request(
            &rate,
            "text",
            "",
            "The `text` field is required when no attachments are given",
        );
    };
    let us = shared.config.x_user_id.clone();
    if participant == us || participant.parse::<u64>().is_err() {
        return invalid_request(
            &rate,
            "participant_id",
            &participant,
            &format!("The `participant_id` path parameter value [{participant}] is not valid"),
        );
    }
    let mut world = shared.world();
    let (id, outgoing) = world.add_dm(&participant, &us, &participant, &text, now_ms());
    record_dm(&mut world, &uri, &participant, &text, &id.to_string());
    drop(world);
    shared.dispatch(vec![outgoing]);
    x_response(
        &rate,
        StatusCode::CREATED,
        &json!({"data": {"dm_conversation_id": dm_conversation_id(&participant, &us), "dm_event_id": id.to_string()}}),
    )
}

// ---- auth, rate limits and faults -------------------------------------------------------------

/// Checks the Bearer token, applies the faults in force and counts the request against the
/// endpoint's rate-limit window.
async fn guard(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    endpoint: &str,
) -> Result<RateDecision, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let faults = shared.faults();
    if !token.is_some_and(|token| shared.x_token_valid(token))
        || faults.expired_token.contains(&Platform::X)
    {
        return Err(problem_response(
            StatusCode::UNAUTHORIZED,
            &json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
        ));
    }
    let now = now_secs_f64();
    let mut world = shared.world();
    let decision = world.x_rate(endpoint, now);
    if !decision.allowed {
        drop(world);
        return Err(too_many_requests(&decision));
    }
    if faults.error_ratio > 0.0 && world.fault_rng.gen_bool(faults.error_ratio.clamp(0.0, 1.0)) {
        if world.fault_rng.gen_bool(0.5) {
            let blocked = world.x_block(endpoint, now.floor() as i64 + 2);
            drop(world);
            return Err(too_many_requests(&blocked));
        }
        drop(world);
        return Err(problem(
            &decision,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "Internal Server Error",
            "about:blank",
        ));
    }
    Ok(decision)
}

fn too_many_requests(decision: &RateDecision) -> Response {
    problem(
        decision,
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
        "Too Many Requests",
        "about:blank",
    )
}

// ---- responses ---------------------------------------------------------------------------

fn x_response(rate: &RateDecision, status: StatusCode, body: &Value) -> Response {
    let mut response = (status, x_json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    with_rate(response, rate)
}

fn with_rate(mut response: Response, rate: &RateDecision) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-rate-limit-limit", HeaderValue::from(rate.limit));
    headers.insert("x-rate-limit-remaining", HeaderValue::from(rate.remaining));
    headers.insert("x-rate-limit-reset", HeaderValue::from(rate.reset));
    response
}

fn problem_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, x_json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// An RFC 7807 problem body as X sends it.
fn problem(
    rate: &RateDecision,
    status: StatusCode,
    title: &str,
    detail: &str,
    kind: &str,
) -> Response {
    let body = json!({"title": title, "detail": detail, "type": kind, "status": status.as_u16()});
    with_rate(problem_response(status, &body), rate)
}

fn invalid_request(rate: &RateDecision, parameter: &str, value: &str, message: &str) -> Response {
    let body = json!({
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    });
    with_rate(problem_response(StatusCode::BAD_REQUEST, &body), rate)
}

fn invalid_body(rate: &RateDecision) -> Response {
    let body = json!({
        "errors": [{"message": "Request body is not valid JSON or is missing required fields"}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    });
    with_rate(problem_response(StatusCode::BAD_REQUEST, &body), rate)
}

// ---- objects ---------------------------------------------------------------------------------

fn tweet_object(world: &World, tweet: &Tweet, fields: &BTreeSet<String>) -> Value {
    let id = tweet.id.to_string();
    let mut object = json!({"id": id, "text": tweet.text, "edit_history_tweet_ids": [id]});
    for field in fields {
        let value = match field.as_str() {
            "author_id" => json!(tweet.author_id),
            "created_at" => json!(x_time(tweet.created_ms)),
            "conversation_id" => json!(tweet.conversation_id.to_string()),
            "in_reply_to_user_id" => match &tweet.in_reply_to_user_id {
                Some(user) => json!(user),
                None => continue,
            },
            "referenced_tweets" => match (tweet.retweet_of, tweet.in_reply_to_tweet_id) {
                (Some(original), _) => {
                    json!([{"type": "retweeted", "id": original.to_string()}])
                }
                (None, Some(parent)) => {
                    json!([{"type": "replied_to", "id": parent.to_string()}])
                }
                (None, None) => continue,
            },
            "entities" => match entities(world, &tweet.text) {
                Some(entities) => entities,
                None => continue,
            },
            "lang" => json!(tweet.language),
            "public_metrics" => json!({
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 3,
            }),
            "possibly_sensitive" => json!(false),
            "reply_settings" => json!("everyone"),
            "edit_controls" => json!({
                "edits_remaining": 5,
                "is_edit_eligible": true,
                "editable_until": x_time(tweet.created_ms + 3_600_000),
            }),
            _ => continue,
        };
        object[field.as_str()] = value;
    }
    object
}

/// The `entities` of a post's text as X v2 gives them: `mentions` of existing users
/// (`{start,end,username,id}`) and `hashtags` (`{start,end,tag}`), with code-point offsets;
/// None when there are neither.
fn entities(world: &World, text: &str) -> Option<Value> {
    let mut mentions = Vec::new();
    let mut hashtags = Vec::new();
    for (start, sigil, word) in tagged_words(text) {
        let end = start + 1 + word.chars().count();
        if sigil == '@' {
            if let Some(user) = user_by_username(world, &word) {
                mentions.push(
                    json!({"start": start, "end": end, "username": user.username, "id": user.id}),
                );
            }
        } else if !word.chars().all(|c| c.is_ascii_digit()) {
            hashtags.push(json!({"start": start, "end": end, "tag": word}));
        }
    }
    let mut entities = serde_json::Map::new();
    if !mentions.is_empty() {
        entities.insert("mentions".to_string(), json!(mentions));
    }
    if !hashtags.is_empty() {
        entities.insert("hashtags".to_string(), json!(hashtags));
    }
    (!entities.is_empty()).then_some(Value::Object(entities))
}

/// The `@user` and `#tag` words of a text: (code-point offset of the sigil, sigil, word).
/// A sigil counts at the start or after a character that is not part of a word; a
/// username has up to 15 ASCII letters, digits or `_`.
fn tagged_words(text: &str) -> Vec<(usize, char, String)> {
    let characters: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for (index, character) in characters.iter().enumerate() {
        if !matches!(character, '@' | '#') {
            continue;
        }
        let after_word = index.checked_sub(1).is_some_and(|before| {
            characters[before].is_alphanumeric() || characters[before] == '_'
        });
        if after_word {
            continue;
        }
        let word: String = characters[index + 1..]
            .iter()
            .take_while(|c| {
                if *character == '@' {
                    c.is_ascii_alphanumeric() || **c == '_'
                } else {
                    c.is_alphanumeric() || **c == '_'
                }
            })
            .collect();
        if word.is_empty() || (*character == '@' && word.len() > 15) {
            continue;
        }
        found.push((index, *character, word));
    }
    found
}

/// The user behind a handle: the account itself for its own handle, otherwise the user with
/// the smallest id among those that share it (injected customers may share a handle).
fn user_by_username<'a>(world: &'a World, username: &str) -> Option<&'a crate::world::XUser> {
    if let Some(us) = world
        .x_users
        .get(&world.config.x_user_id)
        .filter(|us| us.username.eq_ignore_ascii_case(username))
    {
        return Some(us);
    }
    world
        .x_users
        .values()
        .filter(|user| user.username.eq_ignore_ascii_case(username))
        .min_by_key(|user| (user.id.len(), user.id.clone()))
}

fn user_object(world: &World, id: &str, fields: &BTreeSet<String>) -> Value {
    let user = world.x_users.get(id);
    let mut object = json!({
        "id": id,
        "name": user.map(|user| user.name.clone()).unwrap_or_default(),
        "username": user.map(|user| user.username.clone()).unwrap_or_default(),
    });
    for field in fields {
        let value = match field.as_str() {
            "verified" => json!(false),
            "protected" => json!(false),
            "created_at" => json!("2020-03-02T14:00:00.000Z"),
            "description" => json!(""),
            "profile_image_url" => json!(
                "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
            ),
            "public_metrics" => {
                json!({"followers_count": 12, "following_count": 34, "tweet_count": 120, "listed_count": 0, "like_count": 5})
            }
            _ => continue,
        };
        object[field.as_str()] = value;
    }
    object
}

fn includes(
    world: &World,
    page: &[&Tweet],
    expansions: &BTreeSet<String>,
    user_fields: &BTreeSet<String>,
    tweet_fields: &BTreeSet<String>,
) -> Value {
    let mut user_ids: Vec<String> = Vec::new();
    let mut push_user = |id: &str| {
        if !user_ids.iter().any(|known| known == id) {
            user_ids.push(id.to_string());
        }
    };
    let mut referenced: Vec<&Tweet> = Vec::new();
    for tweet in page {
        if expansions.contains("author_id") {
            push_user(&tweet.author_id);
        }
        if expansions.contains("in_reply_to_user_id") {
            if let Some(user) = &tweet.in_reply_to_user_id {
                push_user(user);
            }
        }
        if expansions.contains("entities.mentions.username") {
            for (_, sigil, word) in tagged_words(&tweet.text) {
                if let Some(user) = (sigil == '@')
                    .then(|| user_by_username(world, &word))
                    .flatten()
                {
                    push_user(&user.id);
                }
            }
        }
        if expansions.contains("referenced_tweets.id")
            || expansions.contains("referenced_tweets.id.author_id")
        {
            if let Some(parent) = tweet
                .retweet_of
                .or(tweet.in_reply_to_tweet_id)
                .and_then(|parent| world.tweets.iter().find(|other| other.id == parent))
            {
                if !referenced.iter().any(|known| known.id == parent.id) {
                    referenced.push(parent);
                }
                if expansions.contains("referenced_tweets.id.author_id") {
                    push_user(&parent.author_id);
                }
            }
        }
    }
    let mut includes = serde_json::Map::new();
    if !user_ids.is_empty() {
        let users: Vec<Value> = user_ids
            .iter()
            .map(|id| user_object(world, id, user_fields))
            .collect();
        includes.insert("users".to_string(), json!(users));
    }
    if !referenced.is_empty() {
        let tweets: Vec<Value> = referenced
            .iter()
            .map(|tweet| tweet_object(world, tweet, tweet_fields))
            .collect();
        includes.insert("tweets".to_string(), json!(tweets));
    }
    Value::Object(includes)
}

// ---- parameters ------------------------------------------------------------------------------

fn list(query: &Params, name: &str) -> BTreeSet<String> {
    query
        .get(name)
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn bounded(
    query: &Params,
    name: &str,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, String> {
    let Some(raw) = query.get(name) else {
        return Ok(default);
    };
    match raw.parse::<usize>() {
        Ok(value) if (min..=max).contains(&value) => Ok(value),
        _ => Err(format!(
            "The `{name}` query parameter value [{raw}] is not between {min} and {max}"
        )),
    }
}

/// An RFC 3339 time (`2026-12-06T10:00:00Z`) as Unix milliseconds.
fn parse_time(value: &str) -> Option<i64> {
    let parsed =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A `next_token`: opaque, lowercase alphanumerics, naming the oldest id already returned.
fn encode_token(below: u64) -> String {
    format!("7140dib{}", to_base36(below ^ 0x5a5a_5a5a_5a5a))
}

fn decode_token(token: &str) -> Option<u64> {
    from_base36(token.strip_prefix("7140dib")?).map(|value| value ^ 0x5a5a_5a5a_5a5a)
}

fn encode_previous_token(above: u64) -> String {
    format!("1blc4{}", to_base36(above ^ 0x5a5a_5a5a_5a5a))
}

fn decode_previous_token(token: &str) -> Option<u64> {
    from_base36(token.strip_prefix("1blc4")?).map(|value| value ^ 0x5a5a_5a5a_5a5a)
}

fn to_base36(mut value: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(value % 36) as usize]);
        value /= 36;
        if value == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn from_base36(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.chars().try_fold(0u64, |acc, character| {
        acc.checked_mul(36)?
            .checked_add(u64::from(character.to_digit(36)?))
    })
}

/// Post length as X counts it, roughly: URLs count 23, everything else one per character.
fn weighted_length(text: &str) -> usize {
    text.split_whitespace()
        .map(|word| {
            if word.starts_with("http://") || word.starts_with("https://") {
                23
            } else {
                word.chars().count()
            }
        })
        .sum::<usize>()
        + text.split_whitespace().count().saturating_sub(1)
}

fn record(
    world: &mut World,
    action: &str,
    uri: &Uri,
    target: &str,
    text: Option<String>,
    returned_id: Option<String>,
    status: u16,
) {
    world.record(RecordedReply {
        platform: Source::X,
        action: action.to_string(),
        method: if action == "hide" || action == "unhide" {
            Method::PUT
        } else {
            Method::POST
        }
        .to_string(),
        path: uri.path().to_string(),
        target_id: target.to_string(),
        text,
        returned_id,
        status,
        accepted: (200..300).contains(&status),
        at: now_secs(),
    });
}

fn record_dm(world: &mut World, uri: &Uri, participant: &str, text: &str, id: &str) {
    world.record(RecordedReply {
        platform: Source::XDm,
        action: "dm".to_string(),
        method: Method::POST.to_string(),
        path: uri.path().to_string(),
        target_id: participant.to_string(),
        text: Some(text.to_string()),
        returned_id: Some(id.to_string()),
        status: 201,
        accepted: true,
        at: now_secs(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let id = 1_578_516_295_611_748_353;
        assert_eq!(decode_token(&encode_token(id)), Some(id));
        assert_eq!(decode_previous_token(&encode_previous_token(id)), Some(id));
        assert_eq!(decode_token("nonsense"), None);
    }

    #[test]
    fn urls_weigh_23() {
        assert_eq!(
            weighted_length("hola https://example.com/a/very/long/path/indeed"),
            28
        );
    }
}
