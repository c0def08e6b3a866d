//! A connection says up front what its credentials can and cannot do, and an action whose capability is
//! unavailable fails at once with `NotPermitted` and the fix, while the others keep working. Against the
//! simulator (each account lacking one permission in turn) and the test control plane, with the connection and
//! action controllers running in-process on one context.

use jira_cloud_operator::{
    api::{Capability, CapabilityState, JiraConnection},
    controller::capabilities,
};
use jira_sim::openapi::Spec;
use jira_sim::routes::{SpecDoc, route_of};
use jira_sim::scenario::{ApiTokenSpec, GroupSpec, OAuthClientSpec, UserSpec, default_scenario};
use jira_sim::{Faults, ServerErrorFault, SimConfig, SimHandle};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;
use testkit::{
    Harness,
    observed::{attempts, groups_of, message, phase},
};

const ORG: &str = "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f";
const NOAH: &str = "5b10a2844c20165700ede005";
const CLOUD: &str = "0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";

/// Accounts and their groups: `creators` and `deleters` hold Create issues and Delete issues in every project,
/// `jira-software-users` Browse projects, `site-admins` site-admin access.
const ACCOUNTS: &[(&str, &[&str])] = &[
    (
        "full",
        &["site-admins", "jira-software-users", "creators", "deleters"],
    ),
    (
        "nocreate",
        &["site-admins", "jira-software-users", "deleters"],
    ),
    (
        "nodelete",
        &["site-admins", "jira-software-users", "creators"],
    ),
    ("nobrowse", &["site-admins", "creators", "deleters"]),
    ("noadmin", &["jira-software-users", "creators", "deleters"]),
];

fn scenario() -> jira_sim::scenario::Scenario {
    let mut sc = default_scenario();
    for name in ["creators", "deleters"] {
        sc.groups.push(GroupSpec {
            name: name.into(),
            ..GroupSpec::default()
        });
    }
    for project in &mut sc.projects {
        let grant = |groups: &[&str]| groups.iter().map(|g| g.to_string()).collect();
        project
            .permissions
            .insert("BROWSE_PROJECTS".into(), grant(&["jira-software-users"]));
        project
            .permissions
            .insert("CREATE_ISSUES".into(), grant(&["creators"]));
        project
            .permissions
            .insert("DELETE_ISSUES".into(), grant(&["deleters"]));
    }
    for (name, groups) in ACCOUNTS {
        sc.users.push(UserSpec {
            name: format!("Operator {name}"),
            email: Some(format!("{name}@example.com")),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..UserSpec::default()
        });
        sc.credentials.api_tokens.push(ApiTokenSpec {
            email: format!("{name}@example.com"),
            token: format!("{name}-token"),
            scopes: None,
        });
    }
    // The service account (a site admin) with a credential created without write:jira-work.
    sc.credentials.oauth_clients.push(OAuthClientSpec {
        client_id: "read-only-id".into(),
        client_secret: "read-only-secret".into(),
        account: "sim-service-account".into(),
        scopes: vec![
            "read:jira-user".into(),
            "read:jira-work".into(),
            "manage:jira-configuration".into(),
        ],
    });
    sc
}

/// Routes the operator calls that the official documents do not describe, and why they are called.
const NOT_IN_THE_SPEC: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/_edge/tenant_info",
        "the site's cloud id, read to check the site is a Jira Cloud site (no public document)",
    ),
    (
        "POST",
        "/oauth/token",
        "the OAuth 2.0 token endpoint of a service account (auth.atlassian.com, not the platform API)",
    ),
    (
        "GET",
        "/oauth/token/accessible-resources",
        "the sites a service account's token reaches and its scopes (api.atlassian.com, not the platform API)",
    ),
    (
        "GET",
        "/admin/v2/orgs/{orgId}/directories",
        "Admin API v2 (centralized user management): newer than the stored admin-organization.json, known from \
         Atlassian's client models",
    ),
    (
        "POST",
        "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/search",
        "Admin API v2 users with their product access: newer than the stored admin-organization.json, known \
         from Atlassian's client models",
    ),
    (
        "GET",
        "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments",
        "Admin API v2 roles of a user: newer than the stored admin-organization.json, known from Atlassian's \
         client models",
    ),
];

