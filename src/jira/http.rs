//! The HTTP layer: one per connection. Timeouts, a concurrency cap, request pacing, retries with
//! jittered exponential backoff on network errors and 5xx (a change only when Jira cannot have processed it),
//! and 429 handling through `Retry-After` and the rate-limit headers (a throttled request waits and is resent;
//! it never counts as a failure).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use super::error::JiraError;
use super::stats::{Budget, EndpointStats, RequestStats};
use super::throttle::{backoff, header_str, jitter_up, remaining_budget, throttle_wait};

/// Per-connection limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests in flight at once on this connection (default 4).
    pub max_concurrency: usize,
    /// Request starts per second on this connection; `None` = unpaced (default 20).
    pub requests_per_second: Option<f64>,
    /// Retries of one request after network errors or 5xx (default 4). 429s are not counted here.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry up to `backoff_max`, with ±30 % jitter (default 1 s).
    pub backoff_base: Duration,
    /// Largest backoff delay (default 30 s).
    pub backoff_max: Duration,
    /// A 429 asking to wait longer than this fails the request with `RateLimited` (default 10 min).
    pub max_throttle_wait: Duration,
    /// A request throttled more often than this in a row fails with `RateLimited` (default 50).
    pub max_throttled_attempts: u32,
    /// Largest answer read, in bytes; a larger one fails with `ResponseTooLarge` (default 32 MiB).
    pub max_response_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_concurrency: 4,
            requests_per_second: Some(20.0),
            max_retries: 4,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            max_throttle_wait: Duration::from_secs(600),
            max_throttled_attempts: 50,
            max_response_bytes: 32 << 20,
        }
    }
}

/// One request to send.
pub(crate) struct Request {
    pub method: Method,
    pub url: Url,
    /// Stats key and error context, e.g. `GET /rest/api/3/users/search`.
    pub endpoint: &'static str,
    pub body: Option<Bytes>,
    /// Content type of the body.
    pub content_type: &'static str,
    /// False for requests whose repetition changes Jira (create): those are resent only when Jira cannot have
    /// processed them (429, connection refused); any other failure, a 5xx included (a gateway may answer 503
    /// after the backend acted), ends the call with `OutcomeUnknown`.
    pub idempotent: bool,
    /// False for requests that bypass the concurrency cap (OAuth token requests, made while a permit is
    /// held).
    pub capped: bool,
}

/// A response that was not retried away.
pub(crate) struct Response {
    pub status: StatusCode,
    pub body: Bytes,
}

#[derive(Debug)]
struct Pacing {
    next_slot: Instant,
    pause_until: Instant,
}

/// The per-connection HTTP machinery.
pub(crate) struct Http {
    client: reqwest::Client,
    limits: Limits,
    permits: Semaphore,
    pacing: Mutex<Pacing>,
    total: AtomicU64,
    throttled: AtomicU64,
    failed: AtomicU64,
    by_endpoint: Mutex<BTreeMap<&'static str, EndpointStats>>,
    budget: Mutex<Option<Budget>>,
}

enum Attempt {
    Done(Response),
    /// A 3xx: never followed, never retried.
    Redirected {
        status: StatusCode,
        location: String,
    },
    /// The answer exceeded `max_response_bytes`.
    TooLarge,
    Throttled {
        wait: Duration,
        reason: String,
    },
    Failed {
        detail: String,
        processed: bool,
    },
}

impl Http {
    pub fn new(limits: Limits, timeout: Duration) -> Result<Http, JiraError> {
        let client = super::trust::with_extra_roots(reqwest::Client::builder())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(limits.max_concurrency.max(1))
            // A redirect would carry the Authorization header, or an anonymous probe, to a host nobody allowed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jira-cloud-operator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| JiraError::Config(format!("HTTP client: {e}")))?;
        let now = Instant::now();
        Ok(Http {
            client,
            permits: Semaphore::new(limits.max_concurrency.max(1)),
            limits,
            pacing: Mutex::new(Pacing {
                next_slot: now,
                pause_until: now,
            }),
            total: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            by_endpoint: Mutex::new(BTreeMap::new()),
            budget: Mutex::new(None),
        })
    }

