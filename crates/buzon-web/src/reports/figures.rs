//! Figures in words and numbers: durations, shares, the rows of the report tables, and the
//! shapes of a summary and a share in the JSON documents.

use crate::i18n::{text, Lang};
use crate::view::human_duration;
use buzon_core::metrics::{Clock, Figures, Ratio, Summary};
use serde::Serialize;

/// A summary in the JSON documents: how many, the median and the 90th percentile.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SummaryJson {
    pub count: u64,
    pub median_millis: Option<i64>,
    pub p90_millis: Option<i64>,
}

impl From<Summary> for SummaryJson {
    fn from(summary: Summary) -> SummaryJson {
        SummaryJson {
            count: summary.count,
            median_millis: summary.median,
            p90_millis: summary.p90,
        }
    }
}

/// A share in the JSON documents: answered of judged, and the fraction (null when nothing
/// was judged).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RatioJson {
    pub answered: u64,
    pub judged: u64,
    pub rate: Option<f64>,
}

impl From<Ratio> for RatioJson {
    fn from(ratio: Ratio) -> RatioJson {
        RatioJson {
            answered: ratio.numerator,
            judged: ratio.denominator,
            rate: ratio.as_fraction(),
        }
    }
}

/// One row of a summary table: a figure of this period against the previous one.
#[derive(Serialize)]
pub(crate) struct SummaryRow {
    label: String,
    /// The figure's name (`wall.first_response.median`), for `data-metric`.
    metric: String,
    /// The figure as a number (milliseconds, a count, `answered/judged`), for `data-value`.
    value: String,
    current: String,
    previous: String,
    change: String,
}

/// One row of a per-channel, per-agent or per-label table.
#[derive(Serialize)]
pub(crate) struct GroupRow {
    name: String,
    key: String,
    cycles: u64,
    first_median: String,
    first_median_value: String,
    first_p90: String,
    first_count: u64,
    reply_median: String,
    reply_p90: String,
    reply_count: u64,
    rate: String,
    business_first_median: String,
    business_first_p90: String,
    business_rate: String,
}

/// "45 s", "12 min", "3 h 5 min", "2 d 4 h"; "—" when there is no figure.
pub(crate) fn duration_text(millis: Option<i64>) -> String {
    match millis {
        None => "—".to_owned(),
        Some(millis) if millis < 60_000 => format!("{} s", millis.max(0) / 1000),
        Some(millis) => human_duration(millis),
    }
}

/// "90% (45/50)"; "—" when nothing was judged.
pub(crate) fn ratio_text(ratio: Ratio) -> String {
    match ratio.as_fraction() {
        None => "—".to_owned(),
        Some(share) => format!(
            "{}% ({}/{})",
            percent(share),
            ratio.numerator,
            ratio.denominator
        ),
    }
}

/// A share in whole percent, rounded half up.
pub(crate) fn percent(share: f64) -> u64 {
    (share * 100.0).round() as u64
}

/// The change from `before` to `now`, signed, in words ("−5 min", "+2 h 10 min").
fn duration_change(now: Option<i64>, before: Option<i64>) -> String {
    match (now, before) {
        (Some(now), Some(before)) => {
            let delta = now - before;
            let sign = if delta < 0 {
                "−"
            } else if delta > 0 {
                "+"
            } else {
                "±"
            };
            format!("{sign}{}", duration_text(Some(delta.abs())))
        }
        _ => "—".to_owned(),
    }
}

fn ratio_change(now: Ratio, before: Ratio) -> String {
    match (now.as_fraction(), before.as_fraction()) {
        (Some(now), Some(before)) => {
            let points = (now * 100.0).round() as i64 - (before * 100.0).round() as i64;
            let sign = match points.signum() {
                -1 => "−",
                1 => "+",
                _ => "±",
            };
            format!("{sign}{} pp", points.abs())
        }
        _ => "—".to_owned(),
    }
}

/// Milliseconds as a `data-value`: empty when there is no figure.
fn millis_value(millis: Option<i64>) -> String {
    millis.map(|millis| millis.to_string()).unwrap_or_default()
}

/// The summary rows of one clock: this period against the previous one.
pub(crate) fn summary_rows(
    lang: Lang,
    clock: Clock,
    now: &Figures,
    before: &Figures,
) -> Vec<SummaryRow> {
    let prefix = match clock {
        Clock::Wall => "wall",
        Clock::Business => "business",
    };
    let (now_clock, before_clock) = (now.on(clock), before.on(clock));
    let mut rows = Vec::new();
    let summaries: [(&str, &str, Summary, Summary); 3] = [
        (
            "first_response",
            "reports-first_response",
            now_clock.first_response,
            before_clock.first_response,
        ),
        (
            "reply_time",
            "reports-reply_time",
            now_clock.reply_time,
            before_clock.reply_time,
        ),
        (
            "resolution",
            "reports-resolution",
            now_clock.resolution,
            before_clock.resolution,
        ),
    ];
    for (metric, label_key, now_summary, before_summary) in summaries {
        let label = text(lang, label_key);
        for (stat, stat_key, now_value, before_value) in [
            (
                "median",
                "reports-median",
                now_summary.median,
                before_summary.median,
            ),
            ("p90", "reports-p90", now_summary.p90, before_summary.p90),
        ] {
            rows.push(SummaryRow {
                label: format!("{label} · {}", text(lang, stat_key)),
                metric: format!("{prefix}.{metric}.{stat}"),
                value: millis_value(now_value),
                current: duration_text(now_value),
                previous: duration_text(before_value),
                change: duration_change(now_value, before_value),
            });
        }
        rows.push(SummaryRow {
            label: format!("{label} · {}", text(lang, "reports-count")),
            metric: format!("{prefix}.{metric}.count"),
            value: now_summary.count.to_string(),
            current: now_summary.count.to_string(),
            previous: before_summary.count.to_string(),
            change: signed_count(now_summary.count, before_summary.count),
        });
    }
    let (now_rate, before_rate) = (now_clock.response_rate, before_clock.response_rate);
    rows.push(SummaryRow {
        label: text(lang, "reports-response_rate"),
        metric: format!("{prefix}.response_rate"),
        value: format!("{}/{}", now_rate.numerator, now_rate.denominator),
        current: ratio_text(now_rate),
        previous: ratio_text(before_rate),
        change: ratio_change(now_rate, before_rate),
    });
    rows
}

fn signed_count(now: u64, before: u64) -> String {
    let delta = now as i64 - before as i64;
    match delta.signum() {
        -1 => format!("−{}", delta.abs()),
        1 => format!("+{delta}"),
        _ => "±0".to_owned(),
    }
}

impl GroupRow {
    /// The row of the group `name` (`key` for `data-key`).
    pub(crate) fn new(name: String, key: String, figures: &Figures) -> GroupRow {
        let wall = &figures.wall;
        let business = &figures.business;
        GroupRow {
            name,
            key,
            cycles: figures.cycles,
            first_median: duration_text(wall.first_response.median),
            first_median_value: millis_value(wall.first_response.median),
            first_p90: duration_text(wall.first_response.p90),
            first_count: wall.first_response.count,
            reply_median: duration_text(wall.reply_time.median),
            reply_p90: duration_text(wall.reply_time.p90),
            reply_count: wall.reply_time.count,
            rate: ratio_text(wall.response_rate),
            business_first_median: duration_text(business.first_response.median),
            business_first_p90: duration_text(business.first_response.p90),
            business_rate: ratio_text(business.response_rate),
        }
    }
}
