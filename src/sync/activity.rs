//! Per-user per-day activity counts, kept compact (interned account ids, small sorted day vectors) so that
//! they can live in the sync cache between syncs.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use chrono::{DateTime, NaiveDate, Utc};

use crate::jira::time::{day_from_number, day_number};

/// Kind of a usage event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Comment created or edited.
    Comment,
    /// Changelog (history) entry of any kind.
    Changelog,
    /// Worklog created, edited or deleted.
    Worklog,
}

/// Counts of one user on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// Days since 1970-01-01 (UTC).
    pub day: i32,
    /// Comments created or edited.
    pub comments: u32,
    /// Changelog entries.
    pub changelog: u32,
    /// Worklogs created, edited or deleted.
    pub worklogs: u32,
}

/// Activity of every account seen, by day.
#[derive(Debug, Clone, Default)]
pub struct ActivityStore {
    /// The index of each account, found by hashing the account: the table holds indexes only, so each
    /// account id is held once, in `accounts` (a map keyed by the id would hold a second copy).
    ids: HashTable<u32>,
    hasher: RandomState,
    accounts: Vec<Box<str>>,
    days: Vec<Vec<DayCounts>>,
    last_day: Vec<Option<i32>>,
}

impl ActivityStore {
    /// Index of an account, interning it.
    pub fn intern(&mut self, account: &str) -> u32 {
        if let Some(i) = self.index(account) {
            return i;
        }
        let i = self.accounts.len() as u32;
        let Self {
            ids,
            hasher,
            accounts,
            ..
        } = self;
        ids.insert_unique(hasher.hash_one(account), i, |&j| {
            hasher.hash_one(&*accounts[j as usize])
        });
        accounts.push(account.into());
        self.days.push(Vec::new());
        self.last_day.push(None);
        i
    }

    /// Number of accounts known.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// True when no account is known.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Index of a known account.
    pub fn index(&self, account: &str) -> Option<u32> {
        self.ids
            .find(self.hasher.hash_one(account), |&i| {
                *self.accounts[i as usize] == *account
            })
            .copied()
    }

    /// Account of an index.
    pub fn account(&self, idx: u32) -> &str {
        &self.accounts[idx as usize]
    }

    /// Records one event of `account` at `at`.
    pub fn add(&mut self, account: &str, at: DateTime<Utc>, kind: EventKind) {
        let idx = self.intern(account);
        self.add_idx(idx, at.date_naive(), kind);
    }

    /// Records one event of an interned account on `date`.
    pub fn add_idx(&mut self, idx: u32, date: NaiveDate, kind: EventKind) {
        let c = self.day_mut(idx, day_number(date));
        match kind {
            EventKind::Comment => c.comments += 1,
            EventKind::Changelog => c.changelog += 1,
            EventKind::Worklog => c.worklogs += 1,
        }
    }

    /// Adds every count of `other` to this store; returns the index here of each account of `other`. An empty
    /// store takes `other` as it is (a full sync's events are not copied).
    pub(super) fn absorb(&mut self, other: ActivityStore) -> Vec<u32> {
        if self.is_empty() {
            *self = other;
            return (0..self.len() as u32).collect();
        }
        other
            .iter()
            .map(|(account, days)| {
                let idx = self.intern(account);
                for d in days {
                    let c = self.day_mut(idx, d.day);
                    c.comments += d.comments;
                    c.changelog += d.changelog;
                    c.worklogs += d.worklogs;
                }
                idx
            })
            .collect()
    }

    /// The counts of an interned account on a day (created empty), the day becoming its last active day if later.
    fn day_mut(&mut self, idx: u32, day: i32) -> &mut DayCounts {
        let last = &mut self.last_day[idx as usize];
        *last = Some(last.map_or(day, |l| l.max(day)));
        let days = &mut self.days[idx as usize];
        let pos = match days.binary_search_by_key(&day, |d| d.day) {
            Ok(p) => p,
            Err(p) => {
                days.insert(
                    p,
                    DayCounts {
                        day,
                        ..DayCounts::default()
                    },
                );
                p
            }
        };
        &mut days[pos]
    }

