//! Prometheus metrics of the operator, served as OpenMetrics text on `/metrics`.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use std::{sync::atomic::AtomicU64, time::Instant};

/// Labels of reconcile metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    /// `jiraconnection` or `jiraaction`.
    pub controller: String,
}

/// Labels of reconcile errors.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// `jiraconnection` or `jiraaction`.
    pub controller: String,
    /// The condition reason of the error.
    pub reason: String,
}

/// Labels of Jira requests.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The endpoint, as a route template (`GET /rest/api/3/users/search`).
    pub endpoint: String,
    /// The HTTP status class or code (`200`, `429`, `error` for no response).
    pub status: String,
}

/// Labels of per-connection gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectionLabels {
    /// Namespace of the JiraConnection.
    pub namespace: String,
    /// Name of the JiraConnection.
    pub connection: String,
}

/// Labels of per-product gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProductLabels {
    /// Namespace of the JiraConnection.
    pub namespace: String,
    /// Name of the JiraConnection.
    pub connection: String,
    /// Product key.
    pub product: String,
}

/// Labels of action outcomes.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    /// The action kind (`createIssue`, ...).
    pub kind: String,
    /// `succeeded`, `already_done`, `failed` or `retried`.
    pub outcome: String,
}

/// Labels of per-policy gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PolicyLabels {
    /// Namespace of the JiraLicensePolicy.
    pub namespace: String,
    /// Name of the JiraLicensePolicy.
    pub policy: String,
    /// Product key.
    pub product: String,
}

/// Labels of per-policy money gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SavingsLabels {
    /// Namespace of the JiraLicensePolicy.
    pub namespace: String,
    /// Name of the JiraLicensePolicy.
    pub policy: String,
    /// Product key.
    pub product: String,
    /// ISO 4217 currency code of the seat price.
    pub currency: String,
}

/// Labels of the build information.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    /// The operator's version.
    pub version: String,
}

/// Declares the metric families once: each becomes a field of [`Metrics`], is created and registered (in this
/// order, after `build_info`) by [`Metrics::default`], and those marked `forget connection` or `forget product`
/// are listed by [`Metrics::per_connection`].
macro_rules! families {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident: $ty:ty = $new:expr, $name:literal, $help:literal $(, forget $group:ident)?;
    )*) => {
        /// All metrics of the operator.
        pub struct Metrics {
            registry: Registry,
            $($(#[doc = $doc])* pub $field: $ty,)*
        }

        impl Default for Metrics {
            fn default() -> Self {
                let mut registry = Registry::with_prefix("jira_operator");
                let build: Family<BuildLabels, Gauge> = Family::default();
                build
                    .get_or_create(&BuildLabels {
                        version: env!("CARGO_PKG_VERSION").into(),
                    })
                    .set(1);
                registry.register("build_info", "The operator's version (always 1)", build);
                $(
                    let $field: $ty = $new;
                    registry.register($name, $help, $field.clone());
                )*
                Self { registry, $($field,)* }
            }
        }

        impl Metrics {
            /// The families holding the series of one connection, which go with it.
            pub fn per_connection(&self) -> PerConnection<'_> {
                let mut of = PerConnection::default();
                $($(of.$group.push(&self.$field);)?)*
                of
            }
        }
    };
}

/// The families holding the series of one connection (see [`Metrics::per_connection`]).
#[derive(Default)]
pub struct PerConnection<'a> {
    /// The gauges labelled with the connection.
    pub connection: Vec<&'a Family<ConnectionLabels, Gauge>>,
    /// The gauges labelled with the connection and a product.
    pub product: Vec<&'a Family<ProductLabels, Gauge>>,
}

fn duration_buckets() -> Histogram {
    Histogram::new([
        0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
    ])
}

