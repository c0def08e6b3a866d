//! The JiraAction controller on a real apiserver against the simulator: every action kind, goals that already
//! hold, every permanent failure reason (a gone or mistyped account to delete is `NotFound`), transient failures
//! then success, a connection that is not Ready then recovers, no second execution after a restart,
//! `ttlSecondsAfterFinished`, and a caught panic recorded on its object alone. `kubectl wait
//! --for=condition=Finished` waits for an action to end either way: `Finished=False` while it waits for its
//! connection, then `Finished=True` with reason `Succeeded` or `Failed`.

use jira_cloud_operator::api::{ActionPhase, JiraAction, find_condition};
use jira_sim::{Faults, ServerErrorFault, SimConfig};
use kube::ResourceExt;
use serde_json::json;
use std::time::Duration;
use testkit::{
    Harness,
    observed::{attempts, counter, groups_of, message, phase, succeeded},
    sim::{ADMIN, VIEWER},
    tools::kubectl,
};

const MIA: &str = "5b10a2844c20165700ede003";
const AVA: &str = "5b10a2844c20165700ede008";

fn ok(status: (String, String), reason: &str) {
    assert_eq!(status, ("True".to_string(), reason.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_issue_converts_the_description_and_marks_the_issue() {
    let h = Harness::with_acme("act-create", SimConfig::default()).await;
    let controller = h.start_actions();
    let created = h
        .create(
            "reclaim",
            json!({"createIssue": {
                "project": "OPS", "issueType": "Task", "summary": "Reclaim license",
                "description": "First line\nsecond line\n\nNext paragraph", "labels": ["saas"],
            }}),
        )
        .await;
    let done = h.finished("reclaim").await;
    ok(succeeded(&done), "Executed");
    let status = done.status.clone().unwrap();
    let result = status.result.clone().unwrap();
    let key = result.issue_key.clone().unwrap();
    assert!(key.starts_with("OPS-"), "{key}");
    assert_eq!(message(&done), format!("Created {key}"));
    assert_eq!(
        result.url.as_deref(),
        Some(format!("{}browse/{key}", h.sim.url()).as_str())
    );
    assert!(!result.already_done);
    assert_eq!(status.attempts, 1);
    assert!(status.start_time.is_some() && status.completion_time.is_some());
    assert_eq!(h.marked_issues(&created), vec![key.clone()]);

    let (id, labels, description, summary) = h.sim.with_state(|st| {
        let issue = st.issue(st.issue_ref(&key).expect("the issue exists"));
        (
            issue.id.to_string(),
            issue.labels.clone(),
            issue.description.clone(),
            issue.summary.clone(),
        )
    });
    assert_eq!(result.issue_id, Some(id));
    assert_eq!(summary, "Reclaim license");
    assert!(labels.contains(&"saas".to_string()), "{labels:?}");
    let adf = description.expect("a description");
    assert_eq!(adf["type"], "doc");
    assert_eq!(adf["content"].as_array().unwrap().len(), 2, "{adf}");
    assert_eq!(
        adf["content"][0]["content"][1]["type"], "hardBreak",
        "{adf}"
    );

    assert!(h.has_event("reclaim", "Normal", "Executed").await);
    let metrics = controller.ctx.metrics.encode();
    assert!(
        metrics
            .contains(r#"jira_operator_actions_total{kind="createIssue",outcome="succeeded"} 1"#),
        "{metrics}"
    );
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_issue_then_again_already_gone() {
    let h = Harness::with_acme("act-delissue", SimConfig::default()).await;
    let controller = h.start_actions();
    assert!(h.sim.with_state(|st| st.issue_ref("ENG-3").is_some()));
    h.create("delete", json!({"deleteIssue": {"issue": "ENG-3"}}))
        .await;
    let done = h.finished("delete").await;
    ok(succeeded(&done), "Executed");
    assert_eq!(message(&done), "Deleted ENG-3");
    assert!(h.sim.with_state(|st| st.issue_ref("ENG-3").is_none()));

    h.create("delete-again", json!({"deleteIssue": {"issue": "ENG-3"}}))
        .await;
    // Another action deleting what is gone: Jira cannot tell a deletion from a typo, so it is NotFound.
    let again = h.finished("delete-again").await;
    assert_eq!(
        again.status.as_ref().and_then(|s| s.phase),
        Some(jira_cloud_operator::api::ActionPhase::Failed)
    );
    assert!(
        message(&again).starts_with("issue ENG-3 not found"),
        "{}",
        message(&again)
    );
    assert!(message(&again).contains("earlier JiraAction"));
    assert!(h.has_event("delete-again", "Warning", "NotFound").await);
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_membership_by_email_and_account_id() {
    let h = Harness::with_acme("act-groups", SimConfig::default()).await;
    let controller = h.start_actions();
    assert!(!groups_of(&h.sim, AVA).contains(&"devs".to_string()));

    h.create(
        "add",
        json!({"addUserToGroup": {"user": {"email": "ava@example.com"}, "group": "devs"}}),
    )
    .await;
    let added = h.finished("add").await;
    ok(succeeded(&added), "Executed");
    assert_eq!(message(&added), "Added ava@example.com to devs");
    assert_eq!(
        added.status.unwrap().result.unwrap().account_id.as_deref(),
        Some(AVA)
    );
    assert!(groups_of(&h.sim, AVA).contains(&"devs".to_string()));

    h.create(
        "add-again",
        json!({"addUserToGroup": {"user": {"accountId": AVA}, "group": "devs"}}),
    )
    .await;
    let again = h.finished("add-again").await;
    ok(succeeded(&again), "AlreadyDone");
    assert_eq!(
        message(&again),
        format!("{AVA} was already a member of devs")
    );

    assert!(groups_of(&h.sim, MIA).contains(&"devs".to_string()));
    h.create(
        "remove",
        json!({"removeUserFromGroup": {"user": {"accountId": MIA}, "group": "devs"}}),
    )
    .await;
    let removed = h.finished("remove").await;
    ok(succeeded(&removed), "Executed");
    assert_eq!(message(&removed), format!("Removed {MIA} from devs"));
    assert!(!groups_of(&h.sim, MIA).contains(&"devs".to_string()));

    h.create(
        "remove-again",
        json!({"removeUserFromGroup": {"user": {"email": "mia@example.com"}, "group": "devs"}}),
    )
    .await;
    let again = h.finished("remove-again").await;
    ok(succeeded(&again), "AlreadyDone");
    assert_eq!(message(&again), "mia@example.com was not a member of devs");

    let metrics = controller.ctx.metrics.encode();
    assert!(
        metrics.contains(
            r#"jira_operator_actions_total{kind="removeUserFromGroup",outcome="already_done"} 1"#
        ),
        "{metrics}"
    );
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_user_by_email_then_a_gone_or_mistyped_account_is_not_found() {
    let h = Harness::with_acme("act-deluser", SimConfig::default()).await;
    let controller = h.start_actions();
    h.create(
        "delete",
        json!({"deleteUser": {"user": {"email": "ava@example.com"}}}),
    )
    .await;
    let done = h.finished("delete").await;
    ok(succeeded(&done), "Executed");
    assert_eq!(message(&done), "Deleted user ava@example.com from Jira");
    assert_eq!(
        done.status.unwrap().result.unwrap().account_id.as_deref(),
        Some(AVA)
    );
    assert!(h.sim.with_state(|st| st.user_by_account(AVA).is_none()));

    h.create(
        "delete-again",
        json!({"deleteUser": {"user": {"accountId": AVA}}}),
    )
    .await;
    // The account is gone: Jira answers the delete 404, which on an action's first attempt is NotFound, not
    // success (it may be a typo; the message says an earlier action may have removed it).
    let again = h.finished("delete-again").await;
    assert_eq!(
        again.status.as_ref().and_then(|s| s.phase),
        Some(ActionPhase::Failed)
    );
    assert_eq!(succeeded(&again), ("False".into(), "NotFound".into()));
    assert!(message(&again).contains(AVA), "{}", message(&again));
    assert!(
        message(&again).contains("earlier JiraAction"),
        "{}",
        message(&again)
    );

    // A mistyped account: NotFound too, and nobody is deleted.
    let typo = format!("{MIA}0");
    h.create(
        "delete-typo",
        json!({"deleteUser": {"user": {"accountId": typo}}}),
    )
    .await;
    let typo_done = h.finished("delete-typo").await;
    assert_eq!(
        typo_done.status.as_ref().and_then(|s| s.phase),
        Some(ActionPhase::Failed)
    );
    assert_eq!(succeeded(&typo_done), ("False".into(), "NotFound".into()));
    assert!(
        message(&typo_done).contains(&typo),
        "{}",
        message(&typo_done)
    );
    assert!(h.sim.with_state(|st| st.user_by_account(MIA).is_some()));
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_fail_at_once_with_their_reason() {
    let h = Harness::with_acme("act-fail", SimConfig::default()).await;
    h.connection("viewer", VIEWER).await;
    h.set_ready("viewer", true).await;
    let controller = h.start_actions();
    let cases = [
        (
            "no-project",
            "acme",
            json!({"createIssue": {"project": "NOPE", "issueType": "Task", "summary": "x"}}),
            "ProjectNotFound",
        ),
        (
            "no-type",
            "acme",
            json!({"createIssue": {"project": "ENG", "issueType": "Incident", "summary": "x"}}),
            "IssueTypeNotFound",
        ),
        (
            "no-user",
            "acme",
            json!({"addUserToGroup": {"user": {"email": "nobody@example.com"}, "group": "devs"}}),
            "UserNotFound",
        ),
        (
            "no-group",
            "acme",
            json!({"addUserToGroup": {"user": {"accountId": MIA}, "group": "no-such-group"}}),
            "GroupNotFound",
        ),
        (
            "reporter",
            "acme",
            json!({"deleteUser": {"user": {"email": "mia@example.com"}}}),
            "UserIsReporter",
        ),
        (
            "forbidden",
            "viewer",
            json!({"deleteIssue": {"issue": "ENG-1"}}),
            "NotPermitted",
        ),
    ];
    for (name, connection, kind, _) in &cases {
        h.create_on(name, connection, kind.clone()).await;
    }
    for (name, _, _, reason) in &cases {
        let done = h.finished(name).await;
        assert_eq!(
            phase(&done),
            Some(ActionPhase::Failed),
            "{name}: {:?}",
            done.status
        );
        assert_eq!(
            succeeded(&done),
            ("False".to_string(), reason.to_string()),
            "{name}"
        );
        // Refused before acting: no attempt.
        let tried = if *reason == "NotPermitted" { 0 } else { 1 };
        assert_eq!(attempts(&done), tried, "{name}");
        assert!(
            done.status.as_ref().unwrap().completion_time.is_some(),
            "{name}"
        );
        assert!(!message(&done).is_empty(), "{name}");
        assert!(h.has_event(name, "Warning", reason).await, "{name}");
    }
    let reporter = h.actions().get("reporter").await.unwrap();
    assert!(
        message(&reporter).contains("reported"),
        "{}",
        message(&reporter)
    );
    assert!(h.sim.with_state(|st| st.user_by_account(MIA).is_some()));
    assert!(h.sim.with_state(|st| st.issue_ref("ENG-1").is_some()));
    let metrics = controller.ctx.metrics.encode();
    assert!(
        metrics.contains(r#"jira_operator_actions_total{kind="createIssue",outcome="failed"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"jira_operator_actions_total{kind="deleteIssue",outcome="failed"} 1"#),
        "{metrics}"
    );
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_retry_with_backoff_then_succeed() {
    let h = Harness::with_acme("act-retry", SimConfig::default()).await;
    let controller = h.start_actions();
    // The next two lookups of the user by email answer 503; the HTTP layer does not retry in these tests, so
    // each reaches the controller as a failed attempt.
    h.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 503,
            count: Some(2),
            ..Default::default()
        }),
        routes: vec!["/rest/api/3/user/search".into()],
        ..Default::default()
    });
    h.create(
        "add",
        json!({"addUserToGroup": {"user": {"email": "ava@example.com"}, "group": "devs"}}),
    )
    .await;
    let done = h.finished("add").await;
    ok(succeeded(&done), "Executed");
    assert_eq!(attempts(&done), 3);
    assert!(groups_of(&h.sim, AVA).contains(&"devs".to_string()));
    assert!(h.has_event("add", "Warning", "JiraUnavailable").await);

    // A create whose first attempt fails transiently: the retry looks for the marker first and creates one
    // issue only.
    h.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 500,
            count: Some(1),
            ..Default::default()
        }),
        routes: vec!["/rest/api/3/issue/createmeta".into()],
        ..Default::default()
    });
    let create = h
        .create(
            "create",
            json!({"createIssue": {"project": "ENG", "issueType": "Bug", "summary": "Flaky"}}),
        )
        .await;
    let done = h.finished("create").await;
    ok(succeeded(&done), "Executed");
    assert_eq!(attempts(&done), 2);
    assert_eq!(h.marked_issues(&create).len(), 1);

    // A change answered 5xx may have been made (a gateway can answer 503 after Jira acted): the outcome is
    // unknown, and the next attempt checks Jira before it changes anything.
    h.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 503,
            count: Some(1),
            ..Default::default()
        }),
        routes: vec!["/rest/api/3/group/user".into()],
        ..Default::default()
    });
    h.create(
        "remove",
        json!({"removeUserFromGroup": {"user": {"accountId": AVA}, "group": "devs"}}),
    )
    .await;
    let done = h.finished("remove").await;
    ok(succeeded(&done), "Executed");
    assert_eq!(attempts(&done), 2);
    assert!(done.status.as_ref().unwrap().may_have_acted);
    assert!(!groups_of(&h.sim, AVA).contains(&"devs".to_string()));
    assert!(h.has_event("remove", "Warning", "OutcomeUnknown").await);

    let metrics = controller.ctx.metrics.encode();
    for counted in [
        r#"jira_operator_actions_total{kind="addUserToGroup",outcome="retried"} 2"#,
        r#"jira_operator_actions_total{kind="removeUserFromGroup",outcome="outcome_unknown"} 1"#,
    ] {
        assert!(metrics.contains(counted), "{counted}: {metrics}");
    }
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_not_ready_keeps_actions_pending_until_it_is() {
    let h = Harness::with_acme("act-conn", SimConfig::default()).await;
    h.set_ready("acme", false).await;
    let controller = h.start_actions();
    h.create(
        "add",
        json!({"addUserToGroup": {"user": {"accountId": AVA}, "group": "devs"}}),
    )
    .await;
    // A connection that does not exist yet.
    h.create_on("later", "later", json!({"deleteIssue": {"issue": "ENG-2"}}))
        .await;
    for name in ["add", "later"] {
        let waiting = h
            .wait_action(name, "to wait for its connection", |a| {
                succeeded(a) == ("Unknown".to_string(), "ConnectionNotReady".to_string())
            })
            .await;
        assert_eq!(phase(&waiting), Some(ActionPhase::Pending));
        assert_eq!(attempts(&waiting), 0);
    }
    assert!(!groups_of(&h.sim, AVA).contains(&"devs".to_string()));
    assert!(h.sim.with_state(|st| st.issue_ref("ENG-2").is_some()));

    h.set_ready("acme", true).await;
    let done = h.finished("add").await;
    ok(succeeded(&done), "Executed");
    assert_eq!(attempts(&done), 1);
    assert!(groups_of(&h.sim, AVA).contains(&"devs".to_string()));

    h.connection("later", ADMIN).await;
    h.set_ready("later", true).await;
    let done = h.finished("later").await;
    ok(succeeded(&done), "Executed");
    assert!(h.sim.with_state(|st| st.issue_ref("ENG-2").is_none()));
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_actions_never_run_again_after_a_restart() {
    let h = Harness::with_acme("act-restart", SimConfig::default()).await;
    let first = h.start_actions();
    let created = h
        .create(
            "create",
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Once"}}),
        )
        .await;
    h.create(
        "fail",
        json!({"createIssue": {"project": "NOPE", "issueType": "Task", "summary": "Never"}}),
    )
    .await;
    let done = h.finished("create").await;
    h.finished("fail").await;
    first.stop().await;

    h.sim.reset_stats();
    let second = h.start_actions();
    // Wait until the new controller has looked at both actions (and some time more), then check that it
    // changed nothing and sent nothing to Jira.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while counter(
        &second.ctx.metrics.encode(),
        r#"jira_operator_reconciles_total{controller="jiraaction"}"#,
    ) < 2
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the new controller never reconciled both actions"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.sim.stats().total, 0, "{:?}", h.sim.stats());
    let after = h.actions().get("create").await.unwrap();
    assert_eq!(after.status, done.status);
    assert_eq!(h.marked_issues(&created).len(), 1);
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_actions_are_deleted_after_their_ttl() {
    let h = Harness::with_acme("act-ttl", SimConfig::default()).await;
    let controller = h.start_actions();
    h.create("kept", json!({"deleteIssue": {"issue": "ENG-99"}}))
        .await;
    h.create(
        "short",
        json!({"deleteIssue": {"issue": "ENG-98"}, "ttlSecondsAfterFinished": 1}),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while h.actions().get_opt("short").await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the action with a TTL was never deleted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let kept = h.finished("kept").await;
    assert_eq!(
        succeeded(&kept),
        ("False".to_string(), "NotFound".to_string())
    );
    assert_eq!(kept.name_any(), "kept");
    controller.stop().await;
}

/// The protocol relies on the apiserver refusing a server-side apply of the status that carries an outdated
/// resourceVersion: that is what stops a stale cache from starting a second attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_applies_with_an_old_resource_version_are_refused() {
    use kube::api::{Patch, PatchParams};
    let h = Harness::with_acme("act-rv", SimConfig::default()).await;
    let created = h
        .create("idle", json!({"deleteIssue": {"issue": "ENG-1"}}))
        .await;
    let old_rv = created.resource_version().unwrap();
    let apply = |rv: String, attempts: u32| {
        json!({
            "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraAction",
            "metadata": {"name": "idle", "resourceVersion": rv},
            "status": {"attempts": attempts, "conditions": []},
        })
    };
    let params = PatchParams::apply("jira-cloud-operator").force();
    let first = h
        .actions()
        .patch_status("idle", &params, &Patch::Apply(apply(old_rv.clone(), 1)))
        .await
        .expect("the first write carries the current resourceVersion");
    assert_ne!(first.resource_version().unwrap(), old_rv);
    let stale = h
        .actions()
        .patch_status("idle", &params, &Patch::Apply(apply(old_rv, 2)))
        .await;
    match stale {
        Err(kube::Error::Api(s)) => assert!(s.is_conflict(), "{s:?}"),
        other => panic!("a stale write was accepted: {other:?}"),
    }
    assert_eq!(attempts(&h.actions().get("idle").await.unwrap()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_keep_the_action_pending_with_a_visible_next_attempt() {
    let h = Harness::with_acme("act-429", SimConfig::default()).await;
    let mut settings = h.action_settings();
    // A Retry-After longer than this reaches the controller as `RateLimited` instead of being waited out.
    settings.limits.max_throttle_wait = Duration::from_secs(1);
    let controller = h.start_actions_with(settings);
    h.sim.set_faults(Faults {
        rate_limit: Some(jira_sim::RateLimitFault {
            every_nth: Some(1),
            retry_after_secs: 30,
            ..Default::default()
        }),
        routes: vec!["/rest/api/3/group/user".into()],
        ..Default::default()
    });
    h.create(
        "add",
        json!({"addUserToGroup": {"user": {"accountId": AVA}, "group": "devs"}}),
    )
    .await;
    let throttled = h
        .wait_action("add", "to be throttled", |a| {
            succeeded(a) == ("Unknown".to_string(), "RateLimited".to_string())
                && phase(a) == Some(ActionPhase::Pending)
        })
        .await;
    let status = throttled.status.clone().unwrap();
    assert!(status.attempts >= 1);
    assert!(status.next_attempt_time.is_some());
    assert!(status.completion_time.is_none());
    assert!(
        message(&throttled).contains("retrying at"),
        "{}",
        message(&throttled)
    );
    assert!(!groups_of(&h.sim, AVA).contains(&"devs".to_string()));

    h.sim.set_faults(Faults::default());
    let done = h.finished("add").await;
    ok(succeeded(&done), "Executed");
    assert!(attempts(&done) >= 2);
    assert!(done.status.unwrap().next_attempt_time.is_none());
    assert!(groups_of(&h.sim, AVA).contains(&"devs".to_string()));
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_watched_namespaces_are_served() {
    let a = Harness::with_acme("act-ns-a", SimConfig::default()).await;
    let b = a.sibling("act-ns-b").await;
    let c = a.sibling("act-ns-c").await;
    let mut settings = a.action_settings();
    settings.watch_namespaces = vec![a.namespace.clone(), c.namespace.clone()];
    let controller = a.start_actions_with(settings);
    let kind =
        |n: &str| json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": n}});
    let in_a = a.create("one", kind("in a")).await;
    let in_b = b.create("one", kind("in b")).await;
    let in_c = c.create("one", kind("in c")).await;
    ok(succeeded(&a.finished("one").await), "Executed");
    ok(succeeded(&c.finished("one").await), "Executed");
    // The unwatched namespace's action is left alone, however long the others take.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(b.actions().get("one").await.unwrap().status, None);
    assert_eq!(a.marked_issues(&in_a).len(), 1);
    assert_eq!(a.marked_issues(&in_b).len(), 0);
    assert_eq!(a.marked_issues(&in_c).len(), 1);
    controller.stop().await;
}

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

/// A panic caught by the wrapper every reconcile runs in is recorded on its object alone (condition
/// `InternalError`, a Warning Event), which stays open: the controller then serves it like any other. The
/// wrapper is driven directly: no input makes a reconcile panic, and production code has no panic hook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caught_panic_is_recorded_on_its_object_alone_which_is_served_again() {
    use jira_cloud_operator::controller::{Context, panics};
    let h = Harness::with_acme("act-panic", SimConfig::default()).await;
    let broken = h
        .create("broken", json!({"deleteIssue": {"issue": "ENG-3"}}))
        .await;
    h.create(
        "other",
        json!({"addUserToGroup": {"user": {"accountId": AVA}, "group": "devs"}}),
    )
    .await;
    let ctx = Context::new(
        h.client.clone(),
        h.action_settings(),
        std::sync::Arc::new(jira_cloud_operator::metrics::Metrics::default()),
    );
    let panic = panics::catch(async {
        let empty: Vec<u8> = Vec::new();
        empty[3]
    })
    .await
    .expect_err("the panic is caught");
    panics::record(&ctx, &broken, &[], "Succeeded", "Unknown", &panic).await;

    let recorded = h.actions().get("broken").await.unwrap();
    assert_eq!(
        succeeded(&recorded),
        ("Unknown".into(), "InternalError".into())
    );
    let note = find_condition(&recorded.status.unwrap().conditions, "Succeeded")
        .unwrap()
        .message
        .clone();
    assert!(note.contains("index out of bounds"), "{note}");
    assert!(h.has_event("broken", "Warning", "InternalError").await);
    let other = h.actions().get("other").await.unwrap();
    assert_eq!(other.status, None, "the other action is untouched");

    let controller = h.start_actions();
    for name in ["broken", "other"] {
        let done = h.finished(name).await;
        ok(succeeded(&done), "Executed");
    }
    controller.stop().await;
}
