//! Loading a scenario into the model: ids, indexes and memberships built, relative times resolved against
//! the moment of loading, and every reference of the scenario checked (a bad one is a clear error). The
//! accounts and the work of the scenario load in the child modules.

mod accounts;
mod work;

use std::collections::HashMap;

use super::{Product, State};
use crate::scenario::Scenario;

impl State {
    /// Builds the state from a scenario, resolving relative times against `now_ms`.
    pub fn from_scenario(sc: Scenario, now_ms: i64) -> Result<State, String> {
        let mut st = State {
            loaded_at_ms: now_ms,
            site_name: sc.site_name,
            cloud_id: sc.cloud_id,
            org_id: sc.org_id,
            org_name: sc.org_name,
            directory_id: sc.directory_id,
            settings: sc.settings,
            api_tokens: HashMap::new(),
            oauth_clients: Vec::new(),
            admin_keys: sc.credentials.admin_keys,
            tokens: HashMap::new(),
            token_counter: 0,
            products: sc
                .products
                .into_iter()
                .map(|p| Product {
                    key: p.key,
                    name: p.name,
                    seats: p.seats,
                    plan: p.plan,
                    default_groups: p.default_groups,
                })
                .collect(),
            groups: Vec::with_capacity(sc.groups.len()),
            group_by_id: HashMap::new(),
            group_by_name: HashMap::new(),
            users: Vec::with_capacity(sc.users.len()),
            user_by_id: HashMap::with_capacity(sc.users.len()),
            user_by_email: HashMap::with_capacity(sc.users.len()),
            listed: Vec::with_capacity(sc.users.len()),
            projects: Vec::new(),
            project_by_key: HashMap::new(),
            issues: Vec::with_capacity(sc.issues.len()),
            issue_by_key: HashMap::with_capacity(sc.issues.len()),
            comments: Vec::new(),
            changes: Vec::new(),
            worklogs: Vec::new(),
            worklog_updates: Vec::new(),
            worklog_deletions: Vec::new(),
            deleted_worklog_ids: 0,
        };
        st.load_groups(sc.groups)?;
        for (i, u) in sc.users.into_iter().enumerate() {
            st.load_user(i, u, &sc.managed_domains, now_ms)?;
        }
        st.load_projects(sc.projects)?;
        st.load_issues(sc.issues, now_ms)?;
        st.load_api_tokens(sc.credentials.api_tokens)?;
        st.load_oauth_clients(sc.credentials.oauth_clients)?;
        st.load_deleted_worklogs(sc.deleted_worklogs, now_ms);
        Ok(st)
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::{GenerateOptions, default_scenario, generate};
    use crate::state::{Perms, State};

    #[test]
    fn default_scenario_loads_with_indexes() {
        let st = State::from_scenario(default_scenario(), 1_795_773_600_000).unwrap();
        let admin = st.user_ref("admin@example.com").unwrap();
        assert!(st.perms(admin).site_admin);
        let viewer = st.user_ref("viewer@example.com").unwrap();
        assert_eq!(st.perms(viewer), Perms::default());
        assert_eq!(st.user_products(viewer), vec!["jira-software"]);
        assert_eq!(
            st.issue(st.issue_ref("ENG-1").unwrap()).status,
            "In Progress"
        );
        assert_eq!(st.issues_with_label("demo"), vec!["ENG-2".to_string()]);
        // Liam is inactive: member of jira-software-users but not counted.
        let g = st.group_ref(None, Some("jira-software-users")).unwrap();
        assert_eq!(st.groups[g as usize].members.len(), 8);
        assert_eq!(st.groups[g as usize].active_members.len(), 7);
    }

    #[test]
    fn tiny_orgs_load() {
        for users in [0, 2, 10] {
            let s = generate(&GenerateOptions {
                users,
                days: 3,
                ..GenerateOptions::default()
            });
            let st = State::from_scenario(s, 1_795_773_600_000).expect("a generated org loads");
            assert!(
                st.user_ref("admin@example.com").is_some()
                    && st.user_ref("viewer@example.com").is_some()
            );
            assert!(st.issue_count() >= 1);
        }
    }
}
