//! The JiraUser inventory of a connection: one JiraUser per synced user, owned by the connection, labelled for
//! selection, written only when something changed.
//!
//! The plan (what to create, update, delete) is a pure function of the synced users and the existing objects,
//! made one listed page at a time ([`Planner`]); the writer applies it with server-side apply (object and status
//! subresource separately), a bounded number of requests at a time. Objects are created with server-side apply too, so the operator's field
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
/// Hex digits of the accountId hash in a JiraUser's name: 64 bits, so that two of a site's users sharing a name
/// is out of reach (about 3e-10 at 100,000 users; 40 bits would give 0.5 %).
const HASH_LEN: usize = 16;
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

/// What to write so that the existing JiraUsers match the desired ones. Users are positions in the sync's
/// records, so that a plan stays small at any size: [`desired`] computes a user's JiraUser when it is written.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Users without an object, in record order: apply the object, then its status.
    pub create: Vec<usize>,
    /// Users whose object's labels, owner or spec differ, in record order.
    pub update_object: Vec<usize>,
    /// Users whose object's status differs, in record order.
    pub update_status: Vec<usize>,
    /// Objects of users no longer synced, sorted.
    pub delete: Vec<String>,
    /// Objects already as desired.
    pub unchanged: usize,
}

impl Plan {
    /// Number of users whose object is updated (object, status or both).
    pub fn updated(&self) -> usize {
        let mut users: Vec<usize> = self
            .update_object
            .iter()
            .chain(&self.update_status)
            .copied()
            .collect();
        users.sort_unstable();
        users.dedup();
        users.len()
    }
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
            roles: Vec::new(),
            last_active_date: record.last_active_date.map(|d| d.to_string()),
            first_seen_time: None,
            product_last_active: Vec::new(),
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

/// Plans an inventory one listed page of existing JiraUsers at a time, so that neither all the existing
/// objects nor all the desired ones are ever held at once: the users still unmatched are indexed by object name,
/// each listed object is compared with the desired JiraUser of its user (computed from the record and dropped at
/// once), objects whose user is gone are deleted, and the users no page held are created at the end.
#[derive(Debug)]
pub struct Planner<'a> {
    connection: &'a str,
    records: &'a mut [UserRecord],
    /// Each listed user keeps the role its object has (the organization part of the sync failed).
    keep_roles: bool,
    owner_uid: &'a str,
    /// Position in `records` of each user not met in a listed page yet, by object name.
    pending: HashMap<String, usize>,
    plan: Plan,
}

impl<'a> Planner<'a> {
    /// A plan for the `records` of `connection`, whose objects must be controlled by the owner `owner_uid`.
    /// With `keep_roles`, the record of each user whose object exists takes the role the object has.
    pub fn new(
        connection: &'a str,
        records: &'a mut [UserRecord],
        owner_uid: &'a str,
        keep_roles: bool,
    ) -> Planner<'a> {
        let mut pending = HashMap::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            // Two accountIds whose hashes share the name's digits: the first keeps the name.
            pending
                .entry(object_name(connection, &record.account_id))
                .or_insert(i);
        }
        Planner {
            connection,
            records,
            keep_roles,
            owner_uid,
            pending,
            plan: Plan::default(),
        }
    }

    /// Plans one page of the existing JiraUsers (those labelled with the connection).
    pub fn page(&mut self, page: &[JiraUser]) {
        for current in page {
            let name = current.metadata.name.as_deref().unwrap_or_default();
            let Some(i) = self.pending.remove(name) else {
                self.plan.delete.push(name.to_string());
                continue;
            };
            if self.keep_roles {
                self.records[i].role = current.status.as_ref().and_then(|s| s.role.clone());
            }
            let d = desired(self.connection, &self.records[i]);
            let labels = current.labels().iter().filter(|(k, _)| is_managed_label(k));
            let object_differs = !labels.eq(&d.labels)
                || current.spec != d.spec
                || !owned_by(current, self.owner_uid);
            let status_differs = current.status.as_ref() != Some(&d.status);
            if object_differs {
                self.plan.update_object.push(i);
            }
            if status_differs {
                self.plan.update_status.push(i);
            }
            if !object_differs && !status_differs {
                self.plan.unchanged += 1;
            }
        }
    }

    /// The plan, once every page is planned: the users no page held are created.
    pub fn finish(self) -> Plan {
        let mut plan = self.plan;
        plan.create = self.pending.into_values().collect();
        plan.create.sort_unstable();
        plan.update_object.sort_unstable();
        plan.update_status.sort_unstable();
        plan.delete.sort();
        plan
    }
}

