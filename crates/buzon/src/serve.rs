//! `buzon serve`: the web server and the workers in one process, stopped gracefully.

use crate::cli::open_store;
use crate::config::Settings;
use crate::workers::{Connectors, WorkerConfig, Workers};
use anyhow::Context;
use buzon_connector::HttpClient;
use buzon_web::{AppState, Metrics, WebSettings};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Binds the configured address and runs until SIGTERM or Ctrl-C; with `demo`, first starts
/// the platform sandbox in-process and points buzon at it.
pub(crate) async fn serve_from_cli(mut settings: Settings, demo: bool) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&settings.server.bind)
        .await
        .with_context(|| format!("binding {}", settings.server.bind))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let _sandbox = if demo {
        Some(crate::demo::prepare(&mut settings, address).await?)
    } else {
        None
    };
    tracing::info!(%address, "buzon is listening");
    eprintln!("buzon is listening on http://{address}");
    run(settings, listener, shutdown_signal()).await
}

/// Runs buzon on a bound listener until `shutdown` completes, then finishes in-flight
/// requests (for at most `server.shutdown_timeout_secs`), stops the workers and releases
/// this node's leases. Tests call this exactly as production does.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = open_store(&settings, true).await?;
    store.migrate().await.context("applying migrations")?;
    let node_id = format!("node-{}-{:08x}", std::process::id(), rand::random::<u32>());
    let metrics = Metrics::default();
    let wake_workers = Arc::new(tokio::sync::Notify::new());
    let web_settings = WebSettings {
        meta_verify_token: settings
            .meta
            .verify_token
            .as_ref()
            .map(|s| s.expose().to_owned()),
        meta_configured: settings.meta.app_secret.is_some(),
        x_consumer_secret: settings
            .x
            .consumer_secret
            .as_ref()
            .map(|s| s.expose().to_owned()),
        secure_cookies: settings.server.public_url.starts_with("https://"),
        business_calendar: Some(settings.hours.calendar()?),
        reports_refresh: Duration::from_secs(settings.reports.refresh_secs),
        public_url: settings.server.public_url.clone(),
        facebook_oauth: settings.facebook_oauth(),
        x_oauth: settings.x_oauth(),
    };
    let connectors = connectors(&settings);
    let state = AppState::new(
        store.clone(),
        metrics.clone(),
        connectors.clone(),
        web_settings,
        wake_workers.clone(),
    );
    // Keeps the public response-time figures and the default report computed ahead.
    buzon_web::reports::spawn_refresh(state.clone());
    let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
    let workers = settings.workers.enabled.then(|| {
        let config = WorkerConfig {
            node_id: node_id.clone(),
            poll_interval: Duration::from_secs(settings.workers.poll_interval_secs),
            lease: Duration::from_secs(settings.workers.lease_secs),
            send_give_up: Duration::from_secs(settings.workers.send_give_up_secs),
            x_oauth: settings.x_oauth(),
        };
        let workers = Workers::new(store.clone(), connectors, metrics, config, wake_workers);
        tokio::spawn(workers.run(workers_stopped))
    });
    let app = buzon_web::router(state).into_make_service_with_connect_info::<SocketAddr>();

    let stopping = Arc::new(tokio::sync::Notify::new());
    let signal = {
        let stopping = stopping.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            stopping.notify_waiters();
        }
    };
    let drain_limit = Duration::from_secs(settings.server.shutdown_timeout_secs);
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let drained = {
        let stopping = stopping.clone();
        async move {
            stopping.notified().await;
            tokio::time::sleep(drain_limit).await;
        }
    };
    tokio::select! {
        result = server => result.context("serving HTTP")?,
        () = drained => tracing::warn!("shutdown: in-flight requests did not finish in time"),
    }
    let _ = stop_workers.send(true);
    if let Some(workers) = workers {
        if tokio::time::timeout(drain_limit, workers).await.is_err() {
            tracing::warn!("shutdown: workers did not stop in time");
        }
    }
    if let Err(err) = store.release_leases(&node_id).await {
        tracing::warn!(error = %err, "shutdown: could not release leases; they expire by themselves");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// `buzon sandbox`: the platform sandbox alone, until Ctrl-C.
pub(crate) async fn run_sandbox(bind: &str) -> anyhow::Result<()> {
    let address: SocketAddr = bind
        .parse()
        .with_context(|| format!("--bind {bind} is not an address with a port"))?;
    let config = buzon_sandbox::SandboxConfig::default();
    eprintln!(
        "sandbox on http://{address}: graph base http://{address}/graph/v21.0, x base http://{address}/x; control under /sandbox"
    );
    buzon_sandbox::run_forever(config, address)
        .await
        .with_context(|| format!("running the sandbox on {address}"))
}

/// The three platform connectors, pointed at the configured API bases.
pub(crate) fn connectors(settings: &Settings) -> Connectors {
    let timeout = Duration::from_secs(20);
    let client = HttpClient::new(timeout);
    let app_secret = settings
        .meta
        .app_secret
        .as_ref()
        .map(|secret| secret.expose().to_owned());
    let mut connectors: Connectors = Connectors::new();
    connectors.insert(
        buzon_core::ChannelKind::Facebook,
        Arc::new(buzon_facebook::FacebookConnector::new(
            buzon_facebook::FacebookSettings {
                api_base: settings.facebook.api_base.clone(),
                app_secret: app_secret.clone(),
                request_timeout: timeout,
            },
            client.clone(),
        )),
    );
    connectors.insert(
        buzon_core::ChannelKind::Whatsapp,
        Arc::new(buzon_whatsapp::WhatsappConnector::new(
            buzon_whatsapp::WhatsappSettings {
                api_base: settings.whatsapp.api_base.clone(),
                app_secret,
                request_timeout: timeout,
            },
            client.clone(),
        )),
    );
    connectors.insert(
        buzon_core::ChannelKind::X,
        Arc::new(buzon_x::XConnector::new(
            buzon_x::XSettings {
                api_base: settings.x.api_base.clone(),
                consumer_secret: settings
                    .x
                    .consumer_secret
                    .as_ref()
                    .map(|secret| secret.expose().to_owned()),
                request_timeout: timeout,
            },
            client,
        )),
    );
    connectors
}
