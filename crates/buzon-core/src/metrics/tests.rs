//! Every expectation below is worked out by hand in the comment above it; times are written
//! with their UTC offset so that none of them depends on the code under test.

use super::*;
use crate::{ChannelId, ConversationId, ConversationStatus, Label, Timestamp, UserId};

const MINUTE: i64 = 60 * 1000;
const HOUR: i64 = 60 * MINUTE;

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("test times are valid RFC 3339")
}

fn nine_to_six() -> WeeklySchedule {
    WeeklySchedule::monday_to_friday(OpenInterval::parse("09:00-18:00").expect("valid interval"))
}

fn madrid() -> BusinessCalendar {
    BusinessCalendar::new("Europe/Madrid", nine_to_six(), []).expect("valid calendar")
}

fn madrid_with_holiday(date: &str) -> BusinessCalendar {
    let holiday = LocalDate::parse(date).expect("valid date");
    BusinessCalendar::new("Europe/Madrid", nine_to_six(), [holiday]).expect("valid calendar")
}

fn conversation(id: i64, events: Vec<MetricEvent>) -> ConversationTimeline {
    ConversationTimeline {
        conversation_id: ConversationId(id),
        channel_id: ChannelId(1),
        labels: Vec::new(),
        author_flagged: false,
        events,
    }
}

fn all_time() -> Period {
    Period {
        start: Timestamp::from_millis(0),
        end: Timestamp::from_millis(i64::MAX),
    }
}

fn options() -> MetricsOptions {
    MetricsOptions::as_of(at("2027-01-01T00:00:00Z"))
}

fn cycles_of(events: Vec<MetricEvent>, calendar: &BusinessCalendar) -> Vec<Cycle> {
    compute(&[conversation(1, events)], calendar, all_time(), &options())
}

fn customer(text: &str) -> MetricEvent {
    MetricEvent::customer_message(at(text))
}

fn reply(text: &str, agent: i64) -> MetricEvent {
    MetricEvent::human_reply(at(text), UserId(agent))
}

fn status(text: &str, status: ConversationStatus) -> MetricEvent {
    MetricEvent::status_change(at(text), status)
}

fn first_response(cycle: &Cycle) -> (i64, i64) {
    let first = cycle.first_response.expect("the cycle was answered");
    (first.wall_millis, first.business_millis)
}

// ---- Business calendar ----

#[test]
fn a_weekend_counts_only_the_opening_hours_on_either_side() {
    // Friday 2026-01-16 17:30 to Monday 2026-01-19 09:15, Madrid (CET, +01:00), Mon–Fri 9–18.
    // Business: Friday 17:30–18:00 = 30 min, Monday 09:00–09:15 = 15 min, 45 min in all.
    // Wall clock: Friday 17:30 → Monday 17:30 is 72 h, minus 8 h 15 min = 63 h 45 min.
    let cycles = cycles_of(
        vec![
            customer("2026-01-16T17:30:00+01:00"),
            reply("2026-01-19T09:15:00+01:00", 7),
        ],
        &madrid(),
    );
    assert_eq!(cycles.len(), 1);
    assert_eq!(
        first_response(&cycles[0]),
        (63 * HOUR + 45 * MINUTE, 45 * MINUTE)
    );
}

#[test]
fn a_holiday_is_closed_all_day() {
    // Monday 2026-01-05 17:00 to Wednesday 2026-01-07 10:00, Tuesday 6 January a holiday.
    // Business: Monday 17:00–18:00 = 1 h, Tuesday 0, Wednesday 09:00–10:00 = 1 h: 2 h.
    // Without the holiday Tuesday adds its 9 hours: 11 h. Wall clock: 41 h either way.
    let start = at("2026-01-05T17:00:00+01:00");
    let end = at("2026-01-07T10:00:00+01:00");
    let with_holiday = madrid_with_holiday("2026-01-06");
    assert_eq!(with_holiday.business_millis_between(start, end), 2 * HOUR);
    assert_eq!(madrid().business_millis_between(start, end), 11 * HOUR);
    assert_eq!(
        BusinessCalendar::always_open().business_millis_between(start, end),
        41 * HOUR
    );
    assert!(!with_holiday.is_open(at("2026-01-06T10:00:00+01:00")));
    // The next opening after Monday's close skips the holiday to Wednesday 09:00.
    assert_eq!(
        with_holiday.next_opening(at("2026-01-05T18:30:00+01:00")),
        Some(at("2026-01-07T09:00:00+01:00"))
    );
}

