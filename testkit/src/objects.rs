//! The objects the process tests give the operator: a Secret and a JiraConnection `acme` to the simulator, and
//! createIssue JiraActions on it.

use jira_cloud_operator::api::{JiraAction, JiraConnection};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client, api::PostParams};
use serde_json::json;

/// Creates the Secret `jira-basic` with the simulator's admin credentials and a JiraConnection `acme` to the
/// simulator in `namespace`.
pub async fn create_acme_connection(client: &Client, namespace: &str, sim_url: &url::Url) {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "jira-basic"},
        "stringData": {"email": "admin@example.com", "apiToken": "classic-admin-token"},
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("create the Secret");
    let connection: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraConnection",
        "metadata": {"name": "acme"},
        "spec": {
            "siteUrl": sim_url.as_str().trim_end_matches('/'),
            "auth": {"basic": {"secretRef": {"name": "jira-basic"}}},
        },
    }))
    .unwrap();
    let connections: Api<JiraConnection> = Api::namespaced(client.clone(), namespace);
    connections
        .create(&PostParams::default(), &connection)
        .await
        .expect("create the JiraConnection");
}

/// Creates a JiraAction `name` on connection `acme` that creates an issue in project OPS.
pub async fn create_issue_action(client: &Client, namespace: &str, name: &str) -> JiraAction {
    let action: JiraAction = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1",
        "kind": "JiraAction",
        "metadata": {"name": name},
        "spec": {
            "connectionRef": {"name": "acme"},
            "createIssue": {"project": "OPS", "issueType": "Task", "summary": format!("Created by {name}")},
        },
    }))
    .unwrap();
    let actions: Api<JiraAction> = Api::namespaced(client.clone(), namespace);
    actions
        .create(&PostParams::default(), &action)
        .await
        .expect("create the JiraAction")
}
