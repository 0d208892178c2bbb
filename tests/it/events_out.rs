//! Events out end to end, on both engines: an admin registers a webhook; a receiver written
//! here checks the signature of every event, gets each event at least once, drops duplicates
//! by id, and — after it was down (answering 503) — sees the deliveries resume.

use crate::service::inject_and_wait;
use crate::working::{call, user_token};
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::{Engine, TestDatabase};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec-0123456789abcdef";

/// A receiver as a CRM would write one: refuses a bad signature, keeps each event once.
#[derive(Default)]
struct Receiver {
    down: AtomicBool,
    /// Every request that got through: (id, type, body).
    received: Mutex<Vec<(String, String, Value)>>,
    bad_signatures: Mutex<u32>,
    refused_while_down: Mutex<u32>,
}

impl Receiver {
    async fn start() -> (Arc<Receiver>, String) {
        let receiver = Arc::new(Receiver::default());
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/events",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: String| async move {
                    if state.down.load(Ordering::SeqCst) {
                        *state.refused_while_down.lock().unwrap() += 1;
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let signed = headers
                        .get("x-buzon-signature")
                        .and_then(|value| value.to_str().ok())
                        .is_some_and(|header| {
                            crate::alerts::signature_valid(SECRET, header, &body)
                        });
                    if !signed {
                        *state.bad_signatures.lock().unwrap() += 1;
                        return axum::http::StatusCode::UNAUTHORIZED;
                    }
                    let event: Value = serde_json::from_str(&body).unwrap();
                    state.received.lock().unwrap().push((
                        event["id"].as_str().unwrap().to_owned(),
                        event["type"].as_str().unwrap().to_owned(),
                        event,
                    ));
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    /// Each event once, by id (duplicates dropped, as a receiver should).
    fn events(&self) -> BTreeMap<String, (String, Value)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(id, kind, body)| (id.clone(), (kind.clone(), body.clone())))
            .collect()
    }

    fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .events()
            .values()
            .map(|(kind, _)| kind.clone())
            .collect();
        kinds.sort();
        kinds
    }
}

