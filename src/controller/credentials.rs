//! Credentials of a JiraConnection, read from Secrets in its own namespace, and the cache of connected Jira
//! clients (one per connection, rebuilt when the spec or a Secret changes).

use super::Context;
use crate::{
    api::JiraConnection,
    error::Classify,
    jira::{
        AdminCredentials, ClientConfig, Credentials, Grants, JiraClient, JiraError, RequestStats,
        SecretString,
    },
    metrics::{ConnectionLabels, Metrics, RequestLabels},
};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use url::Url;

/// Largest accepted credential value, in bytes.
pub const MAX_VALUE_BYTES: usize = 4096;

/// A problem with the Secrets a connection references.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The Secret does not exist in the connection's namespace.
    #[error(
        "Secret {namespace}/{name} not found: create it in the JiraConnection's namespace with the keys {keys}"
    )]
    SecretNotFound {
        /// Namespace of the connection.
        namespace: String,
        /// Name of the Secret.
        name: String,
        /// The keys the Secret must hold.
        keys: String,
    },
    /// The Secret lacks a key.
    #[error(
        "Secret {namespace}/{name} has no key {key:?}: add it, or set the key name in the JiraConnection's secretRef"
    )]
    SecretKeyMissing {
        /// Namespace of the connection.
        namespace: String,
        /// Name of the Secret.
        name: String,
        /// The missing key.
        key: String,
    },
    /// A value cannot be a credential.
    #[error("key {key:?} of Secret {namespace}/{name} {problem}: store the plain value")]
    SecretValueInvalid {
        /// Namespace of the connection.
        namespace: String,
        /// Name of the Secret.
        name: String,
        /// The key.
        key: String,
        /// What is wrong (never the value itself).
        problem: &'static str,
    },
    /// The Secret could not be read.
    #[error("reading Secret {namespace}/{name}: {source}")]
    Kubernetes {
        /// Namespace of the connection.
        namespace: String,
        /// Name of the Secret.
        name: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
}

impl Classify for CredentialError {
    fn reason(&self) -> &'static str {
        match self {
            Self::SecretNotFound { .. } => "SecretNotFound",
            Self::SecretKeyMissing { .. } => "SecretKeyMissing",
            Self::SecretValueInvalid { .. } => "SecretValueInvalid",
            Self::Kubernetes { .. } => "KubernetesError",
        }
    }

    /// Only a failed read of the Secret may go away without a change by the user.
    fn is_transient(&self) -> bool {
        matches!(self, Self::Kubernetes { .. })
    }
}

/// Why a connection could not produce a connected client.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The Secrets are missing or wrong.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// Jira refused or could not be reached.
    #[error(transparent)]
    Jira(#[from] JiraError),
}

impl Classify for ConnectError {
    fn reason(&self) -> &'static str {
        match self {
            Self::Credentials(e) => e.reason(),
            Self::Jira(e) => e.reason(),
        }
    }

    fn is_transient(&self) -> bool {
        match self {
            Self::Credentials(e) => e.is_transient(),
            Self::Jira(e) => e.is_transient(),
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Credentials(e) => e.retry_after(),
            Self::Jira(e) => e.retry_after(),
        }
    }
}

struct SecretReader {
    api: Api<Secret>,
    namespace: String,
    fingerprint: Sha256,
}

impl SecretReader {
    async fn read(&mut self, name: &str, keys: &[&str]) -> Result<Vec<String>, CredentialError> {
        let secret =
            self.api
                .get_opt(name)
                .await
                .map_err(|source| CredentialError::Kubernetes {
                    namespace: self.namespace.clone(),
                    name: name.into(),
                    source,
                })?;
        let Some(secret) = secret else {
            return Err(CredentialError::SecretNotFound {
                namespace: self.namespace.clone(),
                name: name.into(),
                keys: keys.join(", "),
            });
        };
        let data = secret.data.unwrap_or_default();
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            let invalid = |problem| CredentialError::SecretValueInvalid {
                namespace: self.namespace.clone(),
                name: name.into(),
                key: (*key).into(),
                problem,
            };
            let bytes = data
                .get(*key)
                .ok_or_else(|| CredentialError::SecretKeyMissing {
                    namespace: self.namespace.clone(),
                    name: name.into(),
                    key: (*key).into(),
                })?;
            let value = parse_value(&bytes.0).map_err(invalid)?;
            self.fingerprint.update(name.as_bytes());
            self.fingerprint.update([0]);
            self.fingerprint.update(key.as_bytes());
            self.fingerprint.update([0]);
            self.fingerprint.update(value.as_bytes());
            self.fingerprint.update([0]);
            values.push(value);
        }
        Ok(values)
    }
}

/// Checks one credential value: UTF-8, not empty, not huge; surrounding whitespace (a trailing newline from
/// `echo`) is dropped.
pub fn parse_value(bytes: &[u8]) -> Result<String, &'static str> {
    if bytes.len() > MAX_VALUE_BYTES {
        return Err("is longer than 4096 bytes");
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text")?;
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty");
    }
    if text.chars().any(char::is_control) {
        return Err("contains control characters");
    }
    Ok(text.to_string())
}

