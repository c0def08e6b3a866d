//! Generated accounts: the groups, the humans (the admin, the viewer, then people with product groups,
//! teams, hidden emails and deactivated accounts), the service account, other apps, customers, and seats
//! sized to the billable users.

use std::collections::BTreeMap;

use crate::rng::Rng;
use crate::scenario::accounts::{
    AccountType, EmailVisibility, GroupSpec, UserSpec, default_products,
};
use crate::scenario::ago::Ago;
use crate::scenario::document::Scenario;
use crate::scenario::generate_options::GenerateOptions;

const FIRST: &[&str] = &[
    "Mia", "Emma", "Noah", "Liam", "Olivia", "Ava", "Lucas", "Sofia", "Ethan", "Chloe", "Hugo",
    "Lea", "Arjun", "Yuki", "Omar", "Ines", "Mateo", "Zoe", "Ivan", "Nora", "Kofi", "Amara",
    "Jonas", "Elif",
];
const LAST: &[&str] = &[
    "Krystof", "Richards", "Patel", "Chen", "Martin", "Garcia", "Muller", "Rossi", "Tanaka",
    "Okafor", "Silva", "Novak", "Larsen", "Dubois", "Kim", "Haddad", "Nguyen", "Schmidt", "Costa",
    "Ivanova",
];
const ZONES: &[&str] = &[
    "Europe/Paris",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
];
/// The groups: site and Jira admins, two granting Jira Software, one per other product, and the teams.
pub(super) fn groups(sc: &mut Scenario, rng: &mut Rng, team_count: usize) {
    let mut group = |name: String, f: &dyn Fn(&mut GroupSpec)| {
        let mut g = GroupSpec {
            name,
            id: Some(rng.uuid_like()),
            ..GroupSpec::default()
        };
        f(&mut g);
        g
    };
    sc.groups
        .push(group("site-admins".into(), &|g| g.site_admin = true));
    sc.groups
        .push(group("jira-admins".into(), &|g| g.administer = true));
    sc.groups.push(group("jira-software-users".into(), &|g| {
        g.products = vec!["jira-software".into()]
    }));
    sc.groups.push(group("jira-testers".into(), &|g| {
        g.products = vec!["jira-software".into()]
    }));
    sc.groups.push(group("jira-servicedesk-users".into(), &|g| {
        g.products = vec!["jira-servicedesk".into()]
    }));
    sc.groups
        .push(group("jira-product-discovery-users".into(), &|g| {
            g.products = vec!["jira-product-discovery".into()]
        }));
    sc.groups.push(group("jira-core-users".into(), &|g| {
        g.products = vec!["jira-core".into()]
    }));
    for t in 0..team_count {
        sc.groups.push(group(format!("team-{t:03}"), &|_| {}));
    }
}

/// The humans, each in one or two teams; returns the active billable users per product and whether each
/// human is active.
pub(super) fn humans(
    sc: &mut Scenario,
    rng: &mut Rng,
    opts: &GenerateOptions,
    humans: usize,
    team_count: usize,
) -> (BTreeMap<&'static str, usize>, Vec<bool>) {
    let mut product_members: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut active_flags = Vec::with_capacity(humans);
    for i in 0..humans {
        let (mut u, groups) = person(i, rng, opts, humans);
        let mut names: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        let t1 = rng.below(team_count as u64);
        names.push(format!("team-{t1:03}"));
        if rng.chance(0.3) {
            let t2 = rng.below(team_count as u64);
            if t2 != t1 {
                names.push(format!("team-{t2:03}"));
            }
        }
        if u.active {
            count_products(&groups, &mut product_members);
        }
        u.groups = names;
        u.added_to_org = Some(Ago::Days {
            days: 60 + rng.below(900) as u32,
            secs: rng.office_time(),
        });
        active_flags.push(u.active);
        sc.users.push(u);
    }
    (product_members, active_flags)
}

