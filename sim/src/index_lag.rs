//! The search index lagging behind writes (Atlassian documents that `search/jql` can lag by seconds to
//! minutes): the issues created and deleted through the API recently, so that search and approximate
//! count can show the index as it was `search_lag_ms` ago while `GET issue/{key}` stays consistent.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::state::{Issue, IssueIx};

/// How many deleted issues are remembered for a lagging search (the oldest are forgotten first).
pub const DELETED_KEPT: usize = 10_000;

/// Issues created and deleted through the API, in time order.
#[derive(Default)]
pub(crate) struct RecentWrites {
    created: Vec<(i64, IssueIx)>,
    deleted: VecDeque<(i64, IssueIx, Arc<Issue>)>,
}

/// What a search run at one moment does not see yet (new issues) and still sees (deleted ones).
#[derive(Default)]
pub(crate) struct LagView {
    /// Issues created less than the lag ago.
    pub unseen: HashSet<IssueIx>,
    /// Issues deleted less than the lag ago, as they were.
    pub ghosts: HashMap<IssueIx, Arc<Issue>>,
}

impl RecentWrites {
    /// Records an issue created at `now_ms`.
    pub(crate) fn created(&mut self, now_ms: i64, ix: IssueIx) {
        self.created.push((now_ms, ix));
    }

    /// Records issues deleted at `now_ms`, as they were before the deletion.
    pub(crate) fn deleted(&mut self, now_ms: i64, issues: Vec<(IssueIx, Issue)>) {
        for (ix, issue) in issues {
            if self.deleted.len() >= DELETED_KEPT {
                self.deleted.pop_front();
            }
            self.deleted.push_back((now_ms, ix, Arc::new(issue)));
        }
    }

    /// The index at `now_ms` when it lags by `lag_ms` (an empty view without lag).
    pub(crate) fn view(&self, now_ms: i64, lag_ms: u64) -> LagView {
        if lag_ms == 0 {
            return LagView::default();
        }
        let since = now_ms.saturating_sub(lag_ms.min(i64::MAX as u64) as i64);
        let unseen: HashSet<IssueIx> = self
            .created
            .iter()
            .rev()
            .take_while(|(at, _)| *at > since)
            .map(|(_, ix)| *ix)
            .collect();
        // An issue created and deleted within the lag never reached the index.
        let ghosts = self
            .deleted
            .iter()
            .rev()
            .take_while(|(at, _, _)| *at > since)
            .filter(|(_, ix, _)| !unseen.contains(ix))
            .map(|(_, ix, issue)| (*ix, issue.clone()))
            .collect();
        LagView { unseen, ghosts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::default_scenario;
    use crate::state::State;

    #[test]
    fn writes_are_invisible_or_visible_for_the_lag_only() {
        let st = State::from_scenario(default_scenario(), 0).unwrap();
        let issue = st.issue(0).clone();
        let mut w = RecentWrites::default();
        w.created(1_000, 7);
        w.created(5_000, 8);
        w.deleted(6_000, vec![(0, issue.clone())]);
        let v = w.view(6_000, 2_000);
        assert_eq!(v.unseen, HashSet::from([8]));
        assert_eq!(v.ghosts.keys().copied().collect::<Vec<_>>(), [0]);
        let v = w.view(8_000, 2_000);
        assert!(v.unseen.is_empty() && v.ghosts.is_empty());
        let v = w.view(6_000, 0);
        assert!(v.unseen.is_empty() && v.ghosts.is_empty());
        assert_eq!(w.view(6_000, u64::MAX).unseen.len(), 2);
        // Created and deleted within the lag: never seen.
        w.deleted(6_500, vec![(8, issue)]);
        let v = w.view(6_500, 2_000);
        assert_eq!(v.unseen, HashSet::from([8]));
        assert!(!v.ghosts.contains_key(&8) && v.ghosts.contains_key(&0));
    }
}
