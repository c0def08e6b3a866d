//! The JiraAction controller: executes each action exactly once through its connection's Jira client.
//!
//! The protocol, crash-safe across restarts, re-lists and leader changes:
//! 1. A finished action (`Succeeded` or `Failed`) is never run again; only `ttlSecondsAfterFinished` is handled.
//! 2. Until its JiraConnection exists and its credentials are valid, an action stays `Pending` with reason
//!    `ConnectionNotReady`; a connection change wakes the actions that reference it.
//! 3. Before each call to Jira the attempt is recorded (`Running`, `attempts + 1`, `status.attempt` with this
//!    instance's identity and Lease term, the site's cloudId pinned at the first attempt) with a write conditioned
//!    on the resourceVersion the decision was based on, so a stale cache never starts a second attempt of a
//!    finished action. Jira is called only once that write succeeded. An attempt another instance recorded is
//!    taken over only when that instance no longer holds the leader Lease.
//! 4. Every call is idempotent against Jira itself: a created issue carries the label [`status::marker_label`]
//!    of the action's namespace, name and spec, and every attempt looks for it first; adding a member already in
//!    the group and removing a non-member succeed as `AlreadyDone`. Changes are never resent blindly: a change
//!    whose answer was lost leaves the attempt recorded with `outcomeUnknownSince` (reason `OutcomeUnknown`,
//!    `mayHaveActed`). A createIssue then waits until its issue is found or proven absent
//!    ([`create_outcome`]); the other operations check Jira before changing it, so the next attempt finds what
//!    the lost one did. A 404 of the issue or user to delete is `NotFound`, or `AlreadyDone` once the action may
//!    have acted. A user given by email to be deleted is resolved once and its accountId recorded before the
//!    delete. An outcome whose status write failed is kept in memory and written, never redone.
//! 5. Transient errors go back to `Pending` and retry with jittered exponential backoff (1 s doubling, at most
//!    5 min, ±20 %); permanent ones fail at once with the error's reason.
//!
//! Scheduling: the kube runtime hands every action to [`reconcile`] as soon as it is seen; the actions then
//! queue on a fair semaphore, in the order they came, and `action_concurrency` of them execute at once (apart
//! from the reconciles of other controllers: an action mostly waits for the apiserver, and its Jira requests
//! are limited per connection by the client). The kube runtime's own limit would pick the next object among
//! those waiting in no particular order, so under a burst some early actions would wait until the end. A
//! finished action without a TTL has nothing to do and does not queue. Events are published by a background
//! task, one at a time, after the status that they describe was written: they are off the path of the action
//! and yield the apiserver to the status writes of running actions; they are all published before [`run`]
//! returns.
//!
//! Fault injection for tests: when the process runs with the environment variable
//! [`FAULT_CRASH_AFTER_JIRA_CALL`] set to `1`, it aborts right after a successful Jira call and before the
//! status write that records the result. Off unless set; never set it in production.

mod create_outcome;
mod exec;
pub mod status;

use super::Context;
use crate::api::{
    ActionPhase, AttemptRecord, JiraAction, JiraActionStatus, JiraConnection, Operation,
    find_condition,
};
use exec::Done;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, Preconditions},
    runtime::{
        Controller, WatchStreamExt,
        controller::{self, Action},
        events::{Event, EventType, Recorder},
        predicates,
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};
use serde_json::json;
use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::{Semaphore, mpsc};
use tracing::Instrument;

/// Name of the controller in metrics and logs.
pub const CONTROLLER: &str = "jiraaction";

/// Environment variable of the crash fault: `1` makes the process abort after a successful Jira call and
/// before the status write (tests of the exactly-once protocol only).
pub const FAULT_CRASH_AFTER_JIRA_CALL: &str = "JCO_FAULT_CRASH_AFTER_JIRA_CALL";

/// How often an action waiting for its connection looks again (a change of the connection wakes it sooner).
const CONNECTION_RECHECK: Duration = Duration::from_secs(60);

/// An error of one reconcile (the action's own failures are status, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kubernetes(#[from] kube::Error),
    /// The cached object was older than the one on the apiserver (the conditional write was refused).
    #[error("the cached JiraAction was stale")]
    Stale,
    /// The reconcile panicked (caught; recorded in the status).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The reason label of the error in metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Kubernetes(_) => "KubernetesError",
            Self::Stale => "Conflict",
            Self::Internal(_) => super::panics::INTERNAL_ERROR,
        }
    }
}

