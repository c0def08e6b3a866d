//! What a sync may and may not change, with the operator's controllers in-process on the real apiserver and a
//! generated org in the simulator:
//! - an implausible users listing changes nothing: an empty listing (as Jira gives an anonymous caller), or one
//!   that shrank by more than `spec.sync.maxShrinkPercent`, keeps the figures and every JiraUser
//!   (`Synced=False/ImplausibleListing`, a Warning Event), and the `jiracloud.io/accept-listing` annotation lets
//!   one such listing through;
//! - the organization is optional in failure too: with the Admin API down, then with a wrong Admin API key,
//!   users, licenses and usage (a user's new activity) are still refreshed and the connection stays Ready,
//!   while `OrganizationSynced` is False and the roles (in status and in each JiraUser) stay as they were; a
//!   reconcile with nothing changed does not sync the site again for it, a changed Secret does;
//! - an action needs valid credentials, not a fresh inventory: a connection whose sync fails (server errors on
//!   a route only the sync reads) but whose credentials work runs its actions.

use jira_cloud_operator::api::{ActionPhase, JiraConnection, JiraUser};
use jira_sim::{
    EmptyListingFault, Faults, GenerateOptions, ServerErrorFault, SimConfig, scenario::AccountType,
};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams},
};
use serde_json::{Value, json};
use std::{collections::BTreeMap, time::Duration};
use testkit::{
    Harness,
    observed::{condition, condition_message, figures},
};

/// accountId -> role of every JiraUser of `connection`.
async fn roles_of(w: &Harness, connection: &str) -> BTreeMap<String, Option<String>> {
    let api: Api<JiraUser> = Api::namespaced(w.client.clone(), &w.namespace);
    let params = ListParams::default().labels(&format!("jiracloud.io/connection={connection}"));
    api.list(&params)
        .await
        .expect("list the JiraUsers")
        .items
        .into_iter()
        .map(|u| {
            let st = u.status.unwrap_or_default();
            (u.spec.account_id, st.role)
        })
        .collect()
}

/// Deletes `n` active human users with a visible email and a product from the simulated site (never the
/// operator's own account), as an admin would; returns their accountIds.
fn delete_users(w: &Harness, n: usize) -> Vec<String> {
    w.sim.with_state(|st| {
        let victims: Vec<u32> = (0..st.users.len() as u32)
            .filter(|&u| {
                let user = &st.users[u as usize];
                user.account_type == AccountType::Atlassian
                    && user.active
                    && !user.deleted
                    && !user.org_admin
                    && !user.groups.is_empty()
                    && matches!(user.jira_email(), Some(Some(e)) if e != "admin@example.com")
                    && !st.user_products(u).is_empty()
            })
            .take(n)
            .collect();
        assert_eq!(victims.len(), n, "not enough users to delete");
        victims
            .into_iter()
            .map(|u| {
                st.delete_user(u);
                st.users[u as usize].account_id.clone()
            })
            .collect()
    })
}

/// Makes a user with no activity on record (a human with a product, never one `delete_users` picks first)
/// comment now, 91 s ago: past the horizon of a sync that finished at least 2 s earlier (a sync leaves the last
/// 90 s to the next one), so the next sync counts it. Returns the user's accountId and the UTC day of the
/// comment.
async fn activate_an_idle_user(w: &Harness, connection: &JiraConnection) -> (String, String) {
    let finished = connection
        .status
        .as_ref()
        .and_then(|s| s.last_sync_time.clone())
        .expect("a finished sync")
        .0;
    testkit::wait::eventually(
        "2 s past the last sync",
        Duration::from_secs(10),
        || async {
            (k8s_openapi::jiff::Timestamp::now().duration_since(finished)
                > k8s_openapi::jiff::SignedDuration::from_secs(2))
            .then_some(())
        },
    )
    .await;
    w.sim.with_state(|st| {
        let acted: std::collections::HashSet<u32> = st
            .comments
            .iter()
            .flat_map(|c| [c.author, c.update_author])
            .chain(st.changes.iter().map(|c| c.author))
            .chain(st.worklogs.iter().flat_map(|l| [l.author, l.update_author]))
            .flatten()
            .collect();
        let u = (0..st.users.len() as u32)
            .rev()
            .find(|&u| {
                let user = &st.users[u as usize];
                user.account_type == AccountType::Atlassian
                    && user.active
                    && !user.deleted
                    && matches!(user.jira_email(), Some(Some(_)))
                    && !st.user_products(u).is_empty()
                    && !acted.contains(&u)
            })
            .expect("a user without activity");
        let issue = (0..st.issues.len() as u32)
            .find(|&i| st.issues[i as usize].is_some())
            .expect("an issue");
        let at = jira_sim::format::now_ms() - 91_000;
        st.add_comment(issue, Some(u), "Back from leave.".into(), at);
        let day = k8s_openapi::jiff::Timestamp::from_millisecond(at)
            .expect("a valid time")
            .to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC)
            .date();
        (st.users[u as usize].account_id.clone(), day.to_string())
    })
}

