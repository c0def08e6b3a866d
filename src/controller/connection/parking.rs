//! Syncs parked by a long rate limit. When Jira asks to wait longer than the client waits by itself, the sync
//! engine stops with a checkpoint of the parts it finished ([`sync::Parked`]); the controller keeps it by
//! connection, writes `Synced=Unknown` (reason `RateLimited`, with the resume time and Jira's reason) while
//! every figure of the last good sync and `Ready` stay, publishes one Event, and comes back at the resume
//! time, when the sync reads only its unfinished parts.
//!
//! The checkpoint belongs to one sync: it is dropped when the spec changed since (generation), when it is
//! older than the connection's sync interval, or (by the engine) when the site, the window or the cache it
//! continued changed; the sync then starts afresh. It lives in memory only: an operator restarted while a sync
//! is parked starts the next sync afresh.

use super::{Error, reconcile::Reconcile, record::requeue_at};
use crate::{
    api::{JiraConnectionStatus, find_condition},
    controller::{conditions, schedule},
    sync,
};
use chrono::Utc;
use kube::runtime::{controller::Action, events::EventType};
use std::time::Duration;
use tracing::info;

/// A parked sync of one connection, with the generation of the spec it ran for.
pub(super) struct ParkedSync {
    generation: Option<i64>,
    checkpoint: sync::Checkpoint,
}

impl Reconcile<'_> {
    /// The checkpoint the connection's next sync resumes from, taken out of the state: none when no sync is
    /// parked, the spec changed since, or it is older than the sync interval.
    pub(super) fn resumable(&self) -> Option<sync::Checkpoint> {
        let parked = self
            .state
            .parked
            .lock()
            .expect("not poisoned")
            .remove(&self.key)?;
        let interval = schedule::parse_interval(&self.connection.spec.sync.interval).ok()?;
        (parked.generation == self.generation && parked.checkpoint.fresh(Utc::now(), interval))
            .then_some(parked.checkpoint)
    }

    /// Keeps a parked sync and records it: the status, one Event when the sync was not parked already, and a
    /// requeue at the resume time.
    pub(super) async fn park(
        &self,
        prev: &JiraConnectionStatus,
        st: &mut JiraConnectionStatus,
        parked: sync::Parked,
        interval: Duration,
    ) -> Result<Action, Error> {
        let sync::Parked {
            checkpoint,
            resume_at,
            reason,
        } = parked;
        conditions::sync_parked(
            st,
            &reason,
            resume_at,
            &checkpoint.finished(),
            self.generation,
            Utc::now(),
        );
        info!(%reason, resume_at = %resume_at, finished = ?checkpoint.finished(), "sync parked by a rate limit");
        self.state.parked.lock().expect("not poisoned").insert(
            self.key.clone(),
            ParkedSync {
                generation: self.generation,
                checkpoint,
            },
        );
        self.finish(prev, st, None).await?;
        if !conditions::is_parked(prev) {
            let note = find_condition(&st.conditions, conditions::SYNCED)
                .map(|c| c.message.clone())
                .unwrap_or_default();
            self.publish(
                EventType::Normal,
                conditions::reason::RATE_LIMITED,
                "Reconcile",
                note,
            )
            .await;
        }
        Ok(requeue_at(st, interval, self.state.secret_recheck))
    }
}
