//! Business hours: a weekly schedule in an IANA time zone, with holidays, and the arithmetic
//! of "how much open time lies between two instants".
//!
//! Opening hours are local wall times and are turned into instants day by day with the zone's
//! rules, so a span across a daylight-saving change counts the hours that really elapsed. A
//! local time that does not exist (the hour skipped in spring) is read as the first instant
//! after the gap; a local time that happens twice (the hour repeated in autumn) is read as its
//! first occurrence. The time zone database is compiled in: nothing here reads a file.

use crate::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How far ahead `next_opening` looks before it concludes the calendar never opens again.
const NEXT_OPENING_HORIZON_DAYS: u32 = 1_000;

/// A schedule, zone, date or interval that cannot make a business calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A time zone name that is not in the IANA time zone database.
    #[error("unknown time zone {0:?}: use an IANA name such as Europe/Madrid")]
    UnknownTimeZone(String),
    /// An opening interval that is malformed or empty.
    #[error("invalid opening interval {0:?}: use HH:MM-HH:MM (22:00-02:00 runs past midnight)")]
    InvalidInterval(String),
    /// Two opening intervals of the same weekday that overlap.
    #[error("opening intervals {first} and {second} overlap on {weekday}")]
    OverlappingIntervals {
        /// The weekday with the overlap.
        weekday: Weekday,
        /// The earlier interval.
        first: OpenInterval,
        /// The interval that starts before `first` ends.
        second: OpenInterval,
    },
    /// A holiday that is not a valid calendar date.
    #[error("invalid date {0:?}: use YYYY-MM-DD")]
    InvalidDate(String),
    /// A range past midnight that runs into the next day's first range.
    #[error("the range {first} on {weekday} runs into {second} on the next day")]
    OverlappingNextDay {
        /// The weekday whose range runs past midnight.
        weekday: Weekday,
        /// That range.
        first: OpenInterval,
        /// The next day's range it runs into.
        second: OpenInterval,
    },
    /// The same date given twice as an exception.
    #[error("the date {0} is given twice")]
    RepeatedDate(LocalDate),
}

/// A day of the week, Monday first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Every weekday, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// The position in the week: 0 for Monday to 6 for Sunday.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The weekday at a position from 0 (Monday) to 6 (Sunday).
    pub fn from_index(index: usize) -> Option<Weekday> {
        Weekday::ALL.get(index).copied()
    }

    /// The lowercase English name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }

    fn of(date: Date) -> Weekday {
        // jiff counts Monday as 0, as we do.
        Weekday::ALL[date.weekday().to_monday_zero_offset() as usize]
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.pad(self.as_str())
    }
}

/// An interval of local time starting within one day during which the business is open, end
/// excluded; it may run past midnight into the next day (`22:00-02:00`), by at most a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenInterval {
    start_minute: u16,
    end_minute: u16,
}

impl OpenInterval {
    /// The interval between two local times given as minutes after midnight; 1440 is the end
    /// of the day, and an end past 1440 runs into the next day (at most 24 hours long).
    pub fn from_minutes(start_minute: u16, end_minute: u16) -> Result<OpenInterval, CalendarError> {
        if start_minute >= end_minute
            || start_minute >= MINUTES_PER_DAY
            || end_minute - start_minute > MINUTES_PER_DAY
        {
            return Err(CalendarError::InvalidInterval(format!(
                "{}-{}",
                clock_text(start_minute),
                clock_text(end_minute)
            )));
        }
        Ok(OpenInterval {
            start_minute,
            end_minute,
        })
    }

    /// Parses `HH:MM-HH:MM`, such as `09:00-18:00`; `24:00` is the end of the day, and an end
    /// at or before the start runs past midnight (`22:00-02:00`).
    pub fn parse(text: &str) -> Result<OpenInterval, CalendarError> {
        let invalid = || CalendarError::InvalidInterval(text.chars().take(32).collect());
        let (start, end) = text.trim().split_once('-').ok_or_else(invalid)?;
        let start_minute = parse_clock(start).ok_or_else(invalid)?;
        let mut end_minute = parse_clock(end).ok_or_else(invalid)?;
        if end_minute < start_minute {
            end_minute += MINUTES_PER_DAY;
        }
        OpenInterval::from_minutes(start_minute, end_minute).map_err(|_| invalid())
    }