/// The last day `account_id` was active, as its JiraUser says.
async fn last_active(w: &Harness, account_id: &str) -> Option<String> {
    let api: Api<JiraUser> = Api::namespaced(w.client.clone(), &w.namespace);
    api.list(&ListParams::default())
        .await
        .expect("list the JiraUsers")
        .items
        .into_iter()
        .find(|u| u.spec.account_id == account_id)
        .and_then(|u| u.status.and_then(|s| s.last_active_date))
}

/// JiraConnection reconciles finished so far.
fn finished_reconciles(ctx: &jira_cloud_operator::controller::Context) -> u64 {
    ctx.metrics
        .encode()
        .lines()
        .filter(|l| {
            l.starts_with("jira_operator_reconcile_duration_seconds_count{")
                && l.contains("controller=\"jiraconnection\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn users_total(c: &JiraConnection) -> u64 {
    figures(c)["users"]["total"].as_u64().expect("users.total")
}

async fn annotate(w: &Harness, name: &str, key: &str, value: &str) {
    let patch = json!({"metadata": {"annotations": {key: value}}});
    w.connections()
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate the connection");
}

/// Waits until the connection handled `request` and its Synced condition is False with `reason`.
async fn failed_after(w: &Harness, name: &str, request: &str, reason: &str) -> JiraConnection {
    w.wait_connection(
        name,
        &format!("Synced=False/{reason} after {request}"),
        |c| {
            c.status
                .as_ref()
                .is_some_and(|s| s.last_sync_request.as_deref() == Some(request))
                && condition(c, "Synced") == Some(("False".into(), reason.into()))
        },
    )
    .await
}

fn generated(users: usize) -> SimConfig {
    SimConfig {
        scenario: jira_sim::generate(&GenerateOptions {
            seed: 17,
            users,
            ..Default::default()
        }),
        ..SimConfig::default()
    }
}

/// Every request whose path contains `route` answers 503.
fn down(route: &str) -> Faults {
    Faults {
        server_error: Some(ServerErrorFault {
            status: 503,
            every_nth: Some(1),
            ..Default::default()
        }),
        routes: vec![route.into()],
        ..Faults::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_runs_on_a_connection_whose_sync_fails() {
    let w = Harness::new("trust-action", generated(20)).await;
    // Products (application roles) are read by the sync only: the credential check and the actions never
    // need them.
    w.sim.set_faults(down("/rest/api/3/applicationrole"));
    let operator = w.start(w.fault_settings(Duration::from_secs(5)));
    w.basic_connection("acme").await;
    let c = w
        .wait_connection("acme", "a failed sync with valid credentials", |c| {
            condition(c, "Synced").is_some_and(|(s, _)| s == "False")
                && condition(c, "CredentialsValid").is_some_and(|(s, _)| s == "True")
        })
        .await;
    assert_eq!(
        condition(&c, "Synced"),
        Some(("False".into(), "JiraUnavailable".into()))
    );
    assert_eq!(condition(&c, "Ready").map(|(s, _)| s), Some("False".into()));

    let action = w
        .create_on(
            "create",
            "acme",
            json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Despite the sync"}}),
        )
        .await;
    let done = w.finished_all(&["create".to_string()]).await;
    let status = done[0].status.as_ref().expect("a status");
    assert_eq!(
        status.phase,
        Some(ActionPhase::Succeeded),
        "the action did not succeed: {status:?}"
    );
    assert_eq!(w.marked_issues(&action).len(), 1);
    // The sync still fails: the action did not need it.
    let c = w.connections().get("acme").await.expect("the connection");
    assert_eq!(
        condition(&c, "Synced").map(|(s, _)| s),
        Some("False".into())
    );
    operator.stop().await;
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_listing_changes_nothing_until_accepted() {
    let w = Harness::new("trust-empty", generated(30)).await;
    let operator = w.start(w.fault_settings(Duration::from_secs(5)));
    w.basic_connection("acme").await;
    let good = w
        .wait_connection("acme", "a first sync", |c| {
            condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await;
    let users = roles_of(&w, "acme").await;
    let total = users_total(&good);
    assert!(total >= 30 && users.len() >= 20, "{}", figures(&good));

    // From now on, users/search answers 200 [].
    w.sim.set_faults(Faults {
        empty_listing: Some(EmptyListingFault {
            after_calls: 0,
            count: None,
        }),
        ..Faults::default()
    });
    w.request_sync("acme", "empty").await;
    let c = failed_after(&w, "acme", "empty", "ImplausibleListing").await;
    assert_eq!(figures(&c), figures(&good), "the figures changed");
    assert_eq!(roles_of(&w, "acme").await, users, "JiraUsers changed");
    let message = condition_message(&c, "Synced").expect("a Synced condition");
    assert!(
        message.contains("lacks the connection's own account")
            && message.contains(&format!(
                "has 0 users, 100% fewer than the {total} of the last good sync"
            )),
        "{message}"
    );
    assert_eq!(
        condition(&c, "CredentialsValid").map(|(s, _)| s),
        Some("True".into())
    );
    let note = testkit::wait::eventually(
        "a Warning Event ImplausibleListing",
        Duration::from_secs(60),
        || async { w.warning_note("acme", "ImplausibleListing").await },
    )
    .await;
    assert!(note.contains("has 0 users"), "{note}");

    // Accepted once: the next sync applies the empty listing.
    annotate(&w, "acme", "jiracloud.io/accept-listing", "yes-empty").await;
    let c = w
        .wait_connection("acme", "the accepted listing applied", |c| {
            c.status
                .as_ref()
                .is_some_and(|s| s.accepted_listing.as_deref() == Some("yes-empty"))
                && condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await;
    assert_eq!(users_total(&c), 0);
    assert!(roles_of(&w, "acme").await.is_empty());

    // Only once: the next empty listing lacks the own account again.
    w.request_sync("acme", "empty-again").await;
    failed_after(&w, "acme", "empty-again", "ImplausibleListing").await;

    // The listing is whole again: the next sync applies it by itself.
    w.sim.set_faults(Faults::default());
    w.request_sync("acme", "whole").await;
    let c = w.synced_after("acme", "whole").await;
    assert_eq!(figures(&c)["users"], figures(&good)["users"]);
    assert_eq!(roles_of(&w, "acme").await.len(), users.len());
    operator.stop().await;
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_shrank_too_much_changes_nothing_until_accepted() {
    let w = Harness::new("trust-shrink", generated(40)).await;
    let operator = w.start(w.fault_settings(Duration::from_secs(5)));
    w.secret(
        "acme-basic",
        json!({"email": "admin@example.com", "apiToken": "classic-admin-token"}),
    )
    .await;
    w.create_connection(
        "acme",
        json!({
            "siteUrl": w.site(),
            "auth": {"basic": {"secretRef": {"name": "acme-basic"}}},
            "sync": {"maxShrinkPercent": 10},
        }),
    )
    .await;
    let good = w
        .wait_connection("acme", "a first sync", |c| {
            condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await;
    let users_before = roles_of(&w, "acme").await;
    let total = users_total(&good);
    assert!(total >= 40, "{}", figures(&good));

    // A fifth of the users vanish from the listing: more than the 10 % allowed.
    let gone = delete_users(&w, (total as usize) / 5);
    w.request_sync("acme", "shrunk").await;
    let c = failed_after(&w, "acme", "shrunk", "ImplausibleListing").await;
    assert_eq!(figures(&c), figures(&good), "the figures changed");
    assert_eq!(
        roles_of(&w, "acme").await,
        users_before,
        "JiraUsers changed"
    );
    assert_eq!(
        condition(&c, "Ready"),
        Some(("False".into(), "ImplausibleListing".into()))
    );
    let message = condition_message(&c, "Synced").expect("a Synced condition");
    assert!(
        message.contains(&format!("has {} users, ", total - gone.len() as u64)),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "fewer than the {total} of the last good sync (spec.sync.maxShrinkPercent is 10)"
        )),
        "{message}"
    );
    let note = testkit::wait::eventually(
        "a Warning Event ImplausibleListing",
        Duration::from_secs(60),
        || async { w.warning_note("acme", "ImplausibleListing").await },
    )
    .await;
    assert!(note.contains("fewer than the"), "{note}");

    // Accepted once: the next sync applies the listing.
    annotate(&w, "acme", "jiracloud.io/accept-listing", "reorg-1").await;
    let c = w
        .wait_connection("acme", "the accepted listing applied", |c| {
            c.status
                .as_ref()
                .is_some_and(|s| s.accepted_listing.as_deref() == Some("reorg-1"))
                && condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await;
    assert_eq!(users_total(&c), total - gone.len() as u64);
    let after = roles_of(&w, "acme").await;
    assert_eq!(after.len(), users_before.len() - gone.len());
    assert!(gone.iter().all(|id| !after.contains_key(id)));

    // Only once: the next big shrink is held back again.
    let total = users_total(&c);
    delete_users(&w, (total as usize) / 5);
    w.request_sync("acme", "shrunk-again").await;
    let again = failed_after(&w, "acme", "shrunk-again", "ImplausibleListing").await;
    assert_eq!(users_total(&again), total);
    assert_eq!(roles_of(&w, "acme").await, after);
    operator.stop().await;
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_trouble_keeps_the_roles_and_the_rest_syncs() {
    let w = Harness::new("trust-org", generated(30)).await;
    let operator = w.start(w.fault_settings(Duration::from_secs(5)));
    w.basic_connection("acme").await;
    let good = w
        .wait_connection("acme", "a first sync with the organization", |c| {
            condition(c, "Synced") == Some(("True".into(), "Complete".into()))
                && condition(c, "OrganizationSynced") == Some(("True".into(), "Complete".into()))
        })
        .await;
    let roles: Value = figures(&good)["roles"].clone();
    assert!(roles["orgAdmin"].as_u64() >= Some(1), "{roles}");
    let roles_before = roles_of(&w, "acme").await;
    assert!(
        roles_before.values().all(Option::is_some),
        "{roles_before:?}"
    );

    // The Admin API is down; meanwhile a user leaves the site and an idle user becomes active.
    let (woken, day) = activate_an_idle_user(&w, &good).await;
    assert_eq!(last_active(&w, &woken).await, None, "{woken} was idle");
    w.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 503,
            every_nth: Some(1),
            ..Default::default()
        }),
        routes: vec!["/admin/".into()],
        ..Faults::default()
    });
    let gone = delete_users(&w, 1);
    w.request_sync("acme", "admin-down").await;
    let c = w.synced_after("acme", "admin-down").await;
    assert_eq!(
        users_total(&c),
        users_total(&good) - 1,
        "users not refreshed"
    );
    assert_ne!(
        figures(&c)["licenses"],
        figures(&good)["licenses"],
        "licenses not refreshed"
    );
    assert_eq!(figures(&c)["roles"], roles, "roles not kept");
    assert_eq!(
        last_active(&w, &woken).await,
        Some(day),
        "usage not refreshed"
    );
    assert_eq!(
        condition(&c, "OrganizationSynced"),
        Some(("False".into(), "JiraUnavailable".into()))
    );
    assert_eq!(
        condition(&c, "Ready"),
        Some(("True".into(), "Synced".into()))
    );
    let mut expected = roles_before.clone();
    expected.remove(&gone[0]);
    assert_eq!(
        roles_of(&w, "acme").await,
        expected,
        "JiraUser roles not kept"
    );
    let note = testkit::wait::eventually(
        "a Warning Event JiraUnavailable",
        Duration::from_secs(60),
        || async { w.warning_note("acme", "JiraUnavailable").await },
    )
    .await;
    assert!(note.starts_with("The Admin API failed"), "{note}");

    // Nothing changed: a reconcile (here for a touched Secret) does not sync the site again for the
    // organization's sake.
    let before = finished_reconciles(&operator.ctx);
    w.sim.reset_stats();
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), &w.namespace);
    let touch = json!({"metadata": {"labels": {"touched": "yes"}}});
    secrets
        .patch("acme-org", &PatchParams::default(), &Patch::Merge(&touch))
        .await
        .expect("label the Secret");
    testkit::wait::eventually("a reconcile", Duration::from_secs(60), || async {
        (finished_reconciles(&operator.ctx) > before).then_some(())
    })
    .await;
    let listings: u64 = w
        .sim
        .stats()
        .routes
        .iter()
        .filter(|r| r.route.ends_with("/users/search"))
        .map(|r| r.count)
        .sum();
    assert_eq!(listings, 0, "the site was synced again");

    // The Admin API is back but the key is wrong; another user leaves. The Secret's change syncs again.
    w.sim.set_faults(Faults::default());
    let gone = delete_users(&w, 1);
    w.secret("acme-org", json!({"apiKey": "wrong-admin-key"}))
        .await;
    let c = w
        .wait_connection("acme", "OrganizationSynced=False/InvalidCredentials", |c| {
            condition(c, "OrganizationSynced")
                == Some(("False".into(), "InvalidCredentials".into()))
        })
        .await;
    assert_eq!(
        users_total(&c),
        users_total(&good) - 2,
        "users not refreshed"
    );
    assert_eq!(figures(&c)["roles"], roles, "roles not kept");
    assert_eq!(
        condition(&c, "Ready"),
        Some(("True".into(), "Synced".into()))
    );
    assert_eq!(
        condition(&c, "CredentialsValid"),
        Some(("True".into(), "Authenticated".into()))
    );
    expected.remove(&gone[0]);
    assert_eq!(
        roles_of(&w, "acme").await,
        expected,
        "JiraUser roles not kept"
    );

    // The right key again: the roles are read again.
    w.secret("acme-org", json!({"apiKey": "sim-admin-key"}))
        .await;
    w.wait_connection("acme", "OrganizationSynced=True again", |c| {
        condition(c, "OrganizationSynced") == Some(("True".into(), "Complete".into()))
    })
    .await;
    operator.stop().await;
    w.shutdown().await;
}
