//! The record of a whole test run for the credential leak audit.
//!
//! When the environment variable [`ENV`] names a directory, everything the operator says during the run is kept
//! there, one file per source, so that a final check can search it for credentials:
//! - `apiserver-*.log`: the kube-apiserver audit log of every write at `Request` level (the bodies of every
//!   status patch, Event, JiraUser and lease the operator wrote); Secrets are logged at `Metadata` level only,
//!   since their bodies hold the credentials on purpose;
//! - `trace-*.log`: the trace-level log of every test process that runs operator code in-process;
//! - `operator-*.log`: the log of every operator process a test started (those tests run it at trace level);
//! - `metrics-*.txt`: the `/metrics` text of every operator, in-process or not, when it stops;
//! - anything else a test hands to [`save`] (the demo's output, for one).
//!
//! Off (and free) when the variable is unset.

use std::{
    fs::File,
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

/// The environment variable naming the audit directory.
pub const ENV: &str = "JCO_LEAK_AUDIT_DIR";

/// The apiserver's audit policy: every write with its request body, Secrets without theirs, no reads (a read
/// returns what some write stored).
pub const POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    resources: [{group: "", resources: ["secrets"]}]
  - level: None
    verbs: ["get", "list", "watch"]
  - level: Request
"#;

/// The filter of the in-process trace log: everything at trace level, as the operator's `--log-level trace`
/// would log it, except the simulator's own lines (test equipment, not the operator).
pub const TRACE_FILTER: &str = "trace,jira_sim=off";

/// The audit directory, created on first use, when auditing is on.
pub fn dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(ENV).filter(|v| !v.is_empty())?);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// A fresh file name in the audit directory: `<kind>-<test binary>-<pid>-<n>.<ext>`.
pub fn path(kind: &str, ext: &str) -> Option<PathBuf> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".into());
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    Some(dir()?.join(format!("{kind}-{exe}-{}-{n}.{ext}", std::process::id())))
}

/// Keeps `text` in the audit directory as a new `<kind>-*.<ext>` file (nothing when auditing is off).
pub fn save(kind: &str, ext: &str, text: &str) {
    if let Some(path) = path(kind, ext)
        && let Err(e) = std::fs::write(&path, text)
    {
        panic!("leak audit: cannot write {}: {e}", path.display());
    }
}

/// Installs, once per process, a global tracing subscriber that writes every event at trace level as JSON to
/// a `trace-*.log` file of the audit directory. Nothing when auditing is off or a subscriber is installed.
pub fn install_trace_log() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let Some(path) = path("trace", "log") else {
            return;
        };
        let file = File::create(&path)
            .unwrap_or_else(|e| panic!("leak audit: cannot create {}: {e}", path.display()));
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(TRACE_FILTER))
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    });
}

/// The arguments of an operator process a test starts: under audit, its log level becomes `trace` (replacing
/// any `--log-level` of `args`); otherwise `args` unchanged.
pub fn operator_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    at_trace(args, dir().is_some())
}

fn at_trace<'a>(args: &[&'a str], trace: bool) -> Vec<&'a str> {
    if !trace {
        return args.to_vec();
    }
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        if a == "--log-level" {
            it.next();
        } else if !a.starts_with("--log-level=") {
            out.push(a);
        }
    }
    out.extend(["--log-level", "trace"]);
    out
}

/// Keeps a copy of an operator process's log file as `operator-*.log` (the same source always lands in the
/// same copy, so a log shared by several runs of a process is kept once, whole).
pub fn keep_log(source: &Path) {
    let Some(dir) = dir() else { return };
    let flat: String = source
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let flat = flat.trim_matches('-').trim_end_matches(".log");
    let target = dir.join(format!("operator-{}-{flat}.log", std::process::id()));
    if let Err(e) = std::fs::copy(source, &target) {
        panic!(
            "leak audit: cannot copy {} to {}: {e}",
            source.display(),
            target.display()
        );
    }
}

/// Keeps the `/metrics` text served on `127.0.0.1:port` as `metrics-*.txt`, when something answers there.
/// Blocking, with short timeouts: callers are `Drop` implementations.
pub fn keep_metrics(port: u16) {
    if dir().is_none() {
        return;
    }
    let fetch = || -> std::io::Result<String> {
        let timeout = Some(Duration::from_secs(5));
        let mut stream =
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))?;
        stream.set_read_timeout(timeout)?;
        stream.set_write_timeout(timeout)?;
        stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    };
    if let Ok(text) = fetch() {
        save("metrics", "txt", &text);
    }
}

/// The kube-apiserver flags that write its audit log into the audit directory (none when auditing is off).
/// `policy_dir` receives the policy file.
pub fn apiserver_flags(policy_dir: &Path) -> std::io::Result<Vec<String>> {
    let Some(log) = path("apiserver", "log") else {
        return Ok(Vec::new());
    };
    let policy = policy_dir.join("audit-policy.yaml");
    std::fs::write(&policy, POLICY)?;
    Ok(vec![
        format!("--audit-policy-file={}", policy.display()),
        format!("--audit-log-path={}", log.display()),
        "--audit-log-format=json".into(),
        "--audit-log-mode=blocking".into(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_keeps_secret_bodies_out_and_writes_in() {
        let policy: serde_yaml_ng::Value = serde_yaml_ng::from_str(POLICY).expect("YAML");
        let rules = policy["rules"].as_sequence().expect("rules");
        assert_eq!(rules[0]["level"], "Metadata");
        assert_eq!(rules[0]["resources"][0]["resources"][0], "secrets");
        assert_eq!(rules.last().expect("a rule")["level"], "Request");
    }

    #[test]
    fn operator_processes_log_at_trace_under_audit() {
        let args = ["--log-level", "info", "--x", "--log-level=debug"];
        assert_eq!(at_trace(&args, false), args);
        assert_eq!(at_trace(&args, true), ["--x", "--log-level", "trace"]);
        assert_eq!(at_trace(&[], true), ["--log-level", "trace"]);
    }
}
