//! The operator binary: flags, logging, the health and metrics endpoints, leader election, and the controllers.

use anyhow::Context as _;
use clap::Parser;
use jira_cloud_operator::{
    api::{JiraAction, JiraConnection, JiraUser},
    controller::{self, Context, Settings},
    jira, leader,
    metrics::Metrics,
    report,
    server::{self, Readiness},
    telemetry::{self, LogFormat},
};
use kube::{Api, Client, Resource, api::ListParams};
use std::{net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc, time::Duration};
use tokio::sync::watch;
use url::Url;

/// Kubernetes operator that syncs Jira Cloud users, licenses and usage into JiraConnection status and runs
/// one-shot JiraActions.
///
/// Every flag has an environment variable twin (shown in brackets); a flag given on the command line wins.
/// The Kubernetes connection comes from KUBECONFIG or, in a pod, from the ServiceAccount.
// Commands besides running the operator (a doc comment here would join the operator's own description).
#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Prints license use per connection and product (seats, holders, active, inactive, unknown yet, monthly
    /// savings), read from the cluster with the kubeconfig like kubectl. Changes nothing.
    Report(report::ReportArgs),
}

#[derive(Parser, Debug)]
#[command(name = "jira-cloud-operator", version, about, long_about)]
struct Cli {
    /// A command instead of running the operator.
    #[command(subcommand)]
    command: Option<Command>,

