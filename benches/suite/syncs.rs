//! The sync and rate sections: full and incremental syncs in a child process against the request models, and
//! a sync paced against a rate-limiting simulator.

use std::time::{Duration, Instant};

use crate::{WINDOW_DAYS, millis, progress, run_child, scenario, window_start};
use chrono::Utc;
use jira_cloud_operator::jira::{JiraClient, RequestStats};
use jira_cloud_operator::sync::{self, SyncOptions};
use jira_sim::scenario::AccountType;
use jira_sim::{Faults, RateLimitFault, SimConfig};
use serde_json::{Value, json};
use testkit::bench::counts::{
    minimal_requests, naive_directory_requests, naive_measured, naive_requests,
};
use testkit::bench::procs::vmhwm_kb;
use testkit::bench::{Config, mb, ratio};

/// Full sync (yesterday's, so that the last day's activity comes after it) and the incremental sync of
/// today, per size.
pub(crate) async fn sync_section(config: &Config, table: &mut Vec<String>) -> Value {
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
pub(crate) async fn rate_section(config: &Config, table: &mut Vec<String>) -> Value {
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
pub(crate) fn child(args: &[String]) {
    let url = url::Url::parse(&args[1]).expect("url");
    let rate: Option<f64> = args.get(2).map(|r| r.parse().expect("a rate"));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = JiraClient::connect(testkit::bench::counts::admin_client(
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
