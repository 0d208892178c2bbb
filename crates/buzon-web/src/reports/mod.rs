//! Response-time reports, the metrics API and the public response-time page and badge: thin
//! adapters over the application layer's reports (`buzon_app::reports`), which keeps the
//! response-time index and the computed reports.
//!
//! The public figures are computed ahead by [`refresh_loop`] every `reports_refresh`, in every
//! language of the catalog, and served from memory ([`PublicFigures`]), so a visitor never
//! waits for them and never needs to sign in.

pub(crate) mod api;
mod csv;
mod figures;
mod page;
mod public;
mod svg;

use crate::i18n::{text, Lang};
use crate::AppState;
use axum::routing::get;
use axum::Router;
use buzon_core::{ChannelId, Timestamp};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Templates of the report pages: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "reports",
        include_str!("../../templates/reports/reports.hbs"),
    ),
    (
        "report_group",
        include_str!("../../templates/reports/group.hbs"),
    ),
    (
        "public_response_times",
        include_str!("../../templates/reports/public.hbs"),
    ),
    (
        "public_entry",
        include_str!("../../templates/reports/public_entry.hbs"),
    ),
];

/// The stylesheet of the report and public pages.
const REPORTS_CSS: &str = include_str!("reports.css");

/// How long the refresh keeps the public figures when nothing changed.
const UNCHANGED_FOR_AT_MOST: Duration = Duration::from_secs(10 * 60);

/// The catalog keys of the rules the figures are measured by, in the order they are shown.
const RULE_KEYS: &[&str] = &[
    "reports-rule-first_response",
    "reports-rule-cycles",
    "reports-rule-reply_time",
    "reports-rule-resolution",
    "reports-rule-response_rate",
    "reports-rule-pending",
    "reports-rule-business_hours",
    "reports-rule-order",
    "reports-rule-flagged",
    "reports-rule-statistics",
];

/// The report, metrics and public routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(page::show_reports))
        .route("/reports/export/{file}", get(page::export_csv))
        .route("/reports/reports.css", get(page::stylesheet))
        .route("/public/response-times", get(public::show_page))
        .route("/public/response-times.json", get(public::show_json))
        .route("/public/badge.svg", get(public::show_badge))
}

/// The public figures as last computed (page, JSON and badges in every language), shared by
/// every request.
#[derive(Default)]
pub(crate) struct PublicFigures {
    snapshot: RwLock<Option<Arc<public::Snapshot>>>,
}

impl PublicFigures {
    fn get(&self) -> Option<Arc<public::Snapshot>> {
        self.snapshot
            .read()
            .expect("the public snapshot is not poisoned")
            .clone()
    }

    fn set(&self, snapshot: Arc<public::Snapshot>) {
        *self
            .snapshot
            .write()
            .expect("the public snapshot is not poisoned") = Some(snapshot);
    }
}

/// Keeps the response-time index current and the public figures computed ahead: every
/// `reports_refresh` (a minute when zero) it brings the index up to date and recomputes the
/// public figures when the index or the published channels changed, or at least every ten
/// minutes. Returns as soon as `stop` turns true (or its sender is gone).
pub async fn refresh_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = match state.settings().reports_refresh {
        zero if zero.is_zero() => Duration::from_secs(60),
        every => every,
    };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<(Computed, Instant)> = None;
    loop {
        // Stopping wins over a tick or a round that is ready at the same time.
        tokio::select! {
            biased;
            _ = stopped(&mut stop) => return,
            _ = ticks.tick() => {}
        }
        // A round may take a while (the first one builds the index); stopping does not wait
        // for it: an index catch-up cancelled half-way is read again by the next one.
        tokio::select! {
            biased;
            _ = stopped(&mut stop) => return,
            _ = refresh_round(&state, &mut last) => {}
        }
    }
}

/// What the public figures were computed from: the index's generation, the published
/// channels, and when the team is back (none while open).
type Computed = (u64, Vec<ChannelId>, Option<Timestamp>);

/// Resolves once `stop` is true or can no longer change.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// One round of the refresh; `last` is what the public figures were computed from, and when.
async fn refresh_round(state: &AppState, last: &mut Option<(Computed, Instant)>) {
    let generation = match state.app().refresh_report_index().await {
        Ok(generation) => generation,
        Err(err) => {
            tracing::warn!(error = %err, "bringing the response-time index up to date failed");
            return;
        }
    };
    let published = match state.app().published_channels().await {
        Ok(channels) => channels.into_iter().map(|channel| channel.id).collect(),
        Err(err) => {
            tracing::warn!(error = %err, "listing the published channels failed");
            return;
        }
    };
    // The team opening or closing changes the public page's "open now" / "back at".
    let back_at = match state.app().opening_state(None).await {
        Ok(opening) => opening.back_at,
        Err(err) => {
            tracing::warn!(error = %err, "reading the business hours failed");
            return;
        }
    };
    let current = (generation, published, back_at);
    // Nothing new since the last round: keep the public figures, for a while.
    if let Some((previous, at)) = last {
        if *previous == current && at.elapsed() < UNCHANGED_FOR_AT_MOST {
            return;
        }
    }
    if let Err(err) = public::refresh(state).await {
        tracing::warn!(error = %err, "refreshing the public response times failed");
        return;
    }
    *last = Some((current, Instant::now()));
}

/// How the figures are measured, one rule per item, in `lang`.
fn rules(lang: Lang) -> Vec<String> {
    RULE_KEYS.iter().map(|key| text(lang, key)).collect()
}

