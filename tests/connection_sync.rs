//! The JiraConnection controller end to end, on the real apiserver (with the garbage collector) and the
//! simulator serving the hand-written scenario of `testkit/scenarios/handwritten.yaml`, whose figures are derived by
//! hand in that file's comments: both authentication methods, the exact status of the contract, the JiraUser
//! inventory and its labels, a second sync that writes no JiraUser, a user removed in Jira, the `Summary`
//! inventory mode, garbage collection with the connection, `kubectl wait`, and an upgrade from the JiraUsers of
//! the version whose JiraUser CRD had a status subresource.

use jira_cloud_operator::api::{JiraConnection, JiraUser, JiraUserStatus, RoleCounts, UserCounts};
use k8s_openapi::{
    api::core::v1::Namespace,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, CustomResourceExt, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, PostParams},
};
use std::{collections::BTreeMap, time::Duration};
use testkit::{
    Harness, InProcess, TestEnv,
    bench::procs::apiserver_writes,
    connection::*,
    observed::has,
    settings,
    sim::{days_ago, handwritten},
    tools::kubectl,
    wait::eventually,
};

/// `(seats, used, activeUsers, inactiveUsers)` of a product in the status.
fn license(c: &JiraConnection, product: &str) -> (Option<u32>, u32, u32, u32) {
    let l = c
        .status
        .as_ref()
        .unwrap()
        .licenses
        .iter()
        .find(|l| l.product == product)
        .unwrap();
    if let (Some(seats), Some(remaining)) = (l.seats, l.remaining) {
        assert!(
            seats - remaining >= l.used,
            "Jira's count of used seats includes the hidden-email holders"
        );
    }
    (l.seats, l.used, l.active_users, l.inactive_users)
}

/// The figures of the hand-written scenario, as the status of the contract shows them.
fn assert_handwritten_status(c: &JiraConnection, with_roles: bool) {
    let st = c.status.as_ref().unwrap();
    assert_eq!(
        st.users,
        Some(UserCounts {
            total: 8,
            synced: 6,
            hidden_email: 2,
            deactivated: 1
        })
    );
    assert_eq!(license(c, "jira-software"), (Some(50), 3, 1, 2));
    assert_eq!(license(c, "jira-servicedesk"), (Some(10), 1, 1, 0));
    assert_eq!(license(c, "jira-core"), (Some(100), 2, 1, 1));
    assert_eq!(license(c, "jira-product-discovery"), (Some(10), 0, 0, 0));
    let products: Vec<&str> = st.licenses.iter().map(|l| l.product.as_str()).collect();
    assert_eq!(
        products,
        [
            "jira-core",
            "jira-product-discovery",
            "jira-servicedesk",
            "jira-software"
        ]
    );

    let usage = st.usage.as_ref().unwrap();
    assert_eq!(usage.window_days, 30);
    assert_eq!(usage.to, days_ago(0).to_string());
    assert_eq!(usage.from, days_ago(29).to_string());
    assert_eq!(
        usage.active_users, 4,
        "alice, bob, carol (hidden email), dave"
    );
    assert_eq!(usage.daily.len(), 30);
    let per_day: Vec<u32> = (0..=10)
        .map(|d| {
            let date = days_ago(d).to_string();
            usage
                .daily
                .iter()
                .find(|p| p.date == date)
                .unwrap()
                .active_users
        })
        .collect();
    assert_eq!(per_day, [1, 2, 1, 1, 0, 1, 0, 0, 0, 0, 1]);
    assert!(
        usage.daily.windows(2).all(|w| w[0].date < w[1].date),
        "oldest first"
    );

    let roles = with_roles.then_some(RoleCounts {
        org_admin: 1,
        site_admin: 0,
        product_admin: 1,
        user: 4,
    });
    assert_eq!(st.roles, roles);
    let stats = st.last_sync_stats.as_ref().unwrap();
    assert!(
        stats.api_requests > 0 && stats.duration_seconds > 0.0,
        "{stats:?}"
    );
    let (last, next) = (
        st.last_sync_time.as_ref().unwrap(),
        st.next_sync_time.as_ref().unwrap(),
    );
    // The default interval is 24h, moved by at most 10 %.
    let hours = (next.0.as_second() - last.0.as_second()) as f64 / 3600.0;
    assert!(
        (21.6..=26.4).contains(&hours),
        "next sync {hours} h after the last one"
    );
    assert_eq!(st.observed_generation, c.metadata.generation);
}