    /// Whether the interval runs past midnight into the next day.
    pub const fn crosses_midnight(self) -> bool {
        self.end_minute > MINUTES_PER_DAY
    }

    /// The opening time, in minutes after local midnight.
    pub const fn start_minute(self) -> u16 {
        self.start_minute
    }

    /// The closing time, in minutes after local midnight of the starting day (1440 for the
    /// end of the day, more when it runs past midnight).
    pub const fn end_minute(self) -> u16 {
        self.end_minute
    }
}

impl fmt::Display for OpenInterval {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.crosses_midnight() {
            self.end_minute - MINUTES_PER_DAY
        } else {
            self.end_minute
        };
        formatter.pad(&format!(
            "{}-{}",
            clock_text(self.start_minute),
            clock_text(end)
        ))
    }
}

/// Opening hours for each day of the week, in local time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklySchedule {
    days: [Vec<OpenInterval>; 7],
}

impl WeeklySchedule {
    /// A schedule that is never open; add intervals with [`WeeklySchedule::with`].
    pub fn closed() -> WeeklySchedule {
        WeeklySchedule::default()
    }

    /// A schedule open during `interval` from Monday to Friday and closed on weekends.
    pub fn monday_to_friday(interval: OpenInterval) -> WeeklySchedule {
        Weekday::ALL[..5]
            .iter()
            .fold(WeeklySchedule::closed(), |schedule, weekday| {
                schedule.with(*weekday, interval)
            })
    }

    /// This schedule with one more opening interval on `weekday`.
    pub fn with(mut self, weekday: Weekday, interval: OpenInterval) -> WeeklySchedule {
        self.days[weekday.index()].push(interval);
        self
    }

    /// The opening intervals of `weekday`, earliest first once inside a calendar.
    pub fn intervals(&self, weekday: Weekday) -> &[OpenInterval] {
        &self.days[weekday.index()]
    }

    /// Whether no day has any opening interval.
    pub fn is_closed(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }
}

/// A date in the business's time zone, such as a holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDate(Date);

impl LocalDate {
    /// The date of a year, a month (1 to 12) and a day of the month.
    pub fn new(year: i16, month: u8, day: u8) -> Result<LocalDate, CalendarError> {
        let invalid = || CalendarError::InvalidDate(format!("{year:04}-{month:02}-{day:02}"));
        let month = i8::try_from(month).map_err(|_| invalid())?;
        let day = i8::try_from(day).map_err(|_| invalid())?;
        Date::new(year, month, day)
            .map(LocalDate)
            .map_err(|_| invalid())
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<LocalDate, CalendarError> {
        text.trim()
            .parse::<Date>()
            .map(LocalDate)
            .map_err(|_| CalendarError::InvalidDate(text.chars().take(32).collect()))
    }

    /// The day of the week of this date.
    pub fn weekday(self) -> Weekday {
        Weekday::of(self.0)
    }

    /// The number of days from this date to `other` (negative when `other` is earlier).
    pub fn days_until(self, other: LocalDate) -> i64 {
        (other.0 - self.0).get_days() as i64
    }

    /// The date `days` days later (earlier when negative); none past the calendar's range.
    pub fn plus_days(self, days: i32) -> Option<LocalDate> {
        self.0
            .checked_add(jiff::Span::new().days(days))
            .ok()
            .map(LocalDate)
    }

    /// The year, month (1 to 12) and day of the month.
    pub fn parts(self) -> (i16, u8, u8) {
        (self.0.year(), self.0.month() as u8, self.0.day() as u8)
    }
}

impl fmt::Display for LocalDate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.pad(&self.0.to_string())
    }
}

