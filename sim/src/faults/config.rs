//! The faults one can set (`POST /__sim/faults`, `SimHandle::set_faults`), as serde types.

use serde::{Deserialize, Serialize};

/// The faults in force. `Default` = none.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Answer 429 with `Retry-After` and rate-limit headers.
    pub rate_limit: Option<RateLimitFault>,
    /// Answer 5xx.
    pub server_error: Option<ServerErrorFault>,
    /// Added latency on every affected request, in milliseconds, before it is processed: a large value
    /// (e.g. 600000) makes a site that accepts connections and reads requests but does not answer for
    /// that long (changing the faults does not wake requests already waiting).
    pub latency_ms: u64,
    /// Close connections without answering.
    pub drop_connection: Option<DropFault>,
    /// Report this `deploymentType` in serverInfo (`Server` or `DataCenter`); tenant_info then answers 404.
    pub deployment_type: Option<String>,
    /// After this many failed Basic logins of an email, that email gets 401 with
    /// `X-Seraph-LoginReason: AUTHENTICATION_DENIED` (CAPTCHA lock), even with the right token.
    pub captcha_after_failures: Option<u32>,
    /// Search index lag in milliseconds (0 = none): `search/jql` and `search/approximate-count` see an
    /// issue created through the API only this long after its creation, and still see a deleted issue
    /// until this long after its deletion; `GET issue/{key}` stays consistent. Not filtered by `routes`.
    pub search_lag_ms: u64,
    /// Process affected mutating requests, then delay or drop their answer.
    pub after_processing: Option<AfterProcessingFault>,
    /// Users listings (`users/search`, `users`) answer `200 []` after a number of calls.
    pub empty_listing: Option<EmptyListingFault>,
    /// Affected requests answer a redirect, unprocessed.
    pub redirect: Option<RedirectFault>,
    /// Only requests whose path contains one of these strings are affected (empty = all); an entry may start
    /// with a method and a space (`POST /rest/api/3/issue`) to affect only that method.
    pub routes: Vec<String>,
}

/// Rate limiting: every Nth request, or a token bucket per credential (Authorization header).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitFault {
    /// Every Nth affected request answers 429.
    pub every_nth: Option<u64>,
    /// The next N affected requests answer 429, the following ones are served (with `retry_after_secs`, e.g.
    /// 3600 and reason `jira-quota-tenant-based` for a quota spent for an hour).
    pub count: Option<u64>,
    /// Token bucket refill rate (requests per second) per credential.
    pub rate_per_sec: Option<f64>,
    /// Token bucket size (default: `rate_per_sec`, at least 1).
    pub burst: Option<f64>,
    /// `Retry-After` in seconds for `every_nth` and `count` (the bucket computes its own, at least 1).
    pub retry_after_secs: u64,
    /// `RateLimit-Reason`, e.g. `jira-burst-based`, `jira-quota-tenant-based`, `jira-per-issue-on-write`.
    pub reason: String,
    /// `X-RateLimit-Limit`.
    pub limit: u64,
}

impl Default for RateLimitFault {
    fn default() -> Self {
        RateLimitFault {
            every_nth: None,
            count: None,
            rate_per_sec: None,
            burst: None,
            retry_after_secs: 1,
            reason: "jira-burst-based".into(),
            limit: 350,
        }
    }
}

/// Error answers (5xx, or e.g. 409 on `users/search` for a slow request): the next `count` affected
/// requests, every Nth, or a share of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerErrorFault {
    /// HTTP status (default 503).
    pub status: u16,
    /// The next N affected requests fail.
    pub count: Option<u64>,
    /// Every Nth affected request fails.
    pub every_nth: Option<u64>,
    /// Share of affected requests that fail (deterministic pseudo-random).
    pub ratio: Option<f64>,
}

impl Default for ServerErrorFault {
    fn default() -> Self {
        ServerErrorFault {
            status: 503,
            count: None,
            every_nth: None,
            ratio: None,
        }
    }
}

/// Dropped connections: the next `count` affected requests, every Nth, or a share of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DropFault {
    /// The next N affected requests are dropped.
    pub count: Option<u64>,
    /// Every Nth affected request is dropped.
    pub every_nth: Option<u64>,
    /// Share of affected requests dropped.
    pub ratio: Option<f64>,
}

/// Processes affected mutating requests (`POST`, `PUT`, `DELETE`, read-only POSTs excluded), then delays
/// the answer by `delay_ms` and/or closes the connection without answering (`drop`) or answers a gateway error
/// instead (`status`). Which affected
/// requests: the next `count`, every Nth, or a share (`ratio`); none of the three set = every one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AfterProcessingFault {
    /// Milliseconds between the end of processing and the answer (or the dropped connection).
    pub delay_ms: u64,
    /// Close the connection without an answer (after the delay).
    pub drop: bool,
    /// Answer this status instead of the real answer (after the delay), as a gateway does whose backend
    /// processed the request but answered it too late, e.g. 503 or 504; `None` = the real answer.
    pub status: Option<u16>,
    /// The next N affected requests lose their answer.
    pub count: Option<u64>,
    /// Every Nth affected request loses its answer.
    pub every_nth: Option<u64>,
    /// Share of affected requests that lose their answer (deterministic pseudo-random).
    pub ratio: Option<f64>,
}

/// After `after_calls` listing calls (each page is a call), the next `count` (None = all following)
/// answer `200 []`. Counted from the moment the faults are set; independent of `Faults.routes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmptyListingFault {
    /// Listing calls answered normally first.
    pub after_calls: u64,
    /// Listing calls answered empty after those (None = every following call).
    pub count: Option<u64>,
}

/// Answer `status` with `Location: location`, without processing the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedirectFault {
    /// HTTP status (default 302; any 3xx, e.g. 301, 307, 308).
    pub status: u16,
    /// The `Location` header, e.g. `http://169.254.169.254/latest/meta-data/`.
    pub location: String,
}

impl Default for RedirectFault {
    fn default() -> Self {
        RedirectFault {
            status: 302,
            location: String::new(),
        }
    }
}
