//! buzon-web: the HTTP face of buzon — health and metrics, the platforms' webhooks, the JSON
//! API and the pages — as thin adapters over the application layer (`buzon-app`).
//!
//! It knows HTTP, templates and translations, and nothing of the store: every read and write
//! is a call to [`buzon_app::App`]. It never calls a platform inside a request (replies go to
//! the outbox). Inside, the plumbing (`http`, `view`, `i18n`) depends on no feature, and the
//! features (`pages`, `api`, `admin`, `reports`, `webhooks`…) depend on the plumbing, never on
//! each other.

#![forbid(unsafe_code)]

mod admin;
mod api;
mod api_admin;
mod api_listening;
mod api_service;
mod api_team;
mod api_working;
mod health;
mod http;
pub use http::AddressList;
pub mod i18n;
mod live;
mod metrics;
mod openapi;
pub use openapi::document as openapi_document;
mod pages;
pub mod reports;
mod view;
mod webhooks;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use buzon_app::App;
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
    /// How often the response-time index is brought up to date and the public figures
    /// recomputed in the background (a minute when zero).
    pub reports_refresh: std::time::Duration,
    /// The address buzon is reached at from outside, for embeddable snippets.
    pub public_url: String,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: http::AddressList,
    /// Clients that may read `/metrics` without a token.
    pub metrics_addresses: http::AddressList,
    /// The longest a request may take, body included (the live event stream excepted): a
    /// slow or stalled client is cut with 408. Zero: 30 seconds.
    pub request_timeout: std::time::Duration,
    /// Requests handled at once (the live event streams excepted); more wait their turn
    /// within their timeout. Zero: 512.
    pub max_concurrent_requests: usize,
}

/// Everything a handler can reach.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    app: App,
    stopping: tokio::sync::watch::Receiver<bool>,
    settings: WebSettings,
    templates: view::Templates,
    reports: reports::PublicFigures,
    /// The requests in flight (see [`WebSettings::max_concurrent_requests`]).
    in_flight: tokio::sync::Semaphore,
}

impl AppState {
    /// The state for a router over `app`; `stopping` turns true when buzon shuts down, which
    /// ends the live event streams.
    pub fn new(
        app: App,
        settings: WebSettings,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> AppState {
        let mut settings = settings;
        if settings.request_timeout.is_zero() {
            settings.request_timeout = std::time::Duration::from_secs(30);
        }
        if settings.max_concurrent_requests == 0 {
            settings.max_concurrent_requests = 512;
        }
        let templates =
            view::Templates::new(&[view::TEMPLATES, admin::TEMPLATES, reports::TEMPLATES]);
        AppState {
            inner: Arc::new(StateInner {
                app,
                stopping,
                in_flight: tokio::sync::Semaphore::new(settings.max_concurrent_requests),
                settings,
                templates,
                reports: reports::PublicFigures::default(),
            }),
        }
    }

    /// The application layer.
    pub fn app(&self) -> &App {
        &self.inner.app
    }

    /// A receiver of the shutdown signal.
    pub(crate) fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.stopping.clone()
    }

    pub(crate) fn templates(&self) -> &view::Templates {
        &self.inner.templates
    }

    pub(crate) fn settings(&self) -> &WebSettings {
        &self.inner.settings
    }

    pub(crate) fn public_figures(&self) -> &reports::PublicFigures {
        &self.inner.reports
    }
}

/// Every route, in one place.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route(
            "/login",
            get(pages::login::show_login).post(pages::login::post_login),
        )
        .route("/logout", post(pages::login::post_logout))
        .route("/lang", post(pages::login::post_lang))
        .route("/inbox", get(pages::inbox::show_inbox))
        .route("/events", get(live::events))
        .route(
            "/incidents",
            get(pages::incidents::show_incidents).post(pages::incidents::post_incident),
        )
        .route(
            "/incidents/from-spike",
            post(pages::incidents::post_from_spike),
        )
        .route("/incidents/{id}/end", post(pages::incidents::post_end))
        .route(
            "/incidents/{id}/bulk-reply",
            post(pages::incidents::post_bulk),
        )
        .route(
            "/conversations/{id}",
            get(pages::conversation::show_conversation),
        )
        .route(
            "/conversations/{id}/reply",
            post(pages::conversation::post_reply),
        )
        .route(
            "/conversations/{id}/template",
            post(pages::conversation::post_template),
        )
        .route(
            "/conversations/{id}/notes",
            post(pages::conversation::post_note),
        )
        .route(
            "/conversations/{id}/status",
            post(pages::conversation::post_status),
        )
        .route(
            "/conversations/{id}/escalate",
            post(pages::conversation::post_escalate),
        )
        .route(
            "/conversations/{id}/promote",
            post(pages::conversation::post_promote),
        )
        .route(
            "/conversations/{id}/dismiss",
            post(pages::conversation::post_dismiss),
        )
        .route(
            "/canned-replies",
            get(pages::canned::show_library).post(pages::canned::post_create),
        )
        .route("/canned-replies/{id}", post(pages::canned::post_update))
        .route(
            "/canned-replies/{id}/delete",
            post(pages::canned::post_delete),
        )
        .route(
            "/conversations/{id}/assign",
            post(pages::conversation::post_assign),
        )
        .route(
            "/conversations/{id}/tags",
            post(pages::conversation::post_conversation_tags),
        )
        .route(
            "/conversations/{id}/link",
            post(pages::conversation::post_link),
        )
        .route(
            "/conversations/{id}/messages/{message}/{action}",
            post(pages::conversation::post_message_action),
        )
        .route(
            "/contacts/{id}/tags",
            post(pages::conversation::post_contact_tags),
        )
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
        .merge(openapi::routes())
        .merge(admin::routes())
        .merge(reports::routes())
        .fallback(http::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::render_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe_request,
        ))
        .layer(axum::middleware::from_fn(api_bodies_are_objects))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            bound_request,
        ))
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
    state.app().metrics().count_request(&route, status);
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request done"
        );
    });
    response
}

