//! The operator section: the operator binary and the `jira-sim` binary as processes, time to Ready, peak RSS and
//! the apiserver writes of a first sync and an unchanged re-sync.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::progress;
use jira_cloud_operator::api::{ANNOTATION_SYNC_REQUESTED, JiraConnection, JiraUser};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::{Value, json};
use testkit::Launch;
use testkit::bench::procs::{SimProcess, apiserver_writes, difference, vmhwm_kb};
use testkit::bench::{Config, Inventory, mb, secs};

/// The operator binary on the test control plane, the simulator binary as another process.
pub(crate) async fn operator_section(config: &Config, table: &mut Vec<String>) -> Value {
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
        let mut row = operator_run(users, mode, None).await;
        if let Some(binary) = &config.baseline_operator {
            progress(format!(
                "operator process, {users} users, {}, the previous build",
                mode.as_str()
            ));
            let before = operator_run(users, mode, Some(binary)).await;
            push_row(table, "before", &before);
            row["before"] = before;
        }
        push_row(table, "after", &row);
        rows.push(row);
    }
    Value::Array(rows)
}

/// The table's lines of one run.
fn push_row(table: &mut Vec<String>, build: &str, row: &Value) {
    {
        let (users, mode) = (&row["users"], row["inventory"].as_str().unwrap_or(""));
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
            mode,
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
        table.push(format!(
            "{:>7} {build}: first sync writes: {}; first sync after a restart: {} requests, {}",
            "",
            other(first),
            row["restart"]["requests"],
            match row["restart"]["incremental"].as_bool() {
                Some(true) => "incremental",
                Some(false) => "full",
                None => "not reported",
            }
        ));
    }
}

/// Splits apiserver writes into the operator's (JiraUsers, JiraConnections without the bench's own create or
/// annotation, Events, ConfigMaps: the stored sync cache; the namespace's CA ConfigMap may count once) and the control plane's own (leases, endpoints of kube-controller-manager).
fn operator_writes(
    mut writes: BTreeMap<String, u64>,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    writes.remove("jiraconnections");
    let background = writes
        .iter()
        .filter(|(k, _)| !(k.starts_with("jira") || *k == "events" || *k == "configmaps"))
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

/// Asks for a sync of the bench's connection, handled when `lastSyncRequest` = `value`.
async fn request_sync(api: &Api<JiraConnection>, value: &str) {
    let annotation = json!({"metadata": {"annotations": {ANNOTATION_SYNC_REQUESTED: value}}});
    api.patch("bench", &PatchParams::default(), &Patch::Merge(annotation))
        .await
        .expect("request a sync");
}

/// Waits (up to 30 minutes) until the connection is Ready with `lastSyncRequest` = `request`.
async fn wait_synced(api: &Api<JiraConnection>, request: Option<&str>) -> JiraConnection {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let c = api.get("bench").await.expect("get the connection");
        let status = c.status.as_ref();
        if testkit::observed::connection_ready(&c)
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

async fn operator_run(users: usize, mode: Inventory, binary: Option<&Path>) -> Value {
    let sim = SimProcess::start(users);
    let env = testkit::env("bench-operator").await;
    let (client, ns) = (env.client.clone(), env.namespace.clone());
    let spawn = || {
        testkit::OperatorProcess::launch(
            &sim.url,
            Launch {
                name: "bench-operator",
                watch: &[ns.as_str()],
                binary,
                ..Launch::default()
            },
        )
    };
    let mut operator = spawn();
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
    request_sync(&connections, "bench-resync").await;
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

    // A restarted operator (a new process, as after an upgrade or a leader change) syncs again.
    let mut operator = spawn();
    operator.wait_ready().await;
    let started = Instant::now();
    request_sync(&connections, "bench-restart").await;
    let c = wait_synced(&connections, Some("bench-restart")).await;
    let restart_ready = started.elapsed();
    let restart_kb = vmhwm_kb(operator.pid());
    let restart_stats = c.status.as_ref().and_then(|s| s.last_sync_stats.clone());
    operator.signal("TERM");
    operator.wait_exit().await;
    drop(sim);
    // Free the control plane for the next run: the namespace controller deletes the JiraUsers in the
    // background (a delete of tens of thousands of objects in one request outlives the apiserver's timeout).
    // The next run starts once it is gone (up to 20 minutes), so that the apiserver's write counters of the
    // next run are not those deletions.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    if let Err(e) = namespaces.delete(&ns, &Default::default()).await {
        progress(format!("deleting namespace {ns}: {e}"));
    }
    let deadline = Instant::now() + Duration::from_secs(1200);
    while Instant::now() < deadline && matches!(namespaces.get_opt(&ns).await, Ok(Some(_))) {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    let stats_json = |s: &Option<jira_cloud_operator::api::SyncStats>| {
        s.as_ref().map_or(Value::Null, |s| {
            json!({"requests": s.api_requests, "throttled": s.throttled, "sync_seconds": s.duration_seconds, "incremental": s.incremental})
        })
    };
    let first_sync = stats_json(&first_stats);
    let resync = stats_json(&resync_stats);
    let restart = stats_json(&restart_stats);
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
        "restart": {
            "ready_seconds": secs(restart_ready),
            "requests": restart["requests"],
            "sync_seconds": restart["sync_seconds"],
            "incremental": restart["incremental"],
            "peak_rss_mb": mb(restart_kb),
        },
    })
}
