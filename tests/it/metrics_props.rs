//! A property test of the response-time figures (issue 14): for random histories — customer
//! messages, replies by people and by rules, moves to pending, open and resolved, at random
//! times — the figures buzon computes equal those of a naive reference written here from the
//! rules in the README ("How the figures are measured"): cycles, first response, reply and
//! resolution times with pending time subtracted, and their counts, medians and 90th
//! percentiles (nearest rank).

use buzon_core::metrics::ConversationTimeline;
use buzon_core::metrics::{
    compute, summarize, BusinessCalendar, MetricEvent, MetricsOptions, Period,
};
use buzon_core::{ChannelId, ConversationId, ConversationStatus, Timestamp, UserId};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Debug, Clone, Copy)]
enum Step {
    Customer,
    Person(i64),
    Rule,
    Status(ConversationStatus),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Customer),
        3 => (1i64..4).prop_map(Step::Person),
        1 => Just(Step::Rule),
        1 => Just(Step::Status(ConversationStatus::Pending)),
        1 => Just(Step::Status(ConversationStatus::Open)),
        2 => Just(Step::Status(ConversationStatus::Resolved)),
    ]
}

/// Histories: steps at strictly increasing times (gaps from a second to a few days).
fn history() -> impl Strategy<Value = Vec<(i64, Step)>> {
    proptest::collection::vec((1_000i64..300_000_000, step()), 1..40).prop_map(|steps| {
        let mut at = 1_700_000_000_000i64;
        steps
            .into_iter()
            .map(|(gap, step)| {
                at += gap;
                (at, step)
            })
            .collect()
    })
}

/// One cycle as the reference measures it (wall milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RefCycle {
    started_at: i64,
    first: Option<(i64, i64, i64)>,
    replies: Vec<(i64, i64, i64)>,
    resolved: Option<(i64, i64)>,
}

/// The reference: the README's rules, written plainly.
fn reference(history: &[(i64, Step)]) -> Vec<RefCycle> {
    // Pending spans first: from a move to pending to the next move away from it (a customer
    // message moves the conversation to open).
    let mut pending: Vec<(i64, Option<i64>)> = Vec::new();
    let mut in_pending = false;
    for (at, step) in history {
        let next = match step {
            Step::Customer => Some(ConversationStatus::Open),
            Step::Status(status) => Some(*status),
            _ => None,
        };
        if let Some(next) = next {
            let to_pending = next == ConversationStatus::Pending;
            if in_pending && !to_pending {
                pending.last_mut().unwrap().1 = Some(*at);
            } else if to_pending && !in_pending {
                pending.push((*at, None));
            }
            in_pending = to_pending;
        }
    }
    let counted = |from: i64, to: i64| -> i64 {
        let paused: i64 = pending
            .iter()
            .map(|(start, end)| {
                let a = from.max(*start);
                let b = end.map_or(to, |end| end.min(to));
                (b - a).max(0)
            })
            .sum();
        (to - from - paused).max(0)
    };
    let mut cycles = Vec::new();
    let mut open: Option<(RefCycle, Option<i64>)> = None;
    let mut resolved = false;
    let mut carried_over = false;
    for (at, step) in history {
        match step {
            Step::Customer => {
                resolved = false;
                carried_over = false;
                let (_, waiting) = open.get_or_insert_with(|| {
                    (
                        RefCycle {
                            started_at: *at,
                            first: None,
                            replies: Vec::new(),
                            resolved: None,
                        },
                        None,
                    )
                });
                if waiting.is_none() {
                    *waiting = Some(*at);
                }
            }
            Step::Person(agent) => {
                if let Some((cycle, waiting)) = open.as_mut() {
                    if let Some(since) = waiting.take() {
                        if cycle.first.is_none() {
                            cycle.first = Some((*agent, *at, counted(cycle.started_at, *at)));
                        }
                        cycle.replies.push((since, *at, counted(since, *at)));
                    }
                }
            }
            Step::Rule => {}
            Step::Status(ConversationStatus::Resolved) => {
                if let Some((mut cycle, waiting)) = open.take() {
                    cycle.resolved = Some((*at, counted(cycle.started_at, *at)));
                    carried_over = waiting.is_some();
                    cycles.push(cycle);
                }
                resolved = true;
            }
            Step::Status(_) => {
                // Reopened with a message left unanswered: a new cycle from the reopen.
                if resolved && carried_over {
                    open = Some((
                        RefCycle {
                            started_at: *at,
                            first: None,
                            replies: Vec::new(),
                            resolved: None,
                        },
                        Some(*at),
                    ));
                    carried_over = false;
                }
                resolved = false;
            }
        }
    }
    cycles.extend(open.map(|(cycle, _)| cycle));
    cycles
}

