//! The JiraConnection controller: reads the connection's Secrets, checks the credentials, syncs the site on its
//! schedule, writes the JiraUser inventory and the status of the contract.
//!
//! Triggers: a change of the spec (generation) or of the `jiracloud.io/sync-requested` or
//! `jiracloud.io/accept-listing` annotation (status writes do not trigger: a predicate hashes only those), a
//! change of a referenced Secret (metadata-only watch, only when the operator watches a list of namespaces: a
//! cluster-wide install neither lists nor watches Secrets, and re-reads a connection's Secrets every
//! `settings.secret_recheck` instead), and the requeue at `status.nextSyncTime`. Errors retry with per-object
//! exponential backoff and jitter. Syncs run at most `settings.concurrency` at a time over all namespaces, each
//! keeping its incremental-sync cache in memory.

use super::{
    Context, capabilities,
    credentials::ConnectError,
    gauges, inventory, organization, panics, plausibility,
    status::{self, Failure},
};
use crate::{
    api::{
        ANNOTATION_ACCEPT_LISTING, ANNOTATION_SYNC_REQUESTED, InventoryMode, JiraConnection,
        JiraConnectionStatus, find_condition,
    },
    jira::JiraClient,
    sync::{self, OrganizationOutcome, SyncCache, SyncError, SyncOptions},
};
use chrono::{DateTime, Utc};
use futures::{FutureExt, StreamExt, future};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams},
    core::PartialObjectMeta,
    runtime::{
        Controller, PredicateConfig, WatchStreamExt,
        controller::{Action, Config},
        events::{Event, EventType},
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};
use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::Semaphore;
use tracing::{Instrument, debug, info, info_span, warn};

/// The controller's name in metrics.
pub const CONTROLLER: &str = "jiraconnection";

/// First delay after a transient failure (network, 5xx, 429, apiserver errors).
const TRANSIENT_BASE: Duration = Duration::from_secs(5);
/// Longest delay between retries after transient failures.
const TRANSIENT_CAP: Duration = Duration::from_secs(300);
/// First delay after a failure that needs a change (credentials, permissions, spec).
const PERMANENT_BASE: Duration = Duration::from_secs(60);
/// Longest delay between retries after failures that need a change. A change of the spec or of a
/// referenced Secret retries at once anyway.
const PERMANENT_CAP: Duration = Duration::from_secs(3600);
/// Longest Event note.
const NOTE_MAX: usize = 1000;
/// The reason of credentials Jira refused, which also invalidates the cached client.
const REFUSED_CREDENTIALS: &str = "InvalidCredentials";

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A failure of the contract, already written to the conditions.
    #[error("{}: {}", .0.reason, .0.message)]
    Reported(Failure),
    /// The apiserver refused a write or a read.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The reconcile panicked (caught; recorded in the status).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The condition reason (or `KubernetesError`).
    pub fn reason(&self) -> &str {
        match self {
            Error::Reported(f) => &f.reason,
            Error::Kube(_) => "KubernetesError",
            Error::Internal(_) => super::panics::INTERNAL_ERROR,
        }
    }

    /// How long Jira asked to wait before the next attempt.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Reported(f) => f.retry_after,
            Error::Kube(_) | Error::Internal(_) => None,
        }
    }

    /// True when retrying without a change may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Reported(f) => f.transient,
            Error::Kube(_) | Error::Internal(_) => true,
        }
    }
}

type Key = (String, String);

fn key_of(c: &JiraConnection) -> Key {
    (c.namespace().unwrap_or_default(), c.name_any())
}

