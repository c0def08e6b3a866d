//! The world of the JiraLicensePolicy tests: a simulator serving a site whose inactive holders are known in
//! advance, a namespace with a JiraConnection to it, and every controller of the operator running in-process
//! (the [`settings::connections`] preset).

use crate::{InProcess, TestEnv, connection as cs, env, settings, wait::DEADLINE};
use jira_cloud_operator::api::{
    JiraAction, JiraConnection, JiraLicensePolicy, JiraUser, find_condition,
};
use jira_sim::{Scenario, SimConfig, SimHandle};
use kube::{
    Api, Client, ResourceExt,
    api::{ListParams, Patch, PatchParams},
};
use std::time::{Duration, Instant};

/// The connection of every test.
pub const CONNECTION: &str = "acme";

/// One test's world.
pub struct World {
    /// Admin client of the control plane and the test's namespace.
    pub env: TestEnv,
    /// The simulator.
    pub sim: SimHandle,
    operator: Option<InProcess>,
    syncs: u32,
}

impl World {
    /// Starts the simulator with `scenario`, creates the connection (Basic auth as the site admin) whose
    /// observed history starts `history_days` days ago (its first sync, as the test sets it), starts the
    /// operator and waits for the first sync.
    pub async fn start(prefix: &str, scenario: &str, history_days: i64) -> World {
        World::begin(prefix, scenario, history_days, false).await
    }

    /// [`World::start`] with the site's organization configured (the Admin API key in a Secret), so that the
    /// users' roles and the Admin API's last-active dates are known.
    pub async fn start_with_organization(prefix: &str, scenario: &str, history_days: i64) -> World {
        World::begin(prefix, scenario, history_days, true).await
    }