/// Every request but the live event stream is bounded: it waits for one of the in-flight
/// places, and the whole of it (waiting, reading the body, answering) must be done within the
/// request timeout, else 408 — a client that stalls its body cannot hold a worker.
async fn bound_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/events" {
        return next.run(request).await;
    }
    let limit = state.settings().request_timeout;
    let bounded = async {
        let _place = state
            .inner
            .in_flight
            .acquire()
            .await
            .expect("the request semaphore is never closed");
        next.run(request).await
    };
    match tokio::time::timeout(limit, bounded).await {
        Ok(response) => response,
        Err(_) => {
            state.app().metrics().count_timeout();
            (
                axum::http::StatusCode::REQUEST_TIMEOUT,
                axum::Json(serde_json::json!({"error": {"code": "request_timeout",
                    "message": "the request took too long"}})),
            )
                .into_response()
        }
    }
}

/// Every JSON body the API takes is an object (or `null` where a setting goes back to its
/// default): an array is refused here, in one place, with the API's error shape — the JSON
/// reader would otherwise take `[…]` for a struct's fields in order.
async fn api_bodies_are_objects(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, webhooks::MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(serde_json::json!({"error": {"code": "too_large",
                    "message": "the body is over 1 MiB"}})),
            )
                .into_response()
        }
    };
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[') {
        return (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({"error": {"code": "unprocessable",
                "message": "the body must be a JSON object"}})),
        )
            .into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The modules of this crate and the modules each may use: the plumbing uses no feature,
    /// features use the plumbing and never each other. Every module may use the crate root's
    /// `AppState`, the composition root that assembles them.
    const ALLOWED: &[(&str, &[&str])] = &[
        ("i18n", &[]),
        ("view", &["i18n"]),
        ("http", &["i18n", "view"]),
        ("pages", &["http", "i18n", "view"]),
        ("api", &["http", "i18n", "view"]),
        ("admin", &["http", "i18n", "view"]),
        ("reports", &["http", "i18n", "view"]),
        ("webhooks", &["http", "i18n", "view"]),
        ("health", &["http", "i18n", "view"]),
        ("metrics", &["http", "i18n", "view"]),
        ("live", &["http", "i18n", "view"]),
    ];

    /// Every `crate::<module>` a module's source files name.
    fn uses(module: &str) -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let folder = root.join(module);
        if folder.is_dir() {
            let mut stack = vec![folder];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).expect("src is readable") {
                    let path = entry.expect("an entry").path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|ext| ext == "rs") {
                        files.push(path);
                    }
                }
            }
        } else {
            files.push(root.join(format!("{module}.rs")));
        }
        let mut used = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a source file is readable");
            for (index, _) in text.match_indices("crate::") {
                let rest = &text[index + 7..];
                // `crate::{http, view::Page}` names several modules at once.
                let paths: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group[..group.find('}').unwrap_or(group.len())]
                        .split(',')
                        .collect(),
                    None => vec![rest],
                };
                for path in paths {
                    let name: String = path
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    let is_module = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
                    if is_module && name != module {
                        used.insert(name);
                    }
                }
            }
        }
        used
    }

    #[test]
    fn the_plumbing_uses_no_feature_and_no_feature_uses_another() {
        for (module, allowed) in ALLOWED {
            for used in uses(module) {
                assert!(
                    allowed.contains(&used.as_str()),
                    "{module} uses crate::{used}, which would make a circle of imports"
                );
            }
        }
    }
}
