//! State shared by the controllers of one operator process.

use super::{credentials::ClientCache, wiring::Events};
use crate::{jira, metrics::Metrics};
use kube::{
    Client,
    runtime::events::{Recorder, Reporter},
};
use std::{sync::Arc, time::Duration};

/// Settings of the operator process that the controllers use.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Atlassian service URLs (gateway, Admin API, OAuth token endpoint).
    pub endpoints: jira::Endpoints,
    /// Per-connection request limits towards Jira.
    pub limits: jira::Limits,
    /// Timeout of one request to Jira.
    pub jira_timeout: Duration,
    /// Longest time the connection checks of one site (discovery, credentials, Admin API key) may take.
    pub connect_timeout: Duration,
    /// The hosts a JiraConnection's `siteUrl` may have (`--allowed-site-hosts`).
    pub allowed_site_hosts: jira::AllowedHosts,
    /// How often a connection re-reads its Secrets when they are not watched (cluster-wide installs do not
    /// list or watch Secrets): a rotated Secret takes effect within this time.
    pub secret_recheck: Duration,
    /// Reconciles running at once, per controller (JiraActions: `action_concurrency`).
    pub concurrency: u16,
    /// JiraActions executing at once (their status writes and Jira calls; the Jira requests are further
    /// limited per connection by `limits`). Under a burst, enough actions in flight keep the apiserver busy
    /// with the actions' status writes rather than with waiting.
    pub action_concurrency: u16,
    /// Namespaces to watch; empty means all namespaces.
    pub watch_namespaces: Vec<String>,
    /// Field manager of server-side apply writes, and the reporting controller of Events.
    pub field_manager: String,
    /// This instance's identity (its leader-election identity), recorded in each JiraAction attempt.
    pub identity: String,
    /// The leader Lease (namespace, name), with leader election: an attempt recorded by another instance is
    /// taken over only once that instance no longer holds it.
    pub leader_lease: Option<(String, String)>,
    /// How long Jira's issue search may lag a create: a createIssue whose answer was lost is created again only
    /// after its marker stayed unfound this long after the attempt (unless consistent reads prove it sooner).
    pub create_outcome_window: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            endpoints: jira::Endpoints::default(),
            limits: jira::Limits::default(),
            jira_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(120),
            allowed_site_hosts: jira::AllowedHosts::default(),
            secret_recheck: Duration::from_secs(300),
            concurrency: 4,
            action_concurrency: 256,
            watch_namespaces: Vec::new(),
            field_manager: "jira-cloud-operator".into(),
            identity: crate::leader::default_identity(),
            leader_lease: None,
            create_outcome_window: Duration::from_secs(600),
        }
    }
}

/// What every reconcile gets.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// Process settings.
    pub settings: Settings,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Connected Jira clients, one per JiraConnection, reused by syncs and actions.
    pub clients: ClientCache,
    /// Publishes Kubernetes Events (at once).
    pub events: Events,
}

impl Context {
    /// A context for the given client and settings.
    pub fn new(client: Client, settings: Settings, metrics: Arc<Metrics>) -> Arc<Self> {
        let reporter = Reporter {
            controller: settings.field_manager.clone(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Arc::new(Self {
            events: Events::new(Recorder::new(client.clone(), reporter)),
            clients: ClientCache::default(),
            client,
            settings,
            metrics,
        })
    }
}