fn nearest_rank(mut samples: Vec<i64>, percent: u64) -> Option<i64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort();
    let rank = ((percent * samples.len() as u64).div_ceil(100)).max(1) as usize;
    Some(samples[rank - 1])
}

#[test]
fn figures_of_random_histories_equal_the_naive_reference() {
    let mut runner = TestRunner::new(Config {
        cases: 600,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(history(), 1..4), |histories| {
            let timelines: Vec<ConversationTimeline> = histories
                .iter()
                .enumerate()
                .map(|(n, history)| ConversationTimeline {
                    conversation_id: ConversationId(n as i64 + 1),
                    channel_id: ChannelId(1),
                    labels: Vec::new(),
                    author_flagged: false,
                    events: history
                        .iter()
                        .map(|(at, step)| {
                            let at = Timestamp::from_millis(*at);
                            match step {
                                Step::Customer => MetricEvent::customer_message(at),
                                Step::Person(agent) => MetricEvent::human_reply(at, UserId(*agent)),
                                Step::Rule => MetricEvent::automatic_reply(at),
                                Step::Status(status) => MetricEvent::status_change(at, *status),
                            }
                        })
                        .collect(),
                })
                .collect();
            let calendar = BusinessCalendar::always_open();
            let period = Period {
                start: Timestamp::from_millis(0),
                end: Timestamp::from_millis(i64::MAX / 2),
            };
            let options = MetricsOptions::as_of(Timestamp::from_millis(1_800_000_000_000));
            let cycles = compute(&timelines, &calendar, period, &options);
            let expected: Vec<RefCycle> = histories.iter().flat_map(|h| reference(h)).collect();
            prop_assert_eq!(cycles.len(), expected.len());
            for (cycle, expected) in cycles.iter().zip(&expected) {
                prop_assert_eq!(cycle.started_at.as_millis(), expected.started_at);
                let first = cycle.first_response.map(|elapsed| {
                    (
                        cycle.first_responder_id.unwrap().get(),
                        cycle.first_responded_at.unwrap().as_millis(),
                        elapsed.wall_millis,
                    )
                });
                prop_assert_eq!(first, expected.first);
                let replies: Vec<(i64, i64, i64)> = cycle
                    .replies
                    .iter()
                    .map(|reply| {
                        (
                            reply.waiting_since.as_millis(),
                            reply.replied_at.as_millis(),
                            reply.elapsed.wall_millis,
                        )
                    })
                    .collect();
                prop_assert_eq!(&replies, &expected.replies);
                let resolved = cycle
                    .resolved_at
                    .map(|at| (at.as_millis(), cycle.resolution.unwrap().wall_millis));
                prop_assert_eq!(resolved, expected.resolved);
                // Always open: business time is wall time.
                if let Some(elapsed) = cycle.first_response {
                    prop_assert_eq!(elapsed.business_millis, elapsed.wall_millis);
                }
            }
            // The figures: counts, medians and 90th percentiles on the wall clock.
            let figures = summarize(&cycles).overall;
            let firsts: Vec<i64> = expected
                .iter()
                .filter_map(|c| c.first.map(|f| f.2))
                .collect();
            let replies: Vec<i64> = expected
                .iter()
                .flat_map(|c| c.replies.iter().map(|r| r.2))
                .collect();
            let resolutions: Vec<i64> = expected
                .iter()
                .filter_map(|c| c.resolved.map(|r| r.1))
                .collect();
            prop_assert_eq!(figures.cycles, expected.len() as u64);
            for (summary, samples) in [
                (figures.wall.first_response, firsts),
                (figures.wall.reply_time, replies),
                (figures.wall.resolution, resolutions),
            ] {
                prop_assert_eq!(summary.count, samples.len() as u64);
                prop_assert_eq!(summary.median, nearest_rank(samples.clone(), 50));
                prop_assert_eq!(summary.p90, nearest_rank(samples, 90));
            }
            Ok(())
        })
        .unwrap();
}
