//! Support of the JiraConnection controller tests: the controller running in-process against the shared test
//! control plane and an in-process simulator, object builders and polling helpers.

#![allow(dead_code)] // each test binary uses a different part of this module

use jira_cloud_operator::{
    api::{
        ANNOTATION_SYNC_REQUESTED, BasicAuth, BasicAuthSecretRef, ConnectionAuth, JiraConnection,
        JiraConnectionSpec, JiraUser, LABEL_CONNECTION, Organization, OrganizationSecretRef,
        ServiceAccountAuth, ServiceAccountSecretRef, find_condition,
    },
    controller::{Context, Settings, connection},
    jira::{Endpoints, Limits},
    metrics::Metrics,
};
use k8s_openapi::{
    api::{core::v1::Secret, events::v1::Event},
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kube::{
    Api, Client, ResourceExt,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::{sync::oneshot, task::JoinHandle};

/// How long a test waits for the controller to reach a state.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// The JiraConnection controller running in-process, watching one namespace.
pub struct Operator {
    /// Its context (metrics can be read from it).
    pub ctx: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Operator {
    /// Starts the controller on `namespace` with every Atlassian service at `sim_url`.
    pub fn start(client: Client, namespace: &str, sim_url: &url::Url) -> Operator {
        Operator::watching(client, vec![namespace.to_string()], sim_url)
    }

    /// Starts the controller on `namespaces` (all namespaces when empty).
    pub fn watching(client: Client, namespaces: Vec<String>, sim_url: &url::Url) -> Operator {
        let settings = Settings {
            endpoints: Endpoints::same_as(sim_url),
            limits: Limits {
                max_concurrency: 8,
                requests_per_second: None,
                backoff_base: Duration::from_millis(20),
                backoff_max: Duration::from_millis(200),
                ..Limits::default()
            },
            jira_timeout: Duration::from_secs(10),
            // Jira's search lag as the simulator plays it is far below the production window of 10 minutes.
            create_outcome_window: Duration::from_secs(3),
            allowed_site_hosts: jira_cloud_operator::jira::AllowedHosts::parse("127.0.0.1")
                .expect("a host"),
            watch_namespaces: namespaces,
            ..Settings::default()
        };
        let ctx = Context::new(client, settings, Arc::new(Metrics::default()));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(connection::run(ctx.clone(), async move {
            let _ = stopped.await;
        }));
        Operator {
            ctx,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Reconciles run so far.
    pub fn reconciles(&self) -> u64 {
        let text = self.ctx.metrics.encode();
        let prefix = "jira_operator_reconciles_total{controller=\"jiraconnection\"} ";
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map_or(0, |n| n.trim().parse().expect("a counter"))
    }

    /// Stops the controller and waits for its in-flight reconciles.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(60), task).await;
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        testenv::audit::save("metrics", "txt", &self.ctx.metrics.encode());
    }
}

/// Creates or replaces a Secret with string values.
pub async fn put_secret(client: &Client, namespace: &str, name: &str, data: &[(&str, &str)]) {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        string_data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        type_: Some("Opaque".into()),
        ..Secret::default()
    };
    // A replace keeps no key of the old value: stringData is merged into data, so delete first.
    let _ = api.delete(name, &Default::default()).await;
    let deadline = Instant::now() + DEADLINE;
    loop {
        match api.create(&PostParams::default(), &secret).await {
            Ok(_) => return,
            // The deletion may not have finished yet.
            Err(kube::Error::Api(s)) if s.code == 409 && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("create Secret {name}: {e}"),
        }
    }
}

/// The spec of a connection with Basic auth from Secret `secret`.
pub fn basic_spec(site: &url::Url, secret: &str) -> JiraConnectionSpec {
    JiraConnectionSpec {
        site_url: site.as_str().trim_end_matches('/').to_string(),
        auth: ConnectionAuth {
            basic: Some(BasicAuth {
                secret_ref: BasicAuthSecretRef {
                    name: secret.into(),
                    email_key: "email".into(),
                    api_token_key: "apiToken".into(),
                },
            }),
            service_account: None,
        },
        organization: None,
        sync: Default::default(),
        inventory: Default::default(),
    }
}

/// The spec of a connection with an OAuth service account from Secret `secret`.
pub fn service_account_spec(site: &url::Url, cloud_id: &str, secret: &str) -> JiraConnectionSpec {
    JiraConnectionSpec {
        auth: ConnectionAuth {
            basic: None,
            service_account: Some(ServiceAccountAuth {
                cloud_id: cloud_id.into(),
                secret_ref: ServiceAccountSecretRef {
                    name: secret.into(),
                    client_id_key: "clientId".into(),
                    client_secret_key: "clientSecret".into(),
                },
            }),
        },
        ..basic_spec(site, "unused")
    }
}

/// Adds an organization (Admin API key from Secret `secret`).
pub fn with_organization(
    mut spec: JiraConnectionSpec,
    org_id: &str,
    secret: &str,
) -> JiraConnectionSpec {
    spec.organization = Some(Organization {
        id: org_id.into(),
        secret_ref: OrganizationSecretRef {
            name: secret.into(),
            api_key_key: "apiKey".into(),
        },
    });
    spec
}

/// Creates a connection.
pub async fn create_connection(
    client: &Client,
    namespace: &str,
    name: &str,
    spec: JiraConnectionSpec,
) -> JiraConnection {
    let api: Api<JiraConnection> = Api::namespaced(client.clone(), namespace);
    api.create(&PostParams::default(), &JiraConnection::new(name, spec))
        .await
        .unwrap_or_else(|e| panic!("create JiraConnection {name}: {e}"))
}

/// Sets the sync-requested annotation.
pub async fn request_sync(client: &Client, namespace: &str, name: &str, value: &str) {
    let api: Api<JiraConnection> = Api::namespaced(client.clone(), namespace);
    let patch =
        serde_json::json!({"metadata": {"annotations": {ANNOTATION_SYNC_REQUESTED: value}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate the connection");
}

/// Merges `patch` into the connection's spec.
pub async fn patch_spec(client: &Client, namespace: &str, name: &str, patch: serde_json::Value) {
    let api: Api<JiraConnection> = Api::namespaced(client.clone(), namespace);
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(&serde_json::json!({ "spec": patch })),
    )
    .await
    .expect("patch the connection");
}

/// `(status, reason)` of a condition, if present.
pub fn condition(c: &JiraConnection, type_: &str) -> Option<(String, String)> {
    let st = c.status.as_ref()?;
    find_condition(&st.conditions, type_).map(|c| (c.status.clone(), c.reason.clone()))
}

/// True when the condition has this status and reason and describes the current generation.
pub fn has(c: &JiraConnection, type_: &str, status: &str, reason: &str) -> bool {
    let Some(st) = c.status.as_ref() else {
        return false;
    };
    find_condition(&st.conditions, type_).is_some_and(|cond| {
        cond.status == status
            && cond.reason == reason
            && cond.observed_generation == c.metadata.generation
    })
}

/// Polls the connection until `ok` holds, panicking with its last status after [`DEADLINE`].
pub async fn wait_for(
    client: &Client,
    namespace: &str,
    name: &str,
    what: &str,
    ok: impl Fn(&JiraConnection) -> bool,
) -> JiraConnection {
    wait_for_within(client, namespace, name, what, DEADLINE, ok).await
}

/// [`wait_for`] with another deadline.
pub async fn wait_for_within(
    client: &Client,
    namespace: &str,
    name: &str,
    what: &str,
    limit: Duration,
    ok: impl Fn(&JiraConnection) -> bool,
) -> JiraConnection {
    let api: Api<JiraConnection> = Api::namespaced(client.clone(), namespace);
    let deadline = Instant::now() + limit;
    loop {
        let c = api.get(name).await.expect("get the connection");
        if ok(&c) {
            return c;
        }
        if Instant::now() > deadline {
            panic!(
                "{namespace}/{name}: timed out waiting for {what}; status: {}",
                serde_json::to_string_pretty(&c.status).unwrap()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits for `Ready=False` with `reason`.
pub async fn wait_not_ready(
    client: &Client,
    namespace: &str,
    name: &str,
    reason: &str,
) -> JiraConnection {
    wait_for(
        client,
        namespace,
        name,
        &format!("Ready=False/{reason}"),
        |c| has(c, "Ready", "False", reason),
    )
    .await
}

/// Waits for `Ready=True` after a sync that handled `request` (any sync when `None`).
pub async fn wait_ready(
    client: &Client,
    namespace: &str,
    name: &str,
    request: Option<&str>,
) -> JiraConnection {
    wait_for(client, namespace, name, "Ready=True", |c| {
        has(c, "Ready", "True", "Synced")
            && request.is_none_or(|r| {
                c.status
                    .as_ref()
                    .and_then(|s| s.last_sync_request.as_deref())
                    == Some(r)
            })
    })
    .await
}

/// The JiraUsers of a connection.
pub async fn jira_users(
    client: &Client,
    namespace: &str,
    connection: &str,
    extra: &str,
) -> Vec<JiraUser> {
    let api: Api<JiraUser> = Api::namespaced(client.clone(), namespace);
    let mut selector = format!("{LABEL_CONNECTION}={connection}");
    if !extra.is_empty() {
        selector = format!("{selector},{extra}");
    }
    api.list(&ListParams::default().labels(&selector))
        .await
        .expect("list JiraUsers")
        .items
}

/// Polls the JiraUsers of a connection until `ok` holds.
pub async fn wait_users(
    client: &Client,
    namespace: &str,
    connection: &str,
    what: &str,
    ok: impl Fn(&[JiraUser]) -> bool,
) -> Vec<JiraUser> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let users = jira_users(client, namespace, connection, "").await;
        if ok(&users) {
            return users;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {} JiraUsers",
            users.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `name -> resourceVersion` of the JiraUsers of a connection.
pub async fn resource_versions(
    client: &Client,
    namespace: &str,
    connection: &str,
) -> BTreeMap<String, String> {
    jira_users(client, namespace, connection, "")
        .await
        .into_iter()
        .map(|u| (u.name_any(), u.resource_version().unwrap_or_default()))
        .collect()
}

/// `(type, reason, note)` of the Events about an object.
pub async fn events(client: &Client, namespace: &str, name: &str) -> Vec<(String, String, String)> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    api.list(&ListParams::default())
        .await
        .expect("list Events")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .map(|e| {
            (
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.note.unwrap_or_default(),
            )
        })
        .collect()
}

/// Polls until a Warning Event with `reason` exists about the object; returns its note.
pub async fn wait_warning(client: &Client, namespace: &str, name: &str, reason: &str) -> String {
    wait_event(client, namespace, name, "Warning", reason).await
}

/// Polls until an Event of `type_` with `reason` exists about the object (the status that reports a change is
/// written before its Event); returns its note.
pub async fn wait_event(
    client: &Client,
    namespace: &str,
    name: &str,
    type_: &str,
    reason: &str,
) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let found = events(client, namespace, name)
            .await
            .into_iter()
            .find(|(t, r, _)| t == type_ && r == reason);
        if let Some((_, _, note)) = found {
            return note;
        }
        assert!(
            Instant::now() < deadline,
            "no {type_} Event {reason} about {namespace}/{name}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