/// Every request the simulator received is a declared operation of the official OpenAPI documents, sending only
/// query parameters the operation declares; or one of [`NOT_IN_THE_SPEC`]. Returns the operations seen.
fn requests_are_official_operations(sim: &SimHandle) -> BTreeSet<String> {
    let jira = Spec::load(SpecDoc::Jira);
    let admin = Spec::load(SpecDoc::Admin);
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let received = sim.received_requests();
    assert!(!received.is_empty(), "the simulator received nothing");
    for r in received {
        let what = format!("{} {}", r.method, r.path);
        let Some(route) = route_of(&r.method, &r.path) else {
            failures.push(format!("{what}: no route of the simulator"));
            continue;
        };
        seen.insert(format!("{} {}", route.method, route.path));
        let Some((doc, path)) = route.spec else {
            if !NOT_IN_THE_SPEC
                .iter()
                .any(|(m, p, _)| *m == route.method && *p == route.path)
            {
                failures.push(format!(
                    "{what}: {} is in no official document and not a known exception",
                    route.path
                ));
            }
            continue;
        };
        let spec = if doc == SpecDoc::Jira { &jira } else { &admin };
        if spec.operation(path, &r.method).is_none() {
            failures.push(format!(
                "{what}: {} {path} is not an operation of the spec",
                r.method
            ));
            continue;
        }
        let declared = spec.query_params(path, &r.method);
        let query = r.path.split_once('?').map_or("", |(_, q)| q);
        for (name, _) in url::form_urlencoded::parse(query.as_bytes()) {
            if !declared.contains(name.as_ref()) {
                failures.push(format!(
                    "{what}: query parameter {name:?} is not declared by {} {path} ({declared:?})",
                    r.method
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    seen
}

/// How many times a Normal Event with `reason` was published about `name` (a repeat is a series).
async fn count_events(h: &Harness, name: &str, reason: &str) -> i32 {
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(h.client.clone(), &h.namespace);
    events
        .list(&Default::default())
        .await
        .expect("list Events")
        .items
        .into_iter()
        .filter(|e| {
            e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                && e.reason.as_deref() == Some(reason)
                && e.type_.as_deref() == Some("Normal")
        })
        .map(|e| e.series.map_or(1, |s| s.count))
        .sum()
}

/// A connection `name` with the account's token, and an organization when `org` is set.
async fn connect(h: &Harness, name: &str, org: bool) {
    h.secret(
        name,
        json!({"email": format!("{name}@example.com"), "apiToken": format!("{name}-token")}),
    )
    .await;
    let mut spec = json!({
        "siteUrl": h.sim.url().to_string(),
        "auth": {"basic": {"secretRef": {"name": name}}},
    });
    if org {
        h.secret("org", json!({"apiKey": "sim-admin-key"})).await;
        spec["organization"] = json!({"id": ORG, "secretRef": {"name": "org"}});
    }
    let c: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraConnection",
        "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap();
    h.connections()
        .create(&PostParams::default(), &c)
        .await
        .expect("create the JiraConnection");
}

async fn capabilities_of(h: &Harness, name: &str) -> (Vec<Capability>, String) {
    for _ in 0..1200 {
        let c = h.connections().get(name).await.expect("get the connection");
        if let Some(st) = c.status
            && !st.capabilities.is_empty()
        {
            return (
                st.capabilities,
                st.capabilities_available.unwrap_or_default(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name}: no capabilities in the status");
}

fn state_of<'a>(caps: &'a [Capability], name: &str) -> &'a Capability {
    caps.iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no capability {name}: {caps:?}"))
}

/// The capabilities that are not available, with their fix.
fn unavailable(caps: &[Capability]) -> Vec<(&str, &str)> {
    caps.iter()
        .filter(|c| c.state != CapabilityState::Available)
        .map(|c| (c.name.as_str(), c.fix.as_deref().unwrap_or("")))
        .collect()
}

fn reason(a: &jira_cloud_operator::api::JiraAction) -> String {
    let st = a.status.as_ref().expect("a status");
    jira_cloud_operator::api::find_condition(&st.conditions, "Succeeded")
        .map(|c| c.reason.clone())
        .unwrap_or_default()
}

/// Waits for the action to fail with `NotPermitted` without any attempt, its message naming `fix`.
async fn not_permitted(h: &Harness, name: &str, fix: &str) {
    let a = h.finished(name).await;
    assert_eq!(reason(&a), "NotPermitted", "{name}: {}", message(&a));
    assert_eq!(attempts(&a), 0, "{name}: failed before any attempt");
    assert!(message(&a).contains(fix), "{name}: {}", message(&a));
    assert!(h.has_event(name, "Warning", "NotPermitted").await);
}

async fn succeeds(h: &Harness, name: &str) -> jira_cloud_operator::api::JiraAction {
    let a = h.finished(name).await;
    assert_eq!(
        phase(&a),
        Some(jira_cloud_operator::api::ActionPhase::Succeeded),
        "{name}: {}",
        message(&a)
    );
    a
}

#[tokio::test]
async fn each_missing_permission_shows_its_fix_and_stops_only_its_actions() {
    let h = Harness::with_acme(
        "capabilities",
        SimConfig {
            scenario: scenario(),
            ..SimConfig::default()
        },
    )
    .await;
    let operator = h.start(h.action_settings());
    connect(&h, "full", true).await;
    for (name, _) in &ACCOUNTS[1..] {
        connect(&h, name, false).await;
    }

    // Everything granted, with an organization: all seven available.
    let (caps, count) = capabilities_of(&h, "full").await;
    assert_eq!(caps.len(), capabilities::ALL.len());
    assert_eq!(unavailable(&caps), vec![], "{caps:#?}");
    assert_eq!(count, "7/7");
    assert!(
        h.has_event("full", "Normal", capabilities::CHANGED).await,
        "a Normal Event when the capabilities are first known"
    );

    // Each account lacks one thing (and none has an organization: syncRoles says how to add one).
    let roles_fix = "spec.organization";
    let expected: &[(&str, &[(&str, &str)])] = &[
        ("nocreate", &[("createIssues", "Create issues")]),
        ("nodelete", &[("deleteIssues", "Delete issues")]),
        (
            "nobrowse",
            &[
                ("syncUsage", "Browse projects"),
                ("createIssues", "Browse projects"),
            ],
        ),
        (
            "noadmin",
            &[
                ("syncUsers", "Browse users and groups"),
                ("manageGroupMembership", "site-admins"),
                ("deleteUsers", "site-admins"),
            ],
        ),
    ];
    for (account, missing) in expected {
        let (caps, count) = capabilities_of(&h, account).await;
        let got = unavailable(&caps);
        let mut names: Vec<&str> = got.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let mut want: Vec<&str> = missing
            .iter()
            .map(|(n, _)| *n)
            .chain(["syncRoles"])
            .collect();
        want.sort_unstable();
        assert_eq!(names, want, "{account}: {caps:#?}");
        for (name, fix) in missing.iter().copied().chain([("syncRoles", roles_fix)]) {
            let c = state_of(&caps, name);
            assert_eq!(c.state, CapabilityState::Unavailable, "{account}: {c:?}");
            assert!(
                c.fix.as_deref().unwrap_or("").contains(fix),
                "{account}: {c:?}"
            );
        }
        assert_eq!(count, format!("{}/7", 7 - want.len()), "{account}");
    }

    // Actions: the full account creates; the others fail at once where their capability is missing.
    h.create_on(
        "full-create",
        "full",
        json!({"createIssue": {"project": "OPS", "issueType": "Task", "summary": "Reclaim"}}),
    )
    .await;
    let created = succeeds(&h, "full-create").await;
    let key = created.status.unwrap().result.unwrap().issue_key.unwrap();

    h.create_on(
        "nocreate-create",
        "nocreate",
        json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Reclaim"}}),
    )
    .await;
    not_permitted(&h, "nocreate-create", "Create issues in project ENG").await;
    let refused = h.actions().get("nocreate-create").await.unwrap();
    assert!(h.marked_issues(&refused).is_empty(), "nothing was created");
    h.create_on(
        "nocreate-add",
        "nocreate",
        json!({"addUserToGroup": {"user": {"accountId": NOAH}, "group": "devs"}}),
    )
    .await;
    succeeds(&h, "nocreate-add").await;

    h.create_on(
        "nodelete-delete",
        "nodelete",
        json!({"deleteIssue": {"issue": key}}),
    )
    .await;
    not_permitted(&h, "nodelete-delete", "Delete issues").await;
    assert!(
        h.sim.with_state(|st| st.issue_ref(&key).is_some()),
        "the issue is still there"
    );
    h.create_on(
        "nodelete-create",
        "nodelete",
        json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "Other"}}),
    )
    .await;
    succeeds(&h, "nodelete-create").await;

    h.create_on(
        "noadmin-add",
        "noadmin",
        json!({"addUserToGroup": {"user": {"accountId": NOAH}, "group": "jira-testers"}}),
    )
    .await;
    not_permitted(&h, "noadmin-add", "site-admins").await;
    assert!(!groups_of(&h.sim, NOAH).contains(&"jira-testers".to_string()));
    h.create_on(
        "noadmin-deleteuser",
        "noadmin",
        json!({"deleteUser": {"user": {"accountId": NOAH}}}),
    )
    .await;
    not_permitted(&h, "noadmin-deleteuser", "site-admins").await;
    h.create_on(
        "noadmin-delete",
        "noadmin",
        json!({"deleteIssue": {"issue": key}}),
    )
    .await;
    succeeds(&h, "noadmin-delete").await;

    h.create_on(
        "nobrowse-create",
        "nobrowse",
        json!({"createIssue": {"project": "OPS", "issueType": "Task", "summary": "x"}}),
    )
    .await;
    not_permitted(&h, "nobrowse-create", "Browse projects").await;

    // New credentials are checked again: the set changes, and a Normal Event says so.
    assert_eq!(count_events(&h, "nodelete", capabilities::CHANGED).await, 1);
    let secrets: Api<Secret> = Api::namespaced(h.client.clone(), &h.namespace);
    secrets
        .delete("nodelete", &Default::default())
        .await
        .unwrap();
    h.secret(
        "nodelete",
        json!({"email": "full@example.com", "apiToken": "full-token"}),
    )
    .await;
    for _ in 0..1200 {
        let (caps, _) = capabilities_of(&h, "nodelete").await;
        if state_of(&caps, "deleteIssues").state == CapabilityState::Available {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (caps, count) = capabilities_of(&h, "nodelete").await;
    assert_eq!(
        state_of(&caps, "deleteIssues").state,
        CapabilityState::Available
    );
    assert_eq!(count, "6/7");
    for _ in 0..600 {
        if count_events(&h, "nodelete", capabilities::CHANGED).await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count_events(&h, "nodelete", capabilities::CHANGED).await, 2);
    operator.stop().await;
    let seen = requests_are_official_operations(&h.sim);
    for op in [
        "GET /rest/api/3/mypermissions",
        "GET /rest/api/3/group/bulk",
        "POST /rest/api/3/issue",
        "POST /rest/api/3/group/user",
        "DELETE /rest/api/3/issue/{issueIdOrKey}",
    ] {
        assert!(seen.contains(op), "{op} was not called: {seen:?}");
    }
}

#[tokio::test]
async fn a_service_account_token_without_the_write_scope_cannot_change_issues() {
    let h = Harness::with_acme(
        "capabilities-sa",
        SimConfig {
            scenario: scenario(),
            ..SimConfig::default()
        },
    )
    .await;
    let operator = h.start(h.action_settings());
    h.secret(
        "sa",
        json!({"clientId": "read-only-id", "clientSecret": "read-only-secret"}),
    )
    .await;
    let c: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraConnection", "metadata": {"name": "sa"},
        "spec": {"siteUrl": h.sim.url().to_string(),
                 "auth": {"serviceAccount": {"cloudId": CLOUD, "secretRef": {"name": "sa"}}}},
    }))
    .unwrap();
    h.connections()
        .create(&PostParams::default(), &c)
        .await
        .unwrap();
    let (caps, count) = capabilities_of(&h, "sa").await;
    let got = unavailable(&caps);
    let names: Vec<&str> = got.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        vec!["syncRoles", "createIssues", "deleteIssues"],
        "{caps:#?}"
    );
    for name in ["createIssues", "deleteIssues"] {
        let c = state_of(&caps, name);
        assert!(c.reason.contains("write:jira-work"), "{c:?}");
        assert!(
            c.fix.as_deref().unwrap().contains("OAuth 2.0 credential"),
            "{c:?}"
        );
    }
    assert_eq!(count, "4/7");
    h.create_on(
        "sa-create",
        "sa",
        json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "x"}}),
    )
    .await;
    not_permitted(&h, "sa-create", "write:jira-work").await;
    h.create_on(
        "sa-add",
        "sa",
        json!({"addUserToGroup": {"user": {"accountId": NOAH}, "group": "devs"}}),
    )
    .await;
    succeeds(&h, "sa-add").await;
    operator.stop().await;
    let seen = requests_are_official_operations(&h.sim);
    assert!(seen.contains("POST /oauth/token"), "{seen:?}");
}

