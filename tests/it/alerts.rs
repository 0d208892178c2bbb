//! Urgent alerts end to end: a rule of keywords outside business hours, the on-call rota, a
//! real SMTP server in its own process (Python's `smtpd` debugging server, which prints every
//! mail it receives) and a local webhook receiver; exactly once each, with a working link and
//! a valid signature; with the mail server down, the alert is retried and ingestion goes on.

use buzon_core::Timestamp;
use buzon_tests::app::{free_port, TestApp};
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, Sandbox, SandboxConfig, Source,
};
use buzon_tests::{Engine, TestDatabase};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

const SECRET: &str = "s3cr3t-for-the-alert-webhook";
const HOUR: i64 = 3_600_000;

/// The SMTP sink: a separate process that prints every mail it receives.
struct MailSink {
    child: tokio::process::Child,
    printed: Arc<Mutex<String>>,
}

impl MailSink {
    async fn start(port: u16) -> MailSink {
        let mut child = tokio::process::Command::new("python3")
            .args([
                "-u",
                "-W",
                "ignore",
                "-m",
                "smtpd",
                "-n",
                "-c",
                "DebuggingServer",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs (the SMTP sink)");
        let printed = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("the sink's output");
        let sink = printed.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut printed = sink.lock().unwrap();
                printed.push_str(&line);
                printed.push('\n');
            }
        });
        // Listening once a connection succeeds.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return MailSink { child, printed };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the SMTP sink never listened");
    }

    fn mails(&self) -> Vec<String> {
        self.printed
            .lock()
            .unwrap()
            .split("---------- MESSAGE FOLLOWS ----------")
            .skip(1)
            .map(str::to_owned)
            .collect()
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A local webhook receiver: records each POST's headers and body.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let recorded = receiver.clone();
        let app = axum::Router::new().route(
            "/hooks/buzon",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: String| async move {
                    recorded.received.lock().unwrap().push((headers, body));
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/buzon", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn bodies(&self) -> Vec<(axum::http::HeaderMap, String)> {
        self.received.lock().unwrap().clone()
    }
}

/// Checks `X-Buzon-Signature` (`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`)
/// as a receiver would.
pub(crate) fn signature_valid(secret: &str, header: &str, body: &str) -> bool {
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::decode(v1).is_ok_and(|expected| mac.verify_slice(&expected).is_ok())
}

fn set_clock(file: &std::path::Path, at: Timestamp) {
    std::fs::write(file, at.to_rfc3339()).expect("the clock file is writable");
}

async fn customer_writes(
    app: &TestApp,
    sandbox: &Sandbox,
    token: &str,
    at: Timestamp,
    author: (&str, &str),
    text: &str,
) -> Value {
    let injection = Injection::new(Source::XDm, text)
        .by(author.0, author.1)
        .at(at.as_millis() / 1000);
    crate::service::inject_and_wait(app, sandbox, token, injection).await
}

async fn urgent_alerts(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let smtp_port = free_port();
    let sink = MailSink::start(smtp_port).await;
    let (receiver, hook_url) = Receiver::start().await;
    let clock = db.dir.join("clock");
    let sunday_night = crate::service::a_past_saturday_eleven().plus_millis(36 * HOUR);
    set_clock(&clock, sunday_night);
    let clock_env = clock.to_string_lossy().into_owned();
    let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(
        db,
        config.clone(),
        &[
            ("BUZON_TEST_CLOCK_FILE", &clock_env),
            ("BUZON_ALERTS_SMTP_URL", &smtp_url),
            ("BUZON_ALERTS_FROM", "buzon <alerts@shop.example>"),
            // The test's receiver listens on loopback: allowed here on purpose.
            ("BUZON_ALERTS_ALLOW_PRIVATE_URLS", "true"),
        ],
    )
    .await;
    connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let agent = app.token("agent").await;
    let added = app
        .cli(
            &[
                "user",
                "add",
                "ana@shop.example",
                "--role",
                "agent",
                "--name",
                "Ana",
            ],
            Some("correct horse battery\n"),
        )
        .await;
    assert!(added.status.success());
    let put = |path: &'static str, body: Value| {
        let request = app.http.put(app.url(path)).bearer_auth(&admin).json(&body);
        async move { request.send().await.unwrap() }
    };
    let shift = json!(["09:00-14:00", "16:00-20:00"]);
    let hours = put(
        "/api/v1/business-hours",
        json!({"time_zone": "Europe/Madrid", "week": {"monday": shift, "tuesday": shift,
               "wednesday": shift, "thursday": shift, "friday": shift}}),
    )
    .await;
    assert_eq!(hours.status(), 200);
    let rota = put(
        "/api/v1/on-call",
        json!({"time_zone": "Europe/Madrid", "shifts": [
            {"days": ["saturday", "sunday"], "hours": ["00:00-24:00"], "user": "ana@shop.example"}]}),
    )
    .await;
    assert_eq!(rota.status(), 200);
    // Someone who is not a user cannot be on call.
    let stranger = put(
        "/api/v1/on-call",
        json!({"time_zone": "Europe/Madrid", "shifts": [
            {"days": ["monday"], "hours": ["00:00-24:00"], "user": "nobody@shop.example"}]}),
    )
    .await;
    assert_eq!(stranger.status(), 400);

    let created = app
        .http
        .post(app.url("/api/v1/alert-rules"))
        .bearer_auth(&admin)
        .json(
            &json!({"name": "Fraude", "keywords": {"es": ["urgente", "fraude"], "en": ["urgent"]},
                      "labels": [], "authors": [], "waiting_minutes": null, "when": "outside_hours",
                      "email": [], "webhook": {"url": hook_url, "secret": SECRET}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let rules = app.api_get(&agent, "/api/v1/alert-rules").await;
    assert_eq!(rules["items"][0]["webhook_secret_set"], true);
    assert!(!rules.to_string().contains(SECRET), "{rules}");
    assert!(app.db.raw_dump_contains(SECRET).await.is_empty());

    // Sunday night: an urgent message.
    let lucia = ("7201", "Lucía Pérez");
    let message = customer_writes(
        &app,
        &sandbox,
        &agent,
        sunday_night,
        lucia,
        "¡Esto es un fraude! Me habéis cobrado dos veces el mismo pedido",
    )
    .await;
    let conversation = message["conversation_id"].as_i64().unwrap();
    let link = format!("{}/conversations/{conversation}", app.base_url);
    app.eventually(
        Duration::from_secs(30),
        "the mail and the webhook",
        || async { (sink.mails().len() == 1 && receiver.bodies().len() == 1).then_some(()) },
    )
    .await;
    let mail = &sink.mails()[0];
    assert!(mail.contains("ana@shop.example"), "{mail}");
    assert!(mail.contains(&link), "{mail}");
    let (headers, body) = &receiver.bodies()[0];
    let signature = headers["x-buzon-signature"].to_str().unwrap();
    assert!(signature_valid(SECRET, signature, body), "{signature}");
    assert!(!signature_valid(
        SECRET,
        signature,
        &body.replace("Fraude", "fraude")
    ));
    let alert: Value = serde_json::from_str(body).unwrap();
    assert_eq!(alert["conversation"]["url"], link.as_str());
    assert_eq!(alert["rule"]["name"], "Fraude");
    let opened = app
        .http
        .get(&link)
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 200, "the link opens the conversation");

    // The same conversation again, and a calm message: no new alert.
    customer_writes(
        &app,
        &sandbox,
        &agent,
        sunday_night.plus_millis(60_000),
        lucia,
        "Es urgente, necesito que me devolváis el dinero",
    )
    .await;
    customer_writes(
        &app,
        &sandbox,
        &agent,
        sunday_night.plus_millis(120_000),
        ("7202", "Bruno Díaz"),
        "Hola, ¿tenéis la camiseta azul en talla M?",
    )
    .await;
    // The rules have looked at both (the deliveries they queue commit with that look).
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM alert_deliveries").await,
        2
    );
    assert_eq!(sink.mails().len(), 1);
    assert_eq!(receiver.bodies().len(), 1);

    // The mail server goes down: the next alert waits, the webhook goes out, and messages
    // keep arriving.
    sink.stop().await;
    customer_writes(
        &app,
        &sandbox,
        &agent,
        sunday_night.plus_millis(180_000),
        ("7203", "Carla Gil"),
        "URGENTE: alguien ha usado mi tarjeta en vuestra tienda",
    )
    .await;
    app.eventually(
        Duration::from_secs(30),
        "a failed try kept for retry",
        || async {
            let waiting = app
            .db
            .scalar(
                "SELECT COUNT(*) FROM alert_deliveries WHERE kind = 'email' AND state = 'queued' \
                 AND attempts >= 1 AND last_error IS NOT NULL",
            )
            .await;
            (waiting == 1).then_some(())
        },
    )
    .await;
    assert_eq!(receiver.bodies().len(), 2);
    let later = customer_writes(
        &app,
        &sandbox,
        &agent,
        sunday_night.plus_millis(240_000),
        ("7204", "Dani Ruiz"),
        "¿Cuánto tarda un envío a Canarias?",
    )
    .await;
    assert_eq!(later["direction"], "inbound", "ingestion goes on");
    let sink = MailSink::start(smtp_port).await;
    app.eventually(Duration::from_secs(60), "the retried mail", || async {
        (sink.mails().len() == 1).then_some(())
    })
    .await;
    assert!(sink.mails()[0].contains("alguien ha usado mi tarjeta"));
    // The sink has the mail before the sender records it sent: wait for the record.
    app.eventually(
        Duration::from_secs(30),
        "every delivery recorded sent",
        || async {
            (app.db
                .scalar("SELECT COUNT(*) FROM alert_deliveries WHERE state = 'sent'")
                .await
                == 4)
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        app.db.scalar("SELECT COUNT(*) FROM alert_deliveries").await,
        4,
        "and no other delivery"
    );
    sink.stop().await;
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_urgent_message_out_of_hours_reaches_whoever_is_on_call_once_by_mail_and_webhook_on_sqlite(
) {
    urgent_alerts(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_urgent_message_out_of_hours_reaches_whoever_is_on_call_once_by_mail_and_webhook_on_postgres(
) {
    urgent_alerts(Engine::Postgres).await;
}
