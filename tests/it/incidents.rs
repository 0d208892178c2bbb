//! Incident mode end to end against the sandbox: while on, matching messages are answered
//! once and labelled; the bulk answer sends one reply per conversation (and repeating it sends
//! nothing twice); once ended, no more automatic replies. A burst from the sandbox raises the
//! "possible incident" banner.

use crate::service::inject_and_wait;
use buzon_tests::app::TestApp;
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, Sandbox, SandboxConfig, Source,
};
use buzon_tests::{Engine, TestDatabase};
use serde_json::{json, Value};
use std::time::Duration;

const SPANISH: &str = "Sabemos que la web está caída y ya estamos en ello. Te avisamos por aquí.";
const ENGLISH: &str = "We know the website is down and we are on it. We'll update you here.";
const BULK: &str = "¡Ya funciona! Gracias por la paciencia.";

async fn writes(
    app: &TestApp,
    sandbox: &Sandbox,
    token: &str,
    source: Source,
    author: &str,
    text: &str,
) -> Value {
    let injection = Injection::new(source, text).by(author, format!("Cliente {author}"));
    inject_and_wait(app, sandbox, token, injection).await
}

/// The texts the sandbox accepted for `target` (a wa_id or an X participant).
pub(crate) fn sent_to(sandbox: &Sandbox, target: &str) -> Vec<String> {
    sandbox
        .replies()
        .into_iter()
        .filter(|reply| reply.accepted && reply.target_id == target)
        .filter_map(|reply| reply.text)
        .collect()
}

async fn incident_mode(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(db, config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let agent = app.token("agent").await;
    let viewer = app.token("viewer").await;
    let incident = json!({"title": "Web caída", "keywords": ["caída", "no funciona", "down"],
                          "texts": {"es": SPANISH, "en": ENGLISH}, "label": "incidente"});
    let refused = app
        .http
        .post(app.url("/api/v1/incidents"))
        .bearer_auth(&viewer)
        .json(&incident)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    // Someone wrote about it just before the incident was announced: they join it too.
    writes(
        &app,
        &sandbox,
        &agent,
        Source::Whatsapp,
        "34611000009",
        "¿Os pasa algo? La web no funciona desde hace un rato",
    )
    .await;
    let started = app
        .http
        .post(app.url("/api/v1/incidents"))
        .bearer_auth(&agent)
        .json(&incident)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 201);
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();

    // While it is on: matching messages are answered once, in their language, and labelled.
    let ana = writes(
        &app,
        &sandbox,
        &agent,
        Source::Whatsapp,
        "34611000001",
        "Hola, la web está caída y no puedo pagar mi pedido",
    )
    .await;
    writes(
        &app,
        &sandbox,
        &agent,
        Source::XDm,
        "7301",
        "Hi, is your website down? The checkout fails every time",
    )
    .await;
    writes(
        &app,
        &sandbox,
        &agent,
        Source::Whatsapp,
        "34611000002",
        "¿Tenéis la camiseta azul en talla M?",
    )
    .await;
    writes(
        &app,
        &sandbox,
        &agent,
        Source::Whatsapp,
        "34611000001",
        "Sigue sin funcionar, ¿la web está caída todavía?",
    )
    .await;
    assert_eq!(sent_to(&sandbox, "34611000001"), vec![SPANISH.to_owned()]);
    assert_eq!(sent_to(&sandbox, "7301"), vec![ENGLISH.to_owned()]);
    assert!(sent_to(&sandbox, "34611000002").is_empty());
    let detail = app
        .api_get(
            &agent,
            &format!("/api/v1/conversations/{}", ana["conversation_id"]),
        )
        .await;
    assert_eq!(detail["tags"], json!(["incidente"]), "{detail}");
    let listed = app.api_get(&viewer, "/api/v1/incidents").await;
    assert_eq!(listed["items"][0]["conversations"], 3, "{listed}");
    app.eventually(
        Duration::from_secs(30),
        "the earlier customer answered",
        || async { (sent_to(&sandbox, "34611000009") == vec![SPANISH.to_owned()]).then_some(()) },
    )
    .await;
    assert_eq!(listed["items"][0]["active"], true);

    // The bulk answer: one reply per conversation; asking again sends nothing twice.
    let bulk = |text: &'static str| {
        let request = app
            .http
            .post(app.url(&format!("/api/v1/incidents/{id}/bulk-reply")))
            .bearer_auth(&agent)
            .json(&json!({ "text": text }));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 202);
            response.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(bulk(BULK).await, json!({"queued": 3, "skipped": 0}));
    assert_eq!(bulk(BULK).await, json!({"queued": 0, "skipped": 3}));
    app.eventually(Duration::from_secs(30), "the bulk replies sent", || async {
        (sent_to(&sandbox, "34611000001").len() == 2 && sent_to(&sandbox, "7301").len() == 2)
            .then_some(())
    })
    .await;
    assert_eq!(sent_to(&sandbox, "34611000001")[1], BULK);

    // Ended: no more automatic replies.
    let ended = app
        .http
        .post(app.url(&format!("/api/v1/incidents/{id}/end")))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    writes(
        &app,
        &sandbox,
        &agent,
        Source::Whatsapp,
        "34611000003",
        "La web está caída otra vez, ¿qué pasa?",
    )
    .await;
    assert!(sent_to(&sandbox, "34611000003").is_empty());

    // A burst: the possible-incident banner, with the words the messages share.
    let burst = sandbox.burst(30);
    assert_eq!(burst.len(), 30);
    let spike = app
        .eventually(Duration::from_secs(60), "the spike noticed", || async {
            let listed = app.api_get(&viewer, "/api/v1/incidents").await;
            (!listed["spike"].is_null()).then(|| listed["spike"].clone())
        })
        .await;
    assert!(spike["recent"].as_i64().unwrap() >= 20, "{spike}");
    assert!(
        spike["words"]
            .as_array()
            .unwrap()
            .iter()
            .any(|word| word == "web"),
        "{spike}"
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'spike.detected'")
            .await,
        1
    );
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_mode_answers_once_labels_bulk_replies_and_a_burst_raises_the_banner_on_sqlite() {
    incident_mode(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_mode_answers_once_labels_bulk_replies_and_a_burst_raises_the_banner_on_postgres()
{
    incident_mode(Engine::Postgres).await;
}