/// Calls `each` with every page of the JiraUsers labelled with the connection, one page at a time.
pub async fn for_each_page(
    api: &Api<JiraUser>,
    connection: &str,
    mut each: impl FnMut(&[JiraUser]),
) -> Result<(), kube::Error> {
    let mut params = ListParams::default()
        .labels(&selector(connection))
        .limit(LIST_PAGE);
    loop {
        let page = api.list(&params).await?;
        each(&page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}

/// One write: the object's labels, owner and spec, its status, both in that order (a creation), or a deletion.
enum Write {
    Object(Desired),
    Status(Desired),
    Create(Desired),
    Delete(String),
}

/// Brings the connection's JiraUsers in line with the synced users: creates the missing ones, updates those
/// that differ, deletes those whose user is gone. Writes nothing when everything is as desired. With
/// `keep_roles` (the Admin API failed), existing JiraUsers keep their role.
///
/// The existing objects are planned a listed page at a time against the users indexed by object name, and a
/// user's JiraUser is computed from its record only when it is compared or written, so the memory it takes
/// beyond the records is an index entry per user and one page.
pub async fn write(
    ctx: &Context,
    connection: &JiraConnection,
    records: &mut [UserRecord],
    keep_roles: bool,
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
    let mut planner = Planner::new(&name, records, &owner_uid, keep_roles);
    for_each_page(&api, &name, |page| planner.page(page)).await?;
    let plan = planner.finish();
    let stats = WriteStats {
        created: plan.create.len(),
        updated: plan.updated(),
        deleted: plan.delete.len(),
        unchanged: plan.unchanged,
    };

    // A created object gets its status right after it exists; updates and deletions are independent. The
    // stream computes each JiraUser when a write starts.
    let of = |i: usize| desired(&name, &records[i]);
    let writes = plan
        .create
        .into_iter()
        .map(|i| Write::Create(of(i)))
        .chain(plan.update_object.into_iter().map(|i| Write::Object(of(i))))
        .chain(plan.update_status.into_iter().map(|i| Write::Status(of(i))))
        .chain(plan.delete.into_iter().map(Write::Delete));
    let params = PatchParams::apply(&ctx.settings.field_manager).force();
    stream::iter(writes)
        .map(|w| apply(&api, &params, owner.as_ref(), w))
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
        Write::Object(d) => apply_object(api, params, owner, &d).await,
        Write::Status(d) => apply_status(api, params, &d).await,
        Write::Create(d) => {
            apply_object(api, params, owner, &d).await?;
            apply_status(api, params, &d).await
        }
        Write::Delete(name) => match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e),
        },
    }
}

async fn apply_object(
    api: &Api<JiraUser>,
    params: &PatchParams,
    owner: Option<&OwnerReference>,
    d: &Desired,
) -> Result<(), kube::Error> {
    let mut user = JiraUser::new(&d.name, d.spec.clone());
    user.metadata = ObjectMeta {
        name: Some(d.name.clone()),
        labels: Some(d.labels.clone()),
        owner_references: owner.map(|o| vec![o.clone()]),
        ..ObjectMeta::default()
    };
    api.patch(&d.name, params, &Patch::Apply(&user)).await?;
    Ok(())
}

async fn apply_status(
    api: &Api<JiraUser>,
    params: &PatchParams,
    d: &Desired,
) -> Result<(), kube::Error> {
    let body = serde_json::json!({
        "apiVersion": JiraUser::api_version(&()),
        "kind": JiraUser::kind(&()),
        "status": d.status,
    });
    api.patch_status(&d.name, params, &Patch::Apply(&body))
        .await?;
    Ok(())
}

