//! Benchmark: the X request budget listening spends in one rate-limit window, with three saved
//! searches on the Basic tier's limits (recent search 60 requests per 15 minutes; the mentions
//! timeline 10 per user; PLATFORMS.md C.3, C.3b), against the sandbox, which enforces them and
//! counts every request. Run with `cargo build --release -p buzon && cargo bench -p buzon-tests
//! --bench listening` (or any build of buzon named by `BUZON_TEST_BIN`: the counts do not depend
//! on it). It takes one window: 15 minutes, or `BENCH_WINDOW_SECS` for a quicker look (the
//! limits stay per window and the poll interval shrinks in proportion; buzon's budget reads
//! only X's headers, never the window's length, but its waits of at least a second weigh more
//! in a short window).
//!
//! Posts that match the searches (and a mention of the account every tenth) are written all
//! along, so every search keeps finding something. It prints the requests per endpoint in the
//! window, the 429s and the requests made after X said a budget was spent (both 0 when buzon
//! behaves), the untagged posts written and the finds stored by the window's end (the posts of
//! the last minute or so come with the searches' next turns), and writes
//! `target/bench-listening.json`.

use buzon_sandbox::{Injection, SandboxConfig, Source};
use buzon_tests::sandbox::{connect_sandbox_channels, start_with_sandbox};
use buzon_tests::TestDatabase;
use serde_json::json;
use std::time::{Duration, Instant};

const SEARCHES: [&str; 3] = [
    "tiendabuzon -is:retweet",
    "(\"tienda buzón\" OR #tiendabuzon) lang:es",
    "tiendabuzn OR tiendabuson",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let window = Duration::from_secs(
        std::env::var("BENCH_WINDOW_SECS")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(15 * 60),
    );
    // buzon's default poll interval (60 s) in a 15-minute window, scaled with the window.
    let poll_secs = (60 * window.as_secs() / 900).max(1).to_string();
    let config = SandboxConfig {
        x_search_rate_limit_per_window: 60,
        x_rate_limit_per_window: 10,
        x_rate_limit_window: window,
        ..SandboxConfig::default()
    };
    let (app, sandbox) = start_with_sandbox(
        TestDatabase::sqlite(),
        config.clone(),
        &[("BUZON_WORKERS_POLL_INTERVAL_SECS", &poll_secs)],
    )
    .await;
    let channels = connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let client = reqwest::Client::new();
    for query in SEARCHES {
        let response = client
            .post(app.url(&format!("/api/v1/channels/{}/searches", channels.x)))
            .bearer_auth(&admin)
            .json(&json!({ "query": query, "promote": "none" }))
            .send()
            .await
            .expect("buzon answers");
        assert_eq!(
            response.status().as_u16(),
            201,
            "the search {query} is saved"
        );
    }
    let before = sandbox.stats();
    let started = Instant::now();
    let mut written = 0u64;
    let texts = [
        "tiendabuzon no contesta desde el lunes",
        "Me encanta Tienda Buzón, todo llegó perfecto",
        "¿Alguien ha comprado en #tiendabuzon?",
        "tiendabuzn me cobró dos veces",
    ];
    while started.elapsed() < window {
        let text = texts[(written % texts.len() as u64) as usize];
        let source = if written % 10 == 9 {
            Source::X
        } else {
            Source::XPost
        };
        let mut post = Injection::new(source, format!("{text} ({written})"));
        // Spanish, so that every untagged post matches one of the searches.
        post.lang = Some("es".into());
        sandbox.inject(post).expect("the sandbox takes a post");
        written += 1;
        tokio::time::sleep(window / 120).await;
    }
    let after = sandbox.stats();
    let count = |route: &str| {
        after.requests.get(route).copied().unwrap_or_default()
            - before.requests.get(route).copied().unwrap_or_default()
    };
    let search = count("GET /x/2/tweets/search/recent");
    let mentions = count("GET /x/2/users/{id}/mentions");
    let dms = count("GET /x/2/dm_events");
    let found = app
        .db
        .scalar("SELECT COUNT(*) FROM messages WHERE found_by = 'search'")
        .await;
    let untagged = written - written / 10;
    println!(
        "| window | saved searches | recent search (limit 60) | mentions timeline (limit 10) | DM events | 429s | requests past a spent budget | untagged posts written | finds stored |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} s | {} | {search} | {mentions} | {dms} | {} | {} | {untagged} | {found} |",
        window.as_secs(),
        SEARCHES.len(),
        after.responses_429 - before.responses_429,
        after.rate_limit_violations - before.rate_limit_violations,
    );
    let report = json!({
        "window_secs": window.as_secs(),
        "searches": SEARCHES.len(),
        "requests": {
            "search_recent": search,
            "mentions": mentions,
            "dm_events": dms,
            "all": after.requests,
        },
        "responses_429": after.responses_429 - before.responses_429,
        "rate_limit_violations": after.rate_limit_violations - before.rate_limit_violations,
        "posts_written": written,
        "untagged_posts_written": untagged,
        "finds_stored": found,
    });
    let target =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-listening.json");
    std::fs::write(&target, serde_json::to_vec_pretty(&report).unwrap())
        .expect("the report is written");
    app.finish().await;
}
