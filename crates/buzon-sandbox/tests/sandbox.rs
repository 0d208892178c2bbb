//! The sandbox as a client sees it: started on 127.0.0.1:0 and driven with reqwest, with a
//! small webhook receiver standing in for buzon.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use buzon_connector::hmac_sha256;
use buzon_sandbox::{Faults, Injection, Platform, Sandbox, SandboxConfig, Source};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LOOPBACK: &str = "127.0.0.1:0";

async fn sandbox_with(config: SandboxConfig) -> Sandbox {
    let bind: SocketAddr = LOOPBACK.parse().expect("a socket address");
    buzon_sandbox::start(config, bind)
        .await
        .expect("the sandbox starts on loopback")
}

fn config() -> SandboxConfig {
    SandboxConfig {
        x_rate_limit_per_window: 1_000,
        ..SandboxConfig::default()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("header {name} is present"))
        .to_str()
        .expect("an ASCII header")
        .to_string()
}

#[derive(Clone, Debug)]
struct Received {
    platform: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    failures_left: Arc<Mutex<u32>>,
    wrong_crc: bool,
}

impl Receiver {
    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    {
        let mut failures = receiver.failures_left.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    receiver.received.lock().unwrap().push(Received {
        platform,
        headers,
        body: body.to_vec(),
    });
    StatusCode::OK
}

async fn answer_crc(
    State(receiver): State<Receiver>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    let secret: &[u8] = if receiver.wrong_crc {
        b"another-secret"
    } else {
        b"test-consumer-secret"
    };
    let token = query.get("crc_token").cloned().unwrap_or_default();
    let mac = hmac_sha256(secret, token.as_bytes());
    axum::Json(
        json!({"response_token": format!("sha256={}", base64::engine::general_purpose::STANDARD.encode(mac))}),
    )
}

/// A stand-in for buzon's webhook endpoints; returns its base URL.
async fn start_receiver(receiver: Receiver) -> String {
    let listener = tokio::net::TcpListener::bind(LOOPBACK)
        .await
        .expect("loopback is bindable");
    let address = listener.local_addr().expect("a local address");
    let router = Router::new()
        .route("/webhooks/{platform}", post(receive).get(answer_crc))
        .with_state(receiver);
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the receiver serves")
    });
    format!("http://{address}")
}

fn meta_signature(body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(b"test-app-secret", body))
    )
}

fn x_signature(body: &[u8]) -> String {
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD
            .encode(hmac_sha256(b"test-consumer-secret", body))
    )
}

// ---- X -------------------------------------------------------------------------------------

