//! The accessibility gate: axe-core's WCAG 2.2 AA rules and best practices (tags `wcag2a`,
//! `wcag2aa`, `wcag21a`, `wcag21aa`, `wcag22aa`, `best-practice`) on every page an admin, an
//! agent and a signed-out visitor reach, in both languages, in a real
//! headless Chromium. axe-core comes from the npm registry (`.ci/run` installs it under
//! `tests/.axe/`; `BUZON_AXE_JS` names another copy); without it the test reports itself
//! skipped, except under `CI=true`, where it fails.

use crate::browser::{browser, sign_in_as, until};
use buzon_tests::browser::start_driver;
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::{under_ci, TestDatabase};
use fantoccini::Client;
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

fn axe_source() -> Option<String> {
    let path = std::env::var("BUZON_AXE_JS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".axe/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) if under_ci() => panic!(
            "axe-core is missing at {} (npm install --prefix tests/.axe axe-core)",
            path.display()
        ),
        Err(_) => {
            eprintln!(
                "skipped: axe-core is missing at {} (npm install --prefix tests/.axe axe-core)",
                path.display()
            );
            None
        }
    }
}

/// axe-core's violations on the page at `url`: rule, impact, help and the first elements.
async fn violations(client: &Client, axe: &str, url: &str) -> Vec<Value> {
    client.goto(url).await.unwrap();
    until(
        client,
        "the page loaded",
        "document.readyState === 'complete'",
    )
    .await;
    client.execute(axe, vec![]).await.expect("axe-core loads");
    let found = client
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})
               .then(function (result) { done({passes: result.passes.length,
                 violations: result.violations.map(function (v) {
                 return {rule: v.id, impact: v.impact, help: v.help,
                         where: v.nodes.slice(0, 4).map(function (n) { return n.target.join(' '); })}; })}); })
               .catch(function (error) { done({passes: 0, violations: [{rule: 'axe-error', help: String(error)}]}); });",
            vec![],
        )
        .await
        .expect("axe-core runs");
    let violations = found["violations"].as_array().cloned().unwrap_or_default();
    // The gate's record, for people: how many rules each page passed.
    eprintln!(
        "axe: {url}: {} rules passed, {} violated",
        found["passes"],
        violations.len()
    );
    violations
}

