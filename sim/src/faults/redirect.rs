//! Redirects: affected requests answer a 3xx with a `Location` header and are not processed — a site
//! that bounces its clients elsewhere (for example to an internal address).

use super::engine::FaultEngine;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

impl FaultEngine {
    /// The redirect answer for this request, when the redirect fault affects it.
    pub(crate) fn redirect(&self, method: &str, path: &str) -> Option<Response> {
        let i = self.inner.lock();
        let r = i
            .faults
            .redirect
            .as_ref()
            .filter(|_| i.affects(method, path))?;
        let status = StatusCode::from_u16(r.status)
            .ok()
            .filter(StatusCode::is_redirection)
            .unwrap_or(StatusCode::FOUND);
        let mut response = status.into_response();
        if let Ok(v) = HeaderValue::from_str(&r.location) {
            response.headers_mut().insert(header::LOCATION, v);
        }
        Some(response)
    }
}
