//! Unit tests of the inventory computation.

use super::*;
use crate::error::Classify;
use crate::jira::{AdminUsers, ApplicationRole, GroupRef, JiraUser, ProductUse};
use chrono::{TimeZone, Utc};
use url::Url;

use crate::sync::activity::EventKind;

fn site() -> SiteInfo {
    let url = Url::parse("https://acme.atlassian.net/").unwrap();
    SiteInfo {
        site_url: url.clone(),
        cloud_id: "c".into(),
        deployment_type: "Cloud".into(),
        base_url: url,
        via_gateway: false,
        account_id: "me".into(),
        display_name: "Me".into(),
    }
}

fn user(id: &str, kind: &str, email: Option<&str>, active: bool) -> JiraUser {
    JiraUser {
        account_id: id.into(),
        account_type: serde_json::from_value(serde_json::json!(kind)).expect("an account type"),
        email: email.map(str::to_owned),
        display_name: id.to_uppercase(),
        active,
    }
}

/// Shared names as plain strings, for comparisons.
fn names(shared: &[std::sync::Arc<str>]) -> Vec<&str> {
    shared.iter().map(|n| &**n).collect()
}

fn group(name: &str) -> GroupRef {
    GroupRef {
        group_id: Some(format!("id-{name}")),
        name: name.into(),
    }
}

fn role(key: &str, groups: &[&str], seats: i64, remaining: i64) -> ApplicationRole {
    ApplicationRole {
        key: key.into(),
        name: key.to_uppercase(),
        groups: groups.iter().map(|g| group(g)).collect(),
        seats,
        remaining,
        user_count: seats - remaining,
        unlimited: false,
        platform: key == "jira-core",
    }
}

fn members(name: &str, ids: &[&str]) -> (GroupRef, Vec<u64>) {
    (
        group(name),
        ids.iter().map(|id| crate::sync::account_key(id)).collect(),
    )
}

fn scenario() -> Collected {
    Collected {
        users: vec![
            user("a", "atlassian", Some("a@x"), true),
            user("b", "atlassian", Some("b@x"), true),
            user("c", "atlassian", None, true),
            user("d", "atlassian", Some("d@x"), false),
            user("e", "atlassian", Some(" "), true),
            user("bot", "app", Some("bot@x"), true),
            user("cust", "customer", Some("cust@x"), true),
        ],
        roles: vec![
            role("jira-software", &["sw-users"], 10, 6),
            role("jira-core", &["core-users"], 20, 15),
            role("jira-servicedesk", &["jsm-agents"], 5, 4),
        ],
        members: vec![
            members("sw-users", &["a", "c", "d", "bot"]),
            members("core-users", &["a", "b", "d"]),
            members("jsm-agents", &["b"]),
            members("site-admins", &["a"]),
        ],
        site_admin_groups: vec![group("site-admins")],
        admin_groups: vec![],
        admin: None,
    }
}

fn window() -> Window {
    Window::ending(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(), 3)
}

fn activity() -> ActivityStore {
    let mut s = ActivityStore::default();
    let t = |d, h| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
    s.add("a", t(26, 9), EventKind::Comment);
    s.add("a", t(28, 9), EventKind::Changelog);
    s.add("a", t(28, 10), EventKind::Worklog);
    s.add("c", t(27, 9), EventKind::Comment);
    s.add("bot", t(27, 9), EventKind::Changelog);
    s.add("b", t(20, 9), EventKind::Comment); // before the window
    s
}

#[test]
fn counts_users_licenses_and_usage() {
    let inv = compute(site(), scenario(), &activity(), window()).unwrap();
    assert_eq!(
        inv.users,
        UserCounts {
            total: 5,
            synced: 3,
            hidden_email: 2,
            deactivated: 1
        }
    );
    assert!(inv.roles.is_none());
    assert!(
        inv.records
            .iter()
            .all(|r| r.role.is_none() && r.roles.is_empty() && r.first_seen.is_none())
    );
    assert_eq!(inv.licenses[2].groups, ["sw-users"]);
    let lic: Vec<(&str, u64, u64, u64)> = inv
        .licenses
        .iter()
        .map(|l| (l.product.as_str(), l.used, l.active_users, l.inactive_users))
        .collect();
    // a: software (core implied), b: core + servicedesk -> servicedesk only, d: deactivated -> none.
    assert_eq!(
        lic,
        vec![
            ("jira-core", 0, 0, 0),
            ("jira-servicedesk", 1, 0, 1),
            ("jira-software", 1, 1, 0)
        ]
    );
    let sw = inv
        .licenses
        .iter()
        .find(|l| l.product == "jira-software")
        .unwrap();
    assert_eq!((sw.seats, sw.remaining), (10, 6));
    assert_eq!(
        inv.usage.from,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    );
    assert_eq!(
        inv.usage.active_users, 2,
        "a and c (hidden email) are active humans"
    );
    let daily: Vec<u64> = inv.usage.daily.iter().map(|d| d.active_users).collect();
    assert_eq!(daily, vec![1, 1, 1]);
    let ids: Vec<&str> = inv.records.iter().map(|r| r.account_id.as_str()).collect();
    assert_eq!(ids, vec!["a", "b", "d"]);
    let a = &inv.records[0];
    assert_eq!(names(&a.products), ["jira-software"]);
    assert_eq!(names(&a.groups), ["core-users", "site-admins", "sw-users"]);
    assert_eq!(a.active_days, 2);
    assert_eq!(
        a.activity,
        ActivityCounts {
            comments: 1,
            changelog: 1,
            worklogs: 1
        }
    );
    assert_eq!(
        a.last_active_date,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
    );
    let b = &inv.records[1];
    assert_eq!(names(&b.products), ["jira-servicedesk"]);
    assert_eq!(b.active_days, 0);
    assert_eq!(
        b.last_active_date,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
        "remembered from before the window"
    );
    let d = &inv.records[2];
    assert!(!d.active && d.products.is_empty());
}

