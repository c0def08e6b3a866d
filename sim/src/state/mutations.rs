//! Changing the model while keeping its indexes: group membership, user deletion, issues, comments,
//! changelog entries and worklogs.

use serde_json::Value;

use super::{
    BASE_ID, Change, Comment, DELETED_WORKLOG_BASE, GroupIx, Issue, IssueIx, State, UserIx, Worklog,
};

impl State {
    /// The id of the next worklog that only exists as a deletion.
    pub(super) fn next_deleted_worklog_id(&mut self) -> u64 {
        self.deleted_worklog_ids += 1;
        DELETED_WORKLOG_BASE + self.deleted_worklog_ids
    }

    /// Adds a user to a group; `false` if already a member.
    pub fn add_member(&mut self, g: GroupIx, u: UserIx) -> bool {
        let user = &mut self.users[u as usize];
        let Err(pos) = user.groups.binary_search(&g) else {
            return false;
        };
        user.groups.insert(pos, g);
        let active = user.active;
        let grp = &mut self.groups[g as usize];
        if let Err(p) = grp.members.binary_search(&u) {
            grp.members.insert(p, u);
        }
        if active && let Err(p) = grp.active_members.binary_search(&u) {
            grp.active_members.insert(p, u);
        }
        true
    }

    /// Removes a user from a group; `false` if not a member.
    pub fn remove_member(&mut self, g: GroupIx, u: UserIx) -> bool {
        let user = &mut self.users[u as usize];
        let Ok(pos) = user.groups.binary_search(&g) else {
            return false;
        };
        user.groups.remove(pos);
        let grp = &mut self.groups[g as usize];
        if let Ok(p) = grp.members.binary_search(&u) {
            grp.members.remove(p);
        }
        if let Ok(p) = grp.active_members.binary_search(&u) {
            grp.active_members.remove(p);
        }
        true
    }

    /// Removes a user from Jira (`DELETE /user`): out of every group and of the user listings.
    pub fn delete_user(&mut self, u: UserIx) {
        for g in self.users[u as usize].groups.clone() {
            self.remove_member(g, u);
        }
        self.users[u as usize].deleted = true;
        self.listed.retain(|&x| x != u);
    }

    /// Creates an issue; returns its index.
    #[allow(clippy::too_many_arguments)]
    pub fn create_issue(
        &mut self,
        project: u32,
        issue_type: usize,
        summary: String,
        description: Option<Value>,
        reporter: Option<UserIx>,
        labels: Vec<String>,
        parent: Option<IssueIx>,
        properties: Vec<(String, Value)>,
        now_ms: i64,
    ) -> IssueIx {
        let ix = self.issues.len() as IssueIx;
        let p = &mut self.projects[project as usize];
        let key = format!("{}-{}", p.key, p.next_number);
        p.next_number += 1;
        self.issue_by_key.insert(key.clone(), ix);
        if let Some(r) = reporter {
            self.users[r as usize].reported += 1;
        }
        self.issues.push(Some(Issue {
            id: BASE_ID + ix as u64,
            key,
            project,
            issue_type,
            summary,
            description,
            reporter,
            assignee: None,
            labels,
            status: "To Do".into(),
            created_ms: now_ms,
            updated_ms: now_ms,
            parent,
            comments: Vec::new(),
            changes: Vec::new(),
            worklogs: Vec::new(),
            properties,
            searchable_from_ms: now_ms + self.settings.search_lag_secs as i64 * 1000,
        }));
        ix
    }

    /// Deletes an issue (and its subtasks when `with_subtasks`); its worklogs become deletions.
    pub fn delete_issue(&mut self, ix: IssueIx, now_ms: i64) {
        for sub in self.subtasks(ix) {
            self.delete_issue(sub, now_ms);
        }
        let Some(issue) = self.issues[ix as usize].take() else {
            return;
        };
        self.issue_by_key.remove(&issue.key);
        if let Some(r) = issue.reporter {
            let user = &mut self.users[r as usize];
            user.reported = user.reported.saturating_sub(1);
        }
        for c in issue.comments {
            self.comments[c as usize].deleted = true;
        }
        let mut gone: Vec<u64> = Vec::new();
        for w in issue.worklogs {
            let wl = &mut self.worklogs[w as usize];
            wl.deleted = true;
            gone.push(wl.id);
            self.worklog_deletions.push((now_ms, wl.id));
        }
        if !gone.is_empty() {
            self.worklog_updates.retain(|(_, id)| !gone.contains(id));
            self.worklog_deletions.sort_unstable();
        }
    }