#[test]
fn a_message_that_arrives_while_closed_starts_counting_at_the_next_opening() {
    // Saturday 2026-01-17 11:00, answered Monday 2026-01-19 09:10: business 09:00–09:10 = 10 min.
    let cycles = cycles_of(
        vec![
            customer("2026-01-17T11:00:00+01:00"),
            reply("2026-01-19T09:10:00+01:00", 7),
        ],
        &madrid(),
    );
    assert_eq!(first_response(&cycles[0]).1, 10 * MINUTE);
    let calendar = madrid();
    assert!(!calendar.is_open(at("2026-01-17T11:00:00+01:00")));
    assert_eq!(
        calendar.next_opening(at("2026-01-17T11:00:00+01:00")),
        Some(at("2026-01-19T09:00:00+01:00"))
    );
    // Open at 17:59, closed at 18:00 (the end is excluded); an open instant is its own opening.
    assert!(calendar.is_open(at("2026-01-16T17:59:00+01:00")));
    assert!(!calendar.is_open(at("2026-01-16T18:00:00+01:00")));
    let open_now = at("2026-01-16T10:00:00+01:00");
    assert_eq!(calendar.next_opening(open_now), Some(open_now));
}

#[test]
fn spring_forward_shortens_the_wall_clock_and_not_the_opening_hours() {
    // Madrid moves from +01:00 to +02:00 on Sunday 2026-03-29 at 02:00.
    // Friday 2026-03-27 17:00 +01:00 (16:00Z) to Monday 2026-03-30 10:00 +02:00 (08:00Z):
    // wall clock 16:00Z Friday → 16:00Z Sunday 48 h, → 08:00Z Monday 16 h more: 64 h (the
    // local clocks read 65 h). Business: Friday 17–18 = 1 h, Monday 09–10 = 1 h: 2 h.
    let cycles = cycles_of(
        vec![
            customer("2026-03-27T17:00:00+01:00"),
            reply("2026-03-30T10:00:00+02:00", 7),
        ],
        &madrid(),
    );
    assert_eq!(first_response(&cycles[0]), (64 * HOUR, 2 * HOUR));
    // After the change Monday opens at 09:00 +02:00, which is 07:00Z.
    assert_eq!(
        madrid().next_opening(at("2026-03-28T12:00:00+01:00")),
        Some(at("2026-03-30T07:00:00Z"))
    );
}

#[test]
fn a_day_with_a_clock_change_has_its_true_length_of_opening_hours() {
    // Open every day 01:00–04:00 in Madrid.
    let schedule = Weekday::ALL
        .iter()
        .fold(WeeklySchedule::closed(), |schedule, day| {
            schedule.with(
                *day,
                OpenInterval::parse("01:00-04:00").expect("valid interval"),
            )
        });
    let calendar = BusinessCalendar::new("Europe/Madrid", schedule, []).expect("valid calendar");
    // 2026-03-29: 01:00 +01:00 = 00:00Z, 04:00 +02:00 = 02:00Z: 2 h, not 3.
    assert_eq!(
        calendar.business_millis_between(at("2026-03-28T12:00:00Z"), at("2026-03-29T12:00:00Z")),
        2 * HOUR
    );
    // 2026-10-25, back from +02:00 to +01:00 at 03:00: 01:00 +02:00 = 23:00Z (24th),
    // 04:00 +01:00 = 03:00Z: 4 h, not 3.
    assert_eq!(
        calendar.business_millis_between(at("2026-10-24T12:00:00Z"), at("2026-10-25T12:00:00Z")),
        4 * HOUR
    );
    // The repeated hour 02:00–03:00 is open both times: 00:30Z is 02:30 +02:00, 01:30Z is
    // 02:30 +01:00.
    assert!(calendar.is_open(at("2026-10-25T00:30:00Z")));
    assert!(calendar.is_open(at("2026-10-25T01:30:00Z")));
}

#[test]
fn fall_back_lengthens_the_wall_clock_by_an_hour() {
    // Saturday 2026-10-24 12:00 +02:00 (10:00Z) to Monday 2026-10-26 12:00 +01:00 (11:00Z):
    // 49 h of real time, although the local clocks read 48 h. Business: Monday 09–12 = 3 h.
    let cycles = cycles_of(
        vec![
            customer("2026-10-24T12:00:00+02:00"),
            reply("2026-10-26T12:00:00+01:00", 7),
        ],
        &madrid(),
    );
    assert_eq!(first_response(&cycles[0]), (49 * HOUR, 3 * HOUR));
}

#[test]
fn split_shifts_count_both_intervals() {
    // Mexico City (no DST since 2022, -06:00), Monday 09:00–14:00 and 16:00–19:00.
    // 13:30 → 16:30: 13:30–14:00 = 30 min plus 16:00–16:30 = 30 min: 1 h.
    let schedule = WeeklySchedule::closed()
        .with(Weekday::Monday, OpenInterval::parse("16:00-19:00").unwrap())
        .with(Weekday::Monday, OpenInterval::parse("09:00-14:00").unwrap());
    let calendar =
        BusinessCalendar::new("America/Mexico_City", schedule, []).expect("valid calendar");
    assert_eq!(
        calendar.business_millis_between(
            at("2026-01-19T13:30:00-06:00"),
            at("2026-01-19T16:30:00-06:00")
        ),
        HOUR
    );
    assert!(!calendar.is_open(at("2026-01-19T15:00:00-06:00")));
    assert_eq!(
        calendar.next_opening(at("2026-01-19T15:00:00-06:00")),
        Some(at("2026-01-19T16:00:00-06:00"))
    );
}

