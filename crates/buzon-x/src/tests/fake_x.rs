//! Polling, sending and hiding against a fake X server on 127.0.0.1:0.

use super::{channel, connector, credentials, fixture, id};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap as AxumHeaders, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use buzon_connector::{Connector, ConnectorError, Moderation, PolledBody, ReplyRequest};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const USER: &str = "783214";
const MENTIONS_PATH: &str = "/2/users/783214/mentions";
const DM_EVENTS_PATH: &str = "/2/dm_events";

/// A request as the fake server saw it.
#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
    body: Vec<u8>,
    at: Duration,
}

impl Recorded {
    fn query(&self) -> HashMap<&str, &str> {
        self.query
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }
}

struct Canned {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[derive(Default)]
struct FakeState {
    requests: Vec<Recorded>,
    answers: HashMap<String, VecDeque<Canned>>,
}

/// Answers each path with the responses queued for it, in order; an unscripted path gets an
/// empty page.
#[derive(Clone, Default)]
struct FakeX {
    state: Arc<Mutex<FakeState>>,
}

impl FakeX {
    async fn start() -> (FakeX, String) {
        let fake = FakeX::default();
        let router = axum::Router::new()
            .fallback(answer)
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback is bindable");
        let base = format!("http://{}", listener.local_addr().expect("a bound address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        (fake, base)
    }

    fn queue(&self, path: &str, status: u16, headers: &[(&str, String)], body: impl Into<Vec<u8>>) {
        let canned = Canned {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect(),
            body: body.into(),
        };
        let mut state = self.state.lock().expect("fake state lock");
        state
            .answers
            .entry(path.to_owned())
            .or_default()
            .push_back(canned);
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("fake state lock").requests.clone()
    }

    fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.path == path)
            .collect()
    }
}

async fn answer(
    State(fake): State<FakeX>,
    method: Method,
    uri: Uri,
    headers: AxumHeaders,
    body: Bytes,
) -> Response {
    let url = reqwest::Url::parse(&format!("http://fake{uri}")).expect("a request URI");
    let recorded = Recorded {
        method,
        path: url.path().to_owned(),
        query: url.query_pairs().into_owned().collect(),
        authorization: headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        body: body.to_vec(),
        at: now(),
    };
    let mut state = fake.state.lock().expect("fake state lock");
    let canned = state
        .answers
        .get_mut(&recorded.path)
        .and_then(VecDeque::pop_front);
    state.requests.push(recorded);
    let Some(canned) = canned else {
        return (StatusCode::OK, r#"{"meta":{"result_count":0}}"#).into_response();
    };
    let mut response = (
        StatusCode::from_u16(canned.status).expect("a valid status"),
        canned.body,
    )
        .into_response();
    for (name, value) in canned.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            value.parse().expect("a header value"),
        );
    }
    response
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
}

fn rate_headers(remaining: u32, reset_unix_secs: u64) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-rate-limit-limit", "450".to_owned()),
        ("x-rate-limit-remaining", remaining.to_string()),
        ("x-rate-limit-reset", reset_unix_secs.to_string()),
    ]
}

fn assert_mentions_query(request: &Recorded, extra: &[(&str, &str)]) {
    let mut expected: HashMap<&str, &str> = HashMap::from([
        ("max_results", "100"),
        (
            "tweet.fields",
            "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets",
        ),
        ("expansions", "author_id"),
        ("user.fields", "username,name"),
    ]);
    expected.extend(extra.iter().copied());
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.path, MENTIONS_PATH);
    assert_eq!(request.query(), expected);
    assert_eq!(
        request.query.len(),
        expected.len(),
        "no repeated parameters"
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some("Bearer test-access-token")
    );
}

