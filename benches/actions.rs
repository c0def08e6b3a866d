//! Throughput and latency of JiraActions: bursts of 100 and 1,000 createIssue actions applied at once against
//! the simulator, on the test control plane, with the action controller in-process.
//!
//! Prints, per burst: actions per second (first create request to last action seen Succeeded), and the p50 and
//! p99 time from creation to Succeeded, both as watched by the bench (create request sent → watch event) and
//! as recorded by the apiserver and the operator (`creationTimestamp` → `completionTime`, which have a
//! resolution of one second). Run with `cargo bench --bench actions`.

#[path = "../tests/action_support/mod.rs"]
mod action_support;
#[path = "../tests/support/mod.rs"]
mod support;

use action_support::{Harness, burst, percentile, settings};
use jira_sim::SimConfig;
use std::time::Duration;

fn fmt(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

async fn run(count: usize) {
    let h = Harness::new("bench-actions", SimConfig::default()).await;
    let controller = h
        .start_controller_with(settings(&h.sim, &h.namespace))
        .await;
    let report = burst(&h, "bench", count).await;
    let requests = h.sim.stats().total;
    controller.stop().await;
    println!(
        "burst of {count:>5}: {:>7.1} actions/s over {}; creation to Succeeded: watched p50 {} p99 {}, \
         recorded p50 {} p99 {}; {:.1} Jira requests per action",
        report.throughput(),
        fmt(report.wall),
        fmt(percentile(&report.watched, 50.0)),
        fmt(percentile(&report.watched, 99.0)),
        fmt(percentile(&report.recorded, 50.0)),
        fmt(percentile(&report.recorded, 99.0)),
        requests as f64 / count as f64,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported, every burst runs.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        for count in [100, 1000] {
            run(count).await;
        }
    });
}
