//! Every failure of the contract gives `Ready=False` with a specific reason, an actionable message and a
//! Warning Event, then recovers once the cause is fixed: a Secret created or rotated is picked up without a
//! restart, a failed sync keeps the figures of the last good one, and no message carries a credential.

use jira_cloud_operator::api::JiraConnection;
use jira_sim::{Faults, ServerErrorFault, SimHandle, scenario::EmailVisibility};
use std::time::Duration;
use testkit::{
    InProcess, TestEnv,
    connection::*,
    observed::{condition_message, has},
    settings,
    sim::handwritten,
};

const ADMIN: &str = "admin@example.com";

struct Case {
    env: TestEnv,
    sim: SimHandle,
    operator: InProcess,
}

impl Case {
    async fn start(prefix: &str) -> Case {
        let env = testkit::env(prefix).await;
        let sim = jira_sim::start(jira_sim::SimConfig {
            scenario: handwritten(),
            ..Default::default()
        })
        .await
        .unwrap();
        let operator = InProcess::connections(
            env.client.clone(),
            settings::connections(&sim.url(), &[&env.namespace]),
        );
        Case { env, sim, operator }
    }

    async fn connect_basic(&self) {
        self.env
            .create_connection("acme", basic_spec(&self.sim.url(), "jira-basic"))
            .await;
    }

    async fn secret(&self, data: &[(&str, &str)]) {
        self.env.put_secret("jira-basic", data).await;
    }

    /// Waits for the failure and checks its three faces: condition, message, Warning Event.
    async fn fails_with(&self, reason: &str, message_says: &str) -> JiraConnection {
        let c = self.env.wait_not_ready("acme", reason).await;
        let ready = condition_message(&c, "Ready").expect("a Ready condition");
        assert!(
            ready.contains(message_says),
            "Ready message {ready:?} should say {message_says:?}"
        );
        let note = self.env.wait_warning("acme", reason).await;
        assert!(
            note.contains(message_says),
            "Event note {note:?} should say {message_says:?}"
        );
        c
    }

    /// Waits for Ready again, sooner than the backoff of a failure that needs a change (at least 48 s) would
    /// retry on its own: the recovery was triggered by the fix itself.
    async fn recovers(&self) -> JiraConnection {
        tokio::time::timeout(Duration::from_secs(40), self.env.wait_ready("acme", None))
            .await
            .expect("the fix is picked up without waiting for the backoff")
    }

