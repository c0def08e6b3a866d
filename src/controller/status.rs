//! The status of a JiraConnection as pure functions of what a reconcile observed: no I/O, unit-tested.
//!
//! Conditions: `CredentialsValid` (the Secrets were read and Jira accepted them), `Synced` (the last sync that
//! was due succeeded) and `Ready`, the summary of the two. Each function changes only what the step it
//! describes observed, so a failed sync keeps every figure of the last good one, and `lastTransitionTime`
//! moves only when a condition's status flips ([`set_condition`]).

use crate::{
    api::{
        DailyUsage, JiraConnectionStatus, LicenseStatus, SiteStatus, SyncStats, UsageStatus,
        UserCounts, condition, find_condition, set_condition, status,
    },
    jira::{JiraError, SiteInfo},
    sync::{Inventory, SyncStats as EngineStats},
};
use chrono::{DateTime, Utc};
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};
use std::time::Duration;

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
}

/// Share of the interval by which the next sync time is moved at random, either way.
pub const JITTER: f64 = 0.1;

/// Why something failed, as a condition shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// CamelCase, machine-stable reason.
    pub reason: String,
    /// What happened and what to do, for humans. Never contains a credential.
    pub message: String,
    /// True when retrying without a change may succeed (network, 5xx, 429).
    pub transient: bool,
    /// How long Jira asked to wait before the next attempt (rate limiting).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that needs a change by the user.
    pub fn permanent(reason: &str, message: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            message: message.into(),
            transient: false,
            retry_after: None,
        }
    }

    /// A failure that may go away on its own.
    pub fn transient(reason: &str, message: impl Into<String>) -> Failure {
        Failure {
            transient: true,
            ..Failure::permanent(reason, message)
        }
    }

    /// The failure of a Jira call (through the sync or the connection).
    pub fn jira(error: &JiraError) -> Failure {
        Failure {
            reason: error.reason().into(),
            message: error.to_string(),
            transient: error.is_transient(),
            retry_after: match error {
                JiraError::RateLimited { retry_after, .. } => Some(*retry_after),
                _ => None,
            },
        }
    }
}

/// Why a sync runs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// No sync ever succeeded.
    NeverSynced,
    /// The spec changed since the last successful sync.
    SpecChanged,
    /// The `jiracloud.io/sync-requested` annotation holds a value not handled yet.
    Requested,
    /// The last sync failed or could not run (retried with backoff), or its organization part failed and the
    /// spec or a Secret changed since ([`super::organization::retry_due`]).
    Retry,
    /// The next sync time has come.
    Scheduled,
}

impl Due {
    /// A short word for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Due::NeverSynced => "first sync",
            Due::SpecChanged => "spec changed",
            Due::Requested => "sync requested by annotation",
            Due::Retry => "retry after failure",
            Due::Scheduled => "scheduled",
        }
    }
}

/// A whole-second timestamp (the apiserver keeps seconds; comparing statuses needs the same precision).
pub fn time(at: DateTime<Utc>) -> Time {
    Time(Timestamp::from_second(at.timestamp()).expect("a valid timestamp"))
}

/// The chrono instant of a condition or status time.
pub fn instant(t: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(t.0.as_second(), 0).expect("a valid timestamp")
}

/// Longest accepted sync interval.
const MAX_INTERVAL: Duration = Duration::from_secs(10 * 365 * 86400);

/// Parses a Go duration (`24h`, `1h30m`, `90m`, `1.5h`, `300s`), as `spec.sync.interval` holds.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let parsed: kube::core::Duration = text
        .trim()
        .parse()
        .ok()
        .filter(|d: &kube::core::Duration| !d.is_negative() && Duration::from(*d) > Duration::ZERO)
        .ok_or_else(|| {
            format!("sync.interval {text:?} is not a duration such as 24h, 6h or 90m")
        })?;
    let interval = Duration::from(parsed);
    if interval > MAX_INTERVAL {
        return Err(format!(
            "sync.interval {text:?} is longer than 10 years; use 24h for a daily sync"
        ));
    }
    Ok(interval)
}

/// The interval moved by `unit * JITTER` of itself; `unit` is drawn from `[-1, 1]` by the caller.
pub fn jittered(interval: Duration, unit: f64) -> Duration {
    interval.mul_f64(1.0 + JITTER * unit.clamp(-1.0, 1.0))
}

