//! Is a license holder inactive for N days? Only where the operator can know it.
//!
//! Activity here is what the operator observes (comments, issue history, worklogs: writes), kept per user as
//! the latest day ever observed (`status.lastActiveDate`), and, with an organization, the Admin API's
//! per-product last-active dates (`status.productLastActive`: product page views).
//!
//! "Inactive for N days" means no activity on any of the N UTC days ending today. It is decided only when
//! the evidence covers those N days:
//! - the observed history reaches back to one usage window before the connection's first sync
//!   (`status.firstSyncTime`), so with N up to `usageWindowDays` a fresh install knows at once, and beyond it
//!   once enough syncs have run; after a gap in the syncs, only back to `status.activityHistoryFrom`;
//! - or the Admin API's last-active date of the product is older than N days.
//!
//! With an organization, a user is inactive only when the Admin API agrees: its date of the product is older
//! than N days, or it lists the product without a date (never used) while the history covers N days. A holder
//! the Admin API says nothing about, or whose history is too short, is [`Inactivity::UnknownYet`].

use chrono::{DateTime, Days, NaiveDate, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::{JiraConnection, JiraUserStatus};

/// The Admin API's key for every Jira product of a site at once (the v2 user search reports `jira`).
const ADMIN_JIRA_KEY: &str = "jira";

/// What is known about a connection's observation of its site, the same for all its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    /// The time of the decision.
    pub now: DateTime<Utc>,
    /// The connection's first successful sync (`status.firstSyncTime`), if any.
    pub first_sync_time: Option<DateTime<Utc>>,
    /// The connection's usage window (`spec.sync.usageWindowDays`).
    pub usage_window_days: u32,
    /// True when an organization (Admin API) is configured.
    pub organization: bool,
    /// The connection's `status.activityHistoryFrom`: the history starts again there after a gap.
    pub history_from: Option<NaiveDate>,
}

impl Evidence {
    /// The evidence of a connection at `now`.
    pub fn of(connection: &JiraConnection, now: DateTime<Utc>) -> Evidence {
        Evidence {
            now,
            first_sync_time: connection
                .status
                .as_ref()
                .and_then(|s| s.first_sync_time.as_ref())
                .and_then(chrono_time),
            usage_window_days: connection.spec.sync.usage_window_days,
            organization: connection.spec.organization.is_some(),
            history_from: connection
                .status
                .as_ref()
                .and_then(|s| s.activity_history_from.as_deref())
                .and_then(parse_day),
        }
    }

    /// First UTC day of the observed activity history: one usage window before the first sync's day, or the
    /// day the history started again after a gap.
    pub fn observed_from(&self) -> Option<NaiveDate> {
        let first = self.first_sync_time?.date_naive();
        let from =
            first.checked_sub_days(Days::new(u64::from(self.usage_window_days.max(1)) - 1))?;
        Some(self.history_from.map_or(from, |h| h.max(from)))
    }

    /// First UTC day of the `days` days ending today.
    fn range_start(&self, days: u32) -> NaiveDate {
        let today = self.now.date_naive();
        today
            .checked_sub_days(Days::new(u64::from(days.max(1)) - 1))
            .unwrap_or(NaiveDate::MIN)
    }
}

/// Whether a holder used a product in the last N days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactivity {
    /// Active on at least one of the N days.
    Active,
    /// No activity on any of the N days, nor since `since` (the day after the last known activity, or the
    /// first day of the evidence when none is known).
    Inactive {
        /// First day of the inactivity as far as the evidence goes (earlier means longer inactive).
        since: NaiveDate,
    },
    /// The evidence does not cover N days yet: never a reclaim candidate.
    UnknownYet,
}

/// The Admin API's view of a user's product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdminView {
    /// Not listed: the Admin API says nothing.
    Unknown,
    /// Listed without a date: the user never used it.
    NeverUsed,
    /// Last used on that day.
    LastActive(NaiveDate),
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The chrono time of a Kubernetes time.
pub fn chrono_time(t: &Time) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.0.as_second(), t.0.subsec_nanosecond().max(0) as u32)
}

/// The Admin API's view of `product`: its own entry, else the entry of all Jira products at once.
fn admin_view(status: &JiraUserStatus, product: &str) -> AdminView {
    let entry = status
        .product_last_active
        .iter()
        .find(|p| p.product == product)
        .or_else(|| {
            status
                .product_last_active
                .iter()
                .find(|p| p.product == ADMIN_JIRA_KEY)
        });
    match entry {
        None => AdminView::Unknown,
        Some(p) => match p.date.as_deref().and_then(parse_day) {
            Some(d) => AdminView::LastActive(d),
            None => AdminView::NeverUsed,
        },
    }
}

