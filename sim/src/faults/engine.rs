//! The live fault state: the faults in force with their counters, token buckets and failed logins.

use std::collections::HashMap;
use std::time::Instant;

use parking_lot::Mutex;

use super::config::Faults;
use crate::rng::Rng;

/// A token bucket of one credential.
pub(super) struct Bucket {
    pub(super) tokens: f64,
    pub(super) at: Instant,
}

/// Counters, buckets and the random generator behind the faults in force.
pub(super) struct Inner {
    pub(super) faults: Faults,
    pub(super) seen_rate: u64,
    pub(super) seen_error: u64,
    pub(super) seen_drop: u64,
    pub(super) errors_left: Option<u64>,
    pub(super) limited_left: Option<u64>,
    pub(super) drops_left: Option<u64>,
    pub(super) seen_after: u64,
    pub(super) after_left: Option<u64>,
    pub(super) listing_calls: u64,
    pub(super) buckets: HashMap<u64, Bucket>,
    pub(super) failed_logins: HashMap<String, u32>,
    pub(super) rng: Rng,
}

/// The live fault state.
pub(crate) struct FaultEngine {
    pub(super) inner: Mutex<Inner>,
}

impl Default for FaultEngine {
    fn default() -> Self {
        FaultEngine {
            inner: Mutex::new(Inner {
                faults: Faults::default(),
                seen_rate: 0,
                seen_error: 0,
                seen_drop: 0,
                errors_left: None,
                limited_left: None,
                drops_left: None,
                seen_after: 0,
                after_left: None,
                listing_calls: 0,
                buckets: HashMap::new(),
                failed_logins: HashMap::new(),
                rng: Rng::new(7),
            }),
        }
    }
}

/// Whether the `seen`-th affected request is an Nth one.
pub(super) fn nth(seen: u64, every: Option<u64>) -> bool {
    every.is_some_and(|n| n > 0 && seen.is_multiple_of(n))
}

impl Inner {
    /// Whether the faults apply to a request (`Faults.routes`): an entry `POST /rest/api/3/issue` names the
    /// method too, an entry without one matches any method.
    pub(super) fn affects(&self, method: &str, path: &str) -> bool {
        self.faults.routes.is_empty()
            || self.faults.routes.iter().any(|r| match r.split_once(' ') {
                Some((m, p)) if m.eq_ignore_ascii_case(method) => path.contains(p),
                Some(_) => false,
                None => path.contains(r.as_str()),
            })
    }
}

impl FaultEngine {
    /// Replaces the faults in force (counters and buckets restart).
    pub(crate) fn set(&self, faults: Faults) {
        let mut i = self.inner.lock();
        i.errors_left = faults.server_error.as_ref().and_then(|e| e.count);
        i.limited_left = faults.rate_limit.as_ref().and_then(|r| r.count);
        i.drops_left = faults.drop_connection.as_ref().and_then(|d| d.count);
        i.after_left = faults.after_processing.as_ref().and_then(|a| a.count);
        i.seen_after = 0;
        i.listing_calls = 0;
        i.seen_rate = 0;
        i.seen_error = 0;
        i.seen_drop = 0;
        i.buckets.clear();
        i.failed_logins.clear();
        i.faults = faults;
    }

    /// The faults in force.
    pub(crate) fn get(&self) -> Faults {
        self.inner.lock().faults.clone()
    }

    /// The deployment type to report, when disguised.
    pub(crate) fn deployment_type(&self) -> Option<String> {
        self.inner.lock().faults.deployment_type.clone()
    }

    /// The search index lag in force, in milliseconds.
    pub(crate) fn search_lag_ms(&self) -> u64 {
        self.inner.lock().faults.search_lag_ms
    }

    /// Whether an email is locked behind a CAPTCHA.
    pub(crate) fn captcha_locked(&self, email: &str) -> bool {
        let i = self.inner.lock();
        match i.faults.captcha_after_failures {
            Some(n) => i.failed_logins.get(email).is_some_and(|&f| f >= n),
            None => false,
        }
    }

    /// Counts a failed Basic login (only while the CAPTCHA fault is set).
    pub(crate) fn login_failed(&self, email: &str) {
        let mut i = self.inner.lock();
        if i.faults.captcha_after_failures.is_some() {
            *i.failed_logins.entry(email.to_string()).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_may_name_its_method() {
        let engine = FaultEngine::default();
        engine.set(Faults {
            routes: vec!["POST /rest/api/3/issue".into(), "/rest/api/3/myself".into()],
            ..Faults::default()
        });
        let i = engine.inner.lock();
        assert!(i.affects("POST", "/rest/api/3/issue"));
        assert!(i.affects("post", "/rest/api/3/issue"));
        assert!(!i.affects("GET", "/rest/api/3/issue/createmeta/1/issuetypes"));
        assert!(i.affects("GET", "/rest/api/3/myself"));
        assert!(i.affects("PUT", "/rest/api/3/myself"));
        assert!(!i.affects("GET", "/rest/api/3/project/ENG"));
    }
}