#[tokio::test]
async fn a_grant_given_in_jira_shows_at_the_next_check_without_a_new_secret() {
    let h = Harness::with_acme(
        "capabilities-grant",
        SimConfig {
            scenario: scenario(),
            ..SimConfig::default()
        },
    )
    .await;
    let operator = h.start(h.action_settings());
    connect(&h, "noadmin", false).await;
    let (caps, _) = capabilities_of(&h, "noadmin").await;
    assert_eq!(
        state_of(&caps, "manageGroupMembership").state,
        CapabilityState::Unavailable,
        "{caps:#?}"
    );
    h.create_on(
        "before-grant",
        "noadmin",
        json!({"addUserToGroup": {"user": {"accountId": NOAH}, "group": "jira-testers"}}),
    )
    .await;
    not_permitted(&h, "before-grant", "site-admins").await;

    // An admin adds the account to site-admins in Jira; the Secret stays as it is.
    h.sim.with_state(|st| {
        let group = st
            .group_ref(None, Some("site-admins"))
            .expect("site-admins");
        let account = st.user_ref("noadmin@example.com").expect("the account");
        assert!(st.add_member(group, account));
    });
    h.request_sync("noadmin", "after-grant").await;
    let granted = h
        .wait_connection("noadmin", "manageGroupMembership available", |c| {
            c.status.as_ref().is_some_and(|s| {
                s.capabilities.iter().any(|c| {
                    c.name == "manageGroupMembership" && c.state == CapabilityState::Available
                })
            })
        })
        .await;
    let caps = granted.status.unwrap().capabilities;
    assert_eq!(
        state_of(&caps, "deleteUsers").state,
        CapabilityState::Available
    );
    for _ in 0..600 {
        if count_events(&h, "noadmin", capabilities::CHANGED).await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count_events(&h, "noadmin", capabilities::CHANGED).await, 2);

    h.create_on(
        "after-grant",
        "noadmin",
        json!({"addUserToGroup": {"user": {"accountId": NOAH}, "group": "jira-testers"}}),
    )
    .await;
    succeeds(&h, "after-grant").await;
    assert!(groups_of(&h.sim, NOAH).contains(&"jira-testers".to_string()));
    operator.stop().await;
}

