//! A 5,000-user site through the JiraConnection controller: exact figures (user counts and license holders
//! derived from the simulator's state, usage from an independent sync of the same site), one JiraUser per
//! synced user with consistent labels, written in one request each, a small status, and a second sync of the
//! unchanged site that writes no JiraUser. Prints the figures (durations, requests, writes); asserts no timing.

use jira_cloud_operator::api::{JiraConnection, UserCounts};
use jira_sim::{GenerateOptions, SimHandle, scenario::AccountType};
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};
use testkit::{
    InProcess,
    bench::procs::apiserver_writes,
    connection::*,
    observed::has,
    settings,
    sim::{classic_admin, full_sync},
};

const USERS: usize = 5000;

/// User counts and license holders per product, from the simulator's state and the contract's rules: human
/// accounts only; hidden emails counted but not synced; a deactivated account holds no license; Jira Core is
/// not counted for a holder of another product.
fn expected(sim: &SimHandle) -> (UserCounts, BTreeMap<String, u32>) {
    sim.with_state(|s| {
        let mut counts = UserCounts::default();
        let mut used: BTreeMap<String, u32> =
            s.products.iter().map(|p| (p.key.clone(), 0)).collect();
        for (ix, u) in s.users.iter().enumerate() {
            if u.deleted || u.account_type != AccountType::Atlassian {
                continue;
            }
            counts.total += 1;
            if !u.active {
                counts.deactivated += 1;
            }
            if !matches!(u.jira_email(), Some(Some(e)) if !e.trim().is_empty()) {
                counts.hidden_email += 1;
                continue;
            }
            counts.synced += 1;
            if !u.active {
                continue;
            }
            let mut products = s.user_products(ix as u32);
            if products.iter().any(|p| *p != "jira-core") {
                products.retain(|p| *p != "jira-core");
            }
            for p in products {
                *used.get_mut(p).unwrap() += 1;
            }
        }
        (counts, used)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_users() {
    let env = testkit::env("conn-scale").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    // Activity over the last 28 days of the 30-day window: when the two syncs straddle UTC midnight, the
    // window's first day moves on and no activity leaves it, so the unchanged site still writes nothing.
    let scenario = jira_sim::generate(&GenerateOptions {
        users: USERS,
        days: 28,
        ..GenerateOptions::default()
    });
    let sim = jira_sim::start(jira_sim::SimConfig {
        scenario,
        ..Default::default()
    })
    .await
    .unwrap();
    let (counts, used) = expected(&sim);
    assert_eq!(counts.total as usize, USERS);
    let reference = full_sync(classic_admin(&sim)).await.inventory;

    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_admin_secret().await;
    // This test is alone in its binary, so the control plane's JiraUser writes are the operator's.
    let jira_user_writes = || async {
        let writes = apiserver_writes(&client).await;
        (
            writes.get("jirausers").copied().unwrap_or(0),
            writes.get("jirausers/status").copied().unwrap_or(0),
        )
    };
    let writes_before = jira_user_writes().await;
    let started = Instant::now();
    env.create_connection("big", basic_spec(&sim.url(), "jira-basic"))
        .await;
    let limit = Duration::from_secs(600);
    let c = env
        .wait_for_within("big", "Ready", limit, |c| has(c, "Ready", "True", "Synced"))
        .await;
    let first = started.elapsed();

    let st = c.status.as_ref().unwrap();
    assert_eq!(st.users.as_ref(), Some(&counts));
    for l in &st.licenses {
        assert_eq!(l.used, used[&l.product], "{} holders", l.product);
        let r = reference
            .licenses
            .iter()
            .find(|r| r.product == l.product)
            .unwrap();
        assert_eq!(
            (l.active_users as u64, l.inactive_users as u64),
            (r.active_users, r.inactive_users),
            "{}",
            l.product
        );
    }
    assert_eq!(st.licenses.len(), used.len());
    let usage = st.usage.as_ref().unwrap();
    assert_eq!(usage.active_users as u64, reference.usage.active_users);
    let daily: Vec<u64> = usage.daily.iter().map(|d| d.active_users as u64).collect();
    let reference_daily: Vec<u64> = reference
        .usage
        .daily
        .iter()
        .map(|d| d.active_users)
        .collect();
    assert_eq!(daily, reference_daily);
    assert!(usage.active_users > 0 && daily.iter().any(|&n| n > 0));
    let status_bytes = serde_json::to_vec(&c.status).unwrap().len();
    assert!(
        status_bytes < 16 * 1024,
        "the status stays small: {status_bytes} bytes"
    );

    let users = env
        .wait_users("big", "the inventory", |u| {
            u.len() == counts.synced as usize
        })
        .await;
    let (objects, statuses) = jira_user_writes().await;
    assert_eq!(
        (objects - writes_before.0, statuses - writes_before.1),
        (users.len() as u64, 0),
        "one write per JiraUser on the first sync"
    );
    let active = env
        .jira_users("big", "jiracloud.io/active=true")
        .await
        .len();
    let reference_active = reference
        .records
        .iter()
        .filter(|r| r.active_days > 0)
        .count();
    assert_eq!(active, reference_active);
    for (product, n) in &used {
        let holders = env
            .jira_users("big", &format!("jiracloud.io/product.{product}=true"))
            .await;
        assert_eq!(holders.len(), *n as usize, "{product} labels");
    }
    let stats = st.last_sync_stats.clone().unwrap();
    println!(
        "5,000-user site: Ready {:.1} s after creation; sync {:.1} s, {} Jira requests, {} throttled; {} JiraUsers created",
        first.as_secs_f64(),
        stats.duration_seconds,
        stats.api_requests,
        stats.throttled,
        users.len()
    );
    println!("status: {status_bytes} bytes");

    // The second sync of the unchanged site writes no JiraUser.
    let before = env.resource_versions("big").await;
    let started = Instant::now();
    env.request_sync("big", "again").await;
    let c: JiraConnection = env
        .wait_for_within("big", "the second sync", limit, |c| {
            has(c, "Ready", "True", "Synced")
                && c.status
                    .as_ref()
                    .and_then(|s| s.last_sync_request.as_deref())
                    == Some("again")
        })
        .await;
    let after = env.resource_versions("big").await;
    let written = after
        .iter()
        .filter(|(n, rv)| before.get(*n) != Some(*rv))
        .count();
    let stats = c.status.as_ref().unwrap().last_sync_stats.clone().unwrap();
    println!(
        "second sync: Ready {:.1} s after the request; sync {:.1} s, {} Jira requests; {written} JiraUsers written",
        started.elapsed().as_secs_f64(),
        stats.duration_seconds,
        stats.api_requests,
    );
    assert_eq!(after.len(), before.len());
    assert_eq!(written, 0, "an unchanged site writes no JiraUser");
    assert_eq!(
        jira_user_writes().await,
        (objects, statuses),
        "no JiraUser write at all on the unchanged re-sync"
    );
    assert_eq!(c.status.as_ref().unwrap().users.as_ref(), Some(&counts));

    operator.stop().await;
    sim.shutdown().await;
}
