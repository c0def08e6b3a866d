//! The JiraLicensePolicy controller: evaluates a policy after each sync of its connection and whenever the
//! policy changes, shows the plan, and executes it through JiraActions the policy owns when the mode allows
//! (`Approval` with `spec.approvedPlan` naming the plan, or `Automatic`), at most `maxReclaimsPerRun` users per
//! run and one run per `minInterval`. A run is followed until its actions ended and the connection synced
//! again; a reclaimed user who still holds the product is reported `NotReclaimed`. A deleted policy keeps its
//! finalizer until its running actions ended ([`cleanup`]).

mod cleanup;
pub mod execute;
mod gauges;
mod inputs;
mod policy_status;

use super::{
    Context,
    wiring::{self, Backoff, Retries},
};
use crate::api::{JiraAction, JiraConnection, JiraLicensePolicy, condition_status};
use crate::controller::{conditions::time, schedule::parse_interval};
use crate::error::Classify;
use crate::policy::{self, Decision};
use chrono::Utc;
use futures::{FutureExt, StreamExt};
use inputs::Loaded;
use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams},
    runtime::{
        Controller,
        controller::{self, Action},
        events::EventType,
        reflector::ObjectRef,
        watcher,
    },
};
use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};
use tracing::Instrument;

/// Name of the controller in metrics and logs.
pub const CONTROLLER: &str = "jiralicensepolicy";
/// The finalizer that keeps a deleted policy until its running actions ended.
pub const FINALIZER: &str = "jiracloud.io/license-policy";
/// How often an idle policy is evaluated again without any change (its connection's syncs wake it sooner).
const RECHECK: Duration = Duration::from_secs(3600);

/// An error of one reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kubernetes(#[from] kube::Error),
    /// The reconcile panicked (caught; recorded in the status).
    #[error("internal error: {0}")]
    Internal(String),
    /// The connection became unusable between the evaluation and the run.
    #[error("not ready: {0}")]
    NotReady(String),
}

impl Classify for Error {
    fn reason(&self) -> &'static str {
        match self {
            Self::Kubernetes(_) => "KubernetesError",
            Self::Internal(_) => super::panics::INTERNAL_ERROR,
            Self::NotReady(_) => "NotReady",
        }
    }

    /// The apiserver, a panic and a connection that became unusable are retried with backoff.
    fn is_transient(&self) -> bool {
        true
    }
}

/// The backoff after a failed reconcile: 5 s doubling up to 5 minutes.
const BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(5),
    cap: Duration::from_secs(300),
};

/// State of the controller across reconciles.
struct Shared {
    ctx: Arc<Context>,
    /// Consecutive failed reconciles per policy.
    retries: Retries,
    /// The last inputs read per connection (namespace, name): reused while its last sync is the same.
    loaded: Mutex<HashMap<(String, String), Arc<Loaded>>>,
}

/// Runs the JiraLicensePolicy controller until `shutdown` completes.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send + 'static) {
    let shutdown = shutdown.shared();
    let shared = Arc::new(Shared {
        ctx: ctx.clone(),
        retries: Retries::new(BACKOFF, BACKOFF),
        loaded: Mutex::default(),
    });
    futures::future::join_all(
        wiring::scopes(&ctx.settings)
            .into_iter()
            .map(|ns| run_scope(shared.clone(), ns, shutdown.clone())),
    )
    .await;
}

