//! A connection's incremental-sync cache kept in its namespace, so that the first sync of a restarted operator
//! (or of a new leader) is as cheap as a daily one.
//!
//! The cache is stored as a [`Snapshot`]: an index ConfigMap `<connection>-sync-cache` (site, window, horizon,
//! shard names) and one ConfigMap per shard, `<connection>-sync-cache-<digest>`, named after the SHA-256 of its
//! content. All are owned by the connection (deleted with it) and labelled with it. A save creates the shards
//! it does not find, applies the index, then deletes the shards the previous index named and the new one does
//! not: an unchanged shard costs no write, and a save cut short leaves the previous index whole.
//!
//! A load trusts nothing in the namespace: an index owned by another object (an earlier connection of the same
//! name), a shard name outside the connection's prefix, a shard whose content does not match its name (it is
//! deleted) or that does not read back makes the load fail, and the sync is then a full one.

use crate::{
    api::{JiraConnection, LABEL_CONNECTION},
    controller::Context,
    sync::{Snapshot, SnapshotError, SyncCache},
};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::{
    ByteString, api::core::v1::ConfigMap, apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams},
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Label on the cache's ConfigMaps: `index` or `shard`.
pub const LABEL_SYNC_CACHE: &str = "jiracloud.io/sync-cache";
/// The version of the stored layout; another one is ignored.
const FORMAT: &str = "1";
/// The key of a shard's data.
const SHARD_KEY: &str = "cache.json.gz";
/// Shards read or written at once.
const CONCURRENCY: usize = 4;

/// Why a stored cache could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The apiserver failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The index or a shard is not what the operator wrote.
    #[error("{0}")]
    Invalid(String),
    /// A shard does not read back.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// What a save wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SaveStats {
    /// Shards created.
    pub created: usize,
    /// Shards deleted.
    pub deleted: usize,
}

fn index_name(connection: &str) -> String {
    format!("{connection}-sync-cache")
}

fn shard_name(connection: &str, bytes: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(bytes));
    format!("{}-{}", index_name(connection), &digest[..16])
}

fn labels(connection: &str, role: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_CONNECTION.to_owned(), connection.to_owned()),
        (LABEL_SYNC_CACHE.to_owned(), role.to_owned()),
    ])
}

impl LoadError {
    /// True when what is stored cannot be used (as opposed to an apiserver that failed to answer).
    fn is_broken(&self) -> bool {
        match self {
            LoadError::Kube(kube::Error::Api(s)) => s.code == 404,
            LoadError::Kube(_) => false,
            LoadError::Invalid(_) | LoadError::Snapshot(_) => true,
        }
    }
}

/// The cache stored for `connection`, or `None` when there is none. A stored cache that cannot be used loses
/// its index, so that the next save writes every shard again.
pub async fn load(
    ctx: &Context,
    connection: &JiraConnection,
) -> Result<Option<SyncCache>, LoadError> {
    let api: Api<ConfigMap> = Api::namespaced(
        ctx.client.clone(),
        &connection.namespace().unwrap_or_default(),
    );
    let result = read(&api, connection).await;
    if let Err(e) = &result
        && e.is_broken()
    {
        delete(&api, &index_name(&connection.name_any())).await?;
    }
    result
}

async fn read(
    api: &Api<ConfigMap>,
    connection: &JiraConnection,
) -> Result<Option<SyncCache>, LoadError> {
    let name = connection.name_any();
    let Some(index) = api.get_opt(&index_name(&name)).await? else {
        return Ok(None);
    };
    let uid = connection.uid().unwrap_or_default();
    if !index.owner_references().iter().any(|o| o.uid == uid) {
        return Err(LoadError::Invalid(format!(
            "ConfigMap {} is not owned by this connection",
            index.name_any()
        )));
    }
    let data = index.data.unwrap_or_default();
    let field = |key: &str| {
        data.get(key)
            .ok_or_else(|| LoadError::Invalid(format!("the index has no {key}")))
    };
    if field("format")? != FORMAT {
        return Ok(None);
    }
    let window_days = field("windowDays")?
        .parse()
        .map_err(|_| LoadError::Invalid("windowDays is not a number".into()))?;
    let horizon = DateTime::parse_from_rfc3339(field("horizon")?)
        .map_err(|_| LoadError::Invalid("horizon is not a time".into()))?
        .with_timezone(&Utc);
    let prefix = format!("{}-", index_name(&name));
    let names: Vec<&str> = field("shards")?.lines().collect();
    if let Some(bad) = names.iter().find(|n| !n.starts_with(&prefix)) {
        return Err(LoadError::Invalid(format!(
            "the index names {bad}, not a shard of this connection"
        )));
    }
    let reads: Vec<_> = names
        .into_iter()
        .map(|shard| read_shard(api, &name, shard))
        .collect();
    let shards: Vec<Vec<u8>> = stream::iter(reads)
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let snapshot = Snapshot {
        cloud_id: field("cloudId")?.clone(),
        window_days,
        horizon,
        shards,
    };
    Ok(Some(SyncCache::from_snapshot(&snapshot)?))
}

