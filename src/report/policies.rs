//! The report's "reclaimable by policy" column: what the connection's JiraLicensePolicies found.

use super::figures::Row;
use crate::api::JiraLicensePolicy;
use kube::ResourceExt;

/// Fills `reclaimable_by_policy` of each row with the reclaimable seats of the product that the policies of the
/// row's connection report. Policies may overlap (two policies of one product may count the same holders), so
/// the largest figure is taken, not the sum. Rows without a policy that evaluated their product stay empty.
pub fn fill(rows: &mut [Row], policies: &[JiraLicensePolicy]) {
    for row in rows {
        row.reclaimable_by_policy = policies
            .iter()
            .filter(|p| {
                p.namespace().as_deref() == Some(row.namespace.as_str())
                    && p.spec.connection_ref.name == row.connection
            })
            .filter_map(|p| p.status.as_ref())
            .flat_map(|st| st.products.iter())
            .filter(|f| f.product == row.product)
            .map(|f| u64::from(f.reclaimable_seats))
            .max();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{JiraLicensePolicyStatus, ProductFigures};

    fn policy(namespace: &str, connection: &str, figures: &[(&str, u32)]) -> JiraLicensePolicy {
        let mut p: JiraLicensePolicy = serde_json::from_value(serde_json::json!({
            "apiVersion": "jiracloud.io/v1alpha1",
            "kind": "JiraLicensePolicy",
            "metadata": {"name": "p", "namespace": namespace},
            "spec": {"connectionRef": {"name": connection}, "inactiveDays": 30},
        }))
        .unwrap();
        p.status = Some(JiraLicensePolicyStatus {
            products: figures
                .iter()
                .map(|(product, seats)| ProductFigures {
                    product: product.to_string(),
                    reclaimable_seats: *seats,
                    ..ProductFigures::default()
                })
                .collect(),
            ..JiraLicensePolicyStatus::default()
        });
        p
    }

    fn row(namespace: &str, connection: &str, product: &str) -> Row {
        Row {
            namespace: namespace.into(),
            connection: connection.into(),
            product: product.into(),
            seats: None,
            holders: 0,
            active: 0,
            inactive: 0,
            unknown_yet: 0,
            inactive_days: 30,
            reclaimable_by_policy: None,
            monthly_savings: None,
            currency: None,
        }
    }

    #[test]
    fn the_largest_figure_of_the_connections_policies() {
        let mut rows = vec![
            row("it", "acme", "jira-software"),
            row("it", "acme", "jira-servicedesk"),
            row("it", "other", "jira-software"),
            row("hr", "acme", "jira-software"),
        ];
        let policies = vec![
            policy("it", "acme", &[("jira-software", 7)]),
            policy(
                "it",
                "acme",
                &[("jira-software", 3), ("jira-servicedesk", 0)],
            ),
            policy("it", "other", &[("jira-core", 2)]),
        ];
        fill(&mut rows, &policies);
        let got: Vec<Option<u64>> = rows.iter().map(|r| r.reclaimable_by_policy).collect();
        assert_eq!(got, [Some(7), Some(0), None, None]);
    }
}
