//! The per-connection gauges of `/metrics`, set from a JiraConnection's status after each reconcile and removed
//! with the connection.
//!
//! Conventions: an unlimited product has no `license_seats` series (never a negative count) and
//! `license_unlimited` 1; `daily_active_users` is the last complete UTC day of the window (the sync's own day is
//! partial and left out); every series carries the connection's `namespace` label, as kube-state-metrics does,
//! so scrapes keep it with `honorLabels: true`.

use super::conditions;
use crate::{
    api::{JiraConnectionStatus, UsageStatus},
    metrics::{ConnectionLabels, Metrics, ProductLabels},
};
use chrono::{Days, NaiveDate};
use std::time::Duration;

/// The connection a gauge belongs to: namespace and name.
pub struct Connection<'a> {
    /// Namespace of the JiraConnection.
    pub namespace: &'a str,
    /// Name of the JiraConnection.
    pub name: &'a str,
}

impl Connection<'_> {
    fn labels(&self) -> ConnectionLabels {
        ConnectionLabels {
            namespace: self.namespace.to_string(),
            connection: self.name.to_string(),
        }
    }

    fn product(&self, product: &str) -> ProductLabels {
        ProductLabels {
            namespace: self.namespace.to_string(),
            connection: self.name.to_string(),
            product: product.to_string(),
        }
    }
}

/// Active users on the last complete UTC day of the window: the day before `to`, the day of the sync, which is
/// partial. `None` when the window holds no complete day.
pub fn last_complete_day(usage: &UsageStatus) -> Option<u32> {
    let to: NaiveDate = usage.to.parse().ok()?;
    let day = to.checked_sub_days(Days::new(1))?.to_string();
    usage
        .daily
        .iter()
        .find(|p| p.date == day)
        .map(|p| p.active_users)
}

/// Sets the gauges of connection `c` from its status `st`. `interval` is the sync interval of the spec (when it
/// parses); `products` the products of the site when this reconcile synced it: the products of `prev` missing
/// from it lose their series.
pub fn record(
    m: &Metrics,
    c: &Connection<'_>,
    prev: &JiraConnectionStatus,
    st: &JiraConnectionStatus,
    interval: Option<Duration>,
    products: Option<&[&str]>,
) {
    let labels = c.labels();
    m.connection_ready
        .get_or_create(&labels)
        .set(i64::from(conditions::is_ready(st)));
    if let Some(interval) = interval {
        m.sync_interval
            .get_or_create(&labels)
            .set(i64::try_from(interval.as_secs()).unwrap_or(i64::MAX));
    }
    if let Some(last) = &st.last_sync_time {
        m.last_successful_sync
            .get_or_create(&labels)
            .set(last.0.as_second());
    }
    if let Some(users) = &st.users {
        m.users_total.get_or_create(&labels).set(users.total.into());
        m.users_synced
            .get_or_create(&labels)
            .set(users.synced.into());
    }
    if let Some(usage) = &st.usage {
        m.users_active
            .get_or_create(&labels)
            .set(usage.active_users.into());
        match last_complete_day(usage) {
            Some(n) => {
                m.daily_active_users.get_or_create(&labels).set(n.into());
            }
            None => {
                m.daily_active_users.remove(&labels);
            }
        }
    }
    for l in &st.licenses {
        let labels = c.product(&l.product);
        let unlimited = l.seats.is_none();
        m.license_unlimited
            .get_or_create(&labels)
            .set(i64::from(unlimited));
        match (l.seats, l.remaining) {
            (Some(seats), remaining) => {
                m.license_seats.get_or_create(&labels).set(seats.into());
                match remaining {
                    Some(r) => {
                        m.license_remaining.get_or_create(&labels).set(r.into());
                    }
                    None => {
                        m.license_remaining.remove(&labels);
                    }
                }
            }
            (None, _) => {
                m.license_seats.remove(&labels);
                m.license_remaining.remove(&labels);
            }
        }
        m.license_used.get_or_create(&labels).set(l.used.into());
        m.license_active
            .get_or_create(&labels)
            .set(l.active_users.into());
        m.license_inactive
            .get_or_create(&labels)
            .set(l.inactive_users.into());
    }
    if let Some(products) = products {
        // A product that disappeared from the site leaves no stale series behind.
        for gone in prev
            .licenses
            .iter()
            .filter(|p| !products.contains(&p.product.as_str()))
        {
            forget_product(m, c, &gone.product);
        }
    }
}

/// Removes every series of connection `c`; `last` is its last status (for its products).
pub fn forget(m: &Metrics, c: &Connection<'_>, last: Option<&JiraConnectionStatus>) {
    let labels = c.labels();
    for family in m.per_connection().connection {
        family.remove(&labels);
    }
    for license in last.iter().flat_map(|s| &s.licenses) {
        forget_product(m, c, &license.product);
    }
}

