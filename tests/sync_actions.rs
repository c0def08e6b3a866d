//! The client side of one-shot actions against the simulator: each building block is idempotent and
//! permanent failures carry a reason naming the cause.

use jira_cloud_operator::error::Classify;
use jira_cloud_operator::jira::{CreateIssue, JiraClient, Outcome, UserRef};
use testkit::sim::*;

#[tokio::test]
async fn issues_are_created_found_by_label_and_deleted_once() {
    let sim = start(handwritten()).await;
    let client = JiraClient::connect(classic_admin(&sim)).await.unwrap();
    let created = client
        .create_issue(&CreateIssue {
            project: "eng".into(),
            issue_type: "task".into(),
            summary: "Reclaim license".into(),
            description: Some("First line\nsecond line\n\nNext paragraph".into()),
            labels: vec!["saas".into(), "op-1a2b3c".into()],
        })
        .await
        .unwrap();
    assert!(created.key.starts_with("ENG-"), "{created:?}");
    assert!(created.url.ends_with(&format!("/browse/{}", created.key)));
    let found = client.find_issues_by_label("op-1a2b3c").await.unwrap();
    assert_eq!(found, vec![created.clone()]);
    assert!(
        client
            .find_issues_by_label("op-none")
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        client.delete_issue(&created.key, false).await.unwrap(),
        Outcome::Changed
    );
    assert_eq!(
        client.delete_issue(&created.key, false).await.unwrap(),
        Outcome::NotFound
    );

    let missing = CreateIssue {
        project: "NOPE".into(),
        issue_type: "Task".into(),
        summary: "x".into(),
        ..CreateIssue::default()
    };
    let err = client.create_issue(&missing).await.unwrap_err();
    assert_eq!(err.reason(), "ProjectNotFound", "{err}");
    let bad_type = CreateIssue {
        project: "ENG".into(),
        issue_type: "Unicorn".into(),
        summary: "x".into(),
        ..CreateIssue::default()
    };
    let err = client.create_issue(&bad_type).await.unwrap_err();
    assert_eq!(err.reason(), "IssueTypeNotFound", "{err}");
    assert!(err.to_string().contains("Task"), "lists the types: {err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn group_membership_changes_are_idempotent() {
    let sim = start(handwritten()).await;
    let client = JiraClient::connect(classic_admin(&sim)).await.unwrap();
    let bob = client
        .resolve_user(&UserRef::Email("BOB@example.com".into()))
        .await
        .unwrap();
    assert_eq!(bob, "u-bob");
    assert_eq!(
        client
            .resolve_user(&UserRef::AccountId("u-bob".into()))
            .await
            .unwrap(),
        "u-bob"
    );
    let err = client
        .resolve_user(&UserRef::Email("nobody@example.com".into()))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "UserNotFound");
    let err = client
        .resolve_user(&UserRef::AccountId("u-nobody".into()))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "UserNotFound");

    let group = "jira-software-users";
    assert_eq!(
        client.add_user_to_group(&bob, group).await.unwrap(),
        Outcome::Changed
    );
    assert_eq!(
        client.add_user_to_group(&bob, group).await.unwrap(),
        Outcome::AlreadyDone
    );
    assert_eq!(
        client.remove_user_from_group(&bob, group).await.unwrap(),
        Outcome::Changed
    );
    assert_eq!(
        client.remove_user_from_group(&bob, group).await.unwrap(),
        Outcome::AlreadyDone
    );
    let err = client
        .add_user_to_group(&bob, "no-such-group")
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "GroupNotFound", "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn users_are_deleted_unless_jira_refuses() {
    let sim = start(handwritten()).await;
    let client = JiraClient::connect(classic_admin(&sim)).await.unwrap();
    let err = client.delete_user("u-alice").await.unwrap_err();
    assert_eq!(err.reason(), "UserIsReporter", "{err}");
    assert!(
        err.to_string().contains("reported"),
        "Jira's message is kept: {err}"
    );
    assert!(!err.is_transient());
    let err = client.delete_user("u-admin").await.unwrap_err();
    assert_eq!(err.reason(), "InvalidRequest", "{err}");
    assert_eq!(
        client.delete_user("u-frank").await.unwrap(),
        Outcome::Changed
    );
    assert_eq!(
        client.delete_user("u-frank").await.unwrap(),
        Outcome::NotFound
    );

    let viewer = JiraClient::connect(basic(&sim, "viewer@example.com", "classic-viewer-token"))
        .await
        .unwrap();
    let err = viewer.delete_user("u-bob").await.unwrap_err();
    assert_eq!(err.reason(), "InsufficientPermissions", "{err}");
    sim.shutdown().await;
}
