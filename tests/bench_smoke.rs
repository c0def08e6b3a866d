//! The benchmark suite's request models (`testkit::bench::counts`) against a real sync of a small
//! generated org: the sync makes no fewer requests than the computed minimum and at most 1.25 times it, and
//! the naive strategy's requests made for real equal the computed ones. Counts only, no timings; the suite
//! itself runs with `make bench` (`BENCH_QUICK=1` for a smoke run), outside the test suite.

use chrono::Utc;
use jira_cloud_operator::jira::JiraClient;
use jira_cloud_operator::sync::{self, SyncOptions};
use jira_sim::scenario::AccountType;
use jira_sim::{GenerateOptions, SimConfig};
use std::time::Duration;
use testkit::bench::counts;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_models_match_a_real_sync() {
    let mut scenario = jira_sim::generate(&GenerateOptions {
        users: 400,
        ..GenerateOptions::default()
    });
    for u in scenario.users.iter_mut().take(2) {
        u.active = true;
    }
    let sim = jira_sim::start(SimConfig {
        scenario: scenario.clone(),
        ..SimConfig::default()
    })
    .await
    .expect("the simulator");
    let loaded = sim.with_state(|st| st.loaded_at_ms);
    let url = sim.url();
    let client = JiraClient::connect(counts::admin_client(&url, None, Duration::from_secs(30)))
        .await
        .expect("connect");
    let now = Utc::now();
    let out = sync::run(
        &client,
        &SyncOptions {
            window_days: 30,
            now,
        },
        None,
    )
    .await
    .expect("the sync");
    let from = sync::window_for(now, 30)
        .0
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let minimal = counts::minimal_requests(&scenario, from, loaded, false) as u64;
    let requests = out.stats.api_requests;
    println!("requests {requests}, minimal {minimal}");
    assert!(
        requests >= minimal,
        "the minimum is a lower bound: {requests} < {minimal}"
    );
    assert!(
        requests as f64 <= 1.25 * minimal as f64,
        "{requests} requests for a minimum of {minimal}"
    );

    let from_ms = from.timestamp_millis();
    let (ids, keys) = sim.with_state(|st| {
        let ids: Vec<String> = st
            .users
            .iter()
            .filter(|u| u.account_type == AccountType::Atlassian && !u.deleted)
            .map(|u| u.account_id.clone())
            .collect();
        let keys: Vec<String> = st
            .issues
            .iter()
            .flatten()
            .filter(|i| i.updated_ms >= from_ms)
            .map(|i| i.key.clone())
            .collect();
        (ids, keys)
    });
    assert!(!keys.is_empty(), "the window has activity");
    let measured = counts::naive_measured(&scenario, &url, ids, keys).await;
    let computed = counts::naive_requests(&scenario, from, loaded);
    println!("naive: measured {measured}, computed {computed}");
    assert_eq!(measured, computed);
    assert!(computed as u64 > requests);
    sim.shutdown().await;
}