/// What the report tests share: a caller, a calendar, channels and templates.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::Value;

    /// The keys of a JSON object, sorted.
    pub(crate) fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    use crate::http::Caller;
    use crate::i18n::Lang;
    use crate::view::Templates;
    use buzon_app::reports::{ReportData, ReportKey, API_AGENT};
    use buzon_app::{Actor, Session};
    use buzon_core::metrics::{
        BusinessCalendar, Figures, HeatmapTally, OpenInterval, Period, Report, Summary,
        WeeklySchedule, DAY_MILLIS,
    };
    use buzon_core::{
        Channel, ChannelHealth, ChannelId, ChannelKind, ExternalId, Label, Role, Timestamp, User,
        UserId,
    };

    /// A signed-in viewer reading in `lang`.
    pub(crate) fn viewer(lang: Lang) -> Caller {
        Caller {
            actor: Actor::User {
                id: UserId(2),
                role: Role::Viewer,
            },
            session: Some(Session {
                user: User {
                    id: UserId(2),
                    email: "ana@shop.example".into(),
                    name: "Ana".into(),
                    role: Role::Viewer,
                    active: true,
                    created_at: Timestamp::now(),
                    supervisor: false,
                },
                csrf_token: "the-csrf-token".into(),
            }),
            lang,
        }
    }

    /// Open 09:00-18:00 on weekdays, in Madrid.
    pub(crate) fn calendar() -> BusinessCalendar {
        let hours = OpenInterval::parse("09:00-18:00").expect("an interval");
        BusinessCalendar::new("Europe/Madrid", WeeklySchedule::monday_to_friday(hours), [])
            .expect("a calendar")
    }

    /// A published WhatsApp channel whose name needs escaping.
    pub(crate) fn channel() -> Channel {
        Channel {
            id: ChannelId(7),
            kind: ChannelKind::Whatsapp,
            name: "Tienda <b>".into(),
            platform_id: ExternalId::parse("106540352242922").expect("an id"),
            health: ChannelHealth::Healthy,
            health_reason: None,
            cursor: None,
            last_success_at: None,
            created_at: Timestamp::now(),
            credentials_version: 1,
            auto_hide_flagged: false,
            published: true,
        }
    }

    /// The templates as the server registers them.
    pub(crate) fn templates() -> Templates {
        Templates::new(&[crate::view::TEMPLATES, super::TEMPLATES])
    }

    fn figures(cycles: u64, median: i64) -> Figures {
        let mut figures = Figures {
            cycles,
            ..Figures::default()
        };
        figures.wall.first_response = Summary {
            count: cycles,
            median: Some(median),
            p90: Some(2 * median),
        };
        figures.wall.response_rate.numerator = cycles - 1;
        figures.wall.response_rate.denominator = cycles;
        figures
    }

    /// A made-up report of the last 30 days: four cycles on channel 7, two answered through
    /// an API token, two labelled refund; nothing in the previous period.
    pub(crate) fn report_data() -> ReportData {
        let calendar = calendar();
        let end = Timestamp::now();
        let period = Period {
            start: end.plus_millis(-30 * DAY_MILLIS),
            end,
        };
        let previous = Period {
            start: period.start.plus_millis(-30 * DAY_MILLIS),
            end: period.start,
        };
        let mut current = Report {
            overall: figures(4, 37 * 60_000),
            ..Report::default()
        };
        current
            .by_channel
            .insert(ChannelId(7), figures(4, 37 * 60_000));
        current.by_agent.insert(API_AGENT, figures(2, 60_000));
        current
            .by_label
            .insert(Label::parse("refund").expect("a label"), figures(2, 90_000));
        ReportData {
            key: ReportKey::default(),
            computed_at: end,
            compute_millis: 3,
            generation: 1,
            period,
            previous,
            current,
            before: Report::default(),
            cycles: Vec::new(),
            previous_first_wall: vec![4 * 60_000, 3 * DAY_MILLIS],
            heatmap: HeatmapTally::default().finish(&calendar, period),
            calendar,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalog;

    #[test]
    fn the_rules_and_the_staffing_assumptions_are_stated_in_every_language() {
        for lang in catalog().languages() {
            for key in RULE_KEYS.iter().chain(&["reports-staffing_assumptions"]) {
                assert!(catalog().has(lang, key), "{} lacks {key}", lang.code());
                let stated = text(lang, key);
                assert!(
                    !stated.trim().is_empty() && !stated.contains('\n'),
                    "{} {key} is one line: {stated:?}",
                    lang.code()
                );
            }
            assert_eq!(rules(lang).len(), 10);
        }
        let english = rules(Lang::english()).join("\n");
        let spanish = rules(catalog().find("es").expect("the catalog has Spanish")).join("\n");
        assert!(english.contains("pending") && spanish.contains("pendiente"));
        assert!(english.contains("never a mean"));
        assert!(text(Lang::english(), "reports-staffing_assumptions").contains("Erlang C"));
    }

    #[tokio::test]
    async fn the_refresh_stops_when_told_or_when_nobody_can_tell_it_any_more() {
        let (stop, mut stopping) = watch::channel(false);
        let waiting = tokio::spawn(async move { stopped(&mut stopping).await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        stop.send(true).expect("the loop listens");
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("stops promptly")
            .expect("does not panic");

        let (stop, mut stopping) = watch::channel(false);
        drop(stop);
        tokio::time::timeout(Duration::from_secs(5), stopped(&mut stopping))
            .await
            .expect("a loop nobody can stop any more stops");
    }
}
