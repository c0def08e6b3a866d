//! `kubectl wait --for=condition=Finished` waits for a JiraAction to end either way, on the real apiserver with
//! the action controller and the simulator: `Finished=False` while the action waits for its connection, then
//! `Finished=True` with reason `Succeeded` for an action that succeeded and `Failed` for one that failed.

use jira_cloud_operator::api::{ActionPhase, JiraAction, find_condition};
use jira_sim::SimConfig;
use serde_json::json;
use testkit::{Harness, status::phase, tools::kubectl};

/// `kubectl wait -n <namespace> --for=<condition> <objects>` with the admin kubeconfig.
fn kubectl_wait(namespace: &str, condition: &str, objects: &[&str]) -> std::process::Output {
    let condition = format!("--for={condition}");
    let args = [
        &["-n", namespace, "wait", "--timeout=120s", &condition][..],
        objects,
    ]
    .concat();
    kubectl(&args, "")
}

fn finished(a: &JiraAction) -> (String, String) {
    let c = a
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, "Finished"))
        .expect("a Finished condition");
    (c.status.clone(), c.reason.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_wait_for_finished_returns_on_success_and_on_failure() {
    let h = Harness::with_acme("act-wait", SimConfig::default()).await;
    h.set_ready("acme", false).await;
    let controller = h.start_actions();
    h.create(
        "open-ticket",
        json!({"createIssue": {"project": "OPS", "issueType": "Task", "summary": "Waited for"}}),
    )
    .await;
    h.create(
        "no-such-project",
        json!({"createIssue": {"project": "NOPE", "issueType": "Task", "summary": "Never created"}}),
    )
    .await;
    let objects = ["jiraaction/open-ticket", "jiraaction/no-such-project"];

    let out = kubectl_wait(&h.namespace, "condition=Finished=False", &objects);
    assert!(
        out.status.success(),
        "kubectl wait for Finished=False: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pending = h.actions().get("open-ticket").await.unwrap();
    assert_eq!(phase(&pending), Some(ActionPhase::Pending));
    assert_eq!(finished(&pending), ("False".into(), "Pending".into()));

    h.set_ready("acme", true).await;
    let out = kubectl_wait(&h.namespace, "condition=Finished", &objects);
    assert!(
        out.status.success(),
        "kubectl wait for Finished: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = h.actions().get("open-ticket").await.unwrap();
    assert_eq!(phase(&ok), Some(ActionPhase::Succeeded));
    assert_eq!(finished(&ok), ("True".into(), "Succeeded".into()));
    let bad = h.actions().get("no-such-project").await.unwrap();
    assert_eq!(phase(&bad), Some(ActionPhase::Failed));
    assert_eq!(finished(&bad), ("True".into(), "Failed".into()));
    controller.stop().await;
}
