//! One reconcile of one connection, in the order of the contract: suspended? credentials, due? sync,
//! inventory, status.

use super::{
    Error, NOTE_MAX,
    record::requeue_at,
    state::{Key, State},
    stored_cache,
};
use crate::{
    api::{
        ANNOTATION_ACCEPT_LISTING, ANNOTATION_SYNC_REQUESTED, InventoryMode, JiraConnection,
        JiraConnectionStatus,
    },
    controller::{
        Context, capabilities, conditions, inventory, organization, plausibility, schedule,
    },
    error::Failure,
    jira::{JiraClient, JiraError},
    sync::{self, OrganizationOutcome, SyncError, SyncOptions},
};
use chrono::Utc;
use kube::{
    ResourceExt,
    runtime::{controller::Action, events::EventType},
};
use std::time::Duration;
use tracing::{debug, info, warn};

/// One reconcile of one connection.
pub(super) struct Reconcile<'a> {
    pub(super) state: &'a State,
    pub(super) connection: &'a JiraConnection,
    pub(super) generation: Option<i64>,
    pub(super) key: Key,
}

impl Reconcile<'_> {
    pub(super) fn ctx(&self) -> &Context {
        &self.state.ctx
    }

    /// The reconcile, in the order of the contract: suspended? credentials, due? sync, inventory, status.
    pub(super) async fn run(&self) -> Result<Action, Error> {
        let c = self.connection;
        if c.metadata.deletion_timestamp.is_some() {
            return Ok(Action::await_change());
        }
        let current = self.state.current_status(c);
        let mut st = conditions::begin(current.as_ref(), self.generation, Utc::now());
        if current.is_none() {
            // First visit: every condition Unknown until checked.
            conditions::summarize(&mut st, self.generation, Utc::now());
            self.write_status(&JiraConnectionStatus::default(), &st)
                .await?;
        }
        let prev = st.clone();

        if c.spec.sync.suspend {
            conditions::suspended(&mut st, self.generation, Utc::now());
            self.finish(&prev, &mut st, None).await?;
            return Ok(Action::await_change());
        }
        let interval = match schedule::parse_interval(&c.spec.sync.interval) {
            Ok(i) => i,
            Err(message) => {
                let failure = Failure::permanent(conditions::reason::INVALID_INTERVAL, message);
                conditions::sync_failed(&mut st, &failure, None, self.generation, Utc::now());
                return Err(self.fail(&prev, &mut st, failure).await);
            }
        };
        let requested = c
            .annotations()
            .get(ANNOTATION_SYNC_REQUESTED)
            .map(String::as_str);
        let due = schedule::due(&prev, self.generation, requested, interval, Utc::now());
        let client = self.connect(&prev, &mut st, due.is_some()).await?;
        let due = due.or_else(|| {
            self.organization_retry(&prev)
                .then_some(schedule::Due::Retry)
        });
        let Some(due) = due else {
            self.finish(&prev, &mut st, None).await?;
            return Ok(requeue_at(&st, interval, self.state.secret_recheck));
        };
        info!(why = due.as_str(), "syncing");
        // Any sync handles the request pending at its start.
        let synced = self
            .sync_and_record(&prev, &mut st, &client, interval, requested)
            .await;
        // The sync's records, listings and pages are dropped by now.
        crate::memory::release_freed();
        synced
    }

    /// Reads the Secrets and connects (a cached client while nothing changed): `CredentialsValid`, and the
    /// capabilities when the client is new or a sync is `due` (a reconcile between syncs sends Jira nothing).
    /// When a sync is due and cannot run, that is a failed sync too.
    async fn connect(
        &self,
        prev: &JiraConnectionStatus,
        st: &mut JiraConnectionStatus,
        due: bool,
    ) -> Result<JiraClient, Error> {
        match self
            .ctx()
            .clients
            .connect(self.ctx(), self.connection)
            .await
        {
            Ok(client) => {
                conditions::credentials_valid(st, client.site_info(), self.generation, Utc::now());
                let clients = &self.ctx().clients;
                if let Some(grants) = clients
                    .check_grants(self.ctx(), &self.key.0, &self.key.1, due)
                    .await
                {
                    capabilities::record(st, &grants);
                }
                Ok(client)
            }
            Err(e) => {
                let failure = Failure::of(&e);
                let now = Utc::now();
                conditions::credentials_failed(st, &failure, self.generation, now);
                if due {
                    conditions::sync_failed(st, &failure, None, self.generation, now);
                }
                Err(self.fail(prev, st, failure).await)
            }
        }
    }

    /// Syncs, writes the inventory, then the status with the new figures (or the failure, keeping the old
    /// figures).
    async fn sync_and_record(
        &self,
        prev: &JiraConnectionStatus,
        st: &mut JiraConnectionStatus,
        client: &JiraClient,
        interval: Duration,
        request: Option<&str>,
    ) -> Result<Action, Error> {
        let (mut inventory, sync_stats, org) = match self
            .sync(client, self.connection.spec.sync.usage_window_days)
            .await
        {
            Ok(synced) => synced,
            Err(SyncError::Parked(parked)) => return self.park(prev, st, *parked, interval).await,
            Err(error) => {
                let failure = Failure::of(&error);
                // Refused credentials also invalidate the cached client.
                if matches!(error, SyncError::Jira(JiraError::InvalidCredentials { .. })) {
                    self.ctx().clients.forget(&self.key.0, &self.key.1);
                    conditions::credentials_failed(st, &failure, self.generation, Utc::now());
                }
                conditions::sync_failed(st, &failure, request, self.generation, Utc::now());
                return Err(self.fail(prev, st, failure).await);
            }
        };
        let consumed = match plausibility::judge(&self.seen(st, &inventory)) {
            plausibility::Verdict::Apply { consumed } => consumed,
            plausibility::Verdict::Reject(message) => {
                let failure = Failure::permanent(plausibility::IMPLAUSIBLE_LISTING, message);
                conditions::sync_failed(st, &failure, request, self.generation, Utc::now());
                return Err(self.fail(prev, st, failure).await);
            }
        };
        // Without the Admin API, each JiraUser keeps the role it has.
        let keep_roles = matches!(org, OrganizationOutcome::Failed(_));
        self.remember_organization(keep_roles);
        let written = self
            .write_inventory(&mut inventory.records, keep_roles)
            .await;
        let now = Utc::now();
        let next = now + schedule::jittered(interval, rand::random_range(-1.0..=1.0));
        conditions::sync_succeeded(
            st,
            &inventory,
            &sync_stats,
            request,
            next,
            self.generation,
            now,
        );
        if consumed.is_some() {
            st.accepted_listing = consumed;
        }
        let org_failure = organization::record(st, &org, inventory.roles, self.generation, now);
        let stats = match written {
            Ok(stats) => stats,
            Err(e) => {
                let failure = Failure::transient(
                    conditions::reason::INVENTORY_WRITE_FAILED,
                    format!("the sync succeeded but writing the JiraUsers failed: {e}"),
                );
                conditions::sync_failed(st, &failure, request, self.generation, now);
                return Err(self.fail(prev, st, failure).await);
            }
        };
        info!(
            users = inventory.users.total,
            incremental = sync_stats.incremental,
            api_requests = sync_stats.api_requests,
            rate_limit_remaining = sync_stats.rate_limit_remaining,
            seconds = sync_stats.duration.as_secs_f64(),
            jirausers_created = stats.created,
            jirausers_updated = stats.updated,
            jirausers_deleted = stats.deleted,
            jirausers_unchanged = stats.unchanged,
            "sync complete"
        );
        self.finish(prev, st, Some(&inventory)).await?;
        if let Some(failure) = org_failure {
            let note = crate::jira::clip(&failure.message, NOTE_MAX);
            self.publish(EventType::Warning, failure.reason, "Reconcile", note)
                .await;
        }
        Ok(requeue_at(st, interval, self.state.secret_recheck))
    }

    /// True when the last organization part failed with another client than the current one (the spec or a
    /// Secret changed since).
    fn organization_retry(&self, st: &JiraConnectionStatus) -> bool {
        let current = self.ctx().clients.fingerprint(&self.key.0, &self.key.1);
        let failed = self.state.organization_failed.lock().expect("not poisoned");
        organization::retry_due(
            st,
            failed.get(&self.key).and_then(Option::as_ref),
            current.as_ref(),
        )
    }

    /// Remembers whether the organization part failed, and with which client.
    fn remember_organization(&self, failed: bool) {
        let mut map = self.state.organization_failed.lock().expect("not poisoned");
        if failed {
            let current = self.ctx().clients.fingerprint(&self.key.0, &self.key.1);
            map.insert(self.key.clone(), current);
        } else {
            map.remove(&self.key);
        }
    }

    /// What the sync saw, for the plausibility check of its users listing.
    fn seen<'a>(
        &'a self,
        st: &'a JiraConnectionStatus,
        inventory: &'a sync::Inventory,
    ) -> plausibility::Seen<'a> {
        plausibility::Seen {
            listing: inventory.listing,
            users: inventory.users.total,
            own_account: &inventory.site.account_id,
            last_good: st.users.as_ref().map(|u| u64::from(u.total)),
            max_shrink_percent: self.connection.spec.sync.max_shrink_percent,
            accept: self
                .connection
                .annotations()
                .get(ANNOTATION_ACCEPT_LISTING)
                .map(String::as_str),
            accepted: st.accepted_listing.as_deref(),
        }
    }

    /// Runs the sync with the connection's cache, at most `concurrency` at once, and keeps the new cache in
    /// memory and in the cluster. The cache is moved into the sync, not copied (it holds the activity of every
    /// user): after a failed sync the next one reads the stored cache again.
    async fn sync(
        &self,
        client: &JiraClient,
        window_days: u32,
    ) -> Result<(sync::Inventory, sync::SyncStats, OrganizationOutcome), SyncError> {
        let _permit = self
            .state
            .syncs
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let kept = self
            .state
            .caches
            .lock()
            .expect("not poisoned")
            .remove(&self.key);
        let cache = match kept {
            Some(cache) => Some(cache),
            None => self.stored_cache().await,
        };
        let options = SyncOptions {
            window_days,
            now: Utc::now(),
        };
        let sync::SyncOutcome {
            inventory,
            cache,
            stats,
            organization,
        } = sync::resume(client, &options, cache, self.resumable()).await?;
        self.store_cache(&cache).await;
        self.state
            .caches
            .lock()
            .expect("not poisoned")
            .insert(self.key.clone(), cache);
        Ok((inventory, stats, organization))
    }

    /// The cache stored in the cluster, if there is a usable one.
    async fn stored_cache(&self) -> Option<sync::SyncCache> {
        match stored_cache::load(self.ctx(), self.connection).await {
            Ok(cache) => cache,
            Err(e) => {
                warn!(error = %e, "the stored sync cache cannot be used: the sync is a full one");
                None
            }
        }
    }

    /// Stores the cache in the cluster; a failure costs only a full sync after the next restart.
    async fn store_cache(&self, cache: &sync::SyncCache) {
        match stored_cache::save(self.ctx(), self.connection, cache).await {
            Ok(stats) => debug!(
                shards_created = stats.created,
                shards_deleted = stats.deleted,
                "stored the sync cache"
            ),
            Err(e) => warn!(error = %e, "storing the sync cache failed"),
        }
    }

    async fn write_inventory(
        &self,
        records: &mut [sync::UserRecord],
        keep_roles: bool,
    ) -> Result<inventory::WriteStats, kube::Error> {
        match self.connection.spec.inventory {
            InventoryMode::Users => {
                inventory::write(self.ctx(), self.connection, records, keep_roles).await
            }
            InventoryMode::Summary => {
                inventory::clear(self.ctx(), self.connection)
                    .await
                    .map(|deleted| inventory::WriteStats {
                        deleted,
                        ..Default::default()
                    })
            }
        }
    }
}