fn user<'a>(users: &'a [JiraUser], account_id: &str) -> &'a JiraUser {
    users
        .iter()
        .find(|u| u.spec.account_id == account_id)
        .unwrap_or_else(|| panic!("no JiraUser for {account_id}"))
}

fn kubectl_wait_ready(namespace: &str, name: &str) -> std::process::Output {
    let object = format!("jiraconnection/{name}");
    kubectl(
        &[
            "-n",
            namespace,
            "wait",
            "--for=condition=Ready",
            &object,
            "--timeout=120s",
        ],
        "",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_organization_end_to_end() {
    let env = testkit::env("conn-basic").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    let sim = jira_sim::start(jira_sim::SimConfig {
        scenario: handwritten(),
        ..Default::default()
    })
    .await
    .unwrap();
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_admin_secret().await;
    env.put_secret("atlassian-admin", &[("apiKey", "sim-admin-key")])
        .await;
    let spec = with_organization(
        basic_spec(&sim.url(), "jira-basic"),
        &sim.org_id(),
        "atlassian-admin",
    );
    let created = env.create_connection("acme", spec).await;

    // `kubectl wait` works: Ready carries the current generation.
    let out = kubectl_wait_ready(ns, "acme");
    assert!(
        out.status.success(),
        "kubectl wait: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = env.wait_ready("acme", None).await;
    assert!(has(&c, "CredentialsValid", "True", "Authenticated"));
    assert!(has(&c, "Synced", "True", "Complete"));
    assert_handwritten_status(&c, true);
    assert_eq!(
        c.status.as_ref().unwrap().site.as_ref().unwrap().cloud_id,
        sim.cloud_id()
    );
    env.wait_event("acme", "Normal", "Synced").await;
    let events = env.events("acme").await;
    assert!(!events.iter().any(|(t, _, _)| t == "Warning"), "{events:?}");

    // The inventory: one JiraUser per synced user, owned by the connection, labelled for selection.
    let users = env.jira_users("acme", "").await;
    assert_eq!(users.len(), 6);
    for u in &users {
        let owner = &u.owner_references()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("JiraConnection", created.uid().unwrap().as_str())
        );
        assert_eq!(
            (owner.controller, owner.block_owner_deletion),
            (Some(true), Some(true))
        );
        assert!(u.name_any().starts_with("acme-"));
    }
    let alice = user(&users, "u-alice").status.clone().unwrap();
    assert_eq!(alice.products, ["jira-servicedesk", "jira-software"]);
    assert_eq!(alice.email, "alice@example.com");
    assert_eq!(alice.role.as_deref(), Some("product-admin"));
    assert_eq!(alice.active_days, 2);
    assert_eq!(
        (
            alice.activity.comments,
            alice.activity.changelog,
            alice.activity.worklogs
        ),
        (1, 1, 0)
    );
    assert_eq!(alice.last_active_date, Some(days_ago(0).to_string()));
    let dave = user(&users, "u-dave").status.clone().unwrap();
    assert!(!dave.account_active && dave.products.is_empty());
    assert!(
        users.iter().all(|u| u.spec.account_id != "u-carol"),
        "hidden emails are not synced"
    );
    let software = env
        .jira_users("acme", "jiracloud.io/product.jira-software=true")
        .await;
    assert_eq!(software.len(), 3, "the license's used figure");
    let idle = env
        .jira_users(
            "acme",
            "jiracloud.io/active=false,jiracloud.io/product.jira-software=true",
        )
        .await;
    let mut idle: Vec<&str> = idle.iter().map(|u| u.spec.account_id.as_str()).collect();
    idle.sort();
    assert_eq!(
        idle,
        ["u-admin", "u-frank"],
        "the license's inactive holders"
    );
    assert_eq!(
        env.jira_users("acme", "jiracloud.io/active=true")
            .await
            .len(),
        3
    );

    // Status and JiraUser writes trigger nothing: once settled, the controller stays idle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = operator.connection_reconciles();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        operator.connection_reconciles(),
        settled,
        "no reconcile without a change"
    );

    let metrics = operator.ctx.metrics.encode();
    let series = format!("{{namespace=\"{ns}\",connection=\"acme\"}}");
    for (name, value) in [
        ("jira_operator_users", 8),
        ("jira_operator_users_active", 4),
        ("jira_operator_connection_ready", 1),
    ] {
        assert!(
            metrics.contains(&format!("{name}{series} {value}\n")),
            "{name} = {value} in\n{metrics}"
        );
    }
    assert!(
        metrics.contains(
            "jira_operator_jira_requests_total{endpoint=\"GET /rest/api/3/users/search\",status=\"answered\"}"
        ),
        "Jira requests are counted by endpoint:\n{metrics}"
    );

    // A second sync of the unchanged site writes no JiraUser.
    let before = env.resource_versions("acme").await;
    env.request_sync("acme", "second").await;
    let second = env.wait_ready("acme", Some("second")).await;
    assert_handwritten_status(&second, true);
    assert!(
        second.status.as_ref().unwrap().last_sync_time >= c.status.as_ref().unwrap().last_sync_time
    );
    assert_eq!(
        env.resource_versions("acme").await,
        before,
        "no JiraUser written"
    );

    // A user removed in Jira leaves the inventory.
    sim.with_state(|s| {
        let bob = s.user_by_account("u-bob").unwrap();
        s.delete_user(bob);
    });
    env.request_sync("acme", "bob-left").await;
    let third = env.wait_ready("acme", Some("bob-left")).await;
    assert_eq!(
        third.status.as_ref().unwrap().users.as_ref().unwrap().total,
        7
    );
    let users = env.jira_users("acme", "").await;
    assert_eq!(users.len(), 5);
    assert!(users.iter().all(|u| u.spec.account_id != "u-bob"));
    let after: std::collections::BTreeMap<_, _> = env.resource_versions("acme").await;
    let rewritten: Vec<&String> = after
        .iter()
        .filter(|(n, rv)| before.get(*n) != Some(rv))
        .map(|(n, _)| n)
        .collect();
    // Nobody else changed.
    assert!(
        rewritten.is_empty(),
        "only the removal was written, rewritten: {rewritten:?}"
    );

    // A user whose product changed is rewritten, alone, with the stale product label gone.
    sim.with_state(|s| {
        let frank = s.user_by_account("u-frank").unwrap();
        let software = s.group_ref(None, Some("jira-software-users")).unwrap();
        let service_desk = s.group_ref(None, Some("jira-servicedesk-users")).unwrap();
        s.remove_member(software, frank);
        s.add_member(service_desk, frank);
    });
    env.request_sync("acme", "frank-moved").await;
    env.wait_ready("acme", Some("frank-moved")).await;
    let users = env.jira_users("acme", "").await;
    let frank = user(&users, "u-frank");
    assert_eq!(
        frank.status.as_ref().unwrap().products,
        ["jira-servicedesk"]
    );
    assert_eq!(
        frank
            .labels()
            .get("jiracloud.io/product.jira-servicedesk")
            .map(String::as_str),
        Some("true")
    );
    assert!(
        !frank
            .labels()
            .contains_key("jiracloud.io/product.jira-software"),
        "{:?}",
        frank.labels()
    );
    let moved = env.resource_versions("acme").await;
    let rewritten: Vec<&String> = moved
        .iter()
        .filter(|(n, rv)| after.get(*n) != Some(rv))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(rewritten, [&frank.name_any()]);

    // Summary mode keeps counts in the status and writes no JiraUser.
    env.patch_spec("acme", serde_json::json!({"inventory": "Summary"}))
        .await;
    env.wait_for("acme", "a Ready sync of the new generation", |c| {
        c.metadata.generation == Some(2) && has(c, "Ready", "True", "Synced")
    })
    .await;
    env.wait_users(
        "acme",
        "no JiraUser in Summary mode",
        <[JiraUser]>::is_empty,
    )
    .await;

    operator.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_end_to_end_and_garbage_collection() {
    let env = testkit::env("conn-oauth").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    let sim = jira_sim::start(jira_sim::SimConfig {
        scenario: handwritten(),
        ..Default::default()
    })
    .await
    .unwrap();
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_secret(
        "jira-oauth",
        &[
            ("clientId", "sim-client-id"),
            ("clientSecret", "sim-client-secret"),
        ],
    )
    .await;
    env.create_connection(
        "acme",
        service_account_spec(&sim.url(), &sim.cloud_id(), "jira-oauth"),
    )
    .await;

    let c = env.wait_ready("acme", None).await;
    let creds = &c
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "CredentialsValid")
        .unwrap()
        .message;
    assert!(creds.contains("gateway"), "{creds}");
    assert_handwritten_status(&c, false);
    let users = env
        .wait_users("acme", "the inventory", |u| u.len() == 6)
        .await;
    assert!(
        users
            .iter()
            .all(|u| u.status.as_ref().unwrap().role.is_none())
    );

    // Deleting the connection deletes its inventory (garbage collector).
    let api: Api<JiraConnection> = Api::namespaced(client.clone(), ns);
    api.delete("acme", &DeleteParams::default()).await.unwrap();
    env.wait_users("acme", "the garbage collector", <[JiraUser]>::is_empty)
        .await;

    operator.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_keeps_the_figures_and_resume_syncs() {
    let env = testkit::env("conn-suspend").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    let sim = jira_sim::start(jira_sim::SimConfig {
        scenario: handwritten(),
        ..Default::default()
    })
    .await
    .unwrap();
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_admin_secret().await;
    env.create_connection("acme", basic_spec(&sim.url(), "jira-basic"))
        .await;
    let synced = env.wait_ready("acme", None).await.status.unwrap();

    env.patch_spec("acme", serde_json::json!({"sync": {"suspend": true}}))
        .await;
    let c = env.wait_not_ready("acme", "Suspended").await;
    assert!(has(&c, "Synced", "False", "Suspended"));
    let st = c.status.unwrap();
    assert_eq!(
        (st.users, st.licenses, st.usage),
        (synced.users, synced.licenses, synced.usage)
    );
    assert_eq!(st.last_sync_time, synced.last_sync_time);
    assert_eq!(
        st.next_sync_time, None,
        "no sync is scheduled while suspended"
    );
    // A request while suspended runs nothing.
    sim.reset_stats();
    env.request_sync("acme", "while-suspended").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sim.stats().total, 0, "no request to Jira while suspended");
    let events = env.events("acme").await;
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Normal" && r == "Suspended"),
        "{events:?}"
    );

    env.patch_spec("acme", serde_json::json!({"sync": {"suspend": false}}))
        .await;
    let resumed = env.wait_ready("acme", Some("while-suspended")).await;
    assert!(resumed.status.unwrap().last_sync_time > synced.last_sync_time);

    operator.stop().await;
    sim.shutdown().await;
}

