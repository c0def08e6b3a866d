//! JiraConnections of the connection controller tests: their specs, and the methods of a [`TestEnv`] that write
//! Secrets and connections in its namespace, set the sync-requested annotation, and poll a connection's status,
//! its JiraUsers and its Events.

use crate::{TestEnv, observed::has, wait::DEADLINE};
use jira_cloud_operator::api::{
    ANNOTATION_SYNC_REQUESTED, BasicAuth, BasicAuthSecretRef, ConnectionAuth, JiraConnection,
    JiraConnectionSpec, JiraUser, LABEL_CONNECTION, Organization, OrganizationSecretRef,
    ServiceAccountAuth, ServiceAccountSecretRef,
};
use k8s_openapi::{
    api::{core::v1::Secret, events::v1::Event},
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kube::{
    Api, ResourceExt,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

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

/// The connection controller tests' helpers, in the test's namespace.
impl TestEnv {
    /// Creates or replaces a Secret with string values.
    pub async fn put_secret(&self, name: &str, data: &[(&str, &str)]) {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
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

    /// Puts the classic admin's credentials in the Secret `jira-basic`: what [`basic_spec`] refers to.
    pub async fn put_admin_secret(&self) {
        self.put_secret(
            "jira-basic",
            &[
                ("email", "admin@example.com"),
                ("apiToken", "classic-admin-token"),
            ],
        )
        .await;
    }

    /// Creates a connection.
    pub async fn create_connection(&self, name: &str, spec: JiraConnectionSpec) -> JiraConnection {
        let api: Api<JiraConnection> = Api::namespaced(self.client.clone(), &self.namespace);
        api.create(&PostParams::default(), &JiraConnection::new(name, spec))
            .await
            .unwrap_or_else(|e| panic!("create JiraConnection {name}: {e}"))
    }

    /// Sets the sync-requested annotation.
    pub async fn request_sync(&self, name: &str, value: &str) {
        let api: Api<JiraConnection> = Api::namespaced(self.client.clone(), &self.namespace);
        let patch =
            serde_json::json!({"metadata": {"annotations": {ANNOTATION_SYNC_REQUESTED: value}}});
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("annotate the connection");
    }

    /// Merges `patch` into the connection's spec.
    pub async fn patch_spec(&self, name: &str, patch: serde_json::Value) {
        let api: Api<JiraConnection> = Api::namespaced(self.client.clone(), &self.namespace);
        api.patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({ "spec": patch })),
        )
        .await
        .expect("patch the connection");
    }

    /// Polls the connection until `ok` holds, panicking with its last status after [`DEADLINE`].
    pub async fn wait_for(
        &self,
        name: &str,
        what: &str,
        ok: impl Fn(&JiraConnection) -> bool,
    ) -> JiraConnection {
        self.wait_for_within(name, what, DEADLINE, ok).await
    }

    /// [`TestEnv::wait_for`] with another deadline.
    pub async fn wait_for_within(
        &self,
        name: &str,
        what: &str,
        limit: Duration,
        ok: impl Fn(&JiraConnection) -> bool,
    ) -> JiraConnection {
        let api: Api<JiraConnection> = Api::namespaced(self.client.clone(), &self.namespace);
        let deadline = Instant::now() + limit;
        loop {
            let c = api.get(name).await.expect("get the connection");
            if ok(&c) {
                return c;
            }
            if Instant::now() > deadline {
                panic!(
                    "{}/{name}: timed out waiting for {what}; status: {}",
                    self.namespace,
                    serde_json::to_string_pretty(&c.status).unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits for `Ready=False` with `reason`.
    pub async fn wait_not_ready(&self, name: &str, reason: &str) -> JiraConnection {
        self.wait_for(name, &format!("Ready=False/{reason}"), |c| {
            has(c, "Ready", "False", reason)
        })
        .await
    }

    /// Waits for `Ready=True` after a sync that handled `request` (any sync when `None`).
    pub async fn wait_ready(&self, name: &str, request: Option<&str>) -> JiraConnection {
        self.wait_for(name, "Ready=True", |c| {
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
    pub async fn jira_users(&self, connection: &str, extra: &str) -> Vec<JiraUser> {
        let api: Api<JiraUser> = Api::namespaced(self.client.clone(), &self.namespace);
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
        &self,
        connection: &str,
        what: &str,
        ok: impl Fn(&[JiraUser]) -> bool,
    ) -> Vec<JiraUser> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let users = self.jira_users(connection, "").await;
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
    pub async fn resource_versions(&self, connection: &str) -> BTreeMap<String, String> {
        self.jira_users(connection, "")
            .await
            .into_iter()
            .map(|u| (u.name_any(), u.resource_version().unwrap_or_default()))
            .collect()
    }

    /// `(type, reason, note)` of the Events about an object.
    pub async fn events(&self, name: &str) -> Vec<(String, String, String)> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
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
    pub async fn wait_warning(&self, name: &str, reason: &str) -> String {
        self.wait_event(name, "Warning", reason).await
    }

    /// Polls until an Event of `type_` with `reason` exists about the object (the status that reports a change is
    /// written before its Event); returns its note.
    pub async fn wait_event(&self, name: &str, type_: &str, reason: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let found = self
                .events(name)
                .await
                .into_iter()
                .find(|(t, r, _)| t == type_ && r == reason);
            if let Some((_, _, note)) = found {
                return note;
            }
            assert!(
                Instant::now() < deadline,
                "no {type_} Event {reason} about {}/{name}",
                self.namespace
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
