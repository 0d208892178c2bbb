//! Durability (issue 11): what buzon acknowledged survives a SIGKILL at any moment and a
//! backup taken under load, and a reply queued before a crash reaches the platform once.

use buzon_tests::app::TestApp;
use buzon_tests::load::{count, load, stored};
use buzon_tests::sandbox::{
    connect_sandbox_channels, settle_replies, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::{Engine, TestDatabase};
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);

async fn killed_at_random_moments_it_keeps_every_acknowledged_delivery_and_sends_each_reply_once(
    engine: Engine,
) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let config = SandboxConfig::default();
    let (mut app, sandbox) = start_with_sandbox(
        db,
        config.clone(),
        &[
            // A dead node's claims are taken over quickly.
            ("BUZON_WORKERS_LEASE_SECS", "3"),
            ("BUZON_WORKERS_PLATFORM_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    connect_sandbox_channels(&app, &config).await;
    let agent = app.token("agent").await;
    let customer = sandbox
        .inject(Injection::new(Source::Whatsapp, "¿a qué hora cierran?").by("34600777888", "Eva"))
        .expect("a WhatsApp message");
    let conversation = app
        .eventually(WAIT, "the customer's message", || async {
            let rows = app
                .db
                .scalar(&format!(
                    "SELECT COALESCE(MAX(conversation_id), 0) FROM messages WHERE platform_id = '{}'",
                    customer.id
                ))
                .await;
            (rows > 0).then_some(rows)
        })
        .await;

    let mut rng = rand::rngs::StdRng::seed_from_u64(0xb0_2011);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut replies: Vec<String> = Vec::new();
    for round in 0..5 {
        let stop = Arc::new(AtomicBool::new(false));
        let before = count(&acknowledged);
        let loaders: Vec<_> = (0..4)
            .map(|worker| {
                tokio::spawn(load(
                    app.http.clone(),
                    app.base_url.clone(),
                    config.whatsapp_phone_number_id.clone(),
                    format!("crash{round}w{worker}"),
                    Arc::clone(&stop),
                    Arc::clone(&acknowledged),
                ))
            })
            .collect();
        // A reply queued while the load runs, so that some crashes hit it mid-send.
        let text = format!("Cerramos a las 20:00 (aviso {round})");
        let queued = app
            .http
            .post(app.url(&format!("/api/v1/conversations/{conversation}/replies")))
            .bearer_auth(&agent)
            .json(&json!({ "text": text }))
            .send()
            .await
            .expect("the reply request");
        assert_eq!(queued.status(), 202);
        replies.push(text);
        // Kill once the load is under way, at a moment that differs from round to round.
        let after = rng.gen_range(20..200);
        app.eventually(WAIT, "the load under way", || async {
            (count(&acknowledged) >= before + after).then_some(())
        })
        .await;
        app.kill().await;
        stop.store(true, Ordering::Relaxed);
        for loader in loaders {
            loader.await.expect("the loader finishes");
        }
        eprintln!(
            "round {round}: killed after {after} acknowledged; {} acknowledged in the round",
            count(&acknowledged) - before
        );
        app.spawn_server().await;
        sandbox.set_webhook_target(Some(app.base_url.clone()));
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 100,
        "{} acknowledged",
        acknowledged.len()
    );

    // Every acknowledged delivery is stored and processed, once.
    app.eventually(WAIT, "every acknowledged delivery as a message", || async {
        (stored(&app, &acknowledged).await == acknowledged.len() as i64).then_some(())
    })
    .await;
    app.eventually(WAIT, "no inbound event left pending", || async {
        let pending = app
            .db
            .scalar("SELECT COUNT(*) FROM inbound_events WHERE state <> 'done'")
            .await;
        (pending == 0).then_some(())
    })
    .await;
    let unique: HashSet<&String> = acknowledged.iter().collect();
    assert_eq!(unique.len(), acknowledged.len());
    assert_eq!(
        app.db
            .scalar(
                "SELECT COUNT(*) FROM (SELECT channel_id, platform_id FROM messages \
                 WHERE platform_id IS NOT NULL GROUP BY channel_id, platform_id \
                 HAVING COUNT(*) > 1) duplicated",
            )
            .await,
        0
    );

    // Every reply reaches the platform at most once; one whose send a crash cut short is
    // `unknown`, and the agent settles it from what the platform shows.
    settle_replies(&app, &sandbox, &agent, conversation, &replies, WAIT).await;
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_moments_it_keeps_every_acknowledged_delivery_and_sends_each_reply_once_on_sqlite(
) {
    killed_at_random_moments_it_keeps_every_acknowledged_delivery_and_sends_each_reply_once(
        Engine::Sqlite,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_moments_it_keeps_every_acknowledged_delivery_and_sends_each_reply_once_on_postgres(
) {
    killed_at_random_moments_it_keeps_every_acknowledged_delivery_and_sends_each_reply_once(
        Engine::Postgres,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_every_message_acknowledged_before_it_began() {
    // Short leases: events this server had claimed when the copy was taken are still leased
    // to it in the copy, and the restored server takes them over when the lease runs out.
    let leases = [
        ("BUZON_WORKERS_POLL_INTERVAL_SECS", "3600"),
        ("BUZON_WORKERS_LEASE_SECS", "3"),
        ("BUZON_WORKERS_PLATFORM_TIMEOUT_SECS", "2"),
    ];
    let mut app = TestApp::start(TestDatabase::sqlite(), &leases).await;
    let phone_number_id = "106540352242922";
    let output = app
        .cli(
            &[
                "channel",
                "add",
                "whatsapp",
                "--phone-number-id",
                phone_number_id,
                "--access-token",
                "backup-test-token",
                "--no-check",
            ],
            None,
        )
        .await;
    assert!(output.status.success());

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let loaders: Vec<_> = (0..4)
        .map(|worker| {
            tokio::spawn(load(
                app.http.clone(),
                app.base_url.clone(),
                phone_number_id.to_owned(),
                format!("backup-w{worker}"),
                Arc::clone(&stop),
                Arc::clone(&acknowledged),
            ))
        })
        .collect();
    app.eventually(WAIT, "the load under way", || async {
        (count(&acknowledged) >= 200).then_some(())
    })
    .await;
    // Every delivery acknowledged before the backup began must be in it.
    let before_backup = acknowledged.lock().unwrap().clone();
    let backup = app.db.dir.join("backup.db");
    let output = app.cli(&["backup", backup.to_str().unwrap()], None).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let during_backup = count(&acknowledged) - before_backup.len();
    // A backup never overwrites a file.
    let again = app.cli(&["backup", backup.to_str().unwrap()], None).await;
    assert!(!again.status.success());
    stop.store(true, Ordering::Relaxed);
    for loader in loaders {
        loader.await.expect("the loader finishes");
    }
    app.terminate(Duration::from_secs(20)).await;
    eprintln!(
        "{} acknowledged before the backup, {during_backup} while it ran",
        before_backup.len()
    );
    assert!(during_backup > 0, "the backup ran under load");

    // Restore: the copy becomes the database file of a fresh server, which processes what
    // was still queued in it.
    let restored_db = TestDatabase::sqlite();
    std::fs::create_dir_all(restored_db.dir.join("data")).unwrap();
    std::fs::copy(&backup, restored_db.dir.join("data/buzon.db")).unwrap();
    let restored = TestApp::start(restored_db, &leases).await;
    restored
        .eventually(
            WAIT,
            "every message acknowledged before the backup",
            || async {
                (stored(&restored, &before_backup).await == before_backup.len() as i64)
                    .then_some(())
            },
        )
        .await;
    app.finish().await;
    restored.finish().await;
}
