//! The chart's RBAC is enough, and no more: the operator binary runs on the test control plane as the chart's
//! ServiceAccount (a client certificate for `system:serviceaccount:<ns>:<name>`, which RBAC treats exactly as
//! the ServiceAccount) with only the Roles the chart renders, and a JiraConnection gets Ready (a full sync,
//! with its JiraUser inventory) and a JiraAction succeeds, in both scopes. In namespace-scoped mode the same
//! identity cannot read Secrets, or anything else of the operator's, outside the watched namespaces, and in no
//! mode may it change CRDs. The default (cluster-wide) install may not list or watch Secrets anywhere. Without
//! any RBAC the operator refuses to start and names what it lacks. The tenants' aggregated roles: a namespace
//! viewer reads connections, actions and JiraUsers and writes nothing; with `rbac.aggregateToEdit` a namespace
//! editor creates actions in its own namespace only.

use jira_cloud_operator::{
    api::{JiraAction, JiraConnection, JiraUser},
    controller::action::lifecycle::marker_of,
};
use k8s_openapi::{
    api::{core::v1::Secret, events::v1::Event, rbac::v1::RoleBinding},
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use serde_json::json;
use std::path::PathBuf;
use testkit::{
    OperatorProcess,
    objects::{create_acme_connection, create_issue_action},
    observed::{action_succeeded, connection_ready},
    tools::{apply, helm_template},
    wait::{DEADLINE, wait_for_object},
};

/// The ServiceAccount identity of a release installed in `namespace`, with the chart's RBAC applied.
struct Install {
    namespace: String,
    release: String,
    kubeconfig: PathBuf,
}

impl Install {
    /// Renders the chart's ServiceAccount and RBAC with `args`, applies them as admin, and writes a kubeconfig
    /// for the ServiceAccount.
    async fn new(release: &str, args: &[&str]) -> Install {
        let plane = testkit::plane::shared();
        let namespace = plane.namespace("rbac-operator").await;
        let mut all = vec![
            "--set",
            "crds.install=false",
            "--show-only",
            "templates/serviceaccount.yaml",
            "--show-only",
            "templates/rbac.yaml",
        ];
        all.extend_from_slice(args);
        let manifests = helm_template(release, &namespace, &all);
        apply(&manifests, false);
        let account = format!("{release}-jira-cloud-operator");
        let kubeconfig = plane
            .kubeconfig_for(
                &format!("system:serviceaccount:{namespace}:{account}"),
                &[
                    "system:serviceaccounts",
                    &format!("system:serviceaccounts:{namespace}"),
                ],
            )
            .expect("a ServiceAccount kubeconfig");
        Install {
            namespace,
            release: release.into(),
            kubeconfig,
        }
    }

    async fn client(&self) -> Client {
        testkit::plane::client_from_kubeconfig(&self.kubeconfig)
            .await
            .expect("a ServiceAccount client")
    }
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, kube::Error>, what: &str) {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

/// Runs the operator binary as `install`'s identity on `namespace` and checks a full sync and an action.
async fn sync_and_act(install: &Install, admin: &Client, namespace: &str, extra_args: &[&str]) {
    let sim = jira_sim::start(jira_sim::SimConfig::default())
        .await
        .expect("the simulator starts");
    create_acme_connection(admin, namespace, &sim.url()).await;
    let action = create_issue_action(admin, namespace, "reclaim").await;

    let mut operator = OperatorProcess::spawn(
        &install.release,
        &install.kubeconfig,
        &sim.url(),
        extra_args,
    );
    operator.wait_ready().await;

    let connections: Api<JiraConnection> = Api::namespaced(admin.clone(), namespace);
    let connection = wait_for_object(&connections, "acme", "Ready", connection_ready).await;
    let users = connection
        .status
        .as_ref()
        .and_then(|s| s.users.clone())
        .expect("user counts");
    assert!(users.synced > 0, "{users:?}");
    let inventory: Api<JiraUser> = Api::namespaced(admin.clone(), namespace);
    let written = inventory
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(
        written,
        usize::try_from(users.synced).unwrap(),
        "one JiraUser per synced user"
    );

    let actions: Api<JiraAction> = Api::namespaced(admin.clone(), namespace);
    let done = wait_for_object(&actions, "reclaim", "Succeeded", action_succeeded).await;
    let issues = sim.with_state(|st| st.issues_with_label(&marker_of(&action)));
    assert_eq!(
        issues.len(),
        1,
        "the action created exactly one issue: {issues:?}"
    );
    assert_eq!(
        done.status.unwrap().result.unwrap().issue_key.as_deref(),
        Some(issues[0].as_str())
    );

    // Events were published with the identity's events.k8s.io permission.
    let events: Api<Event> = Api::namespaced(admin.clone(), namespace);
    let reported: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reporting_controller.as_deref() == Some("jira-cloud-operator"))
        .filter_map(|e| e.reason)
        .collect();
    assert!(!reported.is_empty(), "the operator published no Event");

    // Graceful shutdown on SIGTERM: exit code 0.
    operator.signal("TERM");
    let status = operator.wait_exit().await;
    let log = operator.log();
    assert!(
        status.success(),
        "the operator exited with {status} after SIGTERM:\n{log}"
    );
    let lower = log.to_lowercase();
    assert!(
        !lower.contains("forbidden"),
        "the operator was refused something:\n{log}"
    );
    if extra_args.contains(&"--log-format") {
        // JSON logs: one object per line, the reconciled resource's namespace and name as top-level keys.
        let lines: Vec<serde_json::Value> = log
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect();
        assert!(
            lines.iter().any(|l| l["namespace"] == namespace
                && l["name"] == "acme"
                && l["level"] == "INFO"),
            "no log line names the connection:\n{log}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_charts_rbac_is_enough_and_no_more() {
    // Cluster-wide: the ClusterRole.
    let env = testkit::env("rbac-cluster").await;
    let admin = env.client.clone();
    let cluster = Install::new("rbac-cluster", &[]).await;
    sync_and_act(&cluster, &admin, &env.namespace, &["--log-format", "json"]).await;
    let as_operator = cluster.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(as_operator.clone());
    let patch = json!({"metadata": {"labels": {"changed": "yes"}}});
    forbidden(
        crds.patch(
            "jiraconnections.jiracloud.io",
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await,
        "patch a CRD",
    );
    // The default install reads a connection's Secrets one by one: it may neither list nor watch Secrets.
    Api::<Secret>::namespaced(as_operator.clone(), &env.namespace)
        .get("jira-basic")
        .await
        .expect("reads a connection's Secret");
    for namespace in [None, Some(env.namespace.as_str())] {
        let secrets: Api<Secret> = match namespace {
            Some(ns) => Api::namespaced(as_operator.clone(), ns),
            None => Api::all(as_operator.clone()),
        };
        forbidden(
            secrets.list(&ListParams::default()).await,
            "list Secrets in a cluster-wide install",
        );
        forbidden(
            secrets
                .watch(&kube::api::WatchParams::default(), "0")
                .await
                .map(|_| ()),
            "watch Secrets in a cluster-wide install",
        );
    }

    // Namespace-scoped, with leader election: a Role and RoleBinding in the watched namespace, and the Lease
    // Role in the release namespace.
    let watched = testkit::env("rbac-watched").await.namespace;
    let elsewhere = testkit::plane::shared().namespace("rbac-elsewhere").await;
    let scoped = Install::new(
        "rbac-scoped",
        &[
            "--set",
            &format!("watchNamespaces={{{watched}}}"),
            "--set",
            "leaderElection.enabled=true",
        ],
    )
    .await;
    let lease = format!("{}-jira-cloud-operator", scoped.release);
    sync_and_act(
        &scoped,
        &admin,
        &watched,
        &[
            "--watch-namespaces",
            &watched,
            "--leader-elect",
            "--leader-election-namespace",
            &scoped.namespace,
            "--leader-election-id",
            &lease,
        ],
    )
    .await;

    let as_operator = scoped.client().await;
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "not-for-the-operator"},
        "stringData": {"apiToken": "another-team-token"},
    }))
    .unwrap();
    Api::<Secret>::namespaced(admin.clone(), &elsewhere)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    Api::<Secret>::namespaced(as_operator.clone(), &watched)
        .get("jira-basic")
        .await
        .expect("reads its own Secrets");
    forbidden(
        Api::<Secret>::namespaced(as_operator.clone(), &elsewhere)
            .get("not-for-the-operator")
            .await,
        "get a Secret outside the watched namespaces",
    );
    forbidden(
        Api::<Secret>::namespaced(as_operator.clone(), &elsewhere)
            .list(&ListParams::default())
            .await,
        "list Secrets outside the watched namespaces",
    );
    forbidden(
        Api::<Secret>::all(as_operator.clone())
            .list(&ListParams::default())
            .await,
        "list Secrets cluster-wide",
    );
    forbidden(
        Api::<JiraConnection>::namespaced(as_operator.clone(), &elsewhere)
            .list(&ListParams::default())
            .await,
        "list JiraConnections outside the watched namespaces",
    );
    forbidden(
        Api::<CustomResourceDefinition>::all(as_operator)
            .list(&ListParams::default())
            .await,
        "list CRDs",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rbac_the_operator_exits_with_an_actionable_message() {
    let env = testkit::env("rbac-none").await;
    let kubeconfig = testkit::plane::shared()
        .kubeconfig_for(
            &format!("system:serviceaccount:{}:nobody", env.namespace),
            &[
                "system:serviceaccounts",
                &format!("system:serviceaccounts:{}", env.namespace),
            ],
        )
        .unwrap();
    let sim_url = url::Url::parse("http://127.0.0.1:9/").unwrap();
    let mut operator = OperatorProcess::spawn(
        "nobody",
        &kubeconfig,
        &sim_url,
        &["--watch-namespaces", &env.namespace],
    );
    let status = operator.wait_exit().await;
    assert!(!status.success());
    let log = operator.log();
    assert!(
        log.contains(&format!(
            "not allowed to list jiraconnections.jiracloud.io in namespace {}",
            env.namespace
        )) && log.contains("check the chart's RBAC"),
        "{log}"
    );
}

/// A JiraAction `name` on connection `acme` that creates an issue.
fn issue_action(name: &str) -> JiraAction {
    serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraAction",
        "metadata": {"name": name},
        "spec": {
            "connectionRef": {"name": "acme"},
            "createIssue": {"project": "OPS", "issueType": "Task", "summary": name},
        },
    }))
    .unwrap()
}

