//! The fault matrix on the Jira side, with the operator's controllers in-process on the real apiserver and a
//! generated org in the simulator. First a fault-free sync of a Basic-auth connection (with an organization)
//! and of an OAuth service-account connection gives the reference figures. Then, for each fault, both
//! connections sync and JiraActions run while the fault is in force:
//! - absorbed faults (429 storms, every Nth request or a token bucket; 5xx bursts; 500s on every 4th request;
//!   dropped connections; a mix of 502s, drops and 429s): every sync ends with the reference figures, every
//!   action succeeds with exactly one issue in Jira;
//! - outages (Jira answering 503 for longer than a sync and its retries; responses slower than the client's
//!   timeout; the OAuth token endpoint failing): the sync fails with a transient reason, the status keeps the
//!   reference figures (nothing is lost or wiped), actions wait; once the fault ends the operator recovers by
//!   itself (no sync request, no restart) with the reference figures, and every action ran exactly once.
//!
//! Apart: a 429 asking to wait longer than the operator waits by itself parks the sync, which resumes at
//! Jira's time from its last completed step.

use jira_cloud_operator::api::{ActionPhase, JiraAction, JiraConnection};
use jira_sim::{DropFault, Faults, GenerateOptions, RateLimitFault, ServerErrorFault, SimConfig};
use kube::{
    ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};
use std::time::Duration;
use testkit::{
    Harness, InProcess,
    observed::{condition, condition_message, figures},
    settings,
};

const BASIC: &str = "acme";
const OAUTH: &str = "robot";

fn absorbed() -> Vec<(&'static str, Faults)> {
    vec![
        (
            "429 storm (every 3rd request, Retry-After 1 s)",
            Faults {
                rate_limit: Some(RateLimitFault {
                    every_nth: Some(3),
                    retry_after_secs: 1,
                    ..Default::default()
                }),
                ..Faults::default()
            },
        ),
        (
            "429 from a token bucket (15/s, burst 5)",
            Faults {
                rate_limit: Some(RateLimitFault {
                    rate_per_sec: Some(15.0),
                    burst: Some(5.0),
                    reason: "jira-quota-tenant-based".into(),
                    ..Default::default()
                }),
                ..Faults::default()
            },
        ),
        (
            "5xx burst (the next 6 requests answer 503)",
            Faults {
                server_error: Some(ServerErrorFault {
                    status: 503,
                    count: Some(6),
                    ..Default::default()
                }),
                ..Faults::default()
            },
        ),
        (
            "500 on every 4th request",
            Faults {
                server_error: Some(ServerErrorFault {
                    status: 500,
                    every_nth: Some(4),
                    ..Default::default()
                }),
                ..Faults::default()
            },
        ),
        (
            "dropped connections (every 4th request)",
            Faults {
                drop_connection: Some(DropFault {
                    every_nth: Some(4),
                    ..Default::default()
                }),
                ..Faults::default()
            },
        ),
        (
            "mix: 10 % 502, 10 % dropped, every 7th request 429",
            Faults {
                server_error: Some(ServerErrorFault {
                    status: 502,
                    ratio: Some(0.1),
                    ..Default::default()
                }),
                drop_connection: Some(DropFault {
                    ratio: Some(0.1),
                    ..Default::default()
                }),
                rate_limit: Some(RateLimitFault {
                    every_nth: Some(7),
                    retry_after_secs: 1,
                    ..Default::default()
                }),
                ..Faults::default()
            },
        ),
    ]
}

