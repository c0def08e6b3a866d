//! The credential leak audit of the whole test suite.
//!
//! `make test` runs the entire suite with `JCO_LEAK_AUDIT_DIR` set: every control plane writes its
//! kube-apiserver audit log there (the body of every write: statuses, Events, JiraUsers, Leases; Secrets
//! without their bodies), every test process that runs operator code in-process logs at trace level there,
//! every operator process a test starts runs at trace level and leaves its log there, every operator leaves its
//! `/metrics` text there, and the suite's own output is added. Then this test (ignored in a plain
//! `cargo test`, run explicitly afterwards) searches all of it for every credential the suite used: the
//! simulator's credentials (API tokens, OAuth client secrets, Admin API keys), in the clear, in base64 and as
//! the base64 of `email:token`; the OAuth access tokens the simulator issued (`sim-at-…`); the tests' own
//! wrong, rotated and malformed credentials; and any `Basic …`/`Bearer …` or Authorization header value.
//!
//! It fails when a credential is found, and also when the record is too thin to mean anything (no trace-level
//! line, no status or Event write, no metrics), so a broken capture cannot pass as a clean run.

use serde_json::Value;
use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::Path,
};
use testkit::leak::{Finder, b64, forms};

/// Credentials the tests make up themselves (wrong, rotated, malformed ones), matched as substrings.
const TEST_CREDENTIALS: &[&str] = &[
    "CANARY",
    "wrong-token",
    "wrong-secret",
    "another-team-token",
];

/// Prefix of the OAuth access tokens the simulator issues.
const ISSUED_TOKEN_PREFIX: &str = "sim-at-";

/// Every string the record must not hold.
fn forbidden() -> Vec<String> {
    let credentials = jira_sim::scenario::Credentials::default();
    let emails: Vec<&str> = credentials
        .api_tokens
        .iter()
        .map(|t| t.email.as_str())
        .collect();
    let mut out = Vec::new();
    for secret in credentials
        .api_tokens
        .iter()
        .map(|t| t.token.as_str())
        .chain(
            credentials
                .oauth_clients
                .iter()
                .map(|c| c.client_secret.as_str()),
        )
        .chain(credentials.admin_keys.iter().map(String::as_str))
        .chain(TEST_CREDENTIALS.iter().copied())
    {
        out.extend(forms(secret, &emails));
    }
    out.push(ISSUED_TOKEN_PREFIX.into());
    out.sort();
    out.dedup();
    out
}

/// What the record holds, by source.
#[derive(Debug, Default)]
struct Coverage {
    files: BTreeMap<&'static str, usize>,
    lines: BTreeMap<&'static str, usize>,
    /// Trace-level lines of operator code (in-process or operator processes).
    trace_lines: usize,
    /// Apiserver writes by `resource[/subresource] verb`.
    writes: BTreeMap<String, usize>,
    /// Metrics texts with the operator's series.
    metrics: usize,
}

fn kind_of(file: &Path) -> &'static str {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    ["apiserver", "trace", "operator", "metrics", "output"]
        .into_iter()
        .find(|k| name.starts_with(&format!("{k}-")))
        .unwrap_or("other")
}

