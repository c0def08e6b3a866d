//! Answers lost after processing: a mutation that Jira performed whose answer arrives too late for the
//! client (`delay_ms`), never (`drop`) or replaced by a gateway's error (`status`), so the client cannot tell
//! whether it happened.

use std::io;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::engine::{FaultEngine, nth};
use crate::stats::Collector;
use axum::body::Body;
use axum::http::{Method, Response, StatusCode, header};

/// What happens to the answer of a request once it is processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LostAnswer {
    /// Wait this long before answering (or dropping).
    pub delay: Duration,
    /// Close the connection instead of answering.
    pub drop: bool,
    /// Answer this status instead of the real answer.
    pub status: Option<StatusCode>,
}

impl LostAnswer {
    /// What the client receives instead of `response`, the request having been processed: after the delay,
    /// nothing (the connection closes) or the gateway's error.
    pub(crate) async fn deliver(self, response: Response<Body>) -> io::Result<Response<Body>> {
        tokio::time::sleep(self.delay).await;
        if self.drop {
            return Err(io::Error::other(
                "answer dropped after processing by fault injection",
            ));
        }
        Ok(match self.status {
            Some(status) => Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("upstream request timeout"))
                .expect("a valid gateway answer"),
            None => response,
        })
    }
}

/// POSTs that only read (searches, bulk fetches, the token endpoint, the Admin API user search).
const READ_ONLY_POSTS: &[&str] = &[
    "/rest/api/3/search/jql",
    "/rest/api/3/search/approximate-count",
    "/rest/api/3/changelog/bulkfetch",
    "/rest/api/3/comment/list",
    "/rest/api/3/worklog/list",
    "/rest/api/3/search",
    "/rest/api/2/search",
];

/// Whether a request changes state: `PUT`, `DELETE` and `POST` other than the read-only ones, outside the
/// control plane. Gateway paths (`/ex/jira/{cloudId}/rest/...`) count as their site path.
pub(crate) fn is_mutation(method: &Method, path: &str) -> bool {
    if path.starts_with("/__sim/") {
        return false;
    }
    if *method == Method::PUT || *method == Method::DELETE {
        return true;
    }
    if *method != Method::POST {
        return false;
    }
    let site_path = match path.strip_prefix("/ex/jira/") {
        Some(rest) => rest.find('/').map_or("", |i| &rest[i..]),
        None => path,
    };
    let admin_search = path.starts_with("/admin/") && path.ends_with("/users/search");
    !(READ_ONLY_POSTS.contains(&site_path) || path == "/oauth/token" || admin_search)
}

impl FaultEngine {
    /// Whether (and how) this request loses its answer after processing; counts it in `answers_lost`.
    pub(crate) fn after_processing(
        &self,
        method: &Method,
        path: &str,
        stats: &Collector,
    ) -> Option<LostAnswer> {
        if !is_mutation(method, path) {
            return None;
        }
        let mut i = self.inner.lock();
        let f = i.faults.after_processing.clone()?;
        if !i.affects(method.as_str(), path) {
            return None;
        }
        i.seen_after += 1;
        let hit = match i.after_left {
            Some(n) if n > 0 => {
                i.after_left = Some(n - 1);
                true
            }
            Some(_) => false,
            None if f.every_nth.is_none() && f.ratio.is_none() => true,
            None => nth(i.seen_after, f.every_nth) || f.ratio.is_some_and(|r| i.rng.chance(r)),
        };
        if !hit {
            return None;
        }
        stats.answers_lost.fetch_add(1, Ordering::Relaxed);
        Some(LostAnswer {
            delay: Duration::from_millis(f.delay_ms),
            drop: f.drop,
            status: f.status.and_then(|s| StatusCode::from_u16(s).ok()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_state_changing_requests_are_mutations() {
        let gw = "/ex/jira/0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
        for (method, path, expected) in [
            (Method::POST, "/rest/api/3/issue".to_string(), true),
            (Method::POST, format!("{gw}/rest/api/3/issue"), true),
            (Method::POST, "/rest/api/3/group/user".into(), true),
            (Method::DELETE, "/rest/api/3/group/user".into(), true),
            (Method::DELETE, format!("{gw}/rest/api/3/issue/ENG-1"), true),
            (Method::PUT, "/rest/api/3/issue/ENG-1".into(), true),
            (Method::GET, "/rest/api/3/issue/ENG-1".into(), false),
            (Method::POST, "/rest/api/3/search/jql".into(), false),
            (Method::POST, format!("{gw}/rest/api/3/search/jql"), false),
            (
                Method::POST,
                "/rest/api/3/search/approximate-count".into(),
                false,
            ),
            (
                Method::POST,
                "/rest/api/3/changelog/bulkfetch".into(),
                false,
            ),
            (Method::POST, "/rest/api/3/comment/list".into(), false),
            (Method::POST, "/rest/api/3/worklog/list".into(), false),
            (Method::POST, "/oauth/token".into(), false),
            (
                Method::POST,
                "/admin/v2/orgs/o/directories/d/users/search".into(),
                false,
            ),
            (Method::POST, "/__sim/activity".into(), false),
            (Method::DELETE, "/__sim/faults".into(), false),
        ] {
            assert_eq!(is_mutation(&method, &path), expected, "{method} {path}");
        }
    }
}
