//! Deterministic scenario generator: the same options (seed included) always give the same scenario. The
//! accounts and the work are generated in the child modules, in a fixed order of random draws.

mod accounts;
mod work;

use super::document::Scenario;
use super::generate_options::GenerateOptions;
use crate::rng::Rng;

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
    sc.cloud_id = rng.uuid_like();
    sc.org_id = rng.uuid_like();
    sc.directory_id = rng.uuid_like();
    accounts::groups(&mut sc, &mut rng, team_count);
    let (product_members, active_flags) =
        accounts::humans(&mut sc, &mut rng, opts, humans, team_count);
    accounts::apps_and_customers(&mut sc, &mut rng, apps, customers);
    accounts::seats(&mut sc, &product_members);
    work::projects(&mut sc, project_count);
    let issue_count = work::issues(&mut sc, &mut rng, opts, humans, project_count);
    work::activity(&mut sc, &mut rng, opts, &active_flags, issue_count);
    work::deleted_worklogs(&mut sc, &mut rng, opts, humans);
    sc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::accounts::{AccountType, EmailVisibility};

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
