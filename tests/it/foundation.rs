//! The foundation: the command line, configuration, health, metrics, API authentication and
//! graceful shutdown, on SQLite and PostgreSQL.

use buzon_tests::app::{run_cli, TestApp};
use buzon_tests::db::{postgres_admin_url, with_database};
use buzon_tests::proxy::CuttableProxy;
use buzon_tests::{Engine, TestDatabase};
use serde_json::Value;
use std::time::{Duration, Instant};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn migrate_serve_and_answer(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let env = TestApp::base_env(&db);
    let migrated = run_cli(&env, &db.dir, &["migrate"], None).await;
    assert!(
        migrated.status.success(),
        "migrate failed: {}",
        stderr(&migrated)
    );
    let again = run_cli(&env, &db.dir, &["migrate"], None).await;
    assert!(
        again.status.success(),
        "a second migrate is a no-op: {}",
        stderr(&again)
    );

    let app = TestApp::start(db, &[]).await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok", "database": "ok"}));

    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200, "loopback may read metrics");
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("buzon_queue_depth{queue=\"inbound_pending\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("buzon_http_requests_total{route=\"/healthz\",status=\"200\"}"),
        "{text}"
    );
    app.finish().await;
}

#[tokio::test]
async fn migrate_and_serve_work_on_sqlite() {
    migrate_serve_and_answer(Engine::Sqlite).await;
}

#[tokio::test]
async fn migrate_and_serve_work_on_postgres() {
    migrate_serve_and_answer(Engine::Postgres).await;
}

#[tokio::test]
async fn healthz_says_503_while_postgres_is_away_and_recovers_by_itself() {
    let Some(admin_url) = postgres_admin_url() else {
        return;
    };
    let db = TestDatabase::postgres()
        .await
        .expect("a PostgreSQL test database");
    let target = {
        let after_at = admin_url.split('@').nth(1).unwrap_or("127.0.0.1:5432");
        let host_port = after_at.split('/').next().unwrap_or("127.0.0.1:5432");
        if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:5432")
        }
    };
    let proxy = CuttableProxy::start(target).await;
    let name = db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let user = admin_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('@').next())
        .unwrap_or("postgres");
    let proxied = with_database(
        &format!("postgres://{user}@127.0.0.1:{}/x", proxy.port),
        &name,
    );
    let app = TestApp::start(db, &[("BUZON_DATABASE_URL", &proxied)]).await;
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    proxy.cut();
    let started = Instant::now();
    let down = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(down.status(), 503);
    let body: Value = down.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_ne!(body["database"], "ok");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the check is bounded"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = app
            .http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "healthz did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.finish().await;
}

/// Runs a command that must fail with exactly one line on standard error.
async fn refused(
    env: &[(String, String)],
    dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
    expected: &str,
) {
    let output = run_cli(env, dir, args, stdin).await;
    let text = stderr(&output);
    assert!(!output.status.success(), "{args:?} should fail");
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one clear line for {args:?}, got: {text}");
    assert!(
        lines[0].contains(expected),
        "{args:?}: expected {expected:?} in {:?}",
        lines[0]
    );
}

