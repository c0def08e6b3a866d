//! The JiraLicensePolicy schema on a real kube-apiserver: defaults apply, out-of-range or malformed fields are
//! rejected with a message naming the field, and the policy is listed by `kubectl get jira`'s category.

use jira_cloud_operator::api::{JiraLicensePolicy, PolicyMode};
use testkit::{create, env, parse_manifests, typed};

const HEAD: &str =
    "apiVersion: jiracloud.io/v1alpha1\nkind: JiraLicensePolicy\nmetadata: {name: p}\n";

#[tokio::test]
async fn defaults_make_a_safe_dry_run() {
    let env = env("policy-defaults").await;
    let obj = &parse_manifests(&format!(
        "{HEAD}spec: {{connectionRef: {{name: acme}}, inactiveDays: 90}}\n"
    ))[0];
    let p: JiraLicensePolicy = typed(create(&env.client, &env.namespace, obj).await.unwrap());
    assert_eq!(p.spec.mode, PolicyMode::DryRun);
    assert_eq!(p.spec.max_reclaims_per_run, 10);
    assert_eq!(p.spec.min_interval, "24h");
    assert_eq!(p.spec.grace_days, 14);
    assert!(p.spec.products.is_empty());
    assert!(!p.spec.exclude.include_admins);
    assert_eq!(p.spec.approved_plan, None);
}

#[tokio::test]
async fn bad_specs_are_rejected_naming_the_field() {
    let env = env("policy-invalid").await;
    let spec = |rest: &str| format!("{HEAD}spec: {{connectionRef: {{name: acme}}, {rest}}}\n");
    let cases = [
        (
            "inactiveDays below 7",
            spec("inactiveDays: 6"),
            "spec.inactiveDays",
        ),
        (
            "inactiveDays above 3650",
            spec("inactiveDays: 3651"),
            "spec.inactiveDays",
        ),
        ("no inactiveDays", spec("mode: DryRun"), "spec.inactiveDays"),
        (
            "unknown mode",
            spec("inactiveDays: 90, mode: Yolo"),
            "spec.mode",
        ),
        (
            "no run cap",
            spec("inactiveDays: 90, maxReclaimsPerRun: 0"),
            "spec.maxReclaimsPerRun",
        ),
        (
            "a huge run",
            spec("inactiveDays: 90, maxReclaimsPerRun: 5000"),
            "spec.maxReclaimsPerRun",
        ),
        (
            "a minInterval that is no duration",
            spec("inactiveDays: 90, minInterval: daily"),
            "spec.minInterval",
        ),
        (
            "a user by accountId and email",
            spec("inactiveDays: 90, exclude: {users: [{accountId: a, email: a@b.c}]}"),
            "a user reference needs exactly one of accountId or email",
        ),
        (
            "a price with three decimals",
            spec("inactiveDays: 90, seatPrice: {jira-software: {amount: '8.600', currency: USD}}"),
            "spec.seatPrice.jira-software.amount",
        ),
        (
            "a lowercase currency",
            spec("inactiveDays: 90, seatPrice: {jira-software: {amount: '8.60', currency: usd}}"),
            "spec.seatPrice.jira-software.currency",
        ),
        (
            "an empty product key",
            spec("inactiveDays: 90, products: ['']"),
            "products must be non-empty product keys",
        ),
        (
            "a summary issue without a project",
            spec("inactiveDays: 90, summaryIssue: {issueType: Task}"),
            "spec.summaryIssue.project",
        ),
    ];
    for (what, manifest, expected) in cases {
        let obj = &parse_manifests(&manifest)[0];
        let err = create(&env.client, &env.namespace, obj)
            .await
            .expect_err(what)
            .to_string();
        assert!(err.contains(expected), "{what}: {err}");
    }
}
