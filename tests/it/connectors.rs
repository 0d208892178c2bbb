//! The connectors end to end against the platform sandbox: webhooks and polling under
//! duplicates, reordering and injected errors; replies sent exactly once; expired tokens; and
//! the WhatsApp 24-hour window.

use buzon_tests::app::TestApp;
use buzon_tests::sandbox::{
    channel_health, connect_sandbox_channels, start_with_sandbox, Faults, GeneratedItem, Injection,
    Platform, RecordedReply, Sandbox, SandboxConfig, Source,
};
use buzon_tests::{Engine, TestDatabase};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// How long everything the sandbox made may take to reach buzon under chaos.
const ARRIVAL: Duration = Duration::from_secs(90);
/// How long a reply may take to reach the platform without faults.
const DELIVERY: Duration = Duration::from_secs(30);
/// How long the replies may take under the error ratio. A Graph rate-limit answer (code 32, a
/// sixth of Graph calls here) with no usage estimate closes the Page's budget for 60 s
/// (buzon-facebook `DEFAULT_RATE_LIMIT_WAIT`), for the poller and the dispatcher alike, and
/// the retry may meet another one (the poller and the other Facebook reply draw on the same
/// budget). A typical run needs one or two rounds; eight leave the test a margin that a
/// correct dispatcher does not run out of by chance (three rounds failed about one run in ten).
const DELIVERY_UNDER_ERRORS: Duration = Duration::from_secs(480);
/// How long a poller may take to notice a change of its channel.
const NOTICE: Duration = Duration::from_secs(30);
/// The route the sandbox counts X mention polls under.
const X_MENTIONS_ROUTE: &str = "GET /x/2/users/{id}/mentions";

/// Hostile texts a customer could write on each surface; they must be stored verbatim.
const HOSTILE: [(Source, &str); 5] = [
    (
        Source::Facebook,
        "<script>alert('fb')</script> ¿el envío a Valparaíso es gratis?",
    ),
    (
        Source::Messenger,
        "<img src=x onerror=alert(1)> hola, mi pedido 4471 no llegó",
    ),
    (
        Source::Whatsapp,
        "</textarea><script>document.cookie</script> quiero cambiar la talla",
    ),
    (
        Source::X,
        "<script>fetch('//evil.example')</script> ¿tienen tienda en Lima?",
    ),
    (
        Source::XDm,
        "\"><svg onload=alert(1)> necesito la factura de mi compra",
    ),
];

