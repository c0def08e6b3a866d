//! The JiraUser inventory of a connection: one JiraUser per synced user, owned by the connection, labelled for
//! selection, written only when something changed.
//!
//! The plan (what to create, update, delete) is a pure function of the desired users and the existing
//! objects; the writer applies it with server-side apply (object and status subresource separately), a bounded
//! number of requests at a time. Objects are created with server-side apply too, so the operator's field
//! manager owns every label it set and a later apply without a label removes it.

use super::Context;
use crate::{
    api::{
        JiraConnection, JiraUser, JiraUserSpec, JiraUserStatus, LABEL_ACTIVE, LABEL_CONNECTION,
        LABEL_PRODUCT_PREFIX, LocalObjectReference, UserActivity,
    },
    jira::clip,
    sync::UserRecord,
};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams},
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// Requests to the apiserver in flight at once while writing an inventory.
pub const WRITE_CONCURRENCY: usize = 16;
/// Page size when listing a connection's JiraUsers.
const LIST_PAGE: u32 = 500;
/// Hex digits of the accountId hash in a JiraUser's name.
const HASH_LEN: usize = 10;
/// Longest display name or email written to a JiraUser: a hostile or garbled directory entry must not push the
/// object towards the apiserver's size limit.
const FIELD_MAX: usize = 512;

/// The JiraUser one synced user should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Object name: `<connection>-<hash of accountId>`.
    pub name: String,
    /// The labels the operator manages.
    pub labels: BTreeMap<String, String>,
    /// The spec.
    pub spec: JiraUserSpec,
    /// The status.
    pub status: JiraUserStatus,
}

/// What to write so that the existing JiraUsers match the desired ones.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Missing objects: apply the object, then its status.
    pub create: Vec<Desired>,
    /// Existing objects whose labels, owner or spec differ.
    pub update_object: Vec<Desired>,
    /// Existing objects whose status differs.
    pub update_status: Vec<Desired>,
    /// Objects of users no longer synced.
    pub delete: Vec<String>,
    /// Objects already as desired.
    pub unchanged: usize,
}

/// What a write did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// JiraUsers created.
    pub created: usize,
    /// JiraUsers updated (object, status or both).
    pub updated: usize,
    /// JiraUsers deleted.
    pub deleted: usize,
    /// JiraUsers left alone.
    pub unchanged: usize,
}

impl WriteStats {
    /// Number of objects written (created, updated or deleted).
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.deleted
    }
}

/// The name of the JiraUser of `account_id` in `connection`.
pub fn object_name(connection: &str, account_id: &str) -> String {
    let hash = hex::encode(Sha256::digest(account_id.as_bytes()));
    // Names are at most 253 characters; the connection's name is at most 63 (CRD validation).
    format!("{connection}-{}", &hash[..HASH_LEN])
}

/// The label selector of a connection's JiraUsers.
pub fn selector(connection: &str) -> String {
    format!("{LABEL_CONNECTION}={connection}")
}

/// The label key of a product (`jiracloud.io/product.jira-software`); characters a label name cannot hold
/// become `-`.
pub fn product_label(product: &str) -> String {
    let clean: String = product
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name_max = 63 - "product.".len();
    let clean = &clean[..clean.len().min(name_max)];
    format!(
        "{LABEL_PRODUCT_PREFIX}{}",
        clean.trim_matches(|c: char| !c.is_ascii_alphanumeric())
    )
}

