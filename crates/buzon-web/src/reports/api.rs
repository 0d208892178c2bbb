//! `GET /api/v1/metrics/response-times?from=&to=&channel=&include_flagged=`: the figures of a
//! period for scripts, on both clocks. Any token.

use super::page::{parse_bound, parse_channel, rule_items};
use super::{calendar, ReportKey};
use crate::auth::Principal;
use crate::{AppError, AppState};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use buzon_core::metrics::{ClockFigures, Figures, Ratio, Summary, RULES};
use serde::Deserialize;
use serde_json::{json, Value};

/// The query string of the metrics API.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct MetricsQuery {
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
    include_flagged: Option<String>,
}

/// `GET /api/v1/metrics/response-times`.
pub(crate) async fn response_times(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<MetricsQuery>,
) -> Result<Json<Value>, AppError> {
    Principal::from_bearer(&state, &headers).await?;
    let calendar = calendar(&state);
    let key = ReportKey {
        from: parse_bound(query.from.as_deref(), &calendar, false)?,
        to: parse_bound(query.to.as_deref(), &calendar, true)?,
        channel: parse_channel(query.channel.as_deref())?,
        include_flagged: matches!(query.include_flagged.as_deref(), Some("true" | "1" | "yes")),
    };
    let data = state.reports().report(&state, key).await?;
    let by_channel: Vec<Value> = data
        .current
        .by_channel
        .iter()
        .map(|(id, figures)| {
            let mut value = figures_json(figures);
            value["channel_id"] = json!(id.get());
            value
        })
        .collect();
    Ok(Json(json!({
        "from": data.period.start.to_rfc3339(),
        "to": data.period.end.to_rfc3339(),
        "channel": data.key.channel.map(|id| id.get()),
        "include_flagged": data.key.include_flagged,
        "as_of": data.computed_at.to_rfc3339(),
        "time_zone": data.calendar.time_zone(),
        "response_window_hours": 24,
        "overall": figures_json(&data.current.overall),
        "previous": {
            "from": data.previous.start.to_rfc3339(),
            "to": data.previous.end.to_rfc3339(),
            "overall": figures_json(&data.before.overall),
        },
        "by_channel": by_channel,
        "rules": rule_items(RULES),
    })))
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

fn clock_json(figures: &ClockFigures) -> Value {
    json!({
        "first_response": summary_json(figures.first_response),
        "reply_time": summary_json(figures.reply_time),
        "resolution": summary_json(figures.resolution),
        "response_rate": ratio_json(figures.response_rate),
    })
}

fn figures_json(figures: &Figures) -> Value {
    json!({
        "cycles": figures.cycles,
        "wall": clock_json(&figures.wall),
        "business": clock_json(&figures.business),
    })
}
