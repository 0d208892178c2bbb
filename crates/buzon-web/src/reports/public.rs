//! The public response-time page, its JSON and the badge: for the channels an admin chose to
//! publish, the median first response over the last 7 and 30 days, the response rate and the
//! business hours, with a plain sentence in the visitor's language. No names of people, no
//! message text, no sign-in. Everything is computed ahead by the refresh task, in every
//! language of the catalog, and served from memory.

use super::figures::{duration_text, percent, RatioJson, SummaryJson};
use super::page::business_hours_text;
use super::{rules, svg};
use crate::http::WebError;
use crate::i18n::{catalog, text, text_with, Lang};
use crate::view::{Page, Templates};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use buzon_app::AppError;
use buzon_core::metrics::{summarize, BusinessCalendar, Figures, Period, Weekday, DAY_MILLIS};
use buzon_core::{Channel, ChannelId, Timestamp};
use fluent_bundle::FluentValue;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How long browsers and caches may keep the public answers.
const CACHE_CONTROL: &str = "public, max-age=60";

/// What the public routes serve, computed ahead in every language.
pub(crate) struct Snapshot {
    /// The JSON document, per language.
    json: HashMap<Lang, String>,
    /// The page, per language.
    page: HashMap<Lang, String>,
    /// Badges per (channel, language); channel 0 is every published channel together.
    badges: HashMap<(i64, Lang), String>,
}

/// One published entry: every published channel together, or one channel.
struct Entry<'a> {
    channel: Option<&'a Channel>,
    last_7: Figures,
    last_30: Figures,
}

/// The public JSON document.
#[derive(Serialize)]
struct PublicDocument {
    generated_at: String,
    language: &'static str,
    published: bool,
    business_hours: BusinessHoursJson,
    overall: EntryJson,
    channels: Vec<EntryJson>,
    rules: Vec<String>,
}

#[derive(Serialize)]
struct BusinessHoursJson {
    text: String,
    /// Whether the team is open as the figures were computed.
    open_now: bool,
    /// When the team is back, when closed (RFC 3339).
    back_at: Option<String>,
    /// "Open now." or "Outside business hours — back on Monday at 09:00.", in the language.
    status: String,
    time_zone: String,
    /// Opening intervals by weekday (`monday`: [`09:00-18:00`]).
    weekly: BTreeMap<&'static str, Vec<String>>,
    holidays: Vec<String>,
}

/// One entry's figures; a channel's carries its id, kind and name.
#[derive(Serialize)]
struct EntryJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<ChannelId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    sentence: String,
    last_7_days: WindowJson,
    last_30_days: WindowJson,
}

/// The figures of the last `days` days.
#[derive(Serialize)]
struct WindowJson {
    days: u32,
    cycles: u64,
    first_response: SummaryJson,
    first_response_business: SummaryJson,
    response_rate: RatioJson,
    response_rate_business: RatioJson,
}

/// The public page's own view.
#[derive(Serialize)]
struct PublicPage {
    public: PublicView,
}

#[derive(Serialize)]
struct PublicView {
    published: bool,
    overall: EntryView,
    channels: Vec<EntryView>,
    hours: String,
    opening: String,
    generated_at: String,
    rules: Vec<String>,
    snippet: String,
    badge: &'static str,
}

/// One entry as the page shows it.
#[derive(Serialize)]
struct EntryView {
    id: Option<ChannelId>,
    kind: Option<&'static str>,
    name: Option<String>,
    sentence: String,
    last_7: WindowView,
    last_30: WindowView,
}

#[derive(Serialize)]
struct WindowView {
    median: String,
    median_millis: Option<i64>,
    median_business: String,
    rate: String,
    cycles: u64,
}