/// State of the controller shared by every reconcile, in all watched namespaces.
struct State {
    ctx: Arc<Context>,
    /// Bounds the syncs running at once.
    syncs: Semaphore,
    /// Incremental-sync caches by connection.
    caches: Mutex<HashMap<Key, SyncCache>>,
    /// Consecutive failures by connection, for the backoff.
    failures: Mutex<HashMap<Key, u32>>,
    /// By connection whose last sync's organization part failed: the fingerprint of the client it failed with.
    organization_failed: Mutex<HashMap<Key, Option<[u8; 32]>>>,
    /// The longest wait between two reconciles of a connection when its Secrets are not watched.
    secret_recheck: Option<Duration>,
    /// The last status this process wrote, by connection, with the connection's uid. Only this controller
    /// writes the status, so this is never older than the watch cache, which may lag behind a write that
    /// just happened.
    statuses: Mutex<HashMap<Key, (String, JiraConnectionStatus)>>,
}

impl State {
    /// The connection's status: the one this process last wrote, else the one the watch cache holds.
    fn current_status(&self, c: &JiraConnection) -> Option<JiraConnectionStatus> {
        let uid = c.uid().unwrap_or_default();
        match self.statuses.lock().expect("not poisoned").get(&key_of(c)) {
            Some((written_for, st)) if *written_for == uid => Some(st.clone()),
            _ => c.status.clone(),
        }
    }

    /// Drops everything kept about a deleted connection.
    fn forget(&self, c: &JiraConnection) {
        let key = key_of(c);
        let last = self.current_status(c);
        self.statuses.lock().expect("not poisoned").remove(&key);
        self.caches.lock().expect("not poisoned").remove(&key);
        self.failures.lock().expect("not poisoned").remove(&key);
        self.organization_failed
            .lock()
            .expect("not poisoned")
            .remove(&key);
        self.ctx.clients.forget(&key.0, &key.1);
        gauges::forget(&self.ctx.metrics, &gauge_key(&key), last.as_ref());
        debug!(namespace = %key.0, name = %key.1, "forgot a deleted JiraConnection");
    }
}

fn gauge_key(key: &Key) -> gauges::Connection<'_> {
    gauges::Connection {
        namespace: &key.0,
        name: &key.1,
    }
}

/// Runs the JiraConnection controller until `shutdown` completes: one watch per namespace of
/// `settings.watch_namespaces` (or one over all namespaces), in-flight reconciles finish before it returns.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send + 'static) {
    let shutdown = shutdown.boxed().shared();
    let state = Arc::new(State {
        syncs: Semaphore::new(usize::from(ctx.settings.concurrency.max(1))),
        caches: Mutex::default(),
        statuses: Mutex::default(),
        failures: Mutex::default(),
        organization_failed: Mutex::default(),
        secret_recheck: ctx
            .settings
            .watch_namespaces
            .is_empty()
            .then_some(ctx.settings.secret_recheck),
        ctx: ctx.clone(),
    });
    let scopes: Vec<Option<String>> = if ctx.settings.watch_namespaces.is_empty() {
        vec![None]
    } else {
        ctx.settings
            .watch_namespaces
            .iter()
            .cloned()
            .map(Some)
            .collect()
    };
    future::join_all(
        scopes
            .into_iter()
            .map(|ns| run_in(state.clone(), ns, shutdown.clone())),
    )
    .await;
}

/// The part of a connection whose change asks for a reconcile: the spec (generation), the sync request and the
/// acceptance of a listing.
fn spec_or_request(c: &JiraConnection) -> Option<u64> {
    let mut h = DefaultHasher::new();
    c.metadata.generation.hash(&mut h);
    c.annotations().get(ANNOTATION_SYNC_REQUESTED).hash(&mut h);
    c.annotations().get(ANNOTATION_ACCEPT_LISTING).hash(&mut h);
    Some(h.finish())
}

/// The connections of the Secret's namespace that reference it.
fn referencing(
    store: &Store<JiraConnection>,
    namespace: Option<&str>,
    name: &str,
) -> Vec<ObjectRef<JiraConnection>> {
    store
        .state()
        .iter()
        .filter(|c| c.namespace().as_deref() == namespace && c.spec.secret_names().contains(&name))
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect()
}

