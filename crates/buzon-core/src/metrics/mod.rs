//! Response-time metrics: first response time, reply time, resolution time and response rate,
//! in wall-clock time and in business hours, per channel, agent and label; the hour-of-week
//! heatmap; and staffing advice by Erlang C.
//!
//! Everything here is pure: the caller reads the timelines, the calendar and "now" and passes
//! them in. The pages that show the figures state these rules in words (in buzon-web's
//! translation catalog); a change of a rule here is a change of its words there.
//!
//! Rules the issue left open, decided here (and stated next to the figures):
//! - Pending time is subtracted on both clocks. Snoozed time counts: the customer still waits.
//! - A customer message sets the conversation open, as the store does on ingest, which ends
//!   a pending span.
//! - A reopen starts a new cycle right away only when a customer message was left unanswered
//!   at the resolution; otherwise the next cycle starts with the next customer message.
//! - A cycle resolved without a reply by a person counts as not answered in the response rate;
//!   a cycle still inside its window without a reply is not judged yet.
//! - Reply times are one sample per answered burst, the first response included.
//! - Per agent, cycle figures go to the person who replied first and reply times to whoever
//!   wrote each reply.
//! - Percentiles are nearest-rank, so they are always observed values.

mod calendar;
mod cycles;
mod heatmap;
mod hours;
mod snooze;
mod staffing;
mod summary;

#[cfg(test)]
mod tests;

pub use calendar::{
    BusinessCalendar, CalendarError, LocalDate, OpenInterval, Weekday, WeeklySchedule,
};
pub use cycles::{
    compute, measure_conversation, sorted_events, Clock, ConversationTimeline, Cycle, Elapsed,
    MeasuredConversation, MetricEvent, MetricEventKind, MetricsOptions, Period, ReplySample,
    WithinWindow, DAY_MILLIS,
};
pub use heatmap::{heatmap, hour_of_week, Heatmap, HeatmapCell, HeatmapTally};
pub use hours::{
    back_at_text, ExceptionDocument, HoursDocument, WeekDocument, MAX_DATES, MAX_RANGES_PER_DAY,
};
pub use snooze::{snooze_until, LATER_MILLIS, MORNING_MINUTE, SNOOZE_CHOICES};
pub use staffing::{
    erlang_c, required_agents, service_level, staffing_plan, ServiceTarget, StaffingError,
    StaffingPlan, MAX_AGENTS,
};
pub use summary::{nearest_rank, summarize, ClockFigures, Figures, Ratio, Report, Summary};