#[test]
fn calendars_reject_unknown_zones_and_overlapping_intervals() {
    assert_eq!(
        BusinessCalendar::new("Mars/Olympus_Mons", nine_to_six(), []),
        Err(CalendarError::UnknownTimeZone("Mars/Olympus_Mons".into()))
    );
    let overlapping = WeeklySchedule::closed()
        .with(
            Weekday::Tuesday,
            OpenInterval::parse("12:00-18:00").unwrap(),
        )
        .with(
            Weekday::Tuesday,
            OpenInterval::parse("09:00-13:00").unwrap(),
        );
    assert!(matches!(
        BusinessCalendar::new("Europe/Madrid", overlapping, []),
        Err(CalendarError::OverlappingIntervals {
            weekday: Weekday::Tuesday,
            ..
        })
    ));
    let touching = WeeklySchedule::closed()
        .with(
            Weekday::Tuesday,
            OpenInterval::parse("13:00-18:00").unwrap(),
        )
        .with(
            Weekday::Tuesday,
            OpenInterval::parse("09:00-13:00").unwrap(),
        );
    assert!(BusinessCalendar::new("Europe/Madrid", touching, []).is_ok());
    assert!(OpenInterval::parse("18:00-09:00")
        .unwrap()
        .crosses_midnight());
    assert!(OpenInterval::parse("18:00-18:00").is_err());
    assert!(OpenInterval::parse("09:00-24:30").is_err());
    assert!(OpenInterval::parse("9-18").is_err());
    assert_eq!(
        OpenInterval::parse("20:00-24:00").unwrap().to_string(),
        "20:00-24:00"
    );
    assert!(LocalDate::parse("2026-02-30").is_err());
    assert_eq!(
        LocalDate::new(2026, 1, 6).unwrap().weekday(),
        Weekday::Tuesday
    );
}

