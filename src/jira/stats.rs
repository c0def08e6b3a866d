//! Request counters of a connection, per endpoint, and their difference between two snapshots.

use std::collections::BTreeMap;

/// Counters of one endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// HTTP requests sent (every attempt).
    pub requests: u64,
    /// Of those, answered 429.
    pub throttled: u64,
    /// Of those, failed at the network level or answered 5xx.
    pub failed: u64,
}

/// The rate-limit budget an answer said was left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Points (`RateLimit` `r=`) or requests (`X-RateLimit-Remaining`) left.
    pub remaining: u64,
    /// The number of the request (counted from 1, as `RequestStats::total`) whose answer said it.
    pub request: u64,
}

/// Request counters of a connection since it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP requests sent (every attempt, including throttled and retried ones).
    pub total: u64,
    /// Requests answered 429.
    pub throttled: u64,
    /// Requests that failed at the network level or answered 5xx.
    pub failed: u64,
    /// Per endpoint, keyed `METHOD /path/template`.
    pub by_endpoint: BTreeMap<String, EndpointStats>,
    /// The budget the latest answer that carried one said was left.
    pub budget: Option<Budget>,
}

impl RequestStats {
    /// Counters accumulated since `earlier` (a previous snapshot of the same client).
    pub fn since(&self, earlier: &RequestStats) -> RequestStats {
        let by_endpoint = self
            .by_endpoint
            .iter()
            .filter_map(|(k, v)| {
                let e = earlier.by_endpoint.get(k).copied().unwrap_or_default();
                let d = EndpointStats {
                    requests: v.requests - e.requests,
                    throttled: v.throttled - e.throttled,
                    failed: v.failed - e.failed,
                };
                (d != EndpointStats::default()).then(|| (k.clone(), d))
            })
            .collect();
        RequestStats {
            total: self.total - earlier.total,
            throttled: self.throttled - earlier.throttled,
            failed: self.failed - earlier.failed,
            by_endpoint,
            budget: self.budget.filter(|b| b.request > earlier.total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_difference() {
        let mut a = RequestStats {
            total: 3,
            ..RequestStats::default()
        };
        a.by_endpoint.insert(
            "GET /x".into(),
            EndpointStats {
                requests: 3,
                throttled: 1,
                failed: 0,
            },
        );
        let mut b = a.clone();
        b.total = 5;
        b.throttled = 1;
        b.by_endpoint.get_mut("GET /x").unwrap().requests = 5;
        let d = b.since(&a);
        assert_eq!(d.total, 2);
        assert_eq!(d.by_endpoint["GET /x"].requests, 2);
        assert_eq!(d.by_endpoint["GET /x"].throttled, 0);
        assert_eq!(d.budget, None);
        let budget = Budget {
            remaining: 90,
            request: 4,
        };
        b.budget = Some(budget);
        assert_eq!(b.since(&a).budget, Some(budget));
        a.total = 4;
        assert_eq!(b.since(&a).budget, None, "said before the snapshot");
    }
}
