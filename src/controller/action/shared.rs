//! State shared by the reconciles of one JiraAction controller: the Event queue, outcomes waiting to be
//! written, and what this instance knows of the leader Lease.

use super::super::{
    Context,
    wiring::{Events, Retries},
};
use crate::api::{AttemptRecord, JiraAction, JiraActionStatus, JiraConnection};
use kube::{
    Api, Resource, ResourceExt,
    runtime::{events::EventType, reflector::Store},
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::sync::Semaphore;

pub(super) struct Shared {
    pub(super) ctx: Arc<Context>,
    pub(super) connections: Store<JiraConnection>,
    pub(super) connections_ready: tokio::sync::OnceCell<()>,
    pub(super) crash_after_jira_call: bool,
    /// Consecutive failed reconciles per action.
    pub(super) retries: Retries,
    /// Actions executing at once (`action_concurrency` permits, granted in the order they were asked for).
    pub(super) permits: Semaphore,
    /// Publishes Events in the background, in order.
    pub(super) events: Events,
    /// Outcomes known but not yet written (their status write failed), by action uid: written, never redone.
    pub(super) outcomes: Mutex<HashMap<String, JiraActionStatus>>,
    /// The term of the leader Lease this instance holds, read once.
    pub(super) lease_term: tokio::sync::OnceCell<Option<i32>>,
}

impl Shared {
    pub(super) fn uid(action: &JiraAction) -> String {
        action.uid().unwrap_or_default()
    }

    /// Keeps a known outcome until its status is written.
    pub(super) fn keep_outcome(&self, action: &JiraAction, status: &JiraActionStatus) {
        self.outcomes
            .lock()
            .expect("not poisoned")
            .insert(Self::uid(action), status.clone());
    }

    /// The outcome kept for the action, if its status write failed.
    pub(super) fn kept_outcome(&self, action: &JiraAction) -> Option<JiraActionStatus> {
        self.outcomes
            .lock()
            .expect("not poisoned")
            .get(&Self::uid(action))
            .cloned()
    }

    /// Drops a kept outcome once written.
    pub(super) fn forget_outcome(&self, action: &JiraAction) {
        self.outcomes
            .lock()
            .expect("not poisoned")
            .remove(&Self::uid(action));
    }

    /// The leader Lease, when this instance runs under leader election.
    pub(super) async fn lease(&self) -> Option<k8s_openapi::api::coordination::v1::Lease> {
        let (namespace, name) = self.ctx.settings.leader_lease.as_ref()?;
        let api: Api<k8s_openapi::api::coordination::v1::Lease> =
            Api::namespaced(self.ctx.client.clone(), namespace);
        api.get_opt(name).await.ok().flatten()
    }

    /// The term (`leaseTransitions`) of the leader Lease this instance holds, with leader election.
    pub(super) async fn lease_term(&self) -> Option<i32> {
        *self
            .lease_term
            .get_or_init(|| async {
                self.lease()
                    .await
                    .and_then(|l| l.spec)
                    .and_then(|s| s.lease_transitions)
            })
            .await
    }

    /// True when the instance that recorded an attempt still holds the leader Lease (it may be executing it).
    pub(super) async fn recorder_leads(&self, record: &AttemptRecord) -> bool {
        self.lease()
            .await
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
            .is_some_and(|holder| holder == record.holder)
    }

    /// Queues an Event about `action` (published in the background; never blocks the action).
    pub(super) async fn publish(
        &self,
        action: &JiraAction,
        type_: EventType,
        reason: &str,
        note: &str,
    ) {
        let note = note.chars().take(1000).collect();
        self.events
            .publish(action.object_ref(&()), type_, reason, "Execute", note)
            .await;
    }
}
