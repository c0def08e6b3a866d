//! The waits of a [`Harness`]: a connection or an action reaching a state, actions finishing, Events published.

use super::Harness;
use crate::{
    observed::{condition, finished},
    wait::{LIMIT, eventually},
};
use jira_cloud_operator::api::{JiraAction, JiraConnection};
use k8s_openapi::api::events::v1::Event;
use kube::{Api, api::ListParams};
use std::time::{Duration, Instant};

impl Harness {
    /// Waits until the connection satisfies `ok`.
    pub async fn wait_connection(
        &self,
        name: &str,
        what: &str,
        ok: impl Fn(&JiraConnection) -> bool,
    ) -> JiraConnection {
        let api = self.connections();
        eventually(&format!("{name}: {what}"), LIMIT, || async {
            api.get(name).await.ok().filter(|c| ok(c))
        })
        .await
    }

    /// Waits until the connection handled `request` and its Synced condition is True.
    pub async fn synced_after(&self, name: &str, request: &str) -> JiraConnection {
        self.wait_connection(name, &format!("synced after request {request}"), |c| {
            c.status
                .as_ref()
                .is_some_and(|s| s.last_sync_request.as_deref() == Some(request))
                && condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await
    }

    /// Waits until `check` holds for the action; a read the apiserver drops under load is retried like any
    /// other poll. Panics with the action's status after [`LIMIT`].
    pub async fn wait_action(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&JiraAction) -> bool,
    ) -> JiraAction {
        let deadline = Instant::now() + LIMIT;
        loop {
            let action = match self.actions().get(name).await {
                Ok(action) => Some(action),
                Err(e) if Instant::now() < deadline => {
                    eprintln!("reading JiraAction {name} failed, retrying: {e}");
                    None
                }
                Err(e) => panic!("reading JiraAction {name}: {e}"),
            };
            if let Some(action) = action {
                if check(&action) {
                    return action;
                }
                assert!(
                    Instant::now() < deadline,
                    "JiraAction {name} never came {what}: {:?}",
                    action.status
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the action finished (Succeeded or Failed).
    pub async fn finished(&self, name: &str) -> JiraAction {
        self.wait_action(name, "to finish", finished).await
    }

    /// Waits until every action of `names` finished and returns them.
    pub async fn finished_all(&self, names: &[String]) -> Vec<JiraAction> {
        let mut out = Vec::new();
        for name in names {
            out.push(self.finished(name).await);
        }
        out
    }

    /// The Events about the object `name` in the namespace.
    async fn events_about(&self, name: &str) -> Vec<Event> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        events
            .list(&ListParams::default())
            .await
            .expect("list Events")
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .collect()
    }

    /// Reasons of the Events about the object `name`, of type `type_` (`Normal`/`Warning`).
    pub async fn event_reasons(&self, name: &str, type_: &str) -> Vec<String> {
        self.events_about(name)
            .await
            .into_iter()
            .filter(|e| e.type_.as_deref() == Some(type_))
            .filter_map(|e| e.reason)
            .collect()
    }

    /// Waits until an Event of type `type_` with `reason` about the object was published (Events are
    /// published in the background, after the status they describe); false after a minute without one.
    pub async fn has_event(&self, name: &str, type_: &str, reason: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self
                .event_reasons(name, type_)
                .await
                .iter()
                .any(|r| r == reason)
            {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The note of a Warning Event with `reason` about the object `name`, if one exists.
    pub async fn warning_note(&self, name: &str, reason: &str) -> Option<String> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        events
            .list(&Default::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| {
                e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                    && e.type_.as_deref() == Some("Warning")
                    && e.reason.as_deref() == Some(reason)
            })
            .and_then(|e| e.note)
    }
}
