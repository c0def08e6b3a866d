//! What bounds a burst of JiraActions on this machine: the rate at which the test control plane takes each
//! kind of request an action costs, measured alone (no controller running), then bursts of createIssue
//! actions with the action controller in-process.
//!
//! Probes, 1,000 requests each, on 1,000 fresh JiraActions: create (64 in flight), the status write that
//! records an attempt (server-side apply conditioned on the resourceVersion, 16 and 64 in flight), the same
//! record as a JSON merge patch with the resourceVersion, an Event create, and a Secret read. Bursts print
//! actions per second and the p50/p99 from the create call's return to the watch event showing `Succeeded`.
//!
//! Run with `cargo bench --bench actions` (`BENCH_BURSTS=100,1000` chooses the bursts, `BENCH_CONCURRENCY`
//! the actions executing at once, the operator's default otherwise, and `BENCH_PROBES=0` skips the probes).

use futures::StreamExt;
use jira_cloud_operator::api::{JiraAction, JiraActionStatus};
use jira_cloud_operator::controller::action::lifecycle;
use jira_sim::SimConfig;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams, PostParams},
    runtime::events::{Event, EventType, Recorder, Reporter},
};
use serde_json::json;
use std::{
    future::Future,
    time::{Duration, Instant},
};
use testkit::{
    Harness, action_object,
    burst::{burst, percentile},
};

const PROBE: usize = 1000;

fn fmt(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

/// Runs `op(i)` for every `i` below `n` with `in_flight` at once; prints requests per second and the
/// apiserver's CPU milliseconds per request.
async fn rate<Fut: Future<Output = ()>>(
    what: &str,
    n: usize,
    in_flight: usize,
    op: impl Fn(usize) -> Fut,
) {
    let apiserver = || {
        cpu_seconds()
            .into_iter()
            .find(|(name, _)| name == "kube-apiserver")
            .map_or(0.0, |(_, s)| s)
    };
    let (cpu, start) = (apiserver(), Instant::now());
    futures::stream::iter(0..n)
        .map(op)
        .buffer_unordered(in_flight)
        .collect::<Vec<()>>()
        .await;
    let per_second = n as f64 / start.elapsed().as_secs_f64();
    let cpu_ms = (apiserver() - cpu) * 1000.0 / n as f64;
    println!(
        "{what}, {in_flight} in flight: {per_second:>6.0}/s, apiserver CPU {cpu_ms:.2} ms each"
    );
}

fn attempt_patch(action: &JiraAction, apply: bool) -> serde_json::Value {
    let started =
        lifecycle::attempt_started(&JiraActionStatus::default(), Some(1), Timestamp::now());
    let mut patch = json!({
        "metadata": {"name": action.name_any(), "resourceVersion": action.resource_version()},
        "status": started,
    });
    if apply {
        patch["apiVersion"] = json!(JiraAction::api_version(&()));
        patch["kind"] = json!(JiraAction::kind(&()));
    }
    patch
}

async fn probes() {
    let h = Harness::with_acme("bench-probes", SimConfig::default()).await;
    let api = h.actions();
    let create_all = |prefix: &'static str| {
        let api = api.clone();
        async move {
            let created = std::sync::Mutex::new(Vec::new());
            rate(&format!("create JiraAction ({prefix})"), PROBE, 64, |i| {
                let (api, created) = (api.clone(), &created);
                let obj = action_object(
                    &format!("{prefix}-{i}"),
                    "acme",
                    json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": format!("Probe {i}")}}),
                );
                async move {
                    let a = api
                        .create(&PostParams::default(), &obj)
                        .await
                        .expect("create");
                    created.lock().unwrap().push(a);
                }
            })
            .await;
            created.into_inner().unwrap()
        }
    };
    let apply_16 = create_all("apply16").await;
    let apply_64 = create_all("apply64").await;
    let merge_64 = create_all("merge64").await;

    let params = PatchParams::apply("jira-cloud-operator").force();
    for (objects, in_flight) in [(&apply_16, 16), (&apply_64, 64)] {
        rate(
            "status server-side apply with resourceVersion",
            PROBE,
            in_flight,
            |i| {
                let (api, params, a) = (api.clone(), &params, &objects[i]);
                async move {
                    api.patch_status(&a.name_any(), params, &Patch::Apply(attempt_patch(a, true)))
                        .await
                        .expect("apply the status");
                }
            },
        )
        .await;
    }
    rate("status merge patch with resourceVersion", PROBE, 64, |i| {
        let (api, a) = (api.clone(), &merge_64[i]);
        async move {
            api.patch_status(
                &a.name_any(),
                &PatchParams::default(),
                &Patch::Merge(attempt_patch(a, false)),
            )
            .await
            .expect("merge the status");
        }
    })
    .await;

    let recorder = Recorder::new(
        h.client.clone(),
        Reporter {
            controller: "jira-cloud-operator".into(),
            instance: None,
        },
    );
    rate("Event create", PROBE, 16, |i| {
        let (recorder, a) = (&recorder, &apply_16[i]);
        async move {
            let event = Event {
                type_: EventType::Normal,
                reason: lifecycle::EXECUTED.into(),
                note: Some(format!("Created ENG-{i}")),
                action: "Execute".into(),
                secondary: None,
            };
            recorder
                .publish(&event, &a.object_ref(&()))
                .await
                .expect("publish");
        }
    })
    .await;

    let secrets: Api<Secret> = Api::namespaced(h.client.clone(), &h.namespace);
    rate("Secret get", PROBE, 16, |_| {
        let secrets = secrets.clone();
        async move {
            secrets.get("acme-basic").await.expect("read the Secret");
        }
    })
    .await;
}

