//! `kubectl get jira` stays short on a large site: on the real apiserver, with a connection of 1,000 users
//! synced into JiraUsers, the `jira` category lists the connection and the actions and no JiraUser; the
//! JiraUsers have their own category, `jira-inventory`.

use jira_sim::GenerateOptions;
use testkit::{
    InProcess, connection::basic_spec, objects::create_issue_action, settings, tools::kubectl,
};

/// `kubectl get <category> -n <namespace> -o name`, one `kind.group/name` per line.
fn names_in_category(category: &str, namespace: &str) -> Vec<String> {
    let out = kubectl(&["get", category, "-n", namespace, "-o", "name"], "");
    assert!(
        out.status.success(),
        "kubectl get {category}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_jira_lists_connections_and_actions_not_users() {
    let env = testkit::env("categories").await;
    let (client, ns) = (env.client.clone(), env.namespace.as_str());
    let sim = jira_sim::start(jira_sim::SimConfig {
        scenario: jira_sim::generate(&GenerateOptions {
            users: 1000,
            ..GenerateOptions::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[ns]));
    env.put_admin_secret().await;
    env.create_connection("acme", basic_spec(&sim.url(), "jira-basic"))
        .await;
    let synced = env
        .wait_ready("acme", None)
        .await
        .status
        .and_then(|s| s.users)
        .expect("user counts")
        .synced as usize;
    assert!(synced > 500, "a large inventory: {synced} synced users");
    let users = env
        .wait_users("acme", "the inventory", |u| u.len() == synced)
        .await;
    operator.stop().await;
    create_issue_action(&client, ns, "open-ticket").await;

    let mut jira = names_in_category("jira", ns);
    jira.sort();
    assert_eq!(
        jira,
        [
            "jiraaction.jiracloud.io/open-ticket",
            "jiraconnection.jiracloud.io/acme"
        ],
        "kubectl get jira lists the connection and the action only"
    );
    let inventory = names_in_category("jira-inventory", ns);
    assert_eq!(inventory.len(), users.len());
    assert!(
        inventory
            .iter()
            .all(|n| n.starts_with("jirauser.jiracloud.io/")),
        "{inventory:?}"
    );
}