    /// Forgets days before `from` (the last active day is kept).
    pub fn trim_before(&mut self, from: NaiveDate) {
        let from = day_number(from);
        for days in &mut self.days {
            days.retain(|d| d.day >= from);
            days.shrink_to_fit();
        }
    }

    /// Day counts of an account, oldest first.
    pub fn days_of(&self, account: &str) -> &[DayCounts] {
        self.index(account)
            .map_or(&[][..], |i| self.days[i as usize].as_slice())
    }

    /// Latest day the account was seen active (possibly before the window, from earlier syncs).
    pub fn last_active(&self, account: &str) -> Option<NaiveDate> {
        self.index(account)
            .and_then(|i| self.last_day[i as usize])
            .map(day_from_number)
    }

    /// Every account known, with its index, latest active day and day counts (what a snapshot keeps).
    pub(super) fn entries(&self) -> impl Iterator<Item = (u32, &str, Option<i32>, &[DayCounts])> {
        self.accounts
            .iter()
            .zip(&self.days)
            .zip(&self.last_day)
            .enumerate()
            .map(|(i, ((a, d), l))| (i as u32, &**a, *l, d.as_slice()))
    }

    /// Adds an account read back from a snapshot, with its latest active day and day counts (sorted by day,
    /// one entry per day); returns its index. An account already known is left as it is.
    pub(super) fn restore(
        &mut self,
        account: &str,
        last_day: Option<i32>,
        days: Vec<DayCounts>,
    ) -> u32 {
        if let Some(i) = self.index(account) {
            return i;
        }
        let i = self.intern(account);
        self.days[i as usize] = days;
        self.last_day[i as usize] = last_day;
        i
    }

    /// Accounts with activity, with their day counts.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[DayCounts])> {
        self.accounts
            .iter()
            .zip(&self.days)
            .map(|(a, d)| (&**a, d.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn counts_by_day_and_trims() {
        let mut s = ActivityStore::default();
        let t = |d, h| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        s.add("a", t(2, 10), EventKind::Comment);
        s.add("a", t(2, 23), EventKind::Changelog);
        s.add("a", t(1, 1), EventKind::Worklog);
        s.add("b", t(3, 0), EventKind::Comment);
        let days = s.days_of("a");
        assert_eq!(days.len(), 2);
        assert_eq!(
            days[0].day,
            day_number(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())
        );
        assert_eq!(
            (days[1].comments, days[1].changelog, days[1].worklogs),
            (1, 1, 0)
        );
        s.trim_before(NaiveDate::from_ymd_opt(2026, 11, 3).unwrap());
        assert!(s.days_of("a").is_empty());
        assert_eq!(s.last_active("a"), NaiveDate::from_ymd_opt(2026, 11, 2));
        assert_eq!(s.days_of("b").len(), 1);
        assert!(s.days_of("zzz").is_empty());
    }

    #[test]
    fn absorbing_adds_the_counts_of_another_store() {
        let t = |d, h| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        let mut base = ActivityStore::default();
        base.add("a", t(2, 10), EventKind::Comment);
        let mut part = ActivityStore::default();
        part.add("b", t(3, 1), EventKind::Worklog);
        part.add("a", t(2, 11), EventKind::Comment);
        part.add("a", t(4, 11), EventKind::Changelog);
        let mut empty = ActivityStore::default();
        assert_eq!(empty.absorb(part.clone()), vec![0, 1], "taken as it is");
        assert_eq!(empty.days_of("a"), part.days_of("a"));
        assert_eq!(empty.last_active("a"), part.last_active("a"));
        let map = base.absorb(part);
        assert_eq!(
            map,
            vec![base.index("b").unwrap(), base.index("a").unwrap()]
        );
        let a = base.days_of("a");
        assert_eq!((a.len(), a[0].comments, a[1].changelog), (2, 2, 1));
        assert_eq!(base.last_active("a"), NaiveDate::from_ymd_opt(2026, 11, 4));
        assert_eq!(base.days_of("b")[0].worklogs, 1);
    }
}
