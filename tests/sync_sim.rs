//! Sync integration tests against the simulator (real HTTP over loopback), on the hand-written scenario
//! of `testkit/scenarios/handwritten.yaml` whose figures are asserted exactly.

use jira_cloud_operator::error::Classify;
use jira_cloud_operator::jira::JiraClient;
use jira_cloud_operator::sync::{self, Inventory, RoleCounts, UserCounts};
use jira_sim::{DropFault, Faults, RateLimitFault, ServerErrorFault};
use testkit::sim::*;

fn license(inv: &Inventory, product: &str) -> (i64, u64, u64, u64) {
    let l = inv
        .licenses
        .iter()
        .find(|l| l.product == product)
        .unwrap_or_else(|| panic!("no license {product}"));
    (l.seats, l.used, l.active_users, l.inactive_users)
}

fn daily(inv: &Inventory, days_back: i64) -> u64 {
    let date = days_ago(days_back);
    inv.usage
        .daily
        .iter()
        .find(|d| d.date == date)
        .map(|d| d.active_users)
        .unwrap_or_else(|| panic!("no point for {date}"))
}

/// Every figure of the hand-written scenario.
fn assert_handwritten(inv: &Inventory, with_roles: bool) {
    assert_eq!(
        inv.users,
        UserCounts {
            total: 8,
            synced: 6,
            hidden_email: 2,
            deactivated: 1
        }
    );
    let ids: Vec<&str> = inv.records.iter().map(|r| r.account_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "u-admin", "u-alice", "u-bob", "u-dave", "u-frank", "u-viewer"
        ]
    );

    assert_eq!(license(inv, "jira-software"), (50, 3, 1, 2));
    assert_eq!(license(inv, "jira-servicedesk"), (10, 1, 1, 0));
    assert_eq!(license(inv, "jira-core"), (100, 2, 1, 1));
    assert_eq!(license(inv, "jira-product-discovery"), (10, 0, 0, 0));

    assert_eq!(inv.usage.window_days, 30);
    assert_eq!(inv.usage.to, days_ago(0));
    assert_eq!(inv.usage.from, days_ago(29));
    assert_eq!(inv.usage.daily.len(), 30);
    assert_eq!(
        inv.usage.active_users, 4,
        "alice, bob, carol (hidden email), dave"
    );
    let per_day: Vec<u64> = (0..=10).map(|d| daily(inv, d)).collect();
    assert_eq!(per_day, [1, 2, 1, 1, 0, 1, 0, 0, 0, 0, 1]);
    let total: u64 = inv.usage.daily.iter().map(|d| d.active_users).sum();
    assert_eq!(total, 7);

    let rec = |id: &str| inv.records.iter().find(|r| r.account_id == id).unwrap();
    let alice = rec("u-alice");
    assert_eq!(
        names(&alice.products),
        ["jira-servicedesk", "jira-software"]
    );
    // Admin groups are read only when roles are wanted (an organization is configured).
    let mut groups = vec![
        "jira-core-users",
        "jira-servicedesk-users",
        "jira-software-users",
    ];
    if with_roles {
        groups.insert(0, "jira-admins");
    }
    assert_eq!(names(&alice.groups), groups);
    assert_eq!(alice.active_days, 2);
    assert_eq!(
        (
            alice.activity.comments,
            alice.activity.changelog,
            alice.activity.worklogs
        ),
        (1, 1, 0)
    );
    assert_eq!(alice.last_active_date, Some(days_ago(0)));
    let bob = rec("u-bob");
    assert_eq!(names(&bob.products), ["jira-core"]);
    assert_eq!(bob.active_days, 3);
    assert_eq!(
        (
            bob.activity.comments,
            bob.activity.changelog,
            bob.activity.worklogs
        ),
        (2, 0, 1)
    );
    assert_eq!(bob.last_active_date, Some(days_ago(1)));
    let dave = rec("u-dave");
    assert!(!dave.active);
    assert!(
        dave.products.is_empty(),
        "a deactivated account holds no license"
    );
    assert_eq!(dave.last_active_date, Some(days_ago(10)));
    let frank = rec("u-frank");
    assert_eq!(
        names(&frank.products),
        ["jira-software"],
        "Jira Core is implied"
    );
    assert_eq!(frank.active_days, 0);
    assert_eq!(frank.last_active_date, None);
    assert_eq!(names(&rec("u-viewer").products), ["jira-core"]);
    assert_eq!(rec("u-admin").email, "admin@example.com");

    if with_roles {
        assert_eq!(
            inv.roles,
            Some(RoleCounts {
                org_admin: 1,
                site_admin: 0,
                product_admin: 1,
                user: 4
            })
        );
        assert_eq!(rec("u-admin").role.as_deref(), Some("org-admin"));
        assert_eq!(alice.role.as_deref(), Some("product-admin"));
        assert_eq!(bob.role.as_deref(), Some("user"));
    } else {
        assert_eq!(inv.roles, None);
        assert!(inv.records.iter().all(|r| r.role.is_none()));
    }
}

