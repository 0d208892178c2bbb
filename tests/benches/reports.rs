//! Benchmark: the queries of a busy store — the inbox list with filters, search, the
//! conversation view, the reports page, the metrics API and the public response-time JSON —
//! over 1,000,000 messages in 100,000 conversations, served by the real router in-process (no
//! network) and timed at the server. Run with `cargo bench -p buzon-tests --bench reports`:
//! SQLite, and PostgreSQL too when `BUZON_TEST_POSTGRES_URL` is set (a database
//! `buzon_bench_reports` is created beside it). Writes `target/bench-queries.json`.
//!
//! Each database is seeded once with batched INSERTs in transactions (fixed seed; a minute or
//! two) and kept for later runs (`target/bench-reports/`, or the PostgreSQL database); delete it
//! to reseed. Targets: the reports page
//! under 300 ms, the public JSON under 5 ms. Printed: the index build a node does once when it
//! starts, reports for queries asked for the first time (computed from the index), a report
//! after 1,000 new messages (read from the journal), and warm figures (kept reports).

use axum::body::Body;
use axum::http::Request;
use buzon_app::{App, AppSettings, Connectors};
use buzon_core::*;
use buzon_store::{Cipher, DatabaseUrl, Store};
use buzon_web::{AppState, WebSettings};
use sqlx::any::AnyPoolOptions;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const MESSAGES: usize = 1_000_000;
/// Conversations of 4 to 16 messages, 10 on average.
const CONVERSATIONS: usize = 100_000;
const DAYS: i64 = 90;
const DAY: i64 = 24 * 60 * 60 * 1000;

#[tokio::main]
async fn main() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-reports");
    std::fs::create_dir_all(&dir).expect("bench folder");
    let mut results = Vec::new();
    run(
        "SQLite",
        &format!("sqlite://{}/reports.db", dir.display()),
        &mut results,
    )
    .await;
    if let Ok(base) = std::env::var("BUZON_TEST_POSTGRES_URL") {
        let url = postgres_database(&base, "buzon_bench_reports").await;
        run("PostgreSQL", &url, &mut results).await;
    }
    let out = dir.join("../bench-queries.json");
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    println!("\nwritten to {}", out.display());
}

/// The URL of database `name` on the server of `base`, created if it does not exist.
async fn postgres_database(base: &str, name: &str) -> String {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await
        .expect("PostgreSQL answers");
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&pool)
        .await
        .expect("pg_database")
        .is_some();
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .expect("create the bench database");
    }
    pool.close().await;
    let (server, _) = base
        .rsplit_once('/')
        .expect("a PostgreSQL URL names its database");
    format!("{server}/{name}")
}

