//! buzon-sandbox: a local stand-in of the Facebook Graph API (Pages and Messenger), the
//! WhatsApp Business Cloud API and the X API v2, faithful enough that the connectors cannot
//! tell: the same paths, JSON, headers, signatures, pagination, rate-limit headers and error
//! bodies as the published APIs (see `shared/PLATFORMS.md` and `shared/fixtures`). It
//! generates mentions at a chosen rate, delivers signed webhooks to buzon, records every
//! reply it receives and injects faults on demand. Tests, `buzon serve --demo`, `buzon
//! sandbox` and the benchmarks use it.
//!
//! It must not depend on the store, the web crate or the connector crates' parsing: it speaks
//! only the platforms' wire formats (it borrows `hmac_sha256` from buzon-connector).
//!
//! Routes (`{v}` is any Graph version, e.g. `v21.0`):
//! - Graph (Facebook and WhatsApp, token by `Authorization: Bearer` or `access_token`):
//!   `GET|POST|DELETE /graph/{v}/{id}` (objects: Page, post, comment, PSID profile, phone
//!   number, media; POST `is_hidden`/`message` on a comment; DELETE a comment),
//!   `GET /graph/{v}/{id}/feed` (also `/posts`, `/published_posts`),
//!   `GET|POST /graph/{v}/{id}/comments` (also on posts and comments that tag the Page and
//!   on reviews: the Page's replies), `POST /graph/{v}/{id}/messages` (Messenger for the
//!   Page id or `me`, WhatsApp for the phone number id), `GET /whatsapp-media/{id}`.
//! - Graph listening: `GET /graph/{v}/{page-id}/tagged` (posts elsewhere that tag the Page,
//!   newest first, cursor paging) and `GET /graph/{v}/{page-id}/ratings` (reviews:
//!   `created_time`, `recommendation_type`, `review_text`, `reviewer`, `open_graph_story`);
//!   tagged posts and comments and reviews are also objects (`GET /graph/{v}/{id}`), and
//!   removed ones answer Graph's missing-object error (code 100, subcode 33).
//! - X (`Authorization: Bearer`): `GET /x/2/users/me`, `GET /x/2/users/{id}/mentions`,
//!   `GET /x/2/users/{id}/tweets`, `GET /x/2/tweets/{id}`,
//!   `GET /x/2/tweets/search/recent` (X's query language: keywords, `"phrases"`, `#tags`,
//!   `@users`, `OR`, parentheses, `-` negation, `is:retweet`, `is:reply`, `lang:`, `from:`;
//!   the last seven days; `next_token` paging, 10 to 100 results; its own rate limit,
//!   [`SandboxConfig::x_search_rate_limit_per_window`]), `GET /x/2/dm_events`,
//!   `GET /x/2/dm_conversations/with/{id}/dm_events`, `POST /x/2/tweets`,
//!   `PUT /x/2/tweets/{id}/hidden`, `POST /x/2/dm_conversations/with/{id}/messages`.
//! - OAuth (see the `oauth` module): `GET /facebook/dialog/oauth`,
//!   `GET|POST /graph/{v}/oauth/access_token`, `GET /graph/{v}/me/accounts`,
//!   `GET /x/i/oauth2/authorize`, `POST /x/2/oauth2/token`.
//! - Control (JSON): `GET /`, `POST /sandbox/mentions`, `POST /sandbox/generate`,
//!   `POST /sandbox/burst`, `GET /sandbox/generated`, `GET /sandbox/replies`,
//!   `POST /sandbox/items/{id}/edit` (`{"text":…}`) and `POST /sandbox/items/{id}/remove`
//!   (a customer edits or deletes a Facebook mention, review or feed comment),
//!   `GET|POST /sandbox/faults`, `GET /sandbox/stats`, `POST /sandbox/webhook-target`.
//!
//! Surfaces ([`Source`]): Page feed comments, Messenger, WhatsApp, X mentions and DMs, and the
//! listening ones: Facebook mentions (`mention` webhooks without text: clients fetch the
//! object), Page reviews (`ratings` webhooks) and X posts that name the brand without tagging
//! the account (no webhook: only recent search finds them; some are retweets). An injection's
//! `repeat` delivers its webhook several times (or none, to leave a gap for polling).
//!
//! Webhooks go to `{target}/webhooks/facebook|whatsapp|x`: Meta bodies escaped like Meta's
//! (`\uXXXX`, `\/`) and signed with `X-Hub-Signature-256`; X bodies signed with
//! `x-twitter-webhooks-signature` after a CRC challenge. Failed deliveries are retried at once,
//! then after 0.5, 2, 5 and 15 seconds. The sandbox echoes the account's own writes as
//! platforms do (the Page's comment replies in `feed` webhooks, the X account's own posts and
//! DMs in Account Activity), so connectors must skip their own items.

