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

/// All metrics of the operator.
pub struct Metrics {
    registry: Registry,
    /// Reconciles run, by controller.
    pub reconciles: Family<ControllerLabels, Counter>,
    /// Reconciles that ended in an error, by controller and reason.
    pub reconcile_errors: Family<ErrorLabels, Counter>,
    /// Duration of reconciles, by controller.
    pub reconcile_duration: Family<ControllerLabels, Histogram>,
    /// Requests sent to Jira and the Admin API, by endpoint and status.
    pub jira_requests: Family<RequestLabels, Counter>,
    /// Requests answered 429 and retried later, per connection.
    pub jira_throttled: Family<ConnectionLabels, Counter>,
    /// Human users on the site, per connection.
    pub users_total: Family<ConnectionLabels, Gauge>,
    /// Synced users (visible email), per connection.
    pub users_synced: Family<ConnectionLabels, Gauge>,
    /// Users active on at least one day of the window, per connection.
    pub users_active: Family<ConnectionLabels, Gauge>,
    /// Users active on the last complete UTC day of the window, per connection.
    pub daily_active_users: Family<ConnectionLabels, Gauge>,
    /// Unix time of the last successful sync, per connection.
    pub last_successful_sync: Family<ConnectionLabels, Gauge>,
    /// The sync interval of the spec in seconds, per connection.
    pub sync_interval: Family<ConnectionLabels, Gauge>,
    /// License size per product; no series for an unlimited product.
    pub license_seats: Family<ProductLabels, Gauge>,
    /// Jira's count of free seats per product; no series for an unlimited product.
    pub license_remaining: Family<ProductLabels, Gauge>,
    /// 1 for an unlimited product, 0 for a product with a seat count.
    pub license_unlimited: Family<ProductLabels, Gauge>,
    /// License holders per product.
    pub license_used: Family<ProductLabels, Gauge>,
    /// License holders active in the window, per product.
    pub license_active: Family<ProductLabels, Gauge>,
    /// License holders not active in the window, per product.
    pub license_inactive: Family<ProductLabels, Gauge>,
    /// Connections whose Ready condition is True (1) or not (0).
    pub connection_ready: Family<ConnectionLabels, Gauge>,
    /// Actions finished or retried, by kind and outcome.
    pub actions: Family<ActionLabels, Counter>,
    /// Seats a license policy's candidates hold, per product.
    pub policy_reclaimable_seats: Family<PolicyLabels, Gauge>,
    /// Monthly savings of reclaiming them, per product and currency.
    pub policy_monthly_savings: Family<SavingsLabels, Gauge<f64, AtomicU64>>,
}

fn duration_buckets() -> Histogram {
    Histogram::new([
        0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("jira_operator");
        let metrics = Self {
            reconciles: Family::default(),
            reconcile_errors: Family::default(),
            reconcile_duration: Family::new_with_constructor(duration_buckets),
            jira_requests: Family::default(),
            jira_throttled: Family::default(),
            users_total: Family::default(),
            users_synced: Family::default(),
            users_active: Family::default(),
            daily_active_users: Family::default(),
            last_successful_sync: Family::default(),
            sync_interval: Family::default(),
            license_seats: Family::default(),
            license_remaining: Family::default(),
            license_unlimited: Family::default(),
            license_used: Family::default(),
            license_active: Family::default(),
            license_inactive: Family::default(),
            connection_ready: Family::default(),
            actions: Family::default(),
            policy_reclaimable_seats: Family::default(),
            policy_monthly_savings: Family::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").into(),
            })
            .set(1);
        r.register("build_info", "The operator's version (always 1)", build);
        r.register("reconciles", "Reconciles run", metrics.reconciles.clone());
        r.register(
            "reconcile_errors",
            "Reconciles that failed",
            metrics.reconcile_errors.clone(),
        );
        r.register(
            "reconcile_duration_seconds",
            "Duration of reconciles",
            metrics.reconcile_duration.clone(),
        );
        r.register(
            "jira_requests",
            "Requests sent to Jira",
            metrics.jira_requests.clone(),
        );
        r.register(
            "jira_throttled",
            "Jira requests answered 429",
            metrics.jira_throttled.clone(),
        );
        r.register(
            "users",
            "Human users on the site",
            metrics.users_total.clone(),
        );
        r.register(
            "users_synced",
            "Users in the inventory",
            metrics.users_synced.clone(),
        );
        r.register(
            "users_active",
            "Users active in the usage window",
            metrics.users_active.clone(),
        );
        r.register(
            "daily_active_users",
            "Users active on the last complete UTC day of the window",
            metrics.daily_active_users.clone(),
        );
        r.register(
            "last_successful_sync_timestamp_seconds",
            "Unix time of the last successful sync",
            metrics.last_successful_sync.clone(),
        );
        r.register(
            "sync_interval_seconds",
            "The sync interval of the connection",
            metrics.sync_interval.clone(),
        );
        r.register(
            "license_seats",
            "License size per product (no series when unlimited)",
            metrics.license_seats.clone(),
        );
        r.register(
            "license_seats_remaining",
            "Free seats per product, Jira's count (no series when unlimited)",
            metrics.license_remaining.clone(),
        );
        r.register(
            "license_unlimited",
            "1 when the product has no seat limit",
            metrics.license_unlimited.clone(),
        );
        r.register(
            "license_used",
            "License holders per product",
            metrics.license_used.clone(),
        );
        r.register(
            "license_active_holders",
            "License holders active in the window",
            metrics.license_active.clone(),
        );
        r.register(
            "license_inactive_holders",
            "License holders not active in the window",
            metrics.license_inactive.clone(),
        );
        r.register(
            "connection_ready",
            "1 when the connection is Ready",
            metrics.connection_ready.clone(),
        );
        r.register(
            "actions",
            "Actions finished or retried",
            metrics.actions.clone(),
        );
        r.register(
            "policy_reclaimable_seats",
            "Seats held by a license policy's candidates",
            metrics.policy_reclaimable_seats.clone(),
        );
        r.register(
            "policy_monthly_savings",
            "Monthly savings of reclaiming a license policy's candidates, at its seat price",
            metrics.policy_monthly_savings.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }
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
