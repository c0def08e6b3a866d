//! `jira-cloud-operator report`: a read-only summary of license use per connection and product, read from
//! the cluster with the caller's kubeconfig (like kubectl).

pub mod figures;
pub mod policies;
pub mod render;

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::Utc;
use kube::{Api, Client, ResourceExt, api::ListParams};

use crate::api::{JiraConnection, JiraLicensePolicy, JiraUser, JiraUserStatus};
use crate::controller::inventory::Pages;
use figures::{Money, Options, Row};
use render::Format;

/// The arguments of `report`.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// Only this connection.
    pub connection: Option<String>,

    /// Namespace of the connections (default: the kubeconfig context's namespace).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,

    /// Connections of every namespace.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,

    /// Days without activity that make a license holder inactive (default: each connection's usage window).
    /// A holder is counted inactive only when the operator can know it; otherwise "unknown yet".
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub inactive_days: Option<u32>,

    /// Monthly price of one seat of a product, for the savings estimate: jira-software=8.60 (repeatable).
    #[arg(long, value_name = "PRODUCT=AMOUNT", value_parser = parse_price)]
    pub seat_price: Vec<(String, String)>,

    /// Currency of the seat prices.
    #[arg(long, default_value = "USD")]
    pub currency: String,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
}

fn parse_price(s: &str) -> Result<(String, String), String> {
    let (product, amount) = s
        .split_once('=')
        .filter(|(p, a)| !p.is_empty() && !a.is_empty())
        .ok_or_else(|| format!("expected PRODUCT=AMOUNT (jira-software=8.60), got '{s}'"))?;
    Money::parse(amount, "")?;
    Ok((product.to_owned(), amount.to_owned()))
}

impl ReportArgs {
    fn options(&self) -> anyhow::Result<Options> {
        let seat_prices = self
            .seat_price
            .iter()
            .map(|(product, amount)| {
                Money::parse(amount, &self.currency)
                    .map(|m| (product.clone(), m))
                    .map_err(anyhow::Error::msg)
            })
            .collect::<anyhow::Result<BTreeMap<_, _>>>()?;
        Ok(Options {
            inactive_days: self.inactive_days,
            seat_prices,
        })
    }
}

/// Reads the connections and their JiraUsers and prints the report on stdout.
pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let options = args.options()?;
    let client = Client::try_default()
        .await
        .context("cannot reach Kubernetes (KUBECONFIG or in-cluster configuration)")?;
    let connections: Api<JiraConnection> = scoped(&client, &args);
    let mut listed = connections
        .list(&ListParams::default())
        .await
        .context("cannot list JiraConnections")?
        .items;
    if let Some(name) = &args.connection {
        listed.retain(|c| &c.name_any() == name);
        if listed.is_empty() {
            anyhow::bail!("JiraConnection {name} not found");
        }
    }
    listed.sort_by_key(|c| (c.namespace(), c.name_any()));
    let now = Utc::now();
    let mut rows: Vec<Row> = Vec::new();
    for connection in &listed {
        let users = users_of(&client, connection).await?;
        let of_connection = figures::rows(connection, &users, &options, now);
        if of_connection.is_empty() {
            eprintln!(
                "JiraConnection {}/{} has no license figures yet (it has not synced)",
                connection.namespace().unwrap_or_default(),
                connection.name_any()
            );
        }
        rows.extend(of_connection);
    }
    let policies: Api<JiraLicensePolicy> = scoped(&client, &args);
    // The policies are an extra column: without the right to read them, the report still prints.
    match policies.list(&ListParams::default()).await {
        Ok(list) => policies::fill(&mut rows, &list.items),
        Err(e) => {
            eprintln!("cannot list JiraLicensePolicies ({e}): RECLAIMABLE-BY-POLICY is left empty")
        }
    }
    print!(
        "{}",
        render::render(&rows, args.output, args.all_namespaces)
    );
    Ok(())
}

/// The API of a kind in the namespaces the arguments ask for.
fn scoped<K>(client: &Client, args: &ReportArgs) -> Api<K>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
{
    if args.all_namespaces {
        return Api::all(client.clone());
    }
    match &args.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::default_namespaced(client.clone()),
    }
}

/// The status of every JiraUser of `connection`, read a page at a time.
async fn users_of(
    client: &Client,
    connection: &JiraConnection,
) -> anyhow::Result<Vec<JiraUserStatus>> {
    let namespace = connection.namespace().unwrap_or_default();
    let api: Api<JiraUser> = Api::namespaced(client.clone(), &namespace);
    let name = connection.name_any();
    let mut pages = Pages::new(&api, &name);
    let mut users = Vec::new();
    while let Some(page) = pages
        .next()
        .await
        .with_context(|| format!("cannot list the JiraUsers of {namespace}"))?
    {
        users.extend(page.into_iter().filter_map(|u| u.status));
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        report: ReportArgs,
    }

    fn parse(args: &[&str]) -> Result<ReportArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("report").chain(args.iter().copied())).map(|c| c.report)
    }

    #[test]
    fn arguments() {
        let a = parse(&[
            "acme",
            "-n",
            "it",
            "--inactive-days",
            "90",
            "--seat-price",
            "jira-software=8.60",
            "--currency",
            "EUR",
            "-o",
            "csv",
        ])
        .unwrap();
        assert_eq!(a.connection.as_deref(), Some("acme"));
        assert_eq!(a.output, Format::Csv);
        let o = a.options().unwrap();
        assert_eq!(o.inactive_days, Some(90));
        assert_eq!(
            o.seat_prices["jira-software"],
            Money::parse("8.60", "EUR").unwrap()
        );
        assert!(parse(&["-A", "-n", "it"]).is_err(), "-A and -n conflict");
        assert!(parse(&["--inactive-days", "0"]).is_err());
        let err = parse(&["--seat-price", "jira-software"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("PRODUCT=AMOUNT"), "{err}");
        let err = parse(&["--seat-price", "jira-software=8.601"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("8.601"), "{err}");
        assert_eq!(parse(&[]).unwrap().output, Format::Table);
    }
}