async fn run(engine: &str, url: &str, results: &mut Vec<serde_json::Value>) {
    let cipher = Cipher::from_key_text(&"11".repeat(32)).expect("key");
    let store = Store::connect(&DatabaseUrl::parse(url).expect("url"), cipher)
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    let now = Timestamp::now().as_millis();
    if store.list_channels().await.expect("channels").is_empty() {
        let started = Instant::now();
        seed(&store, url, now).await;
        eprintln!("seeded {MESSAGES} messages in {:.1?}", started.elapsed());
    } else {
        eprintln!("reusing the seeded {engine} database");
    }
    let user = match store
        .create_user("bench-reports@shop.example", "Bench", Role::Viewer, "x")
        .await
    {
        Ok(user) => user,
        Err(_) => store
            .list_users()
            .await
            .expect("users")
            .into_iter()
            .find(|user| user.email == "bench-reports@shop.example")
            .expect("the bench user"),
    };
    let (session, _csrf) = store
        .create_session(user.id, Timestamp::now().plus_millis(3_600_000))
        .await
        .expect("session");
    let cookie = format!("buzon_session={session}");
    let channel = store.list_channels().await.expect("channels")[0].id;
    store
        .set_channel_published(channel, true)
        .await
        .expect("publish");
    let calendar = metrics::BusinessCalendar::new(
        "Europe/Madrid",
        metrics::WeeklySchedule::monday_to_friday(
            metrics::OpenInterval::parse("09:00-18:00").unwrap(),
        ),
        [metrics::LocalDate::parse("2026-12-25").unwrap()],
    )
    .expect("calendar");
    let app = App::new(
        store.clone(),
        Connectors::new(),
        AppSettings {
            business_calendar: Some(calendar),
            ..AppSettings::default()
        },
    );
    let (_stop, stopping) = tokio::sync::watch::channel(false);
    let state = AppState::new(app, WebSettings::default(), stopping);
    let router = buzon_web::router(state);

    println!("reports over {MESSAGES} messages in {DAYS} days ({engine}):");
    // A node builds its in-memory index once, when it starts (the refresh task does it when
    // serving; here the first request does).
    let started = Instant::now();
    let (status, _) = get(&router, "/reports", &cookie).await;
    assert_eq!(status, 200);
    println!(
        "  index build + first report (once per node start)            {:>9.1} ms   (process memory {})",
        ms(started.elapsed()),
        resident_memory()
    );

    // Every other query is computed from the index on its first request: each of these is
    // asked for the first time.
    let mut cold: Vec<(String, Duration)> = Vec::new();
    for (from_days, to_days) in [(30, 0), (7, 0), (90, 0), (60, 30), (14, 7), (45, 15)] {
        for (channel, flagged) in [("", ""), ("&channel=2", ""), ("", "&flagged=include")] {
            let path = format!(
                "/reports?from={}&to={}{channel}{flagged}",
                day_text(now - from_days * DAY),
                day_text(now - to_days * DAY)
            );
            let started = Instant::now();
            let (status, _) = get(&router, &path, &cookie).await;
            assert_eq!(status, 200, "{path}");
            cold.push((path, started.elapsed()));
        }
    }
    let mut times: Vec<Duration> = cold.iter().map(|(_, time)| *time).collect();
    times.sort();
    let slowest = cold.iter().max_by_key(|(_, time)| *time).expect("queries");
    println!(
        "  cold: a new query computed from the index   median {:>8.1} ms   p95 {:>8.1} ms   max {:>8.1} ms   ({} queries; slowest {})",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() - 1]),
        times.len(),
        slowest.0
    );

    // New messages reach the next report through the journal: 1,000 customer messages
    // arrive, then the default report is asked for again.
    for index in 0..1_000 {
        let message = NewInboundMessage {
            channel_id: channel,
            platform_id: ExternalId::parse(format!("bench-{now}-{index}")).unwrap(),
            thread_key: format!("bench-thread-{}", index % 300),
            conversation_kind: ConversationKind::Whatsapp,
            author: NewContact {
                platform_id: ExternalId::parse(format!("bench-author-{}", index % 300)).unwrap(),
                name: None,
                handle: None,
            },
            text: "¿y mi pedido?".into(),
            attachments: vec![],
            created_at: Timestamp::from_millis(now - 1_000 + index),
            raw: None,
            found_by: None,
        };
        store.ingest_message(&message).await.expect("ingest");
    }
    let started = Instant::now();
    let (status, _) = get(&router, "/reports", &cookie).await;
    assert_eq!(status, 200);
    println!(
        "  after 1,000 new messages (journal read + 300 conversations measured + report) {:>9.1} ms",
        ms(started.elapsed())
    );
    let started = Instant::now();
    let (status, _) = get(&router, "/public/response-times.json", "").await;
    assert_eq!(status, 200);
    println!(
        "  public figures, first request (computed from the index)     {:>9.1} ms",
        ms(started.elapsed())
    );

    let conversation = CONVERSATIONS / 2;
    let scenarios = [
        ("inbox, first page", "/inbox".to_owned(), 200),
        (
            "inbox, longest waiting",
            "/inbox?sort=waiting".to_owned(),
            200,
        ),
        ("inbox, one channel", "/inbox?channel=2".to_owned(), 200),
        ("inbox, one label", "/inbox?tag=refund".to_owned(), 200),
        ("inbox, resolved", "/inbox?status=resolved".to_owned(), 200),
        (
            "inbox, trolls & spam view",
            "/inbox?view=trolls".to_owned(),
            100,
        ),
        (
            "search, a rare word (1 message)",
            "/inbox?q=4242".to_owned(),
            100,
        ),
        (
            "search, a common word (50% of messages)",
            "/inbox?q=gracias".to_owned(),
            100,
        ),
        (
            "conversation view (4 to 16 messages)",
            format!("/conversations/{conversation}"),
            200,
        ),
        ("reports page", "/reports".to_owned(), 40),
        (
            "reports page, Spanish",
            "/reports?share=80&within=15&handling=8".to_owned(),
            40,
        ),
        (
            "per-conversation CSV export",
            "/reports/export/conversations.csv".to_owned(),
            5,
        ),
        (
            "public JSON",
            "/public/response-times.json".to_owned(),
            2000,
        ),
        ("public page", "/public/response-times".to_owned(), 2000),
        ("badge", "/public/badge.svg".to_owned(), 2000),
    ];
    for (name, path, runs) in scenarios {
        let language = if name.contains("Spanish") { "es" } else { "en" };
        for _ in 0..3 {
            get_as(&router, &path, &cookie, language).await;
        }
        let mut times: Vec<Duration> = Vec::new();
        let mut size = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let (status, body) = get_as(&router, &path, &cookie, language).await;
            times.push(started.elapsed());
            assert_eq!(status, 200, "{path}");
            size = body.len();
        }
        times.sort();
        let p50 = ms(times[times.len() / 2]);
        let p99 = ms(times[(times.len() * 99 / 100).min(times.len() - 1)]);
        println!(
            "  warm: {name:<42} p50 {p50:>8.3} ms   p99 {p99:>8.3} ms   max {:>8.3} ms   ({} runs, {} KiB)",
            ms(times[times.len() - 1]),
            runs,
            size / 1024
        );
        results.push(serde_json::json!({
            "engine": engine, "query": name, "path": path, "runs": runs,
            "p50_ms": p50, "p99_ms": p99, "max_ms": ms(times[times.len() - 1]),
        }));
    }
    println!("  process memory after the run: {}", resident_memory());
}