#[tokio::test]
async fn mentions_pages_follow_next_token_and_since_id() {
    let sandbox = sandbox_with(config()).await;
    let mut ids = Vec::new();
    for number in 0..12 {
        let item = sandbox
            .inject(
                Injection::new(Source::X, format!("pregunta {number} ¿envían a Chile? 🇨🇱"))
                    .by("2244994945", "Cliente Uno"),
            )
            .expect("an X mention is injected");
        ids.push(item.id);
    }
    let url = format!(
        "{}/2/users/{}/mentions",
        sandbox.x_base(),
        sandbox.config().x_user_id
    );
    let token = sandbox.config().x_token.clone();
    let first = client()
        .get(&url)
        .bearer_auth(&token)
        .query(&[
            ("max_results", "5"),
            ("expansions", "author_id"),
            ("tweet.fields", "author_id,created_at,conversation_id"),
            ("user.fields", "username,verified"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first = json_of(first).await;
    let data = first["data"].as_array().expect("data");
    assert_eq!(data.len(), 5);
    assert_eq!(data[0]["id"], ids[11].as_str());
    assert_eq!(data[0]["author_id"], "2244994945");
    assert_eq!(data[0]["edit_history_tweet_ids"][0], ids[11].as_str());
    assert!(data[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("@tiendabuzon pregunta 11"));
    assert!(data[0]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first["includes"]["users"][0]["id"], "2244994945");
    assert_eq!(first["includes"]["users"][0]["name"], "Cliente Uno");
    assert_eq!(first["includes"]["users"][0]["verified"], false);
    assert_eq!(first["meta"]["result_count"], 5);
    assert_eq!(first["meta"]["newest_id"], ids[11].as_str());
    assert_eq!(first["meta"]["oldest_id"], ids[7].as_str());

    let mut seen = 5;
    let mut next = first["meta"]["next_token"].as_str().map(str::to_string);
    while let Some(token_value) = next {
        let page = client()
            .get(&url)
            .bearer_auth(&token)
            .query(&[
                ("max_results", "5"),
                ("pagination_token", token_value.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let page = json_of(page).await;
        seen += page["meta"]["result_count"].as_u64().unwrap();
        // Without fields only the defaults come back, as on X.
        assert!(page["data"][0].get("author_id").is_none());
        assert!(page.get("includes").is_none());
        next = page["meta"]["next_token"].as_str().map(str::to_string);
    }
    assert_eq!(seen, 12);

    let since = ids[11].clone();
    let empty = client()
        .get(&url)
        .bearer_auth(&token)
        .query(&[("since_id", since.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        empty.text().await.unwrap(),
        r#"{"meta":{"result_count":0}}"#
    );

    let newer = sandbox
        .inject(Injection::new(Source::X, "otra más"))
        .unwrap();
    let page = json_of(
        client()
            .get(&url)
            .bearer_auth(&token)
            .query(&[("since_id", since.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["meta"]["result_count"], 1);
    assert_eq!(page["data"][0]["id"], newer.id.as_str());
    assert_eq!(page["meta"]["newest_id"], newer.id.as_str());
    assert!(page["meta"].get("next_token").is_none());

    let invalid = client()
        .get(&url)
        .bearer_auth(&token)
        .query(&[("max_results", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    assert_eq!(json_of(invalid).await["title"], "Invalid Request");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn x_rate_limit_headers_count_down_then_429_until_the_reset() {
    let sandbox = sandbox_with(SandboxConfig {
        x_rate_limit_per_window: 3,
        x_rate_limit_window: Duration::from_secs(2),
        ..SandboxConfig::default()
    })
    .await;
    let url = format!(
        "{}/2/users/{}/mentions",
        sandbox.x_base(),
        sandbox.config().x_user_id
    );
    let token = sandbox.config().x_token.clone();
    let mut reset = 0i64;
    for expected_remaining in [2, 1, 0] {
        let response = client().get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "x-rate-limit-limit"), "3");
        assert_eq!(
            header(&response, "x-rate-limit-remaining"),
            expected_remaining.to_string()
        );
        reset = header(&response, "x-rate-limit-reset").parse().unwrap();
    }
    assert_eq!(sandbox.stats().rate_limit_violations, 0);

    let limited = client().get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(header(&limited, "x-rate-limit-remaining"), "0");
    assert_eq!(header(&limited, "x-rate-limit-reset"), reset.to_string());
    assert!(limited.headers().get("retry-after").is_none());
    assert_eq!(
        limited.text().await.unwrap(),
        r#"{"detail":"Too Many Requests","status":429,"title":"Too Many Requests","type":"about:blank"}"#
    );
    let stats = sandbox.stats();
    assert_eq!(stats.rate_limit_violations, 1);
    assert_eq!(stats.responses_429, 1);

    // Other endpoints have their own budget.
    let dms = client()
        .get(format!("{}/2/dm_events", sandbox.x_base()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(dms.status(), 200);
    assert_eq!(header(&dms, "x-rate-limit-remaining"), "2");

    // Waiting until the reset, as a client should, opens a new window.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let wait = (reset as f64 - now.as_secs_f64()).max(0.0) + 0.05;
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    let again = client().get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(header(&again, "x-rate-limit-remaining"), "2");
    assert_eq!(sandbox.stats().rate_limit_violations, 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn x_rejects_a_wrong_token_with_the_published_401() {
    let sandbox = sandbox_with(config()).await;
    let response = client()
        .get(format!("{}/2/dm_events", sandbox.x_base()))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        json_of(response).await,
        json!({"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"})
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn replies_to_mentions_pass_and_other_replies_are_gated() {
    let sandbox = sandbox_with(config()).await;
    let mention = sandbox
        .inject(Injection::new(Source::X, "hola, ¿tienen stock?"))
        .unwrap();
    let token = sandbox.config().x_token.clone();
    let url = format!("{}/2/tweets", sandbox.x_base());
    let accepted = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"text": "¡Sí! Te escribimos por DM.", "reply": {"in_reply_to_tweet_id": mention.id}}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 201);
    assert!(accepted.headers().get("x-rate-limit-remaining").is_some());
    let accepted = json_of(accepted).await;
    let new_id = accepted["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(accepted["data"]["text"], "¡Sí! Te escribimos por DM.");
    assert_eq!(accepted["data"]["edit_history_tweet_ids"], json!([new_id]));

    let gated = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"text": "hola", "reply": {"in_reply_to_tweet_id": "1455953449422516226"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(gated.status(), 403);
    let gated = json_of(gated).await;
    assert_eq!(gated["title"], "Forbidden");
    assert!(gated["detail"]
        .as_str()
        .unwrap()
        .starts_with("Reply to this conversation is not allowed"));

    let hidden = client()
        .put(format!(
            "{}/2/tweets/{}/hidden",
            sandbox.x_base(),
            mention.id
        ))
        .bearer_auth(&token)
        .json(&json!({"hidden": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.text().await.unwrap(), r#"{"data":{"hidden":true}}"#);

    let dm = client()
        .post(format!(
            "{}/2/dm_conversations/with/2244994945/messages",
            sandbox.x_base()
        ))
        .bearer_auth(&token)
        .json(&json!({"text": "Hola 👋"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dm.status(), 201);
    let dm = json_of(dm).await;
    assert_eq!(
        dm["data"]["dm_conversation_id"],
        format!("2244994945-{}", sandbox.config().x_user_id)
    );

    let replies = sandbox.replies();
    let actions: Vec<(&str, bool)> = replies
        .iter()
        .map(|reply| (reply.action.as_str(), reply.accepted))
        .collect();
    assert_eq!(
        actions,
        [
            ("reply", true),
            ("reply", false),
            ("hide", true),
            ("dm", true)
        ]
    );
    assert_eq!(replies[0].target_id, mention.id);
    assert_eq!(replies[0].returned_id.as_deref(), Some(new_id.as_str()));
    assert_eq!(replies[3].text.as_deref(), Some("Hola 👋"));
    let listed = json_of(
        client()
            .get(format!("{}/sandbox/replies", sandbox.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 4);
    assert_eq!(listed["items"][0]["platform"], "x");
    assert_eq!(listed["items"][3]["platform"], "x_dm");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn dm_events_list_newest_first_with_expansions() {
    let sandbox = sandbox_with(config()).await;
    let first = sandbox
        .inject(Injection::new(Source::XDm, "primero").by("2244994945", "Cliente"))
        .unwrap();
    let second = sandbox
        .inject(Injection::new(Source::XDm, "segundo").by("2244994945", "Cliente"))
        .unwrap();
    let page = json_of(
        client()
            .get(format!("{}/2/dm_events", sandbox.x_base()))
            .bearer_auth(&sandbox.config().x_token)
            .query(&[
                ("dm_event.fields", "created_at,sender_id,dm_conversation_id"),
                ("expansions", "sender_id"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["data"][0]["id"], second.id.as_str());
    assert_eq!(page["data"][1]["id"], first.id.as_str());
    assert_eq!(page["data"][0]["event_type"], "MessageCreate");
    assert_eq!(page["data"][0]["sender_id"], "2244994945");
    assert_eq!(
        page["data"][0]["dm_conversation_id"],
        second.thread_id.as_str()
    );
    assert_eq!(page["includes"]["users"][0]["name"], "Cliente");
    assert_eq!(page["meta"], json!({"result_count": 2}));
    sandbox.shutdown().await;
}

// ---- Graph ---------------------------------------------------------------------------------

#[tokio::test]
async fn graph_answers_a_bad_or_expired_token_with_code_190() {
    let sandbox = sandbox_with(config()).await;
    let url = format!(
        "{}/{}/feed",
        sandbox.graph_base(),
        sandbox.config().facebook_page_id
    );
    let bad = client()
        .get(&url)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let bad = json_of(bad).await;
    assert_eq!(bad["error"]["code"], 190);
    assert_eq!(bad["error"]["type"], "OAuthException");
    assert!(bad["error"]["fbtrace_id"].is_string());

    sandbox.set_faults(Faults {
        expired_token: vec![Platform::Facebook],
        ..Faults::default()
    });
    let expired = client()
        .get(&url)
        .query(&[(
            "access_token",
            sandbox.config().facebook_page_token.as_str(),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 401);
    let mut expired = json_of(expired).await;
    let fixture: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/facebook/graph_error_expired_token_190.json"
    ))
    .unwrap();
    expired["error"]["fbtrace_id"] = fixture["error"]["fbtrace_id"].clone();
    assert_eq!(expired, fixture);

    // WhatsApp's token is not affected by Facebook's fault.
    let whatsapp = client()
        .get(format!(
            "{}/{}",
            sandbox.graph_base(),
            sandbox.config().whatsapp_phone_number_id
        ))
        .bearer_auth(&sandbox.config().whatsapp_token)
        .send()
        .await
        .unwrap();
    assert_eq!(whatsapp.status(), 200);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn feed_and_comments_have_the_graph_shapes_and_cursor_paging() {
    let sandbox = sandbox_with(config()).await;
    let token = sandbox.config().facebook_page_token.clone();
    let feed = json_of(
        client()
            .get(format!(
                "{}/{}/feed",
                sandbox.graph_base(),
                sandbox.config().facebook_page_id
            ))
            .bearer_auth(&token)
            .query(&[("fields", "id,message,created_time,from"), ("limit", "2")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let posts = feed["data"].as_array().unwrap();
    assert_eq!(posts.len(), 2);
    let post_id = posts[0]["id"].as_str().unwrap().to_string();
    assert!(post_id.starts_with(&format!("{}_", sandbox.config().facebook_page_id)));
    let created = posts[0]["created_time"].as_str().unwrap();
    assert_eq!(created.len(), "2024-01-15T10:30:00+0000".len());
    assert!(created.ends_with("+0000"));
    assert_eq!(
        posts[0]["from"]["id"],
        sandbox.config().facebook_page_id.as_str()
    );
    assert!(feed["paging"]["cursors"]["after"].is_string());
    assert!(feed["paging"]["next"]
        .as_str()
        .unwrap()
        .starts_with(sandbox.base_url()));

    let top = sandbox
        .inject(Injection {
            post_id: Some(post_id.clone()),
            ..Injection::new(Source::Facebook, "¿Precio? 🤔").by("5551234567890123", "Ana")
        })
        .unwrap();
    let reply = sandbox
        .inject(Injection {
            parent_id: Some(top.id.clone()),
            ..Injection::new(Source::Facebook, "yo también quiero saber")
        })
        .unwrap();
    assert_eq!(reply.thread_id, post_id);
    let post_part = post_id.split('_').nth(1).unwrap();
    assert!(top.id.starts_with(&format!("{post_part}_")));

    let url = format!("{}/{}/comments", sandbox.graph_base(), post_id);
    let fields = "id,message,created_time,from,parent{id}";
    let stream = client()
        .get(&url)
        .bearer_auth(&token)
        .query(&[
            ("filter", "stream"),
            ("order", "reverse_chronological"),
            ("fields", fields),
            ("limit", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert!(stream.headers().get("x-app-usage").is_some());
    let body = stream.text().await.unwrap();
    assert!(body.is_ascii(), "Graph escapes non-ASCII: {body}");
    let stream: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stream["data"].as_array().unwrap().len(), 1);
    assert_eq!(stream["data"][0]["id"], reply.id.as_str());
    assert_eq!(stream["data"][0]["parent"], json!({"id": top.id}));
    let after = stream["paging"]["cursors"]["after"]
        .as_str()
        .unwrap()
        .to_string();
    let second = json_of(
        client()
            .get(&url)
            .bearer_auth(&token)
            .query(&[
                ("filter", "stream"),
                ("order", "reverse_chronological"),
                ("fields", fields),
                ("limit", "1"),
                ("after", after.as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(second["data"][0]["id"], top.id.as_str());
    assert_eq!(second["data"][0]["message"], "¿Precio? 🤔");
    assert_eq!(
        second["data"][0]["from"],
        json!({"id": "5551234567890123", "name": "Ana"})
    );
    assert!(second["data"][0].get("parent").is_none());
    assert!(second["paging"].get("next").is_none());

    // Top-level only by default; `since` filters by creation time.
    let toplevel = json_of(client().get(&url).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(toplevel["data"].as_array().unwrap().len(), 1);
    let future = (top.at + 3_600).to_string();
    let none = client()
        .get(&url)
        .bearer_auth(&token)
        .query(&[("filter", "stream"), ("since", future.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(none.text().await.unwrap(), r#"{"data":[]}"#);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn comment_replies_hides_and_messenger_sends_are_recorded() {
    let sandbox = sandbox_with(config()).await;
    let token = sandbox.config().facebook_page_token.clone();
    let comment = sandbox
        .inject(Injection::new(
            Source::Facebook,
            "URGENTE: mi pedido nunca llegó",
        ))
        .unwrap();
    let reply = client()
        .post(format!("{}/{}/comments", sandbox.graph_base(), comment.id))
        .bearer_auth(&token)
        .form(&[("message", "¡Hola! Te escribimos por privado 🙏")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let reply_id = json_of(reply).await["id"].as_str().unwrap().to_string();
    let hide = client()
        .post(format!("{}/{}", sandbox.graph_base(), comment.id))
        .bearer_auth(&token)
        .json(&json!({"is_hidden": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(hide).await, json!({"success": true}));

    let message = sandbox
        .inject(Injection::new(Source::Messenger, "hola").by("7000000000000001", "Lucía"))
        .unwrap();
    let send = |psid: String| {
        let url = format!("{}/me/messages", sandbox.graph_base());
        let token = token.clone();
        async move {
            client()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "¡Hola Lucía!"}}))
                .send()
                .await
                .unwrap()
        }
    };
    let sent = json_of(send(message.author_id.clone()).await).await;
    assert_eq!(sent["recipient_id"], "7000000000000001");
    assert!(sent["message_id"].as_str().unwrap().starts_with("m_"));

    // Someone who last wrote two days ago is outside the 24-hour window.
    let old = sandbox
        .inject(
            Injection::new(Source::Messenger, "hola?")
                .by("7000000000000002", "Jorge")
                .at(message.at - 2 * 86_400),
        )
        .unwrap();
    let refused = send(old.author_id.clone()).await;
    assert_eq!(refused.status(), 400);
    let refused = json_of(refused).await;
    assert_eq!(refused["error"]["code"], 10);
    assert_eq!(refused["error"]["error_subcode"], 2018278);
    assert_eq!(
        refused["error"]["message"],
        "(#10) This message is sent outside of allowed window."
    );

    sandbox.set_faults(Faults {
        window_closed: true,
        ..Faults::default()
    });
    assert_eq!(send(message.author_id.clone()).await.status(), 400);

    let replies = sandbox.replies();
    let summary: Vec<(Source, &str, bool)> = replies
        .iter()
        .map(|reply| (reply.platform, reply.action.as_str(), reply.accepted))
        .collect();
    assert_eq!(
        summary,
        [
            (Source::Facebook, "comment_reply", true),
            (Source::Facebook, "hide", true),
            (Source::Messenger, "message", true),
            (Source::Messenger, "message", false),
            (Source::Messenger, "message", false),
        ]
    );
    assert_eq!(replies[0].target_id, comment.id);
    assert_eq!(
        replies[0].text.as_deref(),
        Some("¡Hola! Te escribimos por privado 🙏")
    );
    assert_eq!(replies[0].returned_id.as_deref(), Some(reply_id.as_str()));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn whatsapp_refuses_free_text_outside_the_window_but_accepts_templates() {
    let sandbox = sandbox_with(config()).await;
    let url = format!(
        "{}/{}/messages",
        sandbox.graph_base(),
        sandbox.config().whatsapp_phone_number_id
    );
    let token = sandbox.config().whatsapp_token.clone();
    let text = |to: &str| json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": {"preview_url": false, "body": "¡Hola!"}});

    let refused = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&text("+16505551234"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let refused = json_of(refused).await;
    assert_eq!(refused["error"]["code"], 131047);
    assert_eq!(
        refused["error"]["message"],
        "(#131047) Re-engagement message"
    );
    assert_eq!(
        refused["error"]["error_data"]["messaging_product"],
        "whatsapp"
    );

    let template = json!({"messaging_product": "whatsapp", "to": "+16505551234", "type": "template",
        "template": {"name": "order_update", "language": {"code": "es"}, "components": []}});
    let accepted = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&template)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let accepted = json_of(accepted).await;
    let wamid = accepted["messages"][0]["id"].as_str().unwrap().to_string();
    assert!(wamid.starts_with("wamid."));
    assert_eq!(
        accepted,
        json!({"messaging_product": "whatsapp", "contacts": [{"input": "+16505551234", "wa_id": "16505551234"}], "messages": [{"id": wamid}]})
    );

    sandbox
        .inject(
            Injection::new(Source::Whatsapp, "hola, ¿tienen envío?").by("16505551234", "Sheena"),
        )
        .unwrap();
    let inside = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&text("+16505551234"))
        .send()
        .await
        .unwrap();
    assert_eq!(inside.status(), 200);

    sandbox.set_faults(Faults {
        window_closed: true,
        ..Faults::default()
    });
    let closed = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&text("+16505551234"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(closed).await["error"]["code"], 131047);
    let replies = sandbox.replies();
    let actions: Vec<(&str, bool)> = replies
        .iter()
        .map(|reply| (reply.action.as_str(), reply.accepted))
        .collect();
    assert_eq!(
        actions,
        [
            ("message", false),
            ("template", true),
            ("message", true),
            ("message", false)
        ]
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn error_faults_answer_throttling_and_server_errors() {
    let sandbox = sandbox_with(config()).await;
    sandbox.set_faults(Faults {
        error_ratio: 1.0,
        ..Faults::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let response = client()
            .get(format!(
                "{}/{}/feed",
                sandbox.graph_base(),
                sandbox.config().facebook_page_id
            ))
            .bearer_auth(&sandbox.config().facebook_page_token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = json_of(response).await;
        let code = body["error"]["code"].as_u64().unwrap();
        assert!(
            matches!((status, code), (400, 32) | (500, 2)),
            "{status} {body}"
        );
        statuses.push(status);
    }
    assert!(statuses.contains(&400) && statuses.contains(&500));
    let stats = sandbox.stats();
    assert_eq!(stats.requests["GET /graph/{version}/{id}/feed"], 20);
    assert!(stats.throttled > 0 && stats.server_errors > 0);
    sandbox.shutdown().await;
}

// ---- webhooks and generation ---------------------------------------------------------------

#[tokio::test]
async fn webhooks_reach_the_target_signed_and_escaped() {
    let receiver = Receiver::default();
    *receiver.failures_left.lock().unwrap() = 1;
    let target = start_receiver(receiver.clone()).await;
    let sandbox = sandbox_with(SandboxConfig {
        webhook_target: Some(target),
        ..config()
    })
    .await;
    let hostile = "¡Hola! 🦀 <script>alert(1)</script> مرحبا";
    let comment = sandbox
        .inject(Injection::new(Source::Facebook, hostile))
        .unwrap();
    let message = sandbox
        .inject(Injection::new(Source::Whatsapp, hostile).by("5511987654321", "João"))
        .unwrap();
    let mention = sandbox.inject(Injection::new(Source::X, hostile)).unwrap();
    let dm = sandbox
        .inject(Injection::new(Source::XDm, hostile))
        .unwrap();
    let messenger = sandbox
        .inject(Injection::new(Source::Messenger, hostile))
        .unwrap();
    let generated = sandbox.generate(30);
    assert!(sandbox.settle_webhooks(Duration::from_secs(10)).await);

    // X posts that do not tag the account make no webhook (only search finds them).
    let delivering = 5 + generated
        .iter()
        .filter(|item| item.platform != Source::XPost)
        .count();
    let received = receiver.all();
    // The first delivery was refused once and retried.
    assert_eq!(received.len(), delivering);
    let stats = sandbox.stats();
    assert_eq!(stats.webhooks_delivered, delivering as u64);
    assert_eq!(stats.webhook_attempts, delivering as u64 + 1);
    assert_eq!(stats.webhooks_failed, 0);
    assert_eq!(stats.x_crc_checks, 1);
    assert_eq!(stats.x_crc_failures, 0);

    for delivery in &received {
        match delivery.platform.as_str() {
            "facebook" | "whatsapp" => {
                let signature = delivery.headers["x-hub-signature-256"].to_str().unwrap();
                assert_eq!(signature, meta_signature(&delivery.body));
                assert!(
                    delivery.body.is_ascii(),
                    "Meta bodies are ASCII with \\u escapes"
                );
            }
            "x" => {
                let signature = delivery.headers["x-twitter-webhooks-signature"]
                    .to_str()
                    .unwrap();
                assert_eq!(signature, x_signature(&delivery.body));
            }
            other => panic!("unexpected platform {other}"),
        }
        serde_json::from_slice::<Value>(&delivery.body).expect("every body is JSON");
    }

    let body_of = |platform: &str, id: &str| -> Value {
        let delivery = received
            .iter()
            .find(|delivery| {
                delivery.platform == platform
                    && String::from_utf8_lossy(&delivery.body).contains(id)
            })
            .unwrap_or_else(|| panic!("a {platform} webhook names {id}"));
        serde_json::from_slice(&delivery.body).unwrap()
    };
    let raw_facebook = received
        .iter()
        .find(|delivery| String::from_utf8_lossy(&delivery.body).contains(&comment.id))
        .unwrap();
    let raw_text = String::from_utf8_lossy(&raw_facebook.body);
    assert!(
        raw_text.contains(r"\u00a1Hola! \ud83e\udd80 <script>alert(1)<\/script>"),
        "{raw_text}"
    );

    let facebook = body_of("facebook", &comment.id);
    let value = &facebook["entry"][0]["changes"][0]["value"];
    assert_eq!(facebook["object"], "page");
    assert_eq!(facebook["entry"][0]["changes"][0]["field"], "feed");
    assert_eq!(value["item"], "comment");
    assert_eq!(value["verb"], "add");
    assert_eq!(value["message"], hostile);
    assert_eq!(value["parent_id"], value["post_id"]);
    assert!(value["created_time"].is_i64());

    let whatsapp = body_of("whatsapp", &message.id);
    let value = &whatsapp["entry"][0]["changes"][0]["value"];
    assert_eq!(whatsapp["object"], "whatsapp_business_account");
    assert_eq!(
        value["metadata"]["phone_number_id"],
        sandbox.config().whatsapp_phone_number_id.as_str()
    );
    assert_eq!(
        value["contacts"][0],
        json!({"profile": {"name": "João"}, "wa_id": "5511987654321"})
    );
    assert_eq!(value["messages"][0]["text"]["body"], hostile);
    assert!(value["messages"][0]["timestamp"].is_string());

    let messenger_body = body_of("facebook", &messenger.id);
    let event = &messenger_body["entry"][0]["messaging"][0];
    assert_eq!(event["message"]["text"], hostile);
    assert_eq!(event["sender"]["id"], messenger.author_id.as_str());

    let x = body_of("x", &mention.id);
    assert_eq!(x["for_user_id"], sandbox.config().x_user_id.as_str());
    let tweet = &x["tweet_create_events"][0];
    assert_eq!(tweet["id_str"], mention.id.as_str());
    assert_eq!(tweet["text"], format!("@tiendabuzon {hostile}"));
    assert_eq!(
        tweet["entities"]["user_mentions"][0]["id_str"],
        sandbox.config().x_user_id.as_str()
    );
    let direct = body_of("x", &dm.id);
    assert_eq!(
        direct["direct_message_events"][0]["message_create"]["message_data"]["text"],
        hostile
    );

    for item in generated
        .iter()
        .filter(|item| item.platform != Source::XPost)
    {
        let platform = item.platform.platform().as_str();
        body_of(platform, &item.id);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn whatsapp_sends_produce_sent_delivered_read_statuses() {
    let receiver = Receiver::default();
    let target = start_receiver(receiver.clone()).await;
    let sandbox = sandbox_with(SandboxConfig {
        webhook_target: Some(target),
        ..config()
    })
    .await;
    let inbound = sandbox
        .inject(Injection::new(Source::Whatsapp, "hola").by("34612345678", "Lucía"))
        .unwrap();
    let response = client()
        .post(format!("{}/{}/messages", sandbox.graph_base(), sandbox.config().whatsapp_phone_number_id))
        .bearer_auth(&sandbox.config().whatsapp_token)
        .json(&json!({"messaging_product": "whatsapp", "to": "34612345678", "type": "text", "text": {"body": "¡Hola!"}}))
        .send()
        .await
        .unwrap();
    let wamid = json_of(response).await["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sandbox.settle_webhooks(Duration::from_secs(10)).await);
    let statuses: Vec<Value> = receiver
        .all()
        .iter()
        .map(|delivery| serde_json::from_slice::<Value>(&delivery.body).unwrap())
        .filter_map(|body| {
            body["entry"][0]["changes"][0]["value"]["statuses"]
                .get(0)
                .cloned()
        })
        .collect();
    let names: Vec<&str> = statuses
        .iter()
        .map(|status| status["status"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sent", "delivered", "read"]);
    for status in &statuses {
        assert_eq!(status["id"], wamid.as_str());
        assert_eq!(status["recipient_id"], inbound.author_id.as_str());
        assert_eq!(status["pricing"]["pricing_model"], "PMP");
        assert_eq!(status["pricing"]["billable"], false);
        assert!(status["conversation"]["id"].is_string());
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn duplicate_fault_delivers_every_webhook_twice() {
    let receiver = Receiver::default();
    let target = start_receiver(receiver.clone()).await;
    let sandbox = sandbox_with(SandboxConfig {
        webhook_target: Some(target),
        ..config()
    })
    .await;
    sandbox.set_faults(Faults {
        duplicate_webhooks: true,
        shuffle_webhooks: true,
        ..Faults::default()
    });
    let items = sandbox.generate(6);
    assert!(sandbox.settle_webhooks(Duration::from_secs(10)).await);
    let delivering = items
        .iter()
        .filter(|item| item.platform != Source::XPost)
        .count();
    let received = receiver.all();
    assert_eq!(received.len(), 2 * delivering);
    let mut copies: HashMap<Vec<u8>, usize> = HashMap::new();
    for delivery in &received {
        *copies.entry(delivery.body.clone()).or_default() += 1;
    }
    assert_eq!(copies.len(), delivering, "one distinct body per item");
    assert!(
        copies.values().all(|count| *count == 2),
        "every body arrives twice"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn generation_is_deterministic_and_covers_the_hard_cases() {
    let first = sandbox_with(config()).await;
    let second = sandbox_with(config()).await;
    let one = first.generate(300);
    let two = second.generate(300);
    let key = |items: &[buzon_sandbox::GeneratedItem]| -> Vec<(Source, String, String)> {
        items
            .iter()
            .map(|item| (item.platform, item.kind.clone(), item.text.clone()))
            .collect()
    };
    assert_eq!(key(&one), key(&two));
    for source in [
        Source::Facebook,
        Source::Messenger,
        Source::Whatsapp,
        Source::X,
        Source::XDm,
        Source::FacebookMention,
        Source::FacebookReview,
        Source::XPost,
    ] {
        assert!(
            one.iter().any(|item| item.platform == source),
            "{source:?} is generated"
        );
    }
    assert!(one.iter().any(|item| item.kind == "retweet"));
    let listening = one
        .iter()
        .filter(|item| {
            matches!(
                item.platform,
                Source::FacebookMention | Source::FacebookReview | Source::XPost
            )
        })
        .count();
    assert!(
        (5..=60).contains(&listening),
        "listening items stay a few percent: {listening} of 300"
    );
    assert!(one.iter().any(|item| item.text.chars().count() > 3_000));
    assert!(one
        .iter()
        .any(|item| item.text.contains("<script>") || item.text.contains("onerror")));
    assert!(one
        .iter()
        .any(|item| item.text.contains("URGENTE") || item.text.contains("never arrived")));
    assert!(one
        .iter()
        .any(|item| item.language == buzon_sandbox::Language::Ar));
    assert!(one.iter().any(|item| item.kind == "reply"));
    assert!(one
        .iter()
        .any(|item| item.kind == "image" || item.kind == "location" || item.kind == "reaction"));
    assert!(one.iter().any(|item| item.author_name.contains('<')));

    let listed = json_of(
        client()
            .get(format!("{}/sandbox/generated", first.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 300);
    let generated = json_of(
        client()
            .post(format!("{}/sandbox/generate", first.base_url()))
            .json(&json!({"count": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(generated["items"][1]["seq"], 302);
    let injected = client()
        .post(format!("{}/sandbox/mentions", first.base_url()))
        .json(&json!({"platform": "x_dm", "text": "hola", "author_id": "2244994945", "author_name": "Cliente", "at": 1_700_000_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(injected.status(), 201);
    let injected = json_of(injected).await;
    assert_eq!(injected["platform"], "x_dm");
    assert_eq!(injected["at"], 1_700_000_000);
    let stats = json_of(
        client()
            .get(format!("{}/sandbox/stats", first.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats["generated"], 303);
    first.shutdown().await;
    second.shutdown().await;
}

#[tokio::test]
async fn a_target_failing_the_crc_gets_no_x_deliveries() {
    let receiver = Receiver {
        wrong_crc: true,
        ..Receiver::default()
    };
    let target = start_receiver(receiver.clone()).await;
    let sandbox = sandbox_with(SandboxConfig {
        webhook_target: Some(target),
        ..config()
    })
    .await;
    sandbox.inject(Injection::new(Source::X, "hola")).unwrap();
    sandbox
        .inject(Injection::new(Source::Whatsapp, "hola"))
        .unwrap();
    assert!(!sandbox.settle_webhooks(Duration::from_millis(300)).await);
    let received = receiver.all();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].platform, "whatsapp");
    let stats = sandbox.stats();
    assert!(stats.x_crc_failures >= 1);
    assert_eq!(stats.webhooks_pending, 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_slow_write_takes_effect_even_when_the_client_gives_up() {
    let sandbox = sandbox_with(config()).await;
    let mention = sandbox
        .inject(Injection::new(Source::X, "¿hay envío gratis?"))
        .unwrap();
    sandbox.set_faults(Faults {
        slow_ms: 1_000,
        ..Faults::default()
    });
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let token = sandbox.config().x_token.clone();
    let attempt = impatient
        .post(format!("{}/2/tweets", sandbox.x_base()))
        .bearer_auth(&token)
        .json(&json!({"text": "¡Sí, desde $50!", "reply": {"in_reply_to_tweet_id": mention.id}}))
        .send()
        .await;
    assert!(attempt.is_err(), "the client timed out");
    sandbox.set_faults(Faults::default());
    let replies = sandbox.replies();
    assert_eq!(replies.len(), 1);
    let posted = replies[0]
        .returned_id
        .clone()
        .expect("the reply was posted");

    // The client can find out what happened, and a blind retry is refused as a duplicate.
    let own = json_of(
        client()
            .get(format!(
                "{}/2/users/{}/tweets",
                sandbox.x_base(),
                sandbox.config().x_user_id
            ))
            .bearer_auth(&token)
            .query(&[("tweet.fields", "referenced_tweets,in_reply_to_user_id")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(own["data"][0]["id"], posted.as_str());
    assert_eq!(
        own["data"][0]["referenced_tweets"][0],
        json!({"type": "replied_to", "id": mention.id})
    );
    let lookup = json_of(
        client()
            .get(format!("{}/2/tweets/{posted}", sandbox.x_base()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(lookup["data"]["text"], "¡Sí, desde $50!");
    let retry = client()
        .post(format!("{}/2/tweets", sandbox.x_base()))
        .bearer_auth(&token)
        .json(&json!({"text": "¡Sí, desde $50!", "reply": {"in_reply_to_tweet_id": mention.id}}))
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 403);
    assert_eq!(
        json_of(retry).await["detail"],
        "You are not allowed to create a Tweet with duplicate content."
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_background_generator_creates_items_at_the_configured_rate() {
    let sandbox = sandbox_with(SandboxConfig {
        mentions_per_minute: 1_200,
        ..config()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let generated = sandbox.generated().len();
    assert!(
        (8..=20).contains(&generated),
        "{generated} items in 0.7 s at 20 per second"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn messenger_refuses_someone_who_never_wrote_as_outside_the_window() {
    let sandbox = sandbox_with(config()).await;
    let refused = client()
        .post(format!("{}/{}/messages", sandbox.graph_base(), sandbox.config().facebook_page_id))
        .bearer_auth(&sandbox.config().facebook_page_token)
        .json(&json!({"recipient": {"id": "7000000000000099"}, "messaging_type": "RESPONSE", "message": {"text": "hola"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let refused = json_of(refused).await;
    assert_eq!(refused["error"]["code"], 10);
    assert_eq!(refused["error"]["error_subcode"], 2018278);
    assert!(!sandbox.replies()[0].accepted);
    sandbox.shutdown().await;
}

// ---- listening: recent search, Facebook mentions and reviews ---------------------------------

fn search_config() -> SandboxConfig {
    SandboxConfig {
        x_search_rate_limit_per_window: 1_000,
        ..config()
    }
}

/// Every page of a recent search from `since_id`, following `next_token`: the ids, in order.
async fn search_all(
    sandbox: &Sandbox,
    query: &str,
    since_id: Option<&str>,
) -> (Vec<String>, Value) {
    let url = format!("{}/2/tweets/search/recent", sandbox.x_base());
    let mut ids = Vec::new();
    let mut first_meta = Value::Null;
    let mut next: Option<String> = None;
    loop {
        let mut params = vec![
            ("query", query.to_string()),
            ("max_results", "10".to_string()),
        ];
        if let Some(since) = since_id {
            params.push(("since_id", since.to_string()));
        }
        if let Some(token) = &next {
            params.push(("next_token", token.clone()));
        }
        let response = client()
            .get(&url)
            .bearer_auth(&sandbox.config().x_token)
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let page = json_of(response).await;
        if first_meta.is_null() {
            first_meta = page["meta"].clone();
        }
        for post in page["data"].as_array().cloned().unwrap_or_default() {
            ids.push(post["id"].as_str().unwrap().to_string());
        }
        next = page["meta"]["next_token"].as_str().map(str::to_string);
        if next.is_none() {
            return (ids, first_meta);
        }
    }
}

#[tokio::test]
async fn recent_search_pages_with_next_token_and_since_id_bringing_each_match_once() {
    let sandbox = sandbox_with(search_config()).await;
    let mut expected = Vec::new();
    for number in 0..23 {
        let post = sandbox
            .inject(
                Injection::new(
                    Source::XPost,
                    format!("Pedido {number} de tiendabuzon, ¡genial!"),
                )
                .by(format!("77100{number:03}"), format!("Cliente {number}")),
            )
            .unwrap();
        assert_eq!(post.platform, Source::XPost);
        assert_eq!(post.kind, "post");
        assert!(!post.text.starts_with('@'), "no @username is added");
        expected.push(post.id);
        if number % 5 == 0 {
            sandbox
                .inject(Injection::new(Source::XPost, "nada que ver con la marca"))
                .unwrap();
        }
    }
    // A mention of the account that names the brand is the same post for a search.
    let mention = sandbox
        .inject(Injection::new(Source::X, "¿tiendabuzon abre hoy?"))
        .unwrap();
    expected.push(mention.id.clone());
    // Retweets are excluded by the query, old posts by the seven-day window.
    let retweet = sandbox
        .inject(Injection {
            retweet: true,
            ..Injection::new(Source::XPost, "me encanta tiendabuzon")
        })
        .unwrap();
    assert_eq!(retweet.kind, "retweet");
    assert!(retweet.text.starts_with("RT @"), "{}", retweet.text);
    assert!(retweet.text.ends_with(": me encanta tiendabuzon"));
    let old = now_secs() - 8 * 86_400;
    sandbox
        .inject(Injection::new(Source::XPost, "tiendabuzon hace tiempo").at(old))
        .unwrap();
    expected.reverse();

    let (ids, meta) = search_all(&sandbox, "tiendabuzon -is:retweet", None).await;
    assert_eq!(ids, expected, "newest first, each match once");
    assert_eq!(meta["result_count"], 10);
    assert_eq!(meta["newest_id"], expected[0].as_str());
    assert_eq!(meta["oldest_id"], expected[9].as_str());

    let newest = expected[0].clone();
    let (none, meta) = search_all(&sandbox, "tiendabuzon -is:retweet", Some(&newest)).await;
    assert!(none.is_empty());
    assert_eq!(meta, json!({"result_count": 0}));

    let mut later = Vec::new();
    for number in 0..12 {
        let post = sandbox
            .inject(Injection::new(
                Source::XPost,
                format!("tiendabuzon otra vez {number}"),
            ))
            .unwrap();
        later.push(post.id);
    }
    later.reverse();
    let (ids, _) = search_all(&sandbox, "tiendabuzon -is:retweet", Some(&newest)).await;
    assert_eq!(
        ids, later,
        "a poll from since_id brings only the new ones, once"
    );

    // The retweet: lang, referenced_tweets and the original in includes.
    let url = format!("{}/2/tweets/search/recent", sandbox.x_base());
    let page = json_of(
        client()
            .get(&url)
            .bearer_auth(&sandbox.config().x_token)
            .query(&[
                ("query", "tiendabuzon is:retweet"),
                ("tweet.fields", "lang,referenced_tweets,entities,author_id"),
                ("expansions", "referenced_tweets.id,author_id"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["meta"]["result_count"], 1);
    let data = &page["data"][0];
    assert_eq!(data["id"], retweet.id.as_str());
    assert_eq!(data["lang"].as_str().map(str::len), Some(2));
    let original = retweet.parent_id.clone().expect("the original's id");
    assert_eq!(
        data["referenced_tweets"],
        json!([{"type": "retweeted", "id": original}])
    );
    assert_eq!(data["entities"]["mentions"][0]["start"], 3);
    assert_eq!(page["includes"]["tweets"][0]["id"], original.as_str());
    sandbox.shutdown().await;
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn recent_search_refuses_invalid_requests_and_has_its_own_rate_limit() {
    let sandbox = sandbox_with(config()).await;
    let url = format!("{}/2/tweets/search/recent", sandbox.x_base());
    let token = sandbox.config().x_token.clone();
    let get = |params: Vec<(&'static str, String)>| {
        client().get(&url).bearer_auth(&token).query(&params).send()
    };

    let first = get(vec![("query", "tiendabuzon".to_string())])
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "x-rate-limit-limit"), "60");
    assert_eq!(header(&first, "x-rate-limit-remaining"), "59");

    let invalid = get(vec![("query", "(tienda OR buzón".to_string())])
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    assert!(header(&invalid, "content-type").starts_with("application/problem+json"));
    assert_eq!(
        json_of(invalid).await,
        json!({
            "errors": [{
                "parameters": {"query": ["(tienda OR buzón"]},
                "message": "There were errors processing your request: mismatched input 'EOF' expecting ')' (at position 17)",
            }],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        })
    );
    let operator = json_of(
        get(vec![("query", "tienda foo:bar".to_string())])
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        operator["errors"][0]["message"],
        "There were errors processing your request: Reference to invalid operator 'foo' (at position 8)"
    );
    let missing = get(vec![]).await.unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(
        json_of(missing).await["errors"][0]["message"],
        "The `query` query parameter can not be empty"
    );
    let small = get(vec![
        ("query", "tiendabuzon".to_string()),
        ("max_results", "5".to_string()),
    ])
    .await
    .unwrap();
    assert_eq!(small.status(), 400);
    assert!(json_of(small).await["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("is not between 10 and 100"));
    let long = get(vec![("query", "tienda ".repeat(80))]).await.unwrap();
    assert_eq!(long.status(), 400);
    let start = get(vec![
        ("query", "tiendabuzon".to_string()),
        ("start_time", "2020-01-01T00:00:00Z".to_string()),
    ])
    .await
    .unwrap();
    assert_eq!(start.status(), 400);
    assert!(json_of(start).await["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("'start_time' must be on or after"));

    // The budget is the search's own: 60 per window, then 429 until the reset.
    let mut refused = 0;
    for _ in 0..60 {
        let response = get(vec![("query", "tiendabuzon".to_string())])
            .await
            .unwrap();
        if response.status() == 429 {
            assert_eq!(header(&response, "x-rate-limit-remaining"), "0");
            assert_eq!(
                json_of(response).await,
                json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 7, "7 requests were made before these 60");
    let mentions = client()
        .get(format!(
            "{}/2/users/{}/mentions",
            sandbox.x_base(),
            sandbox.config().x_user_id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(mentions.status(), 200, "other endpoints keep their budget");
    assert_eq!(header(&mentions, "x-rate-limit-limit"), "1000");
    sandbox.shutdown().await;
}

/// The Page webhooks of one `field` the receiver got, as JSON `value`s.
fn page_changes(receiver: &Receiver, field: &str) -> Vec<Value> {
    receiver
        .all()
        .iter()
        .filter(|delivery| delivery.platform == "facebook")
        .map(|delivery| serde_json::from_slice::<Value>(&delivery.body).unwrap())
        .flat_map(|body| {
            body["entry"][0]["changes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|change| change["field"] == field)
        .map(|change| change["value"].clone())
        .collect()
}

#[tokio::test]
async fn facebook_mentions_carry_no_text_and_the_object_answers_until_removed() {
    let receiver = Receiver::default();
    let target = start_receiver(receiver.clone()).await;
    let sandbox = sandbox_with(SandboxConfig {
        webhook_target: Some(target),
        ..config()
    })
    .await;
    let post = sandbox
        .inject(Injection {
            repeat: Some(2),
            ..Injection::new(
                Source::FacebookMention,
                "¡Gracias Tienda Buzón por el envío! 🎁",
            )
            .by("100004512345678", "Lucía Pérez")
        })
        .unwrap();
    assert_eq!(post.kind, "post");
    assert!(post.id.starts_with("100004512345678_"));
    assert_eq!(post.thread_id, post.id);
    let comment = sandbox
        .inject(Injection {
            item: Some("comment".to_string()),
            ..Injection::new(Source::FacebookMention, "pregúntale a Tienda Buzón")
                .by("100004598765432", "Jorge Ramírez")
        })
        .unwrap();
    assert_eq!(comment.kind, "comment");
    assert!(sandbox.settle_webhooks(Duration::from_secs(10)).await);

    let values = page_changes(&receiver, "mention");
    assert_eq!(
        values.len(),
        3,
        "repeat: 2 delivers the post's webhook twice"
    );
    assert_eq!(values[0], values[1]);
    assert_eq!(
        values[0],
        json!({
            "post_id": post.id,
            "sender_name": "Lucía Pérez",
            "sender_id": "100004512345678",
            "item": "post",
            "verb": "add",
        })
    );
    assert_eq!(
        values[2],
        json!({
            "post_id": comment.thread_id,
            "sender_name": "Jorge Ramírez",
            "sender_id": "100004598765432",
            "item": "comment",
            "verb": "add",
            "comment_id": comment.id,
        })
    );

    let token = sandbox.config().facebook_page_token.clone();
    let object_url = |id: &str| format!("{}/{id}", sandbox.graph_base());
    let fields = [("fields", "id,message,from,created_time,permalink_url")];
    let fetched = client()
        .get(object_url(&post.id))
        .bearer_auth(&token)
        .query(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    let fetched = json_of(fetched).await;
    assert_eq!(fetched["id"], post.id.as_str());
    assert_eq!(fetched["message"], "¡Gracias Tienda Buzón por el envío! 🎁");
    assert_eq!(
        fetched["from"],
        json!({"id": "100004512345678", "name": "Lucía Pérez"})
    );
    let created = fetched["created_time"].as_str().unwrap();
    assert!(
        created.ends_with("+0000") && created.len() == 24,
        "{created}"
    );
    assert!(fetched["permalink_url"]
        .as_str()
        .unwrap()
        .starts_with("https://www.facebook.com/100004512345678/posts/"));
    let fetched = json_of(
        client()
            .get(object_url(&comment.id))
            .bearer_auth(&token)
            .query(&[("fields", "id,message,from,message_tags")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(fetched["message"], "pregúntale a Tienda Buzón");
    assert_eq!(fetched["message_tags"][0]["offset"], 13);
    assert_eq!(fetched["message_tags"][0]["type"], "page");

    // The Page replies to both; the replies are recorded.
    for target in [&post.id, &comment.id] {
        let reply = client()
            .post(format!("{}/{target}/comments", sandbox.graph_base()))
            .bearer_auth(&token)
            .form(&[("message", "¡Gracias por contarlo!")])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        assert!(json_of(reply).await["id"].is_string());
    }
    let replies = json_of(
        client()
            .get(format!("{}/sandbox/replies", sandbox.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let replies = replies["items"].as_array().unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0]["platform"], "facebook_mention");
    assert_eq!(replies[0]["action"], "comment_reply");
    assert_eq!(replies[0]["target_id"], post.id.as_str());
    assert_eq!(replies[1]["target_id"], comment.id.as_str());
    assert_eq!(replies[1]["text"], "¡Gracias por contarlo!");

    // The customer edits, then deletes the post.
    let edit = client()
        .post(format!(
            "{}/sandbox/items/{}/edit",
            sandbox.base_url(),
            post.id
        ))
        .json(&json!({"text": "Tienda Buzón, todo perfecto"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), 200);
    assert_eq!(json_of(edit).await["platform"], "facebook_mention");
    let edited = json_of(
        client()
            .get(object_url(&post.id))
            .bearer_auth(&token)
            .query(&fields)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(edited["message"], "Tienda Buzón, todo perfecto");
    let remove = client()
        .post(format!(
            "{}/sandbox/items/{}/remove",
            sandbox.base_url(),
            post.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(remove.status(), 200);
    assert!(sandbox.settle_webhooks(Duration::from_secs(10)).await);
    let verbs: Vec<Value> = page_changes(&receiver, "mention")
        .iter()
        .map(|value| value["verb"].clone())
        .collect();
    assert_eq!(verbs, ["add", "add", "add", "edit", "remove"]);
    assert!(page_changes(&receiver, "mention")
        .iter()
        .all(|value| value.get("message").is_none()));

    let gone = client()
        .get(object_url(&post.id))
        .bearer_auth(&token)
        .query(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 400);
    let gone = json_of(gone).await;
    assert_eq!(gone["error"]["code"], 100);
    assert_eq!(gone["error"]["error_subcode"], 33);
    assert_eq!(gone["error"]["type"], "GraphMethodException");
    assert_eq!(
        gone["error"]["message"].as_str().unwrap(),
        format!("Unsupported get request. Object with ID '{}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", post.id)
    );
    let again = client()
        .post(format!(
            "{}/sandbox/items/{}/remove",
            sandbox.base_url(),
            post.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let invalid = client()
        .post(format!("{}/sandbox/mentions", sandbox.base_url()))
        .json(&json!({"platform": "facebook_mention", "text": "hola", "item": "story"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn tagged_and_ratings_edges_page_newest_first() {
    let receiver = Receiver::default();
    let target = start_receiver(receiver.clone()).await;
    let sandbox = sandbox_with(SandboxConfig {
        webhook_target: Some(target),
        ..config()
    })
    .await;
    let base = now_secs() - 3_600;
    let mut posts = Vec::new();
    for number in 0..7 {
        let post = sandbox
            .inject(
                Injection::new(Source::FacebookMention, format!("Tienda Buzón {number}"))
                    .at(base + number),
            )
            .unwrap();
        posts.push(post.id);
    }
    // Comments that tag the Page are not on the tagged edge, removed posts neither.
    sandbox
        .inject(Injection {
            item: Some("comment".to_string()),
            ..Injection::new(Source::FacebookMention, "Tienda Buzón en un comentario")
        })
        .unwrap();
    sandbox.remove_item(&posts[3]).unwrap();
    posts.remove(3);
    posts.reverse();

    let token = sandbox.config().facebook_page_token.clone();
    let page_id = sandbox.config().facebook_page_id.clone();
    let mut seen = Vec::new();
    let mut url = format!(
        "{}/{page_id}/tagged?fields=id,message,from,created_time&limit=4",
        sandbox.graph_base()
    );
    loop {
        let page = json_of(client().get(&url).bearer_auth(&token).send().await.unwrap()).await;
        for post in page["data"].as_array().unwrap() {
            assert!(post["message"]
                .as_str()
                .unwrap()
                .starts_with("Tienda Buzón"));
            assert!(post["from"]["id"].is_string());
            seen.push(post["id"].as_str().unwrap().to_string());
        }
        assert!(page["paging"]["cursors"]["after"].is_string());
        match page["paging"]["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, posts);

    let mut reviews = Vec::new();
    for (number, (text, recommendation)) in [
        ("Excelente atención", "positive"),
        ("Nunca llegó mi pedido", "negative"),
        ("Muy bien", "positive"),
    ]
    .into_iter()
    .enumerate()
    {
        let review = sandbox
            .inject(Injection {
                recommendation: Some(recommendation.to_string()),
                ..Injection::new(Source::FacebookReview, text)
                    .by(format!("10000{number}"), format!("Reseña {number}"))
                    .at(base + number as i64)
            })
            .unwrap();
        assert_eq!(review.kind, "review");
        reviews.push(review);
    }
    let ratings_url = format!("{}/{page_id}/ratings", sandbox.graph_base());
    let fields = "created_time,recommendation_type,review_text,reviewer,open_graph_story";
    let first = json_of(
        client()
            .get(&ratings_url)
            .bearer_auth(&token)
            .query(&[("fields", fields), ("limit", "2")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        first["data"][0],
        json!({
            "created_time": first["data"][0]["created_time"],
            "recommendation_type": "positive",
            "review_text": "Muy bien",
            "reviewer": {"id": "100002", "name": "Reseña 2"},
            "open_graph_story": {"id": reviews[2].id},
        })
    );
    assert_eq!(first["data"][1]["recommendation_type"], "negative");
    let next = first["paging"]["next"].as_str().expect("one more page");
    let second = json_of(client().get(next).send().await.unwrap()).await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        second["data"][0]["open_graph_story"]["id"],
        reviews[0].id.as_str()
    );
    assert!(second["paging"].get("next").is_none());

    // The review is an object, takes the Page's reply, and its webhooks follow edits.
    let review = json_of(
        client()
            .get(format!("{}/{}", sandbox.graph_base(), reviews[1].id))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(review["review_text"], "Nunca llegó mi pedido");
    assert_eq!(review["recommendation_type"], "negative");
    let reply = client()
        .post(format!(
            "{}/{}/comments",
            sandbox.graph_base(),
            reviews[1].id
        ))
        .bearer_auth(&token)
        .json(&json!({"message": "Lo sentimos, te escribimos por privado"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(sandbox.replies()[0].platform, Source::FacebookReview);
    sandbox
        .edit_item(&reviews[1].id, "Llegó tarde pero llegó")
        .unwrap();
    sandbox.remove_item(&reviews[0].id).unwrap();
    assert!(sandbox.settle_webhooks(Duration::from_secs(10)).await);
    let ratings = page_changes(&receiver, "ratings");
    assert_eq!(ratings.len(), 5);
    assert_eq!(
        ratings[1],
        json!({
            "item": "rating",
            "verb": "add",
            "review_id": reviews[1].id,
            "open_graph_story_id": reviews[1].id,
            "reviewer_id": "100001",
            "reviewer_name": "Reseña 1",
            "recommendation_type": "negative",
            "review_text": "Nunca llegó mi pedido",
            "created_time": base + 1,
        })
    );
    assert_eq!(ratings[3]["verb"], "edit");
    assert_eq!(ratings[3]["review_text"], "Llegó tarde pero llegó");
    assert_eq!(ratings[4]["verb"], "remove");
    assert!(ratings[4].get("review_text").is_none());
    let after = json_of(
        client()
            .get(&ratings_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(after["data"].as_array().unwrap().len(), 2);
    sandbox.shutdown().await;
}
