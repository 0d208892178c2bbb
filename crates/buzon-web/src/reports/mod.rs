//! Response-time reports, the metrics API and the public response-time page and badge.
//!
//! Computing figures means reading every event of the conversations active in a period and
//! walking them through `buzon_core::metrics`; over a million messages that takes seconds, so
//! it never happens on the public routes and rarely on the pages: a background task
//! recomputes the public figures and the default report (the last 30 days) every
//! `reports_refresh`, and serves them from memory; other periods are computed on demand and
//! kept for a minute, keyed by the query.

mod api;
mod csv;
mod figures;
mod page;
mod public;
mod svg;
mod texts;

pub use texts::TEXTS;

use crate::{AppError, AppState};
use axum::routing::get;
use axum::Router;
use buzon_core::metrics::{
    compute, heatmap, summarize, BusinessCalendar, ConversationTimeline, Cycle, Heatmap,
    MetricsOptions, Period, Report, DAY_MILLIS,
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
/// How long a report computed for an explicit query is reused.
const CACHE_TTL: Duration = Duration::from_secs(60);
/// How long the background refresh keeps figures computed ahead when nothing changed (time
/// passing still moves the rolling period and judges unanswered cycles).
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
        let mut last: Option<(Vec<i64>, Instant)> = None;
        loop {
            ticks.tick().await;
            // Nothing new since the last round: keep what is in memory, for a while.
            let version = state.store().metrics_version().await.ok();
            if let (Some((previous, at)), Some(current)) = (&last, &version) {
                if previous == current && at.elapsed() < UNCHANGED_FOR_AT_MOST {
                    state.reports().touch(&ReportKey::default());
                    continue;
                }
            }
            if let Err(err) = public::refresh(&state).await {
                tracing::warn!(error = %err, "refreshing the public response times failed");
                continue;
            }
            let key = ReportKey::default();
            if let Err(err) = state.reports().compute_and_keep(&state, key).await {
                tracing::warn!(error = %err, "refreshing the default report failed");
                continue;
            }
            last = version.map(|version| (version, Instant::now()));
        }
    });
}

/// Computed reports and the public snapshot, shared by every request.
#[derive(Default)]
pub struct ReportsState {
    /// Each report with when it was last confirmed current.
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
    /// Whether this is a rolling "last 30 days" report, which the background task refreshes.
    fn is_rolling(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

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
    /// The report for `key`: from memory when fresh enough, else computed now.
    pub(crate) async fn report(
        &self,
        state: &AppState,
        key: ReportKey,
    ) -> Result<Arc<ReportData>, AppError> {
        let fresh_for = if key.is_rolling() {
            // The background task refreshes these; allow for one missed refresh.
            refresh_interval(state) * 2 + Duration::from_secs(5)
        } else {
            CACHE_TTL
        };
        if let Some(found) = self.cached(&key, fresh_for) {
            return Ok(found);
        }
        self.compute_and_keep(state, key).await
    }

    fn cached(&self, key: &ReportKey, fresh_for: Duration) -> Option<Arc<ReportData>> {
        let reports = self
            .reports
            .lock()
            .expect("the report cache is not poisoned");
        reports
            .get(key)
            .filter(|(checked, _)| checked.elapsed() < fresh_for)
            .map(|(_, data)| data.clone())
    }

    /// Marks a report as still current: nothing it reads has changed.
    fn touch(&self, key: &ReportKey) {
        let mut reports = self
            .reports
            .lock()
            .expect("the report cache is not poisoned");
        if let Some((checked, _)) = reports.get_mut(key) {
            *checked = Instant::now();
        }
    }

    async fn compute_and_keep(
        &self,
        state: &AppState,
        key: ReportKey,
    ) -> Result<Arc<ReportData>, AppError> {
        let data = Arc::new(compute_report(state, key.clone()).await?);
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
                .min_by_key(|(_, (checked, _))| *checked)
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

fn refresh_interval(state: &AppState) -> Duration {
    match state.settings().reports_refresh {
        zero if zero.is_zero() => Duration::from_secs(60),
        every => every,
    }
}

/// The business calendar of the settings (always open when none is configured).
pub(crate) fn calendar(state: &AppState) -> BusinessCalendar {
    state
        .settings()
        .business_calendar
        .clone()
        .unwrap_or_else(BusinessCalendar::always_open)
}

async fn compute_report(state: &AppState, key: ReportKey) -> Result<ReportData, AppError> {
    let started = Instant::now();
    let now = Timestamp::now();
    let (period, previous) = key.periods(now);
    let timelines = state
        .store()
        .metric_timelines(previous.start, period.end, key.channel)
        .await?;
    tracing::debug!(
        millis = started.elapsed().as_millis() as u64,
        conversations = timelines.len(),
        "report timelines loaded"
    );
    let calendar = calendar(state);
    let options = MetricsOptions {
        include_flagged: key.include_flagged,
        ..MetricsOptions::as_of(now)
    };
    let data = tokio::task::spawn_blocking(move || {
        let (cycles, before, heatmap) = measure(&timelines, &calendar, period, previous, &options);
        ReportData {
            key,
            computed_at: now,
            compute_millis: 0,
            period,
            previous,
            current: summarize(&cycles),
            before: summarize(&before),
            previous_first_wall: before
                .iter()
                .filter_map(|cycle| cycle.first_response.map(|elapsed| elapsed.wall_millis))
                .collect(),
            cycles,
            heatmap,
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

/// The cycles of the period and of the previous one, and the period's heatmap.
fn measure(
    timelines: &[ConversationTimeline],
    calendar: &BusinessCalendar,
    period: Period,
    previous: Period,
    options: &MetricsOptions,
) -> (Vec<Cycle>, Vec<Cycle>, Heatmap) {
    let cycles = compute(timelines, calendar, period, options);
    let before = compute(timelines, calendar, previous, options);
    let heatmap = heatmap(timelines, calendar, period, options);
    (cycles, before, heatmap)
}
