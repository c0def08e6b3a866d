//! What the simulator received: every request outside the control plane, as it arrived (before any
//! fault or authentication), so a test can play a hostile or unreachable site and assert what reached
//! it — nothing at all, or no `Authorization` header.

use std::collections::VecDeque;

use axum::http::{HeaderMap, Method, Uri, header};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// How many requests are kept (the oldest are forgotten first).
pub const RECEIVED_LIMIT: usize = 10_000;

/// One request as the simulator received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path with the query string, e.g. `/rest/api/3/users/search?startAt=0`.
    pub path: String,
    /// The `Authorization` header as sent (credentials included), when there was one.
    pub authorization: Option<String>,
    /// The `Host` header, when there was one.
    pub host: Option<String>,
}

/// The bounded log of received requests.
#[derive(Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<ReceivedRequest>>,
}

impl RequestLog {
    /// Records a request unless it is addressed to the control plane (`/__sim/...`).
    pub(crate) fn record(&self, method: &Method, uri: &Uri, headers: &HeaderMap) {
        if uri.path().starts_with("/__sim/") {
            return;
        }
        let text = |name| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let entry = ReceivedRequest {
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| uri.path().to_string()),
            authorization: text(header::AUTHORIZATION),
            host: text(header::HOST),
        };
        let mut entries = self.entries.lock();
        if entries.len() >= RECEIVED_LIMIT {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The requests kept, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<ReceivedRequest> {
        self.entries.lock().iter().cloned().collect()
    }

    /// Forgets every request.
    pub(crate) fn clear(&self) {
        self.entries.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_latest_requests_and_skips_the_control_plane() {
        let log = RequestLog::default();
        let headers = HeaderMap::new();
        for n in 0..RECEIVED_LIMIT + 5 {
            let uri: Uri = format!("/rest/api/3/issue/ENG-{n}").parse().unwrap();
            log.record(&Method::GET, &uri, &headers);
            log.record(&Method::GET, &"/__sim/stats".parse().unwrap(), &headers);
        }
        let got = log.snapshot();
        assert_eq!(got.len(), RECEIVED_LIMIT);
        assert_eq!(got[0].path, "/rest/api/3/issue/ENG-5");
        assert_eq!(
            got.last().unwrap().path,
            format!("/rest/api/3/issue/ENG-{}", RECEIVED_LIMIT + 4)
        );
    }
}