fn is_true(st: &JiraConnectionStatus, type_: &str) -> bool {
    find_condition(&st.conditions, type_).is_some_and(|c| c.status == status::TRUE)
}

/// Whether a sync is due, and why. `requested` is the value of the sync-requested annotation.
pub fn due(
    st: &JiraConnectionStatus,
    generation: Option<i64>,
    requested: Option<&str>,
    interval: Duration,
    now: DateTime<Utc>,
) -> Option<Due> {
    let Some(last) = &st.last_sync_time else {
        return Some(Due::NeverSynced);
    };
    let synced = find_condition(&st.conditions, SYNCED);
    if synced.is_none_or(|c| c.status != status::TRUE) {
        return Some(Due::Retry);
    }
    if synced.and_then(|c| c.observed_generation) != generation {
        return Some(Due::SpecChanged);
    }
    if let Some(value) = requested
        && !value.is_empty()
        && st.last_sync_request.as_deref() != Some(value)
    {
        return Some(Due::Requested);
    }
    let next = next_sync(st, interval).unwrap_or_else(|| instant(last));
    (now >= next).then_some(Due::Scheduled)
}

/// When the next scheduled sync is due: `nextSyncTime`, or the last sync plus the interval.
pub fn next_sync(st: &JiraConnectionStatus, interval: Duration) -> Option<DateTime<Utc>> {
    match (&st.next_sync_time, &st.last_sync_time) {
        (Some(next), _) => Some(instant(next)),
        (None, Some(last)) => Some(instant(last) + interval),
        (None, None) => None,
    }
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
                status::UNKNOWN,
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
            status::TRUE,
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
        status::UNKNOWN
    } else {
        status::FALSE
    };
    set_condition(
        &mut st.conditions,
        condition(
            CREDENTIALS_VALID,
            value,
            &failure.reason,
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
            status::FALSE,
            &failure.reason,
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
    let users = user_counts(inventory);
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
            status::TRUE,
            reason::COMPLETE,
            message,
            generation,
            time(now),
        ),
    );
    st.users = Some(users);
    st.licenses = licenses(inventory);
    st.usage = Some(usage(inventory));
    st.site = Some(SiteStatus {
        cloud_id: inventory.site.cloud_id.clone(),
        deployment_type: inventory.site.deployment_type.clone(),
        account_id: Some(inventory.site.account_id.clone()),
    });
    st.last_sync_stats = Some(SyncStats {
        duration_seconds: (stats.duration.as_secs_f64() * 1000.0).round() / 1000.0,
        api_requests: stats.api_requests,
        throttled: stats.throttled,
    });
    st.last_sync_time = Some(time(now));
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
            status::FALSE,
            reason::SUSPENDED,
            "Syncing is suspended (spec.sync.suspend is true); set it to false to resume. The figures are those of \
             the last successful sync",
            generation,
            time(now),
        ),
    );
    st.next_sync_time = None;
}

