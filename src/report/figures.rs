//! The report's figures: one row per connection and product, computed from the connection's status and its
//! JiraUsers' status. Pure code, no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::{InventoryMode, JiraConnection, JiraUserStatus};
use crate::usage::{Evidence, Inactivity, classify};

/// An amount of money in hundredths (cents) of its currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// Hundredths of the currency.
    pub cents: u64,
    /// ISO currency code.
    pub currency: String,
}

impl Money {
    /// Parses a decimal amount with at most two decimals (`8.60`, `12`).
    pub fn parse(amount: &str, currency: &str) -> Result<Money, String> {
        let bad = || format!("invalid amount '{amount}': expected a number like 8.60");
        let (units, frac) = amount.split_once('.').unwrap_or((amount, ""));
        if units.is_empty()
            || frac.len() > 2
            || !units
                .chars()
                .chain(frac.chars())
                .all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let units: u64 = units.parse().map_err(|_| bad())?;
        let frac: u64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        let cents = units
            .checked_mul(100)
            .and_then(|c| c.checked_add(frac))
            .ok_or_else(bad)?;
        Ok(Money {
            cents,
            currency: currency.to_owned(),
        })
    }

    /// The amount with two decimals (`954.60`).
    pub fn amount(&self) -> String {
        format!("{}.{:02}", self.cents / 100, self.cents % 100)
    }

    /// `count` times this amount.
    pub fn times(&self, count: u64) -> Money {
        Money {
            cents: self.cents.saturating_mul(count),
            currency: self.currency.clone(),
        }
    }
}

/// What the report counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// Days without activity that make a holder inactive; `None`: each connection's usage window.
    pub inactive_days: Option<u32>,
    /// Monthly price of a seat, by product key.
    pub seat_prices: BTreeMap<String, Money>,
}

/// One connection and product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The connection's namespace.
    pub namespace: String,
    /// The connection's name.
    pub connection: String,
    /// Product key.
    pub product: String,
    /// Jira's seat count of the product, when limited.
    pub seats: Option<u32>,
    /// Users holding the product.
    pub holders: u64,
    /// Holders active within `inactiveDays`.
    pub active: u64,
    /// Holders known to be inactive for `inactiveDays`.
    pub inactive: u64,
    /// Holders whose inactivity the operator cannot know yet (see the README).
    pub unknown_yet: u64,
    /// The number of days that makes a holder inactive.
    pub inactive_days: u32,
    /// Seats the connection's license policies would reclaim; `None` when no policy says.
    pub reclaimable_by_policy: Option<u64>,
    /// The monthly price of the inactive holders' seats, when a seat price is given.
    #[serde(serialize_with = "amount")]
    pub monthly_savings: Option<Money>,
    /// The currency of `monthlySavings`.
    pub currency: Option<String>,
}

fn amount<S: serde::Serializer>(m: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => s.serialize_some(&m.amount()),
        None => s.serialize_none(),
    }
}

#[derive(Default)]
struct Counts {
    holders: u64,
    active: u64,
    inactive: u64,
    unknown_yet: u64,
}