    /// The concurrency cap.
    pub fn concurrency(&self) -> usize {
        self.limits.max_concurrency.max(1)
    }

    /// The longest wait a 429 may ask for before the request fails with `RateLimited` instead.
    pub fn max_throttle_wait(&self) -> Duration {
        self.limits.max_throttle_wait
    }

    /// Snapshot of the counters.
    pub fn stats(&self) -> RequestStats {
        let by_endpoint = self
            .by_endpoint
            .lock()
            .expect("stats lock")
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        RequestStats {
            total: self.total.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            by_endpoint,
            budget: *self.budget.lock().expect("budget lock"),
        }
    }

    fn count(&self, endpoint: &'static str, f: impl FnOnce(&mut EndpointStats)) {
        let mut map = self.by_endpoint.lock().expect("stats lock");
        f(map.entry(endpoint).or_default());
    }

    /// Waits for the connection's pacing slot (and any pause a 429 imposed).
    async fn pace(&self) {
        let interval = self
            .limits
            .requests_per_second
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        loop {
            let start = {
                let mut p = self.pacing.lock().expect("pacing lock");
                let now = Instant::now();
                let start = now.max(p.next_slot).max(p.pause_until);
                if let Some(i) = interval {
                    p.next_slot = start + i;
                }
                start
            };
            tokio::time::sleep_until(start).await;
            let pause = self.pacing.lock().expect("pacing lock").pause_until;
            if pause <= Instant::now() {
                return;
            }
        }
    }

    fn pause_all(&self, wait: Duration) {
        let mut p = self.pacing.lock().expect("pacing lock");
        let until = Instant::now() + wait;
        if until > p.pause_until {
            p.pause_until = until;
        }
    }

    /// Sends `req` with `auth` (an `Authorization` value, marked sensitive), retrying transient failures.
    pub async fn send(
        &self,
        req: &Request,
        auth: Option<&HeaderValue>,
    ) -> Result<Response, JiraError> {
        let auth = auth.cloned();
        self.send_with(req, || {
            let auth = auth.clone();
            async move { Ok(auth) }
        })
        .await
        .map(|(resp, _)| resp)
    }

