//! The operator binary killed with SIGKILL at random points (seeded: `KILL_SEED`, default 20261128) of syncs and
//! actions, 24 times. Each round asks for a sync of the connection, creates two JiraActions (an issue to create,
//! and in turn an issue without activity to delete, a user to add to a group, one to remove), waits a random
//! 30 ms-3 s (every other round: until an action's attempt was recorded, then 0-150 ms) and kills the process,
//! then starts it again. Jira answers with a little latency so kills land inside syncs and inside
//! action attempts. After every restart nothing written before is lost (finished actions keep their result,
//! the connection keeps its figures); at the end every action succeeded and its effect happened exactly once in
//! the simulator (one issue per createIssue marker, one successful DELETE or group change per action), and the
//! connection's figures equal those of a fresh connection synced without any kill.

use jira_cloud_operator::api::{ActionPhase, JiraAction};
use jira_sim::{Faults, GenerateOptions, SimConfig, scenario::AccountType};
use kube::{ResourceExt, api::ListParams};
use serde_json::json;
use std::{collections::BTreeMap, time::Duration};
use testkit::{
    Harness, Launch, OperatorProcess, Rng,
    observed::{condition, figures},
};

const KILLS: usize = 24;

/// Distinct targets for the actions: users to add to and remove from `jira-testers`, issues to delete.
struct Targets {
    add: Vec<String>,
    remove: Vec<String>,
    delete: Vec<String>,
}