/// The process's resident memory, as Linux reports it.
fn resident_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .map(|line| line.trim_start_matches("VmRSS:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn day_text(millis: i64) -> String {
    let text = Timestamp::from_millis(millis).to_rfc3339();
    text[..10].to_owned()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn get(router: &axum::Router, path: &str, cookie: &str) -> (u16, String) {
    get_as(router, path, cookie, "en").await
}

async fn get_as(router: &axum::Router, path: &str, cookie: &str, language: &str) -> (u16, String) {
    let request = Request::builder()
        .uri(path)
        .header("cookie", cookie)
        .header("accept-language", language)
        .body(Body::empty())
        .expect("request");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router answers");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 256 * 1024 * 1024)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// 1,000,000 messages over 90 days: about 100,000 conversations of 4 to 16 messages (customers and agents
/// taking turns), three channels, six agents, labels on a third of them, 2% trolls, most
/// resolved, arrivals following office hours.
async fn seed(store: &Store, url: &str, now: i64) {
    let mut channels = Vec::new();
    for (kind, id) in [
        (ChannelKind::Whatsapp, "w1"),
        (ChannelKind::Facebook, "p1"),
        (ChannelKind::X, "x1"),
    ] {
        let credentials = ChannelCredentials {
            access_token: "t".into(),
            ..Default::default()
        };
        channels.push(
            store
                .add_channel(
                    kind,
                    "Bench shop",
                    &ExternalId::parse(id).unwrap(),
                    &credentials,
                )
                .await
                .expect("channel")
                .id
                .get(),
        );
    }
    let mut agents = Vec::new();
    for index in 0..6 {
        agents.push(
            store
                .create_user(
                    &format!("agent{index}@shop.example"),
                    &format!("Agent {index}"),
                    Role::Agent,
                    "x",
                )
                .await
                .expect("agent")
                .id
                .get(),
        );
    }
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("seed pool");
    sqlx::query("PRAGMA synchronous = OFF")
        .execute(&pool)
        .await
        .ok();
    let labels = ["refund", "shipping", "size", "complaint", "order", "stock"];
    let start = now - DAYS * DAY;
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut messages = 0usize;
    let mut conversation: i64 = 0;
    let mut message_rows: Vec<String> = Vec::new();
    let mut conversation_rows: Vec<String> = Vec::new();
    let mut contact_rows: Vec<String> = Vec::new();
    let mut label_rows: Vec<String> = Vec::new();
    let mut change_rows: Vec<String> = Vec::new();
    let mut troll_rows: Vec<String> = Vec::new();
    let mut transaction_rows = 0;
    let mut tx = pool.begin().await.expect("tx");
    while messages < MESSAGES {
        conversation += 1;
        let channel = channels[(random() % 3) as usize];
        // Office-hours arrivals: a uniform day, then a time of day drawn mostly from 8:00-22:00.
        let day = (random() % DAYS as u64) as i64;
        let hour = if random() % 10 < 8 {
            8 + random() % 14
        } else {
            random() % 24
        } as i64;
        let mut at = start + day * DAY + hour * 3_600_000 + (random() % 3_600_000) as i64;
        if at > now - 60_000 {
            at = now - 60_000 - (random() % 3_600_000) as i64;
        }
        let contact = conversation;
        contact_rows.push(format!(
            "({contact}, {channel}, 'c{contact}', 'Customer {contact}', {at})"
        ));
        if random() % 50 == 0 {
            troll_rows.push(format!("({contact}, 'troll', {at})"));
        }
        let length = 4 + (random() % 13) as usize;
        let mut last = at;
        let mut first_at = at;
        for turn in 0..length.min(MESSAGES - messages) {
            let inbound = turn % 2 == 0;
            let gap = if inbound {
                60_000 + random() % 7_200_000
            } else {
                30_000
                    + random()
                        % (if random() % 5 == 0 {
                            86_400_000
                        } else {
                            5_400_000
                        })
            };
            let when = if turn == 0 { at } else { last + gap as i64 };
            if turn == 0 {
                first_at = when;
            }
            last = when;
            messages += 1;
            let id = messages;
            if inbound {
                message_rows.push(format!(
                    "({id}, {conversation}, {channel}, 'inbound', 'm{id}', {contact}, NULL, 'hola pedido {id}', {when}, {when}, 'received', 0)"
                ));
            } else {
                let agent = agents[(random() % agents.len() as u64) as usize];
                let automatic = i64::from(random() % 20 == 0);
                message_rows.push(format!(
                    "({id}, {conversation}, {channel}, 'outbound', 'o{id}', NULL, {agent}, 'gracias {id}', {when}, {when}, 'sent', {automatic})"
                ));
            }
        }
        let resolved = random() % 10 < 8 && last < now - 3_600_000;
        let status = if resolved { "resolved" } else { "open" };
        if resolved {
            change_rows.push(format!("({conversation}, 'resolved', {})", last + 600_000));
        }
        conversation_rows.push(format!(
            "({conversation}, {channel}, {contact}, 't{conversation}', '{status}', {last}, {first_at}, {first_at})"
        ));
        if random() % 3 == 0 {
            label_rows.push(format!(
                "({conversation}, '{}', {first_at})",
                labels[(random() % 6) as usize]
            ));
        }
        if message_rows.len() >= 500 {
            flush(
                &mut tx,
                &mut contact_rows,
                &mut conversation_rows,
                &mut message_rows,
                &mut label_rows,
                &mut change_rows,
                &mut troll_rows,
            )
            .await;
            transaction_rows += 500;
            if transaction_rows >= 50_000 {
                tx.commit().await.expect("commit");
                tx = pool.begin().await.expect("tx");
                transaction_rows = 0;
                eprint!("\r  {messages} messages");
            }
        }
    }
    flush(
        &mut tx,
        &mut contact_rows,
        &mut conversation_rows,
        &mut message_rows,
        &mut label_rows,
        &mut change_rows,
        &mut troll_rows,
    )
    .await;
    tx.commit().await.expect("commit");
    // Rows were inserted with their ids: PostgreSQL's identities must move past them.
    if url.starts_with("postgres") {
        for table in ["contacts", "conversations", "messages"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(&pool)
            .await
            .expect("identity moved");
        }
    }
    sqlx::query("ANALYZE").execute(&pool).await.ok();
    pool.close().await;
    eprintln!("\r  {messages} messages in {conversation} conversations");
}

#[allow(clippy::too_many_arguments)]
async fn flush(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    contacts: &mut Vec<String>,
    conversations: &mut Vec<String>,
    messages: &mut Vec<String>,
    labels: &mut Vec<String>,
    changes: &mut Vec<String>,
    trolls: &mut Vec<String>,
) {
    let statements = [
        ("INSERT INTO contacts (id, channel_id, platform_id, name, created_at) VALUES ", contacts),
        ("INSERT INTO conversations (id, channel_id, contact_id, thread_key, status, last_activity_at, last_inbound_at, created_at) VALUES ", conversations),
        ("INSERT INTO messages (id, conversation_id, channel_id, direction, platform_id, contact_id, user_id, text, created_at, received_at, status, automatic) VALUES ", messages),
        ("INSERT INTO conversation_labels (conversation_id, label, created_at) VALUES ", labels),
        ("INSERT INTO conversation_status_changes (conversation_id, status, changed_at) VALUES ", changes),
        ("INSERT INTO contact_labels (contact_id, label, created_at) VALUES ", trolls),
    ];
    for (insert, rows) in statements {
        if rows.is_empty() {
            continue;
        }
        let sql = format!("{insert}{}", rows.join(", "));
        sqlx::query(&sql)
            .execute(&mut **tx)
            .await
            .expect("seed insert");
        rows.clear();
    }
}
