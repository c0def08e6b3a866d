//! Accounts of a scenario, the groups they are in and the products (with seats and plans) groups grant.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ago::Ago;

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