#![forbid(unsafe_code)]

mod clock;
mod content;
mod control;
mod graph;
mod mail;
mod model;
mod oauth;
mod search;
mod webhooks;
mod world;
mod x;

pub use content::{Category, Language};
pub use mail::MailSink;
pub use model::{Faults, GeneratedItem, Injection, Platform, RecordedReply, Source, Stats};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use rand::Rng;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use webhooks::Delivery;
use world::World;

/// Who the sandbox pretends to be, where it sends webhooks and how busy it is.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The Facebook Page's id.
    pub facebook_page_id: String,
    /// The Page access token clients must present.
    pub facebook_page_token: String,
    /// The WhatsApp business phone number id.
    pub whatsapp_phone_number_id: String,
    /// The WhatsApp (system user) access token clients must present.
    pub whatsapp_token: String,
    /// The X account's user id.
    pub x_user_id: String,
    /// The X user access token clients must present.
    pub x_token: String,
    /// The Meta app secret that signs Facebook and WhatsApp webhooks.
    pub app_secret: String,
    /// The X consumer secret that signs Account Activity webhooks.
    pub consumer_secret: String,
    /// buzon's base URL; webhooks go to `{target}/webhooks/facebook|whatsapp|x`. None sends
    /// no webhooks.
    pub webhook_target: Option<String>,
    /// Items generated per minute in the background (0: none).
    pub mentions_per_minute: u32,
    /// Requests allowed per X endpoint per window.
    pub x_rate_limit_per_window: u32,
    /// Requests allowed to recent search (`GET /2/tweets/search/recent`) per window, which
    /// X limits on its own (Basic: 60 per 15 minutes, app and user alike).
    pub x_search_rate_limit_per_window: u32,
    /// The X rate-limit window.
    pub x_rate_limit_window: Duration,
    /// The seed of everything random the sandbox makes.
    pub seed: u64,
    /// The Facebook app's id (OAuth `client_id` of Facebook Login).
    pub facebook_app_id: String,
    /// The Facebook app's secret (OAuth `client_secret`); the same app signs webhooks, so it is
    /// normally `app_secret`.
    pub facebook_app_secret: String,
    /// The X app's OAuth 2.0 client id.
    pub x_client_id: String,
    /// The X app's OAuth 2.0 client secret.
    pub x_client_secret: String,
    /// How long the X access tokens issued by OAuth live (X: two hours).
    pub x_token_lifetime: Duration,
}

impl Default for SandboxConfig {
    fn default() -> SandboxConfig {
        SandboxConfig {
            facebook_page_id: "104857601234567".to_string(),
            facebook_page_token: "sandbox-facebook-page-token".to_string(),
            whatsapp_phone_number_id: "106540352242922".to_string(),
            whatsapp_token: "sandbox-whatsapp-token".to_string(),
            x_user_id: "1590040035624407041".to_string(),
            x_token: "sandbox-x-token".to_string(),
            app_secret: "test-app-secret".to_string(),
            consumer_secret: "test-consumer-secret".to_string(),
            webhook_target: None,
            mentions_per_minute: 0,
            x_rate_limit_per_window: 15,
            x_search_rate_limit_per_window: 60,
            x_rate_limit_window: Duration::from_secs(15 * 60),
            seed: 42,
            facebook_app_id: "sandbox-facebook-app".to_string(),
            facebook_app_secret: "test-app-secret".to_string(),
            x_client_id: "sandbox-x-client".to_string(),
            x_client_secret: "sandbox-x-client-secret".to_string(),
            x_token_lifetime: Duration::from_secs(7200),
        }
    }
}