fn is_managed_label(key: &str) -> bool {
    key == LABEL_CONNECTION || key == LABEL_ACTIVE || key.starts_with(LABEL_PRODUCT_PREFIX)
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The JiraUser of one synced user.
pub fn desired(connection: &str, record: &UserRecord) -> Desired {
    let mut labels = BTreeMap::from([
        (LABEL_CONNECTION.to_string(), connection.to_string()),
        (
            LABEL_ACTIVE.to_string(),
            (record.active_days > 0).to_string(),
        ),
    ]);
    for product in &record.products {
        labels.insert(product_label(product), "true".into());
    }
    Desired {
        name: object_name(connection, &record.account_id),
        labels,
        spec: JiraUserSpec {
            connection_ref: LocalObjectReference {
                name: connection.to_string(),
            },
            account_id: record.account_id.clone(),
        },
        status: JiraUserStatus {
            account_id: record.account_id.clone(),
            display_name: clip(&record.display_name, FIELD_MAX),
            email: clip(&record.email, FIELD_MAX),
            account_active: record.active,
            products: record.products.clone(),
            groups: record.groups.clone(),
            role: record.role.clone(),
            last_active_date: record.last_active_date.map(|d| d.to_string()),
            active_days: record.active_days,
            activity: UserActivity {
                comments: small(record.activity.comments),
                changelog: small(record.activity.changelog),
                worklogs: small(record.activity.worklogs),
            },
        },
    }
}

fn owned_by(user: &JiraUser, owner_uid: &str) -> bool {
    user.owner_references()
        .iter()
        .any(|o| o.uid == owner_uid && o.controller == Some(true))
}

/// Compares the desired JiraUsers with the existing ones (those labelled with the connection).
pub fn plan(desired: Vec<Desired>, existing: &[JiraUser], owner_uid: &str) -> Plan {
    let mut by_name: HashMap<&str, &JiraUser> = existing
        .iter()
        .map(|u| (u.metadata.name.as_deref().unwrap_or(""), u))
        .collect();
    let mut out = Plan::default();
    for d in desired {
        let Some(current) = by_name.remove(d.name.as_str()) else {
            out.create.push(d);
            continue;
        };
        let labels: BTreeMap<String, String> = current
            .labels()
            .iter()
            .filter(|(k, _)| is_managed_label(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let object_differs =
            labels != d.labels || current.spec != d.spec || !owned_by(current, owner_uid);
        let status_differs = current.status.as_ref() != Some(&d.status);
        match (object_differs, status_differs) {
            (false, false) => out.unchanged += 1,
            (true, false) => out.update_object.push(d),
            (false, true) => out.update_status.push(d),
            (true, true) => {
                out.update_object.push(d.clone());
                out.update_status.push(d);
            }
        }
    }
    out.delete = by_name.into_keys().map(str::to_string).collect();
    out.delete.sort();
    out
}

/// Every JiraUser labelled with the connection, page by page.
pub async fn list(api: &Api<JiraUser>, connection: &str) -> Result<Vec<JiraUser>, kube::Error> {
    let mut out = Vec::new();
    let mut params = ListParams::default()
        .labels(&selector(connection))
        .limit(LIST_PAGE);
    loop {
        let page = api.list(&params).await?;
        // Nothing reads the managed fields, and they are most of a listed object's memory.
        out.extend(page.items.into_iter().map(|mut user| {
            user.metadata.managed_fields = None;
            user
        }));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(out),
        }
    }
}

enum Write {
    Object(Desired),
    Status(Desired),
    Delete(String),
}

/// Brings the connection's JiraUsers in line with the synced users: creates the missing ones, updates those
/// that differ, deletes those whose user is gone. Writes nothing when everything is as desired.
pub async fn write(
    ctx: &Context,
    connection: &JiraConnection,
    records: &[UserRecord],
) -> Result<WriteStats, kube::Error> {
    let namespace = connection.namespace().unwrap_or_default();
    let name = connection.name_any();
    let api: Api<JiraUser> = Api::namespaced(ctx.client.clone(), &namespace);
    let owner = connection
        .controller_owner_ref(&())
        .map(|o| OwnerReference {
            block_owner_deletion: Some(true),
            ..o
        });
    let owner_uid = owner.as_ref().map(|o| o.uid.clone()).unwrap_or_default();
    let existing = list(&api, &name).await?;
    let wanted = records.iter().map(|r| desired(&name, r)).collect();
    let plan = plan(wanted, &existing, &owner_uid);
    let stats = WriteStats {
        created: plan.create.len(),
        updated: {
            let mut names: Vec<&str> = plan
                .update_object
                .iter()
                .chain(&plan.update_status)
                .map(|d| d.name.as_str())
                .collect();
            names.sort_unstable();
            names.dedup();
            names.len()
        },
        deleted: plan.delete.len(),
        unchanged: plan.unchanged,
    };

    // A created object gets its status right after it exists; updates and deletions are independent.
    let creates = stream::iter(
        plan.create
            .into_iter()
            .map(|d| vec![Write::Object(d.clone()), Write::Status(d)]),
    );
    let updates = stream::iter(
        plan.update_object
            .into_iter()
            .map(|d| vec![Write::Object(d)])
            .chain(
                plan.update_status
                    .into_iter()
                    .map(|d| vec![Write::Status(d)]),
            )
            .chain(plan.delete.into_iter().map(|n| vec![Write::Delete(n)])),
    );
    let params = PatchParams::apply(&ctx.settings.field_manager).force();
    creates
        .chain(updates)
        .map(|writes| {
            let (api, params, owner) = (&api, &params, &owner);
            async move {
                for w in writes {
                    apply(api, params, owner.as_ref(), w).await?;
                }
                Ok::<_, kube::Error>(())
            }
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .try_collect::<()>()
        .await?;
    Ok(stats)
}

async fn apply(
    api: &Api<JiraUser>,
    params: &PatchParams,
    owner: Option<&OwnerReference>,
    w: Write,
) -> Result<(), kube::Error> {
    match w {
        Write::Object(d) => {
            let mut user = JiraUser::new(&d.name, d.spec);
            user.metadata = ObjectMeta {
                name: Some(d.name.clone()),
                labels: Some(d.labels),
                owner_references: owner.map(|o| vec![o.clone()]),
                ..ObjectMeta::default()
            };
            api.patch(&d.name, params, &Patch::Apply(&user)).await?;
        }
        Write::Status(d) => {
            let body = serde_json::json!({
                "apiVersion": JiraUser::api_version(&()),
                "kind": JiraUser::kind(&()),
                "status": d.status,
            });
            api.patch_status(&d.name, params, &Patch::Apply(&body))
                .await?;
        }
        Write::Delete(name) => match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(e),
        },
    }
    Ok(())
}

/// Deletes every JiraUser of the connection (inventory mode `Summary`). Returns how many there were.
pub async fn clear(ctx: &Context, connection: &JiraConnection) -> Result<usize, kube::Error> {
    let namespace = connection.namespace().unwrap_or_default();
    let name = connection.name_any();
    let api: Api<JiraUser> = Api::namespaced(ctx.client.clone(), &namespace);
    let existing = list(&api, &name).await?;
    if existing.is_empty() {
        return Ok(0);
    }
    api.delete_collection(
        &DeleteParams::background(),
        &ListParams::default().labels(&selector(&name)),
    )
    .await?;
    Ok(existing.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::ActivityCounts;
    use chrono::NaiveDate;

    fn record(id: &str, products: &[&str], active_days: u32) -> UserRecord {
        UserRecord {
            account_id: id.into(),
            display_name: id.to_uppercase(),
            email: format!("{id}@example.com"),
            active: true,
            products: products.iter().map(|p| p.to_string()).collect(),
            groups: vec!["jira-software-users".into()],
            role: None,
            last_active_date: NaiveDate::from_ymd_opt(2026, 11, 27),
            admin_last_active: None,
            active_days,
            activity: ActivityCounts {
                comments: 1,
                changelog: 2,
                worklogs: 0,
            },
        }
    }

    /// The JiraUser the apiserver would hold after a write of `d`, owned by `uid`.
    fn stored(d: &Desired, uid: &str) -> JiraUser {
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

    #[test]
    fn names_and_labels_follow_the_contract() {
        let d = desired(
            "acme",
            &record("557058:abc", &["jira-software", "jira-servicedesk"], 0),
        );
        assert!(
            d.name.starts_with("acme-") && d.name.len() == "acme-".len() + HASH_LEN,
            "{}",
            d.name
        );
        assert_eq!(d.name, object_name("acme", "557058:abc"), "stable");
        assert_ne!(d.name, object_name("acme", "557058:abd"));
        assert_eq!(d.labels["jiracloud.io/connection"], "acme");
        assert_eq!(d.labels["jiracloud.io/active"], "false");
        assert_eq!(d.labels["jiracloud.io/product.jira-software"], "true");
        assert_eq!(d.labels["jiracloud.io/product.jira-servicedesk"], "true");
        assert_eq!(d.status.activity.changelog, 2);
        assert_eq!(d.status.last_active_date.as_deref(), Some("2026-11-27"));
        let active = desired("acme", &record("x", &[], 3));
        assert_eq!(active.labels["jiracloud.io/active"], "true");
        assert_eq!(
            product_label("weird key/€"),
            "jiracloud.io/product.weird-key"
        );
        assert!(product_label(&"p".repeat(100)).len() <= "jiracloud.io/".len() + 63);
    }

    #[test]
    fn huge_directory_fields_are_clipped() {
        let mut huge = record("x", &[], 0);
        huge.display_name = "n".repeat(1_000_000);
        huge.email = format!("{}@example.com", "e".repeat(1_000_000));
        let d = desired("acme", &huge);
        assert!(d.status.display_name.len() <= FIELD_MAX + '…'.len_utf8());
        assert!(d.status.email.len() <= FIELD_MAX + '…'.len_utf8());
    }

    #[test]
    fn an_unchanged_site_writes_nothing() {
        let wanted: Vec<Desired> = ["a", "b", "c"]
            .iter()
            .map(|id| desired("acme", &record(id, &["jira-software"], 1)))
            .collect();
        let existing: Vec<JiraUser> = wanted.iter().map(|d| stored(d, "uid-1")).collect();
        let p = plan(wanted, &existing, "uid-1");
        assert_eq!(p.unchanged, 3);
        assert!(
            p.create.is_empty()
                && p.update_object.is_empty()
                && p.update_status.is_empty()
                && p.delete.is_empty()
        );
    }

    #[test]
    fn plans_creates_updates_and_deletes() {
        let old: Vec<Desired> = ["a", "b", "c", "gone"]
            .iter()
            .map(|id| desired("acme", &record(id, &["jira-software"], 1)))
            .collect();
        let mut existing: Vec<JiraUser> = old.iter().map(|d| stored(d, "uid-1")).collect();
        // Someone else's label is left alone.
        existing[2]
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("team".into(), "blue".into());
        let wanted = vec![
            desired("acme", &record("a", &["jira-software"], 1)), // unchanged
            desired("acme", &record("b", &["jira-servicedesk"], 1)), // product moved: labels and status
            desired("acme", &record("c", &["jira-software"], 4)),    // activity only: status
            desired("acme", &record("new", &["jira-software"], 0)),  // created
        ];
        let p = plan(wanted, &existing, "uid-1");
        assert_eq!(p.unchanged, 1);
        assert_eq!(
            p.create
                .iter()
                .map(|d| d.spec.account_id.as_str())
                .collect::<Vec<_>>(),
            vec!["new"]
        );
        assert_eq!(
            p.update_object
                .iter()
                .map(|d| d.spec.account_id.as_str())
                .collect::<Vec<_>>(),
            vec!["b"]
        );
        assert_eq!(
            p.update_status
                .iter()
                .map(|d| d.spec.account_id.as_str())
                .collect::<Vec<_>>(),
            vec!["b", "c"]
        );
        assert_eq!(p.delete, vec![object_name("acme", "gone")]);
    }

    #[test]
    fn a_user_of_a_previous_connection_with_the_same_name_is_adopted() {
        let d = desired("acme", &record("a", &[], 0));
        let existing = vec![stored(&d, "old-uid")];
        let p = plan(vec![d], &existing, "new-uid");
        assert_eq!(p.update_object.len(), 1);
        assert!(p.update_status.is_empty());
    }
}
