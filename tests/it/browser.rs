//! The interface in a real headless Chromium: sign in, see a mention arrive live, reply and
//! see the reply reach the platform, tag a troll and see them leave the queue; and hostile
//! content that must stay inert.

use buzon_tests::browser::{artifact, chrome_capabilities, start_driver};
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::TestDatabase;
use fantoccini::{Client, ClientBuilder, Locator};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct horse battery";

pub(crate) async fn browser(driver_url: &str) -> Client {
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(chrome_capabilities(1280, 900))
        .connect(driver_url)
        .await
        .expect("chromedriver opens a session")
}

/// Waits until `script` (a JS expression) is truthy in the page.
pub(crate) async fn until(client: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = client
            .execute(&format!("return !!({script});"), vec![])
            .await
            .expect("script runs");
        if value.as_bool() == Some(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(client: &Client, base_url: &str, email: &str) {
    sign_in_as(client, base_url, email, PASSWORD).await;
}

/// Signs in through the login form and waits for the inbox.
pub(crate) async fn sign_in_as(client: &Client, base_url: &str, email: &str, password: &str) {
    client.goto(&format!("{base_url}/login")).await.unwrap();
    client
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        client,
        "the inbox",
        "document.body.getAttribute('data-page') === 'inbox'",
    )
    .await;
}

#[tokio::test]
async fn an_agent_signs_in_sees_a_mention_live_replies_and_tags_a_troll() {
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
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let client = browser(&driver.url).await;
    sign_in(&client, &app.base_url, "ana@shop.example").await;
    client
        .execute("window.__stillHere = 'yes';", vec![])
        .await
        .unwrap();

    // A mention arrives while the inbox is open: it shows up without a reload.
    let mut mention = Injection::new(
        Source::Facebook,
        "¿Llega mi pedido #4411 antes del viernes?",
    );
    mention.author_id = Some("900000000000001".into());
    mention.author_name = Some("Lucía Pérez".into());
    sandbox
        .inject(mention)
        .expect("the sandbox takes the mention");
    until(&client, "the mention in the queue", "document.querySelector('#queue') && document.querySelector('#queue').textContent.includes('#4411')").await;
    let still_here = client
        .execute("return window.__stillHere;", vec![])
        .await
        .unwrap();
    assert_eq!(
        still_here,
        serde_json::json!("yes"),
        "the page was not reloaded"
    );
    std::fs::write(artifact("inbox.png"), client.screenshot().await.unwrap()).unwrap();

    // Open it with the keyboard and reply.
    client
        .execute(
            "document.activeElement && document.activeElement.blur();",
            vec![],
        )
        .await
        .unwrap();
    let rows = client.find_all(Locator::Css("#queue .row")).await.unwrap();
    assert!(!rows.is_empty());
    let target = client
        .execute("var rows = Array.from(document.querySelectorAll('#queue .row')); return rows.findIndex(r => r.textContent.includes('#4411'));", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    let body = client.find(Locator::Css("body")).await.unwrap();
    for _ in 0..=target {
        body.send_keys("j").await.unwrap();
    }
    body.send_keys("\u{E007}").await.unwrap(); // Enter
    until(
        &client,
        "the conversation",
        "document.body.getAttribute('data-page') === 'conversation'",
    )
    .await;
    body_keys(&client, "r").await;
    let reply_text = "¡Hola Lucía! Sí, llega el jueves. 📦";
    let textarea = client.find(Locator::Id("reply")).await.unwrap();
    textarea.send_keys(reply_text).await.unwrap();
    client
        .find(Locator::Css("#reply-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&client, "the reply in the thread", "Array.from(document.querySelectorAll('.message.outbound .text')).some(e => e.textContent.includes('llega el jueves'))").await;
    let deadline = Instant::now() + WAIT;
    loop {
        if sandbox
            .replies()
            .iter()
            .any(|reply| reply.text.as_deref() == Some(reply_text))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reply never reached the platform"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    until(&client, "the reply marked sent", "Array.from(document.querySelectorAll('.message.outbound .delivery')).some(e => e.className.includes('delivery-sent'))").await;
    std::fs::write(
        artifact("conversation.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    // The same view on a phone: nothing overflows sideways.
    client.set_window_size(390, 844).await.unwrap();
    let fits = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fits,
        serde_json::json!(true),
        "the conversation fits a phone's width"
    );
    std::fs::write(
        artifact("conversation-phone.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.set_window_size(1280, 900).await.unwrap();
    assert_eq!(
        sandbox
            .replies()
            .iter()
            .filter(|reply| reply.text.as_deref() == Some(reply_text))
            .count(),
        1,
        "sent once"
    );

    // Tag the author as a troll: the conversation leaves the queue, the trolls view keeps it.
    client
        .find(Locator::Id("author-add-troll"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &client,
        "the troll tag",
        "document.querySelector('.conversation-head .tag-troll') !== null",
    )
    .await;
    client
        .goto(&format!("{}/inbox", app.base_url))
        .await
        .unwrap();
    let queue_text = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !queue_text.contains("Lucía Pérez"),
        "the troll's conversation left the queue"
    );
    client
        .goto(&format!("{}/inbox?view=trolls", app.base_url))
        .await
        .unwrap();
    let trolls_text = client
        .find(Locator::Css("#queue"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        trolls_text.contains("Lucía Pérez"),
        "the trolls view keeps it: {trolls_text}"
    );

    client.close().await.unwrap();
    app.finish().await;
    sandbox.shutdown().await;
}

pub(crate) async fn body_keys(client: &Client, keys: &str) {
    client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

#[tokio::test]
async fn hostile_mentions_render_as_inert_text() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let added = app
        .cli(
            &["user", "add", "viewer@shop.example", "--role", "viewer"],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(added.status.success());

    let long_line = "A".repeat(10_000);
    let hostile = [
        "<script>window.__xss = 'script'</script>",
        "<img src=x onerror=\"window.__xss='img'\">",
        "<a href=\"javascript:window.__xss='link'\">click me</a>",
        "&lt;b&gt;entities&lt;/b&gt; &amp;amp; &#60;i&#62;",
        "zero\u{200B}width and \u{202E}rtl override\u{202C} text",
        long_line.as_str(),
    ];
    for (index, text) in hostile.iter().enumerate() {
        let mut injection = Injection::new(
            if index % 2 == 0 {
                Source::Facebook
            } else {
                Source::Whatsapp
            },
            format!("H{index} {text}"),
        );
        injection.author_id = Some(format!("66600000000{index}"));
        injection.author_name = Some(format!(
            "<img src=x onerror=\"window.__xss='name{index}'\"> Evil \u{202E}{index}"
        ));
        sandbox.inject(injection).expect("the sandbox takes it");
    }
    let client = browser(&driver.url).await;
    sign_in(&client, &app.base_url, "viewer@shop.example").await;
    until(
        &client,
        "the hostile mentions",
        "document.querySelectorAll('#queue .row').length >= 6",
    )
    .await;
    let page_text = client
        .find(Locator::Css("#queue"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page_text.contains("<script>window.__xss = 'script'</script>"),
        "markup shows as text"
    );
    assert!(page_text.contains("<img src=x onerror="), "{page_text}");
    // Open each conversation: the full text renders as text too.
    let ids: Vec<i64> = client
        .execute("return Array.from(document.querySelectorAll('#queue .row')).map(r => Number(r.getAttribute('data-conversation-id')));", vec![])
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|id| id.as_i64())
        .collect();
    for id in ids {
        client
            .goto(&format!("{}/conversations/{id}", app.base_url))
            .await
            .unwrap();
        until(
            &client,
            "the conversation",
            "document.body.getAttribute('data-page') === 'conversation'",
        )
        .await;
        let xss = client
            .execute("return window.__xss === undefined;", vec![])
            .await
            .unwrap();
        assert_eq!(
            xss,
            serde_json::json!(true),
            "no injected script ran on conversation {id}"
        );
        let injected_nodes = client
            .execute("return document.querySelectorAll('main script, main img, main a[href^=\"javascript\"]').length;", vec![])
            .await
            .unwrap();
        assert_eq!(
            injected_nodes,
            serde_json::json!(0),
            "no element came from the mention on {id}"
        );
    }
    let long = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        long,
        serde_json::json!(true),
        "a 10,000-character line wraps instead of widening the page"
    );
    client
        .goto(&format!("{}/inbox", app.base_url))
        .await
        .unwrap();
    let xss = client
        .execute("return window.__xss === undefined;", vec![])
        .await
        .unwrap();
    assert_eq!(
        xss,
        serde_json::json!(true),
        "no injected script ran in the inbox"
    );
    std::fs::write(
        artifact("hostile-inbox.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.close().await.unwrap();
    app.finish().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn messenger_customers_are_named_not_numbered() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let added = app
        .cli(
            &["user", "add", "ana@shop.example", "--role", "agent"],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(added.status.success());
    // Messenger delivers only the sender's page-scoped id; the platform knows the name.
    let psid = "7350199134995011";
    let mut message = Injection::new(Source::Messenger, "¿Tienen la talla 38?");
    message.author_id = Some(psid.into());
    message.author_name = Some("Valentina Ríos".into());
    sandbox.inject(message).expect("the sandbox takes it");

    let client = browser(&driver.url).await;
    sign_in(&client, &app.base_url, "ana@shop.example").await;
    until(
        &client,
        "the Messenger conversation, under the customer's name",
        "Array.from(document.querySelectorAll('#queue .row .author')).some(e => e.textContent.includes('Valentina Ríos'))",
    )
    .await;
    let authors: Vec<String> = serde_json::from_value(
        client
            .execute(
                "return Array.from(document.querySelectorAll('#queue .row .author')).map(e => e.textContent);",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        authors.iter().all(|author| !author.contains(psid)),
        "no customer shows as a number: {authors:?}"
    );
    std::fs::write(
        artifact("inbox-named.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.close().await.unwrap();
    sandbox.shutdown().await;
    app.finish().await;
}
