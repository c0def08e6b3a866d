//! Operator settings presets of the in-process controllers. Every preset sends every Atlassian service to the
//! simulator, allows sites on 127.0.0.1, paces no request, and shortens the create outcome window: Jira's search
//! lag as the simulator plays it is far below the production window of 10 minutes.

use jira_cloud_operator::{
    controller::Settings,
    jira::{AllowedHosts, Endpoints, Limits},
};
use std::time::Duration;

/// What every preset shares: the simulator at `sim_url`, `namespaces` watched (all when empty).
fn base(sim_url: &url::Url, namespaces: &[&str], limits: Limits) -> Settings {
    Settings {
        endpoints: Endpoints::same_as(sim_url),
        limits: Limits {
            requests_per_second: None,
            ..limits
        },
        jira_timeout: Duration::from_secs(10),
        create_outcome_window: Duration::from_secs(3),
        allowed_site_hosts: AllowedHosts::parse("127.0.0.1").expect("a host"),
        watch_namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
        ..Settings::default()
    }
}

/// The JiraConnection tests: eight requests in flight and a short backoff (20-200 ms).
pub fn connections(sim_url: &url::Url, namespaces: &[&str]) -> Settings {
    base(
        sim_url,
        namespaces,
        Limits {
            max_concurrency: 8,
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..Limits::default()
        },
    )
}

/// The JiraAction tests and bench, watching `namespace` only: requests more parallel than the defaults and
/// no retries inside the HTTP layer, so every 5xx reaches the controller.
pub fn actions(sim_url: &url::Url, namespace: &str) -> Settings {
    Settings {
        concurrency: 16,
        field_manager: "jira-cloud-operator".into(),
        ..base(
            sim_url,
            &[namespace],
            Limits {
                max_concurrency: 16,
                max_retries: 0,
                ..Limits::default()
            },
        )
    }
}

/// The fault, trust and bad-input tests, watching `namespace` only: a request timeout of `timeout` and quick
/// retries (three, 50-400 ms).
pub fn faults(sim_url: &url::Url, namespace: &str, timeout: Duration) -> Settings {
    Settings {
        jira_timeout: timeout,
        ..base(
            sim_url,
            &[namespace],
            Limits {
                max_concurrency: 4,
                max_retries: 3,
                backoff_base: Duration::from_millis(50),
                backoff_max: Duration::from_millis(400),
                ..Limits::default()
            },
        )
    }
}
