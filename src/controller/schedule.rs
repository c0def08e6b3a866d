//! When a JiraConnection syncs: whether a sync is due and why, the next sync time, `spec.sync.interval` and
//! its jitter. Pure functions of the status, unit-tested.

use super::conditions::{SYNCED, instant, is_parked};
use crate::api::{JiraConnectionStatus, condition_status, find_condition};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Share of the interval by which the next sync time is moved at random, either way.
pub const JITTER: f64 = 0.1;

/// Why a sync runs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// No sync ever succeeded.
    NeverSynced,
    /// The spec changed since the last successful sync.
    SpecChanged,
    /// The `jiracloud.io/sync-requested` annotation holds a value not handled yet.
    Requested,
    /// The last sync failed or could not run (retried with backoff), or its organization part failed and the
    /// spec or a Secret changed since ([`super::organization::retry_due`]).
    Retry,
    /// The next sync time has come.
    Scheduled,
    /// A sync parked by a rate limit may resume.
    Resume,
}

impl Due {
    /// A short word for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Due::NeverSynced => "first sync",
            Due::SpecChanged => "spec changed",
            Due::Requested => "sync requested by annotation",
            Due::Retry => "retry after failure",
            Due::Scheduled => "scheduled",
            Due::Resume => "resume after a rate limit",
        }
    }
}

/// Longest accepted sync interval.
const MAX_INTERVAL: Duration = Duration::from_secs(10 * 365 * 86400);

/// Parses a Go duration (`24h`, `1h30m`, `90m`, `1.5h`, `300s`), as `spec.sync.interval` holds.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let parsed: kube::core::Duration = text
        .trim()
        .parse()
        .ok()
        .filter(|d: &kube::core::Duration| !d.is_negative() && Duration::from(*d) > Duration::ZERO)
        .ok_or_else(|| {
            format!("sync.interval {text:?} is not a duration such as 24h, 6h or 90m")
        })?;
    let interval = Duration::from(parsed);
    if interval > MAX_INTERVAL {
        return Err(format!(
            "sync.interval {text:?} is longer than 10 years; use 24h for a daily sync"
        ));
    }
    Ok(interval)
}

/// The interval moved by `unit * JITTER` of itself; `unit` is drawn from `[-1, 1]` by the caller.
pub fn jittered(interval: Duration, unit: f64) -> Duration {
    interval.mul_f64(1.0 + JITTER * unit.clamp(-1.0, 1.0))
}

/// Whether a sync is due, and why. `requested` is the value of the sync-requested annotation.
pub fn due(
    st: &JiraConnectionStatus,
    generation: Option<i64>,
    requested: Option<&str>,
    interval: Duration,
    now: DateTime<Utc>,
) -> Option<Due> {
    let synced = find_condition(&st.conditions, SYNCED);
    // Jira asked to wait: only a change of the spec runs a parked sync before its resume time.
    if is_parked(st) {
        if synced.and_then(|c| c.observed_generation) != generation {
            return Some(Due::SpecChanged);
        }
        let resume = next_sync(st, interval).unwrap_or(now);
        return (now >= resume).then_some(Due::Resume);
    }
    let Some(last) = &st.last_sync_time else {
        return Some(Due::NeverSynced);
    };
    if synced.is_none_or(|c| c.status != condition_status::TRUE) {
        return Some(Due::Retry);
    }
    if synced.and_then(|c| c.observed_generation) != generation {
        return Some(Due::SpecChanged);
    }
    if let Some(value) = requested
        && !value.is_empty()
        && st.last_sync_request.as_deref() != Some(value)
    {
        return Some(Due::Requested);
    }
    let next = next_sync(st, interval).unwrap_or_else(|| instant(last));
    (now >= next).then_some(Due::Scheduled)
}

/// When the next scheduled sync is due: `nextSyncTime`, or the last sync plus the interval.
pub fn next_sync(st: &JiraConnectionStatus, interval: Duration) -> Option<DateTime<Utc>> {
    match (&st.next_sync_time, &st.last_sync_time) {
        (Some(next), _) => Some(instant(next)),
        (None, Some(last)) => Some(instant(last) + interval),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_like_go_durations() {
        assert_eq!(parse_interval("24h").unwrap(), Duration::from_secs(86400));
        assert_eq!(parse_interval("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_interval("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_interval("300s").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_interval("500ms").unwrap(), Duration::from_millis(500));
        for bad in ["", "h", "24", "1d", "-1h", "1h-", "abc"] {
            assert!(
                parse_interval(bad)
                    .unwrap_err()
                    .contains("is not a duration"),
                "{bad:?}"
            );
        }
        assert!(
            parse_interval("100000h")
                .unwrap_err()
                .contains("longer than 10 years")
        );
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let day = Duration::from_secs(86400);
        assert_eq!(jittered(day, 0.0), day);
        assert_eq!(jittered(day, 1.0), Duration::from_secs(95040));
        assert_eq!(jittered(day, -5.0), Duration::from_secs(77760));
    }
}
