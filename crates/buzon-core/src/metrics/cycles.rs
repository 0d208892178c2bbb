//! From a conversation's timeline to response cycles and their time samples.

use super::BusinessCalendar;
use crate::{ChannelId, ConversationId, ConversationStatus, Label, Timestamp, UserId};
use serde::Serialize;

/// Twenty-four hours in milliseconds: the default window of the response rate.
pub const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// What happened in a conversation, as far as response times are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricEventKind {
    /// A message written by the customer.
    CustomerMessage,
    /// A reply written by a person (an agent or admin).
    HumanReply {
        /// The user who wrote it.
        agent_id: UserId,
    },
    /// A reply written by an automatic rule; it never counts as a response.
    AutomaticReply,
    /// The conversation moved to a status (a move out of resolved is a reopen).
    StatusChange(ConversationStatus),
}

/// One event of a conversation's timeline, at the platform's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricEvent {
    /// When it happened, as the platform reports it (for status changes, buzon's time).
    pub at: Timestamp,
    /// What happened.
    pub kind: MetricEventKind,
}

impl MetricEvent {
    /// A customer message at `at`.
    pub const fn customer_message(at: Timestamp) -> MetricEvent {
        MetricEvent {
            at,
            kind: MetricEventKind::CustomerMessage,
        }
    }

    /// A reply by the person `agent_id` at `at`.
    pub const fn human_reply(at: Timestamp, agent_id: UserId) -> MetricEvent {
        MetricEvent {
            at,
            kind: MetricEventKind::HumanReply { agent_id },
        }
    }

    /// An automatic reply at `at`.
    pub const fn automatic_reply(at: Timestamp) -> MetricEvent {
        MetricEvent {
            at,
            kind: MetricEventKind::AutomaticReply,
        }
    }

    /// A move to `status` at `at`.
    pub const fn status_change(at: Timestamp, status: ConversationStatus) -> MetricEvent {
        MetricEvent {
            at,
            kind: MetricEventKind::StatusChange(status),
        }
    }
}

/// One conversation's events and the attributes figures are grouped and filtered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationTimeline {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Its labels (troll, spam and blocked ones flag it, like a flagged author).
    pub labels: Vec<Label>,
    /// Whether its author is flagged as a troll, a spammer or blocked.
    pub author_flagged: bool,
    /// Its events, in any order.
    pub events: Vec<MetricEvent>,
}

impl ConversationTimeline {
    /// Whether the conversation is left out of figures by default (troll, spam or blocked).
    pub fn is_flagged(&self) -> bool {
        self.author_flagged || self.labels.iter().any(Label::is_flagging)
    }
}

/// A half-open span of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    /// The first instant inside.
    pub start: Timestamp,
    /// The first instant after.
    pub end: Timestamp,
}

impl Period {
    /// Whether `at` lies inside.
    pub fn contains(self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

/// How to compute: the moment of the data, the response window and the troll switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsOptions {
    /// The moment the data describes ("now"): cycles without a reply are judged against it.
    pub as_of: Timestamp,
    /// The window of the response rate, in milliseconds of the clock at hand (24 h by default).
    pub response_window_millis: i64,
    /// Whether conversations of trolls and spammers count (they do not by default).
    pub include_flagged: bool,
}

impl MetricsOptions {
    /// The defaults as of `as_of`: a 24-hour window, flagged conversations left out.
    pub const fn as_of(as_of: Timestamp) -> MetricsOptions {
        MetricsOptions {
            as_of,
            response_window_millis: DAY_MILLIS,
            include_flagged: false,
        }
    }
}

/// Which clock a figure is measured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Elapsed real time, minus time in pending.
    Wall,
    /// Opening time of the business calendar, minus time in pending.
    Business,
}

/// A duration measured with both clocks, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Elapsed {
    /// Wall-clock milliseconds, pending time excluded.
    pub wall_millis: i64,
    /// Business-hours milliseconds, pending time excluded.
    pub business_millis: i64,
}

impl Elapsed {
    /// The milliseconds on `clock`.
    pub const fn on(self, clock: Clock) -> i64 {
        match clock {
            Clock::Wall => self.wall_millis,
            Clock::Business => self.business_millis,
        }
    }
}

