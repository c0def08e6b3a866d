//! Answers about a site that a burst of actions shares for a few seconds ([`SHARED_FOR`]): the first caller
//! asks Jira, the callers that arrive while it waits, or shortly after, take its answer. A failed answer is not
//! shared: the next caller asks again.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::time::Instant;
use tokio::sync::OnceCell;

/// How long an answer is shared.
pub(super) const SHARED_FOR: Duration = Duration::from_secs(5);

/// One answer and when it was asked for.
struct Slot<V> {
    asked: Instant,
    answer: OnceCell<V>,
}

/// Answers by key, each shared for a while from the moment it was asked for.
pub(super) struct Recent<K, V> {
    shared_for: Duration,
    slots: Mutex<HashMap<K, Arc<Slot<V>>>>,
}

impl<K: Hash + Eq, V: Clone> Recent<K, V> {
    /// Answers shared for `shared_for`.
    pub(super) fn new(shared_for: Duration) -> Self {
        Self {
            shared_for,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The answer for `key`: the shared one while it is recent, otherwise the one `ask` gives.
    pub(super) async fn get_or_ask<E, Fut>(&self, key: K, ask: impl FnOnce() -> Fut) -> Result<V, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = {
            let mut slots = self.slots.lock().expect("not poisoned");
            match slots.get(&key) {
                Some(slot) if slot.asked.elapsed() < self.shared_for => slot.clone(),
                _ => {
                    slots.retain(|_, slot| slot.asked.elapsed() < self.shared_for);
                    let slot = Arc::new(Slot {
                        asked: Instant::now(),
                        answer: OnceCell::new(),
                    });
                    slots.insert(key, slot.clone());
                    slot
                }
            }
        };
        slot.answer.get_or_try_init(ask).await.cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn callers_at_once_share_one_answer_per_key() {
        let recent = Recent::<&str, usize>::new(Duration::from_secs(3600));
        let asked = AtomicUsize::new(0);
        let ask = || async {
            tokio::task::yield_now().await;
            Ok::<_, ()>(asked.fetch_add(1, Ordering::SeqCst))
        };
        let answers =
            futures::future::join_all((0..100).map(|_| recent.get_or_ask("OPS", ask))).await;
        assert!(answers.iter().all(|a| *a == Ok(0)), "{answers:?}");
        assert_eq!(recent.get_or_ask("ENG", ask).await, Ok(1), "per key");
        assert_eq!(recent.get_or_ask("OPS", ask).await, Ok(0));
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_old_answer_is_asked_again() {
        let recent = Recent::<&str, usize>::new(Duration::ZERO);
        assert_eq!(
            recent.get_or_ask("OPS", || async { Ok::<_, ()>(1) }).await,
            Ok(1)
        );
        assert_eq!(
            recent.get_or_ask("OPS", || async { Ok::<_, ()>(2) }).await,
            Ok(2)
        );
        assert_eq!(
            recent.slots.lock().unwrap().len(),
            1,
            "old answers are dropped"
        );
    }

    #[tokio::test]
    async fn a_failure_is_not_shared() {
        let recent = Recent::<&str, usize>::new(Duration::from_secs(3600));
        assert_eq!(
            recent.get_or_ask("OPS", || async { Err("503") }).await,
            Err("503")
        );
        assert_eq!(
            recent
                .get_or_ask("OPS", || async { Ok::<_, &str>(7) })
                .await,
            Ok(7)
        );
        assert_eq!(
            recent
                .get_or_ask("OPS", || async { Ok::<_, &str>(8) })
                .await,
            Ok(7)
        );
    }
}
