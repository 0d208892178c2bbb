//! Response-time reports, the metrics API and the public response-time page and badge.
//!
//! Every node keeps each conversation's measured cycles in memory ([`index`]), brought up to
//! date from the database's journal of changes before each report, so a report for any period
//! is a walk over memory. A computed report is kept, keyed by the query, until the index
//! changes or a minute passes (time passing judges waiting cycles and moves rolling periods).
//! The public figures are computed ahead by a background task every `reports_refresh` and
//! served from memory, so a visitor never waits for them.

mod api;
mod csv;
mod figures;
pub mod index;
mod page;
mod public;
mod svg;
mod texts;

pub use texts::TEXTS;

use crate::{AppError, AppState};
use axum::routing::get;
use axum::Router;
use buzon_core::metrics::{
    summarize, BusinessCalendar, Cycle, Heatmap, MetricsOptions, Period, Report, DAY_MILLIS,
};
use buzon_core::{ChannelId, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Templates of the report pages: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "reports",
        include_str!("../../../../templates/reports/reports.hbs"),
    ),
    (
        "report_group",
        include_str!("../../../../templates/reports/group.hbs"),
    ),
    (
        "public_response_times",
        include_str!("../../../../templates/reports/public.hbs"),
    ),
    (
        "public_entry",
        include_str!("../../../../templates/reports/public_entry.hbs"),
    ),
];

/// The stylesheet of the report and public pages.
const REPORTS_CSS: &str = include_str!("reports.css");

/// The length of the default period, and of the public figures' longer window.
const DEFAULT_PERIOD_DAYS: i64 = 30;
/// How long a computed report is reused while nothing it reads changes (time passing still
/// moves rolling periods and judges waiting cycles).
const CACHE_TTL: Duration = Duration::from_secs(60);
/// How long the background refresh keeps the public figures when nothing changed.
const UNCHANGED_FOR_AT_MOST: Duration = Duration::from_secs(10 * 60);
/// How many explicit queries are kept at most.
const CACHE_ENTRIES: usize = 32;

/// The report, metrics and public routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(page::show_reports))
        .route("/reports/export/{file}", get(page::export_csv))
        .route("/reports/reports.css", get(page::stylesheet))
        .route("/api/v1/metrics/response-times", get(api::response_times))
        .route("/public/response-times", get(public::show_page))
        .route("/public/response-times.json", get(public::show_json))
        .route("/public/badge.svg", get(public::show_badge))
}

/// Starts the task that keeps the public figures and the default report computed. Call it
/// once, when serving.
pub fn spawn_refresh(state: AppState) {
    let every = match state.settings().reports_refresh {
        zero if zero.is_zero() => Duration::from_secs(60),
        every => every,
    };
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last: Option<((u64, Vec<ChannelId>), Instant)> = None;
        loop {
            ticks.tick().await;
            // Every hour, a fresh build in the background heals what the journal missed.
            if let Err(err) = state.reports().index.rebuild(state.store(), false).await {
                tracing::warn!(error = %err, "building the response-time index again failed");
            }
            // Builds the index on the first tick, then reads the journal.
            let generation = match state.reports().index.catch_up(state.store()).await {
                Ok(generation) => generation,
                Err(err) => {
                    tracing::warn!(error = %err, "bringing the response-time index up to date failed");
                    continue;
                }
            };
            let published = match state.store().list_channels().await {
                Ok(channels) => channels
                    .into_iter()
                    .filter(|channel| channel.published)
                    .map(|channel| channel.id)
                    .collect(),
                Err(err) => {
                    tracing::warn!(error = %err, "listing the published channels failed");
                    continue;
                }
            };
            let current = (generation, published);
            // Nothing new since the last round: keep the public figures, for a while.
            if let Some((previous, at)) = &last {
                if *previous == current && at.elapsed() < UNCHANGED_FOR_AT_MOST {
                    continue;
                }
            }
            if let Err(err) = public::refresh(&state).await {
                tracing::warn!(error = %err, "refreshing the public response times failed");
                continue;
            }
            last = Some((current, Instant::now()));
        }
    });
}

/// The response-time index, computed reports and the public snapshot, shared by every request.
pub struct ReportsState {
    index: index::MetricsIndex,
    /// Each report with when it was computed.
    reports: Mutex<HashMap<ReportKey, (Instant, Arc<ReportData>)>>,
    public: RwLock<Option<Arc<public::Snapshot>>>,
}

/// What a report is computed for. `from`/`to` unset means "the 30 days up to now".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct ReportKey {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub channel: Option<ChannelId>,
    pub include_flagged: bool,
}

impl ReportKey {
    /// The period and the previous period of the same length, as of `now`.
    fn periods(&self, now: Timestamp) -> (Period, Period) {
        let end = self.to.unwrap_or(now);
        let start = self
            .from
            .unwrap_or_else(|| end.plus_millis(-DEFAULT_PERIOD_DAYS * DAY_MILLIS));
        let start = if start < end {
            start
        } else {
            end.plus_millis(-DAY_MILLIS)
        };
        let length = end.as_millis() - start.as_millis();
        let period = Period { start, end };
        let previous = Period {
            start: start.plus_millis(-length),
            end: start,
        };
        (period, previous)
    }
}