families! {
    /// Reconciles run, by controller.
    reconciles: Family<ControllerLabels, Counter> = Family::default(), "reconciles", "Reconciles run";
    /// Reconciles that ended in an error, by controller and reason.
    reconcile_errors: Family<ErrorLabels, Counter> = Family::default(),
        "reconcile_errors", "Reconciles that failed";
    /// Duration of reconciles, by controller.
    reconcile_duration: Family<ControllerLabels, Histogram> =
        Family::new_with_constructor(duration_buckets),
        "reconcile_duration_seconds", "Duration of reconciles";
    /// Requests sent to Jira and the Admin API, by endpoint and status.
    jira_requests: Family<RequestLabels, Counter> = Family::default(),
        "jira_requests", "Requests sent to Jira";
    /// Requests answered 429 and retried later, per connection.
    jira_throttled: Family<ConnectionLabels, Counter> = Family::default(),
        "jira_throttled", "Jira requests answered 429";
    /// Human users on the site, per connection.
    users_total: Family<ConnectionLabels, Gauge> = Family::default(),
        "users", "Human users on the site", forget connection;
    /// Synced users (visible email), per connection.
    users_synced: Family<ConnectionLabels, Gauge> = Family::default(),
        "users_synced", "Users in the inventory", forget connection;
    /// Users active on at least one day of the window, per connection.
    users_active: Family<ConnectionLabels, Gauge> = Family::default(),
        "users_active", "Users active in the usage window", forget connection;
    /// Users active on the last complete UTC day of the window, per connection.
    daily_active_users: Family<ConnectionLabels, Gauge> = Family::default(),
        "daily_active_users", "Users active on the last complete UTC day of the window",
        forget connection;
    /// Unix time of the last successful sync, per connection.
    last_successful_sync: Family<ConnectionLabels, Gauge> = Family::default(),
        "last_successful_sync_timestamp_seconds", "Unix time of the last successful sync",
        forget connection;
    /// The sync interval of the spec in seconds, per connection.
    sync_interval: Family<ConnectionLabels, Gauge> = Family::default(),
        "sync_interval_seconds", "The sync interval of the connection", forget connection;
    /// License size per product; no series for an unlimited product.
    license_seats: Family<ProductLabels, Gauge> = Family::default(),
        "license_seats", "License size per product (no series when unlimited)", forget product;
    /// Jira's count of free seats per product; no series for an unlimited product.
    license_remaining: Family<ProductLabels, Gauge> = Family::default(),
        "license_seats_remaining", "Free seats per product, Jira's count (no series when unlimited)",
        forget product;
    /// 1 for an unlimited product, 0 for a product with a seat count.
    license_unlimited: Family<ProductLabels, Gauge> = Family::default(),
        "license_unlimited", "1 when the product has no seat limit", forget product;
    /// License holders per product.
    license_used: Family<ProductLabels, Gauge> = Family::default(),
        "license_used", "License holders per product", forget product;
    /// License holders active in the window, per product.
    license_active: Family<ProductLabels, Gauge> = Family::default(),
        "license_active_holders", "License holders active in the window", forget product;
    /// License holders not active in the window, per product.
    license_inactive: Family<ProductLabels, Gauge> = Family::default(),
        "license_inactive_holders", "License holders not active in the window", forget product;
    /// Connections whose Ready condition is True (1) or not (0).
    connection_ready: Family<ConnectionLabels, Gauge> = Family::default(),
        "connection_ready", "1 when the connection is Ready", forget connection;
    /// Actions finished or retried, by kind and outcome.
    actions: Family<ActionLabels, Counter> = Family::default(),
        "actions", "Actions finished or retried";
    /// Seats a license policy's candidates hold, per product.
    policy_reclaimable_seats: Family<PolicyLabels, Gauge> = Family::default(),
        "policy_reclaimable_seats", "Seats held by a license policy's candidates";
    /// Monthly savings of reclaiming them, per product and currency.
    policy_monthly_savings: Family<SavingsLabels, Gauge<f64, AtomicU64>> = Family::default(),
        "policy_monthly_savings",
        "Monthly savings of reclaiming a license policy's candidates, at its seat price";
}

impl Metrics {
    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    /// Starts timing a reconcile of `controller`; the time is recorded when the guard drops.
    pub fn reconcile_started(&self, controller: &str) -> ReconcileTimer<'_> {
        let labels = ControllerLabels {
            controller: controller.into(),
        };
        self.reconciles.get_or_create(&labels).inc();
        ReconcileTimer {
            metrics: self,
            labels,
            start: Instant::now(),
        }
    }

    /// Counts a failed reconcile.
    pub fn reconcile_failed(&self, controller: &str, reason: &str) {
        self.reconcile_errors
            .get_or_create(&ErrorLabels {
                controller: controller.into(),
                reason: reason.into(),
            })
            .inc();
    }
}

/// Records the duration of a reconcile when dropped.
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    labels: ControllerLabels,
    start: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics
            .reconcile_duration
            .get_or_create(&self.labels)
            .observe(self.start.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_encode_with_the_prefix() {
        let metrics = Metrics::default();
        drop(metrics.reconcile_started("jiraconnection"));
        metrics.reconcile_failed("jiraconnection", "InvalidCredentials");
        let text = metrics.encode();
        assert!(
            text.contains("jira_operator_reconciles_total{controller=\"jiraconnection\"} 1"),
            "{text}"
        );
        assert!(text.contains("reason=\"InvalidCredentials\""), "{text}");
        assert!(
            text.contains("jira_operator_reconcile_duration_seconds_count"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "jira_operator_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
    }
}
