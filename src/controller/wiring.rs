//! What the controllers share in how they run: the namespaces they watch and the `Api` of one, the backoff
//! after failures, and the publishing of Events.

use super::Settings;
use crate::error::Classify;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::{
    Api, Client, Resource, ResourceExt,
    core::NamespaceResourceScope,
    runtime::events::{Event, EventType, Recorder},
};
use std::{collections::HashMap, sync::Mutex, time::Duration};
use tokio::{sync::mpsc, task::JoinHandle};

/// The scopes a controller watches: each namespace of `settings.watch_namespaces`, or all namespaces (`None`)
/// when that list is empty.
pub fn scopes(settings: &Settings) -> Vec<Option<String>> {
    if settings.watch_namespaces.is_empty() {
        vec![None]
    } else {
        settings
            .watch_namespaces
            .iter()
            .cloned()
            .map(Some)
            .collect()
    }
}

/// The `Api` of namespaced resources `K` in `namespace`, or in all namespaces for `None`.
pub fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A capped exponential backoff: `base` doubling per failure up to `cap`, moved by up to ±20 % so that objects
/// failing together do not retry together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first failure.
    pub base: Duration,
    /// The longest delay.
    pub cap: Duration,
}

impl Backoff {
    /// The delay before retry number `failures` (1 = first failure), moved by `unit` (from `[-1, 1]`) times
    /// 20 %.
    pub fn delay(self, failures: u32, unit: f64) -> Duration {
        let doubled = self
            .base
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16));
        spread(doubled.min(self.cap), unit)
    }

    /// The delay before retry number `failures`, moved at random.
    pub fn after(self, failures: u32) -> Duration {
        self.delay(failures, random_unit())
    }
}

/// `d` moved at random by up to ±20 %.
pub fn jitter(d: Duration) -> Duration {
    spread(d, random_unit())
}

fn spread(d: Duration, unit: f64) -> Duration {
    d.mul_f64(1.0 + 0.2 * unit.clamp(-1.0, 1.0))
}

fn random_unit() -> f64 {
    rand::random_range(-1.0..=1.0)
}

/// Consecutive failed reconciles per object (namespace, name) of one controller, and the backoffs that turn
/// them into the wait before the next attempt.
pub struct Retries {
    /// The backoff after transient errors.
    transient: Backoff,
    /// The backoff after errors that need a change.
    permanent: Backoff,
    failures: Mutex<HashMap<(String, String), u32>>,
}

impl Retries {
    /// No failures yet; `transient` and `permanent` back off after errors of either kind.
    pub fn new(transient: Backoff, permanent: Backoff) -> Retries {
        Retries {
            transient,
            permanent,
            failures: Mutex::default(),
        }
    }

    /// Counts a failed reconcile of `object`: its consecutive failures and the wait before retrying it (the
    /// backoff of the error's kind, at least as long as the error asks).
    pub fn failed(&self, object: &impl ResourceExt, error: &impl Classify) -> (u32, Duration) {
        let failures = {
            let mut map = self.failures.lock().expect("not poisoned");
            let n = map.entry(key(object)).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let backoff = if error.is_transient() {
            self.transient
        } else {
            self.permanent
        };
        let delay = backoff
            .after(failures)
            .max(error.retry_after().unwrap_or_default());
        (failures, delay)
    }

    /// Forgets the failures of `object` (it reconciled, or was deleted).
    pub fn clear(&self, object: &impl ResourceExt) {
        self.failures
            .lock()
            .expect("not poisoned")
            .remove(&key(object));
    }
}

fn key(object: &impl ResourceExt) -> (String, String) {
    (object.namespace().unwrap_or_default(), object.name_any())
}

/// One Event, as the controllers publish them.
struct Queued {
    regarding: ObjectReference,
    event: Event,
}

/// Publishes Events about the operator's objects: at once (the publishing is awaited), or through a queue that
/// a background task publishes one at a time, in order ([`Events::queued`]). A failure to publish is logged.
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
    queue: Option<mpsc::UnboundedSender<Queued>>,
}

impl Events {
    /// A publisher that publishes at once.
    pub fn new(recorder: Recorder) -> Events {
        Events {
            recorder,
            queue: None,
        }
    }

