//! JiraLicensePolicy end to end, on the real apiserver with the simulator: a site whose inactive holders are
//! known in advance gives exactly those candidates (excluded groups and users, protected JiraUsers, the
//! connection's own account, "unknown yet" respected); DryRun changes nothing in Jira; an approved plan removes
//! exactly its users from exactly the product's groups, skipping a user active again since the plan; a re-sync
//! moves the figures and reports a user who still holds the product; a run never exceeds maxReclaimsPerRun; a
//! policy deleted mid-run leaves no user half reclaimed; a policy that cannot be evaluated says why.

use jira_cloud_operator::api::{
    ActionPhase, JiraConnection, JiraLicensePolicy, Money, find_condition,
};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use std::time::Duration;
use testkit::{
    policy::World,
    wait::{DEADLINE, wait_for_object},
};

/// Days before today of each user's last write; who is excluded and why is said per user. Inactivity is
/// measured over 14 days; the operator's history covers 90 (a first sync 60 days ago, a 30-day window).
const SITE: &str = r#"
managed_domains: [example.com]
credentials:
  api_tokens: [{email: admin@example.com, token: classic-admin-token}]
  oauth_clients: []
groups:
  - {name: site-admins, site_admin: true}
  - {name: jira-admins, administer: true}
  - {name: jira-software-users, products: [jira-software]}
  - {name: jira-testers, products: [jira-software]}
  - {name: jira-software-vip, products: [jira-software]}
  - {name: jira-servicedesk-users, products: [jira-servicedesk]}
users:
  # The connection's own account: inactive, never a candidate.
  - {account_id: 5b10a2844c20165700ede001, name: Site Admin, email: admin@example.com, groups: [site-admins, jira-admins, jira-software-users]}
  # Active 2 days ago.
  - {account_id: 5b10a2844c20165700ede002, name: Ana, email: ana@example.com, groups: [jira-software-users]}
  # Never active, in two groups that grant Jira Software: candidate.
  - {account_id: 5b10a2844c20165700ede003, name: Ben, email: ben@example.com, groups: [jira-software-users, jira-testers]}
  # Active 25 days ago: candidate.
  - {account_id: 5b10a2844c20165700ede004, name: Cara, email: cara@example.com, groups: [jira-software-users]}
  # Active 20 days ago, also holds Jira Service Management, which stays: candidate for Jira Software only.
  - {account_id: 5b10a2844c20165700ede005, name: Dan, email: dan@example.com, groups: [jira-software-users, jira-servicedesk-users]}
  # Never active, in an excluded group.
  - {account_id: 5b10a2844c20165700ede006, name: Eve, email: eve@example.com, groups: [jira-software-vip]}
  # Never active, protected by annotation.
  - {account_id: 5b10a2844c20165700ede007, name: Finn, email: finn@example.com, groups: [jira-software-users]}
  # Never active, excluded by email.
  - {account_id: 5b10a2844c20165700ede008, name: Gus, email: gus@example.com, groups: [jira-software-users]}
  # Jira Service Management only: out of the policy's products.
  - {account_id: 5b10a2844c20165700ede009, name: Hal, email: hal@example.com, groups: [jira-servicedesk-users]}
  # Deactivated: holds no license.
  - {account_id: 5b10a2844c20165700ede010, name: Ivy, email: ivy@example.com, active: false, groups: [jira-software-users]}
  # Never active: candidate.
  - {account_id: 5b10a2844c20165700ede011, name: Jay, email: jay@example.com, groups: [jira-software-users]}
  # No license at the first sync: a holder that appears later is new.
  - {account_id: 5b10a2844c20165700ede012, name: Kim, email: kim@example.com}
projects:
  - {key: ENG, name: Engineering, type_key: software}
issues:
  - project: ENG
    summary: Checkout page times out
    reporter: ana@example.com
    created: 200d 09:00
    comments:
      - {author: ana@example.com, created: 2d 10:00, body: Still failing.}
      - {author: cara@example.com, created: 25d 10:00, body: Reproduced.}
      - {author: dan@example.com, created: 20d 10:00, body: Looking.}
"#;

const HISTORY_DAYS: i64 = 60;

/// Every holder was first seen by the first sync of this test, which is younger than the history the test
/// gives the connection: no grace period, or all of them would be new.
const POLICY: &str = "products: [jira-software], inactiveDays: 14, graceDays: 0, maxReclaimsPerRun: 3, \
    exclude: {groups: [jira-software-vip], users: [{email: gus@example.com}]}, \
    seatPrice: {jira-software: {amount: '8.60', currency: USD}}";

