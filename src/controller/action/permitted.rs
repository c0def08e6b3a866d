//! Before an action acts: is its capability available in its own context? Project permissions are read for the
//! action's project (`createIssue`, the answer shared for a few seconds by the creates in that project) or issue
//! (`deleteIssue`); group changes and user deletions rest on what the
//! connection's account was found to hold at the connection's last check. Only an unavailable capability stops the action
//! (`NotPermitted`, with the fix); an unknown one (Jira did not say, the project or issue is not found) tries.

use crate::{
    api::{CapabilityState, Operation},
    controller::capabilities,
    jira::{Grants, JiraClient, PermissionContext},
};

/// Why the action may not run, with what to grant; `None` when it may try.
pub async fn refusal(
    client: &JiraClient,
    grants: Option<Grants>,
    operation: &Operation<'_>,
) -> Option<String> {
    let mut grants = grants.unwrap_or_default();
    let place = match operation {
        Operation::CreateIssue(create) => {
            grants.permissions = client
                .recent_project_permissions(&create.project, &["BROWSE_PROJECTS", "CREATE_ISSUES"])
                .await
                .ok();
            format!(" in project {}", create.project)
        }
        Operation::DeleteIssue(delete) => {
            let context = PermissionContext::Issue(&delete.issue);
            grants.permissions = client
                .my_permissions(context, &["DELETE_ISSUES"])
                .await
                .ok();
            format!(" for issue {}", delete.issue)
        }
        Operation::AddUserToGroup(_)
        | Operation::RemoveUserFromGroup(_)
        | Operation::DeleteUser(_) => String::new(),
    };
    let capability =
        capabilities::evaluate(capabilities::for_operation(operation), &grants, &place);
    (capability.state == CapabilityState::Unavailable).then(|| {
        format!(
            "the connection's credentials do not allow {}: {}; to allow it, {}",
            capability.name,
            capability.reason,
            capability
                .fix
                .as_deref()
                .unwrap_or("grant the missing access")
        )
    })
}
