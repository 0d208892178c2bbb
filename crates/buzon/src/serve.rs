//! `buzon serve`: the web server and the workers in one process, stopped gracefully.

use crate::cli::open_store;
use crate::config::Settings;
use anyhow::Context;
use buzon_web::{AppState, Metrics, WebSettings};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Binds the configured address and runs until SIGTERM or Ctrl-C.
pub(crate) async fn serve_from_cli(settings: Settings, demo: bool) -> anyhow::Result<()> {
    if demo {
        anyhow::bail!("--demo needs the platform sandbox, which this build does not include yet");
    }
    let listener = TcpListener::bind(&settings.server.bind)
        .await
        .with_context(|| format!("binding {}", settings.server.bind))?;
    let address = listener.local_addr().context("reading the bound address")?;
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
    };
    let state = AppState::new(
        store.clone(),
        metrics,
        HashMap::new(),
        web_settings,
        wake_workers,
    );
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

/// `buzon sandbox`.
pub(crate) async fn run_sandbox(_bind: &str) -> anyhow::Result<()> {
    anyhow::bail!("the platform sandbox is not part of this build yet")
}
