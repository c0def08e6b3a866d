//! Harness of the JiraAction tests and bench: a simulator, a namespace on the test control plane with a
//! JiraConnection to the simulator (its Ready condition set by the test, so the connection controller is not
//! needed), and the action controller running in-process.

#![allow(dead_code)] // each test binary uses a different part of this module

use crate::support;
use jira_cloud_operator::{
    api::{ActionPhase, JiraAction, JiraConnection, find_condition},
    controller::{Context, Settings, action},
    jira,
    metrics::Metrics,
};
use jira_sim::{SimConfig, SimHandle};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, ResourceExt,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::{sync::oneshot, task::JoinHandle};

/// Credentials of the simulator's default scenario: a site admin.
pub const ADMIN: (&str, &str) = ("admin@example.com", "classic-admin-token");
/// Credentials of the simulator's default scenario: a user without admin rights.
pub const VIEWER: (&str, &str) = ("viewer@example.com", "classic-viewer-token");

/// A running action controller, stopped (gracefully) on [`Running::stop`].
pub struct Running {
    /// Its context (metrics, caches).
    pub ctx: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops the controller and waits until its reconciles finished.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the controller task");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        testenv::audit::save("metrics", "txt", &self.ctx.metrics.encode());
    }
}

/// One test's world.
pub struct Harness {
    /// Admin client of the control plane.
    pub client: Client,
    /// The test's namespace.
    pub namespace: String,
    /// The simulator (shared with sibling harnesses).
    pub sim: Arc<SimHandle>,
}

/// Settings for a controller talking to `sim` and watching `namespace` only: requests unpaced and more
/// parallel than the defaults, and no retries inside the HTTP layer, so every 5xx reaches the controller.
pub fn settings(sim: &SimHandle, namespace: &str) -> Settings {
    Settings {
        endpoints: jira::Endpoints::same_as(&sim.url()),
        limits: jira::Limits {
            max_concurrency: 16,
            requests_per_second: None,
            max_retries: 0,
            ..jira::Limits::default()
        },
        jira_timeout: Duration::from_secs(10),
        // Jira's search lag as the simulator plays it is far below the production window of 10 minutes.
        create_outcome_window: Duration::from_secs(3),
        allowed_site_hosts: jira_cloud_operator::jira::AllowedHosts::parse("127.0.0.1")
            .expect("a host"),
        concurrency: 16,
        watch_namespaces: vec![namespace.to_string()],
        field_manager: "jira-cloud-operator".into(),
        ..Settings::default()
    }
}

impl Harness {
    /// A simulator with `config`, a namespace, and a Ready connection `acme` with the admin's credentials.
    pub async fn new(prefix: &str, config: SimConfig) -> Harness {
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let sim = jira_sim::start(config).await.expect("the simulator starts");
        let env = support::env(prefix).await;
        let h = Harness {
            client: env.client,
            namespace: env.namespace,
            sim: Arc::new(sim),
        };
        h.connection("acme", ADMIN).await;
        h.set_ready("acme", true).await;
        h
    }

    /// Another namespace, with its own Ready connection `acme`, on the same simulator.
    pub async fn sibling(&self, prefix: &str) -> Harness {
        let env = support::env(prefix).await;
        let h = Harness {
            client: env.client,
            namespace: env.namespace,
            sim: self.sim.clone(),
        };
        h.connection("acme", ADMIN).await;
        h.set_ready("acme", true).await;
        h
    }

    /// Starts the action controller in-process.
    pub async fn start_controller(&self) -> Running {
        self.start_controller_with(settings(&self.sim, &self.namespace))
            .await
    }