#[tokio::test]
async fn every_page_passes_axe_core_wcag_2_2_aa_in_both_languages() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(driver) = start_driver().await else {
        return;
    };
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    let channels = connect_sandbox_channels(&app, &config).await;
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
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(added.status.success());
    let admin = app.token("admin").await;
    // Something on every page: conversations (hostile ones too), a rule, an incident.
    sandbox.generate(12);
    app.eventually(Duration::from_secs(60), "conversations", || async {
        (app.db.scalar("SELECT COUNT(*) FROM conversations").await >= 6).then_some(())
    })
    .await;
    let rule = app
        .http
        .post(app.url("/api/v1/alert-rules"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Fraude", "keywords": {"es": ["fraude"]}, "email": ["oncall@shop.example"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(rule.status(), 201);
    let incident = app
        .http
        .post(app.url("/api/v1/incidents"))
        .bearer_auth(&admin)
        .json(&json!({"title": "Web caída", "keywords": ["caída"], "texts": {"es": "Lo sabemos."}}))
        .send()
        .await
        .unwrap();
    assert_eq!(incident.status(), 201);
    let canned = app
        .http
        .post(app.url("/api/v1/canned-replies"))
        .bearer_auth(&admin)
        .json(
            &json!({"name": "Envíos", "shortcut": "envios", "language": "es",
                      "text": "Hola {{customer.first_name}}, tu pedido sale hoy."}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(canned.status(), 201);
    // Listening: a saved search on the X channel's page, and a Page mention waiting in the
    // monitoring view.
    let search = app
        .http
        .post(app.url(&format!("/api/v1/channels/{}/searches", channels.x)))
        .bearer_auth(&admin)
        .json(&json!({"query": "tiendabuzon -is:retweet", "promote": "negative"}))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), 201);
    let mention = sandbox
        .inject(Injection::new(
            Source::FacebookMention,
            "<b>tiendabuzon</b> ¿alguien sabe si envían a Canarias?",
        ))
        .unwrap();
    let watching = app
        .eventually(Duration::from_secs(60), "the Page mention", || async {
            let id = app
                .db
                .scalar(&format!(
                    "SELECT COALESCE(MAX(conversation_id), 0) FROM messages WHERE platform_id = '{}'",
                    mention.id
                ))
                .await;
            (id > 0).then_some(id)
        })
        .await;
    let conversation = app.db.scalar("SELECT MIN(id) FROM conversations").await;
    // An escalated conversation, so the supervisors' view has a row.
    let escalated = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{conversation}/escalate")))
        .bearer_auth(&admin)
        .json(&json!({"note": "Revisar"}))
        .send()
        .await
        .unwrap();
    assert_eq!(escalated.status(), 200);

    let client = browser(&driver.url).await;
    let mut report = Vec::new();
    client.goto(&app.url("/login")).await.unwrap();
    client
        .execute("document.cookie = 'lang=en; path=/';", vec![])
        .await
        .unwrap();
    for language in ["en", "es"] {
        for path in ["/login", "/public/response-times", "/api/docs"] {
            for found in violations(&client, &axe, &app.url(path)).await {
                report.push((format!("{path} (signed out, {language})"), found));
            }
            until(
                &client,
                "the page in its language",
                &format!("document.documentElement.lang === '{language}'"),
            )
            .await;
        }
        // Then the other language (the switch's cookie; signed out there is no switch), and
        // back to English to sign in.
        client.goto(&app.url("/login")).await.unwrap();
        let next = if language == "es" { "en" } else { "es" };
        client
            .execute(&format!("document.cookie = 'lang={next}; path=/';"), vec![])
            .await
            .unwrap();
    }
    sign_in_as(&client, &app.base_url, "marta@shop.example", PASSWORD).await;
    let pages = [
        "/inbox".to_owned(),
        "/inbox?view=trolls".to_owned(),
        "/inbox?view=escalated".to_owned(),
        "/inbox?view=monitoring".to_owned(),
        format!("/conversations/{conversation}"),
        format!("/conversations/{watching}"),
        "/canned-replies".to_owned(),
        "/canned-replies?edit=1".to_owned(),
        "/reports".to_owned(),
        "/incidents".to_owned(),
        "/admin/channels".to_owned(),
        format!("/admin/channels/{}", channels.whatsapp),
        format!("/admin/channels/{}", channels.x),
        "/admin/users".to_owned(),
        "/admin/hours".to_owned(),
        format!("/admin/hours/channels/{}", channels.x),
        "/admin/alerts".to_owned(),
        "/admin/webhooks".to_owned(),
        "/admin/tokens".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/events".to_owned(),
    ];
    for language in ["en", "es"] {
        if language == "es" {
            client.goto(&app.url("/inbox")).await.unwrap();
            client
                .find(fantoccini::Locator::Css(
                    "form[action='/lang'] button[lang=es]",
                ))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            until(&client, "Spanish", "document.documentElement.lang === 'es'").await;
        }
        for path in &pages {
            for found in violations(&client, &axe, &app.url(path)).await {
                report.push((format!("{path} ({language})"), found));
            }
        }
    }
    // An agent's own view of the pages they reach.
    let agent = browser(&driver.url).await;
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
    sign_in_as(&agent, &app.base_url, "ana@shop.example", PASSWORD).await;
    for path in [
        "/inbox".to_owned(),
        "/inbox?view=monitoring".to_owned(),
        format!("/conversations/{conversation}"),
        format!("/conversations/{watching}"),
        "/canned-replies".to_owned(),
        "/incidents".to_owned(),
        "/reports".to_owned(),
    ] {
        for found in violations(&agent, &axe, &app.url(&path)).await {
            report.push((format!("{path} (agent)"), found));
        }
    }
    agent.close().await.unwrap();
    client.close().await.unwrap();
    assert!(
        report.is_empty(),
        "axe-core found {} problems:\n{}",
        report.len(),
        report
            .iter()
            .map(|(page, found)| format!("{page}: {found}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    sandbox.shutdown().await;
    app.finish().await;
}