/// Writes `user` the way versions with a JiraUser status subresource did: the object in one apply, its status
/// in another, both by the operator's field manager.
async fn write_legacy(api: &Api<JiraUser>, user: &JiraUser) {
    let params = PatchParams::apply("jira-cloud-operator").force();
    let mut object = JiraUser::new(&user.name_any(), user.spec.clone());
    object.metadata.labels = user.metadata.labels.clone();
    object.metadata.owner_references = user.metadata.owner_references.clone();
    api.patch(&user.name_any(), &params, &Patch::Apply(&object))
        .await
        .expect("apply the object");
    let status = serde_json::json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraUser",
        "status": user.status,
    });
    api.patch_status(&user.name_any(), &params, &Patch::Apply(&status))
        .await
        .expect("apply the status");
}

/// Installs `crds` and waits until the JiraUser status subresource is served or gone, as `subresource` says.
async fn install_jira_user_crd(
    plane: &testkit::plane::ControlPlane,
    client: &kube::Client,
    crds: &[CustomResourceDefinition],
    subresource: bool,
) {
    plane.install_crds(crds).await.expect("the CRDs");
    eventually(
        "the JiraUser status subresource to follow the CRD",
        Duration::from_secs(30),
        || async {
            let resources = client
                .list_api_group_resources("jiracloud.io/v1alpha1")
                .await
                .expect("discovery");
            let served = resources
                .resources
                .iter()
                .any(|r| r.name == "jirausers/status");
            (served == subresource).then_some(())
        },
    )
    .await;
}

