//! The CRDs: the committed YAML (and the chart's copy) is exactly what the API types generate, every resource
//! has a category and a status subresource (but JiraUser, written by the operator alone in one write), and the
//! schema is enforced by a real kube-apiserver: examples are accepted, invalid manifests are rejected with a
//! message that names the offending field, JiraAction specs are immutable, defaults apply, and printer columns
//! and short names work.

use jira_cloud_operator::api::{InventoryMode, JiraAction, JiraConnection};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use std::path::Path;
use testkit::{create, env, parse_manifests, read_manifests, typed};

#[tokio::test]
async fn every_example_manifest_is_accepted() {
    let env = env("examples").await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 8,
        "examples/ holds the manifests of both auth methods and every action kind"
    );
    let mut created = 0;
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
    {
        for obj in read_manifests(file) {
            create(&env.client, &env.namespace, &obj)
                .await
                .unwrap_or_else(|e| panic!("{} was rejected: {e}", file.display()));
            created += 1;
        }
    }
    assert!(created >= 12, "only {created} objects created");
}

#[tokio::test]
async fn defaults_come_from_the_schema() {
    let env = env("defaults").await;
    let obj = &parse_manifests(
        r#"
apiVersion: jiracloud.io/v1alpha1
kind: JiraConnection
metadata: {name: minimal}
spec:
  siteUrl: https://acme.atlassian.net
  auth: {basic: {secretRef: {name: s}}}
"#,
    )[0];
    let conn: JiraConnection = typed(create(&env.client, &env.namespace, obj).await.unwrap());
    assert_eq!(conn.spec.sync.interval, "24h");
    assert_eq!(conn.spec.sync.usage_window_days, 30);
    assert!(!conn.spec.sync.suspend);
    assert_eq!(conn.spec.inventory, InventoryMode::Users);
    let basic = conn.spec.auth.basic.unwrap();
    assert_eq!(basic.secret_ref.email_key, "email");
    assert_eq!(basic.secret_ref.api_token_key, "apiToken");
}

const CONNECTION: &str =
    "apiVersion: jiracloud.io/v1alpha1\nkind: JiraConnection\nmetadata: {name: bad}\n";
const ACTION: &str = "apiVersion: jiracloud.io/v1alpha1\nkind: JiraAction\nmetadata: {name: bad}\n";

