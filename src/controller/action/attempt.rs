//! One attempt of an action: its record, stored before Jira is called, the call to Jira, and the status of its
//! outcome (succeeded, failed, retrying, or unknown until Jira says whether it happened).

use super::reconcile::Reconcile;
use super::{BACKOFF, Error, FAULT_CRASH_AFTER_JIRA_CALL, create_outcome, exec, lifecycle};
use crate::api::{JiraActionStatus, Operation, find_condition};
use crate::error::Classify;
use crate::jira::{JiraClient, JiraError};
use exec::Done;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::{controller::Action, events::EventType};
use std::time::Duration;

impl Reconcile<'_> {
    /// Records a new attempt (before Jira is called), executes it and writes its outcome.
    pub(super) async fn attempt(
        &self,
        prev: &JiraActionStatus,
        operation: &Operation<'_>,
        client: &JiraClient,
        marker: &str,
        cloud_id: String,
    ) -> Result<Action, Error> {
        let ctx = self.ctx();
        let mut started = lifecycle::attempt_started(prev, self.generation(), self.now);
        started.site_cloud_id = Some(cloud_id);
        started.attempt = Some(crate::api::AttemptRecord {
            holder: ctx.settings.identity.clone(),
            lease_term: self.shared.lease_term().await,
            start_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(self.now),
            outcome_unknown_since: None,
        });
        let recorded = self.write_status(&started, true).await?;
        tracing::info!(
            kind = operation.as_str(),
            attempt = started.attempts,
            "executing"
        );
        // From here on, the action is the one the record was written to.
        let this = Reconcile {
            action: &recorded,
            ..*self
        };
        let outcome = this
            .execute(prev, &mut started, operation, client, marker)
            .await?;
        if self.shared.crash_after_jira_call && outcome.is_ok() {
            eprintln!(
                "{FAULT_CRASH_AFTER_JIRA_CALL}=1: aborting after the Jira call, before the status write"
            );
            std::process::abort();
        }
        this.finish(operation, &started, outcome).await
    }

    /// The call to Jira. A user given by email to be deleted is resolved first and its accountId recorded
    /// before the delete: after it, the email no longer resolves.
    async fn execute(
        &self,
        prev: &JiraActionStatus,
        started: &mut JiraActionStatus,
        operation: &Operation<'_>,
        client: &JiraClient,
        marker: &str,
    ) -> Result<Result<Done, JiraError>, Error> {
        let executor = exec::Executor {
            client,
            marker,
            earlier_attempts: started.attempts > 1,
            may_have_acted: started.may_have_acted,
        };
        let known = prev.result.as_ref().and_then(|r| r.account_id.clone());
        let target = match executor.target(operation, known).await {
            Err(e) => return Ok(Err(e)),
            Ok(target) => target,
        };
        if target.resolved_now && matches!(operation, Operation::DeleteUser(_)) {
            started.result = Some(crate::api::ActionResult {
                account_id: target.account_id.clone(),
                ..Default::default()
            });
            self.write_status(started, false).await?;
        }
        Ok(executor.run(operation, &target).await)
    }

    /// Records that the outcome of the attempt is unknown (`Running`, reason `OutcomeUnknown`, with what the
    /// action waits for) and checks again after `retry_in`.
    pub(super) async fn outcome_unknown(
        &self,
        prev: &JiraActionStatus,
        (since, retry_in): (Timestamp, Duration),
        waiting: &str,
    ) -> Result<Action, Error> {
        let now = Timestamp::now();
        let new = lifecycle::outcome_unknown(prev, since, waiting, self.generation(), now);
        if lifecycle::differs(prev, &new) {
            self.write_result(&new).await?;
            let was_unknown = find_condition(&prev.conditions, lifecycle::SUCCEEDED)
                .is_some_and(|c| c.reason == lifecycle::OUTCOME_UNKNOWN);
            if !was_unknown {
                self.shared
                    .publish(
                        self.action,
                        EventType::Warning,
                        lifecycle::OUTCOME_UNKNOWN,
                        waiting,
                    )
                    .await;
            }
        }
        Ok(Action::requeue(retry_in))
    }

    /// Writes the outcome of an attempt, at the time it ended.
    pub(super) async fn finish(
        &self,
        operation: &Operation<'_>,
        started: &JiraActionStatus,
        outcome: Result<Done, JiraError>,
    ) -> Result<Action, Error> {
        let now = Timestamp::now();
        let kind = operation.as_str();
        match outcome {
            Ok(done) => {
                let mut result = done.result;
                if result.account_id.is_none() {
                    result.account_id = started.result.as_ref().and_then(|r| r.account_id.clone());
                }
                let already_done = result.already_done;
                let mut message = done.message;
                if already_done && started.may_have_acted && !message.contains("earlier") {
                    message.push_str(" (an earlier attempt of this action, whose outcome was not recorded, may have done it)");
                }
                let new = lifecycle::succeeded(started, result, &message, self.generation(), now);
                self.write_outcome(&new).await?;
                self.count(
                    operation,
                    if already_done {
                        "already_done"
                    } else {
                        "succeeded"
                    },
                );
                let reason = if already_done {
                    lifecycle::ALREADY_DONE
                } else {
                    lifecycle::EXECUTED
                };
                tracing::info!(kind, reason, message = %message, "action succeeded");
                self.shared
                    .publish(self.action, EventType::Normal, reason, &message)
                    .await;
                self.expire(&new, now).await
            }
            Err(e @ JiraError::OutcomeUnknown { .. }) => {
                self.count(operation, "outcome_unknown");
                tracing::warn!(kind, error = %e, "the outcome of the attempt is unknown");
                let waiting =
                    format!("{e}; finding out whether it happened before anything is sent again");
                let retry_in = match operation {
                    Operation::CreateIssue(_) => {
                        create_outcome::recheck(self.ctx().settings.create_outcome_window, now, now)
                            .min(Duration::from_secs(5))
                    }
                    _ => BACKOFF.after(started.attempts),
                };
                self.outcome_unknown(started, (now, retry_in), &waiting)
                    .await
            }
            Err(e) if e.is_transient() => {
                let delay = BACKOFF.after(started.attempts);
                let new = lifecycle::retrying(
                    started,
                    e.reason(),
                    &e.to_string(),
                    delay,
                    self.generation(),
                    now,
                );
                self.write_result(&new).await?;
                self.count(operation, "retried");
                tracing::info!(kind, error = %e, retry_in = ?delay, "attempt failed, retrying");
                let message = new.message.clone().unwrap_or_default();
                self.shared
                    .publish(self.action, EventType::Warning, e.reason(), &message)
                    .await;
                Ok(Action::requeue(delay))
            }
            Err(e) => {
                let message = e.to_string();
                let reason = e.reason();
                let new = lifecycle::failed(started, reason, &message, self.generation(), now);
                self.write_outcome(&new).await?;
                self.count(operation, "failed");
                tracing::info!(kind, reason, error = %e, "action failed");
                self.shared
                    .publish(self.action, EventType::Warning, reason, &message)
                    .await;
                self.expire(&new, now).await
            }
        }
    }

    /// Writes the final outcome, kept in memory until written so that a failed write never redoes the attempt.
    async fn write_outcome(&self, new: &JiraActionStatus) -> Result<(), Error> {
        self.shared.keep_outcome(self.action, new);
        self.write_result(new).await?;
        self.shared.forget_outcome(self.action);
        Ok(())
    }

    fn count(&self, operation: &Operation<'_>, outcome: &str) {
        self.ctx()
            .metrics
            .actions
            .get_or_create(&crate::metrics::ActionLabels {
                kind: operation.as_str().into(),
                outcome: outcome.into(),
            })
            .inc();
    }
}
