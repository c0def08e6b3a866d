//! Records and stored JiraUsers for the unit tests of the inventory.

use super::desired::Desired;
use crate::{api::JiraUser, sync::ActivityCounts, sync::UserRecord};
use chrono::NaiveDate;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

pub(super) fn record(id: &str, products: &[&str], active_days: u32) -> UserRecord {
    UserRecord {
        account_id: id.into(),
        display_name: id.to_uppercase(),
        email: format!("{id}@example.com"),
        active: true,
        products: products.iter().map(|&p| p.into()).collect(),
        groups: ["jira-software-users".into()].into(),
        role: None,
        roles: Vec::new(),
        last_active_date: NaiveDate::from_ymd_opt(2026, 11, 27),
        first_seen: None,
        product_last_active: Vec::new(),
        active_days,
        activity: ActivityCounts {
            comments: 1,
            changelog: 2,
            worklogs: 0,
        },
    }
}

/// The JiraUser the apiserver would hold after a write of `d`, owned by `uid`.
pub(super) fn stored(d: &Desired, uid: &str) -> JiraUser {
    let mut u = JiraUser::new(&d.name, d.spec.clone());
    u.metadata.labels = Some(d.labels.clone());
    u.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "jiracloud.io/v1alpha1".into(),
        kind: "JiraConnection".into(),
        name: "acme".into(),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }]);
    u.status = Some(d.status.clone());
    u
}