fn outages() -> Vec<(&'static str, Faults, &'static [&'static str])> {
    vec![
        (
            "Jira down (every request answers 503) for longer than a sync",
            Faults {
                server_error: Some(ServerErrorFault {
                    status: 503,
                    every_nth: Some(1),
                    ..Default::default()
                }),
                ..Faults::default()
            },
            &[BASIC, OAUTH],
        ),
        (
            "responses slower than the client's timeout (3 s against 2 s)",
            Faults {
                latency_ms: 3000,
                ..Faults::default()
            },
            &[BASIC, OAUTH],
        ),
        (
            "OAuth token endpoint failing (500)",
            Faults {
                server_error: Some(ServerErrorFault {
                    status: 500,
                    every_nth: Some(1),
                    ..Default::default()
                }),
                routes: vec!["/oauth/token".into()],
                ..Faults::default()
            },
            &[OAUTH],
        ),
    ]
}

/// Creates one createIssue action per connection, named after `round`.
async fn actions(w: &Harness, round: &str) -> Vec<String> {
    let mut names = Vec::new();
    for connection in [BASIC, OAUTH] {
        let name = format!("{round}-{connection}");
        w.create_on(
            &name,
            connection,
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": format!("Fault round {round}")}}),
        )
        .await;
        names.push(name);
    }
    names
}

/// Every action succeeded with exactly one issue carrying its marker.
fn exactly_once(w: &Harness, what: &str, done: &[JiraAction]) {
    for a in done {
        let status = a.status.as_ref().expect("a status");
        assert_eq!(
            status.phase,
            Some(ActionPhase::Succeeded),
            "{what}: action {} did not succeed: {:?}",
            a.name_any(),
            status
        );
        let issues = w.marked_issues(a);
        assert_eq!(
            issues.len(),
            1,
            "{what}: action {} made {issues:?}",
            a.name_any()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_faults_keep_the_figures_and_run_each_action_once() {
    let w = Harness::new(
        "faults-jira",
        SimConfig {
            scenario: jira_sim::generate(&GenerateOptions {
                seed: 11,
                users: 120,
                ..Default::default()
            }),
            token_lifetime: Duration::from_secs(3),
            ..SimConfig::default()
        },
    )
    .await;
    let operator = w.start(w.fault_settings(Duration::from_secs(2)));
    w.basic_connection(BASIC).await;
    w.oauth_connection(OAUTH).await;
    let mut reference: Vec<Value> = Vec::new();
    for name in [BASIC, OAUTH] {
        let c = w
            .wait_connection(name, "a first sync", |c| {
                condition(c, "Synced") == Some(("True".into(), "Complete".into()))
            })
            .await;
        reference.push(figures(&c));
    }
    assert!(
        reference[0]["users"]["total"].as_u64().unwrap_or(0) >= 100,
        "{}",
        reference[0]
    );
    assert!(reference[0]["roles"].is_object(), "{}", reference[0]);

    for (i, (what, faults)) in absorbed().into_iter().enumerate() {
        let round = format!("absorbed-{i}");
        w.sim.reset_stats();
        w.sim.set_faults(faults);
        let names = actions(&w, &round).await;
        for name in [BASIC, OAUTH] {
            w.request_sync(name, &round).await;
        }
        for (k, name) in [BASIC, OAUTH].into_iter().enumerate() {
            let c = w.synced_after(name, &round).await;
            assert_eq!(figures(&c), reference[k], "{what}: {name} figures differ");
        }
        let done = w.finished_all(&names).await;
        exactly_once(&w, what, &done);
        let stats = w.sim.stats();
        w.sim.set_faults(Faults::default());
        eprintln!(
            "{what}: figures identical, {} actions once; simulator saw {} requests, {} answered 429, {} 5xx, {} dropped",
            done.len(),
            stats.total,
            stats.rate_limited,
            stats.server_errors,
            stats.dropped_connections
        );
    }

    for (i, (what, faults, affected)) in outages().into_iter().enumerate() {
        let round = format!("outage-{i}");
        w.sim.set_faults(faults);
        if affected.contains(&OAUTH) {
            // Cached OAuth tokens expire, so the token endpoint is needed at once.
            reqwest::Client::new()
                .post(w.sim.url().join("__sim/oauth/expire").unwrap())
                .send()
                .await
                .expect("expire the OAuth tokens");
        }
        let names = actions(&w, &round).await;
        for name in affected.iter().copied() {
            w.request_sync(name, &round).await;
        }
        for name in affected.iter().copied() {
            let k = usize::from(name == OAUTH);
            let c = w
                .wait_connection(name, &format!("{what}: a failed sync"), |c| {
                    c.status
                        .as_ref()
                        .is_some_and(|s| s.last_sync_request.as_deref() == Some(round.as_str()))
                        && condition(c, "Synced").is_some_and(|(s, _)| s == "False")
                })
                .await;
            let (_, reason) = condition(&c, "Synced").expect("a Synced condition");
            assert!(
                ["JiraUnavailable", "RateLimited", "UnexpectedResponse"].contains(&reason.as_str()),
                "{what}: {name} failed with {reason}"
            );
            assert_eq!(figures(&c), reference[k], "{what}: {name} lost its figures");
        }
        w.sim.set_faults(Faults::default());
        for name in affected.iter().copied() {
            let k = usize::from(name == OAUTH);
            let c = w
                .wait_connection(name, &format!("{what}: recovery by itself"), |c| {
                    condition(c, "Synced") == Some(("True".into(), "Complete".into()))
                        && condition(c, "Ready").is_some_and(|(s, _)| s == "True")
                })
                .await;
            assert_eq!(
                figures(&c),
                reference[k],
                "{what}: {name} figures after recovery"
            );
        }
        let done = w.finished_all(&names).await;
        exactly_once(&w, what, &done);
        eprintln!(
            "{what}: failed with a transient reason, figures kept, recovered by itself, actions once"
        );
    }
    operator.stop().await;
    w.shutdown().await;
}

/// A connection synced once by an operator that waits out 429s of at most 1 s itself; then the issue search
/// answers one 429 asking to wait `retry_after_secs` and a sync is requested. Returns the first sync's
/// connection, the parked one, and how many requests the simulator had received when the park was seen.
async fn parked_world(
    w: &Harness,
    retry_after_secs: u64,
) -> (InProcess, JiraConnection, JiraConnection, usize) {
    let mut settings = settings::connections(&w.sim.url(), &[&w.namespace]);
    settings.limits.max_throttle_wait = Duration::from_secs(1);
    let operator = InProcess::connections(w.client.clone(), settings);
    w.basic_connection(BASIC).await;
    let good = w
        .wait_connection(BASIC, "a first sync", |c| {
            condition(c, "Ready") == Some(("True".into(), "Synced".into()))
        })
        .await;
    w.sim.clear_received_requests();
    w.sim.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            count: Some(1),
            retry_after_secs,
            reason: "jira-quota-tenant-based".into(),
            ..RateLimitFault::default()
        }),
        routes: vec!["/rest/api/3/search/jql".into()],
        ..Faults::default()
    });
    w.request_sync(BASIC, "parked").await;
    let parked = w
        .wait_connection(BASIC, "a parked sync", |c| {
            condition(c, "Synced") == Some(("Unknown".into(), "RateLimited".into()))
        })
        .await;
    let at_park = w.sim.received_requests().len();
    (operator, good, parked, at_park)
}

