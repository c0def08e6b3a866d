use super::{LocalObjectReference, conditions_schema};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// A Jira Cloud site whose users, licenses and usage the operator keeps in Kubernetes.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "jiracloud.io",
    version = "v1alpha1",
    kind = "JiraConnection",
    namespaced,
    status = "JiraConnectionStatus",
    shortname = "jconn",
    category = "jira",
    doc = "A Jira Cloud site whose users, licenses (product access) and 30-day usage the operator keeps in status.",
    validation = Rule::new("self.metadata.name.size() <= 63")
        .message("the name of a JiraConnection must be at most 63 characters: it labels the connection's JiraUsers"),
    printcolumn(name = "Site", type_ = "string", json_path = ".spec.siteUrl"),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].reason"),
    printcolumn(name = "Capabilities", type_ = "string", json_path = ".status.capabilitiesAvailable"),
    printcolumn(name = "Users", type_ = "integer", json_path = ".status.users.total"),
    printcolumn(name = "Active", type_ = "integer", json_path = ".status.usage.activeUsers"),
    printcolumn(name = "Last Sync", type_ = "date", json_path = ".status.lastSyncTime"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(
        name = "Message",
        type_ = "string",
        priority = 1,
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct JiraConnectionSpec {
    /// URL of the Jira Cloud site, for example `https://acme.atlassian.net`. Must be https (plain http is
    /// accepted only for loopback hosts, for local simulators) and the root of the site, without a path.
    /// Jira Server and Data Center are not supported.
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new(
        "isURL(self) && (url(self).getScheme() == 'https' || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1']))"
    ).message("siteUrl must be an https URL such as https://acme.atlassian.net (http is accepted only for loopback hosts)"))]
    #[x_kube(validation = Rule::new("!isURL(self) || url(self).getEscapedPath() in ['', '/']")
        .message("siteUrl must be the root of the site, without a path"))]
    pub site_url: String,

    /// How the operator authenticates to Jira. Exactly one method must be set.
    pub auth: ConnectionAuth,

    /// The Atlassian organization of the site, read through the Admin API. Optional; needed for user roles
    /// (organization and site admins) and for last-active dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,

    /// When and how much to sync.
    #[serde(default)]
    pub sync: SyncSettings,

    /// What the operator writes for the synced users: `Users` (one JiraUser per synced user, in the
    /// connection's namespace) or `Summary` (counts in the connection's status only).
    #[serde(default)]
    pub inventory: InventoryMode,
}

/// Authentication to Jira: exactly one of `basic` or `serviceAccount`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.basic) != has(self.serviceAccount)")
    .message("exactly one of auth.basic or auth.serviceAccount must be set"))]
pub struct ConnectionAuth {
    /// An Atlassian account email and API token (classic or scoped: the operator detects which and routes
    /// scoped tokens through the api.atlassian.com gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<BasicAuth>,

    /// OAuth 2.0 client credentials of an Atlassian service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccountAuth>,
}

/// Basic authentication with an Atlassian account email and an API token, read from a Secret.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BasicAuth {
    /// The Secret, in the connection's namespace, that holds the email and the API token.
    pub secret_ref: BasicAuthSecretRef,
}

/// Where the email and API token are in a Secret.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BasicAuthSecretRef {
    /// Name of the Secret, in the connection's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the Atlassian account email in the Secret.
    #[serde(default = "default_email_key")]
    #[schemars(length(min = 1, max = 253))]
    pub email_key: String,
    /// Key of the API token in the Secret.
    #[serde(default = "default_api_token_key")]
    #[schemars(length(min = 1, max = 253))]
    pub api_token_key: String,
}

/// OAuth 2.0 client credentials of an Atlassian service account.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountAuth {
    /// The Cloud ID of the site (Admin → Products, or `https://<site>/_edge/tenant_info`).
    #[schemars(regex(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ))]
    pub cloud_id: String,
    /// The Secret, in the connection's namespace, that holds the client id and secret.
    pub secret_ref: ServiceAccountSecretRef,
}

/// Where the OAuth client id and secret are in a Secret.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountSecretRef {
    /// Name of the Secret, in the connection's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the OAuth client id in the Secret.
    #[serde(default = "default_client_id_key")]
    #[schemars(length(min = 1, max = 253))]
    pub client_id_key: String,
    /// Key of the OAuth client secret in the Secret.
    #[serde(default = "default_client_secret_key")]
    #[schemars(length(min = 1, max = 253))]
    pub client_secret_key: String,
}

