//! The scenario document: the site and org identity, credentials, behaviour switches and the lists of
//! accounts and work, with the bundled default scenario.

use serde::{Deserialize, Serialize};

use super::accounts::{GroupSpec, ProductSpec, UserSpec, default_products};
use super::credentials::Credentials;
use super::work::{DeletedWorklogSpec, IssueSpec, ProjectSpec};

/// The YAML of the default scenario (also an example of the file format).
pub const DEFAULT_SCENARIO_YAML: &str = include_str!("../../scenarios/default.yaml");

/// The documented default scenario: a small org with the documented credentials.
pub fn default_scenario() -> Scenario {
    Scenario::from_yaml(DEFAULT_SCENARIO_YAML).expect("the bundled default scenario is valid")
}

/// A whole simulated organisation: one Jira site, its org in the Admin API, users, groups, products,
/// projects, issues and their activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Site name: `<site_name>.atlassian.net` is shown in Admin API payloads.
    pub site_name: String,
    /// The cloudId of the site (the gateway prefix is `/ex/jira/{cloud_id}`).
    pub cloud_id: String,
    /// Organisation id for the Admin API.
    pub org_id: String,
    /// Organisation name.
    pub org_name: String,
    /// Directory id for the Admin API v2.
    pub directory_id: String,
    /// Email domains verified by the org: accounts with these domains are "managed".
    pub managed_domains: Vec<String>,
    /// Credentials accepted by the simulator.
    pub credentials: Credentials,
    /// Behaviour switches.
    pub settings: Settings,
    /// Products (application roles) with seats and plans.
    pub products: Vec<ProductSpec>,
    /// Groups (with the access they grant).
    pub groups: Vec<GroupSpec>,
    /// Accounts of every type.
    pub users: Vec<UserSpec>,
    /// Projects.
    pub projects: Vec<ProjectSpec>,
    /// Issues with their comments, changelog and worklogs.
    pub issues: Vec<IssueSpec>,
    /// Worklogs deleted (reported by `worklog/deleted`).
    pub deleted_worklogs: Vec<DeletedWorklogSpec>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            site_name: "acme".into(),
            cloud_id: "0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d".into(),
            org_id: "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f".into(),
            org_name: "Acme".into(),
            directory_id: "d1e2c3b4-a5f6-4e7d-9c8b-7a6f5e4d3c2b".into(),
            managed_domains: vec!["example.com".into()],
            credentials: Credentials::default(),
            settings: Settings::default(),
            products: default_products(),
            groups: Vec::new(),
            users: Vec::new(),
            projects: Vec::new(),
            issues: Vec::new(),
            deleted_worklogs: Vec::new(),
        }
    }
}

impl Scenario {
    /// Parses a scenario from YAML (JSON is YAML too).
    pub fn from_yaml(text: &str) -> Result<Scenario, String> {
        serde_yaml_ng::from_str(text).map_err(|e| format!("invalid scenario: {e}"))
    }

    /// Reads a scenario file (YAML or JSON).
    pub fn from_file(path: &std::path::Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read scenario {}: {e}", path.display()))?;
        Scenario::from_yaml(&text)
    }

    /// Serialises the scenario to YAML.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).expect("a scenario always serialises")
    }
}

/// Behaviour switches where Jira's behaviour is undocumented or varies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// What `POST /group/user` answers when the user already is a member: 201 (`ok`) or 400 (`error`).
    pub already_member: AlreadyMember,
    /// Message of the 400 when deleting a user who reported issues; `{name}` and `{count}` are replaced.
    pub delete_reporter_message: String,
    /// Issues created through the API stay invisible to `search/jql` for this many seconds unless listed in
    /// `reconcileIssues` (eventual consistency).
    pub search_lag_secs: u64,
    /// `false` = the org is on the original user-management experience: directory/v2 endpoints answer
    /// `ADMIN-400-4`.
    pub new_user_management: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            already_member: AlreadyMember::Ok,
            delete_reporter_message:
                "Cannot delete user '{name}' because they have reported {count} issue(s).".into(),
            search_lag_secs: 0,
            new_user_management: true,
        }
    }
}

/// Answer to adding a user to a group they are already in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlreadyMember {
    /// 201 with the group, as if added.
    Ok,
    /// 400 ErrorCollection "… is already a member …".
    Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_parses_and_round_trips() {
        let s = default_scenario();
        assert!(s.users.len() >= 5);
        let again = Scenario::from_yaml(&s.to_yaml()).unwrap();
        assert_eq!(again, s);
    }
}
