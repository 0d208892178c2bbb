//! Response-time metrics: first response time, reply time, resolution time and response rate,
//! in wall-clock time and in business hours, per channel, agent and label; the hour-of-week
//! heatmap; and staffing advice by Erlang C.
//!
//! Everything here is pure: the caller reads the timelines, the calendar and "now" and passes
//! them in. [`RULES`] and [`RULES_ES`] state the rules for the pages that show the figures.
//!
//! Rules the issue left open, decided here (and stated in [`RULES`]):
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
pub use staffing::{
    erlang_c, required_agents, service_level, staffing_plan, ServiceTarget, StaffingError,
    StaffingPlan, MAX_AGENTS, STAFFING_ASSUMPTIONS, STAFFING_ASSUMPTIONS_ES,
};
pub use summary::{nearest_rank, summarize, ClockFigures, Figures, Ratio, Report, Summary};

/// How the response-time figures are measured, in English, to show next to them.
pub const RULES: &str = "\
- First response time runs from the customer's first message of a cycle to the first reply \
written by a person. Automatic replies never count as responses.
- A cycle starts with the customer's first message, or with their first message after the \
conversation was resolved. A reopened conversation starts a new cycle instead of inflating \
the old one.
- Reply time runs from the first unanswered customer message to the next reply by a person: \
a burst of customer messages counts from its first unanswered message.
- Resolution time runs from the start of the cycle to its resolution.
- Response rate is the share of cycles that got a reply by a person within 24 hours (24 hours \
of opening time, in the business-hours figures). A cycle resolved without such a reply \
counts as not answered; a cycle still within its 24 hours without a reply is not counted yet.
- Time in pending (waiting on the customer) does not count, neither in wall-clock time nor in \
business hours; a new message from the customer ends the wait. Snoozed time counts.
- In business hours only opening hours count, in the business's time zone; holidays do not \
count. A message that arrives while closed starts counting at the next opening.
- Times are the platforms' times; messages are put in the order of those times, whatever \
order they arrived in.
- Conversations of trolls and spammers are left out unless they are included on purpose.
- Each figure is a median, a 90th percentile (nearest rank) and a count, never a mean.";

/// How the response-time figures are measured, in Spanish, to show next to them.
pub const RULES_ES: &str = "\
- El tiempo de primera respuesta va desde el primer mensaje del cliente en un ciclo hasta la \
primera respuesta escrita por una persona. Las respuestas automáticas nunca cuentan como \
respuesta.
- Un ciclo empieza con el primer mensaje del cliente, o con su primer mensaje después de que \
la conversación se resolviera. Una conversación reabierta empieza un ciclo nuevo en lugar de \
alargar el anterior.
- El tiempo de respuesta va desde el primer mensaje del cliente sin contestar hasta la \
siguiente respuesta de una persona: una ráfaga de mensajes del cliente cuenta desde su \
primer mensaje sin contestar.
- El tiempo de resolución va desde el inicio del ciclo hasta su resolución.
- La tasa de respuesta es la proporción de ciclos que recibieron respuesta de una persona en \
24 horas (24 horas de apertura, en las cifras en horario laboral). Un ciclo resuelto sin \
esa respuesta cuenta como no contestado; un ciclo que aún está dentro de sus 24 horas sin \
respuesta todavía no se cuenta.
- El tiempo en pendiente (esperando al cliente) no cuenta, ni en tiempo real ni en horario \
laboral; un nuevo mensaje del cliente termina la espera. El tiempo pospuesto sí cuenta.
- En horario laboral solo cuenta el horario de apertura, en la zona horaria del negocio; los \
festivos no cuentan. Un mensaje que llega con el negocio cerrado empieza a contar en la \
siguiente apertura.
- Las horas son las de las plataformas; los mensajes se ordenan por esas horas, sea cual sea \
el orden en que llegaron.
- Las conversaciones de troles y spam quedan fuera salvo que se incluyan a propósito.
- Cada cifra es una mediana, un percentil 90 (rango más cercano) y un recuento, nunca una \
media.";