async fn run_in(
    state: Arc<State>,
    namespace: Option<String>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = state.ctx.client.clone();
    // Secrets are watched by metadata only: their values are read when a connection needs them.
    let (connections, secrets): (Api<JiraConnection>, Api<PartialObjectMeta<Secret>>) =
        match &namespace {
            Some(ns) => (
                Api::namespaced(client.clone(), ns),
                Api::namespaced(client, ns),
            ),
            None => (Api::all(client.clone()), Api::all(client)),
        };
    let (reader, writer) = reflector::store();
    let on_delete = state.clone();
    let triggers = watcher(connections, watcher::Config::default().any_semantic())
        .reflect(writer)
        .filter_map(move |event| {
            future::ready(match event {
                Ok(watcher::Event::Apply(c) | watcher::Event::InitApply(c)) => Some(Ok(c)),
                Ok(watcher::Event::Delete(c)) => {
                    on_delete.forget(&c);
                    None
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                Err(e) => Some(Err(e)),
            })
        })
        // A long TTL: an entry that expires lets one status-only update through, which only requeues.
        .predicate_filter(
            spec_or_request,
            PredicateConfig::default().ttl(Duration::from_secs(7 * 86400)),
        );
    let store = reader.clone();
    info!(
        namespace = namespace.as_deref().unwrap_or("*"),
        "starting the JiraConnection controller"
    );
    let mut controller = Controller::for_stream(triggers, reader);
    if namespace.is_some() {
        let secret_events =
            watcher(secrets, watcher::Config::default().any_semantic()).touched_objects();
        controller = controller.watches_stream(secret_events, move |secret| {
            referencing(
                &store,
                secret.metadata.namespace.as_deref(),
                &secret.name_any(),
            )
        });
    }
    controller
        .with_config(Config::default().concurrency(state.ctx.settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, state)
        .for_each(|result| {
            if let Err(e) = result {
                debug!(error = %e, "reconcile ended with an error");
            }
            future::ready(())
        })
        .await;
}

fn error_policy(connection: Arc<JiraConnection>, error: &Error, state: Arc<State>) -> Action {
    let failures = {
        let mut map = state.failures.lock().expect("not poisoned");
        let n = map.entry(key_of(&connection)).or_insert(0);
        *n = n.saturating_add(1);
        *n
    };
    let delay = backoff(
        failures,
        error.is_transient(),
        rand::random_range(-1.0..=1.0),
    )
    .max(error.retry_after().unwrap_or_default());
    // Unwatched Secrets are re-read at least this often, so that a fixed Secret is noticed.
    let delay = state.secret_recheck.map_or(delay, |r| delay.min(r));
    state
        .ctx
        .metrics
        .reconcile_failed(CONTROLLER, error.reason());
    warn!(
        namespace = connection.namespace().unwrap_or_default(),
        name = connection.name_any(),
        reason = error.reason(),
        failures,
        retry_in_seconds = delay.as_secs(),
        "JiraConnection reconcile failed: {error}"
    );
    Action::requeue(delay)
}

/// The delay before retry number `failures` (1 = first failure): doubling from a base, capped, moved by up to
/// ±20 % (`unit` drawn from `[-1, 1]`) so that connections failing together do not retry together.
pub fn backoff(failures: u32, transient: bool, unit: f64) -> Duration {
    let (base, cap) = if transient {
        (TRANSIENT_BASE, TRANSIENT_CAP)
    } else {
        (PERMANENT_BASE, PERMANENT_CAP)
    };
    let doubled = base.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    doubled.min(cap).mul_f64(1.0 + 0.2 * unit.clamp(-1.0, 1.0))
}

async fn reconcile(connection: Arc<JiraConnection>, state: Arc<State>) -> Result<Action, Error> {
    let (namespace, name) = key_of(&connection);
    let span = info_span!("reconcile", namespace = %namespace, name = %name);
    let _timer = state.ctx.metrics.reconcile_started(CONTROLLER);
    let reconcile = Reconcile {
        state: &state,
        connection: &connection,
        generation: connection.metadata.generation,
        key: (namespace, name),
    };
    let result = match panics::catch(reconcile.run().instrument(span)).await {
        Ok(result) => result,
        Err(panic) => {
            let conditions = state
                .current_status(&connection)
                .map(|s| s.conditions)
                .unwrap_or_default();
            // The next reconcile starts from the recorded status, not from what this process last wrote.
            state
                .statuses
                .lock()
                .expect("not poisoned")
                .remove(&key_of(&connection));
            panics::record(
                &state.ctx,
                connection.as_ref(),
                &conditions,
                status::READY,
                crate::api::status::FALSE,
                &panic,
            )
            .await;
            Err(Error::Internal(panic))
        }
    };
    state.ctx.clients.report_requests(&state.ctx.metrics);
    if result.is_ok() {
        state
            .failures
            .lock()
            .expect("not poisoned")
            .remove(&key_of(&connection));
    }
    result
}

/// One reconcile of one connection.
struct Reconcile<'a> {
    state: &'a State,
    connection: &'a JiraConnection,
    generation: Option<i64>,
    key: Key,
}

impl Reconcile<'_> {
    fn ctx(&self) -> &Context {
        &self.state.ctx
    }

    /// The reconcile, in the order of the contract: suspended? credentials, due? sync, inventory, status.
    async fn run(&self) -> Result<Action, Error> {
        let c = self.connection;
        if c.metadata.deletion_timestamp.is_some() {
            return Ok(Action::await_change());
        }
        let current = self.state.current_status(c);
        let mut st = status::begin(current.as_ref(), self.generation, Utc::now());
        if current.is_none() {
            // First visit: every condition Unknown until checked.
            status::summarize(&mut st, self.generation, Utc::now());
            self.write_status(&JiraConnectionStatus::default(), &st)
                .await?;
        }
        let prev = st.clone();

        if c.spec.sync.suspend {
            status::suspended(&mut st, self.generation, Utc::now());
            self.finish(&prev, &mut st, None).await?;
            return Ok(Action::await_change());
        }
        let interval = match status::parse_interval(&c.spec.sync.interval) {
            Ok(i) => i,
            Err(message) => {
                let failure = Failure::permanent(status::reason::INVALID_INTERVAL, message);
                status::sync_failed(&mut st, &failure, None, self.generation, Utc::now());
                return Err(self.fail(&prev, &mut st, failure).await);
            }
        };
        let requested = c
            .annotations()
            .get(ANNOTATION_SYNC_REQUESTED)
            .map(String::as_str);
        let due = status::due(&prev, self.generation, requested, interval, Utc::now());
        let client = self.connect(&prev, &mut st, due.is_some()).await?;
        let due = due.or_else(|| self.organization_retry(&prev).then_some(status::Due::Retry));
        let Some(due) = due else {
            self.finish(&prev, &mut st, None).await?;
            return Ok(requeue_at(&st, interval, self.state.secret_recheck));
        };
        info!(why = due.as_str(), "syncing");
        // Any sync handles the request pending at its start.
        self.sync_and_record(&prev, &mut st, &client, interval, requested)
            .await
    }

    /// Reads the Secrets and connects (a cached client while nothing changed): `CredentialsValid`. When a sync
    /// is due and cannot run, that is a failed sync too.
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
                status::credentials_valid(st, client.site_info(), self.generation, Utc::now());
                if let Some(grants) = self.ctx().clients.grants(&self.key.0, &self.key.1) {
                    capabilities::record(st, &grants);
                }
                Ok(client)
            }
            Err(e) => {
                let failure = match &e {
                    ConnectError::Jira(jira) => Failure::jira(jira),
                    ConnectError::Credentials(c) if c.is_transient() => {
                        Failure::transient(c.reason(), c.to_string())
                    }
                    ConnectError::Credentials(c) => Failure::permanent(c.reason(), c.to_string()),
                };
                let now = Utc::now();
                status::credentials_failed(st, &failure, self.generation, now);
                if due {
                    status::sync_failed(st, &failure, None, self.generation, now);
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
            Err(failure) => {
                if failure.reason == REFUSED_CREDENTIALS {
                    self.ctx().clients.forget(&self.key.0, &self.key.1);
                    status::credentials_failed(st, &failure, self.generation, Utc::now());
                }
                status::sync_failed(st, &failure, request, self.generation, Utc::now());
                return Err(self.fail(prev, st, failure).await);
            }
        };
        let consumed = match plausibility::judge(&self.seen(st, &inventory)) {
            plausibility::Verdict::Apply { consumed } => consumed,
            plausibility::Verdict::Reject(message) => {
                let failure = Failure::permanent(plausibility::IMPLAUSIBLE_LISTING, message);
                status::sync_failed(st, &failure, request, self.generation, Utc::now());
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
        let next = now + status::jittered(interval, rand::random_range(-1.0..=1.0));
        status::sync_succeeded(
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
                    status::reason::INVENTORY_WRITE_FAILED,
                    format!("the sync succeeded but writing the JiraUsers failed: {e}"),
                );
                status::sync_failed(st, &failure, request, self.generation, now);
                return Err(self.fail(prev, st, failure).await);
            }
        };
        info!(
            users = inventory.users.total,
            incremental = sync_stats.incremental,
            api_requests = sync_stats.api_requests,
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
            self.publish(EventType::Warning, &failure.reason, "Reconcile", note)
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

    /// Runs the sync with the connection's cache, at most `concurrency` at once, and keeps the new cache (moved,
    /// not copied: it holds the activity of every user).
    async fn sync(
        &self,
        client: &JiraClient,
        window_days: u32,
    ) -> Result<(sync::Inventory, sync::SyncStats, OrganizationOutcome), Failure> {
        let _permit = self
            .state
            .syncs
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let cache = self
            .state
            .caches
            .lock()
            .expect("not poisoned")
            .remove(&self.key);
        // A failed sync leaves the state of the last good one for the next incremental sync.
        let kept = cache.clone();
        let options = SyncOptions {
            window_days,
            now: Utc::now(),
        };
        let result = sync::run(client, &options, cache).await;
        match result {
            Ok(sync::SyncOutcome {
                inventory,
                cache,
                stats,
                organization,
            }) => {
                self.state
                    .caches
                    .lock()
                    .expect("not poisoned")
                    .insert(self.key.clone(), cache);
                Ok((inventory, stats, organization))
            }
            Err(e) => {
                if let Some(kept) = kept {
                    self.state
                        .caches
                        .lock()
                        .expect("not poisoned")
                        .insert(self.key.clone(), kept);
                }
                Err(match &e {
                    SyncError::Jira(jira) => Failure::jira(jira),
                    SyncError::InvalidOptions(_) => Failure::permanent(e.reason(), e.to_string()),
                })
            }
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

    /// Writes a failure: status, Warning Event, metrics. Returns the error for the backoff.
    async fn fail(
        &self,
        prev: &JiraConnectionStatus,
        st: &mut JiraConnectionStatus,
        failure: Failure,
    ) -> Error {
        if let Err(e) = self.finish(prev, st, None).await {
            return e;
        }
        let note = crate::jira::clip(&failure.message, NOTE_MAX);
        self.publish(EventType::Warning, &failure.reason, "Reconcile", note)
            .await;
        Error::Reported(failure)
    }

    /// Summarizes, writes the status if it changed, publishes the transition Events and sets the gauges.
    async fn finish(
        &self,
        prev: &JiraConnectionStatus,
        st: &mut JiraConnectionStatus,
        synced: Option<&sync::Inventory>,
    ) -> Result<(), Error> {
        status::summarize(st, self.generation, Utc::now());
        self.write_status(prev, st).await?;
        for (type_, event_reason) in [
            (status::SYNCED, "Synced"),
            (status::CREDENTIALS_VALID, "Authenticated"),
        ] {
            let (before, after) = (
                find_condition(&prev.conditions, type_),
                find_condition(&st.conditions, type_),
            );
            if let Some(after) = after
                && after.status == crate::api::status::TRUE
                && before.is_none_or(|b| b.status != crate::api::status::TRUE)
            {
                self.publish(
                    EventType::Normal,
                    event_reason,
                    "Reconcile",
                    after.message.clone(),
                )
                .await;
            }
        }
        if let Some(note) = capabilities::change(&prev.capabilities, &st.capabilities) {
            self.publish(EventType::Normal, capabilities::CHANGED, "Reconcile", note)
                .await;
        }
        let suspended = |s: &JiraConnectionStatus| {
            find_condition(&s.conditions, status::SYNCED)
                .is_some_and(|c| c.reason == status::reason::SUSPENDED)
        };
        if suspended(st) && !suspended(prev) {
            self.publish(
                EventType::Normal,
                status::reason::SUSPENDED,
                "Reconcile",
                "Syncing is suspended".into(),
            )
            .await;
        }
        self.gauges(prev, st, synced);
        Ok(())
    }

    async fn write_status(
        &self,
        prev: &JiraConnectionStatus,
        st: &JiraConnectionStatus,
    ) -> Result<(), Error> {
        if prev == st {
            return Ok(());
        }
        let api: Api<JiraConnection> = Api::namespaced(self.ctx().client.clone(), &self.key.0);
        let body = serde_json::json!({
            "apiVersion": JiraConnection::api_version(&()),
            "kind": JiraConnection::kind(&()),
            "status": st,
        });
        let params = PatchParams::apply(&self.ctx().settings.field_manager).force();
        api.patch_status(&self.key.1, &params, &Patch::Apply(&body))
            .await?;
        self.state.statuses.lock().expect("not poisoned").insert(
            self.key.clone(),
            (self.connection.uid().unwrap_or_default(), st.clone()),
        );
        Ok(())
    }

    async fn publish(&self, type_: EventType, reason: &str, action: &str, note: String) {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: action.into(),
            secondary: None,
        };
        let reference = self.connection.object_ref(&());
        if let Err(e) = self.ctx().recorder.publish(&event, &reference).await {
            warn!(error = %e, reason, "could not publish an Event");
        }
    }

    fn gauges(
        &self,
        prev: &JiraConnectionStatus,
        st: &JiraConnectionStatus,
        synced: Option<&sync::Inventory>,
    ) {
        let interval = status::parse_interval(&self.connection.spec.sync.interval).ok();
        let products: Option<Vec<&str>> =
            synced.map(|i| i.licenses.iter().map(|l| l.product.as_str()).collect());
        gauges::record(
            &self.ctx().metrics,
            &gauge_key(&self.key),
            prev,
            st,
            interval,
            products.as_deref(),
        );
    }
}

/// Requeue at the next sync time (at least one second from now), or sooner when the Secrets must be re-read
/// (`recheck`).
fn requeue_at(st: &JiraConnectionStatus, interval: Duration, recheck: Option<Duration>) -> Action {
    let next = status::next_sync(st, interval).map(|next| until(next, Utc::now()));
    match (next, recheck) {
        (Some(wait), Some(recheck)) => Action::requeue(wait.min(recheck)),
        (Some(wait), None) => Action::requeue(wait),
        (None, Some(recheck)) => Action::requeue(recheck),
        (None, None) => Action::await_change(),
    }
}

fn until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (at - now)
        .to_std()
        .unwrap_or_default()
        .max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{BasicAuth, BasicAuthSecretRef, ConnectionAuth, JiraConnectionSpec};

    fn connection(generation: i64, request: Option<&str>) -> JiraConnection {
        let mut c = JiraConnection::new(
            "acme",
            JiraConnectionSpec {
                site_url: "https://acme.atlassian.net".into(),
                auth: ConnectionAuth {
                    basic: Some(BasicAuth {
                        secret_ref: BasicAuthSecretRef {
                            name: "jira-basic".into(),
                            email_key: "email".into(),
                            api_token_key: "apiToken".into(),
                        },
                    }),
                    service_account: None,
                },
                organization: None,
                sync: Default::default(),
                inventory: Default::default(),
            },
        );
        c.metadata.namespace = Some("it".into());
        c.metadata.generation = Some(generation);
        if let Some(r) = request {
            c.metadata.annotations =
                Some([(ANNOTATION_SYNC_REQUESTED.to_string(), r.to_string())].into());
        }
        c
    }

    #[test]
    fn status_writes_do_not_trigger_but_spec_and_requests_do() {
        let base = connection(1, None);
        let mut with_status = base.clone();
        with_status.status = Some(JiraConnectionStatus {
            observed_generation: Some(1),
            ..Default::default()
        });
        with_status.metadata.resource_version = Some("99".into());
        assert_eq!(spec_or_request(&base), spec_or_request(&with_status));
        assert_ne!(
            spec_or_request(&base),
            spec_or_request(&connection(2, None))
        );
        assert_ne!(
            spec_or_request(&base),
            spec_or_request(&connection(1, Some("now")))
        );
        assert_ne!(
            spec_or_request(&connection(1, Some("a"))),
            spec_or_request(&connection(1, Some("b")))
        );
        let mut accepting = base.clone();
        accepting.metadata.annotations =
            Some([(ANNOTATION_ACCEPT_LISTING.to_string(), "v1".to_string())].into());
        assert_ne!(spec_or_request(&base), spec_or_request(&accepting));
    }

    #[test]
    fn secrets_map_to_the_connections_that_reference_them() {
        let (reader, mut writer) = reflector::store::<JiraConnection>();
        let mut other = connection(1, None);
        other.metadata.name = Some("other".into());
        other.spec.auth.basic.as_mut().unwrap().secret_ref.name = "other-secret".into();
        let mut elsewhere = connection(1, None);
        elsewhere.metadata.namespace = Some("elsewhere".into());
        for c in [connection(1, None), other, elsewhere] {
            writer.apply_watcher_event(&watcher::Event::Apply(c));
        }
        let refs = referencing(&reader, Some("it"), "jira-basic");
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (refs[0].name.as_str(), refs[0].namespace.as_deref()),
            ("acme", Some("it"))
        );
        assert!(referencing(&reader, Some("it"), "unrelated").is_empty());
    }

    #[test]
    fn backoff_doubles_up_to_a_cap_with_jitter() {
        assert_eq!(backoff(1, true, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(2, true, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(4, true, 0.0), Duration::from_secs(40));
        assert_eq!(backoff(30, true, 0.0), TRANSIENT_CAP);
        assert_eq!(backoff(1, false, 0.0), Duration::from_secs(60));
        assert_eq!(backoff(100, false, 0.0), PERMANENT_CAP);
        assert_eq!(backoff(1, true, 1.0), Duration::from_secs(6));
        assert_eq!(backoff(1, true, -1.0), Duration::from_secs(4));
    }

    #[test]
    fn errors_classify() {
        let reported = Error::Reported(Failure::permanent("InvalidCredentials", "m"));
        assert_eq!(reported.reason(), "InvalidCredentials");
        assert!(!reported.is_transient());
        assert_eq!(reported.retry_after(), None);
        let throttled = Error::Reported(Failure::jira(&crate::jira::JiraError::RateLimited {
            reason: "jira-quota-tenant-based".into(),
            retry_after: Duration::from_secs(900),
        }));
        assert!(throttled.is_transient());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(900)));
        assert_eq!(until(Utc::now(), Utc::now()), Duration::from_secs(1));
    }
}