/// Whether a cycle got a reply by a person within the window, per clock; `None` while the
/// window is still running without a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct WithinWindow {
    /// Judged on the wall clock.
    pub wall: Option<bool>,
    /// Judged on business hours.
    pub business: Option<bool>,
}

impl WithinWindow {
    /// The verdict on `clock`.
    pub const fn on(self, clock: Clock) -> Option<bool> {
        match clock {
            Clock::Wall => self.wall,
            Clock::Business => self.business,
        }
    }
}

/// One answered burst: from the first unanswered customer message to the next human reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ReplySample {
    /// Who replied.
    pub agent_id: UserId,
    /// The first customer message of the burst (or the reopen, for a carried-over burst).
    pub waiting_since: Timestamp,
    /// The reply.
    pub replied_at: Timestamp,
    /// The time in between.
    pub elapsed: Elapsed,
}

/// One response cycle of a conversation: from a customer message that found nobody waiting
/// on it to the resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cycle {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Its labels.
    pub labels: Vec<Label>,
    /// When the cycle started: its first customer message, or the reopen that carried over an
    /// unanswered message.
    pub started_at: Timestamp,
    /// The person who replied first, if anyone did.
    pub first_responder_id: Option<UserId>,
    /// When the first human reply came.
    pub first_responded_at: Option<Timestamp>,
    /// The first response time.
    pub first_response: Option<Elapsed>,
    /// Every answered burst, first response included.
    pub replies: Vec<ReplySample>,
    /// When the cycle was resolved.
    pub resolved_at: Option<Timestamp>,
    /// The resolution time.
    pub resolution: Option<Elapsed>,
    /// The first customer message still unanswered at the end of the cycle (or now).
    pub unanswered_since: Option<Timestamp>,
    /// Whether a person replied within the response window.
    pub within_window: WithinWindow,
}

/// Splits each conversation into response cycles and measures them with the wall clock and
/// with `calendar`; keeps cycles that start in `period` and, unless asked, leaves out
/// flagged conversations.
pub fn compute(
    conversations: &[ConversationTimeline],
    calendar: &BusinessCalendar,
    period: Period,
    options: &MetricsOptions,
) -> Vec<Cycle> {
    conversations
        .iter()
        .filter(|conversation| options.include_flagged || !conversation.is_flagged())
        .flat_map(|conversation| {
            measure_conversation(conversation, calendar)
                .cycles_in(period, calendar, options)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One conversation's cycles, measured once with the wall clock and a calendar. Everything in
/// them is settled by the events except the response-rate verdict, which depends on the
/// window and, for a cycle still waiting for its first reply, on "now":
/// [`MeasuredConversation::cycles_in`] judges it when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredConversation {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Whether it is left out of figures by default (troll, spam or blocked).
    pub flagged: bool,
    cycles: Vec<Cycle>,
    /// Spans in pending, `[start, end)`; the last may run on forever.
    pending: Vec<(Timestamp, Option<Timestamp>)>,
}

/// Splits `conversation` into response cycles and measures them with the wall clock and with
/// `calendar`. The verdicts are left unjudged (`None`).
pub fn measure_conversation(
    conversation: &ConversationTimeline,
    calendar: &BusinessCalendar,
) -> MeasuredConversation {
    let clocks = Clocks {
        wall: wall_clock(),
        business: calendar,
    };
    let walk = walk(&sorted_events(&conversation.events));
    let cycles = walk
        .cycles
        .into_iter()
        .map(|raw| measure(conversation, raw, &walk.pending, &clocks))
        .collect();
    MeasuredConversation {
        conversation_id: conversation.conversation_id,
        channel_id: conversation.channel_id,
        flagged: conversation.is_flagged(),
        cycles,
        pending: walk.pending,
    }
}

impl MeasuredConversation {
    /// Every cycle, oldest first, with its verdict not judged yet.
    pub fn cycles(&self) -> &[Cycle] {
        &self.cycles
    }

    /// The cycles that started in `period`, judged as of `options.as_of` against
    /// `options.response_window_millis`. `calendar` must be the one they were measured with.
    pub fn cycles_in<'a>(
        &'a self,
        period: Period,
        calendar: &'a BusinessCalendar,
        options: &'a MetricsOptions,
    ) -> impl Iterator<Item = Cycle> + 'a {
        self.cycles
            .iter()
            .filter(move |cycle| period.contains(cycle.started_at))
            .map(move |cycle| Cycle {
                within_window: self.judge(cycle, calendar, options),
                ..cycle.clone()
            })
    }

    /// Whether `cycle` got a reply by a person within the window, on each clock.
    pub fn judge(
        &self,
        cycle: &Cycle,
        calendar: &BusinessCalendar,
        options: &MetricsOptions,
    ) -> WithinWindow {
        let window = options.response_window_millis;
        let verdict = |clock: Clock| -> Option<bool> {
            match (cycle.first_response, cycle.resolved_at) {
                (Some(first), _) => Some(first.on(clock) <= window),
                // Resolved without a reply by a person: not answered.
                (None, Some(_)) => Some(false),
                (None, None) => {
                    let clocks = Clocks {
                        wall: wall_clock(),
                        business: calendar,
                    };
                    let waited = clocks.elapsed(cycle.started_at, options.as_of, &self.pending);
                    (waited.on(clock) > window).then_some(false)
                }
            }
        };
        WithinWindow {
            wall: verdict(Clock::Wall),
            business: verdict(Clock::Business),
        }
    }
}