/// (what is wrong, manifest, substrings the rejection must contain: the field path, then the explanation)
fn invalid_manifests() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let basic = "auth: {basic: {secretRef: {name: s}}}";
    let conn = |spec: &str| format!("{CONNECTION}spec: {spec}\n");
    let action = |spec: &str| format!("{ACTION}spec: {spec}\n");
    vec![
        (
            "two auth methods",
            conn(
                "{siteUrl: 'https://a.atlassian.net', auth: {basic: {secretRef: {name: s}}, serviceAccount: {cloudId: 1324a887-45db-1bf4-1e99-ef0ff456d421, secretRef: {name: s}}}}",
            ),
            vec![
                "spec.auth",
                "exactly one of auth.basic or auth.serviceAccount",
            ],
        ),
        (
            "no auth method",
            conn("{siteUrl: 'https://a.atlassian.net', auth: {}}"),
            vec![
                "spec.auth",
                "exactly one of auth.basic or auth.serviceAccount",
            ],
        ),
        (
            "auth missing",
            conn("{siteUrl: 'https://a.atlassian.net'}"),
            vec!["spec.auth", "Required"],
        ),
        (
            "siteUrl missing",
            conn(&format!("{{{basic}}}")),
            vec!["spec.siteUrl", "Required"],
        ),
        (
            "plain http to a remote host",
            conn(&format!(
                "{{siteUrl: 'http://acme.atlassian.net', {basic}}}"
            )),
            vec!["spec.siteUrl", "must be an https URL"],
        ),
        (
            "not a URL",
            conn(&format!("{{siteUrl: 'acme', {basic}}}")),
            vec!["spec.siteUrl", "must be an https URL"],
        ),
        (
            "a path after the site",
            conn(&format!(
                "{{siteUrl: 'https://acme.atlassian.net/jira', {basic}}}"
            )),
            vec!["spec.siteUrl", "without a path"],
        ),
        (
            "interval below the minimum",
            conn(&format!(
                "{{siteUrl: 'https://a.atlassian.net', {basic}, sync: {{interval: 1m}}}}"
            )),
            vec!["spec.sync.interval", "at least 5m"],
        ),
        (
            "interval that is not a duration",
            conn(&format!(
                "{{siteUrl: 'https://a.atlassian.net', {basic}, sync: {{interval: daily}}}}"
            )),
            vec!["spec.sync.interval"],
        ),
        (
            "usage window of 0 days",
            conn(&format!(
                "{{siteUrl: 'https://a.atlassian.net', {basic}, sync: {{usageWindowDays: 0}}}}"
            )),
            vec!["spec.sync.usageWindowDays", "greater than or equal to 1"],
        ),
        (
            "usage window of 91 days",
            conn(&format!(
                "{{siteUrl: 'https://a.atlassian.net', {basic}, sync: {{usageWindowDays: 91}}}}"
            )),
            vec!["spec.sync.usageWindowDays", "less than or equal to 90"],
        ),
        (
            "a shrink share over 100 %",
            conn(&format!(
                "{{siteUrl: 'https://a.atlassian.net', {basic}, sync: {{maxShrinkPercent: 101}}}}"
            )),
            vec!["spec.sync.maxShrinkPercent", "less than or equal to 100"],
        ),
        (
            "a negative shrink share",
            conn(&format!(
                "{{siteUrl: 'https://a.atlassian.net', {basic}, sync: {{maxShrinkPercent: -1}}}}"
            )),
            vec!["spec.sync.maxShrinkPercent", "greater than or equal to 0"],
        ),
        (
            "a cloudId that is not a UUID",
            conn(
                "{siteUrl: 'https://a.atlassian.net', auth: {serviceAccount: {cloudId: acme, secretRef: {name: s}}}}",
            ),
            vec!["spec.auth.serviceAccount.cloudId"],
        ),
        (
            "an unknown inventory mode",
            conn(&format!(
                "{{siteUrl: 'https://a.atlassian.net', {basic}, inventory: Everything}}"
            )),
            vec!["spec.inventory", "Unsupported value"],
        ),
        (
            "an empty Secret name",
            conn("{siteUrl: 'https://a.atlassian.net', auth: {basic: {secretRef: {name: ''}}}}"),
            vec!["spec.auth.basic.secretRef.name"],
        ),
        (
            "two action kinds",
            action(
                "{connectionRef: {name: c}, deleteIssue: {issue: OPS-1}, deleteUser: {user: {accountId: a}}}",
            ),
            vec!["spec", "exactly one of createIssue, deleteIssue"],
        ),
        (
            "no action kind",
            action("{connectionRef: {name: c}}"),
            vec!["spec", "exactly one of createIssue, deleteIssue"],
        ),
        (
            "no connection",
            action("{deleteIssue: {issue: OPS-1}}"),
            vec!["spec.connectionRef", "Required"],
        ),
        (
            "a user given by accountId and email",
            action("{connectionRef: {name: c}, deleteUser: {user: {accountId: a, email: a@b.c}}}"),
            vec!["spec.deleteUser.user", "exactly one of accountId or email"],
        ),
        (
            "a user given by neither",
            action("{connectionRef: {name: c}, addUserToGroup: {user: {}, group: g}}"),
            vec![
                "spec.addUserToGroup.user",
                "exactly one of accountId or email",
            ],
        ),
        (
            "a multi-line summary",
            action(
                "{connectionRef: {name: c}, createIssue: {project: OPS, issueType: Task, summary: \"a\\nb\"}}",
            ),
            vec!["spec.createIssue.summary", "single line"],
        ),
        (
            "a label with a space",
            action(
                "{connectionRef: {name: c}, createIssue: {project: OPS, issueType: Task, summary: s, labels: ['a b']}}",
            ),
            vec!["spec.createIssue.labels", "no spaces"],
        ),
        (
            "an issue that is not a key or id",
            action("{connectionRef: {name: c}, deleteIssue: {issue: 'not an issue'}}"),
            vec!["spec.deleteIssue.issue"],
        ),
        (
            "a malformed email",
            action(
                "{connectionRef: {name: c}, removeUserFromGroup: {user: {email: nobody}, group: g}}",
            ),
            vec!["spec.removeUserFromGroup.user.email"],
        ),
        (
            "a negative TTL",
            action(
                "{connectionRef: {name: c}, deleteIssue: {issue: OPS-1}, ttlSecondsAfterFinished: -1}",
            ),
            vec!["spec.ttlSecondsAfterFinished"],
        ),
    ]
}