#[tokio::test]
async fn classic_token_with_organization_gives_exact_figures() {
    let sim = start(handwritten()).await;
    let client = JiraClient::connect(with_org(classic_admin(&sim), &sim))
        .await
        .unwrap();
    let site = client.site_info();
    assert!(!site.via_gateway, "a classic token works on the site URL");
    assert_eq!(site.cloud_id, sim.cloud_id());
    assert_eq!(site.account_id, "u-admin");
    let out = sync::run(&client, &opts(), None).await.unwrap();
    assert_handwritten(&out.inventory, true);
    assert!(!out.stats.incremental);
    assert_eq!(out.stats.throttled, 0);
    assert!(out.stats.api_requests > 0);
    assert_eq!(out.inventory.site.cloud_id, sim.cloud_id());
    sim.shutdown().await;
}

#[tokio::test]
async fn scoped_token_is_routed_through_the_gateway() {
    let sim = start(handwritten()).await;
    let client = JiraClient::connect(basic(&sim, "admin@example.com", "scoped-admin-token"))
        .await
        .unwrap();
    assert!(client.site_info().via_gateway);
    assert!(client.site_info().base_url.path().contains(&sim.cloud_id()));
    let out = sync::run(&client, &opts(), None).await.unwrap();
    assert_handwritten(&out.inventory, false);
    sim.shutdown().await;
}

#[tokio::test]
async fn service_account_syncs_through_the_gateway() {
    let sim = start(handwritten()).await;
    let client = JiraClient::connect(service_account(&sim, "sim-client-secret"))
        .await
        .unwrap();
    assert!(client.site_info().via_gateway);
    let out = sync::run(&client, &opts(), None).await.unwrap();
    assert_handwritten(&out.inventory, false);
    let token_requests = client.request_stats().by_endpoint["POST /oauth/token"].requests;
    assert_eq!(token_requests, 1, "the token is cached");
    sim.shutdown().await;
}