/// Requests whose path starts with `path`.
fn count(requests: &[jira_sim::ReceivedRequest], path: &str) -> usize {
    requests.iter().filter(|r| r.path.starts_with(path)).count()
}

/// The issue search answers one 429 asking to wait 3 s, longer than the operator's 1 s: the sync parks
/// (`Synced=Unknown`, reason `RateLimited`, the resume time in the message) with `Ready` and every figure kept,
/// then resumes by itself and completes, reading the search again but not the users listing it had finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_429_parks_the_sync_which_resumes_where_it_stopped() {
    let w = Harness::new("faults-park", SimConfig::default()).await;
    let (operator, good, parked, at_park) = parked_world(&w, 3).await;
    let message = condition_message(&parked, "Synced").expect("a Synced condition");
    for part in ["jira-quota-tenant-based", "resumes at ", "users"] {
        assert!(message.contains(part), "{message}");
    }
    assert_eq!(
        condition(&parked, "Ready"),
        Some(("True".into(), "Synced".into())),
        "parking is no failure"
    );
    assert_eq!(figures(&parked), figures(&good));
    let st = parked.status.as_ref().expect("a status");
    assert!(st.next_sync_time.is_some(), "the resume time");
    assert_eq!(
        st.last_sync_stats,
        good.status.as_ref().unwrap().last_sync_stats
    );
    assert!(w.has_event(BASIC, "Normal", "RateLimited").await);

    let done = w.synced_after(BASIC, "parked").await;
    assert_eq!(figures(&done), figures(&good));
    let received = w.sim.received_requests();
    let (before, after) = received.split_at(at_park);
    assert!(count(before, "/rest/api/3/users/search") > 0);
    assert_eq!(
        count(after, "/rest/api/3/users/search"),
        0,
        "finished before the park"
    );
    assert_eq!(
        count(after, "/rest/api/3/group/member"),
        0,
        "finished before the park"
    );
    assert_eq!(count(before, "/rest/api/3/search/jql"), 1, "the 429");
    assert!(
        count(after, "/rest/api/3/search/jql") > 0,
        "the parked step"
    );
    let stats = done.status.unwrap().last_sync_stats.expect("stats");
    assert_eq!(stats.throttled, 1, "the first piece counts");
    assert!(stats.api_requests > after.len() as u64, "{stats:?}");
    operator.stop().await;
    w.shutdown().await;
}

/// A spec change while a sync is parked for an hour runs a sync at once, which drops the checkpoint (it
/// belongs to the old spec) and reads everything again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_change_drops_the_parked_sync() {
    let w = Harness::new("faults-unpark", SimConfig::default()).await;
    let (operator, good, _, at_park) = parked_world(&w, 3600).await;
    w.connections()
        .patch(
            BASIC,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"sync": {"maxShrinkPercent": 60}}})),
        )
        .await
        .expect("patch the spec");
    let done = w.synced_after(BASIC, "parked").await;
    assert_eq!(figures(&done), figures(&good));
    let received = w.sim.received_requests();
    assert!(
        count(&received[at_park..], "/rest/api/3/users/search") > 0,
        "a fresh sync"
    );
    operator.stop().await;
    w.shutdown().await;
}