/// The always-open UTC calendar that measures wall-clock time.
fn wall_clock() -> &'static BusinessCalendar {
    static WALL: std::sync::OnceLock<BusinessCalendar> = std::sync::OnceLock::new();
    WALL.get_or_init(BusinessCalendar::always_open)
}

/// The events in time order; at equal times a customer message comes before replies, and
/// replies before status changes (then by agent or status, so the order never depends on how
/// the events were read).
pub fn sorted_events(events: &[MetricEvent]) -> Vec<MetricEvent> {
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|event| (event.at, tie_rank(event.kind)));
    sorted
}

fn tie_rank(kind: MetricEventKind) -> (u8, i64) {
    match kind {
        MetricEventKind::CustomerMessage => (0, 0),
        MetricEventKind::AutomaticReply => (1, 0),
        MetricEventKind::HumanReply { agent_id } => (2, agent_id.get()),
        MetricEventKind::StatusChange(status) => (
            3,
            match status {
                ConversationStatus::Open => 0,
                ConversationStatus::Pending => 1,
                ConversationStatus::Snoozed => 2,
                ConversationStatus::Resolved => 3,
            },
        ),
    }
}

/// A cycle before it is measured: only instants.
#[derive(Debug)]
struct RawCycle {
    started_at: Timestamp,
    awaiting_since: Option<Timestamp>,
    first_reply: Option<(UserId, Timestamp)>,
    replies: Vec<(UserId, Timestamp, Timestamp)>,
    resolved_at: Option<Timestamp>,
}

struct Walk {
    cycles: Vec<RawCycle>,
    /// Spans in pending, `[start, end)`; the last may run on forever.
    pending: Vec<(Timestamp, Option<Timestamp>)>,
}

/// Walks sorted events through the conversation's states. Rules, in the order they matter:
/// a customer message sets the conversation open (as the store does on ingest) and starts a
/// cycle when none is running; a human reply answers the running burst; a resolution ends
/// the running cycle; a reopen starts a new cycle only when a customer message was still
/// unanswered at the resolution; automatic replies change nothing.
fn walk(events: &[MetricEvent]) -> Walk {
    let mut cycles: Vec<RawCycle> = Vec::new();
    let mut pending: Vec<(Timestamp, Option<Timestamp>)> = Vec::new();
    let mut status = ConversationStatus::Open;
    let mut current: Option<RawCycle> = None;
    // An unanswered message left behind by a resolution, carried into a reopen.
    let mut left_unanswered = false;

    for event in events {
        let at = event.at;
        match event.kind {
            MetricEventKind::CustomerMessage => {
                move_to(&mut status, ConversationStatus::Open, at, &mut pending);
                let cycle = current.get_or_insert_with(|| RawCycle::starting(at));
                cycle.awaiting_since.get_or_insert(at);
                left_unanswered = false;
            }
            MetricEventKind::HumanReply { agent_id } => {
                if let Some(cycle) = current.as_mut() {
                    if let Some(since) = cycle.awaiting_since.take() {
                        cycle.first_reply.get_or_insert((agent_id, at));
                        cycle.replies.push((agent_id, since, at));
                    }
                }
            }
            MetricEventKind::AutomaticReply => {}
            MetricEventKind::StatusChange(next) => {
                let was_resolved = status == ConversationStatus::Resolved;
                move_to(&mut status, next, at, &mut pending);
                if next == ConversationStatus::Resolved {
                    if let Some(mut cycle) = current.take() {
                        cycle.resolved_at = Some(at);
                        left_unanswered = cycle.awaiting_since.is_some();
                        cycles.push(cycle);
                    }
                } else if was_resolved && left_unanswered {
                    current = Some(RawCycle::starting(at));
                    left_unanswered = false;
                }
            }
        }
    }
    cycles.extend(current);
    Walk { cycles, pending }
}

