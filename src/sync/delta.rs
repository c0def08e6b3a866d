//! The events one part of a sync collected, kept apart from the cache's counts until the whole sync completes:
//! a part that is run again after a parked sync ([`super::Checkpoint`]) never counts an event twice.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::{Activity, ActivityStore, EventKind, WorklogAuthor};
use crate::jira::time::day_number;

/// The events of one part, with the worklog authors it learned and the worklogs it saw deleted.
#[derive(Debug, Clone, Default)]
pub(super) struct Delta {
    events: ActivityStore,
    /// Worklog id -> author's index in `events` and the day the worklog was last updated.
    authors: HashMap<u64, (u32, i32)>,
    deleted: HashSet<u64>,
}

impl Delta {
    /// One event of `account` at `at`.
    pub(super) fn add(&mut self, account: &str, at: DateTime<Utc>, kind: EventKind) {
        self.events.add(account, at, kind);
    }

    /// The author of a worklog read by this sync, last updated on `updated`.
    pub(super) fn author(&mut self, worklog: u64, account: &str, updated: NaiveDate) {
        let idx = self.events.intern(account);
        self.authors.insert(worklog, (idx, day_number(updated)));
    }

    /// A deletion of a worklog written by `account` (known from an earlier sync), on `date`: counted once.
    pub(super) fn deleted(&mut self, worklog: u64, account: &str, date: NaiveDate) {
        if self.deleted.insert(worklog) {
            let idx = self.events.intern(account);
            self.events.add_idx(idx, date, EventKind::Worklog);
        }
    }

    /// Adds the events to `into`, forgets the deleted worklogs' authors and learns the new ones.
    pub(super) fn merge_into(self, into: &mut Activity) {
        let index = into.store.absorb(self.events);
        for id in self.deleted {
            into.worklog_authors.remove(&id);
        }
        for (id, (idx, day)) in self.authors {
            let account = index[idx as usize];
            into.worklog_authors
                .insert(id, WorklogAuthor { account, day });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_delta_merges_its_events_and_worklog_authors() {
        let t = |h| Utc.with_ymd_and_hms(2026, 11, 2, h, 0, 0).unwrap();
        let mut base = Activity::default();
        base.store.add("old", t(1), EventKind::Comment);
        let old = WorklogAuthor {
            account: base.store.index("old").unwrap(),
            day: day_number(t(1).date_naive()),
        };
        base.worklog_authors.insert(7, old);
        let mut delta = Delta::default();
        delta.add("new", t(2), EventKind::Changelog);
        delta.author(8, "new", t(2).date_naive());
        delta.deleted(7, "old", t(3).date_naive());
        delta.deleted(7, "old", t(3).date_naive());
        delta.merge_into(&mut base);
        assert_eq!(base.store.days_of("old")[0].worklogs, 1, "one deletion");
        assert_eq!(base.store.days_of("new")[0].changelog, 1);
        assert_eq!(base.worklog_authors.get(&7), None);
        assert_eq!(
            base.worklog_authors.get(&8).copied(),
            Some(WorklogAuthor {
                account: base.store.index("new").unwrap(),
                day: day_number(t(2).date_naive()),
            })
        );
    }
}