fn candidates(p: &JiraLicensePolicy) -> Vec<String> {
    let st = p.status.as_ref().expect("a status");
    st.candidates.iter().map(|c| c.email.clone()).collect()
}

fn plan(p: &JiraLicensePolicy) -> (String, Vec<(String, Vec<String>)>) {
    let plan = p
        .status
        .as_ref()
        .and_then(|s| s.plan.clone())
        .expect("a plan");
    let reclaims = plan
        .reclaims
        .into_iter()
        .map(|r| (r.email, r.groups))
        .collect();
    (plan.id, reclaims)
}

fn reason(p: &JiraLicensePolicy, type_: &str) -> String {
    let st = p.status.as_ref().expect("a status");
    find_condition(&st.conditions, type_)
        .map(|c| format!("{}/{}", c.status, c.reason))
        .unwrap_or_default()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn the_plan_holds_exactly_the_known_inactive_holders_and_a_dry_run_changes_nothing() {
    let mut w = World::start("policy-plan", SITE, HISTORY_DAYS).await;
    w.protect("finn@example.com").await;
    w.sim.clear_received_requests();
    w.policy("reclaim", POLICY).await;
    // Holders present at the connection's first sync are not new: a grace period spares none of them.
    w.policy(
        "grace",
        "products: [jira-software], inactiveDays: 14, graceDays: 14",
    )
    .await;
    // Beyond the history the operator has: nobody is known inactive.
    w.policy("long", "products: [jira-software], inactiveDays: 120")
        .await;

    let p = w.evaluated("reclaim").await;
    assert_eq!(
        candidates(&p),
        strings(&[
            "ben@example.com",
            "jay@example.com",
            "cara@example.com",
            "dan@example.com"
        ]),
        "never active first (by account), then the longest inactive"
    );
    let st = p.status.clone().unwrap();
    assert_eq!(st.candidate_count, 4);
    assert!(!st.candidates_truncated);
    let f = &st.products[0];
    assert_eq!(f.product, "jira-software");
    // Holders: everyone with Jira Software but the deactivated Ivy. Inactive: all but Ana. Excluded: the own
    // account, Eve's group, Finn's protection, Gus's email.
    assert_eq!(
        (
            f.holders,
            f.inactive,
            f.unknown_yet,
            f.excluded,
            f.candidates,
            f.reclaimable_seats
        ),
        (9, 8, 0, 4, 4, 4)
    );
    assert_eq!(
        f.monthly_savings,
        Some(Money {
            amount: "34.40".into(),
            currency: "USD".into()
        })
    );
    let (id, reclaims) = plan(&p);
    assert_eq!(
        reclaims,
        vec![
            (
                "ben@example.com".to_string(),
                strings(&["jira-software-users", "jira-testers"])
            ),
            (
                "jay@example.com".to_string(),
                strings(&["jira-software-users"])
            ),
            (
                "cara@example.com".to_string(),
                strings(&["jira-software-users"])
            ),
        ]
    );
    assert_eq!(id.len(), 12);
    assert_eq!(reason(&p, "ActivitySignal"), "False/WritesOnly");
    assert_eq!(reason(&p, "Execution"), "False/DryRun");

    let long = w.evaluated("long").await;
    let f = &long.status.as_ref().unwrap().products[0];
    // Ana, Cara and Dan wrote within 120 days; the six others are unknown yet.
    assert_eq!((f.holders, f.unknown_yet, f.candidates), (9, 6, 0));
    assert!(long.status.as_ref().unwrap().plan.is_none());

    let grace = w.evaluated("grace").await;
    let f = &grace.status.as_ref().unwrap().products[0];
    // Without the reclaim policy's exclusions, only the own account and the protected Finn are kept.
    assert_eq!((f.inactive, f.excluded, f.candidates), (8, 2, 6));

    // The report shows what the policies would reclaim: the largest figure, the grace policy's 6.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jira-cloud-operator"))
        .args(["report", "-n", &w.env.namespace, "acme", "-o", "json"])
        .env("KUBECONFIG", testkit::plane::shared().kubeconfig_path())
        .output()
        .expect("the report runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON rows");
    let software = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["product"] == "jira-software")
        .expect("a Jira Software row");
    assert_eq!(software["reclaimableByPolicy"], 6, "{rows}");

    // Kim gets Jira Software after the first sync: new, so spared by the grace period only.
    w.sim.with_state(|st| {
        let g = st
            .group_ref(None, Some("jira-software-users"))
            .expect("the group");
        let u = st.user_ref("kim@example.com").expect("Kim");
        st.add_member(g, u);
    });
    // DryRun: a sync later, still nothing written to Jira and no JiraAction.
    w.resync().await;
    let grace = w
        .wait_policy("grace", "Kim as a new holder", |p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.products[0].holders == 10)
        })
        .await;
    let f = &grace.status.as_ref().unwrap().products[0];
    assert_eq!((f.inactive, f.excluded, f.candidates), (9, 3, 6));
    w.wait_policy("reclaim", "Kim as a candidate", |p| {
        candidates(p).contains(&"kim@example.com".to_string())
    })
    .await;
    assert_eq!(w.writes(), Vec::<String>::new());
    assert!(w.actions().await.is_empty());
    w.stop().await;
}

