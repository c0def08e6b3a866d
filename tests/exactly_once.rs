//! Exactly once under the way Jira Cloud really behaves after it acted: a create performed whose answer never
//! arrived while the issue search lags (by nothing, a little, or far beyond the operator's search window), a
//! create performed and answered 503 by a gateway while the search lags, half of all mutating answers lost over
//! a mixed batch, an identical createIssue re-created after its TTL deleted it, a mistyped issue key, and a
//! connection re-pointed to another site after an attempt (`SiteChanged`, nothing sent to the new site).

use jira_cloud_operator::api::{ActionPhase, JiraAction, find_condition};
use jira_sim::{
    AfterProcessingFault, Faults, GenerateOptions, ServerErrorFault, SimConfig,
    scenario::AccountType,
};
use serde_json::json;
use std::time::Duration;
use testkit::Harness;

/// `(phase, reason)` of a finished action.
fn verdict(a: &JiraAction) -> (Option<ActionPhase>, String) {
    let st = a.status.as_ref().expect("a status");
    let reason = find_condition(&st.conditions, "Succeeded")
        .map(|c| c.reason.clone())
        .unwrap_or_default();
    (st.phase, reason)
}

/// An operator with a 1 s request timeout (and, as every test operator, a search window of 3 s: the production
/// default is 10 minutes).
fn settings(w: &Harness) -> jira_cloud_operator::controller::Settings {
    w.fault_settings(Duration::from_secs(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_late_makes_one_issue_whatever_the_search_lag() {
    let w = Harness::new("once-late", SimConfig::default()).await;
    let operator = w.start(settings(&w));
    w.basic_connection("acme").await;
    // No lag, a lag shorter than the window, and one far beyond it.
    for lag_ms in [0, 2_000, 300_000] {
        w.sim.set_faults(Faults {
            after_processing: Some(AfterProcessingFault {
                delay_ms: 3_000,
                count: Some(1),
                ..AfterProcessingFault::default()
            }),
            routes: vec!["/rest/api/3/issue".into()],
            search_lag_ms: lag_ms,
            ..Faults::default()
        });
        let name = format!("late-{lag_ms}");
        let created = w
            .create_on(
                &name,
                "acme",
                json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": format!("Late answer, lag {lag_ms} ms")}}),
            )
            .await;
        let done = w.finished_all(std::slice::from_ref(&name)).await.remove(0);
        let issues = w.marked_issues(&created);
        assert_eq!(
            issues.len(),
            1,
            "lag {lag_ms} ms: one issue for one action: {issues:?}"
        );
        assert_eq!(
            verdict(&done),
            (Some(ActionPhase::Succeeded), "Executed".into())
        );
        let st = done.status.unwrap();
        assert_eq!(
            st.result.unwrap().issue_key.as_deref(),
            Some(issues[0].as_str())
        );
        assert!(st.may_have_acted, "the lost answer is on record");
        assert_eq!(st.attempt, None);
        assert!(w.sim.stats().answers_lost >= 1, "the fault struck");
    }
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_503_after_processing_makes_one_issue() {
    let w = Harness::new("once-503", SimConfig::default()).await;
    let operator = w.start(settings(&w));
    w.basic_connection("acme").await;
    // A gateway answers 503 although the backend created the issue, and the search does not see it yet: a
    // resent create would make a second issue.
    w.sim.set_faults(Faults {
        after_processing: Some(AfterProcessingFault {
            status: Some(503),
            count: Some(1),
            ..AfterProcessingFault::default()
        }),
        routes: vec!["/rest/api/3/issue".into()],
        search_lag_ms: 300_000,
        ..Faults::default()
    });
    let created = w
        .create_on(
            "gateway-503",
            "acme",
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Answered 503"}}),
        )
        .await;
    let done = w.finished_all(&["gateway-503".to_string()]).await.remove(0);
    let issues = w.marked_issues(&created);
    assert_eq!(issues.len(), 1, "one issue for one action: {issues:?}");
    assert_eq!(
        verdict(&done),
        (Some(ActionPhase::Succeeded), "Executed".into())
    );
    let st = done.status.unwrap();
    assert_eq!(
        st.result.unwrap().issue_key.as_deref(),
        Some(issues[0].as_str())
    );
    assert!(
        st.may_have_acted,
        "the 503 is on record as a possibly processed create"
    );
    assert_eq!(w.sim.stats().answers_lost, 1, "the fault struck");
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_of_all_mutating_answers_lost_still_makes_every_change_once() {
    let w = Harness::new(
        "once-half",
        SimConfig {
            scenario: jira_sim::generate(&GenerateOptions {
                seed: 9,
                users: 120,
                ..Default::default()
            }),
            ..SimConfig::default()
        },
    )
    .await;
    let (outsiders, members, deletable) =
        w.sim.with_state(|st| {
            let testers = st
                .groups
                .iter()
                .position(|g| g.name == "jira-testers")
                .expect("jira-testers");
            let (mut outsiders, mut members) = (Vec::new(), Vec::new());
            for u in st.users.iter().filter(|u| {
                u.active && u.account_type == AccountType::Atlassian && u.email.is_some()
            }) {
                if u.groups.iter().any(|g| *g as usize == testers) {
                    members.push(u.account_id.clone());
                } else {
                    outsiders.push(u.account_id.clone());
                }
            }
            let deletable: Vec<String> = st
                .issues
                .iter()
                .flatten()
                .filter(|i| {
                    st.issue_ref(&i.key)
                        .is_some_and(|ix| st.subtasks(ix).is_empty())
                })
                .map(|i| i.key.clone())
                .collect();
            (outsiders, members, deletable)
        });
    const EACH: usize = 6;
    assert!(outsiders.len() >= EACH && members.len() >= EACH && deletable.len() >= EACH);
    let operator = w.start(settings(&w));
    w.basic_connection("acme").await;
    w.wait_connection("acme", "credentials valid", |c| {
        testkit::observed::condition(c, "CredentialsValid").is_some_and(|(s, _)| s == "True")
    })
    .await;
    w.sim.reset_stats();
    w.sim.set_faults(Faults {
        after_processing: Some(AfterProcessingFault {
            drop: true,
            ratio: Some(0.5),
            ..AfterProcessingFault::default()
        }),
        ..Faults::default()
    });

    let mut names = Vec::new();
    let mut creates = Vec::new();
    for i in 0..EACH {
        let create = format!("create-{i}");
        creates.push(
            w.create_on(
                &create,
                "acme",
                json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": format!("Half lost {i}")}}),
            )
            .await,
        );
        let kinds = [
            (
                format!("add-{i}"),
                json!({"addUserToGroup": {"user": {"accountId": outsiders[i]}, "group": "jira-testers"}}),
            ),
            (
                format!("remove-{i}"),
                json!({"removeUserFromGroup": {"user": {"accountId": members[i]}, "group": "jira-testers"}}),
            ),
            (
                format!("delete-{i}"),
                json!({"deleteIssue": {"issue": deletable[i]}}),
            ),
        ];
        for (name, kind) in kinds {
            w.create_on(&name, "acme", kind).await;
            names.push(name);
        }
        names.push(create);
    }
    for done in w.finished_all(&names).await {
        assert_eq!(
            done.status.as_ref().and_then(|s| s.phase),
            Some(ActionPhase::Succeeded),
            "{}: {:?}",
            done.metadata.name.clone().unwrap_or_default(),
            done.status
        );
    }
    let stats = w.sim.stats();
    assert!(stats.answers_lost > 0, "the fault struck");
    for created in &creates {
        assert_eq!(
            w.marked_issues(created).len(),
            1,
            "one issue per createIssue"
        );
    }
    // Each change reached Jira exactly once (the counters record what Jira did, answered or not).
    let done = |method: &str, route: &str| -> u64 {
        stats
            .routes
            .iter()
            .filter(|r| r.method == method && r.route.ends_with(route) && r.status < 300)
            .map(|r| r.count)
            .sum()
    };
    assert_eq!(done("POST", "/rest/api/3/issue"), EACH as u64, "creates");
    assert_eq!(done("POST", "/rest/api/3/group/user"), EACH as u64, "adds");
    assert_eq!(
        done("DELETE", "/rest/api/3/group/user"),
        EACH as u64,
        "removals"
    );
    assert_eq!(
        done("DELETE", "/rest/api/3/issue/{issueIdOrKey}"),
        EACH as u64,
        "deletes"
    );
    w.sim.with_state(|st| {
        for key in &deletable[..EACH] {
            assert!(st.issue_ref(key).is_none(), "{key} deleted");
        }
    });
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_identical_create_finds_its_issue_and_a_mistyped_key_is_not_found() {
    let w = Harness::new("once-recreate", SimConfig::default()).await;
    let operator = w.start(settings(&w));
    w.basic_connection("acme").await;
    let mut fragment = json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Re-applied by GitOps"}});
    fragment["ttlSecondsAfterFinished"] = json!(0);
    let first = w.create_on("gitops", "acme", fragment.clone()).await;
    testkit::wait::eventually(
        "the TTL to delete the action",
        testkit::wait::LIMIT,
        || async {
            w.actions()
                .get_opt("gitops")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
    let issues = w.marked_issues(&first);
    assert_eq!(issues.len(), 1);

    // A GitOps tool re-creates what the TTL deleted: same namespace, name and spec, new UID.
    let again = w.create_on("gitops", "acme", fragment).await;
    assert_ne!(again.metadata.uid, first.metadata.uid);
    let note = testkit::wait::eventually("an AlreadyDone Event", testkit::wait::LIMIT, || async {
        let events: kube::Api<k8s_openapi::api::events::v1::Event> =
            kube::Api::namespaced(w.client.clone(), &w.namespace);
        events
            .list(&Default::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| {
                e.regarding.as_ref().and_then(|r| r.uid.as_deref()) == again.metadata.uid.as_deref()
                    && e.reason.as_deref() == Some("AlreadyDone")
            })
            .and_then(|e| e.note)
    })
    .await;
    assert!(note.contains(&issues[0]), "names the earlier issue: {note}");
    assert_eq!(w.marked_issues(&again), issues, "no second issue");

    // A mistyped key is not success.
    w.create_on(
        "typo",
        "acme",
        json!({"deleteIssue": {"issue": "ENG-99999"}}),
    )
    .await;
    let typo = w.finished_all(&["typo".to_string()]).await.remove(0);
    assert_eq!(
        verdict(&typo),
        (Some(ActionPhase::Failed), "NotFound".into())
    );
    assert!(typo.status.unwrap().message.unwrap().contains("ENG-99999"));
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_re_pointed_to_another_site_fails_the_action_and_acts_nowhere() {
    let w = Harness::with_acme("once-site", SimConfig::default()).await;
    let controller = w.start_actions();
    // The first attempt is recorded (and the site pinned), then fails on a 503 and waits to retry.
    w.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 503,
            every_nth: Some(1),
            ..ServerErrorFault::default()
        }),
        routes: vec!["/rest/api/3/project".into()],
        ..Faults::default()
    });
    let created = w
        .create(
            "moved",
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Before the move"}}),
        )
        .await;
    let pending = w
        .wait_action("moved", "a failed first attempt", |a| {
            a.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(ActionPhase::Pending) && s.attempts >= 1)
        })
        .await;
    let pinned = pending.status.unwrap().site_cloud_id;
    assert_eq!(pinned.as_deref(), Some(w.sim.cloud_id().as_str()));

    // The connection now points at another site, whose credentials work too.
    let other = jira_sim::start(SimConfig::default())
        .await
        .expect("a second site");
    other.with_state(|st| st.cloud_id = "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f".into());
    w.connections()
        .patch(
            "acme",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"siteUrl": other.url().to_string()}})),
        )
        .await
        .expect("re-point the connection");
    w.sim.set_faults(Faults::default());

    let done = w.finished("moved").await;
    assert_eq!(
        verdict(&done),
        (Some(ActionPhase::Failed), "SiteChanged".into())
    );
    let message = done.status.unwrap().message.unwrap_or_default();
    assert!(message.contains(&other.cloud_id()), "{message}");
    let writes: Vec<String> = other
        .received_requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        Vec::<String>::new(),
        "nothing sent to the new site but reads"
    );
    assert!(
        w.marked_issues(&created).is_empty(),
        "nothing created on the old site"
    );
    controller.stop().await;
    other.shutdown().await;
}