/// A running sandbox. Dropping it stops it; [`Sandbox::shutdown`] stops it gracefully.
pub struct Sandbox {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts the sandbox on `bind` (use port 0 for any free port) with its background tasks.
pub async fn start(config: SandboxConfig, bind: SocketAddr) -> std::io::Result<Sandbox> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let mut local = listener.local_addr()?;
    if local.ip().is_unspecified() {
        local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let (outbox, queue) = mpsc::unbounded_channel();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(std::io::Error::other)?;
    let shared = Arc::new(Shared {
        world: Mutex::new(World::new(&config)),
        base_url: format!("http://{local}"),
        faults: Mutex::new(Faults::default()),
        counters: Mutex::new(Stats::default()),
        webhook_target: Mutex::new(config.webhook_target.clone()),
        outbox,
        pending: AtomicU64::new(0),
        http,
        x_crc_valid_until: Mutex::new(None),
        oauth: Mutex::new(oauth::OAuthWorld::default()),
        burst_counter: AtomicU64::new(0),
        config,
    });
    let router = router(Arc::clone(&shared));
    let (shutdown, shutdown_signal) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = shutdown_signal.await;
        });
        if let Err(err) = serve.await {
            tracing::error!(error = %err, "sandbox server stopped");
        }
    });
    let mut tasks = vec![tokio::spawn(webhooks::run_delivery(
        Arc::clone(&shared),
        queue,
    ))];
    if shared.config.mentions_per_minute > 0 {
        let generator = Arc::clone(&shared);
        tasks.push(tokio::spawn(async move {
            let period =
                Duration::from_secs_f64(60.0 / f64::from(generator.config.mentions_per_minute));
            let mut ticker = tokio::time::interval(period);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                generator.generate(1);
            }
        }));
    }
    Ok(Sandbox {
        shared,
        shutdown: Some(shutdown),
        server: Some(server),
        tasks,
    })
}

