//! Answers lost after processing: the mutation happens (issue created, member added, issue deleted),
//! then the answer is dropped or arrives after the client gave up; reads are never affected.

use std::time::Duration;

use crate::common::*;
use jira_sim::{AfterProcessingFault, Faults};
use serde_json::{Value, json};

fn issue(label: &str) -> Value {
    json!({"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Task"}, "summary": "Lost answer",
                      "labels": [label]}})
}

/// Sends as the admin; `Err` when no answer arrived (dropped connection or client timeout).
async fn try_send(
    sim: &Sim,
    method: &str,
    url: &str,
    body: Option<&Value>,
    timeout: Option<Duration>,
) -> Result<u16, reqwest::Error> {
    let mut rb = sim
        .client
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
        .basic_auth("admin@example.com", Some("classic-admin-token"));
    if let Some(b) = body {
        rb = rb.json(b);
    }
    if let Some(t) = timeout {
        rb = rb.timeout(t);
    }
    Ok(rb.send().await?.status().as_u16())
}

async fn create(sim: &Sim) -> Option<u16> {
    let url = sim.url("/rest/api/3/issue");
    try_send(sim, "POST", &url, Some(&issue("selected")), None)
        .await
        .ok()
}

fn labelled(sim: &Sim, label: &str) -> Vec<String> {
    sim.handle.with_state(|st| st.issues_with_label(label))
}

#[tokio::test]
async fn dropped_answers_hide_mutations_that_happened() {
    let sim = start().await;
    let r = sim
        .post(
            &Who::Anon,
            "/__sim/faults",
            json!({"after_processing": {"drop": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["after_processing"]["drop"], json!(true));

    let created = try_send(
        &sim,
        "POST",
        &sim.url("/rest/api/3/issue"),
        Some(&issue("lost-create")),
        None,
    )
    .await;
    assert!(created.is_err(), "no answer: {created:?}");
    assert_eq!(labelled(&sim, "lost-create"), ["ENG-4"]);

    let add = sim.gw(&format!("/rest/api/3/group/user?groupId={DEVS}"));
    let added = try_send(&sim, "POST", &add, Some(&json!({"accountId": NOAH})), None).await;
    assert!(added.is_err(), "no answer: {added:?}");
    let deleted = try_send(
        &sim,
        "DELETE",
        &sim.url("/rest/api/3/issue/ENG-3"),
        None,
        None,
    )
    .await;
    assert!(deleted.is_err(), "no answer: {deleted:?}");

    // Reads, read-only POSTs and the token endpoint answer as usual while the fault is set.
    assert_eq!(
        sim.get(&Who::Admin, "/rest/api/3/issue/ENG-3").await.status,
        404
    );
    let groups = sim
        .get(
            &Who::Admin,
            &format!("/rest/api/3/user/groups?accountId={NOAH}"),
        )
        .await
        .json();
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "devs"),
        "{groups}"
    );
    let search = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": "labels = lost-create", "fields": ["key"]}),
        )
        .await;
    assert_eq!(search.status, 200);
    assert_eq!(search.json()["issues"][0]["key"], "ENG-4");
    for path in [
        "/rest/api/3/search/approximate-count",
        "/rest/api/3/changelog/bulkfetch",
        "/rest/api/3/comment/list",
        "/rest/api/3/worklog/list",
    ] {
        let body = json!({"jql": "project = ENG", "issueIdsOrKeys": ["ENG-1"], "ids": [1]});
        let r = try_send(&sim, "POST", &sim.url(path), Some(&body), None).await;
        assert!(r.is_ok(), "{path} answered: {r:?}");
    }
    sim.oauth_token().await;

    let stats = sim.handle.stats();
    assert_eq!(stats.answers_lost, 3);
    assert_eq!(stats.dropped_connections, 0);
    assert_eq!(stats.count_status("POST", "/rest/api/3/issue", 201), 1);
    assert_eq!(
        stats.count_status("DELETE", "/rest/api/3/issue/{issueIdOrKey}", 204),
        1
    );

    // Cleared: answers arrive again.
    sim.handle.set_faults(Faults::default());
    let again = try_send(
        &sim,
        "POST",
        &sim.url("/rest/api/3/issue"),
        Some(&issue("lost-create")),
        None,
    )
    .await;
    assert_eq!(again.unwrap(), 201);
    assert_eq!(labelled(&sim, "lost-create"), ["ENG-4", "ENG-5"]);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_late_answer_outlives_the_client_timeout() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        after_processing: Some(AfterProcessingFault {
            delay_ms: 600_000,
            ..AfterProcessingFault::default()
        }),
        ..Faults::default()
    });
    let r = try_send(
        &sim,
        "POST",
        &sim.url("/rest/api/3/issue"),
        Some(&issue("late")),
        Some(Duration::from_millis(300)),
    )
    .await;
    let e = r.expect_err("the client gives up first");
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(labelled(&sim, "late"), ["ENG-4"]);
    assert_eq!(sim.handle.stats().answers_lost, 1);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_gateway_error_replaces_the_answer_of_a_processed_create() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        after_processing: Some(AfterProcessingFault {
            status: Some(503),
            count: Some(1),
            ..AfterProcessingFault::default()
        }),
        ..Faults::default()
    });
    let url = sim.url("/rest/api/3/issue");
    let r = try_send(&sim, "POST", &url, Some(&issue("gateway")), None).await;
    assert_eq!(r.unwrap(), 503, "the client sees the gateway's error");
    assert_eq!(labelled(&sim, "gateway"), ["ENG-4"], "the create happened");
    let again = try_send(&sim, "POST", &url, Some(&issue("gateway")), None).await;
    assert_eq!(again.unwrap(), 201);
    assert_eq!(sim.handle.stats().answers_lost, 1);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn count_every_nth_and_routes_select_the_lost_answers() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        after_processing: Some(AfterProcessingFault {
            drop: true,
            count: Some(2),
            ..AfterProcessingFault::default()
        }),
        ..Faults::default()
    });
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(create(&sim).await);
    }
    assert_eq!(got, [None, None, Some(201), Some(201)]);

    sim.handle.set_faults(Faults {
        after_processing: Some(AfterProcessingFault {
            drop: true,
            every_nth: Some(2),
            ..AfterProcessingFault::default()
        }),
        ..Faults::default()
    });
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(create(&sim).await);
    }
    assert_eq!(got, [Some(201), None, Some(201), None]);

    // Only the routes named are affected.
    sim.handle.set_faults(Faults {
        after_processing: Some(AfterProcessingFault {
            drop: true,
            ..AfterProcessingFault::default()
        }),
        routes: vec!["/group/user".into()],
        ..Faults::default()
    });
    assert_eq!(create(&sim).await, Some(201));
    let add = sim.url(&format!("/rest/api/3/group/user?groupId={DEVS}"));
    assert!(
        try_send(&sim, "POST", &add, Some(&json!({"accountId": NOAH})), None)
            .await
            .is_err()
    );

    assert_eq!(labelled(&sim, "selected").len(), 9);
    assert_eq!(sim.handle.stats().answers_lost, 5);
    sim.handle.shutdown().await;
}
