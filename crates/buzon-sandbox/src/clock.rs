//! Wall-clock time and the platforms' date formats.

use std::time::{SystemTime, UNIX_EPOCH};
use time::macros::format_description;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch, with the fraction.
pub(crate) fn now_secs_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64())
        .unwrap_or(0.0)
}

/// Whole seconds since the Unix epoch.
pub(crate) fn now_secs() -> i64 {
    now_ms() / 1000
}

fn datetime(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Graph API time: `2024-01-15T10:30:00+0000`.
pub(crate) fn graph_time(secs: i64) -> String {
    datetime(secs * 1000)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]+0000"
        ))
        .unwrap_or_default()
}

/// X API v2 time: `2024-01-15T10:30:00.000Z`.
pub(crate) fn x_time(ms: i64) -> String {
    datetime(ms)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// X API v1.1 time (Account Activity payloads): `Wed Oct 10 20:19:24 +0000 2018`.
pub(crate) fn v1_time(ms: i64) -> String {
    datetime(ms)
        .format(format_description!(
            "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] +0000 [year]"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_platforms() {
        assert_eq!(graph_time(1_705_314_600), "2024-01-15T10:30:00+0000");
        assert_eq!(x_time(1_705_314_600_123), "2024-01-15T10:30:00.123Z");
        assert_eq!(v1_time(1_539_202_764_000), "Wed Oct 10 20:19:24 +0000 2018");
    }
}
