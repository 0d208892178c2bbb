//! Benchmark: the message engine end to end, with the real release binary over HTTP on this
//! machine (the load generator shares its cores). Run with
//! `cargo build --release -p buzon && cargo bench -p buzon-tests --bench engine` (it runs
//! `target/release/buzon`) and measures SQLite, and PostgreSQL too when `BUZON_TEST_POSTGRES_URL` is set (a user allowed
//! to create databases). It prints a table and writes `target/bench-engine.json`.
//!
//! Per engine, in one run:
//! - a bare axum handler (reads the body, answers 200) under the same load, as the ceiling;
//! - webhook acceptance: 64 connections post signed ~600-byte WhatsApp deliveries for
//!   `BENCH_SECONDS` (5) seconds; rate, p50 and p99 of the answer;
//! - webhook acceptance twice: first on a node with its workers off (a web-only node; the
//!   intake alone), which leaves a backlog, then on the same node with its workers on, while
//!   it processes;
//! - processing: the rate at which the restarted node drains that backlog (its capacity),
//!   and, for the second burst, from its start until every accepted delivery is a message
//!   (bounded by acceptance when processing keeps up) and how long it took after the burst;
//! - live updates: 1,000 deliveries a second offered for 5 s while a signed-in browser
//!   listens to `/events`; for each delivery, the time from its POST to the first event whose
//!   activity version includes its message (p50, p99);
//! - the server's peak resident memory (VmHWM).
//!
//! Fixed seed: deliveries are numbered, so runs differ only by timing.

use buzon_tests::app::{TestApp, META_APP_SECRET};
use buzon_tests::load::whatsapp_delivery;
use buzon_tests::platform::meta_signature;
use buzon_tests::web::{add_user, Session};
use buzon_tests::{Engine, TestDatabase};
use reqwest::header::COOKIE;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 64;
const PHONE_NUMBER_ID: &str = "106540352242922";

