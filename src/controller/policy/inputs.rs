//! What a license policy evaluates: its connection's status and JiraUsers, mapped into the planner's input.

use crate::api::{
    ANNOTATION_PROTECTED, InventoryMode, JiraConnection, JiraLicensePolicy, JiraUser,
};
use crate::controller::inventory;
use crate::policy::{Holder, Rules, Site};
use crate::usage::Evidence;
use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{Api, Client, ResourceExt};
use std::sync::Arc;

/// Why a policy cannot be evaluated now (a `Ready=False` condition).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotReady {
    /// The condition reason.
    pub reason: &'static str,
    /// What to do about it.
    pub message: String,
}

/// The inputs of one evaluation.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The synced license holders.
    pub holders: Arc<Vec<Holder>>,
    /// What the planner knows of the site.
    pub site: Site,
    /// The connection has an organization (the Admin API's last-active dates count reads).
    pub organization: bool,
    /// The connection's last successful sync.
    pub last_sync: Time,
    /// The resourceVersion of the connection read: the holders of a sync are written before its status.
    pub connection_version: Option<String>,
}

impl Loaded {
    /// The groups of holder `account_id` that grant `product`, according to the last sync.
    pub fn granting_groups(&self, account_id: &str, product: &str) -> Vec<String> {
        let grants = self.site.product_groups.get(product);
        self.holders
            .iter()
            .filter(|h| h.status.account_id == account_id)
            .flat_map(|h| h.status.groups.iter())
            .filter(|g| grants.is_some_and(|gs| gs.contains(g)))
            .cloned()
            .collect()
    }

    /// True when the holder `account_id` holds `product` according to the last sync.
    pub fn holds(&self, account_id: &str, product: &str) -> bool {
        self.holders.iter().any(|h| {
            h.status.account_id == account_id && h.status.products.iter().any(|p| p == product)
        })
    }
}

/// The policy's rules.
pub fn rules(policy: &JiraLicensePolicy) -> Rules {
    let spec = &policy.spec;
    Rules {
        products: spec.products.clone(),
        inactive_days: spec.inactive_days,
        grace_days: spec.grace_days,
        exclude_groups: spec.exclude.groups.iter().cloned().collect(),
        exclude_accounts: spec
            .exclude
            .users
            .iter()
            .filter_map(|u| u.account_id.clone())
            .collect(),
        exclude_emails: spec
            .exclude
            .users
            .iter()
            .filter_map(|u| u.email.as_ref().map(|e| e.to_lowercase()))
            .collect(),
        include_admins: spec.exclude.include_admins,
        max_per_run: spec.max_reclaims_per_run as usize,
        seat_price: spec.seat_price.clone(),
    }
}

/// Reads the policy's connection and its JiraUsers. The holders of `cached` are reused while the connection
/// is unchanged.
pub async fn load(
    client: &Client,
    policy: &JiraLicensePolicy,
    now: DateTime<Utc>,
    cached: Option<Arc<Loaded>>,
) -> Result<Result<Arc<Loaded>, NotReady>, kube::Error> {
    let namespace = policy.namespace().unwrap_or_default();
    let name = &policy.spec.connection_ref.name;
    let connections: Api<JiraConnection> = Api::namespaced(client.clone(), &namespace);
    let Some(connection) = connections.get_opt(name).await? else {
        return Ok(Err(NotReady {
            reason: "ConnectionNotFound",
            message: format!("JiraConnection {name} does not exist in namespace {namespace}"),
        }));
    };
    if connection.spec.inventory != InventoryMode::Users {
        return Ok(Err(NotReady {
            reason: "InventoryNotUsers",
            message: format!(
                "JiraConnection {name} keeps counts only (inventory: Summary); a license policy needs its users: set inventory: Users"
            ),
        }));
    }
    let status = connection.status.clone().unwrap_or_default();
    let Some(last_sync) = status.last_sync_time.clone() else {
        return Ok(Err(NotReady {
            reason: "WaitingForSync",
            message: format!("JiraConnection {name} has not completed a sync yet"),
        }));
    };
    let known: Vec<&str> = status.licenses.iter().map(|l| l.product.as_str()).collect();
    if let Some(unknown) = policy
        .spec
        .products
        .iter()
        .find(|p| !known.contains(&p.as_str()))
    {
        return Ok(Err(NotReady {
            reason: "UnknownProduct",
            message: format!(
                "{unknown} is not a product of the site of JiraConnection {name} (products: {})",
                known.join(", ")
            ),
        }));
    }
    let site = Site {
        evidence: Evidence::of(&connection, now),
        own_account: status.site.as_ref().and_then(|s| s.account_id.clone()),
        product_groups: status
            .licenses
            .iter()
            .map(|l| (l.product.clone(), l.groups.clone()))
            .collect(),
    };
    let organization = site.evidence.organization;
    let connection_version = connection.resource_version();
    if let Some(c) = cached.filter(|c| c.connection_version == connection_version) {
        return Ok(Ok(Arc::new(Loaded {
            holders: c.holders.clone(),
            site,
            organization,
            last_sync,
            connection_version,
        })));
    }
    let users: Api<JiraUser> = Api::namespaced(client.clone(), &namespace);
    let mut pages = inventory::Pages::new(&users, name);
    let mut holders = Vec::new();
    while let Some(page) = pages.next().await? {
        holders.extend(page.iter().filter_map(holder));
    }
    Ok(Ok(Arc::new(Loaded {
        holders: Arc::new(holders),
        site,
        organization,
        last_sync,
        connection_version,
    })))
}

/// The planner's view of one JiraUser (`None`: not synced yet, or holding no license).
pub fn holder(user: &JiraUser) -> Option<Holder> {
    let st = user.status.as_ref()?;
    if st.products.is_empty() || !st.account_active {
        return None;
    }
    Some(Holder {
        status: st.clone(),
        protected: user
            .annotations()
            .get(ANNOTATION_PROTECTED)
            .is_some_and(|v| v == "true"),
    })
}
