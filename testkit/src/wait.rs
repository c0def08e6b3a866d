//! Waiting for a state: every wait polls, names what it waits for, and panics with the last state seen after
//! its limit. No test asserts a duration.

use kube::Api;
use std::time::{Duration, Instant};

/// How long a test waits for the operator (in-process or a process) to reach a state.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// How long the fault tests wait for a state (their faults slow the operator down).
pub const LIMIT: Duration = Duration::from_secs(180);

/// Polls `check` every 200 ms until it returns `Some`, panicking with `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `check` holds for the object `name` (every 100 ms, up to [`DEADLINE`]); `what` names the
/// awaited state in the panic message.
pub async fn wait_for_object<K>(
    api: &Api<K>,
    name: &str,
    what: &str,
    check: impl Fn(&K) -> bool,
) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        let object = api.get_opt(name).await.expect("get the object");
        if let Some(object) = object.as_ref().filter(|o| check(o)) {
            return object.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{name} never became {what}: {object:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
