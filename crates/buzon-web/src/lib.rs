//! buzon-web: the HTTP face of buzon — health and metrics, the platforms' webhooks, the JSON
//! API and the pages.
//!
//! It knows HTTP and templates. It depends on the `Connector` trait, never on a concrete
//! connector, and never calls a platform inside a request: replies go to the outbox.

#![forbid(unsafe_code)]

pub mod admin;
mod api;
mod auth;
mod error;
mod health;
pub mod i18n;
mod live;
mod metrics;
mod pages;
mod render;
pub mod reports;
mod webhooks;

pub use error::AppError;
pub use metrics::Metrics;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use buzon_connector::Connector;
use buzon_core::ChannelKind;
use buzon_store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Settings the web layer needs, given by the binary.
#[derive(Clone, Default)]
pub struct WebSettings {
    /// Meta's verify token for the webhook handshake.
    pub meta_verify_token: Option<String>,
    /// Whether a Meta app secret is configured (webhooks are refused with 503 until it is).
    pub meta_configured: bool,
    /// X's consumer secret, for the CRC answer.
    pub x_consumer_secret: Option<String>,
    /// Whether cookies carry `Secure` (buzon is served over https).
    pub secure_cookies: bool,
    /// The business hours response times are also measured in (always open when unset).
    pub business_calendar: Option<buzon_core::metrics::BusinessCalendar>,
    /// How often the public figures and the default report are recomputed (a minute when zero).
    pub reports_refresh: std::time::Duration,
    /// The address buzon is reached at from outside, for embeddable snippets.
    pub public_url: String,
    /// Facebook Login, for connecting Pages (None: Page tokens are pasted).
    pub facebook_oauth: Option<buzon_connector::OAuthApp>,
    /// X's OAuth 2.0 with PKCE, for connecting accounts (None: tokens are pasted).
    pub x_oauth: Option<buzon_connector::OAuthApp>,
}

/// Everything a handler can reach.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<AppInner>,
}

struct AppInner {
    store: Store,
    metrics: Metrics,
    connectors: HashMap<ChannelKind, Arc<dyn Connector>>,
    settings: WebSettings,
    wake_workers: Arc<tokio::sync::Notify>,
    templates: render::Templates,
    live: std::sync::OnceLock<tokio::sync::watch::Receiver<String>>,
    reports: reports::ReportsState,
}

impl AppState {
    /// The state for a router over `store`, with the given connectors.
    pub fn new(
        store: Store,
        metrics: Metrics,
        connectors: HashMap<ChannelKind, Arc<dyn Connector>>,
        settings: WebSettings,
        wake_workers: Arc<tokio::sync::Notify>,
    ) -> AppState {
        let reports = reports::ReportsState::new(
            settings
                .business_calendar
                .clone()
                .unwrap_or_else(buzon_core::metrics::BusinessCalendar::always_open),
        );
        AppState {
            inner: Arc::new(AppInner {
                store,
                metrics,
                connectors,
                settings,
                wake_workers,
                templates: render::Templates::new(),
                live: std::sync::OnceLock::new(),
                reports,
            }),
        }
    }

    pub(crate) fn templates(&self) -> &render::Templates {
        &self.inner.templates
    }

    /// The live activity feed, started on first use.
    pub(crate) fn live(&self) -> tokio::sync::watch::Receiver<String> {
        self.inner
            .live
            .get_or_init(|| live::spawn_watcher(self.clone()))
            .clone()
    }

    pub(crate) fn reports(&self) -> &reports::ReportsState {
        &self.inner.reports
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn connector(&self, kind: ChannelKind) -> Option<&Arc<dyn Connector>> {
        self.inner.connectors.get(&kind)
    }

    pub(crate) fn settings(&self) -> &WebSettings {
        &self.inner.settings
    }

    pub(crate) fn wake_workers(&self) {
        self.inner.wake_workers.notify_waiters();
    }
}

/// Every route, in one place.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::show_login).post(pages::post_login))
        .route("/logout", post(pages::post_logout))
        .route("/lang", post(pages::post_lang))
        .route("/inbox", get(pages::show_inbox))
        .route("/events", get(live::events))
        .route("/conversations/{id}", get(pages::show_conversation))
        .route("/conversations/{id}/reply", post(pages::post_reply))
        .route("/conversations/{id}/template", post(pages::post_template))
        .route("/conversations/{id}/notes", post(pages::post_note))
        .route("/conversations/{id}/status", post(pages::post_status))
        .route("/conversations/{id}/assign", post(pages::post_assign))
        .route(
            "/conversations/{id}/tags",
            post(pages::post_conversation_tags),
        )
        .route("/conversations/{id}/link", post(pages::post_link))
        .route(
            "/conversations/{id}/messages/{message}/{action}",
            post(pages::post_moderation),
        )
        .route("/contacts/{id}/tags", post(pages::post_contact_tags))
        .route("/static/{name}", get(pages::static_file))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::show_metrics))
        .route(
            "/webhooks/facebook",
            get(webhooks::verify_meta).post(webhooks::receive_facebook),
        )
        .route(
            "/webhooks/whatsapp",
            get(webhooks::verify_meta).post(webhooks::receive_whatsapp),
        )
        .route(
            "/webhooks/x",
            get(webhooks::crc_x).post(webhooks::receive_x),
        )
        .route("/api/v1/conversations", get(api::list_conversations))
        .route("/api/v1/conversations/{id}", get(api::show_conversation))
        .route("/api/v1/conversations/{id}/replies", post(api::post_reply))
        .route(
            "/api/v1/conversations/{id}/tags",
            post(api::post_conversation_tags),
        )
        .route("/api/v1/conversations/{id}/status", post(api::post_status))
        .route("/api/v1/contacts/{id}/tags", post(api::post_contact_tags))
        .route("/api/v1/admin/events", get(api::list_failed_events))
        .route("/api/v1/admin/events/{id}/replay", post(api::replay_event))
        .merge(admin::routes())
        .merge(reports::routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe_request,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(
            webhooks::MAX_BODY_BYTES,
        ))
        .with_state(state)
}

/// One span per request, named by its route template (never the raw URI, which may carry
/// tokens), and a request counter per route and status.
async fn observe_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!("request", %method, route = %route);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    state.metrics().count_request(&route, status);
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request done"
        );
    });
    response
}

/// Headers that make hostile content inert even if something slipped through escaping: no
/// inline or foreign scripts, no framing, no MIME sniffing.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "same-origin");
    response
}
