//! The conditions of a JiraConnection as pure functions of what a reconcile observed: no I/O, unit-tested.
//!
//! Conditions: `CredentialsValid` (the Secrets were read and Jira accepted them), `Synced` (the last sync that
//! was due succeeded; `Unknown`, reason `RateLimited`, while a sync is parked by a long rate limit) and
//! `Ready`, the summary of the two: a parked sync is no failure, so it leaves a `Ready=True` as it is. Each function changes only what the step it
//! describes observed, so a failed sync keeps every figure of the last good one, and `lastTransitionTime`
//! moves only when a condition's status flips ([`set_condition`]).

use super::figures;
use crate::error::Failure;
use crate::{
    api::{
        JiraConnectionStatus, SiteStatus, SyncStats, condition, condition_status, find_condition,
        set_condition,
    },
    jira::SiteInfo,
    sync::{Inventory, SyncStats as EngineStats},
};
use chrono::{DateTime, Utc};
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};

/// Condition type: the summary (`CredentialsValid` and `Synced` both True).
pub const READY: &str = "Ready";
/// Condition type: the Secrets were read and Jira accepted the credentials.
pub const CREDENTIALS_VALID: &str = "CredentialsValid";
/// Condition type: the last sync that was due succeeded.
pub const SYNCED: &str = "Synced";

/// Condition reasons set by the controller itself (failures take the reason of their error).
pub mod reason {
    /// First visit: nothing checked yet.
    pub const RECONCILING: &str = "Reconciling";
    /// Jira accepted the credentials.
    pub const AUTHENTICATED: &str = "Authenticated";
    /// The last sync completed.
    pub const COMPLETE: &str = "Complete";
    /// Ready: credentials valid and last sync complete.
    pub const SYNCED: &str = "Synced";
    /// `spec.sync.suspend` is true.
    pub const SUSPENDED: &str = "Suspended";
    /// `spec.sync.interval` cannot be read.
    pub const INVALID_INTERVAL: &str = "InvalidInterval";
    /// The JiraUser inventory could not be written.
    pub const INVENTORY_WRITE_FAILED: &str = "InventoryWriteFailed";
    /// A sync is parked until Jira's rate limit allows requests again.
    pub const RATE_LIMITED: &str = "RateLimited";
}

/// A whole-second timestamp (the apiserver keeps seconds; comparing statuses needs the same precision).
pub fn time(at: DateTime<Utc>) -> Time {
    Time(Timestamp::from_second(at.timestamp()).expect("a valid timestamp"))
}

/// The chrono instant of a condition or status time.
pub fn instant(t: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(t.0.as_second(), 0).expect("a valid timestamp")
}

fn is_true(st: &JiraConnectionStatus, type_: &str) -> bool {
    find_condition(&st.conditions, type_).is_some_and(|c| c.status == condition_status::TRUE)
}

/// The status to start from: the previous one, with every condition `Unknown` on the first visit.
pub fn begin(
    prev: Option<&JiraConnectionStatus>,
    generation: Option<i64>,
    now: DateTime<Utc>,
) -> JiraConnectionStatus {
    let mut st = prev.cloned().unwrap_or_default();
    for type_ in [READY, CREDENTIALS_VALID, SYNCED] {
        if find_condition(&st.conditions, type_).is_none() {
            st.conditions.push(condition(
                type_,
                condition_status::UNKNOWN,
                reason::RECONCILING,
                "The operator has not checked this connection yet",
                generation,
                time(now),
            ));
        }
    }
    st
}

/// Jira accepted the credentials of `site`.
pub fn credentials_valid(
    st: &mut JiraConnectionStatus,
    site: &SiteInfo,
    generation: Option<i64>,
    now: DateTime<Utc>,
) {
    let route = if site.via_gateway {
        "through the api.atlassian.com gateway"
    } else {
        "to the site directly"
    };
    let message = format!(
        "Jira accepted the credentials of {} ({}); requests go {route}",
        site.display_name, site.account_id
    );
    set_condition(
        &mut st.conditions,
        condition(
            CREDENTIALS_VALID,
            condition_status::TRUE,
            reason::AUTHENTICATED,
            message,
            generation,
            time(now),
        ),
    );
    st.site = Some(SiteStatus {
        cloud_id: site.cloud_id.clone(),
        deployment_type: site.deployment_type.clone(),
        account_id: Some(site.account_id.clone()),
    });
}

/// The credentials could not be checked (transient: `Unknown`) or were refused (`False`).
pub fn credentials_failed(
    st: &mut JiraConnectionStatus,
    failure: &Failure,
    generation: Option<i64>,
    now: DateTime<Utc>,
) {
    let value = if failure.transient {
        condition_status::UNKNOWN
    } else {
        condition_status::FALSE
    };
    set_condition(
        &mut st.conditions,
        condition(
            CREDENTIALS_VALID,
            value,
            failure.reason,
            &failure.message,
            generation,
            time(now),
        ),
    );
}

