//! The operator's HTTP endpoints: `/metrics` (Prometheus text) on the metrics address, `/healthz` (the process
//! serves) and `/readyz` (the controllers are running, or this replica is a hot standby) on the health address.

use crate::metrics::Metrics;
use axum::{
    Router, extract::State, http::StatusCode, http::header, response::IntoResponse, routing::get,
};
use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};
use tokio::net::TcpListener;

/// The content type of the Prometheus/OpenMetrics text format.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether the process is ready to serve; shared between the operator loop and `/readyz`.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks the process ready (or not).
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    /// True once the process is ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The router of the metrics address.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .with_state(metrics)
}

/// The router of the health address.
pub fn health_router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(serve_readiness))
        .with_state(readiness)
}

async fn serve_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        metrics.encode(),
    )
}

async fn serve_readiness(State(readiness): State<Readiness>) -> impl IntoResponse {
    if readiness.is_ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

/// Binds `addr` (fails at once when the port is taken) and returns the bound address and the serving future,
/// which ends after `shutdown` resolves and open requests finish.
pub async fn bind(
    addr: SocketAddr,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, impl Future<Output = std::io::Result<()>> + Send)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let serve = axum::serve(listener, router).with_graceful_shutdown(shutdown);
    Ok((local, async move { serve.await }))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get_text(addr: SocketAddr, path: &str) -> (u16, String, String) {
        let response = reqwest::get(format!("http://{addr}{path}"))
            .await
            .expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        (status, content_type, response.text().await.expect("body"))
    }

    #[tokio::test]
    async fn health_answers_and_readiness_follows_the_flag() {
        let readiness = Readiness::default();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr, serve) = bind(
            "127.0.0.1:0".parse().unwrap(),
            health_router(readiness.clone()),
            async move {
                let _ = stopped.await;
            },
        )
        .await
        .expect("bind");
        let server = tokio::spawn(serve);

        assert_eq!(get_text(addr, "/healthz").await.0, 200);
        assert_eq!(get_text(addr, "/readyz").await.0, 503);
        readiness.set(true);
        assert_eq!(get_text(addr, "/readyz").await.0, 200);
        assert_eq!(get_text(addr, "/metrics").await.0, 404);

        stop.send(()).unwrap();
        server.await.unwrap().expect("the server stops cleanly");
    }

    #[tokio::test]
    async fn metrics_are_served_as_openmetrics_text() {
        let metrics = Arc::new(Metrics::default());
        metrics.reconcile_failed("jiraaction", "ConnectionNotReady");
        let (addr, serve) = bind(
            "127.0.0.1:0".parse().unwrap(),
            metrics_router(metrics),
            std::future::pending(),
        )
        .await
        .expect("bind");
        let server = tokio::spawn(serve);
        let (status, content_type, body) = get_text(addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            content_type.starts_with("application/openmetrics-text"),
            "{content_type}"
        );
        assert!(body.contains("jira_operator_reconcile_errors_total{controller=\"jiraaction\",reason=\"ConnectionNotReady\"} 1"), "{body}");
        assert!(body.trim_end().ends_with("# EOF"), "{body}");
        server.abort();
    }
}
