use super::{LocalObjectReference, UserReference, conditions_schema};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Annotation on a `JiraUser`: `true` keeps the user out of every license policy's candidates.
pub const ANNOTATION_PROTECTED: &str = "jiracloud.io/protected";

/// Reclaims unused Jira licenses of one connection: finds holders inactive for `inactiveDays`, shows the plan,
/// and (when approved, or in `Automatic` mode) removes them from the groups that grant the product.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "jiracloud.io",
    version = "v1alpha1",
    kind = "JiraLicensePolicy",
    namespaced,
    status = "JiraLicensePolicyStatus",
    shortname = "jlp",
    category = "jira",
    doc = "Reclaims unused Jira licenses of a JiraConnection, as reviewed code: a dry run, an approval step and a cap per run.",
    selectable = ".spec.connectionRef.name",
    printcolumn(
        name = "Connection",
        type_ = "string",
        json_path = ".spec.connectionRef.name"
    ),
    printcolumn(name = "Mode", type_ = "string", json_path = ".spec.mode"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(name = "Plan", type_ = "string", json_path = ".status.plan.id"),
    printcolumn(
        name = "Candidates",
        type_ = "integer",
        json_path = ".status.candidateCount"
    ),
    printcolumn(name = "Last Run", type_ = "date", json_path = ".status.lastRun.time"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        priority = 1,
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct JiraLicensePolicySpec {
    /// The JiraConnection, in the same namespace, whose license holders the policy reviews. It must keep an
    /// inventory of users (`inventory: Users`).
    pub connection_ref: LocalObjectReference,

    /// Product keys to reclaim (`jira-software`, `jira-servicedesk`, ...). Empty: every product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(validation = Rule::new("self.all(p, size(p) > 0 && size(p) <= 100)")
        .message("products must be non-empty product keys"))]
    pub products: Vec<String>,

    /// A holder is a candidate once inactive for this many days (7 to 3650), and only where the operator can
    /// know it (activity history or the Admin API covers these days); otherwise the holder is "unknown yet".
    #[schemars(range(min = 7, max = 3650))]
    pub inactive_days: u32,

    /// Holders that appeared after the connection's first sync less than this many days ago are never
    /// candidates (0 to 3650). Those present at the first sync are not new.
    #[serde(default = "default_grace_days")]
    #[schemars(range(min = 0, max = 3650))]
    pub grace_days: u32,

    /// Who is never a candidate, besides JiraUsers annotated `jiracloud.io/protected=true` and the
    /// connection's own account.
    #[serde(default)]
    pub exclude: PolicyExclude,

    /// `DryRun` (default: the status shows the plan, nothing changes), `Approval` (the plan whose id is
    /// `approvedPlan` executes) or `Automatic` (every plan executes).
    #[serde(default)]
    pub mode: PolicyMode,

    /// In `Approval` mode: the id of the plan to execute (`status.plan.id`). Only that exact list executes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub approved_plan: Option<String>,

    /// Most users reclaimed by one run (1 to 100).
    #[serde(default = "default_max_reclaims_per_run")]
    #[schemars(range(min = 1, max = 100))]
    pub max_reclaims_per_run: u32,

    /// Least time between two executed runs, as a Go duration (`24h`, `90m`).
    #[serde(default = "default_min_interval")]
    #[schemars(
        length(min = 2, max = 32),
        regex(pattern = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
    )]
    #[x_kube(validation = Rule::new("duration(self) >= duration('0s')")
        .message("minInterval must be a duration such as 24h"))]
    pub min_interval: String,

    /// Monthly price of one seat, per product key, for the savings estimate.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 50))]
    pub seat_price: BTreeMap<String, Money>,

    /// When set, each executed run opens one Jira issue listing what it reclaimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_issue: Option<SummaryIssue>,
}

fn default_grace_days() -> u32 {
    14
}

fn default_max_reclaims_per_run() -> u32 {
    10
}

fn default_min_interval() -> String {
    "24h".into()
}

/// Who a policy never reclaims.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PolicyExclude {
    /// Members of these groups are never candidates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub groups: Vec<String>,
    /// These users (by accountId or email) are never candidates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000))]
    pub users: Vec<UserReference>,
    /// Org and site admins are excluded unless this is true.
    #[serde(default)]
    pub include_admins: bool,
}

/// What a policy does with its plan.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum PolicyMode {
    /// Shows the plan; changes nothing.
    #[default]
    DryRun,
    /// Executes the plan whose id is `spec.approvedPlan`.
    Approval,
    /// Executes every plan, at most once per `minInterval`.
    Automatic,
}

