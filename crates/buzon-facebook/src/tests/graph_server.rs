//! send, poll and moderate against a fake Graph server on 127.0.0.1:0.

use super::{connector_at, fixture, id, APP_SECRET};
use buzon_connector::{
    Connector, ConnectorError, InboundItem, MessageKind, Moderation, Origin, PlatformMessage,
    PolledBody, Profile, ReplyRequest, TemplateRequest,
};
use buzon_core::{
    Channel, ChannelCredentials, ChannelHealth, ChannelId, ChannelKind, ConversationKind,
    NewContact, Timestamp,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PAGE_ID: &str = "1234567890321";
const PAGE_TOKEN: &str = "EAAB-page-token";

/// One request the fake server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
    body: Vec<u8>,
}

impl Seen {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }

    fn query_pairs(&self) -> Vec<(&str, &str)> {
        self.query
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect()
    }
}

/// One canned answer: the first whose method, path and (if given) query pair match is used.
#[derive(Debug, Clone)]
struct Answer {
    method: &'static str,
    path: String,
    when_query: Option<(&'static str, String)>,
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

fn answer(method: &'static str, path: &str, status: u16, body: impl Into<Vec<u8>>) -> Answer {
    Answer {
        method,
        path: path.to_owned(),
        when_query: None,
        status,
        headers: vec![],
        body: body.into(),
    }
}

#[derive(Clone)]
struct FakeGraph {
    answers: Arc<Vec<Answer>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeGraph {
    /// Starts the server; returns it and its API base (with a version, as Graph's has).
    async fn start(answers: Vec<Answer>) -> (FakeGraph, String) {
        let graph = FakeGraph {
            answers: Arc::new(answers),
            seen: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback is bindable");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(graph.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (graph, format!("http://{address}/v21.0"))
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

async fn handle(
    axum::extract::State(graph): axum::extract::State<FakeGraph>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    let query = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|query| query.0)
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query,
        authorization: parts
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        body: axum::body::to_bytes(body, 1 << 20)
            .await
            .expect("the body is readable")
            .to_vec(),
    };
    let found = graph
        .answers
        .iter()
        .find(|answer| {
            answer.method == seen.method
                && answer.path == seen.path
                && answer.when_query.as_ref().is_none_or(|(key, value)| {
                    seen.query.iter().any(|(k, v)| k == key && v == value)
                })
        })
        .cloned();
    graph.seen.lock().expect("not poisoned").push(seen);
    let Some(found) = found else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            r#"{"error":{"message":"Unknown path components","type":"OAuthException","code":2500}}"#,
        )
            .into_response();
    };
    let mut response = (
        axum::http::StatusCode::from_u16(found.status).expect("a valid status"),
        found.body,
    )
        .into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    for (name, value) in found.headers {
        response
            .headers_mut()
            .insert(name, axum::http::HeaderValue::from_static(value));
    }
    response
}

fn channel() -> Channel {
    Channel {
        id: ChannelId(7),
        kind: ChannelKind::Facebook,
        name: "Shop".into(),
        platform_id: id(PAGE_ID),
        health: ChannelHealth::Healthy,
        health_reason: None,
        cursor: None,
        last_success_at: None,
        created_at: Timestamp::from_secs(1_700_000_000),
        credentials_version: 1,
        auto_hide_flagged: false,
        published: false,
    }
}

fn credentials() -> ChannelCredentials {
    ChannelCredentials {
        access_token: PAGE_TOKEN.into(),
        refresh_token: None,
        expires_at: None,
    }
}

fn reply(thread_key: &str, text: &str) -> ReplyRequest {
    ReplyRequest {
        thread_key: thread_key.into(),
        in_reply_to: None,
        text: text.into(),
        template: None,
        idempotency_key: "outbox-1".into(),
    }
}

fn bearer() -> Option<String> {
    Some(format!("Bearer {PAGE_TOKEN}"))
}

#[tokio::test]
async fn a_comment_reply_is_posted_on_the_top_level_comment() {
    let (graph, api_base) = FakeGraph::start(vec![answer(
        "POST",
        "/v21.0/901097836652708_903438993085259/comments",
        200,
        r#"{"id":"901097836652708_903440012345678"}"#,
    )])
    .await;
    let sent = connector_at(&api_base, Some(APP_SECRET))
        .send(
            &channel(),
            &credentials(),
            &reply(
                "comment:901097836652708_903438993085259",
                "Thanks, we are on it \u{1F980}",
            ),
        )
        .await
        .expect("the reply is sent");
    assert_eq!(sent.platform_id, id("901097836652708_903440012345678"));
    let seen = graph.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        seen[0].path,
        "/v21.0/901097836652708_903438993085259/comments"
    );
    assert_eq!(seen[0].authorization, bearer());
    assert_eq!(
        seen[0].json(),
        serde_json::json!({"message": "Thanks, we are on it \u{1F980}"})
    );
}

#[tokio::test]
async fn a_reply_to_a_visitor_post_is_a_comment_on_the_post() {
    let (graph, api_base) = FakeGraph::start(vec![answer(
        "POST",
        "/v21.0/1234567890321_7293787835232/comments",
        200,
        r#"{"id":"7293787835232_100200300"}"#,
    )])
    .await;
    let sent = connector_at(&api_base, None)
        .send(
            &channel(),
            &credentials(),
            &reply("post:1234567890321_7293787835232", "Hello"),
        )
        .await
        .expect("the reply is sent");
    assert_eq!(sent.platform_id, id("7293787835232_100200300"));
    let seen = graph.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization, bearer());
    assert_eq!(seen[0].json(), serde_json::json!({"message": "Hello"}));
}

