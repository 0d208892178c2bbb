//! The web pages and their guards: every route walked with every role, CSRF, sign-in
//! throttling, and what a signed-out visitor gets.

use buzon_tests::platform::fixture;
use buzon_tests::web::{add_user, client, cookie_value, hidden_csrf, sign_in, PASSWORD};
use buzon_tests::{TestApp, TestDatabase};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::time::Duration;

struct Browser {
    cookie: String,
    csrf: String,
}

async fn session(app: &TestApp, email: &str) -> Browser {
    let response = sign_in(app, email, PASSWORD).await;
    assert_eq!(response.status(), 303, "{email} signs in");
    let session = cookie_value(&response, "buzon_session").expect("a session cookie");
    let set_cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = format!("buzon_session={session}");
    let inbox = client()
        .get(app.url("/inbox"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), 200);
    let csrf = hidden_csrf(&inbox.text().await.unwrap());
    Browser { cookie, csrf }
}

#[tokio::test]
async fn every_route_checks_every_role() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let added = app
        .cli(
            &[
                "channel",
                "add",
                "whatsapp",
                "--no-check",
                "--phone-number-id",
                "106540352242922",
                "--access-token",
                "wa-token",
            ],
            None,
        )
        .await;
    assert!(added.status.success());
    assert_eq!(
        app.post_signed_webhook("whatsapp", &fixture("whatsapp/text_message.json"))
            .await
            .status(),
        200
    );
    let viewer_token = app.token("viewer").await;
    let conversation = app
        .eventually(Duration::from_secs(20), "the conversation", || async {
            let list = app
                .api_get(&viewer_token, "/api/v1/conversations?status=all")
                .await;
            list["items"][0]["id"].as_i64()
        })
        .await;
    let detail = app
        .api_get(
            &viewer_token,
            &format!("/api/v1/conversations/{conversation}"),
        )
        .await;
    let contact = detail["contact"]["id"].as_i64().unwrap();
    let message = detail["messages"][0]["id"].as_i64().unwrap();
    for (email, role) in [
        ("admin@shop.example", "admin"),
        ("agent@shop.example", "agent"),
        ("viewer@shop.example", "viewer"),
    ] {
        add_user(&app, email, role).await;
    }
    let pages = [
        "/inbox",
        "/inbox?view=trolls&status=all&sort=waiting",
        &format!("/conversations/{conversation}"),
    ];
    let actions: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/conversations/{conversation}/notes"),
            vec![("text", "internal")],
        ),
        (
            format!("/conversations/{conversation}/tags"),
            vec![("add", "shipping")],
        ),
        (
            format!("/conversations/{conversation}/assign"),
            vec![("assignee", "me")],
        ),
        (
            format!("/conversations/{conversation}/status"),
            vec![("status", "pending")],
        ),
        (
            format!("/conversations/{conversation}/reply"),
            vec![("text", "hola"), ("idempotency_key", "k1")],
        ),
        (
            format!("/contacts/{contact}/tags"),
            vec![("add", "vip"), ("conversation_id", "1")],
        ),
        (
            format!("/conversations/{conversation}/messages/{message}/hide"),
            vec![],
        ),
    ];

    // Signed out: pages go to /login, actions too, the API answers 401.
    for page in pages {
        let response = client().get(app.url(page)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{page}");
        assert_eq!(response.headers().get(LOCATION).unwrap(), "/login");
    }
    for (path, fields) in &actions {
        let response = client()
            .post(app.url(path))
            .form(fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers().get(LOCATION).unwrap(), "/login");
    }
    assert_eq!(
        client()
            .get(app.url("/api/v1/conversations"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        client()
            .get(app.url("/events"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let home = client().get(app.url("/")).send().await.unwrap();
    assert_eq!(home.headers().get(LOCATION).unwrap(), "/login");

    for (email, role) in [
        ("viewer@shop.example", "viewer"),
        ("agent@shop.example", "agent"),
        ("admin@shop.example", "admin"),
    ] {
        let browser = session(&app, email).await;
        for page in pages {
            let response = client()
                .get(app.url(page))
                .header(COOKIE, &browser.cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{role} reads {page}");
        }
        for (path, fields) in &actions {
            let mut form = fields.clone();
            form.push(("_csrf", &browser.csrf));
            let response = client()
                .post(app.url(path))
                .header(COOKIE, &browser.cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            if role == "viewer" {
                assert_eq!(response.status(), 403, "a viewer may not POST {path}");
            } else if path.ends_with("/reply") {
                // The fixture's customer wrote in 2025: the WhatsApp window is closed.
                assert_eq!(
                    response.status(),
                    409,
                    "{role} POST {path}: the window is closed"
                );
                assert!(response.text().await.unwrap().contains("24 hours"));
            } else {
                assert_eq!(response.status(), 303, "{role} may POST {path}");
            }
            // Without its CSRF token the same form is refused for everyone.
            let response = client()
                .post(app.url(path))
                .header(COOKIE, &browser.cookie)
                .form(fields)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{role} POST {path} without CSRF");
            let mut forged = fields.clone();
            forged.push(("_csrf", "bzn_forged"));
            let response = client()
                .post(app.url(path))
                .header(COOKIE, &browser.cookie)
                .form(&forged)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                403,
                "{role} POST {path} with a forged CSRF token"
            );
        }
    }
    // Tokens: a viewer's token reads but changes nothing.
    let agent_token = app.token("agent").await;
    let admin_token = app.token("admin").await;
    let api_writes = [
        (
            format!("/api/v1/conversations/{conversation}/replies"),
            serde_json::json!({"text": "hola"}),
        ),
        (
            format!("/api/v1/conversations/{conversation}/tags"),
            serde_json::json!({"add": ["refund"]}),
        ),
        (
            format!("/api/v1/conversations/{conversation}/status"),
            serde_json::json!({"status": "open"}),
        ),
        (
            format!("/api/v1/contacts/{contact}/tags"),
            serde_json::json!({"add": ["vip"]}),
        ),
    ];
    for (path, body) in &api_writes {
        let viewer = client()
            .post(app.url(path))
            .bearer_auth(&viewer_token)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(viewer.status(), 403, "viewer token on {path}");
        let agent = client()
            .post(app.url(path))
            .bearer_auth(&agent_token)
            .json(body)
            .send()
            .await
            .unwrap();
        if path.ends_with("/replies") {
            assert_eq!(agent.status(), 409, "the window is closed");
            let body: serde_json::Value = agent.json().await.unwrap();
            assert_eq!(body["error"]["code"], "reply_window_closed");
            assert!(body["error"]["templates"].is_array());
        } else {
            assert!(
                agent.status().is_success(),
                "agent token on {path}: {}",
                agent.status()
            );
        }
    }
    let admin_only = "/api/v1/admin/events";
    assert_eq!(
        client()
            .get(app.url(admin_only))
            .bearer_auth(&agent_token)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        client()
            .get(app.url(admin_only))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.finish().await;
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_and_sessions_end_at_sign_out() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    add_user(&app, "ana@shop.example", "agent").await;
    let wrong = sign_in(&app, "ana@shop.example", "not the password").await;
    assert_eq!(wrong.status(), 401);
    assert!(cookie_value(&wrong, "buzon_session").is_none());
    let unknown = sign_in(&app, "nobody@shop.example", PASSWORD).await;
    assert_eq!(
        unknown.status(),
        401,
        "an unknown email gets the same answer"
    );
    for _ in 0..4 {
        sign_in(&app, "ana@shop.example", "still wrong").await;
    }
    let throttled = sign_in(&app, "ana@shop.example", PASSWORD).await;
    assert_eq!(
        throttled.status(),
        429,
        "the right password is refused while throttled"
    );
    let text = throttled.text().await.unwrap();
    assert!(text.contains("Too many failed attempts"), "{text}");
    // Forms without the pre-login CSRF pair are refused.
    let forged = client()
        .post(app.url("/login"))
        .form(&[
            ("email", "ana@shop.example"),
            ("password", PASSWORD),
            ("_csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    add_user(&app, "bob@shop.example", "agent").await;
    let browser = session(&app, "bob@shop.example").await;
    let out = client()
        .post(app.url("/logout"))
        .header(COOKIE, &browser.cookie)
        .form(&[("_csrf", browser.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = client()
        .get(app.url("/inbox"))
        .header(COOKIE, &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303, "the session ended");
    app.finish().await;
}

#[tokio::test]
async fn the_interface_speaks_spanish_when_asked() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let spanish = client()
        .get(app.url("/login"))
        .header("accept-language", "es-MX,es;q=0.9")
        .send()
        .await
        .unwrap();
    let html = spanish.text().await.unwrap();
    assert!(
        html.contains("Iniciar sesión") && html.contains("lang=\"es\""),
        "{html}"
    );
    let english = client()
        .get(app.url("/login"))
        .header("accept-language", "en-GB")
        .send()
        .await
        .unwrap();
    assert!(english.text().await.unwrap().contains("Sign in"));
    add_user(&app, "ana@shop.example", "agent").await;
    let browser = session(&app, "ana@shop.example").await;
    let switched = client()
        .post(app.url("/lang"))
        .header(COOKIE, &browser.cookie)
        .form(&[("_csrf", browser.csrf.as_str()), ("lang", "es")])
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 303);
    let lang_cookie = cookie_value(&switched, "lang").unwrap();
    let inbox = client()
        .get(app.url("/inbox"))
        .header(COOKIE, format!("{}; lang={lang_cookie}", browser.cookie))
        .send()
        .await
        .unwrap();
    let html = inbox.text().await.unwrap();
    assert!(
        html.contains("Bandeja") && html.contains("Trols y spam"),
        "the switch wins over the browser's language"
    );
    app.finish().await;
}
