//! One reconcile of one action as last seen, in the order of the contract's lifecycle: a finished action only
//! expires; an outcome known but not written is written; otherwise the action needs a valid spec and a usable
//! connection on the site of its first attempt, resolves an attempt whose outcome is unknown, and then records
//! and executes a new attempt ([`super::attempt`]).

use super::shared::Shared;
use super::writes::connection_problem;
use super::{Error, create_outcome, exec, lifecycle, permitted, until};
use crate::api::{ActionPhase, JiraAction, JiraActionStatus, JiraConnection, Operation};
use crate::controller::Context;
use crate::error::Classify;
use crate::jira::JiraClient;
use k8s_openapi::jiff::Timestamp;
use kube::{
    Api, Resource, ResourceExt,
    runtime::{controller::Action, events::EventType, reflector::ObjectRef},
};
use std::{ops::ControlFlow, sync::Arc, time::Duration};

/// One reconcile of one action: the action as last seen, the controller's shared state and the time the
/// reconcile's decisions rest on.
#[derive(Clone, Copy)]
pub(super) struct Reconcile<'a> {
    pub(super) shared: &'a Shared,
    pub(super) api: &'a Api<JiraAction>,
    pub(super) action: &'a JiraAction,
    pub(super) now: Timestamp,
}

/// What a step leaves to the next one, or how the reconcile ends there.
type Step<T> = Result<ControlFlow<Action, T>, Error>;

impl<'a> Reconcile<'a> {
    pub(super) fn new(
        shared: &'a Shared,
        api: &'a Api<JiraAction>,
        action: &'a JiraAction,
    ) -> Self {
        Self {
            shared,
            api,
            action,
            now: Timestamp::now(),
        }
    }

    pub(super) fn ctx(&self) -> &Context {
        &self.shared.ctx
    }

    pub(super) fn generation(&self) -> Option<i64> {
        self.action.meta().generation
    }

    /// The reconcile, in the order of the lifecycle.
    pub(super) async fn run(&self) -> Result<Action, Error> {
        let prev = self.action.status.clone().unwrap_or_default();
        if lifecycle::is_finished(Some(&prev)) {
            return self.expire(&prev, self.now).await;
        }
        if let Some(known) = self.shared.kept_outcome(self.action) {
            return self.write_kept_outcome(&known).await;
        }
        if prev.attempt.is_some()
            && let ControlFlow::Break(next) = self.confirm_fresh().await?
        {
            return Ok(next);
        }
        let Some(operation) = self.action.spec.operation() else {
            return self.invalid_spec(&prev).await;
        };
        if prev.phase == Some(ActionPhase::Pending)
            && let Some(next) = &prev.next_attempt_time
            && next.0 > self.now
        {
            return Ok(Action::requeue(until(self.now, next.0)));
        }
        let (connection, client) = match self.connect(&prev).await? {
            ControlFlow::Continue(usable) => usable,
            ControlFlow::Break(next) => return Ok(next),
        };
        let cloud_id = client.site_info().cloud_id.clone();
        if let Some(pinned) = &prev.site_cloud_id
            && *pinned != cloud_id
        {
            return self.site_changed(&prev, pinned, &cloud_id).await;
        }
        if let Some(record) = &prev.attempt
            && record.outcome_unknown_since.is_none()
            && record.holder != self.ctx().settings.identity
            && self.shared.recorder_leads(record).await
        {
            // Another instance recorded this attempt and still holds the Lease: it may be executing it.
            return Ok(Action::requeue(Duration::from_secs(5)));
        }
        let marker = lifecycle::marker_of(self.action);
        let prev = match self
            .resolve_unknown_outcome(prev, &operation, &client, &marker)
            .await?
        {
            ControlFlow::Continue(prev) => prev,
            ControlFlow::Break(next) => return Ok(next),
        };
        let grants = self.ctx().clients.grants(
            &connection.namespace().unwrap_or_default(),
            &self.action.spec.connection_ref.name,
        );
        if let Some(message) = permitted::refusal(&client, grants, &operation).await {
            return self.not_permitted(&prev, &operation, &message).await;
        }
        self.attempt(&prev, &operation, &client, &marker, cloud_id)
            .await
    }

    /// An outcome that is known but whose status write failed: written, never redone.
    async fn write_kept_outcome(&self, known: &JiraActionStatus) -> Result<Action, Error> {
        self.write_result(known).await?;
        self.shared.forget_outcome(self.action);
        self.expire(known, self.now).await
    }

    /// Decisions about an unresolved attempt rest on the apiserver's copy: a watch cache that lags a write must
    /// never reopen an action that already finished.
    async fn confirm_fresh(&self) -> Step<()> {
        match self.api.get_opt(&self.action.name_any()).await? {
            None => Ok(ControlFlow::Break(Action::await_change())),
            Some(fresh) if fresh.resource_version() != self.action.resource_version() => {
                Err(Error::Stale)
            }
            Some(_) => Ok(ControlFlow::Continue(())),
        }
    }

    /// A spec that sets no operation, or more than one, fails the action.
    async fn invalid_spec(&self, prev: &JiraActionStatus) -> Result<Action, Error> {
        let message = "the spec sets no action kind, or more than one";
        self.fail_unattempted(prev, lifecycle::INVALID_SPEC, message)
            .await?;
        Ok(Action::await_change())
    }