    /// Namespaces to watch, comma separated; empty watches all namespaces.
    #[arg(
        long,
        env = "JCO_WATCH_NAMESPACES",
        value_delimiter = ',',
        value_name = "NS,..."
    )]
    watch_namespaces: Vec<String>,

    /// Reconciles running at once, per controller (JiraActions: --action-concurrency).
    #[arg(long, env = "JCO_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,

    /// JiraActions executing at once (their Jira requests are still limited per site by the --jira-* flags).
    #[arg(long, env = "JCO_ACTION_CONCURRENCY", default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..))]
    action_concurrency: u16,

    /// Atlassian API gateway and Admin API base URL.
    #[arg(
        long,
        env = "JCO_JIRA_API_URL",
        default_value = "https://api.atlassian.com"
    )]
    jira_api_url: Url,

    /// Atlassian OAuth 2.0 (service account) token endpoint base URL.
    #[arg(
        long,
        env = "JCO_JIRA_AUTH_URL",
        default_value = "https://auth.atlassian.com"
    )]
    jira_auth_url: Url,

    /// Hosts a JiraConnection's siteUrl may have, comma separated: exact hosts (jira.example.com, 127.0.0.1)
    /// or *.domain patterns for any subdomain. Nothing, not even an anonymous probe, is sent to another host.
    /// Add a custom domain of your Jira Cloud site here. Plain http is accepted only for a loopback host named
    /// exactly.
    #[arg(
        long,
        env = "JCO_ALLOWED_SITE_HOSTS",
        default_value = jira::DEFAULT_ALLOWED_SITE_HOSTS,
        value_parser = jira::AllowedHosts::parse,
        value_name = "HOST,*.DOMAIN,..."
    )]
    allowed_site_hosts: jira::AllowedHosts,

    /// Timeout of one request to Jira (e.g. 30s, 2m).
    #[arg(long, env = "JCO_JIRA_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    jira_timeout: Duration,

    /// Longest time the connection checks of one site may take (discovery, credentials, Admin API key); a site
    /// that hangs delays only its own connection and its actions.
    #[arg(long, env = "JCO_JIRA_CONNECT_TIMEOUT", default_value = "2m", value_parser = parse_duration)]
    jira_connect_timeout: Duration,

    /// How long Jira's issue search may lag a create: a createIssue whose answer was lost is created again only
    /// once its marker label stayed unfound this long after the attempt ended (unless consistent reads of the
    /// project's issue keys prove sooner that the issue was not created).
    #[arg(long, env = "JCO_CREATE_OUTCOME_WINDOW", default_value = "10m", value_parser = parse_duration)]
    create_outcome_window: Duration,

    /// Largest answer read from Jira, in bytes; a larger one fails the request (ResponseTooLarge).
    #[arg(long, env = "JCO_JIRA_MAX_RESPONSE_BYTES", default_value_t = 32 << 20, value_parser = clap::value_parser!(u64).range(65536..))]
    jira_max_response_bytes: u64,

    /// When watching all namespaces (no --watch-namespaces), Secrets are neither listed nor watched: each
    /// connection re-reads its Secrets at least this often, so a rotated Secret takes effect within it. With
    /// --watch-namespaces, Secret changes are watched and take effect at once.
    #[arg(long, env = "JCO_CREDENTIALS_RECHECK_INTERVAL", default_value = "5m", value_parser = parse_duration)]
    credentials_recheck_interval: Duration,

    /// Requests in flight at once towards one Jira site.
    #[arg(long, env = "JCO_JIRA_MAX_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    jira_max_concurrency: u16,

    /// Requests started per second towards one Jira site; 0 disables pacing (429s are still honoured).
    #[arg(long, env = "JCO_JIRA_REQUESTS_PER_SECOND", default_value_t = 20.0, value_parser = parse_rate)]
    jira_requests_per_second: f64,

    /// PEM file of extra CA certificates to trust for Jira and Atlassian, on top of the platform's roots (a
    /// private CA, a TLS-inspecting proxy). HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured.
    #[arg(long, env = "JCO_CA_BUNDLE", value_name = "FILE")]
    ca_bundle: Option<PathBuf>,

    /// Address of the Prometheus endpoint (/metrics).
    #[arg(long, env = "JCO_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,

    /// Address of the probes (/healthz, /readyz).
    #[arg(long, env = "JCO_HEALTH_ADDR", default_value = "0.0.0.0:8081")]
    health_addr: SocketAddr,

    /// Log format: json (one object per line) or text.
    #[arg(long, env = "JCO_LOG_FORMAT", default_value_t = LogFormat::Json)]
    log_format: LogFormat,

    /// Log level or filter directive (info, debug, info,jira_cloud_operator=debug). Without it, RUST_LOG
    /// applies, then info.
    #[arg(long, env = "JCO_LOG_LEVEL")]
    log_level: Option<String>,

    /// Elect a leader through a Lease so that only one replica acts at a time.
    #[arg(long, env = "JCO_LEADER_ELECT")]
    leader_elect: bool,

    /// Namespace of the leader Lease [default: the pod's namespace (POD_NAMESPACE or the ServiceAccount's),
    /// else default].
    #[arg(long, env = "JCO_LEADER_ELECTION_NAMESPACE")]
    leader_election_namespace: Option<String>,

    /// Name of the leader Lease.
    #[arg(
        long,
        env = "JCO_LEADER_ELECTION_ID",
        default_value = "jira-cloud-operator"
    )]
    leader_election_id: String,

    /// How long the Lease stays valid after its last renewal (whole seconds).
    #[arg(long, env = "JCO_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    lease_duration: Duration,

    /// How long the leader keeps retrying a failed renewal before it stops leading; shorter than the lease
    /// duration.
    #[arg(long, env = "JCO_RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    renew_deadline: Duration,

    /// After SIGTERM, how long in-flight reconciles may take to finish before they are stopped; keep it below
    /// the pod's terminationGracePeriodSeconds.
    #[arg(long, env = "JCO_SHUTDOWN_TIMEOUT", default_value = "50s", value_parser = parse_duration)]
    shutdown_timeout: Duration,

    /// Time between attempts to acquire or renew the Lease.
    #[arg(long, env = "JCO_RETRY_PERIOD", default_value = "2s", value_parser = parse_duration)]
    retry_period: Duration,
}

/// Parses a finite, non-negative rate.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a number of requests per second (0 or more)"
        )),
    }
}

/// Parses `500ms`, `30s`, `2m`, `1h`, or a plain number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 500ms or 2m"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?}: use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

impl Cli {
    fn watch_namespaces(&self) -> Vec<String> {
        self.watch_namespaces
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect()
    }