#[tokio::test]
async fn a_messenger_reply_goes_through_the_send_api_as_a_response() {
    let (graph, api_base) = FakeGraph::start(vec![answer(
        "POST",
        "/v21.0/1234567890321/messages",
        200,
        r#"{"recipient_id":"4567890123","message_id":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"}"#,
    )])
    .await;
    let sent = connector_at(&api_base, None)
        .send(
            &channel(),
            &credentials(),
            &reply("messenger:4567890123", "Your order ships today"),
        )
        .await
        .expect("the message is sent");
    assert_eq!(
        sent.platform_id,
        id("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P")
    );
    let seen = graph.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v21.0/1234567890321/messages");
    assert_eq!(seen[0].authorization, bearer());
    assert_eq!(
        seen[0].json(),
        serde_json::json!({
            "recipient": {"id": "4567890123"},
            "messaging_type": "RESPONSE",
            "message": {"text": "Your order ships today"}
        })
    );
}

#[tokio::test]
async fn an_expired_token_answer_fails_the_send_with_auth_expired_and_no_retry() {
    let (graph, api_base) = FakeGraph::start(vec![answer(
        "POST",
        "/v21.0/1234567890321/messages",
        400,
        fixture("graph_error_expired_token_190.json"),
    )])
    .await;
    let error = connector_at(&api_base, None)
        .send(
            &channel(),
            &credentials(),
            &reply("messenger:4567890123", "hello"),
        )
        .await
        .expect_err("the token is expired");
    assert_eq!(
        error,
        ConnectorError::AuthExpired(
            "Graph error 190/463 (HTTP 400): Error validating access token: Session has expired on Wednesday, 14-Feb-18 18:00:00 PST. The current time is Thursday, 15-Feb-18 13:46:35 PST. [fbtrace H2il2t5bn4e]".into()
        )
    );
    assert_eq!(graph.seen().len(), 1);
}

#[tokio::test]
async fn a_page_rate_limit_answer_fails_the_send_with_rate_limited_and_closes_the_gate() {
    let mut throttled = answer(
        "POST",
        "/v21.0/901097836652708_903438993085259/comments",
        400,
        fixture("graph_error_rate_limit_32.json"),
    );
    throttled.headers = vec![(
        "x-app-usage",
        "{\"call_count\": 28, \"total_time\": 25, \"total_cputime\": 25}",
    )];
    let (graph, api_base) = FakeGraph::start(vec![throttled]).await;
    let connector = connector_at(&api_base, None);
    let request = reply("comment:901097836652708_903438993085259", "hello");
    let error = connector
        .send(&channel(), &credentials(), &request)
        .await
        .expect_err("the Page is throttled");
    assert_eq!(
        error,
        ConnectorError::RateLimited {
            reason:
                "Graph error 32 (HTTP 400): (#32) Page request limit reached [fbtrace Fz54k3GZrio]"
                    .into(),
            retry_after: Some(Duration::from_secs(60)),
        }
    );
    assert_eq!(
        graph.seen().len(),
        1,
        "a minute's wait is longer than a send sits through"
    );
    // The Page's gate is now closed: the next call fails without reaching Graph.
    let again = connector.send(&channel(), &credentials(), &request).await;
    assert!(
        matches!(again, Err(ConnectorError::RateLimited { .. })),
        "{again:?}"
    );
    assert_eq!(graph.seen().len(), 1);
}