/// Binds the built-in ClusterRole `role` to `user` in `namespace`.
async fn bind(admin: &Client, namespace: &str, user: &str, role: &str) {
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": format!("{user}-{role}")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }))
    .unwrap();
    Api::<RoleBinding>::namespaced(admin.clone(), namespace)
        .create(&PostParams::default(), &binding)
        .await
        .expect("create the RoleBinding");
}

/// Polls `attempt` until it succeeds: the clusterrole-aggregation controller copies the chart's rules into the
/// built-in roles shortly after they are applied.
async fn eventually<T, F, Fut>(what: &str, attempt: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(e) => assert!(
                std::time::Instant::now() < deadline,
                "{what} was never allowed: {e}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_viewers_read_and_editors_create_actions_only_with_the_opt_in() {
    let env = testkit::env("tenant").await;
    let (admin, ns) = (env.client.clone(), env.namespace.clone());
    let other = testkit::plane::shared().namespace("tenant-other").await;
    let plane = testkit::plane::shared();
    let user_client = |user: &str| {
        let kubeconfig = plane.kubeconfig_for(user, &[]).expect("a user kubeconfig");
        async move {
            testkit::plane::client_from_kubeconfig(&kubeconfig)
                .await
                .unwrap()
        }
    };
    bind(&admin, &ns, "tenant-viewer", "view").await;
    bind(&admin, &ns, "tenant-editor", "edit").await;
    let viewer = user_client("tenant-viewer").await;
    let editor = user_client("tenant-editor").await;
    create_acme_connection(
        &admin,
        &ns,
        &url::Url::parse("https://acme.atlassian.net").unwrap(),
    )
    .await;
    create_issue_action(&admin, &ns, "by-admin").await;

    // The chart's defaults: reading is aggregated into view (and so edit and admin), acting is not.
    let template = |args: &[&str]| {
        let mut all = vec![
            "--set",
            "crds.install=false",
            "--show-only",
            "templates/tenant-rbac.yaml",
        ];
        all.extend_from_slice(args);
        helm_template("tenant", "jira-operator", &all)
    };
    apply(&template(&[]), false);
    let as_viewer =
        |kind_client: &Client| Api::<JiraConnection>::namespaced(kind_client.clone(), &ns);
    eventually("a namespace viewer listing JiraConnections", || {
        let api = as_viewer(&viewer);
        async move { api.list(&ListParams::default()).await }
    })
    .await;
    as_viewer(&viewer)
        .get("acme")
        .await
        .expect("a viewer reads a connection");
    Api::<JiraAction>::namespaced(viewer.clone(), &ns)
        .get("by-admin")
        .await
        .expect("a viewer reads an action");
    Api::<JiraUser>::namespaced(viewer.clone(), &ns)
        .list(&ListParams::default())
        .await
        .expect("a viewer lists JiraUsers");
    forbidden(
        Api::<JiraAction>::namespaced(viewer.clone(), &ns)
            .create(&PostParams::default(), &issue_action("by-viewer"))
            .await,
        "a viewer creates an action",
    );
    forbidden(
        as_viewer(&viewer).delete("acme", &Default::default()).await,
        "a viewer deletes a connection",
    );
    forbidden(
        Api::<Secret>::namespaced(viewer.clone(), &ns)
            .get("jira-basic")
            .await,
        "a viewer reads the connection's Secret",
    );
    forbidden(
        Api::<JiraConnection>::namespaced(viewer.clone(), &other)
            .list(&ListParams::default())
            .await,
        "a viewer lists connections of another namespace",
    );
    eventually("a namespace editor listing JiraActions", || {
        let api = Api::<JiraAction>::namespaced(editor.clone(), &ns);
        async move { api.list(&ListParams::default()).await }
    })
    .await;
    forbidden(
        Api::<JiraAction>::namespaced(editor.clone(), &ns)
            .create(&PostParams::default(), &issue_action("by-editor-too-early"))
            .await,
        "an editor creates an action without the opt-in",
    );

    // The opt-in: editors create actions, in their own namespace only, and never write JiraUsers.
    apply(&template(&["--set", "rbac.aggregateToEdit=true"]), false);
    let created = eventually("a namespace editor creating a JiraAction", || {
        let api = Api::<JiraAction>::namespaced(editor.clone(), &ns);
        async move {
            api.create(&PostParams::default(), &issue_action("by-editor"))
                .await
        }
    })
    .await;
    assert_eq!(created.spec.connection_ref.name, "acme");
    forbidden(
        Api::<JiraAction>::namespaced(editor.clone(), &other)
            .create(&PostParams::default(), &issue_action("elsewhere"))
            .await,
        "an editor creates an action in another namespace",
    );
    let user: JiraUser = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraUser",
        "metadata": {"name": "forged"},
        "spec": {"connectionRef": {"name": "acme"}, "accountId": "5b10a2844c20165700ede003"},
    }))
    .unwrap();
    forbidden(
        Api::<JiraUser>::namespaced(editor.clone(), &ns)
            .create(&PostParams::default(), &user)
            .await,
        "an editor writes a JiraUser",
    );
    forbidden(
        Api::<JiraAction>::namespaced(viewer, &ns)
            .create(&PostParams::default(), &issue_action("by-viewer-after"))
            .await,
        "a viewer creates an action with the opt-in",
    );
}