/// Reads the Secrets of a connection and builds the client configuration. Returns it with a fingerprint of
/// everything it was built from (spec and secret values, hashed), to know when a cached client is stale.
pub async fn load_config(
    ctx: &Context,
    connection: &JiraConnection,
) -> Result<(ClientConfig, [u8; 32]), ConnectError> {
    let namespace = connection.namespace().unwrap_or_default();
    let mut reader = SecretReader {
        api: Api::namespaced(ctx.client.clone(), &namespace),
        namespace: namespace.clone(),
        fingerprint: Sha256::new(),
    };
    let spec = &connection.spec;
    reader
        .fingerprint
        .update(serde_json::to_vec(spec).expect("a spec serializes"));
    let credentials = match (&spec.auth.basic, &spec.auth.service_account) {
        (Some(basic), _) => {
            let r = &basic.secret_ref;
            let mut v = reader
                .read(&r.name, &[&r.email_key, &r.api_token_key])
                .await?;
            let api_token = SecretString::from(v.pop().expect("two values"));
            let email = v.pop().expect("two values");
            Credentials::Basic { email, api_token }
        }
        (None, Some(sa)) => {
            let r = &sa.secret_ref;
            let mut v = reader
                .read(&r.name, &[&r.client_id_key, &r.client_secret_key])
                .await?;
            let client_secret = SecretString::from(v.pop().expect("two values"));
            let client_id = v.pop().expect("two values");
            Credentials::ServiceAccount {
                cloud_id: sa.cloud_id.clone(),
                client_id,
                client_secret,
            }
        }
        (None, None) => {
            return Err(ConnectError::Jira(JiraError::Config(
                "spec.auth sets no method; set basic or serviceAccount".into(),
            )));
        }
    };
    let admin = match &spec.organization {
        Some(org) => {
            let r = &org.secret_ref;
            let mut v = reader.read(&r.name, &[&r.api_key_key]).await?;
            Some(AdminCredentials {
                org_id: org.id.clone(),
                api_key: SecretString::from(v.pop().expect("one value")),
            })
        }
        None => None,
    };
    let site_url = Url::parse(&spec.site_url).map_err(|e| {
        ConnectError::Jira(JiraError::Config(format!("spec.siteUrl is not a URL: {e}")))
    })?;
    let config = ClientConfig {
        site_url,
        allowed_hosts: ctx.settings.allowed_site_hosts.clone(),
        credentials,
        admin,
        endpoints: ctx.settings.endpoints.clone(),
        limits: ctx.settings.limits.clone(),
        timeout: ctx.settings.jira_timeout,
    };
    Ok((config, reader.fingerprint.finalize().into()))
}

struct Entry {
    fingerprint: [u8; 32],
    client: JiraClient,
    /// What the account was last found to hold.
    grants: Grants,
    /// The grants were read when the client connected and no check has used them yet.
    fresh: bool,
    /// The client's counters when they were last added to the metrics.
    reported: RequestStats,
}

impl Entry {
    /// Adds the requests made since the last report to the metrics.
    fn report(&mut self, connection: &(String, String), metrics: &Metrics) {
        let now = self.client.request_stats();
        let delta = now.since(&self.reported);
        self.reported = now;
        for (endpoint, counts) in &delta.by_endpoint {
            let add = |status: &str, n: u64| {
                if n > 0 {
                    metrics
                        .jira_requests
                        .get_or_create(&RequestLabels {
                            endpoint: endpoint.clone(),
                            status: status.into(),
                        })
                        .inc_by(n);
                }
            };
            add("throttled", counts.throttled);
            add("failed", counts.failed);
            add(
                "answered",
                counts
                    .requests
                    .saturating_sub(counts.throttled + counts.failed),
            );
        }
        if delta.throttled > 0 {
            metrics
                .jira_throttled
                .get_or_create(&ConnectionLabels {
                    namespace: connection.0.clone(),
                    connection: connection.1.clone(),
                })
                .inc_by(delta.throttled);
        }
    }
}

/// A connection: (namespace, name).
type Key = (String, String);

