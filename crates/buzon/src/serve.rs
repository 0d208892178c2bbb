//! `buzon serve`: the web server and the background work in one process, stopped gracefully.

use crate::cli::open_store;
use crate::config::Settings;
use crate::supervisor::Supervisor;
use crate::workers::{Connectors, WorkerConfig, Workers};
use anyhow::Context;
use buzon_app::{App, AppSettings};
use buzon_connector::HttpClient;
use buzon_web::{AppState, WebSettings};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Binds the configured address (port 0 picks a free one) and runs until SIGTERM or Ctrl-C;
/// with `demo`, first starts the platform sandbox in-process and points buzon at it. The
/// first line on standard error names the address, for whoever started it.
pub(crate) async fn serve_from_cli(mut settings: Settings, demo: bool) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&settings.server.bind)
        .await
        .with_context(|| format!("binding {}", settings.server.bind))?;
    let address = listener.local_addr().context("reading the bound address")?;
    settings.server.resolve_public_url(address);
    let _sandbox = if demo {
        Some(crate::demo::prepare(&mut settings, address).await?)
    } else {
        None
    };
    tracing::info!(%address, "buzon is listening");
    eprintln!("buzon is listening on http://{address}");
    run(settings, listener, shutdown_signal()).await
}

/// Runs buzon on a bound listener until `shutdown` completes, then stops the background work,
/// finishes in-flight requests, and releases this node's leases — all within
/// `server.shutdown_timeout_secs` of the signal. Tests call this exactly as production does.
pub async fn run(
    mut settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    settings
        .server
        .resolve_public_url(listener.local_addr().context("reading the bound address")?);
    let store = open_store(&settings, true).await?;
    store.migrate().await.context("applying migrations")?;
    let node_id = format!("node-{}-{:08x}", std::process::id(), rand::random::<u32>());
    let connectors = connectors(&settings);
    let app = App::new(
        store.clone(),
        connectors.clone(),
        AppSettings {
            business_calendar: Some(settings.hours.calendar()?),
            facebook_oauth: settings.facebook_oauth(),
            x_oauth: settings.x_oauth(),
            clock: crate::config::clock_from_env(),
            allow_private_urls: settings.alerts.allow_private_urls,
        },
    );
    let mut supervisor = Supervisor::new();
    let state = AppState::new(
        app.clone(),
        WebSettings {
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
            reports_refresh: Duration::from_secs(settings.reports.refresh_secs),
            public_url: settings.server.public_url.clone(),
            trusted_proxies: buzon_web::AddressList::parse(
                &settings.server.trusted_proxies.items(),
            )
            .map_err(|err| anyhow::anyhow!("server.trusted_proxies: {err}"))?,
            metrics_addresses: buzon_web::AddressList::parse(
                &settings.server.metrics_addresses.items(),
            )
            .map_err(|err| anyhow::anyhow!("server.metrics_addresses: {err}"))?,
            request_timeout: Duration::from_secs(settings.server.request_timeout_secs.max(1)),
            max_concurrent_requests: settings.server.max_concurrent_requests,
        },
        supervisor.stop_signal(),
    );
    supervisor.spawn(
        "webhook writer",
        app.clone().run_intake(supervisor.stop_signal()),
    );
    supervisor.spawn(
        "live updates",
        app.clone().watch_activity(supervisor.stop_signal()),
    );
    supervisor.spawn(
        "report refresh",
        buzon_web::reports::refresh_loop(state.clone(), supervisor.stop_signal()),
    );
    if settings.workers.enabled {
        let workers = Workers::new(
            store.clone(),
            app.clone(),
            connectors,
            WorkerConfig {
                node_id: node_id.clone(),
                poll_interval: Duration::from_secs(settings.workers.poll_interval_secs),
                lease: Duration::from_secs(settings.workers.lease_secs),
                send_give_up: Duration::from_secs(settings.workers.send_give_up_secs),
                retention: settings.retention.retention(),
                key_aliases: settings.key_aliases()?,
            },
        );
        let normalizers = match settings.workers.normalizers {
            0 => match store.engine() {
                buzon_store::Engine::Sqlite => 1,
                buzon_store::Engine::Postgres => 2,
            },
            chosen => chosen.min(4) as usize,
        };
        for name in ["normalizer", "normalizer 2", "normalizer 3", "normalizer 4"]
            .into_iter()
            .take(normalizers)
        {
            supervisor.spawn(
                name,
                workers.clone().run_normalizer(supervisor.stop_signal()),
            );
        }
        supervisor.spawn(
            "dispatcher",
            workers.clone().run_dispatcher(supervisor.stop_signal()),
        );
        supervisor.spawn(
            "pollers",
            workers.clone().run_pollers(supervisor.stop_signal()),
        );
        supervisor.spawn("rules", workers.clone().run_rules(supervisor.stop_signal()));
        supervisor.spawn(
            "alerts",
            crate::alerts::AlertSender::new(
                store.clone(),
                app.clone(),
                &settings.alerts,
                &settings.server.public_url,
                &node_id,
                Duration::from_secs(settings.workers.lease_secs),
            )
            .run(supervisor.stop_signal()),
        );
        supervisor.spawn(
            "events out",
            crate::events_out::EventSender::new(
                store.clone(),
                app.clone(),
                &node_id,
                Duration::from_secs(settings.workers.lease_secs),
                Duration::from_secs(settings.workers.event_retry_secs),
                settings.alerts.allow_private_urls,
            )
            .run(supervisor.stop_signal()),
        );
        supervisor.spawn(
            "profiles",
            workers.clone().run_profiles(supervisor.stop_signal()),
        );
        supervisor.spawn("pruner", workers.run_pruner(supervisor.stop_signal()));
    }
    let router = buzon_web::router(state);
    let header_timeout = Duration::from_secs(settings.server.header_read_timeout_secs.max(1));

    // On the signal, the background work is told to stop at once (live event streams end with
    // it), the server stops accepting and finishes what is in flight, and everything — the
    // requests, the background tasks, releasing leases and closing the database — must be done
    // by one deadline, `server.shutdown_timeout_secs` after the signal. The last part of that
    // time is kept for what follows the requests.
    let supervisor = Arc::new(tokio::sync::Mutex::new(Some(supervisor)));
    let (deadline_sender, mut deadline) = tokio::sync::watch::channel(None);
    let limit = Duration::from_secs(settings.server.shutdown_timeout_secs);
    let reserve = (limit / 4).min(Duration::from_secs(2));
    let signal = {
        let supervisor = supervisor.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: stopping background work, finishing in-flight requests");
            let _ = deadline_sender.send(Some(tokio::time::Instant::now() + limit));
            if let Some(supervisor) = supervisor.lock().await.as_ref() {
                supervisor.signal_stop();
            }
        }
    };
    let server = serve_http(listener, router, signal, header_timeout);
    let requests_done_by = async {
        let at = loop {
            if let Some(at) = *deadline.borrow_and_update() {
                break at;
            }
            if deadline.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::time::sleep_until(at - reserve).await;
    };
    tokio::select! {
        result = server => result.context("serving HTTP")?,
        () = requests_done_by => tracing::warn!("shutdown: in-flight requests did not finish in time"),
    }
    let deadline = deadline
        .borrow()
        .unwrap_or_else(|| tokio::time::Instant::now() + limit);
    let left = |before: Duration| {
        (deadline - before)
            .saturating_duration_since(tokio::time::Instant::now())
            .max(Duration::from_millis(50))
    };
    if let Some(supervisor) = supervisor.lock().await.take() {
        let stopped = supervisor.shutdown(left(reserve / 2)).await;
        tracing::info!(
            finished = stopped.finished,
            aborted = stopped.aborted.len(),
            "background tasks: {} finished, {} aborted",
            stopped.finished,
            stopped.aborted.len()
        );
    }
    // Releasing leases and closing the pool are bounded too: a database that does not answer
    // (often why the node is being stopped) must not hold the process.
    match tokio::time::timeout(left(reserve / 4), store.release_leases(&node_id)).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "shutdown: could not release leases; they expire by themselves")
        }
        Err(_) => {
            tracing::warn!("shutdown: the database did not answer; leases expire by themselves")
        }
    }
    if tokio::time::timeout(left(Duration::ZERO), store.close())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: database connections did not close in time");
    }
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
    let timeout = Duration::from_secs(settings.workers.platform_timeout_secs);
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
                oauth: settings.x_oauth(),
            },
            client,
        )),
    );
    connectors
}

/// Serves `router` on `listener` until `signal`, then stops accepting and lets every connection
/// finish what it is doing (as `axum::serve` with a graceful shutdown), with two additions: each
/// request carries the peer's address (`ConnectInfo`), and a client must send its request
/// headers within `header_timeout` — a slow client cannot hold a connection open by trickling
/// them (the request timeout covers the body and the answer).
async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    signal: impl Future<Output = ()>,
    header_timeout: Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let (open_sender, mut open) = tokio::sync::mpsc::channel::<()>(1);
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a moment, go on.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(router.clone(), request)
            },
        );
        let mut stop = stop.clone();
        let still_open = open_sender.clone();
        tokio::spawn(async move {
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::trace!(error = %err, "connection ended");
                    }
                    drop(still_open);
                    return;
                }
                _ = stop.changed() => {}
            }
            connection.as_mut().graceful_shutdown();
            if let Err(err) = connection.await {
                tracing::trace!(error = %err, "connection ended");
            }
            drop(still_open);
        });
    }
    drop(listener);
    let _ = stop_sender.send(true);
    drop(open_sender);
    // Every connection holds a sender: none left, all are done.
    let _ = open.recv().await;
    Ok(())
}