#[tokio::test]
async fn polling_follows_next_token_until_an_empty_page_and_keeps_the_newest_id() {
    let (fake, base) = FakeX::start().await;
    let mentions = fixture("mentions_page_default_fields_real.json");
    let dm_events = fixture("dm_events_page.json");
    fake.queue(MENTIONS_PATH, 200, &[], mentions.clone());
    fake.queue(
        MENTIONS_PATH,
        200,
        &[],
        fixture("empty_page_result_count_0.json"),
    );
    fake.queue(DM_EVENTS_PATH, 200, &[], dm_events.clone());

    let page = connector(&base)
        .poll(&channel(USER), &credentials(), Some("1578516000000000000"))
        .await
        .expect("the poll works");

    assert_eq!(
        page.bodies,
        vec![
            PolledBody {
                endpoint: "mentions".to_owned(),
                body: mentions
            },
            PolledBody {
                endpoint: "dm_events".to_owned(),
                body: dm_events
            },
        ]
    );
    assert_eq!(page.next_cursor.as_deref(), Some("1578516295611748353"));
    assert_eq!(page.wait_at_least, None);

    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_mentions_query(&requests[0], &[("since_id", "1578516000000000000")]);
    assert_mentions_query(
        &requests[1],
        &[
            ("since_id", "1578516000000000000"),
            (
                "pagination_token",
                "7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48j",
            ),
        ],
    );
    let dm_request = &requests[2];
    assert_eq!(dm_request.method, Method::GET);
    assert_eq!(dm_request.path, DM_EVENTS_PATH);
    assert_eq!(
        dm_request.query(),
        HashMap::from([
            (
                "dm_event.fields",
                "id,text,event_type,created_at,sender_id,dm_conversation_id"
            ),
            ("event_types", "MessageCreate"),
            ("expansions", "sender_id"),
            ("user.fields", "username,name"),
            ("max_results", "100"),
        ])
    );
    assert_eq!(
        dm_request.authorization.as_deref(),
        Some("Bearer test-access-token")
    );
}

#[tokio::test]
async fn a_first_poll_fetches_one_page_without_since_id() {
    let (fake, base) = FakeX::start().await;
    let mentions = fixture("mentions_page.json");
    fake.queue(MENTIONS_PATH, 200, &[], mentions.clone());

    let page = connector(&base)
        .poll(&channel(USER), &credentials(), None)
        .await
        .expect("the poll works");

    assert_eq!(
        page.bodies,
        vec![PolledBody {
            endpoint: "mentions".to_owned(),
            body: mentions
        }],
        "the empty DM page is not kept"
    );
    assert_eq!(page.next_cursor.as_deref(), Some("1301573587187331074"));
    let mention_requests = fake.requests_to(MENTIONS_PATH);
    assert_eq!(
        mention_requests.len(),
        1,
        "next_token is not followed on a first poll"
    );
    assert_mentions_query(&mention_requests[0], &[]);
}

