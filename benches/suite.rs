//! The benchmark suite: sync efficiency, rate-limited and daily syncs, the operator process's memory and
//! Kubernetes writes, and JiraAction bursts, against the simulator and the test control plane. Prints one
//! table and writes the figures as JSON (`target/bench.json`). Run it with `make bench` (`hack/bench.sh`);
//! the `BENCH_*` variables of `support::Config` choose what runs.
//!
//! Sections:
//! - sync: per scenario size, a full sync and the next day's incremental sync in a child process (this
//!   binary with `--child`, so that its peak RSS is the sync's alone), against the minimal request count and
//!   a naive strategy (requests made for real up to `BENCH_NAIVE_MEASURED_MAX` users, computed above).
//! - rate: a full sync against a simulator enforcing a token bucket per credential, the client paced at the
//!   same rate: wall time against requests / rate, share of 429 answers.
//! - operator: the release operator binary on the test control plane with the `jira-sim` binary as another
//!   process: time to Ready, its peak RSS, apiserver writes during the first sync and an unchanged re-sync.
//! - actions: bursts of createIssue JiraActions, the action controller in-process.

#[path = "../tests/action_support/mod.rs"]
mod action_support;
#[path = "support/mod.rs"]
mod bench;
#[path = "../tests/process_support/mod.rs"]
mod process_support;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bench::counts::{minimal_requests, naive_directory_requests, naive_measured, naive_requests};
use bench::procs::{SimProcess, apiserver_writes, difference, vmhwm_kb};
use bench::{Config, Inventory, mb, ratio, secs};
use chrono::{DateTime, Utc};
use jira_cloud_operator::api::{ANNOTATION_SYNC_REQUESTED, JiraConnection, JiraUser};
use jira_cloud_operator::jira::{JiraClient, RequestStats};
use jira_cloud_operator::sync::{self, SyncOptions};
use jira_sim::scenario::AccountType;
use jira_sim::{Faults, GenerateOptions, RateLimitFault, Scenario, SimConfig};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

const WINDOW_DAYS: u32 = 30;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        child(&args[pos + 1..]);
        return;
    }
    let config = Config::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut report = json!({
        "machine": {
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "note": "shared with other builds and tests",
        },
        "quick": config.quick,
    });
    let mut table = Vec::new();
    // The JSON is rewritten after each section, so a failing section keeps the figures of the earlier ones.
    runtime.block_on(async {
        if config.runs("sync") {
            report["sync"] = sync_section(&config, &mut table).await;
            save(&config, &report);
        }
        if config.runs("rate") {
            report["rate_limited"] = rate_section(&config, &mut table).await;
            save(&config, &report);
        }
        if config.runs("operator") {
            report["operator"] = operator_section(&config, &mut table).await;
            save(&config, &report);
        }
        if config.runs("actions") {
            report["actions"] = actions_section(&config, &mut table).await;
            save(&config, &report);
        }
    });
    println!("{}", table.join("\n"));
    println!("\nJSON: {}", config.json_path.display());
}

fn save(config: &Config, report: &Value) {
    if let Some(dir) = config.json_path.parent() {
        std::fs::create_dir_all(dir).expect("the JSON's directory");
    }
    std::fs::write(
        &config.json_path,
        serde_json::to_string_pretty(report).expect("JSON") + "\n",
    )
    .expect("write the JSON");
}

fn progress(text: impl std::fmt::Display) {
    eprintln!("bench: {text}");
}

/// A generated org of `users` humans whose documented admin and viewer can log in.
fn scenario(users: usize) -> Scenario {
    let mut s = jira_sim::generate(&GenerateOptions {
        users,
        ..GenerateOptions::default()
    });
    for u in s.users.iter_mut().take(2) {
        u.active = true;
    }
    s
}

