//! Implausible listings: users listings answer `200 []` after N calls (and always to anonymous callers).

use crate::common::*;
use jira_sim::{EmptyListingFault, Faults};
use serde_json::json;

async fn listed(sim: &Sim, who: &Who, path: &str) -> usize {
    let r = sim.get(who, path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json().as_array().unwrap().len()
}

#[tokio::test]
async fn anonymous_callers_get_an_empty_listing() {
    let sim = start().await;
    for path in ["/rest/api/3/users/search", "/rest/api/3/users"] {
        let r = sim.get(&Who::Anon, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.json(), json!([]), "{path}");
        assert!(listed(&sim, &Who::Admin, path).await > 5, "{path}");
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn listings_come_back_empty_after_n_calls() {
    let sim = start().await;
    let r = sim
        .post(
            &Who::Anon,
            "/__sim/faults",
            json!({"empty_listing": {"after_calls": 2, "count": 2}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let full = listed(&sim, &Who::Admin, "/rest/api/3/users/search").await;
    assert!(full > 5);
    // Both listings and the gateway count; each page is a call.
    let mut got = vec![
        listed(&sim, &Who::Admin, "/rest/api/3/users?maxResults=3").await,
        listed(&sim, &Who::Admin, "/rest/api/3/users/search").await,
    ];
    let gw = sim.gw("/rest/api/3/users/search");
    let r = sim.send("GET", &gw, &Who::Admin, None).await;
    got.push(r.json().as_array().unwrap().len());
    got.push(listed(&sim, &Who::Admin, "/rest/api/3/users/search").await);
    assert_eq!(got, [3, 0, 0, full]);
    // A caller without Browse users is still refused (and not counted).
    assert_eq!(
        sim.get(&Who::Viewer, "/rest/api/3/users/search")
            .await
            .status,
        403
    );

    // Without `count`: every call after the first `after_calls`.
    sim.handle.set_faults(Faults {
        empty_listing: Some(EmptyListingFault {
            after_calls: 1,
            count: None,
        }),
        ..Faults::default()
    });
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(listed(&sim, &Who::Admin, "/rest/api/3/users/search").await);
    }
    assert_eq!(got, [full, 0, 0, 0]);
    // Other reads are not affected.
    let me = sim.get(&Who::Admin, "/rest/api/3/myself").await;
    assert_eq!(me.json()["accountId"], ADMIN_ID);
    sim.handle.set_faults(Faults::default());
    assert_eq!(
        listed(&sim, &Who::Admin, "/rest/api/3/users/search").await,
        full
    );
    sim.handle.shutdown().await;
}
