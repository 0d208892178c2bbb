//! The conversation page in a real Chromium: the `/` picker of the reply box works from the
//! keyboard alone (type to filter, arrows, Enter inserts, Escape closes, the reply goes out
//! with its placeholders filled once and the use counted), a closed WhatsApp window offers the
//! approved templates in the same list, and the page is three panes at 1440 px and one column
//! at 390 px, with no sideways scrolling (screenshots of both kept as artifacts).

use crate::browser::{browser, sign_in_as, until};
use crate::service::inject_and_wait;
use crate::working::{call, user_token};
use buzon_core::Timestamp;
use buzon_tests::browser::{artifact, start_driver};
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::TestDatabase;
use fantoccini::Client;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// Presses `keys` in whatever has the focus (the keyboard, not a click).
pub(crate) async fn press(client: &Client, keys: &str) {
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

async fn script(client: &Client, source: &str) -> Value {
    client.execute(source, vec![]).await.unwrap()
}

async fn screenshot(client: &Client, name: &str) {
    std::fs::write(artifact(name), client.screenshot().await.unwrap()).unwrap();
}

/// How far the page scrolls sideways (0 when it fits).
async fn sideways(client: &Client) -> i64 {
    script(
        client,
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    )
    .await
    .as_i64()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slash_picker_works_from_the_keyboard_and_the_panes_fit_wide_and_narrow() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let ana = user_token(&app, "ana@shop.example", "Ana", "agent").await;
    for (shortcut, language, text) in [
        (
            "envios",
            "es",
            "Hola {{customer.first_name}}, tu pedido sale hoy. Un saludo, {{agent.first_name}}.",
        ),
        (
            "shipping",
            "en",
            "Hi {{customer.first_name}}, your order ships today.",
        ),
    ] {
        let (status, body) = call(
            &app,
            Method::POST,
            &admin,
            "/api/v1/canned-replies",
            Some(&json!({"name": shortcut, "shortcut": shortcut, "text": text, "language": language})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    app.db
        .raw_execute(
            "INSERT INTO reply_templates (kind, name, language, body, created_at) \
             VALUES ('whatsapp', 'seguimiento', 'es', 'Hola, ¿seguimos con tu pedido?', 0)",
        )
        .await
        .unwrap();
    let fresh = inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(
            Source::Whatsapp,
            "Hola, ¿cuándo llega mi pedido? Lo pedí el lunes",
        )
        .by("34677000001", "Lucía Gómez"),
    )
    .await["conversation_id"]
        .as_i64()
        .unwrap();
    let old = inject_and_wait(
        &app,
        &sandbox,
        &ana,
        Injection::new(Source::Whatsapp, "¿Tenéis la talla M?")
            .by("34677000002", "Luis Antiguo")
            .at(Timestamp::now().as_millis() / 1000 - 30 * 3600),
    )
    .await["conversation_id"]
        .as_i64()
        .unwrap();

    let client = browser(&driver.url).await;
    client.set_window_size(1440, 900).await.unwrap();
    sign_in_as(&client, &app.base_url, "ana@shop.example", PASSWORD).await;
    client
        .goto(&app.url(&format!("/conversations/{fresh}")))
        .await
        .unwrap();
    until(
        &client,
        "the conversation",
        "document.body.getAttribute('data-page') === 'conversation'",
    )
    .await;

    // Three panes side by side at 1440 px, nothing to scroll sideways.
    assert_eq!(sideways(&client).await, 0);
    let panes = script(
        &client,
        "return ['queue-pane', 'messages', 'person'].map(id => { var r = document.getElementById(id).getBoundingClientRect(); return [Math.round(r.left), Math.round(r.width)]; });",
    )
    .await;
    let lefts: Vec<i64> = panes
        .as_array()
        .unwrap()
        .iter()
        .map(|pane| pane[0].as_i64().unwrap())
        .collect();
    assert!(
        lefts[0] < lefts[1] && lefts[1] < lefts[2],
        "queue, thread, person from left to right: {panes}"
    );
    screenshot(&client, "three-panes-1440.png").await;

    // r, then "/" and part of a shortcut: the list opens, filtered, the first one active.
    press(&client, "r").await;
    press(&client, "/").await;
    until(
        &client,
        "the picker open",
        "!document.getElementById('picker').hidden",
    )
    .await;
    assert_eq!(
        script(
            &client,
            "return document.getElementById('reply').getAttribute('aria-activedescendant');"
        )
        .await,
        json!("pick-c1")
    );
    press(&client, "en").await;
    let shown = script(
        &client,
        "return Array.from(document.querySelectorAll('#picker .pick')).filter(o => !o.hidden).map(o => o.getAttribute('data-find'));",
    )
    .await;
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    screenshot(&client, "picker.png").await;
    // Escape closes the list and leaves the text and the focus where they were.
    press(&client, "\u{E00C}").await;
    assert_eq!(
        script(&client, "return [document.getElementById('picker').hidden, document.activeElement.id, document.getElementById('reply').value];").await,
        json!([true, "reply", "/en"])
    );
    // Backspace, Backspace: "/" again lists both; the arrows move; Enter inserts.
    press(&client, "\u{E003}\u{E003}").await;
    until(
        &client,
        "the picker open again",
        "!document.getElementById('picker').hidden",
    )
    .await;
    press(&client, "\u{E015}").await; // ArrowDown
    press(&client, "\u{E013}").await; // ArrowUp
    let active = script(
        &client,
        "return document.getElementById('reply').getAttribute('aria-activedescendant');",
    )
    .await;
    assert!(active.as_str().unwrap().starts_with("pick-c"), "{active}");
    // The conversation is in Spanish: the Spanish reply comes first.
    press(&client, "\u{E007}").await; // Enter
    let inserted = script(
        &client,
        "return [document.getElementById('reply').value, document.getElementById('canned-reply-id').value, document.getElementById('picker').hidden];",
    )
    .await;
    assert_eq!(
        inserted[0],
        json!("Hola {{customer.first_name}}, tu pedido sale hoy. Un saludo, {{agent.first_name}}."),
        "{inserted}"
    );
    assert_ne!(inserted[1], json!(""));
    assert_eq!(inserted[2], json!(true));
    press(&client, "\u{E009}\u{E007}").await; // Ctrl+Enter sends
    until(
        &client,
        "the reply in the thread, filled",
        "Array.from(document.querySelectorAll('.message.outbound .text')).some(e => e.textContent === 'Hola Lucía, tu pedido sale hoy. Un saludo, Ana.')",
    )
    .await;
    let (_, listed) = call(&app, Method::GET, &ana, "/api/v1/canned-replies", None).await;
    let envios = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|reply| reply["shortcut"] == "envios")
        .unwrap()
        .clone();
    assert_eq!(envios["uses"], 1, "{envios}");
    // The person pane lists it.
    client
        .goto(&app.url(&format!("/conversations/{fresh}")))
        .await
        .unwrap();
    until(
        &client,
        "the canned reply beside the person",
        "document.getElementById('person').textContent.includes('/envios')",
    )
    .await;

    // The WhatsApp window has closed: "/" offers the approved templates; Enter sends one.
    client
        .goto(&app.url(&format!("/conversations/{old}")))
        .await
        .unwrap();
    until(
        &client,
        "the closed conversation",
        &format!("document.querySelector('.conversation').getAttribute('data-conversation-id') === '{old}'"),
    )
    .await;
    press(&client, "r").await;
    press(&client, "/").await;
    until(
        &client,
        "the templates listed",
        "!document.getElementById('picker').hidden",
    )
    .await;
    assert_eq!(
        script(&client, "return Array.from(document.querySelectorAll('#picker .pick')).filter(o => !o.hidden).map(o => o.getAttribute('data-kind') + ':' + o.getAttribute('data-find'));").await,
        json!(["template:seguimiento Hola, ¿seguimos con tu pedido?"])
    );
    screenshot(&client, "picker-templates.png").await;
    press(&client, "\u{E007}").await;
    app.eventually(Duration::from_secs(30), "the template queued", || async {
        (app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = {old} AND direction = 'outbound'"
            ))
            .await
            == 1)
            .then_some(())
    })
    .await;

    // One column at 390 px: no queue pane, the person below the thread, nothing sideways.
    client.set_window_size(390, 844).await.unwrap();
    client
        .goto(&app.url(&format!("/conversations/{fresh}")))
        .await
        .unwrap();
    until(
        &client,
        "the conversation",
        "document.body.getAttribute('data-page') === 'conversation'",
    )
    .await;
    assert_eq!(sideways(&client).await, 0);
    assert_eq!(
        script(&client, "return [getComputedStyle(document.getElementById('queue-pane')).display, document.getElementById('person').getBoundingClientRect().top > document.getElementById('messages').getBoundingClientRect().top];").await,
        json!(["none", true])
    );
    screenshot(&client, "one-column-390.png").await;
    client.close().await.unwrap();
    sandbox.shutdown().await;
    app.finish().await;
}
