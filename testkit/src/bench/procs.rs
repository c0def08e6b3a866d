//! Processes and counters of the operator runs: the simulator binary as its own process (so that its memory
//! is not the operator's), peak RSS from `/proc`, and the apiserver's write counters.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The `jira-sim` binary: `BENCH_JIRA_SIM`, else `jira-sim` beside the operator binary (cargo builds both into
/// the same profile directory).
pub fn sim_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BENCH_JIRA_SIM") {
        return path.into();
    }
    crate::process::sibling_binary("jira-sim")
}

/// A `jira-sim` process serving a generated org. Killed when dropped.
pub struct SimProcess {
    child: Child,
    /// Its base URL.
    pub url: url::Url,
}

impl SimProcess {
    /// Starts `jira-sim --users <users>` on a free port and waits until it listens.
    pub fn start(users: usize) -> SimProcess {
        let binary = sim_binary();
        let mut child = Command::new(&binary)
            .args(["--port", "0", "--print-url", "--users"])
            .arg(users.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {} (build it with `cargo build --release -p jira-sim`): {e}",
                    binary.display()
                )
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the simulator's URL");
        let url = url::Url::parse(line.trim())
            .unwrap_or_else(|e| panic!("the simulator printed {line:?}: {e}"));
        SimProcess { child, url }
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Peak resident set size (`VmHWM`) of process `pid` in KiB; 0 when unreadable.
pub fn vmhwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Write requests served by the apiserver so far (`apiserver_request_total` with a writing verb), by
/// `resource` or `resource/subresource`.
pub async fn apiserver_writes(client: &kube::Client) -> BTreeMap<String, u64> {
    let request = http::Request::get("/metrics")
        .body(Vec::new())
        .expect("a request");
    let text = client
        .request_text(request)
        .await
        .expect("the apiserver's metrics");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(labels) = line.strip_prefix("apiserver_request_total{") else {
            continue;
        };
        let Some((labels, value)) = labels.rsplit_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|kv| {
                    kv.strip_prefix(name)?
                        .strip_prefix("=\"")?
                        .strip_suffix('"')
                })
                .unwrap_or("")
        };
        if !matches!(
            label("verb"),
            "POST" | "PUT" | "PATCH" | "DELETE" | "DELETECOLLECTION" | "APPLY"
        ) {
            continue;
        }
        let key = match label("subresource") {
            "" => label("resource").to_owned(),
            sub => format!("{}/{sub}", label("resource")),
        };
        *out.entry(key).or_default() += value.trim().parse::<f64>().unwrap_or(0.0) as u64;
    }
    out
}

/// `after - before`, per key, without the zeros.
pub fn difference(
    after: &BTreeMap<String, u64>,
    before: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}