async fn events_out(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let (receiver, url) = Receiver::start().await;
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(
        db,
        config.clone(),
        &[
            // The receiver listens on loopback: allowed here on purpose.
            ("BUZON_ALERTS_ALLOW_PRIVATE_URLS", "true"),
            ("BUZON_WORKERS_EVENT_RETRY_SECS", "1"),
        ],
    )
    .await;
    connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let ana = user_token(&app, "ana@shop.example", "Ana", "agent").await;
    let subscription = json!({"url": url, "secret": SECRET, "events": [
        "message.received", "message.sent", "conversation.status_changed", "conversation.escalated"]});
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        "/api/v1/webhooks",
        Some(&subscription),
    )
    .await;
    assert_eq!(status, 403, "admins register webhooks");
    let (status, refused) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/webhooks",
        Some(&json!({"url": url, "events": ["message.deleted"]})),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    let (status, created) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/webhooks",
        Some(&subscription),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["secret"], SECRET);
    let id = created["id"].as_i64().unwrap();
    let (_, listed) = call(&app, Method::GET, &admin, "/api/v1/webhooks", None).await;
    assert!(
        !listed.to_string().contains(SECRET),
        "the secret is never shown again"
    );

    // "Send a test event".
    let (status, _) = call(
        &app,
        Method::POST,
        &admin,
        &format!("/api/v1/webhooks/{id}/test"),
        None,
    )
    .await;
    assert_eq!(status, 202);
    app.eventually(Duration::from_secs(30), "the test event", || async {
        receiver.kinds().contains(&"test".to_owned()).then_some(())
    })
    .await;

    // The receiver goes down; meanwhile a customer writes, Ana answers, escalates, resolves.
    receiver.down.store(true, Ordering::SeqCst);
    let message = inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(Source::Whatsapp, "¿Dónde está mi pedido 1001?")
            .by("34699000001", "Marta Ruiz"),
    )
    .await;
    let conversation = message["conversation_id"].as_i64().unwrap();
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{conversation}/replies"),
        Some(&json!({"text": "Sale hoy mismo"})),
    )
    .await;
    assert_eq!(status, 202);
    call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{conversation}/escalate"),
        Some(&json!({"note": "Cliente habitual"})),
    )
    .await;
    app.eventually(Duration::from_secs(30), "the reply sent", || async {
        (app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = {conversation} AND direction = 'outbound' AND status <> 'queued'"
            ))
            .await
            == 1)
            .then_some(())
    })
    .await;
    call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{conversation}/status"),
        Some(&json!({"status": "resolved"})),
    )
    .await;
    // Tried and refused while down: the log says so.
    app.eventually(
        Duration::from_secs(30),
        "failed tries in the log",
        || async {
            let (_, log) = call(
                &app,
                Method::GET,
                &admin,
                &format!("/api/v1/webhooks/{id}/deliveries"),
                None,
            )
            .await;
            let items = log["items"].as_array().cloned().unwrap_or_default();
            items
                .iter()
                .any(|item| {
                    item["event"] == "message.received"
                        && item["last_status"] == 503
                        && item["state"] == "queued"
                })
                .then_some(())
        },
    )
    .await;
    assert!(*receiver.refused_while_down.lock().unwrap() > 0);

    // Back up: every event arrives, signed, each with its own id.
    receiver.down.store(false, Ordering::SeqCst);
    app.eventually(
        Duration::from_secs(60),
        "every event after the outage",
        || async {
            let kinds = receiver.kinds();
            ([
                "conversation.escalated",
                "conversation.status_changed",
                "message.received",
                "message.sent",
                "test",
            ]
            .iter()
            .all(|kind| kinds.contains(&(*kind).to_owned())))
            .then_some(())
        },
    )
    .await;
    assert_eq!(*receiver.bad_signatures.lock().unwrap(), 0);
    let events = receiver.events();
    let received = events
        .values()
        .find(|(kind, _)| kind == "message.received")
        .unwrap();
    assert_eq!(
        received.1["data"]["message"]["text"],
        "¿Dónde está mi pedido 1001?"
    );
    assert_eq!(received.1["data"]["conversation"]["id"], conversation);
    let escalated = events
        .values()
        .find(|(kind, _)| kind == "conversation.escalated")
        .unwrap();
    assert_eq!(escalated.1["data"]["note"], "Cliente habitual");
    let changed = events
        .values()
        .find(|(kind, _)| kind == "conversation.status_changed")
        .unwrap();
    assert_eq!(changed.1["data"]["status"], "resolved");
    let (_, log) = call(
        &app,
        Method::GET,
        &admin,
        &format!("/api/v1/webhooks/{id}/deliveries"),
        None,
    )
    .await;
    let items = log["items"].as_array().unwrap();
    assert!(items.iter().all(|item| item["state"] == "sent"), "{log}");
    assert_eq!(items.len(), events.len(), "one delivery per event: {log}");
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_out_are_signed_delivered_at_least_once_and_resume_after_an_outage_sqlite() {
    events_out(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_out_are_signed_delivered_at_least_once_and_resume_after_an_outage_postgres() {
    events_out(Engine::Postgres).await;
}

/// The admin page: add a webhook (its secret shown once), send a test event, see it in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhooks_page_adds_tests_and_logs() {
    let (receiver, url) = Receiver::start().await;
    let app = buzon_tests::TestApp::start(
        TestDatabase::sqlite(),
        &[("BUZON_ALERTS_ALLOW_PRIVATE_URLS", "true")],
    )
    .await;
    buzon_tests::web::add_user(&app, "admin@shop.example", "admin").await;
    let session = buzon_tests::web::Session::start(&app, "admin@shop.example").await;
    let added = session
        .post(
            &app,
            "/admin/webhooks",
            &[
                ("url", url.as_str()),
                ("event", "message.received"),
                ("event", "conversation.escalated"),
                ("secret", SECRET),
            ],
        )
        .await;
    assert_eq!(added.status(), 200);
    let page = added.text().await.unwrap();
    assert!(page.contains(SECRET), "the secret is shown once");
    let again = session
        .get(&app, "/admin/webhooks")
        .await
        .text()
        .await
        .unwrap();
    assert!(!again.contains(SECRET), "and only once");
    assert!(again.contains("message.received, conversation.escalated"));
    let id = app
        .db
        .scalar("SELECT MAX(id) FROM event_subscriptions")
        .await;
    let tested = session
        .post(&app, &format!("/admin/webhooks/{id}/test"), &[])
        .await;
    assert_eq!(tested.status(), 303);
    app.eventually(Duration::from_secs(30), "the test event", || async {
        receiver.kinds().contains(&"test".to_owned()).then_some(())
    })
    .await;
    app.eventually(Duration::from_secs(30), "the log says sent", || async {
        let page = session
            .get(&app, "/admin/webhooks")
            .await
            .text()
            .await
            .unwrap();
        page.contains("HTTP 204").then_some(())
    })
    .await;
    app.finish().await;
}
