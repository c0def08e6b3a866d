//! Loading the work of a scenario: projects (with their permission schemes), issues with their comments,
//! changelog and worklogs, and deleted worklogs.

use std::collections::BTreeMap;

use crate::permission_catalog::PROJECT;
use crate::scenario::{
    ChangeSpec, CommentSpec, DeletedWorklogSpec, IssueSpec, ProjectSpec, WorklogSpec,
};
use crate::state::{
    BASE_ID, Change, Comment, GroupIx, ISSUE_TYPES, Issue, IssueIx, Project, State, Worklog,
};

impl State {
    pub(super) fn load_projects(&mut self, projects: Vec<ProjectSpec>) -> Result<(), String> {
        for (i, p) in projects.into_iter().enumerate() {
            self.project_by_key.insert(p.key.clone(), i as u32);
            let grants = self.scheme_grants(&p.key, p.permissions)?;
            self.projects.push(Project {
                id: BASE_ID + i as u64,
                key: p.key,
                name: p.name,
                type_key: p.type_key.unwrap_or_else(|| "software".into()),
                next_number: 1,
                grants,
            });
        }
        Ok(())
    }

    /// Resolves a project's scheme grants (permission key to group names).
    fn scheme_grants(
        &self,
        project: &str,
        grants: BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<(String, Vec<GroupIx>)>, String> {
        let mut out = Vec::new();
        for (key, groups) in grants {
            if !PROJECT.iter().any(|(k, ..)| *k == key) {
                return Err(format!(
                    "project '{project}' grants unknown permission '{key}'"
                ));
            }
            let ixs = groups
                .iter()
                .map(|g| {
                    self.group_by_name
                        .get(&g.to_lowercase())
                        .copied()
                        .ok_or_else(|| {
                            format!("project '{project}' grants {key} to unknown group '{g}'")
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push((key, ixs));
        }
        Ok(out)
    }

    /// Loads the issues with their activity, then links subtasks to their parents.
    pub(super) fn load_issues(
        &mut self,
        issues: Vec<IssueSpec>,
        now_ms: i64,
    ) -> Result<(), String> {
        let mut parents: Vec<(IssueIx, String)> = Vec::new();
        for mut spec in issues {
            let parent = spec.parent.take();
            let ix = self.load_issue(spec, now_ms)?;
            if let Some(p) = parent {
                parents.push((ix, p));
            }
        }
        for (ix, parent) in parents {
            let p = *self
                .issue_by_key
                .get(&parent)
                .ok_or_else(|| format!("unknown parent issue '{parent}'"))?;
            if let Some(issue) = self.issues[ix as usize].as_mut() {
                issue.parent = Some(p);
            }
        }
        self.worklog_updates.sort_unstable();
        Ok(())
    }

    fn load_issue(&mut self, spec: IssueSpec, now_ms: i64) -> Result<IssueIx, String> {
        let pix = *self
            .project_by_key
            .get(&spec.project)
            .ok_or_else(|| format!("issue in unknown project '{}'", spec.project))?;
        let issue_type = ISSUE_TYPES
            .iter()
            .position(|t| {
                t.name.eq_ignore_ascii_case(&spec.issue_type)
                    || (spec.issue_type == "Sub-task" && t.level == -1)
            })
            .ok_or_else(|| format!("unknown issue type '{}'", spec.issue_type))?;
        let reporter = self.resolve_user(&spec.reporter)?;
        let assignee = self.resolve_user(&spec.assignee)?;
        let ix = self.issues.len() as IssueIx;
        let project = &mut self.projects[pix as usize];
        let number = spec.number.unwrap_or(project.next_number);
        project.next_number = project.next_number.max(number + 1);
        let key = format!("{}-{number}", project.key);
        if self.issue_by_key.insert(key.clone(), ix).is_some() {
            return Err(format!("duplicate issue key '{key}'"));
        }
        let created_ms = spec.created.resolve(now_ms);
        let mut issue = Issue {
            id: BASE_ID + ix as u64,
            key,
            project: pix,
            issue_type,
            summary: spec.summary,
            description: None,
            reporter,
            assignee,
            labels: spec.labels,
            status: "To Do".into(),
            created_ms,
            updated_ms: created_ms,
            parent: None,
            comments: Vec::with_capacity(spec.comments.len()),
            changes: Vec::with_capacity(spec.changelog.len()),
            worklogs: Vec::with_capacity(spec.worklogs.len()),
            properties: Vec::new(),
            searchable_from_ms: 0,
        };
        if let Some(r) = reporter {
            self.users[r as usize].reported += 1;
        }
        for c in spec.comments {
            self.load_comment(&mut issue, ix, c, now_ms)?;
        }
        self.load_changelog(&mut issue, ix, spec.changelog, now_ms)?;
        for w in spec.worklogs {
            self.load_worklog(&mut issue, ix, w, now_ms)?;
        }
        self.issues.push(Some(issue));
        Ok(ix)
    }

    fn load_comment(
        &mut self,
        issue: &mut Issue,
        ix: IssueIx,
        c: CommentSpec,
        now_ms: i64,
    ) -> Result<(), String> {
        let author = self.resolve_user(&c.author)?;
        let created = c.created.resolve(now_ms);
        let updated = c
            .updated
            .map(|u| u.resolve(now_ms))
            .unwrap_or(created)
            .max(created);
        let update_author = match c.update_author {
            Some(_) => self.resolve_user(&c.update_author)?,
            None => author,
        };
        issue.updated_ms = issue.updated_ms.max(updated);
        issue.comments.push(self.comments.len() as u32);
        self.comments.push(Comment {
            id: BASE_ID + self.comments.len() as u64,
            issue: ix,
            author,
            update_author,
            created_ms: created,
            updated_ms: updated,
            body: c.body.unwrap_or_else(|| "A comment.".into()),
            deleted: false,
        });
        Ok(())
    }

    /// Loads an issue's changelog, oldest first; the last status change sets the issue's status.
    fn load_changelog(
        &mut self,
        issue: &mut Issue,
        ix: IssueIx,
        changelog: Vec<ChangeSpec>,
        now_ms: i64,
    ) -> Result<(), String> {
        let mut changes: Vec<Change> = Vec::with_capacity(changelog.len());
        for c in changelog {
            changes.push(Change {
                id: 0,
                issue: ix,
                author: self.resolve_user(&c.author)?,
                created_ms: c.at.resolve(now_ms),
                field: c.field,
                from: c.from,
                to: c.to,
            });
        }
        changes.sort_by_key(|c| c.created_ms);
        for mut c in changes {
            c.id = BASE_ID + self.changes.len() as u64;
            issue.updated_ms = issue.updated_ms.max(c.created_ms);
            if c.field == "status"
                && let Some(to) = &c.to
            {
                issue.status = to.clone();
            }
            issue.changes.push(self.changes.len() as u32);
            self.changes.push(c);
        }
        Ok(())
    }

    fn load_worklog(
        &mut self,
        issue: &mut Issue,
        ix: IssueIx,
        w: WorklogSpec,
        now_ms: i64,
    ) -> Result<(), String> {
        let author = self.resolve_user(&w.author)?;
        let created = w.created.resolve(now_ms);
        let updated = w
            .updated
            .map(|u| u.resolve(now_ms))
            .unwrap_or(created)
            .max(created);
        let update_author = match w.update_author {
            Some(_) => self.resolve_user(&w.update_author)?,
            None => author,
        };
        issue.updated_ms = issue.updated_ms.max(updated);
        let id = BASE_ID + self.worklogs.len() as u64;
        issue.worklogs.push(self.worklogs.len() as u32);
        self.worklog_updates.push((updated, id));
        self.worklogs.push(Worklog {
            id,
            issue: ix,
            author,
            update_author,
            created_ms: created,
            updated_ms: updated,
            started_ms: w.started.map(|s| s.resolve(now_ms)).unwrap_or(created),
            seconds: w.seconds,
            deleted: false,
        });
        Ok(())
    }

    pub(super) fn load_deleted_worklogs(&mut self, deleted: Vec<DeletedWorklogSpec>, now_ms: i64) {
        for d in deleted {
            let id = self.next_deleted_worklog_id();
            self.worklog_deletions.push((d.at.resolve(now_ms), id));
        }
        self.worklog_deletions.sort_unstable();
    }
}
