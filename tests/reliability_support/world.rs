//! One test's world for the fault tests: a namespace on the shared control plane, a simulator, objects built
//! from JSON, the operator's controllers in-process, and the checks the fault matrix repeats (figures of a sync,
//! one effect per action).

#![allow(dead_code)] // each test binary uses a different part of this module

use crate::reliability_support::eventually;
use crate::support;
use jira_cloud_operator::{
    api::{ActionPhase, JiraAction, JiraConnection, find_condition},
    controller::{self, Context, Settings},
    jira::{Endpoints, Limits},
    metrics::Metrics,
};
use jira_sim::{SimConfig, SimHandle};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};
use tokio::{sync::oneshot, task::JoinHandle};

/// How long a state may take to be reached.
pub const LIMIT: Duration = Duration::from_secs(180);

/// A namespace, a simulator and typed APIs.
pub struct World {
    /// Admin client.
    pub client: Client,
    /// The test's namespace.
    pub ns: String,
    /// The simulator.
    pub sim: SimHandle,
}

/// The JiraConnection and JiraAction controllers running in-process.
pub struct InProcess {
    /// Their context.
    pub ctx: Arc<Context>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl InProcess {
    /// Stops the controllers (graceful) and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(60), self.task).await;
    }
}

impl World {
    /// A namespace and a simulator with `config`.
    pub async fn new(prefix: &str, config: SimConfig) -> World {
        let env = support::env(prefix).await;
        let sim = jira_sim::start(config).await.expect("the simulator starts");
        World {
            client: env.client,
            ns: env.namespace,
            sim,
        }
    }

    /// Settings of an operator talking to the simulator with a short request timeout and quick retries.
    pub fn settings(&self, timeout: Duration) -> Settings {
        Settings {
            endpoints: Endpoints::same_as(&self.sim.url()),
            limits: Limits {
                max_concurrency: 4,
                requests_per_second: None,
                max_retries: 3,
                backoff_base: Duration::from_millis(50),
                backoff_max: Duration::from_millis(400),
                ..Limits::default()
            },
            jira_timeout: timeout,
            // Jira's search lag as the simulator plays it is far below the production window of 10 minutes.
            create_outcome_window: Duration::from_secs(3),
            allowed_site_hosts: jira_cloud_operator::jira::AllowedHosts::parse("127.0.0.1")
                .expect("a host"),
            watch_namespaces: vec![self.ns.clone()],
            ..Settings::default()
        }
    }

    /// Starts both controllers in-process with `settings`.
    pub fn start(&self, settings: Settings) -> InProcess {
        let ctx = Context::new(self.client.clone(), settings, Arc::new(Metrics::default()));
        let (stop, stopped) = oneshot::channel::<()>();
        let run = controller::runner::run(ctx.clone(), async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move {
            run.await.expect("the controllers stop only when asked to");
        });
        InProcess { ctx, stop, task }
    }