/// Human `i` with the product and admin groups it is in: 0 is the admin, 1 the viewer.
fn person(
    i: usize,
    rng: &mut Rng,
    opts: &GenerateOptions,
    humans: usize,
) -> (UserSpec, Vec<&'static str>) {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let mut u = UserSpec {
        account_id: Some(format!("5f{:06x}{:016x}", i, rng.next_u64())),
        name: if i < 2 {
            String::new()
        } else {
            format!("{first} {last} {i}")
        },
        time_zone: Some(ZONES[rng.below(ZONES.len() as u64) as usize].into()),
        ..UserSpec::default()
    };
    let mut groups: Vec<&str> = Vec::new();
    match i {
        0 => {
            u.name = "Site Admin".into();
            u.email = Some("admin@example.com".into());
            u.org_admin = true;
            groups.extend([
                "site-admins",
                "jira-admins",
                "jira-software-users",
                "jira-servicedesk-users",
            ]);
        }
        1 => {
            u.name = "Viewer Only".into();
            u.email = Some("viewer@example.com".into());
            groups.push("jira-software-users");
        }
        _ => {
            let domain = if rng.chance(opts.unmanaged_share) {
                "contractor.example.org"
            } else {
                "example.com"
            };
            u.email = Some(format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                i,
                domain
            ));
            let r = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            if r < opts.hidden_email_share {
                u.email_visibility = EmailVisibility::Hidden;
            } else if r < opts.hidden_email_share + opts.null_email_share {
                u.email_visibility = EmailVisibility::Null;
            }
            u.active = !rng.chance(opts.inactive_share);
            if rng.chance(0.8) {
                groups.push("jira-software-users");
            }
            if rng.chance(0.1) {
                groups.push("jira-testers");
            }
            if rng.chance(0.2) {
                groups.push("jira-servicedesk-users");
            }
            if rng.chance(0.1) {
                groups.push("jira-product-discovery-users");
            }
            if rng.chance(0.05) {
                groups.push("jira-core-users");
            }
            if i < 2 + humans / 100 {
                groups.push("jira-admins");
            }
        }
    }
    (u, groups)
}

/// Counts an active human in each product its groups grant (Jira itself comes with any product).
fn count_products(groups: &[&'static str], product_members: &mut BTreeMap<&'static str, usize>) {
    let mut seen: Vec<&str> = Vec::new();
    for g in groups {
        let product = match *g {
            "jira-software-users" | "jira-testers" => "jira-software",
            "jira-servicedesk-users" => "jira-servicedesk",
            "jira-product-discovery-users" => "jira-product-discovery",
            "jira-core-users" => "jira-core",
            _ => continue,
        };
        if !seen.contains(&product) {
            seen.push(product);
            *product_members.entry(product).or_default() += 1;
        }
    }
    if !seen.is_empty() {
        *product_members.entry("jira-core").or_default() +=
            usize::from(!seen.contains(&"jira-core"));
    }
}

/// The service account of the OAuth client, other app accounts and customers.
pub(super) fn apps_and_customers(sc: &mut Scenario, rng: &mut Rng, apps: usize, customers: usize) {
    sc.users.push(UserSpec {
        account_id: Some("712020:5c1f0000-0000-4000-8000-00000000a001".into()),
        name: "sim-service-account".into(),
        account_type: AccountType::App,
        app_type: Some("service".into()),
        groups: vec![
            "site-admins".into(),
            "jira-admins".into(),
            "jira-software-users".into(),
        ],
        ..UserSpec::default()
    });
    for a in 0..apps {
        sc.users.push(UserSpec {
            account_id: Some(format!("712020:{}", rng.uuid_like())),
            name: format!("app-bot-{a}"),
            account_type: AccountType::App,
            app_type: if a % 2 == 0 {
                Some("service".into())
            } else {
                None
            },
            ..UserSpec::default()
        });
    }
    for c in 0..customers {
        sc.users.push(UserSpec {
            account_id: Some(format!("qm:{}:customer", rng.uuid_like())),
            name: format!("Customer {c}"),
            email: Some(format!("customer{c}@client.example.net")),
            account_type: AccountType::Customer,
            ..UserSpec::default()
        });
    }
}

/// Seats: billable users rounded up to the next ten, plus ten.
pub(super) fn seats(sc: &mut Scenario, product_members: &BTreeMap<&'static str, usize>) {
    for p in &mut sc.products {
        let used = product_members.get(p.key.as_str()).copied().unwrap_or(0);
        p.seats = Some(((used / 10) + 2) as u32 * 10);
    }
    debug_assert_eq!(sc.products.len(), default_products().len());
}