/// Recomputes the public figures and keeps them for the public routes.
pub(crate) async fn refresh(state: &AppState) -> Result<Arc<Snapshot>, AppError> {
    let now = Timestamp::now();
    let channels = state.app().published_channels().await?;
    let last_30 = Period {
        start: now.plus_millis(-30 * DAY_MILLIS),
        end: now,
    };
    let cycles = state.app().public_cycles(last_30, now).await?;
    let opening = state.app().opening_state(None).await?;
    let calendar = opening.calendar.clone();
    let (month, week) = tokio::task::spawn_blocking(move || {
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
    let mut entries = vec![Entry {
        channel: None,
        last_7: week.overall,
        last_30: month.overall,
    }];
    for channel in &channels {
        entries.push(Entry {
            channel: Some(channel),
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
    for lang in catalog().languages() {
        let document = PublicDocument::new(lang, now, &entries, &calendar, &opening);
        let page = render_page(
            state.templates(),
            &state.settings().public_url,
            lang,
            &document,
        )?;
        snapshot.json.insert(
            lang,
            serde_json::to_string_pretty(&document).expect("the public document serializes"),
        );
        snapshot.page.insert(lang, page);
        for entry in &entries {
            let id = entry.channel.map_or(0, |channel| channel.id.get());
            snapshot
                .badges
                .insert((id, lang), badge_svg(lang, &entry.last_30));
        }
    }
    let snapshot = Arc::new(snapshot);
    state.public_figures().set(snapshot.clone());
    Ok(snapshot)
}

impl PublicDocument {
    fn new(
        lang: Lang,
        now: Timestamp,
        entries: &[Entry<'_>],
        calendar: &BusinessCalendar,
        opening: &buzon_app::OpeningState,
    ) -> PublicDocument {
        let weekly = Weekday::ALL
            .iter()
            .map(|weekday| {
                let intervals = calendar
                    .schedule()
                    .map(|schedule| {
                        schedule
                            .intervals(*weekday)
                            .iter()
                            .map(ToString::to_string)
                            .collect()
                    })
                    .unwrap_or_else(|| vec!["00:00-24:00".to_owned()]);
                (weekday.as_str(), intervals)
            })
            .collect();
        PublicDocument {
            generated_at: now.to_rfc3339(),
            language: lang.code(),
            // The first entry is every channel together; the others, the published channels.
            published: entries.len() > 1,
            business_hours: BusinessHoursJson {
                text: business_hours_text(lang, calendar),
                open_now: opening.open,
                back_at: opening.back_at.map(Timestamp::to_rfc3339),
                status: match opening.back_at_text(lang.code()) {
                    Some(when) => text_with(lang, "hours-closed_banner", &[("when", when.into())]),
                    None if opening.open => text(lang, "hours-open_now"),
                    None => String::new(),
                },
                time_zone: calendar.time_zone().to_owned(),
                weekly,
                holidays: calendar.holidays().map(|date| date.to_string()).collect(),
            },
            overall: EntryJson::new(lang, &entries[0]),
            channels: entries[1..]
                .iter()
                .map(|entry| EntryJson::new(lang, entry))
                .collect(),
            rules: rules(lang),
        }
    }
}

impl EntryJson {
    fn new(lang: Lang, entry: &Entry<'_>) -> EntryJson {
        EntryJson {
            id: entry.channel.map(|channel| channel.id),
            kind: entry.channel.map(|channel| channel.kind.as_str()),
            name: entry.channel.map(|channel| channel.name.clone()),
            sentence: sentence(lang, entry.last_30.wall.first_response.median),
            last_7_days: WindowJson::new(7, &entry.last_7),
            last_30_days: WindowJson::new(30, &entry.last_30),
        }
    }
}

impl WindowJson {
    fn new(days: u32, figures: &Figures) -> WindowJson {
        WindowJson {
            days,
            cycles: figures.cycles,
            first_response: figures.wall.first_response.into(),
            first_response_business: figures.business.first_response.into(),
            response_rate: figures.wall.response_rate.into(),
            response_rate_business: figures.business.response_rate.into(),
        }
    }
}

/// "Usually replies within 40 minutes" / "Suele responder en menos de 40 minutos", from a
/// median in milliseconds; rounded up, so the promise holds.
pub(crate) fn sentence(lang: Lang, median: Option<i64>) -> String {
    let Some(median) = median else {
        return text(lang, "public-sentence_none");
    };
    let (amount, unit) = rounded(median);
    let key = match unit {
        Unit::Minutes => "public-sentence_minutes",
        Unit::Hours => "public-sentence_hours",
        Unit::Days => "public-sentence_days",
    };
    text_with(lang, key, &[("n", FluentValue::from(amount))])
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
    let label = text(lang, "public-badge_label");
    let Some(millis) = median else {
        return svg::badge(&label, &text(lang, "public-badge_none"), "#9f9f9f");
    };
    let (amount, unit) = rounded(millis);
    let key = match unit {
        Unit::Minutes => "public-badge_minutes",
        Unit::Hours => "public-badge_hours",
        Unit::Days => "public-badge_days",
    };
    let value = text_with(lang, key, &[("n", FluentValue::from(amount))]);
    let colour = match millis / 60_000 {
        minutes if minutes < 60 => "#2e7d32",
        minutes if minutes < 4 * 60 => "#7cb342",
        minutes if minutes < 24 * 60 => "#f9a825",
        _ => "#c62828",
    };
    svg::badge(&label, &value, colour)
}

/// The public page in `lang`, showing `document`; the embed snippet points at `public_url`.
fn render_page(
    templates: &Templates,
    public_url: &str,
    lang: Lang,
    document: &PublicDocument,
) -> Result<String, AppError> {
    let base_url = public_url.trim_end_matches('/');
    let snippet = format!(
        "<a href=\"{base_url}/public/response-times\"><img src=\"{base_url}/public/badge.svg\" alt=\"{}\"></a>",
        svg::escape(&document.overall.sentence)
    );
    let view = PublicView {
        published: document.published,
        overall: EntryView::of(&document.overall),
        channels: document.channels.iter().map(EntryView::of).collect(),
        hours: document.business_hours.text.clone(),
        opening: document.business_hours.status.clone(),
        generated_at: document.generated_at.clone(),
        rules: document.rules.clone(),
        snippet,
        badge: "/public/badge.svg",
    };
    let page = Page::anonymous(
        lang,
        text(lang, "public-title"),
        "public",
        String::new(),
        PublicPage { public: view },
    );
    templates
        .render("public_response_times", &page)
        .map_err(|err| AppError::Internal(anyhow::anyhow!("rendering the public page: {err}")))
}

impl EntryView {
    fn of(entry: &EntryJson) -> EntryView {
        EntryView {
            id: entry.id,
            kind: entry.kind,
            name: entry.name.clone(),
            sentence: entry.sentence.clone(),
            last_7: WindowView::of(&entry.last_7_days),
            last_30: WindowView::of(&entry.last_30_days),
        }
    }
}

impl WindowView {
    fn of(window: &WindowJson) -> WindowView {
        WindowView {
            median: duration_text(window.first_response.median_millis),
            median_millis: window.first_response.median_millis,
            median_business: duration_text(window.first_response_business.median_millis),
            rate: match window.response_rate.rate {
                None => "—".to_owned(),
                Some(share) => format!("{}%", percent(share)),
            },
            cycles: window.cycles,
        }
    }
}

/// `?lang=` and `?channel=` of the public routes.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct PublicQuery {
    lang: Option<String>,
    channel: Option<String>,
}

impl PublicQuery {
    /// `?lang=` when the catalog has it, else the request's language.
    fn lang(&self, headers: &HeaderMap) -> Lang {
        self.lang
            .as_deref()
            .and_then(|code| catalog().find(code))
            .unwrap_or_else(|| Lang::of(headers))
    }
}

async fn snapshot(state: &AppState) -> Result<Arc<Snapshot>, AppError> {
    match state.public_figures().get() {
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
) -> Result<Response, WebError> {
    let lang = query.lang(&headers);
    let snapshot = snapshot(&state).await?;
    let mut response = cached(
        "application/json",
        snapshot.json.get(&lang).cloned().unwrap_or_default(),
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
) -> Result<Response, WebError> {
    let lang = query.lang(&headers);
    let snapshot = snapshot(&state).await?;
    Ok(cached(
        "text/html; charset=utf-8",
        snapshot.page.get(&lang).cloned().unwrap_or_default(),
    ))
}

/// `GET /public/badge.svg?channel=&lang=`: every published channel together by default.
pub(crate) async fn show_badge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PublicQuery>,
) -> Result<Response, WebError> {
    let lang = query.lang(&headers);
    let channel = match query.channel.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(text) => text.parse::<i64>().map_err(|_| WebError::not_found())?,
    };
    let snapshot = snapshot(&state).await?;
    let badge = snapshot
        .badges
        .get(&(channel, lang))
        .cloned()
        .ok_or_else(WebError::not_found)?;
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
    use super::super::testing::{calendar, channel, keys, templates};
    use super::*;
    use serde_json::json;

    #[test]
    fn the_public_document_keeps_its_shape_and_the_page_renders_in_every_language() {
        let channel = channel();
        let mut week = Figures {
            cycles: 2,
            ..Figures::default()
        };
        week.wall.first_response.count = 1;
        week.wall.first_response.median = Some(37 * 60_000);
        week.wall.response_rate.numerator = 1;
        week.wall.response_rate.denominator = 2;
        let entries = [
            Entry {
                channel: None,
                last_7: week,
                last_30: week,
            },
            Entry {
                channel: Some(&channel),
                last_7: week,
                last_30: Figures::default(),
            },
        ];
        let now = Timestamp::now();
        // Judged on a Saturday morning: closed until Monday.
        let saturday = Timestamp::parse_rfc3339("2026-12-12T11:00:00+01:00").unwrap();
        let opening = buzon_app::OpeningState {
            open: false,
            back_at: calendar().next_opening(saturday),
            now: saturday,
            calendar: calendar(),
        };
        for lang in catalog().languages() {
            let document = PublicDocument::new(lang, now, &entries, &calendar(), &opening);
            let value = serde_json::to_value(&document).expect("the document serializes");
            assert_eq!(
                keys(&value),
                [
                    "business_hours",
                    "channels",
                    "generated_at",
                    "language",
                    "overall",
                    "published",
                    "rules"
                ]
            );
            assert_eq!(value["language"], lang.code());
            assert_eq!(value["published"], true);
            assert_eq!(
                keys(&value["business_hours"]),
                [
                    "back_at",
                    "holidays",
                    "open_now",
                    "status",
                    "text",
                    "time_zone",
                    "weekly"
                ]
            );
            assert_eq!(value["business_hours"]["open_now"], false);
            let status = value["business_hours"]["status"].as_str().unwrap();
            assert!(
                status.contains("Monday at 09:00") || status.contains("lunes a las 09:00"),
                "{status}"
            );
            assert_eq!(
                value["business_hours"]["weekly"]["monday"],
                json!(["09:00-18:00"])
            );
            assert_eq!(value["business_hours"]["weekly"]["sunday"], json!([]));
            assert_eq!(
                keys(&value["overall"]),
                ["last_30_days", "last_7_days", "sentence"]
            );
            let listed = &value["channels"][0];
            assert_eq!(
                keys(listed),
                [
                    "id",
                    "kind",
                    "last_30_days",
                    "last_7_days",
                    "name",
                    "sentence"
                ]
            );
            assert_eq!(listed["id"], 7);
            assert_eq!(listed["kind"], "whatsapp");
            let window = &value["overall"]["last_7_days"];
            assert_eq!(
                keys(window),
                [
                    "cycles",
                    "days",
                    "first_response",
                    "first_response_business",
                    "response_rate",
                    "response_rate_business"
                ]
            );
            assert_eq!(window["days"], 7);
            assert_eq!(
                window["first_response"],
                json!({"count": 1, "median_millis": 2_220_000, "p90_millis": null})
            );
            assert_eq!(
                window["response_rate"],
                json!({"answered": 1, "judged": 2, "rate": 0.5})
            );
            assert_eq!(
                listed["last_30_days"]["response_rate"],
                json!({"answered": 0, "judged": 0, "rate": null})
            );
            assert_eq!(value["rules"].as_array().map(Vec::len), Some(10));

            let html = render_page(&templates(), "https://shop.example/", lang, &document)
                .unwrap_or_else(|err| panic!("the public page renders: {err}"));
            assert!(!html.contains("??"), "{} misses a text", lang.code());
            assert!(html.contains("data-value=\"2220000\""), "{html}");
            assert!(html.contains("data-channel=\"7\"") && html.contains("Tienda &lt;b&gt;"));
            assert!(html.contains("https://shop.example/public/badge.svg"));
            assert!(html.contains(&document.overall.sentence));
            assert!(html.contains("50%"));
        }
    }

    #[test]
    fn sentences_round_up_to_friendly_amounts() {
        let english = Lang::english();
        let spanish = catalog().find("es").expect("the catalog has Spanish");
        let minutes = |m: i64| Some(m * 60_000);
        assert_eq!(
            sentence(english, minutes(37)),
            "Usually replies within 40 minutes"
        );
        assert_eq!(
            sentence(english, Some(30_000)),
            "Usually replies within 5 minutes"
        );
        assert_eq!(
            sentence(english, minutes(58)),
            "Usually replies within 1 hour"
        );
        assert_eq!(
            sentence(spanish, minutes(58)),
            "Suele responder en menos de 1 hora"
        );
        assert_eq!(
            sentence(english, minutes(61)),
            "Usually replies within 2 hours"
        );
        assert_eq!(
            sentence(spanish, minutes(25 * 60)),
            "Suele responder en menos de 2 días"
        );
        assert_eq!(
            sentence(english, minutes(24 * 60)),
            "Usually replies within 1 day"
        );
        assert_eq!(
            sentence(english, minutes(40)),
            "Usually replies within 40 minutes"
        );
        assert!(sentence(english, None).starts_with("Not enough"));
    }

    #[test]
    fn badges_state_the_rounded_median_in_the_visitor_language() {
        let spanish = catalog().find("es").expect("the catalog has Spanish");
        let mut figures = Figures::default();
        figures.wall.first_response.median = Some(37 * 60_000);
        let english = badge_svg(Lang::english(), &figures);
        assert!(
            english.contains("usually replies: within 40 min"),
            "{english}"
        );
        assert!(english.contains("#2e7d32"));
        let spanish = badge_svg(spanish, &figures);
        assert!(
            spanish.contains("suele responder: en menos de 40 min"),
            "{spanish}"
        );
        figures.wall.first_response.median = None;
        assert!(badge_svg(Lang::english(), &figures).contains("no data yet"));
    }
}