    fn settings(&self) -> Settings {
        let limits = jira::Limits {
            max_concurrency: self.jira_max_concurrency.into(),
            requests_per_second: (self.jira_requests_per_second > 0.0)
                .then_some(self.jira_requests_per_second),
            max_response_bytes: self.jira_max_response_bytes,
            ..jira::Limits::default()
        };
        Settings {
            endpoints: jira::Endpoints {
                api_url: self.jira_api_url.clone(),
                auth_url: self.jira_auth_url.clone(),
            },
            limits,
            jira_timeout: self.jira_timeout,
            connect_timeout: self.jira_connect_timeout,
            allowed_site_hosts: self.allowed_site_hosts.clone(),
            secret_recheck: self.credentials_recheck_interval,
            create_outcome_window: self.create_outcome_window,
            concurrency: self.concurrency,
            action_concurrency: self.action_concurrency,
            watch_namespaces: self.watch_namespaces(),
            ..Settings::default()
        }
    }

    fn election(&self) -> leader::Config {
        let namespace = self
            .leader_election_namespace
            .clone()
            .unwrap_or_else(pod_namespace);
        leader::Config {
            namespace,
            name: self.leader_election_id.clone(),
            identity: leader::default_identity(),
            lease_duration: self.lease_duration,
            renew_deadline: self.renew_deadline,
            retry_period: self.retry_period,
        }
    }
}

/// The namespace this pod runs in: POD_NAMESPACE (set by the chart), the mounted ServiceAccount's, or default.
fn pod_namespace() -> String {
    std::env::var("POD_NAMESPACE")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace").ok()
        })
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into())
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("10d").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        assert!(
            parse_rate("-1").is_err() && parse_rate("NaN").is_err() && parse_rate("fast").is_err()
        );
    }

    #[test]
    fn every_flag_has_an_environment_twin_and_help() {
        Cli::command().debug_assert();
        for arg in Cli::command().get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let env = arg
                .get_env()
                .unwrap_or_else(|| panic!("--{id} has no environment variable"));
            let expected = format!("JCO_{}", id.to_uppercase());
            assert_eq!(env.to_str(), Some(expected.as_str()));
            assert!(arg.get_help().is_some(), "--{id} has no help");
        }
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let cli = Cli::try_parse_from(["jira-cloud-operator"]).unwrap();
        let settings = cli.settings();
        assert!(settings.watch_namespaces.is_empty());
        assert_eq!(
            settings.endpoints.api_url.as_str(),
            "https://api.atlassian.com/"
        );
        assert_eq!(
            settings.endpoints.auth_url.as_str(),
            "https://auth.atlassian.com/"
        );
        assert_eq!(settings.limits.requests_per_second, Some(20.0));
        assert_eq!(
            settings.allowed_site_hosts.to_string(),
            "*.atlassian.net,*.jira.com"
        );
        assert_eq!(settings.limits.max_response_bytes, 32 << 20);
        assert_eq!(settings.secret_recheck, Duration::from_secs(300));
        assert_eq!(cli.metrics_addr.port(), 8080);
        assert_eq!(cli.health_addr.port(), 8081);
        assert!(!cli.leader_elect);
        assert!(cli.election().validate().is_ok());
    }

    #[test]
    fn an_empty_namespace_list_watches_all_namespaces() {
        // The chart passes JCO_WATCH_NAMESPACES="" for a cluster-wide install.
        let cli = Cli::try_parse_from(["jira-cloud-operator", "--watch-namespaces", ""]).unwrap();
        assert!(cli.settings().watch_namespaces.is_empty());
    }

    #[test]
    fn flags_set_the_settings() {
        let cli = Cli::try_parse_from([
            "jira-cloud-operator",
            "--watch-namespaces",
            "team-a, team-b,",
            "--jira-requests-per-second",
            "0",
            "--jira-timeout",
            "5s",
            "--leader-elect",
            "--leader-election-namespace",
            "ops",
            "--lease-duration",
            "4s",
            "--renew-deadline",
            "3s",
            "--retry-period",
            "500ms",
        ])
        .unwrap();
        let settings = cli.settings();
        assert_eq!(settings.watch_namespaces, ["team-a", "team-b"]);
        assert_eq!(settings.limits.requests_per_second, None);
        assert_eq!(settings.jira_timeout, Duration::from_secs(5));
        assert!(cli.leader_elect);
        let election = cli.election();
        assert_eq!(election.namespace, "ops");
        assert_eq!(election.lease_duration, Duration::from_secs(4));
        assert!(election.validate().is_ok());
    }
}
