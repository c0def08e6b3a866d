//! Credentials never leak. The simulator serves a scenario whose every credential is a recognisable canary
//! (`LEAKCANARY-...`: classic and scoped API tokens, an OAuth client secret, an Admin API key; the OAuth access
//! tokens the simulator issues are searched for too), and the operator binary runs at trace level with JSON
//! logs through the success and failure paths: Basic auth with an organization, a scoped token through the
//! gateway, an OAuth service account whose tokens expire every few seconds, a wrong token, a missing key, a
//! rotated Secret, a wrong client secret, 5xx and 429 answers, and actions that succeed, fail and wait for a
//! connection. Then the logs, every Event of the namespace, the status
//! of every JiraConnection, JiraUser and JiraAction, and the /metrics text are searched for each canary, its
//! base64 form (as in a Secret's data), the base64 of each `email:token` pair, and any `Basic `/`Bearer `
//! credential or `Authorization` header value.

use jira_cloud_operator::api::{JiraAction, JiraUser, find_condition};
use jira_sim::{
    Faults, RateLimitFault, ServerErrorFault, SimConfig,
    scenario::{ApiTokenSpec, OAuthClientSpec, all_scopes},
};
use k8s_openapi::api::events::v1::Event;
use kube::{Api, ResourceExt, api::ListParams};
use serde_json::{Value, json};
use std::time::Duration;
use testkit::{
    Harness, Launch, OperatorProcess,
    leak::{Finder, b64, credential_patterns, forms},
    observed::condition,
};

const EMAIL: &str = "admin@example.com";
const TOKEN: &str = "LEAKCANARY-token-7f3a9c0e41";
const SCOPED: &str = "LEAKCANARY-scoped-5d21b8f6aa";
const CLIENT_SECRET: &str = "LEAKCANARY-oauth-91be7d3c55";
const ADMIN_KEY: &str = "LEAKCANARY-adminkey-33c0f19e02";
const WRONG: &str = "LEAKCANARY-wrong-0c1d2e3f44";
const ROTATED_OLD: &str = "LEAKCANARY-rotated-aa11bb22cc";
const MISSING_KEY: &str = "LEAKCANARY-missingkey-99de01";
const WRONG_CLIENT_SECRET: &str = "LEAKCANARY-oauthwrong-6f6e7d";
const CLIENT_ID: &str = "leak-client-id";

/// Every string that must never be seen.
fn forbidden() -> Vec<String> {
    let secrets = [
        TOKEN,
        SCOPED,
        CLIENT_SECRET,
        ADMIN_KEY,
        WRONG,
        ROTATED_OLD,
        MISSING_KEY,
        WRONG_CLIENT_SECRET,
    ];
    let mut out = vec!["LEAKCANARY".to_string()];
    for s in secrets {
        out.extend(forms(s, &[EMAIL]));
    }
    out
}

fn scenario() -> jira_sim::Scenario {
    let mut s = jira_sim::default_scenario();
    s.credentials.api_tokens = vec![
        ApiTokenSpec {
            email: EMAIL.into(),
            token: TOKEN.into(),
            scopes: None,
        },
        ApiTokenSpec {
            email: EMAIL.into(),
            token: SCOPED.into(),
            scopes: Some(all_scopes()),
        },
    ];
    s.credentials.oauth_clients = vec![OAuthClientSpec {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        account: "sim-service-account".into(),
        scopes: all_scopes(),
    }];
    s.credentials.admin_keys = vec![ADMIN_KEY.into()];
    s
}

/// Creates connection `name` with `auth`, and the organization whose Admin API key is in Secret `organization`.
async fn connection(w: &Harness, name: &str, auth: Value, organization: Option<&str>) {
    let mut spec = json!({"siteUrl": w.site(), "auth": auth});
    if let Some(secret) = organization {
        spec["organization"] = json!({"id": w.sim.org_id(), "secretRef": {"name": secret}});
    }
    w.create_connection(name, spec).await;
}