async fn run_scope(
    shared: Arc<Shared>,
    namespace: Option<String>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let ctx = shared.ctx.clone();
    let controller = Controller::new(
        wiring::scoped::<JiraLicensePolicy>(&ctx.client, namespace.as_deref()),
        watcher::Config::default(),
    );
    let policies = controller.store();
    let mapper = move |connection: JiraConnection| {
        let namespace = connection.namespace();
        let name = connection.name_any();
        policies
            .state()
            .into_iter()
            .filter(|p| p.namespace() == namespace && p.spec.connection_ref.name == name)
            .map(|p| ObjectRef::from_obj(&*p))
            .collect::<Vec<_>>()
    };
    tracing::info!(
        namespace = namespace.as_deref().unwrap_or("*"),
        "JiraLicensePolicy controller started"
    );
    controller
        .owns(
            wiring::scoped::<JiraAction>(&ctx.client, namespace.as_deref()),
            watcher::Config::default().labels(execute::LABEL_POLICY),
        )
        .watches(
            wiring::scoped::<JiraConnection>(&ctx.client, namespace.as_deref()),
            watcher::Config::default(),
            mapper,
        )
        .with_config(controller::Config::default().concurrency(ctx.settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, shared)
        .for_each(|result| {
            if let Err(e) = result {
                tracing::debug!(error = %e, "JiraLicensePolicy controller event");
            }
            futures::future::ready(())
        })
        .await;
    tracing::info!(
        namespace = namespace.as_deref().unwrap_or("*"),
        "JiraLicensePolicy controller stopped"
    );
}

async fn reconcile(policy: Arc<JiraLicensePolicy>, shared: Arc<Shared>) -> Result<Action, Error> {
    let _timer = shared.ctx.metrics.reconcile_started(CONTROLLER);
    let span = tracing::info_span!(
        "reconcile",
        namespace = %policy.namespace().unwrap_or_default(),
        name = %policy.name_any()
    );
    let work = Box::pin(reconcile_now(&policy, &shared)).instrument(span);
    let conditions = || {
        policy
            .status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default()
    };
    let marks = (policy_status::READY, condition_status::FALSE);
    let result = super::panics::guard(&shared.ctx, policy.as_ref(), marks, conditions, work)
        .await
        .unwrap_or_else(|panic| Err(Error::Internal(panic)));
    if result.is_ok() {
        shared.retries.clear(policy.as_ref());
    }
    result
}

fn error_policy(policy: Arc<JiraLicensePolicy>, error: &Error, shared: Arc<Shared>) -> Action {
    let (failures, delay) = shared.retries.failed(policy.as_ref(), error);
    shared
        .ctx
        .metrics
        .reconcile_failed(CONTROLLER, error.reason());
    tracing::warn!(
        namespace = policy.namespace().unwrap_or_default(),
        name = policy.name_any(),
        error = %error,
        failures,
        retry_in = ?delay,
        "reconcile failed"
    );
    Action::requeue(delay)
}

async fn publish(
    ctx: &Context,
    policy: &JiraLicensePolicy,
    type_: EventType,
    reason: &str,
    note: String,
) {
    ctx.events
        .publish(policy.object_ref(&()), type_, reason, "Reconcile", note)
        .await;
}

async fn set_finalizer(
    api: &Api<JiraLicensePolicy>,
    policy: &JiraLicensePolicy,
    on: bool,
) -> Result<(), kube::Error> {
    let mut finalizers: Vec<String> = policy.finalizers().to_vec();
    finalizers.retain(|f| f != FINALIZER);
    if on {
        finalizers.push(FINALIZER.into());
    }
    // Conditional on the resourceVersion read: a concurrent change of the finalizers is not overwritten.
    let patch = serde_json::json!({
        "metadata": {"finalizers": finalizers, "resourceVersion": policy.resource_version()}
    });
    api.patch(
        &policy.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

async fn reconcile_now(policy: &JiraLicensePolicy, shared: &Shared) -> Result<Action, Error> {
    let ctx = &shared.ctx;
    let namespace = policy.namespace().unwrap_or_default();
    let api: Api<JiraLicensePolicy> = Api::namespaced(ctx.client.clone(), &namespace);
    let has_finalizer = policy.finalizers().iter().any(|f| f == FINALIZER);
    if policy.meta().deletion_timestamp.is_some() {
        if !has_finalizer {
            return Ok(Action::await_change());
        }
        let running = cleanup::wind_down(&ctx.client, policy).await?;
        if running > 0 {
            tracing::info!(running, "the deleted policy waits for its running actions");
            return Ok(Action::requeue(Duration::from_secs(2)));
        }
        set_finalizer(&api, policy, false).await?;
        if let Some(st) = &policy.status {
            gauges::forget(&ctx.metrics, policy, st);
        }
        return Ok(Action::await_change());
    }
    if !has_finalizer {
        set_finalizer(&api, policy, true).await?;
        // The change wakes the policy again, with the finalizer on.
        return Ok(Action::await_change());
    }
    let generation = policy.meta().generation;
    let now = Utc::now();
    let prev = policy.status.clone().unwrap_or_default();
    let mut st = prev.clone();
    st.observed_generation = generation;
    let key = (namespace.clone(), policy.spec.connection_ref.name.clone());
    let cached = shared
        .loaded
        .lock()
        .expect("not poisoned")
        .get(&key)
        .cloned();
    let loaded = match inputs::load(&ctx.client, policy, now, cached).await? {
        Ok(loaded) => loaded,
        Err(why) => {
            if policy_status::not_ready(&mut st, &why, generation, time(now)) {
                publish(
                    ctx,
                    policy,
                    EventType::Warning,
                    why.reason,
                    why.message.clone(),
                )
                .await;
            }
            write_status(ctx, policy, &prev, st, now).await?;
            return Ok(Action::requeue(Duration::from_secs(300)));
        }
    };
    shared
        .loaded
        .lock()
        .expect("not poisoned")
        .insert(key, loaded.clone());
    let rules = inputs::rules(policy);
    let eval = policy::evaluate(&loaded.holders, &loaded.site, &rules);
    if let Some(id) = policy_status::evaluated(&mut st, &eval, &loaded, generation, time(now)) {
        let note = match &st.plan {
            Some(plan) => format!(
                "New plan {id}: {} licenses of {} candidates; set spec.approvedPlan to {id} to execute it",
                plan.reclaims.len(),
                eval.candidates.len()
            ),
            None => "No candidates: the plan is empty".to_string(),
        };
        publish(ctx, policy, EventType::Normal, "PlanChanged", note).await;
    }
    gauges::record(&ctx.metrics, policy, &prev, &st);
    let mut requeue = RECHECK;
    if let Some(run) = st
        .last_run
        .as_mut()
        .filter(|r| !r.finished || r.checked_sync_time.is_none())
    {
        let was_finished = run.finished;
        let actions = execute::actions_of(&ctx.client, policy).await?;
        let found = execute::follow(run, &actions, &loaded);
        if run.finished && !was_finished {
            let note = format!(
                "Run of plan {} finished: {} actions",
                run.plan_id,
                run.actions.len()
            );
            publish(ctx, policy, EventType::Normal, "RunFinished", note).await;
        }
        for nr in found {
            let note = format!(
                "{} not reclaimed from {}: {}",
                nr.account_id, nr.product, nr.message
            );
            publish(ctx, policy, EventType::Warning, "NotReclaimed", note).await;
        }
    }
    let min_interval =
        parse_interval(&policy.spec.min_interval).unwrap_or(Duration::from_secs(86_400));
    let decision = policy::decide(
        policy.spec.mode,
        policy.spec.approved_plan.as_deref(),
        st.last_run.as_ref(),
        st.plan.as_ref(),
        st.previous_plan.as_ref(),
        now,
        min_interval,
    );
    let t = time(now);
    match decision {
        Decision::Idle => {
            let (reason, message) = match (policy.spec.mode, &st.last_run) {
                (crate::api::PolicyMode::DryRun, _) => {
                    ("DryRun", "dry run: nothing is executed".to_string())
                }
                (_, Some(run)) => (
                    "Executed",
                    format!("plan {} executed; waiting for the next plan", run.plan_id),
                ),
                (crate::api::PolicyMode::Approval, None) => (
                    "WaitingForApproval",
                    "set spec.approvedPlan to status.plan.id to execute the plan".to_string(),
                ),
                _ => ("Idle", "no plan to execute".to_string()),
            };
            policy_status::execution(
                &mut st,
                condition_status::FALSE,
                reason,
                message,
                generation,
                t,
            );
        }
        Decision::RunInProgress => {
            requeue = Duration::from_secs(30);
            policy_status::execution(
                &mut st,
                condition_status::TRUE,
                "Running",
                "the last run's actions are running",
                generation,
                t,
            );
        }
        Decision::UnknownPlan(id) => {
            let message = format!(
                "spec.approvedPlan {id} is neither the current plan nor the one it replaced; approve status.plan.id"
            );
            if policy_status::execution(
                &mut st,
                condition_status::FALSE,
                "UnknownPlan",
                &message,
                generation,
                t,
            ) {
                publish(ctx, policy, EventType::Warning, "UnknownPlan", message).await;
            }
        }
        Decision::Wait(left) => {
            requeue = left.max(Duration::from_secs(1));
            policy_status::execution(
                &mut st,
                condition_status::FALSE,
                "WaitingForMinInterval",
                format!(
                    "the next run may start in {}s (spec.minInterval)",
                    left.as_secs()
                ),
                generation,
                t,
            );
        }
        Decision::Execute(plan) => {
            let plan = plan.clone();
            // A policy being deleted starts nothing new.
            let fresh = api.get_opt(&policy.name_any()).await?;
            if fresh.is_none_or(|p| p.meta().deletion_timestamp.is_some()) {
                return Ok(Action::await_change());
            }
            // Read again, uncached: a protection or exclusion added since the sync counts. The latest sync
            // decides who is still due: anyone active again or without the product is skipped.
            let latest = match inputs::load(&ctx.client, policy, now, None).await? {
                Ok(latest) => policy::evaluate(&latest.holders, &latest.site, &rules),
                Err(why) => return Err(Error::NotReady(why.message)),
            };
            let (due, skipped) = policy::still_due(
                &plan,
                &latest.reclaimable,
                policy.spec.max_reclaims_per_run as usize,
            );
            let run = execute::start(&ctx.client, policy, &plan, &due, skipped, t.clone()).await?;
            let note = format!(
                "Executing plan {}: {} users, {} JiraActions, {} reclaims skipped (active again or no longer holding the product)",
                plan.id,
                run.reclaimed,
                run.actions.len(),
                skipped
            );
            if st.previous_plan.as_ref().is_some_and(|p| p.id == plan.id) {
                st.previous_plan = None;
            }
            st.last_run = Some(run);
            policy_status::execution(
                &mut st,
                condition_status::TRUE,
                "Running",
                &note,
                generation,
                t,
            );
            publish(ctx, policy, EventType::Normal, "RunStarted", note).await;
            requeue = Duration::from_secs(30);
        }
    }
    write_status(ctx, policy, &prev, st, now).await?;
    Ok(Action::requeue(requeue))
}

async fn write_status(
    ctx: &Context,
    policy: &JiraLicensePolicy,
    prev: &crate::api::JiraLicensePolicyStatus,
    mut st: crate::api::JiraLicensePolicyStatus,
    now: chrono::DateTime<Utc>,
) -> Result<(), kube::Error> {
    if *prev == st {
        return Ok(());
    }
    st.last_evaluation_time = Some(time(now));
    let api: Api<JiraLicensePolicy> =
        Api::namespaced(ctx.client.clone(), &policy.namespace().unwrap_or_default());
    let body = serde_json::json!({
        "apiVersion": JiraLicensePolicy::api_version(&()),
        "kind": JiraLicensePolicy::kind(&()),
        "status": st,
    });
    let params = PatchParams::apply(&ctx.settings.field_manager).force();
    api.patch_status(&policy.name_any(), &params, &Patch::Apply(&body))
        .await?;
    Ok(())
}
