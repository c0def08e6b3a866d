//! One test's world: a fresh namespace on the shared control plane, an in-process simulator, the objects a test
//! creates (Secrets, JiraConnections, JiraActions built from JSON), the operator's controllers in-process, and
//! the waits (a connection or an action reaching a state, Events).

mod waits;

use crate::{
    env,
    in_process::InProcess,
    settings,
    sim::ADMIN,
    wait::{LIMIT, eventually},
};
use jira_cloud_operator::{
    api::{JiraAction, JiraConnection},
    controller::Settings,
};
use jira_sim::{SimConfig, SimHandle};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};

/// A namespace, a simulator and typed APIs.
pub struct Harness {
    /// Admin client of the control plane.
    pub client: Client,
    /// The test's namespace.
    pub namespace: String,
    /// The simulator (shared with sibling harnesses).
    pub sim: Arc<SimHandle>,
}

impl Harness {
    /// A namespace and a simulator with `config`.
    pub async fn new(prefix: &str, config: SimConfig) -> Harness {
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let sim = jira_sim::start(config).await.expect("the simulator starts");
        let env = env::env(prefix).await;
        Harness {
            client: env.client,
            namespace: env.namespace,
            sim: Arc::new(sim),
        }
    }

    /// [`Harness::new`] with a connection `acme` with the admin's credentials, made Ready by the test (so the
    /// JiraAction tests need no connection controller).
    pub async fn with_acme(prefix: &str, config: SimConfig) -> Harness {
        let h = Harness::new(prefix, config).await;
        h.connection("acme", ADMIN).await;
        h.set_ready("acme", true).await;
        h
    }

    /// Another namespace, with its own Ready connection `acme`, on the same simulator.
    pub async fn sibling(&self, prefix: &str) -> Harness {
        let env = env::env(prefix).await;
        let h = Harness {
            client: env.client,
            namespace: env.namespace,
            sim: self.sim.clone(),
        };
        h.connection("acme", ADMIN).await;
        h.set_ready("acme", true).await;
        h
    }

    /// Stops the simulator (when no sibling shares it any more).
    pub async fn shutdown(self) {
        if let Some(sim) = Arc::into_inner(self.sim) {
            sim.shutdown().await;
        }
    }

    /// The [`settings::actions`] preset for this world.
    pub fn action_settings(&self) -> Settings {
        settings::actions(&self.sim.url(), &self.namespace)
    }

    /// The [`settings::faults`] preset for this world, with a Jira request timeout of `timeout`.
    pub fn fault_settings(&self, timeout: Duration) -> Settings {
        settings::faults(&self.sim.url(), &self.namespace, timeout)
    }

    /// Starts both controllers in-process with `settings`.
    pub fn start(&self, settings: Settings) -> InProcess {
        InProcess::all(self.client.clone(), settings)
    }

    /// Starts the JiraAction controller in-process with [`Harness::action_settings`].
    pub fn start_actions(&self) -> InProcess {
        self.start_actions_with(self.action_settings())
    }

    /// Starts the JiraAction controller in-process with `settings`.
    pub fn start_actions_with(&self, settings: Settings) -> InProcess {
        InProcess::actions(self.client.clone(), settings)
    }

    /// The JiraConnection API of the namespace.
    pub fn connections(&self) -> Api<JiraConnection> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The JiraAction API of the namespace.
    pub fn actions(&self) -> Api<JiraAction> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The simulator's site URL, as a connection's `siteUrl`.
    pub fn site(&self) -> String {
        self.sim.url().as_str().trim_end_matches('/').to_string()
    }

    /// Creates (or replaces) a Secret with string values.
    pub async fn secret(&self, name: &str, data: Value) {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let secret: Secret =
            serde_json::from_value(json!({"metadata": {"name": name}, "stringData": data}))
                .expect("a Secret");
        let _ = api.delete(name, &Default::default()).await;
        eventually("the Secret to be written", LIMIT, || async {
            api.create(&PostParams::default(), &secret).await.ok()
        })
        .await;
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

    /// A Secret `<name>-basic` and a Basic-auth connection `name` to the simulator with `(email, token)`.
    pub async fn connection(&self, name: &str, (email, token): (&str, &str)) {
        self.secret(
            &format!("{name}-basic"),
            json!({"email": email, "apiToken": token}),
        )
        .await;
        self.create_connection(
            name,
            json!({
                "siteUrl": self.sim.url().to_string(),
                "auth": {"basic": {"secretRef": {"name": format!("{name}-basic")}}},
            }),
        )
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

    /// Asks for a sync of `name` now.
    pub async fn request_sync(&self, name: &str, value: &str) {
        let patch = json!({"metadata": {"annotations": {"jiracloud.io/sync-requested": value}}});
        self.connections()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("request a sync");
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

    /// Keys of the simulator's issues that carry the marker label of `action`.
    pub fn marked_issues(&self, action: &JiraAction) -> Vec<String> {
        crate::observed::marked_issues(&self.sim, action)
    }
}

/// A JiraAction object `name` on `connection` with `kind` (a spec fragment).
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
