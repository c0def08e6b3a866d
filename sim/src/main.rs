//! The `jira-sim` binary: serves a Jira Cloud simulator until SIGTERM/SIGINT.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use jira_sim::{GenerateOptions, Scenario, SimConfig};

/// A Jira Cloud simulator (site, api.atlassian.com gateway, OAuth, Admin API) on one port.
#[derive(Parser, Debug)]
#[command(name = "jira-sim", version)]
struct Cli {
    /// Address to bind.
    #[arg(long, env = "JIRA_SIM_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port (0 = any free port).
    #[arg(long, env = "JIRA_SIM_PORT", default_value_t = 8990)]
    port: u16,
    /// Scenario file (YAML or JSON). Without it and without --users, the default scenario is served.
    #[arg(long, env = "JIRA_SIM_SCENARIO", conflicts_with = "users")]
    scenario: Option<PathBuf>,
    /// Generate an org with this many human accounts (deterministic for --seed).
    #[arg(long, env = "JIRA_SIM_USERS")]
    users: Option<usize>,
    /// Seed of the generator.
    #[arg(long, env = "JIRA_SIM_SEED", default_value_t = 42)]
    seed: u64,
    /// Days of generated activity.
    #[arg(long, env = "JIRA_SIM_DAYS", default_value_t = 30)]
    days: u32,
    /// Share of generated humans whose email is hidden (key absent).
    #[arg(long, env = "JIRA_SIM_HIDDEN_EMAIL_SHARE", default_value_t = 0.05)]
    hidden_email_share: f64,
    /// Share of generated humans whose email is hidden as `"emailAddress": null`.
    #[arg(long, env = "JIRA_SIM_NULL_EMAIL_SHARE", default_value_t = 0.0)]
    null_email_share: f64,
    /// Share of generated humans that are deactivated.
    #[arg(long, env = "JIRA_SIM_INACTIVE_SHARE", default_value_t = 0.05)]
    inactive_share: f64,
    /// Share of active generated humans with activity in the window.
    #[arg(long, env = "JIRA_SIM_ACTIVE_SHARE", default_value_t = 0.6)]
    active_share: f64,
    /// Generated issues per human.
    #[arg(long, env = "JIRA_SIM_ISSUES_PER_USER", default_value_t = 2.0)]
    issues_per_user: f64,
    /// Generated app accounts (default 2 + users/200).
    #[arg(long, env = "JIRA_SIM_APP_ACCOUNTS")]
    app_accounts: Option<usize>,
    /// Generated customer accounts (default users/20).
    #[arg(long, env = "JIRA_SIM_CUSTOMER_ACCOUNTS")]
    customer_accounts: Option<usize>,
    /// OAuth access token lifetime in seconds.
    #[arg(long, env = "JIRA_SIM_TOKEN_LIFETIME", default_value_t = 3600)]
    token_lifetime: u64,
    /// Print the base URL on stdout once listening (one line, for scripts).
    #[arg(long, env = "JIRA_SIM_PRINT_URL")]
    print_url: bool,
    /// Print the scenario as YAML and exit (e.g. to start a hand-written file from a generated org).
    #[arg(long)]
    dump_scenario: bool,
}

fn scenario(cli: &Cli) -> Result<Scenario, String> {
    if let Some(path) = &cli.scenario {
        return Scenario::from_file(path);
    }
    let Some(users) = cli.users else {
        return Ok(jira_sim::default_scenario());
    };
    Ok(jira_sim::generate(&GenerateOptions {
        seed: cli.seed,
        users,
        days: cli.days,
        hidden_email_share: cli.hidden_email_share,
        null_email_share: cli.null_email_share,
        inactive_share: cli.inactive_share,
        active_share: cli.active_share,
        issues_per_user: cli.issues_per_user,
        app_accounts: cli.app_accounts,
        customer_accounts: cli.customer_accounts,
        ..GenerateOptions::default()
    }))
}

/// Listens for Ctrl-C and SIGTERM from now on (a signal arriving before the returned future is awaited is not
/// lost: a client may stop the simulator the moment it printed its URL) and completes on the first of them.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
        let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
        async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let scenario = match scenario(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("jira-sim: {e}");
            std::process::exit(2);
        }
    };
    if cli.dump_scenario {
        print!("{}", scenario.to_yaml());
        return;
    }
    let stop = stop_signal();
    let config = SimConfig {
        scenario,
        token_lifetime: Duration::from_secs(cli.token_lifetime.max(1)),
        bind: cli.bind,
        port: cli.port,
        ..SimConfig::default()
    };
    let sim = match jira_sim::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("jira-sim: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let url = format!("http://{}", sim.addr());
    if cli.print_url {
        println!("{url}");
    }
    eprintln!(
        "jira-sim listening on {url} (cloudId {}, org {})",
        sim.cloud_id(),
        sim.org_id()
    );
    stop.await;
    sim.shutdown().await;
}
