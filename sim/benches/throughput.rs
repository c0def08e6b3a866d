//! Throughput of the simulator over loopback: simple GETs and paged user listing.
//! Prints requests/second (no assertions). Run: `cargo bench -p jira-sim --bench throughput`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jira_sim::{GenerateOptions, SimConfig};

const CONCURRENCY: usize = 8;
const RUN: Duration = Duration::from_secs(3);

async fn hammer(name: &str, client: reqwest::Client, urls: Arc<Vec<String>>) {
    let done = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY {
        let (client, urls, done, bytes) =
            (client.clone(), urls.clone(), done.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while start.elapsed() < RUN {
                let r = client
                    .get(&urls[i % urls.len()])
                    .basic_auth("admin@example.com", Some("classic-admin-token"))
                    .send()
                    .await
                    .expect("request");
                assert!(r.status().is_success(), "status {}", r.status());
                let body = r.bytes().await.expect("body");
                bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                done.fetch_add(1, Ordering::Relaxed);
                i += CONCURRENCY;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let secs = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "{name:<40} {:>10.0} req/s  {:>8.1} MB/s  ({n} requests, {CONCURRENCY} connections)",
        n as f64 / secs,
        bytes.load(Ordering::Relaxed) as f64 / secs / 1e6
    );
}

fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

async fn big_org() {
    let users = 100_000;
    let t = Instant::now();
    let scenario = jira_sim::generate(&GenerateOptions {
        users,
        ..GenerateOptions::default()
    });
    let generated = t.elapsed().as_secs_f64();
    let issues = scenario.issues.len();
    let activity: usize = scenario
        .issues
        .iter()
        .map(|i| i.comments.len() + i.changelog.len() + i.worklogs.len())
        .sum();
    let sim = jira_sim::start(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await
    .expect("start");
    println!(
        "{users} users, {issues} issues, {activity} comments/changelog/worklogs: generated in {generated:.2} s, \
         loaded in {:.2} s, resident memory {:.0} MB",
        t.elapsed().as_secs_f64() - generated,
        rss_mb().unwrap_or(f64::NAN)
    );
    sim.shutdown().await;
}

#[tokio::main]
async fn main() {
    big_org().await;
    let users = 20_000;
    let t = Instant::now();
    let scenario = jira_sim::generate(&GenerateOptions {
        users,
        ..GenerateOptions::default()
    });
    println!(
        "generated {users} users in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let sim = jira_sim::start(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let base = sim.url().to_string();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");

    hammer(
        "GET /rest/api/3/serverInfo",
        client.clone(),
        Arc::new(vec![format!("{base}rest/api/3/serverInfo")]),
    )
    .await;
    hammer(
        "GET /rest/api/3/myself",
        client.clone(),
        Arc::new(vec![format!("{base}rest/api/3/myself")]),
    )
    .await;
    let pages: Vec<String> = (0..users / 100)
        .map(|p| {
            format!(
                "{base}rest/api/3/users/search?startAt={}&maxResults=100",
                p * 100
            )
        })
        .collect();
    hammer(
        "GET users/search (100 per page)",
        client.clone(),
        Arc::new(pages),
    )
    .await;
    let pages: Vec<String> = (0..users / 1000)
        .map(|p| {
            format!(
                "{base}rest/api/3/users/search?startAt={}&maxResults=1000",
                p * 1000
            )
        })
        .collect();
    hammer(
        "GET users/search (1000 per page)",
        client.clone(),
        Arc::new(pages),
    )
    .await;
    let stats = sim.stats();
    println!("simulator counted {} requests", stats.total);
    sim.shutdown().await;
}
