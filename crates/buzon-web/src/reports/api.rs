//! `GET /api/v1/metrics/response-times?from=&to=&channel=&include_flagged=`: the figures of a
//! period for scripts, on both clocks. Any token.

use super::figures::{RatioJson, SummaryJson};
use super::page::{parse_bound, parse_channel};
use super::rules;
use crate::http::{Viewer, WebError};
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use buzon_app::reports::{ReportData, ReportKey};
use buzon_core::metrics::{ClockFigures, Figures};
use buzon_core::ChannelId;
use serde::{Deserialize, Serialize};

/// The query string of the metrics API.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MetricsQuery {
    /// The first day (`YYYY-MM-DD`, in the team's zone) or an RFC 3339 instant; 28 days ago
    /// when absent.
    from: Option<String>,
    /// The last day or instant; now when absent.
    to: Option<String>,
    /// A channel id.
    channel: Option<String>,
    /// `true` to count conversations of flagged authors (trolls, spam).
    include_flagged: Option<String>,
}

/// The figures of a period, the previous period and each channel.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ResponseTimesJson {
    from: String,
    to: String,
    channel: Option<ChannelId>,
    include_flagged: bool,
    as_of: String,
    time_zone: String,
    response_window_hours: u32,
    overall: FiguresJson,
    previous: PreviousJson,
    by_channel: Vec<ChannelFiguresJson>,
    /// Conversations escalated to the supervisors in the period.
    escalations: buzon_app::EscalationCounts,
    /// Answers to the closing question in the period: in all, per agent, channel and label.
    satisfaction: buzon_app::SatisfactionReport,
    /// How the figures are measured, in English.
    rules: Vec<String>,
}

/// The previous period of the same length.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PreviousJson {
    from: String,
    to: String,
    overall: FiguresJson,
}

/// One channel's figures.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ChannelFiguresJson {
    channel_id: ChannelId,
    #[serde(flatten)]
    figures: FiguresJson,
}

/// The figures of a group of cycles on both clocks.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FiguresJson {
    cycles: u64,
    wall: ClockJson,
    business: ClockJson,
}

/// The figures on one clock.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ClockJson {
    first_response: SummaryJson,
    reply_time: SummaryJson,
    resolution: SummaryJson,
    response_rate: RatioJson,
}

/// `GET /api/v1/metrics/response-times`.
#[utoipa::path(
    get,
    path = "/api/v1/metrics/response-times",
    tag = "reports",
    operation_id = "response_times",
    params(MetricsQuery),
    responses((status = 200, description = "The figures", body = ResponseTimesJson)),
    security(("token" = ["viewer"]))
)]
pub(crate) async fn response_times(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(query): Query<MetricsQuery>,
) -> Result<Json<ResponseTimesJson>, WebError> {
    let calendar = state.app().business_calendar();
    let key = ReportKey {
        from: parse_bound(query.from.as_deref(), &calendar, false)?,
        to: parse_bound(query.to.as_deref(), &calendar, true)?,
        channel: parse_channel(query.channel.as_deref())?,
        include_flagged: matches!(query.include_flagged.as_deref(), Some("true" | "1" | "yes")),
    };
    let data = state.app().report(&caller.actor, key).await?;
    let mut json = ResponseTimesJson::of(&data);
    let figures = state.app().queue_figures(&caller.actor, &data).await?;
    json.escalations = figures.escalations;
    json.satisfaction = figures.satisfaction;
    Ok(Json(json))
}

impl ResponseTimesJson {
    fn of(data: &ReportData) -> ResponseTimesJson {
        ResponseTimesJson {
            from: data.period.start.to_rfc3339(),
            to: data.period.end.to_rfc3339(),
            channel: data.key.channel,
            include_flagged: data.key.include_flagged,
            as_of: data.computed_at.to_rfc3339(),
            time_zone: data.calendar.time_zone().to_owned(),
            response_window_hours: 24,
            overall: FiguresJson::of(&data.current.overall),
            previous: PreviousJson {
                from: data.previous.start.to_rfc3339(),
                to: data.previous.end.to_rfc3339(),
                overall: FiguresJson::of(&data.before.overall),
            },
            by_channel: data
                .current
                .by_channel
                .iter()
                .map(|(id, figures)| ChannelFiguresJson {
                    channel_id: *id,
                    figures: FiguresJson::of(figures),
                })
                .collect(),
            escalations: buzon_app::EscalationCounts::default(),
            satisfaction: buzon_app::SatisfactionReport::default(),
            // Scripts read one language whatever their headers say.
            rules: rules(Lang::english()),
        }
    }
}

impl FiguresJson {
    fn of(figures: &Figures) -> FiguresJson {
        FiguresJson {
            cycles: figures.cycles,
            wall: ClockJson::of(&figures.wall),
            business: ClockJson::of(&figures.business),
        }
    }
}

impl ClockJson {
    fn of(figures: &ClockFigures) -> ClockJson {
        ClockJson {
            first_response: figures.first_response.into(),
            reply_time: figures.reply_time.into(),
            resolution: figures.resolution.into(),
            response_rate: figures.response_rate.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{keys, report_data};
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn the_metrics_document_keeps_its_shape() {
        let value = serde_json::to_value(ResponseTimesJson::of(&report_data()))
            .expect("the document serializes");
        assert_eq!(
            keys(&value),
            [
                "as_of",
                "by_channel",
                "channel",
                "escalations",
                "from",
                "include_flagged",
                "overall",
                "previous",
                "response_window_hours",
                "rules",
                "satisfaction",
                "time_zone",
                "to"
            ]
        );
        assert_eq!(value["channel"], Value::Null);
        assert_eq!(value["response_window_hours"], 24);
        assert_eq!(keys(&value["previous"]), ["from", "overall", "to"]);
        assert_eq!(keys(&value["overall"]), ["business", "cycles", "wall"]);
        assert_eq!(
            keys(&value["overall"]["wall"]),
            [
                "first_response",
                "reply_time",
                "resolution",
                "response_rate"
            ]
        );
        assert_eq!(
            value["overall"]["wall"]["first_response"],
            json!({"count": 4, "median_millis": 2_220_000, "p90_millis": 4_440_000})
        );
        assert_eq!(
            value["overall"]["wall"]["response_rate"],
            json!({"answered": 3, "judged": 4, "rate": 0.75})
        );
        let channel = &value["by_channel"][0];
        assert_eq!(keys(channel), ["business", "channel_id", "cycles", "wall"]);
        assert_eq!(channel["channel_id"], 7);
        let rules = value["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 10);
        assert!(rules[9]
            .as_str()
            .is_some_and(|rule| rule.ends_with("never a mean.")));
    }
}
