//! The in-memory model of the simulated site and org, with the indexes that keep paging O(page).

use std::collections::HashMap;

use serde_json::Value;

use crate::scenario::{AccountType, EmailVisibility, Plan, Scenario, Settings};

/// Index of a user in [`State::users`].
pub type UserIx = u32;
/// Index of a group in [`State::groups`].
pub type GroupIx = u32;
/// Index of an issue in [`State::issues`].
pub type IssueIx = u32;

/// First id of issues, comments, changelog entries and worklogs (ids are `BASE_ID + index`).
pub const BASE_ID: u64 = 10000;
/// First id of worklogs that only exist as deletions.
const DELETED_WORKLOG_BASE: u64 = 900_000_000;

/// An account.
#[derive(Clone, Debug)]
pub struct User {
    /// accountId.
    pub account_id: String,
    /// Display name.
    pub display_name: String,
    /// Email (the Admin API shows it for managed accounts even when hidden in Jira).
    pub email: Option<String>,
    /// Visibility of the email in Jira payloads.
    pub email_visibility: EmailVisibility,
    /// Account type.
    pub account_type: AccountType,
    /// App type of app accounts.
    pub app_type: Option<String>,
    /// `false` = deactivated.
    pub active: bool,
    /// Time zone.
    pub time_zone: String,
    /// Groups, sorted.
    pub groups: Vec<GroupIx>,
    /// Managed by the org (Admin API v1 lists only these).
    pub managed: bool,
    /// Org admin.
    pub org_admin: bool,
    /// Added to the org (epoch ms).
    pub added_to_org_ms: i64,
    /// Last-active per product key (epoch ms).
    pub last_active: Vec<(String, i64)>,
    /// Removed from Jira by `DELETE /user`.
    pub deleted: bool,
    /// Number of existing issues reporting this user.
    pub reported: u32,
}

impl User {
    /// The email as Jira shows it: `None` = key absent, `Some(None)` = `null`, `Some(Some(e))` = visible.
    pub fn jira_email(&self) -> Option<Option<&str>> {
        match (self.email_visibility, &self.email) {
            (EmailVisibility::Visible, Some(e)) => Some(Some(e)),
            (EmailVisibility::Null, _) => Some(None),
            _ => None,
        }
    }
}

/// A group.
#[derive(Clone, Debug)]
pub struct Group {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Products granted.
    pub products: Vec<String>,
    /// Site-admin access.
    pub site_admin: bool,
    /// Administer Jira.
    pub administer: bool,
    /// Browse users and groups.
    pub browse_users: bool,
    /// Members (active and inactive), sorted by user index.
    pub members: Vec<UserIx>,
    /// Active members, sorted by user index.
    pub active_members: Vec<UserIx>,
}

/// A product (application role).
#[derive(Clone, Debug)]
pub struct Product {
    /// Key.
    pub key: String,
    /// Name.
    pub name: String,
    /// Seats (`None` = unlimited).
    pub seats: Option<u32>,
    /// Plan.
    pub plan: Plan,
    /// Default group names.
    pub default_groups: Vec<String>,
}

/// A project.
#[derive(Clone, Debug)]
pub struct Project {
    /// Numeric id.
    pub id: u64,
    /// Key.
    pub key: String,
    /// Name.
    pub name: String,
    /// `software`, `service_desk`, `business`.
    pub type_key: String,
    /// Next issue number.
    pub next_number: u64,
    /// Project permissions granted by this project's scheme to groups only, replacing the default grant.
    pub grants: Vec<(String, Vec<GroupIx>)>,
}

/// An issue type (shared by all projects).
#[derive(Clone, Debug)]
pub struct IssueType {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: &'static str,
    /// Hierarchy level (-1 subtask, 0 standard, 1 epic).
    pub level: i32,
}

/// The issue types of every simulated project.
pub const ISSUE_TYPES: &[IssueType] = &[
    IssueType {
        id: 10001,
        name: "Task",
        level: 0,
    },
    IssueType {
        id: 10002,
        name: "Bug",
        level: 0,
    },
    IssueType {
        id: 10003,
        name: "Story",
        level: 0,
    },
    IssueType {
        id: 10000,
        name: "Epic",
        level: 1,
    },
    IssueType {
        id: 10004,
        name: "Subtask",
        level: -1,
    },
];

