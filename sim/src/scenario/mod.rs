//! Scenarios: the organisation a simulator serves, as a serde type (the YAML/JSON file format), plus a
//! deterministic generator ([`generate`]) and the documented default ([`default_scenario`]).
//!
//! Every time in a scenario is relative ([`Ago`]): it is resolved against "now" when the simulator
//! loads the scenario, so a hand-written file gives the same per-day figures on any date.

pub(crate) mod generate;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use generate::{GenerateOptions, generate};

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

/// The four Jira products of a typical Cloud site.
pub fn default_products() -> Vec<ProductSpec> {
    let p =
        |key: &str, name: &str, seats: Option<u32>, plan: Plan, default_group: &str| ProductSpec {
            key: key.into(),
            name: name.into(),
            seats,
            plan,
            default_groups: vec![default_group.into()],
        };
    vec![
        p(
            "jira-software",
            "Jira Software",
            Some(50),
            Plan::Paid,
            "jira-software-users",
        ),
        p(
            "jira-servicedesk",
            "Jira Service Management",
            Some(10),
            Plan::Paid,
            "jira-servicedesk-users",
        ),
        p(
            "jira-product-discovery",
            "Jira Product Discovery",
            Some(10),
            Plan::Free,
            "jira-product-discovery-users",
        ),
        p(
            "jira-core",
            "Jira",
            Some(100),
            Plan::Paid,
            "jira-core-users",
        ),
    ]
}

/// Credentials the simulator accepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Credentials {
    /// API tokens for Basic auth.
    pub api_tokens: Vec<ApiTokenSpec>,
    /// OAuth 2.0 client-credentials clients (service accounts).
    pub oauth_clients: Vec<OAuthClientSpec>,
    /// Admin API keys (Bearer), all valid for the scenario's org.
    pub admin_keys: Vec<String>,
}

/// The scopes of a fully privileged OAuth client / scoped token.
pub fn all_scopes() -> Vec<String> {
    [
        "read:jira-user",
        "read:jira-work",
        "write:jira-work",
        "manage:jira-configuration",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            api_tokens: vec![
                ApiTokenSpec {
                    email: "admin@example.com".into(),
                    token: "classic-admin-token".into(),
                    scopes: None,
                },
                ApiTokenSpec {
                    email: "admin@example.com".into(),
                    token: "scoped-admin-token".into(),
                    scopes: Some(all_scopes()),
                },
                ApiTokenSpec {
                    email: "viewer@example.com".into(),
                    token: "classic-viewer-token".into(),
                    scopes: None,
                },
            ],
            oauth_clients: vec![OAuthClientSpec {
                client_id: "sim-client-id".into(),
                client_secret: "sim-client-secret".into(),
                account: "sim-service-account".into(),
                scopes: all_scopes(),
            }],
            admin_keys: vec!["sim-admin-key".into()],
        }
    }
}

/// An API token of an account (Basic auth with the account's email).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenSpec {
    /// Email of the account (Basic auth user name).
    pub email: String,
    /// The token (Basic auth password).
    pub token: String,
    /// `None` = classic (unscoped) token, works on the site host and the gateway. `Some` = scoped token:
    /// gateway only (401 on the site host), limited to these scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// An OAuth client of a service account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientSpec {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// The account acting (accountId, email or display name of a user in the scenario).
    pub account: String,
    /// Scopes granted to tokens of this client.
    #[serde(default = "all_scopes")]
    pub scopes: Vec<String>,
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

/// Plan of a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Plan {
    /// No license.
    Unlicensed,
    /// Free plan.
    Free,
    /// Paid plan.
    Paid,
}

/// A product (application role).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductSpec {
    /// Key, e.g. `jira-software` (`jira-core` is the platform role).
    pub key: String,
    /// Display name.
    pub name: String,
    /// License size; `None` = unlimited seats.
    #[serde(default)]
    pub seats: Option<u32>,
    /// Plan reported by `instance/license`.
    #[serde(default = "default_plan")]
    pub plan: Plan,
    /// Groups new users get.
    #[serde(default)]
    pub default_groups: Vec<String>,
}

fn default_plan() -> Plan {
    Plan::Paid
}

/// A group and the access it grants.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupSpec {
    /// Group name.
    pub name: String,
    /// Group id; derived from the name when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Product keys this group grants access to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
    /// Site-admin access (Administer Jira, manage groups and users, browse users).
    #[serde(skip_serializing_if = "is_false")]
    pub site_admin: bool,
    /// Administer Jira (and browse users).
    #[serde(skip_serializing_if = "is_false")]
    pub administer: bool,
    /// Browse users and groups.
    #[serde(skip_serializing_if = "is_false")]
    pub browse_users: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Type of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    /// A human Atlassian account.
    #[default]
    Atlassian,
    /// An app / service account.
    App,
    /// A JSM portal customer.
    Customer,
}