fn forget_product(m: &Metrics, c: &Connection<'_>, product: &str) {
    let labels = c.product(product);
    for family in m.per_connection().product {
        family.remove(&labels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{DailyUsage, LicenseStatus};

    const C: Connection<'static> = Connection {
        namespace: "it-saas",
        name: "acme",
    };

    fn license(product: &str, seats: Option<u32>, remaining: Option<u32>) -> LicenseStatus {
        LicenseStatus {
            product: product.into(),
            name: product.into(),
            seats,
            used: 7,
            remaining,
            active_users: 5,
            inactive_users: 2,
            groups: Vec::new(),
        }
    }

    fn usage(to: &str, daily: &[(&str, u32)]) -> UsageStatus {
        UsageStatus {
            window_days: daily.len() as u32,
            from: daily.first().map_or(to, |d| d.0).into(),
            to: to.into(),
            active_users: 9,
            daily: daily
                .iter()
                .map(|(date, n)| DailyUsage {
                    date: date.to_string(),
                    active_users: *n,
                })
                .collect(),
        }
    }

    fn samples(m: &Metrics, name: &str) -> Vec<String> {
        m.encode()
            .lines()
            .filter(|l| l.starts_with(&format!("jira_operator_{name}{{")))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_sync_day_is_partial_and_left_out() {
        let u = usage(
            "2026-11-28",
            &[("2026-11-26", 4), ("2026-11-27", 6), ("2026-11-28", 1)],
        );
        assert_eq!(last_complete_day(&u), Some(6));
        assert_eq!(
            last_complete_day(&usage("2026-11-28", &[("2026-11-28", 1)])),
            None
        );
        assert_eq!(last_complete_day(&usage("not a date", &[])), None);
    }

    #[test]
    fn an_unlimited_product_has_no_seat_count_and_its_own_signal() {
        let m = Metrics::default();
        let st = JiraConnectionStatus {
            licenses: vec![
                license("jira-software", Some(50), Some(40)),
                license("jira-core", None, None),
            ],
            usage: Some(usage("2026-11-28", &[("2026-11-27", 6), ("2026-11-28", 1)])),
            ..Default::default()
        };
        record(
            &m,
            &C,
            &Default::default(),
            &st,
            Some(Duration::from_secs(86400)),
            None,
        );
        let seats = samples(&m, "license_seats");
        assert_eq!(
            seats,
            [
                "jira_operator_license_seats{namespace=\"it-saas\",connection=\"acme\",product=\"jira-software\"} 50"
            ]
        );
        assert!(
            m.encode().lines().all(|l| !l.ends_with(" -1")),
            "no negative count"
        );
        let unlimited = samples(&m, "license_unlimited");
        assert!(
            unlimited
                .iter()
                .any(|l| l.contains("jira-core") && l.ends_with(" 1")),
            "{unlimited:?}"
        );
        assert!(
            unlimited
                .iter()
                .any(|l| l.contains("jira-software") && l.ends_with(" 0")),
            "{unlimited:?}"
        );
        assert_eq!(samples(&m, "license_seats_remaining").len(), 1);
        assert_eq!(
            samples(&m, "daily_active_users"),
            ["jira_operator_daily_active_users{namespace=\"it-saas\",connection=\"acme\"} 6"]
        );
        assert_eq!(
            samples(&m, "sync_interval_seconds"),
            [
                "jira_operator_sync_interval_seconds{namespace=\"it-saas\",connection=\"acme\"} 86400"
            ]
        );

        // The product becomes limited: the seat count appears.
        let limited = JiraConnectionStatus {
            licenses: vec![license("jira-core", Some(100), Some(93))],
            ..st.clone()
        };
        record(&m, &C, &st, &limited, None, Some(&["jira-core"]));
        let seats = samples(&m, "license_seats");
        assert_eq!(seats.len(), 1, "jira-software left the site: {seats:?}");
        assert!(
            seats[0].contains("jira-core") && seats[0].ends_with(" 100"),
            "{seats:?}"
        );
    }

    #[test]
    fn the_last_successful_sync_is_a_unix_timestamp_and_forget_removes_everything() {
        let m = Metrics::default();
        let st = JiraConnectionStatus {
            last_sync_time: Some(conditions::time(
                chrono::DateTime::from_timestamp(1_764_295_200, 0).unwrap(),
            )),
            licenses: vec![license("jira-software", Some(50), Some(40))],
            ..Default::default()
        };
        record(
            &m,
            &C,
            &Default::default(),
            &st,
            Some(Duration::from_secs(3600)),
            None,
        );
        assert_eq!(
            samples(&m, "last_successful_sync_timestamp_seconds"),
            [
                "jira_operator_last_successful_sync_timestamp_seconds{namespace=\"it-saas\",connection=\"acme\"} 1764295200"
            ]
        );
        forget(&m, &C, Some(&st));
        let left: Vec<String> = m
            .encode()
            .lines()
            .filter(|l| l.contains("connection=\"acme\""))
            .map(str::to_string)
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
