//! What a sync may and may not change, with the operator's controllers in-process on the real apiserver and a
//! generated org in the simulator:
//! - an action needs valid credentials, not a fresh inventory: a connection whose sync fails (server errors on
//!   a route only the sync reads) but whose credentials work runs its actions.

mod reliability_support;
mod support;
#[path = "reliability_support/world.rs"]
mod world;

use jira_cloud_operator::api::ActionPhase;
use jira_sim::{Faults, GenerateOptions, ServerErrorFault, SimConfig};
use serde_json::json;
use std::time::Duration;
use world::{World, condition};

fn generated(users: usize) -> SimConfig {
    SimConfig {
        scenario: jira_sim::generate(&GenerateOptions {
            seed: 17,
            users,
            ..Default::default()
        }),
        ..SimConfig::default()
    }
}

/// Every request whose path contains `route` answers 503.
fn down(route: &str) -> Faults {
    Faults {
        server_error: Some(ServerErrorFault {
            status: 503,
            every_nth: Some(1),
            ..Default::default()
        }),
        routes: vec![route.into()],
        ..Faults::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_runs_on_a_connection_whose_sync_fails() {
    let w = World::new("trust-action", generated(20)).await;
    // Products (application roles) are read by the sync only: the credential check and the actions never
    // need them.
    w.sim.set_faults(down("/rest/api/3/applicationrole"));
    let operator = w.start(w.settings(Duration::from_secs(5)));
    w.basic_connection("acme").await;
    let c = w
        .wait_connection("acme", "a failed sync with valid credentials", |c| {
            condition(c, "Synced").is_some_and(|(s, _)| s == "False")
                && condition(c, "CredentialsValid").is_some_and(|(s, _)| s == "True")
        })
        .await;
    assert_eq!(
        condition(&c, "Synced"),
        Some(("False".into(), "JiraUnavailable".into()))
    );
    assert_eq!(condition(&c, "Ready").map(|(s, _)| s), Some("False".into()));

    let action = w
        .action(
            "create",
            "acme",
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Despite the sync"}}),
        )
        .await;
    let done = w.finished(&["create".to_string()]).await;
    let status = done[0].status.as_ref().expect("a status");
    assert_eq!(
        status.phase,
        Some(ActionPhase::Succeeded),
        "the action did not succeed: {status:?}"
    );
    assert_eq!(w.marked_issues(&action).len(), 1);
    // The sync still fails: the action did not need it.
    let c = w.connections().get("acme").await.expect("the connection");
    assert_eq!(
        condition(&c, "Synced").map(|(s, _)| s),
        Some("False".into())
    );
    operator.stop().await;
    w.sim.shutdown().await;
}