/// The Atlassian organization, read through the Admin API with an organization API key.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// The organization ID (admin.atlassian.com → Settings → API keys shows it).
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[A-Za-z0-9-]+$"))]
    pub id: String,
    /// The Secret, in the connection's namespace, that holds the Admin API key.
    pub secret_ref: OrganizationSecretRef,
}

/// Where the Admin API key is in a Secret.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationSecretRef {
    /// Name of the Secret, in the connection's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the Admin API key in the Secret.
    #[serde(default = "default_api_key_key")]
    #[schemars(length(min = 1, max = 253))]
    pub api_key_key: String,
}

/// When and how much to sync.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncSettings {
    /// Time between two syncs, as a Go duration (`24h`, `6h`, `90m`). At least 5m. Usage is counted in UTC
    /// days, so a daily sync is enough for most sites.
    #[serde(default = "default_interval")]
    #[schemars(
        length(min = 2, max = 32),
        regex(pattern = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
    )]
    #[x_kube(validation = Rule::new("duration(self) >= duration('5m')")
        .message("sync.interval must be at least 5m"))]
    pub interval: String,

    /// Number of UTC days of activity counted as usage, ending today. 1 to 90.
    #[serde(default = "default_usage_window_days")]
    #[schemars(range(min = 1, max = 90))]
    pub usage_window_days: u32,

    /// When true, no sync runs; the last status is kept.
    #[serde(default)]
    pub suspend: bool,

    /// Largest share of users, in percent (0 to 100), that a sync may lose against the last good sync. A
    /// users listing that shrinks more (or that lacks the connection's own account) is not applied: the sync
    /// fails with `ImplausibleListing` and the figures and JiraUsers stay. The annotation
    /// `jiracloud.io/accept-listing` accepts the next listing once.
    #[serde(default = "default_max_shrink_percent")]
    #[schemars(range(min = 0, max = 100))]
    pub max_shrink_percent: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            interval: default_interval(),
            usage_window_days: default_usage_window_days(),
            suspend: false,
            max_shrink_percent: default_max_shrink_percent(),
        }
    }
}

/// What the operator writes for the synced users.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum InventoryMode {
    /// One JiraUser per synced user, in the connection's namespace.
    #[default]
    Users,
    /// Counts in the connection's status only.
    Summary,
}

fn default_email_key() -> String {
    "email".into()
}
fn default_api_token_key() -> String {
    "apiToken".into()
}
fn default_client_id_key() -> String {
    "clientId".into()
}
fn default_client_secret_key() -> String {
    "clientSecret".into()
}
fn default_api_key_key() -> String {
    "apiKey".into()
}
fn default_interval() -> String {
    "24h".into()
}
fn default_usage_window_days() -> u32 {
    30
}
fn default_max_shrink_percent() -> u32 {
    50
}

/// The observed state of a Jira Cloud site.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct JiraConnectionStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready` (summary of `CredentialsValid` and `Synced`), `CredentialsValid` (the Secret was read and Jira
    /// accepted it), `Synced` (the last sync succeeded) and, with an organization, `OrganizationSynced` (the
    /// last sync read the roles from the Admin API; its failure keeps the last roles and does not affect
    /// `Ready`).
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,

    /// When the last successful sync finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,

    /// First successful sync of this connection: the operator's activity history of the site starts one usage
    /// window before it. Kept across syncs and restarts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sync_time: Option<Time>,

    /// First UTC day of the operator's unbroken activity history, set when a successful sync could not
    /// continue the previous one (no successful sync for longer than the usage window, or a window that
    /// shrank past the last sync): activity before the gap may not have been observed. Unset: the history
    /// starts one usage window before `firstSyncTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_history_from: Option<String>,

    /// When the next sync is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_time: Option<Time>,

    /// What the operator found out about the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteStatus>,

    /// What the connection's credentials can and cannot do, read when the operator connects with them: one
    /// entry per capability (`syncUsers`, `syncRoles`, `syncUsage`, `createIssues`, `deleteIssues`,
    /// `manageGroupMembership`, `deleteUsers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Capability>,

    /// How many capabilities are available, for example `5/7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities_available: Option<String>,

    /// User counts of the last successful sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<UserCounts>,

    /// Role counts, when an organization is configured (those of the last sync that reached the Admin API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<RoleCounts>,

    /// One entry per product (application role) of the site.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseStatus>,

    /// Usage over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageStatus>,

    /// Figures of the last successful sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_stats: Option<SyncStats>,

    /// The last value of the `jiracloud.io/sync-requested` annotation a sync handled. Setting the annotation
    /// to any other value asks for a sync now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_request: Option<String>,

    /// The last value of the `jiracloud.io/accept-listing` annotation a sync consumed: that sync applied its
    /// users listing without the plausibility check. Setting the annotation to any other value accepts the
    /// next listing once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_listing: Option<String>,
}

