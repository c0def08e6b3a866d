//! Implausible listings: `GET /rest/api/3/users/search` and `/users` answer `200 []` after a number of
//! calls, as Jira does for an anonymous caller, during an incident or behind a proxy that strips the
//! `Authorization` header.

use super::engine::FaultEngine;

impl FaultEngine {
    /// Counts a users listing call that would list users; `true` = answer it with an empty list.
    pub(crate) fn empty_listing(&self) -> bool {
        let mut i = self.inner.lock();
        let Some(f) = i.faults.empty_listing.clone() else {
            return false;
        };
        i.listing_calls += 1;
        let past = i.listing_calls.saturating_sub(f.after_calls);
        past > 0 && f.count.is_none_or(|c| past <= c)
    }
}