#[tokio::test]
async fn a_messenger_reply_outside_the_window_is_window_closed() {
    let (_graph, api_base) = FakeGraph::start(vec![answer(
        "POST",
        "/v21.0/1234567890321/messages",
        400,
        r#"{"error":{"message":"(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"A7dU1k2L9xq"}}"#,
    )])
    .await;
    let error = connector_at(&api_base, None)
        .send(
            &channel(),
            &credentials(),
            &reply("messenger:4567890123", "late"),
        )
        .await
        .expect_err("the window is closed");
    assert!(
        matches!(error, ConnectorError::WindowClosed(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn replies_graph_cannot_take_fail_before_any_request() {
    let (graph, api_base) = FakeGraph::start(vec![]).await;
    let connector = connector_at(&api_base, None);
    for request in [
        reply("tweet:1", "hello"),
        reply("no-key", "hello"),
        reply("comment:../../me", "hello"),
        reply("comment:1_2", "   "),
        ReplyRequest {
            template: Some(TemplateRequest {
                name: "order_update".into(),
                language: "en_US".into(),
                parameters: vec![],
            }),
            ..reply("messenger:4567890123", "hello")
        },
    ] {
        let result = connector.send(&channel(), &credentials(), &request).await;
        assert!(
            matches!(result, Err(ConnectorError::Permanent(_))),
            "{request:?}: {result:?}"
        );
    }
    assert!(graph.seen().is_empty());
}

#[tokio::test]
async fn hiding_and_showing_a_comment_posts_is_hidden() {
    let (graph, api_base) = FakeGraph::start(vec![answer(
        "POST",
        "/v21.0/901097836652708_903438993085259",
        200,
        r#"{"success":true}"#,
    )])
    .await;
    let connector = connector_at(&api_base, None);
    let comment = id("901097836652708_903438993085259");
    connector
        .moderate(&channel(), &credentials(), &comment, Moderation::Hide)
        .await
        .expect("the comment is hidden");
    connector
        .moderate(&channel(), &credentials(), &comment, Moderation::Unhide)
        .await
        .expect("the comment is shown");
    let seen = graph.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v21.0/901097836652708_903438993085259");
        assert_eq!(request.authorization, bearer());
    }
    assert_eq!(seen[0].json(), serde_json::json!({"is_hidden": true}));
    assert_eq!(seen[1].json(), serde_json::json!({"is_hidden": false}));
}

#[tokio::test]
async fn a_refused_hide_is_permanent() {
    let (_graph, api_base) = FakeGraph::start(vec![answer(
        "POST",
        "/v21.0/901097836652708_903438993085259",
        400,
        r#"{"error":{"message":"(#200) Permissions error","type":"OAuthException","code":200,"fbtrace_id":"x1"}}"#,
    )])
    .await;
    let result = connector_at(&api_base, None)
        .moderate(
            &channel(),
            &credentials(),
            &id("901097836652708_903438993085259"),
            Moderation::Hide,
        )
        .await;
    assert_eq!(
        result,
        Err(ConnectorError::Permanent(
            "Graph error 200 (HTTP 400): (#200) Permissions error [fbtrace x1]".into()
        ))
    );
}

const FEED: &str = r#"{"data":[{"id":"1234567890321_901097836652708","message":"Our winter sale starts today","created_time":"2015-12-03T09:00:00+0000","from":{"name":"Shop","id":"1234567890321"}},{"id":"1234567890321_7293787835232","message":"Let's check this","created_time":"2016-02-05T21:17:00+0000","from":{"name":"John Doe","id":"8423678347823"}}],"paging":{"cursors":{"before":"QVFIUmx1","after":"QVFIUjJk"},"next":"https://graph.facebook.com/v21.0/1234567890321/feed?after=QVFIUjJk"}}"#;
const SALE_COMMENTS: &str = r#"{"data":[{"id":"901097836652708_903440000000000","message":"Same here","created_time":"2015-12-03T10:00:00+0000","from":{"name":"Ana","id":"777"},"parent":{"id":"901097836652708_903438993085259"}},{"id":"901097836652708_903439500000000","message":"Thanks!","created_time":"2015-12-03T09:45:00+0000","from":{"name":"Shop","id":"1234567890321"},"parent":{"id":"901097836652708_903438993085259"}},{"id":"901097836652708_903438993085259","message":"and the next one","created_time":"2015-12-03T09:30:03+0000","from":{"name":"Tester","id":"555000111222"}}],"paging":{"cursors":{"before":"b1","after":"a1"}}}"#;
const VISITOR_POST_COMMENTS: &str = r#"{"data":[]}"#;

fn feed_answers() -> Vec<Answer> {
    vec![
        answer("GET", "/v21.0/1234567890321/feed", 200, FEED),
        answer(
            "GET",
            "/v21.0/1234567890321_901097836652708/comments",
            200,
            SALE_COMMENTS,
        ),
        answer(
            "GET",
            "/v21.0/1234567890321_7293787835232/comments",
            200,
            VISITOR_POST_COMMENTS,
        ),
    ]
}

fn comments_query<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut query = vec![
        ("filter", "stream"),
        ("order", "reverse_chronological"),
        ("fields", "id,message,created_time,from,parent{id}"),
        ("limit", "100"),
    ];
    query.extend_from_slice(extra);
    query
}

#[tokio::test]
async fn a_first_poll_reads_the_feed_then_each_posts_comments_and_keeps_the_pages_raw() {
    let (graph, api_base) = FakeGraph::start(feed_answers()).await;
    let page = connector_at(&api_base, None)
        .poll(&channel(), &credentials(), None)
        .await
        .expect("the poll works");
    assert_eq!(
        page.bodies,
        vec![
            PolledBody {
                endpoint: "feed".into(),
                body: FEED.as_bytes().to_vec()
            },
            PolledBody {
                endpoint: "comments:1234567890321_901097836652708".into(),
                body: SALE_COMMENTS.as_bytes().to_vec(),
            },
            PolledBody {
                endpoint: "comments:1234567890321_7293787835232".into(),
                body: VISITOR_POST_COMMENTS.as_bytes().to_vec(),
            },
        ]
    );
    // 2015-12-03T10:00:00Z, the newest comment.
    assert_eq!(page.next_cursor.as_deref(), Some("1449136800"));
    assert_eq!(page.wait_at_least, None);

    let seen = graph.seen();
    // Then the listening edges; Graph refusing them (this server knows neither) leaves the
    // feed's pages as they are.
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[3].path, "/v21.0/1234567890321/tagged");
    assert_eq!(seen[4].path, "/v21.0/1234567890321/ratings");
    assert!(seen
        .iter()
        .all(|request| request.method == "GET" && request.authorization == bearer()));
    assert_eq!(seen[0].path, "/v21.0/1234567890321/feed");
    assert_eq!(
        seen[0].query_pairs(),
        vec![("fields", "id,message,created_time,from"), ("limit", "10")]
    );
    assert_eq!(
        seen[1].path,
        "/v21.0/1234567890321_901097836652708/comments"
    );
    assert_eq!(seen[1].query_pairs(), comments_query(&[]));
    assert_eq!(seen[2].path, "/v21.0/1234567890321_7293787835232/comments");
    assert_eq!(seen[2].query_pairs(), comments_query(&[]));
}

fn usage_95_percent() -> Vec<(&'static str, &'static str)> {
    vec![(
        "x-business-use-case-usage",
        "{\"1234567890321\":[{\"type\":\"pages\",\"call_count\":95,\"total_cputime\":25,\"total_time\":25,\"estimated_time_to_regain_access\":0}]}",
    )]
}

#[tokio::test]
async fn a_poll_with_a_cursor_asks_for_comments_since_it_and_follows_their_pages() {
    let first = answer(
        "GET",
        "/v21.0/1234567890321_901097836652708/comments",
        200,
        r#"{"data":[{"id":"901097836652708_1","message":"new","created_time":"2015-12-03T11:00:00+0000","from":{"name":"Ana","id":"777"}}],"paging":{"cursors":{"before":"b1","after":"a1"},"next":"https://graph.facebook.com/v21.0/1234567890321_901097836652708/comments?after=a1"}}"#,
    );
    let mut second = answer(
        "GET",
        "/v21.0/1234567890321_901097836652708/comments",
        200,
        r#"{"data":[{"id":"901097836652708_0","message":"older","created_time":"2015-12-03T10:30:00+0000","from":{"name":"Ana","id":"777"}}],"paging":{"cursors":{"before":"b2","after":"a2"}}}"#,
    );
    second.when_query = Some(("after", "a1".into()));
    // The last call of the poll reports 95 % of the Page's budget used.
    let mut last = answer(
        "GET",
        "/v21.0/1234567890321_7293787835232/comments",
        200,
        VISITOR_POST_COMMENTS,
    );
    last.headers = usage_95_percent();
    let mut answers = vec![second, first, last];
    answers.extend(feed_answers());
    let (graph, api_base) = FakeGraph::start(answers).await;
    let page = connector_at(&api_base, None)
        .poll(&channel(), &credentials(), Some("1449136800"))
        .await
        .expect("the poll works");
    let endpoints: Vec<&str> = page
        .bodies
        .iter()
        .map(|body| body.endpoint.as_str())
        .collect();
    assert_eq!(
        endpoints,
        [
            "feed",
            "comments:1234567890321_901097836652708",
            "comments:1234567890321_901097836652708",
            "comments:1234567890321_7293787835232",
        ]
    );
    // 2015-12-03T11:00:00Z.
    assert_eq!(page.next_cursor.as_deref(), Some("1449140400"));
    assert_holds_back_a_minute(page.wait_at_least, "95 % of the Page's budget is used");
    let seen = graph.seen();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        seen[1].query_pairs(),
        comments_query(&[("since", "1449136800")])
    );
    assert_eq!(
        seen[2].query_pairs(),
        comments_query(&[("since", "1449136800"), ("after", "a1")])
    );
    assert_eq!(
        seen[3].query_pairs(),
        comments_query(&[("since", "1449136800")])
    );
}

