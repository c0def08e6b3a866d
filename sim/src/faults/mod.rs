//! Fault injection: rate limiting (429 with Jira's headers), server errors, latency (also the way to
//! make a site that hangs), dropped connections and a Server/Data Center disguise before a request is
//! processed; answers lost after processing ([`late`]), empty users listings ([`listing`]), redirects
//! ([`redirect`]); the search index lag is read by the search routes. Set through `POST /__sim/faults`
//! or `SimHandle::set_faults`; control routes (`/__sim/...`) are never affected.

pub mod late;
pub mod listing;
pub mod redirect;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::format::{iso_minute, now_ms};
use crate::rng::Rng;
use crate::stats::Collector;

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
    pub after_processing: Option<late::AfterProcessingFault>,
    /// Users listings (`users/search`, `users`) answer `200 []` after a number of calls.
    pub empty_listing: Option<listing::EmptyListingFault>,
    /// Affected requests answer a redirect, unprocessed.
    pub redirect: Option<redirect::RedirectFault>,
    /// Only requests whose path contains one of these strings are affected (empty = all).
    pub routes: Vec<String>,
}

/// Rate limiting: every Nth request, or a token bucket per credential (Authorization header).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitFault {
    /// Every Nth affected request answers 429.
    pub every_nth: Option<u64>,
    /// Token bucket refill rate (requests per second) per credential.
    pub rate_per_sec: Option<f64>,
    /// Token bucket size (default: `rate_per_sec`, at least 1).
    pub burst: Option<f64>,
    /// `Retry-After` in seconds for `every_nth` (the bucket computes its own, at least 1).
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

struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Inner {
    faults: Faults,
    seen_rate: u64,
    seen_error: u64,
    seen_drop: u64,
    errors_left: Option<u64>,
    drops_left: Option<u64>,
    seen_after: u64,
    after_left: Option<u64>,
    listing_calls: u64,
    buckets: HashMap<u64, Bucket>,
    failed_logins: HashMap<String, u32>,
    rng: Rng,
}

