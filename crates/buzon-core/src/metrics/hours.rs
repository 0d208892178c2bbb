//! Business hours as people and tools write them: the JSON document of the API
//! (`{"time_zone":…,"week":{"monday":["09:00-14:00","16:00-20:00"],…},"holidays":[…],
//! "exceptions":[{"date":…,"hours":[…]}]}`), read into a [`BusinessCalendar`] and written
//! back from one. The admin page, the API and the configuration all go through it.

use super::calendar::{BusinessCalendar, CalendarError, LocalDate, OpenInterval, Weekday};
use super::WeeklySchedule;
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// Most ranges a day may have, and most holidays and exceptions a calendar may list: a bound
/// on hostile input, far above any real shop's needs.
pub const MAX_RANGES_PER_DAY: usize = 12;
/// See [`MAX_RANGES_PER_DAY`].
pub const MAX_DATES: usize = 1_000;

/// The week of an hours document: each day's ranges, `HH:MM-HH:MM`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct WeekDocument {
    #[serde(default)]
    pub monday: Vec<String>,
    #[serde(default)]
    pub tuesday: Vec<String>,
    #[serde(default)]
    pub wednesday: Vec<String>,
    #[serde(default)]
    pub thursday: Vec<String>,
    #[serde(default)]
    pub friday: Vec<String>,
    #[serde(default)]
    pub saturday: Vec<String>,
    #[serde(default)]
    pub sunday: Vec<String>,
}

impl WeekDocument {
    /// The ranges of a weekday.
    pub fn day(&self, weekday: Weekday) -> &[String] {
        match weekday {
            Weekday::Monday => &self.monday,
            Weekday::Tuesday => &self.tuesday,
            Weekday::Wednesday => &self.wednesday,
            Weekday::Thursday => &self.thursday,
            Weekday::Friday => &self.friday,
            Weekday::Saturday => &self.saturday,
            Weekday::Sunday => &self.sunday,
        }
    }

    /// The ranges of a weekday, to change.
    pub fn day_mut(&mut self, weekday: Weekday) -> &mut Vec<String> {
        match weekday {
            Weekday::Monday => &mut self.monday,
            Weekday::Tuesday => &mut self.tuesday,
            Weekday::Wednesday => &mut self.wednesday,
            Weekday::Thursday => &mut self.thursday,
            Weekday::Friday => &mut self.friday,
            Weekday::Saturday => &mut self.saturday,
            Weekday::Sunday => &mut self.sunday,
        }
    }
}

/// A one-off date with its own hours (none: closed that day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionDocument {
    /// `YYYY-MM-DD`, in the calendar's zone.
    pub date: String,
    /// The ranges open that day; empty when closed.
    #[serde(default)]
    pub hours: Vec<String>,
}

/// Business hours as the API and the admin page exchange them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"time_zone": "Europe/Madrid", "week": {"monday": ["09:00-14:00", "16:00-20:00"], "tuesday": ["09:00-14:00", "16:00-20:00"], "wednesday": ["09:00-14:00", "16:00-20:00"], "thursday": ["09:00-14:00", "16:00-20:00"], "friday": ["09:00-15:00"], "saturday": [], "sunday": []}, "holidays": ["2026-12-25"], "exceptions": [{"date": "2026-12-24", "hours": ["09:00-13:00"]}]}))]
pub struct HoursDocument {
    /// An IANA zone name.
    pub time_zone: String,
    /// The weekly ranges.
    #[serde(default)]
    pub week: WeekDocument,
    /// Dates closed all day.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Dates with their own hours.
    #[serde(default)]
    pub exceptions: Vec<ExceptionDocument>,
}

impl HoursDocument {
    /// The calendar this document describes, or why it cannot be one.
    pub fn calendar(&self) -> Result<BusinessCalendar, CalendarError> {
        let too_many = |what: &str| CalendarError::InvalidInterval(format!("too many {what}"));
        let mut schedule = WeeklySchedule::closed();
        for weekday in Weekday::ALL {
            let ranges = self.week.day(weekday);
            if ranges.len() > MAX_RANGES_PER_DAY {
                return Err(too_many("ranges in a day"));
            }
            for range in ranges {
                schedule = schedule.with(weekday, OpenInterval::parse(range)?);
            }
        }
        if self.holidays.len() > MAX_DATES || self.exceptions.len() > MAX_DATES {
            return Err(too_many("dates"));
        }
        let holidays = self
            .holidays
            .iter()
            .map(|date| LocalDate::parse(date))
            .collect::<Result<Vec<_>, _>>()?;
        let exceptions = self
            .exceptions
            .iter()
            .map(|exception| {
                if exception.hours.len() > MAX_RANGES_PER_DAY {
                    return Err(too_many("ranges in a day"));
                }
                let hours = exception
                    .hours
                    .iter()
                    .map(|range| OpenInterval::parse(range))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((LocalDate::parse(&exception.date)?, hours))
            })
            .collect::<Result<Vec<_>, _>>()?;
        BusinessCalendar::new(&self.time_zone, schedule, holidays)?.with_exceptions(exceptions)
    }

