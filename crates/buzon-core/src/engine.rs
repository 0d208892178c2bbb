//! The workers' decisions as pure functions: what to do before and after a send, after a
//! moderation call and after a poll, and when to refresh a token.
//!
//! Nothing here reads a clock, draws a random number or does I/O. The caller passes `now` and
//! a `jitter` it drew itself, so that every decision is a plain function of its inputs and is
//! tested as one. Jitter is added only where a function's documentation says so.

use crate::{ExternalId, PlatformError, Timestamp};
use std::time::Duration;

/// An access token is refreshed when it expires within this margin.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(10 * 60);

/// How long a reply waits when its channel is paused.
const PAUSED_RETRY: Duration = Duration::from_secs(60);

/// The shortest wait before a reply is retried after its token expired.
const AUTH_RETRY_FLOOR: Duration = Duration::from_secs(300);

/// The longest backoff.
const BACKOFF_CAP: Duration = Duration::from_secs(300);

/// The wait before polling again with a refreshed token.
const POLL_AFTER_REFRESH: Duration = Duration::from_secs(1);

/// The wait between checks for new credentials while a channel is blocked on them.
const POLL_BLOCKED_WAIT: Duration = Duration::from_secs(5);

/// The wait after a quota or permanent poll failure, until an admin acts.
const POLL_HALTED_WAIT: Duration = Duration::from_secs(900);

/// Exponential backoff without jitter: 2 s, 4 s, 8 s … for attempts 1, 2, 3 …, growing no
/// further after attempt 8 (256 s) and never beyond 5 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 8) as u32;
    Duration::from_secs(1u64 << exponent).min(BACKOFF_CAP)
}

/// What to do with a claimed reply before calling the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeforeSend {
    /// Send it.
    Send,
    /// The lease could not be renewed just before the call (it ran out, or the row is no
    /// longer this node's): do not send; hand the row back if it is still ours.
    LeaseLost,
    /// The channel is paused: put the row back in the queue until `retry_at`.
    Paused {
        /// When to try again.
        retry_at: Timestamp,
    },
}

/// Decides whether a claimed reply may be sent now. `lease_renewed` says whether the row's
/// lease was renewed just before the call (a conditional update that fails once the lease
/// has run out), so a lost lease never leads to a send; it wins over a paused channel.
pub fn decide_before_send(now: Timestamp, lease_renewed: bool, channel_paused: bool) -> BeforeSend {
    if !lease_renewed {
        BeforeSend::LeaseLost
    } else if channel_paused {
        BeforeSend::Paused {
            retry_at: after(now, PAUSED_RETRY),
        }
    } else {
        BeforeSend::Send
    }
}

/// The facts about one send attempt that the decision after it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendAttempt {
    /// How many times the row has been claimed, this claim included (1 on the first try).
    pub attempts: i32,
    /// When the reply was queued.
    pub queued_at: Timestamp,
    /// The time the platform answered.
    pub now: Timestamp,
    /// How long a reply keeps being retried before it is given up.
    pub give_up_after: Duration,
    /// A random delay the caller drew, added to backoffs so that nodes do not retry in step.
    pub jitter: Duration,
}

/// What to do with an outbox row after a platform call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendAction {
    /// It was sent: record the platform's id of the new message.
    Complete(ExternalId),
    /// Put it back in the queue until `at`, noting `reason` as its last error.
    RetryAt {
        /// When to try again.
        at: Timestamp,
        /// The error, in words.
        reason: String,
    },
    /// The platform may or may not have it: mark the outcome unknown, never retry blindly.
    Unknown(String),
    /// Fail it for good with this reason.
    GiveUp(String),
}

/// How a channel's health changes after a platform call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthChange {
    /// Leave it as it is.
    Keep,
    /// Mark it healthy (the caller may skip the write when it already is).
    Healthy,
    /// Mark it unhealthy with this reason.
    Unhealthy(String),
}

/// Everything a dispatcher does after a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendDecision {
    /// What to do with the outbox row.
    pub action: SendAction,
    /// What to do with the channel's health.
    pub health: HealthChange,
    /// Whether to count a retry in the metrics.
    pub count_retry: bool,
}

