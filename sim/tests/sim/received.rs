//! What a site receives: the simulator records every request outside the control plane (method, path
//! with query, Authorization and Host headers), also those a fault answers or drops.

use crate::common::*;
use jira_sim::{DropFault, Faults, ReceivedRequest};
use serde_json::json;

#[tokio::test]
async fn requests_are_recorded_with_their_credentials_and_host() {
    let sim = start().await;
    assert!(sim.handle.received_requests().is_empty());
    sim.get(&Who::Anon, "/_edge/tenant_info").await;
    sim.get(
        &Who::Admin,
        "/rest/api/3/users/search?startAt=0&maxResults=2",
    )
    .await;
    sim.send(
        "POST",
        &sim.gw("/rest/api/3/search/jql"),
        &Who::Bearer("not-a-token".into()),
        Some(&json!({"jql": "project = ENG"})),
    )
    .await;
    // The control plane is not recorded.
    sim.get(&Who::Admin, "/__sim/health").await;
    sim.get(&Who::Anon, "/__sim/state").await;

    let got = sim.handle.received_requests();
    let host = sim.base.trim_start_matches("http://").to_string();
    let admin_basic = format!(
        "Basic {}",
        base64_of("admin@example.com:classic-admin-token")
    );
    assert_eq!(
        got,
        vec![
            ReceivedRequest {
                method: "GET".into(),
                path: "/_edge/tenant_info".into(),
                authorization: None,
                host: Some(host.clone()),
            },
            ReceivedRequest {
                method: "GET".into(),
                path: "/rest/api/3/users/search?startAt=0&maxResults=2".into(),
                authorization: Some(admin_basic),
                host: Some(host.clone()),
            },
            ReceivedRequest {
                method: "POST".into(),
                path: format!("/ex/jira/{CLOUD}/rest/api/3/search/jql"),
                authorization: Some("Bearer not-a-token".into()),
                host: Some(host),
            },
        ]
    );

    // The same list over HTTP.
    let r = sim.get(&Who::Anon, "/__sim/requests").await;
    assert_eq!(r.status, 200);
    let listed: Vec<ReceivedRequest> = serde_json::from_str(&r.text).unwrap();
    assert_eq!(listed, got);
    assert_eq!(r.json()[0]["authorization"], json!(null));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn dropped_requests_are_recorded_and_the_log_can_be_cleared() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        drop_connection: Some(DropFault {
            count: Some(1),
            ..DropFault::default()
        }),
        ..Faults::default()
    });
    let dropped = sim
        .client
        .get(sim.url("/rest/api/3/myself"))
        .basic_auth("viewer@example.com", Some("classic-viewer-token"))
        .send()
        .await;
    assert!(dropped.is_err(), "the connection is dropped: {dropped:?}");
    let got = sim.handle.received_requests();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].path, "/rest/api/3/myself");
    assert!(
        got[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );

    assert_eq!(sim.delete(&Who::Anon, "/__sim/requests").await.status, 204);
    assert!(sim.handle.received_requests().is_empty());
    sim.get(&Who::Anon, "/rest/api/3/serverInfo").await;
    assert_eq!(sim.handle.received_requests().len(), 1);
    sim.handle.clear_received_requests();
    let r = sim.get(&Who::Anon, "/__sim/requests").await;
    assert_eq!(r.json(), json!([]));
    sim.handle.shutdown().await;
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
