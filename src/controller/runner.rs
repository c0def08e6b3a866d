//! Runs every controller of the operator until shutdown.

use super::{Context, action, connection};
use futures::FutureExt;
use std::{future::Future, sync::Arc};

/// Runs the JiraConnection and JiraAction controllers with `ctx` until `shutdown` resolves and their in-flight
/// reconciles have finished.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send + 'static) {
    let shutdown = shutdown.shared();
    futures::join!(
        connection::run(ctx.clone(), shutdown.clone()),
        action::run(ctx, shutdown),
    );
}
