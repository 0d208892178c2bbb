//! Response-time reports: each node keeps every conversation's measured cycles in memory
//! ([`index`]), brought up to date from the database's journal of changes before each report,
//! so a report for any period is a walk over memory. A computed report is kept, keyed by the
//! query, until the index changes or a minute passes (time passing judges waiting cycles and
//! moves rolling periods).

pub mod index;

use crate::{Actor, App, AppError};
use buzon_core::metrics::{
    summarize, BusinessCalendar, Cycle, Heatmap, MetricsOptions, Period, Report, DAY_MILLIS,
};
use buzon_core::{ChannelId, Role, Timestamp, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The length of the default period.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;
/// Whom replies sent with an API token that belongs to no user count for, per agent.
pub const API_AGENT: UserId = buzon_store::API_AGENT;
/// How long a computed report is reused while nothing it reads changes.
const CACHE_TTL: Duration = Duration::from_secs(60);
/// How many explicit queries are kept at most.
const CACHE_ENTRIES: usize = 32;

/// What a report is computed for. `from`/`to` unset means "the 30 days up to now".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReportKey {
    /// The start of the period.
    pub from: Option<Timestamp>,
    /// The end of the period.
    pub to: Option<Timestamp>,
    /// One channel, or all.
    pub channel: Option<ChannelId>,
    /// Whether conversations of trolls and spammers count.
    pub include_flagged: bool,
}

impl ReportKey {
    /// The period and the previous period of the same length, as of `now`.
    pub fn periods(&self, now: Timestamp) -> (Period, Period) {
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
pub struct ReportData {
    /// The query.
    pub key: ReportKey,
    /// When it was computed.
    pub computed_at: Timestamp,
    /// How long computing it took.
    pub compute_millis: u128,
    /// The generation of the index it was computed from.
    pub generation: u64,
    /// The period.
    pub period: Period,
    /// The previous period of the same length.
    pub previous: Period,
    /// The figures of the period.
    pub current: Report,
    /// The figures of the previous period.
    pub before: Report,
    /// The cycles that started in the period, for the distribution and the export.
    pub cycles: Vec<Cycle>,
    /// The wall-clock first response times of the previous period, for the distribution.
    pub previous_first_wall: Vec<i64>,
    /// When customers write, hour by weekday.
    pub heatmap: Heatmap,
    /// The business calendar it was measured in.
    pub calendar: BusinessCalendar,
}

/// The response-time index and the computed reports, shared by every request of a node.
pub(crate) struct Reports {
    index: index::MetricsIndex,
    /// Each report with when it was computed.
    cached: Mutex<HashMap<ReportKey, (Instant, Arc<ReportData>)>>,
}

impl Reports {
    pub(crate) fn new(calendar: BusinessCalendar) -> Reports {
        Reports {
            index: index::MetricsIndex::new(calendar),
            cached: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn calendar(&self) -> BusinessCalendar {
        self.index.calendar()
    }

    fn cached(&self, key: &ReportKey, generation: u64) -> Option<Arc<ReportData>> {
        let reports = self
            .cached
            .lock()
            .expect("the report cache is not poisoned");
        reports
            .get(key)
            .filter(|(computed, data)| {
                data.generation == generation && computed.elapsed() < CACHE_TTL
            })
            .map(|(_, data)| data.clone())
    }

    fn keep(&self, key: ReportKey, data: Arc<ReportData>) {
        let mut reports = self
            .cached
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
        reports.insert(key, (Instant::now(), data));
    }

    async fn compute(&self, key: ReportKey) -> Result<ReportData, AppError> {
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
}

impl App {
    /// The report for `key`, counting everything committed before the call: from memory when
    /// nothing changed since it was computed (and less than a minute passed), else computed.
    /// Every role may read reports.
    pub async fn report(&self, actor: &Actor, key: ReportKey) -> Result<Arc<ReportData>, AppError> {
        actor.require(Role::Viewer)?;
        let reports = self.reports();
        let generation = reports.index.catch_up(self.store()).await?;
        if let Some(found) = reports.cached(&key, generation) {
            return Ok(found);
        }
        let data = Arc::new(reports.compute(key.clone()).await?);
        tracing::info!(
            millis = data.compute_millis as u64,
            cycles = data.cycles.len(),
            "report computed"
        );
        reports.keep(key, data.clone());
        Ok(data)
    }

    /// The cycles of the published channels that started in `period`, as of `now`, trolls
    /// left out: what the public figures count. Up to date with everything committed before
    /// the call. Anyone may read them (they carry no names and no text).
    pub async fn public_cycles(
        &self,
        period: Period,
        now: Timestamp,
    ) -> Result<Vec<Cycle>, AppError> {
        let published: Vec<ChannelId> = self
            .store()
            .list_channels()
            .await?
            .into_iter()
            .filter(|channel| channel.published)
            .map(|channel| channel.id)
            .collect();
        if published.is_empty() {
            return Ok(Vec::new());
        }
        let reports = self.reports();
        reports.index.catch_up(self.store()).await?;
        let empty = Period {
            start: period.start,
            end: period.start,
        };
        let measured = reports
            .index
            .measure(period, empty, None, MetricsOptions::as_of(now))
            .await?;
        Ok(measured
            .cycles
            .into_iter()
            .filter(|cycle| published.contains(&cycle.channel_id))
            .collect())
    }

    /// The published channels (id, kind, name), for the public page.
    pub async fn published_channels(&self) -> Result<Vec<buzon_core::Channel>, AppError> {
        Ok(self
            .store()
            .list_channels()
            .await?
            .into_iter()
            .filter(|channel| channel.published)
            .collect())
    }

    /// One round of keeping the response-time index current (the supervisor's refresh task):
    /// every hour a fresh build in the background heals what the journal missed; then the
    /// journal is read. Returns the index's generation.
    pub async fn refresh_report_index(&self) -> Result<u64, AppError> {
        let reports = self.reports();
        // Business hours an admin saved (on any node) replace the configuration's: measure
        // everything again with them.
        let team = self.team_calendar().await?;
        let changed = team != reports.calendar();
        if changed {
            tracing::info!(
                time_zone = team.time_zone(),
                "reports follow new business hours"
            );
            reports.index.set_calendar(team);
        }
        if let Err(err) = reports.index.rebuild(self.store(), changed).await {
            tracing::warn!(error = %err, "building the response-time index again failed");
        }
        reports.index.catch_up(self.store()).await
    }
}
