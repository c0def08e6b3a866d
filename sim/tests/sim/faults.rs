//! Fault injection: 429 (every Nth and token bucket per credential) with Jira's headers, 5xx, latency,
//! dropped connections, Server disguise, route filters; counters by route and status.

use crate::common::*;
use jira_sim::{DropFault, Faults, RateLimitFault, ServerErrorFault};
use serde_json::json;

#[tokio::test]
async fn the_next_requests_are_rate_limited_then_served() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            count: Some(2),
            retry_after_secs: 3600,
            reason: "jira-quota-tenant-based".into(),
            ..RateLimitFault::default()
        }),
        routes: vec!["/rest/api/3/myself".into()],
        ..Faults::default()
    });
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..4 {
        let r = sim.get(&Who::Admin, "/rest/api/3/myself").await;
        statuses.push(r.status);
        if r.status == 429 {
            limited = Some(r);
        }
    }
    assert_eq!(statuses, [429, 429, 200, 200]);
    let r = limited.unwrap();
    assert_eq!(r.header("retry-after").as_deref(), Some("3600"));
    assert_eq!(
        r.header("beta-ratelimit").as_deref(),
        Some("\"tenant-app-quota\";r=0;t=3600")
    );
    assert_eq!(
        r.header("ratelimit-reason").as_deref(),
        Some("jira-quota-tenant-based")
    );
}

#[tokio::test]
async fn every_nth_request_is_rate_limited_with_jira_headers() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            every_nth: Some(3),
            retry_after_secs: 7,
            ..RateLimitFault::default()
        }),
        ..Faults::default()
    });
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let r = sim.get(&Who::Admin, "/rest/api/3/myself").await;
        statuses.push(r.status);
        if r.status == 429 {
            limited = Some(r);
        }
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429]);
    let r = limited.unwrap();
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));
    assert_eq!(r.header("x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(r.header("x-ratelimit-limit").as_deref(), Some("350"));
    assert_eq!(
        r.header("ratelimit-reason").as_deref(),
        Some("jira-burst-based")
    );
    assert_eq!(
        r.header("x-beta-ratelimit-reason").as_deref(),
        Some("jira-burst-based")
    );
    assert!(
        r.header("beta-ratelimit-policy")
            .unwrap()
            .contains("q=100100")
    );
    let reset = r.header("x-ratelimit-reset").unwrap();
    assert!(
        reset.ends_with('Z') && reset.len() == "2026-06-05T06:00Z".len(),
        "{reset}"
    );
    let stats = sim.handle.stats();
    assert_eq!(stats.rate_limited, 2);
    assert_eq!(stats.count_status("GET", "/rest/api/3/myself", 429), 2);
    assert_eq!(stats.count_status("GET", "/rest/api/3/myself", 200), 4);
    // The control plane is never affected; clearing the faults restores service.
    for _ in 0..5 {
        assert_eq!(sim.get(&Who::Anon, "/__sim/health").await.status, 200);
    }
    assert_eq!(sim.delete(&Who::Anon, "/__sim/faults").await.status, 204);
    for _ in 0..4 {
        assert_eq!(sim.get(&Who::Admin, "/rest/api/3/myself").await.status, 200);
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn token_bucket_is_per_credential() {
    let sim = start().await;
    let r = sim
        .post(&Who::Anon, "/__sim/faults", json!({"rate_limit": {"rate_per_sec": 0.01, "burst": 2, "reason": "jira-quota-tenant-based"}}))
        .await;
    assert_eq!(r.status, 200);
    let first = sim.get(&Who::Admin, "/rest/api/3/myself").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-remaining").as_deref(), Some("1"));
    assert_eq!(
        first.header("beta-ratelimit").as_deref(),
        Some("\"tenant-app-quota\";r=1;t=60")
    );
    assert_eq!(sim.get(&Who::Admin, "/rest/api/3/myself").await.status, 200);
    let third = sim.get(&Who::Admin, "/rest/api/3/myself").await;
    assert_eq!(third.status, 429);
    assert_eq!(
        third.header("ratelimit-reason").as_deref(),
        Some("jira-quota-tenant-based")
    );
    let wait: u64 = third.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    // Another credential has its own bucket.
    assert_eq!(
        sim.get(&Who::Viewer, "/rest/api/3/myself").await.status,
        200
    );
    assert_eq!(sim.handle.stats().rate_limited, 1);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn server_errors_by_count_and_ratio() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 502,
            count: Some(2),
            ..ServerErrorFault::default()
        }),
        ..Faults::default()
    });
    let statuses: Vec<u16> = futures_statuses(&sim, 4).await;
    assert_eq!(statuses, [502, 502, 200, 200]);
    sim.handle.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            ratio: Some(0.5),
            ..ServerErrorFault::default()
        }),
        ..Faults::default()
    });
    let statuses = futures_statuses(&sim, 200).await;
    let failed = statuses.iter().filter(|&&s| s == 503).count();
    assert!((50..150).contains(&failed), "{failed} of 200 failed");
    assert_eq!(
        statuses.iter().filter(|&&s| s != 503 && s != 200).count(),
        0
    );
    assert_eq!(sim.handle.stats().server_errors, 2 + failed as u64);
    sim.handle.shutdown().await;
}