/// Searches every file of `dir`; returns the leaks found and what was searched.
fn scan(dir: &Path, finder: &Finder) -> (Vec<String>, Coverage) {
    let mut leaks = Vec::new();
    let mut cov = Coverage::default();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for file in files {
        let kind = kind_of(&file);
        *cov.files.entry(kind).or_default() += 1;
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let reader = BufReader::new(
            std::fs::File::open(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
        );
        let mut metrics_seen = false;
        for (n, line) in reader.split(b'\n').enumerate() {
            let line = line.unwrap_or_else(|e| panic!("{name}: {e}"));
            let line = String::from_utf8_lossy(&line);
            *cov.lines.entry(kind).or_default() += 1;
            match kind {
                "trace" | "operator" if line.contains("TRACE") => cov.trace_lines += 1,
                "apiserver" => {
                    if let Ok(event) = serde_json::from_str::<Value>(&line) {
                        let r = &event["objectRef"];
                        let resource = match r["subresource"].as_str() {
                            Some(sub) => format!("{}/{sub}", r["resource"].as_str().unwrap_or("")),
                            None => r["resource"].as_str().unwrap_or("").to_string(),
                        };
                        let verb = event["verb"].as_str().unwrap_or("");
                        *cov.writes.entry(format!("{resource} {verb}")).or_default() += 1;
                    }
                }
                "metrics" if line.starts_with("jira_operator_") => metrics_seen = true,
                _ => {}
            }
            leaks.extend(finder.leaks(&format!("{name}:{}", n + 1), &line));
        }
        cov.metrics += usize::from(metrics_seen);
    }
    (leaks, cov)
}

#[test]
#[ignore = "run by `make test` after the whole suite, on the record it left"]
fn the_whole_suite_leaked_no_credential() {
    let dir = std::env::var_os(testkit::plane::audit::ENV)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| panic!("{} names no directory", testkit::plane::audit::ENV));
    let finder = Finder::new(forbidden());
    let (leaks, cov) = scan(&dir, &finder);
    eprintln!("leak audit of {}:", dir.display());
    for (kind, files) in &cov.files {
        eprintln!(
            "  {kind:<10} {files:>4} files {:>10} lines",
            cov.lines.get(kind).copied().unwrap_or(0)
        );
    }
    eprintln!("  {} trace-level lines of operator code", cov.trace_lines);
    eprintln!("  {} metrics texts", cov.metrics);
    let writes = |key: &str| cov.writes.get(key).copied().unwrap_or(0);
    for key in [
        "jiraconnections/status patch",
        "jiraactions/status patch",
        "jirausers patch",
        "events create",
        "leases update",
    ] {
        eprintln!("  {:>8} apiserver writes: {key}", writes(key));
    }
    eprintln!("  searched for {} forbidden strings", finder.len());

    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The record is thick enough to mean something.
    for kind in ["apiserver", "trace", "operator", "metrics"] {
        assert!(
            cov.files.get(kind).is_some_and(|&n| n > 0),
            "no {kind} file in the record"
        );
    }
    assert!(
        cov.trace_lines > 10_000,
        "only {} trace lines",
        cov.trace_lines
    );
    assert!(
        cov.metrics > 0,
        "no metrics text with the operator's series"
    );
    for key in [
        "jiraconnections/status patch",
        "jiraactions/status patch",
        "jirausers patch",
        "events create",
    ] {
        assert!(writes(key) > 0, "no apiserver write {key} in the record");
    }
}

#[test]
fn the_audit_finds_credentials_in_every_form_and_place() {
    let credentials = jira_sim::scenario::Credentials::default();
    let token = &credentials.api_tokens[0];
    let dir = tempfile::tempdir().expect("a directory");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "apiserver-x-1-0.log",
        &format!(
            "{{\"verb\":\"patch\",\"objectRef\":{{\"resource\":\"jiraconnections\",\"subresource\":\"status\"}},\"requestObject\":{{\"message\":\"{}\"}}}}\n",
            token.token
        ),
    );
    write(
        "trace-x-1-1.log",
        &format!(
            "{{\"level\":\"TRACE\",\"fields\":{{\"header\":\"Basic {}\"}}}}\n",
            b64(&format!("{}:{}", token.email, token.token))
        ),
    );
    write(
        "metrics-x-1-2.txt",
        &format!(
            "jira_operator_up{{key=\"{}\"}} 1\n",
            b64(&credentials.admin_keys[0])
        ),
    );
    write(
        "operator-x-1-3.log",
        "TRACE granted sim-at-7-abc\nTRACE clean line\n",
    );
    let (leaks, cov) = scan(dir.path(), &Finder::new(forbidden()));
    let places: Vec<&str> = leaks
        .iter()
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    for file in [
        "apiserver-x-1-0.log",
        "trace-x-1-1.log",
        "metrics-x-1-2.txt",
        "operator-x-1-3.log",
    ] {
        assert!(
            places.contains(&file),
            "nothing found in {file}: {leaks:#?}"
        );
    }
    assert!(
        leaks.iter().all(|l| !l.contains(":2:")),
        "a clean line was reported: {leaks:#?}"
    );
    assert_eq!(cov.trace_lines, 3);
    assert_eq!(cov.metrics, 1);
    assert_eq!(cov.writes["jiraconnections/status patch"], 1);
}
