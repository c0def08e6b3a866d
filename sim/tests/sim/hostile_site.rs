//! Sites that misbehave: a site that redirects its clients, and a site that accepts requests and does
//! not answer (a large `latency_ms`); what they received is on record.

use std::time::Duration;

use crate::common::*;
use jira_sim::{Faults, RedirectFault};
use serde_json::json;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn redirected_requests_are_not_processed() {
    let sim = start().await;
    let r = sim
        .post(
            &Who::Anon,
            "/__sim/faults",
            json!({"redirect": {"location": "http://10.0.0.1/steal"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let client = no_redirects();
    let r = client
        .post(sim.url("/rest/api/3/issue"))
        .basic_auth("admin@example.com", Some("classic-admin-token"))
        .json(
            &json!({"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Task"},
                                 "summary": "Redirected", "labels": ["redirected"]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(r.headers()["location"], "http://10.0.0.1/steal");
    assert!(
        sim.handle
            .with_state(|st| st.issues_with_label("redirected"))
            .is_empty()
    );
    // The credential did reach this site.
    let got = sim.handle.received_requests();
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );

    // Another status, only on the routes named.
    sim.handle.set_faults(Faults {
        redirect: Some(RedirectFault {
            status: 308,
            location: "https://elsewhere.example/_edge/tenant_info".into(),
        }),
        routes: vec!["/_edge/".into()],
        ..Faults::default()
    });
    let r = client
        .get(sim.url("/_edge/tenant_info"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 308);
    assert_eq!(
        r.headers()["location"],
        "https://elsewhere.example/_edge/tenant_info"
    );
    assert_eq!(sim.get(&Who::Admin, "/rest/api/3/myself").await.status, 200);
    let stats = sim.handle.stats();
    assert_eq!(stats.count_status("POST", "/rest/api/3/issue", 302), 1);
    assert_eq!(stats.count_status("GET", "/_edge/tenant_info", 308), 1);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_large_latency_makes_a_site_that_hangs() {
    let sim = start().await;
    sim.handle.set_faults(Faults {
        latency_ms: 600_000,
        routes: vec!["/_edge/tenant_info".into()],
        ..Faults::default()
    });
    let r = sim
        .client
        .get(sim.url("/_edge/tenant_info"))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    let e = r.expect_err("no answer");
    assert!(e.is_timeout(), "{e:?}");
    // Received (and still held), while other routes answer.
    let got = sim.handle.received_requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/_edge/tenant_info");
    assert_eq!(
        sim.get(&Who::Anon, "/rest/api/3/serverInfo").await.status,
        200
    );
    sim.handle.shutdown().await;
}
