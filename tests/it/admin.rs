//! The admin pages end to end: connecting channels with OAuth against the sandbox's
//! authorization servers (consent refused, forged `state`, token refresh), pasted tokens checked
//! before saving, secrets that never leave their ciphertext, users and tokens, the audit and
//! event logs, key rotation, and who may see any of it.

use buzon_sandbox::{Faults, Injection, Sandbox, SandboxConfig, Source};
use buzon_tests::db::Engine;
use buzon_tests::web::{add_user, client, location, Session};
use buzon_tests::{TestApp, TestDatabase};
use reqwest::header::COOKIE;
use std::time::Duration;

const FB_PAGE_TOKEN: &str = "LEAKCHECK-fb-page-token-Kq93xZ";
const WA_TOKEN: &str = "LEAKCHECK-wa-system-token-Pw71";
const META_APP_SECRET: &str = "LEAKCHECK-meta-app-secret-Hj28";
const X_CLIENT_SECRET: &str = "LEAKCHECK-x-client-secret-Vn55";
const ADMIN: &str = "admin@shop.example";

fn leaky_config() -> SandboxConfig {
    SandboxConfig {
        facebook_page_token: FB_PAGE_TOKEN.into(),
        whatsapp_token: WA_TOKEN.into(),
        app_secret: META_APP_SECRET.into(),
        facebook_app_secret: META_APP_SECRET.into(),
        x_client_secret: X_CLIENT_SECRET.into(),
        x_rate_limit_per_window: 1_000,
        ..SandboxConfig::default()
    }
}

/// The sandbox, and buzon pointed at it with Facebook Login and X OAuth configured.
async fn start(engine: Engine, config: SandboxConfig) -> Option<(TestApp, Sandbox)> {
    let db = TestDatabase::of(engine).await?;
    let sandbox = buzon_sandbox::start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the sandbox starts");
    let env: Vec<(String, String)> = vec![
        ("BUZON_FACEBOOK_API_BASE".into(), sandbox.graph_base()),
        ("BUZON_WHATSAPP_API_BASE".into(), sandbox.graph_base()),
        ("BUZON_X_API_BASE".into(), sandbox.x_base()),
        ("BUZON_WORKERS_POLL_INTERVAL_SECS".into(), "1".into()),
        ("BUZON_META_APP_ID".into(), config.facebook_app_id.clone()),
        ("BUZON_META_APP_SECRET".into(), config.app_secret.clone()),
        (
            "BUZON_FACEBOOK_OAUTH_AUTHORIZE_URL".into(),
            sandbox.facebook_authorize_url(),
        ),
        (
            "BUZON_FACEBOOK_OAUTH_TOKEN_URL".into(),
            sandbox.facebook_token_url(),
        ),
        ("BUZON_X_CLIENT_ID".into(), config.x_client_id.clone()),
        (
            "BUZON_X_CLIENT_SECRET".into(),
            config.x_client_secret.clone(),
        ),
        (
            "BUZON_X_OAUTH_AUTHORIZE_URL".into(),
            sandbox.x_authorize_url(),
        ),
        ("BUZON_X_OAUTH_TOKEN_URL".into(), sandbox.x_token_url()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = TestApp::start(db, &env).await;
    sandbox.set_webhook_target(Some(app.base_url.clone()));
    Some((app, sandbox))
}

/// Every answer buzon gave in a test (bodies and redirect targets), to look for secrets in.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    async fn keep(&mut self, response: reqwest::Response) -> (u16, String) {
        let status = response.status().as_u16();
        self.0.push(location(&response));
        let body = response.text().await.unwrap_or_default();
        self.0.push(body.clone());
        (status, body)
    }

    fn containing(&self, needle: &str) -> usize {
        self.0.iter().filter(|text| text.contains(needle)).count()
    }
}

/// Starts a sign-in from the channels page and follows the platform's redirect back: returns
/// buzon's callback path (with `code` and `state`, or an `error`).
async fn consent(app: &TestApp, admin: &Session, platform: &str, seen: &mut Seen) -> String {
    let start = admin
        .post(app, &format!("/admin/oauth/{platform}/start"), &[])
        .await;
    assert_eq!(
        start.status(),
        303,
        "the start sends the admin to the platform"
    );
    let authorize = location(&start);
    seen.keep(start).await;
    let back = client().get(&authorize).send().await.unwrap();
    assert_eq!(
        back.status(),
        302,
        "the platform redirects back: {authorize}"
    );
    let callback = location(&back);
    callback
        .strip_prefix(&app.base_url)
        .unwrap_or_else(|| panic!("the callback is buzon's: {callback}"))
        .to_owned()
}

async fn channel_count(app: &TestApp) -> i64 {
    app.db.scalar("SELECT COUNT(*) FROM channels").await
}