    /// The document of a calendar (an always-open calendar reads as open every day, all day).
    pub fn of(calendar: &BusinessCalendar) -> HoursDocument {
        let mut week = WeekDocument::default();
        for weekday in Weekday::ALL {
            *week.day_mut(weekday) = match calendar.schedule() {
                Some(schedule) => schedule
                    .intervals(weekday)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                None => vec!["00:00-24:00".to_owned()],
            };
        }
        HoursDocument {
            time_zone: calendar.time_zone().to_owned(),
            week,
            holidays: calendar.holidays().map(|date| date.to_string()).collect(),
            exceptions: calendar
                .exceptions()
                .map(|(date, hours)| ExceptionDocument {
                    date: date.to_string(),
                    hours: hours.iter().map(ToString::to_string).collect(),
                })
                .collect(),
        }
    }
}

/// When the team is back, in words of `language` (`es`; anything else reads as English), in the
/// calendar's zone, relative to `now`: "today at 16:00", "tomorrow at 09:00", "on Monday at
/// 09:00", "on Monday 28 December at 09:00" (Spanish: "hoy a las 16:00", "el lunes a las
/// 09:00"…). It fills the `{{back_at}}` of auto-replies and the "back …" of the banners.
pub fn back_at_text(
    language: &str,
    back_at: Timestamp,
    now: Timestamp,
    calendar: &BusinessCalendar,
) -> String {
    let (today, _) = calendar.local_date_minute(now);
    let (date, minute) = calendar.local_date_minute(back_at);
    let clock = format!("{:02}:{:02}", minute / 60, minute % 60);
    let days = today.days_until(date);
    let weekday = date.weekday();
    let (_, month, day) = date.parts();
    if language == "es" {
        let at = if minute / 60 == 1 { "a la" } else { "a las" };
        let day_name = SPANISH_WEEKDAYS[weekday.index()];
        match days {
            i64::MIN..=0 => format!("hoy {at} {clock}"),
            1 => format!("mañana {at} {clock}"),
            2..=6 => format!("el {day_name} {at} {clock}"),
            _ => format!(
                "el {day_name} {day} de {} {at} {clock}",
                SPANISH_MONTHS[usize::from(month) - 1]
            ),
        }
    } else {
        let day_name = ENGLISH_WEEKDAYS[weekday.index()];
        match days {
            i64::MIN..=0 => format!("today at {clock}"),
            1 => format!("tomorrow at {clock}"),
            2..=6 => format!("on {day_name} at {clock}"),
            _ => format!(
                "on {day_name} {day} {} at {clock}",
                ENGLISH_MONTHS[usize::from(month) - 1]
            ),
        }
    }
}