    /// Like [`Http::send`], with the `Authorization` value produced per attempt once the request holds
    /// its concurrency permit (so that a token cannot expire while the request waits in the queue).
    /// Returns the response and the value used.
    pub async fn send_with<F, Fut>(
        &self,
        req: &Request,
        auth: F,
    ) -> Result<(Response, Option<HeaderValue>), JiraError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<HeaderValue>, JiraError>>,
    {
        let mut failures = 0u32;
        let mut throttled = 0u32;
        loop {
            self.pace().await;
            let (attempt, used) = {
                let _permit = if req.capped {
                    Some(
                        self.permits
                            .acquire()
                            .await
                            .expect("semaphore never closed"),
                    )
                } else {
                    None
                };
                let header = auth().await?;
                (self.attempt(req, header.as_ref()).await, header)
            };
            match attempt {
                Attempt::Done(resp) => return Ok((resp, used)),
                Attempt::Redirected { status, location } => {
                    return Err(JiraError::Redirected {
                        operation: req.endpoint.to_owned(),
                        status: status.as_u16(),
                        location,
                    });
                }
                Attempt::TooLarge => {
                    return Err(JiraError::ResponseTooLarge {
                        operation: req.endpoint.to_owned(),
                        limit: self.limits.max_response_bytes,
                    });
                }
                Attempt::Throttled { wait, reason } => {
                    throttled += 1;
                    if wait > self.limits.max_throttle_wait
                        || throttled > self.limits.max_throttled_attempts
                    {
                        return Err(JiraError::RateLimited {
                            reason,
                            retry_after: wait,
                        });
                    }
                    tracing::debug!(endpoint = req.endpoint, ?wait, %reason, "throttled by Jira, waiting");
                    self.pause_all(wait);
                }
                Attempt::Failed { detail, processed } => {
                    failures += 1;
                    if processed && !req.idempotent {
                        return Err(JiraError::OutcomeUnknown {
                            operation: req.endpoint.to_owned(),
                            detail,
                        });
                    }
                    if failures > self.limits.max_retries {
                        return Err(JiraError::JiraUnavailable {
                            operation: req.endpoint.to_owned(),
                            detail,
                        });
                    }
                    let wait = backoff(
                        self.limits.backoff_base,
                        self.limits.backoff_max,
                        failures - 1,
                    );
                    tracing::debug!(endpoint = req.endpoint, %detail, ?wait, "transient failure, retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(&self, req: &Request, auth: Option<&HeaderValue>) -> Attempt {
        let mut builder = self
            .client
            .request(req.method.clone(), req.url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(auth) = auth {
            builder = builder.header(reqwest::header::AUTHORIZATION, auth.clone());
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, req.content_type)
                .body(body.clone());
        }
        let number = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        self.count(req.endpoint, |s| s.requests += 1);
        let limit = self.limits.max_response_bytes;
        let result = async {
            let mut resp = builder.send().await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = read_capped(&mut resp, limit).await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        match result {
            Ok((status, headers, _)) if status.is_redirection() => Attempt::Redirected {
                status,
                location: location_origin(&req.url, &headers),
            },
            Ok((_, _, None)) => Attempt::TooLarge,
            Ok((status, headers, Some(body))) => {
                self.note_budget(number, &headers);
                self.answered(req, status, &headers, body)
            }
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.count(req.endpoint, |s| s.failed += 1);
                Attempt::Failed {
                    processed: !e.is_connect(),
                    detail: describe(&e),
                }
            }
        }
    }

    /// Keeps the budget an answer carries, unless a later request's answer already told one.
    fn note_budget(&self, request: u64, headers: &HeaderMap) {
        let Some(remaining) = remaining_budget(headers) else {
            return;
        };
        let mut budget = self.budget.lock().expect("budget lock");
        if budget.is_none_or(|b| b.request < request) {
            *budget = Some(Budget { remaining, request });
        }
    }

    /// Classifies an answer that was read in full.
    fn answered(
        &self,
        req: &Request,
        status: StatusCode,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Attempt {
        let retry_after = throttle_wait(headers, Utc::now());
        if status == StatusCode::TOO_MANY_REQUESTS
            || (status == StatusCode::SERVICE_UNAVAILABLE
                && retry_after.is_some()
                && req.idempotent)
        {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            self.count(req.endpoint, |s| s.throttled += 1);
            let wait = retry_after.unwrap_or(self.limits.backoff_base * 2);
            return Attempt::Throttled {
                wait: jitter_up(wait),
                reason: header_str(headers, "ratelimit-reason")
                    .or_else(|| header_str(headers, "x-beta-ratelimit-reason"))
                    .unwrap_or("unknown")
                    .to_owned(),
            };
        }
        if status.is_server_error() {
            self.failed.fetch_add(1, Ordering::Relaxed);
            self.count(req.endpoint, |s| s.failed += 1);
            // Whatever the status, the request reached a server that may have acted on it.
            return Attempt::Failed {
                processed: true,
                detail: format!("HTTP {status}: {}", super::error::ErrorDetail::parse(&body)),
            };
        }
        if header_str(headers, "x-ratelimit-nearlimit") == Some("true") {
            self.pause_all(Duration::from_millis(200));
        }
        Attempt::Done(Response { status, body })
    }
}

/// Reads the body, or `None` as soon as it exceeds `limit` bytes (announced or received).
async fn read_capped(
    resp: &mut reqwest::Response,
    limit: u64,
) -> Result<Option<Bytes>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.into()))
}

/// The scheme and host a redirect points to (its path and query may carry anything): for the error message.
fn location_origin(base: &Url, headers: &HeaderMap) -> String {
    header_str(headers, "location")
        .and_then(|l| base.join(l).ok())
        .map(|u| super::error::clip(&u.origin().ascii_serialization(), 120))
        .unwrap_or_else(|| "no Location".into())
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "network error"
    };
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    super::error::clip(&text, 2 * super::error::QUOTE_MAX)
}
