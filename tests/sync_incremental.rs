//! Incremental syncs (only what changed since the last sync is read) and generated scenarios.

use chrono::{Duration, Utc};
use jira_cloud_operator::jira::{JiraClient, RequestStats};
use jira_cloud_operator::sync::{self, SyncError, SyncOptions};
use jira_sim::{Faults, GenerateOptions, RateLimitFault};
use testkit::sim::*;

fn issue_index(s: &jira_sim::State, key: &str) -> u32 {
    s.issue_ref(key).expect("issue exists")
}

fn requests(stats: &RequestStats, endpoint: &str) -> u64 {
    stats.by_endpoint.get(endpoint).map_or(0, |e| e.requests)
}

/// The issue search answers one 429 asking to wait an hour, longer than the client waits: the sync parks with
/// the parts it finished, and the resumed sync reads only the issues' part again, giving the figures of an
/// uninterrupted sync (no event counted twice) and the cost of both pieces.
#[tokio::test]
async fn a_sync_parked_by_a_long_429_resumes_without_rereading_what_it_finished() {
    let sim = start(handwritten()).await;
    let options = opts();
    let calm = JiraClient::connect(with_org(classic_admin(&sim), &sim))
        .await
        .unwrap();
    let calm = sync::run(&calm, &options, None).await.unwrap();
    let mut config = with_org(classic_admin(&sim), &sim);
    config.limits.max_throttle_wait = std::time::Duration::from_millis(100);
    let client = JiraClient::connect(config).await.unwrap();
    sim.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            count: Some(1),
            retry_after_secs: 3600,
            reason: "jira-quota-tenant-based".into(),
            rate_per_sec: Some(1000.0),
            burst: Some(1000.0),
            ..RateLimitFault::default()
        }),
        routes: vec!["/rest/api/3/search/jql".into()],
        ..Faults::default()
    });

    let before = client.request_stats();
    let parked = match sync::run(&client, &options, None).await {
        Err(SyncError::Parked(parked)) => *parked,
        other => panic!("expected a parked sync, got {other:?}"),
    };
    let first = client.request_stats().since(&before);
    assert_eq!(parked.reason, "jira-quota-tenant-based");
    assert!(parked.resume_at > Utc::now() + Duration::minutes(50));
    assert_eq!(
        parked.checkpoint.finished(),
        ["users", "groups", "organization", "worklogs"]
    );

    let before = client.request_stats();
    let later = SyncOptions {
        now: Utc::now(),
        ..options.clone()
    };
    let out = sync::resume(&client, &later, None, Some(parked.checkpoint))
        .await
        .unwrap();
    let second = client.request_stats().since(&before);
    for finished in [
        "GET /rest/api/3/users/search",
        "GET /rest/api/3/applicationrole",
        "GET /rest/api/3/group/member",
        "POST /admin/v2/orgs/{org}/directories/{dir}/users/search",
        "GET /rest/api/3/worklog/updated",
        "POST /rest/api/3/worklog/list",
    ] {
        assert!(requests(&first, finished) > 0, "{finished} before the park");
        assert_eq!(requests(&second, finished), 0, "{finished} read again");
    }
    assert_eq!(requests(&first, "POST /rest/api/3/search/jql"), 1);
    assert_eq!(requests(&second, "POST /rest/api/3/search/jql"), 1);
    assert!(requests(&second, "POST /rest/api/3/changelog/bulkfetch") > 0);
    assert_eq!(out.inventory, calm.inventory, "as if never interrupted");
    assert_eq!(out.stats.api_requests, first.total + second.total);
    assert_eq!(out.stats.throttled, 1);
    assert!(out.stats.rate_limit_remaining.is_some(), "{:?}", out.stats);

    // The cache it leaves continues like any other: an incremental sync reads no worklog details.
    let before = client.request_stats();
    let next = sync::run(&client, &opts(), Some(out.cache)).await.unwrap();
    assert!(next.stats.incremental);
    assert_eq!(
        requests(
            &client.request_stats().since(&before),
            "POST /rest/api/3/worklog/list"
        ),
        0
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn incremental_sync_reads_only_changes_and_matches_a_full_sync() {
    let sim = start(handwritten()).await;
    let client = JiraClient::connect(classic_admin(&sim)).await.unwrap();
    // The first sync happened ten minutes ago; the activity below came after it.
    let before_first = client.request_stats();
    let first = sync::run(
        &client,
        &SyncOptions {
            window_days: 30,
            now: Utc::now() - Duration::minutes(10),
        },
        None,
    )
    .await
    .unwrap();
    let first_delta = client.request_stats().since(&before_first);
    let bob_before = first
        .inventory
        .records
        .iter()
        .find(|r| r.account_id == "u-bob")
        .unwrap()
        .activity;
    assert_eq!(bob_before.worklogs, 1);

    let at = (Utc::now() - Duration::minutes(5)).timestamp_millis();
    sim.with_state(|s| {
        let frank = s.user_by_account("u-frank");
        let bob = s.user_by_account("u-bob");
        let first_issue = issue_index(s, "ENG-1");
        let second_issue = issue_index(s, "ENG-2");
        s.add_comment(first_issue, frank, "late comment".into(), at);
        s.add_worklog(second_issue, frank, 600, at);
        // Bob's worklog is deleted: worklog/deleted has no author, the cache knows it.
        let w = s
            .worklogs
            .iter_mut()
            .find(|w| w.author == bob && !w.deleted)
            .expect("bob's worklog");
        w.deleted = true;
        let id = w.id;
        s.worklog_updates.retain(|(_, x)| *x != id);
        let pos = s.worklog_deletions.partition_point(|&e| e <= (at, id));
        s.worklog_deletions.insert(pos, (at, id));
    });

    let before = client.request_stats();
    let second = sync::run(&client, &opts(), Some(first.cache.clone()))
        .await
        .unwrap();
    let delta = client.request_stats().since(&before);
    assert!(second.stats.incremental);
    assert_eq!(second.stats.api_requests, delta.total);
    let comments = |d: &jira_cloud_operator::jira::RequestStats| {
        d.by_endpoint
            .get("GET /rest/api/3/issue/{id}/comment")
            .map_or(0, |e| e.requests)
    };
    let searches = |d: &jira_cloud_operator::jira::RequestStats| {
        d.by_endpoint
            .get("POST /rest/api/3/search/jql")
            .map_or(0, |e| e.requests)
    };
    assert_eq!(
        (searches(&first_delta), comments(&first_delta)),
        (1, 0),
        "the full sync's search embeds every comment of the three issues updated in the window"
    );
    assert_eq!(
        (searches(&delta), comments(&delta)),
        (1, 0),
        "the incremental sync's search embeds the comments of the two issues changed since"
    );
    let rec = |id: &str| {
        second
            .inventory
            .records
            .iter()
            .find(|r| r.account_id == id)
            .unwrap()
            .clone()
    };
    let frank = rec("u-frank");
    assert_eq!(frank.activity.comments, 1);
    assert_eq!(frank.activity.worklogs, 1);
    assert_eq!(frank.active_days, 1);
    assert_eq!(frank.last_active_date, Some(days_ago(0)));
    let bob = rec("u-bob");
    assert_eq!(bob.activity.worklogs, 2, "created earlier, deleted today");
    assert_eq!(bob.last_active_date, Some(days_ago(0)));
    let today = second.inventory.usage.daily.last().unwrap();
    assert_eq!(today.date, days_ago(0));
    assert_eq!(today.active_users, 3, "alice, frank, bob");
    assert_eq!(second.inventory.usage.active_users, 5);

    // Nothing changed: a third sync reads no comment, changelog or worklog details at all.
    let before = client.request_stats();
    let third = sync::run(&client, &opts(), Some(second.cache.clone()))
        .await
        .unwrap();
    let delta = client.request_stats().since(&before);
    assert!(third.stats.incremental);
    assert!(
        !delta
            .by_endpoint
            .contains_key("POST /rest/api/3/worklog/list"),
        "{delta:?}"
    );
    assert_eq!(third.inventory.usage, second.inventory.usage);

    // A full sync from scratch gives the same activity, except the deletion it cannot attribute.
    let full = sync::run(&client, &opts(), None).await.unwrap();
    let full_frank = full
        .inventory
        .records
        .iter()
        .find(|r| r.account_id == "u-frank")
        .unwrap();
    assert_eq!(full_frank.activity, frank.activity);
    assert_eq!(full.inventory.users, second.inventory.users);
    assert_eq!(
        full.inventory.licenses.len(),
        second.inventory.licenses.len()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn generated_scenario_counts_match_the_scenario() {
    let scenario = jira_sim::generate(&GenerateOptions {
        users: 400,
        ..GenerateOptions::default()
    });
    use jira_sim::scenario::{AccountType, EmailVisibility};
    let humans: Vec<_> = scenario
        .users
        .iter()
        .filter(|u| u.account_type == AccountType::Atlassian)
        .collect();
    let hidden = humans
        .iter()
        .filter(|u| u.email_visibility != EmailVisibility::Visible || u.email.is_none())
        .count() as u64;
    let deactivated = humans.iter().filter(|u| !u.active).count() as u64;
    let total = humans.len() as u64;
    let sim = start(scenario).await;
    let out = full_sync(with_org(classic_admin(&sim), &sim)).await;
    let inv = &out.inventory;
    assert_eq!(inv.users.total, total);
    assert_eq!(inv.users.hidden_email, hidden);
    assert_eq!(inv.users.synced, total - hidden);
    assert_eq!(inv.users.deactivated, deactivated);
    assert_eq!(inv.records.len() as u64, inv.users.synced);
    let roles = inv.roles.expect("roles with an organization");
    assert_eq!(
        roles.org_admin + roles.site_admin + roles.product_admin + roles.user,
        inv.users.synced
    );
    assert!(inv.usage.active_users > 0);
    for l in &inv.licenses {
        assert_eq!(l.used, l.active_users + l.inactive_users);
        let holders = inv
            .records
            .iter()
            .filter(|r| r.products.iter().any(|p| **p == *l.product))
            .count() as u64;
        assert_eq!(holders, l.used, "{}", l.product);
    }
    assert!(
        inv.records
            .iter()
            .filter(|r| !r.active)
            .all(|r| r.products.is_empty())
    );
    sim.shutdown().await;
}