/// The live fault state.
pub(crate) struct FaultEngine {
    inner: Mutex<Inner>,
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

fn nth(seen: u64, every: Option<u64>) -> bool {
    every.is_some_and(|n| n > 0 && seen.is_multiple_of(n))
}

impl Inner {
    fn affects(&self, path: &str) -> bool {
        self.faults.routes.is_empty()
            || self.faults.routes.iter().any(|r| path.contains(r.as_str()))
    }
}

enum Decision {
    Error(u16),
    Limited {
        retry_after: u64,
        reason: String,
        limit: u64,
    },
}

impl FaultEngine {
    /// Replaces the faults in force (counters and buckets restart).
    pub(crate) fn set(&self, faults: Faults) {
        let mut i = self.inner.lock();
        i.errors_left = faults.server_error.as_ref().and_then(|e| e.count);
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

    /// Whether to close this request's connection without an answer.
    pub(crate) fn should_drop(&self, path: &str, stats: &Collector) -> bool {
        if path.starts_with("/__sim/") {
            return false;
        }
        let mut i = self.inner.lock();
        let Some(d) = i.faults.drop_connection.clone() else {
            return false;
        };
        if !i.affects(path) {
            return false;
        }
        i.seen_drop += 1;
        let drop = match i.drops_left {
            Some(n) if n > 0 => {
                i.drops_left = Some(n - 1);
                true
            }
            Some(_) => false,
            None => nth(i.seen_drop, d.every_nth) || d.ratio.is_some_and(|r| i.rng.chance(r)),
        };
        if drop {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        drop
    }

    /// Applies latency, server errors and rate limits before a request is served; `Some` = the answer.
    pub(crate) async fn before(
        &self,
        path: &str,
        credential: u64,
        stats: &Collector,
    ) -> Option<Response> {
        if let Some(redirect) = self.redirect(path) {
            return Some(redirect);
        }
        let (latency, decision) = {
            let mut i = self.inner.lock();
            if !i.affects(path) {
                return None;
            }
            let latency = i.faults.latency_ms;
            (latency, self.decide(&mut i, credential))
        };
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        let admin = path.starts_with("/admin/");
        match decision? {
            Decision::Error(status) => {
                stats.server_errors.fetch_add(1, Ordering::Relaxed);
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let body = if admin {
                    json!({"code": status.as_u16(), "message": "Service unavailable"})
                } else {
                    let message = if status == StatusCode::CONFLICT {
                        "The request took too long to process. Try again with a smaller page size."
                    } else {
                        "Internal server error (injected by the simulator)."
                    };
                    json!({"errorMessages": [message], "errors": {}})
                };
                Some((status, axum::Json(body)).into_response())
            }
            Decision::Limited {
                retry_after,
                reason,
                limit,
            } => {
                stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                let body = if admin {
                    json!({"code": 429, "message": "Too many requests"})
                } else {
                    json!({"errorMessages": ["Rate limit exceeded."], "errors": {}})
                };
                let mut r = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                let reset = iso_minute(now_ms() + retry_after as i64 * 1000 + 60_000);
                let h = r.headers_mut();
                let mut put = |k: &'static str, v: String| {
                    if let Ok(v) = HeaderValue::from_str(&v) {
                        h.insert(k, v);
                    }
                };
                put("retry-after", retry_after.to_string());
                put("x-ratelimit-limit", limit.to_string());
                put("x-ratelimit-remaining", "0".into());
                put("x-ratelimit-reset", reset.clone());
                put("x-ratelimit-nearlimit", "true".into());
                put("ratelimit-reason", reason.clone());
                put(
                    "beta-ratelimit-policy",
                    "\"tenant-app-quota\";q=100100;w=3600".into(),
                );
                put(
                    "beta-ratelimit",
                    format!("\"tenant-app-quota\";r=0;t={retry_after}"),
                );
                put("x-beta-ratelimit-reason", reason);
                put("x-beta-ratelimit-reset", reset);
                Some(r)
            }
        }
    }

    fn decide(&self, i: &mut Inner, credential: u64) -> Option<Decision> {
        if let Some(e) = i.faults.server_error.clone() {
            i.seen_error += 1;
            let fire = match i.errors_left {
                Some(n) if n > 0 => {
                    i.errors_left = Some(n - 1);
                    true
                }
                Some(_) => false,
                None => nth(i.seen_error, e.every_nth) || e.ratio.is_some_and(|r| i.rng.chance(r)),
            };
            if fire {
                return Some(Decision::Error(e.status));
            }
        }
        let rl = i.faults.rate_limit.clone()?;
        i.seen_rate += 1;
        if nth(i.seen_rate, rl.every_nth) {
            return Some(Decision::Limited {
                retry_after: rl.retry_after_secs,
                reason: rl.reason,
                limit: rl.limit,
            });
        }
        let rate = rl.rate_per_sec.filter(|r| *r > 0.0)?;
        let burst = rl.burst.unwrap_or(rate).max(1.0);
        let now = Instant::now();
        let b = i.buckets.entry(credential).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return None;
        }
        let retry_after = ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64;
        Some(Decision::Limited {
            retry_after,
            reason: rl.reason,
            limit: rl.limit,
        })
    }

    /// Adds rate-limit headers to answers: the Admin API always sends them; Jira answers carry them while
    /// a token bucket is configured.
    pub(crate) fn after(&self, path: &str, credential: u64, headers: &mut HeaderMap) {
        let i = self.inner.lock();
        let bucket = i
            .faults
            .rate_limit
            .as_ref()
            .filter(|r| r.rate_per_sec.is_some())
            .map(|r| {
                let burst = r.burst.or(r.rate_per_sec).unwrap_or(1.0).max(1.0);
                let left = i
                    .buckets
                    .get(&credential)
                    .map(|b| b.tokens)
                    .unwrap_or(burst);
                (r.limit, left.max(0.0).floor() as u64, left < burst * 0.2)
            });
        let admin = path.starts_with("/admin/");
        let (limit, remaining, near) = match bucket {
            Some(b) if i.affects(path) => b,
            _ if admin => (1000, 999, false),
            _ => return,
        };
        let mut put = |k: &'static str, v: String| {
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.insert(k, v);
            }
        };
        put("x-ratelimit-limit", limit.to_string());
        put("x-ratelimit-remaining", remaining.to_string());
        if admin {
            put("x-ratelimit-reset", iso_minute(now_ms() + 60_000));
        }
        if near {
            put("x-ratelimit-nearlimit", "true".into());
        }
    }
}