    /// The JiraConnection API.
    pub fn connections(&self) -> Api<JiraConnection> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// The JiraAction API.
    pub fn actions(&self) -> Api<JiraAction> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Creates (or replaces) a Secret with string values.
    pub async fn secret(&self, name: &str, data: Value) {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.ns);
        let secret: Secret =
            serde_json::from_value(json!({"metadata": {"name": name}, "stringData": data}))
                .expect("a Secret");
        let _ = api.delete(name, &Default::default()).await;
        eventually("the Secret to be written", LIMIT, || async {
            api.create(&PostParams::default(), &secret).await.ok()
        })
        .await;
    }

    /// A Basic-auth connection `name` with the simulator's admin token and its organization.
    pub async fn basic_connection(&self, name: &str) {
        self.secret(
            &format!("{name}-basic"),
            json!({"email": "admin@example.com", "apiToken": "classic-admin-token"}),
        )
        .await;
        self.secret(&format!("{name}-org"), json!({"apiKey": "sim-admin-key"}))
            .await;
        self.create_connection(
            name,
            json!({
                "siteUrl": self.site(),
                "auth": {"basic": {"secretRef": {"name": format!("{name}-basic")}}},
                "organization": {"id": self.sim.org_id(), "secretRef": {"name": format!("{name}-org")}},
            }),
        )
        .await;
    }

    /// An OAuth service-account connection `name`.
    pub async fn oauth_connection(&self, name: &str) {
        self.secret(
            &format!("{name}-oauth"),
            json!({"clientId": "sim-client-id", "clientSecret": "sim-client-secret"}),
        )
        .await;
        self.create_connection(
            name,
            json!({
                "siteUrl": self.site(),
                "auth": {"serviceAccount": {"cloudId": self.sim.cloud_id(), "secretRef": {"name": format!("{name}-oauth")}}},
            }),
        )
        .await;
    }

    /// The simulator's site URL, as a connection's `siteUrl`.
    pub fn site(&self) -> String {
        self.sim.url().as_str().trim_end_matches('/').to_string()
    }

    /// Creates a connection `name` with `spec`.
    pub async fn create_connection(&self, name: &str, spec: Value) {
        let c: JiraConnection = serde_json::from_value(json!({
            "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraConnection",
            "metadata": {"name": name}, "spec": spec,
        }))
        .expect("a JiraConnection");
        self.connections()
            .create(&PostParams::default(), &c)
            .await
            .expect("create the JiraConnection");
    }

    /// Creates action `name` on `connection` with `kind` (e.g. `{"deleteIssue": {"issue": "ENG-3"}}`).
    pub async fn action(&self, name: &str, connection: &str, kind: Value) -> JiraAction {
        let mut spec = json!({"connectionRef": {"name": connection}});
        for (k, v) in kind.as_object().expect("a fragment") {
            spec[k] = v.clone();
        }
        let a: JiraAction = serde_json::from_value(json!({
            "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraAction",
            "metadata": {"name": name}, "spec": spec,
        }))
        .expect("a JiraAction");
        self.actions()
            .create(&PostParams::default(), &a)
            .await
            .expect("create the JiraAction")
    }

    /// Asks for a sync of `name` now.
    pub async fn request_sync(&self, name: &str, value: &str) {
        let patch = json!({"metadata": {"annotations": {"jiracloud.io/sync-requested": value}}});
        self.connections()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("request a sync");
    }

    /// Waits until the connection satisfies `ok`.
    pub async fn wait_connection(
        &self,
        name: &str,
        what: &str,
        ok: impl Fn(&JiraConnection) -> bool,
    ) -> JiraConnection {
        let api = self.connections();
        eventually(&format!("{name}: {what}"), LIMIT, || async {
            api.get(name).await.ok().filter(|c| ok(c))
        })
        .await
    }

    /// Waits until the connection handled `request` and its Synced condition is True.
    pub async fn synced_after(&self, name: &str, request: &str) -> JiraConnection {
        self.wait_connection(name, &format!("synced after request {request}"), |c| {
            c.status
                .as_ref()
                .is_some_and(|s| s.last_sync_request.as_deref() == Some(request))
                && condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await
    }

    /// Waits until the action satisfies `ok`.
    pub async fn wait_action(
        &self,
        name: &str,
        what: &str,
        ok: impl Fn(&JiraAction) -> bool,
    ) -> JiraAction {
        let api = self.actions();
        eventually(&format!("action {name}: {what}"), LIMIT, || async {
            api.get(name).await.ok().filter(|a| ok(a))
        })
        .await
    }

    /// The note of a Warning Event with `reason` about the object `name`, if one exists.
    pub async fn warning_note(&self, name: &str, reason: &str) -> Option<String> {
        let api: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.client.clone(), &self.ns);
        api.list(&Default::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| {
                e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                    && e.type_.as_deref() == Some("Warning")
                    && e.reason.as_deref() == Some(reason)
            })
            .and_then(|e| e.note)
    }

    /// Waits until every action of `names` finished and returns them.
    pub async fn finished(&self, names: &[String]) -> Vec<JiraAction> {
        let api = self.actions();
        let mut out = Vec::new();
        for name in names {
            let a = eventually(&format!("action {name} to finish"), LIMIT, || async {
                api.get(name).await.ok().filter(|a| {
                    matches!(
                        a.status.as_ref().and_then(|s| s.phase),
                        Some(ActionPhase::Succeeded | ActionPhase::Failed)
                    )
                })
            })
            .await;
            out.push(a);
        }
        out
    }

    /// Issues of the simulator carrying the marker label of `action`.
    pub fn marked_issues(&self, action: &JiraAction) -> Vec<String> {
        let marker = controller::action::status::marker_of(action);
        self.sim.with_state(|st| st.issues_with_label(&marker))
    }
}

/// `(status, reason)` of a condition.
pub fn condition(c: &JiraConnection, type_: &str) -> Option<(String, String)> {
    let st = c.status.as_ref()?;
    find_condition(&st.conditions, type_).map(|c| (c.status.clone(), c.reason.clone()))
}

/// The figures of a connection's status: users, roles, licenses and usage.
pub fn figures(c: &JiraConnection) -> Value {
    let st = serde_json::to_value(c.status.as_ref().expect("a status")).expect("serializes");
    json!({
        "users": st["users"],
        "roles": st["roles"],
        "licenses": st["licenses"],
        "usage": st["usage"],
    })
}
