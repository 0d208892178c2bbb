//! The keyboard in a real Chromium: every shortcut the `?` list names does what it says, the
//! list is a table in both languages, focus follows the work (after resolve, snooze or assign
//! the agent lands on the next conversation, in its thread, and is told so), skip links lead
//! to the queue and the reply box, and a reader can turn the single keys off.

use crate::browser::{body_keys, browser, sign_in_as, until};
use crate::panes::press;
use buzon_tests::browser::{artifact, start_driver};
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::TestDatabase;
use fantoccini::{Client, Locator};
use serde_json::json;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

async fn active_id(client: &Client) -> String {
    client
        .execute(
            "var e = document.activeElement; return e ? (e.id || e.tagName) : '';",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn conversation_id(client: &Client) -> String {
    client
        .execute(
            "var c = document.querySelector('.conversation'); return c ? c.getAttribute('data-conversation-id') : '';",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn every_listed_shortcut_does_what_it_says_and_focus_follows_the_work() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
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
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(added.status.success());
    for (number, text) in [
        ("34622000001", "¿Cuándo llega mi pedido 1001?"),
        ("34622000002", "¿Tenéis la talla M del jersey azul?"),
        ("34622000003", "Quiero cambiar la dirección de envío"),
        ("34622000004", "¿Hacéis envíos a Canarias?"),
        ("34622000005", "Gracias, todo perfecto"),
    ] {
        sandbox
            .inject(Injection::new(Source::Whatsapp, text).by(number, format!("Cliente {number}")))
            .unwrap();
    }
    app.eventually(Duration::from_secs(30), "five conversations", || async {
        (app.db.scalar("SELECT COUNT(*) FROM conversations").await == 5).then_some(())
    })
    .await;

    let client = browser(&driver.url).await;
    sign_in_as(&client, &app.base_url, "ana@shop.example", PASSWORD).await;

    // The list: a table of every shortcut.
    body_keys(&client, "?").await;
    until(
        &client,
        "the shortcuts list",
        "document.getElementById('help').open",
    )
    .await;
    let rows = client
        .execute(
            "return document.querySelectorAll('#help table.keys tbody tr').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(rows, json!(17));
    std::fs::write(
        artifact("shortcuts.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    press(&client, "\u{E00C}").await; // Escape closes the dialog.
    until(
        &client,
        "the list closed",
        "!document.getElementById('help').open",
    )
    .await;

    // The skip link leads to the queue.
    body_keys(&client, "\u{E004}").await; // Tab: the skip link first.
    assert_eq!(
        client
            .execute("return document.activeElement.className;", vec![])
            .await
            .unwrap(),
        json!("skip")
    );

    // j selects, Enter opens.
    client
        .execute("document.activeElement.blur();", vec![])
        .await
        .unwrap();
    body_keys(&client, "jjk").await;
    until(
        &client,
        "the first row selected again",
        "document.querySelector('#queue .row.selected') === document.querySelector('#queue .row')",
    )
    .await;
    body_keys(&client, "\u{E007}").await;
    until(
        &client,
        "the conversation",
        "document.body.getAttribute('data-page') === 'conversation'",
    )
    .await;
    let first = conversation_id(&client).await;

    // r: the reply box; Ctrl+Enter sends; back in the thread, told so.
    body_keys(&client, "r").await;
    assert_eq!(active_id(&client).await, "reply");
    press(&client, "Llega mañana, ¡gracias por esperar!").await;
    press(&client, "\u{E009}\u{E007}").await; // Ctrl+Enter
    until(
        &client,
        "the reply sent",
        "window.location.search.includes('sent=1')",
    )
    .await;
    until(
        &client,
        "the thread focused",
        "document.activeElement && document.activeElement.id === 'messages'",
    )
    .await;
    until(
        &client,
        "the reply announced",
        "document.getElementById('announce').textContent.length > 0",
    )
    .await;
    until(
        &client,
        "the reply in the thread",
        "Array.from(document.querySelectorAll('.message.outbound .text')).some(e => e.textContent.includes('Llega mañana'))",
    )
    .await;

    // n: the note box; Escape leaves it. l: the label field. t: the author's tags.
    for (key, expected) in [("n", "note"), ("l", "tag-input")] {
        body_keys(&client, key).await;
        assert_eq!(active_id(&client).await, expected, "{key}");
        press(&client, "\u{E00C}").await;
        assert_ne!(
            active_id(&client).await,
            expected,
            "Escape leaves {expected}"
        );
    }
    body_keys(&client, "t").await;
    assert!(
        active_id(&client).await.starts_with("author-"),
        "t focuses the author's tags"
    );
    // q and p: the queue and the person panes (three panes at this width), no page load.
    let loaded = client
        .execute("return performance.timeOrigin;", vec![])
        .await
        .unwrap();
    body_keys(&client, "q").await;
    assert_eq!(active_id(&client).await, "queue-pane");
    body_keys(&client, "p").await;
    assert_eq!(active_id(&client).await, "person");
    assert_eq!(
        client
            .execute("return performance.timeOrigin;", vec![])
            .await
            .unwrap(),
        loaded,
        "moving between panes loads no page"
    );
    client
        .execute("document.activeElement.blur();", vec![])
        .await
        .unwrap();

    // e: resolve and land on the next conversation, in its thread, told so.
    body_keys(&client, "e").await;
    until(
        &client,
        "the next conversation",
        "window.location.search.includes('from=next')",
    )
    .await;
    let second = conversation_id(&client).await;
    assert_ne!(second, first);
    until(
        &client,
        "the thread focused",
        "document.activeElement && document.activeElement.id === 'messages'",
    )
    .await;
    until(
        &client,
        "the move announced",
        "document.getElementById('announce').textContent === 'Next conversation.'",
    )
    .await;
    assert_eq!(
        app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM conversations WHERE id = {first} AND status = 'resolved'"
            ))
            .await,
        1
    );
    // s: snooze and next; a: assign to me and next.
    body_keys(&client, "s").await;
    until(&client, "the next one after snoozing", &format!(
        "document.querySelector('.conversation') && document.querySelector('.conversation').getAttribute('data-conversation-id') !== '{second}'"
    ))
    .await;
    let third = conversation_id(&client).await;
    assert_eq!(
        app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM conversations WHERE id = {second} AND status = 'snoozed'"
            ))
            .await,
        1
    );
    body_keys(&client, "a").await;
    until(&client, "the next one after assigning", &format!(
        "document.querySelector('.conversation') && document.querySelector('.conversation').getAttribute('data-conversation-id') !== '{third}'"
    ))
    .await;
    assert_eq!(
        app.db
            .scalar(&format!(
                "SELECT COUNT(*) FROM conversations WHERE id = {third} AND assignee_id IS NOT NULL"
            ))
            .await,
        1
    );

    // g then i, g then r, g then i: the inbox, the reports, the inbox. /: the search.
    body_keys(&client, "gi").await;
    until(
        &client,
        "the inbox",
        "document.body.getAttribute('data-page') === 'inbox'",
    )
    .await;
    body_keys(&client, "gr").await;
    until(
        &client,
        "the reports",
        "document.body.getAttribute('data-page') === 'reports'",
    )
    .await;
    body_keys(&client, "gi").await;
    until(
        &client,
        "the inbox",
        "document.body.getAttribute('data-page') === 'inbox'",
    )
    .await;
    body_keys(&client, "/").await;
    assert_eq!(active_id(&client).await, "search");
    press(&client, "\u{E00C}").await;

    // Turned off, single keys do nothing (the list still opens with ?).
    body_keys(&client, "?").await;
    until(
        &client,
        "the shortcuts list",
        "document.getElementById('help').open",
    )
    .await;
    client
        .find(Locator::Id("shortcuts-off"))
        .await
        .unwrap()
        .send_keys(" ")
        .await
        .unwrap();
    press(&client, "\u{E00C}").await;
    client.goto(&app.url("/inbox")).await.unwrap();
    body_keys(&client, "j").await;
    body_keys(&client, "gr").await;
    assert_eq!(
        client
            .execute("return [document.querySelectorAll('#queue .row.selected').length, document.body.getAttribute('data-page')];", vec![])
            .await
            .unwrap(),
        json!([0, "inbox"])
    );

    // The list in Spanish.
    client
        .find(Locator::Css("form[action='/lang'] button[lang=es]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&client, "Spanish", "document.documentElement.lang === 'es'").await;
    body_keys(&client, "?").await;
    until(&client, "la lista", "document.getElementById('help').open").await;
    let text = client
        .execute("return document.getElementById('help').innerText;", vec![])
        .await
        .unwrap();
    assert!(
        text.as_str()
            .unwrap()
            .contains("resolver e ir a la siguiente conversación"),
        "{text}"
    );
    std::fs::write(
        artifact("shortcuts-es.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.close().await.unwrap();
    sandbox.shutdown().await;
    app.finish().await;
}

/// Presses Tab until `selector` has the focus (at most `limit` times); the keyboard only.
async fn tab_to(client: &Client, selector: &str, limit: usize) {
    for _ in 0..limit {
        let there = client
            .execute(
                &format!("return document.activeElement && document.activeElement.matches({selector:?});"),
                vec![],
            )
            .await
            .unwrap();
        if there == json!(true) {
            return;
        }
        press(client, "\u{E004}").await;
    }
    panic!("{selector} is not reachable with Tab");
}

async fn shot(client: &Client, name: &str) {
    std::fs::write(artifact(name), client.screenshot().await.unwrap()).unwrap();
}

/// A whole shift with the keyboard alone: no mouse action and no script click in any step
/// (scripts only read the page). Sign in, open the oldest waiting conversation, reply with a
/// canned reply, tag the author, resolve and land on the next one, snooze one until tomorrow,
/// switch to Spanish, sign out; a screenshot of each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_shift_by_keyboard_alone() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let ana = crate::working::user_token(&app, "ana@shop.example", "Ana", "agent").await;
    let (status, _) = crate::working::call(
        &app,
        reqwest::Method::POST,
        &admin,
        "/api/v1/canned-replies",
        Some(&json!({"name": "Plazos de envío", "shortcut": "envios", "language": "es",
                     "text": "Hola {{customer.first_name}}, tu pedido sale hoy y llega en 48 horas. {{agent.first_name}}"})),
    )
    .await;
    assert_eq!(status, 201);
    // The oldest waits longest: written first, an hour ago.
    let an_hour_ago = buzon_core::Timestamp::now().as_millis() / 1000 - 3600;
    let mut conversations = Vec::new();
    for (number, text, at) in [
        (
            "34633000001",
            "Mi pedido 1001 no llega, ¿qué pasa?",
            Some(an_hour_ago),
        ),
        ("34633000002", "¿Tenéis la talla M del jersey azul?", None),
        ("34633000003", "Quiero cambiar la dirección de envío", None),
    ] {
        let mut injection =
            Injection::new(Source::Whatsapp, text).by(number, format!("Cliente {number}"));
        if let Some(at) = at {
            injection = injection.at(at);
        }
        let message = crate::service::inject_and_wait(&app, &sandbox, &ana, injection).await;
        conversations.push(message["conversation_id"].as_i64().unwrap());
    }
    let oldest = conversations[0];

    let client = browser(&driver.url).await;
    // Sign in: the e-mail field has the focus; type, Tab, type, Enter.
    client.goto(&app.url("/login")).await.unwrap();
    until(
        &client,
        "the e-mail field focused",
        "document.activeElement && document.activeElement.name === 'email'",
    )
    .await;
    press(&client, "ana@shop.example").await;
    press(&client, "\u{E004}").await;
    press(&client, &format!("{PASSWORD}\u{E007}")).await;
    until(
        &client,
        "the inbox",
        "document.body.getAttribute('data-page') === 'inbox'",
    )
    .await;
    shot(&client, "shift-1-signed-in.png").await;

    // The oldest waiting first: the sort menu, reached with Tab, chosen with the keyboard.
    tab_to(&client, "select[name=sort]", 30).await;
    press(&client, "L").await; // "Longest waiting"
    tab_to(&client, ".filters button[type=submit]", 5).await;
    press(&client, "\u{E007}").await;
    until(
        &client,
        "sorted by waiting",
        "window.location.search.includes('sort=waiting')",
    )
    .await;
    body_keys(&client, "j").await;
    body_keys(&client, "\u{E007}").await;
    until(&client, "the oldest conversation", &format!(
        "document.querySelector('.conversation') && document.querySelector('.conversation').getAttribute('data-conversation-id') === '{oldest}'"
    )).await;
    shot(&client, "shift-2-oldest.png").await;

    // Reply with a canned reply: r, "/envi", Enter inserts it, Ctrl+Enter sends.
    body_keys(&client, "r").await;
    press(&client, "/envi").await;
    until(
        &client,
        "the picker",
        "!document.getElementById('picker').hidden",
    )
    .await;
    shot(&client, "shift-3-picker.png").await;
    press(&client, "\u{E007}").await;
    press(&client, "\u{E009}\u{E007}").await;
    until(&client, "the canned reply sent, filled", "Array.from(document.querySelectorAll('.message.outbound .text')).some(e => e.textContent === 'Hola Cliente, tu pedido sale hoy y llega en 48 horas. Ana')").await;
    shot(&client, "shift-4-replied.png").await;

    // Tag the author as a VIP: t focuses the author's tags; Tab to "+ vip"; Enter.
    body_keys(&client, "t").await;
    tab_to(&client, "#author-add-vip", 6).await;
    press(&client, "\u{E007}").await;
    until(
        &client,
        "the author tagged",
        "document.getElementById('author-remove-vip') !== null",
    )
    .await;
    shot(&client, "shift-5-tagged.png").await;

    // e: resolved, and on the next one.
    body_keys(&client, "e").await;
    until(
        &client,
        "the next conversation",
        "window.location.search.includes('from=next')",
    )
    .await;
    let next = conversation_id(&client).await;
    assert_ne!(next, oldest.to_string());
    shot(&client, "shift-6-next.png").await;

    // s: snoozed until tomorrow 9:00 (the menu's default), and on to the next one.
    body_keys(&client, "s").await;
    until(&client, "the one after the snoozed one", &format!(
        "document.querySelector('.conversation') && document.querySelector('.conversation').getAttribute('data-conversation-id') !== '{next}'"
    )).await;
    shot(&client, "shift-7-snoozed.png").await;

    // Spanish: Tab to the language switch, Enter.
    body_keys(&client, "gi").await;
    until(
        &client,
        "the inbox",
        "document.body.getAttribute('data-page') === 'inbox'",
    )
    .await;
    tab_to(&client, "form[action='/lang'] button[lang=es]", 30).await;
    press(&client, "\u{E007}").await;
    until(&client, "Spanish", "document.documentElement.lang === 'es'").await;
    shot(&client, "shift-8-spanish.png").await;

    // Sign out: Tab to it, Enter.
    tab_to(&client, "form[action='/logout'] button", 30).await;
    press(&client, "\u{E007}").await;
    until(
        &client,
        "signed out",
        "window.location.pathname === '/login'",
    )
    .await;
    shot(&client, "shift-9-signed-out.png").await;

    // What the shift did, as the database holds it.
    let state = app
        .db
        .texts(&format!(
            "SELECT CAST(id AS TEXT), status, CAST(snoozed_until AS TEXT) FROM conversations WHERE id IN ({}, {next}) ORDER BY id",
            oldest
        ))
        .await;
    assert_eq!(state[0][1].as_deref(), Some("resolved"), "{state:?}");
    assert_eq!(state[1][1].as_deref(), Some("snoozed"), "{state:?}");
    let until_ms: i64 = state[1][2].as_deref().unwrap().parse().unwrap();
    let calendar = buzon_core::metrics::BusinessCalendar::always_open_in("UTC").unwrap();
    let now = buzon_core::Timestamp::now();
    assert_eq!(
        calendar.local_date_minute(buzon_core::Timestamp::from_millis(until_ms)),
        (calendar.date_of(now).plus_days(1).unwrap(), 9 * 60),
        "until 9:00 tomorrow in the browser's zone (UTC here)"
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM contact_labels WHERE label = 'vip'")
            .await,
        1
    );
    assert_eq!(
        app.db
            .scalar("SELECT uses FROM canned_replies WHERE shortcut = 'envios'")
            .await,
        1
    );
    client.close().await.unwrap();
    sandbox.shutdown().await;
    app.finish().await;
}
