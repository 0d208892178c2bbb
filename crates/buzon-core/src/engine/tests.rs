use super::*;

/// The moment every test's platform answers.
const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// The jitter every test draws; odd enough that a wrongly added jitter shows.
const JITTER: Duration = Duration::from_millis(700);

/// The time `millis` milliseconds after [`NOW`] (before it when negative).
fn at(millis: i64) -> Timestamp {
    NOW.plus_millis(millis)
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

fn retryable(reason: &str, retry_after: Option<Duration>) -> PlatformError {
    PlatformError::Retryable {
        reason: reason.into(),
        retry_after,
    }
}

fn rate_limited(retry_after: Option<Duration>) -> PlatformError {
    PlatformError::RateLimited {
        reason: "429".into(),
        retry_after,
    }
}

/// A send timeout as the shared HTTP client reports it.
fn send_timeout() -> PlatformError {
    PlatformError::Unknown("the platform did not answer in time".into())
}

/// A read timeout as the shared HTTP client reports it.
fn read_timeout() -> PlatformError {
    retryable("the platform did not answer in time", None)
}

/// One of every error, paired with its metric name.
fn every_error() -> Vec<(PlatformError, &'static str)> {
    vec![
        (retryable("503", None), "retryable"),
        (rate_limited(None), "rate_limited"),
        (PlatformError::AuthExpired("401".into()), "auth_expired"),
        (
            PlatformError::WindowClosed("131047".into()),
            "window_closed",
        ),
        (
            PlatformError::QuotaExhausted("usage cap".into()),
            "quota_exhausted",
        ),
        (
            PlatformError::Permanent("no permission".into()),
            "permanent",
        ),
        (PlatformError::BadSignature, "bad_signature"),
        (PlatformError::Payload("no id".into()), "payload"),
        (send_timeout(), "unknown"),
    ]
}

/// A reply queued a minute ago, on its `attempts`-th claim, with the lease still held.
fn attempt(attempts: i32) -> SendAttempt {
    SendAttempt {
        attempts,
        queued_at: at(-60_000),
        now: NOW,
        give_up_after: secs(24 * 3600),
        jitter: JITTER,
    }
}

fn send_failed(err: &PlatformError, attempt: SendAttempt) -> SendDecision {
    decide_after_send(Err(err), attempt)
}

fn retry_at(millis: i64, reason: &str) -> SendAction {
    SendAction::RetryAt {
        at: at(millis),
        reason: reason.into(),
    }
}

fn retried(millis: i64, reason: &str, health: HealthChange) -> SendDecision {
    SendDecision {
        action: retry_at(millis, reason),
        health,
        count_retry: true,
    }
}

fn row_only(action: SendAction) -> SendDecision {
    SendDecision {
        action,
        health: HealthChange::Keep,
        count_retry: false,
    }
}

fn external_id(raw: &str) -> ExternalId {
    ExternalId::parse(raw).expect("a valid external id")
}

fn moderation_failed(err: &PlatformError, attempts: i32) -> ModerationDecision {
    decide_after_moderation(Err(err), attempts, NOW, JITTER)
}

fn moderation_retry_at(millis: i64, reason: &str) -> ModerationDecision {
    ModerationDecision::RetryAt {
        at: at(millis),
        reason: reason.into(),
    }
}

/// A channel polled every minute, with `failures` failed polls in a row before this one.
fn context(failures: i32) -> PollContext {
    PollContext {
        now: NOW,
        poll_interval: secs(60),
        failures,
        was_rate_limited: false,
        can_refresh_token: false,
        jitter: JITTER,
    }
}

fn poll_failed(err: &PlatformError, context: PollContext) -> PollDecision {
    decide_after_poll(PollOutcome::Failed(err), context)
}

/// What a failed poll decides when nothing but the wait is special.
fn backed_off(wait: Duration, failures: i32, kind: &'static str) -> PollDecision {
    PollDecision {
        wait,
        health: HealthChange::Keep,
        rate_limited_until: RateLimitChange::Keep,
        failures,
        block_on_credentials: false,
        try_refresh: false,
        count_error: Some(kind),
    }
}

// The error type.

#[test]
fn every_error_has_its_stable_metric_name() {
    for (err, name) in every_error() {
        assert_eq!(err.kind_name(), name, "{err:?}");
    }
}

#[test]
fn only_retryable_and_rate_limited_errors_are_retryable() {
    for (err, name) in every_error() {
        let expected = matches!(name, "retryable" | "rate_limited");
        assert_eq!(err.is_retryable(), expected, "{err:?}");
    }
}

#[test]
fn retry_after_is_read_only_from_retryable_and_rate_limited_errors() {
    assert_eq!(retryable("503", Some(secs(7))).retry_after(), Some(secs(7)));
    assert_eq!(rate_limited(Some(secs(9))).retry_after(), Some(secs(9)));
    assert_eq!(rate_limited(None).retry_after(), None);
    assert_eq!(PlatformError::AuthExpired("401".into()).retry_after(), None);
}

#[test]
fn errors_read_as_before_the_move_to_core() {
    let texts = [
        (retryable("503", None), "temporary platform failure: 503"),
        (rate_limited(None), "rate limited by the platform: 429"),
        (
            PlatformError::AuthExpired("401".into()),
            "access token expired or revoked: 401",
        ),
        (
            PlatformError::WindowClosed("131047".into()),
            "the reply window is closed: 131047",
        ),
        (
            PlatformError::QuotaExhausted("usage cap".into()),
            "platform usage cap reached: usage cap",
        ),
        (
            PlatformError::Permanent("no permission".into()),
            "the platform refused the request: no permission",
        ),
        (
            PlatformError::BadSignature,
            "missing or invalid webhook signature",
        ),
        (
            PlatformError::Payload("no id".into()),
            "unexpected payload: no id",
        ),
        (
            send_timeout(),
            "the outcome of the request is unknown: the platform did not answer in time",
        ),
    ];
    for (err, text) in texts {
        assert_eq!(err.to_string(), text);
    }
}

// Backoff.

#[test]
fn backoff_doubles_from_two_seconds() {
    assert_eq!(backoff(1), secs(2));
    assert_eq!(backoff(2), secs(4));
    assert_eq!(backoff(3), secs(8));
    assert_eq!(backoff(7), secs(128));
}

#[test]
fn backoff_treats_zero_and_negative_attempts_as_the_first() {
    assert_eq!(backoff(0), secs(2));
    assert_eq!(backoff(-3), secs(2));
    assert_eq!(backoff(i32::MIN), secs(2));
}

#[test]
fn backoff_stops_growing_at_256_seconds_within_the_five_minute_cap() {
    assert_eq!(backoff(8), secs(256));
    assert_eq!(backoff(9), secs(256));
    assert_eq!(backoff(i32::MAX), secs(256));
}

// Before a send.

#[test]
fn a_reply_is_sent_once_its_lease_was_renewed_just_before_the_call() {
    assert_eq!(decide_before_send(NOW, true, false), BeforeSend::Send);
}

#[test]
fn a_reply_whose_lease_could_not_be_renewed_is_never_sent() {
    assert_eq!(decide_before_send(NOW, false, false), BeforeSend::LeaseLost);
}

#[test]
fn a_reply_to_a_paused_channel_is_retried_a_minute_later_without_jitter() {
    assert_eq!(
        decide_before_send(NOW, true, true),
        BeforeSend::Paused {
            retry_at: at(60_000)
        }
    );
}

#[test]
fn a_lost_lease_wins_over_a_paused_channel() {
    assert_eq!(decide_before_send(NOW, false, true), BeforeSend::LeaseLost);
}

// After a send.

#[test]
fn a_sent_reply_is_completed_and_the_channel_marked_healthy() {
    let platform_id = external_id("m_1");
    assert_eq!(
        decide_after_send(Ok(&platform_id), attempt(1)),
        SendDecision {
            action: SendAction::Complete(external_id("m_1")),
            health: HealthChange::Healthy,
            count_retry: false,
        }
    );
}

#[test]
fn a_reply_sent_after_its_lease_ran_out_mid_call_is_still_recorded() {
    // The lease is not an input after the call: whatever the platform answered is recorded,
    // and the store lets only the row's sender record it.
    let platform_id = external_id("m_2");
    assert_eq!(
        decide_after_send(Ok(&platform_id), attempt(1)),
        SendDecision {
            action: SendAction::Complete(external_id("m_2")),
            health: HealthChange::Healthy,
            count_retry: false,
        }
    );
}

#[test]
fn a_reply_sent_long_after_it_was_queued_is_still_recorded() {
    let platform_id = external_id("m_3");
    let old = SendAttempt {
        queued_at: at(-100 * 24 * 3600 * 1000),
        ..attempt(20)
    };
    assert_eq!(
        decide_after_send(Ok(&platform_id), old).action,
        SendAction::Complete(external_id("m_3"))
    );
}

#[test]
fn a_send_rate_limited_with_retry_after_retries_exactly_then_without_jitter() {
    assert_eq!(
        send_failed(&rate_limited(Some(secs(30))), attempt(3)),
        retried(
            30_000,
            "rate limited by the platform: 429",
            HealthChange::Keep
        )
    );
}

#[test]
fn a_send_rate_limited_without_retry_after_backs_off_with_jitter() {
    assert_eq!(
        send_failed(&rate_limited(None), attempt(3)),
        retried(
            8_700,
            "rate limited by the platform: 429",
            HealthChange::Keep
        )
    );
}

#[test]
fn a_send_server_error_backs_off_with_jitter() {
    assert_eq!(
        send_failed(&retryable("503", None), attempt(1)),
        retried(2_700, "temporary platform failure: 503", HealthChange::Keep)
    );
}

#[test]
fn a_send_server_error_with_retry_after_retries_exactly_then() {
    assert_eq!(
        send_failed(&retryable("503", Some(secs(12))), attempt(5)),
        retried(
            12_000,
            "temporary platform failure: 503",
            HealthChange::Keep
        )
    );
}

#[test]
fn a_send_backoff_never_exceeds_256_seconds_plus_jitter() {
    assert_eq!(
        send_failed(&retryable("503", None), attempt(40)),
        retried(
            256_700,
            "temporary platform failure: 503",
            HealthChange::Keep
        )
    );
}

#[test]
fn a_send_timeout_is_an_unknown_outcome_and_never_retried() {
    assert_eq!(
        send_failed(&send_timeout(), attempt(1)),
        row_only(SendAction::Unknown(
            "the platform did not answer in time".into()
        ))
    );
}

#[test]
fn an_unknown_send_outcome_is_not_given_up_even_on_an_old_reply() {
    let old = SendAttempt {
        queued_at: at(-25 * 3600 * 1000),
        ..attempt(9)
    };
    assert_eq!(
        send_failed(&PlatformError::Unknown("connection reset".into()), old),
        row_only(SendAction::Unknown("connection reset".into()))
    );
}

#[test]
fn an_expired_token_on_send_marks_the_channel_unhealthy_and_retries_after_five_minutes() {
    assert_eq!(
        send_failed(&PlatformError::AuthExpired("401".into()), attempt(1)),
        retried(
            300_000,
            "access token expired or revoked: 401",
            HealthChange::Unhealthy("access token expired or revoked: 401".into())
        )
    );
}

#[test]
fn an_expired_token_retry_waits_for_the_backoff_and_jitter_when_they_are_longer() {
    let late = SendAttempt {
        jitter: secs(50),
        ..attempt(8)
    };
    assert_eq!(
        send_failed(&PlatformError::AuthExpired("401".into()), late),
        retried(
            306_000,
            "access token expired or revoked: 401",
            HealthChange::Unhealthy("access token expired or revoked: 401".into())
        )
    );
}

#[test]
fn a_retryable_reply_older_than_the_give_up_age_is_given_up() {
    let old = SendAttempt {
        queued_at: at(-3_600_001),
        give_up_after: secs(3600),
        ..attempt(12)
    };
    assert_eq!(
        send_failed(&retryable("503", None), old),
        row_only(SendAction::GiveUp(
            "gave up after retrying: temporary platform failure: 503".into()
        ))
    );
    assert_eq!(
        send_failed(&rate_limited(Some(secs(30))), old),
        row_only(SendAction::GiveUp(
            "gave up after retrying: rate limited by the platform: 429".into()
        ))
    );
}

#[test]
fn a_reply_exactly_at_the_give_up_age_is_still_retried() {
    let edge = SendAttempt {
        queued_at: at(-3_600_000),
        give_up_after: secs(3600),
        ..attempt(2)
    };
    assert_eq!(
        send_failed(&retryable("503", None), edge),
        retried(4_700, "temporary platform failure: 503", HealthChange::Keep)
    );
}

#[test]
fn an_expired_token_on_an_old_reply_gives_up_but_still_marks_the_channel_unhealthy() {
    let old = SendAttempt {
        queued_at: at(-3_600_001),
        give_up_after: secs(3600),
        ..attempt(12)
    };
    assert_eq!(
        send_failed(&PlatformError::AuthExpired("401".into()), old),
        SendDecision {
            action: SendAction::GiveUp(
                "gave up after retrying: access token expired or revoked: 401".into()
            ),
            health: HealthChange::Unhealthy("access token expired or revoked: 401".into()),
            count_retry: false,
        }
    );
}

#[test]
fn a_send_into_a_closed_window_is_given_up_at_once() {
    assert_eq!(
        send_failed(&PlatformError::WindowClosed("131047".into()), attempt(1)),
        row_only(SendAction::GiveUp(
            "the reply window is closed: 131047".into()
        ))
    );
}

#[test]
fn a_send_over_quota_is_given_up_at_once() {
    assert_eq!(
        send_failed(
            &PlatformError::QuotaExhausted("usage cap".into()),
            attempt(1)
        ),
        row_only(SendAction::GiveUp(
            "platform usage cap reached: usage cap".into()
        ))
    );
}

#[test]
fn a_send_refused_for_good_is_given_up_at_once() {
    assert_eq!(
        send_failed(
            &PlatformError::Permanent("no permission".into()),
            attempt(1)
        ),
        row_only(SendAction::GiveUp(
            "the platform refused the request: no permission".into()
        ))
    );
}

#[test]
fn a_send_answered_with_a_bad_payload_or_signature_is_given_up_at_once() {
    assert_eq!(
        send_failed(&PlatformError::Payload("no id".into()), attempt(1)),
        row_only(SendAction::GiveUp("unexpected payload: no id".into()))
    );
    assert_eq!(
        send_failed(&PlatformError::BadSignature, attempt(1)),
        row_only(SendAction::GiveUp(
            "missing or invalid webhook signature".into()
        ))
    );
}

#[test]
fn a_permanent_error_on_an_old_reply_is_given_up_with_its_own_reason() {
    let old = SendAttempt {
        queued_at: at(-3_600_001),
        give_up_after: secs(3600),
        ..attempt(12)
    };
    assert_eq!(
        send_failed(&PlatformError::Permanent("no permission".into()), old),
        row_only(SendAction::GiveUp(
            "the platform refused the request: no permission".into()
        ))
    );
}

// After a moderation call.

#[test]
fn a_successful_hide_is_done() {
    assert_eq!(
        decide_after_moderation(Ok(()), 1, NOW, JITTER),
        ModerationDecision::Done
    );
}

#[test]
fn a_hide_rate_limited_with_retry_after_retries_exactly_then() {
    assert_eq!(
        moderation_failed(&rate_limited(Some(secs(45))), 2),
        moderation_retry_at(45_000, "rate limited by the platform: 429")
    );
}

#[test]
fn a_hide_rate_limited_without_retry_after_backs_off_with_jitter() {
    assert_eq!(
        moderation_failed(&rate_limited(None), 2),
        moderation_retry_at(4_700, "rate limited by the platform: 429")
    );
}

#[test]
fn a_hide_server_error_backs_off_with_jitter() {
    assert_eq!(
        moderation_failed(&retryable("502", None), 4),
        moderation_retry_at(16_700, "temporary platform failure: 502")
    );
}

#[test]
fn a_hide_of_unknown_outcome_is_given_up_so_a_late_hide_never_undoes_a_later_unhide() {
    assert_eq!(
        moderation_failed(&send_timeout(), 1),
        ModerationDecision::GiveUp(
            "the outcome of the request is unknown: the platform did not answer in time".into()
        )
    );
}

#[test]
fn a_hide_with_an_expired_token_is_given_up() {
    assert_eq!(
        moderation_failed(&PlatformError::AuthExpired("401".into()), 1),
        ModerationDecision::GiveUp("access token expired or revoked: 401".into())
    );
}

#[test]
fn a_hide_refused_closed_over_quota_or_malformed_is_given_up_at_once() {
    let cases = [
        (
            PlatformError::WindowClosed("131047".into()),
            "the reply window is closed: 131047",
        ),
        (
            PlatformError::QuotaExhausted("usage cap".into()),
            "platform usage cap reached: usage cap",
        ),
        (
            PlatformError::Permanent("not your comment".into()),
            "the platform refused the request: not your comment",
        ),
        (
            PlatformError::Payload("no success".into()),
            "unexpected payload: no success",
        ),
        (
            PlatformError::BadSignature,
            "missing or invalid webhook signature",
        ),
    ];
    for (err, reason) in cases {
        assert_eq!(
            moderation_failed(&err, 1),
            ModerationDecision::GiveUp(reason.into())
        );
    }
}

// After a poll.

#[test]
fn a_successful_poll_waits_one_interval_without_jitter_and_marks_the_channel_healthy() {
    assert_eq!(
        decide_after_poll(
            PollOutcome::Fetched {
                wait_at_least: None
            },
            context(3)
        ),
        PollDecision {
            wait: secs(60),
            health: HealthChange::Healthy,
            rate_limited_until: RateLimitChange::Keep,
            failures: 0,
            block_on_credentials: false,
            try_refresh: false,
            count_error: None,
        }
    );
}

#[test]
fn a_successful_poll_that_was_asked_to_wait_adds_one_interval_and_the_jitter() {
    let decision = decide_after_poll(
        PollOutcome::Fetched {
            wait_at_least: Some(secs(100)),
        },
        context(0),
    );
    assert_eq!(decision.wait, Duration::from_millis(160_700));
    assert_eq!(decision.health, HealthChange::Healthy);
    assert_eq!(decision.failures, 0);
}

#[test]
fn a_successful_poll_after_a_rate_limit_clears_the_mark() {
    let limited = PollContext {
        was_rate_limited: true,
        ..context(2)
    };
    let decision = decide_after_poll(
        PollOutcome::Fetched {
            wait_at_least: None,
        },
        limited,
    );
    assert_eq!(decision.rate_limited_until, RateLimitChange::Clear);
    assert_eq!(decision.failures, 0);
    assert_eq!(decision.wait, secs(60));
}

#[test]
fn a_poll_rate_limited_with_retry_after_waits_for_it_without_jitter() {
    assert_eq!(
        poll_failed(&rate_limited(Some(secs(120))), context(0)),
        PollDecision {
            rate_limited_until: RateLimitChange::Until(at(120_000)),
            ..backed_off(secs(120), 1, "rate_limited")
        }
    );
}

#[test]
fn a_poll_rate_limited_for_less_than_an_interval_waits_one_interval() {
    assert_eq!(
        poll_failed(&rate_limited(Some(secs(10))), context(0)),
        PollDecision {
            rate_limited_until: RateLimitChange::Until(at(60_000)),
            ..backed_off(secs(60), 1, "rate_limited")
        }
    );
}

#[test]
fn a_poll_rate_limited_without_retry_after_backs_off_by_failures_without_jitter() {
    // Five failures before this one make the sixth: 64 s, longer than the interval.
    assert_eq!(
        poll_failed(&rate_limited(None), context(5)),
        PollDecision {
            rate_limited_until: RateLimitChange::Until(at(64_000)),
            ..backed_off(secs(64), 6, "rate_limited")
        }
    );
}

#[test]
fn a_poll_server_error_backs_off_by_failures_without_jitter() {
    assert_eq!(
        poll_failed(&retryable("500", None), context(6)),
        backed_off(secs(128), 7, "retryable")
    );
}

#[test]
fn a_poll_server_error_waits_at_least_one_interval() {
    assert_eq!(
        poll_failed(&retryable("500", None), context(0)),
        backed_off(secs(60), 1, "retryable")
    );
}

#[test]
fn a_poll_server_error_with_retry_after_adds_one_interval_and_the_jitter() {
    assert_eq!(
        poll_failed(&retryable("503", Some(secs(30))), context(0)),
        backed_off(Duration::from_millis(90_700), 1, "retryable")
    );
}

#[test]
fn a_poll_backoff_stops_growing_at_256_seconds() {
    assert_eq!(
        poll_failed(&retryable("500", None), context(50)),
        backed_off(secs(256), 51, "retryable")
    );
}

#[test]
fn a_poll_timeout_is_retryable_and_backs_off() {
    assert_eq!(
        poll_failed(&read_timeout(), context(6)),
        backed_off(secs(128), 7, "retryable")
    );
}

#[test]
fn an_unknown_poll_outcome_backs_off_like_a_server_error() {
    assert_eq!(
        poll_failed(&send_timeout(), context(6)),
        backed_off(secs(128), 7, "unknown")
    );
}

#[test]
fn a_failed_poll_keeps_an_existing_rate_limit_mark() {
    let limited = PollContext {
        was_rate_limited: true,
        ..context(1)
    };
    assert_eq!(
        poll_failed(&retryable("500", None), limited).rate_limited_until,
        RateLimitChange::Keep
    );
}

#[test]
fn a_poll_with_an_expired_refreshable_token_asks_for_a_refresh() {
    let refreshable = PollContext {
        can_refresh_token: true,
        ..context(0)
    };
    assert_eq!(
        poll_failed(&PlatformError::AuthExpired("401".into()), refreshable),
        PollDecision {
            try_refresh: true,
            ..backed_off(secs(1), 1, "auth_expired")
        }
    );
}

#[test]
fn a_renewed_token_polls_again_after_one_second() {
    let refreshable = PollContext {
        can_refresh_token: true,
        ..context(2)
    };
    let tried = poll_failed(&PlatformError::AuthExpired("401".into()), refreshable);
    assert_eq!(
        decide_after_refresh(tried, true),
        backed_off(secs(1), 3, "auth_expired")
    );
}

#[test]
fn a_token_that_could_not_be_renewed_blocks_on_new_credentials() {
    let refreshable = PollContext {
        can_refresh_token: true,
        ..context(2)
    };
    let tried = poll_failed(&PlatformError::AuthExpired("401".into()), refreshable);
    assert_eq!(
        decide_after_refresh(tried, false),
        PollDecision {
            block_on_credentials: true,
            ..backed_off(secs(5), 3, "auth_expired")
        }
    );
}

#[test]
fn a_poll_with_an_expired_token_that_cannot_be_refreshed_blocks_on_new_credentials() {
    assert_eq!(
        poll_failed(&PlatformError::AuthExpired("401".into()), context(0)),
        PollDecision {
            health: HealthChange::Unhealthy("access token expired or revoked: 401".into()),
            block_on_credentials: true,
            ..backed_off(secs(5), 1, "auth_expired")
        }
    );
}

#[test]
fn a_poll_over_quota_marks_the_channel_unhealthy_and_waits_fifteen_minutes() {
    assert_eq!(
        poll_failed(
            &PlatformError::QuotaExhausted("usage cap".into()),
            context(0)
        ),
        PollDecision {
            health: HealthChange::Unhealthy("usage cap".into()),
            ..backed_off(secs(900), 1, "quota_exhausted")
        }
    );
}

#[test]
fn a_poll_refused_for_good_marks_the_channel_unhealthy_and_waits_fifteen_minutes() {
    assert_eq!(
        poll_failed(
            &PlatformError::Permanent("no permission".into()),
            context(4)
        ),
        PollDecision {
            health: HealthChange::Unhealthy("no permission".into()),
            ..backed_off(secs(900), 5, "permanent")
        }
    );
}

#[test]
fn a_poll_answered_with_a_bad_payload_or_signature_backs_off() {
    assert_eq!(
        poll_failed(&PlatformError::Payload("no data".into()), context(6)),
        backed_off(secs(128), 7, "payload")
    );
    assert_eq!(
        poll_failed(&PlatformError::BadSignature, context(6)),
        backed_off(secs(128), 7, "bad_signature")
    );
}

#[test]
fn a_poll_into_a_closed_window_backs_off() {
    assert_eq!(
        poll_failed(&PlatformError::WindowClosed("131047".into()), context(0)),
        backed_off(secs(60), 1, "window_closed")
    );
}

#[test]
fn every_failed_poll_counts_its_kind_and_one_more_failure() {
    for (err, name) in every_error() {
        let decision = poll_failed(&err, context(2));
        assert_eq!(decision.count_error, Some(name), "{err:?}");
        assert_eq!(decision.failures, 3, "{err:?}");
    }
}

#[test]
fn the_failure_count_does_not_overflow() {
    assert_eq!(
        poll_failed(&retryable("500", None), context(i32::MAX)).failures,
        i32::MAX
    );
}

// Token refresh timing.

#[test]
fn a_token_of_unknown_expiry_is_never_refreshed_ahead_of_time() {
    assert!(!refresh_due(None, NOW));
}

#[test]
fn a_token_is_refreshed_when_it_expires_within_ten_minutes() {
    assert!(refresh_due(Some(at(599_999)), NOW));
    assert!(refresh_due(Some(at(1)), NOW));
}

#[test]
fn a_token_expiring_in_ten_minutes_or_more_is_not_refreshed_yet() {
    assert!(!refresh_due(Some(at(600_000)), NOW));
    assert!(!refresh_due(Some(at(3_600_000)), NOW));
}

#[test]
fn an_expired_token_is_due_for_a_refresh() {
    assert!(refresh_due(Some(at(-1)), NOW));
    assert!(refresh_due(Some(NOW), NOW));
}