/// An issue.
#[derive(Clone, Debug)]
pub struct Issue {
    /// Numeric id.
    pub id: u64,
    /// Key.
    pub key: String,
    /// Project index.
    pub project: u32,
    /// Index into [`ISSUE_TYPES`].
    pub issue_type: usize,
    /// Summary.
    pub summary: String,
    /// Description (ADF).
    pub description: Option<Value>,
    /// Reporter.
    pub reporter: Option<UserIx>,
    /// Assignee.
    pub assignee: Option<UserIx>,
    /// Labels.
    pub labels: Vec<String>,
    /// Status name.
    pub status: String,
    /// Created (epoch ms).
    pub created_ms: i64,
    /// Updated (epoch ms).
    pub updated_ms: i64,
    /// Parent issue.
    pub parent: Option<IssueIx>,
    /// Comment indexes.
    pub comments: Vec<u32>,
    /// Changelog indexes, oldest first.
    pub changes: Vec<u32>,
    /// Worklog indexes.
    pub worklogs: Vec<u32>,
    /// Entity properties.
    pub properties: Vec<(String, Value)>,
    /// Search sees the issue from this time on (eventual consistency), unless reconciled.
    pub searchable_from_ms: i64,
}

/// A comment.
#[derive(Clone, Debug)]
pub struct Comment {
    /// Id.
    pub id: u64,
    /// Issue.
    pub issue: IssueIx,
    /// Author.
    pub author: Option<UserIx>,
    /// Last editor.
    pub update_author: Option<UserIx>,
    /// Created.
    pub created_ms: i64,
    /// Updated.
    pub updated_ms: i64,
    /// Text.
    pub body: String,
    /// Gone with its issue.
    pub deleted: bool,
}

/// One changelog history (with one item).
#[derive(Clone, Debug)]
pub struct Change {
    /// Id.
    pub id: u64,
    /// Issue.
    pub issue: IssueIx,
    /// Author (absent = automation).
    pub author: Option<UserIx>,
    /// Time.
    pub created_ms: i64,
    /// Field id.
    pub field: String,
    /// Old display value.
    pub from: Option<String>,
    /// New display value.
    pub to: Option<String>,
}

/// A worklog.
#[derive(Clone, Debug)]
pub struct Worklog {
    /// Id.
    pub id: u64,
    /// Issue.
    pub issue: IssueIx,
    /// Author.
    pub author: Option<UserIx>,
    /// Last editor.
    pub update_author: Option<UserIx>,
    /// Created.
    pub created_ms: i64,
    /// Updated.
    pub updated_ms: i64,
    /// Work date.
    pub started_ms: i64,
    /// Time spent.
    pub seconds: u64,
    /// Deleted.
    pub deleted: bool,
}

/// An API token known to the simulator.
#[derive(Clone, Debug)]
pub struct ApiToken {
    /// Account.
    pub user: UserIx,
    /// `None` = classic token.
    pub scopes: Option<Vec<String>>,
}

/// An OAuth client.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Account acting.
    pub user: UserIx,
    /// Scopes.
    pub scopes: Vec<String>,
}

/// An access token issued by `/oauth/token`.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    /// Client index.
    pub client: usize,
    /// Expiry (epoch ms).
    pub expires_ms: i64,
}

/// Permissions of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perms {
    /// Site admin.
    pub site_admin: bool,
    /// Administer Jira.
    pub administer: bool,
    /// Browse users and groups.
    pub browse_users: bool,
}

