//! `GET /reports` and its CSV exports: any signed-in user (viewers read reports too).

use super::csv::{number, Csv};
use super::figures::{duration_text, summary_rows, GroupRow, SummaryRow};
use super::svg::{self, Bucket, Cell, Palette};
use super::{rules, REPORTS_CSS};
use crate::http::{Caller, Viewer, WebError};
use crate::i18n::{text, text_with, Lang};
use crate::view::{render, url_encode, Page};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use buzon_app::reports::{ReportData, ReportKey, API_AGENT};
use buzon_core::metrics::{
    required_agents, BusinessCalendar, Clock, Figures, LocalDate, ServiceTarget, Weekday,
};
use buzon_core::{Channel, ChannelId, Label, Timestamp, UserId};
use fluent_bundle::FluentValue;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The report's query string: the period, the channel, the troll switch and the staffing
/// target.
#[derive(Debug, Deserialize, Default, Clone)]
pub(crate) struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
    flagged: Option<String>,
    share: Option<String>,
    within: Option<String>,
    handling: Option<String>,
}

/// The staffing question asked on the page.
struct StaffingInput {
    share_percent: f64,
    within_minutes: f64,
    handling_minutes: f64,
}

impl ReportQuery {
    fn key(&self, calendar: &BusinessCalendar) -> Result<ReportKey, WebError> {
        Ok(ReportKey {
            from: parse_bound(self.from.as_deref(), calendar, false)?,
            to: parse_bound(self.to.as_deref(), calendar, true)?,
            channel: parse_channel(self.channel.as_deref())?,
            include_flagged: self.flagged.as_deref() == Some("include"),
        })
    }

    fn staffing(&self) -> StaffingInput {
        let number = |text: &Option<String>, default: f64, low: f64, high: f64| {
            text.as_deref()
                .and_then(|text| text.trim().parse::<f64>().ok())
                .filter(|value| value.is_finite())
                .map_or(default, |value| value.clamp(low, high))
        };
        StaffingInput {
            share_percent: number(&self.share, 90.0, 1.0, 99.9),
            within_minutes: number(&self.within, 30.0, 0.0, 10_080.0),
            handling_minutes: number(&self.handling, 10.0, 0.5, 1_440.0),
        }
    }