/// A create answered 503 before Jira processed it leaves its outcome unknown. If the project then disappears
/// from the account's view (here it may no longer browse or administer it), the walk of the project's keys can
/// no longer decide; the marker search window still does, so the action does not wait forever: once the window
/// has passed it tries again and fails, and no issue was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_create_whose_project_became_invisible_still_ends() {
    let w = Harness::new("once-project-hidden", SimConfig::default()).await;
    // A window long enough that the project is hidden while the outcome is still unknown.
    let operator = w.start(jira_cloud_operator::controller::Settings {
        create_outcome_window: Duration::from_secs(15),
        ..settings(&w)
    });
    w.basic_connection("acme").await;
    w.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 503,
            count: Some(1),
            ..ServerErrorFault::default()
        }),
        routes: vec!["POST /rest/api/3/issue".into()],
        ..Faults::default()
    });
    let created = w
        .create_on(
            "hidden",
            "acme",
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Answered 503 before processing"}}),
        )
        .await;
    w.wait_action("hidden", "its outcome unknown", |a| {
        a.status.is_some() && verdict(a).1 == "OutcomeUnknown"
    })
    .await;
    assert_eq!(w.sim.stats().server_errors, 1, "the fault struck");
    w.sim.with_state(|s| {
        let eng = s.project_ref("ENG").expect("ENG") as usize;
        for key in ["BROWSE_PROJECTS", "ADMINISTER_PROJECTS"] {
            s.projects[eng].grants.retain(|(k, _)| k != key);
            s.projects[eng].grants.push((key.into(), Vec::new()));
        }
    });
    let done = w.finished("hidden").await;
    assert_eq!(
        done.status.as_ref().unwrap().phase,
        Some(ActionPhase::Failed),
        "{:?}",
        done.status
    );
    assert!(w.marked_issues(&created).is_empty(), "no issue was made");
    operator.stop().await;
}
