use super::{LocalObjectReference, conditions_schema};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// One change in Jira, executed exactly once.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "jiracloud.io",
    version = "v1alpha1",
    kind = "JiraAction",
    namespaced,
    status = "JiraActionStatus",
    shortname = "jact",
    category = "jira",
    doc = "One change in Jira (create or delete an issue, add or remove a group member, delete a user), executed exactly once.",
    selectable = ".spec.connectionRef.name",
    printcolumn(
        name = "Connection",
        type_ = "string",
        json_path = ".spec.connectionRef.name"
    ),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Succeeded\")].reason"
    ),
    printcolumn(
        name = "Result",
        type_ = "string",
        json_path = ".status.result.issueKey"
    ),
    printcolumn(name = "Attempts", type_ = "integer", json_path = ".status.attempts"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        priority = 1,
        json_path = ".status.message"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self == oldSelf")
    .message("the spec of a JiraAction is immutable; create another JiraAction to do something else"))]
#[x_kube(validation = Rule::new(
    "[has(self.createIssue), has(self.deleteIssue), has(self.addUserToGroup), has(self.removeUserFromGroup), has(self.deleteUser)].filter(x, x).size() == 1"
).message("exactly one of createIssue, deleteIssue, addUserToGroup, removeUserFromGroup or deleteUser must be set"))]
pub struct JiraActionSpec {
    /// The JiraConnection, in the same namespace, whose site and credentials the action uses.
    pub connection_ref: LocalObjectReference,

    /// Create an issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_issue: Option<CreateIssue>,

    /// Delete an issue. Succeeds without change when the issue is already gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_issue: Option<DeleteIssue>,

    /// Add a user to a group. Succeeds without change when the user is already a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_user_to_group: Option<GroupMembership>,

    /// Remove a user from a group. Succeeds without change when the user is not a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_user_from_group: Option<GroupMembership>,

    /// Remove a user from Jira's user base (the Atlassian account itself is not deleted). Jira refuses users
    /// who reported issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_user: Option<DeleteUser>,

    /// Delete the JiraAction this many seconds after it finished (Succeeded or Failed), as Jobs do. Kept
    /// forever when unset. At most one year (31536000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 31_536_000))]
    pub ttl_seconds_after_finished: Option<i64>,
}

/// An issue to create.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateIssue {
    /// Key (`OPS`) or numeric ID of the project.
    #[schemars(length(min = 1, max = 255))]
    pub project: String,
    /// Name (`Task`) or numeric ID of the issue type. Sub-task types are not accepted.
    #[schemars(length(min = 1, max = 255))]
    pub issue_type: String,
    /// The summary: one line, at most 255 characters.
    #[schemars(length(min = 1, max = 255))]
    #[x_kube(validation = Rule::new("!self.contains('\\n')").message("createIssue.summary must be a single line"))]
    pub summary: String,
    /// The description, as plain text (paragraphs separated by blank lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32767))]
    pub description: Option<String>,
    /// Labels to set, without spaces. The operator adds one label of its own that marks the issue as created
    /// by this action.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(validation = Rule::new("self.all(l, size(l) > 0 && size(l) <= 255 && !l.contains(' '))")
        .message("createIssue.labels must be non-empty and contain no spaces"))]
    pub labels: Vec<String>,
}

/// An issue to delete.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeleteIssue {
    /// Key (`OPS-123`) or numeric ID of the issue.
    #[schemars(
        length(min = 1, max = 255),
        regex(pattern = r"^([A-Za-z][A-Za-z0-9_]*-[0-9]+|[0-9]+)$")
    )]
    pub issue: String,
    /// Also delete the issue's subtasks. Jira refuses to delete an issue with subtasks otherwise.
    #[serde(default)]
    pub delete_subtasks: bool,
}

/// A user and a group.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct GroupMembership {
    /// The user.
    pub user: UserReference,
    /// Name of the group.
    #[schemars(length(min = 1, max = 255))]
    pub group: String,
}

/// A user to delete.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeleteUser {
    /// The user.
    pub user: UserReference,
}

/// A Jira user: exactly one of `accountId` or `email`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.accountId) != has(self.email)")
    .message("a user reference needs exactly one of accountId or email"))]
