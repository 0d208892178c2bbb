//! The published API document against the live server: it is OpenAPI 3.1 with a bearer
//! scheme, every operation names its role, its errors and an example of its body; every
//! documented route exists and refuses a caller without a token; the framework's own refusals
//! (a missing content type, a wrong type) answer the API's error shape; the reference page is
//! served in both languages. Then the routes added for a complete API: channels with their
//! health (admins see the detail), and hiding a comment through the API.

use crate::working::call;
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::{TestApp, TestDatabase};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_every_route_and_every_route_exists() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let response = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the document needs no token");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "served as JSON"
    );
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            operations += 1;
            let name = format!("{} {path}", method.to_uppercase());
            let role = operation["security"][0]["token"][0].as_str();
            assert!(
                matches!(role, Some("viewer" | "agent" | "admin")),
                "{name} names the role it needs: {role:?}"
            );
            for status in ["400", "401", "403", "404", "422", "429"] {
                assert_eq!(
                    operation["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{name} documents its {status}"
                );
            }
            assert!(
                operation["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|status| status.starts_with('2')),
                "{name} documents its success"
            );
            if let Some(body) = operation.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"];
                assert!(
                    has_example(&document, schema),
                    "{name}'s body has an example: {schema}"
                );
            }
            // The route exists and refuses a caller without a token (never 404 or 405).
            let url = app.url(
                &path
                    .replace("{id}", "1")
                    .replace("{message}", "1")
                    .replace("{action}", "hide"),
            );
            let answer = app
                .http
                .request(method.to_uppercase().parse::<Method>().unwrap(), url)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 401, "{name} without a token");
            let error: Value = answer.json().await.unwrap();
            assert_eq!(error["error"]["code"], "unauthorized", "{name}");
        }
    }
    assert!(operations >= 58, "{operations} operations documented");

    // The framework's own refusals answer the API's error shape.
    let token = app.token("agent").await;
    let conversations = "/api/v1/conversations/1/notes";
    let no_type = app
        .http
        .post(app.url(conversations))
        .bearer_auth(&token)
        .body("{\"text\": \"hola\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(no_type.status(), 415);
    let error: Value = no_type.json().await.unwrap();
    assert_eq!(error["error"]["code"], "unsupported_media_type");
    let (status, error) = call(
        &app,
        Method::POST,
        &token,
        conversations,
        Some(&json!({"text": 5})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["code"], "unprocessable");
    // An array is not a body, though a struct's fields could be read from one in order.
    let array = app
        .http
        .post(app.url("/api/v1/contacts/1/tags"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("[[\"vip\"], []]")
        .send()
        .await
        .unwrap();
    assert_eq!(array.status(), 422);
    let error: Value = array.json().await.unwrap();
    assert_eq!(error["error"]["message"], "the body must be a JSON object");
    let not_a_number = app
        .http
        .get(app.url("/api/v1/conversations/uno"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_number.status(), 400);
    let error: Value = not_a_number.json().await.unwrap();
    assert_eq!(error["error"]["code"], "bad_request");

    // The reference page, in both languages, made from the same document.
    for (language, title) in [("en", "API reference"), ("es", "Referencia de la API")] {
        let page = app
            .http
            .get(app.url("/api/docs"))
            .header("accept-language", language)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("<h1>{title}</h1>")), "{language}");
        assert!(html.contains("POST /api/v1/conversations/{id}/replies"));
        assert!(html.contains("href=\"/api/v1/openapi.json\""));
        assert!(!html.contains("<script>"), "no inline script");
    }
}

/// Whether a body schema (or the component it names) carries an example.
fn has_example(document: &Value, schema: &Value) -> bool {
    if schema.get("example").is_some() || schema.get("examples").is_some() {
        return true;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return has_example(document, &document["components"]["schemas"][name]);
    }
    // `null` or a document (`Option<HoursDocument>`).
    schema["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|choice| has_example(document, choice))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_and_their_health_and_hiding_a_comment_through_the_api() {
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let viewer = app.token("viewer").await;
    let agent = app.token("agent").await;
    let admin = app.token("admin").await;

    let (status, channels) = call(&app, Method::GET, &viewer, "/api/v1/channels", None).await;
    assert_eq!(status, 200, "{channels}");
    let items = channels["items"].as_array().unwrap();
    let kinds: Vec<&str> = items
        .iter()
        .map(|channel| channel["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{channels}");
    for kind in ["facebook", "whatsapp", "x"] {
        assert!(kinds.contains(&kind), "{kind} in {channels}");
    }
    assert!(
        !channels.to_string().contains("token"),
        "no secret and no word of one: {channels}"
    );
    let facebook = items
        .iter()
        .find(|channel| channel["kind"] == "facebook")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/channels/{facebook}/health");
    let (status, _) = call(&app, Method::GET, &viewer, &path, None).await;
    assert_eq!(status, 403, "the detail is for admins");
    let (status, health) = call(&app, Method::GET, &admin, &path, None).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["credentials"], "set");
    assert_eq!(health["access_token_set"], true);
    assert_eq!(health["unparsed_events"], 0);
    assert!(
        !health
            .to_string()
            .contains(config.facebook_page_token.as_str()),
        "never the token itself"
    );

    // A customer's public comment, hidden by an agent through the API, then shown again.
    let comment = sandbox
        .inject(Injection::new(Source::Facebook, "comentario feo").by("7770002", "Alguien"))
        .unwrap();
    let conversation = app
        .eventually(Duration::from_secs(30), "the comment", || async {
            let list = app.api_get(&agent, "/api/v1/conversations").await;
            list["items"].as_array().and_then(|items| {
                items
                    .iter()
                    .find(|item| item["last_message"] == "comentario feo")
                    .and_then(|item| item["id"].as_i64())
            })
        })
        .await;
    let detail = app
        .api_get(&agent, &format!("/api/v1/conversations/{conversation}"))
        .await;
    let message = detail["messages"][0]["id"].as_i64().unwrap();
    let hide = format!("/api/v1/conversations/{conversation}/messages/{message}/hide");
    let (status, _) = call(&app, Method::POST, &viewer, &hide, None).await;
    assert_eq!(status, 403, "a viewer hides nothing");
    let (status, answer) = call(&app, Method::POST, &agent, &hide, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"id": message, "hidden": true}));
    app.eventually(
        Duration::from_secs(30),
        "the hide at the platform",
        || async {
            sandbox
                .replies()
                .iter()
                .any(|reply| reply.action == "hide" && reply.target_id == comment.id)
                .then_some(())
        },
    )
    .await;
    let unknown = format!("/api/v1/conversations/{conversation}/messages/{message}/delete");
    let (status, error) = call(&app, Method::POST, &agent, &unknown, None).await;
    assert_eq!(status, 404, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_runs_channels_passwords_and_the_audit_log_through_the_api() {
    let config = SandboxConfig::default();
    let (app, _sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let agent = app.token("agent").await;

    // Connect with a pasted token (not checked: it is not the sandbox's), once.
    let body = json!({"kind": "whatsapp", "platform_id": "555000111", "access_token": "EAAtest-pasted", "name": "Segunda línea", "check": false});
    let (status, _) = call(&app, Method::POST, &agent, "/api/v1/channels", Some(&body)).await;
    assert_eq!(status, 403, "agents connect nothing");
    let (status, channel) = call(&app, Method::POST, &admin, "/api/v1/channels", Some(&body)).await;
    assert_eq!(status, 201, "{channel}");
    assert_eq!(channel["name"], "Segunda línea");
    assert!(!channel.to_string().contains("EAAtest-pasted"));
    let (status, error) = call(&app, Method::POST, &admin, "/api/v1/channels", Some(&body)).await;
    assert_eq!(status, 409, "{error}");
    let id = channel["id"].as_i64().unwrap();
    let (status, _) = call(
        &app,
        Method::PUT,
        &admin,
        &format!("/api/v1/channels/{id}/token"),
        Some(&json!({"access_token": "EAAtest-second", "check": false})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        app.db.raw_dump_contains("EAAtest-second").await.is_empty(),
        "sealed at rest"
    );
    for (switch, on) in [
        ("paused", true),
        ("paused", false),
        ("published", true),
        ("auto-hide", true),
    ] {
        let (status, answer) = call(
            &app,
            Method::PUT,
            &admin,
            &format!("/api/v1/channels/{id}/{switch}"),
            Some(&json!({ "on": on })),
        )
        .await;
        assert_eq!((status, answer), (200, json!({ "on": on })), "{switch}");
    }
    let (_, channels) = call(&app, Method::GET, &admin, "/api/v1/channels", None).await;
    let listed = channels["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|channel| channel["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(listed["published"], true);
    // The sandbox's own WhatsApp channel answers the test.
    let whatsapp = channels["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|channel| channel["kind"] == "whatsapp" && channel["id"] != id)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, tested) = call(
        &app,
        Method::POST,
        &admin,
        &format!("/api/v1/channels/{whatsapp}/test"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(tested, json!({"ok": true, "refusal": null}));

    // A password reset: the old one no longer signs in, the new one does.
    let (_, user) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/users",
        Some(&json!({"email": "rosa@shop.example", "name": "Rosa", "role": "agent", "password": "first pass phrase"})),
    )
    .await;
    let user = user["id"].as_i64().unwrap();
    let (status, _) = call(
        &app,
        Method::PUT,
        &admin,
        &format!("/api/v1/users/{user}/password"),
        Some(&json!({"password": "second pass phrase"})),
    )
    .await;
    assert_eq!(status, 204);
    let old = buzon_tests::web::sign_in(&app, "rosa@shop.example", "first pass phrase").await;
    assert_ne!(old.status(), 303, "the old password no longer signs in");
    buzon_tests::web::Session::start_with(&app, "rosa@shop.example", "second pass phrase").await;

    // The audit log in pages: no line twice, none missed, newest first.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = call(
            &app,
            Method::GET,
            &admin,
            &format!("/api/v1/audit?limit=3&cursor={cursor}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        for entry in page["items"].as_array().unwrap() {
            seen.push((entry["at"].as_i64().unwrap(), entry["id"].as_i64().unwrap()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    let all = app.db.scalar("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(seen.len() as i64, all, "every line once");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(sorted, seen, "newest first, no line twice");
    let (status, _) = call(
        &app,
        Method::GET,
        &admin,
        "/api/v1/audit?cursor=nonsense",
        None,
    )
    .await;
    assert_eq!(status, 400);
    // WhatsApp templates from the channel's page: registered, listed, refused in words when
    // malformed, and deleted.
    buzon_tests::web::add_user(&app, "jefa@shop.example", "admin").await;
    let page = buzon_tests::web::Session::start(&app, "jefa@shop.example").await;
    let path = format!("/admin/channels/{whatsapp}/templates");
    let added = page
        .post(
            &app,
            &path,
            &[
                ("name", "pedido_enviado"),
                ("language", "es"),
                ("body", "Hola, tu pedido va en camino."),
            ],
        )
        .await;
    assert_eq!(
        buzon_tests::web::location(&added),
        format!("/admin/channels/{whatsapp}?notice=template_added")
    );
    let shown = page
        .get(&app, &format!("/admin/channels/{whatsapp}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("<code>pedido_enviado</code>"), "{shown}");
    let refused = page
        .post(
            &app,
            &path,
            &[("name", "Mal Nombre"), ("language", "es"), ("body", "x")],
        )
        .await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("lowercase letters"));
    let (_, templates) = call(
        &app,
        Method::GET,
        &agent,
        "/api/v1/whatsapp-templates",
        None,
    )
    .await;
    let template = templates["items"][0]["id"].as_i64().unwrap();
    page.post(&app, &format!("{path}/{template}/delete"), &[])
        .await;
    let (_, templates) = call(
        &app,
        Method::GET,
        &agent,
        "/api/v1/whatsapp-templates",
        None,
    )
    .await;
    assert_eq!(templates["items"], json!([]));

    // The event log in pages: three deliveries with a field buzon does not know, kept as
    // unparsed, listed newest first two by two.
    for n in 1..=3 {
        let body = format!(
            r#"{{"object":"page","entry":[{{"id":"{}","time":{n},"changes":[{{"field":"future_field_{n}","value":{{}}}}]}}]}}"#,
            config.facebook_page_id
        );
        let stored = app.post_signed_webhook("facebook", body.as_bytes()).await;
        assert_eq!(stored.status(), 200);
    }
    // All three kept first (a full page has a cursor whether or not more follow).
    app.eventually(Duration::from_secs(30), "three unparsed events", || async {
        (app.db
            .scalar("SELECT COUNT(*) FROM inbound_events WHERE state = 'unparsed'")
            .await
            == 3)
            .then_some(())
    })
    .await;
    let first = app
        .eventually(Duration::from_secs(30), "the first page of two", || async {
            let (_, page) = call(
                &app,
                Method::GET,
                &admin,
                "/api/v1/admin/events?limit=2",
                None,
            )
            .await;
            (page["items"].as_array().map(Vec::len) == Some(2) && page["next_cursor"].is_string())
                .then_some(page)
        })
        .await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = call(
        &app,
        Method::GET,
        &admin,
        &format!("/api/v1/admin/events?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    let ids: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|event| event["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{second}");
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "{ids:?}");
    assert!(second["next_cursor"].is_null());
    let (status, deliveries) =
        call(&app, Method::GET, &admin, "/api/v1/alert-deliveries", None).await;
    assert_eq!(status, 200);
    assert!(deliveries["items"].is_array());
}