#[tokio::test]
async fn an_empty_poll_keeps_the_old_cursor() {
    let (fake, base) = FakeX::start().await;
    fake.queue(
        MENTIONS_PATH,
        200,
        &[],
        fixture("empty_page_result_count_0.json"),
    );

    let page = connector(&base)
        .poll(&channel(USER), &credentials(), Some("1578516295611748353"))
        .await
        .expect("the poll works");

    assert_eq!(page.bodies, Vec::new());
    assert_eq!(page.next_cursor, None);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn after_remaining_zero_no_request_leaves_before_the_reset() {
    let (fake, base) = FakeX::start().await;
    let reset = now().as_secs() + 60;
    fake.queue(
        MENTIONS_PATH,
        200,
        &rate_headers(0, reset),
        fixture("mentions_page.json"),
    );
    fake.queue(
        DM_EVENTS_PATH,
        200,
        &rate_headers(0, reset + 30),
        fixture("dm_events_page.json"),
    );
    let x = connector(&base);

    let first = x
        .poll(&channel(USER), &credentials(), None)
        .await
        .expect("the first poll works");
    assert_eq!(first.bodies.len(), 2);
    assert_eq!(fake.requests().len(), 2);
    let suggested = first.wait_at_least.expect("both budgets are spent");
    assert!(
        suggested > Duration::from_secs(55) && suggested <= Duration::from_secs(62),
        "the poller is told to wait for the earliest reset: {suggested:?}"
    );

    let second = x
        .poll(&channel(USER), &credentials(), first.next_cursor.as_deref())
        .await
        .expect("a rate-limited poll is not a failure");
    assert_eq!(fake.requests().len(), 2, "no request before the reset");
    assert_eq!(second.bodies, Vec::new());
    assert_eq!(second.next_cursor, None, "the cursor is kept");
    assert!(second
        .wait_at_least
        .is_some_and(|wait| wait > Duration::from_secs(55)));
}

#[tokio::test]
async fn a_spent_mentions_budget_still_lets_dms_be_polled() {
    let (fake, base) = FakeX::start().await;
    let reset = now().as_secs() + 600;
    fake.queue(
        MENTIONS_PATH,
        200,
        &rate_headers(0, reset),
        fixture("mentions_page.json"),
    );
    let x = connector(&base);

    x.poll(&channel(USER), &credentials(), None)
        .await
        .expect("the first poll works");
    let second = x
        .poll(&channel(USER), &credentials(), Some("1301573587187331074"))
        .await
        .expect("the second poll works");

    assert_eq!(
        fake.requests_to(MENTIONS_PATH).len(),
        1,
        "mentions wait for their reset"
    );
    assert_eq!(
        fake.requests_to(DM_EVENTS_PATH).len(),
        2,
        "DMs have their own budget"
    );
    assert_eq!(second.wait_at_least, None, "DMs can still be polled");
}

#[tokio::test]
async fn a_short_wait_is_sat_out_and_the_call_leaves_after_the_reset() {
    let (fake, base) = FakeX::start().await;
    let reset = now().as_secs() + 1;
    fake.queue(
        MENTIONS_PATH,
        200,
        &rate_headers(0, reset),
        fixture("mentions_page.json"),
    );
    let x = connector(&base);

    x.poll(&channel(USER), &credentials(), None)
        .await
        .expect("the first poll works");
    x.poll(&channel(USER), &credentials(), Some("1301573587187331074"))
        .await
        .expect("the second poll works");

    let mention_requests = fake.requests_to(MENTIONS_PATH);
    assert_eq!(mention_requests.len(), 2);
    assert!(
        mention_requests[1].at >= Duration::from_secs(reset),
        "the second call left at {:?}, before the reset at {reset}",
        mention_requests[1].at
    );
}

#[tokio::test]
async fn a_429_is_not_retried_before_its_reset() {
    let (fake, base) = FakeX::start().await;
    let reset = now().as_secs() + 120;
    fake.queue(
        MENTIONS_PATH,
        429,
        &rate_headers(0, reset),
        fixture("error_429_too_many_requests.json"),
    );
    let x = connector(&base);

    let page = x
        .poll(&channel(USER), &credentials(), Some("1301573587187331074"))
        .await
        .expect("rate limiting is not a failed poll");
    assert_eq!(page.next_cursor, None);
    x.poll(&channel(USER), &credentials(), Some("1301573587187331074"))
        .await
        .expect("rate limiting is not a failed poll");

    assert_eq!(fake.requests_to(MENTIONS_PATH).len(), 1, "no retry storm");
    assert_eq!(fake.requests_to(DM_EVENTS_PATH).len(), 2);
}

#[tokio::test]
async fn a_usage_cap_stops_the_poll_without_retrying() {
    let (fake, base) = FakeX::start().await;
    let reset = now().as_secs() + 2;
    fake.queue(
        MENTIONS_PATH,
        429,
        &rate_headers(0, reset),
        fixture("error_429_usage_capped.json"),
    );

    let result = connector(&base)
        .poll(&channel(USER), &credentials(), Some("1301573587187331074"))
        .await;

    assert!(
        matches!(result, Err(ConnectorError::QuotaExhausted(_))),
        "{result:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn an_expired_token_stops_the_poll() {
    let (fake, base) = FakeX::start().await;
    fake.queue(
        MENTIONS_PATH,
        401,
        &[],
        fixture("error_401_unauthorized.json"),
    );

    let result = connector(&base)
        .poll(&channel(USER), &credentials(), None)
        .await;

    assert!(
        matches!(result, Err(ConnectorError::AuthExpired(_))),
        "{result:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

fn reply(thread_key: &str, in_reply_to: Option<&str>, text: &str) -> ReplyRequest {
    ReplyRequest {
        thread_key: thread_key.to_owned(),
        in_reply_to: in_reply_to.map(id),
        text: text.to_owned(),
        template: None,
        idempotency_key: "reply-1".to_owned(),
    }
}

#[tokio::test]
async fn a_tweet_reply_posts_the_documented_body() {
    let (fake, base) = FakeX::start().await;
    fake.queue("/2/tweets", 201, &[], fixture("create_post_response.json"));

    let sent = connector(&base)
        .send(
            &channel(USER),
            &credentials(),
            &reply(
                "tweet:1455953449422516226",
                Some("1455953449422516226"),
                "Excited!",
            ),
        )
        .await
        .expect("the reply is sent");

    assert_eq!(sent.platform_id, id("1456012973835788293"));
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, Method::POST);
    assert_eq!(requests[0].path, "/2/tweets");
    assert!(requests[0].query.is_empty());
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer test-access-token")
    );
    let documented: serde_json::Value =
        serde_json::from_slice(&fixture("create_post_reply_request.json")).expect("JSON");
    assert_eq!(requests[0].json(), documented);
}

#[tokio::test]
async fn a_dm_reply_posts_to_the_participant_and_returns_the_event_id() {
    let (fake, base) = FakeX::start().await;
    let path = "/2/dm_conversations/with/750362064426721281/messages";
    fake.queue(path, 201, &[], fixture("dm_send_response.json"));

    let sent = connector(&base)
        .send(
            &channel(USER),
            &credentials(),
            &reply("dm:750362064426721281", None, "Testing 1"),
        )
        .await
        .expect("the DM is sent");

    assert_eq!(sent.platform_id, id("1585800613253812228"));
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, Method::POST);
    assert_eq!(requests[0].path, path);
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer test-access-token")
    );
    assert_eq!(requests[0].json(), serde_json::json!({"text": "Testing 1"}));
}