async fn bad_input_is_refused(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let env = TestApp::base_env(&db);
    let dir = db.dir.clone();
    let ok = run_cli(
        &env,
        &dir,
        &["user", "add", "ana@shop.example", "--role", "agent"],
        Some("a long password\n"),
    )
    .await;
    assert!(ok.status.success(), "{}", stderr(&ok));

    let mut unknown_key = env.clone();
    unknown_key.push(("BUZON_SERVER_PORT".into(), "8080".into()));
    refused(
        &unknown_key,
        &dir,
        &["channel", "list"],
        None,
        "unknown field `port`",
    )
    .await;
    std::fs::write(
        dir.join("typo.toml"),
        "[database]\nurl = \"sqlite://data/buzon.db\"\npool = 3\n",
    )
    .unwrap();
    refused(
        &env,
        &dir,
        &["--config", "typo.toml", "migrate"],
        None,
        "unknown field `pool`",
    )
    .await;
    let mut malformed = env.clone();
    malformed.retain(|(key, _)| key != "BUZON_DATABASE_URL");
    malformed.push(("BUZON_DATABASE_URL".into(), "postgres//nohost".into()));
    refused(&malformed, &dir, &["migrate"], None, "database URL").await;
    refused(
        &env,
        &dir,
        &["user", "add", "ANA@shop.example", "--role", "admin"],
        Some("another password\n"),
        "already exists",
    )
    .await;
    refused(
        &env,
        &dir,
        &["user", "add", "bob@shop.example", "--role", "owner"],
        Some("a long password\n"),
        "unknown role",
    )
    .await;
    refused(
        &env,
        &dir,
        &["user", "add", "carl@shop.example", "--role", "agent"],
        Some("short\n"),
        "at least 8",
    )
    .await;
    refused(
        &env,
        &dir,
        &["channel", "add", "facebook", "--page-id", "123"],
        None,
        "--page-token",
    )
    .await;
    refused(
        &env,
        &dir,
        &[
            "channel",
            "add",
            "x",
            "--no-check",
            "--user-id",
            "42",
            "--access-token",
            "  ",
        ],
        None,
        "--access-token",
    )
    .await;
    refused(
        &env,
        &dir,
        &["token", "create", "ci", "--role", "root"],
        None,
        "unknown role",
    )
    .await;

    // Nothing was half-written.
    assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM channels").await, 0);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM api_tokens").await, 0);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM users WHERE role = 'agent'")
            .await,
        1,
        "the first user kept its role"
    );
    db.finish().await;
}

#[tokio::test]
async fn bad_input_gets_one_line_and_changes_nothing_on_sqlite() {
    bad_input_is_refused(Engine::Sqlite).await;
}

#[tokio::test]
async fn bad_input_gets_one_line_and_changes_nothing_on_postgres() {
    bad_input_is_refused(Engine::Postgres).await;
}

#[tokio::test]
async fn channels_are_listed_without_their_secrets() {
    let db = TestDatabase::sqlite();
    let env = TestApp::base_env(&db);
    let secret = "EAAJ-page-token-that-must-never-show";
    let added = run_cli(
        &env,
        &db.dir,
        &[
            "channel",
            "add",
            "facebook",
            "--no-check",
            "--page-id",
            "1234567890321",
            "--page-token",
            secret,
            "--name",
            "Tienda",
        ],
        None,
    )
    .await;
    assert!(added.status.success(), "{}", stderr(&added));
    let twice = run_cli(
        &env,
        &db.dir,
        &[
            "channel",
            "add",
            "facebook",
            "--no-check",
            "--page-id",
            "1234567890321",
            "--page-token",
            "other",
        ],
        None,
    )
    .await;
    assert!(!twice.status.success());
    assert!(stderr(&twice).contains("already connected"));
    let listed = run_cli(&env, &db.dir, &["channel", "list"], None).await;
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("facebook") && text.contains("Tienda") && text.contains("1234567890321"),
        "{text}"
    );
    assert!(!text.contains(secret));
    assert!(
        db.raw_dump_contains(secret).await.is_empty(),
        "the token is encrypted at rest"
    );
    db.finish().await;
}