/// Runs this binary as a child with `args` and returns the JSON of its `RESULT` line.
async fn run_child(args: &[String]) -> Value {
    let exe = std::env::current_exe().expect("own path");
    let out = tokio::process::Command::new(exe)
        .arg("--child")
        .args(args)
        .output()
        .await
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
        panic!(
            "child {args:?} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    serde_json::from_str(line).expect("the child's JSON")
}

fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    sync::window_for(now, WINDOW_DAYS)
        .0
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

fn millis(v: &Value) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v.as_i64().expect("epoch ms")).expect("a time")
}

/// Full sync (yesterday's, so that the last day's activity comes after it) and the incremental sync of
/// today, per size.
async fn sync_section(config: &Config, table: &mut Vec<String>) -> Value {
    table.push("SYNC: full sync (window ending yesterday) and the next day's incremental sync; no pacing, 4 requests in flight".into());
    table.push("(x fewer: naive requests / requests; dir x: the same for users, groups and product access alone)".into());
    table.push(format!(
        "{:>7} {:>8} {:>8} {:>8} {:>6} {:>9} {:>7} {:>7} {:>8} {:>9} {:>8} | {:>8} {:>8} {:>7}",
        "users",
        "requests",
        "minimal",
        "ratio",
        "429",
        "naive",
        "x fewer",
        "dir x",
        "wall s",
        "peak RSS",
        "naive by",
        "day 2 rq",
        "minimal",
        "wall s"
    ));
    let mut rows = Vec::new();
    for &users in &config.sizes {
        progress(format!("sync of {users} users"));
        let scenario = scenario(users);
        let sim = jira_sim::start(SimConfig {
            scenario: scenario.clone(),
            ..SimConfig::default()
        })
        .await
        .expect("the simulator");
        let loaded = sim.with_state(|st| st.loaded_at_ms);
        let r = run_child(&["daily".into(), sim.url().to_string()]).await;
        let first_now = millis(&r["first_now_ms"]);
        let from = window_start(first_now);
        let minimal = minimal_requests(&scenario, from, loaded, false);
        let day2_minimal = minimal_requests(&scenario, millis(&r["horizon_ms"]), loaded, true);
        let (naive, naive_by) = if users <= config.naive_measured_max {
            progress(format!("naive strategy on {users} users, for real"));
            let from_ms = from.timestamp_millis();
            let (ids, keys) = sim.with_state(|st| {
                let ids = st
                    .users
                    .iter()
                    .filter(|u| u.account_type == AccountType::Atlassian && !u.deleted)
                    .map(|u| u.account_id.clone())
                    .collect();
                let keys = st
                    .issues
                    .iter()
                    .flatten()
                    .filter(|i| i.updated_ms >= from_ms)
                    .map(|i| i.key.clone())
                    .collect();
                (ids, keys)
            });
            (
                naive_measured(&scenario, &sim.url(), ids, keys).await,
                "measured",
            )
        } else {
            (naive_requests(&scenario, from, loaded), "computed")
        };
        sim.shutdown().await;
        let requests = r["requests"].as_u64().unwrap_or(0);
        let directory: u64 = r["by_endpoint"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| is_directory(k))
                    .map(|(_, v)| v.as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0);
        let naive_directory = naive_directory_requests(&scenario);
        let row = json!({
            "users": users,
            "accounts": scenario.users.len(),
            "issues": scenario.issues.len(),
            "full": {
                "requests": requests,
                "throttled": r["throttled"],
                "minimal": minimal,
                "ratio_to_minimal": ratio(requests as f64, minimal as f64),
                "naive": naive,
                "naive_method": naive_by,
                "naive_computed": naive_requests(&scenario, from, loaded),
                "naive_ratio": ratio(naive as f64, requests as f64),
                "directory_requests": directory,
                "naive_directory_requests": naive_directory,
                "naive_directory_ratio": ratio(naive_directory as f64, directory as f64),
                "activity_requests": requests - directory,
                "naive_activity_requests": naive - naive_directory,
                "by_endpoint": r["by_endpoint"],
                "wall_seconds": r["secs"],
                "peak_rss_mb": mb(r["vmhwm_kb"].as_u64().unwrap_or(0)),
                "users_synced": r["synced"],
                "active_users": r["active"],
            },
            "day2": {
                "incremental": r["incremental"],
                "requests": r["day2_requests"],
                "minimal": day2_minimal,
                "wall_seconds": r["day2_secs"],
                "active_users": r["day2_active"],
            },
        });
        table.push(format!(
            "{:>7} {:>8} {:>8} {:>8.3} {:>6} {:>9} {:>6.1}x {:>6.0}x {:>8.2} {:>6.1} MB {:>8} | {:>8} {:>8} {:>7.2}",
            users,
            requests,
            minimal,
            row["full"]["ratio_to_minimal"].as_f64().unwrap_or(f64::NAN),
            r["throttled"].as_u64().unwrap_or(0),
            naive,
            naive as f64 / requests as f64,
            naive_directory as f64 / directory as f64,
            r["secs"].as_f64().unwrap_or(f64::NAN),
            mb(r["vmhwm_kb"].as_u64().unwrap_or(0)),
            naive_by,
            r["day2_requests"].as_u64().unwrap_or(0),
            day2_minimal,
            r["day2_secs"].as_f64().unwrap_or(f64::NAN),
        ));
        rows.push(row);
    }
    Value::Array(rows)
}