#[test]
fn core_only_users_count_for_core() {
    let mut c = scenario();
    c.members = vec![members("core-users", &["a", "b"])];
    let inv = compute(site(), c, &ActivityStore::default(), window()).unwrap();
    let core = inv
        .licenses
        .iter()
        .find(|l| l.product == "jira-core")
        .unwrap();
    assert_eq!((core.used, core.inactive_users), (2, 2));
    assert_eq!(names(&inv.records[0].products), ["jira-core"]);
}

#[test]
fn roles_when_organization_configured() {
    let mut c = scenario();
    c.admin_groups = vec![("jira-servicedesk".into(), vec![group("jsm-agents")])];
    c.admin = Some(AdminUsers {
        users: vec![
            AdminUser {
                account_id: "d".into(),
                org_admin: true,
                site_admin: false,
                products: vec![ProductUse {
                    product: "jira-software".into(),
                    last_active: chrono::NaiveDate::from_ymd_opt(2026, 11, 1),
                }],
            },
            AdminUser {
                account_id: "a".into(),
                org_admin: false,
                site_admin: false,
                products: vec![],
            },
        ],
        roles_known: true,
    });
    let inv = compute(site(), c, &ActivityStore::default(), window()).unwrap();
    assert_eq!(
        inv.roles,
        Some(RoleCounts {
            org_admin: 1,
            site_admin: 1,
            product_admin: 1,
            user: 0
        })
    );
    let roles: Vec<Option<&str>> = inv.records.iter().map(|r| r.role.as_deref()).collect();
    assert_eq!(
        roles,
        vec![
            Some(role::SITE_ADMIN),
            Some(role::PRODUCT_ADMIN),
            Some(role::ORG_ADMIN)
        ]
    );
    let all: Vec<&[String]> = inv.records.iter().map(|r| r.roles.as_slice()).collect();
    assert_eq!(
        all,
        [
            &["site-admin".to_string()][..],
            &["product-admin:jira-servicedesk".to_string()][..],
            &["org-admin".to_string()][..],
        ]
    );
    assert_eq!(
        inv.records[2].product_last_active,
        vec![ProductUse {
            product: "jira-software".into(),
            last_active: chrono::NaiveDate::from_ymd_opt(2026, 11, 1),
        }]
    );
    assert!(inv.records[0].product_last_active.is_empty());
}

#[test]
fn all_hidden_fails_and_empty_site_does_not() {
    let mut c = scenario();
    for u in &mut c.users {
        u.email = None;
    }
    let err = compute(site(), c, &ActivityStore::default(), window()).unwrap_err();
    assert_eq!(err.reason(), "AllEmailsHidden");
    assert!(err.to_string().contains("all 5 users"), "{err}");
    let empty = Collected::default();
    let inv = compute(site(), empty, &ActivityStore::default(), window()).unwrap();
    assert_eq!(inv.users.total, 0);
    assert_eq!(inv.usage.daily.len(), 3);
}

#[test]
fn the_own_account_is_looked_for_among_every_account_type() {
    let listing = |own: &str| {
        let mut site = site();
        site.account_id = own.into();
        compute(site, scenario(), &ActivityStore::default(), window())
            .unwrap()
            .listing
    };
    // Basic auth: a human; a service account: an app account, which is no user.
    for own in ["a", "bot"] {
        assert_eq!(
            listing(own),
            Listing {
                accounts: 7,
                has_own_account: true
            },
            "{own}"
        );
    }
    assert!(!listing("someone-else").has_own_account);
    let empty = compute(
        site(),
        Collected::default(),
        &ActivityStore::default(),
        window(),
    )
    .unwrap();
    assert_eq!(empty.listing, Listing::default());
}

#[test]
fn window_bounds() {
    let w = Window::ending(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(), 30);
    assert_eq!(
        w.from,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 30).unwrap()
    );
    assert!(w.contains(w.to) && w.contains(w.from));
    assert!(!w.contains(w.from.pred_opt().unwrap()));
}