#[tokio::test]
async fn replies_x_cannot_take_fail_before_any_request() {
    let (fake, base) = FakeX::start().await;
    let x = connector(&base);
    let refused = [
        reply("tweet:1455953449422516226", None, "no tweet to answer"),
        reply("dm:x-unknown-author", None, "nobody to message"),
        reply("dm:12/../../2/tweets", None, "a path in disguise"),
        reply("messenger:123", None, "another platform"),
        reply("dm:750362064426721281", None, "   "),
    ];
    for request in refused {
        let result = x.send(&channel(USER), &credentials(), &request).await;
        assert!(
            matches!(result, Err(ConnectorError::Permanent(_))),
            "{result:?}"
        );
    }
    assert_eq!(fake.requests().len(), 0);
}

#[tokio::test]
async fn a_gated_reply_is_refused_once_and_not_retried() {
    let (fake, base) = FakeX::start().await;
    let gated = r#"{"title":"Forbidden","status":403,"detail":"Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.","type":"about:blank"}"#;
    fake.queue("/2/tweets", 403, &[], gated);

    let result = connector(&base)
        .send(
            &channel(USER),
            &credentials(),
            &reply("tweet:1", Some("1455953449422516226"), "hi"),
        )
        .await;

    assert!(
        matches!(result, Err(ConnectorError::Permanent(_))),
        "{result:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn hiding_and_unhiding_put_the_hidden_state() {
    let (fake, base) = FakeX::start().await;
    let path = "/2/tweets/1578516295611748353/hidden";
    fake.queue(path, 200, &[], fixture("hide_reply_response.json"));
    fake.queue(path, 200, &[], r#"{"data":{"hidden":false}}"#);
    let x = connector(&base);
    let tweet = id("1578516295611748353");

    x.moderate(&channel(USER), &credentials(), &tweet, Moderation::Hide)
        .await
        .expect("the reply is hidden");
    x.moderate(&channel(USER), &credentials(), &tweet, Moderation::Unhide)
        .await
        .expect("the reply is shown again");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for (request, hidden) in requests.iter().zip([true, false]) {
        assert_eq!(request.method, Method::PUT);
        assert_eq!(request.path, path);
        assert_eq!(
            request.authorization.as_deref(),
            Some("Bearer test-access-token")
        );
        assert_eq!(request.json(), serde_json::json!({ "hidden": hidden }));
    }
}
