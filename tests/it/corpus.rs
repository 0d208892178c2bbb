//! Every delivery accounted for (issue 17), end to end: every recorded delivery of the corpus
//! (`tests/fixtures/corpus/`) posted twice to the real binary's signed webhooks, on both
//! engines, and each of its parts checked against the manifest's `expect`: messages stored
//! exactly once with their text and author, known events adding nothing, unrecognized parts
//! kept `unparsed` with their path. Then the life of an unparsed part: seen in the event log,
//! in `/metrics` and on the channel's health, and replayed into a message exactly once after
//! buzon learns the shape.

use buzon_tests::corpus::{self, Delivery, ListedPart, PLATFORMS};
use buzon_tests::web::{add_user, Session};
use buzon_tests::{Engine, TestApp, TestDatabase};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// The environment of a corpus run: no platform answers, and pollers stay out of the way.
const QUIET: &[(&str, &str)] = &[
    ("BUZON_WORKERS_POLL_INTERVAL_SECS", "3600"),
    ("BUZON_FACEBOOK_API_BASE", "http://127.0.0.1:9/v21.0"),
    ("BUZON_WHATSAPP_API_BASE", "http://127.0.0.1:9/v21.0"),
    ("BUZON_X_API_BASE", "http://127.0.0.1:9"),
];