/// A shard's bytes, checked against its name; a shard whose content does not match is deleted.
async fn read_shard(
    api: &Api<ConfigMap>,
    connection: &str,
    name: &str,
) -> Result<Vec<u8>, LoadError> {
    let shard = api.get(name).await?;
    let bytes = shard
        .binary_data
        .and_then(|mut d| d.remove(SHARD_KEY))
        .map(|b| b.0)
        .unwrap_or_default();
    if shard_name(connection, &bytes) != name {
        delete(api, name).await?;
        return Err(LoadError::Invalid(format!(
            "ConfigMap {name} does not hold what its name says"
        )));
    }
    Ok(bytes)
}

/// Stores `cache` for `connection`.
pub async fn save(
    ctx: &Context,
    connection: &JiraConnection,
    cache: &SyncCache,
) -> Result<SaveStats, kube::Error> {
    let name = connection.name_any();
    let api: Api<ConfigMap> = Api::namespaced(
        ctx.client.clone(),
        &connection.namespace().unwrap_or_default(),
    );
    let snapshot = cache.snapshot();
    let previous: Vec<String> = api
        .get_opt(&index_name(&name))
        .await?
        .and_then(|cm| cm.data)
        .and_then(|mut d| d.remove("shards"))
        .map(|s| s.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    let owner = connection.controller_owner_ref(&());
    let shards: Vec<(String, Vec<u8>)> = snapshot
        .shards
        .into_iter()
        .map(|bytes| (shard_name(&name, &bytes), bytes))
        .collect();
    let creates: Vec<_> = shards
        .iter()
        .filter(|(n, _)| !previous.contains(n))
        .map(|(shard, bytes)| create_shard(&api, &name, owner.as_ref(), shard, bytes))
        .collect();
    let created: Vec<bool> = stream::iter(creates)
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let names: Vec<&str> = shards.iter().map(|(n, _)| n.as_str()).collect();
    let index = ConfigMap {
        metadata: ObjectMeta {
            name: Some(index_name(&name)),
            labels: Some(labels(&name, "index")),
            owner_references: owner.map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([
            ("format".to_owned(), FORMAT.to_owned()),
            ("cloudId".to_owned(), snapshot.cloud_id),
            ("windowDays".to_owned(), snapshot.window_days.to_string()),
            (
                "horizon".to_owned(),
                snapshot.horizon.to_rfc3339_opts(SecondsFormat::Nanos, true),
            ),
            ("shards".to_owned(), names.join("\n")),
        ])),
        ..ConfigMap::default()
    };
    let params = PatchParams::apply(&ctx.settings.field_manager).force();
    api.patch(&index_name(&name), &params, &Patch::Apply(&index))
        .await?;
    let deletes: Vec<_> = previous
        .iter()
        .filter(|p| !names.contains(&p.as_str()))
        .map(|shard| delete(&api, shard))
        .collect();
    let deleted = deletes.len();
    stream::iter(deletes)
        .buffer_unordered(CONCURRENCY)
        .try_collect::<()>()
        .await?;
    Ok(SaveStats {
        created: created.into_iter().filter(|c| *c).count(),
        deleted,
    })
}

/// Creates a shard; true when it was created, false when it exists (a shard's name is its content).
async fn create_shard(
    api: &Api<ConfigMap>,
    connection: &str,
    owner: Option<&OwnerReference>,
    name: &str,
    bytes: &[u8],
) -> Result<bool, kube::Error> {
    let shard = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels(connection, "shard")),
            owner_references: owner.map(|o| vec![o.clone()]),
            ..ObjectMeta::default()
        },
        binary_data: Some(BTreeMap::from([(
            SHARD_KEY.to_owned(),
            ByteString(bytes.to_vec()),
        )])),
        immutable: Some(true),
        ..ConfigMap::default()
    };
    match api.create(&PostParams::default(), &shard).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

async fn delete(api: &Api<ConfigMap>, name: &str) -> Result<(), kube::Error> {
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}