/// Deletes every JiraUser of the connection (inventory mode `Summary`). Returns how many there were.
pub async fn clear(ctx: &Context, connection: &JiraConnection) -> Result<usize, kube::Error> {
    let namespace = connection.namespace().unwrap_or_default();
    let name = connection.name_any();
    let api: Api<JiraUser> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut existing = 0;
    for_each_page(&api, &name, |page| existing += page.len()).await?;
    if existing == 0 {
        return Ok(0);
    }
    api.delete_collection(
        &DeleteParams::background(),
        &ListParams::default().labels(&selector(&name)),
    )
    .await?;
    Ok(existing)
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

    /// Plans `records` against the existing objects listed in `pages`.
    fn plan_pages(records: &[UserRecord], pages: &[Vec<JiraUser>], uid: &str) -> Plan {
        let mut records = records.to_vec();
        let mut planner = Planner::new("acme", &mut records, uid, false);
        for page in pages {
            planner.page(page);
        }
        planner.finish()
    }

    #[test]
    fn without_the_admin_api_existing_users_keep_their_role() {
        let mut with_roles = records(&["a", "b"]);
        with_roles[0].role = Some("org-admin".into());
        with_roles[1].role = Some("user".into());
        let existing = stored_all(&with_roles, "uid-1");
        // The Admin API failed: no roles in the records, and a new user "c".
        let mut wanted = records(&["a", "b", "c"]);
        let mut planner = Planner::new("acme", &mut wanted, "uid-1", true);
        planner.page(&existing);
        let plan = planner.finish();
        assert_eq!(
            plan,
            Plan {
                create: vec![2],
                unchanged: 2,
                ..Plan::default()
            }
        );
        let roles: Vec<Option<&str>> = wanted.iter().map(|r| r.role.as_deref()).collect();
        assert_eq!(roles, vec![Some("org-admin"), Some("user"), None]);
        // Without keep_roles, the same records would take the roles away.
        let p = plan_pages(&records(&["a", "b"]), &[existing], "uid-1");
        assert_eq!(p.update_status, vec![0, 1]);
    }

    fn records(ids: &[&str]) -> Vec<UserRecord> {
        ids.iter()
            .map(|id| record(id, &["jira-software"], 1))
            .collect()
    }

    fn stored_all(records: &[UserRecord], uid: &str) -> Vec<JiraUser> {
        records
            .iter()
            .map(|r| stored(&desired("acme", r), uid))
            .collect()
    }

    fn ids(records: &[UserRecord], positions: &[usize]) -> Vec<String> {
        positions
            .iter()
            .map(|&i| records[i].account_id.clone())
            .collect()
    }

    #[test]
    fn an_unchanged_site_writes_nothing() {
        let wanted = records(&["a", "b", "c", "d", "e"]);
        let existing = stored_all(&wanted, "uid-1");
        // However the objects are paged and ordered.
        let pages = vec![
            vec![existing[3].clone(), existing[0].clone()],
            vec![existing[4].clone()],
            vec![],
            vec![existing[2].clone(), existing[1].clone()],
        ];
        let p = plan_pages(&wanted, &pages, "uid-1");
        assert_eq!(
            p,
            Plan {
                unchanged: 5,
                ..Plan::default()
            }
        );
        assert_eq!(plan_pages(&wanted, &[existing], "uid-1").unchanged, 5);
    }

    #[test]
    fn an_empty_listing_creates_every_user_in_record_order() {
        let wanted = records(&["a", "b", "c"]);
        let p = plan_pages(&wanted, &[], "uid-1");
        assert_eq!(p.create, vec![0, 1, 2]);
        assert_eq!(p.updated(), 0);
        assert!(p.delete.is_empty());
        assert_eq!(
            plan_pages(&wanted, &[vec![]], "uid-1").create,
            vec![0, 1, 2]
        );
    }

    #[test]
    fn plans_creates_updates_and_deletes() {
        let old = records(&["a", "b", "c", "gone"]);
        let mut existing = stored_all(&old, "uid-1");
        // Someone else's label is left alone.
        existing[2]
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("team".into(), "blue".into());
        let wanted = vec![
            record("a", &["jira-software"], 1),    // unchanged
            record("b", &["jira-servicedesk"], 1), // product moved: labels and status
            record("c", &["jira-software"], 4),    // activity only: status
            record("new", &["jira-software"], 0),  // created
        ];
        let p = plan_pages(&wanted, &[existing], "uid-1");
        assert_eq!(p.unchanged, 1);
        assert_eq!(ids(&wanted, &p.create), vec!["new"]);
        assert_eq!(ids(&wanted, &p.update_object), vec!["b"]);
        assert_eq!(ids(&wanted, &p.update_status), vec!["b", "c"]);
        assert_eq!(p.updated(), 2, "b counts once");
        assert_eq!(p.delete, vec![object_name("acme", "gone")]);
    }

    #[test]
    fn pages_are_planned_apart_and_the_users_no_page_held_are_created() {
        let old = records(&["a", "b", "c", "d", "gone-1", "gone-2"]);
        let mut existing = stored_all(&old, "uid-1");
        existing[1].status.as_mut().unwrap().active_days = 9; // b: status only
        existing[3].spec.account_id = "tampered".into(); // d: object only
        let wanted = records(&["a", "b", "c", "d", "new-1", "new-2"]);
        // Deletions on the first and the last page, updates on both, the users of the middle page unchanged.
        let pages = vec![
            vec![existing[4].clone(), existing[3].clone()],
            vec![existing[0].clone(), existing[2].clone()],
            vec![existing[1].clone(), existing[5].clone()],
        ];
        let p = plan_pages(&wanted, &pages, "uid-1");
        assert_eq!(ids(&wanted, &p.create), vec!["new-1", "new-2"]);
        assert_eq!(ids(&wanted, &p.update_object), vec!["d"]);
        assert_eq!(ids(&wanted, &p.update_status), vec!["b"]);
        assert_eq!(p.unchanged, 2);
        let mut gone = vec![object_name("acme", "gone-1"), object_name("acme", "gone-2")];
        gone.sort();
        assert_eq!(p.delete, gone);
        // The same objects on one page plan the same.
        let one_page: Vec<JiraUser> = pages.into_iter().flatten().collect();
        assert_eq!(plan_pages(&wanted, &[one_page], "uid-1"), p);
    }

    #[test]
    fn every_user_is_gone_from_an_emptied_site() {
        let old = records(&["a", "b", "c"]);
        let existing = stored_all(&old, "uid-1");
        let p = plan_pages(
            &[],
            &[existing[..2].to_vec(), existing[2..].to_vec()],
            "uid-1",
        );
        let mut names: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|id| object_name("acme", id))
            .collect();
        names.sort();
        assert_eq!(p.delete, names);
        assert!(p.create.is_empty() && p.updated() == 0 && p.unchanged == 0);
    }

    #[test]
    fn a_user_of_a_previous_connection_with_the_same_name_is_adopted() {
        let wanted = records(&["a", "b"]);
        let mut existing = stored_all(&wanted, "uid-1");
        existing[1] = stored(&desired("acme", &wanted[1]), "old-uid");
        let p = plan_pages(
            &wanted,
            &[vec![existing[0].clone()], vec![existing[1].clone()]],
            "new-uid",
        );
        assert_eq!(ids(&wanted, &p.update_object), vec!["a", "b"]);
        assert!(p.update_status.is_empty() && p.create.is_empty() && p.delete.is_empty());
        // A reference to the owner that is not the controller reference does not count either.
        let mut shared = stored(&desired("acme", &wanted[0]), "uid-1");
        shared.metadata.owner_references.as_mut().unwrap()[0].controller = None;
        let p = plan_pages(&wanted[..1], &[vec![shared]], "uid-1");
        assert_eq!(p.update_object, vec![0]);
    }

    #[test]
    fn a_managed_label_the_user_lost_is_removed() {
        let wanted = records(&["a"]);
        let mut existing = stored_all(&wanted, "uid-1");
        existing[0]
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert(product_label("jira-servicedesk"), "true".into());
        let p = plan_pages(&wanted, &[existing], "uid-1");
        assert_eq!(p.update_object, vec![0]);
        assert!(p.update_status.is_empty());
    }
}