/// A full sync against a simulator that enforces `config.rate` per credential, the client paced at the same
/// rate.
async fn rate_section(config: &Config, table: &mut Vec<String>) -> Value {
    let users = config.rate_users;
    progress(format!(
        "rate-limited sync of {users} users at {} requests/s",
        config.rate
    ));
    let sim = jira_sim::start(SimConfig {
        scenario: scenario(users),
        ..SimConfig::default()
    })
    .await
    .expect("the simulator");
    sim.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            rate_per_sec: Some(config.rate),
            ..RateLimitFault::default()
        }),
        ..Faults::default()
    });
    let r = run_child(&[
        "rated".into(),
        sim.url().to_string(),
        config.rate.to_string(),
    ])
    .await;
    let stats = sim.stats();
    sim.shutdown().await;
    let requests = r["requests"].as_u64().unwrap_or(0);
    let throttled = r["throttled"].as_u64().unwrap_or(0);
    let wall = r["secs"].as_f64().unwrap_or(f64::NAN);
    let bound = requests as f64 / config.rate;
    table.push(String::new());
    table.push(format!(
        "RATE LIMIT: simulator token bucket of {} requests/s per credential (burst {0}), client paced at {0}/s",
        config.rate
    ));
    table.push(format!(
        "{:>7} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10}",
        "users", "requests", "429", "429 %", "bound s", "wall s", "wall/bound"
    ));
    table.push(format!(
        "{:>7} {:>8} {:>8} {:>7.2}% {:>9.2} {:>8.2} {:>10.3}",
        users,
        requests,
        throttled,
        100.0 * throttled as f64 / requests as f64,
        bound,
        wall,
        wall / bound
    ));
    json!({
        "users": users,
        "rate_per_second": config.rate,
        "requests": requests,
        "throttled": throttled,
        "throttled_share": ratio(throttled as f64, requests as f64),
        "simulator_requests": stats.total,
        "simulator_429": stats.rate_limited,
        "lower_bound_seconds": (bound * 100.0).round() / 100.0,
        "wall_seconds": wall,
        "ratio_to_bound": ratio(wall, bound),
    })
}