/// The simulated site and org. Tests may read and mutate it through `SimHandle::with_state`.
#[derive(Debug)]
pub struct State {
    /// "Now" when the scenario was loaded (relative times were resolved against it).
    pub loaded_at_ms: i64,
    /// Site name.
    pub site_name: String,
    /// cloudId.
    pub cloud_id: String,
    /// Org id.
    pub org_id: String,
    /// Org name.
    pub org_name: String,
    /// Directory id.
    pub directory_id: String,
    /// Settings.
    pub settings: Settings,
    /// API tokens by `email\0token`.
    pub api_tokens: HashMap<String, ApiToken>,
    /// OAuth clients.
    pub oauth_clients: Vec<OAuthClient>,
    /// Admin API keys.
    pub admin_keys: Vec<String>,
    /// Issued OAuth access tokens.
    pub tokens: HashMap<String, IssuedToken>,
    /// Counter of issued tokens.
    pub token_counter: u64,
    /// Products.
    pub products: Vec<Product>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Group by id.
    pub group_by_id: HashMap<String, GroupIx>,
    /// Group by lower-case name.
    pub group_by_name: HashMap<String, GroupIx>,
    /// Users (deleted ones stay with `deleted = true`).
    pub users: Vec<User>,
    /// User by accountId.
    pub user_by_id: HashMap<String, UserIx>,
    /// User by lower-case email.
    pub user_by_email: HashMap<String, UserIx>,
    /// Users listed by `users/search`, in order.
    pub listed: Vec<UserIx>,
    /// Projects.
    pub projects: Vec<Project>,
    /// Project by key.
    pub project_by_key: HashMap<String, u32>,
    /// Issues by index (`None` once deleted); id = `BASE_ID + index`.
    pub issues: Vec<Option<Issue>>,
    /// Issue index by key.
    pub issue_by_key: HashMap<String, IssueIx>,
    /// Comments; id = `BASE_ID + index`.
    pub comments: Vec<Comment>,
    /// Changelog histories; id = `BASE_ID + index`.
    pub changes: Vec<Change>,
    /// Worklogs; id = `BASE_ID + index`.
    pub worklogs: Vec<Worklog>,
    /// `(updated ms, worklog id)` of live worklogs, sorted.
    pub worklog_updates: Vec<(i64, u64)>,
    /// `(deleted ms, worklog id)`, sorted.
    pub worklog_deletions: Vec<(i64, u64)>,
    deleted_worklog_ids: u64,
}

fn group_id_from_name(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    let l = h.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        0x8000 | (l >> 48) & 0x3fff,
        l & 0xffff_ffff_ffff
    )
}

