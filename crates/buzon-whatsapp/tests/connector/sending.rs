use crate::{connector, fixture};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use buzon_connector::{
    Connector, ConnectorError, Moderation, PollPage, ReplyRequest, SentReply, TemplateRequest,
};
use buzon_core::{
    Channel, ChannelCredentials, ChannelHealth, ChannelId, ChannelKind, ExternalId, Timestamp,
};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PHONE_NUMBER_ID: &str = "106540352242922";
const TOKEN: &str = "EAAG-test-system-user-token";
const WAMID: &str = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA";

/// One request the fake Graph API received.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Value,
}

#[derive(Clone)]
struct FakeState {
    received: Arc<Mutex<Vec<Received>>>,
    status: StatusCode,
    body: Arc<Vec<u8>>,
}

/// A stand-in for graph.facebook.com that answers every request with one canned response.
struct FakeGraph {
    api_base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeGraph {
    async fn answering(status: u16, body: Vec<u8>) -> FakeGraph {
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = FakeState {
            received: received.clone(),
            status: StatusCode::from_u16(status).expect("a valid status"),
            body: Arc::new(body),
        };
        let router = Router::new().fallback(answer).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback is bindable");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        FakeGraph {
            api_base: format!("http://{address}/v21.0"),
            received,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }
}

async fn answer(
    State(state): State<FakeState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    state.received.lock().expect("not poisoned").push(Received {
        method,
        path: uri.path().to_owned(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    (
        state.status,
        [("content-type", "application/json")],
        state.body.as_ref().clone(),
    )
        .into_response()
}

fn channel() -> Channel {
    Channel {
        id: ChannelId(7),
        kind: ChannelKind::Whatsapp,
        name: "shop".into(),
        platform_id: ExternalId::parse(PHONE_NUMBER_ID).unwrap(),
        health: ChannelHealth::Healthy,
        health_reason: None,
        cursor: None,
        last_success_at: None,
        created_at: Timestamp::from_secs(0),
        credentials_version: 1,
        auto_hide_flagged: false,
        published: false,
    }
}

fn credentials() -> ChannelCredentials {
    ChannelCredentials {
        access_token: TOKEN.into(),
        refresh_token: None,
        expires_at: None,
    }
}

fn reply(thread_key: &str, text: &str) -> ReplyRequest {
    ReplyRequest {
        thread_key: thread_key.into(),
        in_reply_to: Some(ExternalId::parse("wamid.IN").unwrap()),
        text: text.into(),
        template: None,
        idempotency_key: "reply-1".into(),
    }
}

fn graph_error(code: i64, details: &str) -> Vec<u8> {
    json!({"error": {
        "message": format!("(#{code}) error"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"
    }})
    .to_string()
    .into_bytes()
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

async fn send(graph: &FakeGraph, reply: &ReplyRequest) -> Result<SentReply, ConnectorError> {
    connector(&graph.api_base)
        .send(&channel(), &credentials(), reply)
        .await
}

#[tokio::test]
async fn a_text_reply_is_posted_to_the_numbers_messages_edge_with_the_token() {
    let graph = FakeGraph::answering(200, fixture("send_text_response.json")).await;

    let sent = send(
        &graph,
        &reply("whatsapp:16505551234", "Yes, in blue and red."),
    )
    .await;

    assert_eq!(
        sent,
        Ok(SentReply {
            platform_id: ExternalId::parse(WAMID).unwrap()
        })
    );
    let received = graph.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, format!("/v21.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            // Echoed in the message's status webhooks: it settles a send whose answer is lost.
            "biz_opaque_callback_data": "reply-1",
            "to": "16505551234",
            "type": "text",
            "text": {"preview_url": false, "body": "Yes, in blue and red."}
        })
    );
    // The same shape as Meta's documented request.
    let documented: Value = serde_json::from_slice(&fixture("send_text_request.json")).unwrap();
    // Plus the optional `biz_opaque_callback_data` the documented example leaves out.
    let mut sent_keys = keys(&request.body);
    sent_keys.retain(|key| key != "biz_opaque_callback_data");
    assert_eq!(sent_keys, keys(&documented));
    assert_eq!(keys(&request.body["text"]), keys(&documented["text"]));
}

#[tokio::test]
async fn a_reply_to_a_username_user_goes_to_the_bsuid_as_recipient() {
    let graph = FakeGraph::answering(200, fixture("send_text_response.json")).await;

    let sent = send(
        &graph,
        &reply("whatsapp:bsuid:US.13491208655302741918", "hola"),
    )
    .await;

    assert!(sent.is_ok(), "{sent:?}");
    assert_eq!(
        graph.received()[0].body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            // Echoed in the message's status webhooks: it settles a send whose answer is lost.
            "biz_opaque_callback_data": "reply-1",
            "recipient": "US.13491208655302741918",
            "type": "text",
            "text": {"preview_url": false, "body": "hola"}
        })
    );
}

#[tokio::test]
async fn a_template_is_sent_instead_of_the_text_when_the_reply_carries_one() {
    let graph = FakeGraph::answering(200, fixture("send_text_response.json")).await;
    let mut with_template = reply("whatsapp:16505551234", "ignored free text");
    with_template.template = Some(TemplateRequest {
        name: "order_update".into(),
        language: "en_US".into(),
        parameters: vec!["Sheena".into(), "#1234".into()],
    });

    let sent = send(&graph, &with_template).await;

    assert_eq!(
        sent,
        Ok(SentReply {
            platform_id: ExternalId::parse(WAMID).unwrap()
        })
    );
    let request = &graph.received()[0];
    assert_eq!(request.path, format!("/v21.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            // Echoed in the message's status webhooks: it settles a send whose answer is lost.
            "biz_opaque_callback_data": "reply-1",
            "to": "16505551234",
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [{
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Sheena"},
                        {"type": "text", "text": "#1234"}
                    ]
                }]
            }
        })
    );
}

