//! A burst of 1,000 JiraActions applied at once: all succeed, the simulator holds exactly 1,000 effects (one
//! issue per action, found by each action's marker label), the actions share one connected client, and each
//! costs Jira two requests.

use jira_sim::SimConfig;
use std::collections::BTreeSet;
use testkit::{
    Harness,
    burst::{burst, percentile},
    observed::succeeded,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_1000_actions_has_exactly_1000_effects() {
    const COUNT: usize = 1000;
    let h = Harness::with_acme("act-burst", SimConfig::default()).await;
    let issues_before = h.sim.with_state(|st| st.issue_count());
    let controller = h.start_actions();

    let report = burst(&h, "burst", COUNT).await;
    controller.stop().await;

    assert_eq!(report.finished.len(), COUNT);
    let mut keys = BTreeSet::new();
    for action in &report.finished {
        assert_eq!(
            succeeded(action),
            ("True".into(), "Executed".into()),
            "{:?}",
            action.status
        );
        let marked = h.marked_issues(action);
        assert_eq!(
            marked.len(),
            1,
            "{}: {marked:?}",
            kube::ResourceExt::name_any(action)
        );
        let key = action
            .status
            .as_ref()
            .and_then(|s| s.result.as_ref())
            .and_then(|r| r.issue_key.clone());
        assert_eq!(key.as_ref(), Some(&marked[0]));
        keys.insert(marked[0].clone());
    }
    assert_eq!(keys.len(), COUNT);
    assert_eq!(
        h.sim.with_state(|st| st.issue_count()),
        issues_before + COUNT
    );
    assert_eq!(
        h.sim.stats().count_status("POST", "/rest/api/3/issue", 201),
        COUNT as u64
    );
    // Two requests per create (the marker search and the create); the project permission check and the project
    // and issue type lookups are shared by the creates in the project (asked again only after a few seconds),
    // and the connect of the connection's client with its capability reads is made once: no retry, no client
    // connected per action.
    let stats = h.sim.stats();
    assert_eq!(
        stats.count("POST", "/rest/api/3/search/jql"),
        COUNT as u64,
        "one marker search per action"
    );
    for route in [
        "/rest/api/3/mypermissions",
        "/rest/api/3/project/search",
        "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
    ] {
        let asked = stats.count("GET", route);
        assert!(
            asked <= 20,
            "{route}: {asked} requests for {COUNT} creates in one project"
        );
    }
    let extra = stats.total - 2 * COUNT as u64;
    assert!(
        extra <= 40,
        "{extra} Jira requests beyond two per action: {:?}",
        stats.routes
    );
    println!(
        "burst of {COUNT}: {:.1} actions/s; creation to Succeeded p50 {:?}, p99 {:?} (watched)",
        report.throughput(),
        percentile(&report.watched, 50.0),
        percentile(&report.watched, 99.0),
    );
}