    /// Starts the action controller in-process with `settings`.
    pub async fn start_controller_with(&self, settings: Settings) -> Running {
        let ctx = Context::new(self.client.clone(), settings, Arc::new(Metrics::default()));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(action::run(ctx.clone(), async move {
            let _ = stopped.await;
        }));
        Running {
            ctx,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The JiraAction API of the namespace.
    pub fn actions(&self) -> Api<JiraAction> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The JiraConnection API of the namespace.
    pub fn connections(&self) -> Api<JiraConnection> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Creates a Secret and a JiraConnection `name` to the simulator with basic credentials.
    pub async fn connection(&self, name: &str, (email, token): (&str, &str)) {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": format!("{name}-basic")},
            "stringData": {"email": email, "apiToken": token},
        }))
        .unwrap();
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .expect("create the Secret");
        let connection: JiraConnection = serde_json::from_value(json!({
            "apiVersion": "jiracloud.io/v1alpha1",
            "kind": "JiraConnection",
            "metadata": {"name": name},
            "spec": {
                "siteUrl": self.sim.url().to_string(),
                "auth": {"basic": {"secretRef": {"name": format!("{name}-basic")}}},
            },
        }))
        .unwrap();
        self.connections()
            .create(&PostParams::default(), &connection)
            .await
            .expect("create the JiraConnection");
    }

    /// Sets the connection's Ready and CredentialsValid conditions, as the connection controller would.
    pub async fn set_ready(&self, name: &str, ready: bool) {
        let (status, reason) = if ready {
            ("True", "Synced")
        } else {
            ("False", "InvalidCredentials")
        };
        let patch = json!({
            "apiVersion": "jiracloud.io/v1alpha1",
            "kind": "JiraConnection",
            "status": {"conditions": [{
                "type": "Ready", "status": status, "reason": reason, "message": "set by the test",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }, {
                "type": "CredentialsValid", "status": status, "reason": if ready { "Authenticated" } else { reason },
                "message": "set by the test", "lastTransitionTime": "2026-01-01T00:00:00Z",
            }]},
        });
        self.connections()
            .patch_status(
                name,
                &PatchParams::apply("action-tests").force(),
                &Patch::Apply(&patch),
            )
            .await
            .expect("set the connection's status");
    }

    /// Creates a JiraAction `name` on connection `acme` with `kind` (a spec fragment such as
    /// `{"deleteIssue": {"issue": "ENG-3"}}`).
    pub async fn create(&self, name: &str, kind: Value) -> JiraAction {
        self.create_on(name, "acme", kind).await
    }

    /// Creates a JiraAction `name` on `connection`.
    pub async fn create_on(&self, name: &str, connection: &str, kind: Value) -> JiraAction {
        self.actions()
            .create(
                &PostParams::default(),
                &action_object(name, connection, kind),
            )
            .await
            .unwrap_or_else(|e| panic!("create JiraAction {name}: {e}"))
    }

    /// Waits until the action finished (Succeeded or Failed).
    pub async fn finished(&self, name: &str) -> JiraAction {
        self.wait_for(name, "to finish", |a| {
            matches!(phase(a), Some(ActionPhase::Succeeded | ActionPhase::Failed))
        })
        .await
    }

    /// Waits until `check` holds for the action; panics after two minutes.
    pub async fn wait_for(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&JiraAction) -> bool,
    ) -> JiraAction {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            // A read the apiserver drops under load is retried like any other poll.
            let action = match self.actions().get(name).await {
                Ok(action) => Some(action),
                Err(e) if Instant::now() < deadline => {
                    eprintln!("reading JiraAction {name} failed, retrying: {e}");
                    None
                }
                Err(e) => panic!("reading JiraAction {name}: {e}"),
            };
            if let Some(action) = action {
                if check(&action) {
                    return action;
                }
                assert!(
                    Instant::now() < deadline,
                    "JiraAction {name} never came {what}: {:?}",
                    action.status
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reasons of the Events about the action, of type `type_` (`Normal`/`Warning`).
    pub async fn event_reasons(&self, name: &str, type_: &str) -> Vec<String> {
        let events: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.client.clone(), &self.namespace);
        events
            .list(&ListParams::default())
            .await
            .expect("list Events")
            .items
            .into_iter()
            .filter(|e| {
                e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                    && e.type_.as_deref() == Some(type_)
            })
            .filter_map(|e| e.reason)
            .collect()
    }

    /// Waits until an Event of type `type_` with `reason` about the action was published (Events are
    /// published in the background, after the status they describe); false after a minute without one.
    pub async fn has_event(&self, name: &str, type_: &str, reason: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self
                .event_reasons(name, type_)
                .await
                .iter()
                .any(|r| r == reason)
            {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Keys of the simulator's issues that carry the marker label of `action`.
    pub fn marked_issues(&self, action: &JiraAction) -> Vec<String> {
        let marker = action::status::marker_of(action);
        self.sim.with_state(|st| st.issues_with_label(&marker))
    }
}

/// A JiraAction object.
pub fn action_object(name: &str, connection: &str, kind: Value) -> JiraAction {
    let mut spec = json!({"connectionRef": {"name": connection}});
    for (k, v) in kind.as_object().expect("a spec fragment") {
        spec[k] = v.clone();
    }
    serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraAction",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .expect("a JiraAction")
}

/// The action's phase.
pub fn phase(action: &JiraAction) -> Option<ActionPhase> {
    action.status.as_ref().and_then(|s| s.phase)
}

/// The action's `Succeeded` condition as (status, reason).
pub fn succeeded(action: &JiraAction) -> (String, String) {
    action
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, "Succeeded"))
        .map(|c| (c.status.clone(), c.reason.clone()))
        .unwrap_or_default()
}

/// The action's status message.
pub fn message(action: &JiraAction) -> String {
    action
        .status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_default()
}

/// The action's attempt count.
pub fn attempts(action: &JiraAction) -> u32 {
    action.status.as_ref().map_or(0, |s| s.attempts)
}

/// Group names of a simulator user, by accountId.
pub fn groups_of(sim: &SimHandle, account_id: &str) -> Vec<String> {
    sim.with_state(|st| {
        let u = st.user_by_account(account_id).expect("a known user");
        st.users[u as usize]
            .groups
            .iter()
            .map(|g| st.groups[*g as usize].name.clone())
            .collect()
    })
}

/// The value of one series (`name{labels}`) in OpenMetrics text; 0 when absent.
pub fn counter(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// Figures of a burst of actions.
pub struct BurstReport {
    /// Actions in the burst.
    pub actions: usize,
    /// From the first create request to the last action seen Succeeded.
    pub wall: Duration,
    /// Per action, from the return of its create call (the object exists) to the watch event showing it
    /// Succeeded: the latency the operator is responsible for.
    pub watched: Vec<Duration>,
    /// Per action, from the moment its create request was sent to the same watch event: also counts the time
    /// the create request itself took.
    pub from_request: Vec<Duration>,
    /// Per action, from `creationTimestamp` to `completionTime` (one-second resolution).
    pub recorded: Vec<Duration>,
    /// The finished actions.
    pub finished: Vec<JiraAction>,
}

impl BurstReport {
    /// Actions finished per second over the whole burst.
    pub fn throughput(&self) -> f64 {
        self.actions as f64 / self.wall.as_secs_f64()
    }
}

/// The `p`th percentile (0-100, nearest rank) of `values`.
pub fn percentile(values: &[Duration], p: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Creates `count` createIssue actions named `<prefix>-<i>` at once (64 create requests in flight) and waits,
/// by watching, until every one has finished; panics if any fails or the burst takes more than ten minutes.
pub async fn burst(h: &Harness, prefix: &str, count: usize) -> BurstReport {
    use futures::{StreamExt, TryStreamExt};
    use kube::runtime::{WatchStreamExt, watcher};
    use std::collections::HashMap;

    let api = h.actions();
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let watch = tokio::spawn({
        let api = api.clone();
        async move {
            let mut events =
                std::pin::pin!(watcher(api, watcher::Config::default()).applied_objects());
            while let Some(action) = events.try_next().await.expect("the watch of actions") {
                if matches!(
                    phase(&action),
                    Some(ActionPhase::Succeeded | ActionPhase::Failed)
                ) {
                    let _ = seen_tx.send((action.name_any(), Instant::now()));
                }
            }
        }
    });
    // Let the watch establish before the burst.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let start = Instant::now();
    let sent: HashMap<String, (Instant, Instant)> = futures::stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            async move {
                let name = format!("{prefix}-{i}");
                let object = action_object(
                    &name,
                    "acme",
                    json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": format!("Burst {i}")}}),
                );
                let requested = Instant::now();
                api.create(&PostParams::default(), &object)
                    .await
                    .unwrap_or_else(|e| panic!("create {name}: {e}"));
                (name, (requested, Instant::now()))
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let mut done: HashMap<String, Instant> = HashMap::new();
    while done.len() < count {
        match tokio::time::timeout_at(deadline, seen_rx.recv()).await {
            Ok(Some((name, at))) => {
                if sent.contains_key(&name) {
                    done.entry(name).or_insert(at);
                }
            }
            _ => panic!("only {} of {count} actions finished in time", done.len()),
        }
    }
    let wall = done
        .values()
        .max()
        .expect("some actions")
        .duration_since(start);
    watch.abort();

    let finished: Vec<JiraAction> = api
        .list(&ListParams::default())
        .await
        .expect("list the actions")
        .items
        .into_iter()
        .filter(|a| sent.contains_key(&a.name_any()))
        .collect();
    let recorded = finished
        .iter()
        .filter_map(|a| {
            let created = a.metadata.creation_timestamp.as_ref()?.0;
            let completed = a.status.as_ref()?.completion_time.as_ref()?.0;
            Duration::try_from(completed.duration_since(created)).ok()
        })
        .collect();
    let watched = sent
        .iter()
        .map(|(name, (_, created))| done[name].saturating_duration_since(*created))
        .collect();
    let from_request = sent
        .iter()
        .map(|(name, (requested, _))| done[name].saturating_duration_since(*requested))
        .collect();
    BurstReport {
        actions: count,
        wall,
        watched,
        from_request,
        recorded,
        finished,
    }
}