#[tokio::test]
async fn an_unknown_capability_still_tries() {
    let h = Harness::with_acme(
        "capabilities-unknown",
        SimConfig {
            scenario: scenario(),
            ..SimConfig::default()
        },
    )
    .await;
    // Jira cannot answer which permissions the account holds, for the connection nor for the action.
    h.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            status: 503,
            every_nth: Some(1),
            ..ServerErrorFault::default()
        }),
        routes: vec!["/rest/api/3/mypermissions".into()],
        ..Faults::default()
    });
    let operator = h.start(h.action_settings());
    connect(&h, "full", false).await;
    let (caps, _) = capabilities_of(&h, "full").await;
    let create = state_of(&caps, "createIssues");
    assert_eq!(create.state, CapabilityState::Unknown, "{caps:#?}");
    assert!(create.fix.is_none(), "{create:?}");

    h.create_on(
        "unknown-create",
        "full",
        json!({"createIssue": {"project": "OPS", "issueType": "Task", "summary": "Tried anyway"}}),
    )
    .await;
    let created = succeeds(&h, "unknown-create").await;
    assert!(attempts(&created) > 0, "the action tried");
    assert_eq!(h.marked_issues(&created).len(), 1, "the issue was created");
    let asked = h
        .sim
        .received_requests()
        .into_iter()
        .filter(|r| r.path.contains("/mypermissions") && r.path.contains("projectKey=OPS"))
        .count();
    assert!(asked > 0, "the action asked in its own project first");
    operator.stop().await;
}

