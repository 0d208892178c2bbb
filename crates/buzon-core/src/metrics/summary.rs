//! Medians, 90th percentiles, counts and response rates, overall and per channel, agent and
//! label.

use super::{Clock, Cycle};
use crate::{ChannelId, Label, UserId};
use serde::Serialize;
use std::collections::BTreeMap;

/// The count, median and 90th percentile of a set of durations in milliseconds; never a mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Summary {
    /// How many samples.
    pub count: u64,
    /// The median (nearest rank), `None` without samples.
    pub median: Option<i64>,
    /// The 90th percentile (nearest rank), `None` without samples.
    pub p90: Option<i64>,
}

impl Summary {
    /// Summarizes samples given in any order. Two selections instead of a sort: linear time,
    /// the same values as [`nearest_rank`] over the sorted samples.
    pub fn of(samples: &[i64]) -> Summary {
        let mut samples = samples.to_vec();
        let count = samples.len();
        let p90 = rank_index(count, 90).map(|index| *samples.select_nth_unstable(index).1);
        // After the selection everything before the 90th percentile's place is not larger.
        let median = rank_index(count, 50).map(|index| {
            let upto = rank_index(count, 90).unwrap_or(index);
            *samples[..=upto].select_nth_unstable(index).1
        });
        Summary {
            count: count as u64,
            median,
            p90,
        }
    }
}

/// The `percent`th percentile of ascending samples by the nearest-rank method: the smallest
/// sample with at least `percent`% of the samples at or below it, i.e. the one at 1-based rank
/// ⌈percent × n / 100⌉ (at least 1). It is always one of the samples; the median of an even
/// count is the lower middle one.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> Option<i64> {
    rank_index(sorted.len(), percent).and_then(|index| sorted.get(index).copied())
}

/// The 0-based place of the nearest-rank `percent`th percentile among `count` sorted samples.
fn rank_index(count: usize, percent: u32) -> Option<usize> {
    if count == 0 {
        return None;
    }
    let rank = (u64::from(percent.min(100)) * count as u64)
        .div_ceil(100)
        .max(1);
    Some(rank as usize - 1)
}

/// A share as its two counts, so pages can show "45 of 50" as well as 90%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Ratio {
    /// The cycles that count as answered in time.
    pub numerator: u64,
    /// The cycles already judged.
    pub denominator: u64,
}

impl Ratio {
    /// The share between 0 and 1, `None` when nothing was judged.
    pub fn as_fraction(self) -> Option<f64> {
        (self.denominator > 0).then(|| self.numerator as f64 / self.denominator as f64)
    }
}

/// The figures of one clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct ClockFigures {
    /// First response times.
    pub first_response: Summary,
    /// Reply times, one per answered burst.
    pub reply_time: Summary,
    /// Resolution times.
    pub resolution: Summary,
    /// Cycles answered by a person within the window, of the cycles already judged.
    pub response_rate: Ratio,
}

/// The figures of a group of cycles, on both clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Figures {
    /// How many cycles.
    pub cycles: u64,
    /// Measured in wall-clock time.
    pub wall: ClockFigures,
    /// Measured in business hours.
    pub business: ClockFigures,
}

impl Figures {
    /// The figures of `clock`.
    pub const fn on(&self, clock: Clock) -> &ClockFigures {
        match clock {
            Clock::Wall => &self.wall,
            Clock::Business => &self.business,
        }
    }
}

/// Figures overall and per channel, per agent and per label.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Report {
    /// All cycles.
    pub overall: Figures,
    /// Per channel.
    pub by_channel: BTreeMap<ChannelId, Figures>,
    /// Per agent: cycle figures by the person who replied first, reply times by who replied.
    pub by_agent: BTreeMap<UserId, Figures>,
    /// Per label; a cycle counts under each of its conversation's labels.
    pub by_label: BTreeMap<Label, Figures>,
}

/// Groups cycles and summarizes each group.
pub fn summarize(cycles: &[Cycle]) -> Report {
    let mut overall = Samples::default();
    let mut by_channel: BTreeMap<ChannelId, Samples> = BTreeMap::new();
    let mut by_agent: BTreeMap<UserId, Samples> = BTreeMap::new();
    let mut by_label: BTreeMap<Label, Samples> = BTreeMap::new();
    for cycle in cycles {
        overall.add_cycle(cycle);
        overall.add_replies(cycle);
        let channel = by_channel.entry(cycle.channel_id).or_default();
        channel.add_cycle(cycle);
        channel.add_replies(cycle);
        for label in &cycle.labels {
            let group = by_label.entry(label.clone()).or_default();
            group.add_cycle(cycle);
            group.add_replies(cycle);
        }
        if let Some(agent_id) = cycle.first_responder_id {
            by_agent.entry(agent_id).or_default().add_cycle(cycle);
        }
        for reply in &cycle.replies {
            by_agent
                .entry(reply.agent_id)
                .or_default()
                .add_reply(reply.elapsed.wall_millis, reply.elapsed.business_millis);
        }
    }
    Report {
        overall: overall.figures(),
        by_channel: finish(by_channel),
        by_agent: finish(by_agent),
        by_label: finish(by_label),
    }
}

fn finish<K: Ord>(groups: BTreeMap<K, Samples>) -> BTreeMap<K, Figures> {
    groups
        .into_iter()
        .map(|(key, samples)| (key, samples.figures()))
        .collect()
}

#[derive(Default)]
struct Samples {
    cycles: u64,
    wall: ClockSamples,
    business: ClockSamples,
}

#[derive(Default)]
struct ClockSamples {
    first_response: Vec<i64>,
    reply_time: Vec<i64>,
    resolution: Vec<i64>,
    response_rate: Ratio,
}

impl Samples {
    fn add_cycle(&mut self, cycle: &Cycle) {
        self.cycles += 1;
        for clock in [Clock::Wall, Clock::Business] {
            let samples = self.clock(clock);
            if let Some(first) = cycle.first_response {
                samples.first_response.push(first.on(clock));
            }
            if let Some(resolution) = cycle.resolution {
                samples.resolution.push(resolution.on(clock));
            }
            if let Some(answered) = cycle.within_window.on(clock) {
                samples.response_rate.denominator += 1;
                samples.response_rate.numerator += u64::from(answered);
            }
        }
    }

    fn add_replies(&mut self, cycle: &Cycle) {
        for reply in &cycle.replies {
            self.add_reply(reply.elapsed.wall_millis, reply.elapsed.business_millis);
        }
    }

    fn add_reply(&mut self, wall_millis: i64, business_millis: i64) {
        self.wall.reply_time.push(wall_millis);
        self.business.reply_time.push(business_millis);
    }

    fn clock(&mut self, clock: Clock) -> &mut ClockSamples {
        match clock {
            Clock::Wall => &mut self.wall,
            Clock::Business => &mut self.business,
        }
    }

    fn figures(&self) -> Figures {
        Figures {
            cycles: self.cycles,
            wall: self.wall.figures(),
            business: self.business.figures(),
        }
    }
}

impl ClockSamples {
    fn figures(&self) -> ClockFigures {
        ClockFigures {
            first_response: Summary::of(&self.first_response),
            reply_time: Summary::of(&self.reply_time),
            resolution: Summary::of(&self.resolution),
            response_rate: self.response_rate,
        }
    }
}