/// A due sync failed or could not run: `Synced=False` with the reason; every figure of the last good sync
/// stays. `request` is the sync-requested value the attempt handled, if any.
pub fn sync_failed(
    st: &mut JiraConnectionStatus,
    failure: &Failure,
    request: Option<&str>,
    generation: Option<i64>,
    now: DateTime<Utc>,
) {
    let message = match &st.last_sync_time {
        Some(last) => format!(
            "{}. The figures are those of the last successful sync, at {}",
            failure.message.trim_end_matches('.'),
            instant(last).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        None => failure.message.clone(),
    };
    set_condition(
        &mut st.conditions,
        condition(
            SYNCED,
            condition_status::FALSE,
            failure.reason,
            message,
            generation,
            time(now),
        ),
    );
    if let Some(r) = request {
        st.last_sync_request = Some(r.to_string());
    }
    st.next_sync_time = None;
}

/// A sync is parked until `resume_at` by a long rate limit (Jira's `reason`), having finished the parts
/// `finished`: `Synced=Unknown`, reason `RateLimited`, `nextSyncTime` at the resume time; every figure stays.
pub fn sync_parked(
    st: &mut JiraConnectionStatus,
    reason: &str,
    resume_at: DateTime<Utc>,
    finished: &[&str],
    generation: Option<i64>,
    now: DateTime<Utc>,
) {
    let done = if finished.is_empty() {
        "nothing finished yet".to_string()
    } else {
        format!("finished: {}", finished.join(", "))
    };
    let mut message = format!(
        "Jira is rate limiting requests ({reason}); the sync is parked and resumes at {} from its last completed \
         step ({done})",
        resume_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    if let Some(last) = &st.last_sync_time {
        message.push_str(&format!(
            ". The figures are those of the last successful sync, at {}",
            instant(last).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    set_condition(
        &mut st.conditions,
        condition(
            SYNCED,
            condition_status::UNKNOWN,
            reason::RATE_LIMITED,
            message,
            generation,
            time(now),
        ),
    );
    st.next_sync_time = Some(time(resume_at));
}

/// True when the status says a sync is parked by a rate limit.
pub fn is_parked(st: &JiraConnectionStatus) -> bool {
    find_condition(&st.conditions, SYNCED)
        .is_some_and(|c| c.status == condition_status::UNKNOWN && c.reason == reason::RATE_LIMITED)
}

/// A sync succeeded: figures, stats, times and `Synced=True`. The roles are the organization part's
/// ([`super::organization::record`]).
pub fn sync_succeeded(
    st: &mut JiraConnectionStatus,
    inventory: &Inventory,
    stats: &EngineStats,
    request: Option<&str>,
    next: DateTime<Utc>,
    generation: Option<i64>,
    now: DateTime<Utc>,
) {
    let users = figures::user_counts(inventory);
    let message = format!(
        "Synced {} users ({} in the inventory, {} with a hidden email) in {:.1} s with {} requests ({})",
        users.total,
        users.synced,
        users.hidden_email,
        stats.duration.as_secs_f64(),
        stats.api_requests,
        if stats.incremental {
            "incremental"
        } else {
            "full"
        },
    );
    set_condition(
        &mut st.conditions,
        condition(
            SYNCED,
            condition_status::TRUE,
            reason::COMPLETE,
            message,
            generation,
            time(now),
        ),
    );
    st.users = Some(users);
    st.licenses = figures::licenses(inventory);
    st.usage = Some(figures::usage(inventory));
    st.site = Some(SiteStatus {
        cloud_id: inventory.site.cloud_id.clone(),
        deployment_type: inventory.site.deployment_type.clone(),
        account_id: Some(inventory.site.account_id.clone()),
    });
    st.last_sync_stats = Some(SyncStats {
        duration_seconds: (stats.duration.as_secs_f64() * 1000.0).round() / 1000.0,
        api_requests: stats.api_requests,
        throttled: stats.throttled,
        rate_limit_remaining: stats.rate_limit_remaining,
        incremental: stats.incremental,
    });
    super::activity_history::continue_history(st, inventory.usage.from);
    st.last_sync_time = Some(time(now));
    st.first_sync_time.get_or_insert_with(|| time(now));
    st.next_sync_time = Some(time(next));
    if let Some(r) = request {
        st.last_sync_request = Some(r.to_string());
    }
}

/// `spec.sync.suspend` is true: no sync runs; the figures stay.
pub fn suspended(st: &mut JiraConnectionStatus, generation: Option<i64>, now: DateTime<Utc>) {
    set_condition(
        &mut st.conditions,
        condition(
            SYNCED,
            condition_status::FALSE,
            reason::SUSPENDED,
            "Syncing is suspended (spec.sync.suspend is true); set it to false to resume. The figures are those of \
             the last successful sync",
            generation,
            time(now),
        ),
    );
    st.next_sync_time = None;
}

/// Sets `Ready` from `CredentialsValid` and `Synced`, and the status' `observedGeneration`. A parked sync
/// counts as the last sync's result while `Ready` was `True`.
pub fn summarize(st: &mut JiraConnectionStatus, generation: Option<i64>, now: DateTime<Utc>) {
    let get = |t| find_condition(&st.conditions, t).cloned();
    let (creds, synced) = (get(CREDENTIALS_VALID), get(SYNCED));
    let neutral = is_parked(st) && is_ready(st);
    let judged = synced.clone().filter(|_| !neutral);
    let with = |s: &str| {
        [&creds, &judged]
            .into_iter()
            .flatten()
            .find(|c| c.status == s)
            .map(|c| (c.reason.clone(), c.message.clone()))
    };
    let (value, reason, message) = if let Some((r, m)) = with(condition_status::FALSE) {
        (condition_status::FALSE, r, m)
    } else if let Some((r, m)) = with(condition_status::UNKNOWN) {
        (condition_status::UNKNOWN, r, m)
    } else if creds.is_none() || synced.is_none() {
        (
            condition_status::UNKNOWN,
            reason::RECONCILING.to_string(),
            "The operator has not checked this connection yet".to_string(),
        )
    } else {
        (
            condition_status::TRUE,
            reason::SYNCED.to_string(),
            "The credentials are valid and the last sync is complete".to_string(),
        )
    };
    set_condition(
        &mut st.conditions,
        condition(READY, value, &reason, message, generation, time(now)),
    );
    st.observed_generation = generation;
}

/// True when the status says the connection is Ready.
pub fn is_ready(st: &JiraConnectionStatus) -> bool {
    is_true(st, READY)
}

#[cfg(test)]
mod tests;