    /// Appends a comment now (or at `at_ms`); returns its id.
    pub fn add_comment(
        &mut self,
        ix: IssueIx,
        author: Option<UserIx>,
        body: String,
        at_ms: i64,
    ) -> u64 {
        let id = BASE_ID + self.comments.len() as u64;
        self.comments.push(Comment {
            id,
            issue: ix,
            author,
            update_author: author,
            created_ms: at_ms,
            updated_ms: at_ms,
            body,
            deleted: false,
        });
        let n = self.comments.len() as u32 - 1;
        let issue = self.issues[ix as usize].as_mut().expect("live issue");
        issue.comments.push(n);
        issue.updated_ms = issue.updated_ms.max(at_ms);
        id
    }

    /// Appends a changelog history; returns its id.
    pub fn add_change(
        &mut self,
        ix: IssueIx,
        author: Option<UserIx>,
        field: String,
        from: Option<String>,
        to: Option<String>,
        at_ms: i64,
    ) -> u64 {
        let id = BASE_ID + self.changes.len() as u64;
        if field == "status"
            && let (Some(issue), Some(to)) = (self.issues[ix as usize].as_mut(), &to)
        {
            issue.status = to.clone();
        }
        self.changes.push(Change {
            id,
            issue: ix,
            author,
            created_ms: at_ms,
            field,
            from,
            to,
        });
        let n = self.changes.len() as u32 - 1;
        let issue = self.issues[ix as usize].as_mut().expect("live issue");
        issue.changes.push(n);
        issue.updated_ms = issue.updated_ms.max(at_ms);
        id
    }

    /// Appends a worklog; returns its id.
    pub fn add_worklog(
        &mut self,
        ix: IssueIx,
        author: Option<UserIx>,
        seconds: u64,
        at_ms: i64,
    ) -> u64 {
        let id = BASE_ID + self.worklogs.len() as u64;
        self.worklogs.push(Worklog {
            id,
            issue: ix,
            author,
            update_author: author,
            created_ms: at_ms,
            updated_ms: at_ms,
            started_ms: at_ms,
            seconds,
            deleted: false,
        });
        let pos = self.worklog_updates.partition_point(|&e| e <= (at_ms, id));
        self.worklog_updates.insert(pos, (at_ms, id));
        let n = self.worklogs.len() as u32 - 1;
        let issue = self.issues[ix as usize].as_mut().expect("live issue");
        issue.worklogs.push(n);
        issue.updated_ms = issue.updated_ms.max(at_ms);
        id
    }

    /// Deletes an existing worklog at `at_ms`: it leaves `worklog/updated` and its issue, and shows in
    /// `worklog/deleted`. `false` if there is no such live worklog.
    pub fn delete_worklog(&mut self, id: u64, at_ms: i64) -> bool {
        let Some(ix) = id.checked_sub(BASE_ID).map(|i| i as usize) else {
            return false;
        };
        let Some(w) = self.worklogs.get_mut(ix).filter(|w| !w.deleted) else {
            return false;
        };
        w.deleted = true;
        let issue = w.issue;
        if let Some(i) = self.issues[issue as usize].as_mut() {
            i.worklogs.retain(|&x| x as usize != ix);
            i.updated_ms = i.updated_ms.max(at_ms);
        }
        self.worklog_updates.retain(|&(_, x)| x != id);
        let pos = self
            .worklog_deletions
            .partition_point(|&e| e <= (at_ms, id));
        self.worklog_deletions.insert(pos, (at_ms, id));
        true
    }

    /// Records the deletion of a worklog at `at_ms` (a worklog that only exists as a deletion).
    pub fn add_worklog_deletion(&mut self, at_ms: i64) -> u64 {
        let id = self.next_deleted_worklog_id();
        let pos = self
            .worklog_deletions
            .partition_point(|&e| e <= (at_ms, id));
        self.worklog_deletions.insert(pos, (at_ms, id));
        id
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::default_scenario;
    use crate::state::State;

    #[test]
    fn membership_and_deletion_keep_indexes() {
        let mut st = State::from_scenario(default_scenario(), 1_795_773_600_000).unwrap();
        let g = st.group_ref(None, Some("devs")).unwrap();
        let noah = st.user_ref("noah@example.com").unwrap();
        assert!(st.add_member(g, noah));
        assert!(!st.add_member(g, noah));
        assert!(st.groups[g as usize].members.contains(&noah));
        assert!(st.remove_member(g, noah));
        assert!(!st.remove_member(g, noah));
        let w = st.worklogs[0].id;
        assert!(st.delete_worklog(w, 1_795_773_600_000));
        assert!(!st.delete_worklog(w, 1_795_773_600_000));
        assert!(!st.worklog_updates.iter().any(|&(_, x)| x == w));
        assert_eq!(st.worklog_deletions.last(), Some(&(1_795_773_600_000, w)));
        let ix = st.issue_ref("ENG-2").unwrap();
        let before = st.worklog_deletions.len();
        st.delete_issue(ix, 1_795_773_600_000);
        assert!(st.issue_ref("ENG-2").is_none());
        assert_eq!(st.worklog_deletions.len(), before + 1);
    }
}