pub struct UserReference {
    /// The Atlassian account ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub account_id: Option<String>,
    /// The account's email address; resolved to the account ID (the email must be visible to the operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 254), regex(pattern = r"^[^@\s]+@[^@\s]+$"))]
    pub email: Option<String>,
}

/// Phase of an action.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionPhase {
    /// Not started: waiting for its connection, or for a retry.
    Pending,
    /// An attempt is in progress.
    Running,
    /// Done. Never executed again.
    Succeeded,
    /// Failed permanently. Never executed again.
    Failed,
}

/// The observed state of an action.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct JiraActionStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Pending`, `Running`, `Succeeded` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ActionPhase>,
    /// `Succeeded`: Unknown while pending or retrying, True when done, False when failed.
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// Number of attempts started.
    #[serde(default)]
    pub attempts: u32,
    /// When the first attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the latest attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_time: Option<Time>,
    /// When the action succeeded or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// When the next attempt is due, while retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_time: Option<Time>,
    /// What the action produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ActionResult>,
    /// A human-readable summary of the outcome or of the last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The cloudId of the site the action acts on, pinned at its first attempt: a connection re-pointed to
    /// another site fails the action (`SiteChanged`) instead of acting there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_cloud_id: Option<String>,
    /// The attempt in flight, recorded before Jira is called, or the one whose outcome is unknown (its answer
    /// was lost, or the operator stopped during it). Cleared once the outcome is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<AttemptRecord>,
    /// True once an attempt may have changed Jira without the operator learning its outcome: a later "already
    /// gone" or "already a member" is then this action's own doing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub may_have_acted: bool,
}

/// An attempt recorded before Jira is called (the external-create-pending record of Crossplane's managed
/// resources).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    /// The operator instance running it (its leader-election identity).
    pub holder: String,
    /// The Lease term (`leaseTransitions`) under which it runs, with leader election.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_term: Option<i32>,
    /// When the attempt started.
    pub start_time: Time,
    /// When the attempt ended without a known outcome (timeout, lost answer, interrupted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_unknown_since: Option<Time>,
}

/// What an action produced.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    /// Key of the created or deleted issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_key: Option<String>,
    /// ID of the created issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<String>,
    /// Browse URL of the created issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The account ID the user reference resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// True when the goal already held and nothing was changed in Jira.
    #[serde(default)]
    pub already_done: bool,
}

/// The change an action makes, with its payload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operation<'a> {
    /// `createIssue`.
    CreateIssue(&'a CreateIssue),
    /// `deleteIssue`.
    DeleteIssue(&'a DeleteIssue),
    /// `addUserToGroup`.
    AddUserToGroup(&'a GroupMembership),
    /// `removeUserFromGroup`.
    RemoveUserFromGroup(&'a GroupMembership),
    /// `deleteUser`.
    DeleteUser(&'a UserReference),
}

impl Operation<'_> {
    /// The field name of the operation in the spec, also used as a metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CreateIssue(_) => "createIssue",
            Self::DeleteIssue(_) => "deleteIssue",
            Self::AddUserToGroup(_) => "addUserToGroup",
            Self::RemoveUserFromGroup(_) => "removeUserFromGroup",
            Self::DeleteUser(_) => "deleteUser",
        }
    }
}

impl JiraActionSpec {
    /// The operation of the action; `None` only for a spec the schema would have rejected (none, or several).
    pub fn operation(&self) -> Option<Operation<'_>> {
        let set = [
            self.create_issue.as_ref().map(Operation::CreateIssue),
            self.delete_issue.as_ref().map(Operation::DeleteIssue),
            self.add_user_to_group
                .as_ref()
                .map(Operation::AddUserToGroup),
            self.remove_user_from_group
                .as_ref()
                .map(Operation::RemoveUserFromGroup),
            self.delete_user
                .as_ref()
                .map(|d| Operation::DeleteUser(&d.user)),
        ];
        let mut set = set.into_iter().flatten();
        match (set.next(), set.next()) {
            (Some(operation), None) => Some(operation),
            _ => None,
        }
    }
}