/// `value` as a SQL string literal.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Connects a channel for `account` of `platform`, unchecked (no platform answers here).
async fn connect(app: &TestApp, platform: &str, account: &str) {
    let id_flag = match platform {
        "facebook" => ["--page-id", "--page-token"],
        "whatsapp" => ["--phone-number-id", "--access-token"],
        _ => ["--user-id", "--access-token"],
    };
    let output = app
        .cli(
            &[
                "channel",
                "add",
                platform,
                id_flag[0],
                account,
                id_flag[1],
                "corpus-token",
                "--no-check",
            ],
            None,
        )
        .await;
    assert!(
        output.status.success(),
        "channel add {platform} {account}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until every inbound event is processed, then returns each event's state and its
/// unparsed parts' paths, by body.
async fn processed_events(
    app: &TestApp,
    expected: usize,
) -> HashMap<String, (String, HashSet<String>)> {
    let body = match app.db.engine {
        Engine::Sqlite => "CAST(body AS TEXT)",
        Engine::Postgres => "convert_from(body, 'UTF8')",
    };
    let sql = format!("SELECT {body}, state, unparsed FROM inbound_events");
    app.eventually(WAIT, &format!("{expected} events processed"), || async {
        let rows = app.db.texts(&sql).await;
        let pending = rows.iter().any(|row| row[1].as_deref() == Some("pending"));
        (rows.len() >= expected && !pending).then(|| {
            rows.into_iter()
                .map(|row| {
                    let paths: HashSet<String> = row[2]
                        .as_deref()
                        .map(|json| {
                            let parts: Vec<Value> =
                                serde_json::from_str(json).expect("unparsed parts are JSON");
                            parts
                                .iter()
                                .map(|part| part["path"].as_str().unwrap_or_default().to_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    (
                        row[0].clone().unwrap_or_default(),
                        (row[1].clone().unwrap_or_default(), paths),
                    )
                })
                .collect()
        })
    })
    .await
}

/// What is wrong with a `message` part in the store, if anything.
async fn check_message(app: &TestApp, part: &ListedPart) -> Result<(), String> {
    let mut filter = vec!["m.direction = 'inbound'".to_owned()];
    if let Some(id) = &part.platform_id {
        filter.push(format!("m.platform_id = {}", literal(id)));
    }
    if let Some(author) = &part.author {
        filter.push(format!("c.platform_id = {}", literal(author)));
    }
    if let Some(account) = &part.account {
        filter.push(format!("ch.platform_id = {}", literal(account)));
    }
    if part.platform_id.is_none() {
        if let Some(text) = &part.text {
            filter.push(format!("m.text = {}", literal(text)));
        }
    }
    let rows = app
        .db
        .texts(&format!(
            "SELECT m.text FROM messages m JOIN contacts c ON c.id = m.contact_id \
             JOIN channels ch ON ch.id = m.channel_id WHERE {}",
            filter.join(" AND ")
        ))
        .await;
    if rows.len() != 1 {
        return Err(format!(
            "{} messages by {:?} with id {:?}, not one",
            rows.len(),
            part.author,
            part.platform_id
        ));
    }
    let stored = rows[0][0].clone().unwrap_or_default();
    if let Some(text) = part.text.as_deref().filter(|text| !text.is_empty()) {
        // The customer's words exactly, with at most a placeholder for what cannot be shown
        // after them, or the description of the list row they chose (WhatsApp).
        let exact = stored == text
            || stored
                .strip_prefix(text)
                .is_some_and(|rest| rest.starts_with("\n[") || rest.starts_with(" — "));
        if !exact {
            return Err(format!("text {stored:?}, recorded {text:?}"));
        }
    }
    if part.is == "unsupported_message" && !stored.contains("of an unsupported kind") {
        return Err(format!("text {stored:?} has no placeholder"));
    }
    Ok(())
}

/// Feeds one batch (no shared ids) to a fresh binary and checks every part; returns the
/// failures and adds to the outcome counts.
async fn run_batch(
    engine: Engine,
    platform: &str,
    batch: &[Delivery],
    counts: &mut BTreeMap<String, usize>,
) -> Vec<String> {
    let db = TestDatabase::of(engine)
        .await
        .expect("TestDatabase::of answers for a checked engine");
    let app = TestApp::start(db, QUIET).await;
    let accounts: HashSet<&str> = batch
        .iter()
        .flat_map(|delivery| &delivery.parts)
        .filter_map(|part| part.account.as_deref())
        .collect();
    for account in &accounts {
        connect(&app, platform, account).await;
    }
    for delivery in batch {
        for attempt in 0..2 {
            let response = app.post_signed_webhook(platform, &delivery.body).await;
            assert_eq!(
                response.status(),
                200,
                "{platform}/{} (post {attempt}) is acknowledged",
                delivery.file
            );
        }
    }
    let events = processed_events(&app, batch.len()).await;
    let mut failures = Vec::new();
    let (mut messages, mut edits) = (0, 0);
    for delivery in batch {
        let body = String::from_utf8(delivery.body.clone()).expect("corpus files are UTF-8");
        let Some((state, unparsed)) = events.get(&body) else {
            failures.push(format!("{}: no event stored", delivery.file));
            continue;
        };
        let expects_unparsed = delivery
            .parts
            .iter()
            .any(|part| part.expect == "unrecognized");
        let want_state = if expects_unparsed { "unparsed" } else { "done" };
        if state != want_state {
            failures.push(format!(
                "{}: event {state}, expected {want_state} (unparsed: {unparsed:?})",
                delivery.file
            ));
        }
        for part in &delivery.parts {
            *counts
                .entry(format!("{platform} {}", part.expect))
                .or_default() += 1;
            let is_unparsed = unparsed.contains(&part.path);
            let where_ = format!("{} {} ({})", delivery.file, part.path, part.expect);
            if (part.expect == "unrecognized") != is_unparsed {
                failures.push(format!("{where_}: unparsed is {is_unparsed}"));
            }
            match part.expect.as_str() {
                "message" => {
                    messages += 1;
                    if let Err(err) = check_message(&app, part).await {
                        failures.push(format!("{where_}: {err}"));
                    }
                }
                // An edit of a message this store never saw is stored as the message.
                "edited" => edits += 1,
                _ => {}
            }
        }
    }
    // Known events, statuses, removals and hides add no message.
    let stored = app
        .db
        .scalar("SELECT COUNT(*) FROM messages WHERE direction = 'inbound'")
        .await;
    if stored < messages || stored > messages + edits {
        failures.push(format!(
            "{platform} batch of {}: {stored} messages stored, expected {messages} (+ up to {edits} edits)",
            batch.len()
        ));
    }
    if failures.is_empty() {
        app.finish().await;
    }
    failures
}

async fn every_corpus_delivery_has_its_outcome(engine: Engine) {
    if engine == Engine::Postgres && buzon_tests::db::postgres_admin_url().is_none() {
        return;
    }
    let mut failures = Vec::new();
    let mut counts = BTreeMap::new();
    let mut deliveries_per_platform = BTreeMap::new();
    for platform in PLATFORMS {
        let deliveries = corpus::deliveries(platform);
        deliveries_per_platform.insert(platform, deliveries.len());
        for batch in corpus::batches(&deliveries) {
            failures.extend(run_batch(engine, platform, &batch, &mut counts).await);
        }
    }
    println!("corpus on {engine:?}: deliveries {deliveries_per_platform:?}");
    for (outcome, count) in &counts {
        println!("  {outcome}: {count}");
    }
    assert!(
        failures.is_empty(),
        "{} parts off:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        deliveries_per_platform.values().all(|count| *count > 0),
        "the corpus is there: {deliveries_per_platform:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_delivery_has_its_outcome_on_sqlite() {
    every_corpus_delivery_has_its_outcome(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_delivery_has_its_outcome_on_postgres() {
    every_corpus_delivery_has_its_outcome(Engine::Postgres).await;
}

/// A Messenger delivery with one message buzon reads and one in a shape it does not know yet
/// (`message_v2`, as a platform might rename a field).
const MIXED: &str = r#"{"object":"page","entry":[{"id":"5550001","time":1764979200000,"messaging":[
  {"sender":{"id":"7001"},"recipient":{"id":"5550001"},"timestamp":1764979200000,"message":{"mid":"m_known_shape","text":"¿Tenéis la talla 38?"}},
  {"sender":{"id":"7002"},"recipient":{"id":"5550001"},"timestamp":1764979201000,"message_v2":{"mid":"m_new_shape","text":"Quiero devolver el pedido 1234"}}
]}]}"#;

async fn count_messages(app: &TestApp, platform_id: &str) -> i64 {
    app.db
        .scalar(&format!(
            "SELECT COUNT(*) FROM messages WHERE platform_id = {}",
            literal(platform_id)
        ))
        .await
}

async fn event_state(app: &TestApp, id: i64) -> String {
    app.db
        .texts(&format!("SELECT state FROM inbound_events WHERE id = {id}"))
        .await[0][0]
        .clone()
        .unwrap_or_default()
}

async fn an_unparsed_part_is_seen_and_replayed_once_learned(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let mut app = TestApp::start(db, QUIET).await;
    connect(&app, "facebook", "5550001").await;
    add_user(&app, "admin@shop.example", "admin").await;
    let admin_token = app.token("admin").await;

    let response = app.post_signed_webhook("facebook", MIXED.as_bytes()).await;
    assert_eq!(response.status(), 200);

    // The event log: one unparsed event, naming the part it could not read.
    let events = app
        .eventually(WAIT, "the unparsed event in the log", || async {
            let list = app.api_get(&admin_token, "/api/v1/admin/events").await;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            (!items.is_empty()).then_some(items)
        })
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["state"], "unparsed", "{event}");
    assert_eq!(
        event["unparsed"][0]["path"], "entry[0].messaging[1]",
        "{event}"
    );
    assert!(
        event["unparsed"][0]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("message_v2")),
        "the reason names the field: {event}"
    );
    let event_id = event["id"].as_i64().expect("an event id");
    // Its neighbour is stored all the same.
    assert_eq!(count_messages(&app, "m_known_shape").await, 1);
    assert_eq!(count_messages(&app, "m_new_shape").await, 0);

    // /metrics counts it by platform and channel.
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("buzon_events_unparsed_total{platform=\"facebook\",channel=\"1\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("buzon_queue_depth{queue=\"inbound_unparsed\"} 1"),
        "{metrics}"
    );

    // The channel's health shows it, and every admin page carries the banner.
    let session = Session::start(&app, "admin@shop.example").await;
    let channels = session
        .get(&app, "/admin/channels")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        channels.contains("Deliveries not read completely")
            && channels.contains(r#"<a href="/admin/events">1</a>"#),
        "{channels}"
    );
    assert!(channels.contains(r#"class="banner""#), "{channels}");
    let log_page = session
        .get(&app, "/admin/events")
        .await
        .text()
        .await
        .unwrap();
    assert!(log_page.contains("entry[0].messaging[1]"), "{log_page}");

    // Replayed before buzon understands it: unparsed again, and nothing doubled.
    let replay = app
        .http
        .post(app.url(&format!("/api/v1/admin/events/{event_id}/replay")))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 202);
    app.eventually(WAIT, "the replay processed", || async {
        (event_state(&app, event_id).await == "unparsed").then_some(())
    })
    .await;
    assert_eq!(count_messages(&app, "m_known_shape").await, 1);

    // buzon learns the shape (the feature switch: a key alias), restarts, and the admin
    // replays the event from the command line: the message lands once, its neighbour stays
    // single.
    app.terminate(Duration::from_secs(20)).await;
    app.set_env("BUZON_FACEBOOK_KEY_ALIASES", "message_v2=message");
    app.spawn_server().await;
    let output = app
        .cli(&["event", "replay", &event_id.to_string()], None)
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    app.eventually(WAIT, "the replay stored the message", || async {
        (event_state(&app, event_id).await == "done").then_some(())
    })
    .await;
    assert_eq!(count_messages(&app, "m_new_shape").await, 1);
    assert_eq!(count_messages(&app, "m_known_shape").await, 1);
    let text = app
        .db
        .texts("SELECT text FROM messages WHERE platform_id = 'm_new_shape'")
        .await;
    assert_eq!(
        text[0][0].as_deref(),
        Some("Quiero devolver el pedido 1234")
    );
    // Nothing is left to replay: a second replay is refused and changes nothing.
    let again = app
        .cli(&["event", "replay", &event_id.to_string()], None)
        .await;
    assert!(!again.status.success());
    assert_eq!(count_messages(&app, "m_new_shape").await, 1);
    let channels = session
        .get(&app, "/admin/channels")
        .await
        .text()
        .await
        .unwrap();
    assert!(!channels.contains(r#"class="banner""#), "{channels}");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unparsed_part_is_seen_and_replayed_once_learned_on_sqlite() {
    an_unparsed_part_is_seen_and_replayed_once_learned(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unparsed_part_is_seen_and_replayed_once_learned_on_postgres() {
    an_unparsed_part_is_seen_and_replayed_once_learned(Engine::Postgres).await;
}