impl State {
    /// Builds the state from a scenario, resolving relative times against `now_ms`.
    pub fn from_scenario(sc: Scenario, now_ms: i64) -> Result<State, String> {
        let mut st = State {
            loaded_at_ms: now_ms,
            site_name: sc.site_name,
            cloud_id: sc.cloud_id,
            org_id: sc.org_id,
            org_name: sc.org_name,
            directory_id: sc.directory_id,
            settings: sc.settings,
            api_tokens: HashMap::new(),
            oauth_clients: Vec::new(),
            admin_keys: sc.credentials.admin_keys,
            tokens: HashMap::new(),
            token_counter: 0,
            products: sc
                .products
                .into_iter()
                .map(|p| Product {
                    key: p.key,
                    name: p.name,
                    seats: p.seats,
                    plan: p.plan,
                    default_groups: p.default_groups,
                })
                .collect(),
            groups: Vec::with_capacity(sc.groups.len()),
            group_by_id: HashMap::new(),
            group_by_name: HashMap::new(),
            users: Vec::with_capacity(sc.users.len()),
            user_by_id: HashMap::with_capacity(sc.users.len()),
            user_by_email: HashMap::with_capacity(sc.users.len()),
            listed: Vec::with_capacity(sc.users.len()),
            projects: Vec::new(),
            project_by_key: HashMap::new(),
            issues: Vec::with_capacity(sc.issues.len()),
            issue_by_key: HashMap::with_capacity(sc.issues.len()),
            comments: Vec::new(),
            changes: Vec::new(),
            worklogs: Vec::new(),
            worklog_updates: Vec::new(),
            worklog_deletions: Vec::new(),
            deleted_worklog_ids: 0,
        };
        for g in sc.groups {
            let ix = st.groups.len() as GroupIx;
            let id = g.id.unwrap_or_else(|| group_id_from_name(&g.name));
            if st.group_by_name.insert(g.name.to_lowercase(), ix).is_some() {
                return Err(format!("duplicate group '{}'", g.name));
            }
            if st.group_by_id.insert(id.clone(), ix).is_some() {
                return Err(format!("duplicate group id '{id}'"));
            }
            for p in &g.products {
                if !st.products.iter().any(|x| &x.key == p) {
                    return Err(format!("group '{}' grants unknown product '{p}'", g.name));
                }
            }
            st.groups.push(Group {
                id,
                name: g.name,
                products: g.products,
                site_admin: g.site_admin,
                administer: g.administer,
                browse_users: g.browse_users,
                members: Vec::new(),
                active_members: Vec::new(),
            });
        }
        for (i, u) in sc.users.into_iter().enumerate() {
            let ix = i as UserIx;
            let account_id = u
                .account_id
                .unwrap_or_else(|| format!("5b10{:020x}", i + 1));
            if st.user_by_id.insert(account_id.clone(), ix).is_some() {
                return Err(format!("duplicate accountId '{account_id}'"));
            }
            if let Some(e) = &u.email {
                st.user_by_email.entry(e.to_lowercase()).or_insert(ix);
            }
            let managed = u.managed.unwrap_or_else(|| {
                u.account_type == AccountType::Atlassian
                    && u.email
                        .as_deref()
                        .and_then(|e| e.rsplit_once('@'))
                        .is_some_and(|(_, d)| {
                            sc.managed_domains.iter().any(|m| m.eq_ignore_ascii_case(d))
                        })
            });
            let mut groups = Vec::with_capacity(u.groups.len());
            for g in &u.groups {
                let gx = *st
                    .group_by_name
                    .get(&g.to_lowercase())
                    .ok_or_else(|| format!("user '{}' is in unknown group '{g}'", u.name))?;
                groups.push(gx);
            }
            groups.sort_unstable();
            groups.dedup();
            for &gx in &groups {
                let grp = &mut st.groups[gx as usize];
                grp.members.push(ix);
                if u.active {
                    grp.active_members.push(ix);
                }
            }
            st.users.push(User {
                account_id,
                display_name: u.name,
                email: u.email,
                email_visibility: u.email_visibility,
                account_type: u.account_type,
                app_type: u.app_type,
                active: u.active,
                time_zone: u.time_zone.unwrap_or_else(|| "UTC".into()),
                groups,
                managed,
                org_admin: u.org_admin,
                added_to_org_ms: u
                    .added_to_org
                    .map(|a| a.resolve(now_ms))
                    .unwrap_or(now_ms - 400 * 86_400_000),
                last_active: u
                    .last_active
                    .into_iter()
                    .map(|(k, v)| (k, v.resolve(now_ms)))
                    .collect(),
                deleted: false,
                reported: 0,
            });
            st.listed.push(ix);
        }
        for (i, p) in sc.projects.into_iter().enumerate() {
            st.project_by_key.insert(p.key.clone(), i as u32);
            let grants = crate::permissions::scheme(&st, &p.key, p.permissions)?;
            st.projects.push(Project {
                id: BASE_ID + i as u64,
                key: p.key,
                name: p.name,
                type_key: p.type_key.unwrap_or_else(|| "software".into()),
                next_number: 1,
                grants,
            });
        }
        let mut parents: Vec<(IssueIx, String)> = Vec::new();
        for spec in sc.issues {
            let pix = *st
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
            let resolve = |st: &State, r: &Option<String>| -> Result<Option<UserIx>, String> {
                match r {
                    None => Ok(None),
                    Some(r) => st
                        .user_ref(r)
                        .map(Some)
                        .ok_or_else(|| format!("unknown user '{r}'")),
                }
            };
            let reporter = resolve(&st, &spec.reporter)?;
            let assignee = resolve(&st, &spec.assignee)?;
            let ix = st.issues.len() as IssueIx;
            let project = &mut st.projects[pix as usize];
            let number = spec.number.unwrap_or(project.next_number);
            project.next_number = project.next_number.max(number + 1);
            let key = format!("{}-{number}", project.key);
            if st.issue_by_key.insert(key.clone(), ix).is_some() {
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
            if let Some(p) = spec.parent {
                parents.push((ix, p));
            }
            if let Some(r) = reporter {
                st.users[r as usize].reported += 1;
            }
            for c in spec.comments {
                let author = resolve(&st, &c.author)?;
                let created = c.created.resolve(now_ms);
                let updated = c
                    .updated
                    .map(|u| u.resolve(now_ms))
                    .unwrap_or(created)
                    .max(created);
                let update_author = match c.update_author {
                    Some(_) => resolve(&st, &c.update_author)?,
                    None => author,
                };
                issue.updated_ms = issue.updated_ms.max(updated);
                issue.comments.push(st.comments.len() as u32);
                st.comments.push(Comment {
                    id: BASE_ID + st.comments.len() as u64,
                    issue: ix,
                    author,
                    update_author,
                    created_ms: created,
                    updated_ms: updated,
                    body: c.body.unwrap_or_else(|| "A comment.".into()),
                    deleted: false,
                });
            }
            let mut changes: Vec<Change> = Vec::with_capacity(spec.changelog.len());
            for c in spec.changelog {
                changes.push(Change {
                    id: 0,
                    issue: ix,
                    author: resolve(&st, &c.author)?,
                    created_ms: c.at.resolve(now_ms),
                    field: c.field,
                    from: c.from,
                    to: c.to,
                });
            }
            changes.sort_by_key(|c| c.created_ms);
            for mut c in changes {
                c.id = BASE_ID + st.changes.len() as u64;
                issue.updated_ms = issue.updated_ms.max(c.created_ms);
                if c.field == "status"
                    && let Some(to) = &c.to
                {
                    issue.status = to.clone();
                }
                issue.changes.push(st.changes.len() as u32);
                st.changes.push(c);
            }
            for w in spec.worklogs {
                let author = resolve(&st, &w.author)?;
                let created = w.created.resolve(now_ms);
                let updated = w
                    .updated
                    .map(|u| u.resolve(now_ms))
                    .unwrap_or(created)
                    .max(created);
                let update_author = match w.update_author {
                    Some(_) => resolve(&st, &w.update_author)?,
                    None => author,
                };
                issue.updated_ms = issue.updated_ms.max(updated);
                let id = BASE_ID + st.worklogs.len() as u64;
                issue.worklogs.push(st.worklogs.len() as u32);
                st.worklog_updates.push((updated, id));
                st.worklogs.push(Worklog {
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
            }
            st.issues.push(Some(issue));
        }
        for (ix, parent) in parents {
            let p = *st
                .issue_by_key
                .get(&parent)
                .ok_or_else(|| format!("unknown parent issue '{parent}'"))?;
            if let Some(issue) = st.issues[ix as usize].as_mut() {
                issue.parent = Some(p);
            }
        }
        st.worklog_updates.sort_unstable();
        for t in sc.credentials.api_tokens {
            let user = st
                .user_ref(&t.email)
                .ok_or_else(|| format!("API token of unknown user '{}'", t.email))?;
            st.api_tokens.insert(
                format!("{}\0{}", t.email.to_lowercase(), t.token),
                ApiToken {
                    user,
                    scopes: t.scopes,
                },
            );
        }
        for c in sc.credentials.oauth_clients {
            let user = st
                .user_ref(&c.account)
                .ok_or_else(|| format!("OAuth client of unknown account '{}'", c.account))?;
            st.oauth_clients.push(OAuthClient {
                client_id: c.client_id,
                client_secret: c.client_secret,
                user,
                scopes: c.scopes,
            });
        }
        for d in sc.deleted_worklogs {
            let id = st.next_deleted_worklog_id();
            st.worklog_deletions.push((d.at.resolve(now_ms), id));
        }
        st.worklog_deletions.sort_unstable();
        Ok(st)
    }

    fn next_deleted_worklog_id(&mut self) -> u64 {
        self.deleted_worklog_ids += 1;
        DELETED_WORKLOG_BASE + self.deleted_worklog_ids
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::default_scenario;

    #[test]
    fn default_scenario_loads_with_indexes() {
        let st = State::from_scenario(default_scenario(), 1_795_773_600_000).unwrap();
        let admin = st.user_ref("admin@example.com").unwrap();
        assert!(st.perms(admin).site_admin);
        let viewer = st.user_ref("viewer@example.com").unwrap();
        assert_eq!(st.perms(viewer), Perms::default());
        assert_eq!(st.user_products(viewer), vec!["jira-software"]);
        assert_eq!(
            st.issue(st.issue_ref("ENG-1").unwrap()).status,
            "In Progress"
        );
        assert_eq!(st.issues_with_label("demo"), vec!["ENG-2".to_string()]);
        // Liam is inactive: member of jira-software-users but not counted.
        let g = st.group_ref(None, Some("jira-software-users")).unwrap();
        assert_eq!(st.groups[g as usize].members.len(), 8);
        assert_eq!(st.groups[g as usize].active_members.len(), 7);
    }

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
