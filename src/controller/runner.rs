//! Runs every controller of the operator until shutdown.

use super::{Context, action, connection, policy};
use futures::FutureExt;
use std::{future::Future, panic::AssertUnwindSafe, sync::Arc};

/// A controller stopped although no shutdown was asked for (its watch ended, or it panicked outside a
/// reconcile): the process must not carry on without it.
#[derive(Debug, thiserror::Error)]
#[error("the {controller} controller stopped by itself{}", if *.panicked { " (it panicked)" } else { "" })]
pub struct ControllerStopped {
    /// Which controller.
    pub controller: &'static str,
    /// True when it ended by a panic.
    pub panicked: bool,
}

/// Runs the JiraConnection, JiraAction and JiraLicensePolicy controllers with `ctx` until `shutdown` resolves and their in-flight
/// reconciles have finished. Returns an error as soon as a controller ends before the shutdown was asked for.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ControllerStopped> {
    let shutdown = shutdown.shared();
    let watched = |controller: &'static str, work: futures::future::BoxFuture<'static, ()>| {
        let shutdown = shutdown.clone();
        async move {
            let ended = AssertUnwindSafe(work).catch_unwind().await;
            if shutdown.now_or_never().is_some() {
                return Ok(());
            }
            Err(ControllerStopped {
                controller,
                panicked: ended.is_err(),
            })
        }
    };
    futures::future::try_join3(
        watched(
            connection::CONTROLLER,
            connection::run(ctx.clone(), shutdown.clone()).boxed(),
        ),
        watched(
            action::CONTROLLER,
            action::run(ctx.clone(), shutdown.clone()).boxed(),
        ),
        watched(
            policy::CONTROLLER,
            policy::run(ctx, shutdown.clone()).boxed(),
        ),
    )
    .await
    .map(|_| ())
}
