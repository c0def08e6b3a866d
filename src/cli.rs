//! The operator binary's command line: its flags (each with an environment twin), the report command, and the
//! settings and leader election configuration they give.

use clap::Parser;
use jira_cloud_operator::{controller::Settings, jira, leader, report, telemetry::LogFormat};
use std::{net::SocketAddr, path::PathBuf, time::Duration};
use url::Url;

/// Kubernetes operator that syncs Jira Cloud users, licenses and usage into JiraConnection status and runs
/// one-shot JiraActions.
///
/// Every flag has an environment variable twin (shown in brackets); a flag given on the command line wins.
/// The Kubernetes connection comes from KUBECONFIG or, in a pod, from the ServiceAccount.
// Commands besides running the operator (a doc comment here would join the operator's own description).
#[derive(clap::Subcommand, Debug)]
pub(crate) enum Command {
    /// Prints license use per connection and product (seats, holders, active, inactive, unknown yet, monthly
    /// savings), read from the cluster with the kubeconfig like kubectl. Changes nothing.
    Report(report::ReportArgs),
}

#[derive(Parser, Debug)]
#[command(name = "jira-cloud-operator", version, about, long_about)]
pub(crate) struct Cli {
    /// A command instead of running the operator.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Namespaces to watch, comma separated; empty watches all namespaces.
    #[arg(
        long,
        env = "JCO_WATCH_NAMESPACES",
        value_delimiter = ',',
        value_name = "NS,..."
    )]
    pub(crate) watch_namespaces: Vec<String>,

    /// Reconciles running at once, per controller (JiraActions: --action-concurrency).
    #[arg(long, env = "JCO_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) concurrency: u16,

    /// JiraActions executing at once (their Jira requests are still limited per site by the --jira-* flags).
    #[arg(long, env = "JCO_ACTION_CONCURRENCY", default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) action_concurrency: u16,

    /// Atlassian API gateway and Admin API base URL.
    #[arg(
        long,
        env = "JCO_JIRA_API_URL",
        default_value = "https://api.atlassian.com"
    )]
    pub(crate) jira_api_url: Url,

    /// Atlassian OAuth 2.0 (service account) token endpoint base URL.
    #[arg(
        long,
        env = "JCO_JIRA_AUTH_URL",
        default_value = "https://auth.atlassian.com"
    )]
    pub(crate) jira_auth_url: Url,

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
    pub(crate) allowed_site_hosts: jira::AllowedHosts,

    /// Timeout of one request to Jira (e.g. 30s, 2m).
    #[arg(long, env = "JCO_JIRA_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub(crate) jira_timeout: Duration,

    /// Longest time the connection checks of one site may take (discovery, credentials, Admin API key); a site
    /// that hangs delays only its own connection and its actions.
    #[arg(long, env = "JCO_JIRA_CONNECT_TIMEOUT", default_value = "2m", value_parser = parse_duration)]
    pub(crate) jira_connect_timeout: Duration,

    /// How long Jira's issue search may lag a create: a createIssue whose answer was lost is created again only
    /// once its marker label stayed unfound this long after the attempt ended (unless consistent reads of the
    /// project's issue keys prove sooner that the issue was not created).
    #[arg(long, env = "JCO_CREATE_OUTCOME_WINDOW", default_value = "10m", value_parser = parse_duration)]
    pub(crate) create_outcome_window: Duration,

    /// Largest answer read from Jira, in bytes; a larger one fails the request (ResponseTooLarge).
    #[arg(long, env = "JCO_JIRA_MAX_RESPONSE_BYTES", default_value_t = 32 << 20, value_parser = clap::value_parser!(u64).range(65536..))]
    pub(crate) jira_max_response_bytes: u64,

    /// When watching all namespaces (no --watch-namespaces), Secrets are neither listed nor watched: each
    /// connection re-reads its Secrets at least this often, so a rotated Secret takes effect within it. With
    /// --watch-namespaces, Secret changes are watched and take effect at once.
    #[arg(long, env = "JCO_CREDENTIALS_RECHECK_INTERVAL", default_value = "5m", value_parser = parse_duration)]
    pub(crate) credentials_recheck_interval: Duration,

    /// Requests in flight at once towards one Jira site.
    #[arg(long, env = "JCO_JIRA_MAX_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jira_max_concurrency: u16,

    /// Requests started per second towards one Jira site; 0 disables pacing (429s are still honoured).
    #[arg(long, env = "JCO_JIRA_REQUESTS_PER_SECOND", default_value_t = 20.0, value_parser = parse_rate)]
    pub(crate) jira_requests_per_second: f64,

    /// PEM file of extra CA certificates to trust for Jira and Atlassian, on top of the platform's roots (a
    /// private CA, a TLS-inspecting proxy). HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured.
    #[arg(long, env = "JCO_CA_BUNDLE", value_name = "FILE")]
    pub(crate) ca_bundle: Option<PathBuf>,

    /// Address of the Prometheus endpoint (/metrics).
    #[arg(long, env = "JCO_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub(crate) metrics_addr: SocketAddr,

    /// Address of the probes (/healthz, /readyz).
    #[arg(long, env = "JCO_HEALTH_ADDR", default_value = "0.0.0.0:8081")]
    pub(crate) health_addr: SocketAddr,

    /// Log format: json (one object per line) or text.
    #[arg(long, env = "JCO_LOG_FORMAT", default_value_t = LogFormat::Json)]
    pub(crate) log_format: LogFormat,

    /// Log level or filter directive (info, debug, info,jira_cloud_operator=debug). Without it, RUST_LOG
    /// applies, then info.
    #[arg(long, env = "JCO_LOG_LEVEL")]
    pub(crate) log_level: Option<String>,

    /// Elect a leader through a Lease so that only one replica acts at a time.
    #[arg(long, env = "JCO_LEADER_ELECT")]
    pub(crate) leader_elect: bool,

    /// Namespace of the leader Lease [default: the pod's namespace (POD_NAMESPACE or the ServiceAccount's),
    /// else default].
    #[arg(long, env = "JCO_LEADER_ELECTION_NAMESPACE")]
    pub(crate) leader_election_namespace: Option<String>,

    /// Name of the leader Lease.
    #[arg(
        long,
        env = "JCO_LEADER_ELECTION_ID",
        default_value = "jira-cloud-operator"
    )]
    pub(crate) leader_election_id: String,

    /// How long the Lease stays valid after its last renewal (whole seconds).
    #[arg(long, env = "JCO_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub(crate) lease_duration: Duration,

    /// How long the leader keeps retrying a failed renewal before it stops leading; shorter than the lease
    /// duration.
    #[arg(long, env = "JCO_RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    pub(crate) renew_deadline: Duration,

    /// After SIGTERM, how long in-flight reconciles may take to finish before they are stopped; keep it below
    /// the pod's terminationGracePeriodSeconds.
    #[arg(long, env = "JCO_SHUTDOWN_TIMEOUT", default_value = "50s", value_parser = parse_duration)]
    pub(crate) shutdown_timeout: Duration,

    /// Time between attempts to acquire or renew the Lease.
    #[arg(long, env = "JCO_RETRY_PERIOD", default_value = "2s", value_parser = parse_duration)]
    pub(crate) retry_period: Duration,
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
    pub(crate) fn watch_namespaces(&self) -> Vec<String> {
        self.watch_namespaces
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect()
    }

    pub(crate) fn settings(&self) -> Settings {
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

    pub(crate) fn election(&self) -> leader::Config {
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
