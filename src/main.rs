//! The operator binary: flags, logging, the health and metrics endpoints, leader election, and the controllers.

use anyhow::Context as _;
use clap::Parser;
use jira_cloud_operator::{
    api::{JiraAction, JiraConnection, JiraUser},
    controller::{self, Context},
    jira, leader,
    metrics::Metrics,
    report,
    server::{self, Readiness},
    telemetry,
};
use kube::{Api, Client, Resource, api::ListParams};
use std::{process::ExitCode, sync::Arc};
use tokio::sync::watch;

mod cli;

use cli::{Cli, Command};

/// Fails with an actionable message unless every resource the operator reads can be listed.
async fn check_crds(client: &Client, namespaces: &[String]) -> anyhow::Result<()> {
    async fn list<K>(client: &Client, namespace: Option<&str>) -> anyhow::Result<()>
    where
        K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let api: Api<K> = match namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        let plural = K::plural(&());
        let group = K::group(&());
        let place = namespace.map_or_else(
            || "all namespaces".to_string(),
            |ns| format!("namespace {ns}"),
        );
        match api.list_metadata(&ListParams::default().limit(1)).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => anyhow::bail!(
                "the CustomResourceDefinition {plural}.{group} is not installed: install the chart with crds.install=true, \
                 or run `kubectl apply --server-side -f crds/jiracloud.io.yaml`"
            ),
            Err(kube::Error::Api(status)) if status.code == 403 => anyhow::bail!(
                "not allowed to list {plural}.{group} in {place}: {}; check the chart's RBAC (rbac.create) and that \
                 --watch-namespaces matches the chart's watchNamespaces",
                status.message
            ),
            Err(e) => Err(e).with_context(|| format!("listing {plural}.{group} in {place}")),
        }
    }
    let scopes: Vec<Option<&str>> = if namespaces.is_empty() {
        vec![None]
    } else {
        namespaces.iter().map(|n| Some(n.as_str())).collect()
    };
    for ns in scopes {
        list::<JiraConnection>(client, ns).await?;
        list::<JiraAction>(client, ns).await?;
        list::<JiraUser>(client, ns).await?;
    }
    Ok(())
}

/// Sets `stop` on the first SIGTERM or SIGINT; a second signal exits at once.
async fn forward_signals(stop: watch::Sender<bool>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing in-flight work, then exiting"),
        _ = int.recv() => tracing::info!("SIGINT: finishing in-flight work, then exiting"),
    }
    let _ = stop.send(true);
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::warn!("second signal: exiting without waiting");
    std::process::exit(130);
}

/// Trusts the certificates of `--ca-bundle` in every Jira client.
fn trust_ca_bundle(path: &std::path::Path) -> anyhow::Result<()> {
    let pem =
        std::fs::read(path).with_context(|| format!("reading --ca-bundle {}", path.display()))?;
    let count = jira::trust::trust_ca_bundle(&pem)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("--ca-bundle {}", path.display()))?;
    tracing::info!(path = %path.display(), certificates = count, "trusting the extra CA certificates of --ca-bundle");
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(path) = &cli.ca_bundle {
        trust_ca_bundle(path)?;
    }
    let mut settings = cli.settings();
    let election = cli.leader_elect.then(|| cli.election());
    if let Some(config) = &election {
        // Attempts of JiraActions record who runs them under which Lease term.
        settings.identity = config.identity.clone();
        settings.leader_lease = Some((config.namespace.clone(), config.name.clone()));
    }
    if let Some(config) = &election {
        config
            .validate()
            .map_err(anyhow::Error::msg)
            .context("leader election settings")?;
    }

    let client = Client::try_default().await.context(
        "no Kubernetes connection: set KUBECONFIG, or run in a pod with a ServiceAccount",
    )?;
    check_crds(&client, &settings.watch_namespaces).await?;

    let metrics = Arc::new(Metrics::default());
    let readiness = Readiness::default();
    let (stop, stopped) = watch::channel(false);
    let (stop_servers, servers_stopped) = watch::channel(false);

    let (metrics_addr, metrics_server) = server::bind(
        cli.metrics_addr,
        server::metrics_router(metrics.clone()),
        leader::when_set(servers_stopped.clone()),
    )
    .await
    .with_context(|| format!("listening on --metrics-addr {}", cli.metrics_addr))?;
    let (health_addr, health_server) = server::bind(
        cli.health_addr,
        server::health_router(readiness.clone()),
        leader::when_set(servers_stopped),
    )
    .await
    .with_context(|| format!("listening on --health-addr {}", cli.health_addr))?;
    let metrics_server = tokio::spawn(metrics_server);
    let health_server = tokio::spawn(health_server);
    tokio::spawn(forward_signals(stop));
    {
        let readiness = readiness.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _ = stopped.wait_for(|s| *s).await;
            readiness.set(false);
        });
    }

    tracing::info!(
        %metrics_addr,
        %health_addr,
        namespaces = ?settings.watch_namespaces,
        leader_election = election.is_some(),
        version = env!("CARGO_PKG_VERSION"),
        "jira-cloud-operator starting"
    );
    let ctx = Context::new(client.clone(), settings, metrics);

    let code = match election {
        None => {
            let mut running = tokio::spawn(run_controllers(
                ctx,
                Box::pin(leader::when_set(stopped.clone())),
            ));
            readiness.set(true);
            leader::join_with_grace(&mut running, stopped, cli.shutdown_timeout).await;
            tracing::info!("controllers stopped");
            ExitCode::SUCCESS
        }
        Some(config) => {
            let elector = leader::Elector::new(client, config);
            let work = move |stop| run_controllers(ctx, stop);
            match leader::run(elector, stopped, readiness, cli.shutdown_timeout, work).await {
                Ok(ended) => {
                    tracing::info!(?ended, "controllers stopped");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    tracing::error!(error = %e, "exiting so that another replica takes over");
                    ExitCode::FAILURE
                }
            }
        }
    };
    let _ = stop_servers.send(true);
    for server in [metrics_server, health_server] {
        if let Ok(Err(e)) = server.await {
            tracing::warn!(error = %e, "HTTP server error");
        }
    }
    tracing::info!("jira-cloud-operator stopped");
    Ok(code)
}

/// Runs the controllers until `stop`; exits the process with a failure status when one of them stops by itself,
/// so that the pod restarts instead of running without it.
async fn run_controllers(
    ctx: Arc<Context>,
    stop: std::pin::Pin<Box<dyn Future<Output = ()> + Send + Sync>>,
) {
    if let Err(e) = controller::runner::run(ctx, stop).await {
        tracing::error!(error = %e, "exiting");
        std::process::exit(70);
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(Command::Report(args)) = cli.command.take() {
        return match report::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.chain().count() > 1 => {
                eprintln!("error: {e}: {}", e.root_cause());
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let directive = cli
        .log_level
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    let filter = match telemetry::filter(&directive) {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = telemetry::init(cli.log_format, filter) {
        eprintln!("error: logging: {e}");
        return ExitCode::FAILURE;
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "jira-cloud-operator cannot run");
            ExitCode::FAILURE
        }
    }
}
