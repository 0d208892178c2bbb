//! The team's API: an admin adds a user and a token that acts for them; with it, a note and an
//! assignment to "me"; a viewer may do neither; users and tokens are listed without secrets;
//! a revoked token and a deactivated user's token stop working at once.

use crate::working::call;
use buzon_tests::sandbox::{
    connect_sandbox_channels, start_with_sandbox, Injection, SandboxConfig, Source,
};
use buzon_tests::TestDatabase;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_assignment_users_and_tokens_through_the_api() {
    let config = SandboxConfig::default();
    let (app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let admin = app.token("admin").await;
    let viewer = app.token("viewer").await;
    let (status, user) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/users",
        Some(&json!({"email": "luis@shop.example", "name": "Luis", "role": "agent", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let luis = user["id"].as_i64().unwrap();
    let (status, _) = call(
        &app,
        Method::POST,
        &viewer,
        "/api/v1/users",
        Some(&json!({"email": "x@shop.example", "role": "admin", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, token) = call(
        &app,
        Method::POST,
        &admin,
        "/api/v1/tokens",
        Some(&json!({"name": "Luis's CRM", "role": "agent", "user_id": luis})),
    )
    .await;
    assert_eq!(status, 201, "{token}");
    let secret = token["secret"].as_str().unwrap().to_owned();
    let (_, tokens) = call(&app, Method::GET, &admin, "/api/v1/tokens", None).await;
    assert!(
        !tokens.to_string().contains(&secret),
        "secrets are never listed"
    );

    let message = crate::service::inject_and_wait(
        &app,
        &sandbox,
        &secret,
        Injection::new(Source::Whatsapp, "¿Tenéis envío a Canarias?").by("34611222333", "Sara"),
    )
    .await;
    let conversation = message["conversation_id"].as_i64().unwrap();
    let notes = format!("/api/v1/conversations/{conversation}/notes");
    let (status, _) = call(
        &app,
        Method::POST,
        &viewer,
        &notes,
        Some(&json!({"text": "no"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        Method::POST,
        &secret,
        &notes,
        Some(&json!({"text": "Pedir el código postal"})),
    )
    .await;
    assert_eq!(status, 201);
    let (_, listed) = call(&app, Method::GET, &viewer, &notes, None).await;
    assert_eq!(listed["items"][0]["text"], "Pedir el código postal");
    assert_eq!(listed["items"][0]["author"], "Luis");
    let (status, assigned) = call(
        &app,
        Method::POST,
        &secret,
        &format!("/api/v1/conversations/{conversation}/assign"),
        Some(&json!({"assignee": "me"})),
    )
    .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["assignee_id"], luis);
    let (status, _) = call(
        &app,
        Method::POST,
        &secret,
        &format!("/api/v1/conversations/{conversation}/assign"),
        Some(&json!({"assignee": 999_999})),
    )
    .await;
    assert_eq!(status, 400, "an unknown assignee");

    // Deactivated: the user's token stops at once; reactivated, it works again; revoked, never.
    let (status, _) = call(
        &app,
        Method::PUT,
        &admin,
        &format!("/api/v1/users/{luis}"),
        Some(&json!({"active": false})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, Method::GET, &secret, "/api/v1/conversations", None).await;
    assert_eq!(status, 401);
    call(
        &app,
        Method::PUT,
        &admin,
        &format!("/api/v1/users/{luis}"),
        Some(&json!({"active": true})),
    )
    .await;
    let (status, _) = call(&app, Method::GET, &secret, "/api/v1/conversations", None).await;
    assert_eq!(status, 200);
    let token_id = token["id"].as_i64().unwrap();
    let (status, _) = call(
        &app,
        Method::DELETE,
        &admin,
        &format!("/api/v1/tokens/{token_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, Method::GET, &secret, "/api/v1/conversations", None).await;
    assert_eq!(status, 401);
    assert!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('conversation.note', 'conversation.assign', 'token.revoke')")
            .await
            >= 3
    );
    sandbox.shutdown().await;
    app.finish().await;
}
