//! Full syncs against generated scenarios (1k, 10k, 50k users by default; `BENCH_USERS=1000,5000` to
//! choose), run with `cargo bench --bench sync`.
//!
//! The simulator runs in this process; each sync runs in a child process (this binary with `--child`) so
//! that its peak RSS (`VmHWM`) measures the operator's sync alone. Printed per scenario: requests made by
//! the full sync, the minimal request count for the scenario (from its sizes and the endpoints' page caps),
//! their ratio, wall time, the child's peak RSS, and the requests and wall time of the incremental sync
//! that follows at once (what a daily sync of an unchanged site costs).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jira_cloud_operator::jira::{
    BULKFETCH_IDS, BULKFETCH_PAGE, COMMENTS_PAGE, ClientConfig, Credentials, Endpoints,
    GROUP_MEMBER_PAGE, JiraClient, Limits, SEARCH_PAGE, SecretString, USERS_PAGE, WORKLOG_LIST_IDS,
};
use jira_cloud_operator::sync::{self, SyncOptions};
use jira_sim::{GenerateOptions, Scenario, SimConfig};

const WINDOW_DAYS: u32 = 30;
const WORKLOG_FEED_PAGE: usize = 1000;

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
    let minimal = minimal_requests(&scenario, now);
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

fn pages(n: usize, cap: usize) -> usize {
    n.div_ceil(cap).max(1)
}

/// The fewest requests a full sync of `scenario` can make with the endpoints' page caps: users/search
/// pages plus the closing empty page; one applicationrole call; group/member pages of each product group
/// (active members); search/jql pages of the issues updated in the window (ids only); bulkfetch calls per
/// 1000 issues (more when their histories exceed a page); one comment page per such issue (more for
/// issues with over a page of comments in the window); worklog/updated and worklog/list pages of the
/// worklogs updated in the window.
fn minimal_requests(s: &Scenario, now: DateTime<Utc>) -> usize {
    let now_ms = now.timestamp_millis();
    let from = (now.date_naive() - chrono::Duration::days(WINDOW_DAYS as i64 - 1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_millis();
    let mut n = s.users.len() / USERS_PAGE + 1;
    n += 1;
    for g in s.groups.iter().filter(|g| !g.products.is_empty()) {
        let members = s
            .users
            .iter()
            .filter(|u| u.active && u.groups.contains(&g.name))
            .count();
        n += pages(members, GROUP_MEMBER_PAGE);
    }
    let mut in_window = Vec::new();
    let mut worklogs = 0usize;
    for issue in &s.issues {
        let mut updated = issue.created.resolve(now_ms);
        let mut window_comments = 0usize;
        for c in &issue.comments {
            let created = c.created.resolve(now_ms);
            let edited = c.updated.map_or(created, |u| u.resolve(now_ms));
            updated = updated.max(created).max(edited);
            if created >= from {
                window_comments += 1;
            }
        }
        for ch in &issue.changelog {
            updated = updated.max(ch.at.resolve(now_ms));
        }
        for w in &issue.worklogs {
            let created = w.created.resolve(now_ms);
            let edited = w.updated.map_or(created, |u| u.resolve(now_ms));
            updated = updated.max(created).max(edited);
            if edited >= from {
                worklogs += 1;
            }
        }
        if updated >= from {
            in_window.push((issue.changelog.len(), window_comments));
        }
    }
    n += pages(in_window.len(), SEARCH_PAGE);
    for batch in in_window.chunks(BULKFETCH_IDS) {
        let histories: usize = batch.iter().map(|(h, _)| h).sum();
        n += pages(histories, BULKFETCH_PAGE);
    }
    n += in_window
        .iter()
        .map(|(_, c)| pages(*c, COMMENTS_PAGE))
        .sum::<usize>();
    n += pages(worklogs, WORKLOG_FEED_PAGE);
    n += worklogs.div_ceil(WORKLOG_LIST_IDS);
    n
}