/// Runs the sandbox until Ctrl-C, printing where it listens (the `buzon sandbox` command).
pub async fn run_forever(config: SandboxConfig, bind: SocketAddr) -> std::io::Result<()> {
    let sandbox = start(config, bind).await?;
    println!("buzon sandbox listening on {}", sandbox.base_url());
    println!("  Graph (Facebook, WhatsApp): {}", sandbox.graph_base());
    println!("  X:                          {}", sandbox.x_base());
    println!(
        "  control:                    {}/sandbox/stats",
        sandbox.base_url()
    );
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

impl Sandbox {
    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The Graph API base for Facebook and WhatsApp, like `https://graph.facebook.com/v21.0`.
    pub fn graph_base(&self) -> String {
        format!("{}/graph/v21.0", self.shared.base_url)
    }

    /// The X API base, like `https://api.x.com` (clients append `/2/...`).
    pub fn x_base(&self) -> String {
        format!("{}/x", self.shared.base_url)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// Creates one specific item now, delivered and visible like generated ones.
    pub fn inject(&self, injection: Injection) -> Result<GeneratedItem, String> {
        self.shared.inject(&injection)
    }

    /// Changes the text of a Facebook mention, review or feed comment a customer wrote, as
    /// if they had edited it, and sends the platform's webhook (`mention`/`ratings` verb
    /// `edit`, `feed` verb `edited`). Returns where the item is.
    pub fn edit_item(&self, id: &str, text: &str) -> Result<Source, String> {
        self.shared.edit_item(id, text, 1)
    }

    /// Removes a Facebook mention, review or feed comment a customer wrote and sends the
    /// webhook with verb `remove`; the object then answers Graph's missing-object error.
    pub fn remove_item(&self, id: &str) -> Result<Source, String> {
        self.shared.remove_item(id, 1)
    }

    /// Generates `count` realistic items now.
    pub fn generate(&self, count: usize) -> Vec<GeneratedItem> {
        self.shared.generate(count)
    }

    /// `count` posts naming the brand on X (no tag, no webhook) written over the `span`
    /// before now, oldest first, for recent search to find.
    pub fn backfill_x_posts(&self, count: usize, span: Duration) -> Vec<GeneratedItem> {
        self.shared
            .world()
            .backfill_x_posts(count, span.as_millis() as i64)
    }

    /// A burst of `count` customers writing about the same outage now.
    pub fn burst(&self, count: usize) -> Vec<GeneratedItem> {
        self.shared.burst(count)
    }

    /// Every item created so far, oldest first.
    pub fn generated(&self) -> Vec<GeneratedItem> {
        self.shared.world().generated.clone()
    }

    /// The OAuth sign-in URL of Facebook Login (`https://www.facebook.com/v21.0/dialog/oauth`).
    pub fn facebook_authorize_url(&self) -> String {
        format!("{}/facebook/v21.0/dialog/oauth", self.shared.base_url)
    }

    /// The Facebook token URL (`https://graph.facebook.com/v21.0/oauth/access_token`).
    pub fn facebook_token_url(&self) -> String {
        format!("{}/oauth/access_token", self.graph_base())
    }

    /// X's OAuth 2.0 authorize URL (`https://x.com/i/oauth2/authorize`).
    pub fn x_authorize_url(&self) -> String {
        format!("{}/x/i/oauth2/authorize", self.shared.base_url)
    }

    /// X's OAuth 2.0 token URL (`https://api.x.com/2/oauth2/token`).
    pub fn x_token_url(&self) -> String {
        format!("{}/x/2/oauth2/token", self.shared.base_url)
    }

    /// Every OAuth code and token issued so far (for tests that look for leaks).
    pub fn oauth_issued(&self) -> Vec<String> {
        self.shared.oauth().issued.clone()
    }

    /// How many refresh-token grants were served.
    pub fn oauth_refreshes(&self) -> u64 {
        self.shared.oauth().refreshes
    }

    /// The webhook fields the Page subscribed the app to (`POST /{page-id}/subscribed_apps`).
    pub fn subscribed_fields(&self) -> Vec<String> {
        self.shared.world().subscribed_fields.clone()
    }

    /// Every write received so far, oldest first.
    pub fn replies(&self) -> Vec<RecordedReply> {
        self.shared.world().replies.clone()
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        *self
            .shared
            .faults
            .lock()
            .expect("the faults lock is not poisoned") = faults;
    }

    /// Where webhooks go from now on (None: nowhere).
    pub fn set_webhook_target(&self, target: Option<String>) {
        *self
            .shared
            .webhook_target
            .lock()
            .expect("the webhook target lock is not poisoned") = target;
        self.shared.forget_crc();
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Waits until every queued, scheduled or retried webhook was delivered or given up, or
    /// `timeout` passed; true when nothing is pending.
    pub async fn settle_webhooks(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.shared.pending.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the server and the background tasks.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        for task in self.tasks.drain(..) {
            task.abort();
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// State shared by the handlers and the background tasks.
pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub base_url: String,
    world: Mutex<World>,
    faults: Mutex<Faults>,
    counters: Mutex<Stats>,
    webhook_target: Mutex<Option<String>>,
    outbox: mpsc::UnboundedSender<Delivery>,
    pending: AtomicU64,
    http: reqwest::Client,
    x_crc_valid_until: Mutex<Option<Instant>>,
    oauth: Mutex<oauth::OAuthWorld>,
    /// How many burst customers were made so far (each burst writes from new authors).
    burst_counter: AtomicU64,
}

impl Shared {
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().expect("the world lock is not poisoned")
    }

    pub(crate) fn oauth(&self) -> MutexGuard<'_, oauth::OAuthWorld> {
        self.oauth.lock().expect("the oauth lock is not poisoned")
    }

    /// Whether `token` opens the X API: the configured token or a live one issued by OAuth.
    pub(crate) fn x_token_valid(&self, token: &str) -> bool {
        token == self.config.x_token || self.oauth().x_token_live(token)
    }

    pub(crate) fn faults(&self) -> Faults {
        self.faults
            .lock()
            .expect("the faults lock is not poisoned")
            .clone()
    }

    pub(crate) fn counters(&self) -> MutexGuard<'_, Stats> {
        self.counters
            .lock()
            .expect("the counters lock is not poisoned")
    }

    pub(crate) fn stats(&self) -> Stats {
        let (violations, generated, replies) = {
            let world = self.world();
            (
                world.rate_limit_violations,
                world.generated.len(),
                world.replies.len(),
            )
        };
        let mut stats = self.counters().clone();
        stats.rate_limit_violations = violations;
        stats.generated = generated as u64;
        stats.replies = replies as u64;
        stats.webhooks_pending = self.pending.load(Ordering::SeqCst);
        stats
    }

    pub(crate) fn inject(self: &Arc<Self>, injection: &Injection) -> Result<GeneratedItem, String> {
        let (item, outgoing) = self.world().inject(injection)?;
        self.dispatch(repeated(outgoing, injection.repeat.unwrap_or(1)));
        Ok(item)
    }

    /// See [`Sandbox::edit_item`]; the webhook goes out `repeat` times.
    pub(crate) fn edit_item(
        self: &Arc<Self>,
        id: &str,
        text: &str,
        repeat: u32,
    ) -> Result<Source, String> {
        let (source, outgoing) = self.world().edit_item(id, text)?;
        self.dispatch(repeated(outgoing, repeat));
        Ok(source)
    }

    /// See [`Sandbox::remove_item`]; the webhook goes out `repeat` times.
    pub(crate) fn remove_item(self: &Arc<Self>, id: &str, repeat: u32) -> Result<Source, String> {
        let (source, outgoing) = self.world().remove_item(id)?;
        self.dispatch(repeated(outgoing, repeat));
        Ok(source)
    }

    /// A burst of `count` customers writing about the same outage, in private messages and
    /// mentions, each from a new author: what spike detection must catch.
    pub(crate) fn burst(self: &Arc<Self>, count: usize) -> Vec<GeneratedItem> {
        const TEXTS: [&str; 8] = [
            "¿Está caída la web? No puedo pagar mi pedido",
            "La web no funciona, me da error al pagar",
            "Hola, la web está caída desde hace un rato",
            "No carga la web, ¿qué pasa?",
            "Is your website down? I can't check out",
            "La web no va, ¿la vais a arreglar?",
            "Error 500 en la web al intentar pagar",
            "Your website is down again, the checkout fails",
        ];
        const SOURCES: [Source; 4] = [Source::Whatsapp, Source::Messenger, Source::XDm, Source::X];
        let first = self
            .burst_counter
            .fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
        (0..count)
            .filter_map(|index| {
                let n = first + index as u64;
                let mut injection = Injection::new(
                    SOURCES[n as usize % SOURCES.len()],
                    TEXTS[n as usize % TEXTS.len()],
                );
                let id = format!("{}", 88_000_000 + n);
                let author_id = match injection.platform {
                    Source::Whatsapp => format!("3461{id}"),
                    Source::Messenger => format!("9{id}"),
                    _ => format!("77{id}"),
                };
                injection.author_id = Some(author_id);
                injection.author_name = Some(format!("Cliente {}", n + 1));
                self.inject(&injection).ok()
            })
            .collect()
    }

    pub(crate) fn generate(self: &Arc<Self>, count: usize) -> Vec<GeneratedItem> {
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            let (item, outgoing) = self.world().generate();
            self.dispatch(outgoing);
            items.push(item);
        }
        items
    }
}

/// The most times one webhook is repeated on request.
const MAX_REPEAT: u32 = 100;

/// Each webhook `times` times (0: none), for tests of duplicate deliveries and of gaps.
fn repeated(outgoing: Vec<webhooks::Outgoing>, times: u32) -> Vec<webhooks::Outgoing> {
    let times = times.min(MAX_REPEAT) as usize;
    outgoing
        .into_iter()
        .flat_map(|item| std::iter::repeat_n(item, times))
        .collect()
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(graph::routes())
        .merge(x::routes())
        .merge(oauth::routes())
        .merge(control::routes())
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            count_requests,
        ))
        .with_state(shared)
}

