//! `GET /reports` and its CSV exports: any signed-in user (viewers read reports too).

use super::csv::{number, Csv};
use super::figures::{duration_text, group_row, summary_rows};
use super::svg::{self, Bucket, Cell, Palette};
use super::{calendar, ReportData, ReportKey, REPORTS_CSS};
use crate::i18n::{self, Lang};
use crate::pages::{base, render, viewer, PageError};
use crate::{AppError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use buzon_core::metrics::{
    required_agents, BusinessCalendar, Clock, Figures, LocalDate, ServiceTarget, Weekday, RULES,
    RULES_ES, STAFFING_ASSUMPTIONS, STAFFING_ASSUMPTIONS_ES,
};
use buzon_core::{Channel, ChannelId, Timestamp, User, UserId};
use buzon_store::API_AGENT;
use serde::Deserialize;
use serde_json::{json, Value};
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
    fn key(&self, calendar: &BusinessCalendar) -> Result<ReportKey, AppError> {
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
                    .map(|value| format!("{name}={}", encode(value)))
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
) -> Result<Option<Timestamp>, AppError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if let Some(instant) = Timestamp::parse_rfc3339(text) {
        return Ok(Some(instant));
    }
    let date = LocalDate::parse(text).map_err(|_| {
        AppError::BadRequest(format!(
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

pub(crate) fn parse_channel(text: Option<&str>) -> Result<Option<ChannelId>, AppError> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .map(|id| Some(ChannelId(id)))
            .map_err(|_| AppError::BadRequest("channel must be a channel id".into())),
    }
}

fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
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

/// `GET /reports`: the figures of a period against the previous one, charts, heatmaps,
/// staffing advice and the tables, with the rules next to them.
pub(crate) async fn show_reports(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let viewer = viewer(&state, &headers).await?;
    let lang = viewer.lang;
    let calendar = calendar(&state);
    let key = query.key(&calendar)?;
    let data = state.reports().report(&state, key).await?;
    let channels = state.store().list_channels().await?;
    let users = state.store().list_users().await?;
    let mut page = base(
        Some(&viewer),
        lang,
        i18n::text(lang, "reports.title"),
        "reports",
    );
    let names = Names::new(lang, &channels, &users);
    let staffing = query.staffing();
    page["report"] = report_view(lang, &data, &names, &channels, &query, &staffing);
    Ok(render(&state, "reports", &page)?.into_response())
}

/// `GET /reports/export/{file}`: one table as CSV.
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let viewer = viewer(&state, &headers).await?;
    let calendar = calendar(&state);
    let key = query.key(&calendar)?;
    let table = file.strip_suffix(".csv").unwrap_or(&file).to_owned();
    if !EXPORTS.contains(&table.as_str()) {
        return Err(PageError::App(AppError::NotFound));
    }
    let data = state.reports().report(&state, key).await?;
    let channels = state.store().list_channels().await?;
    let users = state.store().list_users().await?;
    let names = Names::new(viewer.lang, &channels, &users);
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
    fn new(lang: Lang, channels: &[Channel], users: &[User]) -> Names {
        Names {
            lang,
            channels: channels
                .iter()
                .map(|channel| {
                    (
                        channel.id,
                        format!("{} ({})", channel.name, channel.kind.as_str()),
                    )
                })
                .collect(),
            users: users
                .iter()
                .map(|user| (user.id, user.name.clone()))
                .collect(),
        }
    }

    fn channel(&self, id: ChannelId) -> String {
        self.channels
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{}", id.get()))
    }

    fn user(&self, id: UserId) -> String {
        if id == API_AGENT {
            return i18n::text(self.lang, "reports.api_agent").to_owned();
        }
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{}", id.get()))
    }
}

pub(crate) fn day_names(lang: Lang) -> [String; 7] {
    let names = match lang {
        Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        Lang::Es => ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
    };
    names.map(str::to_owned)
}

/// The rules as list items.
pub(crate) fn rule_items(text: &str) -> Vec<String> {
    text.split("\n- ")
        .map(|rule| rule.trim_start_matches("- ").trim().to_owned())
        .filter(|rule| !rule.is_empty())
        .collect()
}

fn report_view(
    lang: Lang,
    data: &ReportData,
    names: &Names,
    channels: &[Channel],
    query: &ReportQuery,
    staffing: &StaffingInput,
) -> Value {
    let calendar = &data.calendar;
    let last_day = calendar.date_of(data.period.end.plus_millis(-1));
    let previous_last_day = calendar.date_of(data.previous.end.plus_millis(-1));
    let group_rows = |rows: Vec<Value>| {
        if rows.is_empty() {
            Value::Null
        } else {
            json!(rows)
        }
    };
    let by_channel = data
        .current
        .by_channel
        .iter()
        .map(|(id, figures)| group_row(&names.channel(*id), &id.get().to_string(), figures))
        .collect();
    let by_agent = data
        .current
        .by_agent
        .iter()
        .map(|(id, figures)| group_row(&names.user(*id), &id.get().to_string(), figures))
        .collect();
    let mut labels: Vec<(&buzon_core::Label, &Figures)> = data.current.by_label.iter().collect();
    labels.sort_by(|a, b| b.1.cycles.cmp(&a.1.cycles).then(a.0.cmp(b.0)));
    let by_label = labels
        .into_iter()
        .map(|(label, figures)| group_row(label.as_str(), label.as_str(), figures))
        .collect();
    let selected = data.key.channel;
    let encoded = query.encoded();
    let exports: Vec<Value> = EXPORTS
        .iter()
        .map(|name| {
            json!({
                "name": i18n::text(lang, &format!("reports.export_{name}")),
                "href": if encoded.is_empty() {
                    format!("/reports/export/{name}.csv")
                } else {
                    format!("/reports/export/{name}.csv?{encoded}")
                },
            })
        })
        .collect();
    let (rules, assumptions) = match lang {
        Lang::En => (RULES, STAFFING_ASSUMPTIONS),
        Lang::Es => (RULES_ES, STAFFING_ASSUMPTIONS_ES),
    };
    json!({
        "form": {
            "from": calendar.date_of(data.period.start).to_string(),
            "to": last_day.to_string(),
            "include_flagged": data.key.include_flagged,
            "share": format_number(staffing.share_percent),
            "within": format_number(staffing.within_minutes),
            "handling": format_number(staffing.handling_minutes),
        },
        "channels": channels.iter().map(|channel| json!({
            "id": channel.id.get(),
            "name": names.channel(channel.id),
            "selected": selected == Some(channel.id),
        })).collect::<Vec<_>>(),
        "period_text": format!("{} – {}", calendar.date_of(data.period.start), last_day),
        "previous_text": format!("{} – {}", calendar.date_of(data.previous.start), previous_last_day),
        "as_of": data.computed_at.to_rfc3339(),
        "time_zone": calendar.time_zone(),
        "cycles": data.current.overall.cycles,
        "summaries": [
            {
                "clock": "wall",
                "caption": i18n::text(lang, "reports.wall"),
                "rows": summary_rows(lang, Clock::Wall, &data.current.overall, &data.before.overall),
            },
            {
                "clock": "business",
                "caption": format!("{} ({})", i18n::text(lang, "reports.business"), business_hours_text(lang, calendar)),
                "rows": summary_rows(lang, Clock::Business, &data.current.overall, &data.before.overall),
            },
        ],
        "distribution_svg": distribution_svg(lang, data),
        "volume_svg": volume_svg(lang, data),
        "speed_svg": speed_svg(lang, data),
        "staffing": staffing_view(lang, data, staffing),
        "by_channel": group_rows(by_channel),
        "by_agent": group_rows(by_agent),
        "by_label": group_rows(by_label),
        "exports": exports,
        "rules": rule_items(rules),
        "assumptions": assumptions,
    })
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
    let closed = match lang {
        Lang::En => "closed",
        Lang::Es => "cerrado",
    };
    let Some(schedule) = calendar.schedule() else {
        return match lang {
            Lang::En => "always open".to_owned(),
            Lang::Es => "siempre abierto".to_owned(),
        };
    };
    let days = day_names(lang);
    let hours_of = |weekday: Weekday| {
        let intervals = schedule.intervals(weekday);
        if intervals.is_empty() {
            closed.to_owned()
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

/// The buckets of the distribution chart, as (upper bound in minutes, English, Spanish).
const BUCKETS: &[(i64, &str, &str)] = &[
    (5, "< 5 min", "< 5 min"),
    (15, "5–15 min", "5–15 min"),
    (30, "15–30 min", "15–30 min"),
    (60, "30–60 min", "30–60 min"),
    (120, "1–2 h", "1–2 h"),
    (240, "2–4 h", "2–4 h"),
    (480, "4–8 h", "4–8 h"),
    (1440, "8–24 h", "8–24 h"),
    (2880, "1–2 d", "1–2 d"),
    (i64::MAX, "> 2 d", "> 2 d"),
];

fn bucket_of(millis: i64) -> usize {
    let minutes = millis / 60_000;
    BUCKETS
        .iter()
        .position(|(limit, _, _)| minutes < *limit)
        .unwrap_or(BUCKETS.len() - 1)
}

fn distribution_svg(lang: Lang, data: &ReportData) -> String {
    let mut buckets: Vec<Bucket> = BUCKETS
        .iter()
        .map(|(_, en, es)| Bucket {
            label: (if lang == Lang::Es { es } else { en }).to_string(),
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
        i18n::text(lang, "reports.distribution"),
        i18n::text(lang, "reports.this_period"),
        i18n::text(lang, "reports.previous_period"),
        &buckets,
    )
}

fn hour_label(lang: Lang, weekday: Weekday, hour: u8) -> String {
    format!(
        "{} {hour:02}:00–{:02}:00",
        day_names(lang)[weekday.index()],
        (hour + 1) % 24
    )
}

fn volume_svg(lang: Lang, data: &ReportData) -> String {
    let most = data
        .heatmap
        .cells()
        .map(|(_, _, cell)| cell.arrivals)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let unit = match lang {
        Lang::En => "customer messages",
        Lang::Es => "mensajes de clientes",
    };
    let per_hour = match lang {
        Lang::En => "per hour",
        Lang::Es => "por hora",
    };
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
            tooltip: format!(
                "{}: {} {unit} ({:.1} {per_hour})",
                hour_label(lang, weekday, hour),
                cell.arrivals,
                cell.arrivals_per_hour()
            ),
        })
        .collect();
    svg::week_grid(
        i18n::text(lang, "reports.heatmap_volume"),
        &day_names(lang),
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
    let first = match lang {
        Lang::En => "median first response",
        Lang::Es => "mediana de primera respuesta",
    };
    let cycles = match lang {
        Lang::En => "cycles",
        Lang::Es => "ciclos",
    };
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
                tooltip: format!(
                    "{}: {first} {} ({} {cycles})",
                    hour_label(lang, weekday, hour),
                    duration_text(median),
                    cell.first_response.count
                ),
            }
        })
        .collect();
    svg::week_grid(
        i18n::text(lang, "reports.heatmap_speed"),
        &day_names(lang),
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

fn staffing_view(lang: Lang, data: &ReportData, input: &StaffingInput) -> Value {
    let people = match lang {
        Lang::En => "people",
        Lang::Es => "personas",
    };
    let per_hour = match lang {
        Lang::En => "new conversations per hour",
        Lang::Es => "conversaciones nuevas por hora",
    };
    match plan(data, input) {
        Err(error) => json!({ "error": error, "svg": "" }),
        Ok(plan) => {
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
                    tooltip: format!(
                        "{}: {agents} {people} ({rate:.2} {per_hour})",
                        hour_label(lang, weekday, hour),
                    ),
                })
                .collect();
            let title = i18n::text(lang, "reports.staffing_caption");
            json!({
                "error": Value::Null,
                "svg": svg::week_grid(title, &day_names(lang), &cells, Palette::Blues),
            })
        }
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
