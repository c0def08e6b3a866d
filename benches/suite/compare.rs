//! The figures of the performance targets, the previous build's beside this one's: the operator runs made with
//! both binaries in this run, and the in-process sections from the previous build's own suite, run just before
//! by `hack/bench.sh` (`BENCH_BASELINE`) on the same machine.

use serde_json::Value;

/// One line of the comparison: what, before, after.
type Line = (String, String, String);

/// The comparison table, or nothing without a previous build.
pub(crate) fn compare(report: &Value, baseline: Option<&Value>) -> Vec<String> {
    let mut lines: Vec<Line> = Vec::new();
    for row in report["operator"].as_array().into_iter().flatten() {
        if row["before"].is_object() {
            operator_lines(row, &mut lines);
        }
    }
    if let Some(before) = baseline {
        section_lines(report, before, &mut lines);
    }
    if lines.is_empty() {
        return Vec::new();
    }
    let mut table = vec![
        String::new(),
        "BEFORE / AFTER: the previous build (BENCH_BASELINE) and this one, same run, same machine"
            .into(),
        format!("{:<64} {:>22} {:>22}", "figure", "before", "after"),
    ];
    table.extend(
        lines
            .into_iter()
            .map(|(what, before, after)| format!("{what:<64} {before:>22} {after:>22}")),
    );
    table
}

fn operator_lines(row: &Value, lines: &mut Vec<Line>) {
    let before = &row["before"];
    let what = format!(
        "{} users, {}",
        row["users"],
        row["inventory"].as_str().unwrap_or("")
    );
    let mut line = |figure: &str, f: &dyn Fn(&Value) -> String| {
        lines.push((format!("{what}: {figure}"), f(before), f(row)));
    };
    line("Kubernetes writes per JiraUser, first sync", &|r| {
        let writes = r["first_sync"]["jirauser_writes"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let users = r["first_sync"]["jirausers"].as_f64().unwrap_or(f64::NAN);
        format!("{:.2}", writes / users)
    });
    line("Ready after the first sync", &|r| {
        format!(
            "{:.1} s",
            r["first_sync"]["ready_seconds"]
                .as_f64()
                .unwrap_or(f64::NAN)
        )
    });
    line("peak RSS, first sync / re-sync", &|r| {
        format!(
            "{:.1} / {:.1} MB",
            r["first_sync_peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
            r["resync_peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
        )
    });
    line("requests: first sync after a restart / a re-sync", &|r| {
        format!("{} / {}", r["restart"]["requests"], r["resync"]["requests"])
    });
    line("requests / JiraUser writes of an unchanged re-sync", &|r| {
        format!(
            "{} / {}",
            r["resync"]["requests"], r["resync"]["jirauser_writes"]
        )
    });
}

fn section_lines(report: &Value, before: &Value, lines: &mut Vec<Line>) {
    let find = |v: &Value, section: &str, key: &str, n: &Value| -> Value {
        v[section]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| &r[key] == n).cloned())
            .unwrap_or(Value::Null)
    };
    for row in report["sync"].as_array().into_iter().flatten() {
        let old = find(before, "sync", "users", &row["users"]);
        let ratio = |r: &Value| {
            format!(
                "{} ({} requests)",
                r["full"]["ratio_to_minimal"], r["full"]["requests"]
            )
        };
        lines.push((
            format!("{} users: full sync requests / minimal", row["users"]),
            ratio(&old),
            ratio(row),
        ));
    }
    for row in report["actions"].as_array().into_iter().flatten() {
        let old = find(before, "actions", "actions", &row["actions"]);
        let p99 = |r: &Value| {
            format!(
                "{} s ({} req/action)",
                r["p99_seconds"], r["jira_requests_per_action"]
            )
        };
        lines.push((
            format!(
                "burst of {} actions: p99 creation -> Succeeded",
                row["actions"]
            ),
            p99(&old),
            p99(row),
        ));
    }
}
