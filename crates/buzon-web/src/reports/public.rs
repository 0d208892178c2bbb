//! The public response-time page, its JSON and the badge: for the channels an admin chose to
//! publish, the median first response over the last 7 and 30 days, the response rate and the
//! business hours, with a plain sentence in the visitor's language. No names of people, no
//! message text. Everything is computed ahead by the refresh task and served from memory.

use super::calendar;
use super::figures::percent;
use super::page::{business_hours_text, rule_items};
use super::svg;
use crate::i18n::{self, Lang};
use crate::pages::base;
use crate::{AppError, AppState};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use buzon_core::metrics::{
    summarize, Figures, Period, Ratio, Summary, Weekday, DAY_MILLIS, RULES, RULES_ES,
};
use buzon_core::{ChannelId, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// How long browsers and caches may keep the public answers.
const CACHE_CONTROL: &str = "public, max-age=60";

/// What the public routes serve, computed ahead in both languages.
pub(crate) struct Snapshot {
    /// The JSON document, per language.
    json: HashMap<&'static str, String>,
    /// The page, per language.
    page: HashMap<&'static str, String>,
    /// Badges per (channel, language); channel 0 is every published channel together.
    badges: HashMap<(i64, &'static str), String>,
}

/// One published entry: every published channel together, or one channel.
struct Entry {
    channel: Option<(ChannelId, String, String)>,
    last_7: Figures,
    last_30: Figures,
}

/// Recomputes the snapshot from the store.
pub(crate) async fn refresh(state: &AppState) -> Result<Arc<Snapshot>, AppError> {
    let now = Timestamp::now();
    let channels: Vec<_> = state
        .store()
        .list_channels()
        .await?
        .into_iter()
        .filter(|channel| channel.published)
        .collect();
    let published: HashSet<ChannelId> = channels.iter().map(|channel| channel.id).collect();
    let last_30 = Period {
        start: now.plus_millis(-30 * DAY_MILLIS),
        end: now,
    };
    let cycles: Vec<_> = if published.is_empty() {
        Vec::new()
    } else {
        state
            .reports()
            .public_cycles(state, last_30, now)
            .await?
            .into_iter()
            .filter(|cycle| published.contains(&cycle.channel_id))
            .collect()
    };
    let calendar = calendar(state);
    let snapshot_calendar = calendar.clone();
    let entries = tokio::task::spawn_blocking(move || {
        let week_start = now.plus_millis(-7 * DAY_MILLIS);
        let recent: Vec<_> = cycles
            .iter()
            .filter(|cycle| cycle.started_at >= week_start)
            .cloned()
            .collect();
        (summarize(&cycles), summarize(&recent))
    })
    .await
    .map_err(|err| AppError::Internal(anyhow::anyhow!("computing public figures: {err}")))?;
    let (month, week) = entries;
    let mut list = vec![Entry {
        channel: None,
        last_7: week.overall,
        last_30: month.overall,
    }];
    for channel in &channels {
        list.push(Entry {
            channel: Some((
                channel.id,
                channel.kind.as_str().to_owned(),
                channel.name.clone(),
            )),
            last_7: week
                .by_channel
                .get(&channel.id)
                .copied()
                .unwrap_or_default(),
            last_30: month
                .by_channel
                .get(&channel.id)
                .copied()
                .unwrap_or_default(),
        });
    }
    let mut snapshot = Snapshot {
        json: HashMap::new(),
        page: HashMap::new(),
        badges: HashMap::new(),
    };
    let hours: HashMap<&'static str, String> = [Lang::En, Lang::Es]
        .into_iter()
        .map(|lang| (lang.code(), business_hours_text(lang, &snapshot_calendar)))
        .collect();
    for lang in [Lang::En, Lang::Es] {
        let document = json_document(
            lang,
            now,
            &list,
            &hours[lang.code()],
            &snapshot_calendar,
            channels.is_empty(),
        );
        snapshot.json.insert(
            lang.code(),
            serde_json::to_string_pretty(&document).expect("JSON values serialize"),
        );
        snapshot
            .page
            .insert(lang.code(), render_page(state, lang, &document)?);
        for entry in &list {
            let id = entry.channel.as_ref().map_or(0, |(id, _, _)| id.get());
            snapshot
                .badges
                .insert((id, lang.code()), badge_svg(lang, &entry.last_30));
        }
    }
    let snapshot = Arc::new(snapshot);
    state.reports().set_public_snapshot(snapshot.clone());
    Ok(snapshot)
}

fn summary_json(summary: Summary) -> Value {
    json!({
        "count": summary.count,
        "median_millis": summary.median,
        "p90_millis": summary.p90,
    })
}

fn ratio_json(ratio: Ratio) -> Value {
    json!({
        "answered": ratio.numerator,
        "judged": ratio.denominator,
        "rate": ratio.as_fraction(),
    })
}

fn window_json(days: u32, figures: &Figures) -> Value {
    json!({
        "days": days,
        "cycles": figures.cycles,
        "first_response": summary_json(figures.wall.first_response),
        "first_response_business": summary_json(figures.business.first_response),
        "response_rate": ratio_json(figures.wall.response_rate),
        "response_rate_business": ratio_json(figures.business.response_rate),
    })
}

fn json_document(
    lang: Lang,
    now: Timestamp,
    entries: &[Entry],
    hours: &str,
    calendar: &buzon_core::metrics::BusinessCalendar,
    nothing_published: bool,
) -> Value {
    let entry_json = |entry: &Entry| {
        let mut value = json!({
            "sentence": sentence(lang, entry.last_30.wall.first_response.median),
            "last_7_days": window_json(7, &entry.last_7),
            "last_30_days": window_json(30, &entry.last_30),
        });
        if let Some((id, kind, name)) = &entry.channel {
            value["id"] = json!(id.get());
            value["kind"] = json!(kind);
            value["name"] = json!(name);
        }
        value
    };
    let schedule: serde_json::Map<String, Value> = Weekday::ALL
        .iter()
        .map(|weekday| {
            let intervals: Vec<String> = calendar
                .schedule()
                .map(|schedule| {
                    schedule
                        .intervals(*weekday)
                        .iter()
                        .map(ToString::to_string)
                        .collect()
                })
                .unwrap_or_else(|| vec!["00:00-24:00".to_owned()]);
            (weekday.as_str().to_owned(), json!(intervals))
        })
        .collect();
    let rules = match lang {
        Lang::En => RULES,
        Lang::Es => RULES_ES,
    };
    json!({
        "generated_at": now.to_rfc3339(),
        "language": lang.code(),
        "published": !nothing_published,
        "business_hours": {
            "text": hours,
            "time_zone": calendar.time_zone(),
            "weekly": schedule,
            "holidays": calendar.holidays().map(|date| date.to_string()).collect::<Vec<_>>(),
        },
        "overall": entry_json(&entries[0]),
        "channels": entries[1..].iter().map(entry_json).collect::<Vec<_>>(),
        "rules": rule_items(rules),
    })
}

/// "Usually replies within 40 minutes" / "Suele responder en menos de 40 minutos", from a
/// median in milliseconds; rounded up, so the promise holds.
pub(crate) fn sentence(lang: Lang, median: Option<i64>) -> String {
    let Some(median) = median else {
        return match lang {
            Lang::En => "Not enough replies yet to tell how fast we answer".to_owned(),
            Lang::Es => "Aún no hay respuestas suficientes para saber cuánto tardamos".to_owned(),
        };
    };
    let (amount, unit) = rounded(median);
    match lang {
        Lang::En => {
            let unit = match (unit, amount) {
                (Unit::Minutes, _) => "minutes",
                (Unit::Hours, 1) => "hour",
                (Unit::Hours, _) => "hours",
                (Unit::Days, 1) => "day",
                (Unit::Days, _) => "days",
            };
            format!("Usually replies within {amount} {unit}")
        }
        Lang::Es => {
            let unit = match (unit, amount) {
                (Unit::Minutes, _) => "minutos",
                (Unit::Hours, 1) => "hora",
                (Unit::Hours, _) => "horas",
                (Unit::Days, 1) => "día",
                (Unit::Days, _) => "días",
            };
            format!("Suele responder en menos de {amount} {unit}")
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Minutes,
    Hours,
    Days,
}

/// A duration rounded up to a friendly amount: 5-minute steps under an hour, whole hours
/// under a day, whole days beyond.
fn rounded(millis: i64) -> (i64, Unit) {
    let minutes = (millis.max(1) + 59_999) / 60_000;
    if minutes < 60 {
        let stepped = ((minutes + 4) / 5 * 5).max(5);
        if stepped < 60 {
            return (stepped, Unit::Minutes);
        }
        return (1, Unit::Hours);
    }
    let hours = (minutes + 59) / 60;
    if hours < 24 {
        return (hours, Unit::Hours);
    }
    ((hours + 23) / 24, Unit::Days)
}

fn badge_svg(lang: Lang, figures: &Figures) -> String {
    let median = figures.wall.first_response.median;
    let label = i18n::text(lang, "public.badge_label");
    let Some(millis) = median else {
        return svg::badge(label, i18n::text(lang, "public.badge_none"), "#9f9f9f");
    };
    let (amount, unit) = rounded(millis);
    let unit = match (lang, unit) {
        (_, Unit::Minutes) => "min",
        (_, Unit::Hours) => "h",
        (Lang::En, Unit::Days) => "d",
        (Lang::Es, Unit::Days) => "d",
    };
    let value = match lang {
        Lang::En => format!("within {amount} {unit}"),
        Lang::Es => format!("en menos de {amount} {unit}"),
    };
    let colour = match millis / 60_000 {
        minutes if minutes < 60 => "#2e7d32",
        minutes if minutes < 4 * 60 => "#7cb342",
        minutes if minutes < 24 * 60 => "#f9a825",
        _ => "#c62828",
    };
    svg::badge(label, &value, colour)
}

fn render_page(state: &AppState, lang: Lang, document: &Value) -> Result<String, AppError> {
    let mut page = base(None, lang, i18n::text(lang, "public.title"), "public");
    let entry_view = |entry: &Value| {
        let window = |key: &str| {
            let figures = &entry[key];
            json!({
                "median": duration(figures["first_response"]["median_millis"].as_i64()),
                "median_millis": figures["first_response"]["median_millis"],
                "median_business": duration(figures["first_response_business"]["median_millis"].as_i64()),
                "rate": rate(&figures["response_rate"]),
                "cycles": figures["cycles"],
            })
        };
        json!({
            "name": entry.get("name").cloned().unwrap_or(Value::Null),
            "kind": entry.get("kind").cloned().unwrap_or(Value::Null),
            "id": entry.get("id").cloned().unwrap_or(Value::Null),
            "sentence": entry["sentence"],
            "last_7": window("last_7_days"),
            "last_30": window("last_30_days"),
        })
    };
    let base_url = state.settings().public_url.trim_end_matches('/').to_owned();
    let snippet = format!(
        "<a href=\"{base_url}/public/response-times\"><img src=\"{base_url}/public/badge.svg\" alt=\"{}\"></a>",
        svg::escape(
            document["overall"]["sentence"]
                .as_str()
                .unwrap_or_default()
        )
    );
    page["public"] = json!({
        "published": document["published"],
        "overall": entry_view(&document["overall"]),
        "channels": document["channels"].as_array().map(|list| list.iter().map(entry_view).collect::<Vec<_>>()).unwrap_or_default(),
        "hours": document["business_hours"]["text"],
        "generated_at": document["generated_at"],
        "rules": document["rules"],
        "snippet": snippet,
        "badge": "/public/badge.svg",
    });
    state
        .templates()
        .render("public_response_times", &page)
        .map_err(|err| AppError::Internal(anyhow::anyhow!("rendering the public page: {err}")))
}

fn duration(millis: Option<i64>) -> String {
    super::figures::duration_text(millis)
}

fn rate(ratio: &Value) -> String {
    match ratio["rate"].as_f64() {
        None => "—".to_owned(),
        Some(share) => format!("{}%", percent(share)),
    }
}

/// `?lang=` and `?channel=` of the public routes.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct PublicQuery {
    lang: Option<String>,
    channel: Option<String>,
}

impl PublicQuery {
    fn lang(&self, headers: &HeaderMap) -> Lang {
        match self.lang.as_deref() {
            Some("es") => Lang::Es,
            Some("en") => Lang::En,
            _ => Lang::of(headers),
        }
    }
}

async fn snapshot(state: &AppState) -> Result<Arc<Snapshot>, AppError> {
    match state.reports().public_snapshot() {
        Some(snapshot) => Ok(snapshot),
        // Only before the refresh task's first round: compute once.
        None => refresh(state).await,
    }
}

fn cached(kind: &'static str, body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response
}

/// `GET /public/response-times.json`.
pub(crate) async fn show_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let lang = query.lang(&headers);
    let snapshot = snapshot(&state).await?;
    let mut response = cached(
        "application/json",
        snapshot.json.get(lang.code()).cloned().unwrap_or_default(),
    );
    // Any site may read the published figures.
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(response)
}

/// `GET /public/response-times`.
pub(crate) async fn show_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let lang = query.lang(&headers);
    let snapshot = snapshot(&state).await?;
    Ok(cached(
        "text/html; charset=utf-8",
        snapshot.page.get(lang.code()).cloned().unwrap_or_default(),
    ))
}

/// `GET /public/badge.svg?channel=&lang=`: every published channel together by default.
pub(crate) async fn show_badge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let lang = query.lang(&headers);
    let channel = match query.channel.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(text) => text.parse::<i64>().map_err(|_| AppError::NotFound)?,
    };
    let snapshot = snapshot(&state).await?;
    let badge = snapshot
        .badges
        .get(&(channel, lang.code()))
        .cloned()
        .ok_or(AppError::NotFound)?;
    let mut response = cached("image/svg+xml", badge);
    // Embedded with <img> on other sites.
    response.headers_mut().insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_round_up_to_friendly_amounts() {
        let minutes = |m: i64| Some(m * 60_000);
        assert_eq!(
            sentence(Lang::En, minutes(37)),
            "Usually replies within 40 minutes"
        );
        assert_eq!(
            sentence(Lang::En, Some(30_000)),
            "Usually replies within 5 minutes"
        );
        assert_eq!(
            sentence(Lang::En, minutes(58)),
            "Usually replies within 1 hour"
        );
        assert_eq!(
            sentence(Lang::Es, minutes(58)),
            "Suele responder en menos de 1 hora"
        );
        assert_eq!(
            sentence(Lang::En, minutes(61)),
            "Usually replies within 2 hours"
        );
        assert_eq!(
            sentence(Lang::Es, minutes(25 * 60)),
            "Suele responder en menos de 2 días"
        );
        assert_eq!(
            sentence(Lang::En, minutes(40)),
            "Usually replies within 40 minutes"
        );
        assert!(sentence(Lang::En, None).starts_with("Not enough"));
    }
}
