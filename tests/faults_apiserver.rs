//! The apiserver restarted under the operator: a dedicated control plane (its own etcd and kube-apiserver, so
//! the shared one of the other tests is untouched), the operator's controllers in-process, a generated org in
//! the simulator with a little latency so that a sync lasts a few seconds.
//! - Restarted mid-sync, with actions in flight: the sync's status and JiraUser writes fail while the apiserver
//!   is away; the operator retries by itself, the requested sync ends with the reference figures, and every
//!   action ran exactly once (one issue per marker).
//! - Restarted while idle: the watches broke and must re-list; a sync request and a new action made after the
//!   restart are both handled.

use jira_cloud_operator::api::{ActionPhase, JiraAction};
use jira_sim::{Faults, GenerateOptions, SimConfig};
use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, ResourceExt, api::PostParams};
use serde_json::json;
use std::time::Duration;
use testkit::{
    Harness,
    observed::{condition, figures},
};

fn exactly_once(w: &Harness, done: &[JiraAction]) {
    for a in done {
        let st = a.status.as_ref().expect("a status");
        assert_eq!(
            st.phase,
            Some(ActionPhase::Succeeded),
            "{}: {st:?}",
            a.name_any()
        );
        assert_eq!(w.marked_issues(a).len(), 1, "{}", a.name_any());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_restarts_mid_sync_and_idle_lose_nothing() {
    let mut plane = testkit::plane::ControlPlane::start(testkit::plane::Options {
        controller_manager: false,
        ..Default::default()
    })
    .await
    .expect("a dedicated control plane");
    plane
        .install_crds(&jira_cloud_operator::api::crds())
        .await
        .expect("the CRDs");
    let client = plane.client().await.expect("a client");
    let ns = "restarts".to_string();
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": ns}})).expect("a namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .expect("create the namespace");
    let sim = jira_sim::start(SimConfig {
        scenario: jira_sim::generate(&GenerateOptions {
            seed: 3,
            users: 400,
            ..Default::default()
        }),
        faults: Faults {
            latency_ms: 25,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await
    .expect("the simulator starts");
    let w = Harness {
        client,
        namespace: ns,
        sim: std::sync::Arc::new(sim),
    };
    let operator = w.start(w.fault_settings(Duration::from_secs(5)));
    w.basic_connection("acme").await;
    let first = w
        .wait_connection("acme", "a first sync", |c| {
            condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await;
    let reference = figures(&first);

    // Mid-sync, with actions in flight.
    let mut names = Vec::new();
    for i in 0..3 {
        let name = format!("mid-{i}");
        w.create_on(
            &name,
            "acme",
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": format!("Restart {i}")}}),
        )
        .await;
        names.push(name);
    }
    let before = w.sim.stats().total;
    w.request_sync("acme", "mid").await;
    testkit::wait::eventually("the sync to start", Duration::from_secs(60), || async {
        (w.sim.stats().total > before + 20).then_some(())
    })
    .await;
    plane
        .restart_apiserver(Duration::from_secs(90))
        .await
        .expect("the apiserver restarts");
    let c = w.synced_after("acme", "mid").await;
    assert_eq!(figures(&c), reference, "figures after a restart mid-sync");
    // The restart was felt: the sync's writes failed while the apiserver was away.
    let metrics = operator.ctx.metrics.encode();
    let failed: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("jira_operator_reconcile_errors_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    eprintln!("reconcile errors during the restart: {failed}");
    assert!(
        failed > 0.0,
        "no reconcile failed during the restart:\n{metrics}"
    );
    exactly_once(&w, &w.finished_all(&names).await);

    // While idle: the watches must re-list to see what comes next.
    plane
        .restart_apiserver(Duration::from_secs(90))
        .await
        .expect("the apiserver restarts");
    w.create_on(
        "after",
        "acme",
        json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "After the restart"}}),
    )
    .await;
    w.request_sync("acme", "after").await;
    let c = w.synced_after("acme", "after").await;
    assert_eq!(figures(&c), reference, "figures after an idle restart");
    exactly_once(&w, &w.finished_all(&["after".to_string()]).await);

    operator.stop().await;
    w.shutdown().await;
}
