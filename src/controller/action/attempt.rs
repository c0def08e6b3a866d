//! One step of the exactly-once protocol for an action as last seen: connection and site checks, the
//! resolution of an attempt whose outcome is unknown, the record of a new attempt, the call to Jira, and the
//! status of its outcome.

use super::shared::Shared;
use super::writes::{connection_problem, expire, wait_for_connection, write_result, write_status};
use super::{
    BACKOFF, Error, FAULT_CRASH_AFTER_JIRA_CALL, create_outcome, exec, lifecycle, permitted, until,
};
use crate::api::{ActionPhase, JiraAction, JiraActionStatus, Operation, find_condition};
use crate::error::Classify;
use exec::Done;
use k8s_openapi::jiff::Timestamp;
use kube::{
    Api, Resource, ResourceExt,
    runtime::{controller::Action, events::EventType, reflector::ObjectRef},
};
use std::time::Duration;

/// One step of the protocol for the action as last seen.
pub(super) async fn advance(
    shared: &Shared,
    api: &Api<JiraAction>,
    action: &JiraAction,
) -> Result<Action, Error> {
    let ctx = &shared.ctx;
    let prev = action.status.clone().unwrap_or_default();
    let generation = action.meta().generation;
    let now = Timestamp::now();

    if lifecycle::is_finished(Some(&prev)) {
        return expire(api, action, &prev, now).await;
    }
    if let Some(known) = shared.kept_outcome(action) {
        // The outcome is known but its status write failed: write it, never redo the attempt.
        write_result(ctx, api, action, &known).await?;
        shared.forget_outcome(action);
        return expire(api, action, &known, now).await;
    }
    if prev.attempt.is_some() {
        // Decisions about an unresolved attempt rest on the apiserver's copy: a watch cache that lags a write
        // must never reopen an action that already finished.
        match api.get_opt(&action.name_any()).await? {
            None => return Ok(Action::await_change()),
            Some(fresh) if fresh.resource_version() != action.resource_version() => {
                return Err(Error::Stale);
            }
            Some(_) => {}
        }
    }
    let Some(kind) = action.spec.operation() else {
        let message = "the spec sets no action kind, or more than one";
        let failed = lifecycle::failed(&prev, lifecycle::INVALID_SPEC, message, generation, now);
        write_status(ctx, api, action, &failed, true).await?;
        shared
            .publish(action, EventType::Warning, lifecycle::INVALID_SPEC, message)
            .await;
        return Ok(Action::await_change());
    };
    if prev.phase == Some(ActionPhase::Pending)
        && let Some(next) = &prev.next_attempt_time
        && next.0 > now
    {
        return Ok(Action::requeue(until(now, next.0)));
    }

    let connection_name = &action.spec.connection_ref.name;
    let key = ObjectRef::new(connection_name).within(&action.namespace().unwrap_or_default());
    let connection = shared.connections.get(&key);
    if let Some(problem) = connection_problem(connection.as_deref(), connection_name) {
        return wait_for_connection(shared, api, action, &prev, &problem, now).await;
    }
    let connection = connection.expect("checked above");
    tracing::debug!(connection = %connection_name, "connecting");
    let client = match ctx.clients.connect(ctx, &connection).await {
        Ok(client) => client,
        Err(e) => {
            let problem = format!(
                "JiraConnection {connection_name} cannot be used ({}): {e}",
                e.reason()
            );
            return wait_for_connection(shared, api, action, &prev, &problem, now).await;
        }
    };

    let cloud_id = client.site_info().cloud_id.clone();
    if let Some(pinned) = &prev.site_cloud_id
        && *pinned != cloud_id
    {
        let message = format!(
            "JiraConnection {connection_name} now points at the site with cloudId {cloud_id}, but this action's first \
             attempt acted on {pinned}; create a new JiraAction to act on the new site"
        );
        let failed = lifecycle::failed(&prev, lifecycle::SITE_CHANGED, &message, generation, now);
        // Conditional: the decision rests on the cached status, which may lag a write that finished the action.
        write_status(ctx, api, action, &failed, true).await?;
        shared
            .publish(
                action,
                EventType::Warning,
                lifecycle::SITE_CHANGED,
                &message,
            )
            .await;
        return expire(api, action, &failed, now).await;
    }
    if let Some(record) = &prev.attempt
        && record.outcome_unknown_since.is_none()
        && record.holder != ctx.settings.identity
        && shared.recorder_leads(record).await
    {
        // Another instance recorded this attempt and still holds the Lease: it may be executing it.
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    let marker = lifecycle::marker_of(action);

    // An attempt that was recorded and never resolved: its answer was lost, or the operator stopped during it.
    let mut prev = prev;
    if let Some(record) = prev.attempt.clone() {
        let since = record.outcome_unknown_since.as_ref().map_or(now, |t| t.0);
        match &kind {
            Operation::CreateIssue(create) => {
                let attempt = create_outcome::Attempt {
                    marker: &marker,
                    project: &create.project,
                    started: record.start_time.0,
                    ended: since,
                };
                let window = ctx.settings.create_outcome_window;
                let verdict = create_outcome::locate(&client, &attempt, window, now)
                    .await
                    .unwrap_or_else(|e| {
                        create_outcome::Verdict::Unknown(format!(
                            "Jira may have created the issue (the answer to the create was lost); checking failed \
                             ({e}), retrying"
                        ))
                    });
                match verdict {
                    create_outcome::Verdict::Found(issue) => {
                        let done = exec::found_issue(issue, &marker, true);
                        return finish(shared, api, action, &kind, &prev, Ok(done)).await;
                    }
                    create_outcome::Verdict::Absent(how) => {
                        tracing::info!(%how, "the create whose answer was lost did not happen: creating");
                        prev.attempt = None;
                        prev.may_have_acted = true;
                    }
                    create_outcome::Verdict::Unknown(waiting) => {
                        let retry_in = create_outcome::recheck(window, since, now);
                        return outcome_unknown(
                            shared,
                            api,
                            action,
                            &prev,
                            (since, retry_in),
                            &waiting,
                        )
                        .await;
                    }
                }
            }
            // The other operations check Jira before they change it: the next attempt finds what this one did.
            _ => {
                prev.attempt = None;
                prev.may_have_acted = true;
            }
        }
    }

    let grants = ctx
        .clients
        .grants(&connection.namespace().unwrap_or_default(), connection_name);
    if let Some(message) = permitted::refusal(&client, grants, &kind).await {
        let failed = lifecycle::failed(&prev, lifecycle::NOT_PERMITTED, &message, generation, now);
        // Conditional: the decision rests on the cached status, which may lag a write that finished the action.
        write_status(ctx, api, action, &failed, true).await?;
        let labels = crate::metrics::ActionLabels {
            kind: kind.as_str().into(),
            outcome: "failed".into(),
        };
        ctx.metrics.actions.get_or_create(&labels).inc();
        shared
            .publish(
                action,
                EventType::Warning,
                lifecycle::NOT_PERMITTED,
                &message,
            )
            .await;
        return expire(api, action, &failed, now).await;
    }

    // The record of the attempt: must be stored before Jira is called.
    let mut started = lifecycle::attempt_started(&prev, generation, now);
    started.site_cloud_id = Some(cloud_id);
    started.attempt = Some(crate::api::AttemptRecord {
        holder: ctx.settings.identity.clone(),
        lease_term: shared.lease_term().await,
        start_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now),
        outcome_unknown_since: None,
    });
    let recorded = write_status(ctx, api, action, &started, true).await?;
    tracing::info!(
        kind = kind.as_str(),
        attempt = started.attempts,
        "executing"
    );

    let executor = exec::Executor {
        client: &client,
        marker: &marker,
        earlier_attempts: started.attempts > 1,
        may_have_acted: started.may_have_acted,
    };
    let known = prev.result.as_ref().and_then(|r| r.account_id.clone());
    let outcome = match executor.target(&kind, known).await {
        Err(e) => Err(e),
        Ok(target) => {
            if target.resolved_now && matches!(kind, Operation::DeleteUser(_)) {
                // After the delete, the email no longer resolves: keep the accountId for a retry.
                started.result = Some(crate::api::ActionResult {
                    account_id: target.account_id.clone(),
                    ..Default::default()
                });
                write_status(ctx, api, &recorded, &started, false).await?;
            }
            executor.run(&kind, &target).await
        }
    };

    if shared.crash_after_jira_call && outcome.is_ok() {
        eprintln!(
            "{FAULT_CRASH_AFTER_JIRA_CALL}=1: aborting after the Jira call, before the status write"
        );
        std::process::abort();
    }
    finish(shared, api, &recorded, &kind, &started, outcome).await
}