#[test]
fn a_calendar_never_open_has_no_next_opening() {
    let calendar = BusinessCalendar::new("UTC", WeeklySchedule::closed(), []).unwrap();
    assert_eq!(calendar.next_opening(at("2026-01-01T00:00:00Z")), None);
    assert_eq!(
        calendar.business_millis_between(at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z")),
        0
    );
}

// ---- Cycles ----

#[test]
fn an_automatic_reply_is_not_a_response() {
    // Customer 10:00, auto-reply 10:00:05, person 10:20: first response 20 min, from agent 8.
    let cycles = cycles_of(
        vec![
            customer("2026-01-20T10:00:00+01:00"),
            MetricEvent::automatic_reply(at("2026-01-20T10:00:05+01:00")),
            reply("2026-01-20T10:20:00+01:00", 8),
        ],
        &madrid(),
    );
    assert_eq!(first_response(&cycles[0]), (20 * MINUTE, 20 * MINUTE));
    assert_eq!(cycles[0].first_responder_id, Some(UserId(8)));
    assert_eq!(cycles[0].replies.len(), 1);
}

#[test]
fn a_conversation_answered_only_by_the_auto_reply_is_unanswered() {
    // Customer at 10:00, auto-reply at once, resolved at 10:30 without a person: no first
    // response, resolution 30 min, not answered within 24 h.
    let cycles = cycles_of(
        vec![
            customer("2026-01-20T10:00:00+01:00"),
            MetricEvent::automatic_reply(at("2026-01-20T10:00:01+01:00")),
            status("2026-01-20T10:30:00+01:00", ConversationStatus::Resolved),
        ],
        &madrid(),
    );
    assert_eq!(cycles[0].first_response, None);
    assert_eq!(
        cycles[0].resolution.map(|r| r.wall_millis),
        Some(30 * MINUTE)
    );
    assert_eq!(cycles[0].within_window.wall, Some(false));
}

#[test]
fn a_message_after_resolution_starts_a_new_cycle() {
    // Cycle 1: customer 10:00, agent 1 at 10:10, resolved 10:30 → first response 10 min,
    // resolution 30 min. Cycle 2: customer 12:00 while resolved, agent 2 at 12:05, resolved
    // 12:20 → first response 5 min, resolution 20 min (not 2 h 20 min from 10:00).
    let cycles = cycles_of(
        vec![
            customer("2026-01-20T10:00:00+01:00"),
            reply("2026-01-20T10:10:00+01:00", 1),
            status("2026-01-20T10:30:00+01:00", ConversationStatus::Resolved),
            customer("2026-01-20T12:00:00+01:00"),
            reply("2026-01-20T12:05:00+01:00", 2),
            status("2026-01-20T12:20:00+01:00", ConversationStatus::Resolved),
        ],
        &madrid(),
    );
    assert_eq!(cycles.len(), 2);
    assert_eq!(first_response(&cycles[0]).0, 10 * MINUTE);
    assert_eq!(cycles[0].resolution.unwrap().wall_millis, 30 * MINUTE);
    assert_eq!(cycles[1].started_at, at("2026-01-20T12:00:00+01:00"));
    assert_eq!(first_response(&cycles[1]).0, 5 * MINUTE);
    assert_eq!(cycles[1].resolution.unwrap().wall_millis, 20 * MINUTE);
    assert_eq!(cycles[1].first_responder_id, Some(UserId(2)));
}

#[test]
fn a_reopen_with_an_unanswered_message_starts_a_new_cycle_at_the_reopen() {
    // Customer 09:00, resolved by mistake at 09:05 with no reply: cycle 1 is resolved in
    // 5 min and not answered. Reopened at 10:00 and answered at 10:30: cycle 2 starts at the
    // reopen, first response 30 min. An agent's follow-up after a plain reopen (nothing
    // unanswered) starts nothing: a third cycle does not appear.
    let cycles = cycles_of(
        vec![
            customer("2026-01-20T09:00:00+01:00"),
            status("2026-01-20T09:05:00+01:00", ConversationStatus::Resolved),
            status("2026-01-20T10:00:00+01:00", ConversationStatus::Open),
            reply("2026-01-20T10:30:00+01:00", 3),
            status("2026-01-20T11:00:00+01:00", ConversationStatus::Resolved),
            status("2026-01-20T12:00:00+01:00", ConversationStatus::Open),
            reply("2026-01-20T12:10:00+01:00", 3),
        ],
        &madrid(),
    );
    assert_eq!(cycles.len(), 2);
    assert_eq!(cycles[0].resolution.unwrap().wall_millis, 5 * MINUTE);
    assert_eq!(cycles[0].within_window.wall, Some(false));
    assert_eq!(cycles[1].started_at, at("2026-01-20T10:00:00+01:00"));
    assert_eq!(first_response(&cycles[1]).0, 30 * MINUTE);
    assert_eq!(cycles[1].resolution.unwrap().wall_millis, HOUR);
}

#[test]
fn events_arriving_out_of_order_are_sorted_by_platform_time() {
    // Delivered as: reply 10:20, resolve 11:00, customer 10:05, auto 10:01, customer 10:00.
    // In time order: customer 10:00 (cycle start), auto, customer 10:05 (same burst), reply
    // 10:20, resolved 11:00 → first response 20 min, one reply sample of 20 min, resolution 1 h.
    let cycles = cycles_of(
        vec![
            reply("2026-01-20T10:20:00+01:00", 4),
            status("2026-01-20T11:00:00+01:00", ConversationStatus::Resolved),
            customer("2026-01-20T10:05:00+01:00"),
            MetricEvent::automatic_reply(at("2026-01-20T10:01:00+01:00")),
            customer("2026-01-20T10:00:00+01:00"),
        ],
        &madrid(),
    );
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].started_at, at("2026-01-20T10:00:00+01:00"));
    assert_eq!(first_response(&cycles[0]).0, 20 * MINUTE);
    assert_eq!(cycles[0].replies.len(), 1);
    assert_eq!(cycles[0].resolution.unwrap().wall_millis, HOUR);
}

#[test]
fn at_the_same_millisecond_the_customer_message_comes_before_the_reply() {
    // Delivered reply first, both at 10:00:00.000: the reply answers the message in 0 ms.
    let cycles = cycles_of(
        vec![
            reply("2026-01-20T10:00:00+01:00", 4),
            customer("2026-01-20T10:00:00+01:00"),
        ],
        &madrid(),
    );
    assert_eq!(first_response(&cycles[0]), (0, 0));
}

#[test]
fn a_burst_counts_from_its_first_unanswered_message() {
    // Burst 10:00, 10:02, 10:07 answered at 10:15: one sample of 15 min. Then 10:30 answered
    // at 10:40: 10 min. A second reply at 10:45 with nothing waiting makes no sample.
    let cycles = cycles_of(
        vec![
            customer("2026-01-20T10:00:00+01:00"),
            customer("2026-01-20T10:02:00+01:00"),
            customer("2026-01-20T10:07:00+01:00"),
            reply("2026-01-20T10:15:00+01:00", 5),
            customer("2026-01-20T10:30:00+01:00"),
            reply("2026-01-20T10:40:00+01:00", 6),
            reply("2026-01-20T10:45:00+01:00", 6),
        ],
        &madrid(),
    );
    let samples: Vec<(i64, i64)> = cycles[0]
        .replies
        .iter()
        .map(|sample| (sample.agent_id.get(), sample.elapsed.wall_millis))
        .collect();
    assert_eq!(samples, vec![(5, 15 * MINUTE), (6, 10 * MINUTE)]);
    assert_eq!(first_response(&cycles[0]).0, 15 * MINUTE);
    assert_eq!(cycles[0].unanswered_since, None);
}

