//! The JiraUser inventory of a connection: one JiraUser per synced user, owned by the connection, labelled for
//! selection, written only when something changed.
//!
//! The plan (what to create, update, delete) is a pure function of the synced users and the existing objects,
//! made one listed page at a time ([`Planner`]); the writer applies it with server-side apply, a bounded number of
//! requests at a time. JiraUser has no status subresource: one apply carries a user's labels, owner, spec and
//! status, whether it creates the object or updates it. The operator's field manager owns every label and field it
//! set, so a later apply without one removes it.

mod desired;
#[cfg(test)]
mod fixtures;
mod legacy;
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
    /// JiraUsers updated.
    pub updated: usize,
    /// JiraUsers deleted.
    pub deleted: usize,
    /// JiraUsers left alone.
    pub unchanged: usize,
    /// JiraUsers of an earlier version whose managed fields were migrated (once each; see [`legacy`]).
    pub migrated: usize,
}

impl WriteStats {
    /// Number of objects written (created, updated or deleted).
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.deleted + self.migrated
    }
}

/// The JiraUsers labelled with a connection, listed a page at a time.
pub struct Pages<'a> {
    api: &'a Api<JiraUser>,
    params: Option<ListParams>,
}

impl<'a> Pages<'a> {
    /// The pages of the JiraUsers of `connection` that `api` (its namespace) lists.
    pub fn new(api: &'a Api<JiraUser>, connection: &str) -> Self {
        let params = ListParams::default()
            .labels(&selector(connection))
            .limit(LIST_PAGE);
        Pages {
            api,
            params: Some(params),
        }
    }

    /// The next page, or `None` after the last one.
    pub async fn next(&mut self) -> Result<Option<Vec<JiraUser>>, kube::Error> {
        let Some(params) = self.params.take() else {
            return Ok(None);
        };
        let page = self.api.list(&params).await?;
        self.params = page
            .metadata
            .continue_
            .filter(|c| !c.is_empty())
            .map(|token| params.continue_token(&token));
        Ok(Some(page.items))
    }
}

/// One write: a user's whole JiraUser (created or updated), or a deletion.
enum Write {
    Apply(Box<Desired>),
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
    let manager = &ctx.settings.field_manager;
    let mut planner = Planner::new(&name, records, &owner_uid, keep_roles);
    let mut pages = Pages::new(&api, &name);
    let mut migrated = 0;
    while let Some(page) = pages.next().await? {
        migrated += legacy::migrate(&api, manager, &page, WRITE_CONCURRENCY).await?;
        planner.page(&page);
    }
    let plan = planner.finish();
    let stats = WriteStats {
        created: plan.create.len(),
        updated: plan.update.len(),
        deleted: plan.delete.len(),
        unchanged: plan.unchanged,
        migrated,
    };

    // The stream computes each JiraUser when its write starts.
    let of = |i: usize| desired(&name, &records[i]);
    let writes = plan
        .create
        .into_iter()
        .chain(plan.update)
        .map(|i| Write::Apply(Box::new(of(i))))
        .chain(plan.delete.into_iter().map(Write::Delete));
    let params = PatchParams::apply(manager).force();
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
        Write::Apply(d) => {
            let d = *d;
            let mut user = JiraUser::new(&d.name, d.spec);
            user.metadata = ObjectMeta {
                name: Some(d.name.clone()),
                labels: Some(d.labels),
                owner_references: owner.map(|o| vec![o.clone()]),
                ..ObjectMeta::default()
            };
            user.status = Some(d.status);
            api.patch(&d.name, params, &Patch::Apply(&user)).await?;
            Ok(())
        }
        Write::Delete(name) => match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e),
        },
    }
}

/// Deletes every JiraUser of the connection (inventory mode `Summary`). Returns how many there were.
pub async fn clear(ctx: &Context, connection: &JiraConnection) -> Result<usize, kube::Error> {
    let namespace = connection.namespace().unwrap_or_default();
    let name = connection.name_any();
    let api: Api<JiraUser> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut existing = 0;
    let mut pages = Pages::new(&api, &name);
    while let Some(page) = pages.next().await? {
        existing += page.len();
    }
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
