//! Crash safety of JiraActions with the real operator process: the operator runs with the fault
//! `JCO_FAULT_CRASH_AFTER_JIRA_CALL=1`, so it aborts right after its Jira call succeeded and before the status
//! write; a restarted operator (without the fault) then finishes the action. For every action kind the
//! simulator must hold exactly one effect: one created issue, one deletion, one membership change.

mod action_support;
mod support;

use action_support::{Harness, attempts, groups_of, phase, succeeded};
use jira_cloud_operator::{api::ActionPhase, controller::action::FAULT_CRASH_AFTER_JIRA_CALL};
use jira_sim::SimConfig;
use serde_json::{Value, json};
use std::{
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

const MIA: &str = "5b10a2844c20165700ede003";
const AVA: &str = "5b10a2844c20165700ede008";

/// The operator binary running against the test control plane and the simulator, watching one namespace.
struct Operator {
    child: Child,
    log: PathBuf,
}

impl Operator {
    fn start(h: &Harness, dir: &tempfile::TempDir, run: &str, crash: bool) -> Operator {
        let log = dir.path().join(format!("operator-{run}.log"));
        let file = std::fs::File::create(&log).expect("a log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jira-cloud-operator"));
        cmd.env_clear()
            .env("KUBECONFIG", testenv::shared().kubeconfig_path())
            .env("JCO_WATCH_NAMESPACES", &h.namespace)
            .env("JCO_JIRA_API_URL", h.sim.url().as_str())
            .env("JCO_JIRA_AUTH_URL", h.sim.url().as_str())
            .env("JCO_ALLOWED_SITE_HOSTS", "127.0.0.1")
            .env("JCO_CREATE_OUTCOME_WINDOW", "3s")
            .env("JCO_JIRA_REQUESTS_PER_SECOND", "0")
            .env("JCO_METRICS_ADDR", "127.0.0.1:0")
            .env("JCO_HEALTH_ADDR", "127.0.0.1:0")
            .env("JCO_LOG_FORMAT", "text")
            .env("JCO_LOG_LEVEL", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("a log file"))
            .stderr(file);
        if crash {
            cmd.env(FAULT_CRASH_AFTER_JIRA_CALL, "1");
        }
        Operator {
            child: cmd.spawn().expect("the operator binary starts"),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the process to exit by itself.
    async fn exited(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().expect("the operator's status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the operator never crashed:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the process (SIGTERM, graceful) and waits for it.
    async fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self
            .child
            .try_wait()
            .expect("the operator's status")
            .is_none()
        {
            if Instant::now() > deadline {
                let _ = self.child.kill();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Runs `kind` as action `name` through a crash after the Jira call and a restart; returns the finished action.
async fn crash_then_restart(
    h: &Harness,
    name: &str,
    kind: Value,
) -> jira_cloud_operator::api::JiraAction {
    let dir = tempfile::tempdir().expect("a temporary directory");
    h.create(name, kind).await;
    let mut crashing = Operator::start(h, &dir, "crash", true);
    let status = crashing.exited().await;
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

    let restarted = Operator::start(h, &dir, "restart", false);
    let done = h.finished(name).await;
    let log = restarted.log();
    restarted.stop().await;
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
    let h = Harness::new("crash-create", config).await;
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
    let h = Harness::new("crash-delissue", SimConfig::default()).await;
    let done = crash_then_restart(&h, "delete", json!({"deleteIssue": {"issue": "ENG-3"}})).await;
    assert!(h.sim.with_state(|st| st.issue_ref("ENG-3").is_none()));
    assert_eq!(succeeded(&done).1, "AlreadyDone");
    assert_eq!(
        action_support::message(&done),
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
    let h = Harness::new("crash-add", SimConfig::default()).await;
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
    let h = Harness::new("crash-remove", SimConfig::default()).await;
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
    let h = Harness::new("crash-deluser", SimConfig::default()).await;
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
