//! The operator's controllers running in-process on one context: the JiraConnection controller, the JiraAction
//! controller, or both (as the binary runs them). Stopped gracefully by [`InProcess::stop`] or by dropping it;
//! its metrics are kept for the leak audit when it is dropped.

use jira_cloud_operator::{
    controller::{Context, Settings, action, connection, runner},
    metrics::Metrics,
};
use kube::Client;
use std::{sync::Arc, time::Duration};
use tokio::{sync::oneshot, task::JoinHandle};

/// Which controllers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controllers {
    /// The JiraConnection controller only.
    Connections,
    /// The JiraAction controller only.
    Actions,
    /// Both, as the operator binary runs them.
    All,
}

/// Running controllers.
pub struct InProcess {
    /// Their context (metrics, caches).
    pub ctx: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl InProcess {
    /// Starts `which` controllers with `settings`.
    pub fn start(client: Client, settings: Settings, which: Controllers) -> InProcess {
        let ctx = Context::new(client, settings, Arc::new(Metrics::default()));
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = match which {
            Controllers::Connections => tokio::spawn(connection::run(ctx.clone(), shutdown)),
            Controllers::Actions => tokio::spawn(action::run(ctx.clone(), shutdown)),
            Controllers::All => {
                let run = runner::run(ctx.clone(), shutdown);
                tokio::spawn(async move {
                    run.await.expect("the controllers stop only when asked to");
                })
            }
        };
        InProcess {
            ctx,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The JiraConnection controller alone.
    pub fn connections(client: Client, settings: Settings) -> InProcess {
        InProcess::start(client, settings, Controllers::Connections)
    }

    /// The JiraAction controller alone.
    pub fn actions(client: Client, settings: Settings) -> InProcess {
        InProcess::start(client, settings, Controllers::Actions)
    }

    /// Both controllers.
    pub fn all(client: Client, settings: Settings) -> InProcess {
        InProcess::start(client, settings, Controllers::All)
    }

    /// JiraConnection reconciles run so far.
    pub fn connection_reconciles(&self) -> u64 {
        let text = self.ctx.metrics.encode();
        let prefix = "jira_operator_reconciles_total{controller=\"jiraconnection\"} ";
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map_or(0, |n| n.trim().parse().expect("a counter"))
    }

    /// Stops the controllers and waits (up to a minute) for their in-flight reconciles; a controller task that
    /// panicked fails the test.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Ok(joined) = tokio::time::timeout(Duration::from_secs(60), task).await
        {
            joined.expect("the controller task");
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        crate::plane::audit::save("metrics", "txt", &self.ctx.metrics.encode());
    }
}