/// Records that the outcome of the attempt is unknown (`Running`, reason `OutcomeUnknown`, with what the action
/// waits for) and checks again after `retry_in`.
async fn outcome_unknown(
    shared: &Shared,
    api: &Api<JiraAction>,
    action: &JiraAction,
    prev: &JiraActionStatus,
    (since, retry_in): (Timestamp, Duration),
    waiting: &str,
) -> Result<Action, Error> {
    let now = Timestamp::now();
    let new = lifecycle::outcome_unknown(prev, since, waiting, action.meta().generation, now);
    if lifecycle::differs(prev, &new) {
        write_result(&shared.ctx, api, action, &new).await?;
        let was_unknown = find_condition(&prev.conditions, lifecycle::SUCCEEDED)
            .is_some_and(|c| c.reason == lifecycle::OUTCOME_UNKNOWN);
        if !was_unknown {
            shared
                .publish(
                    action,
                    EventType::Warning,
                    lifecycle::OUTCOME_UNKNOWN,
                    waiting,
                )
                .await;
        }
    }
    Ok(Action::requeue(retry_in))
}

/// Writes the outcome of an attempt.
async fn finish(
    shared: &Shared,
    api: &Api<JiraAction>,
    action: &JiraAction,
    kind: &Operation<'_>,
    started: &JiraActionStatus,
    outcome: Result<Done, crate::jira::JiraError>,
) -> Result<Action, Error> {
    let ctx = &shared.ctx;
    let generation = action.meta().generation;
    let now = Timestamp::now();
    let count = |outcome: &str| {
        ctx.metrics
            .actions
            .get_or_create(&crate::metrics::ActionLabels {
                kind: kind.as_str().into(),
                outcome: outcome.into(),
            })
            .inc();
    };
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
            let new = lifecycle::succeeded(started, result, &message, generation, now);
            shared.keep_outcome(action, &new);
            write_result(ctx, api, action, &new).await?;
            shared.forget_outcome(action);
            count(if already_done {
                "already_done"
            } else {
                "succeeded"
            });
            let reason = if already_done {
                lifecycle::ALREADY_DONE
            } else {
                lifecycle::EXECUTED
            };
            tracing::info!(kind = kind.as_str(), reason, message = %message, "action succeeded");
            shared
                .publish(action, EventType::Normal, reason, &message)
                .await;
            expire(api, action, &new, now).await
        }
        Err(e @ crate::jira::JiraError::OutcomeUnknown { .. }) => {
            count("outcome_unknown");
            tracing::warn!(kind = kind.as_str(), error = %e, "the outcome of the attempt is unknown");
            let waiting =
                format!("{e}; finding out whether it happened before anything is sent again");
            let retry_in = match kind {
                Operation::CreateIssue(_) => {
                    create_outcome::recheck(ctx.settings.create_outcome_window, now, now)
                        .min(Duration::from_secs(5))
                }
                _ => BACKOFF.after(started.attempts),
            };
            outcome_unknown(shared, api, action, started, (now, retry_in), &waiting).await
        }
        Err(e) if e.is_transient() => {
            let delay = BACKOFF.after(started.attempts);
            let new =
                lifecycle::retrying(started, e.reason(), &e.to_string(), delay, generation, now);
            write_result(ctx, api, action, &new).await?;
            count("retried");
            tracing::info!(kind = kind.as_str(), error = %e, retry_in = ?delay, "attempt failed, retrying");
            let message = new.message.clone().unwrap_or_default();
            shared
                .publish(action, EventType::Warning, e.reason(), &message)
                .await;
            Ok(Action::requeue(delay))
        }
        Err(e) => {
            let message = e.to_string();
            let reason = e.reason();
            let new = lifecycle::failed(started, reason, &message, generation, now);
            shared.keep_outcome(action, &new);
            write_result(ctx, api, action, &new).await?;
            shared.forget_outcome(action);
            count("failed");
            tracing::info!(kind = kind.as_str(), reason, error = %e, "action failed");
            shared
                .publish(action, EventType::Warning, reason, &message)
                .await;
            expire(api, action, &new, now).await
        }
    }
}
