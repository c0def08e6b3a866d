//! Simulator presets: the hand-written scenario, the default scenario's credentials, a simulator started
//! in-process, and Jira client configurations for each credential kind (the sync tests run the sync directly).

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use jira_cloud_operator::jira::{
    AdminCredentials, ClientConfig, Credentials, Endpoints, JiraClient, Limits, SecretString,
};
use jira_cloud_operator::sync::{self, SyncOptions, SyncOutcome};
use jira_sim::{Scenario, SimConfig, SimHandle};

/// Credentials of the simulator's default scenario: a site admin.
pub const ADMIN: (&str, &str) = ("admin@example.com", "classic-admin-token");
/// Credentials of the simulator's default scenario: a user without admin rights.
pub const VIEWER: (&str, &str) = ("viewer@example.com", "classic-viewer-token");

/// The scenario whose figures the tests assert.
pub fn handwritten() -> Scenario {
    Scenario::from_yaml(include_str!("../scenarios/handwritten.yaml")).expect("valid scenario")
}

/// Starts a simulator serving `scenario`.
pub async fn start(scenario: Scenario) -> SimHandle {
    start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await
}

/// Starts a simulator with a full configuration (and, under the suite's leak audit, the trace log of the
/// operator code these tests run in-process).
pub async fn start_with(config: SimConfig) -> SimHandle {
    crate::plane::audit::install_trace_log();
    jira_sim::start(config).await.expect("simulator starts")
}

/// Limits that keep tests quick: no pacing, short backoff.
pub fn fast_limits() -> Limits {
    Limits {
        requests_per_second: None,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..Limits::default()
    }
}

fn config(sim: &SimHandle, credentials: Credentials) -> ClientConfig {
    ClientConfig {
        site_url: sim.url(),
        allowed_hosts: jira_cloud_operator::jira::AllowedHosts::parse("127.0.0.1").expect("a host"),
        credentials,
        admin: None,
        endpoints: Endpoints::same_as(&sim.url()),
        limits: fast_limits(),
        timeout: Duration::from_secs(10),
    }
}

/// Basic auth with an email and API token.
pub fn basic(sim: &SimHandle, email: &str, token: &str) -> ClientConfig {
    config(
        sim,
        Credentials::Basic {
            email: email.into(),
            api_token: SecretString::from(token.to_owned()),
        },
    )
}

/// The classic admin token.
pub fn classic_admin(sim: &SimHandle) -> ClientConfig {
    basic(sim, "admin@example.com", "classic-admin-token")
}

/// The OAuth service account.
pub fn service_account(sim: &SimHandle, secret: &str) -> ClientConfig {
    config(
        sim,
        Credentials::ServiceAccount {
            cloud_id: sim.cloud_id(),
            client_id: "sim-client-id".into(),
            client_secret: SecretString::from(secret.to_owned()),
        },
    )
}

/// Adds the organization (Admin API key) to a configuration.
pub fn with_org(mut config: ClientConfig, sim: &SimHandle) -> ClientConfig {
    config.admin = Some(AdminCredentials {
        org_id: sim.org_id(),
        api_key: SecretString::from("sim-admin-key".to_owned()),
    });
    config
}

/// Sync options for a 30-day window ending now.
pub fn opts() -> SyncOptions {
    SyncOptions {
        window_days: 30,
        now: Utc::now(),
    }
}

/// Connects and runs a full sync.
pub async fn full_sync(config: ClientConfig) -> SyncOutcome {
    let client = JiraClient::connect(config).await.expect("connect");
    sync::run(&client, &opts(), None).await.expect("sync")
}

/// The UTC day `n` days before today.
pub fn days_ago(n: i64) -> NaiveDate {
    Utc::now().date_naive() - chrono::Duration::days(n)
}