#[test]
fn time_in_pending_does_not_count_on_either_clock() {
    // Customer 10:00, agent 10:10 and pending from 10:10; the customer writes at 14:00
    // (ending pending), answered 14:30, resolved 15:00.
    // Resolution: 5 h minus pending 10:10–14:00 (3 h 50 min) = 1 h 10 min, on both clocks
    // (all inside Tuesday 9–18). Reply samples: 10 min and 30 min.
    let cycles = cycles_of(
        vec![
            customer("2026-01-20T10:00:00+01:00"),
            reply("2026-01-20T10:10:00+01:00", 1),
            status("2026-01-20T10:10:00+01:00", ConversationStatus::Pending),
            customer("2026-01-20T14:00:00+01:00"),
            reply("2026-01-20T14:30:00+01:00", 1),
            status("2026-01-20T15:00:00+01:00", ConversationStatus::Resolved),
        ],
        &madrid(),
    );
    let resolution = cycles[0].resolution.unwrap();
    assert_eq!(
        (resolution.wall_millis, resolution.business_millis),
        (HOUR + 10 * MINUTE, HOUR + 10 * MINUTE)
    );
    let samples: Vec<i64> = cycles[0]
        .replies
        .iter()
        .map(|sample| sample.elapsed.wall_millis)
        .collect();
    assert_eq!(samples, vec![10 * MINUTE, 30 * MINUTE]);
}

#[test]
fn pending_across_the_night_is_subtracted_from_business_hours_too() {
    // Customer Tuesday 17:00; pending 17:30 to Wednesday 10:00 (set back to open); answered
    // Wednesday 11:00. Wall: 18 h minus 16 h 30 min pending = 1 h 30 min.
    // Business: Tue 17:00–18:00 + Wed 09:00–11:00 = 3 h, minus pending's business time
    // (Tue 17:30–18:00 + Wed 09:00–10:00 = 1 h 30 min) = 1 h 30 min.
    let cycles = cycles_of(
        vec![
            customer("2026-01-20T17:00:00+01:00"),
            status("2026-01-20T17:30:00+01:00", ConversationStatus::Pending),
            status("2026-01-21T10:00:00+01:00", ConversationStatus::Open),
            reply("2026-01-21T11:00:00+01:00", 1),
        ],
        &madrid(),
    );
    assert_eq!(
        first_response(&cycles[0]),
        (HOUR + 30 * MINUTE, HOUR + 30 * MINUTE)
    );
}

#[test]
fn snoozed_time_counts() {
    // Customer 10:00, snoozed 10:05 until the agent wakes it at 11:00, answered 11:10: 70 min.
    let cycles = cycles_of(
        vec![
            customer("2026-01-20T10:00:00+01:00"),
            status("2026-01-20T10:05:00+01:00", ConversationStatus::Snoozed),
            status("2026-01-20T11:00:00+01:00", ConversationStatus::Open),
            reply("2026-01-20T11:10:00+01:00", 1),
        ],
        &madrid(),
    );
    assert_eq!(first_response(&cycles[0]).0, 70 * MINUTE);
}

#[test]
fn replies_before_any_customer_message_start_no_cycle() {
    let cycles = cycles_of(vec![reply("2026-01-20T10:00:00+01:00", 1)], &madrid());
    assert!(cycles.is_empty());
}

#[test]
fn trolls_and_spam_are_left_out_unless_included() {
    let events = vec![
        customer("2026-01-20T10:00:00+01:00"),
        reply("2026-01-20T10:10:00+01:00", 1),
    ];
    let plain = conversation(1, events.clone());
    let troll = ConversationTimeline {
        author_flagged: true,
        ..conversation(2, events.clone())
    };
    let labelled_spam = ConversationTimeline {
        labels: vec![Label::parse("spam").unwrap()],
        ..conversation(3, events)
    };
    let conversations = [plain, troll, labelled_spam];
    let by_default = compute(&conversations, &madrid(), all_time(), &options());
    assert_eq!(by_default.len(), 1);
    assert_eq!(by_default[0].conversation_id, ConversationId(1));
    let included = MetricsOptions {
        include_flagged: true,
        ..options()
    };
    assert_eq!(
        compute(&conversations, &madrid(), all_time(), &included).len(),
        3
    );
}

#[test]
fn only_cycles_starting_in_the_period_are_kept() {
    // Cycle A starts Sunday 23:50 UTC, before the period; cycle B starts in it and is
    // answered after the period ends, which still counts.
    let period = Period {
        start: at("2026-01-19T00:00:00Z"),
        end: at("2026-01-20T00:00:00Z"),
    };
    let conversations = [
        conversation(
            1,
            vec![
                customer("2026-01-18T23:50:00Z"),
                reply("2026-01-19T00:10:00Z", 1),
            ],
        ),
        conversation(
            2,
            vec![
                customer("2026-01-19T23:50:00Z"),
                reply("2026-01-20T00:10:00Z", 1),
            ],
        ),
    ];
    let cycles = compute(&conversations, &madrid(), period, &options());
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].conversation_id, ConversationId(2));
    assert_eq!(first_response(&cycles[0]).0, 20 * MINUTE);
}