/// Connected Jira clients by connection (namespace, name).
#[derive(Default)]
pub struct ClientCache {
    entries: Mutex<HashMap<(String, String), Entry>>,
    /// One lock per connection, held while its client is made, so that callers missing the cache at once (a
    /// burst of actions on a new connection) make one client, with one set of request limits, instead of one
    /// each. Per connection: a site that hangs delays only its own connection.
    connecting: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

impl ClientCache {
    /// A connected client for the connection: the cached one while the spec and the Secrets are unchanged,
    /// otherwise a new one (which checks the deployment and the credentials against Jira).
    pub async fn connect(
        &self,
        ctx: &Context,
        connection: &JiraConnection,
    ) -> Result<JiraClient, ConnectError> {
        let key = (
            connection.namespace().unwrap_or_default(),
            connection.name_any(),
        );
        let (config, fingerprint) = load_config(ctx, connection).await?;
        let cached = |entries: &HashMap<(String, String), Entry>| {
            entries
                .get(&key)
                .filter(|entry| entry.fingerprint == fingerprint)
                .map(|entry| entry.client.clone())
        };
        if let Some(client) = cached(&self.entries.lock().expect("not poisoned")) {
            return Ok(client);
        }
        let lock = self
            .connecting
            .lock()
            .expect("not poisoned")
            .entry(key.clone())
            .or_default()
            .clone();
        let _connecting = lock.lock().await;
        // Another caller may have made the client while this one waited.
        if let Some(client) = cached(&self.entries.lock().expect("not poisoned")) {
            return Ok(client);
        }
        let deadline = ctx.settings.connect_timeout;
        let client = tokio::time::timeout(deadline, JiraClient::connect(config))
            .await
            .map_err(|_| JiraError::JiraUnavailable {
                operation: "connect".into(),
                detail: format!(
                    "the site did not complete the connection checks within {}s",
                    deadline.as_secs()
                ),
            })??;
        // What the credentials may do, read once per new client; what does not answer in time stays unknown.
        let grants = tokio::time::timeout(deadline, client.read_grants())
            .await
            .unwrap_or_default();
        let entry = Entry {
            fingerprint,
            client: client.clone(),
            grants,
            fresh: true,
            reported: RequestStats::default(),
        };
        let mut entries = self.entries.lock().expect("not poisoned");
        if let Some(mut old) = entries.insert(key.clone(), entry) {
            old.report(&key, &ctx.metrics);
        }
        Ok(client)
    }

    /// The fingerprint (of the spec and the Secret values) of the connection's cached client, if it has one.
    pub fn fingerprint(&self, namespace: &str, name: &str) -> Option<[u8; 32]> {
        let key = (namespace.to_string(), name.to_string());
        let entries = self.entries.lock().expect("not poisoned");
        entries.get(&key).map(|entry| entry.fingerprint)
    }

    /// What the account of the connection's client holds. A client that has just connected read it; otherwise,
    /// with `reread` (a sync is about to run), it is read again, so that a permission or group granted or taken
    /// away in Jira since the last check shows at the next sync, not only when the Secret changes. Within the
    /// connect deadline; what does not answer in time stays unknown. `None` without a client, or when there is
    /// nothing new to record (the status keeps what it shows).
    pub async fn check_grants(
        &self,
        ctx: &Context,
        namespace: &str,
        name: &str,
        reread: bool,
    ) -> Option<Grants> {
        let key = (namespace.to_string(), name.to_string());
        let (client, fingerprint) = {
            let mut entries = self.entries.lock().expect("not poisoned");
            let entry = entries.get_mut(&key)?;
            if std::mem::take(&mut entry.fresh) {
                return Some(entry.grants.clone());
            }
            if !reread {
                return None;
            }
            (entry.client.clone(), entry.fingerprint)
        };
        let grants = tokio::time::timeout(ctx.settings.connect_timeout, client.read_grants())
            .await
            .unwrap_or_default();
        let mut entries = self.entries.lock().expect("not poisoned");
        // A client made meanwhile (new Secret) keeps the grants its own account was found to hold.
        if let Some(entry) = entries
            .get_mut(&key)
            .filter(|e| e.fingerprint == fingerprint)
        {
            entry.grants = grants.clone();
        }
        Some(grants)
    }

    /// What the account of a connection's current client was last found to hold.
    pub fn grants(&self, namespace: &str, name: &str) -> Option<Grants> {
        let key = (namespace.to_string(), name.to_string());
        self.entries
            .lock()
            .expect("not poisoned")
            .get(&key)
            .map(|entry| entry.grants.clone())
    }

    /// Drops the client of a connection (deleted, or its credentials were rejected).
    pub fn forget(&self, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        self.entries.lock().expect("not poisoned").remove(&key);
        self.connecting.lock().expect("not poisoned").remove(&key);
    }

    /// Adds the Jira requests of every connection since the last report to `jira_requests` (by endpoint and
    /// status: `answered`, `throttled`, `failed`) and `jira_throttled` (by connection).
    pub fn report_requests(&self, metrics: &Metrics) {
        for (key, entry) in self.entries.lock().expect("not poisoned").iter_mut() {
            entry.report(key, metrics);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_value;

    #[test]
    fn credential_values_are_checked_without_echoing_them() {
        assert_eq!(parse_value(b"token\n").unwrap(), "token");
        assert_eq!(parse_value(b"").unwrap_err(), "is empty");
        assert_eq!(parse_value(b"  \n").unwrap_err(), "is empty");
        assert_eq!(parse_value(&[0xff, 0xfe]).unwrap_err(), "is not UTF-8 text");
        assert_eq!(
            parse_value(&vec![b'a'; 5000]).unwrap_err(),
            "is longer than 4096 bytes"
        );
        assert_eq!(
            parse_value(b"a\x07b").unwrap_err(),
            "contains control characters"
        );
    }
}
