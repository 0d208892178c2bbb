//! Benchmark: the inbox page with 100,000 conversations in the store, rendered by the real
//! router in-process (no network), timed at the server. Run with
//! `cargo bench -p buzon-tests --bench inbox` (SQLite; set BUZON_BENCH_POSTGRES_URL to a fresh
//! PostgreSQL database to measure that engine). Target: under 50 ms.

use axum::body::Body;
use axum::http::Request;
use buzon_app::{App, AppSettings, Connectors};
use buzon_core::*;
use buzon_store::{Cipher, DatabaseUrl, Store};
use buzon_web::{AppState, WebSettings};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const CONVERSATIONS: usize = 100_000;

#[tokio::main]
async fn main() {
    let url = std::env::var("BUZON_BENCH_POSTGRES_URL").unwrap_or_else(|_| {
        let dir = std::env::temp_dir().join(format!("buzon-bench-inbox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        format!("sqlite://{}/bench.db", dir.display())
    });
    let cipher = Cipher::from_key_text(&"11".repeat(32)).expect("key");
    let store = Store::connect(&DatabaseUrl::parse(&url).expect("url"), cipher)
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    let seeded = Instant::now();
    seed(&store).await;
    eprintln!(
        "seeded {CONVERSATIONS} conversations in {:.1?}",
        seeded.elapsed()
    );

    let user = store
        .create_user("bench@shop.example", "Bench", Role::Agent, "x")
        .await
        .expect("user");
    let (session, _csrf) = store
        .create_session(user.id, Timestamp::now().plus_millis(3_600_000))
        .await
        .expect("session");
    let app = App::new(store.clone(), Connectors::new(), AppSettings::default());
    let (_stop, stopping) = tokio::sync::watch::channel(false);
    let state = AppState::new(app, WebSettings::default(), stopping);
    let router = buzon_web::router(state);
    let cookie = format!("buzon_session={session}");

    let first_page = get(&router, "/inbox", &cookie).await.1;
    let cursor = first_page
        .split("cursor=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("")
        .replace("&amp;", "&");
    let scenarios = [
        ("inbox, first page".to_owned(), "/inbox".to_owned()),
        (
            "inbox, second page (keyset)".to_owned(),
            format!("/inbox?cursor={cursor}"),
        ),
        (
            "longest waiting".to_owned(),
            "/inbox?sort=waiting".to_owned(),
        ),
        ("one channel".to_owned(), "/inbox?channel=2".to_owned()),
        ("label filter".to_owned(), "/inbox?tag=refund".to_owned()),
        ("full-text search".to_owned(), "/inbox?q=pedido".to_owned()),
        ("trolls view".to_owned(), "/inbox?view=trolls".to_owned()),
    ];
    println!(
        "inbox page over {CONVERSATIONS} conversations ({}):",
        if url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );
    for (name, path) in scenarios {
        for _ in 0..3 {
            get(&router, &path, &cookie).await;
        }
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..40 {
            let started = Instant::now();
            let (status, body) = get(&router, &path, &cookie).await;
            times.push(started.elapsed());
            assert_eq!(status, 200, "{path}");
            assert!(body.contains("id=\"queue\""));
        }
        times.sort();
        println!(
            "  {name:<30} median {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 95 / 100]),
            ms(times[times.len() - 1])
        );
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn get(router: &axum::Router, path: &str, cookie: &str) -> (u16, String) {
    let request = Request::builder()
        .uri(path)
        .header("cookie", cookie)
        .body(Body::empty())
        .expect("request");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router answers");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn seed(store: &Store) {
    if !store.list_channels().await.expect("channels").is_empty() {
        return;
    }
    let mut channels = Vec::new();
    for (kind, id) in [
        (ChannelKind::Facebook, "p1"),
        (ChannelKind::Whatsapp, "w1"),
        (ChannelKind::X, "x1"),
    ] {
        let credentials = ChannelCredentials {
            access_token: "t".into(),
            ..Default::default()
        };
        channels.push(
            store
                .add_channel(kind, "bench", &ExternalId::parse(id).unwrap(), &credentials)
                .await
                .expect("channel"),
        );
    }
    let words = [
        "pedido", "envío", "refund", "order", "late", "broken", "gracias", "hola", "color", "size",
    ];
    let start = Timestamp::now().plus_millis(-(CONVERSATIONS as i64) * 60_000);
    let mut tasks = tokio::task::JoinSet::new();
    for batch in 0..8 {
        let store = store.clone();
        let channels = channels.clone();
        tasks.spawn(async move {
            for index in (batch..CONVERSATIONS).step_by(8) {
                let channel = &channels[index % 3];
                let text = format!(
                    "{} {} #{index} {}",
                    words[index % 10],
                    words[(index / 10) % 10],
                    "x".repeat(index % 200)
                );
                let message = NewInboundMessage {
                    channel_id: channel.id,
                    platform_id: ExternalId::parse(format!("m{index}")).unwrap(),
                    thread_key: format!("t{index}"),
                    conversation_kind: match channel.kind {
                        ChannelKind::Facebook => ConversationKind::Comment,
                        ChannelKind::Whatsapp => ConversationKind::Whatsapp,
                        ChannelKind::X => ConversationKind::XMention,
                    },
                    author: NewContact {
                        platform_id: ExternalId::parse(format!("a{}", index % 20_000)).unwrap(),
                        name: Some(format!("Author {}", index % 20_000)),
                        handle: None,
                    },
                    text,
                    attachments: vec![],
                    created_at: start.plus_millis(index as i64 * 60_000),
                    raw: None,
                    found_by: None,
                };
                let outcome = store.ingest_message(&message).await.expect("ingest");
                if index % 50 == 0 {
                    if let IngestOutcome::Inserted {
                        conversation_id, ..
                    } = outcome
                    {
                        store
                            .tag_conversation(
                                conversation_id,
                                &[Label::parse("refund").unwrap()],
                                &[],
                            )
                            .await
                            .expect("tag");
                    }
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("seeding task");
    }
    for author in (0..20_000).step_by(97) {
        let contact = store
            .search_contacts(&format!("author {author}"), 1)
            .await
            .expect("search");
        if let Some(contact) = contact.first() {
            store
                .tag_contact(contact.id, &[Label::parse("troll").unwrap()], &[])
                .await
                .expect("troll");
        }
    }
}