// ---- Response rate and summaries ----

#[test]
fn the_response_rate_judges_cycles_once_their_window_is_over() {
    // As of Wednesday 2026-01-21 12:00Z:
    // 1. Tuesday 10:00Z answered 10:30Z → yes.
    // 2. Monday 08:00Z, answered Tuesday 09:00Z (25 h) → no on the wall clock.
    // 3. Monday 09:00Z, never answered, 51 h ago → no.
    // 4. Wednesday 10:00Z, unanswered for 2 h → not judged yet.
    // Wall rate: 1 of 3.
    let as_of = MetricsOptions::as_of(at("2026-01-21T12:00:00Z"));
    let conversations = [
        conversation(
            1,
            vec![
                customer("2026-01-20T10:00:00Z"),
                reply("2026-01-20T10:30:00Z", 1),
            ],
        ),
        conversation(
            2,
            vec![
                customer("2026-01-19T08:00:00Z"),
                reply("2026-01-20T09:00:00Z", 1),
            ],
        ),
        conversation(3, vec![customer("2026-01-19T09:00:00Z")]),
        conversation(4, vec![customer("2026-01-21T10:00:00Z")]),
    ];
    let cycles = compute(&conversations, &madrid(), all_time(), &as_of);
    let report = summarize(&cycles);
    assert_eq!(
        report.overall.wall.response_rate,
        Ratio {
            numerator: 1,
            denominator: 3
        }
    );
    assert_eq!(cycles[3].within_window.wall, None);
    assert_eq!(cycles[3].unanswered_since, Some(at("2026-01-21T10:00:00Z")));
}

#[test]
fn a_weekend_wait_is_within_24_business_hours_but_not_24_wall_hours() {
    // Friday 17:30 → Monday 09:15: 63 h 45 min of wall clock (late) but 45 min of business
    // hours (in time).
    let cycles = cycles_of(
        vec![
            customer("2026-01-16T17:30:00+01:00"),
            reply("2026-01-19T09:15:00+01:00", 7),
        ],
        &madrid(),
    );
    assert_eq!(
        cycles[0].within_window,
        WithinWindow {
            wall: Some(false),
            business: Some(true)
        }
    );
}

#[test]
fn percentiles_are_nearest_rank() {
    // 1..=10: median rank ⌈0.5·10⌉ = 5 → 5; p90 rank ⌈0.9·10⌉ = 9 → 9.
    let one_to_ten: Vec<i64> = (1..=10).rev().collect();
    assert_eq!(
        Summary::of(&one_to_ten),
        Summary {
            count: 10,
            median: Some(5),
            p90: Some(9)
        }
    );
    // [40, 10, 30, 20]: sorted 10 20 30 40; median rank 2 → 20; p90 rank ⌈3.6⌉ = 4 → 40.
    assert_eq!(
        Summary::of(&[40, 10, 30, 20]),
        Summary {
            count: 4,
            median: Some(20),
            p90: Some(40)
        }
    );
    // 21 values 0, 100, …, 2000: median rank ⌈10.5⌉ = 11 → 1000; p90 rank ⌈18.9⌉ = 19 → 1800.
    let hundreds: Vec<i64> = (0..=20).map(|step| step * 100).collect();
    assert_eq!(Summary::of(&hundreds).median, Some(1000));
    assert_eq!(Summary::of(&hundreds).p90, Some(1800));
    assert_eq!(
        Summary::of(&[7]),
        Summary {
            count: 1,
            median: Some(7),
            p90: Some(7)
        }
    );
    assert_eq!(
        Summary::of(&[]),
        Summary {
            count: 0,
            median: None,
            p90: None
        }
    );
    assert_eq!(Ratio::default().as_fraction(), None);
}

#[test]
fn selection_gives_the_same_percentiles_as_sorting() {
    // Lengths 1 to 300, values with many repeats, in a scrambled order.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for length in 1..=300usize {
        let samples: Vec<i64> = (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 50) as i64 * 1_000
            })
            .collect();
        let mut sorted = samples.clone();
        sorted.sort_unstable();
        assert_eq!(
            Summary::of(&samples),
            Summary {
                count: length as u64,
                median: nearest_rank(&sorted, 50),
                p90: nearest_rank(&sorted, 90),
            },
            "{samples:?}"
        );
    }
}

