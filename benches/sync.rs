//! Full syncs against generated scenarios (1k, 10k, 50k users by default; `BENCH_USERS=1000,5000` to
//! choose), run with `cargo bench --bench sync`.
//!
//! The simulator runs in this process; each sync runs in a child process (this binary with `--child`) so
//! that its peak RSS (`VmHWM`) measures the operator's sync alone. Printed per scenario: requests made by
//! the full sync, the minimal request count for the scenario (from its sizes and the endpoints' page caps),
//! their ratio, wall time, the child's peak RSS, and the requests and wall time of the incremental sync
//! that follows at once (what a daily sync of an unchanged site costs).

// The suite's request model; this bench uses only its minimal count, not the naive strategy.
#[allow(dead_code)]
#[path = "support/counts.rs"]
mod counts;

use std::time::{Duration, Instant};

use chrono::Utc;
use jira_cloud_operator::jira::{
    ClientConfig, Credentials, Endpoints, JiraClient, Limits, SecretString,
};
use jira_cloud_operator::sync::{self, SyncOptions};
use jira_sim::{GenerateOptions, Scenario, SimConfig};

const WINDOW_DAYS: u32 = 30;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        child(&args[pos + 1]);
        return;
    }
    let sizes: Vec<usize> = std::env::var("BENCH_USERS")
        .unwrap_or_else(|_| "1000,10000,50000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "{:>7} {:>8} {:>8} {:>9} {:>9} {:>6} {:>9} {:>10} {:>10} {:>7} {:>10}",
        "users",
        "accounts",
        "issues",
        "requests",
        "minimal",
        "ratio",
        "wall s",
        "peak RSS",
        "next sync",
        "wall s",
        "RSS both"
    );
    for users in sizes {
        let mut scenario = jira_sim::generate(&GenerateOptions {
            users,
            ..GenerateOptions::default()
        });
        // The accounts of the documented credentials log in: they must be active.
        for u in scenario.users.iter_mut().take(2) {
            u.active = true;
        }
        rt.block_on(run_one(scenario, users));
    }
}

async fn run_one(scenario: Scenario, users: usize) {
    let accounts = scenario.users.len();
    let issues = scenario.issues.len();
    let sim = jira_sim::start(SimConfig {
        scenario: scenario.clone(),
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let now = Utc::now();
    let from = (now.date_naive() - chrono::Duration::days(WINDOW_DAYS as i64 - 1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let minimal = counts::minimal_requests(&scenario, from, now.timestamp_millis(), false);
    drop(scenario);
    let exe = std::env::current_exe().expect("own path");
    let out = tokio::process::Command::new(exe)
        .arg("--child")
        .arg(sim.url().as_str())
        .output()
        .await
        .expect("child runs");
    sim.shutdown().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().find(|l| l.starts_with("RESULT ")) else {
        eprintln!(
            "sync of {users} users failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    };
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let requests = field("requests");
    println!(
        "{:>7} {:>8} {:>8} {:>9} {:>9} {:>6.3} {:>9.1} {:>7.1} MB {:>10} {:>7.1} {:>7.1} MB",
        users,
        accounts,
        issues,
        requests,
        minimal,
        requests / minimal as f64,
        field("secs"),
        field("vmhwm_kb") / 1024.0,
        field("incr_requests"),
        field("incr_secs"),
        field("end_kb") / 1024.0
    );
}

/// Child process: connect, run a full sync then an incremental one, print the figures.
fn child(url: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let url = url::Url::parse(url).expect("url");
    rt.block_on(async {
        let config = ClientConfig {
            site_url: url.clone(),
            credentials: Credentials::Basic {
                email: "admin@example.com".into(),
                api_token: SecretString::from("classic-admin-token".to_owned()),
            },
            admin: None,
            endpoints: Endpoints::same_as(&url),
            // Loopback: measure API cost, not pacing.
            limits: Limits {
                requests_per_second: None,
                ..Limits::default()
            },
            timeout: Duration::from_secs(60),
        };
        let client = JiraClient::connect(config).await.expect("connect");
        let started = Instant::now();
        let out = sync::run(
            &client,
            &SyncOptions {
                window_days: WINDOW_DAYS,
                now: Utc::now(),
            },
            None,
        )
        .await
        .expect("sync");
        let secs = started.elapsed().as_secs_f64();
        let inv = &out.inventory;
        let (total, synced, active) = (inv.users.total, inv.users.synced, inv.usage.active_users);
        let full_kb = vmhwm_kb();
        drop(out.inventory);
        // The next (daily) sync is incremental: it reads only what changed since this one.
        let started = Instant::now();
        let next = sync::run(
            &client,
            &SyncOptions {
                window_days: WINDOW_DAYS,
                now: Utc::now(),
            },
            Some(out.cache),
        )
        .await
        .expect("incremental sync");
        println!(
            "RESULT requests={} throttled={} secs={secs:.2} users={total} synced={synced} active={active} \
             vmhwm_kb={full_kb} end_kb={} incr_requests={} incr_secs={:.2} incremental={}",
            out.stats.api_requests,
            out.stats.throttled,
            vmhwm_kb(),
            next.stats.api_requests,
            started.elapsed().as_secs_f64(),
            next.stats.incremental,
        );
    });
}

fn vmhwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
