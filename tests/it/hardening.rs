//! What a public server meets: many wrong passwords at once for one account are counted
//! before any is checked (at most the limit reaches the password check, the rest wait), the
//! hashing runs off the async threads (webhooks keep flowing meanwhile), and a real user on
//! another address is not kept out by an attacker's failures.

use buzon_tests::web::{add_user, client, cookie_value, hidden_csrf, PASSWORD};
use buzon_tests::{Engine, TestApp, TestDatabase};
use reqwest::header::COOKIE;
use std::time::{Duration, Instant};

/// Signs in through the form from a client; returns the status.
async fn sign_in_at(base_url: String, email: &str, password: &str, forwarded_for: &str) -> u16 {
    let http = client();
    let page = http
        .get(format!("{base_url}/login"))
        .send()
        .await
        .expect("GET /login");
    let cookie = cookie_value(&page, "buzon_login_csrf").expect("the login CSRF cookie");
    let csrf = hidden_csrf(&page.text().await.expect("the login page"));
    http.post(format!("{base_url}/login"))
        .header(COOKIE, format!("buzon_login_csrf={cookie}"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[("email", email), ("password", password), ("_csrf", &csrf)])
        .send()
        .await
        .expect("POST /login")
        .status()
        .as_u16()
}

async fn concurrent_guesses(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    // Loopback is the trusted proxy here, so each request's X-Forwarded-For is its address.
    let app = TestApp::start(db, &[("BUZON_SERVER_TRUSTED_PROXIES", "127.0.0.1")]).await;
    add_user(&app, "ana@shop.example", "agent").await;

    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let base = app.base_url.clone();
        guesses.spawn(async move {
            sign_in_at(base, "ana@shop.example", "a wrong guess", "203.0.113.66").await
        });
    }
    // Meanwhile, webhooks are answered as usual.
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        let answer = app
            .post_signed_webhook(
                "whatsapp",
                br#"{"object":"whatsapp_business_account","entry":[]}"#,
            )
            .await;
        assert_eq!(answer.status(), 200);
        slowest = slowest.max(started.elapsed());
    }
    let mut statuses = Vec::new();
    while let Some(status) = guesses.join_next().await {
        statuses.push(status.unwrap());
    }
    let checked = statuses.iter().filter(|status| **status == 401).count();
    let waiting = statuses.iter().filter(|status| **status == 429).count();
    assert_eq!(checked + waiting, 50, "{statuses:?}");
    assert!(
        (1..=5).contains(&checked),
        "at most the limit of 5 reached the password check: {checked}"
    );
    assert!(
        slowest < Duration::from_secs(2),
        "a webhook took {slowest:?} during the guesses"
    );
    assert!(
        app.db
            .scalar("SELECT COUNT(*) FROM login_failures WHERE email = 'ana@shop.example'")
            .await
            <= 5
    );
    // The attacker's address waits; Ana, from her own address, signs in.
    assert_eq!(
        sign_in_at(
            app.base_url.clone(),
            "ana@shop.example",
            PASSWORD,
            "203.0.113.66"
        )
        .await,
        429
    );
    assert_eq!(
        sign_in_at(
            app.base_url.clone(),
            "ana@shop.example",
            PASSWORD,
            "198.51.100.20"
        )
        .await,
        303,
        "a real user elsewhere is not kept out"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_wrong_passwords_let_at_most_the_limit_through_sqlite() {
    concurrent_guesses(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_wrong_passwords_let_at_most_the_limit_through_postgres() {
    concurrent_guesses(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_body_that_is_not_a_json_object_is_refused_and_not_stored() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    for body in [&b"[1,2,3]"[..], b"\"hello\"", b"{\"object\":", b"<xml/>"] {
        let answer = app.post_signed_webhook("facebook", body).await;
        assert_eq!(answer.status(), 400, "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM inbound_events").await,
        0,
        "nothing stored"
    );
    let object = app
        .post_signed_webhook("facebook", br#"{"object":"page","entry":[]}"#)
        .await;
    assert_eq!(object.status(), 200);
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM inbound_events").await,
        1
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_stalls_its_body_is_cut_by_the_timeout_and_others_flow() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start(
        TestDatabase::sqlite(),
        &[("BUZON_SERVER_REQUEST_TIMEOUT_SECS", "2")],
    )
    .await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(
        format!(
            "POST /webhooks/facebook HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             X-Hub-Signature-256: sha256=00\r\nContent-Length: 1000\r\n\r\n{{\"object\":"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    // Meanwhile another client is served at once.
    let answer = app
        .post_signed_webhook("facebook", br#"{"object":"page","entry":[]}"#)
        .await;
    assert_eq!(answer.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    // The stalled one is answered 408 once its time is up, and never stored.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), slow.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(read.is_ok(), "the server cut the stalled request: {text}");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM inbound_events").await,
        1
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outgoing_url_to_this_machine_or_a_private_network_is_refused() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let admin = app.token("admin").await;
    let rule = |url: &str| {
        serde_json::json!({"name": "Urgente", "keywords": {"es": ["urgente"]},
                           "webhook": {"url": url, "secret": "0123456789abcdef"}})
    };
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.20:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fd00::5]/hook",
    ] {
        let refused = app
            .http
            .post(app.url("/api/v1/alert-rules"))
            .bearer_auth(&admin)
            .json(&rule(url))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{url}");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "private_url", "{url}: {body}");
    }
    assert_eq!(app.db.scalar("SELECT COUNT(*) FROM alert_rules").await, 0);
    let public = app
        .http
        .post(app.url("/api/v1/alert-rules"))
        .bearer_auth(&admin)
        .json(&rule("https://hooks.shop.example/buzon"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 201);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_trickles_its_headers_is_cut_by_the_header_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start(
        TestDatabase::sqlite(),
        &[("BUZON_SERVER_HEADER_READ_TIMEOUT_SECS", "2")],
    )
    .await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"POST /webhooks/facebook HTTP/1.1\r\nHost: buzon\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // Others are served meanwhile.
    let answer = app
        .post_signed_webhook("facebook", br#"{"object":"page","entry":[]}"#)
        .await;
    assert_eq!(answer.status(), 200);
    // The server closes the connection once the headers are late.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(15), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection was closed");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    app.finish().await;
}