#[tokio::test]
async fn invalid_manifests_are_rejected_naming_the_field() {
    let env = env("invalid").await;
    let cases = invalid_manifests();
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for (what, manifest, expected) in cases {
        let obj = &parse_manifests(&manifest)[0];
        match create(&env.client, &env.namespace, obj).await {
            Ok(_) => failures.push(format!("{what}: accepted")),
            Err(kube::Error::Api(status)) => {
                if status.code != 422 {
                    failures.push(format!("{what}: HTTP {} {}", status.code, status.message));
                }
                for needle in expected {
                    if !status.message.contains(needle) {
                        failures.push(format!(
                            "{what}: {:?} does not mention {needle:?}",
                            status.message
                        ));
                    }
                }
            }
            Err(e) => failures.push(format!("{what}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_jira_action_spec_is_immutable() {
    let env = env("immutable").await;
    let obj = &read_manifests(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/action-delete-issue.yaml"),
    )[0];
    create(&env.client, &env.namespace, obj).await.unwrap();
    let api: Api<JiraAction> = Api::namespaced(env.client.clone(), &env.namespace);
    let patch = serde_json::json!({"spec": {"deleteIssue": {"issue": "OPS-999"}}});
    let err = api
        .patch(
            "delete-ops-123",
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .expect_err("an edit of the spec is rejected");
    let kube::Error::Api(status) = err else {
        panic!("unexpected error {err}")
    };
    assert_eq!(status.code, 422);
    assert!(status.message.contains("immutable"), "{}", status.message);
    // Metadata stays editable (labels, annotations, finalizers).
    let label = serde_json::json!({"metadata": {"labels": {"team": "it"}}});
    api.patch(
        "delete-ops-123",
        &PatchParams::default(),
        &Patch::Merge(&label),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn kubectl_get_jira_lists_everything_with_printer_columns() {
    let env = env("kubectl").await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for file in ["connection-basic.yaml", "action-create-issue.yaml"] {
        for obj in read_manifests(&dir.join(file)) {
            create(&env.client, &env.namespace, &obj).await.unwrap();
        }
    }
    let run = |args: &[&str]| {
        let out = testkit::tools::kubectl(&[&["-n", &env.namespace][..], args].concat(), "");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let all = run(&["get", "jira"]);
    assert!(all.contains("jiraconnection.jiracloud.io/acme"), "{all}");
    assert!(
        all.contains("jiraaction.jiracloud.io/reclaim-license-jdoe"),
        "{all}"
    );
    let connections = run(&["get", "jconn"]);
    for column in [
        "SITE",
        "READY",
        "REASON",
        "CAPABILITIES",
        "USERS",
        "ACTIVE",
        "LAST SYNC",
        "AGE",
    ] {
        assert!(
            connections.contains(column),
            "no {column} column in\n{connections}"
        );
    }
    assert!(
        connections.contains("https://acme.atlassian.net"),
        "{connections}"
    );
    let actions = run(&["get", "jact", "-o", "wide"]);
    for column in [
        "CONNECTION",
        "PHASE",
        "REASON",
        "RESULT",
        "ATTEMPTS",
        "MESSAGE",
    ] {
        assert!(actions.contains(column), "no {column} column in\n{actions}");
    }
    let users = run(&["get", "juser"]);
    assert!(users.trim().is_empty(), "no JiraUser exists yet: {users}");
    // The OpenAPI document lags a moment behind a newly installed CRD.
    let mut explain = String::new();
    for _ in 0..50 {
        explain = run(&["explain", "jiraconnection.spec.auth"]);
        if explain.contains("serviceAccount") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        explain.contains("Exactly one method must be set"),
        "{explain}"
    );
}

#[test]
fn committed_crds_match_the_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/jiracloud.io.yaml");
    let committed = std::fs::read_to_string(&path).expect("crds/jiracloud.io.yaml exists");
    let generated = jira_cloud_operator::api::crds_yaml();
    assert!(
        committed == generated,
        "crds/jiracloud.io.yaml is out of date: run `cargo run --bin crdgen` and commit the result"
    );
}

#[test]
fn the_charts_copy_of_the_crds_matches_the_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("charts/jira-cloud-operator/files/crds/jiracloud.io.yaml");
    let committed = std::fs::read_to_string(&path).expect("the chart's copy of the CRDs exists");
    assert!(
        committed == jira_cloud_operator::api::crds_yaml(),
        "{} is out of date: run `cargo run --bin crdgen` and commit the result",
        path.display()
    );
}

#[test]
fn every_resource_has_a_category_and_a_status_subresource_but_jira_user() {
    for crd in jira_cloud_operator::api::crds() {
        assert_eq!(crd.spec.group, "jiracloud.io");
        assert_eq!(crd.spec.scope, "Namespaced");
        // JiraUsers, one per user of a site, have their own category so that `kubectl get jira` stays short.
        let category = match crd.spec.names.kind.as_str() {
            "JiraUser" => "jira-inventory",
            _ => "jira",
        };
        assert_eq!(
            crd.spec.names.categories.as_deref(),
            Some(&[category.to_string()][..])
        );
        assert!(
            crd.spec
                .names
                .short_names
                .as_ref()
                .is_some_and(|s| !s.is_empty())
        );
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1alpha1");
        // JiraUser is observed state the operator alone writes: one write carries its whole record.
        assert_eq!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some(),
            crd.spec.names.kind != "JiraUser",
            "{}",
            crd.spec.names.kind
        );
        assert!(
            version
                .additional_printer_columns
                .as_ref()
                .is_some_and(|c| c.len() >= 4)
        );
    }
}
