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
//! 4. Every call is idempotent against Jira itself: a created issue carries the label [`lifecycle::marker_label`]
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

mod attempt;
mod create_outcome;
mod exec;
pub mod lifecycle;
mod permitted;
mod reconcile;
mod shared;
mod writes;

use super::{
    Context,
    wiring::{self, Backoff, Retries},
};
use crate::api::{JiraAction, JiraConnection};
use crate::error::Classify;
use futures::{FutureExt, StreamExt};
use k8s_openapi::jiff::Timestamp;
use kube::{
    Api, ResourceExt,
    runtime::{
        Controller, WatchStreamExt,
        controller::{self, Action},
        predicates,
        reflector::{self, ObjectRef},
        watcher,
    },
};
use reconcile::Reconcile;
use shared::Shared;
use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::Semaphore;
use tracing::Instrument;

/// Name of the controller in metrics and logs.
pub const CONTROLLER: &str = "jiraaction";

/// Environment variable of the crash fault: `1` makes the process abort after a successful Jira call and
/// before the status write (tests of the exactly-once protocol only).
pub const FAULT_CRASH_AFTER_JIRA_CALL: &str = "JCO_FAULT_CRASH_AFTER_JIRA_CALL";

/// How often an action waiting for its connection looks again (a change of the connection wakes it sooner).
const CONNECTION_RECHECK: Duration = Duration::from_secs(60);

/// The backoff after a failed reconcile or a transient failure of an attempt: 1 s doubling up to 5 minutes.
pub const BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(1),
    cap: Duration::from_secs(300),
};

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

impl Classify for Error {
    fn reason(&self) -> &'static str {
        match self {
            Self::Kubernetes(_) => "KubernetesError",
            Self::Stale => "Conflict",
            Self::Internal(_) => super::panics::INTERNAL_ERROR,
        }
    }

    /// A reconcile error is the apiserver's or a panic: retried with backoff. The action's own failures are
    /// its status.
    fn is_transient(&self) -> bool {
        true
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
    // Queued: under a burst the Events yield the apiserver to the status writes of the actions themselves.
    let (events, publisher) = ctx.events.queued();
    let runs: Vec<_> = wiring::scopes(&ctx.settings)
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

async fn run_scope(
    ctx: Arc<Context>,
    namespace: Option<String>,
    crash_after_jira_call: bool,
    events: wiring::Events,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let (actions, action_writer) = reflector::store();
    let action_events = watcher(
        wiring::scoped::<JiraAction>(&ctx.client, namespace.as_deref()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(action_writer)
    .applied_objects()
    // Status writes (ours) bump no generation: they must not wake the action again.
    .predicate_filter(predicates::generation, Default::default());
    let (connections, connection_writer) = reflector::store();
    let connection_events = watcher(
        wiring::scoped::<JiraConnection>(&ctx.client, namespace.as_deref()),
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
                    && !lifecycle::is_finished(a.status.as_ref())
            })
            .map(|a| ObjectRef::from_obj(&*a))
            .collect::<Vec<_>>()
    };
    let shared = Arc::new(Shared {
        ctx: ctx.clone(),
        connections,
        connections_ready: tokio::sync::OnceCell::new(),
        crash_after_jira_call,
        retries: Retries::new(BACKOFF, BACKOFF),
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
    if lifecycle::is_finished(action.status.as_ref())
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
            match Reconcile::new(shared, &api, &current).run().await {
                Err(Error::Stale) => match api.get_opt(&name).await? {
                    Some(fresh) => current = Arc::new(fresh),
                    None => return Ok(Action::await_change()),
                },
                Ok(next) => {
                    shared.retries.clear(action.as_ref());
                    return Ok(next);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Action::requeue(Duration::from_secs(1)))
    }
    .instrument(span);
    let conditions = || {
        action
            .status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default()
    };
    let marks = (lifecycle::SUCCEEDED, crate::api::condition_status::UNKNOWN);
    let result = super::panics::guard(&shared.ctx, action.as_ref(), marks, conditions, result)
        .await
        .unwrap_or_else(|panic| Err(Error::Internal(panic)));
    shared.ctx.clients.report_requests(&shared.ctx.metrics);
    result
}

fn error_policy(action: Arc<JiraAction>, error: &Error, shared: Arc<Shared>) -> Action {
    let (failures, delay) = shared.retries.failed(action.as_ref(), error);
    shared
        .ctx
        .metrics
        .reconcile_failed(CONTROLLER, error.reason());
    tracing::warn!(
        namespace = action.namespace().unwrap_or_default(),
        name = action.name_any(),
        error = %error,
        failures,
        retry_in = ?delay,
        "reconcile failed"
    );
    Action::requeue(delay)
}

fn until(now: Timestamp, then: Timestamp) -> Duration {
    Duration::try_from(then.duration_since(now)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(BACKOFF.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(BACKOFF.delay(2, 0.0), Duration::from_secs(2));
        assert_eq!(BACKOFF.delay(4, 0.0), Duration::from_secs(8));
        assert_eq!(BACKOFF.delay(9, 0.0), Duration::from_secs(256));
        assert_eq!(BACKOFF.delay(10, 0.0), Duration::from_secs(300));
        assert_eq!(BACKOFF.delay(u32::MAX, 0.0), Duration::from_secs(300));
        assert_eq!(BACKOFF.delay(3, -1.0), Duration::from_secs(4).mul_f64(0.8));
        assert_eq!(BACKOFF.delay(3, 1.0), Duration::from_secs(4).mul_f64(1.2));
    }
}
