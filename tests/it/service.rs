//! Out of hours end to end, with a controllable clock (`BUZON_TEST_CLOCK_FILE`): business
//! hours set through the API (a split shift, a holiday), the out-of-hours auto-reply through
//! the outbox to the sandbox, once per conversation per closed period, in the customer's
//! language, never to a troll, and not counted as a response.

use crate::connectors::{accepted_replies, queue_reply, wait_for_message};
use buzon_core::metrics::{BusinessCalendar, OpenInterval, Weekday, WeeklySchedule};
use buzon_core::Timestamp;
use buzon_tests::app::TestApp;
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, Sandbox, SandboxConfig, Source,
};
use buzon_tests::{Engine, TestDatabase};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// How long a message or a reply may take to go through buzon.
const THROUGH: Duration = Duration::from_secs(30);
const HOUR: i64 = 3_600_000;

/// The latest Saturday 11:00 in Madrid that leaves the whole story (to Monday 20:30) in the
/// past: the sandbox and the reports then see the messages in their real order.
pub(crate) fn a_past_saturday_eleven() -> Timestamp {
    let saturdays = BusinessCalendar::new(
        "Europe/Madrid",
        WeeklySchedule::closed().with(
            Weekday::Saturday,
            OpenInterval::parse("11:00-11:01").unwrap(),
        ),
        [],
    )
    .unwrap();
    let latest_start = Timestamp::now().plus_millis(-60 * HOUR);
    saturdays
        .next_opening(latest_start.plus_millis(-7 * 24 * HOUR))
        .expect("there is a Saturday every week")
}

fn set_clock(file: &Path, at: Timestamp) {
    std::fs::write(file, at.to_rfc3339()).expect("the clock file is writable");
}

