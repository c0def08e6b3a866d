//! Helpers of the benchmark suite (`benches/suite`): its settings from the environment, request counts of a
//! scenario (minimal and naive), and the processes and counters of the operator runs.

pub mod counts;
pub mod procs;

use std::path::PathBuf;
use std::time::Duration;

/// How the JiraConnection of an operator run keeps its inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inventory {
    /// One JiraUser per synced user.
    Users,
    /// Counts only.
    Summary,
}

impl Inventory {
    /// The spec's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Inventory::Users => "Users",
            Inventory::Summary => "Summary",
        }
    }
}

/// What to run, from the environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// Scenario sizes (human accounts) of the sync section: `BENCH_SIZES` (default 1000,10000,50000,100000;
    /// 1000 in quick mode).
    pub sizes: Vec<usize>,
    /// Sizes up to this one get the naive strategy's requests made for real; larger ones get them computed
    /// (`BENCH_NAIVE_MEASURED_MAX`, default 10000).
    pub naive_measured_max: usize,
    /// Rate enforced by the simulator (token bucket per credential) and used by the client's pacing in the
    /// rate-limited sync: `BENCH_RATE` (default 50 requests per second; 200 in quick mode).
    pub rate: f64,
    /// Size of the rate-limited scenario: `BENCH_RATE_USERS` (default 1000).
    pub rate_users: usize,
    /// Runs of the operator binary (size and inventory mode): `BENCH_OPERATOR`, e.g.
    /// `1000:Users,50000:Users,100000:Users,100000:Summary` (the default; `1000:Users` in quick mode).
    pub operator_runs: Vec<(usize, Inventory)>,
    /// Action bursts: `BENCH_BURSTS` (default 100,1000; 100 in quick mode).
    pub bursts: Vec<usize>,
    /// Sections to run: `BENCH_SECTIONS`, a subset of `sync,rate,operator,actions` (default all).
    pub sections: Vec<String>,
    /// Where the JSON goes: `BENCH_JSON` (default `target/bench.json` of the workspace).
    pub json_path: PathBuf,
    /// `BENCH_QUICK=1`: the smallest sizes (a smoke run).
    pub quick: bool,
    /// The previous build's operator binary, run beside this build's in the operator section:
    /// `BENCH_BASELINE_OPERATOR` (set by `hack/bench.sh` from `BENCH_BASELINE`).
    pub baseline_operator: Option<PathBuf>,
    /// The previous build's figures of the in-process sections (its own suite's JSON), printed beside this
    /// build's: `BENCH_BASELINE_JSON` (set by `hack/bench.sh` from `BENCH_BASELINE`).
    pub baseline_json: Option<PathBuf>,
}

fn list<T>(name: &str, default: &str, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
    let text = std::env::var(name).unwrap_or_else(|_| default.to_owned());
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).unwrap_or_else(|| panic!("{name}: cannot read {s:?}")))
        .collect()
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}: cannot read {v:?}")),
        Err(_) => default,
    }
}

impl Config {
    /// Reads the `BENCH_*` variables.
    pub fn from_env() -> Config {
        let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1" || v == "true");
        let pick = |full: &'static str, small: &'static str| if quick { small } else { full };
        Config {
            sizes: list(
                "BENCH_SIZES",
                pick("1000,10000,50000,100000", "1000"),
                |s| s.parse().ok(),
            ),
            naive_measured_max: number("BENCH_NAIVE_MEASURED_MAX", 10_000),
            rate: number("BENCH_RATE", if quick { 200.0 } else { 50.0 }),
            rate_users: number("BENCH_RATE_USERS", 1000),
            operator_runs: list(
                "BENCH_OPERATOR",
                pick(
                    "1000:Users,50000:Users,100000:Users,100000:Summary",
                    "1000:Users",
                ),
                |s| {
                    let (n, mode) = s.split_once(':').unwrap_or((s, "Users"));
                    let mode = match mode {
                        "Users" => Inventory::Users,
                        "Summary" => Inventory::Summary,
                        _ => return None,
                    };
                    Some((n.parse().ok()?, mode))
                },
            ),
            bursts: list("BENCH_BURSTS", pick("100,1000", "100"), |s| s.parse().ok()),
            sections: list("BENCH_SECTIONS", "sync,rate,operator,actions", |s| {
                Some(s.to_owned())
            }),
            json_path: std::env::var_os("BENCH_JSON").map_or_else(
                || crate::plane::workspace_root().join("target/bench.json"),
                PathBuf::from,
            ),
            quick,
            baseline_operator: std::env::var_os("BENCH_BASELINE_OPERATOR").map(PathBuf::from),
            baseline_json: std::env::var_os("BENCH_BASELINE_JSON").map(PathBuf::from),
        }
    }

    /// True when `section` is to run.
    pub fn runs(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }
}

/// Seconds with two decimals, for the JSON.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 100.0).round() / 100.0
}

/// Mebibytes with one decimal, from KiB.
pub fn mb(kb: u64) -> f64 {
    (kb as f64 / 1024.0 * 10.0).round() / 10.0
}

/// A ratio with three decimals (NaN as null in the JSON).
pub fn ratio(a: f64, b: f64) -> f64 {
    (a / b * 1000.0).round() / 1000.0
}
