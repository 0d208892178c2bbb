//! The platforms for end-to-end tests: buzon-sandbox in-process on loopback, and the real
//! `buzon` started against it with one channel of each kind connected.

use crate::app::TestApp;
use crate::db::TestDatabase;
pub use buzon_sandbox::{
    Faults, GeneratedItem, Injection, Platform, RecordedReply, Sandbox, SandboxConfig, Source,
};
use std::net::SocketAddr;

/// The ids `buzon channel add` gave the sandbox's three accounts.
#[derive(Debug, Clone, Copy)]
pub struct SandboxChannels {
    /// The Facebook Page (feed comments and Messenger).
    pub facebook: i64,
    /// The WhatsApp business number.
    pub whatsapp: i64,
    /// The X account (mentions and DMs).
    pub x: i64,
}

/// Starts the sandbox on `127.0.0.1:0` with `config`, then `buzon serve` on `db` with its
/// platform base URLs pointed at the sandbox, polling every second, and the sandbox's webhooks
/// aimed at it. No channel is connected yet: see [`connect_sandbox_channels`].
pub async fn start_with_sandbox(
    db: TestDatabase,
    config: SandboxConfig,
    extra_env: &[(&str, &str)],
) -> (TestApp, Sandbox) {
    let loopback: SocketAddr = "127.0.0.1:0".parse().expect("a socket address");
    let sandbox = buzon_sandbox::start(config, loopback)
        .await
        .expect("the sandbox starts on loopback");
    let app = start_node(db, &sandbox, extra_env).await;
    sandbox.set_webhook_target(Some(app.base_url.clone()));
    (app, sandbox)
}

/// Starts one more `buzon serve` on `db` against `sandbox`, as [`start_with_sandbox`] does,
/// without moving the sandbox's webhooks to it: a second node of the same installation when
/// `db` is the same PostgreSQL database.
pub async fn start_node(
    db: TestDatabase,
    sandbox: &Sandbox,
    extra_env: &[(&str, &str)],
) -> TestApp {
    let graph_base = sandbox.graph_base();
    let x_base = sandbox.x_base();
    let mut env: Vec<(&str, &str)> = vec![
        ("BUZON_FACEBOOK_API_BASE", &graph_base),
        ("BUZON_WHATSAPP_API_BASE", &graph_base),
        ("BUZON_X_API_BASE", &x_base),
        ("BUZON_WORKERS_POLL_INTERVAL_SECS", "1"),
    ];
    env.extend_from_slice(extra_env);
    TestApp::start(db, &env).await
}

/// Connects the sandbox's Facebook Page, WhatsApp number and X account with `buzon channel
/// add`, using the ids and tokens the sandbox was configured with.
pub async fn connect_sandbox_channels(app: &TestApp, config: &SandboxConfig) -> SandboxChannels {
    let facebook = add_channel(
        app,
        &[
            "facebook",
            "--page-id",
            &config.facebook_page_id,
            "--page-token",
            &config.facebook_page_token,
            "--name",
            "Sandbox Page",
        ],
    )
    .await;
    let whatsapp = add_channel(
        app,
        &[
            "whatsapp",
            "--phone-number-id",
            &config.whatsapp_phone_number_id,
            "--access-token",
            &config.whatsapp_token,
            "--name",
            "Sandbox WhatsApp",
        ],
    )
    .await;
    let x = add_channel(
        app,
        &[
            "x",
            "--user-id",
            &config.x_user_id,
            "--access-token",
            &config.x_token,
            "--name",
            "Sandbox X",
        ],
    )
    .await;
    SandboxChannels {
        facebook,
        whatsapp,
        x,
    }
}

/// Runs `buzon channel add ARGS…` and returns the new channel's id (from `channel N added`).
pub async fn add_channel(app: &TestApp, args: &[&str]) -> i64 {
    let mut full = vec!["channel", "add"];
    full.extend_from_slice(args);
    let output = app.cli(&full, None).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "channel add {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|line| {
            line.strip_prefix("channel ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("`channel add` names the new channel's id: {stdout}"))
}

/// The health column of `buzon channel list` for channel `id` (e.g. `healthy` or
/// `unhealthy (access token expired or revoked: …)`).
pub async fn channel_health(app: &TestApp, id: i64, platform_id: &str) -> String {
    let output = app.cli(&["channel", "list"], None).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "channel list failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some(id.to_string().as_str()))
        .and_then(|line| line.split_once(platform_id))
        .map(|(_, health)| health.trim().to_owned())
        .unwrap_or_else(|| panic!("channel {id} ({platform_id}) is listed: {stdout}"))
}

/// How many of the sandbox's recorded replies with `text` it accepted (reached the platform).
pub fn accepted_replies(sandbox: &Sandbox, text: &str) -> usize {
    sandbox
        .replies()
        .into_iter()
        .filter(|reply| reply.accepted && reply.text.as_deref() == Some(text))
        .count()
}

/// After crashes or a lost node: waits until each of `replies` (an agent's replies in
/// `conversation`) is `sent` or `unknown`, none having reached the platform twice; settles each
/// `unknown` one as the agent would from what the platform shows ("it arrived" when it did,
/// else "send again"); then waits until each is `sent` and reached the platform exactly once.
pub async fn settle_replies(
    app: &TestApp,
    sandbox: &Sandbox,
    agent: &str,
    conversation: i64,
    replies: &[String],
    wait: std::time::Duration,
) {
    let outbound = |detail: serde_json::Value| -> Vec<serde_json::Value> {
        detail["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|message| message["direction"] == "outbound")
            .cloned()
            .collect()
    };
    let detail_path = format!("/api/v1/conversations/{conversation}");
    let settled = app
        .eventually(wait, "every reply sent or unknown", || async {
            let outbound = outbound(app.api_get(agent, &detail_path).await);
            (outbound.len() == replies.len()
                && outbound
                    .iter()
                    .all(|message| message["status"] == "sent" || message["status"] == "unknown"))
            .then_some(outbound)
        })
        .await;
    for message in &settled {
        let text = message["text"].as_str().expect("a reply has its text");
        assert!(
            accepted_replies(sandbox, text) <= 1,
            "{text:?} reached the platform at most once"
        );
        if message["status"] == "unknown" {
            let action = if accepted_replies(sandbox, text) == 1 {
                "arrived"
            } else {
                "send-again"
            };
            let response = app
                .http
                .post(app.url(&format!(
                    "{detail_path}/messages/{}/{action}",
                    message["id"]
                )))
                .bearer_auth(agent)
                .send()
                .await
                .expect("buzon answers");
            assert_eq!(response.status(), 200, "{action} on {text:?}");
        }
    }
    for text in replies {
        app.eventually(wait, &format!("{text:?} sent"), || async {
            let sent = outbound(app.api_get(agent, &detail_path).await)
                .iter()
                .any(|message| message["text"] == text.as_str() && message["status"] == "sent");
            (sent && accepted_replies(sandbox, text) == 1).then_some(())
        })
        .await;
        assert_eq!(
            accepted_replies(sandbox, text),
            1,
            "{text:?} reached the platform exactly once"
        );
    }
}