/// Decides what follows a send from the platform's answer.
///
/// What the platform answered is always recorded, even when the call outlived its lease: the
/// row then shows an unknown outcome but keeps its sender, who alone may settle it (the store
/// checks). `Unknown` is never retried blindly. Retryable and rate-limited failures retry after
/// the platform's `retry_after`, or after `backoff(attempts) + jitter` when it gave none; an
/// expired token marks the channel unhealthy and retries after at least 5 minutes
/// (`max(300 s, backoff + jitter)`). Either is given up once the reply is older than
/// `give_up_after`. Every other failure is given up at once.
///
/// Timeouts: the shared HTTP client reports a timeout during a send as `Unknown` (the request
/// may have reached the platform, so repeating it could post twice), and a timeout on an
/// idempotent read as `Retryable`.
pub fn decide_after_send(
    outcome: Result<&ExternalId, &PlatformError>,
    attempt: SendAttempt,
) -> SendDecision {
    let err = match outcome {
        Ok(platform_id) => {
            return SendDecision {
                action: SendAction::Complete(platform_id.clone()),
                health: HealthChange::Healthy,
                count_retry: false,
            }
        }
        Err(err) => err,
    };
    let (wait, health) = match err {
        PlatformError::Unknown(reason) => return decision(SendAction::Unknown(reason.clone())),
        PlatformError::Retryable { .. } | PlatformError::RateLimited { .. } => (
            err.retry_after()
                .unwrap_or_else(|| backoff(attempt.attempts) + attempt.jitter),
            HealthChange::Keep,
        ),
        PlatformError::AuthExpired(reason) => (
            AUTH_RETRY_FLOOR.max(backoff(attempt.attempts) + attempt.jitter),
            HealthChange::Unhealthy(format!("access token expired or revoked: {reason}")),
        ),
        PlatformError::WindowClosed(_)
        | PlatformError::QuotaExhausted(_)
        | PlatformError::Permanent(_)
        | PlatformError::BadSignature
        | PlatformError::Payload(_) => return decision(SendAction::GiveUp(err.to_string())),
    };
    let age = attempt
        .now
        .as_millis()
        .saturating_sub(attempt.queued_at.as_millis());
    if age > millis(attempt.give_up_after) {
        return SendDecision {
            action: SendAction::GiveUp(format!("gave up after retrying: {err}")),
            health,
            count_retry: false,
        };
    }
    SendDecision {
        action: SendAction::RetryAt {
            at: after(attempt.now, wait),
            reason: err.to_string(),
        },
        health,
        count_retry: true,
    }
}

/// What to do with a moderation (hide or unhide) row after the platform call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModerationDecision {
    /// The platform did it: complete the row and mark the message hidden or shown.
    Done,
    /// Put it back in the queue until `at`, noting `reason` as its last error.
    RetryAt {
        /// When to try again.
        at: Timestamp,
        /// The error, in words.
        reason: String,
    },
    /// Fail it for good with this reason.
    GiveUp(String),
}

/// Decides what follows a hide or unhide call from the platform's answer.
///
/// A success is always recorded. Retryable and rate-limited failures retry after the
/// platform's `retry_after`, or after `backoff(attempts) + jitter`. An unknown outcome is given
/// up, not retried: a late hide could land after an unhide queued meanwhile and undo the
/// agent's last choice. Every other failure (an expired token included) is given up at once.
pub fn decide_after_moderation(
    outcome: Result<(), &PlatformError>,
    attempts: i32,
    now: Timestamp,
    jitter: Duration,
) -> ModerationDecision {
    match outcome {
        Ok(()) => ModerationDecision::Done,
        Err(err @ (PlatformError::Retryable { .. } | PlatformError::RateLimited { .. })) => {
            let wait = err
                .retry_after()
                .unwrap_or_else(|| backoff(attempts) + jitter);
            ModerationDecision::RetryAt {
                at: after(now, wait),
                reason: err.to_string(),
            }
        }
        Err(err) => ModerationDecision::GiveUp(err.to_string()),
    }
}

/// What one poll of a channel brought back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome<'a> {
    /// The poll succeeded (its pages are already stored).
    Fetched {
        /// How long the platform asked us to wait before the next poll, at least.
        wait_at_least: Option<Duration>,
    },
    /// The poll failed.
    Failed(&'a PlatformError),
}

/// The facts about a channel's poll that the decision after it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollContext {
    /// The time the platform answered.
    pub now: Timestamp,
    /// The configured time between two polls of a channel.
    pub poll_interval: Duration,
    /// How many polls in a row failed before this one.
    pub failures: i32,
    /// Whether the channel is currently shown as rate limited.
    pub was_rate_limited: bool,
    /// Whether an expired token can be refreshed (an X channel with a refresh token and an
    /// OAuth client configured).
    pub can_refresh_token: bool,
    /// A random delay the caller drew, added where a rule says so.
    pub jitter: Duration,
}

/// How a channel's rate-limit mark changes after a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitChange {
    /// Leave it as it is.
    Keep,
    /// Remove it.
    Clear,
    /// Show the channel as rate limited until this time.
    Until(Timestamp),
}

/// Everything a poller does after a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollDecision {
    /// How long to wait before polling the channel again.
    pub wait: Duration,
    /// What to do with the channel's health.
    pub health: HealthChange,
    /// What to do with the channel's rate-limit mark.
    pub rate_limited_until: RateLimitChange,
    /// The new count of consecutive failures.
    pub failures: i32,
    /// Whether to stop polling until the channel's stored credentials change.
    pub block_on_credentials: bool,
    /// Whether to refresh the access token now, then call [`decide_after_refresh`].
    pub try_refresh: bool,
    /// The failure's [`PlatformError::kind_name`], to count in the metrics.
    pub count_error: Option<&'static str>,
}