    async fn stop(self) {
        self.operator.stop().await;
        self.sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_then_created() {
    let case = Case::start("conn-nosecret").await;
    case.connect_basic().await;
    let c = case
        .fails_with(
            "SecretNotFound",
            "create it in the JiraConnection's namespace",
        )
        .await;
    assert!(has(&c, "CredentialsValid", "False", "SecretNotFound"));
    assert!(has(&c, "Synced", "False", "SecretNotFound"));
    assert!(c.status.as_ref().unwrap().users.is_none());
    let metrics = case.operator.ctx.metrics.encode();
    let errors = "jira_operator_reconcile_errors_total{controller=\"jiraconnection\",reason=\"SecretNotFound\"}";
    assert!(metrics.contains(errors), "{metrics}");

    case.secret(&[("email", ADMIN), ("apiToken", "classic-admin-token")])
        .await;
    let c = case.recovers().await;
    assert_eq!(c.status.unwrap().users.unwrap().total, 8);
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_then_added() {
    let case = Case::start("conn-nokey").await;
    case.secret(&[("email", ADMIN)]).await;
    case.connect_basic().await;
    let c = case
        .fails_with("SecretKeyMissing", "has no key \"apiToken\"")
        .await;
    assert!(has(&c, "CredentialsValid", "False", "SecretKeyMissing"));

    case.secret(&[("email", ADMIN), ("apiToken", "classic-admin-token")])
        .await;
    case.recovers().await;
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_token_then_rotated_to_a_scoped_one() {
    let case = Case::start("conn-badtoken").await;
    let wrong = "wrong-token-7f3a9c";
    case.secret(&[("email", ADMIN), ("apiToken", wrong)]).await;
    case.connect_basic().await;
    let c = case
        .fails_with("InvalidCredentials", "check the email and API token")
        .await;
    assert!(has(&c, "CredentialsValid", "False", "InvalidCredentials"));
    let everything = format!(
        "{}{:?}",
        serde_json::to_string(&c.status).unwrap(),
        case.env.events("acme").await
    );
    assert!(
        !everything.contains(wrong),
        "a credential leaked into the status or an Event"
    );

    // A rotated Secret is picked up without a restart; a scoped token is routed through the gateway.
    case.secret(&[("email", ADMIN), ("apiToken", "scoped-admin-token")])
        .await;
    let c = case.recovers().await;
    let creds = c
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "CredentialsValid")
        .unwrap();
    assert!(creds.message.contains("gateway"), "{}", creds.message);
    assert_eq!(c.status.unwrap().users.unwrap().synced, 6);
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permission_then_admin_token() {
    let case = Case::start("conn-perm").await;
    case.secret(&[
        ("email", "viewer@example.com"),
        ("apiToken", "classic-viewer-token"),
    ])
    .await;
    case.connect_basic().await;
    let c = case
        .fails_with("InsufficientPermissions", "permission")
        .await;
    // The credentials themselves are fine: the account lacks a permission.
    assert!(has(&c, "CredentialsValid", "True", "Authenticated"));
    assert!(has(&c, "Synced", "False", "InsufficientPermissions"));

    case.secret(&[("email", ADMIN), ("apiToken", "classic-admin-token")])
        .await;
    case.recovers().await;
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_deployment_then_cloud() {
    let case = Case::start("conn-server").await;
    case.sim.set_faults(Faults {
        deployment_type: Some("Server".into()),
        ..Faults::default()
    });
    case.secret(&[("email", ADMIN), ("apiToken", "classic-admin-token")])
        .await;
    case.connect_basic().await;
    case.fails_with("UnsupportedDeployment", "only Jira Cloud is supported")
        .await;

    case.sim.set_faults(Faults::default());
    case.env.request_sync("acme", "after-migration").await;
    case.recovers().await;
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_emails_hidden_then_visible() {
    let case = Case::start("conn-hidden").await;
    let visibility: Vec<EmailVisibility> = case.sim.with_state(|s| {
        let before = s.users.iter().map(|u| u.email_visibility).collect();
        for u in &mut s.users {
            u.email_visibility = EmailVisibility::Hidden;
        }
        before
    });
    case.secret(&[("email", ADMIN), ("apiToken", "classic-admin-token")])
        .await;
    case.connect_basic().await;
    let c = case
        .fails_with("AllEmailsHidden", "make emails visible")
        .await;
    assert!(has(&c, "CredentialsValid", "True", "Authenticated"));
    assert!(case.env.jira_users("acme", "").await.is_empty());

    case.sim.with_state(|s| {
        for (u, v) in s.users.iter_mut().zip(visibility) {
            u.email_visibility = v;
        }
    });
    case.env.request_sync("acme", "emails-visible").await;
    case.recovers().await;
    case.env
        .wait_users("acme", "the inventory", |u| u.len() == 6)
        .await;
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_unavailable_keeps_the_last_figures_and_retries() {
    let case = Case::start("conn-down").await;
    case.secret(&[("email", ADMIN), ("apiToken", "classic-admin-token")])
        .await;
    case.connect_basic().await;
    let good = case.env.wait_ready("acme", None).await;
    let good = good.status.unwrap();

    case.sim.set_faults(Faults {
        server_error: Some(ServerErrorFault {
            ratio: Some(1.0),
            ..ServerErrorFault::default()
        }),
        ..Faults::default()
    });
    case.env.request_sync("acme", "during-outage").await;
    let c = case
        .fails_with("JiraUnavailable", "Jira is unavailable")
        .await;
    assert!(has(&c, "Synced", "False", "JiraUnavailable"));
    assert!(has(&c, "CredentialsValid", "True", "Authenticated"));
    assert!(
        condition_message(&c, "Ready")
            .expect("a Ready condition")
            .contains("figures are those of the last successful sync")
    );
    let st = c.status.unwrap();
    assert_eq!(st.users, good.users);
    assert_eq!(st.licenses, good.licenses);
    assert_eq!(st.usage, good.usage);
    assert_eq!(st.last_sync_time, good.last_sync_time);
    assert_eq!(st.last_sync_stats, good.last_sync_stats);
    assert_eq!(case.env.jira_users("acme", "").await.len(), 6);

    // Transient failures retry on their own (backoff), with no change by the user.
    case.sim.set_faults(Faults::default());
    let c = case.env.wait_ready("acme", Some("during-outage")).await;
    assert!(c.status.unwrap().last_sync_time > good.last_sync_time);
    case.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_cannot_label_its_users_is_rejected() {
    let env = testkit::env("conn-longname").await;
    let site = url::Url::parse("https://acme.atlassian.net").unwrap();
    let api: kube::Api<JiraConnection> = kube::Api::namespaced(env.client.clone(), &env.namespace);
    let long = "a".repeat(64);
    let err = api
        .create(
            &Default::default(),
            &JiraConnection::new(&long, basic_spec(&site, "s")),
        )
        .await
        .expect_err("a 64-character name is rejected");
    assert!(err.to_string().contains("at most 63 characters"), "{err}");
    let ok = "a".repeat(63);
    api.create(
        &Default::default(),
        &JiraConnection::new(&ok, basic_spec(&site, "s")),
    )
    .await
    .expect("63 characters fit in a label value");
}
