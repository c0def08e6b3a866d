//! The inventory as a pure function of what the sync collected and the activity it counted.

use std::collections::{HashMap, HashSet};

use super::groups::Memberships;
use super::roles::{self, AdminGroups};
use super::{
    ActivityCounts, Collected, DailyActive, Inventory, LicenseSummary, Listing, RoleCounts,
    UsageSummary, UserCounts, UserRecord, Window, role,
};
use crate::jira::time::day_number;
use crate::jira::{AdminUser, SiteInfo};
use crate::sync::SyncError;
use crate::sync::activity::ActivityStore;

/// Computes the inventory. Fails with `AllEmailsHidden` when there are humans and none shows an email.
pub fn compute(
    site: SiteInfo,
    collected: Collected,
    activity: &ActivityStore,
    window: Window,
) -> Result<Inventory, SyncError> {
    let Collected {
        users,
        roles,
        members,
        site_admin_groups,
        admin_groups,
        admin,
    } = collected;
    let listing = Listing {
        accounts: users.len() as u64,
        has_own_account: users.iter().any(|u| u.account_id == site.account_id),
    };

    let memberships = Memberships::new(&members);
    let product_groups: Vec<HashSet<u16>> =
        roles.iter().map(|r| memberships.set(&r.groups)).collect();
    let admin_groups = AdminGroups::new(&memberships, &site_admin_groups, &admin_groups);
    let admin_by_id: HashMap<&str, &AdminUser> = admin
        .as_ref()
        .map(|a| a.users.iter().map(|u| (u.account_id.as_str(), u)).collect())
        .unwrap_or_default();
    let roles_wanted = admin.is_some();

    let from = day_number(window.from);
    let to = day_number(window.to);
    let mut daily = vec![0u64; (to - from + 1) as usize];
    let mut active_humans = 0u64;
    let mut counts = UserCounts::default();
    let mut role_counts = RoleCounts::default();
    let mut used = vec![0u64; roles.len()];
    let mut active_holders = vec![0u64; roles.len()];
    let mut records = Vec::new();

    for u in users {
        if !u.is_human() {
            continue;
        }
        counts.total += 1;
        if !u.active {
            counts.deactivated += 1;
        }
        let days = activity.days_of(&u.account_id);
        let mut active_days = 0u32;
        let mut act = ActivityCounts::default();
        let mut last_in_window = None;
        for d in days.iter().filter(|d| d.day >= from && d.day <= to) {
            active_days += 1;
            daily[(d.day - from) as usize] += 1;
            act.comments += d.comments as u64;
            act.changelog += d.changelog as u64;
            act.worklogs += d.worklogs as u64;
            last_in_window = Some(d.day);
        }
        if active_days > 0 {
            active_humans += 1;
        }
        let Some(email) = u.visible_email().map(str::to_owned) else {
            counts.hidden_email += 1;
            continue;
        };
        counts.synced += 1;

        let my_groups = memberships.groups_of(&u.account_id);
        // Product access: any group of the product; a deactivated account holds no license; Jira Core is
        // implied by the other products.
        let mut held: Vec<usize> = if u.active {
            product_groups
                .iter()
                .enumerate()
                .filter(|(_, gs)| my_groups.iter().any(|g| gs.contains(g)))
                .map(|(i, _)| i)
                .collect()
        } else {
            Vec::new()
        };
        if held.iter().any(|&i| !roles[i].platform) {
            held.retain(|&i| !roles[i].platform);
        }
        for &i in &held {
            used[i] += 1;
            if active_days > 0 {
                active_holders[i] += 1;
            }
        }
        let mut products: Vec<String> = held.iter().map(|&i| roles[i].key.clone()).collect();
        products.sort();
        let mut groups: Vec<String> = my_groups
            .iter()
            .map(|&g| memberships.name(g).to_owned())
            .collect();
        groups.sort();

        let admin_user = admin_by_id.get(u.account_id.as_str());
        let user_roles = if roles_wanted {
            admin_groups.roles_of(admin_user.copied(), my_groups)
        } else {
            Vec::new()
        };
        let role = roles_wanted.then(|| {
            let r = roles::highest(&user_roles);
            *match r {
                role::ORG_ADMIN => &mut role_counts.org_admin,
                role::SITE_ADMIN => &mut role_counts.site_admin,
                role::PRODUCT_ADMIN => &mut role_counts.product_admin,
                _ => &mut role_counts.user,
            } += 1;
            r.to_owned()
        });
        let last_active_date = last_in_window
            .map(crate::jira::time::day_from_number)
            .or_else(|| activity.last_active(&u.account_id));
        records.push(UserRecord {
            account_id: u.account_id,
            display_name: u.display_name,
            email,
            active: u.active,
            products,
            groups,
            role,
            roles: user_roles,
            last_active_date,
            first_seen: None,
            product_last_active: admin_user.map(|a| a.products.clone()).unwrap_or_default(),
            active_days,
            activity: act,
        });
    }
    if counts.total > 0 && counts.synced == 0 {
        return Err(SyncError::AllEmailsHidden {
            hidden: counts.hidden_email,
        });
    }
    records.sort_by(|a, b| a.account_id.cmp(&b.account_id));

    let mut licenses: Vec<LicenseSummary> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| LicenseSummary {
            product: r.key.clone(),
            name: r.name.clone(),
            seats: r.seats,
            used: used[i],
            remaining: r.remaining,
            active_users: active_holders[i],
            inactive_users: used[i] - active_holders[i],
            groups: {
                let mut names: Vec<String> = r.groups.iter().map(|g| g.name.clone()).collect();
                names.sort();
                names
            },
        })
        .collect();
    licenses.sort_by(|a, b| a.product.cmp(&b.product));

    let usage = UsageSummary {
        window_days: window.days,
        from: window.from,
        to: window.to,
        active_users: active_humans,
        daily: daily
            .iter()
            .enumerate()
            .map(|(i, n)| DailyActive {
                date: window.from + chrono::Duration::days(i as i64),
                active_users: *n,
            })
            .collect(),
    };
    Ok(Inventory {
        site,
        listing,
        users: counts,
        roles: roles_wanted.then_some(role_counts),
        licenses,
        usage,
        records,
    })
}

#[cfg(test)]
mod tests {
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
            account_type: kind.into(),
            email: email.map(str::to_owned),
            display_name: id.to_uppercase(),
            active,
        }
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

    fn members(name: &str, ids: &[&str]) -> (GroupRef, Vec<String>) {
        (group(name), ids.iter().map(|s| s.to_string()).collect())
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
        assert_eq!(a.products, vec!["jira-software"]);
        assert_eq!(a.groups, vec!["core-users", "site-admins", "sw-users"]);
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
        assert_eq!(b.products, vec!["jira-servicedesk"]);
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
        assert_eq!(inv.records[0].products, vec!["jira-core"]);
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
}
