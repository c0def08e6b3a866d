//! Result sets of recent searches, so that paging a large result costs O(page).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::state::IssueIx;

/// The last result sets of `search/jql`, each under an id its page tokens carry.
#[derive(Default)]
pub(crate) struct SearchCache {
    next_id: u64,
    entries: VecDeque<(u64, String, Arc<Vec<IssueIx>>)>,
}

const CACHE_SIZE: usize = 64;

impl SearchCache {
    /// The result set of a search, by its id and its key (caller, JQL and reconciled issues).
    pub(crate) fn get(&self, id: u64, key: &str) -> Option<Arc<Vec<IssueIx>>> {
        self.entries
            .iter()
            .find(|(i, k, _)| *i == id && k == key)
            .map(|(_, _, v)| v.clone())
    }

    /// Keeps a result set (the oldest goes when full); returns its id.
    pub(crate) fn put(&mut self, key: String, hits: Arc<Vec<IssueIx>>) -> u64 {
        self.next_id += 1;
        if self.entries.len() >= CACHE_SIZE {
            self.entries.pop_front();
        }
        self.entries.push_back((self.next_id, key, hits));
        self.next_id
    }
}