/// The operator binary on the test control plane, the simulator binary as another process.
async fn operator_section(config: &Config, table: &mut Vec<String>) -> Value {
    table.push(String::new());
    table.push("OPERATOR PROCESS: release binary, jira-sim in its own process, no pacing; apiserver writes by resource (first sync / unchanged re-sync)".into());
    table.push(format!(
        "{:>7} {:>8} {:>8} {:>8} {:>9} {:>9} | {:>8} {:>9} {:>9} {:>10} {:>10}",
        "users",
        "mode",
        "ready s",
        "requests",
        "peak RSS",
        "JiraUsers",
        "resync s",
        "requests",
        "peak RSS",
        "JiraUser w",
        "other w"
    ));
    let mut rows = Vec::new();
    for &(users, mode) in &config.operator_runs {
        progress(format!(
            "operator process, {users} users, {}",
            mode.as_str()
        ));
        let row = operator_run(users, mode).await;
        let first = &row["first_sync"];
        let resync = &row["resync"];
        let other = |w: &Value| {
            w["writes"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| !k.starts_with("jirausers"))
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        };
        table.push(format!(
            "{:>7} {:>8} {:>8.2} {:>8} {:>6.1} MB {:>9} | {:>8.2} {:>9} {:>6.1} MB {:>10} {}",
            users,
            mode.as_str(),
            first["ready_seconds"].as_f64().unwrap_or(f64::NAN),
            first["requests"].as_u64().unwrap_or(0),
            row["first_sync_peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
            first["jirauser_writes"].as_u64().unwrap_or(0),
            resync["ready_seconds"].as_f64().unwrap_or(f64::NAN),
            resync["requests"].as_u64().unwrap_or(0),
            row["resync_peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
            resync["jirauser_writes"].as_u64().unwrap_or(0),
            other(resync),
        ));
        table.push(format!("{:>7} first sync writes: {}", "", other(first)));
        rows.push(row);
    }
    Value::Array(rows)
}

/// Splits apiserver writes into the operator's (JiraUsers, JiraConnections without the bench's own create or
/// annotation, Events) and the control plane's own (leases, endpoints of kube-controller-manager).
fn operator_writes(
    mut writes: BTreeMap<String, u64>,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    writes.remove("jiraconnections");
    let background = writes
        .iter()
        .filter(|(k, _)| !(k.starts_with("jira") || *k == "events"))
        .map(|(k, v)| (k.clone(), *v))
        .collect::<BTreeMap<_, _>>();
    writes.retain(|k, _| !background.contains_key(k));
    (writes, background)
}

fn jirauser_writes(writes: &BTreeMap<String, u64>) -> u64 {
    writes
        .iter()
        .filter(|(k, _)| k.starts_with("jirausers"))
        .map(|(_, v)| v)
        .sum()
}

/// Resets the peak RSS (`VmHWM`) of process `pid` to its current RSS, so that the next reading is the peak
/// of what follows alone; returns that RSS in KiB (0 when unreadable).
fn reset_peak_rss(pid: u32) -> u64 {
    if let Err(e) = std::fs::write(format!("/proc/{pid}/clear_refs"), "5") {
        progress(format!("cannot reset the operator's peak RSS: {e}"));
    }
    vmhwm_kb(pid)
}

async fn resource_versions(api: &Api<JiraUser>) -> HashMap<String, String> {
    api.list_metadata(&ListParams::default())
        .await
        .expect("list JiraUsers")
        .items
        .into_iter()
        .map(|u| (u.name_any(), u.resource_version().unwrap_or_default()))
        .collect()
}

/// Waits (up to 30 minutes) until the connection is Ready with `lastSyncRequest` = `request`.
async fn wait_synced(api: &Api<JiraConnection>, request: Option<&str>) -> JiraConnection {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let c = api.get("bench").await.expect("get the connection");
        let status = c.status.as_ref();
        if process_support::connection_ready(&c)
            && status.is_some_and(|s| s.last_sync_stats.is_some())
            && status.and_then(|s| s.last_sync_request.as_deref()) == request
        {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "the connection never synced: {:?}",
            c.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn operator_run(users: usize, mode: Inventory) -> Value {
    let sim = SimProcess::start(users);
    let env = support::env("bench-operator").await;
    let (client, ns) = (env.client.clone(), env.namespace.clone());
    let mut operator = process_support::OperatorProcess::spawn(
        "bench-operator",
        testenv::shared().kubeconfig_path(),
        &sim.url,
        &["--watch-namespaces", &ns],
    );
    operator.wait_ready().await;
    let idle_kb = vmhwm_kb(operator.pid());

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "jira-basic"},
        "stringData": {"email": "admin@example.com", "apiToken": "classic-admin-token"},
    }))
    .expect("a Secret");
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("create the Secret");
    let connections: Api<JiraConnection> = Api::namespaced(client.clone(), &ns);
    let connection: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraConnection",
        "metadata": {"name": "bench"},
        "spec": {
            "siteUrl": sim.url.as_str().trim_end_matches('/'),
            "auth": {"basic": {"secretRef": {"name": "jira-basic"}}},
            "inventory": mode.as_str(),
        },
    }))
    .expect("a JiraConnection");
    let before = apiserver_writes(&client).await;
    let started = Instant::now();
    connections
        .create(&PostParams::default(), &connection)
        .await
        .expect("create the JiraConnection");
    let c = wait_synced(&connections, None).await;
    let first_ready = started.elapsed();
    let first_kb = vmhwm_kb(operator.pid());
    let current_kb = reset_peak_rss(operator.pid());
    let (first_writes, first_background) =
        operator_writes(difference(&apiserver_writes(&client).await, &before));
    let first_stats = c.status.as_ref().and_then(|s| s.last_sync_stats.clone());
    let synced = c
        .status
        .as_ref()
        .and_then(|s| s.users.as_ref())
        .map(|u| u.synced);

    let jirausers: Api<JiraUser> = Api::namespaced(client.clone(), &ns);
    let versions = resource_versions(&jirausers).await;
    let before = apiserver_writes(&client).await;
    let started = Instant::now();
    connections
        .patch(
            "bench",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {ANNOTATION_SYNC_REQUESTED: "bench-resync"}}}),
            ),
        )
        .await
        .expect("request a sync");
    let c = wait_synced(&connections, Some("bench-resync")).await;
    let resync_ready = started.elapsed();
    let (resync_writes, resync_background) =
        operator_writes(difference(&apiserver_writes(&client).await, &before));
    let after = resource_versions(&jirausers).await;
    let changed = after
        .iter()
        .filter(|(n, rv)| versions.get(*n) != Some(*rv))
        .count()
        + versions.keys().filter(|n| !after.contains_key(*n)).count();
    let resync_stats = c.status.as_ref().and_then(|s| s.last_sync_stats.clone());
    let resync_kb = vmhwm_kb(operator.pid());
    operator.signal("TERM");
    operator.wait_exit().await;
    drop(sim);
    // Free the control plane for the next run: the namespace controller deletes the JiraUsers in the
    // background (a delete of tens of thousands of objects in one request outlives the apiserver's timeout).
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    if let Err(e) = namespaces.delete(&ns, &Default::default()).await {
        progress(format!("deleting namespace {ns}: {e}"));
    }

    let stats_json = |s: &Option<jira_cloud_operator::api::SyncStats>| {
        s.as_ref().map_or(Value::Null, |s| {
            json!({"requests": s.api_requests, "throttled": s.throttled, "sync_seconds": s.duration_seconds})
        })
    };
    let first_sync = stats_json(&first_stats);
    let resync = stats_json(&resync_stats);
    json!({
        "users": users,
        "inventory": mode.as_str(),
        "users_synced": synced,
        "idle_rss_mb": mb(idle_kb),
        "first_sync_peak_rss_mb": mb(first_kb),
        "rss_after_first_sync_mb": mb(current_kb),
        "resync_peak_rss_mb": mb(resync_kb),
        "peak_rss_mb": mb(first_kb.max(resync_kb)),
        "first_sync": {
            "ready_seconds": secs(first_ready),
            "requests": first_sync["requests"],
            "sync_seconds": first_sync["sync_seconds"],
            "jirauser_writes": jirauser_writes(&first_writes),
            "writes": first_writes,
            "control_plane_writes": first_background,
            "jirausers": versions.len(),
        },
        "resync": {
            "ready_seconds": secs(resync_ready),
            "requests": resync["requests"],
            "sync_seconds": resync["sync_seconds"],
            "jirauser_writes": jirauser_writes(&resync_writes),
            "jirausers_changed": changed,
            "writes": resync_writes,
            "control_plane_writes": resync_background,
        },
    })
}

