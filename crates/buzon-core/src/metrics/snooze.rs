//! When a snoozed conversation comes back: the choices the snooze menu offers ("later today",
//! "tomorrow 9:00", "Monday 9:00"), a local date and time as a browser's `datetime-local`
//! field gives it, or an instant in RFC 3339, read in the viewer's time zone.

use super::BusinessCalendar;
use crate::Timestamp;

/// The hour of the morning that "tomorrow" and "Monday" mean.
pub const MORNING_MINUTE: u16 = 9 * 60;
/// What "later today" means.
pub const LATER_MILLIS: i64 = 3 * 60 * 60 * 1000;

/// The named choices, in menu order.
pub const SNOOZE_CHOICES: [&str; 3] = ["later", "tomorrow", "monday"];

/// The instant a snooze choice means at `now` for a viewer in `zone` (a calendar used only for
/// its time zone): `later` (three hours from now), `tomorrow` (9:00 tomorrow), `monday`
/// (9:00 next Monday; a week on when today is Monday), `YYYY-MM-DDTHH:MM` (local), or an
/// RFC 3339 instant. Errs with a message for anything else.
pub fn snooze_until(
    choice: &str,
    zone: &BusinessCalendar,
    now: Timestamp,
) -> Result<Timestamp, String> {
    let choice = choice.trim();
    let today = zone.date_of(now);
    let morning = |days: i32| {
        today
            .plus_days(days)
            .and_then(|date| zone.local_instant(date, MORNING_MINUTE))
            .ok_or_else(|| "that date is out of range".to_owned())
    };
    match choice {
        "later" => return Ok(Timestamp::from_millis(now.as_millis() + LATER_MILLIS)),
        "tomorrow" => return morning(1),
        "monday" => {
            let ahead = (7 - today.weekday().index() as i32) % 7;
            return morning(if ahead == 0 { 7 } else { ahead });
        }
        _ => {}
    }
    if let Some(at) = Timestamp::parse_rfc3339(choice) {
        return Ok(at);
    }
    // A local `YYYY-MM-DDTHH:MM` (seconds allowed and ignored).
    let local = choice.get(..16).filter(|_| choice.len() <= 19);
    if let Some((date, clock)) = local.and_then(|text| text.split_once('T')) {
        if let (Ok(date), Some((hour, minute))) =
            (super::LocalDate::parse(date), clock.split_once(':'))
        {
            if let (Ok(hour), Ok(minute)) = (hour.parse::<u16>(), minute.parse::<u16>()) {
                if hour < 24 && minute < 60 {
                    return zone
                        .local_instant(date, hour * 60 + minute)
                        .ok_or_else(|| "that date is out of range".to_owned());
                }
            }
        }
    }
    Err(format!(
        "until must be later, tomorrow, monday, a local date and time (YYYY-MM-DDTHH:MM) or an RFC 3339 instant, not {:?}",
        choice.chars().take(40).collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn madrid() -> BusinessCalendar {
        BusinessCalendar::always_open_in("Europe/Madrid").unwrap()
    }

    #[test]
    fn choices_are_read_in_the_viewers_zone() {
        // Wednesday 2026-12-02 22:30 in Madrid (21:30 UTC).
        let now = Timestamp::parse_rfc3339("2026-12-02T21:30:00Z").unwrap();
        let at = |choice: &str| snooze_until(choice, &madrid(), now).unwrap().to_rfc3339();
        assert_eq!(at("tomorrow"), "2026-12-03T08:00:00.000Z");
        assert_eq!(at("monday"), "2026-12-07T08:00:00.000Z");
        assert_eq!(at("later"), "2026-12-03T00:30:00.000Z");
        assert_eq!(at("2026-12-24T18:45"), "2026-12-24T17:45:00.000Z");
        assert_eq!(at("2026-12-24T18:45:00"), "2026-12-24T17:45:00.000Z");
        assert_eq!(at("2026-12-24T18:45:00Z"), "2026-12-24T18:45:00.000Z");
    }

    #[test]
    fn monday_on_a_monday_is_a_week_on_and_nonsense_is_refused() {
        let monday = Timestamp::parse_rfc3339("2026-12-07T10:00:00Z").unwrap();
        assert_eq!(
            snooze_until("monday", &madrid(), monday)
                .unwrap()
                .to_rfc3339(),
            "2026-12-14T08:00:00.000Z"
        );
        for bad in ["soon", "2026-13-01T10:00", "2026-12-01T25:00", "mañana"] {
            assert!(snooze_until(bad, &madrid(), monday).is_err(), "{bad}");
        }
    }
}