    async fn begin(prefix: &str, scenario: &str, history_days: i64, organization: bool) -> World {
        crate::plane::audit::install_trace_log();
        let scenario = Scenario::from_yaml(scenario).expect("a valid scenario");
        let sim = jira_sim::start(SimConfig {
            scenario,
            ..SimConfig::default()
        })
        .await
        .expect("the simulator starts");
        let env = env::env(prefix).await;
        env.put_secret(
            "jira-basic",
            &[
                ("email", "admin@example.com"),
                ("apiToken", "classic-admin-token"),
            ],
        )
        .await;
        let mut spec = cs::basic_spec(&sim.url(), "jira-basic");
        if organization {
            env.put_secret("atlassian-admin", &[("apiKey", "sim-admin-key")])
                .await;
            spec = cs::with_organization(spec, &sim.org_id(), "atlassian-admin");
        }
        env.create_connection(CONNECTION, spec).await;
        // The history the operator observed starts one usage window before its first sync: set the first
        // sync in the past, as if the operator had been running since then.
        let first = chrono::Utc::now() - chrono::Duration::days(history_days);
        let api: Api<JiraConnection> = Api::namespaced(env.client.clone(), &env.namespace);
        api.patch_status(
            CONNECTION,
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({"status": {"firstSyncTime": first.format("%Y-%m-%dT%H:%M:%SZ").to_string()}})),
        )
        .await
        .expect("set the first sync time");
        let operator = Some(start_operator(&env.client, &env.namespace, &sim));
        let w = World {
            env,
            sim,
            operator,
            syncs: 0,
        };
        w.env.wait_ready(CONNECTION, None).await;
        // The holders were there at that first sync: they are first seen then, not now.
        let users: Api<JiraUser> = Api::namespaced(w.env.client.clone(), &w.env.namespace);
        let first_seen = serde_json::json!({"status": {"firstSeenTime": first.format("%Y-%m-%dT%H:%M:%SZ").to_string()}});
        for u in w.env.jira_users(CONNECTION, "").await {
            if u.status
                .as_ref()
                .is_some_and(|s| s.first_seen_time.is_some())
            {
                users
                    .patch(
                        &u.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(&first_seen),
                    )
                    .await
                    .expect("set a holder's first sighting");
            }
        }
        w
    }

    /// Stops the operator and starts another one (which has no cache of earlier syncs: its next sync reads
    /// the whole usage window again).
    pub async fn restart(&mut self) {
        self.halt().await;
        self.operator = Some(start_operator(
            &self.env.client,
            &self.env.namespace,
            &self.sim,
        ));
    }

    async fn halt(&mut self) {
        if let Some(operator) = self.operator.take() {
            operator.stop().await;
        }
    }

    /// Asks for a sync and waits until it completed.
    pub async fn resync(&mut self) {
        self.syncs += 1;
        let value = format!("resync-{}", self.syncs);
        self.env.request_sync(CONNECTION, &value).await;
        self.env.wait_ready(CONNECTION, Some(&value)).await;
    }

    /// Creates a policy from a YAML spec (flow style, without braces).
    pub async fn policy(&self, name: &str, spec: &str) -> JiraLicensePolicy {
        let manifest = format!(
            "apiVersion: jiracloud.io/v1alpha1\nkind: JiraLicensePolicy\nmetadata: {{name: {name}}}\nspec: {{connectionRef: {{name: {CONNECTION}}}, {spec}}}\n"
        );
        let obj = &crate::parse_manifests(&manifest)[0];
        crate::typed(
            crate::create(&self.env.client, &self.env.namespace, obj)
                .await
                .unwrap_or_else(|e| panic!("create policy {name}: {e}")),
        )
    }

    /// Merges `patch` into a policy's spec.
    pub async fn patch_policy(&self, name: &str, patch: serde_json::Value) {
        self.policies()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(&serde_json::json!({ "spec": patch })),
            )
            .await
            .expect("patch the policy");
    }

    /// The policies API of the namespace.
    pub fn policies(&self) -> Api<JiraLicensePolicy> {
        Api::namespaced(self.env.client.clone(), &self.env.namespace)
    }

    /// Polls a policy until `ok` holds.
    pub async fn wait_policy(
        &self,
        name: &str,
        what: &str,
        ok: impl Fn(&JiraLicensePolicy) -> bool,
    ) -> JiraLicensePolicy {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let p = self.policies().get(name).await.expect("get the policy");
            if ok(&p) {
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "{name}: timed out waiting for {what}; status: {}",
                serde_json::to_string_pretty(&p.status).unwrap()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the policy evaluated the connection's latest sync for its current generation.
    pub async fn evaluated(&self, name: &str) -> JiraLicensePolicy {
        let connections: Api<JiraConnection> =
            Api::namespaced(self.env.client.clone(), &self.env.namespace);
        let synced = connections
            .get(CONNECTION)
            .await
            .expect("get the connection")
            .status
            .and_then(|s| s.last_sync_time);
        self.wait_policy(name, "an evaluation of the latest sync", |p| {
            p.status.as_ref().is_some_and(|s| {
                s.inventory_time == synced
                    && s.observed_generation == p.metadata.generation
                    && find_condition(&s.conditions, "Ready").is_some_and(|c| {
                        c.status == "True" && c.observed_generation == p.metadata.generation
                    })
            })
        })
        .await
    }

    /// The JiraActions of the namespace.
    pub async fn actions(&self) -> Vec<JiraAction> {
        let api: Api<JiraAction> = Api::namespaced(self.env.client.clone(), &self.env.namespace);
        api.list(&ListParams::default())
            .await
            .expect("list JiraActions")
            .items
    }

    /// Annotates the JiraUser of `email` with `jiracloud.io/protected=true`.
    pub async fn protect(&self, email: &str) {
        let users = self.env.jira_users(CONNECTION, "").await;
        let user = users
            .iter()
            .find(|u| u.status.as_ref().is_some_and(|s| s.email == email))
            .unwrap_or_else(|| panic!("no JiraUser for {email}"));
        let api: Api<JiraUser> = Api::namespaced(self.env.client.clone(), &self.env.namespace);
        api.patch(
            &user.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({"metadata": {"annotations": {"jiracloud.io/protected": "true"}}})),
        )
        .await
        .expect("annotate the JiraUser");
    }

    /// The groups of the account with `email` in the simulator, sorted.
    pub fn groups_of(&self, email: &str) -> Vec<String> {
        self.sim.with_state(|st| {
            let u = st
                .user_ref(email)
                .unwrap_or_else(|| panic!("no user {email}"));
            let mut names: Vec<String> = st.users[u as usize]
                .groups
                .iter()
                .map(|&g| st.groups[g as usize].name.clone())
                .collect();
            names.sort();
            names
        })
    }

    /// Writes a comment by `email` 88 s ago (older than what a sync leaves to the next one), on the first
    /// issue, and waits until the next sync counts it.
    pub async fn comment_now(&self, email: &str) {
        self.sim.with_state(|st| {
            let u = st
                .user_ref(email)
                .unwrap_or_else(|| panic!("no user {email}"));
            let issue = st.issue_ref("ENG-1").expect("issue ENG-1");
            let at = jira_sim::format::now_ms() - 88_000;
            st.add_comment(issue, Some(u), "Back from leave.".into(), at);
        });
        // A sync counts the events up to 90 s before it starts, from where the previous one stopped (also after a
        // restart: the cache is stored): the comment is 88 s old, and the next sync starts more than 2 s later.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }

    /// Requests the simulator received that change something (anything but reads and searches).
    pub fn writes(&self) -> Vec<String> {
        self.sim
            .received_requests()
            .into_iter()
            .filter(|r| {
                r.method != "GET" && !r.path.contains("/search") && !r.path.contains("/oauth/token")
            })
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// Stops the operator.
    pub async fn stop(mut self) {
        self.halt().await;
    }
}

/// Starts every controller of the operator in-process, watching `namespace`, with Jira at the simulator.
fn start_operator(client: &Client, namespace: &str, sim: &SimHandle) -> InProcess {
    InProcess::all(
        client.clone(),
        settings::connections(&sim.url(), &[namespace]),
    )
}
