use super::*;
use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn time(s: &str) -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(at(s).timestamp()).unwrap())
}

fn site() -> Site {
    Site {
        evidence: Evidence {
            now: at("2026-12-07T10:00:00Z"),
            first_sync_time: Some(at("2026-10-01T02:00:00Z")),
            usage_window_days: 30,
            organization: false,
            history_from: None,
        },
        own_account: Some("own".into()),
        product_groups: BTreeMap::from([
            (
                "jira-software".to_string(),
                vec![
                    "sw-users".to_string(),
                    "sw-testers".to_string(),
                    "all-products".to_string(),
                ],
            ),
            (
                "jira-servicedesk".to_string(),
                vec!["jsm-agents".to_string(), "all-products".to_string()],
            ),
        ]),
    }
}

fn rules() -> Rules {
    Rules {
        products: vec!["jira-software".into()],
        inactive_days: 30,
        grace_days: 14,
        max_per_run: 10,
        ..Rules::default()
    }
}

fn holder(id: &str, last: Option<&str>) -> Holder {
    Holder {
        status: JiraUserStatus {
            account_id: id.into(),
            email: format!("{id}@example.com"),
            account_active: true,
            products: vec!["jira-software".into()],
            groups: vec!["sw-users".into()],
            first_seen_time: Some(time("2026-10-01T02:00:00Z")),
            last_active_date: last.map(str::to_owned),
            ..JiraUserStatus::default()
        },
        protected: false,
    }
}

fn ids(e: &Evaluation) -> Vec<&str> {
    e.candidates.iter().map(|c| c.account_id.as_str()).collect()
}

#[test]
fn candidates_come_longest_inactive_first() {
    let holders = vec![
        holder("b", Some("2026-10-02")),
        holder("active", Some("2026-12-01")),
        holder("c", None),
        holder("a", Some("2026-10-02")),
        holder("d", Some("2026-09-15")),
    ];
    let e = evaluate(&holders, &site(), &rules());
    assert_eq!(ids(&e), ["c", "d", "a", "b"]);
    let f = &e.products[0];
    assert_eq!(
        (
            f.holders,
            f.inactive,
            f.unknown_yet,
            f.excluded,
            f.candidates,
            f.reclaimable_seats
        ),
        (5, 4, 0, 0, 4, 4)
    );
}

#[test]
fn exclusions_keep_inactive_holders() {
    let own = holder("own", None);
    let mut protected = holder("protected", None);
    protected.protected = true;
    let by_id = holder("by-id", None);
    let mut by_email = holder("by-email", None);
    by_email.status.email = "CEO@Example.com".into();
    let mut in_group = holder("in-group", None);
    in_group.status.groups.push("jira-administrators".into());
    let mut admin = holder("admin", None);
    admin.status.roles = vec!["site-admin".into()];
    let mut new = holder("new", None);
    new.status.first_seen_time = Some(time("2026-12-01T02:00:00Z"));
    let mut old_enough = holder("old-enough", None);
    old_enough.status.first_seen_time = Some(time("2026-11-01T02:00:00Z"));
    let plain = holder("plain", None);
    let holders = vec![
        own, protected, by_id, by_email, in_group, admin, new, old_enough, plain,
    ];
    let mut r = rules();
    r.exclude_accounts.insert("by-id".into());
    r.exclude_emails.insert("ceo@example.com".into());
    r.exclude_groups.insert("jira-administrators".into());
    let e = evaluate(&holders, &site(), &r);
    assert_eq!(ids(&e), ["old-enough", "plain"]);
    assert_eq!(e.products[0].excluded, 7);
    assert_eq!(e.products[0].inactive, 9);

    r.include_admins = true;
    let e = evaluate(&holders, &site(), &r);
    assert_eq!(ids(&e), ["admin", "old-enough", "plain"]);
}

#[test]
fn holders_present_at_the_first_sync_are_not_new() {
    // A fresh install: the first sync was an hour ago and every holder was seen by it.
    let mut s = site();
    s.evidence.first_sync_time = Some(at("2026-12-07T09:00:00Z"));
    let mut h = holder("x", None);
    h.status.first_seen_time = Some(time("2026-12-07T09:00:00Z"));
    let e = evaluate(&[h], &s, &rules());
    assert_eq!(ids(&e), ["x"]);
}

