//! Implausible listings: `GET /rest/api/3/users/search` and `/users` answer `200 []` after a number of
//! calls, as Jira does for an anonymous caller, during an incident or behind a proxy that strips the
//! `Authorization` header.

use serde::{Deserialize, Serialize};

use super::FaultEngine;

/// After `after_calls` listing calls (each page is a call), the next `count` (None = all following)
/// answer `200 []`. Counted from the moment the faults are set; independent of `Faults.routes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmptyListingFault {
    /// Listing calls answered normally first.
    pub after_calls: u64,
    /// Listing calls answered empty after those (None = every following call).
    pub count: Option<u64>,
}

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
