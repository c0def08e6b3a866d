//! The actions section: bursts of createIssue JiraActions with the action controller in-process.

use std::time::{Duration, Instant};

use crate::progress;
use jira_sim::SimConfig;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};
use testkit::bench::procs::{apiserver_writes, difference};
use testkit::bench::{Config, ratio, secs};

/// Bursts of createIssue actions, the action controller in-process, no simulated latency.
pub(crate) async fn actions_section(config: &Config, table: &mut Vec<String>) -> Value {
    table.push(String::new());
    table.push("ACTIONS: bursts of createIssue JiraActions, created to Succeeded (p50/p99: create call returned to watch event; req. p99: create request sent to watch event; recorded: creationTimestamp to completionTime, 1 s resolution)".into());
    table.push(format!(
        "{:>7} {:>10} {:>8} {:>9} {:>9} {:>11} {:>12} {:>12} {:>10} {:>10}",
        "actions",
        "actions/s",
        "wall s",
        "p50 s",
        "p99 s",
        "req. p99 s",
        "rec. p50 s",
        "rec. p99 s",
        "Jira rq/a",
        "k8s w/a"
    ));
    let mut rows = Vec::new();
    for &count in &config.bursts {
        progress(format!("burst of {count} actions"));
        let h = testkit::Harness::with_acme("bench-actions", SimConfig::default()).await;
        let controller = h.start_actions_with(h.action_settings());
        let before = apiserver_writes(&h.client).await;
        let report = testkit::burst::burst(&h, "bench", count).await;
        // The Events are published in the background after the statuses: count the writes once they all are.
        let events_lag = events_published(&h, count).await;
        let writes = difference(&apiserver_writes(&h.client).await, &before);
        let operator_writes: u64 = writes
            .iter()
            .filter(|(k, _)| k.starts_with("jiraactions/") || *k == "events")
            .map(|(_, v)| v)
            .sum();
        let requests = h.sim.stats().total;
        controller.stop().await;
        let p = |v: &[Duration], q: f64| testkit::burst::percentile(v, q).as_secs_f64();
        table.push(format!(
            "{:>7} {:>10.1} {:>8.2} {:>9.3} {:>9.3} {:>11.3} {:>12.0} {:>12.0} {:>10.1} {:>10.1}",
            count,
            report.throughput(),
            report.wall.as_secs_f64(),
            p(&report.watched, 50.0),
            p(&report.watched, 99.0),
            p(&report.from_request, 99.0),
            p(&report.recorded, 50.0),
            p(&report.recorded, 99.0),
            requests as f64 / count as f64,
            operator_writes as f64 / count as f64
        ));
        rows.push(json!({
            "actions": count,
            "throughput_per_second": (report.throughput() * 10.0).round() / 10.0,
            "wall_seconds": secs(report.wall),
            "p50_seconds": p(&report.watched, 50.0),
            "p99_seconds": p(&report.watched, 99.0),
            "from_request_p50_seconds": p(&report.from_request, 50.0),
            "from_request_p99_seconds": p(&report.from_request, 99.0),
            "recorded_p50_seconds": p(&report.recorded, 50.0),
            "recorded_p99_seconds": p(&report.recorded, 99.0),
            "jira_requests_per_action": ratio(requests as f64, count as f64),
            "operator_writes_per_action": ratio(operator_writes as f64, count as f64),
            "apiserver_writes": writes,
            "events_all_published_seconds_after_the_burst": events_lag.map(secs),
        }));
    }
    Value::Array(rows)
}

/// Waits (up to a minute) until the namespace holds `count` Events; how long that took, `None` if it never did.
async fn events_published(h: &testkit::Harness, count: usize) -> Option<Duration> {
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(h.client.clone(), &h.namespace);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        let listed = events.list_metadata(&ListParams::default()).await;
        if listed.is_ok_and(|l| l.items.len() >= count) {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
