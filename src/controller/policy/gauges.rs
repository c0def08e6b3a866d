//! The gauges of a license policy: reclaimable seats and monthly savings per product.

use crate::api::{JiraLicensePolicy, JiraLicensePolicyStatus};
use crate::metrics::{Metrics, PolicyLabels, SavingsLabels};
use crate::policy::parse_cents;
use kube::ResourceExt;

fn labels(policy: &JiraLicensePolicy, product: &str) -> PolicyLabels {
    PolicyLabels {
        namespace: policy.namespace().unwrap_or_default(),
        policy: policy.name_any(),
        product: product.into(),
    }
}

/// Sets the gauges from `st`, dropping the series of products that `prev` had and `st` has not.
pub fn record(
    m: &Metrics,
    policy: &JiraLicensePolicy,
    prev: &JiraLicensePolicyStatus,
    st: &JiraLicensePolicyStatus,
) {
    forget(m, policy, prev);
    for f in &st.products {
        let l = labels(policy, &f.product);
        m.policy_reclaimable_seats
            .get_or_create(&l)
            .set(f.reclaimable_seats.into());
        if let Some(money) = &f.monthly_savings
            && let Some(cents) = parse_cents(&money.amount)
        {
            let s = SavingsLabels {
                namespace: l.namespace,
                policy: l.policy,
                product: l.product,
                currency: money.currency.clone(),
            };
            m.policy_monthly_savings
                .get_or_create(&s)
                .set(cents as f64 / 100.0);
        }
    }
}

/// Removes every series of the policy that `st` describes.
pub fn forget(m: &Metrics, policy: &JiraLicensePolicy, st: &JiraLicensePolicyStatus) {
    for f in &st.products {
        let l = labels(policy, &f.product);
        m.policy_reclaimable_seats.remove(&l);
        if let Some(money) = &f.monthly_savings {
            m.policy_monthly_savings.remove(&SavingsLabels {
                namespace: l.namespace,
                policy: l.policy,
                product: l.product,
                currency: money.currency.clone(),
            });
        }
    }
}