/// An upgrade from the version whose JiraUser CRD had a status subresource: the JiraUsers it wrote (object and
/// status in two applies) keep working. The first sync after the upgrade migrates each once (one write), and a
/// status field the site no longer gives a user is removed, which a plain apply of the whole object cannot do
/// while the subresource's managed-fields entry still owns it. The sync after that writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_users_written_with_the_status_subresource_keep_working_after_an_upgrade() {
    // A dedicated control plane: the test changes the JiraUser CRD.
    let plane = testkit::plane::ControlPlane::start(testkit::plane::Options {
        controller_manager: false,
        ..Default::default()
    })
    .await
    .expect("a dedicated control plane");
    let client = plane.client().await.expect("a client");
    let current = jira_cloud_operator::api::crds();
    let earlier: Vec<CustomResourceDefinition> = current
        .iter()
        .map(|crd| match crd.spec.names.kind.as_str() {
            "JiraUser" => JiraUser::crd(),
            _ => crd.clone(),
        })
        .collect();
    install_jira_user_crd(&plane, &client, &current, false).await;
    let namespace: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "upgrade"}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .expect("create the namespace");
    let sim = jira_sim::start(jira_sim::SimConfig {
        scenario: handwritten(),
        ..Default::default()
    })
    .await
    .unwrap();
    let h = Harness {
        client: client.clone(),
        namespace: "upgrade".into(),
        sim: std::sync::Arc::new(sim),
    };
    let upgrade = TestEnv {
        client: client.clone(),
        namespace: "upgrade".into(),
    };
    let api: Api<JiraUser> = Api::namespaced(client.clone(), "upgrade");

    // The reference: what a sync writes.
    let operator = h.start(settings::connections(&h.sim.url(), &["upgrade"]));
    h.basic_connection("acme").await;
    h.request_sync("acme", "first").await;
    h.synced_after("acme", "first").await;
    operator.stop().await;
    let reference = upgrade.jira_users("acme", "").await;
    assert_eq!(reference.len(), 6);

    // The same JiraUsers as the earlier version wrote them, one of them with admin roles the site no longer
    // gives its user.
    let plain = reference
        .iter()
        .find(|u| u.status.as_ref().unwrap().roles.is_empty())
        .expect("a user without admin roles")
        .name_any();
    api.delete_collection(&DeleteParams::default(), &Default::default())
        .await
        .unwrap();
    install_jira_user_crd(&plane, &client, &earlier, true).await;
    for user in &reference {
        let mut user = user.clone();
        if user.name_any() == plain {
            let status = user.status.as_mut().unwrap();
            status.role = Some("site-admin".into());
            status.roles = vec!["site-admin".into()];
        }
        write_legacy(&api, &user).await;
    }
    let legacy = |u: &JiraUser| {
        u.managed_fields()
            .iter()
            .any(|e| e.subresource.as_deref() == Some("status"))
    };
    assert!(upgrade.jira_users("acme", "").await.iter().all(legacy));

    // The upgrade: the current CRD and operator.
    install_jira_user_crd(&plane, &client, &current, false).await;
    let operator = h.start(settings::connections(&h.sim.url(), &["upgrade"]));
    let before = apiserver_writes(&client).await;
    h.request_sync("acme", "upgraded").await;
    h.synced_after("acme", "upgraded").await;
    let after = apiserver_writes(&client).await;
    let writes = |b: &BTreeMap<String, u64>| b.get("jirausers").copied().unwrap_or(0);
    assert_eq!(
        writes(&after) - writes(&before),
        7,
        "one migration per JiraUser and one update of the user whose roles went away"
    );
    let upgraded = upgrade.jira_users("acme", "").await;
    assert!(!upgraded.iter().any(legacy), "every JiraUser is migrated");
    let statuses = |users: &[JiraUser]| -> BTreeMap<String, JiraUserStatus> {
        users
            .iter()
            .map(|u| (u.name_any(), u.status.clone().unwrap()))
            .collect()
    };
    assert_eq!(statuses(&upgraded), statuses(&reference));
    let roles = serde_json::to_value(&statuses(&upgraded)[&plain]).unwrap();
    assert!(roles.get("roles").is_none(), "the roles went away: {roles}");

    // Nothing left to migrate: the next sync writes nothing.
    h.request_sync("acme", "again").await;
    h.synced_after("acme", "again").await;
    assert_eq!(writes(&apiserver_writes(&client).await), writes(&after));
    operator.stop().await;
}