fn seconds() -> u64 {
    std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(5)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// What one burst measured.
struct Burst {
    accepted: usize,
    refused: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Burst {
    fn rate(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64()
    }
}

/// `CONNECTIONS` loops posting deliveries to `url` for `duration`.
async fn burst(url: &str, prefix: &str, duration: Duration) -> Burst {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|worker| {
            let client = client.clone();
            let url = url.to_owned();
            let prefix = prefix.to_owned();
            tokio::spawn(async move {
                let (mut latencies, mut refused, mut n) = (Vec::new(), 0, 0);
                while Instant::now() < deadline {
                    n += 1;
                    let wamid = format!("wamid.{prefix}-{worker}-{n}");
                    let body = whatsapp_delivery(
                        PHONE_NUMBER_ID,
                        &wamid,
                        &format!("346{worker:03}{n:05}"),
                    );
                    let sent = Instant::now();
                    let answer = client
                        .post(&url)
                        .header(
                            "X-Hub-Signature-256",
                            meta_signature(META_APP_SECRET, &body),
                        )
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    match answer {
                        Ok(response) if response.status() == 200 => latencies.push(sent.elapsed()),
                        _ => refused += 1,
                    }
                }
                (latencies, refused)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (mut own, own_refused) = task.await.unwrap();
        latencies.append(&mut own);
        refused += own_refused;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Burst {
        accepted: latencies.len(),
        refused,
        elapsed,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
    }
}

/// A bare axum handler on loopback: reads the body, answers 200.
async fn bare_handler() -> String {
    use axum::routing::post;
    let router = axum::Router::new().route(
        "/webhooks/whatsapp",
        post(|body: axum::body::Bytes| async move {
            std::hint::black_box(body.len());
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}/webhooks/whatsapp")
}

fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn processed(app: &TestApp) -> i64 {
    app.db
        .scalar("SELECT COUNT(*) FROM messages WHERE direction = 'inbound'")
        .await
}

/// Offers `rate` deliveries a second for `duration` while a session listens to `/events`;
/// returns each delivery's time from POST to the first live event that includes it.
/// Waits until `target` messages are visible (counting every 250 ms, so the harness takes
/// little from the server).
async fn wait_processed(app: &TestApp, target: i64, started: Instant) {
    while processed(app).await < target {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "the backlog never drained"
        );
    }
}

async fn live_latencies(app: &TestApp, rate: u64, duration: Duration) -> Vec<Duration> {
    add_user(app, "bench@shop.example", "agent").await;
    let session = Session::start(app, "bench@shop.example").await;
    let events: Arc<Mutex<Vec<(Instant, i64)>>> = Arc::default();
    let listening = Arc::new(AtomicBool::new(true));
    let mut stream = reqwest::Client::new()
        .get(app.url("/events"))
        .header(COOKIE, &session.cookie)
        .send()
        .await
        .unwrap();
    let reader = {
        let events = Arc::clone(&events);
        let listening = Arc::clone(&listening);
        tokio::spawn(async move {
            let mut pending = String::new();
            while listening.load(Ordering::Relaxed) {
                let Ok(Ok(Some(chunk))) =
                    tokio::time::timeout(Duration::from_millis(500), stream.chunk()).await
                else {
                    continue;
                };
                let at = Instant::now();
                pending.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = pending.find('\n') {
                    let line = pending[..end].to_owned();
                    pending.drain(..=end);
                    if let Some(version) = line.strip_prefix("data:") {
                        if let Some(max_id) = version
                            .trim()
                            .split(':')
                            .next()
                            .and_then(|id| id.parse().ok())
                        {
                            events.lock().unwrap().push((at, max_id));
                        }
                    }
                }
            }
        })
    };
    let url = app.url("/webhooks/whatsapp");
    let client = reqwest::Client::new();
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let senders = 8u64;
    let every = Duration::from_secs_f64(senders as f64 / rate as f64);
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..senders)
        .map(|worker| {
            let (client, url, sent) = (client.clone(), url.clone(), Arc::clone(&sent));
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(every);
                let mut n = 0;
                while Instant::now() < deadline {
                    ticks.tick().await;
                    n += 1;
                    let wamid = format!("wamid.live-{worker}-{n}");
                    let body = whatsapp_delivery(
                        PHONE_NUMBER_ID,
                        &wamid,
                        &format!("347{worker:03}{n:05}"),
                    );
                    let at = Instant::now();
                    let client = client.clone();
                    let url = url.clone();
                    sent.lock().unwrap().insert(wamid, at);
                    tokio::spawn(async move {
                        let _ = client
                            .post(&url)
                            .header(
                                "X-Hub-Signature-256",
                                meta_signature(META_APP_SECRET, &body),
                            )
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await;
                    });
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let offered = sent.lock().unwrap().len();
    let wait_until = Instant::now() + Duration::from_secs(120);
    loop {
        let live = app
            .db
            .scalar("SELECT COUNT(*) FROM messages WHERE platform_id LIKE 'wamid.live-%'")
            .await;
        if live as usize >= offered || Instant::now() > wait_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the last live event arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    listening.store(false, Ordering::Relaxed);
    let _ = reader.await;
    let ids: HashMap<String, i64> = app
        .db
        .texts("SELECT platform_id, CAST(id AS TEXT) FROM messages WHERE platform_id LIKE 'wamid.live-%'")
        .await
        .into_iter()
        .filter_map(|row| Some((row[0].clone()?, row[1].as_ref()?.parse().ok()?)))
        .collect();
    let events = events.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(wamid, at)| {
            let id = ids.get(wamid)?;
            let (seen, _) = events.iter().find(|(seen, max)| max >= id && seen >= at)?;
            Some(seen.duration_since(*at))
        })
        .collect();
    latencies.sort();
    latencies
}

async fn measure(engine: Engine, table: &mut Vec<serde_json::Value>) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let window = Duration::from_secs(seconds());
    let bare = burst(&bare_handler().await, "bare", window).await;

    // First a node that only accepts (workers off, as a web-only node of a cluster runs):
    // the intake alone, and a backlog for the processing measure.
    let mut app = TestApp::start(
        db,
        &[
            ("BUZON_WORKERS_POLL_INTERVAL_SECS", "3600"),
            ("BUZON_LOG_LEVEL", "warn"),
            ("BUZON_WORKERS_ENABLED", "false"),
        ],
    )
    .await;
    let output = app
        .cli(
            &[
                "channel",
                "add",
                "whatsapp",
                "--phone-number-id",
                PHONE_NUMBER_ID,
                "--access-token",
                "bench-token",
                "--no-check",
            ],
            None,
        )
        .await;
    assert!(output.status.success());
    let web_only = burst(&app.url("/webhooks/whatsapp"), "backlog", window).await;

    // Processing capacity: the same server with its workers on drains that backlog.
    app.terminate(Duration::from_secs(30)).await;
    app.set_env("BUZON_WORKERS_ENABLED", "true");
    let started = Instant::now();
    app.spawn_server().await;
    let target = web_only.accepted as i64;
    wait_processed(&app, target, started).await;
    let backlog_rate = web_only.accepted as f64 / started.elapsed().as_secs_f64();

    // Then the usual case: accepting while the same node processes.
    let before = processed(&app).await;
    let started = Instant::now();
    let accepted = burst(&app.url("/webhooks/whatsapp"), "burst", window).await;
    let burst_end = Instant::now();
    wait_processed(&app, before + accepted.accepted as i64, started).await;
    let drained = started.elapsed();
    let drain_after_burst = burst_end.elapsed();
    let processing_rate = accepted.accepted as f64 / drained.as_secs_f64();

    let live = live_latencies(&app, 1_000, Duration::from_secs(5)).await;
    let rss = peak_rss_mib(app.pid().expect("the server runs"));
    let row = json!({
        "engine": format!("{engine:?}"),
        "bare_handler": {"rate": bare.rate(), "p50_ms": ms(bare.p50), "p99_ms": ms(bare.p99)},
        "acceptance_web_only": {
            "rate": web_only.rate(),
            "p50_ms": ms(web_only.p50),
            "p99_ms": ms(web_only.p99),
            "share_of_bare": web_only.rate() / bare.rate(),
            "accepted": web_only.accepted,
            "refused": web_only.refused,
        },
        "acceptance": {
            "rate": accepted.rate(),
            "p50_ms": ms(accepted.p50),
            "p99_ms": ms(accepted.p99),
            "share_of_bare": accepted.rate() / bare.rate(),
            "accepted": accepted.accepted,
            "refused": accepted.refused,
        },
        "processing": {
            "from_backlog_rate": backlog_rate,
            "backlog": web_only.accepted,
            "rate": processing_rate,
            "drain_after_burst_s": drain_after_burst.as_secs_f64(),
        },
        "live_update": {
            "offered_per_s": 1000,
            "measured": live.len(),
            "p50_ms": ms(percentile(&live, 50.0)),
            "p99_ms": ms(percentile(&live, 99.0)),
        },
        "peak_rss_mib": rss,
    });
    eprintln!("{engine:?}: {row}");
    table.push(row);
    app.finish().await;
}

#[tokio::main]
async fn main() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The release binary is built by the documented command before the benchmarks run
    // (`cargo build --release -p buzon && cargo bench ...`): cargo holds its build lock while
    // a bench runs, so a bench cannot build it itself.
    if std::env::var("BUZON_TEST_BIN").is_err() {
        let binary = workspace.join("target/release/buzon");
        assert!(
            binary.exists(),
            "build the release binary first: cargo build --release -p buzon"
        );
        std::env::set_var("BUZON_TEST_BIN", binary.canonicalize().unwrap());
    }
    let mut table = Vec::new();
    measure(Engine::Sqlite, &mut table).await;
    measure(Engine::Postgres, &mut table).await;

    println!(
        "\n| engine | bare handler /s | accepted, web-only node /s (p50 / p99 ms) | accepted while processing /s (p50 / p99 ms) | share of bare (web-only / processing) | processed from a backlog /s | processed during the burst /s | drain after burst | live update p50 / p99 at 1,000/s | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in &table {
        let num = |a: &str, b: &str| row[a][b].as_f64().unwrap();
        println!(
            "| {} | {:.0} | {:.0} ({:.1} / {:.1}) | {:.0} ({:.1} / {:.1}) | {:.2} / {:.2} | {:.0} | {:.0} | {:.1} s | {:.0} / {:.0} ms | {:.0} MiB |",
            row["engine"].as_str().unwrap(),
            num("bare_handler", "rate"),
            num("acceptance_web_only", "rate"),
            num("acceptance_web_only", "p50_ms"),
            num("acceptance_web_only", "p99_ms"),
            num("acceptance", "rate"),
            num("acceptance", "p50_ms"),
            num("acceptance", "p99_ms"),
            num("acceptance_web_only", "share_of_bare"),
            num("acceptance", "share_of_bare"),
            num("processing", "from_backlog_rate"),
            num("processing", "rate"),
            num("processing", "drain_after_burst_s"),
            num("live_update", "p50_ms"),
            num("live_update", "p99_ms"),
            row["peak_rss_mib"].as_f64().unwrap(),
        );
    }
    let out = workspace.join("target/bench-engine.json");
    std::fs::write(&out, serde_json::to_string_pretty(&table).unwrap()).unwrap();
    println!("\nwritten to {}", out.display());
}