/// Waits until connection `name` is Ready with `status` and `reason`.
async fn ready(w: &Harness, name: &str, status: &str, reason: &str) {
    w.wait_connection(name, &format!("Ready={status}/{reason}"), |c| {
        condition(c, "Ready") == Some((status.into(), reason.into()))
    })
    .await;
}

/// Waits until action `name` has the Succeeded reason `reason`.
async fn action_reason(w: &Harness, name: &str, reason: &str) {
    w.wait_action(name, &format!("reason {reason}"), |a| {
        a.status
            .as_ref()
            .and_then(|s| find_condition(&s.conditions, "Succeeded"))
            .is_some_and(|c| c.reason == reason)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_appear_in_logs_events_status_or_metrics() {
    let w = Harness::new(
        "leak",
        SimConfig {
            scenario: scenario(),
            token_lifetime: Duration::from_secs(4),
            ..SimConfig::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().expect("a directory");
    let log = dir.path().join("operator.log");
    let mut operator = OperatorProcess::launch(
        &w.sim.url(),
        Launch {
            name: "operator",
            watch: &[&w.namespace],
            args: &[
                "--log-format",
                "json",
                "--log-level",
                "trace",
                "--jira-timeout",
                "5s",
            ],
            log: Some(&log),
            ..Launch::default()
        },
    );

    let basic = |secret: &str| json!({"basic": {"secretRef": {"name": secret}}});
    w.secret("good", json!({"email": EMAIL, "apiToken": TOKEN}))
        .await;
    w.secret("scoped", json!({"email": EMAIL, "apiToken": SCOPED}))
        .await;
    w.secret("org", json!({"apiKey": ADMIN_KEY})).await;
    w.secret(
        "oauth",
        json!({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}),
    )
    .await;
    w.secret("wrong", json!({"email": EMAIL, "apiToken": WRONG}))
        .await;
    w.secret("missing", json!({"mail": EMAIL, "apiToken": MISSING_KEY}))
        .await;
    w.secret("rotated", json!({"email": EMAIL, "apiToken": ROTATED_OLD}))
        .await;
    w.secret(
        "oauth-wrong",
        json!({"clientId": CLIENT_ID, "clientSecret": WRONG_CLIENT_SECRET}),
    )
    .await;
    let sa = |secret: &str| json!({"serviceAccount": {"cloudId": w.sim.cloud_id(), "secretRef": {"name": secret}}});
    connection(&w, "basic-org", basic("good"), Some("org")).await;
    connection(&w, "scoped", basic("scoped"), None).await;
    connection(&w, "oauth", sa("oauth"), None).await;
    connection(&w, "wrong", basic("wrong"), None).await;
    connection(&w, "missing", basic("missing"), None).await;
    connection(&w, "rotated", basic("rotated"), None).await;
    connection(&w, "oauth-wrong", sa("oauth-wrong"), None).await;

    ready(&w, "basic-org", "True", "Synced").await;
    ready(&w, "scoped", "True", "Synced").await;
    ready(&w, "oauth", "True", "Synced").await;
    ready(&w, "wrong", "False", "InvalidCredentials").await;
    ready(&w, "missing", "False", "SecretKeyMissing").await;
    ready(&w, "rotated", "False", "InvalidCredentials").await;
    ready(&w, "oauth-wrong", "False", "InvalidCredentials").await;

    // Actions: success (through Basic and through OAuth after token expiries), a permanent failure, one waiting
    // for a connection that is not Ready.
    w.create_on(
        "create",
        "basic-org",
        json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Leak test"}}),
    )
    .await;
    w.create_on(
        "add",
        "oauth",
        json!({"addUserToGroup": {"user": {"email": "ava@example.com"}, "group": "devs"}}),
    )
    .await;
    w.create_on(
        "no-project",
        "basic-org",
        json!({"createIssue": {"project": "NOPE", "issueType": "Task", "summary": "x"}}),
    )
    .await;
    w.create_on(
        "waiting",
        "wrong",
        json!({"deleteIssue": {"issue": "ENG-3"}}),
    )
    .await;
    action_reason(&w, "create", "Executed").await;
    action_reason(&w, "add", "Executed").await;
    action_reason(&w, "no-project", "ProjectNotFound").await;
    action_reason(&w, "waiting", "ConnectionNotReady").await;

    // Error answers with bodies during syncs: 5xx, then 429s.
    w.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 500,
            every_nth: Some(3),
            ..Default::default()
        }),
        rate_limit: Some(RateLimitFault {
            every_nth: Some(4),
            retry_after_secs: 1,
            ..Default::default()
        }),
        ..Faults::default()
    });
    for name in ["basic-org", "oauth"] {
        w.request_sync(name, "faults").await;
    }
    for name in ["basic-org", "oauth"] {
        w.wait_connection(name, "the sync request handled", |c| {
            c.status
                .as_ref()
                .is_some_and(|s| s.last_sync_request.as_deref() == Some("faults"))
        })
        .await;
    }
    w.sim.set_faults(Faults::default());

    // The rotated Secret is picked up.
    w.secret("rotated", json!({"email": EMAIL, "apiToken": TOKEN}))
        .await;
    ready(&w, "rotated", "True", "Synced").await;

    let metrics = operator.metrics().await;
    assert!(
        metrics.contains("jira_operator"),
        "no metrics: {metrics:.200}"
    );
    assert!(
        operator.terminate().await,
        "the operator did not stop cleanly"
    );

    // Collect everything the operator wrote.
    let mut places: Vec<(String, String)> =
        vec![("logs".into(), operator.log()), ("metrics".into(), metrics)];
    let events: Api<Event> = Api::namespaced(w.client.clone(), &w.namespace);
    for e in events
        .list(&ListParams::default())
        .await
        .expect("Events")
        .items
    {
        places.push((
            format!("Event {}", e.name_any()),
            serde_json::to_string(&e).unwrap(),
        ));
    }
    for c in w
        .connections()
        .list(&ListParams::default())
        .await
        .expect("connections")
        .items
    {
        places.push((
            format!("JiraConnection {}", c.name_any()),
            serde_json::to_string(&c.status).unwrap(),
        ));
    }
    let actions: Api<JiraAction> = Api::namespaced(w.client.clone(), &w.namespace);
    for a in actions
        .list(&ListParams::default())
        .await
        .expect("actions")
        .items
    {
        places.push((
            format!("JiraAction {}", a.name_any()),
            serde_json::to_string(&a.status).unwrap(),
        ));
    }
    let users: Api<JiraUser> = Api::namespaced(w.client.clone(), &w.namespace);
    let users = users
        .list(&ListParams::default())
        .await
        .expect("JiraUsers")
        .items;
    assert!(!users.is_empty(), "no JiraUser was written");
    for u in users {
        places.push((
            format!("JiraUser {}", u.name_any()),
            serde_json::to_string(&u).unwrap(),
        ));
    }

    let log_lines = places[0].1.lines().count();
    assert!(log_lines > 100, "only {log_lines} log lines at trace level");
    assert!(
        places[0].1.contains("\"level\":\"TRACE\""),
        "the logs hold no trace-level line"
    );
    // Dependencies log at trace level too (HTTP clients of Jira and of the apiserver).
    for target in ["\"target\":\"hyper", "\"target\":\"kube"] {
        assert!(places[0].1.contains(target), "no log line of {target}");
    }
    // Failure paths were logged (their messages are part of what is searched).
    assert!(
        places[0].1.contains("InvalidCredentials"),
        "no credential failure was logged"
    );

    // The OAuth access tokens the simulator issued (several: they expire every 4 s) are credentials too.
    let issued: Vec<String> = w.sim.with_state(|st| st.tokens.keys().cloned().collect());
    assert!(issued.len() > 1, "the OAuth tokens were never renewed");
    let mut forbidden = forbidden();
    forbidden.extend(issued);
    let finder = Finder::new(forbidden);
    let leaks: Vec<String> = places
        .iter()
        .flat_map(|(place, text)| finder.leaks(place, text))
        .collect();
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    eprintln!(
        "searched {} places ({log_lines} log lines at trace level) for {} forbidden strings: none found",
        places.len(),
        finder.len()
    );
    w.shutdown().await;
}

#[test]
fn the_search_finds_what_it_looks_for() {
    let header = format!("Basic {}", b64(&format!("{EMAIL}:{TOKEN}")));
    assert!(!credential_patterns(&header).is_empty());
    assert!(!credential_patterns("authorization: Bearer abcdefghijklmnop").is_empty());
    assert!(!credential_patterns("{\"authorization\":\"xyzxyzxyzxyzxyzxyz\"}").is_empty());
    assert!(credential_patterns("authorization: Sensitive").is_empty());
    assert!(credential_patterns("Basic auth (email + API token)").is_empty());
    assert!(
        credential_patterns(r#"{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed"}"#)
            .is_empty()
    );
    assert!(forbidden().iter().any(|f| header.contains(f.as_str())));
}

/// The client's errors (Display and Debug) and configuration (Debug) never carry a credential, whatever failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_and_configuration_never_carry_credentials() {
    use jira_cloud_operator::jira::{
        AdminCredentials, ClientConfig, Credentials, Endpoints, JiraClient, Limits, SecretString,
    };
    let sim = jira_sim::start(SimConfig {
        scenario: scenario(),
        ..SimConfig::default()
    })
    .await
    .expect("the simulator starts");
    let config = |credentials: Credentials, admin: Option<&str>| ClientConfig {
        site_url: sim.url(),
        allowed_hosts: jira_cloud_operator::jira::AllowedHosts::parse("127.0.0.1").expect("a host"),
        credentials,
        admin: admin.map(|key| AdminCredentials {
            org_id: sim.org_id(),
            api_key: SecretString::from(key.to_owned()),
        }),
        endpoints: Endpoints::same_as(&sim.url()),
        limits: Limits {
            requests_per_second: None,
            max_retries: 0,
            ..Limits::default()
        },
        timeout: Duration::from_secs(5),
    };
    let basic = |token: &str| Credentials::Basic {
        email: EMAIL.into(),
        api_token: SecretString::from(token.to_owned()),
    };
    let oauth = |secret: &str| Credentials::ServiceAccount {
        cloud_id: sim.cloud_id(),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(secret.to_owned()),
    };
    let cases = [
        config(basic(WRONG), None),
        config(oauth(WRONG_CLIENT_SECRET), None),
        config(basic("LEAKCANARY\u{7f}-not-a-header"), None),
    ];
    for c in cases {
        let shown = format!("{c:?}");
        let error = JiraClient::connect(c).await.expect_err("refused");
        let text = format!("{shown} {error} {error:?}");
        for f in forbidden() {
            assert!(!text.contains(&f), "{f:?} in {text}");
        }
        assert!(credential_patterns(&text).is_empty(), "{text}");
    }
    // A wrong Admin API key is refused by the organization part of a sync (connect no longer checks it): that
    // error carries no credential either.
    let with_wrong_key = config(basic(TOKEN), Some(WRONG));
    let shown = format!("{with_wrong_key:?}");
    let client = JiraClient::connect(with_wrong_key)
        .await
        .expect("connects without the Admin API");
    let error = client
        .admin_users()
        .await
        .expect_err("the Admin API refuses the key");
    let text = format!("{shown} {client:?} {error} {error:?}");
    for f in forbidden() {
        assert!(!text.contains(&f), "{f:?} in {text}");
    }
    assert!(credential_patterns(&text).is_empty(), "{text}");
    // Successful clients print no credential either.
    let client = JiraClient::connect(config(basic(TOKEN), Some(ADMIN_KEY)))
        .await
        .expect("connects");
    let text = format!("{client:?}");
    assert!(!text.contains("LEAKCANARY"), "{text}");
    sim.shutdown().await;
}
