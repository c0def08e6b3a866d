//! Bad Secrets: wrong keys, empty and whitespace-only values, non-UTF-8 bytes, control characters (a header
//! injection attempt), a 1 MB value, Secrets of another `type` (TLS, basic-auth), a double base64-encoded token,
//! and the same faults in the OAuth and Admin API Secrets. Each connection gets `Ready=False` with the documented
//! reason and a message naming the key but never the value, plus a Warning Event; the operator keeps reconciling
//! the healthy connection beside them (no crash, no crash loop), and each recovers once its Secret is fixed.

use base64::Engine;
use jira_cloud_operator::api::{JiraConnection, JiraConnectionSpec};
use k8s_openapi::{
    ByteString, api::core::v1::Secret, apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kube::{Api, Client, api::PostParams};
use std::{collections::BTreeMap, time::Duration};
use testkit::{InProcess, connection::*, settings};

const ADMIN: &str = "admin@example.com";
const TOKEN: &str = "classic-admin-token";

/// The auth of a case.
enum Auth {
    Basic,
    ServiceAccount,
    BasicWithOrganization,
}

struct BadSecret {
    name: &'static str,
    auth: Auth,
    type_: &'static str,
    data: Vec<(&'static str, Vec<u8>)>,
    reason: &'static str,
    /// The key the message must name (quoted), or another phrase it must hold.
    says: &'static str,
    /// A part of the bad value that must appear in no message or Event.
    secret_part: Option<&'static str>,
}

fn cases() -> Vec<BadSecret> {
    let b = |s: &str| s.as_bytes().to_vec();
    vec![
        BadSecret {
            name: "wrong-keys",
            auth: Auth::Basic,
            type_: "Opaque",
            data: vec![("user", b(ADMIN)), ("token", b("CANARY-wrong-keys-token"))],
            reason: "SecretKeyMissing",
            says: "\"email\"",
            secret_part: Some("CANARY-wrong-keys"),
        },
        BadSecret {
            name: "empty-token",
            auth: Auth::Basic,
            type_: "Opaque",
            data: vec![("email", b(ADMIN)), ("apiToken", Vec::new())],
            reason: "SecretValueInvalid",
            says: "\"apiToken\"",
            secret_part: None,
        },
        BadSecret {
            name: "blank-token",
            auth: Auth::Basic,
            type_: "Opaque",
            data: vec![("email", b(ADMIN)), ("apiToken", b(" \t\r\n  "))],
            reason: "SecretValueInvalid",
            says: "is empty",
            secret_part: None,
        },
        BadSecret {
            name: "non-utf8",
            auth: Auth::Basic,
            type_: "Opaque",
            data: vec![
                ("email", b(ADMIN)),
                ("apiToken", vec![0xff, 0xfe, 0x00, 0x80, 0xc3]),
            ],
            reason: "SecretValueInvalid",
            says: "is not UTF-8 text",
            secret_part: None,
        },
        BadSecret {
            name: "huge-token",
            auth: Auth::Basic,
            type_: "Opaque",
            data: vec![
                ("email", b(ADMIN)),
                ("apiToken", b(&"CANARY-huge-".repeat(80_000))),
            ],
            reason: "SecretValueInvalid",
            says: "is longer than 4096 bytes",
            secret_part: Some("CANARY-huge"),
        },
        BadSecret {
            name: "header-injection",
            auth: Auth::Basic,
            type_: "Opaque",
            data: vec![
                ("email", b("admin@example.com\r\nX-CANARY-Injected: 1")),
                ("apiToken", b(TOKEN)),
            ],
            reason: "SecretValueInvalid",
            says: "contains control characters",
            secret_part: Some("CANARY-Injected"),
        },
        BadSecret {
            name: "tls-type",
            auth: Auth::Basic,
            type_: "kubernetes.io/tls",
            data: vec![
                ("tls.crt", b("-----BEGIN CERTIFICATE-----\nCANARY-tls\n")),
                (
                    "tls.key",
                    b("-----BEGIN PRIVATE KEY-----\nCANARY-tls-key\n"),
                ),
            ],
            reason: "SecretKeyMissing",
            says: "\"email\"",
            secret_part: Some("CANARY-tls"),
        },
        BadSecret {
            name: "basic-auth-type",
            auth: Auth::Basic,
            type_: "kubernetes.io/basic-auth",
            data: vec![
                ("username", b(ADMIN)),
                ("password", b("CANARY-basic-auth-password")),
            ],
            reason: "SecretKeyMissing",
            says: "\"email\"",
            secret_part: Some("CANARY-basic-auth"),
        },
        BadSecret {
            name: "double-encoded",
            auth: Auth::Basic,
            type_: "Opaque",
            data: vec![
                ("email", b(ADMIN)),
                (
                    "apiToken",
                    b(&base64::engine::general_purpose::STANDARD.encode(TOKEN)),
                ),
            ],
            reason: "InvalidCredentials",
            says: "check the email and API token",
            secret_part: Some("Y2xhc3NpYy1hZG1pbi10b2tlbg"),
        },
        BadSecret {
            name: "oauth-empty-secret",
            auth: Auth::ServiceAccount,
            type_: "Opaque",
            data: vec![("clientId", b("sim-client-id")), ("clientSecret", b("\n"))],
            reason: "SecretValueInvalid",
            says: "\"clientSecret\"",
            secret_part: None,
        },
        BadSecret {
            name: "org-wrong-key",
            auth: Auth::BasicWithOrganization,
            type_: "Opaque",
            data: vec![("api-key", b("CANARY-org-admin-key"))],
            reason: "SecretKeyMissing",
            says: "\"apiKey\"",
            secret_part: Some("CANARY-org"),
        },
    ]
}

async fn put_raw_secret(
    client: &Client,
    namespace: &str,
    name: &str,
    type_: &str,
    data: &[(&str, Vec<u8>)],
) {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), ByteString(v.clone())))
                .collect::<BTreeMap<_, _>>(),
        ),
        type_: Some(type_.into()),
        ..Secret::default()
    };
    api.create(&PostParams::default(), &secret)
        .await
        .unwrap_or_else(|e| panic!("create Secret {name}: {e}"));
}

