//! The group memberships the sync read, with group names interned: each account's groups as small numbers, by
//! the account's [`account_key`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::jira::GroupRef;
use crate::sync::account_key;

/// Interned group names and each account's groups, in three flat vectors: the members' keys, sorted; where each
/// member's groups start; the groups. A map from key to a vector of groups would allocate once per member.
pub(super) struct Memberships<'a> {
    names: Vec<Arc<str>>,
    index: HashMap<&'a str, u16>,
    keys: Vec<u64>,
    starts: Vec<u32>,
    groups: Vec<u16>,
}

impl<'a> Memberships<'a> {
    /// Indexes the active members of each group read.
    pub(super) fn new(members: &'a [(GroupRef, Vec<u64>)]) -> Memberships<'a> {
        let mut names: Vec<Arc<str>> = Vec::new();
        let mut index: HashMap<&str, u16> = HashMap::new();
        let mut pairs: Vec<(u64, u16)> =
            Vec::with_capacity(members.iter().map(|(_, ids)| ids.len()).sum());
        for (g, ids) in members {
            let name = g.name.as_str();
            let gi = *index.entry(name).or_insert_with(|| {
                names.push(Arc::from(name));
                (names.len() - 1) as u16
            });
            pairs.extend(ids.iter().map(|&id| (id, gi)));
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut keys = Vec::new();
        let mut starts = Vec::new();
        let groups = pairs
            .iter()
            .enumerate()
            .map(|(i, &(key, group))| {
                if keys.last() != Some(&key) {
                    keys.push(key);
                    starts.push(i as u32);
                }
                group
            })
            .collect();
        starts.push(pairs.len() as u32);
        Memberships {
            names,
            index,
            keys,
            starts,
            groups,
        }
    }

    /// The interned numbers of the groups among `groups` whose members were read.
    pub(super) fn set(&self, groups: &[GroupRef]) -> HashSet<u16> {
        groups
            .iter()
            .filter_map(|g| self.index.get(g.name.as_str()).copied())
            .collect()
    }

    /// The groups `account_id` is an active member of, in interned order.
    pub(super) fn groups_of(&self, account_id: &str) -> &[u16] {
        match self.keys.binary_search(&account_key(account_id)) {
            Ok(i) => &self.groups[self.starts[i] as usize..self.starts[i + 1] as usize],
            Err(_) => &[],
        }
    }

    /// The name of an interned group, shared.
    pub(super) fn name(&self, group: u16) -> &Arc<str> {
        &self.names[group as usize]
    }
}

/// A group known by its name only, for the tests of the memberships and roles.
#[cfg(test)]
pub(super) fn group(name: &str) -> GroupRef {
    GroupRef {
        group_id: None,
        name: name.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_accounts_groups_once_and_no_others() {
        let key = account_key;
        let members = vec![
            (group("b"), vec![key("x"), key("y"), key("x")]),
            (group("a"), vec![key("y")]),
            (group("empty"), vec![]),
            (group("b"), vec![key("z")]),
        ];
        let m = Memberships::new(&members);
        let names = |account: &str| -> Vec<&str> {
            m.groups_of(account)
                .iter()
                .map(|&g| &*m.names[g as usize])
                .collect()
        };
        assert_eq!(names("x"), ["b"]);
        assert_eq!(names("y"), ["b", "a"]);
        assert_eq!(names("z"), ["b"], "a group listed twice is one group");
        assert!(names("nobody").is_empty());
        assert_eq!(
            m.set(&[group("a"), group("empty"), group("unread")]).len(),
            2
        );
    }
}