/// When the business is open: a weekly schedule in a time zone with holidays and one-off
/// exceptions (a date with its own hours, or none), or always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    zone_name: String,
    zone: TimeZone,
    opening: Opening,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Opening {
    Always,
    Weekly {
        schedule: Box<WeeklySchedule>,
        holidays: BTreeSet<LocalDate>,
        /// Dates whose hours replace the weekday's (an empty list: closed that day).
        exceptions: BTreeMap<LocalDate, Vec<OpenInterval>>,
    },
}

impl BusinessCalendar {
    /// A calendar open during `schedule` in the IANA zone `time_zone`, closed all day on
    /// `holidays`; rejects unknown zones and overlapping intervals.
    pub fn new(
        time_zone: &str,
        schedule: WeeklySchedule,
        holidays: impl IntoIterator<Item = LocalDate>,
    ) -> Result<BusinessCalendar, CalendarError> {
        let (zone_name, zone) = lookup_zone(time_zone)?;
        let mut schedule = schedule;
        for weekday in Weekday::ALL {
            sort_day(weekday, &mut schedule.days[weekday.index()])?;
        }
        for weekday in Weekday::ALL {
            let next = Weekday::ALL[(weekday.index() + 1) % 7];
            if let (Some(last), Some(first)) = (
                schedule.intervals(weekday).last(),
                schedule.intervals(next).first(),
            ) {
                if last.crosses_midnight() && first.start_minute < last.end_minute - MINUTES_PER_DAY
                {
                    return Err(CalendarError::OverlappingNextDay {
                        weekday,
                        first: *last,
                        second: *first,
                    });
                }
            }
        }
        Ok(BusinessCalendar {
            zone_name,
            zone,
            opening: Opening::Weekly {
                schedule: Box::new(schedule),
                holidays: holidays.into_iter().collect(),
                exceptions: BTreeMap::new(),
            },
        })
    }

    /// This calendar with one-off dates whose hours replace the weekday's (an empty list:
    /// closed that day; ranges: open then, even on a weekend or a holiday). Nothing changes
    /// for an always-open calendar.
    pub fn with_exceptions(
        mut self,
        exceptions: impl IntoIterator<Item = (LocalDate, Vec<OpenInterval>)>,
    ) -> Result<BusinessCalendar, CalendarError> {
        if let Opening::Weekly {
            exceptions: stored, ..
        } = &mut self.opening
        {
            for (date, mut intervals) in exceptions {
                sort_day(date.weekday(), &mut intervals)?;
                if stored.insert(date, intervals).is_some() {
                    return Err(CalendarError::RepeatedDate(date));
                }
            }
        }
        Ok(self)
    }