/// The routes that send something to a customer (a reply, comment, DM or tweet).
const SEND_ROUTES: &[&str] = &[
    "/graph/{version}/{id}/messages",
    "/graph/{version}/{id}/comments",
    "/x/2/tweets",
    "/x/2/dm_conversations/with/{id}/messages",
];

/// The faults that strike after a send took effect: a 500 in the platform's own format, or no
/// answer at all (the request hangs until the client gives up). `None`: answered as usual.
async fn after_accepted_send(shared: &Arc<Shared>, route: &str) -> Option<Response> {
    let faults = shared.faults();
    if faults.accepted_then_500 <= 0.0 && faults.accepted_then_silent <= 0.0 {
        return None;
    }
    let (fail, silent) = {
        let mut world = shared.world();
        let fail = world
            .fault_rng
            .gen_bool(faults.accepted_then_500.clamp(0.0, 1.0));
        let silent = !fail
            && world
                .fault_rng
                .gen_bool(faults.accepted_then_silent.clamp(0.0, 1.0));
        (fail, silent)
    };
    if silent {
        shared.counters().accepted_then_silent += 1;
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return None;
    }
    if !fail {
        return None;
    }
    shared.counters().accepted_then_failed += 1;
    Some(send_failure(shared, route))
}

/// A 500 as the platform of `route` words it: Graph's code 1, X's problem JSON.
fn send_failure(shared: &Arc<Shared>, route: &str) -> Response {
    use axum::response::IntoResponse;
    let body = if route.starts_with("/x/") {
        serde_json::json!({
            "title": "Internal Server Error",
            "detail": "Internal Server Error",
            "type": "about:blank",
            "status": 500,
        })
    } else {
        let trace = shared.world().fbtrace();
        serde_json::json!({"error": {
            "message": "An unknown error has occurred.",
            "type": "OAuthException",
            "code": 1,
            "is_transient": true,
            "fbtrace_id": trace,
        }})
    };
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(body),
    )
        .into_response()
}

/// Counts requests per route template and the throttling and server errors served.
async fn count_requests(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let key = format!("{} {}", request.method(), route);
    let platform_api = route.starts_with("/graph/") || route.starts_with("/x/");
    let send =
        request.method() == axum::http::Method::POST && SEND_ROUTES.contains(&route.as_str());
    let refused = send && {
        let ratio = shared.faults().refused_with_500;
        ratio > 0.0 && shared.world().fault_rng.gen_bool(ratio.clamp(0.0, 1.0))
    };
    let response = if refused {
        shared.counters().refused_with_500 += 1;
        send_failure(&shared, &route)
    } else {
        let response = next.run(request).await;
        if send && response.status().is_success() {
            match after_accepted_send(&shared, &route).await {
                Some(failure) => failure,
                None => response,
            }
        } else {
            response
        }
    };
    let slow_ms = shared.faults().slow_ms;
    if platform_api && slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(slow_ms)).await;
    }
    let status = response.status();
    let mut counters = shared.counters();
    *counters.requests.entry(key).or_default() += 1;
    if status.as_u16() == 429 {
        counters.responses_429 += 1;
        counters.throttled += 1;
    }
    if status.is_server_error() {
        counters.server_errors += 1;
    }
    response
}
