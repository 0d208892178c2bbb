use serde::{Deserialize, Serialize};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time, in milliseconds since the Unix epoch (UTC).
///
/// Stored as a 64-bit integer in both databases, so that ordering and arithmetic are the same
/// on SQLite and PostgreSQL; shown as RFC 3339.
/// In JSON: milliseconds since the Unix epoch.
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
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The time of the given number of milliseconds since the epoch.
    pub const fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    /// The time of the given number of seconds since the epoch.
    pub const fn from_secs(secs: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(1000))
    }

    /// The current time of the system clock.
    pub fn now() -> Timestamp {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(now.as_millis() as i64)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// This time moved by the given number of milliseconds (negative moves back).
    pub const fn plus_millis(self, millis: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(millis))
    }

    /// Parses an RFC 3339 time such as `2024-01-15T10:30:00.000Z`.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        Some(Timestamp(
            (parsed.unix_timestamp_nanos() / 1_000_000) as i64,
        ))
    }

    /// The RFC 3339 form, in UTC, with milliseconds.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(datetime) => {
                let format = time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
                );
                datetime
                    .format(&format)
                    .unwrap_or_else(|_| self.0.to_string())
            }
            Err(_) => self.0.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_with_milliseconds() {
        let parsed = Timestamp::parse_rfc3339("2024-01-15T10:30:00.123Z").expect("valid time");
        assert_eq!(parsed.as_millis(), 1_705_314_600_123);
        assert_eq!(parsed.to_rfc3339(), "2024-01-15T10:30:00.123Z");
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let parsed = Timestamp::parse_rfc3339("2024-01-15T11:30:00+01:00").expect("valid time");
        assert_eq!(parsed.to_rfc3339(), "2024-01-15T10:30:00.000Z");
    }

    #[test]
    fn garbage_is_not_a_time() {
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }
}
