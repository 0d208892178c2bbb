//! Working the queue end to end, on both engines, against the real binary and the sandbox:
//! canned replies (placeholders filled exactly once at send time, an unknown one refused, use
//! counted once, templates when the WhatsApp window has closed), escalation (a rule on the
//! waiting time in business hours escalates once; by hand with a note; both audited, in the
//! supervisors' view and in the reports), and snoozes that return at their time (controllable
//! clock) or at once when the customer writes.

use crate::incidents::sent_to;
use crate::service::{a_past_saturday_eleven, inject_and_wait};
use buzon_core::Timestamp;
use buzon_tests::app::TestApp;
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::{Engine, TestDatabase};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";
const THROUGH: Duration = Duration::from_secs(30);
const MINUTE: i64 = 60_000;

/// Sends a JSON request with a token; returns the status and the body (null when empty).
pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Adds a user and returns a token that acts for them.
pub(crate) async fn user_token(app: &TestApp, email: &str, name: &str, role: &str) -> String {
    let added = app
        .cli(
            &["user", "add", email, "--role", role, "--name", name],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let created = app
        .cli(
            &[
                "token",
                "create",
                &format!("token-{email}"),
                "--role",
                role,
                "--user",
                email,
            ],
            None,
        )
        .await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    String::from_utf8_lossy(&created.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// The ids in the open queue.
async fn open_queue(app: &TestApp, token: &str) -> Vec<i64> {
    let (_, queue) = call(app, Method::GET, token, "/api/v1/conversations", None).await;
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

fn set_clock(file: &Path, at: Timestamp) {
    std::fs::write(file, at.to_rfc3339()).expect("the clock file is writable");
}

async fn canned_replies(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(db, config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let viewer = app.token("viewer").await;
    let ana = user_token(&app, "ana@shop.example", "Ana María", "agent").await;

    // The team's library: an admin saves a shared reply.
    let shipping = json!({
        "name": "Plazos de envío",
        "shortcut": "envios",
        "text": "Hola {{customer.first_name}}, soy {{agent.first_name}}. Tu caso es el {{ conversation.id }}.",
        "language": "es",
        "labels": ["envio"]
    });
    let (status, saved) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/canned-replies",
        Some(&shipping),
    )
    .await;
    assert_eq!(status, 201, "{saved}");
    assert_eq!(saved["owner_id"], Value::Null, "an admin's reply is shared");
    let shipping_id = saved["id"].as_i64().unwrap();

    // Refusals change nothing: an unknown placeholder (named), a viewer, a taken shortcut, an
    // agent sharing or changing a shared reply.
    let mut unknown = shipping.clone();
    unknown["shortcut"] = json!("otra");
    unknown["text"] = json!("Hola {{cliente.nombre}}");
    let (status, refused) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/canned-replies",
        Some(&unknown),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("cliente.nombre"), "{refused}");
    let (status, _) = call(
        &app,
        Method::POST,
        &viewer,
        "/api/v1/canned-replies",
        Some(&unknown),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/canned-replies",
        Some(&shipping),
    )
    .await;
    assert_eq!(status, 409, "a taken shortcut");
    let mut shared_by_agent = shipping.clone();
    shared_by_agent["shortcut"] = json!("mia");
    shared_by_agent["shared"] = json!(true);
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        "/api/v1/canned-replies",
        Some(&shared_by_agent),
    )
    .await;
    assert_eq!(status, 403, "agents save their own, not shared ones");
    let (status, _) = call(
        &app,
        Method::PUT,
        &ana,
        &format!("/api/v1/canned-replies/{shipping_id}"),
        Some(&shared_by_agent),
    )
    .await;
    assert_eq!(status, 403, "admins curate the shared ones");
    let own = json!({"name": "Gracias", "shortcut": "gracias", "text": "¡Gracias, {{customer.first_name}}!", "language": "es"});
    let (status, mine) = call(
        &app,
        Method::POST,
        &ana,
        "/api/v1/canned-replies",
        Some(&own),
    )
    .await;
    assert_eq!(status, 201, "{mine}");
    assert!(mine["owner_id"].is_i64(), "an agent's reply is their own");
    let (_, listed) = call(&app, Method::GET, &admin, "/api/v1/canned-replies", None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
    let (_, english) = call(
        &app,
        Method::GET,
        &ana,
        "/api/v1/canned-replies?language=en",
        None,
    )
    .await;
    assert_eq!(english["items"], json!([]), "no English reply");
    let (_, found) = call(
        &app,
        Method::GET,
        &viewer,
        "/api/v1/canned-replies?q=ENV",
        None,
    )
    .await;
    assert_eq!(found["items"][0]["shortcut"], "envios", "{found}");
    assert_eq!(
        found["items"].as_array().unwrap().len(),
        1,
        "a token with no user sees only the shared replies"
    );

    // A customer whose name is itself a placeholder: it is greeted by that name, not filled.
    let message = inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(Source::Whatsapp, "¿Cuándo llega mi pedido?")
            .by("34655000001", "{{agent.first_name}} Ruiz"),
    )
    .await;
    let conversation = message["conversation_id"].as_i64().unwrap();
    let replies = format!("/api/v1/conversations/{conversation}/replies");
    let expected = format!("Hola {{{{agent.first_name}}}}, soy Ana. Tu caso es el {conversation}.");
    let send = |key: &'static str| {
        app.http
            .post(app.url(&replies))
            .bearer_auth(&ana)
            .header("idempotency-key", key)
            .json(&json!({"canned_reply_id": shipping_id}))
            .send()
    };
    let first = send("canned-1").await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["text"], expected.as_str(), "{first}");
    let again: Value = send("canned-1").await.unwrap().json().await.unwrap();
    assert_eq!(again["id"], first["id"], "the same key is the same reply");
    app.eventually(THROUGH, "the reply on WhatsApp", || async {
        (!sent_to(&sandbox, "34655000001").is_empty()).then_some(())
    })
    .await;
    assert_eq!(
        sent_to(&sandbox, "34655000001"),
        vec![expected.clone()],
        "sent once, filled once"
    );
    let (_, listed) = call(&app, Method::GET, &ana, "/api/v1/canned-replies", None).await;
    let used = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|reply| reply["id"] == shipping_id)
        .unwrap()
        .clone();
    assert_eq!(used["uses"], 1, "counted once: {used}");
    assert!(used["last_used_at"].is_i64() || used["last_used_at"].is_string());

    // A typed reply with an unknown placeholder is refused, naming it; nothing is queued.
    let outbound = "SELECT COUNT(*) FROM messages WHERE direction = 'outbound'";
    let before = app.db.scalar(outbound).await;
    let (status, refused) = call(
        &app,
        Method::POST,
        &ana,
        &replies,
        Some(&json!({"text": "Hola {{customer.nombre}}, ya está"})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "unknown_placeholder");
    assert!(refused.to_string().contains("customer.nombre"), "{refused}");
    // A token that acts for no user has no first name to give.
    let (status, refused) = call(
        &app,
        Method::POST,
        &admin,
        &replies,
        Some(&json!({"canned_reply_id": shipping_id})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "unfilled_placeholder");
    // Someone else's own reply cannot be used.
    let (status, _) = call(
        &app,
        Method::POST,
        &admin,
        &replies,
        Some(&json!({"canned_reply_id": mine["id"]})),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(app.db.scalar(outbound).await, before, "nothing was queued");

    // The WhatsApp window has closed: the approved templates are what may be sent. An admin
    // registers them as approved in the WhatsApp Manager.
    let template =
        json!({"name": "seguimiento", "language": "es", "body": "Hola, ¿seguimos con tu pedido?"});
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        "/api/v1/whatsapp-templates",
        Some(&template),
    )
    .await;
    assert_eq!(status, 403, "agents register none");
    let (status, refused) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/whatsapp-templates",
        Some(&json!({"name": "Seguimiento Pedido", "language": "es", "body": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_template");
    let (status, refused) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/whatsapp-templates",
        Some(&json!({"name": "con_parametro", "language": "es", "body": "Hola {{1}}"})),
    )
    .await;
    assert_eq!(
        status, 400,
        "buzon fills no template parameters yet: {refused}"
    );
    let (status, registered) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/whatsapp-templates",
        Some(&template),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    let (status, _) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/whatsapp-templates",
        Some(&template),
    )
    .await;
    assert_eq!(status, 409, "once per name and language");
    let (_, listed) = call(&app, Method::GET, &ana, "/api/v1/whatsapp-templates", None).await;
    assert_eq!(listed["items"][0]["name"], "seguimiento", "{listed}");
    let old = inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(Source::Whatsapp, "¿Tenéis la talla M?")
            .by("34655000002", "Luis Antiguo")
            .at(Timestamp::now().as_millis() / 1000 - 30 * 3600),
    )
    .await;
    let old_replies = format!(
        "/api/v1/conversations/{}/replies",
        old["conversation_id"].as_i64().unwrap()
    );
    let (status, refused) = call(
        &app,
        Method::POST,
        &ana,
        &old_replies,
        Some(&json!({"canned_reply_id": shipping_id})),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "reply_window_closed");
    assert_eq!(
        refused["error"]["templates"][0]["name"], "seguimiento",
        "{refused}"
    );
    assert_eq!(app.db.scalar(outbound).await, before, "nothing was queued");

    // A channel that signs its replies adds the agent's first name, after the filled text.
    let whatsapp = app
        .db
        .scalar("SELECT id FROM channels WHERE kind = 'whatsapp'")
        .await;
    let signature = format!("/api/v1/channels/{whatsapp}/signature");
    let (status, _) = call(
        &app,
        Method::PUT,
        &ana,
        &signature,
        Some(&json!({"signature": true})),
    )
    .await;
    assert_eq!(status, 403, "admins set it");
    let (status, _) = call(
        &app,
        Method::PUT,
        &admin,
        &signature,
        Some(&json!({"signature": true})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, signed) = call(
        &app,
        Method::POST,
        &ana,
        &replies,
        Some(&json!({"text": "Ya está en camino, {{customer.first_name}}."})),
    )
    .await;
    assert_eq!(status, 202, "{signed}");
    assert_eq!(
        signed["text"], "Ya está en camino, {{agent.first_name}}.\n— Ana",
        "{signed}"
    );
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_replies_are_filled_once_counted_once_and_refused_when_unknown_sqlite() {
    canned_replies(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_replies_are_filled_once_counted_once_and_refused_when_unknown_postgres() {
    canned_replies(Engine::Postgres).await;
}

/// Lets the timed rules run at `to`: `helper` (a conversation) is snoozed until just before
/// `to`, the clock moves there, and its return shows that escalations at `to` were judged
/// (both run at one reading of the clock, escalations first).
async fn timed_rules_at(app: &TestApp, token: &str, clock: &Path, helper: i64, to: Timestamp) {
    let (status, body) = call(
        app,
        Method::POST,
        token,
        &format!("/api/v1/conversations/{helper}/status"),
        Some(&json!({"status": "snoozed", "until": to.plus_millis(-1000).to_rfc3339()})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    set_clock(clock, to);
    app.eventually(THROUGH, "the helper back from its snooze", || async {
        (app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM conversations WHERE id = {helper} AND status = 'open'"
            ))
            .await
            == 1)
            .then_some(())
    })
    .await;
}

async fn escalation(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let clock = db.dir.join("clock");
    // Friday 17:50 in Madrid, ten minutes before closing.
    let friday = a_past_saturday_eleven().plus_millis(-(17 * 60 + 10) * MINUTE);
    set_clock(&clock, friday);
    let clock_env = clock.to_string_lossy().into_owned();
    let config = SandboxConfig::default();
    let (app, sandbox) =
        start_with_sandbox(db, config.clone(), &[("BUZON_TEST_CLOCK_FILE", &clock_env)]).await;
    let channels = connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let viewer = app.token("viewer").await;
    let ana = user_token(&app, "ana@shop.example", "Ana", "agent").await;
    user_token(&app, "marta@shop.example", "Marta", "agent").await;
    let marta = app
        .db
        .scalar("SELECT id FROM users WHERE email = 'marta@shop.example'")
        .await;
    let (status, _) = call(
        &app,
        Method::PUT,
        &admin,
        &format!("/api/v1/users/{marta}/supervisor"),
        Some(&json!({"supervisor": true})),
    )
    .await;
    assert_eq!(status, 200);
    let weekdays = json!(["09:00-18:00"]);
    let (status, _) = call(
        &app,
        Method::PUT,
        &admin,
        "/api/v1/business-hours",
        Some(&json!({"time_zone": "Europe/Madrid",
            "week": {"monday": weekdays, "tuesday": weekdays, "wednesday": weekdays,
                     "thursday": weekdays, "friday": weekdays, "saturday": [], "sunday": []},
            "holidays": [], "exceptions": []})),
    )
    .await;
    assert_eq!(status, 200);
    let rule = json!({"channel_id": channels.whatsapp, "target_minutes": 30});
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        "/api/v1/escalation-rules",
        Some(&rule),
    )
    .await;
    assert_eq!(status, 403, "admins set the rules");
    let (status, _) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/escalation-rules",
        Some(&json!({"target_minutes": 0})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, created) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/escalation-rules",
        Some(&rule),
    )
    .await;
    assert_eq!(status, 201, "{created}");

    // The helper that marks each pass of the timed rules (an X message: not on the rule's
    // channel), and the customer who waits on WhatsApp from Friday 17:50.
    let helper = inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(Source::XDm, "hola")
            .by("7100", "Ayudante")
            .at(friday.as_millis() / 1000),
    )
    .await["conversation_id"]
        .as_i64()
        .unwrap();
    let waiting = inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(Source::Whatsapp, "Mi pedido no ha llegado y lo necesito ya")
            .by("34666000001", "Paula Espera")
            .at(friday.as_millis() / 1000),
    )
    .await["conversation_id"]
        .as_i64()
        .unwrap();
    let escalations_of = |id: i64| {
        let app = &app;
        async move {
            app.db
                .texts(&format!(
                    "SELECT escalated_by, CAST(escalated_at AS TEXT) FROM escalations WHERE conversation_id = {id}"
                ))
                .await
        }
    };
    // 40 minutes later on the wall, 10 in business hours; then Monday 09:15 (25): not yet.
    for at in [
        friday.plus_millis(40 * MINUTE),
        friday.plus_millis((2 * 24 * 60 + 15 * 60 + 25) * MINUTE),
    ] {
        timed_rules_at(&app, &ana, &clock, helper, at).await;
        assert_eq!(
            escalations_of(waiting).await.len(),
            0,
            "not escalated at {at:?}"
        );
    }
    // Monday 09:25: 35 business minutes, escalated by the rule, once.
    let monday = friday.plus_millis((2 * 24 * 60 + 15 * 60 + 35) * MINUTE);
    timed_rules_at(&app, &ana, &clock, helper, monday).await;
    let escalated = escalations_of(waiting).await;
    assert_eq!(escalated.len(), 1, "{escalated:?}");
    assert_eq!(
        escalated[0][1].as_deref(),
        Some(monday.as_millis().to_string().as_str()),
        "escalated at the moment the target passed"
    );
    assert!(escalated[0][0].as_deref().unwrap().starts_with("rule:"));
    timed_rules_at(&app, &ana, &clock, helper, monday.plus_millis(60 * MINUTE)).await;
    assert_eq!(escalations_of(waiting).await.len(), 1, "escalated once");

    // By hand, with a note; a viewer may not.
    let (status, _) = call(
        &app,
        Method::POST,
        &viewer,
        &format!("/api/v1/conversations/{helper}/escalate"),
        Some(&json!({"note": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{helper}/escalate"),
        Some(&json!({"note": "Amenaza con ir a la prensa"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The supervisors' view holds both; the note is on the conversation; both are audited,
    // mailed to the supervisor through the alert queue, and counted in the reports.
    let (_, view) = call(
        &app,
        Method::GET,
        &viewer,
        "/api/v1/conversations?view=escalated",
        None,
    )
    .await;
    let mut ids: Vec<i64> = view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![waiting, helper];
    expected.sort();
    assert_eq!(ids, expected, "{view}");
    assert!(view["items"][0]["escalated_at"].is_string());
    assert_eq!(
        app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM notes WHERE conversation_id = {helper} AND text LIKE '%prensa%'"
            ))
            .await,
        1
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'conversation.escalate'")
            .await,
        2
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM alert_deliveries WHERE kind = 'email' AND destination = 'marta@shop.example' AND rule_id < 0")
            .await,
        2
    );
    let from = friday.plus_millis(-24 * 60 * MINUTE).to_rfc3339();
    let to = monday.plus_millis(24 * 60 * MINUTE).to_rfc3339();
    let report = app
        .api_get(
            &viewer,
            &format!(
                "/api/v1/metrics/response-times?from={}&to={}",
                &from[..10],
                &to[..10]
            ),
        )
        .await;
    assert_eq!(
        report["escalations"],
        json!({"total": 2, "by_rule": 1, "by_hand": 1}),
        "{report}"
    );
    // Resolving ends the escalation: it leaves the supervisors' view.
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{waiting}/status"),
        Some(&json!({"status": "resolved"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, view) = call(
        &app,
        Method::GET,
        &ana,
        "/api/v1/conversations?view=escalated",
        None,
    )
    .await;
    assert_eq!(view["items"].as_array().unwrap().len(), 1, "{view}");
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_past_its_business_hours_target_is_escalated_once_and_by_hand_with_a_note_sqlite() {
    escalation(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_past_its_business_hours_target_is_escalated_once_and_by_hand_with_a_note_postgres()
{
    escalation(Engine::Postgres).await;
}

async fn snooze(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let clock = db.dir.join("clock");
    let start = Timestamp::now().plus_millis(-3 * 24 * 60 * MINUTE);
    set_clock(&clock, start);
    let clock_env = clock.to_string_lossy().into_owned();
    let config = SandboxConfig::default();
    let (app, sandbox) =
        start_with_sandbox(db, config.clone(), &[("BUZON_TEST_CLOCK_FILE", &clock_env)]).await;
    connect_sandbox_channels(&app, &config).await;
    let ana = user_token(&app, "ana@shop.example", "Ana", "agent").await;
    let writes = |author: &'static str, text: &'static str| {
        inject_and_wait(
            &app,
            &sandbox,
            &ana,
            Injection::new(Source::XDm, text).by(author, format!("Cliente {author}")),
        )
    };
    let first = writes("7201", "¿Me avisáis cuando llegue la talla M?").await["conversation_id"]
        .as_i64()
        .unwrap();
    let second = writes("7202", "Os escribo el lunes con el número de pedido").await
        ["conversation_id"]
        .as_i64()
        .unwrap();
    let status_of = |id: i64| {
        let app = &app;
        async move {
            app.db
                .texts(&format!(
                    "SELECT status, CAST(returned_at AS TEXT) FROM conversations WHERE id = {id}"
                ))
                .await
                .remove(0)
        }
    };

    // A time in the past is refused; "tomorrow" is 9:00 tomorrow in the team's zone (UTC).
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{first}/status"),
        Some(&json!({"status": "snoozed", "until": start.plus_millis(-MINUTE).to_rfc3339()})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{first}/status"),
        Some(&json!({"status": "snoozed", "until": "when pigs fly"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, snoozed) = call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{first}/status"),
        Some(&json!({"status": "snoozed", "until": "tomorrow"})),
    )
    .await;
    assert_eq!(status, 200, "{snoozed}");
    let until = Timestamp::parse_rfc3339(snoozed["until"].as_str().unwrap()).unwrap();
    let calendar = buzon_core::metrics::BusinessCalendar::always_open_in("UTC").unwrap();
    assert_eq!(
        calendar.local_date_minute(until),
        (calendar.date_of(start).plus_days(1).unwrap(), 9 * 60),
        "tomorrow at 9:00"
    );
    let (status, _) = call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{second}/status"),
        Some(&json!({"status": "snoozed", "until": start.plus_millis(7 * 24 * 60 * MINUTE).to_rfc3339()})),
    )
    .await;
    assert_eq!(status, 200);
    let queue = open_queue(&app, &ana).await;
    assert!(
        !queue.contains(&first) && !queue.contains(&second),
        "{queue:?}"
    );

    // Its time comes: back in the queue, marked.
    set_clock(&clock, until.plus_millis(MINUTE));
    app.eventually(THROUGH, "the first conversation back", || async {
        (status_of(first).await[0].as_deref() == Some("open")).then_some(())
    })
    .await;
    assert!(status_of(first).await[1].is_some(), "marked as returned");
    assert!(open_queue(&app, &ana).await.contains(&first));
    let (_, shown) = call(
        &app,
        Method::GET,
        &ana,
        &format!("/api/v1/conversations/{first}"),
        None,
    )
    .await;
    assert!(shown["returned_at"].is_string(), "{shown}");
    assert_eq!(status_of(second).await[0].as_deref(), Some("snoozed"));

    // The customer writes before the time: back at once, marked.
    writes("7202", "Ya tengo el número: 1002").await;
    assert_eq!(status_of(second).await[0].as_deref(), Some("open"));
    assert!(status_of(second).await[1].is_some(), "marked as returned");
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'conversation.snooze_ended'")
            .await,
        1,
        "the return at its time is audited"
    );
    // A change of status clears the mark.
    call(
        &app,
        Method::POST,
        &ana,
        &format!("/api/v1/conversations/{first}/status"),
        Some(&json!({"status": "pending"})),
    )
    .await;
    assert_eq!(status_of(first).await[1], None);
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snoozed_conversation_returns_at_its_time_or_when_the_customer_writes_sqlite() {
    snooze(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snoozed_conversation_returns_at_its_time_or_when_the_customer_writes_postgres() {
    snooze(Engine::Postgres).await;
}

/// `buzon serve --demo` on a fresh folder: within ten seconds of starting, the reports page,
/// the heatmap and the public page (and its badge) show figures from the demo's past; a few
/// canned replies exist in English and Spanish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_demo_has_a_past_that_the_reports_and_the_public_page_show() {
    let started = std::time::Instant::now();
    let app = TestApp::start_demo(TestDatabase::sqlite()).await;
    let password = app
        .log()
        .lines()
        .find_map(|line| {
            line.split_once("sign in as demo@buzon.example / ")
                .map(|(_, password)| password.trim().to_owned())
        })
        .expect("the demo prints its sign-in");
    let session =
        buzon_tests::web::Session::start_with(&app, "demo@buzon.example", &password).await;
    let within = Duration::from_secs(10);
    let figures = app
        .eventually(within, "the reports' figures", || async {
            let page = session.get(&app, "/reports").await.text().await.unwrap();
            let cycles: i64 = page
                .split("data-cycles=\"")
                .nth(1)?
                .split('"')
                .next()?
                .parse()
                .ok()?;
            (cycles > 0).then_some((cycles, page))
        })
        .await;
    let heatmap = session
        .get(&app, "/reports/export/heatmap.csv")
        .await
        .text()
        .await
        .unwrap();
    let busy_cells = heatmap
        .lines()
        .skip(1)
        .filter(|line| {
            line.split(',')
                .skip(2)
                .any(|cell| cell.parse::<f64>().is_ok_and(|value| value > 0.0))
        })
        .count();
    let public: Value = app
        .http
        .get(app.url("/public/response-times.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let badge = app
        .http
        .get(app.url("/public/badge.svg"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(figures.0 > 100, "weeks of cycles: {}", figures.0);
    assert!(
        figures.1.contains("<svg"),
        "the heatmaps are drawn on the reports page"
    );
    assert!(
        figures.1.contains("id=\"satisfaction\""),
        "satisfaction answers in the reports"
    );
    assert!(
        !figures.1.contains("data-escalations=\"0\""),
        "escalations in the reports"
    );
    assert!(
        busy_cells > 20,
        "the heatmap has many busy hours:\n{heatmap}"
    );
    assert!(
        public["overall"]["last_7_days"]["cycles"]
            .as_i64()
            .unwrap_or(0)
            > 0,
        "{public}"
    );
    assert!(badge.contains("within"), "{badge}");
    assert!(elapsed <= within, "figures after {elapsed:?}");
    // Canned replies in both languages.
    let library = session
        .get(&app, "/canned-replies")
        .await
        .text()
        .await
        .unwrap();
    assert!(library.contains("/envios") && library.contains("/shipping"));
    app.finish().await;
}

async fn closing_the_loop(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) =
        start_with_sandbox(db, config.clone(), &[("BUZON_REPORTS_REFRESH_SECS", "1")]).await;
    let channels = connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let ana = user_token(&app, "ana@shop.example", "Ana", "agent").await;
    let path = format!("/api/v1/channels/{}/closing-question", channels.whatsapp);
    let question = json!({"enabled": true, "default_language": "es",
        "texts": {"es": "¿Lo hemos resuelto? Responde 1 si sí o 2 si no.",
                  "en": "Did this solve it? Reply 1 for yes, 2 for no."}});
    let (status, _) = call(&app, Method::PUT, &ana, &path, Some(&question)).await;
    assert_eq!(status, 403, "admins set it");
    let mut unknown = question.clone();
    unknown["texts"]["en"] = json!("Solved, {{name}}?");
    let (status, _) = call(&app, Method::PUT, &admin, &path, Some(&unknown)).await;
    assert_eq!(status, 422);
    let (status, saved) = call(&app, Method::PUT, &admin, &path, Some(&question)).await;
    assert_eq!(status, 200, "{saved}");

    // Three customers: answered and resolved (Spanish, English), resolved without an answer.
    let mut conversations = Vec::new();
    for (number, text) in [
        ("34688000001", "Hola, ¿cuándo llega mi pedido 1001?"),
        (
            "34688000002",
            "Hi, where is my order 2002? It was due yesterday",
        ),
        ("34688000003", "Hola"),
    ] {
        let message = inject_and_wait(
            &app,
            &sandbox,
            &ana,
            Injection::new(Source::Whatsapp, text).by(number, format!("Cliente {number}")),
        )
        .await;
        conversations.push(message["conversation_id"].as_i64().unwrap());
    }
    for conversation in &conversations[..2] {
        let (status, _) = call(
            &app,
            Method::POST,
            &ana,
            &format!("/api/v1/conversations/{conversation}/replies"),
            Some(&json!({"text": "Sale hoy / It ships today"})),
        )
        .await;
        assert_eq!(status, 202);
        call(
            &app,
            Method::POST,
            &ana,
            &format!("/api/v1/conversations/{conversation}/tags"),
            Some(&json!({"add": ["envio"]})),
        )
        .await;
    }
    app.eventually(THROUGH, "the replies sent", || async {
        (sent_to(&sandbox, "34688000001").len() == 1 && sent_to(&sandbox, "34688000002").len() == 1)
            .then_some(())
    })
    .await;
    for conversation in &conversations {
        let (status, _) = call(
            &app,
            Method::POST,
            &ana,
            &format!("/api/v1/conversations/{conversation}/status"),
            Some(&json!({"status": "resolved"})),
        )
        .await;
        assert_eq!(status, 200);
    }
    // Each in the customer's language, once; none where nobody answered.
    app.eventually(THROUGH, "the closing questions sent", || async {
        (sent_to(&sandbox, "34688000001").len() == 2 && sent_to(&sandbox, "34688000002").len() == 2)
            .then_some(())
    })
    .await;
    assert_eq!(
        sent_to(&sandbox, "34688000001")[1],
        "¿Lo hemos resuelto? Responde 1 si sí o 2 si no."
    );
    assert_eq!(
        sent_to(&sandbox, "34688000002")[1],
        "Did this solve it? Reply 1 for yes, 2 for no."
    );
    assert_eq!(sent_to(&sandbox, "34688000003").len(), 0);

    // WhatsApp's times are whole seconds: the answers come in a later second than the
    // questions (as a person's would).
    let asked = app
        .db
        .scalar("SELECT MAX(created_at) FROM messages WHERE automatic = 1")
        .await;
    app.eventually(THROUGH, "the next second", || async {
        (Timestamp::now().as_millis() / 1000 * 1000 > asked).then_some(())
    })
    .await;
    // "1": satisfied, and the conversation stays resolved; "2": not, and it is open again.
    inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(Source::Whatsapp, "1").by("34688000001", "Cliente 34688000001"),
    )
    .await;
    inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(Source::Whatsapp, "2").by("34688000002", "Cliente 34688000002"),
    )
    .await;
    let state = |id: i64| {
        let app = &app;
        async move {
            app.db
                .texts(&format!(
                    "SELECT c.status, CAST(c.waiting_since AS TEXT), CAST(r.satisfied AS TEXT) FROM conversations c \
                     JOIN satisfaction_requests r ON r.conversation_id = c.id WHERE c.id = {id}"
                ))
                .await
                .remove(0)
        }
    };
    let first = state(conversations[0]).await;
    assert_eq!(first[0].as_deref(), Some("resolved"), "{first:?}");
    assert_eq!(first[1], None, "nobody waits: {first:?}");
    assert_eq!(first[2].as_deref(), Some("1"));
    let second = state(conversations[1]).await;
    assert_eq!(second[0].as_deref(), Some("open"), "{second:?}");
    assert!(second[1].is_some(), "the team follows up: {second:?}");
    assert_eq!(second[2].as_deref(), Some("0"));

    // The reports: counts and the rate, per agent, channel and label; the "1" starts no new
    // cycle (the "2" does: the customer needs more help).
    let ana_id = app
        .db
        .scalar("SELECT id FROM users WHERE email = 'ana@shop.example'")
        .await;
    let report = app
        .eventually(THROUGH, "the figures with the new cycle", || async {
            let report = app.api_get(&admin, "/api/v1/metrics/response-times").await;
            (report["overall"]["cycles"] == 4).then_some(report)
        })
        .await;
    let satisfaction = &report["satisfaction"];
    assert_eq!(
        satisfaction["overall"],
        json!({"answers": 2, "satisfied": 1, "rate": 0.5}),
        "{satisfaction}"
    );
    assert_eq!(satisfaction["by_agent"][ana_id.to_string()]["answers"], 2);
    assert_eq!(
        satisfaction["by_channel"][channels.whatsapp.to_string()]["satisfied"],
        1
    );
    assert_eq!(satisfaction["by_label"]["envio"]["answers"], 2);
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_asks_the_closing_question_and_the_answer_is_counted_sqlite() {
    closing_the_loop(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_asks_the_closing_question_and_the_answer_is_counted_postgres() {
    closing_the_loop(Engine::Postgres).await;
}