/// Sets `Ready` from `CredentialsValid` and `Synced`, and the status' `observedGeneration`.
pub fn summarize(st: &mut JiraConnectionStatus, generation: Option<i64>, now: DateTime<Utc>) {
    let get = |t| find_condition(&st.conditions, t).cloned();
    let (creds, synced) = (get(CREDENTIALS_VALID), get(SYNCED));
    let with = |s: &str| {
        [&creds, &synced]
            .into_iter()
            .flatten()
            .find(|c| c.status == s)
            .map(|c| (c.reason.clone(), c.message.clone()))
    };
    let (value, reason, message) = if let Some((r, m)) = with(status::FALSE) {
        (status::FALSE, r, m)
    } else if let Some((r, m)) = with(status::UNKNOWN) {
        (status::UNKNOWN, r, m)
    } else if creds.is_none() || synced.is_none() {
        (
            status::UNKNOWN,
            reason::RECONCILING.to_string(),
            "The operator has not checked this connection yet".to_string(),
        )
    } else {
        (
            status::TRUE,
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

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn seats(n: i64) -> Option<u32> {
    u32::try_from(n).ok()
}

fn user_counts(inventory: &Inventory) -> UserCounts {
    let u = &inventory.users;
    UserCounts {
        total: small(u.total),
        synced: small(u.synced),
        hidden_email: small(u.hidden_email),
        deactivated: small(u.deactivated),
    }
}

fn licenses(inventory: &Inventory) -> Vec<LicenseStatus> {
    inventory
        .licenses
        .iter()
        .map(|l| LicenseStatus {
            product: l.product.clone(),
            name: l.name.clone(),
            seats: seats(l.seats),
            used: small(l.used),
            remaining: seats(l.remaining),
            active_users: small(l.active_users),
            inactive_users: small(l.inactive_users),
            groups: l.groups.clone(),
        })
        .collect()
}

fn usage(inventory: &Inventory) -> UsageStatus {
    let u = &inventory.usage;
    UsageStatus {
        window_days: u.window_days,
        from: u.from.to_string(),
        to: u.to.to_string(),
        active_users: small(u.active_users),
        daily: u
            .daily
            .iter()
            .map(|d| DailyUsage {
                date: d.date.to_string(),
                active_users: small(d.active_users),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{DailyActive, LicenseSummary, UsageSummary, UserCounts as EngineCounts};
    use chrono::{NaiveDate, TimeZone};
    use url::Url;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, hour, 0, 0).unwrap()
    }

    fn site() -> SiteInfo {
        let url = Url::parse("https://acme.atlassian.net/").unwrap();
        SiteInfo {
            site_url: url.clone(),
            cloud_id: "cloud-1".into(),
            deployment_type: "Cloud".into(),
            base_url: url,
            via_gateway: false,
            account_id: "acc-1".into(),
            display_name: "Operator".into(),
        }
    }

    fn inventory() -> Inventory {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        Inventory {
            site: site(),
            listing: crate::sync::Listing {
                accounts: 12,
                has_own_account: true,
            },
            users: EngineCounts {
                total: 10,
                synced: 8,
                hidden_email: 2,
                deactivated: 1,
            },
            roles: None,
            licenses: vec![LicenseSummary {
                product: "jira-software".into(),
                name: "Jira Software".into(),
                seats: 50,
                used: 7,
                remaining: 41,
                active_users: 4,
                inactive_users: 3,
                groups: vec!["jira-software-users".into()],
            }],
            usage: UsageSummary {
                window_days: 2,
                from: day(27),
                to: day(28),
                active_users: 5,
                daily: vec![
                    DailyActive {
                        date: day(27),
                        active_users: 3,
                    },
                    DailyActive {
                        date: day(28),
                        active_users: 4,
                    },
                ],
            },
            records: Vec::new(),
        }
    }

    fn stats() -> EngineStats {
        EngineStats {
            duration: Duration::from_millis(1234),
            api_requests: 42,
            throttled: 1,
            incremental: false,
        }
    }

    fn cond<'a>(
        st: &'a JiraConnectionStatus,
        t: &str,
    ) -> &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
        find_condition(&st.conditions, t).unwrap()
    }

    fn failure(reason: &str, transient: bool) -> Failure {
        let message = format!("{reason} happened");
        if transient {
            Failure::transient(reason, message)
        } else {
            Failure::permanent(reason, message)
        }
    }

    /// A connection synced once at 02:00, next sync at 03:00, generation 1.
    fn synced_status() -> JiraConnectionStatus {
        let mut st = begin(None, Some(1), at(1));
        credentials_valid(&mut st, &site(), Some(1), at(2));
        sync_succeeded(
            &mut st,
            &inventory(),
            &stats(),
            Some("r1"),
            at(3),
            Some(1),
            at(2),
        );
        summarize(&mut st, Some(1), at(2));
        st
    }

    #[test]
    fn first_visit_starts_unknown() {
        let mut st = begin(None, Some(3), at(1));
        summarize(&mut st, Some(3), at(1));
        for t in [READY, CREDENTIALS_VALID, SYNCED] {
            let c = cond(&st, t);
            assert_eq!(
                (c.status.as_str(), c.observed_generation),
                (status::UNKNOWN, Some(3)),
                "{t}"
            );
        }
        assert_eq!(st.observed_generation, Some(3));
        assert_eq!(
            due(&st, Some(3), None, Duration::from_secs(3600), at(1)),
            Some(Due::NeverSynced)
        );
    }

    #[test]
    fn a_successful_sync_fills_the_contract() {
        let st = synced_status();
        assert!(is_ready(&st));
        assert_eq!(cond(&st, READY).reason, reason::SYNCED);
        assert_eq!(cond(&st, CREDENTIALS_VALID).reason, reason::AUTHENTICATED);
        assert_eq!(cond(&st, SYNCED).reason, reason::COMPLETE);
        assert_eq!(cond(&st, READY).last_transition_time, time(at(2)));
        assert_eq!(st.users.as_ref().unwrap().hidden_email, 2);
        assert_eq!(st.licenses[0].seats, Some(50));
        assert_eq!(st.licenses[0].inactive_users, 3);
        assert_eq!(st.licenses[0].groups, ["jira-software-users"]);
        let usage = st.usage.as_ref().unwrap();
        assert_eq!(
            (usage.from.as_str(), usage.to.as_str()),
            ("2026-11-27", "2026-11-28")
        );
        assert_eq!(usage.daily[1].active_users, 4);
        assert_eq!(st.last_sync_stats.as_ref().unwrap().duration_seconds, 1.234);
        assert_eq!(st.last_sync_time, Some(time(at(2))));
        assert_eq!(st.next_sync_time, Some(time(at(3))));
        assert_eq!(st.last_sync_request.as_deref(), Some("r1"));
        assert_eq!(st.site.as_ref().unwrap().cloud_id, "cloud-1");
    }

    #[test]
    fn a_failed_sync_keeps_the_figures() {
        let before = synced_status();
        let mut st = before.clone();
        sync_failed(
            &mut st,
            &failure("JiraUnavailable", true),
            None,
            Some(1),
            at(4),
        );
        summarize(&mut st, Some(1), at(4));
        assert_eq!(st.users, before.users);
        assert_eq!(st.licenses, before.licenses);
        assert_eq!(st.usage, before.usage);
        assert_eq!(st.last_sync_time, before.last_sync_time);
        assert_eq!(st.last_sync_stats, before.last_sync_stats);
        let ready = cond(&st, READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            (status::FALSE, "JiraUnavailable")
        );
        assert!(
            ready.message.starts_with("JiraUnavailable happened"),
            "{}",
            ready.message
        );
        assert!(
            ready.message.contains("2026-11-28T02:00:00Z"),
            "{}",
            ready.message
        );
        assert_eq!(ready.last_transition_time, time(at(4)));
        // Credentials stay valid: the sync failed, not the login.
        assert_eq!(cond(&st, CREDENTIALS_VALID).status, status::TRUE);
        assert_eq!(
            due(&st, Some(1), None, Duration::from_secs(3600), at(4)),
            Some(Due::Retry)
        );
    }

    #[test]
    fn rate_limits_carry_the_wait() {
        let f = Failure::jira(&JiraError::RateLimited {
            reason: "jira-quota-tenant-based".into(),
            retry_after: Duration::from_secs(900),
        });
        assert_eq!(
            (f.reason.as_str(), f.transient, f.retry_after),
            ("RateLimited", true, Some(Duration::from_secs(900)))
        );
    }

    #[test]
    fn failure_messages_read_as_sentences() {
        let mut st = synced_status();
        let failure = Failure::transient(
            "JiraUnavailable",
            "Jira is unavailable: Internal server error.",
        );
        sync_failed(&mut st, &failure, None, Some(1), at(4));
        assert_eq!(
            cond(&st, SYNCED).message,
            "Jira is unavailable: Internal server error. The figures are those of the last successful sync, at \
             2026-11-28T02:00:00Z"
        );
    }

    #[test]
    fn transition_time_moves_only_on_a_flip() {
        let mut st = synced_status();
        sync_failed(&mut st, &failure("A", false), None, Some(1), at(4));
        summarize(&mut st, Some(1), at(4));
        sync_failed(&mut st, &failure("B", false), None, Some(1), at(5));
        summarize(&mut st, Some(1), at(5));
        assert_eq!(cond(&st, READY).reason, "B");
        assert_eq!(cond(&st, READY).last_transition_time, time(at(4)));
        assert_eq!(cond(&st, SYNCED).last_transition_time, time(at(4)));
        // The credentials condition never flipped.
        assert_eq!(
            cond(&st, CREDENTIALS_VALID).last_transition_time,
            time(at(2))
        );
    }

    #[test]
    fn refused_credentials_are_false_unreachable_jira_unknown() {
        let mut st = synced_status();
        credentials_failed(
            &mut st,
            &failure("InvalidCredentials", false),
            Some(1),
            at(4),
        );
        summarize(&mut st, Some(1), at(4));
        assert_eq!(cond(&st, CREDENTIALS_VALID).status, status::FALSE);
        assert_eq!(cond(&st, READY).reason, "InvalidCredentials");
        // The last sync is still good: not due before its time.
        assert_eq!(cond(&st, SYNCED).status, status::TRUE);

        let mut st = begin(None, Some(1), at(1));
        credentials_failed(&mut st, &failure("JiraUnavailable", true), Some(1), at(1));
        summarize(&mut st, Some(1), at(1));
        assert_eq!(cond(&st, CREDENTIALS_VALID).status, status::UNKNOWN);
        assert_eq!(cond(&st, READY).status, status::UNKNOWN);
        assert_eq!(cond(&st, READY).reason, "JiraUnavailable");
    }

    #[test]
    fn a_false_condition_wins_over_an_unknown_one() {
        let mut st = begin(None, Some(1), at(1));
        credentials_failed(&mut st, &failure("JiraUnavailable", true), Some(1), at(1));
        sync_failed(
            &mut st,
            &failure("JiraUnavailable", true),
            None,
            Some(1),
            at(1),
        );
        summarize(&mut st, Some(1), at(1));
        assert_eq!(cond(&st, READY).status, status::FALSE);
    }

    #[test]
    fn when_a_sync_is_due() {
        let st = synced_status();
        let hour = Duration::from_secs(3600);
        assert_eq!(due(&st, Some(1), None, hour, at(2)), None);
        assert_eq!(
            due(&st, Some(1), Some("r1"), hour, at(2)),
            None,
            "already handled"
        );
        assert_eq!(due(&st, Some(1), Some(""), hour, at(2)), None);
        assert_eq!(
            due(&st, Some(1), Some("r2"), hour, at(2)),
            Some(Due::Requested)
        );
        assert_eq!(due(&st, Some(2), None, hour, at(2)), Some(Due::SpecChanged));
        assert_eq!(due(&st, Some(1), None, hour, at(3)), Some(Due::Scheduled));
        let mut no_next = st.clone();
        no_next.next_sync_time = None;
        assert_eq!(due(&no_next, Some(1), None, hour, at(2)), None);
        assert_eq!(
            due(&no_next, Some(1), None, hour, at(3)),
            Some(Due::Scheduled)
        );
    }

    #[test]
    fn suspension_is_a_reason_not_a_loss_of_data() {
        let before = synced_status();
        let mut st = before.clone();
        suspended(&mut st, Some(2), at(4));
        summarize(&mut st, Some(2), at(4));
        assert_eq!(cond(&st, READY).reason, reason::SUSPENDED);
        assert_eq!(st.users, before.users);
        assert_eq!(st.next_sync_time, None);
        // Resuming bumps the generation again, and the sync runs.
        assert_eq!(
            due(&st, Some(3), None, Duration::from_secs(3600), at(4)),
            Some(Due::Retry)
        );
    }

    #[test]
    fn an_unchanged_outcome_gives_an_equal_status() {
        let a = synced_status();
        let b = synced_status();
        assert_eq!(a, b);
        let mut c = a.clone();
        summarize(&mut c, Some(1), at(9));
        assert_eq!(a, c, "summarizing again changes nothing");
    }

    #[test]
    fn intervals_parse_like_go_durations() {
        assert_eq!(parse_interval("24h").unwrap(), Duration::from_secs(86400));
        assert_eq!(parse_interval("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_interval("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_interval("300s").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_interval("500ms").unwrap(), Duration::from_millis(500));
        for bad in ["", "h", "24", "1d", "-1h", "1h-", "abc"] {
            assert!(
                parse_interval(bad)
                    .unwrap_err()
                    .contains("is not a duration"),
                "{bad:?}"
            );
        }
        assert!(
            parse_interval("100000h")
                .unwrap_err()
                .contains("longer than 10 years")
        );
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let day = Duration::from_secs(86400);
        assert_eq!(jittered(day, 0.0), day);
        assert_eq!(jittered(day, 1.0), Duration::from_secs(95040));
        assert_eq!(jittered(day, -5.0), Duration::from_secs(77760));
    }

    #[test]
    fn unlimited_seats_are_absent_and_times_are_whole_seconds() {
        assert_eq!(seats(-1), None);
        assert_eq!(seats(10), Some(10));
        let t = Utc.with_ymd_and_hms(2026, 11, 28, 1, 2, 3).unwrap()
            + chrono::Duration::milliseconds(999);
        assert_eq!(
            instant(&time(t)),
            Utc.with_ymd_and_hms(2026, 11, 28, 1, 2, 3).unwrap()
        );
    }
}
