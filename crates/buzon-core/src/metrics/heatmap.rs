//! When customers write: arrivals per hour of the week, in the calendar's time zone.

use super::{
    compute, BusinessCalendar, ConversationTimeline, Elapsed, MetricEventKind, MetricsOptions,
    Period, Summary, Weekday,
};
use crate::Timestamp;
use serde::Serialize;

/// The cells are walked in steps of this size: every time zone's offset from UTC is a multiple
/// of 15 minutes today, so a local hour always starts on a step.
const STEP_MILLIS: i64 = 15 * 60 * 1000;
const HOUR_MILLIS: i64 = 60 * 60 * 1000;

/// One hour of the week: how many customer messages arrived and how fast cycles begun in it
/// were first answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct HeatmapCell {
    /// Customer messages that arrived in this hour of the week during the period.
    pub arrivals: u64,
    /// How long the period spent in this hour of the week, in milliseconds (about one hour
    /// per week of the period; DST days make it shorter or longer).
    pub exposure_millis: i64,
    /// First response times (wall clock) of cycles that started in this hour of the week.
    pub first_response: Summary,
    /// The same in business hours.
    pub first_response_business: Summary,
}

impl HeatmapCell {
    /// The mean arrival rate, in messages per hour, over the period's occurrences of this hour.
    pub fn arrivals_per_hour(&self) -> f64 {
        if self.exposure_millis <= 0 {
            return 0.0;
        }
        self.arrivals as f64 * HOUR_MILLIS as f64 / self.exposure_millis as f64
    }
}

/// Seven days of 24 cells each, Monday 00:00 first, in local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heatmap {
    /// The IANA zone whose local hours the cells are.
    pub time_zone: String,
    cells: Vec<HeatmapCell>,
}

impl Heatmap {
    /// The cell of `weekday` at local `hour` (0 to 23; later hours read as 23).
    pub fn cell(&self, weekday: Weekday, hour: u8) -> &HeatmapCell {
        &self.cells[cell_index(weekday, hour)]
    }

    /// Every cell with its weekday and hour, Monday 00:00 first.
    pub fn cells(&self) -> impl Iterator<Item = (Weekday, u8, &HeatmapCell)> + '_ {
        self.cells.iter().enumerate().map(|(index, cell)| {
            let weekday = Weekday::ALL[index / 24];
            (weekday, (index % 24) as u8, cell)
        })
    }
}

/// Counts customer messages per local hour of the week over `period` and puts the median
/// first response of the cycles started in each hour next to them; the period should be
/// bounded (weeks or months), as it is walked in 15-minute steps.
pub fn heatmap(
    conversations: &[ConversationTimeline],
    calendar: &BusinessCalendar,
    period: Period,
    options: &MetricsOptions,
) -> Heatmap {
    let mut tally = HeatmapTally::default();
    let counted = conversations
        .iter()
        .filter(|conversation| options.include_flagged || !conversation.is_flagged());
    for conversation in counted {
        for event in &conversation.events {
            if event.kind == MetricEventKind::CustomerMessage && period.contains(event.at) {
                tally.arrival(hour_of_week(calendar, event.at));
            }
        }
    }
    for cycle in compute(conversations, calendar, period, options) {
        if let Some(first) = cycle.first_response {
            tally.first_response(hour_of_week(calendar, cycle.started_at), first);
        }
    }
    tally.finish(calendar, period)
}

/// The heatmap cell (0 = Monday 00:00 to 167 = Sunday 23:00, local time) of `at`.
pub fn hour_of_week(calendar: &BusinessCalendar, at: Timestamp) -> u8 {
    let (weekday, hour) = calendar.local_weekday_hour(at);
    cell_index(weekday, hour) as u8
}

/// A heatmap being counted: arrivals and first responses by hour of the week (see
/// [`hour_of_week`]), for callers that keep the cells of their events.
#[derive(Debug, Clone)]
pub struct HeatmapTally {
    arrivals: Vec<u64>,
    first_responses: Vec<(Vec<i64>, Vec<i64>)>,
}

impl Default for HeatmapTally {
    fn default() -> HeatmapTally {
        HeatmapTally {
            arrivals: vec![0; 7 * 24],
            first_responses: vec![(Vec::new(), Vec::new()); 7 * 24],
        }
    }
}

impl HeatmapTally {
    /// Counts a customer message that arrived in `cell`.
    pub fn arrival(&mut self, cell: u8) {
        if let Some(count) = self.arrivals.get_mut(usize::from(cell)) {
            *count += 1;
        }
    }

    /// Adds the first response time of a cycle that started in `cell`.
    pub fn first_response(&mut self, cell: u8, first: Elapsed) {
        if let Some((wall, business)) = self.first_responses.get_mut(usize::from(cell)) {
            wall.push(first.wall_millis);
            business.push(first.business_millis);
        }
    }

    /// The heatmap of `period`: the counts, each cell's medians, and how long the period spent
    /// in each hour of the week.
    pub fn finish(self, calendar: &BusinessCalendar, period: Period) -> Heatmap {
        let mut cells = vec![HeatmapCell::default(); 7 * 24];
        for ((cell, arrivals), (wall, business)) in cells
            .iter_mut()
            .zip(self.arrivals)
            .zip(&self.first_responses)
        {
            cell.arrivals = arrivals;
            cell.first_response = Summary::of(wall);
            cell.first_response_business = Summary::of(business);
        }
        let mut at = period.start.as_millis();
        while at < period.end.as_millis() {
            let next_step = (at.div_euclid(STEP_MILLIS) + 1) * STEP_MILLIS;
            let until = next_step.min(period.end.as_millis());
            let (weekday, hour) = calendar.local_weekday_hour(Timestamp::from_millis(at));
            cells[cell_index(weekday, hour)].exposure_millis += until - at;
            at = until;
        }
        Heatmap {
            time_zone: calendar.time_zone().to_owned(),
            cells,
        }
    }
}

fn cell_index(weekday: Weekday, hour: u8) -> usize {
    weekday.index() * 24 + usize::from(hour.min(23))
}