async fn oauth_connects_channels_and_no_secret_leaks(engine: Engine) {
    let Some((app, sandbox)) = start(engine, leaky_config()).await else {
        return;
    };
    add_user(&app, ADMIN, "admin").await;
    let admin = Session::start(&app, ADMIN).await;
    let mut seen = Seen::default();

    // Facebook Login: code → user token → long-lived token → the Page the admin picks.
    let callback = consent(&app, &admin, "facebook", &mut seen).await;
    assert!(
        callback.contains("code=") && callback.contains("state="),
        "{callback}"
    );
    let answer = admin.get(&app, &callback).await;
    assert_eq!(answer.status(), 303);
    let pick = location(&answer);
    assert!(
        pick.starts_with("/admin/oauth/facebook/pages?flow="),
        "{pick}"
    );
    seen.keep(answer).await;
    let (status, page) = seen.keep(admin.get(&app, &pick).await).await;
    assert_eq!(status, 200, "{page}");
    let page_id = &sandbox.config().facebook_page_id;
    assert!(page.contains(&format!("name=\"page_{page_id}\"")), "{page}");
    assert_eq!(
        channel_count(&app).await,
        0,
        "nothing is connected before the pick"
    );
    let flow = pick.split("flow=").nth(1).unwrap().to_owned();
    let picked = admin
        .post(
            &app,
            "/admin/oauth/facebook/pages",
            &[("flow", &flow), (&format!("page_{page_id}"), "on")],
        )
        .await;
    assert_eq!(picked.status(), 303);
    let facebook_page = location(&picked);
    assert!(
        facebook_page.starts_with("/admin/channels/"),
        "{facebook_page}"
    );
    seen.keep(picked).await;
    assert_eq!(channel_count(&app).await, 1);
    // The pick is one-time.
    let again = admin
        .post(
            &app,
            "/admin/oauth/facebook/pages",
            &[("flow", &flow), (&format!("page_{page_id}"), "on")],
        )
        .await;
    assert_eq!(seen.keep(again).await.0, 400);

    // X: Authorization Code with PKCE.
    let callback = consent(&app, &admin, "x", &mut seen).await;
    let answer = admin.get(&app, &callback).await;
    assert_eq!(answer.status(), 303, "the X callback connects the account");
    let x_page = location(&answer);
    assert!(x_page.starts_with("/admin/channels/"), "{x_page}");
    seen.keep(answer).await;
    // A callback is good once: the same state again is refused.
    let replayed = admin.get(&app, &callback).await;
    assert_eq!(seen.keep(replayed).await.0, 403);
    assert_eq!(channel_count(&app).await, 2);

    // WhatsApp: a pasted token is checked against the API before it is saved.
    let wa_id = sandbox.config().whatsapp_phone_number_id.clone();
    let refused = admin
        .post(
            &app,
            "/admin/channels",
            &[
                ("kind", "whatsapp"),
                ("platform_id", &wa_id),
                ("access_token", "not-the-token"),
            ],
        )
        .await;
    let (status, body) = seen.keep(refused).await;
    assert_eq!(status, 400, "a wrong token is refused");
    assert!(body.contains("nothing was saved"), "{body}");
    assert_eq!(channel_count(&app).await, 2);
    let added = admin
        .post(
            &app,
            "/admin/channels",
            &[
                ("kind", "whatsapp"),
                ("platform_id", &wa_id),
                ("access_token", WA_TOKEN),
                ("name", "Ventas"),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let wa_page = location(&added);
    seen.keep(added).await;
    assert_eq!(channel_count(&app).await, 3);

    // The tokens work: the pollers bring a Facebook comment and an X mention in.
    sandbox
        .inject(Injection::new(
            Source::Facebook,
            "¿Tienen talla M? fb-probe",
        ))
        .unwrap();
    sandbox
        .inject(Injection::new(Source::X, "@tiendabuzon hola x-probe"))
        .unwrap();
    let viewer_token = app.token("viewer").await;
    app.eventually(
        Duration::from_secs(30),
        "both probes in the inbox",
        || async {
            let list = app
                .api_get(&viewer_token, "/api/v1/conversations?status=all")
                .await
                .to_string();
            (list.contains("fb-probe") && list.contains("x-probe")).then_some(())
        },
    )
    .await;

    // Health, webhook settings and test connection on each channel page; never a token.
    for path in [&facebook_page, &x_page, &wa_page] {
        let id = path
            .trim_start_matches("/admin/channels/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let test = admin
            .post(&app, &format!("/admin/channels/{id}/test"), &[])
            .await;
        assert_eq!(
            location(&test),
            format!("/admin/channels/{id}?notice=test_ok")
        );
        seen.keep(test).await;
        let (status, body) = seen
            .keep(
                admin
                    .get(&app, &format!("/admin/channels/{id}?notice=test_ok"))
                    .await,
            )
            .await;
        assert_eq!(status, 200);
        assert!(body.contains("/webhooks/"), "the webhook URL is shown");
        assert!(body.contains("data-health=\"healthy\""), "{body}");
    }
    let x_id = x_page
        .trim_start_matches("/admin/channels/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let (_, x_body) = seen
        .keep(admin.get(&app, &format!("/admin/channels/{x_id}")).await)
        .await;
    assert!(
        x_body.contains("renewed automatically"),
        "the X token expiry and refresh are shown"
    );

    // Pause, resume, publish: each audited.
    for (action, fields) in [
        ("pause", vec![]),
        ("resume", vec![]),
        ("publish", vec![("published", "1")]),
    ] {
        let response = admin
            .post(&app, &format!("/admin/channels/{x_id}/{action}"), &fields)
            .await;
        assert_eq!(response.status(), 303, "{action}");
        seen.keep(response).await;
    }
    let published = app
        .db
        .scalar(&format!("SELECT published FROM channels WHERE id = {x_id}"))
        .await;
    assert_eq!(published, 1);

    // Everything else an admin, an API client or anyone could read.
    for path in [
        "/admin",
        "/admin/channels",
        "/admin/users",
        "/admin/tokens",
        "/admin/audit",
        "/admin/events",
        "/inbox",
    ] {
        let (status, _) = seen.keep(admin.get(&app, path).await).await;
        assert_eq!(status, 200, "{path}");
    }
    let admin_token = app.token("admin").await;
    for path in [
        "/api/v1/conversations?status=all",
        "/api/v1/admin/events",
        "/healthz",
        "/metrics",
    ] {
        let response = app
            .http
            .get(app.url(path))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap();
        seen.keep(response).await;
    }
    let (_, audit) = seen
        .keep(admin.get(&app, "/admin/audit?action=channel.").await)
        .await;
    for action in [
        "channel.oauth_start",
        "channel.connect",
        "channel.test",
        "channel.pause",
        "channel.resume",
        "channel.publish",
    ] {
        assert!(audit.contains(action), "{action} is audited");
    }
    assert!(!audit.contains(">login<"), "the action filter applies");

    // The four leak checks.
    let mut secrets: Vec<String> = [FB_PAGE_TOKEN, WA_TOKEN, META_APP_SECRET, X_CLIENT_SECRET]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let issued = sandbox.oauth_issued();
    assert!(
        issued.len() >= 6,
        "codes and tokens were issued: {}",
        issued.len()
    );
    secrets.extend(issued);
    let log = app.log();
    for secret in &secrets {
        assert_eq!(
            app.db.raw_dump_contains(secret).await,
            Vec::<String>::new(),
            "{secret} is stored in clear"
        );
        assert!(!log.contains(secret.as_str()), "{secret} is in the log");
        assert_eq!(seen.containing(secret), 0, "{secret} was in an answer");
    }
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test]
async fn oauth_connects_channels_and_no_secret_leaks_on_sqlite() {
    oauth_connects_channels_and_no_secret_leaks(Engine::Sqlite).await;
}

#[tokio::test]
async fn oauth_connects_channels_and_no_secret_leaks_on_postgres() {
    oauth_connects_channels_and_no_secret_leaks(Engine::Postgres).await;
}

#[tokio::test]
async fn refused_consent_and_a_forged_state_connect_nothing() {
    let (app, sandbox) = start(Engine::Sqlite, leaky_config()).await.unwrap();
    add_user(&app, ADMIN, "admin").await;
    let admin = Session::start(&app, ADMIN).await;
    let mut seen = Seen::default();

    // The user refuses consent on the platform.
    sandbox.set_faults(Faults {
        refuse_consent: true,
        ..Faults::default()
    });
    for platform in ["facebook", "x"] {
        let callback = consent(&app, &admin, platform, &mut seen).await;
        assert!(callback.contains("error=access_denied"), "{callback}");
        let (status, body) = seen.keep(admin.get(&app, &callback).await).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("Consent was refused"), "{body}");
    }
    assert_eq!(channel_count(&app).await, 0);
    sandbox.set_faults(Faults::default());

    // A callback whose state was not issued here is refused, and stores nothing.
    let callback = consent(&app, &admin, "x", &mut seen).await;
    let forged = callback
        .split('&')
        .map(|part| {
            if part.starts_with("state=") || part.contains("?state=") {
                let (head, _) = part.split_once("state=").unwrap();
                format!("{head}state=forged-by-someone-else")
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    assert_ne!(forged, callback);
    let (status, body) = seen.keep(admin.get(&app, &forged).await).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Refused"), "{body}");
    let missing = admin.get(&app, "/admin/oauth/x/callback?code=abc").await;
    assert_eq!(missing.status(), 403);
    assert_eq!(channel_count(&app).await, 0);

    // Another admin cannot complete a sign-in someone else started.
    add_user(&app, "other@shop.example", "admin").await;
    let other = Session::start(&app, "other@shop.example").await;
    let (status, _) = seen.keep(other.get(&app, &callback).await).await;
    assert_eq!(status, 403);
    assert_eq!(channel_count(&app).await, 0);

    let audit = admin
        .get(&app, "/admin/audit?action=channel.oauth")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("channel.oauth_denied") && audit.contains("channel.oauth_refused"));
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test]
async fn x_tokens_are_refreshed_before_they_expire_and_polling_goes_on() {
    let config = SandboxConfig {
        x_token_lifetime: Duration::from_secs(3),
        ..leaky_config()
    };
    let (app, sandbox) = start(Engine::Sqlite, config).await.unwrap();
    // Only polling may bring mentions in, so they prove the refreshed tokens work.
    sandbox.set_webhook_target(None);
    add_user(&app, ADMIN, "admin").await;
    let admin = Session::start(&app, ADMIN).await;
    let mut seen = Seen::default();
    let callback = consent(&app, &admin, "x", &mut seen).await;
    let answer = admin.get(&app, &callback).await;
    assert_eq!(answer.status(), 303);
    let x_id = app
        .db
        .scalar("SELECT id FROM channels WHERE kind = 'x'")
        .await;
    let version_before = app
        .db
        .scalar(&format!(
            "SELECT credentials_version FROM channels WHERE id = {x_id}"
        ))
        .await;

    // Each refresh spends the previous refresh token (they rotate), so a second refresh only
    // works if the first one's new refresh token was stored.
    app.eventually(Duration::from_secs(30), "two refreshes", || async {
        (sandbox.oauth_refreshes() >= 2).then_some(())
    })
    .await;
    let version_after = app
        .db
        .scalar(&format!(
            "SELECT credentials_version FROM channels WHERE id = {x_id}"
        ))
        .await;
    assert!(
        version_after >= version_before + 2,
        "the new tokens were stored"
    );

    // Wait past the first token's lifetime: the poller still works.
    tokio::time::sleep(Duration::from_secs(4)).await;
    sandbox
        .inject(Injection::new(
            Source::X,
            "@tiendabuzon after-refresh-probe",
        ))
        .unwrap();
    let viewer_token = app.token("viewer").await;
    app.eventually(
        Duration::from_secs(30),
        "the mention polled with a refreshed token",
        || async {
            let list = app
                .api_get(&viewer_token, "/api/v1/conversations?status=all")
                .await
                .to_string();
            list.contains("after-refresh-probe").then_some(())
        },
    )
    .await;
    let health =
        buzon_tests::sandbox::channel_health(&app, x_id, &sandbox.config().x_user_id).await;
    assert!(health.starts_with("healthy"), "{health}");

    for secret in sandbox.oauth_issued() {
        assert!(
            app.db.raw_dump_contains(&secret).await.is_empty(),
            "{secret} stored in clear"
        );
        assert!(!app.log().contains(&secret), "{secret} logged");
    }
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test]
async fn a_refresh_the_platform_refuses_marks_the_channel_unhealthy_with_the_reason() {
    let config = SandboxConfig {
        x_token_lifetime: Duration::from_secs(3),
        ..leaky_config()
    };
    let (app, sandbox) = start(Engine::Sqlite, config).await.unwrap();
    sandbox.set_webhook_target(None);
    sandbox.set_faults(Faults {
        refuse_refresh: true,
        ..Faults::default()
    });
    add_user(&app, ADMIN, "admin").await;
    let admin = Session::start(&app, ADMIN).await;
    let mut seen = Seen::default();
    let callback = consent(&app, &admin, "x", &mut seen).await;
    assert_eq!(admin.get(&app, &callback).await.status(), 303);
    let x_id = app
        .db
        .scalar("SELECT id FROM channels WHERE kind = 'x'")
        .await;
    let page = app
        .eventually(
            Duration::from_secs(30),
            "the refusal on the channel page",
            || async {
                let page = admin
                    .get(&app, &format!("/admin/channels/{x_id}"))
                    .await
                    .text()
                    .await
                    .unwrap();
                page.contains("could not be refreshed").then_some(page)
            },
        )
        .await;
    assert!(page.contains("data-health=\"unhealthy\""), "{page}");
    for secret in sandbox.oauth_issued() {
        assert!(!page.contains(&secret));
        assert!(!app.log().contains(&secret), "{secret} logged");
    }
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test]
async fn an_x_token_of_unknown_expiry_that_is_refused_is_refreshed_once() {
    let (app, sandbox) = start(Engine::Sqlite, leaky_config()).await.unwrap();
    sandbox.set_webhook_target(None);
    add_user(&app, ADMIN, "admin").await;
    let admin = Session::start(&app, ADMIN).await;
    let mut seen = Seen::default();
    let callback = consent(&app, &admin, "x", &mut seen).await;
    assert_eq!(admin.get(&app, &callback).await.status(), 303);
    let x_id = app
        .db
        .scalar("SELECT id FROM channels WHERE kind = 'x'")
        .await;
    let refresh = sandbox
        .oauth_issued()
        .into_iter()
        .rfind(|token| token.starts_with("xrt-"))
        .expect("a refresh token was issued");
    // As after `channel set-token` with a stale access token: no known expiry.
    let output = app
        .cli(
            &[
                "channel",
                "set-token",
                // A stale token, on purpose: the poller must meet its 401.
                "--no-check",
                &x_id.to_string(),
                "--access-token",
                "stale-access-token",
                "--refresh-token",
                &refresh,
            ],
            None,
        )
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    app.eventually(
        Duration::from_secs(30),
        "a refresh after the 401",
        || async { (sandbox.oauth_refreshes() == 1).then_some(()) },
    )
    .await;
    sandbox
        .inject(Injection::new(
            Source::X,
            "@tiendabuzon refreshed-after-401",
        ))
        .unwrap();
    let viewer_token = app.token("viewer").await;
    app.eventually(Duration::from_secs(30), "the mention", || async {
        let list = app
            .api_get(&viewer_token, "/api/v1/conversations?status=all")
            .await
            .to_string();
        list.contains("refreshed-after-401").then_some(())
    })
    .await;
    assert_eq!(
        sandbox.oauth_refreshes(),
        1,
        "refreshed once, not on every poll"
    );
    sandbox.shutdown().await;
    app.finish().await;
}

fn user_id_in(page: &str, email: &str) -> String {
    let at = page
        .find(email)
        .unwrap_or_else(|| panic!("{email} is listed"));
    let marker = "id=\"user-";
    let start = page[..at].rfind(marker).expect("the row has an id") + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_deactivated_users_session_and_token_are_refused_on_the_next_request() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    add_user(&app, ADMIN, "admin").await;
    add_user(&app, "agent@shop.example", "agent").await;
    let admin = Session::start(&app, ADMIN).await;
    let agent = Session::start(&app, "agent@shop.example").await;
    let users = admin.get(&app, "/admin/users").await.text().await.unwrap();
    let agent_id = user_id_in(&users, "agent@shop.example");

    // A token for the agent, made on the tokens page and shown once.
    let created = admin
        .post(
            &app,
            "/admin/tokens",
            &[
                ("name", "agent script"),
                ("role", "agent"),
                ("user_id", &agent_id),
            ],
        )
        .await;
    assert_eq!(created.status(), 200);
    let page = created.text().await.unwrap();
    let marker = "<code id=\"new-token\">";
    let start = page.find(marker).expect("the new token is shown once") + marker.len();
    let agent_token = page[start..].split('<').next().unwrap().to_owned();
    assert!(agent_token.starts_with("bzn_"));
    let listed = admin.get(&app, "/admin/tokens").await.text().await.unwrap();
    assert!(
        listed.contains("agent script") && !listed.contains(&agent_token),
        "listed, never shown again"
    );
    let api = |token: String| {
        let app = &app;
        async move {
            app.http
                .get(app.url("/api/v1/conversations"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(api(agent_token.clone()).await, 200);
    assert_eq!(agent.get(&app, "/inbox").await.status(), 200);
    let admin_has_too_much = admin
        .post(
            &app,
            "/admin/tokens",
            &[
                ("name", "too much"),
                ("role", "admin"),
                ("user_id", &agent_id),
            ],
        )
        .await;
    assert_eq!(
        admin_has_too_much.status(),
        400,
        "a token never outranks its user"
    );

    // Deactivate: the very next request of the session and of the token is refused.
    let deactivated = admin
        .post(
            &app,
            &format!("/admin/users/{agent_id}/active"),
            &[("active", "0")],
        )
        .await;
    assert_eq!(deactivated.status(), 303);
    let inbox = agent.get(&app, "/inbox").await;
    assert_eq!(inbox.status(), 303);
    assert_eq!(location(&inbox), "/login");
    assert_eq!(api(agent_token.clone()).await, 401);
    let login =
        buzon_tests::web::sign_in(&app, "agent@shop.example", buzon_tests::web::PASSWORD).await;
    assert_eq!(login.status(), 401, "a deactivated user cannot sign in");

    // Reactivated, with a new password set by the admin: old sessions stay ended.
    admin
        .post(
            &app,
            &format!("/admin/users/{agent_id}/active"),
            &[("active", "1")],
        )
        .await;
    assert_eq!(api(agent_token.clone()).await, 200);
    let again = Session::start(&app, "agent@shop.example").await;
    let reset = admin
        .post(
            &app,
            &format!("/admin/users/{agent_id}/password"),
            &[("password", "another long password")],
        )
        .await;
    assert_eq!(reset.status(), 303);
    assert_eq!(location(&again.get(&app, "/inbox").await), "/login");
    assert_eq!(
        buzon_tests::web::sign_in(&app, "agent@shop.example", "another long password")
            .await
            .status(),
        303
    );

    // Revoking a token refuses it at once.
    let token_id = app
        .db
        .scalar("SELECT id FROM api_tokens WHERE name = 'agent script'")
        .await;
    let revoked = admin
        .post(&app, &format!("/admin/tokens/{token_id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(api(agent_token).await, 401);

    // Role changes apply on the next request; the last admin cannot be demoted.
    admin
        .post(
            &app,
            &format!("/admin/users/{agent_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    let viewer_now = Session::start_with(&app, "agent@shop.example", "another long password").await;
    assert_eq!(
        viewer_now
            .post(&app, "/conversations/1/status", &[("status", "resolved")])
            .await
            .status(),
        403,
        "the new role applies at once"
    );
    let admin_id = user_id_in(&users, ADMIN);
    let demote = admin
        .post(
            &app,
            &format!("/admin/users/{admin_id}/role"),
            &[("role", "agent")],
        )
        .await;
    assert_eq!(demote.status(), 400);
    let add = admin
        .post(
            &app,
            "/admin/users",
            &[
                ("email", "new@shop.example"),
                ("name", "New"),
                ("role", "agent"),
                ("password", "yet another password"),
            ],
        )
        .await;
    assert_eq!(add.status(), 303);
    Session::start_with(&app, "new@shop.example", "yet another password").await;

    let audit = admin
        .get(&app, &format!("/admin/audit?target=user:{agent_id}"))
        .await
        .text()
        .await
        .unwrap();
    for action in [
        "user.deactivate",
        "user.activate",
        "user.password_reset",
        "user.role",
    ] {
        assert!(audit.contains(action), "{action} is audited: {audit}");
    }
    let tokens_audit = admin
        .get(&app, "/admin/audit?action=token.")
        .await
        .text()
        .await
        .unwrap();
    assert!(tokens_audit.contains("token.create") && tokens_audit.contains("token.revoke"));
    let logins = admin
        .get(&app, "/admin/audit?action=login")
        .await
        .text()
        .await
        .unwrap();
    assert!(logins.contains("login"));
    app.finish().await;
}

#[tokio::test]
async fn every_admin_page_is_refused_to_agents_and_viewers_and_sends_strangers_to_login() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    let channel = buzon_tests::sandbox::add_channel(
        &app,
        &[
            "whatsapp",
            // No platform answers this test: the token is saved unchecked.
            "--no-check",
            "--phone-number-id",
            "106540352242922",
            "--access-token",
            "wa-token",
        ],
    )
    .await;
    add_user(&app, ADMIN, "admin").await;
    add_user(&app, "agent@shop.example", "agent").await;
    add_user(&app, "viewer@shop.example", "viewer").await;
    let _ = app.token("viewer").await;
    let pages = [
        "/admin".to_owned(),
        "/admin/channels".to_owned(),
        format!("/admin/channels/{channel}"),
        "/admin/users".to_owned(),
        "/admin/tokens".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/audit?actor=cli&action=user.&since=2020-01-01&until=2099-01-01".to_owned(),
        "/admin/events".to_owned(),
    ];
    let guarded_gets = [
        "/admin/oauth/facebook/pages?flow=nope",
        "/admin/oauth/x/callback?state=nope&code=nope",
    ];
    let actions = [
        "/admin/channels".to_owned(),
        format!("/admin/channels/{channel}/token"),
        format!("/admin/channels/{channel}/test"),
        format!("/admin/channels/{channel}/pause"),
        format!("/admin/channels/{channel}/resume"),
        format!("/admin/channels/{channel}/publish"),
        "/admin/oauth/facebook/start".to_owned(),
        "/admin/oauth/x/start".to_owned(),
        "/admin/oauth/facebook/pages".to_owned(),
        "/admin/users".to_owned(),
        "/admin/users/1/role".to_owned(),
        "/admin/users/1/active".to_owned(),
        "/admin/users/1/password".to_owned(),
        "/admin/tokens".to_owned(),
        "/admin/tokens/1/revoke".to_owned(),
        "/admin/events/1/replay".to_owned(),
    ];

    // Signed out: everything goes to /login.
    for path in pages.iter().map(String::as_str).chain(guarded_gets) {
        let response = client().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "GET {path}");
        assert_eq!(location(&response), "/login", "GET {path}");
    }
    for path in &actions {
        let response = client()
            .post(app.url(path))
            .form(&[("role", "admin"), ("active", "0")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "POST {path}");
        assert_eq!(location(&response), "/login", "POST {path}");
    }

    // Agents and viewers: 403, even with a valid CSRF token.
    for email in ["agent@shop.example", "viewer@shop.example"] {
        let session = Session::start(&app, email).await;
        for path in pages.iter().map(String::as_str).chain(guarded_gets) {
            assert_eq!(
                session.get(&app, path).await.status(),
                403,
                "{email} GET {path}"
            );
        }
        for path in &actions {
            let response = session
                .post(
                    &app,
                    path,
                    &[("role", "admin"), ("active", "0"), ("published", "1")],
                )
                .await;
            assert_eq!(response.status(), 403, "{email} POST {path}");
        }
    }
    // Nothing changed.
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
            .await,
        1
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL")
            .await,
        0
    );

    // Admins see every page; a form without the CSRF token is refused.
    let admin = Session::start(&app, ADMIN).await;
    for path in &pages {
        let response = admin.get(&app, path).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "admin GET {path}: {body}");
        assert!(body.contains("name=\"_csrf\""), "{path} carries CSRF");
    }
    let spanish = client()
        .get(app.url("/admin/channels"))
        .header(COOKIE, format!("{}; lang=es", admin.cookie))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        spanish.contains("Conectar un canal"),
        "the admin pages speak Spanish"
    );
    let no_csrf = client()
        .post(app.url(&format!("/admin/channels/{channel}/pause")))
        .header(COOKIE, &admin.cookie)
        .form(&[("_csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    app.finish().await;
}

#[tokio::test]
async fn the_event_log_page_lists_failures_and_replays_them() {
    let app = TestApp::start(TestDatabase::sqlite(), &[]).await;
    add_user(&app, ADMIN, "admin").await;
    // A signed body that is not what WhatsApp sends: kept, failed, shown.
    let body = br#"{"object":"whatsapp_business_account","entry":"not a list"}"#;
    assert_eq!(
        app.post_signed_webhook("whatsapp", body).await.status(),
        200
    );
    let admin = Session::start(&app, ADMIN).await;
    app.eventually(Duration::from_secs(20), "the failed event", || async {
        let n = app
            .db
            .scalar("SELECT COUNT(*) FROM inbound_events WHERE error IS NOT NULL")
            .await;
        (n > 0).then_some(())
    })
    .await;
    let page = admin.get(&app, "/admin/events").await.text().await.unwrap();
    let marker = "id=\"event-";
    let start = page.find(marker).expect("the failed event is listed") + marker.len();
    let id = page[start..].split('"').next().unwrap().to_owned();
    let replay = admin
        .post(&app, &format!("/admin/events/{id}/replay"), &[])
        .await;
    assert_eq!(replay.status(), 303);
    let audit = admin
        .get(&app, "/admin/audit?action=event.replay")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains(&format!("event:{id}")));
    app.finish().await;
}

#[tokio::test]
async fn rotate_key_re_encrypts_every_credential_and_a_wrong_key_changes_nothing() {
    let (app, sandbox) = start(Engine::Sqlite, leaky_config()).await.unwrap();
    buzon_tests::sandbox::connect_sandbox_channels(&app, sandbox.config()).await;
    let new_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let mut new_env = TestApp::base_env(&app.db);
    new_env.retain(|(key, _)| key != "BUZON_SECURITY_SECRET_KEY");
    new_env.push(("BUZON_SECURITY_SECRET_KEY".into(), new_key.into()));

    // A key that does not open the credentials: refused, nothing written.
    let wrong = buzon_tests::app::run_cli(
        &new_env,
        &app.db.dir,
        &["rotate-key", "--new-key", "-"],
        Some(&format!("{new_key}\n")),
    )
    .await;
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // The real rotation, with the new key on standard input.
    let rotated = app
        .cli(&["rotate-key"], Some(&format!("{new_key}\n")))
        .await;
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("re-encrypted 3"));
    // Now only the new key opens them (the old one is refused), and rotating back works.
    let old_again = app.cli(&["rotate-key", "--new-key", new_key], None).await;
    assert!(
        !old_again.status.success(),
        "the old key no longer opens them"
    );
    let back = buzon_tests::app::run_cli(
        &new_env,
        &app.db.dir,
        &["rotate-key", "--new-key", buzon_tests::app::SECRET_KEY],
        None,
    )
    .await;
    assert!(
        back.status.success(),
        "{}",
        String::from_utf8_lossy(&back.stderr)
    );
    for secret in [FB_PAGE_TOKEN, WA_TOKEN] {
        assert!(app.db.raw_dump_contains(secret).await.is_empty());
    }

    // The running server (on the original key) still opens them.
    add_user(&app, ADMIN, "admin").await;
    let admin = Session::start(&app, ADMIN).await;
    let test = admin.post(&app, "/admin/channels/2/test", &[]).await;
    assert_eq!(location(&test), "/admin/channels/2?notice=test_ok");
    let audit = admin
        .get(&app, "/admin/audit?action=security.")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("security.rotate_key"));
    sandbox.shutdown().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_hide_on_a_flagged_authors_new_comment_is_hidden_on_the_platform() {
    let config = SandboxConfig::default();
    let (app, sandbox) =
        buzon_tests::sandbox::start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    let channels = buzon_tests::sandbox::connect_sandbox_channels(&app, &config).await;
    add_user(&app, ADMIN, "admin").await;
    let admin = Session::start(&app, ADMIN).await;
    let agent = app.token("agent").await;

    // The admin turns the rule on from the channel's page (WhatsApp has no public messages,
    // so its page does not offer it).
    let page = admin
        .get(&app, &format!("/admin/channels/{}", channels.whatsapp))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("/auto-hide"), "{page}");
    let turned_on = admin
        .post(
            &app,
            &format!("/admin/channels/{}/auto-hide", channels.facebook),
            &[("on", "1")],
        )
        .await;
    assert_eq!(turned_on.status(), 303);
    let page = admin
        .get(&app, &location(&turned_on))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(
            "New public messages of authors tagged troll, spam or blocked will be hidden"
        ),
        "{page}"
    );

    // A comment before the author is flagged stays; once they are tagged troll, their next
    // comment is hidden on the platform without anyone touching it.
    let before = sandbox
        .inject(Injection::new(Source::Facebook, "primer comentario").by("7770001", "Troll Uno"))
        .unwrap();
    let message = app
        .eventually(Duration::from_secs(30), "the first comment", || async {
            let list = app
                .api_get(&agent, "/api/v1/conversations?status=all&flagged=include")
                .await;
            list["items"].as_array().and_then(|items| {
                items
                    .iter()
                    .find(|item| item["last_message"].as_str() == Some("primer comentario"))
                    .cloned()
            })
        })
        .await;
    let contact = message["contact"]["id"].as_i64().expect("the author's id");
    let tagged = app
        .http
        .post(app.url(&format!("/api/v1/contacts/{contact}/tags")))
        .bearer_auth(&agent)
        .json(&serde_json::json!({"add": ["troll"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.status(), 200);
    let after = sandbox
        .inject(Injection::new(Source::Facebook, "segundo comentario").by("7770001", "Troll Uno"))
        .unwrap();
    app.eventually(
        Duration::from_secs(30),
        "the hide at the platform",
        || async {
            sandbox
                .replies()
                .iter()
                .any(|reply| reply.action == "hide" && reply.target_id == after.id)
                .then_some(())
        },
    )
    .await;
    assert!(
        !sandbox
            .replies()
            .iter()
            .any(|reply| reply.action == "hide" && reply.target_id == before.id),
        "the comment from before the flag is left alone"
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'system:auto-hide' AND action = 'message.hide'")
            .await,
        1
    );
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'channel.auto_hide'")
            .await,
        1
    );
    sandbox.shutdown().await;
    app.finish().await;
}

/// `buzon rotate-key` while the server runs. With the key in the data folder, the server
/// meets credentials sealed under a key it does not hold, reads the folder again and sends the
/// next reply without a restart. With the key in the configuration, a node that has not been
/// given the new key holds its replies (never failing them) and cannot write a credential
/// under the old key; given the new key, it sends the held reply exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_key_while_the_server_runs_loses_no_reply_and_writes_nothing_under_the_old_key(
) {
    use buzon_tests::sandbox::{connect_sandbox_channels, start_with_sandbox};
    let config = SandboxConfig::default();

    // The key in the data folder.
    let (app, sandbox) = start_with_sandbox(
        TestDatabase::sqlite(),
        config.clone(),
        &[("BUZON_SECURITY_SECRET_KEY", "")],
    )
    .await;
    let key_file = app.db.dir.join("data/secret.key");
    assert!(key_file.exists(), "a generated key file");
    connect_sandbox_channels(&app, &config).await;
    let agent = app.token("agent").await;
    let first = crate::service::inject_and_wait(
        &app,
        &sandbox,
        &agent,
        Injection::new(Source::Whatsapp, "¿Llega mañana?").by("34600111222", "Eva"),
    )
    .await;
    let new_key = "8899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677";
    let rotated = app
        .cli(
            &["rotate-key", "--new-key", "-"],
            Some(&format!("{new_key}\n")),
        )
        .await;
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), new_key);
    assert!(!app.db.dir.join("data/secret.key.new").exists());
    assert_eq!(
        app.db
            .scalar(
                "SELECT COUNT(*) FROM channels c JOIN team_settings s ON s.name = 'credentials_key' \
                 WHERE c.credentials_key = s.value"
            )
            .await,
        3,
        "every credential names the new key, and so do the settings"
    );
    let conversation = first["conversation_id"].as_i64().unwrap();
    let reply = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{conversation}/replies")))
        .bearer_auth(&agent)
        .json(&serde_json::json!({"text": "Sí, mañana antes de las 14:00."}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 202);
    app.eventually(
        Duration::from_secs(30),
        "the reply sent under the rotated key",
        || async {
            (sandbox
                .replies()
                .iter()
                .filter(|sent| sent.text.as_deref() == Some("Sí, mañana antes de las 14:00."))
                .count()
                == 1)
                .then_some(())
        },
    )
    .await;
    sandbox.shutdown().await;
    app.finish().await;

    // The key in the configuration: the server keeps the old one until it is given the new.
    let (mut app, sandbox) = start_with_sandbox(TestDatabase::sqlite(), config.clone(), &[]).await;
    connect_sandbox_channels(&app, &config).await;
    let agent = app.token("agent").await;
    let first = crate::service::inject_and_wait(
        &app,
        &sandbox,
        &agent,
        Injection::new(Source::Whatsapp, "¿Y el pedido?").by("34600333444", "Leo"),
    )
    .await;
    let rotated = app
        .cli(&["rotate-key"], Some(&format!("{new_key}\n")))
        .await;
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(!app.db.dir.join("data/secret.key.new").exists());
    let conversation = first["conversation_id"].as_i64().unwrap();
    let text = "Sale hoy, te paso el seguimiento.";
    let reply = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{conversation}/replies")))
        .bearer_auth(&agent)
        .json(&serde_json::json!({ "text": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 202);
    app.eventually(
        Duration::from_secs(30),
        "the reply held, not failed",
        || async {
            (app.db
                .scalar(
                    "SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND last_error LIKE '%retrying%'",
                )
                .await
                == 1)
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        app.db
            .scalar("SELECT COUNT(*) FROM messages WHERE status = 'failed'")
            .await,
        0
    );
    // A node on the old key cannot put a credential back under it.
    let version_before = app
        .db
        .scalar("SELECT SUM(credentials_version) FROM channels")
        .await;
    let refused = app
        .cli(
            &[
                "channel",
                "set-token",
                "2",
                "--access-token",
                "-",
                "--no-check",
            ],
            Some("EAAnewtoken\n"),
        )
        .await;
    assert!(!refused.status.success(), "the old key writes nothing");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("key"), "{stderr}");
    assert_eq!(
        app.db
            .scalar("SELECT SUM(credentials_version) FROM channels")
            .await,
        version_before
    );
    assert!(sandbox
        .replies()
        .iter()
        .all(|sent| sent.text.as_deref() != Some(text)));
    // Given the new key, the node sends the held reply, once.
    app.terminate(Duration::from_secs(10)).await;
    app.set_env("BUZON_SECURITY_SECRET_KEY", new_key);
    app.spawn_server().await;
    app.eventually(Duration::from_secs(60), "the held reply sent", || async {
        (sandbox
            .replies()
            .iter()
            .filter(|sent| sent.text.as_deref() == Some(text))
            .count()
            == 1)
            .then_some(())
    })
    .await;
    sandbox.shutdown().await;
    app.finish().await;
}