const ENGLISH_WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const SPANISH_WEEKDAYS: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];
const ENGLISH_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const SPANISH_MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn madrid(json: &str) -> BusinessCalendar {
        serde_json::from_str::<HoursDocument>(json)
            .unwrap()
            .calendar()
            .unwrap()
    }

    #[test]
    fn a_split_shift_is_closed_at_lunch_and_reopens() {
        let calendar = madrid(
            r#"{"time_zone":"Europe/Madrid","week":{"monday":["09:00-14:00","16:00-20:00"]}}"#,
        );
        // Monday 2026-12-07.
        assert!(calendar.is_open(at("2026-12-07T10:00:00+01:00")));
        assert!(!calendar.is_open(at("2026-12-07T15:00:00+01:00")));
        assert_eq!(
            calendar.next_opening(at("2026-12-07T15:00:00+01:00")),
            Some(at("2026-12-07T16:00:00+01:00"))
        );
        assert_eq!(
            calendar.business_millis_between(
                at("2026-12-07T08:00:00+01:00"),
                at("2026-12-07T21:00:00+01:00")
            ),
            9 * 3_600_000
        );
    }

    #[test]
    fn a_range_past_midnight_is_open_into_the_next_day() {
        let calendar = madrid(r#"{"time_zone":"Europe/Madrid","week":{"friday":["22:00-02:00"]}}"#);
        // Friday 2026-12-11 22:00 to Saturday 02:00.
        assert!(calendar.is_open(at("2026-12-12T01:30:00+01:00")));
        assert!(!calendar.is_open(at("2026-12-12T02:00:00+01:00")));
        assert_eq!(
            calendar.business_millis_between(
                at("2026-12-11T00:00:00+01:00"),
                at("2026-12-13T00:00:00+01:00")
            ),
            4 * 3_600_000
        );
        assert_eq!(
            calendar.business_millis_between(
                at("2026-12-12T01:00:00+01:00"),
                at("2026-12-12T05:00:00+01:00")
            ),
            3_600_000
        );
        assert_eq!(
            calendar.next_opening(at("2026-12-12T03:00:00+01:00")),
            Some(at("2026-12-18T22:00:00+01:00"))
        );
        let document = HoursDocument::of(&calendar);
        assert_eq!(document.week.friday, vec!["22:00-02:00"]);
        assert_eq!(document.calendar().unwrap(), calendar);
    }

    #[test]
    fn a_range_past_midnight_may_not_run_into_the_next_days_hours() {
        let document: HoursDocument = serde_json::from_str(
            r#"{"time_zone":"UTC","week":{"friday":["22:00-03:00"],"saturday":["02:00-04:00"]}}"#,
        )
        .unwrap();
        assert!(matches!(
            document.calendar(),
            Err(CalendarError::OverlappingNextDay { .. })
        ));
    }

    #[test]
    fn holidays_and_exceptions_replace_the_weekday() {
        let calendar = madrid(
            r#"{"time_zone":"Europe/Madrid",
                "week":{"monday":["09:00-18:00"],"thursday":["09:00-18:00"],"friday":["09:00-18:00"]},
                "holidays":["2026-12-25"],
                "exceptions":[{"date":"2026-12-24","hours":["09:00-13:00"]},
                              {"date":"2026-12-27","hours":["10:00-12:00"]},
                              {"date":"2026-12-28","hours":[]}]}"#,
        );
        // Thursday 24th: only the morning; Friday 25th: a holiday; Sunday 27th: an extra
        // open morning; Monday 28th: closed.
        assert!(calendar.is_open(at("2026-12-24T12:00:00+01:00")));
        assert!(!calendar.is_open(at("2026-12-24T14:00:00+01:00")));
        assert!(!calendar.is_open(at("2026-12-25T10:00:00+01:00")));
        assert_eq!(
            calendar.next_opening(at("2026-12-24T14:00:00+01:00")),
            Some(at("2026-12-27T10:00:00+01:00"))
        );
        assert_eq!(
            calendar.next_opening(at("2026-12-27T13:00:00+01:00")),
            Some(at("2026-12-31T09:00:00+01:00"))
        );
        let document = HoursDocument::of(&calendar);
        assert_eq!(document.holidays, vec!["2026-12-25"]);
        assert_eq!(document.exceptions.len(), 3);
        assert_eq!(document.calendar().unwrap(), calendar);
    }

    #[test]
    fn saturday_morning_is_back_on_monday_at_nine() {
        let calendar = madrid(
            r#"{"time_zone":"Europe/Madrid","week":{"monday":["09:00-18:00"],"tuesday":["09:00-18:00"],
                "wednesday":["09:00-18:00"],"thursday":["09:00-18:00"],"friday":["09:00-18:00"]}}"#,
        );
        assert_eq!(
            calendar.next_opening(at("2026-12-12T11:00:00+01:00")),
            Some(at("2026-12-14T09:00:00+01:00"))
        );
    }

    #[test]
    fn back_at_reads_naturally_in_both_languages() {
        let calendar = madrid(r#"{"time_zone":"Europe/Madrid","week":{"monday":["09:00-18:00"]}}"#);
        let saturday = at("2026-12-12T11:00:00+01:00");
        let monday = at("2026-12-14T09:00:00+01:00");
        assert_eq!(
            back_at_text("en", monday, saturday, &calendar),
            "on Monday at 09:00"
        );
        assert_eq!(
            back_at_text("es", monday, saturday, &calendar),
            "el lunes a las 09:00"
        );
        let sunday = at("2026-12-13T23:00:00+01:00");
        assert_eq!(
            back_at_text("en", monday, sunday, &calendar),
            "tomorrow at 09:00"
        );
        assert_eq!(
            back_at_text("es", monday, sunday, &calendar),
            "mañana a las 09:00"
        );
        let early = at("2026-12-14T01:30:00+01:00");
        assert_eq!(
            back_at_text("es", early, saturday, &calendar),
            "el lunes a la 01:30"
        );
        let later = at("2026-12-28T09:00:00+01:00");
        assert_eq!(
            back_at_text("en", later, saturday, &calendar),
            "on Monday 28 December at 09:00"
        );
        assert_eq!(
            back_at_text("es", later, saturday, &calendar),
            "el lunes 28 de diciembre a las 09:00"
        );
        assert_eq!(
            back_at_text("en", monday, monday, &calendar),
            "today at 09:00"
        );
    }

    #[test]
    fn bad_documents_are_refused_with_the_reason() {
        for (json, expected) in [
            (
                r#"{"time_zone":"Mars/Base","week":{}}"#,
                "unknown time zone",
            ),
            (
                r#"{"time_zone":"UTC","week":{"monday":["9-5"]}}"#,
                "invalid opening interval",
            ),
            (
                r#"{"time_zone":"UTC","week":{"monday":["09:00-09:00"]}}"#,
                "invalid opening interval",
            ),
            (
                r#"{"time_zone":"UTC","holidays":["2026-02-30"]}"#,
                "invalid date",
            ),
            (
                r#"{"time_zone":"UTC","exceptions":[{"date":"2026-12-24"},{"date":"2026-12-24"}]}"#,
                "given twice",
            ),
        ] {
            let document: HoursDocument = serde_json::from_str(json).unwrap();
            let err = document.calendar().unwrap_err().to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
        assert!(serde_json::from_str::<HoursDocument>(r#"{"time_zone":"UTC","weak":{}}"#).is_err());
    }
}
