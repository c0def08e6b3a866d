//! How long to wait: the wait a throttled answer asks for (`Retry-After`, `X-RateLimit-Reset`, the `RateLimit`
//! headers), the budget an answer says is left, the backoff between retries, and the jitter that keeps parallel
//! waiters apart.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::header::HeaderMap;

pub(super) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// How long a throttled response asks to wait: `Retry-After` (seconds or HTTP date), else
/// `X-RateLimit-Reset` (ISO time), else the `t=` of the `RateLimit` / `Beta-RateLimit` header when no points
/// remain.
pub(crate) fn throttle_wait(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    if let Some(v) = header_str(headers, "retry-after") {
        if let Ok(secs) = v.parse::<f64>()
            && secs >= 0.0
            && let Ok(wait) = Duration::try_from_secs_f64(secs)
        {
            return Some(wait);
        }
        if let Ok(at) = DateTime::parse_from_rfc2822(v) {
            return Some((at.with_timezone(&Utc) - now).to_std().unwrap_or_default());
        }
    }
    if let Some(v) = header_str(headers, "x-ratelimit-reset")
        && let Some(at) = parse_reset(v)
    {
        return Some((at - now).to_std().unwrap_or_default());
    }
    for name in ["ratelimit", "beta-ratelimit"] {
        if let Some(v) = header_str(headers, name) {
            let (r, t) = parse_ratelimit(v);
            if r == Some(0)
                && let Some(t) = t
            {
                return Some(Duration::from_secs(t));
            }
        }
    }
    None
}

/// The rate-limit budget an answer says is left: the `r=` of the `RateLimit` / `Beta-RateLimit` header (points),
/// else `X-RateLimit-Remaining` (requests).
pub(crate) fn remaining_budget(headers: &HeaderMap) -> Option<u64> {
    ["ratelimit", "beta-ratelimit"]
        .into_iter()
        .find_map(|name| header_str(headers, name).and_then(|v| parse_ratelimit(v).0))
        .or_else(|| header_str(headers, "x-ratelimit-remaining").and_then(|v| v.parse().ok()))
}

/// `X-RateLimit-Reset` is ISO 8601, `yyyy-MM-ddTHH:mmZ` or with seconds.
fn parse_reset(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    let trimmed = v.strip_suffix('Z').unwrap_or(v);
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|n| n.and_utc())
}

/// Parses `"tenant-app-quota";r=17842;t=2107` into (r, t).
fn parse_ratelimit(v: &str) -> (Option<u64>, Option<u64>) {
    let mut r = None;
    let mut t = None;
    for part in v.split(';') {
        let part = part.trim();
        if let Some(x) = part.strip_prefix("r=") {
            r = x.parse().ok();
        } else if let Some(x) = part.strip_prefix("t=") {
            t = x.parse().ok();
        }
    }
    (r, t)
}

/// `base * 2^n`, capped, with ±30 % jitter.
pub(crate) fn backoff(base: Duration, max: Duration, n: u32) -> Duration {
    let raw = base.saturating_mul(1u32 << n.min(16)).min(max);
    raw.mul_f64(rand::random_range(0.7..1.3))
}

/// Adds 0..30 % so that parallel waiters do not return at the same instant (saturating: an absurd wait asked
/// by a header stays absurd instead of overflowing).
pub(super) fn jitter_up(d: Duration) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * rand::random_range(1.0..1.3))
        .unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_seconds_wins() {
        let now = Utc.with_ymd_and_hms(2026, 6, 5, 5, 0, 0).unwrap();
        let h = headers(&[
            ("retry-after", "7"),
            ("x-ratelimit-reset", "2026-06-05T06:00Z"),
        ]);
        assert_eq!(throttle_wait(&h, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn reset_time_and_points_headers() {
        let now = Utc.with_ymd_and_hms(2026, 6, 5, 5, 0, 0).unwrap();
        let h = headers(&[("x-ratelimit-reset", "2026-06-05T06:00Z")]);
        assert_eq!(throttle_wait(&h, now), Some(Duration::from_secs(3600)));
        let h = headers(&[("x-ratelimit-reset", "2026-06-05T05:00:30Z")]);
        assert_eq!(throttle_wait(&h, now), Some(Duration::from_secs(30)));
        let h = headers(&[("beta-ratelimit", "\"tenant-app-quota\";r=0;t=42")]);
        assert_eq!(throttle_wait(&h, now), Some(Duration::from_secs(42)));
        let h = headers(&[("beta-ratelimit", "\"tenant-app-quota\";r=17842;t=2107")]);
        assert_eq!(throttle_wait(&h, now), None);
        assert_eq!(throttle_wait(&HeaderMap::new(), now), None);
    }

    #[test]
    fn the_points_budget_wins_over_the_request_budget() {
        let h = headers(&[
            ("beta-ratelimit", "\"tenant-app-quota\";r=17842;t=2107"),
            ("x-ratelimit-remaining", "349"),
        ]);
        assert_eq!(remaining_budget(&h), Some(17842));
        let h = headers(&[("x-ratelimit-remaining", "349")]);
        assert_eq!(remaining_budget(&h), Some(349));
        let h = headers(&[("ratelimit", "\"tenant-app-quota\";t=5")]);
        assert_eq!(remaining_budget(&h), None);
        assert_eq!(remaining_budget(&HeaderMap::new()), None);
    }

    #[test]
    fn reset_in_the_past_waits_zero() {
        let now = Utc.with_ymd_and_hms(2026, 6, 5, 7, 0, 0).unwrap();
        let h = headers(&[("x-ratelimit-reset", "2026-06-05T06:00Z")]);
        assert_eq!(throttle_wait(&h, now), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_grows_and_caps() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(30);
        for n in 0..10 {
            let d = backoff(base, max, n);
            let raw = (base * (1 << n)).min(max);
            assert!(d >= raw.mul_f64(0.7) && d <= raw.mul_f64(1.3), "{n}: {d:?}");
        }
    }
}