/// Decides what follows a poll: when to poll again and what to record about the channel.
///
/// A success marks the channel healthy, resets the failures, clears a rate-limit mark and polls
/// again after one interval; when the platform asked to wait, after that wait, one interval
/// and the jitter (so replies due when the budget reopens get it first). A failure counts one
/// more failure and names its kind for the metrics, then:
/// - an expired token that can be refreshed asks for a refresh (see [`decide_after_refresh`]);
/// - an expired token that cannot marks the channel unhealthy and blocks on new credentials,
///   checking again every 5 s;
/// - an exhausted quota or a permanent refusal marks the channel unhealthy and waits 15 minutes;
/// - a rate limit waits for `retry_after` (or the backoff), at least one interval, no jitter,
///   and marks the channel rate limited until then;
/// - anything else (a timeout on a read is `Retryable`) waits `retry_after` plus one interval
///   plus the jitter when the platform said, else the backoff, at least one interval.
pub fn decide_after_poll(outcome: PollOutcome<'_>, context: PollContext) -> PollDecision {
    let err = match outcome {
        PollOutcome::Fetched { wait_at_least } => {
            return PollDecision {
                wait: match wait_at_least {
                    Some(wait) => wait + context.poll_interval + context.jitter,
                    None => context.poll_interval,
                },
                health: HealthChange::Healthy,
                rate_limited_until: if context.was_rate_limited {
                    RateLimitChange::Clear
                } else {
                    RateLimitChange::Keep
                },
                failures: 0,
                block_on_credentials: false,
                try_refresh: false,
                count_error: None,
            }
        }
        PollOutcome::Failed(err) => err,
    };
    let failures = context.failures.saturating_add(1);
    let failed = PollDecision {
        wait: context.poll_interval,
        health: HealthChange::Keep,
        rate_limited_until: RateLimitChange::Keep,
        failures,
        block_on_credentials: false,
        try_refresh: false,
        count_error: Some(err.kind_name()),
    };
    match err {
        PlatformError::AuthExpired(_) if context.can_refresh_token => PollDecision {
            wait: POLL_AFTER_REFRESH,
            try_refresh: true,
            ..failed
        },
        PlatformError::AuthExpired(reason) => PollDecision {
            wait: POLL_BLOCKED_WAIT,
            health: HealthChange::Unhealthy(format!("access token expired or revoked: {reason}")),
            block_on_credentials: true,
            ..failed
        },
        PlatformError::QuotaExhausted(reason) | PlatformError::Permanent(reason) => PollDecision {
            wait: POLL_HALTED_WAIT,
            health: HealthChange::Unhealthy(reason.clone()),
            ..failed
        },
        PlatformError::RateLimited { retry_after, .. } => {
            let wait = retry_after
                .unwrap_or_else(|| backoff(failures))
                .max(context.poll_interval);
            PollDecision {
                wait,
                rate_limited_until: RateLimitChange::Until(after(context.now, wait)),
                ..failed
            }
        }
        _ => PollDecision {
            wait: match err.retry_after() {
                Some(wait) => wait + context.poll_interval + context.jitter,
                None => backoff(failures).max(context.poll_interval),
            },
            ..failed
        },
    }
}

/// Completes a decision that asked for a token refresh, once the refresh is done.
///
/// `renewed` means the refresh produced a new, different access token: poll again after 1 s.
/// Otherwise block on new credentials and check again every 5 s; the channel's health is left
/// to the refresh, which records why it failed. Failures and the metric stay as decided.
pub fn decide_after_refresh(tried: PollDecision, renewed: bool) -> PollDecision {
    PollDecision {
        wait: if renewed {
            POLL_AFTER_REFRESH
        } else {
            POLL_BLOCKED_WAIT
        },
        block_on_credentials: !renewed,
        try_refresh: false,
        ..tried
    }
}

/// Whether a token that expires at `expires_at` should be refreshed now: when it expires
/// within [`REFRESH_MARGIN`] (or already has); never when its expiry is unknown.
pub fn refresh_due(expires_at: Option<Timestamp>, now: Timestamp) -> bool {
    expires_at
        .is_some_and(|at| at.as_millis().saturating_sub(now.as_millis()) < millis(REFRESH_MARGIN))
}

/// A decision that only acts on the row.
fn decision(action: SendAction) -> SendDecision {
    SendDecision {
        action,
        health: HealthChange::Keep,
        count_retry: false,
    }
}

/// `now` moved `wait` into the future.
fn after(now: Timestamp, wait: Duration) -> Timestamp {
    now.plus_millis(millis(wait))
}

/// A duration in whole milliseconds, saturating.
fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