#[tokio::test]
async fn an_approved_plan_removes_exactly_its_users_from_the_products_groups() {
    let mut w = World::start("policy-approve", SITE, HISTORY_DAYS).await;
    w.protect("finn@example.com").await;
    w.policy(
        "reclaim",
        &format!("{POLICY}, mode: Approval, summaryIssue: {{project: ENG, issueType: Task}}"),
    )
    .await;
    let p = w.evaluated("reclaim").await;
    let (approved, _) = plan(&p);
    assert_eq!(reason(&p, "Execution"), "False/WaitingForApproval");

    // Jay is active again before the approval lands: the plan moves on, the approved one stays approvable.
    w.comment_now("jay@example.com").await;
    w.restart().await;
    w.resync().await;
    let now = strings(&["ben@example.com", "cara@example.com", "dan@example.com"]);
    let p = w
        .wait_policy("reclaim", "Jay active again", |p| {
            p.status.is_some() && candidates(p) == now
        })
        .await;
    assert_eq!(
        p.status
            .as_ref()
            .unwrap()
            .previous_plan
            .as_ref()
            .map(|p| p.id.clone()),
        Some(approved.clone())
    );
    w.sim.clear_received_requests();
    w.patch_policy("reclaim", serde_json::json!({"approvedPlan": approved}))
        .await;
    let p = w
        .wait_policy("reclaim", "the run to finish", |p| {
            p.status
                .as_ref()
                .and_then(|s| s.last_run.as_ref())
                .is_some_and(|r| r.finished)
        })
        .await;
    let run = p.status.as_ref().unwrap().last_run.clone().unwrap();
    assert_eq!(run.plan_id, approved);
    assert_eq!((run.reclaimed, run.skipped), (2, 1), "Jay is skipped");
    assert_eq!(run.actions.len(), 3);

    // Exactly Ben's and Cara's Jira Software groups, nothing else.
    assert_eq!(w.groups_of("ben@example.com"), Vec::<String>::new());
    assert_eq!(w.groups_of("cara@example.com"), Vec::<String>::new());
    assert_eq!(
        w.groups_of("jay@example.com"),
        strings(&["jira-software-users"])
    );
    assert_eq!(
        w.groups_of("dan@example.com"),
        strings(&["jira-servicedesk-users", "jira-software-users"])
    );
    // One summary issue lists the run.
    let summary = run.summary_action.clone().expect("a summary issue action");
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let done = w.actions().await.into_iter().any(|a| {
            kube::ResourceExt::name_any(&a) == summary
                && a.status.as_ref().and_then(|s| s.phase) == Some(ActionPhase::Succeeded)
        });
        if done {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the summary issue is never created"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        w.sim
            .with_state(|st| st.issues_with_label("license-reclaim"))
            .len(),
        1
    );
    let writes = w.writes();
    let deletes = writes.iter().filter(|r| r.starts_with("DELETE ")).count();
    let creates = writes
        .iter()
        .filter(|r| r.starts_with("POST /rest/api/3/issue"))
        .count();
    assert_eq!((deletes, creates, writes.len()), (3, 1, 4), "{writes:?}");

    // An identity provider puts Cara back before the next sync: she is not reclaimed, and says why.
    w.sim.with_state(|st| {
        let g = st
            .group_ref(None, Some("jira-software-users"))
            .expect("the group");
        let u = st.user_ref("cara@example.com").expect("Cara");
        st.add_member(g, u);
    });
    // A sync that completed within the second the last action ended may have read the groups before it:
    // only a later one decides. Status times have whole seconds, so sync until one is later.
    let checked = |p: &JiraLicensePolicy| {
        p.status
            .as_ref()
            .and_then(|s| s.last_run.as_ref())
            .is_some_and(|r| r.checked_sync_time.is_some())
    };
    let mut p = None;
    for _ in 0..5 {
        w.resync().await;
        let evaluated = w.evaluated("reclaim").await;
        if checked(&evaluated) {
            p = Some(evaluated);
            break;
        }
    }
    let p = p.expect("a sync after the run checks it");
    let run = p.status.as_ref().unwrap().last_run.clone().unwrap();
    assert_eq!(run.not_reclaimed, 1);
    assert_eq!(
        run.not_reclaimed_users[0].account_id,
        "5b10a2844c20165700ede004"
    );
    assert_eq!(run.not_reclaimed_users[0].reason, "StillHoldsProduct");
    assert!(
        run.not_reclaimed_users[0]
            .message
            .contains("jira-software-users grants it"),
        "{:?}",
        run.not_reclaimed_users[0]
    );
    // The figures moved: Ben holds no license any more.
    let f = &p.status.as_ref().unwrap().products[0];
    assert_eq!((f.holders, f.candidates), (8, 2));
    w.env.wait_warning("reclaim", "NotReclaimed").await;
    w.env.wait_event("reclaim", "Normal", "RunStarted").await;
    w.stop().await;
}

