//! The chart's monitoring, rendered without a cluster: the alert rules pass Prometheus' own `promtool check
//! rules` and `promtool test rules` (series that fire each alert and series that do not, in
//! `tests/alerts/rules-test.yaml`), every alert has a summary, a description and a runbook that exists in the
//! README; every query of the dashboard and of the alerts names metrics and labels the operator exports; and
//! the scrape configs keep the connections' `namespace` label.

use jira_cloud_operator::{
    api::{DailyUsage, JiraConnectionStatus, LicenseStatus, UsageStatus, UserCounts},
    controller::gauges,
    metrics::{
        ActionLabels, ConnectionLabels, Metrics, PolicyLabels, RequestLabels, SavingsLabels,
    },
};
use serde_json::Value;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::Command,
    time::Duration,
};
use testkit::tools::{helm, helm_template};

fn objects(manifests: &str) -> Vec<Value> {
    testkit::parse_manifests(manifests)
        .into_iter()
        .map(|o| serde_json::to_value(o).expect("serializes"))
        .collect()
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objects.iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind}, found {}", found.len());
    found[0]
}

/// The operator's metrics with a sample in every family, set through the code that sets them.
fn every_series() -> Metrics {
    let metrics = Metrics::default();
    let status = JiraConnectionStatus {
        last_sync_time: Some(jira_cloud_operator::controller::conditions::time(
            chrono::Utc::now(),
        )),
        users: Some(UserCounts {
            total: 3,
            synced: 2,
            hidden_email: 1,
            deactivated: 0,
        }),
        licenses: vec![LicenseStatus {
            product: "jira-software".into(),
            name: "Jira Software".into(),
            seats: Some(10),
            used: 2,
            remaining: Some(8),
            active_users: 1,
            inactive_users: 1,
            groups: Vec::new(),
        }],
        usage: Some(UsageStatus {
            window_days: 2,
            from: "2026-11-27".into(),
            to: "2026-11-28".into(),
            active_users: 1,
            daily: ["2026-11-27", "2026-11-28"]
                .into_iter()
                .map(|d| DailyUsage {
                    date: d.into(),
                    active_users: 1,
                })
                .collect(),
        }),
        ..Default::default()
    };
    let connection = gauges::Connection {
        namespace: "it",
        name: "acme",
    };
    gauges::record(
        &metrics,
        &connection,
        &Default::default(),
        &status,
        Some(Duration::from_secs(86400)),
        None,
    );
    metrics
        .jira_throttled
        .get_or_create(&ConnectionLabels {
            namespace: "it".into(),
            connection: "acme".into(),
        })
        .inc();
    metrics
        .jira_requests
        .get_or_create(&RequestLabels {
            endpoint: "GET /x".into(),
            status: "200".into(),
        })
        .inc();
    metrics
        .actions
        .get_or_create(&ActionLabels {
            kind: "createIssue".into(),
            outcome: "failed".into(),
        })
        .inc();
    let policy = PolicyLabels {
        namespace: "it".into(),
        policy: "reclaim".into(),
        product: "jira-software".into(),
    };
    metrics
        .policy_reclaimable_seats
        .get_or_create(&policy)
        .set(3);
    metrics
        .policy_monthly_savings
        .get_or_create(&SavingsLabels {
            namespace: policy.namespace,
            policy: policy.policy,
            product: policy.product,
            currency: "USD".into(),
        })
        .set(25.8);
    drop(metrics.reconcile_started("jiraconnection"));
    metrics.reconcile_failed("jiraconnection", "InvalidCredentials");
    metrics
}

/// Every exported series name with its label names.
fn exported() -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in every_series().encode().lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let name_end = line.find(['{', ' ']).expect("a sample line");
        let labels = out.entry(line[..name_end].to_string()).or_default();
        if let Some(rest) = line[name_end..].strip_prefix('{') {
            let inner = &rest[..rest.find('}').expect("closing brace")];
            for pair in inner.split(',') {
                labels.insert(pair.split('=').next().unwrap().to_string());
            }
        }
    }
    out
}

