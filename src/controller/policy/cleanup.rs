//! Deleting a license policy: no new action starts, and no user is left half reclaimed.
//!
//! The policy's finalizer stays until its actions have ended. A user whose actions have not started at all
//! loses none of them: they are deleted (each with a precondition on its resourceVersion, so an action that
//! starts meanwhile is kept). A user with any action started keeps all of them, and they run to their end.

use super::execute::actions_of;
use crate::api::{JiraAction, JiraLicensePolicy};
use crate::controller::action::lifecycle::is_finished;
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, Preconditions},
};
use std::collections::BTreeMap;

/// True when the action has not started: no attempt recorded.
fn unstarted(a: &JiraAction) -> bool {
    a.status
        .as_ref()
        .is_none_or(|s| s.attempts == 0 && s.attempt.is_none())
}

/// Deletes what has not started and returns how many of the policy's actions are still running.
pub async fn wind_down(client: &Client, policy: &JiraLicensePolicy) -> Result<usize, kube::Error> {
    let actions = actions_of(client, policy).await?;
    let api: Api<JiraAction> =
        Api::namespaced(client.clone(), &policy.namespace().unwrap_or_default());
    // The actions of one user (the summary issue on its own).
    let mut by_user: BTreeMap<String, Vec<&JiraAction>> = BTreeMap::new();
    for a in &actions {
        let key = a
            .spec
            .remove_user_from_group
            .as_ref()
            .and_then(|m| m.user.account_id.clone())
            .unwrap_or_else(|| a.name_any());
        by_user.entry(key).or_default().push(a);
    }
    let mut running = 0;
    for group in by_user.values() {
        if group.iter().all(|a| unstarted(a)) {
            for a in group {
                let params = DeleteParams {
                    preconditions: Some(Preconditions {
                        resource_version: a.resource_version(),
                        uid: a.uid(),
                    }),
                    ..DeleteParams::default()
                };
                match api.delete(&a.name_any(), &params).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    // Changed meanwhile (it may have started): looked at again on the next pass.
                    Err(kube::Error::Api(s)) if s.code == 409 => running += 1,
                    Err(e) => return Err(e),
                }
            }
        } else {
            running += group
                .iter()
                .filter(|a| !is_finished(a.status.as_ref()))
                .count();
        }
    }
    Ok(running)
}
