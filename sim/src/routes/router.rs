//! The router built from the route table: Jira REST routes on the site host and under the gateway prefix,
//! the other routes once, an HTML 404 for any other path, and the pipeline around every route.

use axum::Router;
use axum::middleware;

use super::pipeline::pipeline;
use super::{GATEWAY_PREFIX, Mount, ROUTES};
use crate::app::App;
use crate::handlers::site::not_found;

/// Builds the router from [`ROUTES`]: REST routes are mounted twice (site and gateway prefix).
pub(crate) fn build(app: App) -> Router {
    let mut rest = Router::new();
    let mut other = Router::new();
    for route in ROUTES {
        let h = (route.endpoint)(route.filter);
        match route.mount {
            Mount::Rest => rest = rest.route(route.path, h),
            _ => other = other.route(route.path, h),
        }
    }
    Router::new()
        .merge(rest.clone())
        .nest(GATEWAY_PREFIX, rest)
        .merge(other)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), pipeline))
        .with_state(app)
}