/// Metric names in a PromQL expression, each with the label names of its matchers.
fn selectors(expr: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find("jira_operator_") {
        let after = &rest[start..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = after[..end].to_string();
        let mut labels = Vec::new();
        if let Some(inner) = after[end..].strip_prefix('{') {
            for matcher in inner[..inner.find('}').expect("closing brace")].split(',') {
                let label = matcher.split(['=', '!']).next().unwrap().trim().to_string();
                if !label.is_empty() {
                    labels.push(label);
                }
            }
        }
        out.push((name, labels));
        rest = &after[end..];
    }
    out
}

/// Labels named in `by (...)` and `on (...)` clauses.
fn grouping_labels(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for keyword in ["by (", "on (", "by(", "on("] {
        for (ix, _) in expr.match_indices(keyword) {
            let inner = &expr[ix + keyword.len()..];
            let inner = &inner[..inner.find(')').expect("closing parenthesis")];
            out.extend(inner.split(',').map(|l| l.trim().to_string()));
        }
    }
    out
}

/// Checks that `expr` names only exported metrics and their labels; returns the metrics it names.
fn check_expr(
    expr: &str,
    exported: &BTreeMap<String, BTreeSet<String>>,
    what: &str,
) -> Vec<String> {
    let found = selectors(expr);
    assert!(
        !found.is_empty(),
        "{what} names no metric of the operator: {expr}"
    );
    for (name, labels) in &found {
        let known = exported.get(name).unwrap_or_else(|| {
            panic!("{what} uses {name}, which the operator does not export: {expr}")
        });
        for label in labels {
            assert!(
                known.contains(label),
                "{what}: {name} has no label {label:?} (it has {known:?}): {expr}"
            );
        }
    }
    let all: BTreeSet<&String> = found.iter().flat_map(|(n, _)| exported[n].iter()).collect();
    for label in grouping_labels(expr) {
        assert!(
            all.contains(&label),
            "{what} groups by {label:?}, which none of its metrics has: {expr}"
        );
    }
    found.into_iter().map(|(n, _)| n).collect()
}

fn rendered_rules(args: &[&str]) -> Value {
    let mut all = vec!["--set", "metrics.prometheusRule.enabled=true"];
    all.extend_from_slice(args);
    let objects = objects(&helm_template("jco", "jira-operator", &all));
    one(&objects, "PrometheusRule").clone()
}

fn alerts(rule: &Value) -> Vec<&Value> {
    rule["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect()
}

/// GitHub's anchors of the README's headings.
fn readme_anchors() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    readme
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| {
            h.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

fn promtool() -> String {
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("hack/promtool.sh"))
        .output()
        .expect("run hack/promtool.sh");
    assert!(
        out.status.success(),
        "hack/promtool.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn the_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let rule = rendered_rules(&[]);
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("jira-cloud-operator-rules.yaml");
    std::fs::write(
        &rules_file,
        serde_yaml_ng::to_string(&rule["spec"]).unwrap(),
    )
    .unwrap();
    let tests_file = dir.path().join("rules-test.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alerts/rules-test.yaml"),
        &tests_file,
    )
    .unwrap();
    let promtool = promtool();
    for args in [
        vec!["check", "rules", rules_file.to_str().unwrap()],
        vec!["test", "rules", tests_file.to_str().unwrap()],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(dir.path())
            .output()
            .expect("run promtool");
        assert!(
            out.status.success(),
            "promtool {}:\n{}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_alert_says_what_to_do_and_links_its_runbook() {
    let rule = rendered_rules(&[]);
    let names: Vec<&str> = alerts(&rule)
        .iter()
        .map(|a| a["alert"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "JiraConnectionNotReady",
            "JiraConnectionSyncStale",
            "JiraLicenseSeatsNearlyExhausted",
            "JiraLicenseInactiveHoldersHigh",
            "JiraThrottlingSustained",
            "JiraActionsFailing"
        ]
    );
    let anchors = readme_anchors();
    let exported = exported();
    for alert in alerts(&rule) {
        let name = alert["alert"].as_str().unwrap();
        check_expr(alert["expr"].as_str().unwrap(), &exported, name);
        let annotations = &alert["annotations"];
        for key in ["summary", "description"] {
            assert!(
                annotations[key].as_str().is_some_and(|t| t.len() > 20),
                "{name} has no {key}"
            );
        }
        let runbook = annotations["runbook_url"].as_str().unwrap();
        let anchor = runbook.rsplit_once('#').expect("an anchor").1;
        assert_eq!(anchor, name.to_lowercase());
        assert!(
            anchors.contains(anchor),
            "{name}: the README has no heading for #{anchor}"
        );
        assert!(alert["labels"]["severity"].is_string(), "{name}");
    }

    // The values tune and leave out alerts, and label them.
    let tuned = rendered_rules(&[
        "--set-json",
        "metrics.prometheusRule.seatsUsedShare=0.8",
        "--set",
        "metrics.prometheusRule.disabled={JiraLicenseInactiveHoldersHigh}",
        "--set",
        "metrics.prometheusRule.additionalLabels.team=it-saas",
    ]);
    let tuned_alerts = alerts(&tuned);
    assert_eq!(tuned_alerts.len(), 5);
    let seats = tuned_alerts
        .iter()
        .find(|a| a["alert"] == "JiraLicenseSeatsNearlyExhausted")
        .unwrap();
    assert!(
        seats["expr"].as_str().unwrap().ends_with(">= 0.8"),
        "{seats}"
    );
    assert!(
        tuned_alerts
            .iter()
            .all(|a| a["labels"]["team"] == "it-saas")
    );
}

#[test]
fn the_dashboard_queries_only_metrics_and_labels_the_operator_exports() {
    let objects = objects(&helm_template(
        "jco",
        "jira-operator",
        &["--set", "dashboards.enabled=true"],
    ));
    let config_map = one(&objects, "ConfigMap");
    let dashboard: Value = serde_json::from_str(
        config_map["data"]["jira-cloud-operator.json"]
            .as_str()
            .unwrap(),
    )
    .expect("the dashboard is JSON");
    let exported = exported();
    let mut used = BTreeSet::new();
    let mut queries = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        let title = panel["title"].as_str().unwrap_or_default();
        for target in panel["targets"].as_array().into_iter().flatten() {
            used.extend(check_expr(
                target["expr"].as_str().unwrap(),
                &exported,
                title,
            ));
            queries += 1;
        }
    }
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        if let Some(query) = variable["definition"].as_str() {
            let label = query
                .trim_end_matches(')')
                .rsplit(',')
                .next()
                .unwrap()
                .trim();
            let metrics = check_expr(query, &exported, "a dashboard variable");
            assert!(
                exported[&metrics[0]].contains(label),
                "the variable {query} reads a label its metric lacks"
            );
            queries += 1;
        }
    }
    assert!(queries >= 20, "only {queries} queries checked");
    for required in [
        "jira_operator_license_seats",
        "jira_operator_license_unlimited",
        "jira_operator_license_used",
        "jira_operator_license_active_holders",
        "jira_operator_license_inactive_holders",
        "jira_operator_daily_active_users",
        "jira_operator_users_active",
        "jira_operator_last_successful_sync_timestamp_seconds",
        "jira_operator_build_info",
        "jira_operator_policy_reclaimable_seats",
        "jira_operator_policy_monthly_savings",
    ] {
        assert!(
            used.contains(required),
            "the dashboard does not show {required}"
        );
    }
    let daily = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["targets"][0]["expr"]
                .as_str()
                .is_some_and(|e| e.starts_with("jira_operator_daily_active_users"))
        })
        .unwrap();
    assert!(
        daily["title"]
            .as_str()
            .unwrap()
            .contains("last complete UTC day"),
        "the daily figure says it leaves out the partial day: {}",
        daily["title"]
    );
}

#[test]
fn scrapes_keep_the_connections_namespace_label() {
    let service = objects(&helm_template(
        "jco",
        "jira-operator",
        &["--set", "metrics.serviceMonitor.enabled=true"],
    ));
    let monitor = one(&service, "ServiceMonitor");
    assert_eq!(monitor["spec"]["endpoints"][0]["honorLabels"], true);
    let pod = objects(&helm_template(
        "jco",
        "jira-operator",
        &["--set", "metrics.podMonitor.enabled=true"],
    ));
    let monitor = one(&pod, "PodMonitor");
    assert_eq!(monitor["spec"]["podMetricsEndpoints"][0]["port"], "metrics");
    assert_eq!(
        monitor["spec"]["podMetricsEndpoints"][0]["honorLabels"],
        true
    );
    assert!(pod.iter().all(|o| o["kind"] != "ServiceMonitor"));

    let chart = testkit::tools::chart_dir();
    let both = helm(&[
        "template",
        "jco",
        chart.to_str().unwrap(),
        "--set",
        "metrics.podMonitor.enabled=true",
        "--set",
        "metrics.serviceMonitor.enabled=true",
    ]);
    assert!(!both.status.success());
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("not both"),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
}
