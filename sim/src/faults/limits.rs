//! Faults applied before a request is processed: dropped connections, latency, server errors and rate
//! limits (429 with Jira's headers), and the rate-limit headers of answers.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::engine::{Bucket, FaultEngine, Inner, nth};
use crate::format::{iso_minute, now_ms};
use crate::stats::Collector;

enum Decision {
    Error(u16),
    Limited {
        retry_after: u64,
        reason: String,
        limit: u64,
    },
}

impl FaultEngine {
    /// Whether to close this request's connection without an answer.
    pub(crate) fn should_drop(&self, method: &str, path: &str, stats: &Collector) -> bool {
        if path.starts_with("/__sim/") {
            return false;
        }
        let mut i = self.inner.lock();
        let Some(d) = i.faults.drop_connection.clone() else {
            return false;
        };
        if !i.affects(method, path) {
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
        method: &str,
        path: &str,
        credential: u64,
        stats: &Collector,
    ) -> Option<Response> {
        if let Some(redirect) = self.redirect(method, path) {
            return Some(redirect);
        }
        let (latency, decision) = {
            let mut i = self.inner.lock();
            if !i.affects(method, path) {
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
        let counted = match i.limited_left {
            Some(n) if n > 0 => {
                i.limited_left = Some(n - 1);
                true
            }
            _ => false,
        };
        if counted || nth(i.seen_rate, rl.every_nth) {
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

    /// Adds rate-limit headers to answers: the Admin API always sends them; Jira answers carry them (with
    /// `Beta-RateLimit`, the bucket's tokens as points) while a token bucket is configured.
    pub(crate) fn after(&self, method: &str, path: &str, credential: u64, headers: &mut HeaderMap) {
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
            Some(b) if i.affects(method, path) => b,
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
        } else {
            put(
                "beta-ratelimit",
                format!("\"tenant-app-quota\";r={remaining};t=60"),
            );
        }
        if near {
            put("x-ratelimit-nearlimit", "true".into());
        }
    }
}