struct Shared {
    ctx: Arc<Context>,
    connections: Store<JiraConnection>,
    connections_ready: tokio::sync::OnceCell<()>,
    crash_after_jira_call: bool,
    failures: Mutex<HashMap<ObjectRef<JiraAction>, u32>>,
    /// Actions executing at once (`action_concurrency` permits, granted in the order they were asked for).
    permits: Semaphore,
    /// Events for the background publisher.
    events: mpsc::UnboundedSender<Note>,
    /// Outcomes known but not yet written (their status write failed), by action uid: written, never redone.
    outcomes: Mutex<HashMap<String, JiraActionStatus>>,
    /// The term of the leader Lease this instance holds, read once.
    lease_term: tokio::sync::OnceCell<Option<i32>>,
}

/// An Event about an action, waiting for the background publisher.
struct Note {
    type_: EventType,
    reason: String,
    note: String,
    regarding: ObjectReference,
}

impl Shared {
    fn uid(action: &JiraAction) -> String {
        action.uid().unwrap_or_default()
    }

    /// Keeps a known outcome until its status is written.
    fn keep_outcome(&self, action: &JiraAction, status: &JiraActionStatus) {
        self.outcomes
            .lock()
            .expect("not poisoned")
            .insert(Self::uid(action), status.clone());
    }

    /// The outcome kept for the action, if its status write failed.
    fn kept_outcome(&self, action: &JiraAction) -> Option<JiraActionStatus> {
        self.outcomes
            .lock()
            .expect("not poisoned")
            .get(&Self::uid(action))
            .cloned()
    }

    /// Drops a kept outcome once written.
    fn forget_outcome(&self, action: &JiraAction) {
        self.outcomes
            .lock()
            .expect("not poisoned")
            .remove(&Self::uid(action));
    }

    /// The leader Lease, when this instance runs under leader election.
    async fn lease(&self) -> Option<k8s_openapi::api::coordination::v1::Lease> {
        let (namespace, name) = self.ctx.settings.leader_lease.as_ref()?;
        let api: Api<k8s_openapi::api::coordination::v1::Lease> =
            Api::namespaced(self.ctx.client.clone(), namespace);
        api.get_opt(name).await.ok().flatten()
    }

    /// The term (`leaseTransitions`) of the leader Lease this instance holds, with leader election.
    async fn lease_term(&self) -> Option<i32> {
        *self
            .lease_term
            .get_or_init(|| async {
                self.lease()
                    .await
                    .and_then(|l| l.spec)
                    .and_then(|s| s.lease_transitions)
            })
            .await
    }

    /// True when the instance that recorded an attempt still holds the leader Lease (it may be executing it).
    async fn recorder_leads(&self, record: &AttemptRecord) -> bool {
        self.lease()
            .await
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
            .is_some_and(|holder| holder == record.holder)
    }

    /// Queues an Event about `action` (published in the background; never blocks the action).
    fn publish(&self, action: &JiraAction, type_: EventType, reason: &str, note: &str) {
        let note = Note {
            type_,
            reason: reason.into(),
            note: note.chars().take(1000).collect(),
            regarding: action.object_ref(&()),
        };
        if self.events.send(note).is_err() {
            tracing::debug!("the Event publisher has stopped; Event dropped");
        }
    }
}

/// Publishes the queued Events one at a time, in order (under a burst they yield the apiserver to the status
/// writes of the actions themselves), until every sender is gone and the queue is empty.
async fn publish_events(recorder: Recorder, mut queue: mpsc::UnboundedReceiver<Note>) {
    while let Some(note) = queue.recv().await {
        let event = Event {
            type_: note.type_,
            reason: note.reason,
            note: Some(note.note),
            action: "Execute".into(),
            secondary: None,
        };
        if let Err(e) = recorder.publish(&event, &note.regarding).await {
            tracing::debug!(error = %e, "publishing an Event failed");
        }
    }
}

