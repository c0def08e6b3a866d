//! One attempt of an action against Jira. Every call is idempotent against Jira itself: a created issue carries
//! the action's marker label and a retry first looks for it; a delete of something already gone, an add of a
//! member already in the group and a removal of a non-member all succeed as `AlreadyDone`.

use crate::{
    api::{ActionResult, JiraActionSpec, UserReference},
    jira::{CreateIssue, JiraClient, JiraError, Outcome, UserRef},
};

/// What an attempt achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// What the action produced; `already_done` when Jira was not changed.
    pub result: ActionResult,
    /// A human summary ("Created OPS-124").
    pub message: String,
}

/// The user reference as given, for messages.
pub fn describe_user(user: &UserReference) -> String {
    user.email
        .clone()
        .or_else(|| user.account_id.clone())
        .unwrap_or_default()
}

/// The reference in the client's terms.
pub fn user_ref(user: &UserReference) -> Result<UserRef, JiraError> {
    match (&user.account_id, &user.email) {
        (Some(id), None) => Ok(UserRef::AccountId(id.clone())),
        (None, Some(email)) => Ok(UserRef::Email(email.clone())),
        _ => Err(JiraError::Config(
            "a user reference needs exactly one of accountId or email".into(),
        )),
    }
}

/// Creates the issue, or adopts the one an earlier attempt created. `may_exist` is true when an earlier attempt
/// of this action may have reached Jira: then the marker label is searched first.
pub async fn create_issue(
    client: &JiraClient,
    spec: &crate::api::CreateIssue,
    marker: &str,
    may_exist: bool,
) -> Result<Done, JiraError> {
    if may_exist {
        let mut found = client.find_issues_by_label(marker).await?;
        found.sort_by_key(|i| (i.id.len(), i.id.clone()));
        if let Some(issue) = found.into_iter().next() {
            return Ok(Done {
                message: format!(
                    "Created {} (found by its marker label {marker} after an interrupted attempt)",
                    issue.key
                ),
                result: ActionResult {
                    issue_key: Some(issue.key),
                    issue_id: Some(issue.id),
                    url: Some(issue.url),
                    ..Default::default()
                },
            });
        }
    }
    let mut labels = spec.labels.clone();
    if !labels.iter().any(|l| l == marker) {
        labels.push(marker.to_string());
    }
    let issue = client
        .create_issue(&CreateIssue {
            project: spec.project.clone(),
            issue_type: spec.issue_type.clone(),
            summary: spec.summary.clone(),
            description: spec.description.clone(),
            labels,
        })
        .await?;
    Ok(Done {
        message: format!("Created {}", issue.key),
        result: ActionResult {
            issue_key: Some(issue.key),
            issue_id: Some(issue.id),
            url: Some(issue.url),
            ..Default::default()
        },
    })
}

/// Deletes the issue; an issue already gone succeeds as `AlreadyDone`.
pub async fn delete_issue(
    client: &JiraClient,
    spec: &crate::api::DeleteIssue,
) -> Result<Done, JiraError> {
    let outcome = client
        .delete_issue(&spec.issue, spec.delete_subtasks)
        .await?;
    let already_done = outcome == Outcome::AlreadyDone;
    Ok(Done {
        message: if already_done {
            format!("{} was already gone", spec.issue)
        } else {
            format!("Deleted {}", spec.issue)
        },
        result: ActionResult {
            issue_key: Some(spec.issue.clone()),
            already_done,
            ..Default::default()
        },
    })
}

/// Adds (`add`) or removes the user, given by its resolved account ID, to or from the group.
pub async fn membership(
    client: &JiraClient,
    add: bool,
    user: &UserReference,
    account_id: &str,
    group: &str,
) -> Result<Done, JiraError> {
    let who = describe_user(user);
    let outcome = if add {
        client.add_user_to_group(account_id, group).await?
    } else {
        client.remove_user_from_group(account_id, group).await?
    };
    let already_done = outcome == Outcome::AlreadyDone;
    let message = match (add, already_done) {
        (true, false) => format!("Added {who} to {group}"),
        (true, true) => format!("{who} was already a member of {group}"),
        (false, false) => format!("Removed {who} from {group}"),
        (false, true) => format!("{who} was not a member of {group}"),
    };
    Ok(Done {
        message,
        result: ActionResult {
            account_id: Some(account_id.to_string()),
            already_done,
            ..Default::default()
        },
    })
}

/// Deletes the user, given by its resolved account ID, from Jira; a user already gone succeeds as `AlreadyDone`.
pub async fn delete_user(
    client: &JiraClient,
    user: &UserReference,
    account_id: &str,
) -> Result<Done, JiraError> {
    let who = describe_user(user);
    let outcome = client.delete_user(account_id).await?;
    let already_done = outcome == Outcome::AlreadyDone;
    Ok(Done {
        message: if already_done {
            format!("User {who} was already gone from Jira")
        } else {
            format!("Deleted user {who} from Jira")
        },
        result: ActionResult {
            account_id: Some(account_id.to_string()),
            already_done,
            ..Default::default()
        },
    })
}

/// The user an action refers to, if it refers to one: (reference, group for membership kinds).
pub fn referenced_user(spec: &JiraActionSpec) -> Option<&UserReference> {
    spec.add_user_to_group
        .as_ref()
        .map(|m| &m.user)
        .or(spec.remove_user_from_group.as_ref().map(|m| &m.user))
        .or(spec.delete_user.as_ref().map(|d| &d.user))
}