/// Everything the report page, its exports and the API show for one query.
pub(crate) struct ReportData {
    pub key: ReportKey,
    pub computed_at: Timestamp,
    pub compute_millis: u128,
    /// The generation of the index it was computed from.
    pub generation: u64,
    pub period: Period,
    pub previous: Period,
    pub current: Report,
    pub before: Report,
    /// The cycles that started in the period, for the distribution and the export.
    pub cycles: Vec<Cycle>,
    /// The wall-clock first response times of the previous period, for the distribution.
    pub previous_first_wall: Vec<i64>,
    pub heatmap: Heatmap,
    pub calendar: BusinessCalendar,
}

impl ReportsState {
    /// An empty state whose index measures business hours with `calendar`.
    pub(crate) fn new(calendar: BusinessCalendar) -> ReportsState {
        ReportsState {
            index: index::MetricsIndex::new(calendar),
            reports: Mutex::new(HashMap::new()),
            public: RwLock::new(None),
        }
    }

    /// The report for `key`, counting everything committed before the call: from memory when
    /// nothing changed since it was computed (and less than a minute passed), else computed.
    pub(crate) async fn report(
        &self,
        state: &AppState,
        key: ReportKey,
    ) -> Result<Arc<ReportData>, AppError> {
        let generation = self.index.catch_up(state.store()).await?;
        if let Some(found) = self.cached(&key, generation) {
            return Ok(found);
        }
        self.compute_and_keep(key).await
    }

    fn cached(&self, key: &ReportKey, generation: u64) -> Option<Arc<ReportData>> {
        let reports = self
            .reports
            .lock()
            .expect("the report cache is not poisoned");
        reports
            .get(key)
            .filter(|(computed, data)| {
                data.generation == generation && computed.elapsed() < CACHE_TTL
            })
            .map(|(_, data)| data.clone())
    }

    async fn compute_and_keep(&self, key: ReportKey) -> Result<Arc<ReportData>, AppError> {
        let data = Arc::new(self.compute_report(key.clone()).await?);
        tracing::info!(
            millis = data.compute_millis as u64,
            cycles = data.cycles.len(),
            "report computed"
        );
        let mut reports = self
            .reports
            .lock()
            .expect("the report cache is not poisoned");
        if reports.len() >= CACHE_ENTRIES && !reports.contains_key(&key) {
            if let Some(oldest) = reports
                .iter()
                .min_by_key(|(_, (computed, _))| *computed)
                .map(|(key, _)| key.clone())
            {
                reports.remove(&oldest);
            }
        }
        reports.insert(key, (Instant::now(), data.clone()));
        Ok(data)
    }

    fn public_snapshot(&self) -> Option<Arc<public::Snapshot>> {
        self.public
            .read()
            .expect("the public snapshot is not poisoned")
            .clone()
    }

    fn set_public_snapshot(&self, snapshot: Arc<public::Snapshot>) {
        *self
            .public
            .write()
            .expect("the public snapshot is not poisoned") = Some(snapshot);
    }
}

/// The business calendar of the settings (always open when none is configured).
pub(crate) fn calendar(state: &AppState) -> BusinessCalendar {
    state.reports().index.calendar()
}

impl ReportsState {
    async fn compute_report(&self, key: ReportKey) -> Result<ReportData, AppError> {
        let started = Instant::now();
        let now = Timestamp::now();
        let (period, previous) = key.periods(now);
        let options = MetricsOptions {
            include_flagged: key.include_flagged,
            ..MetricsOptions::as_of(now)
        };
        let measured = self
            .index
            .measure(period, previous, key.channel, options)
            .await?;
        let calendar = self.index.calendar();
        let data = tokio::task::spawn_blocking(move || {
            // The two periods are summarized side by side.
            let (current, before) = std::thread::scope(|scope| {
                let before = scope.spawn(|| summarize(&measured.before));
                let current = summarize(&measured.cycles);
                (current, before.join().expect("summarizing does not panic"))
            });
            ReportData {
                key,
                computed_at: now,
                compute_millis: 0,
                generation: measured.generation,
                period,
                previous,
                current,
                before,
                previous_first_wall: measured
                    .before
                    .iter()
                    .filter_map(|cycle| cycle.first_response.map(|elapsed| elapsed.wall_millis))
                    .collect(),
                cycles: measured.cycles,
                heatmap: measured.heatmap,
                calendar,
            }
        })
        .await
        .map_err(|err| AppError::Internal(anyhow::anyhow!("computing a report: {err}")))?;
        Ok(ReportData {
            compute_millis: started.elapsed().as_millis(),
            ..data
        })
    }

    /// The cycles that started in `period`, as of `now`, troll switch off: what the public
    /// figures count. Up to date with everything committed before the call.
    pub(crate) async fn public_cycles(
        &self,
        state: &AppState,
        period: Period,
        now: Timestamp,
    ) -> Result<Vec<Cycle>, AppError> {
        self.index.catch_up(state.store()).await?;
        let empty = Period {
            start: period.start,
            end: period.start,
        };
        let measured = self
            .index
            .measure(period, empty, None, MetricsOptions::as_of(now))
            .await?;
        Ok(measured.cycles)
    }
}