/// Runs the JiraAction controller until `shutdown` completes (then lets running reconciles finish and publishes
/// the Events they queued). Watches all namespaces, or each of `ctx.settings.watch_namespaces`.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send + 'static) {
    let crash_after_jira_call = std::env::var(FAULT_CRASH_AFTER_JIRA_CALL).is_ok_and(|v| v == "1");
    if crash_after_jira_call {
        tracing::warn!(
            "fault injection on: the process aborts after the first successful Jira call of an action"
        );
    }
    let shutdown = shutdown.shared();
    let scopes: Vec<Option<String>> = if ctx.settings.watch_namespaces.is_empty() {
        vec![None]
    } else {
        ctx.settings
            .watch_namespaces
            .iter()
            .cloned()
            .map(Some)
            .collect()
    };
    let (events, queue) = mpsc::unbounded_channel();
    let publisher = tokio::spawn(publish_events(ctx.recorder.clone(), queue));
    let runs: Vec<_> = scopes
        .into_iter()
        .map(|ns| {
            run_scope(
                ctx.clone(),
                ns,
                crash_after_jira_call,
                events.clone(),
                shutdown.clone(),
            )
        })
        .collect();
    drop(events);
    futures::future::join_all(runs).await;
    // Every controller has stopped and dropped its sender: the publisher ends once the queue is empty.
    if let Err(e) = publisher.await {
        tracing::warn!(error = %e, "the Event publisher failed");
    }
}

fn scoped<K>(ctx: &Context, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(ctx.client.clone(), ns),
        None => Api::all(ctx.client.clone()),
    }
}