#[tokio::test]
async fn service_account_token_expiring_mid_sync_is_renewed() {
    let sim = start_with(jira_sim::SimConfig {
        scenario: handwritten(),
        token_lifetime: std::time::Duration::from_secs(1),
        ..jira_sim::SimConfig::default()
    })
    .await;
    let client = JiraClient::connect(service_account(&sim, "sim-client-secret"))
        .await
        .unwrap();
    // Slow every request down so that the sync outlives several tokens, and revoke every token mid-sync
    // (the next request gets a 401, renews the token once and is resent).
    sim.set_faults(Faults {
        latency_ms: 250,
        ..Faults::default()
    });
    let expire = sim.url().join("__sim/oauth/expire").unwrap();
    let options = opts();
    let (out, expired) = tokio::join!(sync::run(&client, &options, None), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        reqwest::Client::new()
            .post(expire)
            .send()
            .await
            .map(|r| r.status())
    });
    assert!(expired.unwrap().is_success());
    let out = out.unwrap();
    assert_handwritten(&out.inventory, false);
    let tokens = client.request_stats().by_endpoint["POST /oauth/token"].requests;
    assert!(tokens >= 2, "tokens renewed during the sync: {tokens}");
    let unauthorized: u64 = sim
        .stats()
        .routes
        .iter()
        .filter(|r| r.status == 401)
        .map(|r| r.count)
        .sum();
    assert!(
        unauthorized >= 1,
        "the revoked token was answered 401 and renewed"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn server_and_data_center_are_rejected() {
    let sim = start(handwritten()).await;
    for deployment in ["Server", "DataCenter"] {
        sim.set_faults(Faults {
            deployment_type: Some(deployment.into()),
            ..Faults::default()
        });
        let err = JiraClient::connect(classic_admin(&sim)).await.unwrap_err();
        assert_eq!(err.reason(), "UnsupportedDeployment", "{err}");
        assert!(
            err.to_string().contains("only Jira Cloud is supported"),
            "{err}"
        );
        assert!(!err.is_transient());
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn wrong_credentials_fail_without_retry_loops() {
    let sim = start(handwritten()).await;
    let err = JiraClient::connect(basic(&sim, "admin@example.com", "wrong-token"))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "InvalidCredentials", "{err}");
    assert!(
        !err.to_string().contains("wrong-token"),
        "no secret in errors: {err}"
    );
    let myself: u64 = sim
        .stats()
        .routes
        .iter()
        .filter(|r| r.route.ends_with("/rest/api/3/myself"))
        .map(|r| r.count)
        .sum();
    assert_eq!(myself, 2, "the site once, the gateway once, never a loop");

    let err = JiraClient::connect(service_account(&sim, "wrong-secret"))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "InvalidCredentials", "{err}");
    assert!(!err.to_string().contains("wrong-secret"));

    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_admin_api_key_fails_the_organization_part_only() {
    let sim = start(handwritten()).await;
    let calm = full_sync(classic_admin(&sim)).await;
    let mut config = with_org(classic_admin(&sim), &sim);
    config.admin.as_mut().unwrap().api_key = "bad-key".to_owned().into();
    let client = JiraClient::connect(config)
        .await
        .expect("the Jira credentials are valid");
    let out = sync::run(&client, &opts(), None)
        .await
        .expect("the Jira part syncs");
    let sync::OrganizationOutcome::Failed(err) = &out.organization else {
        panic!("the organization part did not fail: {:?}", out.organization);
    };
    assert_eq!(err.reason(), "InvalidCredentials", "{err}");
    assert!(err.to_string().contains("Admin API key"), "{err}");
    assert!(!err.to_string().contains("bad-key"), "{err}");
    // Everything but the roles, as without an organization (the admin groups are read, for the JiraUsers).
    assert_eq!(out.inventory.roles, None);
    assert_eq!(out.inventory.users, calm.inventory.users);
    assert_eq!(out.inventory.licenses, calm.inventory.licenses);
    assert_eq!(out.inventory.usage, calm.inventory.usage);
    assert!(out.inventory.records.iter().all(|r| r.role.is_none()));
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_permissions_are_named() {
    let sim = start(handwritten()).await;
    let client = JiraClient::connect(basic(&sim, "viewer@example.com", "classic-viewer-token"))
        .await
        .expect("the viewer's credentials are valid");
    let err = sync::run(&client, &opts(), None).await.unwrap_err();
    assert_eq!(err.reason(), "InsufficientPermissions", "{err}");
    let text = err.to_string();
    assert!(
        text.contains("Browse users and groups") || text.contains("Administer Jira"),
        "{text}"
    );
    assert!(!err.is_transient());
    sim.shutdown().await;
}

#[tokio::test]
async fn every_email_hidden_fails_the_sync() {
    let mut scenario = handwritten();
    for u in &mut scenario.users {
        u.email_visibility = jira_sim::scenario::EmailVisibility::Hidden;
    }
    let sim = start(scenario).await;
    let client = JiraClient::connect(classic_admin(&sim)).await.unwrap();
    let err = sync::run(&client, &opts(), None).await.unwrap_err();
    assert_eq!(err.reason(), "AllEmailsHidden", "{err}");
    assert!(err.to_string().contains("all 8 users"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_is_waited_out_with_identical_figures() {
    let sim = start(handwritten()).await;
    let calm = full_sync(with_org(classic_admin(&sim), &sim)).await;
    sim.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            every_nth: Some(3),
            retry_after_secs: 1,
            ..RateLimitFault::default()
        }),
        ..Faults::default()
    });
    let client = JiraClient::connect(with_org(classic_admin(&sim), &sim))
        .await
        .unwrap();
    let stormy = sync::run(&client, &opts(), None).await.unwrap();
    assert!(stormy.stats.throttled > 0, "the storm happened");
    assert!(sim.stats().rate_limited > 0);
    assert_eq!(stormy.inventory, calm.inventory);
    assert_handwritten(&stormy.inventory, true);
    sim.shutdown().await;
}

#[tokio::test]
async fn server_error_bursts_are_retried() {
    let sim = start(handwritten()).await;
    let calm = full_sync(classic_admin(&sim)).await;
    let client = JiraClient::connect(classic_admin(&sim)).await.unwrap();
    sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 502,
            every_nth: Some(4),
            ..ServerErrorFault::default()
        }),
        ..Faults::default()
    });
    let out = sync::run(&client, &opts(), None).await.unwrap();
    assert!(sim.stats().server_errors > 0);
    assert!(client.request_stats().failed > 0);
    assert_eq!(out.inventory, calm.inventory);

    // Dropped connections are network errors: retried the same way.
    sim.set_faults(Faults {
        drop_connection: Some(DropFault {
            every_nth: Some(5),
            ..DropFault::default()
        }),
        ..Faults::default()
    });
    let out = sync::run(&client, &opts(), None).await.unwrap();
    assert!(sim.stats().dropped_connections > 0);
    assert_eq!(out.inventory, calm.inventory);

    // A burst longer than the retry budget surfaces as a transient JiraUnavailable.
    sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 500,
            count: Some(1000),
            ..ServerErrorFault::default()
        }),
        ..Faults::default()
    });
    let err = sync::run(&client, &opts(), None).await.unwrap_err();
    assert_eq!(err.reason(), "JiraUnavailable", "{err}");
    assert!(err.is_transient());
    sim.shutdown().await;
}

/// Shared names as plain strings, for comparisons.
fn names(shared: &[std::sync::Arc<str>]) -> Vec<&str> {
    shared.iter().map(|n| &**n).collect()
}