    /// The one-off dates with their own hours, earliest first.
    pub fn exceptions(&self) -> impl Iterator<Item = (LocalDate, &[OpenInterval])> + '_ {
        let exceptions = match &self.opening {
            Opening::Always => None,
            Opening::Weekly { exceptions, .. } => Some(
                exceptions
                    .iter()
                    .map(|(date, intervals)| (*date, intervals.as_slice())),
            ),
        };
        exceptions.into_iter().flatten()
    }

    /// A calendar that is always open, in UTC: with it the same code measures wall-clock time.
    pub fn always_open() -> BusinessCalendar {
        BusinessCalendar {
            zone_name: "UTC".to_owned(),
            zone: TimeZone::UTC,
            opening: Opening::Always,
        }
    }

    /// A calendar that is always open, whose local times (for the heatmap) are those of
    /// `time_zone`.
    pub fn always_open_in(time_zone: &str) -> Result<BusinessCalendar, CalendarError> {
        let (zone_name, zone) = lookup_zone(time_zone)?;
        Ok(BusinessCalendar {
            zone_name,
            zone,
            opening: Opening::Always,
        })
    }

    /// The IANA name of the calendar's time zone, as the database spells it.
    pub fn time_zone(&self) -> &str {
        &self.zone_name
    }

    /// Whether the calendar is always open (measures wall-clock time).
    pub fn is_always_open(&self) -> bool {
        self.opening == Opening::Always
    }

    /// The weekly schedule, with each day's intervals sorted; `None` when always open.
    pub fn schedule(&self) -> Option<&WeeklySchedule> {
        match &self.opening {
            Opening::Always => None,
            Opening::Weekly { schedule, .. } => Some(schedule),
        }
    }

    /// The holidays, earliest first.
    pub fn holidays(&self) -> impl Iterator<Item = LocalDate> + '_ {
        let holidays = match &self.opening {
            Opening::Always => None,
            Opening::Weekly { holidays, .. } => Some(holidays.iter().copied()),
        };
        holidays.into_iter().flatten()
    }

    /// The milliseconds of opening time between `start` and `end` (0 when `end` is not after
    /// `start`), exact across daylight-saving changes.
    pub fn business_millis_between(&self, start: Timestamp, end: Timestamp) -> i64 {
        if end <= start {
            return 0;
        }
        let (start, end) = (start.as_millis(), end.as_millis());
        if self.opening == Opening::Always {
            return end.saturating_sub(start);
        }
        let mut total: i64 = 0;
        // From the day before: its ranges may run past midnight. Spans are merged as they
        // come (they come in order of opening), so an exception that overlaps the previous
        // night's range is not counted twice.
        let mut date = self.local_date(start);
        date = date.yesterday().unwrap_or(date);
        let last = self.local_date(end);
        let mut counted_until = i64::MIN;
        while date <= last {
            for (open, close) in self.open_spans(date) {
                let open = open.max(start).max(counted_until);
                let close = close.min(end);
                if close > open {
                    total += close - open;
                    counted_until = close;
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }

    /// Whether the business is open at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        if self.opening == Opening::Always {
            return true;
        }
        let at = at.as_millis();
        let date = self.local_date(at);
        [date.yesterday().ok(), Some(date)]
            .into_iter()
            .flatten()
            .flat_map(|date| self.open_spans(date))
            .any(|(open, close)| open <= at && at < close)
    }

    /// The first instant at or after `at` when the business is open: `at` itself when open,
    /// `None` when it does not open within about three years.
    pub fn next_opening(&self, at: Timestamp) -> Option<Timestamp> {
        let (never_opens, at) = match &self.opening {
            Opening::Always => return Some(at),
            Opening::Weekly {
                schedule,
                exceptions,
                ..
            } => (
                schedule.is_closed() && exceptions.values().all(Vec::is_empty),
                at.as_millis(),
            ),
        };
        if never_opens {
            return None;
        }
        let mut date = self.local_date(at).yesterday().ok()?;
        for _ in 0..NEXT_OPENING_HORIZON_DAYS {
            let found = self
                .open_spans(date)
                .find(|(_, close)| *close > at)
                .map(|(open, _)| Timestamp::from_millis(open.max(at)));
            if found.is_some() {
                return found;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The local date at `at`, in the calendar's time zone.
    pub fn date_of(&self, at: Timestamp) -> LocalDate {
        LocalDate(self.local_date(at.as_millis()))
    }

    /// The first instant of a local date (its midnight, or the end of a gap skipping it).
    pub fn start_of(&self, date: LocalDate) -> Timestamp {
        // Only dates at the very edge of jiff's range have no instant; clamp those.
        let millis = self.instant_of(date.0, 0).unwrap_or(if date.0.year() < 0 {
            jiff::Timestamp::MIN.as_millisecond()
        } else {
            jiff::Timestamp::MAX.as_millisecond()
        });
        Timestamp::from_millis(millis)
    }

    /// The instant of a local date and minute of that day (0 to 1439), in the calendar's zone
    /// (a time skipped by a clock change is read as after it); none at the edge of the range.
    pub fn local_instant(&self, date: LocalDate, minute: u16) -> Option<Timestamp> {
        self.instant_of(date.0, minute.min(MINUTES_PER_DAY - 1))
            .map(Timestamp::from_millis)
    }

    /// The local date and the minute of that day (0 to 1439) at `at`.
    pub fn local_date_minute(&self, at: Timestamp) -> (LocalDate, u16) {
        let datetime = self.local_datetime(at.as_millis());
        (
            LocalDate(datetime.date()),
            datetime.hour() as u16 * 60 + datetime.minute() as u16,
        )
    }

    /// The local weekday and hour (0 to 23) at `at`.
    pub fn local_weekday_hour(&self, at: Timestamp) -> (Weekday, u8) {
        let datetime = self.local_datetime(at.as_millis());
        (Weekday::of(datetime.date()), datetime.hour() as u8)
    }

    /// The instants (milliseconds) during which the business is open on a local date, earliest
    /// first, each a non-empty half-open span.
    fn open_spans(&self, date: Date) -> impl Iterator<Item = (i64, i64)> + '_ {
        let intervals: &[OpenInterval] = match &self.opening {
            Opening::Weekly {
                schedule,
                holidays,
                exceptions,
            } => match exceptions.get(&LocalDate(date)) {
                Some(intervals) => intervals,
                None if holidays.contains(&LocalDate(date)) => &[],
                None => schedule.intervals(Weekday::of(date)),
            },
            Opening::Always => &[],
        };
        intervals.iter().filter_map(move |interval| {
            let open = self.instant_of(date, interval.start_minute)?;
            let close = self.instant_of(date, interval.end_minute)?;
            (open < close).then_some((open, close))
        })
    }

    /// The instant (milliseconds) of a local time on a local date; minute 1440 is the next
    /// midnight, and later minutes are times of the next day. Skipped times read as the end of
    /// the gap, repeated times as their first occurrence ("compatible" disambiguation, as
    /// RFC 5545 and Temporal do).
    fn instant_of(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = if minute >= MINUTES_PER_DAY {
            (date.tomorrow().ok()?, minute - MINUTES_PER_DAY)
        } else {
            (date, minute)
        };
        let datetime = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        let instant = self
            .zone
            .to_ambiguous_timestamp(datetime)
            .compatible()
            .ok()?;
        Some(instant.as_millisecond())
    }

    fn local_datetime(&self, millis: i64) -> DateTime {
        let clamped = millis.clamp(
            jiff::Timestamp::MIN.as_millisecond(),
            jiff::Timestamp::MAX.as_millisecond(),
        );
        let instant = jiff::Timestamp::from_millisecond(clamped)
            .expect("a clamped millisecond count is within jiff's range");
        self.zone.to_datetime(instant)
    }

    fn local_date(&self, millis: i64) -> Date {
        self.local_datetime(millis).date()
    }
}

const MINUTES_PER_DAY: u16 = 24 * 60;

/// Sorts a day's ranges and refuses overlapping ones.
fn sort_day(weekday: Weekday, intervals: &mut [OpenInterval]) -> Result<(), CalendarError> {
    intervals.sort();
    for pair in intervals.windows(2) {
        if pair[1].start_minute < pair[0].end_minute {
            return Err(CalendarError::OverlappingIntervals {
                weekday,
                first: pair[0],
                second: pair[1],
            });
        }
    }
    Ok(())
}

fn lookup_zone(name: &str) -> Result<(String, TimeZone), CalendarError> {
    let unknown = || CalendarError::UnknownTimeZone(name.chars().take(64).collect());
    // The bundled database only: the global one may read /usr/share/zoneinfo.
    let zone = TimeZoneDatabase::bundled()
        .get(name.trim())
        .map_err(|_| unknown())?;
    if zone.is_unknown() {
        return Err(unknown());
    }
    let zone_name = zone.iana_name().unwrap_or(name.trim()).to_owned();
    Ok((zone_name, zone))
}

fn parse_clock(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    if minutes >= 60 || hours > 24 || (hours == 24 && minutes != 0) {
        return None;
    }
    Some(hours * 60 + minutes)
}

fn clock_text(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}