#[tokio::test]
async fn an_automatic_run_is_capped_and_a_deleted_policy_leaves_no_half_reclaimed_user() {
    let w = World::start("policy-delete", SITE, HISTORY_DAYS).await;
    w.protect("finn@example.com").await;
    // Removing a member is slow, so that the deletion comes while one of the run's actions is in flight.
    w.sim.set_faults(jira_sim::Faults {
        latency_ms: 3000,
        routes: vec!["/rest/api/3/group/user".into()],
        ..jira_sim::Faults::default()
    });
    w.policy(
        "reclaim",
        &POLICY.replace(
            "maxReclaimsPerRun: 3",
            "maxReclaimsPerRun: 2, mode: Automatic",
        ),
    )
    .await;
    let p = w
        .wait_policy("reclaim", "a run", |p| {
            p.status.as_ref().is_some_and(|s| s.last_run.is_some())
        })
        .await;
    let run = p.status.as_ref().unwrap().last_run.clone().unwrap();
    assert_eq!(run.reclaimed, 2, "maxReclaimsPerRun");
    assert_eq!(run.actions.len(), 3, "Ben's two groups and Jay's one");
    let running = |a: &jira_cloud_operator::api::JiraAction| {
        testkit::observed::attempts(a) > 0
            && !jira_cloud_operator::controller::action::lifecycle::is_finished(a.status.as_ref())
    };
    let deadline = std::time::Instant::now() + DEADLINE;
    while !w.actions().await.iter().any(running) {
        assert!(
            std::time::Instant::now() < deadline,
            "no action of the run ever started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.policies()
        .delete("reclaim", &Default::default())
        .await
        .expect("delete the policy");
    // The policy stays, being deleted, while a started action runs.
    let held = w
        .policies()
        .get_opt("reclaim")
        .await
        .unwrap()
        .expect("the policy waits for its running actions");
    assert!(held.metadata.deletion_timestamp.is_some());
    assert!(
        w.actions().await.iter().any(running),
        "an action still runs while the policy is held"
    );
    while w.policies().get_opt("reclaim").await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the policy is never released"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // No half state: each user lost all of the product's groups the plan named, or none; and the user whose
    // action had started lost them all.
    let ben = w.groups_of("ben@example.com");
    assert!(
        ben.is_empty() || ben == strings(&["jira-software-users", "jira-testers"]),
        "{ben:?}"
    );
    let jay = w.groups_of("jay@example.com");
    assert!(
        jay.is_empty() || jay == strings(&["jira-software-users"]),
        "{jay:?}"
    );
    assert!(
        ben.is_empty() || jay.is_empty(),
        "a started action runs to its end: ben {ben:?}, jay {jay:?}"
    );
    // Nothing of the policy runs on: every action left has ended.
    for a in w.actions().await {
        assert!(
            jira_cloud_operator::controller::action::lifecycle::is_finished(a.status.as_ref()),
            "{} still runs",
            kube::ResourceExt::name_any(&a)
        );
    }
    w.stop().await;
}

/// A site for the conditions test: one product, its admin and one holder.
const SMALL_SITE: &str = r#"
credentials:
  api_tokens: [{email: admin@example.com, token: classic-admin-token}]
  oauth_clients: []
groups:
  - {name: site-admins, site_admin: true}
  - {name: jira-admins, administer: true}
  - {name: jira-software-users, products: [jira-software]}
users:
  - {name: Site Admin, email: admin@example.com, groups: [site-admins, jira-admins, jira-software-users]}
  - {name: Ben, email: ben@example.com, groups: [jira-software-users]}
"#;

fn ready(p: &JiraLicensePolicy) -> Option<(String, String, String)> {
    let c = find_condition(&p.status.as_ref()?.conditions, "Ready")?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// A policy that cannot be evaluated says why, with a specific reason and a Warning Event: its connection does
/// not exist, keeps counts only (`inventory: Summary`), or lacks a product the policy names. Once the cause is
/// fixed, the policy evaluates.
#[tokio::test]
async fn a_policy_that_cannot_be_evaluated_says_why() {
    let w = World::start("policy-conditions", SMALL_SITE, 60).await;
    let mut spec = w
        .policy("unknown-product", "products: [jira-nope], inactiveDays: 14")
        .await
        .spec;
    let p = w
        .wait_policy("unknown-product", "UnknownProduct", |p| {
            ready(p).is_some_and(|r| r.1 == "UnknownProduct")
        })
        .await;
    let (status, _, message) = ready(&p).unwrap();
    assert_eq!(status, "False");
    assert!(
        message.contains("jira-nope") && message.contains("jira-software"),
        "{message}"
    );
    w.env
        .wait_warning("unknown-product", "UnknownProduct")
        .await;

    spec.connection_ref.name = "nowhere".into();
    spec.products.clear();
    w.policies()
        .create(
            &Default::default(),
            &JiraLicensePolicy::new("no-connection", spec),
        )
        .await
        .expect("create the policy");
    let p = w
        .wait_policy("no-connection", "ConnectionNotFound", |p| {
            ready(p).is_some_and(|r| r.1 == "ConnectionNotFound")
        })
        .await;
    assert!(ready(&p).unwrap().2.contains("nowhere"));
    w.env
        .wait_warning("no-connection", "ConnectionNotFound")
        .await;

    // A connection that keeps counts only has no users to reclaim.
    w.policy("summary", "inactiveDays: 14").await;
    w.evaluated("summary").await;
    let connections: Api<JiraConnection> = Api::namespaced(w.env.client.clone(), &w.env.namespace);
    connections
        .patch(
            "acme",
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({"spec": {"inventory": "Summary"}})),
        )
        .await
        .expect("patch the connection");
    let p = w
        .wait_policy("summary", "InventoryNotUsers", |p| {
            ready(p).is_some_and(|r| r.1 == "InventoryNotUsers")
        })
        .await;
    assert!(
        ready(&p).unwrap().2.contains("inventory: Users"),
        "{:?}",
        ready(&p)
    );
    // Fixed: the policy evaluates again.
    connections
        .patch(
            "acme",
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({"spec": {"inventory": "Users"}})),
        )
        .await
        .expect("patch the connection");
    w.wait_policy("summary", "Evaluated", |p| {
        ready(p).is_some_and(|r| r.1 == "Evaluated")
    })
    .await;
    w.stop().await;
}

/// With an organization the operator knows who administers the site: a site admin who never used Jira Software is
/// excluded by default and a candidate once the policy includes admins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_are_excluded_unless_the_policy_includes_them() {
    let site = SITE.replace(
        "  # No license at the first sync",
        "  # A site admin who never used Jira Software.\n  - {account_id: 5b10a2844c20165700ede013, name: Lou, \
         email: lou@example.com, groups: [site-admins, jira-software-users]}\n  # No license at the first sync",
    );
    let w = World::start_with_organization("policy-admins", &site, HISTORY_DAYS).await;
    w.policy(
        "reclaim",
        "products: [jira-software], inactiveDays: 14, graceDays: 0",
    )
    .await;
    let p = w.evaluated("reclaim").await;
    let excluded = candidates(&p);
    assert!(
        !excluded.contains(&"lou@example.com".to_string()),
        "a site admin is no candidate by default: {excluded:?}"
    );
    assert!(
        excluded.contains(&"ben@example.com".to_string()),
        "the others stay candidates: {excluded:?}"
    );
    w.patch_policy(
        "reclaim",
        serde_json::json!({"exclude": {"includeAdmins": true}}),
    )
    .await;
    let lou = "lou@example.com".to_string();
    let p = wait_for_object(&w.policies(), "reclaim", "a plan with the admin", |p| {
        p.status.is_some() && candidates(p).contains(&lou)
    })
    .await;
    let included = candidates(&p);
    assert!(
        !included.contains(&"admin@example.com".to_string()),
        "the connection's own account never: {included:?}"
    );
    assert_eq!(
        included.len(),
        excluded.len() + 1,
        "including admins adds exactly the admin: {excluded:?} then {included:?}"
    );
    w.stop().await;
}