#[tokio::test]
async fn a_template_without_parameters_has_no_components() {
    let graph = FakeGraph::answering(200, fixture("send_text_response.json")).await;
    let mut with_template = reply("whatsapp:16505551234", "");
    with_template.template = Some(TemplateRequest {
        name: "hello_world".into(),
        language: "en_US".into(),
        parameters: Vec::new(),
    });

    assert!(send(&graph, &with_template).await.is_ok());
    assert_eq!(
        graph.received()[0].body["template"],
        json!({"name": "hello_world", "language": {"code": "en_US"}})
    );
}

#[tokio::test]
async fn a_throughput_limit_answer_is_rate_limited_and_not_repeated() {
    let graph = FakeGraph::answering(429, fixture("error_rate_limit_130429.json")).await;

    let sent = send(&graph, &reply("whatsapp:16505551234", "hi")).await;

    assert_eq!(
        sent,
        Err(ConnectorError::RateLimited {
            reason: "130429: Cloud API message throughput has been reached.".into(),
            retry_after: Some(Duration::from_secs(60)),
        })
    );
    assert_eq!(graph.received().len(), 1);
}

#[tokio::test]
async fn a_closed_window_answer_asks_for_a_template() {
    let details = "Message failed to send because more than 24 hours have passed since the customer last replied to this number.";
    let graph = FakeGraph::answering(400, graph_error(131047, details)).await;

    let sent = send(&graph, &reply("whatsapp:16505551234", "hi")).await;

    assert_eq!(
        sent,
        Err(ConnectorError::WindowClosed(format!("131047: {details}")))
    );
    assert_eq!(graph.received().len(), 1);
}

#[tokio::test]
async fn an_expired_token_answer_needs_reauthentication() {
    let graph = FakeGraph::answering(
        401,
        graph_error(190, "Error validating access token: Session has expired"),
    )
    .await;

    let sent = send(&graph, &reply("whatsapp:16505551234", "hi")).await;

    assert_eq!(
        sent,
        Err(ConnectorError::AuthExpired(
            "190: Error validating access token: Session has expired".into()
        ))
    );
}

#[tokio::test]
async fn a_refused_recipient_is_permanent() {
    let graph = FakeGraph::answering(400, graph_error(131026, "Message undeliverable.")).await;

    let sent = send(&graph, &reply("whatsapp:16505551234", "hi")).await;

    assert_eq!(
        sent,
        Err(ConnectorError::Permanent(
            "131026: Message undeliverable.".into()
        ))
    );
    assert_eq!(graph.received().len(), 1);
}

#[tokio::test]
async fn a_server_error_on_a_send_is_an_unknown_outcome_never_repeated() {
    // The platform may have delivered the message before failing: sending it again could
    // reach the customer twice, so the send is tried once and reported unknown.
    let graph = FakeGraph::answering(500, graph_error(131000, "Something went wrong")).await;

    let sent = send(&graph, &reply("whatsapp:16505551234", "hi")).await;

    assert!(
        matches!(&sent, Err(ConnectorError::Unknown(reason)) if reason.contains("131000")),
        "{sent:?}"
    );
    assert_eq!(graph.received().len(), 1, "tried once, never repeated");
}

#[tokio::test]
async fn a_rate_limited_send_is_retried_because_the_platform_did_not_act() {
    let graph = FakeGraph::answering(429, graph_error(130429, "(#130429) Rate limit hit")).await;

    let sent = send(&graph, &reply("whatsapp:16505551234", "hi")).await;

    assert!(
        matches!(sent, Err(ConnectorError::RateLimited { .. })),
        "{sent:?}"
    );
}

#[tokio::test]
async fn replies_that_cannot_be_sent_never_reach_the_platform() {
    let graph = FakeGraph::answering(200, fixture("send_text_response.json")).await;
    for bad in [
        reply("messenger:123", "hi"),
        reply("whatsapp:16505551234", "   "),
        reply("whatsapp:16505551234", &"a".repeat(4097)),
    ] {
        let sent = send(&graph, &bad).await;
        assert!(
            matches!(sent, Err(ConnectorError::Permanent(_))),
            "{sent:?}"
        );
    }
    assert!(graph.received().is_empty());
}

#[tokio::test]
async fn there_is_nothing_to_poll_and_nothing_to_hide() {
    let whatsapp = connector("http://127.0.0.1:9/v21.0");
    assert_eq!(
        whatsapp.poll(&channel(), &credentials(), None).await,
        Ok(PollPage::default())
    );
    let message = ExternalId::parse("wamid.xyzxyz").unwrap();
    assert_eq!(
        whatsapp
            .moderate(&channel(), &credentials(), &message, Moderation::Hide)
            .await,
        Err(ConnectorError::Permanent(
            "WhatsApp messages cannot be hidden".into()
        ))
    );
    assert_eq!(whatsapp.kind(), ChannelKind::Whatsapp);
}