fn move_to(
    status: &mut ConversationStatus,
    next: ConversationStatus,
    at: Timestamp,
    pending: &mut Vec<(Timestamp, Option<Timestamp>)>,
) {
    let was_pending = *status == ConversationStatus::Pending;
    let is_pending = next == ConversationStatus::Pending;
    if was_pending && !is_pending {
        if let Some(last) = pending.last_mut() {
            last.1 = Some(at);
        }
    } else if is_pending && !was_pending {
        pending.push((at, None));
    }
    *status = next;
}

struct Clocks<'a> {
    wall: &'a BusinessCalendar,
    business: &'a BusinessCalendar,
}

impl RawCycle {
    fn starting(at: Timestamp) -> RawCycle {
        RawCycle {
            started_at: at,
            awaiting_since: Some(at),
            first_reply: None,
            replies: Vec::new(),
            resolved_at: None,
        }
    }
}

impl Clocks<'_> {
    fn elapsed(
        &self,
        start: Timestamp,
        end: Timestamp,
        pending: &[(Timestamp, Option<Timestamp>)],
    ) -> Elapsed {
        Elapsed {
            wall_millis: counted_millis(self.wall, start, end, pending),
            business_millis: counted_millis(self.business, start, end, pending),
        }
    }
}

/// The calendar's time between `start` and `end` minus its time inside pending spans.
fn counted_millis(
    calendar: &BusinessCalendar,
    start: Timestamp,
    end: Timestamp,
    pending: &[(Timestamp, Option<Timestamp>)],
) -> i64 {
    let total = calendar.business_millis_between(start, end);
    let paused: i64 = pending
        .iter()
        .map(|(pending_start, pending_end)| {
            let from = start.max(*pending_start);
            let to = pending_end.map_or(end, |pending_end| end.min(pending_end));
            calendar.business_millis_between(from, to)
        })
        .sum();
    (total - paused).max(0)
}

fn measure(
    conversation: &ConversationTimeline,
    raw: RawCycle,
    pending: &[(Timestamp, Option<Timestamp>)],
    clocks: &Clocks<'_>,
) -> Cycle {
    let started_at = raw.started_at;
    let first_response = raw
        .first_reply
        .map(|(_, at)| clocks.elapsed(started_at, at, pending));
    let replies = raw
        .replies
        .iter()
        .map(|&(agent_id, waiting_since, replied_at)| ReplySample {
            agent_id,
            waiting_since,
            replied_at,
            elapsed: clocks.elapsed(waiting_since, replied_at, pending),
        })
        .collect();
    let resolution = raw
        .resolved_at
        .map(|at| clocks.elapsed(started_at, at, pending));
    Cycle {
        conversation_id: conversation.conversation_id,
        channel_id: conversation.channel_id,
        labels: conversation.labels.clone(),
        started_at,
        first_responder_id: raw.first_reply.map(|(agent_id, _)| agent_id),
        first_responded_at: raw.first_reply.map(|(_, at)| at),
        first_response,
        replies,
        resolved_at: raw.resolved_at,
        resolution,
        unanswered_since: raw.awaiting_since,
        within_window: WithinWindow {
            wall: None,
            business: None,
        },
    }
}
