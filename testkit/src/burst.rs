//! A burst of createIssue actions, watched to the end: the figures of the action burst test and bench.

use crate::{
    harness::{Harness, action_object},
    observed::phase,
};
use futures::{StreamExt, TryStreamExt};
use jira_cloud_operator::api::{ActionPhase, JiraAction};
use kube::{
    ResourceExt,
    api::{ListParams, PostParams},
    runtime::{WatchStreamExt, watcher},
};
use serde_json::json;
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// Figures of a burst of actions.
pub struct BurstReport {
    /// Actions in the burst.
    pub actions: usize,
    /// From the first create request to the last action seen Succeeded.
    pub wall: Duration,
    /// Per action, from the return of its create call (the object exists) to the watch event showing it
    /// Succeeded: the latency the operator is responsible for.
    pub watched: Vec<Duration>,
    /// Per action, from the moment its create request was sent to the same watch event: also counts the time
    /// the create request itself took.
    pub from_request: Vec<Duration>,
    /// Per action, from `creationTimestamp` to `completionTime` (one-second resolution).
    pub recorded: Vec<Duration>,
    /// The finished actions.
    pub finished: Vec<JiraAction>,
}

impl BurstReport {
    /// Actions finished per second over the whole burst.
    pub fn throughput(&self) -> f64 {
        self.actions as f64 / self.wall.as_secs_f64()
    }
}

/// The `p`th percentile (0-100, nearest rank) of `values`.
pub fn percentile(values: &[Duration], p: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Creates `count` createIssue actions named `<prefix>-<i>` at once (64 create requests in flight) and waits,
/// by watching, until every one has finished; panics if any fails or the burst takes more than ten minutes.
pub async fn burst(h: &Harness, prefix: &str, count: usize) -> BurstReport {
    let api = h.actions();
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let watch = tokio::spawn({
        let api = api.clone();
        async move {
            let mut events =
                std::pin::pin!(watcher(api, watcher::Config::default()).applied_objects());
            while let Some(action) = events.try_next().await.expect("the watch of actions") {
                if matches!(
                    phase(&action),
                    Some(ActionPhase::Succeeded | ActionPhase::Failed)
                ) {
                    let _ = seen_tx.send((action.name_any(), Instant::now()));
                }
            }
        }
    });
    // Let the watch establish before the burst.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let start = Instant::now();
    let sent: HashMap<String, (Instant, Instant)> = futures::stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            async move {
                let name = format!("{prefix}-{i}");
                let object = action_object(
                    &name,
                    "acme",
                    json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": format!("Burst {i}")}}),
                );
                let requested = Instant::now();
                api.create(&PostParams::default(), &object)
                    .await
                    .unwrap_or_else(|e| panic!("create {name}: {e}"));
                (name, (requested, Instant::now()))
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let mut done: HashMap<String, Instant> = HashMap::new();
    while done.len() < count {
        match tokio::time::timeout_at(deadline, seen_rx.recv()).await {
            Ok(Some((name, at))) => {
                if sent.contains_key(&name) {
                    done.entry(name).or_insert(at);
                }
            }
            _ => panic!("only {} of {count} actions finished in time", done.len()),
        }
    }
    let wall = done
        .values()
        .max()
        .expect("some actions")
        .duration_since(start);
    watch.abort();

    let finished: Vec<JiraAction> = api
        .list(&ListParams::default())
        .await
        .expect("list the actions")
        .items
        .into_iter()
        .filter(|a| sent.contains_key(&a.name_any()))
        .collect();
    let recorded = finished
        .iter()
        .filter_map(|a| {
            let created = a.metadata.creation_timestamp.as_ref()?.0;
            let completed = a.status.as_ref()?.completion_time.as_ref()?.0;
            Duration::try_from(completed.duration_since(created)).ok()
        })
        .collect();
    let watched = sent
        .iter()
        .map(|(name, (_, created))| done[name].saturating_duration_since(*created))
        .collect();
    let from_request = sent
        .iter()
        .map(|(name, (requested, _))| done[name].saturating_duration_since(*requested))
        .collect();
    BurstReport {
        actions: count,
        wall,
        watched,
        from_request,
        recorded,
        finished,
    }
}
