//! Runs every controller of the operator until shutdown.

use super::{Context, action, connection, policy};
use futures::{FutureExt, future::BoxFuture};
use std::{future::Future, panic::AssertUnwindSafe, sync::Arc};

/// A controller stopped although no shutdown was asked for (its watch ended, or it panicked outside a
/// reconcile): the process must not carry on without it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
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
    futures::future::try_join3(
        watched(
            connection::CONTROLLER,
            connection::run(ctx.clone(), shutdown.clone()).boxed(),
            shutdown.clone(),
        ),
        watched(
            action::CONTROLLER,
            action::run(ctx.clone(), shutdown.clone()).boxed(),
            shutdown.clone(),
        ),
        watched(
            policy::CONTROLLER,
            policy::run(ctx, shutdown.clone()).boxed(),
            shutdown,
        ),
    )
    .await
    .map(|_| ())
}

/// Runs one controller's `work`: its end is an error unless `shutdown` had resolved by then, and a panic is
/// caught and reported as such.
async fn watched(
    controller: &'static str,
    work: BoxFuture<'static, ()>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ControllerStopped> {
    let ended = AssertUnwindSafe(work).catch_unwind().await;
    if shutdown.now_or_never().is_some() {
        return Ok(());
    }
    Err(ControllerStopped {
        controller,
        panicked: ended.is_err(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_controller_that_ends_before_shutdown_is_an_error() {
        let never = std::future::pending::<()>();
        assert_eq!(
            watched("jiraaction", async {}.boxed(), never).await,
            Err(ControllerStopped {
                controller: "jiraaction",
                panicked: false
            })
        );
        let stopped = watched(
            "jiraconnection",
            async { panic!("a bug outside a reconcile") }.boxed(),
            std::future::pending::<()>(),
        )
        .await
        .unwrap_err();
        assert!(stopped.panicked);
        assert_eq!(
            stopped.to_string(),
            "the jiraconnection controller stopped by itself (it panicked)"
        );
        assert_eq!(
            watched("jiraaction", async {}.boxed(), std::future::ready(())).await,
            Ok(()),
            "ending after the shutdown was asked for is normal"
        );
    }
}