#[test]
fn figures_are_grouped_by_channel_first_responder_and_label() {
    // Conversation 1 (channel 1, label shipping): customer 10:00, agent 1 at 10:10, customer
    // 10:20, agent 2 at 10:50. Conversation 2 (channel 2, labels shipping and refund):
    // customer 10:00, agent 2 at 10:20.
    // Agent 1: one cycle (first response 10 min) and one reply sample (10 min).
    // Agent 2: one cycle (first response 20 min), reply samples 30 min and 20 min → median
    //   rank ⌈1⌉ = 1 of [20, 30] = 20 min, p90 rank ⌈1.8⌉ = 2 → 30 min.
    // Label shipping: both cycles, first responses [10, 20] → median 10 min.
    let shipping = Label::parse("shipping").unwrap();
    let refund = Label::parse("refund").unwrap();
    let conversations = [
        ConversationTimeline {
            labels: vec![shipping.clone()],
            ..conversation(
                1,
                vec![
                    customer("2026-01-20T10:00:00+01:00"),
                    reply("2026-01-20T10:10:00+01:00", 1),
                    customer("2026-01-20T10:20:00+01:00"),
                    reply("2026-01-20T10:50:00+01:00", 2),
                ],
            )
        },
        ConversationTimeline {
            channel_id: ChannelId(2),
            labels: vec![shipping.clone(), refund.clone()],
            ..conversation(
                2,
                vec![
                    customer("2026-01-20T10:00:00+01:00"),
                    reply("2026-01-20T10:20:00+01:00", 2),
                ],
            )
        },
    ];
    let report = summarize(&compute(&conversations, &madrid(), all_time(), &options()));
    assert_eq!(report.overall.cycles, 2);
    assert_eq!(report.overall.wall.reply_time.count, 3);

    let agent_one = &report.by_agent[&UserId(1)];
    assert_eq!(agent_one.cycles, 1);
    assert_eq!(agent_one.wall.first_response.median, Some(10 * MINUTE));
    assert_eq!(agent_one.wall.reply_time.count, 1);
    let agent_two = &report.by_agent[&UserId(2)];
    assert_eq!(agent_two.cycles, 1);
    assert_eq!(agent_two.wall.first_response.median, Some(20 * MINUTE));
    assert_eq!(
        agent_two.business.reply_time,
        Summary {
            count: 2,
            median: Some(20 * MINUTE),
            p90: Some(30 * MINUTE)
        }
    );

    assert_eq!(report.by_channel[&ChannelId(1)].cycles, 1);
    assert_eq!(report.by_channel[&ChannelId(2)].cycles, 1);
    assert_eq!(report.by_label[&shipping].cycles, 2);
    assert_eq!(
        report.by_label[&shipping].wall.first_response.median,
        Some(10 * MINUTE)
    );
    assert_eq!(report.by_label[&refund].cycles, 1);
    assert_eq!(
        report.by_label[&refund].wall.response_rate.as_fraction(),
        Some(1.0)
    );
}

// ---- Heatmap ----

#[test]
fn the_heatmap_counts_arrivals_per_local_hour_of_the_week() {
    // Period: two weeks from Monday 2026-01-12 00:00 Madrid (2026-01-11T23:00Z).
    // Monday 19th 10:15 and 10:45 Madrid → cell (Monday, 10), two arrivals; one cycle started
    // at 10:15 and answered at 10:25 → median first response 10 min.
    // Tuesday 20th 23:30 Madrid is 22:30Z: still Tuesday 23 locally.
    // Each cell occurs twice in the period: exposure 2 h; Monday 10 has 1 arrival per hour.
    // A troll's message in the same hour is not counted.
    let period = Period {
        start: at("2026-01-12T00:00:00+01:00"),
        end: at("2026-01-26T00:00:00+01:00"),
    };
    let troll = ConversationTimeline {
        author_flagged: true,
        ..conversation(3, vec![customer("2026-01-19T10:30:00+01:00")])
    };
    let conversations = [
        conversation(
            1,
            vec![
                customer("2026-01-19T10:15:00+01:00"),
                reply("2026-01-19T10:25:00+01:00", 1),
                customer("2026-01-19T10:45:00+01:00"),
            ],
        ),
        conversation(2, vec![customer("2026-01-20T23:30:00+01:00")]),
        troll,
    ];
    let map = heatmap(&conversations, &madrid(), period, &options());
    assert_eq!(map.time_zone, "Europe/Madrid");
    let monday_ten = map.cell(Weekday::Monday, 10);
    assert_eq!(monday_ten.arrivals, 2);
    assert_eq!(monday_ten.exposure_millis, 2 * HOUR);
    assert_eq!(monday_ten.arrivals_per_hour(), 1.0);
    assert_eq!(monday_ten.first_response.median, Some(10 * MINUTE));
    assert_eq!(map.cell(Weekday::Tuesday, 23).arrivals, 1);
    assert_eq!(map.cell(Weekday::Tuesday, 22).arrivals, 0);
    let total: u64 = map.cells().map(|(_, _, cell)| cell.arrivals).sum();
    assert_eq!(total, 3);
}

#[test]
fn the_hour_skipped_in_spring_has_no_exposure() {
    // The week Monday 2026-03-23 00:00 +01:00 to Monday 2026-03-30 00:00 +02:00 lasts
    // 7·24 − 1 = 167 h; Sunday 02:00–03:00 never happens, every other hour happens once.
    let period = Period {
        start: at("2026-03-23T00:00:00+01:00"),
        end: at("2026-03-30T00:00:00+02:00"),
    };
    let map = heatmap(&[], &madrid(), period, &options());
    assert_eq!(map.cell(Weekday::Sunday, 2).exposure_millis, 0);
    assert_eq!(map.cell(Weekday::Sunday, 3).exposure_millis, HOUR);
    let total: i64 = map.cells().map(|(_, _, cell)| cell.exposure_millis).sum();
    assert_eq!(total, 167 * HOUR);
}

