//! Request counters by route template and status (control traffic under `/__sim` is not counted).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// A snapshot of the counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests answered (dropped connections excluded).
    pub total: u64,
    /// 429 answers injected by the rate-limit fault.
    pub rate_limited: u64,
    /// 5xx answers injected by the server-error fault.
    pub server_errors: u64,
    /// Connections dropped by the fault.
    pub dropped_connections: u64,
    /// Requests processed whose answer the after-processing fault delayed or dropped (they are also
    /// counted by route with the status they would have had).
    #[serde(default)]
    pub answers_lost: u64,
    /// Counts by method, route template (e.g. `/rest/api/3/issue/{issueIdOrKey}`, gateway routes are
    /// prefixed with `/ex/jira/{cloudId}`, unknown paths are `unmatched`) and status, sorted.
    pub routes: Vec<RouteCount>,
}

/// One counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCount {
    /// HTTP method.
    pub method: String,
    /// Route template.
    pub route: String,
    /// HTTP status.
    pub status: u16,
    /// Requests.
    pub count: u64,
}

impl Stats {
    /// Requests to a route (any status).
    pub fn count(&self, method: &str, route: &str) -> u64 {
        self.routes
            .iter()
            .filter(|r| r.method == method && r.route == route)
            .map(|r| r.count)
            .sum()
    }

    /// Requests to a route answered with `status`.
    pub fn count_status(&self, method: &str, route: &str, status: u16) -> u64 {
        self.routes
            .iter()
            .filter(|r| r.method == method && r.route == route && r.status == status)
            .map(|r| r.count)
            .sum()
    }
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    by_route: Mutex<HashMap<(Method, String, u16), u64>>,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) server_errors: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) answers_lost: AtomicU64,
}

impl Collector {
    pub(crate) fn record(&self, method: &Method, route: &str, status: u16) {
        let mut map = self.by_route.lock();
        if let Some(n) = map.get_mut(&(method.clone(), route.to_string(), status)) {
            *n += 1;
        } else {
            map.insert((method.clone(), route.to_string(), status), 1);
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let map = self.by_route.lock();
        let mut routes: Vec<RouteCount> = map
            .iter()
            .map(|((m, r, s), c)| RouteCount {
                method: m.to_string(),
                route: r.clone(),
                status: *s,
                count: *c,
            })
            .collect();
        routes
            .sort_by(|a, b| (&a.route, &a.method, a.status).cmp(&(&b.route, &b.method, b.status)));
        Stats {
            total: routes.iter().map(|r| r.count).sum(),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            dropped_connections: self.dropped.load(Ordering::Relaxed),
            answers_lost: self.answers_lost.load(Ordering::Relaxed),
            routes,
        }
    }

    pub(crate) fn reset(&self) {
        self.by_route.lock().clear();
        self.rate_limited.store(0, Ordering::Relaxed);
        self.server_errors.store(0, Ordering::Relaxed);
        self.dropped.store(0, Ordering::Relaxed);
        self.answers_lost.store(0, Ordering::Relaxed);
    }
}