#[test]
fn unknown_yet_is_never_a_candidate() {
    // 30 days of history before a first sync on 2026-11-20 reach back to 2026-10-22: not 60 days.
    let mut s = site();
    s.evidence.first_sync_time = Some(at("2026-11-20T02:00:00Z"));
    let mut r = rules();
    r.inactive_days = 60;
    let e = evaluate(&[holder("x", None)], &s, &r);
    assert!(e.candidates.is_empty());
    assert!(e.plan.is_none());
    assert_eq!(e.products[0].unknown_yet, 1);
    assert_eq!(e.products[0].inactive, 0);
}

#[test]
fn the_plan_is_the_first_candidates_and_its_id_hashes_exactly_them() {
    let holders: Vec<Holder> = (0..25).map(|i| holder(&format!("u{i:02}"), None)).collect();
    let mut r = rules();
    r.max_per_run = 3;
    let e = evaluate(&holders, &site(), &r);
    let plan = e.plan.clone().unwrap();
    let planned: Vec<&str> = plan
        .reclaims
        .iter()
        .map(|x| x.account_id.as_str())
        .collect();
    assert_eq!(planned, ["u00", "u01", "u02"]);
    assert_eq!(plan.id, plan_id(&plan.reclaims));
    // Same list, same id; one more user, another id.
    assert_eq!(evaluate(&holders, &site(), &r).plan.unwrap().id, plan.id);
    r.max_per_run = 4;
    assert_ne!(evaluate(&holders, &site(), &r).plan.unwrap().id, plan.id);
    // Candidates beyond the plan are still counted.
    assert_eq!(e.products[0].candidates, 25);
}

#[test]
fn only_the_groups_of_the_reclaimed_product_are_left() {
    let mut h = holder("x", None);
    h.status.products = vec!["jira-software".into(), "jira-servicedesk".into()];
    h.status.groups = vec![
        "sw-users".into(),
        "sw-testers".into(),
        "jsm-agents".into(),
        "devs".into(),
    ];
    let e = evaluate(&[h.clone()], &site(), &rules());
    let plan = e.plan.unwrap();
    assert_eq!(plan.reclaims.len(), 1);
    assert_eq!(plan.reclaims[0].groups, ["sw-users", "sw-testers"]);

    // A group that also grants a product the user keeps is not left; with no other group, no candidate.
    h.status.groups = vec!["all-products".into()];
    let e = evaluate(&[h], &site(), &rules());
    assert!(e.plan.is_none());
    assert_eq!(e.products[0].excluded, 1);
}

#[test]
fn every_product_when_none_is_named() {
    let mut h = holder("x", None);
    h.status.products = vec!["jira-software".into(), "jira-servicedesk".into()];
    h.status.groups = vec!["sw-users".into(), "jsm-agents".into()];
    let mut r = rules();
    r.products.clear();
    let e = evaluate(&[h], &site(), &r);
    assert_eq!(
        e.candidates[0].products,
        ["jira-servicedesk", "jira-software"]
    );
    let plan = e.plan.unwrap();
    assert_eq!(plan.reclaims.len(), 2);
    assert_eq!(e.products.len(), 2);
}

#[test]
fn savings_multiply_the_seat_price() {
    let holders: Vec<Holder> = (0..111).map(|i| holder(&format!("u{i}"), None)).collect();
    let mut r = rules();
    r.seat_price.insert(
        "jira-software".into(),
        Money {
            amount: "8.60".into(),
            currency: "USD".into(),
        },
    );
    let e = evaluate(&holders, &site(), &r);
    assert_eq!(
        e.products[0].monthly_savings,
        Some(Money {
            amount: "954.60".into(),
            currency: "USD".into()
        })
    );
}

#[test]
fn the_status_stays_small_at_fifty_thousand_users() {
    let holders: Vec<Holder> = (0..50_000)
        .map(|i| holder(&format!("5b10a2844c2016570{i:07}"), None))
        .collect();
    let mut r = rules();
    r.max_per_run = 100;
    let e = evaluate(&holders, &site(), &r);
    let (listed, truncated) = e.listed_candidates();
    assert!(truncated);
    assert_eq!(listed.len(), MAX_LISTED_CANDIDATES);
    let status = crate::api::JiraLicensePolicyStatus {
        products: e.products.clone(),
        candidates: listed,
        candidates_truncated: truncated,
        plan: e.plan.clone(),
        ..Default::default()
    };
    let size = serde_json::to_vec(&status).unwrap().len();
    assert!(size < 64 * 1024, "{size} bytes");
}
