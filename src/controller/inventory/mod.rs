//! The JiraUser inventory of a connection: one JiraUser per synced user, owned by the connection, labelled for
//! selection, written only when something changed.
//!
//! The plan (what to create, update, delete) is a pure function of the synced users and the existing objects,
//! made one listed page at a time ([`Planner`]); the writer applies it with server-side apply (object and status
//! subresource separately), a bounded number of requests at a time. Objects are created with server-side apply too, so the operator's field
//! manager owns every label it set and a later apply without a label removes it.

mod desired;
#[cfg(test)]
mod fixtures;
mod plan;
mod remembered;

pub use desired::{Desired, desired, object_name, product_label, selector};
pub use plan::{Plan, Planner};

use super::Context;
use crate::{
    api::{JiraConnection, JiraUser},
    sync::UserRecord,
};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams},
};

/// Requests to the apiserver in flight at once while writing an inventory.
pub const WRITE_CONCURRENCY: usize = 16;
/// Page size when listing a connection's JiraUsers.
const LIST_PAGE: u32 = 500;
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
/// `keep_roles` (the Admin API failed), existing JiraUsers keep their role, roles and Admin API dates. Every
/// JiraUser keeps its latest activity and first-seen time across syncs.
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
    remembered::seen_at(records, chrono::Utc::now());
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