/// One thing the credentials may or may not allow.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Capability {
    /// The capability: `syncUsers`, `syncRoles`, `syncUsage`, `createIssues`, `deleteIssues`,
    /// `manageGroupMembership` or `deleteUsers`.
    pub name: String,
    /// `available`, `unavailable`, or `unknown` (Jira did not say; actions needing it still try).
    pub state: CapabilityState,
    /// What the operator found.
    pub reason: String,
    /// When unavailable: what to grant, and where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Whether a capability is available.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum CapabilityState {
    /// The credentials allow it.
    Available,
    /// The credentials do not allow it: see `fix`.
    Unavailable,
    /// Jira did not say.
    Unknown,
}

/// What the operator found out about the site.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SiteStatus {
    /// The Cloud ID of the site.
    pub cloud_id: String,
    /// The deployment type Jira reports (`Cloud`).
    pub deployment_type: String,
    /// The accountId the connection authenticates as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// User counts.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserCounts {
    /// Human (Atlassian) accounts on the site, active or deactivated. App and customer accounts are not users.
    pub total: u32,
    /// Users in the inventory: those whose email is visible.
    pub synced: u32,
    /// Users left out because their email is hidden by their profile visibility settings.
    pub hidden_email: u32,
    /// Deactivated accounts among all users.
    pub deactivated: u32,
}

/// Role counts, from the Admin API.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RoleCounts {
    /// Organization admins.
    pub org_admin: u32,
    /// Site admins.
    pub site_admin: u32,
    /// Product admins of the site's Jira products.
    pub product_admin: u32,
    /// Everyone else with access to the site.
    pub user: u32,
}

/// License (product access) figures of one product.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LicenseStatus {
    /// The product key (`jira-software`, `jira-servicedesk`, `jira-core`, ...).
    pub product: String,
    /// The product's display name.
    pub name: String,
    /// Jira's license size for the product (absent when unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<u32>,
    /// Synced users who hold the product (deactivated accounts hold none; Jira Core is not counted for a
    /// user who has another product).
    pub used: u32,
    /// Jira's own count of free seats (absent when unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
    /// Holders active on at least one day of the usage window.
    pub active_users: u32,
    /// Holders not active on any day of the usage window.
    pub inactive_users: u32,
    /// The groups that grant the product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// Usage over the window.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UsageStatus {
    /// Length of the window in UTC days.
    pub window_days: u32,
    /// First day of the window (UTC, `YYYY-MM-DD`).
    pub from: String,
    /// Last day of the window (UTC, `YYYY-MM-DD`).
    pub to: String,
    /// Users active on at least one day of the window.
    pub active_users: u32,
    /// Active users per day, oldest first.
    #[serde(default)]
    pub daily: Vec<DailyUsage>,
}

/// Active users on one day.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DailyUsage {
    /// The UTC day (`YYYY-MM-DD`).
    pub date: String,
    /// Users active that day.
    pub active_users: u32,
}

/// Figures of a sync.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SyncStats {
    /// Wall time of the sync in seconds.
    pub duration_seconds: f64,
    /// Requests sent to Jira and the Admin API.
    pub api_requests: u64,
    /// Requests answered 429 (rate limited) and retried.
    pub throttled: u64,
    /// The rate-limit budget Jira said was left in the last answer of the sync that carried one (the points of
    /// the `RateLimit` header, else `X-RateLimit-Remaining`); absent when Jira sent none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_remaining: Option<u64>,
    /// True when the sync read only what changed since the previous one (its cache, kept in memory and in
    /// the connection's `<name>-sync-cache` ConfigMaps, was usable); false for a full sync.
    #[serde(default)]
    pub incremental: bool,
}

impl JiraConnectionSpec {
    /// The names of the Secrets this connection reads.
    pub fn secret_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        if let Some(basic) = &self.auth.basic {
            names.push(basic.secret_ref.name.as_str());
        }
        if let Some(sa) = &self.auth.service_account {
            names.push(sa.secret_ref.name.as_str());
        }
        if let Some(org) = &self.organization {
            names.push(org.secret_ref.name.as_str());
        }
        names
    }
}

/// Reference to a connection, shared by resources that use one.
pub type ConnectionReference = LocalObjectReference;