/// Whether the holder of `product` whose JiraUser has `status` is inactive for `days` days (see the module
/// documentation for when that can be known).
pub fn classify(
    status: &JiraUserStatus,
    product: &str,
    evidence: &Evidence,
    days: u32,
) -> Inactivity {
    let start = evidence.range_start(days);
    let last_write = status.last_active_date.as_deref().and_then(parse_day);
    if last_write.is_some_and(|d| d >= start) {
        return Inactivity::Active;
    }
    // The day after the last known activity, or the first day of the evidence.
    let after = |d: Option<NaiveDate>, from: NaiveDate| {
        d.and_then(|d| d.succ_opt()).map_or(from, |d| d.max(from))
    };
    let history = evidence.observed_from().filter(|from| *from <= start);
    if evidence.organization {
        match admin_view(status, product) {
            AdminView::LastActive(d) if d >= start => Inactivity::Active,
            AdminView::LastActive(d) => Inactivity::Inactive {
                since: after(last_write.max(Some(d)), NaiveDate::MIN),
            },
            AdminView::NeverUsed => match history {
                Some(from) => Inactivity::Inactive {
                    since: after(last_write, from),
                },
                None => Inactivity::UnknownYet,
            },
            AdminView::Unknown => Inactivity::UnknownYet,
        }
    } else {
        match history {
            Some(from) => Inactivity::Inactive {
                since: after(last_write, from),
            },
            None => Inactivity::UnknownYet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProductLastActive;
    use chrono::TimeZone;

    fn day(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    /// Noon of 2026-12-07, a first sync on `first` (or none), a 30-day window.
    fn evidence(first: Option<&str>, organization: bool) -> Evidence {
        Evidence {
            now: Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap(),
            first_sync_time: first.map(|f| day(f).and_hms_opt(23, 59, 0).unwrap().and_utc()),
            usage_window_days: 30,
            organization,
            history_from: None,
        }
    }

    fn user(last: Option<&str>, admin: &[(&str, Option<&str>)]) -> JiraUserStatus {
        JiraUserStatus {
            last_active_date: last.map(str::to_owned),
            product_last_active: admin
                .iter()
                .map(|(p, d)| ProductLastActive {
                    product: p.to_string(),
                    date: d.map(str::to_owned),
                })
                .collect(),
            ..JiraUserStatus::default()
        }
    }

    const SW: &str = "jira-software";

    #[test]
    fn a_fresh_install_knows_up_to_its_window() {
        // First sync today: the history reaches back 30 days, 2026-11-08 to 2026-12-07.
        let e = evidence(Some("2026-12-07"), false);
        assert_eq!(e.observed_from(), Some(day("2026-11-08")));
        let never = user(None, &[]);
        assert_eq!(
            classify(&never, SW, &e, 30),
            Inactivity::Inactive {
                since: day("2026-11-08")
            }
        );
        assert_eq!(classify(&never, SW, &e, 31), Inactivity::UnknownYet);
        let lately = user(Some("2026-11-20"), &[]);
        assert_eq!(
            classify(&lately, SW, &e, 17),
            Inactivity::Inactive {
                since: day("2026-11-21")
            }
        );
        assert_eq!(
            classify(&lately, SW, &e, 18),
            Inactivity::Active,
            "the 18 days ending today start on 2026-11-20"
        );
    }

    #[test]
    fn history_grows_with_the_time_since_the_first_sync() {
        // First sync 100 days ago: 130 days of history, from 2026-07-31.
        let e = evidence(Some("2026-08-29"), false);
        let old = user(Some("2026-07-30"), &[]);
        assert_eq!(
            classify(&old, SW, &e, 120),
            Inactivity::Inactive {
                since: day("2026-07-31")
            },
            "activity 130 days ago, remembered"
        );
        assert_eq!(
            classify(&user(None, &[]), SW, &e, 130),
            Inactivity::Inactive {
                since: day("2026-07-31")
            }
        );
        assert_eq!(
            classify(&user(None, &[]), SW, &e, 131),
            Inactivity::UnknownYet
        );
        assert_eq!(
            classify(&user(Some("2026-12-07"), &[]), SW, &e, 7),
            Inactivity::Active
        );
    }

    #[test]
    fn after_a_gap_the_history_starts_again() {
        let mut e = evidence(Some("2026-08-29"), false);
        e.history_from = Some(day("2026-11-20"));
        assert_eq!(e.observed_from(), Some(day("2026-11-20")));
        assert_eq!(
            classify(&user(Some("2026-07-30"), &[]), SW, &e, 18),
            Inactivity::Inactive {
                since: day("2026-11-20")
            }
        );
        assert_eq!(
            classify(&user(Some("2026-07-30"), &[]), SW, &e, 19),
            Inactivity::UnknownYet,
            "activity before the gap may have been missed"
        );
        e.history_from = Some(day("2026-01-01"));
        assert_eq!(
            e.observed_from(),
            Some(day("2026-07-31")),
            "never before the first sync's window"
        );
    }

    #[test]
    fn without_a_sync_nothing_is_known_but_activity() {
        let e = evidence(None, false);
        assert_eq!(e.observed_from(), None);
        assert_eq!(
            classify(&user(None, &[]), SW, &e, 7),
            Inactivity::UnknownYet
        );
        assert_eq!(
            classify(&user(Some("2026-12-06"), &[]), SW, &e, 7),
            Inactivity::Active
        );
    }

    #[test]
    fn with_the_admin_api_its_date_must_agree() {
        let e = evidence(Some("2026-12-07"), true);
        // No edit in the history, but a page view 3 days ago: active.
        let viewer = user(None, &[(SW, Some("2026-12-04"))]);
        assert_eq!(classify(&viewer, SW, &e, 30), Inactivity::Active);
        // Not listed by the Admin API for the product: unknown, however long the history.
        let unlisted = user(None, &[("jira-servicedesk", Some("2026-01-01"))]);
        assert_eq!(classify(&unlisted, SW, &e, 30), Inactivity::UnknownYet);
        // A page view 200 days ago: inactive for 180 days even though the history is 30 days long.
        let gone = user(None, &[(SW, Some("2026-05-21"))]);
        assert_eq!(
            classify(&gone, SW, &e, 180),
            Inactivity::Inactive {
                since: day("2026-05-22")
            }
        );
        assert_eq!(classify(&gone, SW, &e, 201), Inactivity::Active);
        // A later edit than the page view moves the start of the inactivity.
        let edited = user(Some("2026-06-10"), &[(SW, Some("2026-05-21"))]);
        assert_eq!(
            classify(&edited, SW, &e, 180),
            Inactivity::Inactive {
                since: day("2026-06-11")
            }
        );
        // Listed without a date (never used): the history decides how long.
        let never = user(None, &[(SW, None)]);
        assert_eq!(
            classify(&never, SW, &e, 30),
            Inactivity::Inactive {
                since: day("2026-11-08")
            }
        );
        assert_eq!(classify(&never, SW, &e, 31), Inactivity::UnknownYet);
        // An edit today wins over an old page view.
        let writer = user(Some("2026-12-07"), &[(SW, Some("2026-01-01"))]);
        assert_eq!(classify(&writer, SW, &e, 90), Inactivity::Active);
    }

    #[test]
    fn the_admin_api_s_jira_entry_covers_every_jira_product() {
        let e = evidence(Some("2026-12-07"), true);
        let u = user(None, &[("jira", Some("2026-12-01"))]);
        assert_eq!(classify(&u, SW, &e, 30), Inactivity::Active);
        assert_eq!(classify(&u, "jira-servicedesk", &e, 30), Inactivity::Active);
        // The product's own entry wins.
        let both = user(
            None,
            &[("jira", Some("2026-12-01")), (SW, Some("2026-01-01"))],
        );
        assert_eq!(
            classify(&both, SW, &e, 30),
            Inactivity::Inactive {
                since: day("2026-01-02")
            }
        );
    }

    #[test]
    fn the_decision_is_by_utc_day_whatever_the_time_of_day() {
        for (h, m) in [(0, 0), (0, 1), (23, 59)] {
            let mut e = evidence(Some("2026-12-07"), false);
            e.now = Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap();
            assert_eq!(
                classify(&user(Some("2026-11-30"), &[]), SW, &e, 8),
                Inactivity::Active,
                "{h}:{m}"
            );
            assert_eq!(
                classify(&user(Some("2026-11-30"), &[]), SW, &e, 7),
                Inactivity::Inactive {
                    since: day("2026-12-01")
                },
                "{h}:{m}"
            );
        }
    }

    #[test]
    fn evidence_of_a_connection() {
        use crate::api::{JiraConnectionSpec, JiraConnectionStatus, Organization};
        let spec: JiraConnectionSpec = serde_json::from_value(
            serde_json::json!({"siteUrl": "https://acme.atlassian.net", "auth": {}}),
        )
        .unwrap();
        let mut c = crate::api::JiraConnection::new("acme", spec);
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let e = Evidence::of(&c, now);
        assert_eq!(
            (e.first_sync_time, e.organization, e.usage_window_days),
            (None, false, 30)
        );
        c.spec.organization = Some(Organization::default());
        c.status = Some(JiraConnectionStatus {
            first_sync_time: Some(Time(
                k8s_openapi::jiff::Timestamp::from_second(now.timestamp()).unwrap(),
            )),
            ..JiraConnectionStatus::default()
        });
        let e = Evidence::of(&c, now);
        assert_eq!((e.first_sync_time, e.organization), (Some(now), true));
        assert_eq!(e.history_from, None);
        c.status.as_mut().unwrap().activity_history_from = Some("2026-12-01".into());
        assert_eq!(Evidence::of(&c, now).history_from, Some(day("2026-12-01")));
    }
}
