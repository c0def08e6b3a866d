//! The in-memory model of the simulated site and org, with the indexes that keep paging O(page). Loading a
//! scenario, reading and changing the model live in the child modules.

mod loading;
mod mutations;
mod queries;

use std::collections::HashMap;

use serde_json::Value;

use crate::scenario::{AccountType, EmailVisibility, Plan, Settings};

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
    /// Worklogs that only exist as deletions so far (their ids follow `DELETED_WORKLOG_BASE`).
    deleted_worklog_ids: u64,
}
