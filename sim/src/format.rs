//! Date formats used by Jira Cloud and the Admin API.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Current wall-clock time in epoch milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn to_dt(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Jira's date-time format: `2026-11-27T10:00:00.000+0000` (offset without a colon).
pub fn jira_date(ms: i64) -> String {
    to_dt(ms).format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// RFC 3339 / ISO 8601 UTC with `Z`, as the Admin API writes it: `2026-09-20T08:11:04.123Z`.
pub fn iso_millis(ms: i64) -> String {
    to_dt(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// ISO 8601 UTC without fractions: `2026-09-20T08:11:04Z`.
pub fn iso_secs(ms: i64) -> String {
    to_dt(ms).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Calendar date (UTC): `2026-09-20`.
pub fn date_only(ms: i64) -> String {
    to_dt(ms).format("%Y-%m-%d").to_string()
}

/// ISO time to the minute, as in `X-RateLimit-Reset`: `2026-06-05T06:00Z`.
pub fn iso_minute(ms: i64) -> String {
    to_dt(ms).format("%Y-%m-%dT%H:%MZ").to_string()
}

/// Epoch milliseconds of the UTC midnight that starts the day containing `ms`.
pub fn start_of_day(ms: i64) -> i64 {
    ms - ms.rem_euclid(86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ms = 1_795_773_600_000; // 2026-11-27T10:00:00Z
        assert_eq!(jira_date(ms), "2026-11-27T10:00:00.000+0000");
        assert_eq!(iso_millis(ms + 5), "2026-11-27T10:00:00.005Z");
        assert_eq!(iso_secs(ms), "2026-11-27T10:00:00Z");
        assert_eq!(date_only(ms), "2026-11-27");
        assert_eq!(iso_minute(ms), "2026-11-27T10:00Z");
        assert_eq!(start_of_day(ms), ms - 10 * 3_600_000);
    }
}