async fn chaos_loses_nothing_duplicates_nothing_and_replies_once(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    // Searches may ask often: the stream's untagged posts come in through one.
    let config = SandboxConfig {
        x_search_rate_limit_per_window: 900,
        ..SandboxConfig::default()
    };
    let (app, sandbox) = start_with_sandbox(db, config.clone(), &[]).await;
    let channels = connect_sandbox_channels(&app, &config).await;
    let viewer = app.token("viewer").await;
    let agent = app.token("agent").await;
    // The generated stream also holds listening's finds (untagged X posts naming the shop,
    // Page mentions elsewhere, reviews): a saved search brings the X posts in.
    let admin = app.token("admin").await;
    let saved = app
        .http
        .post(app.url(&format!("/api/v1/channels/{}/searches", channels.x)))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"query": "tiendabuzon OR \"tienda buzón\" OR #tiendabuzon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status().as_u16(), 201);

    sandbox.set_faults(Faults {
        error_ratio: 0.33,
        accepted_then_500: 0.3,
        duplicate_webhooks: true,
        shuffle_webhooks: true,
        ..Faults::default()
    });
    sandbox.generate(30);
    let mut injected: Vec<(GeneratedItem, &str)> = Vec::new();
    for (source, text) in HOSTILE {
        let item = sandbox
            .inject(Injection::new(source, text))
            .unwrap_or_else(|err| panic!("the sandbox takes a {source:?} injection: {err}"));
        injected.push((item, text));
    }
    sandbox.generate(5);

    // Every item the sandbox makes is a customer's (its own echoes are not in `generated`),
    // and every kind is kept: WhatsApp reactions, images without a caption and locations are
    // stored as messages too (see buzon-whatsapp's inbound.rs). So each id is one message.
    let expected = sandbox.generated();
    assert_eq!(expected.len(), 40);
    let messages = app
        .eventually(ARRIVAL, "every generated item as a message", || async {
            let stored = app
                .db
                .scalar("SELECT COUNT(*) FROM messages WHERE direction = 'inbound'")
                .await;
            if stored < expected.len() as i64 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                return None;
            }
            let messages = all_messages(&app, &viewer).await;
            let seen = count_by_platform_id(&messages, "inbound");
            if expected.iter().all(|item| seen.contains_key(&item.id)) {
                Some(messages)
            } else {
                tokio::time::sleep(Duration::from_millis(300)).await;
                None
            }
        })
        .await;

    let seen = count_by_platform_id(&messages, "inbound");
    for item in &expected {
        assert_eq!(
            seen.get(&item.id).copied(),
            Some(1),
            "{:?} {} {} is stored exactly once",
            item.platform,
            item.kind,
            item.id
        );
    }
    assert_eq!(
        seen.len(),
        expected.len(),
        "no inbound message that the sandbox did not make (no echo of our own)"
    );
    for item in &expected {
        let message = inbound_message(&messages, &item.id);
        assert_eq!(
            message["channel"],
            item.platform.platform().as_str(),
            "{} lands on its platform's channel",
            item.id
        );
    }
    for (item, text) in &injected {
        let message = inbound_message(&messages, &item.id);
        let stored = message["text"].as_str().unwrap_or_default();
        assert!(
            stored.contains(text),
            "the {:?} text is kept verbatim: {stored:?}",
            item.platform
        );
    }
    assert_eq!(
        app.db
            .scalar(
                "SELECT COUNT(*) FROM (SELECT channel_id, platform_id FROM messages \
                 WHERE platform_id IS NOT NULL GROUP BY channel_id, platform_id \
                 HAVING COUNT(*) > 1) duplicated",
            )
            .await,
        0,
        "no platform id is stored twice in a channel"
    );

    // One reply on each surface, with the error ratio still on.
    let mut sent: Vec<(Source, i64, String)> = Vec::new();
    for (index, (item, _)) in injected.iter().enumerate() {
        let message = inbound_message(&messages, &item.id);
        let conversation = message["conversation_id"]
            .as_i64()
            .expect("a message names its conversation");
        let text = format!(
            "Gracias por escribirnos, lo revisamos ahora mismo (respuesta {} por {:?})",
            index + 1,
            item.platform
        );
        let response = app
            .http
            .post(app.url(&format!("/api/v1/conversations/{conversation}/replies")))
            .bearer_auth(&agent)
            .json(&json!({ "text": text }))
            .send()
            .await
            .expect("reply request");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(
            status, 202,
            "a reply on {:?} is queued: {body}",
            item.platform
        );
        assert_eq!(body["status"], "queued", "{body}");
        sent.push((item.platform, conversation, text));
    }

    // Each reply ends `sent`, or `unknown` when the platform may have acted before failing
    // (a 500 after it delivered, or before: buzon cannot tell): never sent again on its own.
    let replied_at = std::time::Instant::now();
    let outbound_of = |detail: &Value, text: &str| -> Option<Value> {
        detail["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|message| message["direction"] == "outbound" && message["text"] == text)
            .cloned()
    };
    let mut settled_by_agent = 0;
    loop {
        let mut waiting = Vec::new();
        for (source, conversation, text) in &sent {
            let accepted = accepted_replies(&sandbox, text);
            assert!(
                accepted.len() <= 1,
                "the {source:?} reply reached the platform at most once: {accepted:?}"
            );
            let detail = app
                .api_get(&viewer, &format!("/api/v1/conversations/{conversation}"))
                .await;
            let message = outbound_of(&detail, text).expect("the reply is in its conversation");
            match message["status"].as_str() {
                Some("sent") => {}
                Some("unknown") => {
                    // The agent checks on the platform, and says what they saw.
                    let action = if accepted.is_empty() {
                        "send-again"
                    } else {
                        "arrived"
                    };
                    let id = message["id"].as_i64().expect("a message id");
                    let response = app
                        .http
                        .post(app.url(&format!(
                            "/api/v1/conversations/{conversation}/messages/{id}/{action}"
                        )))
                        .bearer_auth(&agent)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200, "{action} on the {source:?} reply");
                    settled_by_agent += 1;
                    waiting.push(*source);
                }
                _ => waiting.push(*source),
            }
        }
        if waiting.is_empty() {
            break;
        }
        assert!(
            replied_at.elapsed() < DELIVERY_UNDER_ERRORS,
            "after {:?} the replies on {waiting:?} are neither sent nor waiting for an agent; log: {}",
            replied_at.elapsed(),
            app.log_path.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "every reply settled after {:?}, {settled_by_agent} of them by an agent",
        replied_at.elapsed()
    );
    for (source, conversation, text) in &sent {
        let detail = app
            .api_get(&viewer, &format!("/api/v1/conversations/{conversation}"))
            .await;
        let outbound = outbound_of(&detail, text).expect("the reply is in its conversation");
        let accepted = accepted_replies(&sandbox, text);
        assert_eq!(
            accepted.len(),
            1,
            "the {source:?} reply reached the platform"
        );
        // A reply the platform answered keeps the id it gave; one an agent settled as
        // arrived never learned it.
        assert!(
            outbound["platform_id"].is_null()
                || outbound["platform_id"].as_str() == accepted[0].returned_id.as_deref(),
            "the {source:?} reply keeps the id the platform gave it: {outbound}"
        );
    }

    // Give a wrongly repeated send, an echo stored as inbound or a late duplicate webhook
    // the time to show.
    assert!(
        sandbox.settle_webhooks(Duration::from_secs(30)).await,
        "the sandbox delivered its webhooks"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    for (source, conversation, text) in &sent {
        let accepted = accepted_replies(&sandbox, text);
        assert_eq!(
            accepted.len(),
            1,
            "the {source:?} reply reached the platform exactly once: {accepted:?}"
        );
        let detail = app
            .api_get(&viewer, &format!("/api/v1/conversations/{conversation}"))
            .await;
        let outbound: Vec<&Value> = detail["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|message| message["direction"] == "outbound")
            .collect();
        assert_eq!(
            outbound.len(),
            1,
            "one outbound message in the {source:?} conversation: {outbound:?}"
        );
        assert_eq!(outbound[0]["status"], "sent", "{}", outbound[0]);
    }
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM messages WHERE direction = 'inbound'")
            .await,
        expected.len() as i64,
        "our own replies, echoed back by the platforms, are not stored as customers' messages"
    );
    let stats = sandbox.stats();
    assert!(
        stats.responses_429 + stats.server_errors + stats.throttled > 0,
        "the error ratio did hit buzon: {stats:?}"
    );
    assert_eq!(
        stats.rate_limit_violations, 0,
        "no X call was made while its budget was spent: {stats:?}"
    );
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_duplicates_reordering_and_errors_every_mention_is_stored_once_and_every_reply_sent_once_on_sqlite(
) {
    chaos_loses_nothing_duplicates_nothing_and_replies_once(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_duplicates_reordering_and_errors_every_mention_is_stored_once_and_every_reply_sent_once_on_postgres(
) {
    chaos_loses_nothing_duplicates_nothing_and_replies_once(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_x_token_marks_the_channel_unhealthy_stops_polling_and_a_new_token_resumes_it() {
    // A budget that a one-second poller cannot spend, so that only the token stops it; and no
    // webhooks, so that whatever arrives came by polling.
    let config = SandboxConfig {
        x_rate_limit_per_window: 100_000,
        ..SandboxConfig::default()
    };
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    sandbox.set_webhook_target(None);
    let channels = connect_sandbox_channels(&app, &config).await;
    let viewer = app.token("viewer").await;
    let x_id = config.x_user_id.as_str();

    let first = sandbox
        .inject(Injection::new(Source::X, "¿hacen envíos a Arequipa?"))
        .expect("an X mention");
    wait_for_message(&app, &viewer, &first.id).await;
    let health = channel_health(&app, channels.x, x_id).await;
    assert_eq!(health, "healthy");

    sandbox.set_faults(Faults {
        expired_token: vec![Platform::X],
        ..Faults::default()
    });
    let health = app
        .eventually(NOTICE, "the X channel unhealthy", || async {
            let health = channel_health(&app, channels.x, x_id).await;
            if health.starts_with("unhealthy") {
                Some(health)
            } else {
                tokio::time::sleep(Duration::from_millis(250)).await;
                None
            }
        })
        .await;
    assert!(
        health.contains("token"),
        "the reason names the token: {health}"
    );
    assert!(
        !health.contains(&config.x_token),
        "the reason does not print the token: {health}"
    );

    let while_expired = sandbox
        .inject(Injection::new(
            Source::X,
            "escribí mientras el token estaba vencido",
        ))
        .expect("an X mention");
    let before = mention_polls(&sandbox);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = mention_polls(&sandbox);
    assert!(
        after - before <= 2,
        "a refused token is not hammered: {} mention polls in 6 s",
        after - before
    );
    assert!(channel_health(&app, channels.x, x_id)
        .await
        .starts_with("unhealthy"));
    let facebook_health = channel_health(&app, channels.facebook, &config.facebook_page_id).await;
    assert_eq!(
        facebook_health, "healthy",
        "another platform's channel is unaffected"
    );

    sandbox.set_faults(Faults::default());
    let set = app
        .cli(
            &[
                "channel",
                "set-token",
                &channels.x.to_string(),
                "--access-token",
                &config.x_token,
            ],
            None,
        )
        .await;
    assert!(
        set.status.success(),
        "set-token: {}",
        String::from_utf8_lossy(&set.stderr)
    );
    app.eventually(NOTICE, "the X channel healthy again", || async {
        let health = channel_health(&app, channels.x, x_id).await;
        if health == "healthy" {
            Some(())
        } else {
            tokio::time::sleep(Duration::from_millis(250)).await;
            None
        }
    })
    .await;
    let after_renewal = sandbox
        .inject(Injection::new(Source::X, "¿y ahora sí me leen?"))
        .expect("an X mention");
    wait_for_message(&app, &viewer, &while_expired.id).await;
    wait_for_message(&app, &viewer, &after_renewal.id).await;
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM messages WHERE direction = 'inbound'")
            .await,
        3
    );
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_reply_after_24_hours_is_refused_with_409_and_a_send_the_platform_refuses_fails_visibly(
) {
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let agent = app.token("agent").await;

    // The window is buzon's own rule (api.rs `window_closed`: 24 h after the customer's last
    // message, by the platform's time), so a message written 26 hours ago is refused before
    // anything is queued: 409 `reply_window_closed`.
    let written = unix_now() - 26 * 3600;
    let old = sandbox
        .inject(
            Injection::new(Source::Whatsapp, "¿siguen teniendo la chaqueta azul?")
                .by("34600111222", "Marta Antigua")
                .at(written),
        )
        .expect("an old WhatsApp message");
    let message = wait_for_message(&app, &agent, &old.id).await;
    let conversation = message["conversation_id"].as_i64().unwrap();
    let detail = app
        .api_get(&agent, &format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(detail["reply_window_open"], false, "{detail}");
    let refused = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{conversation}/replies")))
        .bearer_auth(&agent)
        .json(&json!({"text": "¡Sí, nos quedan tallas M y L!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "reply_window_closed", "{body}");
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM messages WHERE direction = 'outbound'")
            .await,
        0,
        "nothing was queued"
    );

    // When buzon thinks the window is open but the platform says it is closed (131047), the
    // reply is sent once, refused, and ends failed with the reason; it is not retried.
    let fresh = sandbox
        .inject(
            Injection::new(Source::Whatsapp, "¿me confirman el horario de hoy?")
                .by("34600333444", "Pablo Reciente"),
        )
        .expect("a fresh WhatsApp message");
    let message = wait_for_message(&app, &agent, &fresh.id).await;
    let conversation = message["conversation_id"].as_i64().unwrap();
    sandbox.set_faults(Faults {
        window_closed: true,
        ..Faults::default()
    });
    let text = "Hoy abrimos de 10:00 a 20:00";
    let queued = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{conversation}/replies")))
        .bearer_auth(&agent)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 202);
    let failed = app
        .eventually(DELIVERY, "the refused reply marked failed", || async {
            let detail = app
                .api_get(&agent, &format!("/api/v1/conversations/{conversation}"))
                .await;
            detail["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|message| message["direction"] == "outbound" && message["status"] == "failed")
                .cloned()
        })
        .await;
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("window"), "the failure says why: {failed}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let attempts: Vec<RecordedReply> = sandbox
        .replies()
        .into_iter()
        .filter(|reply| reply.text.as_deref() == Some(text))
        .collect();
    assert_eq!(attempts.len(), 1, "tried once, not retried: {attempts:?}");
    assert!(!attempts[0].accepted);
    sandbox.shutdown().await;
    app.finish().await;
}

/// Every message of every conversation (all statuses, flagged ones too), through the API.
/// Queues a reply in `conversation` and returns the outbound message's id.
pub(crate) async fn queue_reply(app: &TestApp, token: &str, conversation: i64, text: &str) -> i64 {
    let response = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{conversation}/replies")))
        .bearer_auth(token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    body["id"].as_i64().expect("the queued message's id")
}

/// Waits until the reply `text` in `conversation` has the delivery status `status`.
pub(crate) async fn reply_reaches(
    app: &TestApp,
    token: &str,
    conversation: i64,
    text: &str,
    status: &str,
) {
    app.eventually(DELIVERY, &format!("{text:?} {status}"), || async {
        let detail = app
            .api_get(token, &format!("/api/v1/conversations/{conversation}"))
            .await;
        detail["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|message| {
                message["direction"] == "outbound"
                    && message["text"] == text
                    && message["status"] == status
            })
            .then_some(())
    })
    .await;
}

async fn settle(app: &TestApp, token: &str, conversation: i64, message: i64, action: &str) {
    let response = app
        .http
        .post(app.url(&format!(
            "/api/v1/conversations/{conversation}/messages/{message}/{action}"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{action}");
}

/// The delivery status of the reply `text` in `conversation`.
async fn reply_status(app: &TestApp, token: &str, conversation: i64, text: &str) -> String {
    let detail = app
        .api_get(token, &format!("/api/v1/conversations/{conversation}"))
        .await;
    detail["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|message| message["direction"] == "outbound" && message["text"] == text)
        .and_then(|message| message["status"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Waits until the reply `text` has been settled as delivered to the customer: `sent` or later.
async fn reply_settled(app: &TestApp, token: &str, conversation: i64, text: &str) -> String {
    app.eventually(DELIVERY, &format!("{text:?} settled"), || async {
        let status = reply_status(app, token, conversation, text).await;
        matches!(status.as_str(), "sent" | "delivered" | "read").then_some(status)
    })
    .await
}

async fn a_send_the_platform_may_have_made_is_never_repeated(engine: Engine) {
    let Some(db) = TestDatabase::of(engine).await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(
        db,
        config.clone(),
        &[("BUZON_WORKERS_PLATFORM_TIMEOUT_SECS", "2")],
    )
    .await;
    connect_sandbox_channels(&app, &config).await;
    let agent = app.token("agent").await;
    let customer = sandbox
        .inject(
            Injection::new(Source::Whatsapp, "¿me avisan cuando llegue?")
                .by("34600555666", "Lucía"),
        )
        .expect("a WhatsApp message");
    let message = wait_for_message(&app, &agent, &customer.id).await;
    let whatsapp = message["conversation_id"].as_i64().unwrap();
    let customer = sandbox
        .inject(Injection::new(Source::Messenger, "¿tienen la talla 40?"))
        .expect("a Messenger message");
    let message = wait_for_message(&app, &agent, &customer.id).await;
    let messenger = message["conversation_id"].as_i64().unwrap();

    // WhatsApp delivers the reply, then answers 500 (Graph code 1). buzon does not send it
    // again; the status webhooks that follow carry the reference buzon sent
    // (biz_opaque_callback_data), and settle it without anyone's help.
    sandbox.set_faults(Faults {
        accepted_then_500: 1.0,
        ..Faults::default()
    });
    let settled_by_status = "Sí, te escribimos en cuanto salga del almacén";
    queue_reply(&app, &agent, whatsapp, settled_by_status).await;
    reply_settled(&app, &agent, whatsapp, settled_by_status).await;
    assert_eq!(sandbox.stats().accepted_then_failed, 1);

    // WhatsApp delivers the reply and never answers; its statuses arrive while buzon still
    // waits. After the timeout the send is unknown, and the statuses kept settle it.
    sandbox.set_faults(Faults {
        accepted_then_silent: 1.0,
        ..Faults::default()
    });
    let settled_after_timeout = "Y te mandamos el número de seguimiento";
    queue_reply(&app, &agent, whatsapp, settled_after_timeout).await;
    reply_settled(&app, &agent, whatsapp, settled_after_timeout).await;
    assert_eq!(sandbox.stats().accepted_then_silent, 1);

    // WhatsApp answers the same 500 before acting: no status will ever come, so the send
    // waits for an agent.
    sandbox.set_faults(Faults {
        refused_with_500: 1.0,
        ..Faults::default()
    });
    let never_delivered = "Gracias por tu paciencia";
    let third = queue_reply(&app, &agent, whatsapp, never_delivered).await;
    reply_reaches(&app, &agent, whatsapp, never_delivered, "unknown").await;

    // Messenger delivers the reply, then answers 500: Messenger says nothing more, so the
    // send waits for an agent too.
    sandbox.set_faults(Faults {
        accepted_then_500: 1.0,
        ..Faults::default()
    });
    let messenger_delivered = "Sí, nos queda la 40 en negro";
    let fourth = queue_reply(&app, &agent, messenger, messenger_delivered).await;
    reply_reaches(&app, &agent, messenger, messenger_delivered, "unknown").await;
    sandbox.set_faults(Faults::default());

    // A later reply goes out normally: the dispatcher has run since, and left the two alone.
    let later = "¡Que tengas buen día!";
    queue_reply(&app, &agent, whatsapp, later).await;
    reply_settled(&app, &agent, whatsapp, later).await;
    for (text, times) in [
        (settled_by_status, 1),
        (settled_after_timeout, 1),
        (never_delivered, 0),
        (messenger_delivered, 1),
    ] {
        assert_eq!(accepted_replies(&sandbox, text).len(), times, "{text:?}");
    }
    assert_eq!(
        app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM outbox WHERE message_id IN ({third}, {fourth}) AND state = 'unknown'"
            ))
            .await,
        2
    );

    // The agent checks on the platforms: the Messenger reply arrived, the WhatsApp one did not.
    settle(&app, &agent, messenger, fourth, "arrived").await;
    settle(&app, &agent, whatsapp, third, "send-again").await;
    reply_reaches(&app, &agent, messenger, messenger_delivered, "sent").await;
    reply_settled(&app, &agent, whatsapp, never_delivered).await;
    for text in [
        settled_by_status,
        settled_after_timeout,
        never_delivered,
        messenger_delivered,
    ] {
        assert_eq!(
            accepted_replies(&sandbox, text).len(),
            1,
            "{text:?} reached the customer once"
        );
    }
    // Settling is for unknown sends only.
    let again = app
        .http
        .post(app.url(&format!(
            "/api/v1/conversations/{messenger}/messages/{fourth}/send-again"
        )))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert!(again.status().is_client_error(), "{}", again.status());
    assert_eq!(accepted_replies(&sandbox, messenger_delivered).len(), 1);
    // Who settled what is in the audit log: the platform twice, the agent twice.
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'system:platform' AND action = 'message.arrived'")
            .await,
        2
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE actor LIKE 'token:%' AND action IN ('message.arrived', 'message.send_again')")
            .await,
        2
    );
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_the_platform_may_have_made_is_never_repeated_on_sqlite() {
    a_send_the_platform_may_have_made_is_never_repeated(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_the_platform_may_have_made_is_never_repeated_on_postgres() {
    a_send_the_platform_may_have_made_is_never_repeated(Engine::Postgres).await;
}

pub(crate) async fn all_messages(app: &TestApp, token: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut cursor: Option<String> = None;
    // The queue, then the monitoring view (what listening found and nobody promoted).
    let mut views = ["", "&view=monitoring"].into_iter();
    let mut view = views.next().unwrap_or_default();
    loop {
        let mut path = format!("/api/v1/conversations?status=all&flagged=include&limit=200{view}");
        if let Some(cursor) = &cursor {
            path.push_str("&cursor=");
            path.push_str(&encode_component(cursor));
        }
        let page = app.api_get(token, &path).await;
        for conversation in page["items"].as_array().into_iter().flatten() {
            let detail = app
                .api_get(
                    token,
                    &format!("/api/v1/conversations/{}", conversation["id"]),
                )
                .await;
            messages.extend(detail["messages"].as_array().into_iter().flatten().cloned());
        }
        match (page["next_cursor"].as_str(), views.next()) {
            (Some(next), _) => cursor = Some(next.to_owned()),
            (None, Some(next_view)) => {
                view = next_view;
                cursor = None;
            }
            (None, None) => return messages,
        }
    }
}

/// How many messages of `direction` carry each platform id.
fn count_by_platform_id(messages: &[Value], direction: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in messages {
        if message["direction"] != direction {
            continue;
        }
        if let Some(id) = message["platform_id"].as_str() {
            *counts.entry(id.to_owned()).or_default() += 1;
        }
    }
    counts
}

fn inbound_message<'a>(messages: &'a [Value], platform_id: &str) -> &'a Value {
    messages
        .iter()
        .find(|message| message["direction"] == "inbound" && message["platform_id"] == platform_id)
        .unwrap_or_else(|| panic!("an inbound message {platform_id}"))
}

/// Waits until the inbound message with `platform_id` is stored and returns it (API JSON).
pub(crate) async fn wait_for_message(app: &TestApp, token: &str, platform_id: &str) -> Value {
    let quoted = platform_id.replace('\'', "''");
    app.eventually(NOTICE, &format!("message {platform_id}"), || async {
        let stored = app
            .db
            .scalar(&format!(
                "SELECT COUNT(*) FROM messages WHERE platform_id = '{quoted}'"
            ))
            .await;
        if stored == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            return None;
        }
        let messages = all_messages(app, token).await;
        Some(inbound_message(&messages, platform_id).clone())
    })
    .await
}

/// The writes the platform accepted whose text is `text`.
pub(crate) fn accepted_replies(sandbox: &Sandbox, text: &str) -> Vec<RecordedReply> {
    sandbox
        .replies()
        .into_iter()
        .filter(|reply| reply.accepted && reply.text.as_deref() == Some(text))
        .collect()
}

fn mention_polls(sandbox: &Sandbox) -> u64 {
    sandbox
        .stats()
        .requests
        .get(X_MENTIONS_ROUTE)
        .copied()
        .unwrap_or_default()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for a query value.
fn encode_component(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
