//! Credentials go only where the cluster admin allows: a connection whose site is outside the operator's
//! allow-list gets `SiteNotAllowed` and its site receives nothing at all (not even anonymous discovery); a site
//! that redirects gets no credential and the redirect is not followed; a site that hangs delays only its own
//! connection; an answer over the size cap is not read, fails the sync with `ResponseTooLarge` and keeps the
//! figures of the last good sync.

use jira_cloud_operator::{api::ActionPhase, jira::AllowedHosts};
use jira_sim::{Faults, GenerateOptions, RedirectFault, SimConfig};
use serde_json::json;
use std::time::Duration;
use testkit::{
    Harness,
    observed::{condition, condition_message, figures},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_outside_the_allow_list_receives_nothing() {
    let w = Harness::new("site-allow", SimConfig::default()).await;
    let mut settings = w.fault_settings(Duration::from_secs(5));
    // The operator allows Jira Cloud hosts only: the simulator's loopback host is not on the list.
    settings.allowed_site_hosts = AllowedHosts::parse("*.atlassian.net,*.jira.com").unwrap();
    let operator = w.start(settings);
    w.basic_connection("basic").await;
    w.oauth_connection("oauth").await;
    w.create_on(
        "add",
        "basic",
        json!({"addUserToGroup": {"user": {"email": "u1@example.com"}, "group": "jira-software-users"}}),
    )
    .await;

    for name in ["basic", "oauth"] {
        let c = w
            .wait_connection(name, "Ready=False/SiteNotAllowed", |c| {
                condition(c, "Ready") == Some(("False".into(), "SiteNotAllowed".into()))
            })
            .await;
        let message = c
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.message.clone())
            .unwrap_or_default();
        assert!(
            message.contains("127.0.0.1") && message.contains("--allowed-site-hosts"),
            "the message names the host and the setting to change: {message}"
        );
        let note = testkit::wait::eventually(
            &format!("{name}: a SiteNotAllowed Warning Event"),
            testkit::wait::LIMIT,
            || async { w.warning_note(name, "SiteNotAllowed").await },
        )
        .await;
        assert!(note.contains("allowedSiteHosts"), "{note}");
    }
    let action = w
        .wait_action("add", "Pending on its connection", |a| {
            a.status.as_ref().is_some_and(|s| {
                s.phase == Some(ActionPhase::Pending)
                    && s.message
                        .as_deref()
                        .is_some_and(|m| m.contains("SiteNotAllowed"))
            })
        })
        .await;
    assert_eq!(action.status.unwrap().attempts, 0);

    let stats = w.sim.stats();
    assert_eq!(
        (stats.total, stats.dropped_connections),
        (0, 0),
        "the site received requests: {:?}",
        stats.routes
    );
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_never_followed_and_carries_no_credential() {
    let w = Harness::new("site-redirect", SimConfig::default()).await;
    // Where the redirects point: an allowed host too, so only the no-follow rule keeps requests from it.
    let elsewhere = jira_sim::start(SimConfig::default()).await.unwrap();
    let target = format!("{}rest/api/3/myself", elsewhere.url());
    let operator = w.start(w.fault_settings(Duration::from_secs(5)));

    // The site redirects every request, anonymous discovery included.
    w.sim.set_faults(Faults {
        redirect: Some(RedirectFault {
            status: 302,
            location: target.clone(),
        }),
        ..Faults::default()
    });
    w.basic_connection("everything").await;
    let c = w
        .wait_connection("everything", "Ready=False/Redirected", |c| {
            condition(c, "Ready") == Some(("False".into(), "Redirected".into()))
        })
        .await;
    let origin = elsewhere.url().origin().ascii_serialization();
    let message = condition_message(&c, "Ready").unwrap_or_default();
    assert!(
        message.contains(&origin),
        "names the Location host: {message}"
    );
    assert!(!message.contains("rest/api/3/myself?"), "{message}");
    let received = w.sim.received_requests();
    assert!(!received.is_empty());
    assert!(
        received.iter().all(|r| r.authorization.is_none()),
        "a redirecting site got a credential: {received:?}"
    );

    // The site redirects only the credential check.
    w.sim.clear_received_requests();
    w.sim.set_faults(Faults {
        redirect: Some(RedirectFault {
            status: 307,
            location: target,
        }),
        routes: vec!["/rest/api/3/myself".into()],
        ..Faults::default()
    });
    w.basic_connection("myself").await;
    w.wait_connection("myself", "Ready=False/Redirected", |c| {
        condition(c, "Ready") == Some(("False".into(), "Redirected".into()))
    })
    .await;
    assert!(
        w.sim
            .received_requests()
            .iter()
            .any(|r| r.path.contains("/rest/api/3/myself")),
        "the check reached the site"
    );
    let followed = elsewhere.received_requests();
    assert!(followed.is_empty(), "a redirect was followed: {followed:?}");
    operator.stop().await;
    elsewhere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_hangs_delays_only_its_own_connection() {
    let w = Harness::new("site-hang", SimConfig::default()).await;
    // Accepts connections and reads requests, answers none for ten minutes.
    let hanging = jira_sim::start(SimConfig {
        faults: Faults {
            latency_ms: 600_000,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut settings = w.fault_settings(Duration::from_secs(600));
    settings.connect_timeout = Duration::from_secs(900);
    let operator = w.start(settings);
    w.secret(
        "stuck-basic",
        json!({"email": "admin@example.com", "apiToken": "classic-admin-token"}),
    )
    .await;
    w.create_connection(
        "stuck",
        json!({
            "siteUrl": hanging.url().as_str().trim_end_matches('/'),
            "auth": {"basic": {"secretRef": {"name": "stuck-basic"}}},
        }),
    )
    .await;
    testkit::wait::eventually(
        "the hanging site to be asked",
        testkit::wait::LIMIT,
        || async { (!hanging.received_requests().is_empty()).then_some(()) },
    )
    .await;

    // While the first connection waits for its site, another connection and its action get through.
    w.basic_connection("healthy").await;
    w.create_on(
        "add",
        "healthy",
        json!({"addUserToGroup": {"user": {"email": "admin@example.com"}, "group": "jira-testers"}}),
    )
    .await;
    w.wait_connection("healthy", "Ready", |c| {
        condition(c, "Ready").is_some_and(|(s, _)| s == "True")
    })
    .await;
    let done = w.finished_all(&["add".to_string()]).await;
    assert_eq!(
        done[0].status.as_ref().and_then(|s| s.phase),
        Some(ActionPhase::Succeeded)
    );
    let stuck = w.connections().get("stuck").await.unwrap();
    assert_eq!(
        condition(&stuck, "CredentialsValid").map(|(s, _)| s),
        Some("Unknown".to_string()),
        "the hanging connection was still connecting: {:?}",
        stuck.status
    );
    hanging.shutdown().await;
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_over_the_size_cap_fails_the_sync_and_keeps_the_figures() {
    let w = Harness::new(
        "site-cap",
        SimConfig {
            scenario: jira_sim::generate(&GenerateOptions {
                seed: 5,
                users: 400,
                ..Default::default()
            }),
            ..SimConfig::default()
        },
    )
    .await;
    let operator = w.start(w.fault_settings(Duration::from_secs(5)));
    w.basic_connection("acme").await;
    let good = w
        .wait_connection("acme", "a first sync", |c| {
            condition(c, "Synced") == Some(("True".into(), "Complete".into()))
        })
        .await;
    operator.stop().await;

    // The same operator with a cap of 64 KiB: the discovery answers fit, the users listing (400 users in one
    // page) does not.
    const CAP: u64 = 64 << 10;
    let mut settings = w.fault_settings(Duration::from_secs(5));
    settings.limits.max_response_bytes = CAP;
    let operator = w.start(settings);
    w.request_sync("acme", "capped").await;
    let c = w
        .wait_connection("acme", "Synced=False/ResponseTooLarge", |c| {
            c.status
                .as_ref()
                .is_some_and(|s| s.last_sync_request.as_deref() == Some("capped"))
                && condition(c, "Synced") == Some(("False".into(), "ResponseTooLarge".into()))
        })
        .await;
    let message = condition_message(&c, "Synced").unwrap_or_default();
    assert!(
        message.contains(&format!("larger than {CAP} bytes")),
        "{message}"
    );
    assert_eq!(
        figures(&c),
        figures(&good),
        "the last good figures are kept"
    );
    assert_eq!(
        condition(&c, "CredentialsValid"),
        Some(("True".into(), "Authenticated".into()))
    );
    operator.stop().await;
    w.shutdown().await;
}
