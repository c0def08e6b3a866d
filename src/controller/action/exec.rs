//! One attempt of an action against Jira, run by the [`Executor`]: it resolves the user an operation names and
//! dispatches the operation to its call. Every call is idempotent against Jira itself: a created issue carries the
//! action's marker label and every attempt first looks for it; an add of a member already in the group and a
//! removal of a non-member succeed as `AlreadyDone`; a delete of something that does not exist is `NotFound`,
//! unless an earlier attempt of this action may have deleted it (then `AlreadyDone`, saying so).

use crate::{
    api::{ActionResult, Operation, UserReference},
    jira::{CreateIssue, IssueRef, JiraClient, JiraError, Outcome, UserRef},
};

/// Runs one attempt of an operation: resolves the user it names, then dispatches it to its call.
pub struct Executor<'a> {
    /// The connection's Jira client.
    pub client: &'a JiraClient,
    /// The action's idempotency marker label (createIssue).
    pub marker: &'a str,
    /// Whether this is not the first attempt (an issue found by its marker was created by an earlier one).
    pub earlier_attempts: bool,
    /// Whether an earlier attempt of this action may have changed Jira (a delete that finds nothing is done).
    pub may_have_acted: bool,
}

/// The user an operation acts on, as an accountId; `None` for the issue operations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    /// The resolved accountId.
    pub account_id: Option<String>,
    /// True when an email was resolved by this attempt (the accountId is not recorded yet).
    pub resolved_now: bool,
}

impl Executor<'_> {
    /// The accountId of the user the operation names: the one an earlier attempt recorded (`known`), the given
    /// accountId, or the account the email belongs to.
    pub async fn target(
        &self,
        operation: &Operation<'_>,
        known: Option<String>,
    ) -> Result<Target, JiraError> {
        let user = match operation {
            Operation::CreateIssue(_) | Operation::DeleteIssue(_) => return Ok(Target::default()),
            Operation::AddUserToGroup(m) | Operation::RemoveUserFromGroup(m) => &m.user,
            Operation::DeleteUser(user) => *user,
        };
        if let Some(id) = known {
            return Ok(Target {
                account_id: Some(id),
                resolved_now: false,
            });
        }
        Ok(match user_ref(user)? {
            UserRef::AccountId(id) => Target {
                account_id: Some(id),
                resolved_now: false,
            },
            email => Target {
                account_id: Some(self.client.resolve_user(&email).await?),
                resolved_now: true,
            },
        })
    }

    /// Runs the operation on its target (from [`Executor::target`]).
    pub async fn run(&self, operation: &Operation<'_>, target: &Target) -> Result<Done, JiraError> {
        let account_id = target.account_id.as_deref().unwrap_or_default();
        match operation {
            Operation::CreateIssue(create) => {
                create_issue(self.client, create, self.marker, self.earlier_attempts).await
            }
            Operation::DeleteIssue(delete) => {
                delete_issue(self.client, delete, self.may_have_acted).await
            }
            Operation::AddUserToGroup(m) => {
                membership(self.client, true, &m.user, account_id, &m.group).await
            }
            Operation::RemoveUserFromGroup(m) => {
                membership(self.client, false, &m.user, account_id, &m.group).await
            }
            Operation::DeleteUser(user) => {
                delete_user(self.client, user, account_id, self.may_have_acted).await
            }
        }
    }
}

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
fn user_ref(user: &UserReference) -> Result<UserRef, JiraError> {
    match (&user.account_id, &user.email) {
        (Some(id), None) => Ok(UserRef::AccountId(id.clone())),
        (None, Some(email)) => Ok(UserRef::Email(email.clone())),
        _ => Err(JiraError::Config(
            "a user reference needs exactly one of accountId or email".into(),
        )),
    }
}

/// What an issue found by its marker label means for the action.
pub fn found_issue(issue: IssueRef, marker: &str, earlier_attempts: bool) -> Done {
    let (message, already_done) = if earlier_attempts {
        (
            format!(
                "Created {} (found by its marker label {marker} after an attempt whose answer was lost)",
                issue.key
            ),
            false,
        )
    } else {
        (
            format!(
                "{} already exists: an identical JiraAction of the same name created it earlier (marker label \
                 {marker}); to create another issue, give the action a new name",
                issue.key
            ),
            true,
        )
    };
    Done {
        message,
        result: ActionResult {
            issue_key: Some(issue.key),
            issue_id: Some(issue.id),
            url: Some(issue.url),
            already_done,
            ..Default::default()
        },
    }
}

/// Creates the issue, or adopts the one found by the marker label (searched first: an earlier attempt, or an
/// identical action re-created under the same name, may have created it).
async fn create_issue(
    client: &JiraClient,
    spec: &crate::api::CreateIssue,
    marker: &str,
    earlier_attempts: bool,
) -> Result<Done, JiraError> {
    let mut found = client.find_issues_by_label(marker).await?;
    found.sort_by_key(|i| (i.id.len(), i.id.clone()));
    if let Some(issue) = found.into_iter().next() {
        return Ok(found_issue(issue, marker, earlier_attempts));
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

/// Deletes the issue. One that does not exist is `NotFound`, or `AlreadyDone` when an earlier attempt of this
/// action may have deleted it (`may_have_acted`).
async fn delete_issue(
    client: &JiraClient,
    spec: &crate::api::DeleteIssue,
    may_have_acted: bool,
) -> Result<Done, JiraError> {
    let outcome = client
        .delete_issue(&spec.issue, spec.delete_subtasks)
        .await?;
    if outcome == Outcome::NotFound && !may_have_acted {
        return Err(JiraError::NotFound(format!("issue {}", spec.issue)));
    }
    let already_done = outcome == Outcome::NotFound;
    Ok(Done {
        message: if already_done {
            format!(
                "{} is gone: an earlier attempt of this action, whose outcome was not recorded, deleted it",
                spec.issue
            )
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
async fn membership(
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

/// Deletes the user, given by its resolved account ID, from Jira. One that does not exist is `NotFound`, or
/// `AlreadyDone` when an earlier attempt of this action may have deleted it (`may_have_acted`).
async fn delete_user(
    client: &JiraClient,
    user: &UserReference,
    account_id: &str,
    may_have_acted: bool,
) -> Result<Done, JiraError> {
    let who = describe_user(user);
    let outcome = client.delete_user(account_id).await?;
    if outcome == Outcome::NotFound && !may_have_acted {
        return Err(JiraError::NotFound(format!("user {who}")));
    }
    let already_done = outcome == Outcome::NotFound;
    Ok(Done {
        message: if already_done {
            format!(
                "User {who} is gone from Jira: an earlier attempt of this action, whose outcome was not recorded, deleted it"
            )
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