async fn futures_statuses(sim: &Sim, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(sim.get(&Who::Admin, "/rest/api/3/serverInfo").await.status);
    }
    out
}

#[tokio::test]
async fn dropped_connections_get_no_answer() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        drop_connection: Some(DropFault {
            count: Some(1),
            ..DropFault::default()
        }),
        ..Faults::default()
    });
    let dropped = sim
        .client
        .get(sim.url("/rest/api/3/serverInfo"))
        .send()
        .await;
    assert!(
        dropped.is_err(),
        "the first request must fail at the transport level"
    );
    let next = sim
        .client
        .get(sim.url("/rest/api/3/serverInfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 200);
    assert_eq!(sim.handle.stats().dropped_connections, 1);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn latency_and_route_filters_apply_only_to_matching_paths() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        latency_ms: 20,
        server_error: Some(ServerErrorFault {
            every_nth: Some(1),
            ..ServerErrorFault::default()
        }),
        routes: vec!["/users/search".into()],
        ..Faults::default()
    });
    assert_eq!(
        sim.get(&Who::Admin, "/rest/api/3/users/search")
            .await
            .status,
        503
    );
    assert_eq!(sim.get(&Who::Admin, "/rest/api/3/myself").await.status, 200);
    assert_eq!(sim.get(&Who::Admin, "/rest/api/3/users").await.status, 200);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn server_disguise_changes_server_info_and_hides_tenant_info() {
    let sim = start().await;
    assert_eq!(
        sim.get(&Who::Anon, "/_edge/tenant_info").await.json(),
        json!({"cloudId": CLOUD})
    );
    sim.handle.set_faults(Faults {
        deployment_type: Some("Server".into()),
        ..Faults::default()
    });
    let info = sim.get(&Who::Anon, "/rest/api/2/serverInfo").await.json();
    assert_eq!(info["deploymentType"], "Server");
    assert_ne!(info["versionNumbers"][0], 1001);
    assert_eq!(sim.get(&Who::Anon, "/_edge/tenant_info").await.status, 404);
    sim.handle.set_faults(Faults::default());
    assert_eq!(
        sim.get(&Who::Anon, "/rest/api/2/serverInfo").await.json()["deploymentType"],
        "Cloud"
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn admin_api_429_uses_the_proxy_body() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            every_nth: Some(1),
            ..RateLimitFault::default()
        }),
        ..Faults::default()
    });
    let r = sim
        .get(&Who::Bearer("sim-admin-key".into()), "/admin/v1/orgs")
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.json(),
        json!({"code": 429, "message": "Too many requests"})
    );
    assert!(r.header("retry-after").is_some());
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn stats_count_by_route_template_and_reset() {
    let sim = start().await;
    sim.get(&Who::Admin, "/rest/api/3/issue/ENG-1").await;
    sim.get(&Who::Admin, "/rest/api/3/issue/OPS-1").await;
    sim.get(&Who::Admin, "/rest/api/3/issue/NOPE-1").await;
    sim.send(
        "GET",
        &sim.gw("/rest/api/3/issue/ENG-2"),
        &Who::Scoped,
        None,
    )
    .await;
    sim.get(&Who::Admin, "/no/such/path").await;
    let s: jira_sim::Stats =
        serde_json::from_str(&sim.get(&Who::Anon, "/__sim/stats").await.text).unwrap();
    assert_eq!(
        s.count_status("GET", "/rest/api/3/issue/{issueIdOrKey}", 200),
        2
    );
    assert_eq!(
        s.count_status("GET", "/rest/api/3/issue/{issueIdOrKey}", 404),
        1
    );
    assert_eq!(
        s.count("GET", "/ex/jira/{cloudId}/rest/api/3/issue/{issueIdOrKey}"),
        1
    );
    assert_eq!(s.count("GET", "unmatched"), 1);
    assert_eq!(s.total, 5);
    assert_eq!(
        sim.post(&Who::Anon, "/__sim/stats/reset", json!({}))
            .await
            .status,
        204
    );
    assert_eq!(sim.handle.stats().total, 0);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn too_many_failed_logins_lock_the_account_behind_a_captcha() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        captcha_after_failures: Some(2),
        ..Faults::default()
    });
    let wrong = Who::Basic("Admin@Example.com".into(), "wrong".into());
    for _ in 0..2 {
        let r = sim.get(&wrong, "/rest/api/3/myself").await;
        assert_eq!(
            r.header("x-seraph-loginreason").as_deref(),
            Some("AUTHENTICATED_FAILED")
        );
    }
    let locked = sim.get(&Who::Admin, "/rest/api/3/myself").await;
    assert_eq!(locked.status, 401);
    assert_eq!(
        locked.header("x-seraph-loginreason").as_deref(),
        Some("AUTHENTICATION_DENIED")
    );
    assert_eq!(
        locked.header("x-authentication-denied-reason").as_deref(),
        Some("CAPTCHA_CHALLENGE")
    );
    assert_eq!(
        sim.get(&Who::Viewer, "/rest/api/3/myself").await.status,
        200,
        "other accounts are not locked"
    );
    sim.handle.set_faults(Faults::default());
    assert_eq!(sim.get(&Who::Admin, "/rest/api/3/myself").await.status, 200);
    sim.handle.shutdown().await;
}
