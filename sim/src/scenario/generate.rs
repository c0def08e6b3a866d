//! Deterministic scenario generator: the same options (seed included) always give the same scenario.

use std::collections::BTreeMap;

use super::accounts::{AccountType, EmailVisibility, GroupSpec, UserSpec, default_products};
use super::ago::Ago;
use super::document::Scenario;
use super::generate_options::GenerateOptions;
use super::work::{
    ChangeSpec, CommentSpec, DeletedWorklogSpec, IssueSpec, ProjectSpec, WorklogSpec,
};
use crate::rng::Rng;

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
const PROJECT_KEYS: &[&str] = &[
    "ENG", "OPS", "SUP", "WEB", "MOB", "DATA", "QA", "FIN", "HR", "MKT", "SEC", "INFRA", "DOC",
    "PLAT", "CRM",
];
const ZONES: &[&str] = &[
    "Europe/Paris",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
];
const STATUSES: &[&str] = &["To Do", "In Progress", "In Review", "Done"];

fn uuid_like(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

fn clock(rng: &mut Rng) -> u32 {
    // Office hours, 07:00 to 19:59 UTC.
    7 * 3600 + rng.below(13 * 3600) as u32
}

/// Generates an organisation deterministically from `opts`.
///
/// Layout: human 0 is `admin@example.com` (site admin, Jira admin, org admin), human 1 is
/// `viewer@example.com` (product access only); the app account `sim-service-account` backs the OAuth
/// client. Groups: `site-admins`, `jira-admins`, two groups granting Jira Software
/// (`jira-software-users`, `jira-testers`), one per other product, and team groups. Deactivated users
/// keep their groups. Activity is spread over `opts.days` days for a share of the active humans.
pub fn generate(opts: &GenerateOptions) -> Scenario {
    let mut rng = Rng::new(opts.seed);
    let humans = opts.users.max(2);
    let apps = opts.app_accounts.unwrap_or(2 + humans / 200);
    let customers = opts.customer_accounts.unwrap_or(humans / 20);
    let project_count = opts.projects.unwrap_or((humans / 500).clamp(2, 50)).max(1);
    let team_count = (humans / 50).clamp(3, 200);

    let mut sc = Scenario {
        site_name: "acme".into(),
        ..Scenario::default()
    };
    sc.cloud_id = uuid_like(&mut rng);
    sc.org_id = uuid_like(&mut rng);
    sc.directory_id = uuid_like(&mut rng);

    let mut group = |name: String, f: &dyn Fn(&mut GroupSpec)| {
        let mut g = GroupSpec {
            name,
            id: Some(uuid_like(&mut rng)),
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

    // Humans.
    let mut product_members: BTreeMap<&str, usize> = BTreeMap::new();
    let mut active_flags = Vec::with_capacity(humans);
    for i in 0..humans {
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
            let mut seen: Vec<&str> = Vec::new();
            for g in &groups {
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
        u.groups = names;
        u.added_to_org = Some(Ago::Days {
            days: 60 + rng.below(900) as u32,
            secs: clock(&mut rng),
        });
        active_flags.push(u.active);
        sc.users.push(u);
    }

    // Service account for the OAuth client, other apps, customers.
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
            account_id: Some(format!("712020:{}", uuid_like(&mut rng))),
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
            account_id: Some(format!("qm:{}:customer", uuid_like(&mut rng))),
            name: format!("Customer {c}"),
            email: Some(format!("customer{c}@client.example.net")),
            account_type: AccountType::Customer,
            ..UserSpec::default()
        });
    }

    // Seats: billable users rounded up to the next ten, plus ten.
    for p in &mut sc.products {
        let used = product_members.get(p.key.as_str()).copied().unwrap_or(0);
        p.seats = Some(((used / 10) + 2) as u32 * 10);
    }
    debug_assert_eq!(sc.products.len(), default_products().len());

    // Projects.
    for p in 0..project_count {
        let key = match PROJECT_KEYS.get(p) {
            Some(k) => k.to_string(),
            None => format!("P{p}"),
        };
        sc.projects.push(ProjectSpec {
            name: format!("Project {key}"),
            type_key: Some(if p % 3 == 2 { "business" } else { "software" }.into()),
            key,
            ..Default::default()
        });
    }

    // Issues, created before the activity window.
    let issue_count = ((humans as f64) * opts.issues_per_user).round().max(1.0) as usize;
    let mut numbers = vec![0u64; project_count];
    for n in 0..issue_count {
        let p = rng.below(project_count as u64) as usize;
        numbers[p] += 1;
        let reporter = rng.below(humans as u64) as usize;
        sc.issues.push(IssueSpec {
            number: Some(numbers[p]),
            project: sc.projects[p].key.clone(),
            issue_type: ["Task", "Bug", "Story"][n % 3].into(),
            summary: format!("Generated issue {n}"),
            reporter: sc.users[reporter].account_id.clone(),
            assignee: None,
            created: Ago::Days {
                days: opts.days + 1 + rng.below(365) as u32,
                secs: clock(&mut rng),
            },
            labels: if n % 10 == 0 {
                vec!["generated".into()]
            } else {
                Vec::new()
            },
            ..IssueSpec::default()
        });
    }

    // Activity.
    let chance = opts.daily_activity_chance;
    let max_actions = opts.max_actions_per_day.max(1) as u64;
    for (i, active) in active_flags.iter().enumerate() {
        if !active || !rng.chance(opts.active_share) {
            continue;
        }
        let who = sc.users[i].account_id.clone();
        let mut latest: Option<Ago> = None;
        for day in (0..opts.days).rev() {
            if !rng.chance(chance) {
                continue;
            }
            let actions = 1 + rng.below(max_actions);
            for _ in 0..actions {
                let at = Ago::Days {
                    days: day,
                    secs: clock(&mut rng),
                };
                latest = Some(match latest {
                    Some(Ago::Days { days, secs }) if days == day && secs > at_secs(at) => {
                        Ago::Days { days, secs }
                    }
                    _ => at,
                });
                let issue = &mut sc.issues[rng.below(issue_count as u64) as usize];
                match rng.below(10) {
                    0..=4 => {
                        let edited = day > 0 && rng.chance(0.1);
                        issue.comments.push(CommentSpec {
                            author: who.clone(),
                            created: at,
                            updated: edited.then(|| Ago::Days {
                                days: day - 1,
                                secs: at_secs(at),
                            }),
                            update_author: None,
                            body: None,
                        });
                    }
                    5..=7 => {
                        let s = rng.below(STATUSES.len() as u64 - 1) as usize;
                        issue.changelog.push(ChangeSpec {
                            author: who.clone(),
                            at,
                            field: "status".into(),
                            from: Some(STATUSES[s].into()),
                            to: Some(STATUSES[s + 1].into()),
                        });
                    }
                    _ => issue.worklogs.push(WorklogSpec {
                        author: who.clone(),
                        created: at,
                        updated: None,
                        update_author: None,
                        started: None,
                        seconds: 900 * (1 + rng.below(16)),
                    }),
                }
            }
        }
        let u = &mut sc.users[i];
        let product = if u
            .groups
            .iter()
            .any(|g| g == "jira-software-users" || g == "jira-testers")
        {
            "jira-software"
        } else {
            "jira-core"
        };
        if let Some(at) = latest {
            u.last_active.insert(product.into(), at);
        }
    }
    // Chronological order of activity within each issue.
    for issue in &mut sc.issues {
        issue
            .comments
            .sort_by_key(|c| std::cmp::Reverse(ago_key(c.created)));
        issue
            .changelog
            .sort_by_key(|c| std::cmp::Reverse(ago_key(c.at)));
        issue
            .worklogs
            .sort_by_key(|w| std::cmp::Reverse(ago_key(w.created)));
    }
    for _ in 0..(humans / 100).max(1) {
        sc.deleted_worklogs.push(DeletedWorklogSpec {
            at: Ago::Days {
                days: rng.below(opts.days.max(1) as u64) as u32,
                secs: clock(&mut rng),
            },
        });
    }
    sc
}

fn at_secs(a: Ago) -> u32 {
    match a {
        Ago::Days { secs, .. } => secs,
        Ago::Secs(_) => 0,
    }
}

/// Seconds before "today 24:00" — larger is older.
fn ago_key(a: Ago) -> i64 {
    match a {
        Ago::Days { days, secs } => days as i64 * 86_400 + (86_400 - secs as i64),
        Ago::Secs(s) => s as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        let o = GenerateOptions {
            users: 50,
            ..GenerateOptions::default()
        };
        assert_eq!(generate(&o), generate(&o));
        let s = generate(&o);
        assert_eq!(
            Scenario::from_yaml(&s.to_yaml()).unwrap(),
            s,
            "the file format round-trips"
        );
        let other = generate(&GenerateOptions {
            seed: 7,
            ..o.clone()
        });
        assert_ne!(other, generate(&o));
    }

    #[test]
    fn shapes_and_counts() {
        let o = GenerateOptions {
            users: 400,
            hidden_email_share: 0.25,
            ..GenerateOptions::default()
        };
        let s = generate(&o);
        let humans = s
            .users
            .iter()
            .filter(|u| u.account_type == AccountType::Atlassian)
            .count();
        assert_eq!(humans, 400);
        let hidden = s
            .users
            .iter()
            .filter(|u| u.email_visibility == EmailVisibility::Hidden)
            .count();
        assert!((50..150).contains(&hidden), "hidden = {hidden}");
        assert_eq!(s.issues.len(), 800);
        assert!(
            s.users
                .iter()
                .any(|u| u.account_type == AccountType::Customer)
        );
        assert!(
            s.users
                .iter()
                .any(|u| u.app_type.as_deref() == Some("service"))
        );
        assert!(s.users.iter().any(|u| !u.active && !u.groups.is_empty()));
        let comments: usize = s.issues.iter().map(|i| i.comments.len()).sum();
        assert!(comments > 100, "comments = {comments}");
    }
}