/// The rows of one connection, one per product of its status (sorted by product key), counted from `users`
/// (the status of its JiraUsers) at `now`. A connection in `Summary` inventory mode has no JiraUsers: its
/// holders and window activity come from its status, and a holder is inactive there only for exactly the
/// usage window without an organization.
pub fn rows(
    connection: &JiraConnection,
    users: &[JiraUserStatus],
    options: &Options,
    now: DateTime<Utc>,
) -> Vec<Row> {
    let Some(status) = connection.status.as_ref() else {
        return Vec::new();
    };
    let evidence = Evidence::of(connection, now);
    let window = connection.spec.sync.usage_window_days;
    let days = options.inactive_days.unwrap_or(window);
    let mut counts: BTreeMap<&str, Counts> = status
        .licenses
        .iter()
        .map(|l| (l.product.as_str(), Counts::default()))
        .collect();
    match connection.spec.inventory {
        InventoryMode::Users => {
            for user in users.iter().filter(|u| u.account_active) {
                for product in &user.products {
                    let c = counts.entry(product.as_str()).or_default();
                    c.holders += 1;
                    match classify(user, product, &evidence, days) {
                        Inactivity::Active => c.active += 1,
                        Inactivity::Inactive { .. } => c.inactive += 1,
                        Inactivity::UnknownYet => c.unknown_yet += 1,
                    }
                }
            }
        }
        InventoryMode::Summary => {
            for l in &status.licenses {
                let c = counts.entry(l.product.as_str()).or_default();
                c.holders = u64::from(l.used);
                if days == window && !evidence.organization {
                    c.active = u64::from(l.active_users);
                    c.inactive = u64::from(l.inactive_users);
                } else if days >= window {
                    // Active in the window is active in any longer span.
                    c.active = u64::from(l.active_users);
                }
                c.unknown_yet = c.holders - c.active - c.inactive;
            }
        }
    }
    let namespace = connection.metadata.namespace.clone().unwrap_or_default();
    let name = connection.metadata.name.clone().unwrap_or_default();
    counts
        .into_iter()
        .map(|(product, c)| {
            let price = options.seat_prices.get(product);
            Row {
                namespace: namespace.clone(),
                connection: name.clone(),
                product: product.to_owned(),
                seats: status
                    .licenses
                    .iter()
                    .find(|l| l.product == product)
                    .and_then(|l| l.seats),
                holders: c.holders,
                active: c.active,
                inactive: c.inactive,
                unknown_yet: c.unknown_yet,
                inactive_days: days,
                reclaimable_by_policy: None,
                monthly_savings: price.map(|p| p.times(c.inactive)),
                currency: price.map(|p| p.currency.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{JiraConnectionStatus, LicenseStatus, ProductLastActive, UsageStatus};
    use chrono::TimeZone;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
    }

    fn license(product: &str, seats: u32, used: u32, active: u32) -> LicenseStatus {
        LicenseStatus {
            product: product.into(),
            name: product.to_uppercase(),
            seats: Some(seats),
            used,
            remaining: Some(seats - used),
            active_users: active,
            inactive_users: used - active,
            groups: Vec::new(),
        }
    }

    /// A connection first synced today with a 30-day window.
    fn connection(spec: serde_json::Value) -> JiraConnection {
        let mut spec_json =
            serde_json::json!({"siteUrl": "https://acme.atlassian.net", "auth": {}});
        spec_json
            .as_object_mut()
            .unwrap()
            .extend(spec.as_object().unwrap().clone());
        let mut c = JiraConnection::new("acme", serde_json::from_value(spec_json).unwrap());
        c.metadata.namespace = Some("it".into());
        c.status = Some(JiraConnectionStatus {
            first_sync_time: Some(Time(
                k8s_openapi::jiff::Timestamp::from_second(now().timestamp()).unwrap(),
            )),
            licenses: vec![
                license("jira-software", 10, 4, 1),
                license("jira-servicedesk", 5, 1, 0),
            ],
            usage: Some(UsageStatus {
                window_days: 30,
                ..UsageStatus::default()
            }),
            ..JiraConnectionStatus::default()
        });
        c
    }

    fn user(products: &[&str], last: Option<&str>) -> JiraUserStatus {
        JiraUserStatus {
            account_active: true,
            products: products.iter().map(|p| p.to_string()).collect(),
            last_active_date: last.map(str::to_owned),
            ..JiraUserStatus::default()
        }
    }

    fn users() -> Vec<JiraUserStatus> {
        vec![
            user(&["jira-software"], Some("2026-12-06")),
            user(&["jira-software"], Some("2026-11-01")),
            user(&["jira-software", "jira-servicedesk"], None),
            user(&["jira-software"], Some("2026-11-20")),
            JiraUserStatus {
                account_active: false,
                ..user(&["jira-software"], None)
            },
        ]
    }

    fn figures(r: &Row) -> (&str, u64, u64, u64, u64) {
        (
            r.product.as_str(),
            r.holders,
            r.active,
            r.inactive,
            r.unknown_yet,
        )
    }

    #[test]
    fn counts_each_product_over_the_window_by_default() {
        let c = connection(serde_json::json!({}));
        let rows = rows(&c, &users(), &Options::default(), now());
        let got: Vec<_> = rows.iter().map(figures).collect();
        // 30 days end on 2026-11-08: 2026-11-01 and never are inactive, 2026-11-20 and yesterday active.
        assert_eq!(
            got,
            vec![
                ("jira-servicedesk", 1, 0, 1, 0),
                ("jira-software", 4, 2, 2, 0)
            ]
        );
        assert_eq!(rows[1].seats, Some(10));
        assert_eq!(
            (rows[1].namespace.as_str(), rows[1].connection.as_str()),
            ("it", "acme")
        );
        assert_eq!(rows[1].inactive_days, 30);
        assert_eq!(rows[1].reclaimable_by_policy, None);
        assert_eq!(rows[1].monthly_savings, None);
    }

    #[test]
    fn an_ad_hoc_span_and_prices() {
        let c = connection(serde_json::json!({}));
        let options = Options {
            inactive_days: Some(10),
            seat_prices: BTreeMap::from([(
                "jira-software".to_string(),
                Money::parse("8.60", "USD").unwrap(),
            )]),
        };
        let rows = rows(&c, &users(), &options, now());
        assert_eq!(figures(&rows[1]), ("jira-software", 4, 1, 3, 0));
        assert_eq!(rows[1].monthly_savings.as_ref().unwrap().amount(), "25.80");
        assert_eq!(rows[1].currency.as_deref(), Some("USD"));
        assert_eq!(
            rows[0].monthly_savings, None,
            "no price for the service desk"
        );
        // Beyond the history (first sync today, 30-day window): 2026-11-01 is active, the rest unknown.
        let long = Options {
            inactive_days: Some(90),
            ..Options::default()
        };
        let rows = super::rows(&c, &users(), &long, now());
        assert_eq!(figures(&rows[1]), ("jira-software", 4, 3, 0, 1));
    }

    #[test]
    fn with_an_organization_the_admin_api_must_agree() {
        let c = connection(
            serde_json::json!({"organization": {"id": "o", "secretRef": {"name": "s"}}}),
        );
        let mut us = users();
        us[1].product_last_active = vec![ProductLastActive {
            product: "jira-software".into(),
            date: Some("2026-12-01".into()),
        }];
        us[2].product_last_active = vec![ProductLastActive {
            product: "jira-software".into(),
            date: None,
        }];
        let rows = rows(&c, &us, &Options::default(), now());
        // us[1] viewed the product lately; us[2] never used it; the service desk has no Admin API entry.
        assert_eq!(
            rows.iter().map(figures).collect::<Vec<_>>(),
            vec![
                ("jira-servicedesk", 1, 0, 0, 1),
                ("jira-software", 4, 3, 1, 0)
            ]
        );
    }

    #[test]
    fn summary_connections_count_from_their_status() {
        let c = connection(serde_json::json!({"inventory": "Summary"}));
        let window = rows(&c, &[], &Options::default(), now());
        assert_eq!(figures(&window[1]), ("jira-software", 4, 1, 3, 0));
        let longer = Options {
            inactive_days: Some(60),
            ..Options::default()
        };
        assert_eq!(
            figures(&rows(&c, &[], &longer, now())[1]),
            ("jira-software", 4, 1, 0, 3)
        );
        let shorter = Options {
            inactive_days: Some(7),
            ..Options::default()
        };
        assert_eq!(
            figures(&rows(&c, &[], &shorter, now())[1]),
            ("jira-software", 4, 0, 0, 4)
        );
    }

    #[test]
    fn a_connection_without_status_has_no_rows() {
        let mut c = connection(serde_json::json!({}));
        c.status = None;
        assert!(rows(&c, &users(), &Options::default(), now()).is_empty());
    }

    #[test]
    fn money() {
        assert_eq!(Money::parse("8.6", "EUR").unwrap().cents, 860);
        assert_eq!(Money::parse("12", "EUR").unwrap().amount(), "12.00");
        assert_eq!(
            Money::parse("0.05", "EUR").unwrap().times(3).amount(),
            "0.15"
        );
        for bad in ["", "8.601", "-1", "1e3", ".5", "8,60", "x"] {
            assert!(Money::parse(bad, "USD").is_err(), "{bad}");
        }
    }
}