async fn run_scope(
    ctx: Arc<Context>,
    namespace: Option<String>,
    crash_after_jira_call: bool,
    events: mpsc::UnboundedSender<Note>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let (actions, action_writer) = reflector::store();
    let action_events = watcher(
        scoped::<JiraAction>(&ctx, namespace.as_deref()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(action_writer)
    .applied_objects()
    // Status writes (ours) bump no generation: they must not wake the action again.
    .predicate_filter(predicates::generation, Default::default());
    let (connections, connection_writer) = reflector::store();
    let connection_events = watcher(
        scoped::<JiraConnection>(&ctx, namespace.as_deref()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(connection_writer)
    .applied_objects();
    let waiting = actions.clone();
    let mapper = move |connection: JiraConnection| {
        let namespace = connection.namespace();
        let name = connection.name_any();
        waiting
            .state()
            .into_iter()
            .filter(|a| {
                a.namespace() == namespace
                    && a.spec.connection_ref.name == name
                    && !status::is_finished(a.status.as_ref())
            })
            .map(|a| ObjectRef::from_obj(&*a))
            .collect::<Vec<_>>()
    };
    let shared = Arc::new(Shared {
        ctx: ctx.clone(),
        connections,
        connections_ready: tokio::sync::OnceCell::new(),
        crash_after_jira_call,
        failures: Mutex::default(),
        permits: Semaphore::new(ctx.settings.action_concurrency.max(1).into()),
        events,
        outcomes: Mutex::default(),
        lease_term: tokio::sync::OnceCell::new(),
    });
    tracing::info!(
        namespace = namespace.as_deref().unwrap_or("*"),
        "JiraAction controller started"
    );
    Controller::for_stream(action_events, actions)
        .watches_stream(connection_events, mapper)
        // No limit here: the reconciles queue in order on `permits` instead.
        .with_config(controller::Config::default().concurrency(0))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, shared)
        .for_each(|result| {
            if let Err(e) = result {
                tracing::debug!(error = %e, "JiraAction controller event");
            }
            futures::future::ready(())
        })
        .await;
    tracing::info!(
        namespace = namespace.as_deref().unwrap_or("*"),
        "JiraAction controller stopped"
    );
}

async fn reconcile(action: Arc<JiraAction>, shared: Arc<Shared>) -> Result<Action, Error> {
    if status::is_finished(action.status.as_ref())
        && action.spec.ttl_seconds_after_finished.is_none()
    {
        return Box::pin(reconcile_now(action, &shared)).await;
    }
    // Waits in line; boxed after, so that a waiting reconcile stays small.
    let _permit = shared
        .permits
        .acquire()
        .await
        .expect("the semaphore is never closed");
    Box::pin(reconcile_now(action, &shared)).await
}

async fn reconcile_now(action: Arc<JiraAction>, shared: &Shared) -> Result<Action, Error> {
    let _timer = shared.ctx.metrics.reconcile_started(CONTROLLER);
    let namespace = action.namespace().unwrap_or_default();
    let name = action.name_any();
    let span = tracing::info_span!("reconcile", namespace = %namespace, name = %name);
    let result = async {
        // Readiness is judged from the cache of connections: wait for its first list.
        tracing::debug!("reconcile started");
        // One waiter at a time: the store's readiness signal wakes only the task that polled it last.
        shared
            .connections_ready
            .get_or_init(|| async {
                let _ = shared.connections.wait_until_ready().await;
            })
            .await;
        let api: Api<JiraAction> = Api::namespaced(shared.ctx.client.clone(), &namespace);
        let mut current = action.clone();
        for _ in 0..3 {
            match advance(shared, &api, &current).await {
                Err(Error::Stale) => match api.get_opt(&name).await? {
                    Some(fresh) => current = Arc::new(fresh),
                    None => return Ok(Action::await_change()),
                },
                Ok(next) => {
                    shared
                        .failures
                        .lock()
                        .expect("not poisoned")
                        .remove(&ObjectRef::from_obj(&*action));
                    return Ok(next);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Action::requeue(Duration::from_secs(1)))
    }
    .instrument(span);
    let result = match super::panics::catch(result).await {
        Ok(result) => result,
        Err(panic) => {
            let conditions = action
                .status
                .as_ref()
                .map(|s| s.conditions.clone())
                .unwrap_or_default();
            super::panics::record(
                &shared.ctx,
                action.as_ref(),
                &conditions,
                status::SUCCEEDED,
                crate::api::status::UNKNOWN,
                &panic,
            )
            .await;
            Err(Error::Internal(panic))
        }
    };
    shared.ctx.clients.report_requests(&shared.ctx.metrics);
    result
}

fn error_policy(action: Arc<JiraAction>, error: &Error, shared: Arc<Shared>) -> Action {
    let failures = {
        let mut map = shared.failures.lock().expect("not poisoned");
        let n = map.entry(ObjectRef::from_obj(&*action)).or_insert(0);
        *n += 1;
        *n
    };
    shared
        .ctx
        .metrics
        .reconcile_failed(CONTROLLER, error.reason());
    let delay = status::backoff(failures, jitter());
    tracing::warn!(
        namespace = action.namespace().unwrap_or_default(),
        name = action.name_any(),
        error = %error,
        retry_in = ?delay,
        "reconcile failed"
    );
    Action::requeue(delay)
}

fn jitter() -> f64 {
    rand::random_range(0.8..1.2)
}

fn until(now: Timestamp, then: Timestamp) -> Duration {
    Duration::try_from(then.duration_since(now)).unwrap_or_default()
}

/// One step of the protocol for the action as last seen.
async fn advance(
    shared: &Shared,
    api: &Api<JiraAction>,
    action: &JiraAction,
) -> Result<Action, Error> {
    let ctx = &shared.ctx;
    let prev = action.status.clone().unwrap_or_default();
    let generation = action.meta().generation;
    let now = Timestamp::now();

    if status::is_finished(Some(&prev)) {
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
        let failed = status::failed(&prev, status::INVALID_SPEC, message, generation, now);
        write_status(ctx, api, action, &failed, true).await?;
        shared.publish(action, EventType::Warning, status::INVALID_SPEC, message);
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
        let failed = status::failed(&prev, status::SITE_CHANGED, &message, generation, now);
        write_result(ctx, api, action, &failed).await?;
        shared.publish(action, EventType::Warning, status::SITE_CHANGED, &message);
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
    let marker = status::marker_of(action);

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
                let verdict = create_outcome::locate(&client, &attempt, window, now).await;
                match verdict {
                    Ok(create_outcome::Verdict::Found(issue)) => {
                        let done = exec::found_issue(issue, &marker, true);
                        return finish(shared, api, action, &kind, &prev, Ok(done)).await;
                    }
                    Ok(create_outcome::Verdict::Absent(how)) => {
                        tracing::info!(%how, "the create whose answer was lost did not happen: creating");
                        prev.attempt = None;
                        prev.may_have_acted = true;
                    }
                    Ok(create_outcome::Verdict::Unknown(waiting)) => {
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
                    Err(e) => {
                        let waiting = format!(
                            "Jira may have created the issue (the answer to the create was lost); checking failed \
                             ({e}), retrying"
                        );
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

    // The record of the attempt: must be stored before Jira is called.
    let mut started = status::attempt_started(&prev, generation, now);
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

    let earlier = started.may_have_acted;
    let outcome = match &kind {
        Operation::CreateIssue(create) => {
            exec::create_issue(&client, create, &marker, started.attempts > 1).await
        }
        Operation::DeleteIssue(delete) => exec::delete_issue(&client, delete, earlier).await,
        Operation::AddUserToGroup(m) | Operation::RemoveUserFromGroup(m) => {
            let add = matches!(kind, Operation::AddUserToGroup(_));
            let known = prev.result.as_ref().and_then(|r| r.account_id.clone());
            match resolve(&client, &m.user, known).await {
                Err(e) => Err(e),
                Ok((account_id, _)) => {
                    exec::membership(&client, add, &m.user, &account_id, &m.group).await
                }
            }
        }
        Operation::DeleteUser(user) => {
            let known = prev.result.as_ref().and_then(|r| r.account_id.clone());
            match resolve(&client, user, known).await {
                Err(e) => Err(e),
                Ok((account_id, resolved_now)) => {
                    if resolved_now {
                        // After the delete, the email no longer resolves: keep the accountId for a retry.
                        started.result = Some(crate::api::ActionResult {
                            account_id: Some(account_id.clone()),
                            ..Default::default()
                        });
                        write_status(ctx, api, &recorded, &started, false).await?;
                    }
                    exec::delete_user(&client, user, &account_id, earlier).await
                }
            }
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
    let new = status::outcome_unknown(prev, since, waiting, action.meta().generation, now);
    if status::differs(prev, &new) {
        write_result(&shared.ctx, api, action, &new).await?;
        let was_unknown = find_condition(&prev.conditions, status::SUCCEEDED)
            .is_some_and(|c| c.reason == status::OUTCOME_UNKNOWN);
        if !was_unknown {
            shared.publish(action, EventType::Warning, status::OUTCOME_UNKNOWN, waiting);
        }
    }
    Ok(Action::requeue(retry_in))
}

/// Resolves the user to an accountId: the one an earlier attempt recorded, the given accountId, or the
/// account the email belongs to. The flag is true when the email was resolved by this call.
async fn resolve(
    client: &crate::jira::JiraClient,
    user: &crate::api::UserReference,
    known: Option<String>,
) -> Result<(String, bool), crate::jira::JiraError> {
    if let Some(id) = known {
        return Ok((id, false));
    }
    match exec::user_ref(user)? {
        crate::jira::UserRef::AccountId(id) => Ok((id, false)),
        email => Ok((client.resolve_user(&email).await?, true)),
    }
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
            let new = status::succeeded(started, result, &message, generation, now);
            shared.keep_outcome(action, &new);
            write_result(ctx, api, action, &new).await?;
            shared.forget_outcome(action);
            count(if already_done {
                "already_done"
            } else {
                "succeeded"
            });
            let reason = if already_done {
                status::ALREADY_DONE
            } else {
                status::EXECUTED
            };
            tracing::info!(kind = kind.as_str(), reason, message = %message, "action succeeded");
            shared.publish(action, EventType::Normal, reason, &message);
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
                _ => status::backoff(started.attempts, jitter()),
            };
            outcome_unknown(shared, api, action, started, (now, retry_in), &waiting).await
        }
        Err(e) if e.is_transient() => {
            let delay = status::backoff(started.attempts, jitter());
            let new = status::retrying(started, e.reason(), &e.to_string(), delay, generation, now);
            write_result(ctx, api, action, &new).await?;
            count("retried");
            tracing::info!(kind = kind.as_str(), error = %e, retry_in = ?delay, "attempt failed, retrying");
            let message = new.message.clone().unwrap_or_default();
            shared.publish(action, EventType::Warning, e.reason(), &message);
            Ok(Action::requeue(delay))
        }
        Err(e) => {
            let message = e.to_string();
            let reason = failure_reason(&e);
            let new = status::failed(started, reason, &message, generation, now);
            shared.keep_outcome(action, &new);
            write_result(ctx, api, action, &new).await?;
            shared.forget_outcome(action);
            count("failed");
            tracing::info!(kind = kind.as_str(), reason, error = %e, "action failed");
            shared.publish(action, EventType::Warning, reason, &message);
            expire(api, action, &new, now).await
        }
    }
}

/// The condition reason of a failed attempt: the error's own, except that any refusal for lack of
/// permission is `Forbidden`, whichever endpoint refused.
fn failure_reason(error: &crate::jira::JiraError) -> &'static str {
    match error {
        crate::jira::JiraError::InsufficientPermissions { .. } => "Forbidden",
        e => e.reason(),
    }
}

/// Why the connection cannot be used now, or `None` when it exists and Jira accepted its credentials
/// (`CredentialsValid=True`). A failed inventory sync does not block actions.
fn connection_problem(connection: Option<&JiraConnection>, name: &str) -> Option<String> {
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
        Some(c) if c.status == crate::api::status::TRUE => None,
        Some(c) => Some(format!(
            "the credentials of JiraConnection {name} are not valid ({}): {}",
            c.reason, c.message
        )),
        None => Some(format!(
            "the credentials of JiraConnection {name} are not checked yet"
        )),
    }
}

async fn wait_for_connection(
    shared: &Shared,
    api: &Api<JiraAction>,
    action: &JiraAction,
    prev: &JiraActionStatus,
    problem: &str,
    now: Timestamp,
) -> Result<Action, Error> {
    let new = status::waiting_for_connection(prev, problem, action.meta().generation, now);
    if status::differs(prev, &new) {
        write_status(&shared.ctx, api, action, &new, true).await?;
        let was_waiting = find_condition(&prev.conditions, status::SUCCEEDED)
            .is_some_and(|c| c.reason == status::CONNECTION_NOT_READY);
        if !was_waiting {
            shared.publish(
                action,
                EventType::Normal,
                status::CONNECTION_NOT_READY,
                problem,
            );
        }
    }
    Ok(Action::requeue(CONNECTION_RECHECK.mul_f64(jitter())))
}

/// Deletes a finished action once its `ttlSecondsAfterFinished` passed; otherwise waits for that moment.
async fn expire(
    api: &Api<JiraAction>,
    action: &JiraAction,
    status: &JiraActionStatus,
    now: Timestamp,
) -> Result<Action, Error> {
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
    match api.delete(&action.name_any(), &params).await {
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
async fn write_result(
    ctx: &Context,
    api: &Api<JiraAction>,
    action: &JiraAction,
    status: &JiraActionStatus,
) -> Result<JiraAction, Error> {
    let mut delay = Duration::from_millis(200);
    for _ in 0..4 {
        match write_status(ctx, api, action, status, false).await {
            Err(Error::Kubernetes(e)) => {
                tracing::warn!(error = %e, retry_in = ?delay, "writing the outcome failed, retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    write_status(ctx, api, action, status, false).await
}

/// Server-side apply of the status. With `conditional`, the write carries the resourceVersion of `action` and
/// fails with [`Error::Stale`] when the object changed since.
async fn write_status(
    ctx: &Context,
    api: &Api<JiraAction>,
    action: &JiraAction,
    status: &JiraActionStatus,
    conditional: bool,
) -> Result<JiraAction, Error> {
    let name = action.name_any();
    let mut metadata = json!({ "name": name });
    if conditional && let Some(rv) = action.resource_version() {
        metadata["resourceVersion"] = json!(rv);
    }
    let patch = json!({
        "apiVersion": JiraAction::api_version(&()),
        "kind": JiraAction::kind(&()),
        "metadata": metadata,
        "status": status,
    });
    let params = PatchParams::apply(&ctx.settings.field_manager).force();
    match api
        .patch_status(&name, &params, &Patch::Apply(&patch))
        .await
    {
        Ok(updated) => Ok(updated),
        Err(kube::Error::Api(s)) if s.is_conflict() || s.is_not_found() => Err(Error::Stale),
        Err(e) => Err(e.into()),
    }
}
