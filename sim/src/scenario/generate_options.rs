//! Options of the scenario generator: the size and shape of a generated org.

use serde::{Deserialize, Serialize};

/// Options of [`generate`](super::generate). `Default` gives a 300-user org with 30 days of activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateOptions {
    /// Seed of the random generator.
    pub seed: u64,
    /// Number of human (`atlassian`) accounts, the admin and the viewer included (minimum 2).
    pub users: usize,
    /// Days of activity (comments, changelog, worklogs) before now.
    pub days: u32,
    /// Share of humans whose email is hidden (key absent).
    pub hidden_email_share: f64,
    /// Share of humans whose email is hidden and written as `"emailAddress": null`.
    pub null_email_share: f64,
    /// Share of humans that are deactivated (they stay in their groups).
    pub inactive_share: f64,
    /// Share of active humans with activity in the window.
    pub active_share: f64,
    /// Chance that an active human acts on a given day.
    pub daily_activity_chance: f64,
    /// Maximum number of actions of an active human on a day they act (at least one).
    pub max_actions_per_day: u32,
    /// Issues per human account.
    pub issues_per_user: f64,
    /// App accounts besides the OAuth service account; `None` = 2 + users / 200.
    pub app_accounts: Option<usize>,
    /// Customer accounts; `None` = users / 20.
    pub customer_accounts: Option<usize>,
    /// Projects; `None` = clamp(users / 500, 2, 50).
    pub projects: Option<usize>,
    /// Share of humans whose email is outside the managed domain (not managed by the org).
    pub unmanaged_share: f64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            seed: 42,
            users: 300,
            days: 30,
            hidden_email_share: 0.05,
            null_email_share: 0.0,
            inactive_share: 0.05,
            active_share: 0.6,
            daily_activity_chance: 0.3,
            max_actions_per_day: 2,
            issues_per_user: 2.0,
            app_accounts: None,
            customer_accounts: None,
            projects: None,
            unmanaged_share: 0.1,
        }
    }
}