// ---- Staffing ----

#[test]
fn erlang_c_matches_hand_computed_values() {
    // A = 2, N = 3. Erlang B: B1 = 2/3, B2 = (2·2/3)/(2 + 4/3) = 0.4, B3 = 0.8/3.8 = 4/19.
    // C = 3·(4/19) / (3 − 2·(15/19)) = (12/19)/(27/19) = 4/9 ≈ 0.4444.
    assert!((erlang_c(3, 2.0) - 4.0 / 9.0).abs() < 1e-12);
    // A = 1, N = 2 (M/M/2 at 50% load): B2 = 0.2, C = 0.4/1.2 = 1/3.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    // Unstable queue: everyone waits.
    assert_eq!(erlang_c(2, 2.0), 1.0);
    assert_eq!(erlang_c(0, 0.0), 0.0);
    // A large case stays finite and in range (the A^N/N! formula overflows here).
    let large = erlang_c(1_000, 950.0);
    assert!(large > 0.0 && large < 1.0, "{large}");
}

#[test]
fn staffing_finds_the_fewest_people_that_meet_the_target() {
    // 6 conversations an hour of 20 minutes: A = 6·20/60 = 2 Erlangs.
    // N = 3: 1 − (4/9)·e^(−(3−2)·30/20) = 1 − 0.4444·0.22313 = 0.9008 ≥ 0.90 → 3 people.
    // For 95%: N = 4: B4 = (2·4/19)/(4 + 8/19) = 2/21, C = (8/21)/(4 − 2·19/21) = 4/23 ≈
    // 0.17391; 1 − 0.17391·e^(−2·1.5) = 1 − 0.17391·0.049787 = 0.99134 → 4 people.
    let ninety = ServiceTarget {
        share: 0.9,
        within_minutes: 30.0,
    };
    let level = service_level(3, 6.0, 20.0, 30.0);
    assert!((level - 0.900_831).abs() < 1e-5, "{level}");
    assert_eq!(required_agents(6.0, 20.0, ninety), Ok(3));
    let ninety_five = ServiceTarget {
        share: 0.95,
        ..ninety
    };
    assert!((service_level(4, 6.0, 20.0, 30.0) - 0.991_341).abs() < 1e-5);
    assert_eq!(required_agents(6.0, 20.0, ninety_five), Ok(4));
    assert_eq!(required_agents(0.0, 20.0, ninety), Ok(0));
    assert!(matches!(
        required_agents(-1.0, 20.0, ninety),
        Err(StaffingError::InvalidInput(_))
    ));
    assert!(matches!(
        required_agents(
            6.0,
            20.0,
            ServiceTarget {
                share: 1.0,
                ..ninety
            }
        ),
        Err(StaffingError::InvalidInput(_))
    ));
}

#[test]
fn a_staffing_plan_follows_the_heatmap() {
    // Six messages in Monday 10:00–11:00 of a one-week period: 6 per hour, AHT 20 min,
    // 90% within 30 min → 3 people (see above); every other hour has no arrivals → 0.
    let period = Period {
        start: at("2026-01-19T00:00:00+01:00"),
        end: at("2026-01-26T00:00:00+01:00"),
    };
    let conversations: Vec<ConversationTimeline> = (0..6)
        .map(|index| {
            conversation(
                index,
                vec![customer(&format!(
                    "2026-01-19T10:{:02}:00+01:00",
                    index * 10
                ))],
            )
        })
        .collect();
    let map = heatmap(&conversations, &madrid(), period, &options());
    let target = ServiceTarget {
        share: 0.9,
        within_minutes: 30.0,
    };
    let plan = staffing_plan(&map, 20.0, target).expect("valid inputs");
    assert_eq!(plan.agents(Weekday::Monday, 10), 3);
    assert_eq!(plan.agents(Weekday::Monday, 11), 0);
    assert_eq!(plan.agents(Weekday::Sunday, 23), 0);
}

#[test]
fn local_dates_start_at_local_midnight() {
    let calendar = BusinessCalendar::always_open_in("Europe/Madrid").unwrap();
    let date = LocalDate::parse("2026-03-02").unwrap();
    // Madrid is UTC+1 in winter: local midnight is 23:00 UTC the day before.
    let start = calendar.start_of(date);
    assert_eq!(
        start,
        Timestamp::parse_rfc3339("2026-03-01T23:00:00Z").unwrap()
    );
    assert_eq!(calendar.date_of(start), date);
    assert_eq!(
        calendar.date_of(Timestamp::from_millis(start.as_millis() - 1)),
        LocalDate::parse("2026-03-01").unwrap()
    );
}