impl AccountType {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Atlassian => "atlassian",
            AccountType::App => "app",
            AccountType::Customer => "customer",
        }
    }
}

/// How an account's email shows in Jira user payloads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailVisibility {
    /// `emailAddress` present.
    #[default]
    Visible,
    /// Hidden by the profile: the key is absent.
    Hidden,
    /// Hidden, written as `"emailAddress": null` (some responses do that).
    Null,
}

/// An account. `Default` is an active human with no email and no groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserSpec {
    /// accountId; derived from the position when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Email (also used by Basic auth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Visibility of the email in Jira payloads (the Admin API shows emails of managed accounts).
    #[serde(skip_serializing_if = "is_visible")]
    pub email_visibility: EmailVisibility,
    /// Account type.
    pub account_type: AccountType,
    /// `service` or `agent` for app accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_type: Option<String>,
    /// `false` = deactivated.
    #[serde(skip_serializing_if = "is_true")]
    pub active: bool,
    /// Names of the groups the account belongs to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Managed by the org; default: the email domain is one of `managed_domains`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    /// Org admin (Admin API platform role).
    #[serde(skip_serializing_if = "is_false")]
    pub org_admin: bool,
    /// When the account was added to the org (default 400 days ago).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_to_org: Option<Ago>,
    /// Last-active time per product key (Admin API last-active-dates).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub last_active: BTreeMap<String, Ago>,
}

impl Default for UserSpec {
    fn default() -> Self {
        UserSpec {
            account_id: None,
            name: String::new(),
            email: None,
            email_visibility: EmailVisibility::Visible,
            account_type: AccountType::Atlassian,
            app_type: None,
            active: true,
            groups: Vec::new(),
            time_zone: None,
            managed: None,
            org_admin: false,
            added_to_org: None,
            last_active: BTreeMap::new(),
        }
    }
}

fn is_visible(v: &EmailVisibility) -> bool {
    *v == EmailVisibility::Visible
}

/// A project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSpec {
    /// Project key, e.g. `ENG`.
    pub key: String,
    /// Name.
    pub name: String,
    /// `software`, `service_desk` or `business`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_key: Option<String>,
    /// The project's permission scheme where it differs from the default one: project permission key
    /// (`BROWSE_PROJECTS`, `CREATE_ISSUES`, `DELETE_ISSUES`, `ADMINISTER_PROJECTS`) to the groups granted it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub permissions: BTreeMap<String, Vec<String>>,
}

/// An issue with its activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IssueSpec {
    /// Issue number within its project (the key is `<project>-<number>`); next free number when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Project key.
    pub project: String,
    /// Issue type name (`Task`, `Bug`, `Story`, `Epic`, `Subtask`).
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Reporter (accountId, email or display name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    /// Assignee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Creation time.
    pub created: Ago,
    /// Labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Parent issue key (for subtasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Comments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<CommentSpec>,
    /// Changelog entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changelog: Vec<ChangeSpec>,
    /// Worklogs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worklogs: Vec<WorklogSpec>,
}

impl Default for IssueSpec {
    fn default() -> Self {
        IssueSpec {
            number: None,
            project: String::new(),
            issue_type: "Task".into(),
            summary: String::new(),
            reporter: None,
            assignee: None,
            created: Ago::Days {
                days: 60,
                secs: 9 * 3600,
            },
            labels: Vec::new(),
            parent: None,
            comments: Vec::new(),
            changelog: Vec::new(),
            worklogs: Vec::new(),
        }
    }
}

/// A comment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentSpec {
    /// Author (absent = anonymous / automation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Creation time.
    pub created: Ago,
    /// Last edit time (default: `created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Ago>,
    /// Author of the last edit (default: `author`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_author: Option<String>,
    /// Text of the comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A changelog entry (one history with one item).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeSpec {
    /// Author (absent = automation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Time of the change.
    pub at: Ago,
    /// Field id, e.g. `status`, `assignee`, `summary`, `attachment`, `labels`.
    #[serde(default = "default_field")]
    pub field: String,
    /// Old value (display string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// New value (display string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

fn default_field() -> String {
    "status".into()
}

/// A worklog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorklogSpec {
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Creation time.
    pub created: Ago,
    /// Last edit (default: `created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Ago>,
    /// Author of the last edit (default: `author`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_author: Option<String>,
    /// Work date (default: `created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Ago>,
    /// Time spent in seconds.
    #[serde(default = "default_worklog_secs")]
    pub seconds: u64,
}

fn default_worklog_secs() -> u64 {
    3600
}