async fn put(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .http
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The automatic replies buzon stored, as (conversation, text).
async fn automatic_replies(app: &TestApp) -> Vec<Vec<Option<String>>> {
    app.db
        .texts("SELECT CAST(conversation_id AS TEXT), text FROM messages WHERE automatic = 1 ORDER BY id")
        .await
}

/// Injects an X direct message by `author` at `at` (the clock set there first) and waits until
/// buzon stored it and the rules looked at it; returns the stored message.
async fn customer_writes(
    app: &TestApp,
    sandbox: &Sandbox,
    token: &str,
    clock: &Path,
    at: Timestamp,
    author: (&str, &str),
    text: &str,
) -> Value {
    set_clock(clock, at);
    let injection = Injection::new(Source::XDm, text)
        .by(author.0, author.1)
        .at(at.as_millis() / 1000);
    inject_and_wait(app, sandbox, token, injection).await
}

/// Injects a customer's message and waits until buzon stored it, the rules looked at it and
/// the outbox has nothing left to send; returns the stored message.
pub(crate) async fn inject_and_wait(
    app: &TestApp,
    sandbox: &Sandbox,
    token: &str,
    injection: Injection,
) -> Value {
    let item = sandbox.inject(injection).expect("the sandbox takes it");
    let message = wait_for_message(app, token, &item.id).await;
    let id = message["id"].as_i64().unwrap();
    app.eventually(THROUGH, "the rules to look at the message", || async {
        let pending = app
            .db
            .scalar(&format!(
                "SELECT COUNT(*) FROM rule_checks WHERE message_id = {id}"
            ))
            .await;
        let queued = app
            .db
            .scalar("SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')")
            .await;
        (pending == 0 && queued == 0).then_some(())
    })
    .await;
    message
}

/// The texts the sandbox accepted as X direct messages to `participant`.
fn dms_to(sandbox: &Sandbox, participant: &str) -> Vec<String> {
    sandbox
        .replies()
        .into_iter()
        .filter(|reply| reply.accepted && reply.action == "dm" && reply.target_id == participant)
        .filter_map(|reply| reply.text)
        .collect()
}

async fn out_of_hours(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let clock = db.dir.join("clock");
    let saturday = a_past_saturday_eleven();
    let friday_noon = saturday.plus_millis(-23 * HOUR);
    set_clock(&clock, friday_noon);
    let config = SandboxConfig::default();
    let clock_env = clock.to_string_lossy().into_owned();
    let (app, sandbox) = start_with_sandbox(
        db,
        config.clone(),
        &[
            ("BUZON_TEST_CLOCK_FILE", &clock_env),
            ("BUZON_REPORTS_REFRESH_SECS", "1"),
        ],
    )
    .await;
    let channels = connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let agent = app.token("agent").await;

    // A split shift on weekdays, the Tuesday after that Saturday a holiday.
    let calendar_of_dates = BusinessCalendar::always_open_in("Europe/Madrid").unwrap();
    let tuesday = calendar_of_dates
        .date_of(saturday.plus_millis(72 * HOUR))
        .to_string();
    let shift = json!(["09:00-14:00", "16:00-20:00"]);
    let hours = json!({
        "time_zone": "Europe/Madrid",
        "week": {"monday": shift, "tuesday": shift, "wednesday": shift, "thursday": shift,
                 "friday": shift, "saturday": [], "sunday": []},
        "holidays": [tuesday],
        "exceptions": []
    });
    let (status, saved) = put(&app, &admin, "/api/v1/business-hours", &hours).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["week"]["monday"], shift);
    assert_eq!(saved["holidays"], json!([tuesday]));
    // An agent may not change them; a bad range is refused and changes nothing.
    let (status, _) = put(&app, &agent, "/api/v1/business-hours", &hours).await;
    assert_eq!(status, 403);
    let mut bad = hours.clone();
    bad["week"]["monday"] = json!(["09:00-25:00"]);
    let (status, refused) = put(&app, &admin, "/api/v1/business-hours", &bad).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        app.api_get(&agent, "/api/v1/business-hours").await["week"]["monday"],
        shift
    );

    let auto_reply = json!({
        "enabled": true,
        "public_comments": false,
        "texts": {"en": "Thanks! A person will answer {{back_at}}.",
                  "es": "¡Gracias! Una persona te responderá {{back_at}}."},
        "default_language": "es"
    });
    let path = format!("/api/v1/channels/{}/auto-reply", channels.x);
    let mut unknown = auto_reply.clone();
    unknown["texts"]["en"] = json!("Back {{when}}");
    let (status, refused) = put(&app, &admin, &path, &unknown).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("when"), "{refused}");
    let (status, saved) = put(&app, &admin, &path, &auto_reply).await;
    assert_eq!(status, 200, "{saved}");

    // Friday noon, open: no auto-reply. The author turns out to be a troll.
    let troll = ("7001", "Trol Lope");
    let first = customer_writes(
        &app,
        &sandbox,
        &agent,
        &clock,
        friday_noon,
        troll,
        "Esta tienda es una estafa y todos sus productos son basura",
    )
    .await;
    let response = app
        .http
        .post(app.url(&format!(
            "/api/v1/contacts/{}/tags",
            app.api_get(&agent, &format!("/api/v1/conversations/{}", first["conversation_id"]))
                .await["contact"]["id"]
        )))
        .bearer_auth(&agent)
        .json(&json!({"add": ["troll"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(automatic_replies(&app).await.is_empty());

    // Saturday 11:00: closed until Monday 09:00. The team's state says so.
    set_clock(&clock, saturday);
    let state = app.api_get(&agent, "/api/v1/business-hours").await;
    assert_eq!(state["open_now"], false);
    assert_eq!(
        Timestamp::parse_rfc3339(state["back_at"].as_str().unwrap()),
        Some(saturday.plus_millis(46 * HOUR)),
        "{state}"
    );

    let ana = ("7002", "Ana Ruiz");
    let message = customer_writes(
        &app,
        &sandbox,
        &agent,
        &clock,
        saturday,
        ana,
        "Hola, mi pedido no ha llegado todavía y necesito saber dónde está",
    )
    .await;
    assert_eq!(message["language"], "es");
    let ana_conversation = message["conversation_id"].as_i64().unwrap();
    let spanish = "¡Gracias! Una persona te responderá el lunes a las 09:00.";
    assert_eq!(dms_to(&sandbox, ana.0), vec![spanish.to_owned()]);

    // A second message in the same closed period gets none.
    customer_writes(
        &app,
        &sandbox,
        &agent,
        &clock,
        saturday.plus_millis(5 * HOUR),
        ana,
        "¿Hay alguien ahí? Sigo esperando una respuesta sobre mi pedido",
    )
    .await;
    assert_eq!(dms_to(&sandbox, ana.0).len(), 1);

    // An English customer is answered in English; the troll gets nothing.
    let bob = ("7003", "Bob Smith");
    let english = customer_writes(
        &app,
        &sandbox,
        &agent,
        &clock,
        saturday.plus_millis(6 * HOUR),
        bob,
        "Hello, my parcel has not arrived yet and I would like to know where it is",
    )
    .await;
    assert_eq!(english["language"], "en");
    assert_eq!(
        dms_to(&sandbox, bob.0),
        vec!["Thanks! A person will answer on Monday at 09:00.".to_owned()]
    );
    customer_writes(
        &app,
        &sandbox,
        &agent,
        &clock,
        saturday.plus_millis(7 * HOUR),
        troll,
        "Sigo diciendo que esta tienda es una estafa, no compréis aquí",
    )
    .await;
    assert!(dms_to(&sandbox, troll.0).is_empty());

    // Monday 10:00, open: none.
    customer_writes(
        &app,
        &sandbox,
        &agent,
        &clock,
        saturday.plus_millis(47 * HOUR),
        ana,
        "Buenos días, ¿me podéis decir algo ya de mi pedido por favor?",
    )
    .await;
    assert_eq!(dms_to(&sandbox, ana.0).len(), 1);

    // Monday 14:30, the lunch break of the split shift: a new closed period, back at 16:00.
    customer_writes(
        &app,
        &sandbox,
        &agent,
        &clock,
        saturday.plus_millis(51 * HOUR + HOUR / 2),
        ana,
        "Perdonad que insista, pero necesito el pedido para mañana",
    )
    .await;
    assert_eq!(
        dms_to(&sandbox, ana.0).last().map(String::as_str),
        Some("¡Gracias! Una persona te responderá hoy a las 16:00.")
    );

    // Monday 20:30: Tuesday is a holiday, so the team is back on Wednesday.
    customer_writes(
        &app,
        &sandbox,
        &agent,
        &clock,
        saturday.plus_millis(57 * HOUR + HOUR / 2),
        ana,
        "Última pregunta: ¿abrís mañana para poder llamar por teléfono?",
    )
    .await;
    assert_eq!(
        dms_to(&sandbox, ana.0),
        vec![
            spanish.to_owned(),
            "¡Gracias! Una persona te responderá hoy a las 16:00.".to_owned(),
            "¡Gracias! Una persona te responderá el miércoles a las 09:00.".to_owned(),
        ]
    );
    // Each reached the platform once, and is stored once, marked automatic.
    for text in dms_to(&sandbox, ana.0) {
        assert_eq!(accepted_replies(&sandbox, &text).len(), 1, "{text}");
    }
    assert_eq!(automatic_replies(&app).await.len(), 4);

    // The metrics API: only a person's reply is a response. Ana is answered by an agent; Bob
    // only had the auto-reply, so one first response in all.
    queue_reply(
        &app,
        &agent,
        ana_conversation,
        "Hola Ana, tu pedido sale hoy",
    )
    .await;
    let from = saturday.plus_millis(-48 * HOUR).to_rfc3339();
    let to = Timestamp::now().plus_millis(HOUR).to_rfc3339();
    let figures = app
        .eventually(THROUGH, "the reply in the metrics", || async {
            let figures = app
                .api_get(
                    &agent,
                    &format!("/api/v1/metrics/response-times?from={from}&to={to}"),
                )
                .await;
            (figures["overall"]["wall"]["first_response"]["count"] == 1).then_some(figures)
        })
        .await;
    assert!(
        figures["overall"]["cycles"].as_u64().unwrap() >= 2,
        "{figures}"
    );
    let waiting = app
        .api_get(
            &agent,
            &format!("/api/v1/conversations/{}", english["conversation_id"]),
        )
        .await;
    assert!(
        waiting["waiting_since"].is_string(),
        "an auto-reply does not end the wait: {waiting}"
    );
    // Every auto-reply has its audit line.
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'conversation.auto_reply'")
            .await,
        4
    );
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_hours_messages_get_one_honest_auto_reply_per_closed_period_on_sqlite() {
    out_of_hours(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_hours_messages_get_one_honest_auto_reply_per_closed_period_on_postgres() {
    out_of_hours(Engine::Postgres).await;
}

/// Sets a text field (clearing what it held) by its CSS selector.
async fn fill(client: &fantoccini::Client, css: &str, value: &str) {
    let field = client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css} is on the page"));
    field.clear().await.unwrap();
    if !value.is_empty() {
        field.send_keys(value).await.unwrap();
    }
}

/// Clicks an element; the live updates may replace it between finding and clicking (a stale
/// element), so it is found again until the click lands.
async fn click(client: &fantoccini::Client, css: &str) {
    let deadline = std::time::Instant::now() + THROUGH;
    loop {
        let clicked = match client.find(fantoccini::Locator::Css(css)).await {
            Ok(element) => element.click().await.map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        match clicked {
            Ok(_) => return,
            Err(err) => assert!(
                std::time::Instant::now() < deadline,
                "{css} could not be clicked: {err}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn page_text(client: &fantoccini::Client) -> String {
    client
        .execute("return document.body.innerText;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An admin sets the team's hours and a channel's auto-reply in the pages; a customer writes
/// on Saturday morning; the inbox and the conversation say the team is back on Monday, and
/// the auto-reply shows in the thread, marked automatic. In English, then in Spanish.
#[tokio::test]
async fn an_admin_sets_hours_and_an_auto_reply_in_the_pages_and_the_inbox_says_when_the_team_is_back(
) {
    use crate::browser::{browser, sign_in_as, until};
    use buzon_tests::browser::{artifact, start_driver};
    let Some(driver) = start_driver().await else {
        return;
    };
    let db = TestDatabase::sqlite();
    let clock = db.dir.join("clock");
    let saturday = a_past_saturday_eleven();
    set_clock(&clock, saturday);
    let clock_env = clock.to_string_lossy().into_owned();
    let config = SandboxConfig::default();
    let (app, sandbox) =
        start_with_sandbox(db, config.clone(), &[("BUZON_TEST_CLOCK_FILE", &clock_env)]).await;
    let channels = connect_sandbox_channels(&app, &config).await;
    let password = "correct horse battery";
    let added = app
        .cli(
            &[
                "user",
                "add",
                "marta@shop.example",
                "--role",
                "admin",
                "--name",
                "Marta",
            ],
            Some(&format!("{password}\n")),
        )
        .await;
    assert!(added.status.success());
    let client = browser(&driver.url).await;
    sign_in_as(&client, &app.base_url, "marta@shop.example", password).await;

    // The team's hours: a split shift on weekdays.
    client
        .goto(&format!("{}/admin/hours", app.base_url))
        .await
        .unwrap();
    fill(
        &client,
        "#team-hours input[name=time_zone]",
        "Europe/Madrid",
    )
    .await;
    for day in ["monday", "tuesday", "wednesday", "thursday", "friday"] {
        fill(
            &client,
            &format!("#team-hours input[name={day}]"),
            "09:00-14:00, 16:00-20:00",
        )
        .await;
    }
    for day in ["saturday", "sunday"] {
        fill(&client, &format!("#team-hours input[name={day}]"), "").await;
    }
    fill(&client, "#team-hours textarea[name=holidays]", "2026-12-25").await;
    click(&client, "#team-hours button[value=save]").await;
    until(
        &client,
        "the hours saved",
        "document.querySelector('.notice')",
    )
    .await;
    let text = page_text(&client).await;
    assert!(
        text.contains("Outside business hours — back on Monday at 09:00."),
        "{text}"
    );
    std::fs::write(
        artifact("admin-hours.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // A range that makes no sense is refused, in words, and the saved hours stay.
    fill(&client, "#team-hours input[name=monday]", "9 to 5").await;
    click(&client, "#team-hours button[value=save]").await;
    until(&client, "the refusal", "document.querySelector('.error')").await;
    assert_eq!(
        app.api_get(&app.token("viewer").await, "/api/v1/business-hours")
            .await["week"]["monday"],
        json!(["09:00-14:00", "16:00-20:00"])
    );

    // The X channel's auto-reply.
    client
        .goto(&format!(
            "{}/admin/hours/channels/{}",
            app.base_url, channels.x
        ))
        .await
        .unwrap();
    click(&client, "#auto-reply input[name=enabled]").await;
    fill(
        &client,
        "#auto-reply textarea[name=text_es]",
        "¡Gracias! Una persona te responderá {{back_at}}.",
    )
    .await;
    fill(
        &client,
        "#auto-reply textarea[name=text_en]",
        "Thanks! A person will answer {{back_at}}.",
    )
    .await;
    click(&client, "#auto-reply button[type=submit]").await;
    until(
        &client,
        "the auto-reply saved",
        "document.querySelector('.notice')",
    )
    .await;
    std::fs::write(
        artifact("admin-auto-reply.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // An urgent-alert rule and the on-call rota.
    client
        .goto(&format!("{}/admin/alerts", app.base_url))
        .await
        .unwrap();
    fill(&client, "#alert-rule input[name=name]", "Fraude").await;
    fill(
        &client,
        "#alert-rule input[name=keywords_es]",
        "fraude, urgente",
    )
    .await;
    fill(
        &client,
        "#alert-rule input[name=email]",
        "oncall@shop.example",
    )
    .await;
    click(&client, "#alert-rule button[type=submit]").await;
    until(
        &client,
        "the rule listed",
        "document.querySelector('table.admin-table') && document.querySelector('table.admin-table').textContent.includes('fraude, urgente')",
    )
    .await;
    fill(&client, "#on-call input[name=time_zone]", "Europe/Madrid").await;
    fill(
        &client,
        "#on-call textarea[name=rota]",
        "saturday sunday 00:00-24:00 marta@shop.example",
    )
    .await;
    click(&client, "#on-call button[type=submit]").await;
    until(
        &client,
        "the rota saved",
        "document.querySelector('#on-call textarea').value.includes('marta@shop.example') && !document.querySelector('.error')",
    )
    .await;
    std::fs::write(
        artifact("admin-alerts.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // A customer writes on Saturday morning.
    sandbox
        .inject(
            Injection::new(
                Source::XDm,
                "Hola, mi pedido no ha llegado todavía y necesito saber dónde está",
            )
            .by("7101", "Lucía Pérez")
            .at(saturday.as_millis() / 1000),
        )
        .expect("an X direct message");
    client
        .goto(&format!("{}/inbox", app.base_url))
        .await
        .unwrap();
    until(
        &client,
        "the message in the queue",
        "document.querySelector('#queue') && document.querySelector('#queue').textContent.includes('Lucía')",
    )
    .await;
    let text = page_text(&client).await;
    assert!(
        text.contains("Outside business hours — back on Monday at 09:00."),
        "{text}"
    );
    std::fs::write(
        artifact("inbox-closed.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    click(&client, "#queue .row-link").await;
    until(
        &client,
        "the auto-reply in the thread",
        "Array.from(document.querySelectorAll('.message.outbound')).some(e => e.textContent.includes('el lunes a las 09:00') && e.querySelector('.automatic'))",
    )
    .await;
    std::fs::write(
        artifact("conversation-auto-reply.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    let conversation_url = client.current_url().await.unwrap();

    // A burst: the possible-incident banner appears over the queue without a reload, and one
    // click starts incident mode.
    client
        .goto(&format!("{}/inbox", app.base_url))
        .await
        .unwrap();
    client
        .execute("window.__stillHere = 'yes';", vec![])
        .await
        .unwrap();
    assert_eq!(sandbox.burst(30).len(), 30);
    until(
        &client,
        "the spike banner",
        "document.querySelector('#banners .spike-banner')",
    )
    .await;
    assert_eq!(
        client
            .execute("return window.__stillHere;", vec![])
            .await
            .unwrap(),
        json!("yes"),
        "the banner came without a reload"
    );
    std::fs::write(
        artifact("inbox-spike.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    click(&client, "#banners .spike-banner button[type=submit]").await;
    until(
        &client,
        "the incident on",
        "document.body.getAttribute('data-page') === 'incidents' && document.querySelector('.incident.active')",
    )
    .await;
    std::fs::write(
        artifact("incidents.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client
        .goto(&format!("{}/inbox", app.base_url))
        .await
        .unwrap();
    until(
        &client,
        "the incident banner",
        "document.querySelector('#banners .incident-banner')",
    )
    .await;

    // The conversation again, in Spanish.
    client.goto(conversation_url.as_str()).await.unwrap();
    click(&client, "form[action='/lang'] button[lang=es]").await;
    until(
        &client,
        "the page in Spanish",
        "document.documentElement.lang === 'es'",
    )
    .await;
    let text = page_text(&client).await;
    assert!(
        text.contains("Fuera del horario de atención — volvemos el lunes a las 09:00."),
        "{text}"
    );
    assert!(text.contains("respuesta automática"), "{text}");
    client
        .goto(&format!("{}/admin/hours", app.base_url))
        .await
        .unwrap();
    std::fs::write(
        artifact("admin-hours-es.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.close().await.unwrap();
    sandbox.shutdown().await;
    app.finish().await;
}