#[tokio::test]
async fn a_poll_throttled_halfway_keeps_its_pages_but_not_a_new_cursor() {
    // The first comments page says the budget is nearly spent: the gate closes, and the
    // second post is left for the next poll.
    let mut sale = answer(
        "GET",
        "/v21.0/1234567890321_901097836652708/comments",
        200,
        SALE_COMMENTS,
    );
    sale.headers = usage_95_percent();
    let mut answers = vec![sale];
    answers.extend(feed_answers());
    let (graph, api_base) = FakeGraph::start(answers).await;
    let page = connector_at(&api_base, None)
        .poll(&channel(), &credentials(), Some("1449000000"))
        .await
        .expect("a throttled poll still returns what it read");
    let endpoints: Vec<&str> = page
        .bodies
        .iter()
        .map(|body| body.endpoint.as_str())
        .collect();
    assert_eq!(
        endpoints,
        ["feed", "comments:1234567890321_901097836652708"]
    );
    assert_eq!(page.next_cursor, None);
    assert_holds_back_a_minute(page.wait_at_least, "the budget is nearly spent");
    assert_eq!(
        graph.seen().len(),
        2,
        "the closed gate kept the third call from Graph"
    );
}

#[tokio::test]
async fn a_post_whose_comments_graph_refuses_is_skipped() {
    let refused = answer(
        "GET",
        "/v21.0/1234567890321_901097836652708/comments",
        400,
        r#"{"error":{"message":"Unsupported get request. Object with ID '1234567890321_901097836652708' does not exist","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"z9"}}"#,
    );
    let visitor = answer(
        "GET",
        "/v21.0/1234567890321_7293787835232/comments",
        200,
        r#"{"data":[{"id":"7293787835232_9","message":"me too","created_time":"2016-02-06T08:00:00+0000","from":{"name":"Ana","id":"777"}}]}"#,
    );
    let mut answers = vec![refused, visitor];
    answers.extend(feed_answers());
    let (_graph, api_base) = FakeGraph::start(answers).await;
    let page = connector_at(&api_base, None)
        .poll(&channel(), &credentials(), None)
        .await
        .expect("one refused post does not fail the poll");
    let endpoints: Vec<&str> = page
        .bodies
        .iter()
        .map(|body| body.endpoint.as_str())
        .collect();
    assert_eq!(endpoints, ["feed", "comments:1234567890321_7293787835232"]);
    // 2016-02-06T08:00:00Z.
    assert_eq!(page.next_cursor.as_deref(), Some("1454745600"));
}

