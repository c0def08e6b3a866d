//! What a JiraUser remembers across syncs and operator restarts: the latest activity ever observed, when the
//! user was first seen holding a license and, while the Admin API fails, the last roles and last-active
//! dates it gave. The previous values live in the JiraUser's status; a sync's record takes them before its
//! JiraUser is compared and written, so an unchanged user writes nothing.

use chrono::{DateTime, NaiveDate, Utc};
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};

use crate::{
    api::{JiraUserStatus, ProductLastActive},
    jira::ProductUse,
    sync::UserRecord,
    usage::inactivity::chrono_time,
};

/// The Kubernetes time of `t`, to the second.
pub(super) fn time(t: DateTime<Utc>) -> Time {
    Time(Timestamp::from_second(t.timestamp()).expect("a time the sync produced"))
}

/// Marks the license holders among `records` as first seen at `now`, to the second (an earlier time their
/// JiraUser remembers replaces it: [`carry`]).
pub(super) fn seen_at(records: &mut [UserRecord], now: DateTime<Utc>) {
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    for r in records.iter_mut().filter(|r| !r.products.is_empty()) {
        r.first_seen = Some(now);
    }
}

/// The status entries of the Admin API's product uses.
pub(super) fn product_last_active(uses: &[ProductUse]) -> Vec<ProductLastActive> {
    uses.iter()
        .map(|u| ProductLastActive {
            product: u.product.clone(),
            date: u.last_active.map(|d| d.to_string()),
        })
        .collect()
}

fn product_uses(entries: &[ProductLastActive]) -> Vec<ProductUse> {
    entries
        .iter()
        .map(|e| ProductUse {
            product: e.product.clone(),
            last_active: e.date.as_deref().and_then(|d| d.parse().ok()),
        })
        .collect()
}

/// Gives `record` what the user's JiraUser remembers from `previous` syncs: the later of the two last
/// activities, the earlier first-seen time and, with `keep_organization` (the Admin API failed this time),
/// the previous role, roles and Admin API dates.
pub(super) fn carry(record: &mut UserRecord, previous: &JiraUserStatus, keep_organization: bool) {
    let remembered: Option<NaiveDate> = previous
        .last_active_date
        .as_deref()
        .and_then(|d| d.parse().ok());
    record.last_active_date = record.last_active_date.max(remembered);
    if let Some(seen) = previous.first_seen_time.as_ref().and_then(chrono_time) {
        record.first_seen = Some(seen);
    }
    if keep_organization {
        record.role = previous.role.clone();
        record.roles = previous.roles.clone();
        record.product_last_active = product_uses(&previous.product_last_active);
    }
}

#[cfg(test)]
mod tests {
    use super::super::desired::desired;
    use super::super::fixtures::record;
    use super::*;
    use chrono::TimeZone;

    fn day(s: &str) -> Option<NaiveDate> {
        s.parse().ok()
    }

    #[test]
    fn the_latest_activity_and_the_first_sighting_are_kept() {
        let at = |d| Utc.with_ymd_and_hms(2026, 11, d, 8, 0, 0).unwrap();
        let mut old = record("a", &["jira-software"], 1);
        old.last_active_date = day("2026-07-01");
        old.first_seen = Some(at(1));
        let previous = desired("acme", &old).status;

        // This sync saw no activity (it left the window) and sees the holder for the first time.
        let mut now = record("a", &["jira-software"], 0);
        now.last_active_date = None;
        now.first_seen = Some(at(28));
        carry(&mut now, &previous, false);
        assert_eq!(now.last_active_date, day("2026-07-01"));
        assert_eq!(now.first_seen, Some(at(1)));
        assert_eq!(
            desired("acme", &now).status.first_seen_time,
            previous.first_seen_time
        );

        // A later activity wins; a user who never held a license stays unseen.
        let mut later = record("a", &[], 0);
        later.last_active_date = day("2026-11-27");
        later.first_seen = None;
        let mut never = previous.clone();
        never.first_seen_time = None;
        carry(&mut later, &never, false);
        assert_eq!(later.last_active_date, day("2026-11-27"));
        assert_eq!(later.first_seen, None);
    }

    #[test]
    fn holders_are_seen_at_the_write_s_second() {
        let mut records = vec![record("a", &["jira-software"], 0), record("b", &[], 0)];
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 5).unwrap();
        seen_at(&mut records, at + chrono::Duration::milliseconds(999));
        assert_eq!(records[0].first_seen, Some(at));
        assert_eq!(records[1].first_seen, None);
    }

    #[test]
    fn the_organization_s_data_is_kept_only_when_the_admin_api_failed() {
        let mut old = record("a", &["jira-software"], 1);
        old.role = Some("site-admin".into());
        old.roles = vec!["site-admin".into()];
        old.product_last_active = vec![ProductUse {
            product: "jira-software".into(),
            last_active: day("2026-10-01"),
        }];
        let previous = desired("acme", &old).status;
        assert_eq!(
            previous.product_last_active,
            vec![ProductLastActive {
                product: "jira-software".into(),
                date: Some("2026-10-01".into())
            }]
        );

        let mut failed = record("a", &["jira-software"], 1);
        carry(&mut failed, &previous, true);
        assert_eq!(desired("acme", &failed).status, previous);

        let mut synced = record("a", &["jira-software"], 1);
        synced.role = Some("user".into());
        carry(&mut synced, &previous, false);
        assert_eq!(synced.role.as_deref(), Some("user"));
        assert!(synced.roles.is_empty() && synced.product_last_active.is_empty());
    }
}
