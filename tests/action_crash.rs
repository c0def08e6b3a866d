//! Crash safety of JiraActions with the real operator process: the operator runs with the fault
//! `JCO_FAULT_CRASH_AFTER_JIRA_CALL=1`, so it aborts right after its Jira call succeeded and before the status
//! write; a restarted operator (without the fault) then finishes the action. For every action kind the
//! simulator must hold exactly one effect: one created issue, one deletion, one membership change.

use jira_cloud_operator::{api::ActionPhase, controller::action::FAULT_CRASH_AFTER_JIRA_CALL};
use jira_sim::SimConfig;
use serde_json::{Value, json};
use std::os::unix::process::ExitStatusExt;
use testkit::{
    Harness, Launch, OperatorProcess,
    observed::{attempts, groups_of, phase, succeeded},
};

const MIA: &str = "5b10a2844c20165700ede003";
const AVA: &str = "5b10a2844c20165700ede008";

/// The operator binary watching the harness's namespace; `crash` sets the crash hook.
fn operator(h: &Harness, name: &str, crash: bool) -> OperatorProcess {
    let env: &[(&str, &str)] = if crash {
        &[(FAULT_CRASH_AFTER_JIRA_CALL, "1")]
    } else {
        &[]
    };
    OperatorProcess::launch(
        &h.sim.url(),
        Launch {
            name,
            watch: &[&h.namespace],
            env,
            ..Launch::default()
        },
    )
}

/// Runs `kind` as action `name` through a crash after the Jira call and a restart; returns the finished action.
async fn crash_then_restart(
    h: &Harness,
    name: &str,
    kind: Value,
) -> jira_cloud_operator::api::JiraAction {
    h.create(name, kind).await;
    let mut crashing = operator(h, "crash", true);
    let status = crashing.wait_exit().await;
    assert_eq!(
        status.signal(),
        Some(6),
        "the operator did not abort ({status}):\n{}",
        crashing.log()
    );
    assert!(
        crashing.log().contains(FAULT_CRASH_AFTER_JIRA_CALL),
        "{}",
        crashing.log()
    );

    // The attempt was recorded before the call; its result never was.
    let interrupted = h.actions().get(name).await.expect("the action");
    assert_eq!(
        phase(&interrupted),
        Some(ActionPhase::Running),
        "{:?}",
        interrupted.status
    );
    assert_eq!(attempts(&interrupted), 1);

    let mut restarted = operator(h, "restart", false);
    let done = h.finished(name).await;
    let log = restarted.log();
    restarted.terminate().await;
    assert_eq!(
        phase(&done),
        Some(ActionPhase::Succeeded),
        "{:?}\n{log}",
        done.status
    );
    // A second attempt, or (a create) none: the crashed attempt's issue was found by reads.
    assert!(attempts(&done) <= 2, "{:?}", done.status);
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_issue_survives_a_crash_with_one_issue() {
    // New issues stay invisible to search for 5 s (Jira's search is eventually consistent): the retry must
    // still find the issue the crashed attempt created.
    let mut scenario = jira_sim::default_scenario();
    scenario.settings.search_lag_secs = 5;
    let config = SimConfig {
        scenario,
        ..SimConfig::default()
    };
    let h = Harness::with_acme("crash-create", config).await;
    let done = crash_then_restart(
        &h,
        "create",
        json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Exactly once"}}),
    )
    .await;
    let issues = h.marked_issues(&done);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(attempts(&done), 1, "found by reads, never attempted again");
    let result = done.status.clone().unwrap().result.unwrap();
    assert_eq!(result.issue_key.as_ref(), Some(&issues[0]));
    assert_eq!(succeeded(&done).1, "Executed");
    assert_eq!(
        h.sim.stats().count_status("POST", "/rest/api/3/issue", 201),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_issue_survives_a_crash_with_one_deletion() {
    let h = Harness::with_acme("crash-delissue", SimConfig::default()).await;
    let done = crash_then_restart(&h, "delete", json!({"deleteIssue": {"issue": "ENG-3"}})).await;
    assert!(h.sim.with_state(|st| st.issue_ref("ENG-3").is_none()));
    assert_eq!(succeeded(&done).1, "AlreadyDone");
    assert_eq!(
        testkit::observed::message(&done),
        "ENG-3 is gone: an earlier attempt of this action, whose outcome was not recorded, deleted it"
    );
    let stats = h.sim.stats();
    assert_eq!(
        stats.count_status("DELETE", "/rest/api/3/issue/{issueIdOrKey}", 204),
        1,
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_to_group_survives_a_crash_with_one_addition() {
    let h = Harness::with_acme("crash-add", SimConfig::default()).await;
    let done = crash_then_restart(
        &h,
        "add",
        json!({"addUserToGroup": {"user": {"email": "ava@example.com"}, "group": "devs"}}),
    )
    .await;
    assert!(groups_of(&h.sim, AVA).contains(&"devs".to_string()));
    assert_eq!(succeeded(&done).1, "AlreadyDone");
    let stats = h.sim.stats();
    assert_eq!(
        stats.count("POST", "/rest/api/3/group/user"),
        1,
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_from_group_survives_a_crash_with_one_removal() {
    let h = Harness::with_acme("crash-remove", SimConfig::default()).await;
    let done = crash_then_restart(
        &h,
        "remove",
        json!({"removeUserFromGroup": {"user": {"accountId": MIA}, "group": "devs"}}),
    )
    .await;
    assert!(!groups_of(&h.sim, MIA).contains(&"devs".to_string()));
    assert_eq!(succeeded(&done).1, "AlreadyDone");
    let stats = h.sim.stats();
    assert_eq!(
        stats.count("DELETE", "/rest/api/3/group/user"),
        1,
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_user_by_email_survives_a_crash_with_one_deletion() {
    let h = Harness::with_acme("crash-deluser", SimConfig::default()).await;
    let done = crash_then_restart(
        &h,
        "delete",
        json!({"deleteUser": {"user": {"email": "ava@example.com"}}}),
    )
    .await;
    assert!(h.sim.with_state(|st| st.user_by_account(AVA).is_none()));
    // The retry used the accountId recorded before the delete: the email no longer resolves.
    assert_eq!(succeeded(&done).1, "AlreadyDone");
    assert_eq!(
        done.status
            .clone()
            .unwrap()
            .result
            .unwrap()
            .account_id
            .as_deref(),
        Some(AVA)
    );
    let stats = h.sim.stats();
    assert_eq!(
        stats.count_status("DELETE", "/rest/api/3/user", 204),
        1,
        "{stats:?}"
    );
}
