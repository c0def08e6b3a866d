//! Jira permissions of an account, as `GET /rest/api/3/mypermissions` reports them and the routes enforce them:
//! global permissions come from the account's groups, project permissions from each project's permission
//! scheme. A project uses the default scheme unless its scenario grants a permission to groups only.
//!
//! The default scheme grants *Browse projects* and *Create issues* to any logged-in user, *Delete issues* to
//! Jira administrators and to the issue's reporter, and *Administer projects* to Jira administrators.

pub use crate::permission_catalog::{GLOBAL, PROJECT};
use crate::state::{IssueIx, State, UserIx};

/// Where a permission is asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// No context: a project permission held in any project.
    Anywhere,
    /// One project (index).
    Project(u32),
    /// One issue.
    Issue(IssueIx),
}

/// Whether the account holds the permission in the scope; `None` for a key the simulator does not know.
pub fn holds(st: &State, u: UserIx, key: &str, scope: Scope) -> Option<bool> {
    let perms = st.perms(u);
    match key {
        "ADMINISTER" => return Some(perms.administer),
        "SYSTEM_ADMIN" => return Some(perms.site_admin),
        "USER_PICKER" => return Some(perms.browse_users),
        _ if !PROJECT.iter().any(|(k, ..)| *k == key) => return None,
        _ => {}
    }
    Some(match scope {
        Scope::Anywhere => (0..st.projects.len() as u32).any(|p| in_project(st, u, key, p, None)),
        Scope::Project(p) => in_project(st, u, key, p, None),
        Scope::Issue(ix) => in_project(st, u, key, st.issue(ix).project, Some(ix)),
    })
}

/// A project permission in one project; with an issue, a reporter grant applies only to its reporter.
fn in_project(st: &State, u: UserIx, key: &str, project: u32, issue: Option<IssueIx>) -> bool {
    let project = &st.projects[project as usize];
    if let Some((_, groups)) = project.grants.iter().find(|(k, _)| k == key) {
        let mine = &st.users[u as usize].groups;
        return groups.iter().any(|g| mine.contains(g));
    }
    let administer = st.perms(u).administer;
    match key {
        "BROWSE_PROJECTS" | "CREATE_ISSUES" => true,
        // Any account can be a reporter: without an issue, the reporter grant counts.
        "DELETE_ISSUES" => administer || issue.is_none_or(|ix| st.issue(ix).reporter == Some(u)),
        _ => administer,
    }
}
