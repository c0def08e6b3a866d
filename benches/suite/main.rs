//! The benchmark suite: sync efficiency, rate-limited and daily syncs, the operator process's memory and
//! Kubernetes writes, and JiraAction bursts, against the simulator and the test control plane. Prints one
//! table and writes the figures as JSON (`target/bench.json`). Run it with `make bench` (`hack/bench.sh`);
//! the `BENCH_*` variables of `testkit::bench::Config` choose what runs.
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
//!
//! With `BENCH_BASELINE=<git ref>`, `hack/bench.sh` builds that ref too: its operator binary runs beside this
//! one in the operator section, its own suite runs the other sections first, and the table ends with the
//! targets' figures side by side ([`compare`]).

mod actions;
mod compare;
mod operator;
mod syncs;

use actions::actions_section;
use operator::operator_section;
use syncs::{child, rate_section, sync_section};

use chrono::{DateTime, Utc};
use jira_cloud_operator::sync;
use jira_sim::{GenerateOptions, Scenario};
use serde_json::{Value, json};
use testkit::bench::Config;

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
    let baseline = config.baseline_json.as_ref().map(|path| {
        let text = std::fs::read_to_string(path).expect("the previous build's JSON");
        serde_json::from_str::<Value>(&text).expect("the previous build's JSON parses")
    });
    table.extend(compare::compare(&report, baseline.as_ref()));
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