#[tokio::test]
async fn the_api_requires_a_token_and_a_role() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let anonymous = app
        .http
        .get(app.url("/api/v1/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let viewer = app.token("viewer").await;
    let listed = app
        .http
        .get(app.url("/api/v1/conversations"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let body: Value = listed.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"items": [], "next_cursor": null}));
    let forbidden = app
        .http
        .post(app.url("/api/v1/conversations/1/status"))
        .bearer_auth(&viewer)
        .json(&serde_json::json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403, "a viewer changes nothing");
    let wrong = app
        .http
        .get(app.url("/api/v1/conversations"))
        .bearer_auth("bzn_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    app.finish().await;
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let mut app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let status = app.terminate(Duration::from_secs(15)).await;
    assert!(status.success(), "exit status {status}");
    assert!(app.log().contains("stopped"), "{}", app.log());
    assert!(
        app.http.get(app.url("/healthz")).send().await.is_err(),
        "the port is closed"
    );
    app.finish().await;
}

#[tokio::test]
async fn sigterm_stops_every_background_task_within_the_shutdown_timeout_with_a_live_stream_open() {
    // base_env gives the server 5 seconds to shut down.
    let mut app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    buzon_tests::web::add_user(&app, "ana@shop.example", "agent").await;
    let session = buzon_tests::web::Session::start(&app, "ana@shop.example").await;
    // A browser keeps the live updates open: it must not hold the shutdown up.
    let mut events = session.get(&app, "/events").await;
    assert_eq!(events.status(), 200);
    let started = std::time::Instant::now();
    let status = app.terminate(Duration::from_secs(15)).await;
    let took = started.elapsed();
    assert!(status.success(), "exit status {status}");
    assert!(
        took < Duration::from_secs(5),
        "stopped within server.shutdown_timeout_secs (took {took:?})"
    );
    let log = app.log();
    assert!(
        log.contains("background tasks: 11 finished, 0 aborted"),
        "every background task (webhook writer, live updates, report refresh, normalizer, dispatcher, pollers, rules, alerts, events out, profiles, pruner) stopped by itself:\n{log}"
    );
    assert!(log.contains("stopped"), "{log}");
    // The live stream ended with the server instead of being cut off mid-way.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = events.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live stream ended at shutdown");
    app.finish().await;
}

/// A token reaches `channel add` from standard input, a file or the environment without a
/// word on the command line; a literal one still works (../shared/INTERFACE.md's form) and is
/// warned about once the command has succeeded. None of them is stored in clear.
#[tokio::test]
async fn secrets_come_from_standard_input_a_file_or_the_environment() {
    let db = TestDatabase::sqlite();
    let mut env = TestApp::base_env(&db);
    let token_file = db.dir.join("token.txt");
    std::fs::write(&token_file, "EAAfrom-a-file\n").unwrap();
    let file_arg = format!("file:{}", token_file.display());
    let add = |number: &'static str, token: Option<&'static str>| {
        let mut args = vec![
            "channel",
            "add",
            "whatsapp",
            "--no-check",
            "--phone-number-id",
            number,
        ];
        if let Some(token) = token {
            args.extend(["--access-token", token]);
        }
        args
    };
    let piped = run_cli(
        &env,
        &db.dir,
        &add("1001", Some("-")),
        Some("EAAfrom-stdin\n"),
    )
    .await;
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert!(!stderr(&piped).contains("warning"), "{}", stderr(&piped));
    let mut args = add("1002", None);
    args.extend(["--access-token", &file_arg]);
    let from_file = run_cli(&env, &db.dir, &args, None).await;
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    env.push((
        "BUZON_ACCESS_TOKEN".into(),
        "EAAfrom-the-environment".into(),
    ));
    let from_env = run_cli(&env, &db.dir, &add("1003", None), None).await;
    assert!(from_env.status.success(), "{}", stderr(&from_env));
    assert!(!stderr(&from_env).contains("warning"));
    let literal = run_cli(&env, &db.dir, &add("1004", Some("EAAliteral")), None).await;
    assert!(literal.status.success(), "{}", stderr(&literal));
    assert!(
        stderr(&literal).contains("warning: a secret on the command line (--access-token)"),
        "{}",
        stderr(&literal)
    );
    let listed = run_cli(&env, &db.dir, &["channel", "list"], None).await;
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    for number in ["1001", "1002", "1003", "1004"] {
        assert!(listed.contains(number), "{listed}");
    }
    for token in [
        "EAAfrom-stdin",
        "EAAfrom-a-file",
        "EAAfrom-the-environment",
        "EAAliteral",
    ] {
        assert!(
            db.raw_dump_contains(token).await.is_empty(),
            "{token} is sealed"
        );
    }
}
