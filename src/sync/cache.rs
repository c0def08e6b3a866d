//! What one sync hands to the next so that it reads only what changed: the site and window it covered, the
//! instant before which every event has been counted (the horizon), the per-user per-day counts, and the
//! author of each worklog updated in the window (a deletion names no author). The controller keeps it in memory
//! and in a [`Snapshot`](super::Snapshot) in the cluster, so a restarted operator continues where it stopped.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::ActivityStore;
use crate::jira::time::day_number;

/// State carried from one sync to the next. `Debug` prints a summary.
#[derive(Clone)]
pub struct SyncCache {
    pub(super) cloud_id: String,
    pub(super) window_days: u32,
    pub(super) horizon: DateTime<Utc>,
    pub(super) activity: ActivityStore,
    pub(super) worklog_authors: HashMap<u64, WorklogAuthor>,
}

/// Who wrote a worklog, and the UTC day it was last updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WorklogAuthor {
    /// The author's index in the activity store.
    pub(super) account: u32,
    /// Day number of the last update.
    pub(super) day: i32,
}

impl std::fmt::Debug for SyncCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncCache")
            .field("cloud_id", &self.cloud_id)
            .field("window_days", &self.window_days)
            .field("horizon", &self.horizon)
            .field("accounts", &self.activity.iter().count())
            .field("worklogs", &self.worklog_authors.len())
            .finish()
    }
}

impl SyncCache {
    /// Events before this instant have been counted.
    pub fn horizon(&self) -> DateTime<Utc> {
        self.horizon
    }

    /// Per-user per-day activity known so far.
    pub fn activity(&self) -> &ActivityStore {
        &self.activity
    }

    /// The Cloud ID of the site the cache describes.
    pub fn cloud_id(&self) -> &str {
        &self.cloud_id
    }

    /// Forgets the days before `from` and the worklogs last updated before it: what a full sync of a window
    /// starting at `from` would not know either.
    pub(super) fn trim_before(&mut self, from: NaiveDate) {
        self.activity.trim_before(from);
        let from = day_number(from);
        self.worklog_authors.retain(|_, a| a.day >= from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::EventKind;
    use chrono::TimeZone;

    #[test]
    fn trimming_forgets_the_days_and_worklogs_before_the_window() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let mut activity = ActivityStore::default();
        activity.add(
            "a",
            Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
            EventKind::Worklog,
        );
        let a = activity.intern("a");
        let mut cache = SyncCache {
            cloud_id: "c".into(),
            window_days: 7,
            horizon: Utc.with_ymd_and_hms(2026, 11, 9, 0, 0, 0).unwrap(),
            activity,
            worklog_authors: HashMap::from([
                (
                    1,
                    WorklogAuthor {
                        account: a,
                        day: day_number(day(2)),
                    },
                ),
                (
                    2,
                    WorklogAuthor {
                        account: a,
                        day: day_number(day(3)),
                    },
                ),
            ]),
        };
        cache.trim_before(day(3));
        assert!(cache.activity.days_of("a").is_empty());
        assert_eq!(cache.activity.last_active("a"), Some(day(2)));
        assert_eq!(cache.worklog_authors.keys().collect::<Vec<_>>(), vec![&2]);
    }
}