    /// The query string to repeat in export links, encoded.
    fn encoded(&self) -> String {
        let pairs = [
            ("from", &self.from),
            ("to", &self.to),
            ("channel", &self.channel),
            ("flagged", &self.flagged),
            ("share", &self.share),
            ("within", &self.within),
            ("handling", &self.handling),
        ];
        pairs
            .iter()
            .filter_map(|(name, value)| {
                value
                    .as_deref()
                    .filter(|value| !value.is_empty())
                    .map(|value| format!("{name}={}", url_encode(value)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A bound of a period: a local date (`YYYY-MM-DD`, in the business's time zone; an end date
/// is included whole) or an RFC 3339 instant.
pub(crate) fn parse_bound(
    text: Option<&str>,
    calendar: &BusinessCalendar,
    end: bool,
) -> Result<Option<Timestamp>, WebError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if let Some(instant) = Timestamp::parse_rfc3339(text) {
        return Ok(Some(instant));
    }
    let date = LocalDate::parse(text).map_err(|_| {
        WebError::bad_request(format!(
            "{} must be a date (YYYY-MM-DD) or an RFC 3339 time",
            if end { "to" } else { "from" }
        ))
    })?;
    let start = calendar.start_of(date);
    if !end {
        return Ok(Some(start));
    }
    // Local days last 23 to 25 hours: 26 hours later is always the next day.
    let next = calendar.date_of(start.plus_millis(26 * 60 * 60 * 1000));
    Ok(Some(calendar.start_of(next)))
}

/// A channel id of a query string; none when empty.
pub(crate) fn parse_channel(text: Option<&str>) -> Result<Option<ChannelId>, WebError> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .map(|id| Some(ChannelId(id)))
            .map_err(|_| WebError::bad_request("channel must be a channel id")),
    }
}

/// `GET /reports/reports.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        REPORTS_CSS,
    )
        .into_response()
}

/// The report page's own view.
#[derive(Serialize)]
struct ReportsPage {
    report: ReportView,
    /// What listening brought in, per day and source (searches by their query).
    listening: Vec<ListeningRow>,
}

/// One day's finds of one listening source.
#[derive(Serialize)]
struct ListeningRow {
    day: String,
    source: String,
    messages: i64,
}

#[derive(Serialize)]
struct ReportView {
    form: FormView,
    channels: Vec<ChannelChoice>,
    period_text: String,
    previous_text: String,
    as_of: String,
    time_zone: String,
    cycles: u64,
    /// Escalations in the period (filled by the page handler).
    escalations: buzon_app::EscalationCounts,
    /// Answers to the closing question (filled by the page handler): in all, then per group.
    satisfaction: Option<SatisfactionView>,
    summaries: Vec<SummaryTable>,
    distribution_svg: String,
    volume_svg: String,
    speed_svg: String,
    staffing: StaffingView,
    /// `None` when the period has no group, so the template says so.
    by_channel: Option<Vec<GroupRow>>,
    by_agent: Option<Vec<GroupRow>>,
    by_label: Option<Vec<GroupRow>>,
    exports: Vec<ExportLink>,
    rules: Vec<String>,
    assumptions: String,
}

/// What the filter and staffing forms show.
#[derive(Serialize)]
struct FormView {
    from: String,
    to: String,
    include_flagged: bool,
    share: String,
    within: String,
    handling: String,
}

#[derive(Serialize)]
struct ChannelChoice {
    id: i64,
    name: String,
    selected: bool,
}

/// One clock's summary table.
#[derive(Serialize)]
struct SummaryTable {
    clock: &'static str,
    caption: String,
    rows: Vec<SummaryRow>,
}

/// The staffing chart, or why there is none.
#[derive(Serialize)]
struct StaffingView {
    error: Option<String>,
    svg: String,
}

#[derive(Serialize)]
struct ExportLink {
    name: String,
    href: String,
}

/// `GET /reports`: the figures of a period against the previous one, charts, heatmaps,
/// staffing advice and the tables, with the rules next to them.
pub(crate) async fn show_reports(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(query): Query<ReportQuery>,
) -> Result<Html<String>, WebError> {
    let key = query.key(&state.app().business_calendar())?;
    let (period, _) = key.periods(Timestamp::now());
    let data = state.app().report(&caller.actor, key).await?;
    let channels = state.app().channel_list(&caller.actor).await?;
    let names = Names::of(&state, &caller, &channels).await?;
    let mut report = report_view(caller.lang, &data, &names, &channels, &query);
    let figures = state.app().queue_figures(&caller.actor, &data).await?;
    report.escalations = figures.escalations;
    report.satisfaction = satisfaction_view(caller.lang, &figures.satisfaction, &names);
    let queries = state.app().search_queries(&caller.actor).await?;
    let listening = state
        .app()
        .listening_volume(&caller.actor, period)
        .await?
        .into_iter()
        .map(|volume| ListeningRow {
            source: match (volume.found_by.as_str(), volume.search_id) {
                ("search", Some(id)) => crate::i18n::text_with(
                    caller.lang,
                    "listening-found-search",
                    &[(
                        "query",
                        queries
                            .get(&id)
                            .cloned()
                            .unwrap_or_else(|| format!("#{id}"))
                            .into(),
                    )],
                ),
                ("review", _) => crate::i18n::text(caller.lang, "reports-listening_reviews"),
                _ => crate::i18n::text(caller.lang, "listening-found-mention"),
            },
            day: volume.day,
            messages: volume.messages,
        })
        .collect();
    let page = Page::new(
        &caller,
        "reports-title",
        "reports",
        ReportsPage { report, listening },
    );
    Ok(render(&state, "reports", &page)?)
}

/// `GET /reports/export/{file}`: one table as CSV.
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(file): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, WebError> {
    let key = query.key(&state.app().business_calendar())?;
    let table = file.strip_suffix(".csv").unwrap_or(&file).to_owned();
    if !EXPORTS.contains(&table.as_str()) {
        return Err(WebError::not_found());
    }
    let data = state.app().report(&caller.actor, key).await?;
    let channels = state.app().channel_list(&caller.actor).await?;
    let names = Names::of(&state, &caller, &channels).await?;
    let body = match table.as_str() {
        "summary" => summary_csv(&data),
        "channels" => groups_csv(
            data.current
                .by_channel
                .iter()
                .map(|(id, figures)| (id.get().to_string(), names.channel(*id), figures)),
        ),
        "agents" => groups_csv(
            data.current
                .by_agent
                .iter()
                .map(|(id, figures)| (id.get().to_string(), names.user(*id), figures)),
        ),
        "labels" => groups_csv(data.current.by_label.iter().map(|(label, figures)| {
            (
                label.as_str().to_owned(),
                label.as_str().to_owned(),
                figures,
            )
        })),
        "heatmap" => heatmap_csv(&data),
        "staffing" => staffing_csv(&data, &query.staffing()),
        _ => conversations_csv(&data, &names),
    };
    let filename = format!(
        "buzon-{table}-{}-{}.csv",
        data.calendar.date_of(data.period.start),
        data.calendar.date_of(data.period.end.plus_millis(-1))
    );
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

const EXPORTS: &[&str] = &[
    "summary",
    "channels",
    "agents",
    "labels",
    "heatmap",
    "staffing",
    "conversations",
];

/// Display names of channels and users.
struct Names {
    lang: Lang,
    channels: HashMap<ChannelId, String>,
    users: HashMap<UserId, String>,
}

impl Names {
    async fn of(
        state: &AppState,
        caller: &Caller,
        channels: &[Channel],
    ) -> Result<Names, WebError> {
        let users = state.app().user_names(&caller.actor).await?;
        Ok(Names {
            lang: caller.lang,
            channels: channels
                .iter()
                .map(|channel| {
                    (
                        channel.id,
                        format!("{} ({})", channel.name, channel.kind.as_str()),
                    )
                })
                .collect(),
            users: users.into_iter().collect(),
        })
    }

    fn channel(&self, id: ChannelId) -> String {
        self.channels
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{}", id.get()))
    }

    fn user(&self, id: UserId) -> String {
        if id == API_AGENT {
            return text(self.lang, "reports-api_agent");
        }
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{}", id.get()))
    }
}

/// The satisfaction table: a row per agent, channel and label, after the total.
#[derive(Serialize)]
struct SatisfactionView {
    overall: SatisfactionRow,
    rows: Vec<SatisfactionRow>,
}

#[derive(Serialize)]
struct SatisfactionRow {
    group: String,
    name: String,
    answers: u64,
    satisfied: u64,
    rate: String,
}

fn satisfaction_view(
    lang: Lang,
    report: &buzon_app::SatisfactionReport,
    names: &Names,
) -> Option<SatisfactionView> {
    if report.overall.answers == 0 {
        return None;
    }
    let row =
        |group: &str, name: String, figures: &buzon_app::SatisfactionFigures| SatisfactionRow {
            group: text(lang, group),
            name,
            answers: figures.answers,
            satisfied: figures.satisfied,
            rate: figures
                .rate
                .map(|rate| format!("{:.0} %", rate * 100.0))
                .unwrap_or_default(),
        };
    let mut rows = Vec::new();
    for (agent, figures) in &report.by_agent {
        rows.push(row("reports-by_agent", names.user(*agent), figures));
    }
    for (channel, figures) in &report.by_channel {
        rows.push(row("reports-by_channel", names.channel(*channel), figures));
    }
    for (label, figures) in &report.by_label {
        rows.push(row("reports-by_label", label.clone(), figures));
    }
    Some(SatisfactionView {
        overall: row("reports-satisfaction_all", String::new(), &report.overall),
        rows,
    })
}

/// The short names of the weekdays, Monday first.
pub(crate) fn day_names(lang: Lang) -> [String; 7] {
    Weekday::ALL.map(|weekday| text(lang, &format!("reports-day-{}", weekday.as_str())))
}

fn report_view(
    lang: Lang,
    data: &ReportData,
    names: &Names,
    channels: &[Channel],
    query: &ReportQuery,
) -> ReportView {
    let staffing = query.staffing();
    let calendar = &data.calendar;
    let last_day = calendar.date_of(data.period.end.plus_millis(-1));
    let previous_last_day = calendar.date_of(data.previous.end.plus_millis(-1));
    let non_empty = |rows: Vec<GroupRow>| (!rows.is_empty()).then_some(rows);
    let by_channel = data
        .current
        .by_channel
        .iter()
        .map(|(id, figures)| GroupRow::new(names.channel(*id), id.get().to_string(), figures))
        .collect();
    let by_agent = data
        .current
        .by_agent
        .iter()
        .map(|(id, figures)| GroupRow::new(names.user(*id), id.get().to_string(), figures))
        .collect();
    let mut labels: Vec<(&Label, &Figures)> = data.current.by_label.iter().collect();
    labels.sort_by(|a, b| b.1.cycles.cmp(&a.1.cycles).then(a.0.cmp(b.0)));
    let by_label = labels
        .into_iter()
        .map(|(label, figures)| {
            GroupRow::new(
                label.as_str().to_owned(),
                label.as_str().to_owned(),
                figures,
            )
        })
        .collect();
    let selected = data.key.channel;
    let encoded = query.encoded();
    let exports = EXPORTS
        .iter()
        .map(|name| ExportLink {
            name: text(lang, &format!("reports-export_{name}")),
            href: if encoded.is_empty() {
                format!("/reports/export/{name}.csv")
            } else {
                format!("/reports/export/{name}.csv?{encoded}")
            },
        })
        .collect();
    let (current, before) = (&data.current.overall, &data.before.overall);
    ReportView {
        form: FormView {
            from: calendar.date_of(data.period.start).to_string(),
            to: last_day.to_string(),
            include_flagged: data.key.include_flagged,
            share: format_number(staffing.share_percent),
            within: format_number(staffing.within_minutes),
            handling: format_number(staffing.handling_minutes),
        },
        channels: channels
            .iter()
            .map(|channel| ChannelChoice {
                id: channel.id.get(),
                name: names.channel(channel.id),
                selected: selected == Some(channel.id),
            })
            .collect(),
        period_text: format!("{} – {}", calendar.date_of(data.period.start), last_day),
        previous_text: format!(
            "{} – {}",
            calendar.date_of(data.previous.start),
            previous_last_day
        ),
        as_of: data.computed_at.to_rfc3339(),
        time_zone: calendar.time_zone().to_owned(),
        cycles: current.cycles,
        escalations: buzon_app::EscalationCounts::default(),
        satisfaction: None,
        summaries: vec![
            SummaryTable {
                clock: "wall",
                caption: text(lang, "reports-wall"),
                rows: summary_rows(lang, Clock::Wall, current, before),
            },
            SummaryTable {
                clock: "business",
                caption: format!(
                    "{} ({})",
                    text(lang, "reports-business"),
                    business_hours_text(lang, calendar)
                ),
                rows: summary_rows(lang, Clock::Business, current, before),
            },
        ],
        distribution_svg: distribution_svg(lang, data),
        volume_svg: volume_svg(lang, data),
        speed_svg: speed_svg(lang, data),
        staffing: staffing_view(lang, data, &staffing),
        by_channel: non_empty(by_channel),
        by_agent: non_empty(by_agent),
        by_label: non_empty(by_label),
        exports,
        rules: rules(lang),
        assumptions: text(lang, "reports-staffing_assumptions"),
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// The weekly schedule in words: "Mon–Fri 09:00–18:00 · Sat, Sun closed".
pub(crate) fn business_hours_text(lang: Lang, calendar: &BusinessCalendar) -> String {
    let Some(schedule) = calendar.schedule() else {
        return text(lang, "reports-always_open");
    };
    let closed = text(lang, "reports-closed");
    let days = day_names(lang);
    let hours_of = |weekday: Weekday| {
        let intervals = schedule.intervals(weekday);
        if intervals.is_empty() {
            closed.clone()
        } else {
            intervals
                .iter()
                .map(|interval| interval.to_string().replace('-', "–"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    // Consecutive days with the same hours are one group.
    let mut groups: Vec<(usize, usize, String)> = Vec::new();
    for weekday in Weekday::ALL {
        let hours = hours_of(weekday);
        match groups.last_mut() {
            Some((_, last, previous)) if *previous == hours => *last = weekday.index(),
            _ => groups.push((weekday.index(), weekday.index(), hours)),
        }
    }
    let text = groups
        .iter()
        .map(|(first, last, hours)| {
            if first == last {
                format!("{} {hours}", days[*first])
            } else {
                format!("{}–{} {hours}", days[*first], days[*last])
            }
        })
        .collect::<Vec<_>>()
        .join(" · ");
    format!("{text} ({})", calendar.time_zone())
}

/// The buckets of the distribution chart, as (upper bound in minutes, catalog key).
const BUCKETS: &[(i64, &str)] = &[
    (5, "reports-bucket-under_5m"),
    (15, "reports-bucket-5_15m"),
    (30, "reports-bucket-15_30m"),
    (60, "reports-bucket-30_60m"),
    (120, "reports-bucket-1_2h"),
    (240, "reports-bucket-2_4h"),
    (480, "reports-bucket-4_8h"),
    (1440, "reports-bucket-8_24h"),
    (2880, "reports-bucket-1_2d"),
    (i64::MAX, "reports-bucket-over_2d"),
];

fn bucket_of(millis: i64) -> usize {
    let minutes = millis / 60_000;
    BUCKETS
        .iter()
        .position(|(limit, _)| minutes < *limit)
        .unwrap_or(BUCKETS.len() - 1)
}

fn distribution_svg(lang: Lang, data: &ReportData) -> String {
    let mut buckets: Vec<Bucket> = BUCKETS
        .iter()
        .map(|(_, key)| Bucket {
            label: text(lang, key),
            current: 0,
            previous: 0,
        })
        .collect();
    for cycle in &data.cycles {
        if let Some(first) = cycle.first_response {
            buckets[bucket_of(first.wall_millis)].current += 1;
        }
    }
    for millis in &data.previous_first_wall {
        buckets[bucket_of(*millis)].previous += 1;
    }
    svg::distribution(
        &text(lang, "reports-distribution"),
        &text(lang, "reports-this_period"),
        &text(lang, "reports-previous_period"),
        &buckets,
    )
}

fn hour_label(days: &[String; 7], weekday: Weekday, hour: u8) -> String {
    format!(
        "{} {hour:02}:00–{:02}:00",
        days[weekday.index()],
        (hour + 1) % 24
    )
}

fn volume_svg(lang: Lang, data: &ReportData) -> String {
    let days = day_names(lang);
    let most = data
        .heatmap
        .cells()
        .map(|(_, _, cell)| cell.arrivals)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let cells: Vec<Cell> = data
        .heatmap
        .cells()
        .map(|(weekday, hour, cell)| Cell {
            intensity: (cell.arrivals > 0).then(|| cell.arrivals as f64 / most),
            text: if cell.arrivals > 0 {
                short_count(cell.arrivals)
            } else {
                String::new()
            },
            tooltip: text_with(
                lang,
                "reports-volume_cell",
                &[
                    ("hour", FluentValue::from(hour_label(&days, weekday, hour))),
                    ("count", FluentValue::from(cell.arrivals)),
                    (
                        "rate",
                        FluentValue::from(format!("{:.1}", cell.arrivals_per_hour())),
                    ),
                ],
            ),
        })
        .collect();
    svg::week_grid(
        &text(lang, "reports-heatmap_volume"),
        &days,
        &cells,
        Palette::Blues,
    )
}

fn short_count(count: u64) -> String {
    if count >= 10_000 {
        format!("{}k", count / 1000)
    } else if count >= 1000 {
        format!("{:.1}k", count as f64 / 1000.0)
    } else {
        count.to_string()
    }
}

fn short_duration(millis: i64) -> String {
    let minutes = millis / 60_000;
    if minutes < 1 {
        format!("{}s", millis / 1000)
    } else if minutes < 60 {
        format!("{minutes}m")
    } else if minutes < 48 * 60 {
        format!("{}h", minutes / 60)
    } else {
        format!("{}d", minutes / 1440)
    }
}

fn speed_svg(lang: Lang, data: &ReportData) -> String {
    let days = day_names(lang);
    let cells: Vec<Cell> = data
        .heatmap
        .cells()
        .map(|(weekday, hour, cell)| {
            let median = cell.first_response.median;
            Cell {
                // A log scale from one minute (green) to a day (red).
                intensity: median.map(|millis| {
                    let minutes = (millis as f64 / 60_000.0).max(1.0);
                    minutes.ln() / 1440_f64.ln()
                }),
                text: median.map(short_duration).unwrap_or_default(),
                tooltip: text_with(
                    lang,
                    "reports-speed_cell",
                    &[
                        ("hour", FluentValue::from(hour_label(&days, weekday, hour))),
                        ("duration", FluentValue::from(duration_text(median))),
                        ("count", FluentValue::from(cell.first_response.count)),
                    ],
                ),
            }
        })
        .collect();
    svg::week_grid(
        &text(lang, "reports-heatmap_speed"),
        &days,
        &cells,
        Palette::Speed,
    )
}

/// New conversations (response cycles started) per hour, for each hour of the week, Monday
/// 00:00 first: the mean over the period's occurrences of that hour. Staffing is about
/// conversations to handle, not single messages (a burst of three is one conversation).
fn cycle_rates(data: &ReportData) -> Vec<f64> {
    let mut started = vec![0_u64; 7 * 24];
    for cycle in &data.cycles {
        let (weekday, hour) = data.calendar.local_weekday_hour(cycle.started_at);
        started[weekday.index() * 24 + usize::from(hour.min(23))] += 1;
    }
    data.heatmap
        .cells()
        .zip(started)
        .map(|((_, _, cell), count)| {
            if cell.exposure_millis > 0 {
                count as f64 * 3_600_000.0 / cell.exposure_millis as f64
            } else {
                0.0
            }
        })
        .collect()
}

/// For each hour of the week, Monday 00:00 first: the arrival rate and the people needed.
fn plan(data: &ReportData, input: &StaffingInput) -> Result<Vec<(f64, u32)>, String> {
    let target = ServiceTarget {
        share: input.share_percent / 100.0,
        within_minutes: input.within_minutes,
    };
    cycle_rates(data)
        .into_iter()
        .map(|rate| {
            required_agents(rate, input.handling_minutes, target)
                .map(|agents| (rate, agents))
                .map_err(|err| err.to_string())
        })
        .collect()
}

fn staffing_view(lang: Lang, data: &ReportData, input: &StaffingInput) -> StaffingView {
    let plan = match plan(data, input) {
        Ok(plan) => plan,
        Err(error) => {
            return StaffingView {
                error: Some(error),
                svg: String::new(),
            }
        }
    };
    let days = day_names(lang);
    let most = plan
        .iter()
        .map(|(_, agents)| *agents)
        .max()
        .unwrap_or(0)
        .max(1);
    let cells: Vec<Cell> = data
        .heatmap
        .cells()
        .zip(&plan)
        .map(|((weekday, hour, _), (rate, agents))| Cell {
            intensity: (*agents > 0).then(|| f64::from(*agents) / f64::from(most)),
            text: if *agents > 0 {
                agents.to_string()
            } else {
                String::new()
            },
            tooltip: text_with(
                lang,
                "reports-staffing_cell",
                &[
                    ("hour", FluentValue::from(hour_label(&days, weekday, hour))),
                    ("people", FluentValue::from(*agents)),
                    ("rate", FluentValue::from(format!("{rate:.2}"))),
                ],
            ),
        })
        .collect();
    let title = text(lang, "reports-staffing_caption");
    StaffingView {
        error: None,
        svg: svg::week_grid(&title, &days, &cells, Palette::Blues),
    }
}

fn summary_csv(data: &ReportData) -> String {
    let mut csv = Csv::new(&[
        "period",
        "clock",
        "metric",
        "count",
        "median_ms",
        "p90_ms",
        "answered",
        "judged",
    ]);
    for (name, report) in [("current", &data.current), ("previous", &data.before)] {
        for clock in [Clock::Wall, Clock::Business] {
            let figures = report.overall.on(clock);
            let clock_name = match clock {
                Clock::Wall => "wall",
                Clock::Business => "business",
            };
            for (metric, summary) in [
                ("first_response", figures.first_response),
                ("reply_time", figures.reply_time),
                ("resolution", figures.resolution),
            ] {
                csv.row([
                    name.to_owned(),
                    clock_name.to_owned(),
                    metric.to_owned(),
                    summary.count.to_string(),
                    number(summary.median),
                    number(summary.p90),
                    String::new(),
                    String::new(),
                ]);
            }
            csv.row([
                name.to_owned(),
                clock_name.to_owned(),
                "response_rate".to_owned(),
                String::new(),
                String::new(),
                String::new(),
                figures.response_rate.numerator.to_string(),
                figures.response_rate.denominator.to_string(),
            ]);
        }
    }
    csv.finish()
}

fn groups_csv<'a>(groups: impl Iterator<Item = (String, String, &'a Figures)>) -> String {
    let mut csv = Csv::new(&[
        "id",
        "name",
        "cycles",
        "first_response_count",
        "first_response_median_ms",
        "first_response_p90_ms",
        "reply_count",
        "reply_median_ms",
        "reply_p90_ms",
        "resolution_count",
        "resolution_median_ms",
        "resolution_p90_ms",
        "answered",
        "judged",
        "business_first_response_median_ms",
        "business_first_response_p90_ms",
        "business_reply_median_ms",
        "business_reply_p90_ms",
        "business_answered",
        "business_judged",
    ]);
    for (id, name, figures) in groups {
        let (wall, business) = (&figures.wall, &figures.business);
        csv.row([
            id,
            name,
            figures.cycles.to_string(),
            wall.first_response.count.to_string(),
            number(wall.first_response.median),
            number(wall.first_response.p90),
            wall.reply_time.count.to_string(),
            number(wall.reply_time.median),
            number(wall.reply_time.p90),
            wall.resolution.count.to_string(),
            number(wall.resolution.median),
            number(wall.resolution.p90),
            wall.response_rate.numerator.to_string(),
            wall.response_rate.denominator.to_string(),
            number(business.first_response.median),
            number(business.first_response.p90),
            number(business.reply_time.median),
            number(business.reply_time.p90),
            business.response_rate.numerator.to_string(),
            business.response_rate.denominator.to_string(),
        ]);
    }
    csv.finish()
}

fn heatmap_csv(data: &ReportData) -> String {
    let mut csv = Csv::new(&[
        "weekday",
        "hour",
        "time_zone",
        "customer_messages",
        "arrivals_per_hour",
        "first_response_count",
        "first_response_median_ms",
        "first_response_p90_ms",
        "business_first_response_median_ms",
    ]);
    for (weekday, hour, cell) in data.heatmap.cells() {
        csv.row([
            weekday.as_str().to_owned(),
            hour.to_string(),
            data.heatmap.time_zone.clone(),
            cell.arrivals.to_string(),
            format!("{:.4}", cell.arrivals_per_hour()),
            cell.first_response.count.to_string(),
            number(cell.first_response.median),
            number(cell.first_response.p90),
            number(cell.first_response_business.median),
        ]);
    }
    csv.finish()
}

fn staffing_csv(data: &ReportData, input: &StaffingInput) -> String {
    let mut csv = Csv::new(&[
        "weekday",
        "hour",
        "new_conversations_per_hour",
        "handling_minutes",
        "target_share_percent",
        "target_within_minutes",
        "people",
    ]);
    let plan = plan(data, input).ok();
    for (index, (weekday, hour, _)) in data.heatmap.cells().enumerate() {
        let (rate, agents) = plan
            .as_ref()
            .and_then(|plan| plan.get(index).copied())
            .map_or((String::new(), String::new()), |(rate, agents)| {
                (format!("{rate:.4}"), agents.to_string())
            });
        csv.row([
            weekday.as_str().to_owned(),
            hour.to_string(),
            rate,
            format_number(input.handling_minutes),
            format_number(input.share_percent),
            format_number(input.within_minutes),
            agents,
        ]);
    }
    csv.finish()
}

fn conversations_csv(data: &ReportData, names: &Names) -> String {
    let mut csv = Csv::new(&[
        "conversation_id",
        "channel_id",
        "labels",
        "cycle_started_at",
        "first_response_at",
        "first_responder_id",
        "first_responder",
        "first_response_ms",
        "first_response_business_ms",
        "replies",
        "resolved_at",
        "resolution_ms",
        "resolution_business_ms",
        "unanswered_since",
        "answered_within_window",
        "answered_within_window_business",
    ]);
    let time = |at: Option<Timestamp>| at.map(Timestamp::to_rfc3339).unwrap_or_default();
    let verdict = |value: Option<bool>| match value {
        Some(true) => "yes".to_owned(),
        Some(false) => "no".to_owned(),
        None => String::new(),
    };
    for cycle in &data.cycles {
        let replies = cycle
            .replies
            .iter()
            .map(|reply| {
                format!(
                    "{}>{}@{}",
                    reply.waiting_since.to_rfc3339(),
                    reply.replied_at.to_rfc3339(),
                    reply.agent_id.get()
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        csv.row([
            cycle.conversation_id.get().to_string(),
            cycle.channel_id.get().to_string(),
            cycle
                .labels
                .iter()
                .map(|label| label.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            cycle.started_at.to_rfc3339(),
            time(cycle.first_responded_at),
            cycle
                .first_responder_id
                .map(|id| id.get().to_string())
                .unwrap_or_default(),
            cycle
                .first_responder_id
                .map(|id| names.user(id))
                .unwrap_or_default(),
            number(cycle.first_response.map(|elapsed| elapsed.wall_millis)),
            number(cycle.first_response.map(|elapsed| elapsed.business_millis)),
            replies,
            time(cycle.resolved_at),
            number(cycle.resolution.map(|elapsed| elapsed.wall_millis)),
            number(cycle.resolution.map(|elapsed| elapsed.business_millis)),
            time(cycle.unanswered_since),
            verdict(cycle.within_window.wall),
            verdict(cycle.within_window.business),
        ]);
    }
    csv.finish()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{calendar, channel, report_data, templates, viewer};
    use super::*;
    use crate::i18n::catalog;

    #[test]
    fn the_report_page_renders_in_every_language() {
        let data = report_data();
        let channels = vec![channel()];
        for lang in catalog().languages() {
            let caller = viewer(lang);
            let names = Names {
                lang,
                channels: HashMap::from([(ChannelId(7), "Tienda <b> (whatsapp)".to_owned())]),
                users: HashMap::new(),
            };
            let query = ReportQuery {
                share: Some("80".into()),
                ..ReportQuery::default()
            };
            let report = report_view(lang, &data, &names, &channels, &query);
            let listening = vec![ListeningRow {
                day: "2026-12-01".into(),
                source: "Search: <i>tienda</i>".into(),
                messages: 12,
            }];
            let page = Page::new(
                &caller,
                "reports-title",
                "reports",
                ReportsPage { report, listening },
            );
            let html = templates()
                .render("reports", &page)
                .unwrap_or_else(|err| panic!("the report page renders: {err}"));
            assert!(!html.contains("??"), "{} misses a text", lang.code());
            assert!(
                html.contains("data-metric=\"wall.first_response.median\" data-value=\"2220000\"")
            );
            assert!(html.contains("data-metric=\"wall.response_rate\" data-value=\"3/4\""));
            assert!(html.contains("data-metric=\"business.first_response.median\" data-value=\"\""));
            assert!(html.contains("data-key=\"refund\"") && html.contains("data-key=\"0\""));
            assert!(html.contains("Tienda &lt;b&gt;"), "escaped");
            assert!(html.contains("Erlang C"));
            assert!(html.contains("/reports/export/summary.csv?share"));
            assert!(html.contains(&text(lang, "reports-rule-statistics")));
            assert!(html.contains(&text(lang, "reports-api_agent")));
            assert!(html.contains(&text(lang, "reports-day-sunday")));
            assert!(html.contains("&lt; 5 min: 1</title>"), "a bar of the chart");
            if lang == Lang::english() {
                assert!(html.contains("never a mean"));
            }
        }
    }

    #[test]
    fn business_hours_read_as_grouped_days() {
        let spanish = catalog().find("es").expect("the catalog has Spanish");
        assert_eq!(
            business_hours_text(Lang::english(), &calendar()),
            "Mon–Fri 09:00–18:00 · Sat–Sun closed (Europe/Madrid)"
        );
        assert_eq!(
            business_hours_text(spanish, &calendar()),
            "lun–vie 09:00–18:00 · sáb–dom cerrado (Europe/Madrid)"
        );
        assert_eq!(
            business_hours_text(Lang::english(), &BusinessCalendar::always_open()),
            "always open"
        );
    }

    #[test]
    fn heatmap_tooltips_come_from_the_catalog() {
        let data = report_data();
        let volume = volume_svg(Lang::english(), &data);
        assert!(
            volume.contains("<title>Mon 00:00–01:00: 0 customer messages (0.0 per hour)</title>"),
            "{volume}"
        );
        let speed = speed_svg(Lang::english(), &data);
        assert!(
            speed.contains("<title>Sun 23:00–00:00: median first response — (0 cycles)</title>")
        );
        let staffing = staffing_view(Lang::english(), &data, &ReportQuery::default().staffing());
        assert!(staffing.error.is_none());
        assert!(staffing
            .svg
            .contains(": 0 people (0.00 new conversations per hour)</title>"));
        let distribution = distribution_svg(Lang::english(), &data);
        assert!(
            distribution.contains(">&lt; 5 min</text>")
                && distribution.contains(">&gt; 2 d</text>")
        );
    }
}
