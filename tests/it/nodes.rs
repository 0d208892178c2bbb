//! Two nodes on one PostgreSQL (issue 11): webhooks and replies through both, one killed
//! mid-run. No message is stored twice, no reply is sent twice, one poller per channel, a
//! browser connected to one node sees what the other received, and the survivor takes over.

use crate::browser::{browser, sign_in_as, until};
use buzon_tests::browser::start_driver;
use buzon_tests::load::{count, load, stored};
use buzon_tests::sandbox::{
    connect_sandbox_channels, settle_replies, start_node, start_with_sandbox, Injection,
    SandboxConfig, Source,
};
use buzon_tests::web::{add_user, Session, PASSWORD};
use buzon_tests::TestDatabase;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(90);
const X_MENTIONS_ROUTE: &str = "GET /x/2/users/{id}/mentions";

fn mention_polls(sandbox: &buzon_tests::sandbox::Sandbox) -> u64 {
    sandbox
        .stats()
        .requests
        .get(X_MENTIONS_ROUTE)
        .copied()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_the_work_and_the_survivor_takes_over_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let config = SandboxConfig::default();
    // Short leases, so that the survivor takes over within seconds.
    let env = [
        ("BUZON_WORKERS_LEASE_SECS", "3"),
        ("BUZON_WORKERS_PLATFORM_TIMEOUT_SECS", "2"),
    ];
    let (mut first, sandbox) = start_with_sandbox(db.clone(), config.clone(), &env).await;
    connect_sandbox_channels(&first, &config).await;
    // The second node: same database, its own folder and log.
    let mut second_db = db.clone();
    second_db.dir = std::env::temp_dir().join(format!("buzon_node2_{}", std::process::id()));
    std::fs::create_dir_all(&second_db.dir).unwrap();
    let second = start_node(second_db, &sandbox, &env).await;
    let agent = first.token("agent").await;
    add_user(&first, "ana@shop.example", "agent").await;

    // One poller per channel: with both nodes up and a one-second interval, X mentions are
    // polled about once a second, not twice.
    let (polls, since) = (mention_polls(&sandbox), Instant::now());
    first
        .eventually(WAIT, "eight more mention polls", || async {
            (mention_polls(&sandbox) >= polls + 8).then_some(())
        })
        .await;
    let took = since.elapsed();
    assert!(
        took >= Duration::from_secs(6),
        "8 polls of one channel took {took:?}: more than one node polls it"
    );

    // A browser on the second node sees a message the first received.
    let session = Session::start(&second, "ana@shop.example").await;
    let mut events = session.get(&second, "/events").await;
    assert_eq!(events.status(), 200);
    let first_version = events.chunk().await.unwrap().expect("the current version");
    let customer = sandbox
        .inject(
            Injection::new(Source::Whatsapp, "¿hacen envíos a Canarias?").by("34600999000", "Iker"),
        )
        .expect("a WhatsApp message");
    let update = tokio::time::timeout(WAIT, async {
        loop {
            let chunk = events
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            if chunk.starts_with(b"event: activity") && chunk != first_version {
                return chunk;
            }
        }
    })
    .await
    .expect("the second node's browser hears of the first node's message");
    assert!(!update.is_empty());

    // And a real browser signed in on the second node shows a message the first node
    // received, by a live refresh of its queue (no reload).
    if let Some(driver) = start_driver().await {
        let client = browser(&driver.url).await;
        sign_in_as(&client, &second.base_url, "ana@shop.example", PASSWORD).await;
        let text = "¿y a Ceuta también llegan?";
        sandbox
            .inject(Injection::new(Source::Whatsapp, text).by("34600999001", "Nerea"))
            .expect("a WhatsApp message");
        until(
            &client,
            "the first node's message in the second node's inbox",
            &format!(
                "document.body.getAttribute('data-refreshed') !== null && \
                 document.querySelector('#queue').textContent.includes({})",
                serde_json::to_string(text).unwrap()
            ),
        )
        .await;
        client.close().await.unwrap();
    }
    let conversation = first
        .eventually(WAIT, "the customer's message", || async {
            let id = first
                .db
                .scalar(&format!(
                    "SELECT COALESCE(MAX(conversation_id), 0) FROM messages WHERE platform_id = '{}'",
                    customer.id
                ))
                .await;
            (id > 0).then_some(id)
        })
        .await;

    // Webhooks through both nodes, and replies through both.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let loaders: Vec<_> = [(&first, "a"), (&second, "b")]
        .into_iter()
        .flat_map(|(node, name)| {
            (0..2).map({
                let stop = &stop;
                let acknowledged = &acknowledged;
                let config = &config;
                move |worker| {
                    tokio::spawn(load(
                        node.http.clone(),
                        node.base_url.clone(),
                        config.whatsapp_phone_number_id.clone(),
                        format!("node-{name}{worker}"),
                        Arc::clone(stop),
                        Arc::clone(acknowledged),
                    ))
                }
            })
        })
        .collect();
    let mut replies = Vec::new();
    for (index, node) in [&first, &second, &first, &second].into_iter().enumerate() {
        let text = format!("Sí, enviamos a Canarias (respuesta {index})");
        let response = node
            .http
            .post(node.url(&format!("/api/v1/conversations/{conversation}/replies")))
            .bearer_auth(&agent)
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        replies.push(text);
    }
    first
        .eventually(WAIT, "load through both nodes", || async {
            (count(&acknowledged) >= 200).then_some(())
        })
        .await;

    // The first node dies mid-run; the platform's webhooks go to the second from now on.
    first.kill().await;
    sandbox.set_webhook_target(Some(second.base_url.clone()));
    let after_kill = count(&acknowledged);
    second
        .eventually(WAIT, "load on the survivor", || async {
            (count(&acknowledged) >= after_kill + 100).then_some(())
        })
        .await;
    stop.store(true, Ordering::Relaxed);
    for loader in loaders {
        loader.await.expect("a loader finishes");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    // The survivor takes over the pollers: a mention made now is polled and stored.
    let mention = sandbox
        .inject(Injection::new(Source::X, "@tienda ¿siguen abiertos?"))
        .expect("an X mention");
    second
        .eventually(WAIT, "the mention polled by the survivor", || async {
            (stored(&second, std::slice::from_ref(&mention.id)).await == 1).then_some(())
        })
        .await;
    second
        .eventually(WAIT, "every acknowledged delivery stored", || async {
            (stored(&second, &acknowledged).await == acknowledged.len() as i64).then_some(())
        })
        .await;
    assert_eq!(
        second
            .db
            .scalar(
                "SELECT COUNT(*) FROM (SELECT channel_id, platform_id FROM messages \
                 WHERE platform_id IS NOT NULL GROUP BY channel_id, platform_id \
                 HAVING COUNT(*) > 1) duplicated",
            )
            .await,
        0,
        "no message stored twice"
    );

    // Every reply reaches the platform once: a send the kill cut short is unknown, and the
    // agent settles it from what the platform shows.
    settle_replies(&second, &sandbox, &agent, conversation, &replies, WAIT).await;
    sandbox.shutdown().await;
    let second_dir = second.db.dir.clone();
    second.finish().await;
    let _ = std::fs::remove_dir_all(second_dir);
    first.finish().await;
}