fn spec(case: &BadSecret, sim: &jira_sim::SimHandle) -> JiraConnectionSpec {
    let secret = format!("{}-secret", case.name);
    match case.auth {
        Auth::Basic => basic_spec(&sim.url(), &secret),
        Auth::ServiceAccount => service_account_spec(&sim.url(), &sim.cloud_id(), &secret),
        Auth::BasicWithOrganization => with_organization(
            basic_spec(&sim.url(), "healthy-secret"),
            &sim.org_id(),
            &secret,
        ),
    }
}

/// Every message of the connection's conditions.
fn messages(c: &JiraConnection) -> Vec<String> {
    c.status
        .iter()
        .flat_map(|s| &s.conditions)
        .map(|c| c.message.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_secrets_fail_clearly_without_echoing_values_and_recover() {
    let env = testkit::env("bad-secrets").await;
    let (client, ns) = (env.client.clone(), env.namespace.clone());
    let sim = jira_sim::start(jira_sim::SimConfig::default())
        .await
        .expect("the simulator starts");
    let operator =
        InProcess::connections(client.clone(), settings::connections(&sim.url(), &[&ns]));

    env.put_secret("healthy-secret", &[("email", ADMIN), ("apiToken", TOKEN)])
        .await;
    env.create_connection("healthy", basic_spec(&sim.url(), "healthy-secret"))
        .await;
    let cases = cases();
    for case in &cases {
        put_raw_secret(
            &client,
            &ns,
            &format!("{}-secret", case.name),
            case.type_,
            &case.data,
        )
        .await;
        env.create_connection(case.name, spec(case, &sim)).await;
    }
    env.wait_ready("healthy", None).await;

    for case in &cases {
        let c = env.wait_not_ready(case.name, case.reason).await;
        let ready = messages(&c)
            .into_iter()
            .find(|m| m.contains(case.says))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no message says {:?}: {:?}",
                    case.name,
                    case.says,
                    messages(&c)
                )
            });
        let note = env.wait_warning(case.name, case.reason).await;
        assert!(
            note.contains(case.says),
            "{}: Event note {note:?} should say {:?}",
            case.name,
            case.says
        );
        if let Some(part) = case.secret_part {
            for text in messages(&c).iter().chain([&note]) {
                assert!(
                    !text.contains(part),
                    "{}: the value leaked into {text:?}",
                    case.name
                );
            }
        }
        for text in messages(&c).iter().chain([&note]) {
            assert!(
                text.len() < 2000,
                "{}: a {} byte message",
                case.name,
                text.len()
            );
        }
        eprintln!("{}: {} — {ready}", case.name, case.reason);
    }
    // Nothing leaked into any Event of the namespace either.
    for (_, _, note) in events_in(&client, &ns).await {
        for case in &cases {
            if let Some(part) = case.secret_part {
                assert!(
                    !note.contains(part),
                    "{}: leaked into Event {note:?}",
                    case.name
                );
            }
        }
    }

    // The operator still serves the healthy connection (no crash, no loop stuck on the bad ones).
    env.request_sync("healthy", "after-bad-secrets").await;
    env.wait_ready("healthy", Some("after-bad-secrets")).await;

    // Each recovers once its Secret is fixed (a Secret's type cannot change: it is recreated).
    for case in &cases {
        let secret = format!("{}-secret", case.name);
        let good: &[(&str, &str)] = match case.auth {
            Auth::Basic => &[("email", ADMIN), ("apiToken", TOKEN)],
            Auth::ServiceAccount => &[
                ("clientId", "sim-client-id"),
                ("clientSecret", "sim-client-secret"),
            ],
            Auth::BasicWithOrganization => &[("apiKey", "sim-admin-key")],
        };
        env.put_secret(&secret, good).await;
    }
    for case in &cases {
        env.wait_ready(case.name, None).await;
    }
    operator.stop().await;
    sim.shutdown().await;
}

/// `(type, reason, note)` of every Event of the namespace.
async fn events_in(client: &Client, namespace: &str) -> Vec<(String, String, String)> {
    let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), namespace);
    testkit::wait::eventually("the Events", Duration::from_secs(30), || async {
        api.list(&Default::default()).await.ok()
    })
    .await
    .items
    .into_iter()
    .map(|e| {
        (
            e.type_.unwrap_or_default(),
            e.reason.unwrap_or_default(),
            e.note.unwrap_or_default(),
        )
    })
    .collect()
}
