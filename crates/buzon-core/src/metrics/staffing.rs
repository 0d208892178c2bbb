//! How many people each hour of the week needs, by the Erlang C queueing model.
//!
//! With arrival rate λ (conversations per hour) and average handling time AHT, the offered
//! traffic is A = λ·AHT Erlangs. With N agents (N > A), the probability that a conversation
//! has to wait is Erlang C, C(N, A), and the share answered within t is
//! `1 − C(N, A)·e^(−(N−A)·t/AHT)`. C is computed from the Erlang B recursion
//! `B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))` and `C = N·B / (N − A·(1 − B))`, which stays
//! between 0 and 1 at every step and so neither overflows nor loses precision the way the
//! textbook formula with `A^N / N!` does.

use super::{Heatmap, Weekday};
use serde::Serialize;

/// The most agents a staffing answer may name; beyond it the inputs are surely wrong.
pub const MAX_AGENTS: u32 = 10_000;

/// A service level goal: `share` of conversations answered within `within_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServiceTarget {
    /// The share to reach, strictly between 0 and 1 (0.9 for 90%).
    pub share: f64,
    /// The wait allowed, in minutes.
    pub within_minutes: f64,
}

/// Inputs that a staffing question cannot be answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffingError {
    /// An input is negative, zero where it must be positive, or not a number.
    #[error("invalid staffing input: {0}")]
    InvalidInput(&'static str),
    /// The target needs more than [`MAX_AGENTS`] people.
    #[error("the target needs more than {MAX_AGENTS} people")]
    TooManyAgents,
}

/// The probability that a conversation has to wait, with `agents` people and
/// `traffic_erlangs` of offered traffic (1 when the queue is unstable, N ≤ A).
pub fn erlang_c(agents: u32, traffic_erlangs: f64) -> f64 {
    if traffic_erlangs <= 0.0 || traffic_erlangs.is_nan() {
        return 0.0;
    }
    let agents_f = f64::from(agents);
    if agents_f <= traffic_erlangs {
        return 1.0;
    }
    let mut blocking = 1.0;
    for n in 1..=agents {
        blocking = traffic_erlangs * blocking / (f64::from(n) + traffic_erlangs * blocking);
    }
    agents_f * blocking / (agents_f - traffic_erlangs * (1.0 - blocking))
}

/// The share of conversations answered within `within_minutes`, with `agents` people,
/// `arrivals_per_hour` and an average handling time of `handling_minutes`.
pub fn service_level(
    agents: u32,
    arrivals_per_hour: f64,
    handling_minutes: f64,
    within_minutes: f64,
) -> f64 {
    let traffic = arrivals_per_hour * handling_minutes / 60.0;
    if traffic <= 0.0 {
        return 1.0;
    }
    let agents_f = f64::from(agents);
    if agents_f <= traffic {
        return 0.0;
    }
    let waits = erlang_c(agents, traffic);
    1.0 - waits * (-(agents_f - traffic) * within_minutes / handling_minutes).exp()
}

/// The fewest people that meet `target` for `arrivals_per_hour` conversations of
/// `handling_minutes` each; 0 when nothing arrives.
pub fn required_agents(
    arrivals_per_hour: f64,
    handling_minutes: f64,
    target: ServiceTarget,
) -> Result<u32, StaffingError> {
    validate(arrivals_per_hour, handling_minutes, target)?;
    if arrivals_per_hour == 0.0 {
        return Ok(0);
    }
    let traffic = arrivals_per_hour * handling_minutes / 60.0;
    // The queue is stable only with more people than Erlangs of traffic.
    let fewest_stable = traffic.floor() + 1.0;
    if fewest_stable > f64::from(MAX_AGENTS) {
        return Err(StaffingError::TooManyAgents);
    }
    (fewest_stable as u32..=MAX_AGENTS)
        .find(|agents| {
            service_level(
                *agents,
                arrivals_per_hour,
                handling_minutes,
                target.within_minutes,
            ) >= target.share
        })
        .ok_or(StaffingError::TooManyAgents)
}

/// People needed for each hour of the week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffingPlan {
    agents: Vec<u32>,
}

impl StaffingPlan {
    /// People needed on `weekday` at local `hour` (0 to 23; later hours read as 23).
    pub fn agents(&self, weekday: Weekday, hour: u8) -> u32 {
        self.agents[weekday.index() * 24 + usize::from(hour.min(23))]
    }
}

/// The people each hour of the week needs to meet `target`, from the heatmap's arrival rates
/// and an average handling time of `handling_minutes`.
pub fn staffing_plan(
    heatmap: &Heatmap,
    handling_minutes: f64,
    target: ServiceTarget,
) -> Result<StaffingPlan, StaffingError> {
    let agents = heatmap
        .cells()
        .map(|(_, _, cell)| required_agents(cell.arrivals_per_hour(), handling_minutes, target))
        .collect::<Result<Vec<u32>, StaffingError>>()?;
    Ok(StaffingPlan { agents })
}

fn validate(
    arrivals_per_hour: f64,
    handling_minutes: f64,
    target: ServiceTarget,
) -> Result<(), StaffingError> {
    if !(arrivals_per_hour >= 0.0 && arrivals_per_hour.is_finite()) {
        return Err(StaffingError::InvalidInput(
            "arrivals per hour must be zero or more",
        ));
    }
    if !(handling_minutes > 0.0 && handling_minutes.is_finite()) {
        return Err(StaffingError::InvalidInput(
            "average handling time must be more than zero minutes",
        ));
    }
    if !(target.share > 0.0 && target.share < 1.0) {
        return Err(StaffingError::InvalidInput(
            "the target share must be between 0 and 1, both excluded",
        ));
    }
    if !(target.within_minutes >= 0.0 && target.within_minutes.is_finite()) {
        return Err(StaffingError::InvalidInput(
            "the target wait must be zero minutes or more",
        ));
    }
    Ok(())
}
