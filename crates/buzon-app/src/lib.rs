//! buzon-app: the application layer. Each thing a person, a token, the command line or a rule
//! of buzon does is one function here ([`App::reply`], [`App::add_user`],
//! [`App::connect_channel`], …): it takes the [`Actor`], checks the actor's role itself,
//! validates its input once, and writes the change and its audit line in one transaction. The
//! pages, the JSON API, the CLI, the OAuth callbacks and the workers are thin adapters over it.
//!
//! It sits between the adapters and the store: it knows the store and the `Connector` trait,
//! never HTTP, templates or a concrete connector.

#![forbid(unsafe_code)]

mod accounts;
mod actor;
mod alerts;
mod channels;
mod conversations;
mod error;
mod events;
mod events_out;
mod incidents;
mod intake;
mod listening;
mod live;
mod metrics;
pub mod reports;
mod service;
mod working;

pub use accounts::{NewUser, Session, SignIn, SignInAttempt, LOGIN_WINDOW, SESSION_LENGTH};
pub use actor::Actor;
pub use alerts::{AlertRule, AlertRuleInput, OnCall, Shift, WebhookInput};
pub use buzon_store::EventDelivery;
pub use buzon_store::{ListeningVolume, SavedSearch};
pub use channels::{
    ChannelOverview, CredentialCheck, CredentialsState, NewChannel, OAuthCallback, OAuthOutcome,
    ParkedPage,
};
pub use conversations::{
    ConversationDetail, InboxPage, InboxParams, Queued, Thread, MAX_REPLY_BYTES,
};
pub use error::AppError;
pub use events::WebhookReceipt;
pub use events_out::{SubscriptionInput, SubscriptionView, EVENT_KINDS};
pub use incidents::{BulkReply, Incident, IncidentInput, Spike, SpikeSample, SPIKE_MIN_MESSAGES};
pub use listening::MAX_SEARCHES_PER_CHANNEL;
pub use metrics::Metrics;
pub use service::{AutoReply, Clock, OpeningState, MAX_AUTO_REPLY_CHARS, RULES_BATCH};
pub use working::{
    closing_answer, CannedReplyForm, EscalationCounts, PlaceholderValues, QueueFigures,
    SatisfactionFigures, SatisfactionReport,
};

use buzon_connector::{Connector, HttpClient, OAuthApp};
use buzon_core::metrics::BusinessCalendar;
use buzon_core::ChannelKind;
use buzon_store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The connectors by platform.
pub type Connectors = HashMap<ChannelKind, Arc<dyn Connector>>;

/// What the application layer needs to know of the configuration.
#[derive(Clone, Default)]
pub struct AppSettings {
    /// The business hours response times are also measured in (always open when unset).
    pub business_calendar: Option<BusinessCalendar>,
    /// Facebook Login, for connecting Pages (None: Page tokens are pasted).
    pub facebook_oauth: Option<OAuthApp>,
    /// X's OAuth 2.0 with PKCE, for connecting accounts (None: tokens are pasted).
    pub x_oauth: Option<OAuthApp>,
    /// Where "now" comes from for business hours and the rules.
    pub clock: Clock,
    /// Whether outgoing URLs (alert webhooks) may point at this machine or a private network.
    pub allow_private_urls: bool,
}

/// The application: every use case, over one store and the connectors.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    connectors: Connectors,
    metrics: Metrics,
    settings: AppSettings,
    wake_workers: Arc<Notify>,
    /// Pokes the live watcher: something visible changed in this process.
    live_wake: Notify,
    reports: reports::Reports,
    live: watch::Sender<String>,
    http: HttpClient,
    intake: intake::Intake,
    /// Password hashing at once (see [`HASHING_AT_ONCE`]).
    hashing: tokio::sync::Semaphore,
}

/// How many password hashes run at once.
pub const HASHING_AT_ONCE: usize = 2;

impl App {
    /// The application over `store` with these connectors.
    pub fn new(store: Store, connectors: Connectors, settings: AppSettings) -> App {
        let calendar = settings
            .business_calendar
            .clone()
            .unwrap_or_else(BusinessCalendar::always_open);
        App {
            inner: Arc::new(Inner {
                store,
                connectors,
                metrics: Metrics::default(),
                settings,
                wake_workers: Arc::new(Notify::new()),
                live_wake: Notify::new(),
                reports: reports::Reports::new(calendar),
                live: watch::channel(String::new()).0,
                http: HttpClient::new(Duration::from_secs(20)),
                intake: intake::Intake::new(),
                hashing: tokio::sync::Semaphore::new(HASHING_AT_ONCE),
            }),
        }
    }

    /// The node's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// What the workers wait on between rounds: notified when new work is queued.
    pub fn worker_signal(&self) -> Arc<Notify> {
        self.inner.wake_workers.clone()
    }

    /// Wakes the workers (new inbound events or outbox rows), and the live updates.
    pub fn wake_workers(&self) {
        self.inner.wake_workers.notify_waiters();
        self.activity_changed();
    }

    /// Wakes the workers without poking the live updates (they are the ones waking them).
    pub(crate) fn inner_wake_workers_only(&self) {
        self.inner.wake_workers.notify_waiters();
    }

    /// Says that something readers can see changed in this process (a message stored, a send
    /// settled): the live updates read the activity version at once instead of at their next
    /// slow poll. Changes made by other nodes arrive through the database (PostgreSQL NOTIFY).
    pub fn activity_changed(&self) {
        self.inner.live_wake.notify_one();
    }

    /// Whether an OAuth sign-in is configured for connecting channels of `kind`.
    pub fn oauth_configured(&self, kind: ChannelKind) -> bool {
        self.oauth_app(kind).is_some()
    }

    /// The business calendar response times are measured in.
    pub fn business_calendar(&self) -> BusinessCalendar {
        self.inner.reports.calendar()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn connector(&self, kind: ChannelKind) -> Result<&Arc<dyn Connector>, AppError> {
        self.inner.connectors.get(&kind).ok_or(AppError::NotFound)
    }

    pub(crate) fn oauth_app(&self, kind: ChannelKind) -> Option<&OAuthApp> {
        match kind {
            ChannelKind::Facebook => self.inner.settings.facebook_oauth.as_ref(),
            ChannelKind::X => self.inner.settings.x_oauth.as_ref(),
            ChannelKind::Whatsapp => None,
        }
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    pub(crate) fn reports(&self) -> &reports::Reports {
        &self.inner.reports
    }

    pub(crate) fn intake(&self) -> &intake::Intake {
        &self.inner.intake
    }

    pub(crate) fn live_sender(&self) -> &watch::Sender<String> {
        &self.inner.live
    }

    pub(crate) fn live_wake(&self) -> &Notify {
        &self.inner.live_wake
    }
}

/// The target of an audit line: `conversation:12`.
pub(crate) fn target(kind: &str, id: impl std::fmt::Display) -> String {
    format!("{kind}:{id}")
}