    /// Fails the action for `reason` before it acts: the status (a conditional write: the decision rests on the
    /// cached status, which may lag a write that finished the action) and a Warning Event.
    async fn fail_unattempted(
        &self,
        prev: &JiraActionStatus,
        reason: &str,
        message: &str,
    ) -> Result<JiraActionStatus, Error> {
        let failed = lifecycle::failed(prev, reason, message, self.generation(), self.now);
        self.write_status(&failed, true).await?;
        self.shared
            .publish(self.action, EventType::Warning, reason, message)
            .await;
        Ok(failed)
    }

    /// The action's connection and a client of its site, once the connection exists and its credentials are
    /// valid; until then the action waits (`ConnectionNotReady`).
    async fn connect(&self, prev: &JiraActionStatus) -> Step<(Arc<JiraConnection>, JiraClient)> {
        let connection_name = &self.action.spec.connection_ref.name;
        let key =
            ObjectRef::new(connection_name).within(&self.action.namespace().unwrap_or_default());
        let connection = self.shared.connections.get(&key);
        if let Some(problem) = connection_problem(connection.as_deref(), connection_name) {
            return self
                .wait_for_connection(prev, &problem)
                .await
                .map(ControlFlow::Break);
        }
        let connection = connection.expect("checked above");
        tracing::debug!(connection = %connection_name, "connecting");
        let ctx = self.ctx();
        match ctx.clients.connect(ctx, &connection).await {
            Ok(client) => Ok(ControlFlow::Continue((connection, client))),
            Err(e) => {
                let problem = format!(
                    "JiraConnection {connection_name} cannot be used ({}): {e}",
                    e.reason()
                );
                self.wait_for_connection(prev, &problem)
                    .await
                    .map(ControlFlow::Break)
            }
        }
    }

    /// The connection now points at another site than the first attempt acted on: the action fails.
    async fn site_changed(
        &self,
        prev: &JiraActionStatus,
        pinned: &str,
        cloud_id: &str,
    ) -> Result<Action, Error> {
        let connection_name = &self.action.spec.connection_ref.name;
        let message = format!(
            "JiraConnection {connection_name} now points at the site with cloudId {cloud_id}, but this action's first \
             attempt acted on {pinned}; create a new JiraAction to act on the new site"
        );
        let failed = self
            .fail_unattempted(prev, lifecycle::SITE_CHANGED, &message)
            .await?;
        self.expire(&failed, self.now).await
    }

    /// An attempt that was recorded and never resolved: its answer was lost, or the operator stopped during it.
    /// A createIssue finds its issue (the action succeeds), proves it absent, or waits; the other operations
    /// check Jira before they change it, so the next attempt finds what this one did. Continues with the status
    /// the next attempt starts from.
    async fn resolve_unknown_outcome(
        &self,
        mut prev: JiraActionStatus,
        operation: &Operation<'_>,
        client: &JiraClient,
        marker: &str,
    ) -> Step<JiraActionStatus> {
        let Some(record) = prev.attempt.clone() else {
            return Ok(ControlFlow::Continue(prev));
        };
        let since = record
            .outcome_unknown_since
            .as_ref()
            .map_or(self.now, |t| t.0);
        if let Operation::CreateIssue(create) = operation {
            let attempt = create_outcome::Attempt {
                marker,
                project: &create.project,
                started: record.start_time.0,
                ended: since,
            };
            let window = self.ctx().settings.create_outcome_window;
            let verdict = create_outcome::locate(client, &attempt, window, self.now)
                .await
                .unwrap_or_else(|e| {
                    create_outcome::Verdict::Unknown(format!(
                        "Jira may have created the issue (the answer to the create was lost); checking failed \
                         ({e}), retrying"
                    ))
                });
            match verdict {
                create_outcome::Verdict::Found(issue) => {
                    let done = exec::found_issue(issue, marker, true);
                    let next = self.finish(operation, &prev, Ok(done)).await?;
                    return Ok(ControlFlow::Break(next));
                }
                create_outcome::Verdict::Absent(how) => {
                    tracing::info!(%how, "the create whose answer was lost did not happen: creating");
                }
                create_outcome::Verdict::Unknown(waiting) => {
                    let retry_in = create_outcome::recheck(window, since, self.now);
                    let next = self
                        .outcome_unknown(&prev, (since, retry_in), &waiting)
                        .await?;
                    return Ok(ControlFlow::Break(next));
                }
            }
        }
        prev.attempt = None;
        prev.may_have_acted = true;
        Ok(ControlFlow::Continue(prev))
    }

    /// The connection's account may not do what the action asks: the action fails.
    async fn not_permitted(
        &self,
        prev: &JiraActionStatus,
        operation: &Operation<'_>,
        message: &str,
    ) -> Result<Action, Error> {
        let failed = self
            .fail_unattempted(prev, lifecycle::NOT_PERMITTED, message)
            .await?;
        let labels = crate::metrics::ActionLabels {
            kind: operation.as_str().into(),
            outcome: "failed".into(),
        };
        self.ctx().metrics.actions.get_or_create(&labels).inc();
        self.expire(&failed, self.now).await
    }
}
