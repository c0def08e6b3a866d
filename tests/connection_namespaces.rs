//! Which connections the controller reconciles: those of the watched namespaces (one watch each), or of all
//! namespaces when none is listed. Its own test binary, so that the all-namespaces controller sees no other
//! test's objects.

use jira_cloud_operator::api::JiraConnection;
use kube::Api;
use std::time::Duration;
use testkit::{InProcess, connection::*, settings, sim::handwritten};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_namespaces_then_all_namespaces() {
    let first = testkit::env("conn-ns-a").await;
    let client = first.client.clone();
    let second = testkit::env("conn-ns-b").await;
    let outside = testkit::env("conn-ns-c").await;
    let sim = jira_sim::start(jira_sim::SimConfig {
        scenario: handwritten(),
        ..Default::default()
    })
    .await
    .unwrap();
    for env in [&first, &second, &outside] {
        env.put_secret(
            "jira-basic",
            &[
                ("email", "admin@example.com"),
                ("apiToken", "classic-admin-token"),
            ],
        )
        .await;
        env.create_connection("acme", basic_spec(&sim.url(), "jira-basic"))
            .await;
    }

    let operator = InProcess::connections(
        client.clone(),
        settings::connections(&sim.url(), &[&first.namespace, &second.namespace]),
    );
    first.wait_ready("acme", None).await;
    second.wait_ready("acme", None).await;
    // Both watched connections are Ready; the other namespace is not watched: nothing was written there.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let api: Api<JiraConnection> = Api::namespaced(client.clone(), &outside.namespace);
    assert!(
        api.get("acme").await.unwrap().status.is_none(),
        "an unwatched namespace is left alone"
    );
    assert!(outside.jira_users("acme", "").await.is_empty());
    operator.stop().await;

    let operator = InProcess::connections(client.clone(), settings::connections(&sim.url(), &[]));
    let c = outside.wait_ready("acme", None).await;
    assert_eq!(c.status.unwrap().users.unwrap().total, 8);
    outside
        .wait_users("acme", "the inventory", |u| u.len() == 6)
        .await;
    operator.stop().await;
    sim.shutdown().await;
}
