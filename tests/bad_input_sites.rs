//! Manifests the schema accepts but that cannot work: a siteUrl that is not Jira (an HTML server), one where
//! nothing listens, a service account whose cloudId belongs to another site, an organization id the Admin API
//! key cannot see, a sync interval of more than ten years, and JiraActions whose connection is missing or
//! broken. Each gives its documented reason with a clear message and a Warning Event (actions stay Pending with
//! `ConnectionNotReady`); the organization is optional, so its failure leaves the connection Ready. The
//! operator keeps serving a healthy connection and its actions beside them, and no reconcile loops hot on the
//! broken ones. (The invalid manifests the schema rejects are in `tests/schema_validation.rs`.)

use axum::{Router, response::Html};
use jira_cloud_operator::api::{ActionPhase, JiraConnection, find_condition};
use jira_sim::SimConfig;
use serde_json::json;
use std::time::Duration;
use testkit::{Harness, observed::sample_sum};

/// True when a condition of the connection is False with `reason`.
fn failed_with(c: &JiraConnection, reason: &str) -> bool {
    c.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|cond| cond.status == "False" && cond.reason == reason)
    })
}

async fn html_server() -> url::Url {
    let app = Router::new().fallback(|| async {
        Html("<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>")
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_cannot_work_fail_clearly_and_the_rest_keeps_working() {
    let w = Harness::new("bad-sites", SimConfig::default()).await;
    let operator = w.start(w.fault_settings(Duration::from_secs(2)));
    w.basic_connection("healthy").await;

    let site = w.sim.url().as_str().trim_end_matches('/').to_string();
    let not_jira = html_server().await;
    let closed = format!("http://127.0.0.1:{}", testkit::process::free_port());
    w.secret(
        "basic",
        json!({"email": "admin@example.com", "apiToken": "classic-admin-token"}),
    )
    .await;
    w.secret(
        "oauth",
        json!({"clientId": "sim-client-id", "clientSecret": "sim-client-secret"}),
    )
    .await;
    w.secret("org", json!({"apiKey": "sim-admin-key"})).await;
    let basic = json!({"basic": {"secretRef": {"name": "basic"}}});
    let cases = [
        (
            "not-jira",
            json!({"siteUrl": not_jira.as_str().trim_end_matches('/'), "auth": basic}),
            "NotJiraCloud",
            "does not look like a Jira Cloud site",
            "False",
        ),
        (
            "closed-port",
            json!({"siteUrl": closed, "auth": basic}),
            "JiraUnavailable",
            "Jira is unavailable",
            "False",
        ),
        (
            "wrong-cloud",
            json!({"siteUrl": site, "auth": {"serviceAccount": {
                "cloudId": "00000000-0000-4000-8000-000000000000", "secretRef": {"name": "oauth"}}}}),
            "CloudIdMismatch",
            "does not belong to",
            "False",
        ),
        (
            "wrong-org",
            json!({"siteUrl": site, "auth": basic, "organization": {
                "id": "ffffffff-ffff-4fff-8fff-ffffffffffff", "secretRef": {"name": "org"}}}),
            "OrganizationNotFound",
            "cannot see organization",
            "True",
        ),
        (
            "long-interval",
            json!({"siteUrl": site, "auth": basic, "sync": {"interval": "100000h"}}),
            "InvalidInterval",
            "longer than 10 years",
            "False",
        ),
    ];
    for (name, spec, _, _, _) in &cases {
        w.create_connection(name, spec.clone()).await;
    }
    w.create_on(
        "on-missing",
        "no-such-connection",
        json!({"deleteIssue": {"issue": "ENG-3"}}),
    )
    .await;
    w.create_on(
        "on-broken",
        "not-jira",
        json!({"deleteIssue": {"issue": "ENG-3"}}),
    )
    .await;

    for (name, _, reason, says, ready) in &cases {
        let c = w
            .wait_connection(name, &format!("a condition False/{reason}"), |c| {
                failed_with(c, reason)
            })
            .await;
        let st = c.status.as_ref().unwrap();
        let cond = st
            .conditions
            .iter()
            .find(|cond| cond.reason == *reason)
            .unwrap();
        assert!(
            cond.message.contains(says),
            "{name}: {reason} message {:?} should say {says:?}",
            cond.message
        );
        assert_eq!(
            find_condition(&st.conditions, "Ready").map(|r| r.status.as_str()),
            Some(*ready),
            "{name}: Ready"
        );
        let note = testkit::wait::eventually(
            &format!("a Warning Event {reason} about {name}"),
            Duration::from_secs(60),
            || async { w.warning_note(name, reason).await },
        )
        .await;
        assert!(note.contains(says), "{name}: Event note {note:?}");
        eprintln!("{name}: {reason}: {}", cond.message);
    }
    for name in ["on-missing", "on-broken"] {
        w.wait_action(name, "Pending/ConnectionNotReady", |a| {
            let st = a.status.as_ref();
            st.and_then(|s| s.phase) == Some(ActionPhase::Pending)
                && st.is_some_and(|s| {
                    find_condition(&s.conditions, "Succeeded")
                        .is_some_and(|c| c.reason == "ConnectionNotReady")
                })
        })
        .await;
    }

    // The healthy connection and its actions are served, and the broken ones do not loop.
    let reconciles_before = sample_sum(
        &operator.ctx.metrics.encode(),
        "jira_operator_reconciles_total{",
    ) as u64;
    w.request_sync("healthy", "beside-broken").await;
    w.synced_after("healthy", "beside-broken").await;
    let action = w
        .create_on(
            "on-healthy",
            "healthy",
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Beside broken ones"}}),
        )
        .await;
    let done = w.finished_all(&["on-healthy".to_string()]).await;
    assert_eq!(
        done[0].status.as_ref().and_then(|s| s.phase),
        Some(ActionPhase::Succeeded)
    );
    assert_eq!(w.marked_issues(&action).len(), 1);
    let spent = sample_sum(
        &operator.ctx.metrics.encode(),
        "jira_operator_reconciles_total{",
    ) as u64
        - reconciles_before;
    assert!(
        spent < 40,
        "{spent} reconciles while serving one sync request and one action: a loop on the broken connections"
    );
    operator.stop().await;
    w.shutdown().await;
}
