//! An action's status writes (conditional on the resourceVersion a decision was based on, or retried when they
//! record an outcome), its wait for a usable connection, and its deletion after `ttlSecondsAfterFinished`.

use super::reconcile::Reconcile;
use super::{CONNECTION_RECHECK, Error, lifecycle, until};
use crate::api::{JiraAction, JiraActionStatus, JiraConnection, find_condition};
use crate::controller::wiring;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::{
    Resource, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, Preconditions},
    runtime::{controller::Action, events::EventType},
};
use serde_json::json;
use std::time::Duration;

/// Why the connection cannot be used now, or `None` when it exists and Jira accepted its credentials
/// (`CredentialsValid=True`). A failed inventory sync does not block actions.
pub(super) fn connection_problem(
    connection: Option<&JiraConnection>,
    name: &str,
) -> Option<String> {
    let Some(connection) = connection else {
        return Some(format!(
            "JiraConnection {name} not found in the action's namespace"
        ));
    };
    let credentials = connection
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, "CredentialsValid"));
    match credentials {
        Some(c) if c.status == crate::api::condition_status::TRUE => None,
        Some(c) => Some(format!(
            "the credentials of JiraConnection {name} are not valid ({}): {}",
            c.reason, c.message
        )),
        None => Some(format!(
            "the credentials of JiraConnection {name} are not checked yet"
        )),
    }
}

impl Reconcile<'_> {
    /// Records that the action waits for its connection (`Pending`, reason `ConnectionNotReady`, with `problem`)
    /// and looks again after [`CONNECTION_RECHECK`].
    pub(super) async fn wait_for_connection(
        &self,
        prev: &JiraActionStatus,
        problem: &str,
    ) -> Result<Action, Error> {
        let new = lifecycle::waiting_for_connection(prev, problem, self.generation(), self.now);
        if lifecycle::differs(prev, &new) {
            self.write_status(&new, true).await?;
            let was_waiting = find_condition(&prev.conditions, lifecycle::SUCCEEDED)
                .is_some_and(|c| c.reason == lifecycle::CONNECTION_NOT_READY);
            if !was_waiting {
                self.shared
                    .publish(
                        self.action,
                        EventType::Normal,
                        lifecycle::CONNECTION_NOT_READY,
                        problem,
                    )
                    .await;
            }
        }
        Ok(Action::requeue(wiring::jitter(CONNECTION_RECHECK)))
    }

    /// Deletes a finished action once its `ttlSecondsAfterFinished` passed; otherwise waits for that moment.
    pub(super) async fn expire(
        &self,
        status: &JiraActionStatus,
        now: Timestamp,
    ) -> Result<Action, Error> {
        let action = self.action;
        let Some(ttl) = action.spec.ttl_seconds_after_finished else {
            return Ok(Action::await_change());
        };
        let finished = status.completion_time.as_ref().map_or(now, |t| t.0);
        // Overflow-safe: a TTL that reaches past the last representable time means "keep it".
        let Ok(due) = finished.checked_add(SignedDuration::from_secs(ttl.max(0))) else {
            return Ok(Action::await_change());
        };
        if due > now {
            return Ok(Action::requeue(until(now, due)));
        }
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: action.uid(),
                resource_version: None,
            }),
            ..Default::default()
        };
        match self.api.delete(&action.name_any(), &params).await {
            Ok(_) => {
                tracing::info!(ttl, "deleted the finished action (ttlSecondsAfterFinished)");
                Ok(Action::await_change())
            }
            Err(kube::Error::Api(s)) if s.is_not_found() || s.is_conflict() => {
                Ok(Action::await_change())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the outcome of an attempt, retrying a failing apiserver a few times: the outcome is lost otherwise,
    /// and although the next attempt is idempotent, it costs Jira calls (and, for a create, the search wait).
    pub(super) async fn write_result(
        &self,
        status: &JiraActionStatus,
    ) -> Result<JiraAction, Error> {
        let mut delay = Duration::from_millis(200);
        for _ in 0..4 {
            match self.write_status(status, false).await {
                Err(Error::Kubernetes(e)) => {
                    tracing::warn!(error = %e, retry_in = ?delay, "writing the outcome failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                other => return other,
            }
        }
        self.write_status(status, false).await
    }

    /// Server-side apply of the status. With `conditional`, the write carries the resourceVersion of the action and
    /// fails with [`Error::Stale`] when the object changed since.
    pub(super) async fn write_status(
        &self,
        status: &JiraActionStatus,
        conditional: bool,
    ) -> Result<JiraAction, Error> {
        let name = self.action.name_any();
        let mut metadata = json!({ "name": name });
        if conditional && let Some(rv) = self.action.resource_version() {
            metadata["resourceVersion"] = json!(rv);
        }
        let patch = json!({
            "apiVersion": JiraAction::api_version(&()),
            "kind": JiraAction::kind(&()),
            "metadata": metadata,
            "status": status,
        });
        let params = PatchParams::apply(&self.ctx().settings.field_manager).force();
        match self
            .api
            .patch_status(&name, &params, &Patch::Apply(&patch))
            .await
        {
            Ok(updated) => Ok(updated),
            Err(kube::Error::Api(s)) if s.is_conflict() || s.is_not_found() => Err(Error::Stale),
            Err(e) => Err(e.into()),
        }
    }
}
