//! What the JiraConnection controller keeps between reconciles: the sync caches, the parked syncs, failure
//! counts, the organization part's failures and the last status written, by connection.

use super::parking::ParkedSync;
use crate::{
    api::{JiraConnection, JiraConnectionStatus},
    controller::{Context, gauges, wiring::Retries},
    sync::SyncCache,
};
use kube::ResourceExt;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::Semaphore;
use tracing::debug;

pub(super) type Key = (String, String);

pub(super) fn key_of(c: &JiraConnection) -> Key {
    (c.namespace().unwrap_or_default(), c.name_any())
}

/// State of the controller shared by every reconcile, in all watched namespaces.
pub(super) struct State {
    pub(super) ctx: Arc<Context>,
    /// Bounds the syncs running at once.
    pub(super) syncs: Semaphore,
    /// Incremental-sync caches by connection.
    pub(super) caches: Mutex<HashMap<Key, SyncCache>>,
    /// Syncs parked by a long rate limit, by connection.
    pub(super) parked: Mutex<HashMap<Key, ParkedSync>>,
    /// Consecutive failures by connection, for the backoff.
    pub(super) retries: Retries,
    /// By connection whose last sync's organization part failed: the fingerprint of the client it failed with.
    pub(super) organization_failed: Mutex<HashMap<Key, Option<[u8; 32]>>>,
    /// The longest wait between two reconciles of a connection when its Secrets are not watched.
    pub(super) secret_recheck: Option<Duration>,
    /// The last status this process wrote, by connection, with the connection's uid. Only this controller
    /// writes the status, so this is never older than the watch cache, which may lag behind a write that
    /// just happened.
    pub(super) statuses: Mutex<HashMap<Key, (String, JiraConnectionStatus)>>,
}

impl State {
    /// The connection's status: the one this process last wrote, else the one the watch cache holds.
    pub(super) fn current_status(&self, c: &JiraConnection) -> Option<JiraConnectionStatus> {
        let uid = c.uid().unwrap_or_default();
        match self.statuses.lock().expect("not poisoned").get(&key_of(c)) {
            Some((written_for, st)) if *written_for == uid => Some(st.clone()),
            _ => c.status.clone(),
        }
    }

    /// Drops everything kept about a deleted connection.
    pub(super) fn forget(&self, c: &JiraConnection) {
        let key = key_of(c);
        let last = self.current_status(c);
        self.statuses.lock().expect("not poisoned").remove(&key);
        self.caches.lock().expect("not poisoned").remove(&key);
        self.parked.lock().expect("not poisoned").remove(&key);
        self.retries.clear(c);
        self.organization_failed
            .lock()
            .expect("not poisoned")
            .remove(&key);
        self.ctx.clients.forget(&key.0, &key.1);
        gauges::forget(&self.ctx.metrics, &gauge_key(&key), last.as_ref());
        debug!(namespace = %key.0, name = %key.1, "forgot a deleted JiraConnection");
    }
}

pub(super) fn gauge_key(key: &Key) -> gauges::Connection<'_> {
    gauges::Connection {
        namespace: &key.0,
        name: &key.1,
    }
}