fn targets(w: &Harness) -> Targets {
    w.sim.with_state(|st| {
        let testers = st
            .groups
            .iter()
            .position(|g| g.name == "jira-testers")
            .expect("a jira-testers group");
        let humans = st
            .users
            .iter()
            .filter(|u| u.active && u.account_type == AccountType::Atlassian && u.email.is_some());
        let (mut add, mut remove) = (Vec::new(), Vec::new());
        for u in humans {
            if u.groups.iter().any(|g| *g as usize == testers) {
                remove.push(u.account_id.clone());
            } else {
                add.push(u.account_id.clone());
            }
        }
        // Issues without activity: a deleted issue takes its comments, changelog and worklogs with it, which
        // the connection's history keeps and a fresh connection cannot see.
        let now_ms = chrono::Utc::now().timestamp_millis();
        let delete = (0..=KILLS)
            .map(|i| {
                let ix = st.create_issue(
                    0,
                    0,
                    format!("To delete {i}"),
                    None,
                    None,
                    Vec::new(),
                    None,
                    Vec::new(),
                    now_ms,
                );
                st.issues[ix as usize]
                    .as_ref()
                    .expect("created")
                    .key
                    .clone()
            })
            .collect();
        Targets {
            add,
            remove,
            delete,
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kills_lose_nothing_and_run_each_action_once() {
    let seed: u64 = std::env::var("KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261128);
    let mut rng = Rng::new(seed);
    let w = Harness::new(
        "faults-kills",
        SimConfig {
            scenario: jira_sim::generate(&GenerateOptions {
                seed: 5,
                users: 300,
                ..Default::default()
            }),
            ..SimConfig::default()
        },
    )
    .await;
    let mut targets = targets(&w);
    assert!(
        targets.add.len() > KILLS && targets.remove.len() > KILLS && targets.delete.len() > KILLS
    );
    w.sim.set_faults(Faults {
        latency_ms: 40,
        ..Faults::default()
    });
    w.basic_connection("acme").await;

    let dir = tempfile::tempdir().expect("a directory");
    let log = dir.path().join("operator.log");
    let args = [
        "--jira-timeout",
        "10s",
        "--log-format",
        "text",
        "--log-level",
        "info",
    ];
    let mut operator = OperatorProcess::launch(
        &w.sim.url(),
        Launch {
            name: "operator",
            watch: &[&w.namespace],
            args: &args,
            log: Some(&log),
            ..Launch::default()
        },
    );

    let mut actions: Vec<(String, &'static str)> = Vec::new();
    let mut finished: BTreeMap<String, String> = BTreeMap::new();
    let mut had_figures = false;
    let mut kills = 0;
    for round in 0..KILLS {
        w.request_sync("acme", &format!("round-{round}")).await;
        let other = match round % 3 {
            0 => (
                "delete",
                json!({"deleteIssue": {"issue": targets.delete.pop().unwrap()}}),
            ),
            1 => (
                "add",
                json!({"addUserToGroup": {"user": {"accountId": targets.add.pop().unwrap()}, "group": "jira-testers"}}),
            ),
            _ => (
                "remove",
                json!({"removeUserFromGroup": {"user": {"accountId": targets.remove.pop().unwrap()}, "group": "jira-testers"}}),
            ),
        };
        let kinds = [
            (
                "create",
                json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": format!("Kill round {round}")}}),
            ),
            other,
        ];
        for (kind, spec) in kinds {
            let name = format!("r{round}-{kind}");
            w.create_on(&name, "acme", spec).await;
            actions.push((name, kind));
        }
        // Even rounds kill at a random time (mostly inside syncs); odd rounds kill during an action's attempt:
        // once the attempt was recorded (phase Running), within the next 0-150 ms.
        if round % 2 == 0 {
            tokio::time::sleep(
                rng.duration(Duration::from_millis(30), Duration::from_millis(3000)),
            )
            .await;
        } else {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            'watch: while std::time::Instant::now() < deadline {
                for (name, _) in actions.iter().rev().take(2) {
                    let a = w.actions().get(name).await.expect("the action");
                    if a.status.and_then(|s| s.phase) == Some(ActionPhase::Running) {
                        break 'watch;
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(rng.duration(Duration::ZERO, Duration::from_millis(150))).await;
        }
        assert!(
            operator.is_running(),
            "the operator exited by itself:\n{}",
            operator.log()
        );
        operator.kill();
        kills += 1;

        // Nothing written before the kill is lost.
        let c = w.connections().get("acme").await.expect("the connection");
        if had_figures {
            assert!(
                c.status.as_ref().is_some_and(|s| s.users.is_some()),
                "round {round}: the connection lost its figures"
            );
        }
        had_figures |= c.status.as_ref().is_some_and(|s| s.users.is_some());
        for a in w
            .actions()
            .list(&ListParams::default())
            .await
            .expect("actions")
            .items
        {
            let st = a.status.clone().unwrap_or_default();
            let outcome = serde_json::to_string(&(st.phase, &st.result)).unwrap();
            if let Some(before) = finished.get(&a.name_any()) {
                assert_eq!(
                    &outcome,
                    before,
                    "round {round}: {} changed after it finished",
                    a.name_any()
                );
            } else if matches!(st.phase, Some(ActionPhase::Succeeded | ActionPhase::Failed)) {
                finished.insert(a.name_any(), outcome);
            }
        }
        operator = OperatorProcess::launch(
            &w.sim.url(),
            Launch {
                name: "operator",
                watch: &[&w.namespace],
                args: &args,
                log: Some(&log),
                ..Launch::default()
            },
        );
    }
    assert!(kills >= 20);

    // Let the last run finish every action. Then a full sync of the connection in a new process (incremental
    // syncs keep activity of issues deleted since, which a fresh sync cannot see), to compare with a fresh one.
    let names: Vec<String> = actions.iter().map(|(n, _)| n.clone()).collect();
    let done: Vec<JiraAction> = w.finished_all(&names).await;
    assert!(
        operator.terminate().await,
        "the operator did not stop cleanly"
    );
    operator = OperatorProcess::launch(
        &w.sim.url(),
        Launch {
            name: "operator",
            watch: &[&w.namespace],
            args: &args,
            log: Some(&log),
            ..Launch::default()
        },
    );
    w.request_sync("acme", "final").await;
    let killed = w.synced_after("acme", "final").await;

    let stats = w.sim.stats();
    let mut counts = BTreeMap::new();
    for (a, (_, kind)) in done.iter().zip(&actions) {
        let st = a.status.as_ref().expect("a status");
        assert_eq!(
            st.phase,
            Some(ActionPhase::Succeeded),
            "{} ({kind}): {st:?}",
            a.name_any()
        );
        *counts.entry(*kind).or_insert(0u64) += 1;
        if *kind == "create" {
            let issues = w.marked_issues(a);
            assert_eq!(issues.len(), 1, "{}: {issues:?}", a.name_any());
        }
    }
    let effects = [
        (
            "create",
            stats.count_status("POST", "/rest/api/3/issue", 201),
        ),
        (
            "delete",
            stats.count_status("DELETE", "/rest/api/3/issue/{issueIdOrKey}", 204),
        ),
        (
            "add",
            stats.count_status("POST", "/rest/api/3/group/user", 201),
        ),
        (
            "remove",
            stats.count_status("DELETE", "/rest/api/3/group/user", 200),
        ),
    ];
    for (kind, seen) in effects {
        assert_eq!(
            seen, counts[kind],
            "{kind}: {seen} effects in Jira for {} actions",
            counts[kind]
        );
    }

    // The figures after all the kills equal a fresh, kill-free sync of the same site.
    w.basic_connection("fresh").await;
    let fresh = w
        .wait_connection("fresh", "a first sync", |c| {
            condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await;
    assert!(
        operator.terminate().await,
        "the operator did not stop cleanly"
    );
    assert_eq!(
        figures(&killed),
        figures(&fresh),
        "figures after the kills differ"
    );
    let text = operator.log();
    let restarts = text.matches("jira-cloud-operator starting").count();
    let (started, completed) = (
        text.matches("syncing why=").count(),
        text.matches("sync complete").count(),
    );
    let (executed, succeeded) = (
        text.matches("executing kind=").count(),
        text.matches("action succeeded").count(),
    );
    let retried = done
        .iter()
        .filter(|a| a.status.as_ref().is_some_and(|s| s.attempts > 1))
        .count();
    eprintln!(
        "seed {seed}: {kills} kills, {restarts} starts, {started} syncs started and {completed} completed, \
         {} actions ({counts:?}) each ran once ({executed} attempts started, {succeeded} recorded as succeeded, {retried} actions needed more than one attempt); figures equal a kill-free sync",
        done.len()
    );
    assert!(retried > 0, "no kill landed inside an action's attempt");
    assert!(
        started >= completed + 5,
        "only {} syncs were interrupted",
        started - completed
    );
    w.shutdown().await;
}
