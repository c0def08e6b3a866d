//! Reading the model: resolving references (users, groups, issues, comments, worklogs), permissions from
//! groups and product counts.

use super::{BASE_ID, Comment, GroupIx, Issue, IssueIx, Perms, State, UserIx, Worklog};
use crate::scenario::AccountType;

impl State {
    /// Resolves a user reference: accountId, email or display name.
    pub fn user_ref(&self, r: &str) -> Option<UserIx> {
        if let Some(&u) = self.user_by_id.get(r) {
            return Some(u);
        }
        if let Some(&u) = self.user_by_email.get(&r.to_lowercase()) {
            return Some(u);
        }
        self.users
            .iter()
            .position(|u| u.display_name == r)
            .map(|p| p as UserIx)
    }

    /// A live (not deleted) user by accountId.
    pub fn user_by_account(&self, account_id: &str) -> Option<UserIx> {
        self.user_by_id
            .get(account_id)
            .copied()
            .filter(|&u| !self.users[u as usize].deleted)
    }

    /// Permissions of a user, from their groups.
    pub fn perms(&self, u: UserIx) -> Perms {
        let mut p = Perms::default();
        for &g in &self.users[u as usize].groups {
            let g = &self.groups[g as usize];
            p.site_admin |= g.site_admin;
            p.administer |= g.administer || g.site_admin;
            p.browse_users |= g.browse_users || g.administer || g.site_admin;
        }
        p
    }

    /// Product keys a user has access to through their groups (sorted, unique).
    pub fn user_products(&self, u: UserIx) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for &g in &self.users[u as usize].groups {
            for p in &self.groups[g as usize].products {
                if !keys.contains(&p.as_str()) {
                    keys.push(p);
                }
            }
        }
        keys.sort_unstable();
        keys
    }

    /// Groups granting a product.
    pub fn product_groups(&self, key: &str) -> Vec<GroupIx> {
        (0..self.groups.len() as GroupIx)
            .filter(|&g| self.groups[g as usize].products.iter().any(|p| p == key))
            .collect()
    }

    /// Billable users of a product: distinct active `atlassian` accounts in any granting group.
    pub fn product_user_count(&self, key: &str) -> u32 {
        let mut seen = vec![false; self.users.len()];
        let mut n = 0;
        for g in self.product_groups(key) {
            for &u in &self.groups[g as usize].active_members {
                let user = &self.users[u as usize];
                if !seen[u as usize] && user.account_type == AccountType::Atlassian {
                    seen[u as usize] = true;
                    n += 1;
                }
            }
        }
        n
    }

    /// A group by id or (case-insensitive) name.
    pub fn group_ref(&self, id: Option<&str>, name: Option<&str>) -> Option<GroupIx> {
        match (id, name) {
            (Some(id), _) => self.group_by_id.get(id).copied(),
            (None, Some(name)) => self.group_by_name.get(&name.to_lowercase()).copied(),
            (None, None) => None,
        }
    }

    /// A project by key (any case) or numeric id.
    pub fn project_ref(&self, r: &str) -> Option<u32> {
        self.project_by_key
            .get(&r.to_uppercase())
            .copied()
            .or_else(|| {
                let id: u64 = r.parse().ok()?;
                self.projects
                    .iter()
                    .position(|p| p.id == id)
                    .map(|p| p as u32)
            })
    }

    /// An existing issue by key or numeric id.
    pub fn issue_ref(&self, key_or_id: &str) -> Option<IssueIx> {
        if let Some(&ix) = self.issue_by_key.get(&key_or_id.to_uppercase()) {
            return Some(ix);
        }
        let id: u64 = key_or_id.parse().ok()?;
        let ix = id.checked_sub(BASE_ID)?;
        (self.issues.get(ix as usize)?.is_some()).then_some(ix as IssueIx)
    }

    /// The issue at an index (panics if deleted; use with indexes from [`State::issue_ref`]).
    pub fn issue(&self, ix: IssueIx) -> &Issue {
        self.issues[ix as usize]
            .as_ref()
            .expect("issue index of a live issue")
    }

    /// Live subtasks of an issue.
    pub fn subtasks(&self, ix: IssueIx) -> Vec<IssueIx> {
        self.issues
            .iter()
            .enumerate()
            .filter(|(_, i)| i.as_ref().is_some_and(|i| i.parent == Some(ix)))
            .map(|(n, _)| n as IssueIx)
            .collect()
    }

    /// A worklog by id.
    pub fn worklog(&self, id: u64) -> Option<&Worklog> {
        let ix = id.checked_sub(BASE_ID)?;
        self.worklogs.get(ix as usize).filter(|w| !w.deleted)
    }

    /// A comment by id.
    pub fn comment(&self, id: u64) -> Option<&Comment> {
        let ix = id.checked_sub(BASE_ID)?;
        self.comments.get(ix as usize).filter(|c| !c.deleted)
    }

    /// Keys of the live issues carrying a label.
    pub fn issues_with_label(&self, label: &str) -> Vec<String> {
        self.issues
            .iter()
            .flatten()
            .filter(|i| i.labels.iter().any(|l| l == label))
            .map(|i| i.key.clone())
            .collect()
    }

    /// Number of live issues.
    pub fn issue_count(&self) -> usize {
        self.issue_by_key.len()
    }
}