#[tokio::test]
async fn a_poll_that_finds_nothing_new_keeps_the_cursor() {
    let (_graph, api_base) = FakeGraph::start(vec![
        answer("GET", "/v21.0/1234567890321/feed", 200, r#"{"data":[{"id":"1234567890321_5","created_time":"2015-12-03T09:00:00+0000","from":{"name":"Shop","id":"1234567890321"}}]}"#),
        answer("GET", "/v21.0/1234567890321_5/comments", 200, r#"{"data":[]}"#),
    ])
    .await;
    let page = connector_at(&api_base, None)
        .poll(&channel(), &credentials(), Some("1449136800"))
        .await
        .expect("the poll works");
    assert_eq!(page.bodies.len(), 2);
    assert_eq!(page.next_cursor, None);
}

#[tokio::test]
async fn a_poll_with_an_expired_token_is_auth_expired() {
    for path in [
        "/v21.0/1234567890321/feed",
        "/v21.0/1234567890321_901097836652708/comments",
    ] {
        let mut answers = vec![answer(
            "GET",
            path,
            400,
            fixture("graph_error_expired_token_190.json"),
        )];
        answers.extend(feed_answers());
        let (_graph, api_base) = FakeGraph::start(answers).await;
        let result = connector_at(&api_base, None)
            .poll(&channel(), &credentials(), None)
            .await;
        assert!(
            matches!(result, Err(ConnectorError::AuthExpired(_))),
            "{path}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_throttled_feed_fails_the_poll_with_rate_limited() {
    let mut throttled = answer(
        "GET",
        "/v21.0/1234567890321/feed",
        400,
        fixture("graph_error_rate_limit_32.json"),
    );
    throttled.headers = vec![(
        "x-app-usage",
        "{\"call_count\": 28, \"total_time\": 25, \"total_cputime\": 25}",
    )];
    let (graph, api_base) = FakeGraph::start(vec![throttled]).await;
    let result = connector_at(&api_base, None)
        .poll(&channel(), &credentials(), None)
        .await;
    assert_eq!(
        result,
        Err(ConnectorError::RateLimited {
            reason:
                "Graph error 32 (HTTP 400): (#32) Page request limit reached [fbtrace Fz54k3GZrio]"
                    .into(),
            retry_after: Some(Duration::from_secs(60)),
        })
    );
    assert_eq!(
        graph.seen().len(),
        1,
        "a minute's wait is not retried inside the poll"
    );
}

#[tokio::test]
async fn a_throttled_comments_page_ends_the_poll_early_with_a_wait() {
    let mut throttled = answer(
        "GET",
        "/v21.0/1234567890321_901097836652708/comments",
        403,
        fixture("graph_error_rate_limit_32.json"),
    );
    throttled.headers = vec![(
        "x-app-usage",
        "{\"call_count\": 28, \"total_time\": 25, \"total_cputime\": 25}",
    )];
    let mut answers = vec![throttled];
    answers.extend(feed_answers());
    let (graph, api_base) = FakeGraph::start(answers).await;
    let page = connector_at(&api_base, None)
        .poll(&channel(), &credentials(), None)
        .await
        .expect("the feed page is kept");
    assert_eq!(
        page.bodies,
        vec![PolledBody {
            endpoint: "feed".into(),
            body: FEED.as_bytes().to_vec()
        }]
    );
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.wait_at_least, Some(Duration::from_secs(60)));
    assert_eq!(graph.seen().len(), 2, "no call after the throttled one");
}

#[test]
fn polled_comments_parse_into_the_same_messages_as_their_webhooks() {
    let connector = connector_at("http://127.0.0.1:9/v21.0", None);
    let account = id(PAGE_ID);
    let comments = connector
        .normalize(
            Origin::Poll {
                endpoint: "comments:1234567890321_901097836652708",
                account: &account,
            },
            SALE_COMMENTS.as_bytes(),
        )
        .expect("the comments page parses")
        .into_iter()
        .map(|part| part.item)
        .collect::<Vec<_>>();
    assert_eq!(
        comments,
        vec![
            InboundItem::Message(PlatformMessage {
                account: id(PAGE_ID),
                platform_id: id("901097836652708_903440000000000"),
                thread_key: "comment:901097836652708_903438993085259".into(),
                conversation: ConversationKind::Comment,
                kind: MessageKind::Comment,
                author: NewContact {
                    platform_id: id("777"),
                    name: Some("Ana".into()),
                    handle: None
                },
                text: "Same here".into(),
                attachments: vec![],
                created_at: Timestamp::from_secs(1_449_136_800),
                in_reply_to: Some(id("901097836652708_903438993085259")),
                raw: None,
                found_by: None,
            }),
            InboundItem::Known {
                account: Some(id(PAGE_ID)),
                kind: "own_post"
            },
            InboundItem::Message(PlatformMessage {
                account: id(PAGE_ID),
                platform_id: id("901097836652708_903438993085259"),
                thread_key: "comment:901097836652708_903438993085259".into(),
                conversation: ConversationKind::Comment,
                kind: MessageKind::Comment,
                author: NewContact {
                    platform_id: id("555000111222"),
                    name: Some("Tester".into()),
                    handle: None
                },
                text: "and the next one".into(),
                attachments: vec![],
                created_at: Timestamp::from_secs(1_449_135_003),
                in_reply_to: None,
                raw: None,
                found_by: None,
            }),
        ]
    );
    // feed_comment_add.json from a visitor is the same message as the polled comment.
    let webhook_body = String::from_utf8(fixture("feed_comment_add.json"))
        .expect("UTF-8")
        .replace(
            "\"id\": \"1234567890321\",\n              \"name\"",
            "\"id\": \"555000111222\",\n              \"name\"",
        );
    let from_webhook = connector
        .normalize(Origin::Webhook, webhook_body.as_bytes())
        .expect("parses")
        .into_iter()
        .map(|part| part.item)
        .collect::<Vec<_>>();
    assert_eq!(from_webhook, comments[2..]);

    // The visitor post in the feed page is the post of feed_post_add.json.
    let feed = connector
        .normalize(
            Origin::Poll {
                endpoint: "feed",
                account: &account,
            },
            FEED.as_bytes(),
        )
        .expect("the feed page parses")
        .into_iter()
        .map(|part| part.item)
        .collect::<Vec<_>>();
    assert_eq!(
        feed[0],
        InboundItem::Known {
            account: Some(id(PAGE_ID)),
            kind: "own_post"
        }
    );
    let post_webhook = connector
        .normalize(Origin::Webhook, &fixture("feed_post_add.json"))
        .expect("parses")
        .into_iter()
        .map(|part| part.item)
        .collect::<Vec<_>>();
    assert_eq!(feed[1..], post_webhook[..]);

    assert!(matches!(
        connector.normalize(
            Origin::Poll {
                endpoint: "mentions",
                account: &account
            },
            b"{}"
        ),
        Err(ConnectorError::Payload(_))
    ));
    assert!(matches!(
        connector.normalize(
            Origin::Poll {
                endpoint: "feed",
                account: &account
            },
            b"<html>"
        ),
        Err(ConnectorError::Payload(_))
    ));
}

const PSID: &str = "6677889900";

fn profile_path() -> String {
    format!("/v21.0/{PSID}")
}

#[tokio::test]
async fn a_messenger_senders_profile_is_asked_with_the_page_token() {
    // The User Profile API's answer, as Meta documents it and the sandbox gives it.
    let (graph, api_base) = FakeGraph::start(vec![answer(
        "GET",
        &profile_path(),
        200,
        r#"{"first_name":"Peter","last_name":"Chang","profile_pic":"https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=6677889900","id":"6677889900"}"#,
    )])
    .await;
    let profile = connector_at(&api_base, None)
        .fetch_profile(&channel(), &credentials(), &id(PSID))
        .await
        .expect("the profile is read");
    assert_eq!(
        profile,
        Some(Profile {
            name: Some("Peter Chang".into()),
            picture_url: Some(
                "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=6677889900".into()
            ),
        })
    );
    let seen = graph.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, profile_path());
    assert_eq!(
        seen[0].query_pairs(),
        [("fields", "first_name,last_name,profile_pic")]
    );
    assert_eq!(seen[0].authorization, bearer());
}

#[tokio::test]
async fn a_profile_takes_whichever_name_parts_exist() {
    for (body, expected) in [
        (
            r#"{"first_name":"Peter","id":"6677889900"}"#,
            Some(Profile {
                name: Some("Peter".into()),
                picture_url: None,
            }),
        ),
        (
            r#"{"first_name":"","last_name":"Chang","profile_pic":7,"id":"6677889900"}"#,
            Some(Profile {
                name: Some("Chang".into()),
                picture_url: None,
            }),
        ),
        // No name at all: Graph has none to give.
        (
            r#"{"profile_pic":"https://example.com/p.jpg","id":"6677889900"}"#,
            None,
        ),
        (r#"{"id":"6677889900"}"#, None),
    ] {
        let (_graph, api_base) =
            FakeGraph::start(vec![answer("GET", &profile_path(), 200, body)]).await;
        let profile = connector_at(&api_base, None)
            .fetch_profile(&channel(), &credentials(), &id(PSID))
            .await;
        assert_eq!(profile, Ok(expected), "{body}");
    }
}

#[tokio::test]
async fn no_profile_available_is_none_and_other_errors_are_classified() {
    // Recorded in jgorset/facebook-messenger issue #202: a Messenger-only person.
    let (_graph, api_base) = FakeGraph::start(vec![answer(
        "GET",
        &profile_path(),
        400,
        r#"{"error":{"message":"(#100) No profile available for this user.","type":"OAuthException","code":100,"error_subcode":2018218,"fbtrace_id":"G2oz2QE++k1"}}"#,
    )])
    .await;
    assert_eq!(
        connector_at(&api_base, None)
            .fetch_profile(&channel(), &credentials(), &id(PSID))
            .await,
        Ok(None)
    );

    let (_graph, api_base) = FakeGraph::start(vec![answer(
        "GET",
        &profile_path(),
        400,
        fixture("graph_error_expired_token_190.json"),
    )])
    .await;
    assert!(matches!(
        connector_at(&api_base, None)
            .fetch_profile(&channel(), &credentials(), &id(PSID))
            .await,
        Err(ConnectorError::AuthExpired(_))
    ));

    // The sandbox's answer for a PSID it does not know.
    let (_graph, api_base) = FakeGraph::start(vec![answer(
        "GET",
        &profile_path(),
        400,
        r#"{"error":{"message":"Unsupported get request. Object with ID '6677889900' does not exist, cannot be loaded due to missing permissions, or does not support this operation.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"z9"}}"#,
    )])
    .await;
    assert!(matches!(
        connector_at(&api_base, None)
            .fetch_profile(&channel(), &credentials(), &id(PSID))
            .await,
        Err(ConnectorError::Permanent(_))
    ));

    let mut throttled = answer(
        "GET",
        &profile_path(),
        400,
        fixture("graph_error_rate_limit_32.json"),
    );
    throttled.headers = usage_95_percent();
    let (_graph, api_base) = FakeGraph::start(vec![throttled]).await;
    assert!(matches!(
        connector_at(&api_base, None)
            .fetch_profile(&channel(), &credentials(), &id(PSID))
            .await,
        Err(ConnectorError::RateLimited { .. })
    ));

    // An id that is not a Graph id is never sent.
    let (graph, api_base) = FakeGraph::start(vec![]).await;
    assert!(matches!(
        connector_at(&api_base, None)
            .fetch_profile(&channel(), &credentials(), &id("../me"))
            .await,
        Err(ConnectorError::Permanent(_))
    ));
    assert!(graph.seen().is_empty());
}

/// The usage header's minute, or — when a later read of the same poll found the gate closed
/// by it — that minute plus the few seconds reads leave to replies once it reopens.
fn assert_holds_back_a_minute(wait: Option<Duration>, why: &str) {
    let minute = Duration::from_secs(60);
    let wait = wait.unwrap_or_else(|| panic!("the poll holds back: {why}"));
    assert!(
        wait >= minute && wait <= minute + buzon_connector::READS_DEFER_TO_SENDS,
        "the poll holds back a minute ({why}): {wait:?}"
    );
}
