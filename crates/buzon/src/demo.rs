//! `buzon serve --demo`: the platform sandbox in-process, one demo channel of each kind
//! connected to it, a steady stream of realistic mentions, and a demo admin.

use crate::config::{Secret, Settings};
use anyhow::Context;
use buzon_app::{Actor, AppError, CredentialCheck, NewChannel, NewUser};
use buzon_core::{ChannelKind, Role};
use buzon_sandbox::{Sandbox, SandboxConfig};
use std::net::SocketAddr;
use std::time::Duration;

/// The demo admin's email.
pub const DEMO_EMAIL: &str = "demo@buzon.example";

/// Starts the sandbox, points `settings` at it, connects the demo channels and makes sure the
/// demo admin exists. Keep the returned sandbox alive while buzon runs.
pub(crate) async fn prepare(
    settings: &mut Settings,
    address: SocketAddr,
) -> anyhow::Result<Sandbox> {
    let config = SandboxConfig {
        webhook_target: Some(format!("http://{address}")),
        mentions_per_minute: 12,
        x_rate_limit_per_window: 300,
        x_rate_limit_window: Duration::from_secs(15 * 60),
        ..SandboxConfig::default()
    };
    let sandbox = buzon_sandbox::start(
        config.clone(),
        "127.0.0.1:0".parse().expect("a valid address"),
    )
    .await
    .context("starting the platform sandbox")?;
    settings.facebook.api_base = sandbox.graph_base();
    settings.whatsapp.api_base = sandbox.graph_base();
    settings.x.api_base = sandbox.x_base();
    settings.meta.app_secret = Some(Secret::new(config.app_secret.clone()));
    settings.x.consumer_secret = Some(Secret::new(config.consumer_secret.clone()));
    // Connecting channels from the admin pages signs in against the sandbox's OAuth servers.
    settings.meta.app_id = Some(config.facebook_app_id.clone());
    settings.facebook.oauth_authorize_url = sandbox.facebook_authorize_url();
    settings.facebook.oauth_token_url = sandbox.facebook_token_url();
    settings.x.client_id = Some(config.x_client_id.clone());
    settings.x.client_secret = Some(Secret::new(config.x_client_secret.clone()));
    settings.x.oauth_authorize_url = sandbox.x_authorize_url();
    settings.x.oauth_token_url = sandbox.x_token_url();
    settings.workers.poll_interval_secs = settings.workers.poll_interval_secs.min(10);

    let (store, app) = crate::cli::open_app(settings).await?;
    let demo = Actor::System("demo");
    for (kind, platform_id, token, name) in [
        (
            ChannelKind::Facebook,
            &config.facebook_page_id,
            &config.facebook_page_token,
            "Demo shop (Facebook)",
        ),
        (
            ChannelKind::Whatsapp,
            &config.whatsapp_phone_number_id,
            &config.whatsapp_token,
            "Demo shop (WhatsApp)",
        ),
        (
            ChannelKind::X,
            &config.x_user_id,
            &config.x_token,
            "Demo shop (X)",
        ),
    ] {
        // A previous demo may have connected it: its token is replaced, the sandbox is new.
        let channel = NewChannel {
            kind,
            platform_id: platform_id.clone(),
            access_token: token.clone(),
            refresh_token: None,
            name: name.to_owned(),
            replace_existing: true,
            via: "demo",
        };
        app.connect_channel(&demo, &channel, CredentialCheck::Skip)
            .await
            .context("connecting a demo channel")?;
    }
    let password = hex::encode(rand::random::<[u8; 9]>());
    let added = app
        .add_user(
            &demo,
            &NewUser {
                email: DEMO_EMAIL,
                name: "Demo admin",
                role: Role::Admin,
                password: &password,
            },
        )
        .await;
    match added {
        Ok(_) => {}
        // A previous demo made it: the demo admin gets a fresh password each run.
        Err(AppError::Conflict { .. }) => {
            let users = app.users(&demo).await?;
            let user = users
                .iter()
                .find(|user| user.email == DEMO_EMAIL)
                .context("the demo admin exists")?;
            app.reset_password(&demo, user.id, &password).await?;
        }
        Err(err) => return Err(err.into()),
    }
    let login = format!("{DEMO_EMAIL} / {password}");
    store.close().await;
    sandbox.generate(6);
    eprintln!(
        "demo: platform sandbox at {} (mentions arrive about every 5 seconds)",
        sandbox.base_url()
    );
    eprintln!("demo: open http://{address}/ and sign in as {login}");
    Ok(sandbox)
}