    /// A publisher that queues its Events for a background task, and that task: it publishes them one at a time,
    /// in order, and ends once every clone of the publisher is dropped and the queue is empty.
    pub fn queued(&self) -> (Events, JoinHandle<()>) {
        let (sender, mut queue) = mpsc::unbounded_channel::<Queued>();
        let recorder = self.recorder.clone();
        let task = tokio::spawn(async move {
            while let Some(q) = queue.recv().await {
                send(&recorder, &q.regarding, &q.event).await;
            }
        });
        let events = Events {
            recorder: self.recorder.clone(),
            queue: Some(sender),
        };
        (events, task)
    }

    /// Publishes (or queues) an Event `reason` of `type_` about `regarding`, for the `action` the controller
    /// took.
    pub async fn publish(
        &self,
        regarding: ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: action.into(),
            secondary: None,
        };
        match &self.queue {
            None => send(&self.recorder, &regarding, &event).await,
            Some(queue) => {
                if queue.send(Queued { regarding, event }).is_err() {
                    tracing::debug!("the Event publisher has stopped; Event dropped");
                }
            }
        }
    }
}

async fn send(recorder: &Recorder, regarding: &ObjectReference, event: &Event) {
    if let Err(e) = recorder.publish(event, regarding).await {
        tracing::warn!(error = %e, reason = event.reason, "could not publish an Event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap_with_jitter() {
        let b = Backoff {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(300),
        };
        assert_eq!(b.delay(1, 0.0), Duration::from_secs(5));
        assert_eq!(b.delay(2, 0.0), Duration::from_secs(10));
        assert_eq!(b.delay(4, 0.0), Duration::from_secs(40));
        assert_eq!(b.delay(30, 0.0), Duration::from_secs(300));
        assert_eq!(b.delay(u32::MAX, 0.0), Duration::from_secs(300));
        assert_eq!(b.delay(1, 1.0), Duration::from_secs(6));
        assert_eq!(b.delay(1, -1.0), Duration::from_secs(4));
        assert_eq!(b.delay(1, 7.0), Duration::from_secs(6), "at most 20 %");
        for _ in 0..100 {
            let d = b.after(3);
            assert!(
                d >= Duration::from_secs(16) && d <= Duration::from_secs(24),
                "{d:?}"
            );
            let j = jitter(Duration::from_secs(60));
            assert!(
                j >= Duration::from_secs(48) && j <= Duration::from_secs(72),
                "{j:?}"
            );
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("e")]
    struct E(bool, Option<Duration>);

    impl Classify for E {
        fn reason(&self) -> &'static str {
            "E"
        }
        fn is_transient(&self) -> bool {
            self.0
        }
        fn retry_after(&self) -> Option<Duration> {
            self.1
        }
    }

    #[test]
    fn retries_count_per_object_and_pick_the_backoff_of_the_error() {
        let secs = |base, cap| Backoff {
            base: Duration::from_secs(base),
            cap: Duration::from_secs(cap),
        };
        let retries = Retries::new(secs(10, 10), secs(100, 100));
        let mut a = k8s_openapi::api::core::v1::ConfigMap::default();
        a.metadata.name = Some("a".into());
        a.metadata.namespace = Some("ns".into());
        let mut b = a.clone();
        b.metadata.namespace = Some("other".into());
        let within = |d: Duration, s: f64| d.as_secs_f64() >= s * 0.8 && d.as_secs_f64() <= s * 1.2;
        let (n, d) = retries.failed(&a, &E(true, None));
        assert!(n == 1 && within(d, 10.0), "{n} {d:?}");
        let (n, d) = retries.failed(&a, &E(false, None));
        assert!(n == 2 && within(d, 100.0), "{n} {d:?}");
        let (n, d) = retries.failed(&a, &E(true, Some(Duration::from_secs(900))));
        assert_eq!((n, d), (3, Duration::from_secs(900)));
        assert_eq!(retries.failed(&b, &E(true, None)).0, 1);
        retries.clear(&a);
        assert_eq!(retries.failed(&a, &E(true, None)).0, 1);
    }
}