/// The capabilities are read when a client connects and before each sync, not at every reconcile: a reconcile
/// between syncs (here a referenced Secret touched without a change to its data) sends Jira nothing.
#[tokio::test]
async fn a_reconcile_between_syncs_sends_jira_nothing() {
    let h = Harness::new(
        "capabilities-idle",
        SimConfig {
            scenario: scenario(),
            ..SimConfig::default()
        },
    )
    .await;
    let operator = h.start(h.action_settings());
    connect(&h, "full", false).await;
    h.wait_connection("full", "the first sync", |c| {
        testkit::observed::has(c, "Synced", "True", "Complete")
    })
    .await;
    let settled = operator.connection_reconciles();
    h.sim.reset_stats();
    let secrets: Api<Secret> = Api::namespaced(h.client.clone(), &h.namespace);
    secrets
        .patch(
            "full",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}})),
        )
        .await
        .expect("label the Secret");
    for _ in 0..600 {
        if operator.connection_reconciles() > settled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        operator.connection_reconciles() > settled,
        "the Secret's change reconciles the connection"
    );
    // Let that reconcile finish: whatever it sent would be counted by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.sim.stats().total, 0, "{:?}", h.sim.stats().routes);

    // A sync reads them again.
    h.request_sync("full", "again").await;
    h.synced_after("full", "again").await;
    let routes = h.sim.stats().routes;
    assert!(
        routes
            .iter()
            .any(|r| r.route == "/rest/api/3/mypermissions" && r.count > 0),
        "{routes:?}"
    );
    operator.stop().await;
}