/// A deleted worklog (id assigned at load).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletedWorklogSpec {
    /// Deletion time.
    pub at: Ago,
}

/// A time relative to the moment the scenario is loaded.
///
/// Written as `"3d 10:00"` (3 UTC calendar days before today, at 10:00 UTC; seconds optional, time
/// defaults to 12:00), `"0d 08:30"` (today), `"90m"` / `"5h"` / `"30s"` (that long ago) or `"now"`.
/// A time of today that lies in the future at load time is moved to two minutes ago (but stays today).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ago {
    /// A UTC calendar day and a time of day.
    Days {
        /// Days before today.
        days: u32,
        /// Seconds since midnight.
        secs: u32,
    },
    /// A duration before now, in seconds.
    Secs(u64),
}

impl Ago {
    /// Resolves to epoch milliseconds given "now".
    pub fn resolve(self, now_ms: i64) -> i64 {
        match self {
            Ago::Secs(s) => now_ms - s as i64 * 1000,
            Ago::Days { days, secs } => {
                let day0 = crate::format::start_of_day(now_ms);
                let t = day0 - days as i64 * 86_400_000 + secs as i64 * 1000;
                if t > now_ms - 120_000 {
                    (now_ms - 120_000).max(day0 - days as i64 * 86_400_000)
                } else {
                    t
                }
            }
        }
    }
}

impl fmt::Display for Ago {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ago::Secs(0) => write!(f, "now"),
            Ago::Secs(s) => write!(f, "{s}s"),
            Ago::Days { days, secs } => {
                let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
                if s == 0 {
                    write!(f, "{days}d {h:02}:{m:02}")
                } else {
                    write!(f, "{days}d {h:02}:{m:02}:{s:02}")
                }
            }
        }
    }
}

impl FromStr for Ago {
    type Err = String;

    fn from_str(text: &str) -> Result<Ago, String> {
        let t = text.trim();
        let bad =
            || format!("invalid time '{text}': expected '<N>d [HH:MM[:SS]]', '<N>s|m|h' or 'now'");
        if t == "now" {
            return Ok(Ago::Secs(0));
        }
        let (head, rest) = match t.split_once(char::is_whitespace) {
            Some((h, r)) => (h, Some(r.trim())),
            None => (t, None),
        };
        let unit = head.chars().last().ok_or_else(bad)?;
        let n: u64 = head[..head.len() - unit.len_utf8()]
            .parse()
            .map_err(|_| bad())?;
        match (unit, rest) {
            ('d', rest) => {
                let secs = match rest {
                    None => 12 * 3600,
                    Some(clock) => {
                        let parts: Vec<u32> = clock
                            .split(':')
                            .map(|p| p.parse::<u32>())
                            .collect::<Result<_, _>>()
                            .map_err(|_| bad())?;
                        match parts[..] {
                            [h, m] if h < 24 && m < 60 => h * 3600 + m * 60,
                            [h, m, s] if h < 24 && m < 60 && s < 60 => h * 3600 + m * 60 + s,
                            _ => return Err(bad()),
                        }
                    }
                };
                Ok(Ago::Days {
                    days: u32::try_from(n).map_err(|_| bad())?,
                    secs,
                })
            }
            ('s', None) => Ok(Ago::Secs(n)),
            ('m', None) => n.checked_mul(60).map(Ago::Secs).ok_or_else(bad),
            ('h', None) => n.checked_mul(3600).map(Ago::Secs).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Ago {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ago {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ago, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_round_trips() {
        for text in ["now", "30s", "3d 10:00", "0d 08:30:15"] {
            let a: Ago = text.parse().unwrap();
            assert_eq!(a.to_string(), text);
        }
        assert_eq!("5m".parse::<Ago>().unwrap(), Ago::Secs(300));
        assert_eq!(
            "2d".parse::<Ago>().unwrap(),
            Ago::Days {
                days: 2,
                secs: 43200
            }
        );
        assert!("3x".parse::<Ago>().is_err());
        assert!("3d 25:00".parse::<Ago>().is_err());
    }

    #[test]
    fn ago_resolves_relative_to_now() {
        let now = 1_795_773_600_000; // 2026-11-27T10:00:00Z
        let a: Ago = "3d 09:15".parse().unwrap();
        assert_eq!(
            crate::format::jira_date(a.resolve(now)),
            "2026-11-24T09:15:00.000+0000"
        );
        let future: Ago = "0d 23:00".parse().unwrap();
        assert_eq!(future.resolve(now), now - 120_000);
    }

    #[test]
    fn default_scenario_parses_and_round_trips() {
        let s = default_scenario();
        assert!(s.users.len() >= 5);
        let again = Scenario::from_yaml(&s.to_yaml()).unwrap();
        assert_eq!(again, s);
    }
}
