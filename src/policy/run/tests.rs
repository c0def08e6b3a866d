use super::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

const DAY: Duration = Duration::from_secs(86_400);

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn reclaim(account: &str, product: &str) -> Reclaim {
    Reclaim {
        account_id: account.into(),
        email: format!("{account}@example.com"),
        product: product.into(),
        groups: vec![format!("{product}-users")],
    }
}

fn plan(id: &str, accounts: &[&str]) -> Plan {
    Plan {
        id: id.into(),
        reclaims: accounts
            .iter()
            .map(|a| reclaim(a, "jira-software"))
            .collect(),
    }
}

fn run(plan_id: &str, time: &str, finished: bool) -> Run {
    Run {
        time: Time(k8s_openapi::jiff::Timestamp::from_second(at(time).timestamp()).unwrap()),
        plan_id: plan_id.into(),
        reclaimed: 1,
        skipped: 0,
        not_reclaimed: 0,
        actions: Vec::new(),
        finished,
        not_reclaimed_users: Vec::new(),
        checked_sync_time: None,
        summary_action: None,
    }
}

const NOW: &str = "2026-12-07T10:00:00Z";

#[test]
fn dry_run_never_executes() {
    let p = plan("p1", &["a"]);
    let d = decide(
        PolicyMode::DryRun,
        Some("p1"),
        None,
        Some(&p),
        None,
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::Idle);
}

#[test]
fn approval_executes_exactly_the_approved_plan_once() {
    let current = plan("p2", &["b"]);
    let previous = plan("p1", &["a", "b"]);
    let d = decide(
        PolicyMode::Approval,
        Some("p1"),
        None,
        Some(&current),
        Some(&previous),
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::Execute(&previous));
    let done = run("p1", "2026-12-01T10:00:00Z", true);
    let d = decide(
        PolicyMode::Approval,
        Some("p1"),
        Some(&done),
        Some(&current),
        Some(&previous),
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::Idle);
    let d = decide(
        PolicyMode::Approval,
        Some("zzz"),
        None,
        Some(&current),
        None,
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::UnknownPlan("zzz".into()));
    let d = decide(
        PolicyMode::Approval,
        None,
        None,
        Some(&current),
        None,
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::Idle);
}

#[test]
fn runs_keep_min_interval_apart_and_never_overlap() {
    let current = plan("p2", &["b"]);
    let recent = run("p1", "2026-12-07T04:00:00Z", true);
    let d = decide(
        PolicyMode::Automatic,
        None,
        Some(&recent),
        Some(&current),
        None,
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::Wait(Duration::from_secs(18 * 3600)));
    let running = run("p1", "2026-12-01T04:00:00Z", false);
    let d = decide(
        PolicyMode::Automatic,
        None,
        Some(&running),
        Some(&current),
        None,
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::RunInProgress);
    let old = run("p1", "2026-12-01T04:00:00Z", true);
    let d = decide(
        PolicyMode::Automatic,
        None,
        Some(&old),
        Some(&current),
        None,
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::Execute(&current));
    // The plan already executed does not run twice.
    let same = run("p2", "2026-12-01T04:00:00Z", true);
    let d = decide(
        PolicyMode::Automatic,
        None,
        Some(&same),
        Some(&current),
        None,
        at(NOW),
        DAY,
    );
    assert_eq!(d, Decision::Idle);
}

#[test]
fn reclaims_no_longer_due_are_skipped_and_users_capped() {
    let mut p = plan("p1", &["a", "b", "c", "d"]);
    p.reclaims.insert(1, reclaim("a", "jira-servicedesk"));
    let due_now: BTreeMap<(String, String), Vec<String>> = [
        ("a", "jira-software"),
        ("a", "jira-servicedesk"),
        ("c", "jira-software"),
        ("d", "jira-software"),
    ]
    .into_iter()
    .map(|(a, p)| ((a.to_string(), p.to_string()), vec![]))
    .collect();
    // b became active again; at most two users.
    let (due, skipped) = still_due(&p, &due_now, 2);
    let got: Vec<(&str, &str)> = due
        .iter()
        .map(|r| (r.account_id.as_str(), r.product.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("a", "jira-software"),
            ("a", "jira-servicedesk"),
            ("c", "jira-software")
        ]
    );
    assert_eq!(skipped, 2);
}

#[test]
fn action_names_are_deterministic_and_valid() {
    let a = action_name(
        "reclaim-software",
        "7f3c2a91aa00",
        "5b10ac8d82e05b22cc7d4ef5",
        "jira-software-users",
    );
    assert_eq!(
        a,
        action_name(
            "reclaim-software",
            "7f3c2a91aa00",
            "5b10ac8d82e05b22cc7d4ef5",
            "jira-software-users"
        )
    );
    assert_ne!(
        a,
        action_name(
            "reclaim-software",
            "7f3c2a91aa00",
            "5b10ac8d82e05b22cc7d4ef5",
            "jira-testers"
        )
    );
    assert!(a.starts_with("reclaim-software-7f3c2a91aa00-"));
    let long = action_name(&"p".repeat(253), "7f3c2a91aa00", "x", "g");
    assert!(long.len() <= 253, "{}", long.len());
    assert!(summary_action_name(&"p".repeat(253), "7f3c2a91aa00").len() <= 253);
}
