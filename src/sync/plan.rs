//! What a sync at a given instant covers: its usage window, the range of event times it counts, and whether it
//! continues the previous sync's cache (incremental) or starts from the window's first day (full).

use chrono::{DateTime, Utc};

use super::{SETTLE, SyncCache, Window};

/// The time range whose events a sync counts: `[lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Range {
    pub(super) lo: DateTime<Utc>,
    pub(super) hi: DateTime<Utc>,
}

impl Range {
    pub(super) fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.lo && t < self.hi
    }
}

/// What a sync of one site over `window_days` at `now` covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    pub(super) window: Window,
    pub(super) range: Range,
    /// True when the range starts at the cache's horizon.
    pub(super) incremental: bool,
}

impl Plan {
    /// The plan of a sync of the site `cloud_id` at `now`, continuing `cache` when it covers the same site and
    /// window and its horizon lies between the window's start and the sync's `hi`.
    pub(super) fn new(
        cloud_id: &str,
        window_days: u32,
        now: DateTime<Utc>,
        cache: Option<&SyncCache>,
    ) -> Plan {
        let window = Window::ending(now.date_naive(), window_days);
        let window_start = window
            .from
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        let hi = now - chrono::Duration::from_std(SETTLE).expect("small");
        let horizon = cache
            .filter(|c| {
                c.cloud_id == cloud_id
                    && c.window_days == window_days
                    && c.horizon >= window_start
                    && c.horizon <= hi
            })
            .map(|c| c.horizon);
        Plan {
            window,
            range: Range {
                lo: horizon.unwrap_or(window_start),
                hi,
            },
            incremental: horizon.is_some(),
        }
    }
}
