//! The group memberships the sync read, with group names interned: each account's groups as small numbers, by
//! the account's [`account_key`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::jira::GroupRef;
use crate::sync::account_key;

/// Interned group names and each account's groups.
pub(super) struct Memberships<'a> {
    names: Vec<Arc<str>>,
    index: HashMap<&'a str, u16>,
    of: HashMap<u64, Vec<u16>>,
}

impl<'a> Memberships<'a> {
    /// Indexes the active members of each group read.
    pub(super) fn new(members: &'a [(GroupRef, Vec<u64>)]) -> Memberships<'a> {
        let mut names: Vec<Arc<str>> = Vec::new();
        let mut index: HashMap<&str, u16> = HashMap::new();
        let mut of: HashMap<u64, Vec<u16>> = HashMap::new();
        let mut member_groups: Vec<u16> = Vec::with_capacity(members.len());
        for (g, _) in members {
            let name = g.name.as_str();
            let gi = *index.entry(name).or_insert_with(|| {
                names.push(Arc::from(name));
                (names.len() - 1) as u16
            });
            member_groups.push(gi);
        }
        for ((_, ids), gi) in members.iter().zip(&member_groups) {
            for &id in ids {
                let v = of.entry(id).or_default();
                if !v.contains(gi) {
                    v.push(*gi);
                }
            }
        }
        Memberships { names, index, of }
    }

    /// The interned numbers of the groups among `groups` whose members were read.
    pub(super) fn set(&self, groups: &[GroupRef]) -> HashSet<u16> {
        groups
            .iter()
            .filter_map(|g| self.index.get(g.name.as_str()).copied())
            .collect()
    }

    /// The groups `account_id` is an active member of.
    pub(super) fn groups_of(&self, account_id: &str) -> &[u16] {
        self.of
            .get(&account_key(account_id))
            .map_or(&[], Vec::as_slice)
    }

    /// The name of an interned group, shared.
    pub(super) fn name(&self, group: u16) -> &Arc<str> {
        &self.names[group as usize]
    }
}
