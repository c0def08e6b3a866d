//! Runs every controller of the operator until shutdown.

use super::Context;
use std::{future::Future, sync::Arc};

/// Runs the controllers with `ctx` until `shutdown` resolves and their in-flight reconciles have finished.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send + 'static) {
    // The JiraConnection and JiraAction controllers join here (each gets a clone of the shared shutdown)
    // as their modules land; until then the process only serves its endpoints and the Lease.
    let _ = ctx;
    shutdown.await;
}
