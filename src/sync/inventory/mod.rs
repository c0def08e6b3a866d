//! From collected data to the inventory: pure code, no I/O. This module holds the inventory's types;
//! [`compute`] builds it, with the group memberships indexed by [`groups`].

mod compute;
mod groups;
mod roles;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::jira::{AdminUsers, ApplicationRole, GroupRef, JiraUser, ProductUse, SiteInfo};

pub use compute::compute;

/// What the sync collected from Jira (besides activity).
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// Every account of `users/search`.
    pub users: Vec<JiraUser>,
    /// Products (application roles).
    pub roles: Vec<ApplicationRole>,
    /// Active members of each group read (product groups, and admin groups when roles are wanted), by
    /// [`crate::sync::account_key`].
    pub members: Vec<(GroupRef, Vec<u64>)>,
    /// Groups granting site-admin access (only read when an organization is configured).
    pub site_admin_groups: Vec<GroupRef>,
    /// Groups granting admin access to each product, by product key (only read when an organization is
    /// configured).
    pub admin_groups: Vec<(String, Vec<GroupRef>)>,
    /// Admin API view of the users, when an organization is configured.
    pub admin: Option<AdminUsers>,
}

/// The usage window: `window_days` UTC days ending on `to` (the day of the sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First day.
    pub from: NaiveDate,
    /// Last day (the day of `now`).
    pub to: NaiveDate,
    /// Number of days.
    pub days: u32,
}

impl Window {
    /// The window of `days` days ending on `to`.
    pub fn ending(to: NaiveDate, days: u32) -> Window {
        Window {
            from: to - chrono::Duration::days(days.max(1) as i64 - 1),
            to,
            days: days.max(1),
        }
    }

    /// True when `d` lies in the window.
    pub fn contains(&self, d: NaiveDate) -> bool {
        d >= self.from && d <= self.to
    }
}

/// User counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserCounts {
    /// Human accounts (`accountType: atlassian`), active or not.
    pub total: u64,
    /// Humans with a visible email (those in the inventory).
    pub synced: u64,
    /// Humans whose email is hidden (not synced).
    pub hidden_email: u64,
    /// Deactivated humans.
    pub deactivated: u64,
}

/// Roles of the synced users (one role each, the highest).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleCounts {
    /// Organization admins.
    pub org_admin: u64,
    /// Site admins.
    pub site_admin: u64,
    /// Jira (product) admins.
    pub product_admin: u64,
    /// Everyone else.
    pub user: u64,
}

/// One product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseSummary {
    /// Product key.
    pub product: String,
    /// Product name.
    pub name: String,
    /// Jira's `numberOfSeats`.
    pub seats: i64,
    /// Synced, active holders (Jira Core not counted for holders of another product).
    pub used: u64,
    /// Jira's `remainingSeats`.
    pub remaining: i64,
    /// Holders active on at least one day of the window.
    pub active_users: u64,
    /// Holders with no activity in the window.
    pub inactive_users: u64,
    /// Names of the groups that grant the product, sorted.
    pub groups: Vec<String>,
}

/// Active users on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyActive {
    /// The UTC day.
    pub date: NaiveDate,
    /// Human accounts active that day.
    pub active_users: u64,
}

/// Usage over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSummary {
    /// Window length.
    pub window_days: u32,
    /// First day.
    pub from: NaiveDate,
    /// Last day (the day of the sync).
    pub to: NaiveDate,
    /// Human accounts active on at least one day.
    pub active_users: u64,
    /// One point per day, oldest first.
    pub daily: Vec<DailyActive>,
}

/// Activity counts of a user over the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityCounts {
    /// Comments created or edited.
    pub comments: u64,
    /// Changelog entries.
    pub changelog: u64,
    /// Worklogs created, edited or deleted.
    pub worklogs: u64,
}

/// One synced user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// accountId.
    pub account_id: String,
    /// Display name.
    pub display_name: String,
    /// Email (always visible for synced users).
    pub email: String,
    /// False when deactivated.
    pub active: bool,
    /// Product keys, sorted (Jira Core only when it is the user's only product; none when deactivated). The
    /// set is shared by the records of the users holding the same products.
    pub products: Arc<[Arc<str>]>,
    /// Product-granting (and, with an organization, admin) groups the user is an active member of, sorted.
    /// The set is shared by the records of the users in the same groups.
    pub groups: Arc<[Arc<str>]>,
    /// The highest role, `org-admin`, `site-admin`, `product-admin` or `user`, when an organization is
    /// configured.
    pub role: Option<String>,
    /// Every admin role, when an organization is configured: `org-admin`, `site-admin`, then
    /// `product-admin:<product>` by product ([`role::product_admin`]).
    pub roles: Vec<String>,
    /// Last day with Jira activity (from this window, or remembered from earlier syncs).
    pub last_active_date: Option<NaiveDate>,
    /// When the user was first seen holding a license: none from the sync; the inventory writer sets the
    /// time of its write for a holder, or the earlier time the user's JiraUser remembers.
    pub first_seen: Option<DateTime<Utc>>,
    /// The user's products with their last product page views, as the Admin API reports them (a login
    /// signal, not an edit), when an organization is configured.
    pub product_last_active: Vec<ProductUse>,
    /// Days with activity in the window.
    pub active_days: u32,
    /// Activity counts in the window.
    pub activity: ActivityCounts,
}

/// What the users listing held, before only the humans were kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listing {
    /// Accounts of every type (humans, apps, customers) listed.
    pub accounts: u64,
    /// True when the listing holds the account the connection authenticates as (the accountId `/myself`
    /// gave): a human account with basic auth, an app account (`accountType: app`) for a service account.
    pub has_own_account: bool,
}

/// The result of a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// The site.
    pub site: SiteInfo,
    /// What the users listing held.
    pub listing: Listing,
    /// User counts.
    pub users: UserCounts,
    /// Role counts, when an organization is configured.
    pub roles: Option<RoleCounts>,
    /// One entry per product, sorted by key.
    pub licenses: Vec<LicenseSummary>,
    /// Usage.
    pub usage: UsageSummary,
    /// Synced users, sorted by accountId.
    pub records: Vec<UserRecord>,
}

/// Role names used in [`UserRecord::role`] and [`UserRecord::roles`].
pub mod role {
    /// Organization admin.
    pub const ORG_ADMIN: &str = "org-admin";
    /// Site admin.
    pub const SITE_ADMIN: &str = "site-admin";
    /// Jira admin.
    pub const PRODUCT_ADMIN: &str = "product-admin";
    /// Everyone else.
    pub const USER: &str = "user";

    /// Prefix of the role of a product's admins in [`super::UserRecord::roles`].
    const PRODUCT_ADMIN_OF: &str = "product-admin:";

    /// The role of the admins of `product`: `product-admin:jira-software`.
    pub fn product_admin(product: &str) -> String {
        format!("{PRODUCT_ADMIN_OF}{product}")
    }

    /// The product of a product admin role (`product-admin:jira-software` gives `jira-software`).
    pub fn product_of(role: &str) -> Option<&str> {
        role.strip_prefix(PRODUCT_ADMIN_OF)
    }
}
