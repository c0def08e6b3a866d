use super::LocalObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// One user of a Jira Cloud site, written by the operator from a JiraConnection's sync.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "jiracloud.io",
    version = "v1alpha1",
    kind = "JiraUser",
    namespaced,
    status = "JiraUserStatus",
    shortname = "juser",
    category = "jira-inventory",
    doc = "One synced user of a Jira Cloud site (inventory). Written by the operator; owned by its JiraConnection.",
    selectable = ".spec.connectionRef.name",
    printcolumn(
        name = "Connection",
        type_ = "string",
        json_path = ".spec.connectionRef.name"
    ),
    printcolumn(name = "Name", type_ = "string", json_path = ".status.displayName"),
    printcolumn(name = "Email", type_ = "string", json_path = ".status.email"),
    printcolumn(
        name = "Account Active",
        type_ = "boolean",
        json_path = ".status.accountActive"
    ),
    printcolumn(name = "Products", type_ = "string", json_path = ".status.products"),
    printcolumn(
        name = "Last Active",
        type_ = "string",
        json_path = ".status.lastActiveDate"
    ),
    printcolumn(
        name = "Active Days",
        type_ = "integer",
        json_path = ".status.activeDays"
    ),
    printcolumn(
        name = "Account ID",
        type_ = "string",
        priority = 1,
        json_path = ".spec.accountId"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct JiraUserSpec {
    /// The JiraConnection that synced this user.
    pub connection_ref: LocalObjectReference,
    /// The Atlassian account ID.
    #[schemars(length(min = 1, max = 128))]
    pub account_id: String,
}

/// What the last sync found out about the user.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct JiraUserStatus {
    /// The Atlassian account ID.
    pub account_id: String,
    /// The display name.
    pub display_name: String,
    /// The email address.
    pub email: String,
    /// False for a deactivated account (which holds no license).
    pub account_active: bool,
    /// Product keys the user holds a license for (Jira Core is listed only when it is the user's only product).
    #[serde(default)]
    pub products: Vec<String>,
    /// Groups the user belongs to, among the groups the operator reads (product and admin groups).
    #[serde(default)]
    pub groups: Vec<String>,
    /// The user's highest role (`org-admin`, `site-admin`, `product-admin`, `user`), when an organization is
    /// configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Every admin role of the user, when an organization is configured: `org-admin`, `site-admin` and
    /// `product-admin:<product key>` for each product the user administers. Empty for a user without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Latest UTC day with activity the operator ever observed for the user: it stays when that day leaves
    /// the usage window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_date: Option<String>,
    /// When the operator first saw the user hold a license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen_time: Option<Time>,
    /// The Admin API's last-active dates of the user's products (a product page view, not an edit), when an
    /// organization is configured, sorted by product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_last_active: Vec<ProductLastActive>,
    /// Number of UTC days of the usage window on which the user was active.
    pub active_days: u32,
    /// Activity in the usage window.
    pub activity: UserActivity,
}

/// The Admin API's last-active date of one product of a user.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProductLastActive {
    /// Product key, as Jira names it (`jira-software`, `jira-servicedesk`, ...; `jira` when the Admin API
    /// reports the site's Jira products as one).
    pub product: String,
    /// Last UTC day the user viewed the product; absent when the user has access but never used it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// Activity counts of a user in the usage window.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserActivity {
    /// Comments created or edited.
    pub comments: u32,
    /// Changelog (issue history) entries authored.
    pub changelog: u32,
    /// Worklogs created, edited or deleted.
    pub worklogs: u32,
}

/// The connection reference of a JiraUser.
pub type UserConnectionReference = LocalObjectReference;