/// CPU seconds used so far by this process (the bench, the in-process controller and simulator) and by each
/// of its child processes (the control plane), by command name.
fn cpu_seconds() -> Vec<(String, f64)> {
    // Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux).
    const TICKS: f64 = 100.0;
    let me = std::process::id().to_string();
    let read = |pid: &str| -> Option<(String, String, f64)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (head, rest) = stat.rsplit_once(") ")?;
        let name = head.split_once(" (")?.1.to_string();
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks: f64 = fields[11].parse::<f64>().ok()? + fields[12].parse::<f64>().ok()?;
        Some((name, fields[1].to_string(), ticks / TICKS))
    };
    let mut out = Vec::new();
    if let Some((_, _, secs)) = read(&me) {
        out.push(("bench+controller+sim".to_string(), secs));
    }
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if let Some((name, parent, secs)) = read(&pid)
            && parent == me
        {
            out.push((name, secs));
        }
    }
    out
}

/// CPU seconds per process between two [`cpu_seconds`] readings.
fn cpu_used(before: &[(String, f64)], after: &[(String, f64)]) -> String {
    after
        .iter()
        .map(|(name, secs)| {
            let earlier = before
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0.0, |(_, s)| *s);
            format!("{name} {:.1}", secs - earlier)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn run(count: usize) {
    let h = Harness::with_acme("bench-actions", SimConfig::default()).await;
    let mut settings = h.action_settings();
    if let Ok(n) = std::env::var("BENCH_CONCURRENCY") {
        settings.action_concurrency = n.parse().expect("BENCH_CONCURRENCY: a number");
    }
    let concurrency = settings.action_concurrency;
    let controller = h.start_actions_with(settings);
    let cpu_before = cpu_seconds();
    let report = burst(&h, "bench", count).await;
    let cpu = cpu_used(&cpu_before, &cpu_seconds());
    let requests = h.sim.stats().total;
    controller.stop().await;
    println!(
        "burst of {count:>5} ({concurrency} at once): {:>7.1} actions/s over {}; created to Succeeded p50 {} p99 {} \
         (from the create request: p99 {}); {:.1} Jira requests per action; CPU seconds: {cpu}",
        report.throughput(),
        fmt(report.wall),
        fmt(percentile(&report.watched, 50.0)),
        fmt(percentile(&report.watched, 99.0)),
        fmt(percentile(&report.from_request, 99.0)),
        requests as f64 / count as f64,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let bursts: Vec<usize> = std::env::var("BENCH_BURSTS")
        .unwrap_or_else(|_| "100,1000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_BURSTS: numbers"))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        if std::env::var("BENCH_PROBES").map_or(true, |v| v != "0") {
            probes().await;
        }
        for count in bursts {
            run(count).await;
        }
    });
}
