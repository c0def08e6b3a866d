//! Jira timestamps: `2021-01-17T12:34:00.000+0000` (offset without a colon), RFC 3339, or epoch numbers.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};

/// Parses a Jira date-time string into UTC.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    s.parse::<i64>().ok().and_then(from_epoch)
}

/// Epoch seconds or milliseconds (values above 10^11 are taken as milliseconds).
pub fn from_epoch(n: i64) -> Option<DateTime<Utc>> {
    if n.abs() >= 100_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

/// Serde helper: a Jira timestamp given as a string or a number.
pub fn de_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(i64),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Text(s)) => parse_datetime(&s),
        Some(Raw::Number(n)) => from_epoch(n),
        None => None,
    })
}

/// Days since 1970-01-01 of a UTC date (compact day key).
pub fn day_number(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Inverse of [`day_number`].
pub fn day_from_number(n: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_jira_formats() {
        let want = Utc.with_ymd_and_hms(2021, 1, 17, 12, 34, 0).unwrap();
        assert_eq!(parse_datetime("2021-01-17T12:34:00.000+0000"), Some(want));
        assert_eq!(parse_datetime("2021-01-17T14:34:00.000+0200"), Some(want));
        assert_eq!(parse_datetime("2021-01-17T12:34:00Z"), Some(want));
        assert_eq!(parse_datetime("2021-01-17T12:34:00+00:00"), Some(want));
        assert_eq!(parse_datetime("1610886840000"), Some(want));
        assert_eq!(parse_datetime("1610886840"), Some(want));
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(day_from_number(day_number(d)), d);
        assert_eq!(day_number(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
    }

    #[test]
    fn serde_accepts_string_and_number() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "de_datetime")]
            at: Option<DateTime<Utc>>,
        }
        let a: T = serde_json::from_str(r#"{"at":"2021-01-17T12:34:00.000+0000"}"#).unwrap();
        let b: T = serde_json::from_str(r#"{"at":1610886840000}"#).unwrap();
        let c: T = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(a.at, b.at);
        assert!(c.at.is_none());
    }
}