/// Bursts of createIssue actions, the action controller in-process, no simulated latency.
async fn actions_section(config: &Config, table: &mut Vec<String>) -> Value {
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
        let h = action_support::Harness::new("bench-actions", SimConfig::default()).await;
        let controller = h
            .start_controller_with(action_support::settings(&h.sim, &h.namespace))
            .await;
        let before = apiserver_writes(&h.client).await;
        let report = action_support::burst(&h, "bench", count).await;
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
        let p = |v: &[Duration], q: f64| action_support::percentile(v, q).as_secs_f64();
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
async fn events_published(h: &action_support::Harness, count: usize) -> Option<Duration> {
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

/// Requests per endpoint since `before`.
fn out_endpoints(client: &JiraClient, before: &RequestStats) -> Value {
    client
        .request_stats()
        .since(before)
        .by_endpoint
        .into_iter()
        .map(|(k, v)| (k, Value::from(v.requests)))
        .collect()
}

/// True for the endpoints of the directory (users, groups, products); the others read activity.
fn is_directory(endpoint: &str) -> bool {
    ["/user", "/group", "/applicationrole"]
        .iter()
        .any(|p| endpoint.contains(p))
}

/// Child process: `daily <url>` (a full sync of the window ending yesterday, then today's incremental
/// sync) or `rated <url> <rate>` (one full sync paced at `rate`); prints `RESULT <json>`.
fn child(args: &[String]) {
    let url = url::Url::parse(&args[1]).expect("url");
    let rate: Option<f64> = args.get(2).map(|r| r.parse().expect("a rate"));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = JiraClient::connect(bench::counts::admin_client(
            &url,
            rate,
            Duration::from_secs(60),
        ))
        .await
        .expect("connect");
        let today = Utc::now();
        let first_now = if args[0] == "daily" {
            today - chrono::Duration::days(1)
        } else {
            today
        };
        let before = client.request_stats();
        let started = Instant::now();
        let out = sync::run(
            &client,
            &SyncOptions {
                window_days: WINDOW_DAYS,
                now: first_now,
            },
            None,
        )
        .await
        .expect("sync");
        let secs = started.elapsed().as_secs_f64();
        let mut result = json!({
            "first_now_ms": first_now.timestamp_millis(),
            "horizon_ms": out.cache.horizon().timestamp_millis(),
            "requests": out.stats.api_requests,
            "throttled": out.stats.throttled,
            "secs": (secs * 100.0).round() / 100.0,
            "vmhwm_kb": vmhwm_kb(std::process::id()),
            "by_endpoint": out_endpoints(&client, &before),
            "synced": out.inventory.users.synced,
            "active": out.inventory.usage.active_users,
        });
        if args[0] == "daily" {
            drop(out.inventory);
            let started = Instant::now();
            let next = sync::run(
                &client,
                &SyncOptions {
                    window_days: WINDOW_DAYS,
                    now: today,
                },
                Some(out.cache),
            )
            .await
            .expect("incremental sync");
            result["day2_requests"] = next.stats.api_requests.into();
            result["day2_secs"] =
                ((started.elapsed().as_secs_f64() * 100.0).round() / 100.0).into();
            result["incremental"] = next.stats.incremental.into();
            result["day2_active"] = next.inventory.usage.active_users.into();
        }
        println!("RESULT {result}");
    });
}
