//! What a reconcile leaves behind: the status (written only when it changed), the Events of its transitions,
//! the gauges, and when to come back.

use super::{Error, NOTE_MAX, reconcile::Reconcile, state::gauge_key};
use crate::{
    api::{JiraConnection, JiraConnectionStatus, find_condition},
    controller::{capabilities, conditions, gauges, schedule},
    error::Failure,
    sync,
};
use chrono::{DateTime, Utc};
use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams},
    runtime::{controller::Action, events::EventType},
};
use std::time::Duration;

impl Reconcile<'_> {
    /// Writes a failure: status, Warning Event, metrics. Returns the error for the backoff.
    pub(super) async fn fail(
        &self,
        prev: &JiraConnectionStatus,
        st: &mut JiraConnectionStatus,
        failure: Failure,
    ) -> Error {
        if let Err(e) = self.finish(prev, st, None).await {
            return e;
        }
        let note = crate::jira::clip(&failure.message, NOTE_MAX);
        self.publish(EventType::Warning, failure.reason, "Reconcile", note)
            .await;
        Error::Reported(failure)
    }

    /// Summarizes, writes the status if it changed, publishes the transition Events and sets the gauges.
    pub(super) async fn finish(
        &self,
        prev: &JiraConnectionStatus,
        st: &mut JiraConnectionStatus,
        synced: Option<&sync::Inventory>,
    ) -> Result<(), Error> {
        conditions::summarize(st, self.generation, Utc::now());
        self.write_status(prev, st).await?;
        for (type_, event_reason) in [
            (conditions::SYNCED, "Synced"),
            (conditions::CREDENTIALS_VALID, "Authenticated"),
        ] {
            let (before, after) = (
                find_condition(&prev.conditions, type_),
                find_condition(&st.conditions, type_),
            );
            if let Some(after) = after
                && after.status == crate::api::condition_status::TRUE
                && before.is_none_or(|b| b.status != crate::api::condition_status::TRUE)
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
            find_condition(&s.conditions, conditions::SYNCED)
                .is_some_and(|c| c.reason == conditions::reason::SUSPENDED)
        };
        if suspended(st) && !suspended(prev) {
            self.publish(
                EventType::Normal,
                conditions::reason::SUSPENDED,
                "Reconcile",
                "Syncing is suspended".into(),
            )
            .await;
        }
        self.gauges(prev, st, synced);
        Ok(())
    }

    pub(super) async fn write_status(
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

    pub(super) async fn publish(&self, type_: EventType, reason: &str, action: &str, note: String) {
        let regarding = self.connection.object_ref(&());
        self.ctx()
            .events
            .publish(regarding, type_, reason, action, note)
            .await;
    }

    fn gauges(
        &self,
        prev: &JiraConnectionStatus,
        st: &JiraConnectionStatus,
        synced: Option<&sync::Inventory>,
    ) {
        let interval = schedule::parse_interval(&self.connection.spec.sync.interval).ok();
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
pub(super) fn requeue_at(
    st: &JiraConnectionStatus,
    interval: Duration,
    recheck: Option<Duration>,
) -> Action {
    let next = schedule::next_sync(st, interval).map(|next| until(next, Utc::now()));
    match (next, recheck) {
        (Some(wait), Some(recheck)) => Action::requeue(wait.min(recheck)),
        (Some(wait), None) => Action::requeue(wait),
        (None, Some(recheck)) => Action::requeue(recheck),
        (None, None) => Action::await_change(),
    }
}

pub(super) fn until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (at - now)
        .to_std()
        .unwrap_or_default()
        .max(Duration::from_secs(1))
}