/// An amount of money: a decimal string and an ISO 4217 currency code.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    /// Decimal amount, at most two decimals (`8.60`).
    #[schemars(length(min = 1, max = 20), regex(pattern = r"^[0-9]+(\.[0-9]{1,2})?$"))]
    pub amount: String,
    /// ISO 4217 currency code (`USD`).
    #[schemars(regex(pattern = r"^[A-Z]{3}$"))]
    pub currency: String,
}

/// Where the summary issue of a run is opened.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SummaryIssue {
    /// Key or numeric ID of the project.
    #[schemars(length(min = 1, max = 255))]
    pub project: String,
    /// Name or numeric ID of the issue type.
    #[schemars(length(min = 1, max = 255))]
    pub issue_type: String,
}

/// The observed state of a license policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct JiraLicensePolicyStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (the plan is evaluated) and `ActivitySignal` (`WritesOnly` without an organization).
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// When the plan was last evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluation_time: Option<Time>,
    /// The connection's last sync the evaluation read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_time: Option<Time>,
    /// Figures per product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<ProductFigures>,
    /// Number of candidates (users), all products together.
    #[serde(default)]
    pub candidate_count: u32,
    /// The first candidates, longest inactive first (bounded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// True when `candidates` lists only the first of them.
    #[serde(default)]
    pub candidates_truncated: bool,
    /// What can execute now: the first `maxReclaimsPerRun` candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// The plan the current one replaced, while not executed: approving it still executes it (skipping whoever
    /// the latest sync no longer shows as a candidate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_plan: Option<Plan>,
    /// The last executed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<Run>,
}

/// Figures of one product.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProductFigures {
    /// The product key.
    pub product: String,
    /// Synced license holders.
    pub holders: u32,
    /// Holders known to be inactive for `inactiveDays` (excluded ones included).
    pub inactive: u32,
    /// Holders whose inactivity cannot be known yet (history too short): never candidates.
    pub unknown_yet: u32,
    /// Inactive holders kept by an exclusion or the grace period, or holding the product through no group
    /// the policy may leave (a group that also grants a product they keep).
    pub excluded: u32,
    /// Inactive holders that are candidates.
    pub candidates: u32,
    /// Seats a reclaim of every candidate would free.
    pub reclaimable_seats: u32,
    /// `reclaimableSeats` times the product's `seatPrice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_savings: Option<Money>,
}

/// A holder to reclaim.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The Atlassian account ID.
    pub account_id: String,
    /// The email address.
    pub email: String,
    /// The latest activity observed (absent: none observed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_date: Option<String>,
    /// The products to reclaim.
    pub products: Vec<String>,
}

/// A plan: what one run executes.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Hash of exactly this list of reclaims: set `spec.approvedPlan` to it to execute the plan.
    pub id: String,
    /// The reclaims, one per user and product.
    pub reclaims: Vec<Reclaim>,
}

/// One user's product to reclaim.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Reclaim {
    /// The Atlassian account ID.
    pub account_id: String,
    /// The email address.
    pub email: String,
    /// The product key.
    pub product: String,
    /// The groups the user leaves (those that grant the product and no product the user keeps).
    pub groups: Vec<String>,
}

/// An executed run.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// When the run started.
    pub time: Time,
    /// The plan it executed.
    pub plan_id: String,
    /// Users whose reclaim the run started.
    pub reclaimed: u32,
    /// Reclaims skipped because the latest sync showed the user active again or without the product.
    #[serde(default)]
    pub skipped: u32,
    /// Reclaimed users who still held the product after the next sync.
    #[serde(default)]
    pub not_reclaimed: u32,
    /// The JiraActions of the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// True once every action of the run finished.
    #[serde(default)]
    pub finished: bool,
    /// Why reclaimed users still hold the product (checked after the next sync).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_reclaimed_users: Vec<NotReclaimed>,
    /// The connection's sync that the outcome was checked against (after every action finished).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_sync_time: Option<Time>,
    /// The JiraAction that opens the summary issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_action: Option<String>,
}

/// A reclaimed user who still holds the product.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NotReclaimed {
    /// The Atlassian account ID.
    pub account_id: String,
    /// The product key.
    pub product: String,
    /// Why (`StillHoldsProduct`, `ActionFailed`).
    pub reason: String,
    /// Details.
    pub message: String,
}
