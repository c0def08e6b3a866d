//! The figures of the default scenario documented in the README, read back through the API the way the
//! operator reads them (so the documentation cannot drift from the data).

use std::collections::{BTreeMap, BTreeSet};

use crate::common::*;
use serde_json::{Value, json};

fn days_ago(jira_date: &str) -> i64 {
    let t = chrono::DateTime::parse_from_str(jira_date, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .expect("Jira date format");
    let today = chrono::Utc::now().date_naive();
    (today - t.with_timezone(&chrono::Utc).date_naive()).num_days()
}

#[tokio::test]
async fn documented_activity_products_and_users() {
    let sim = start().await;
    let mut days: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut note = |who: Option<&Value>, when: &Value| {
        if let (Some(id), Some(w)) = (who.and_then(|a| a["accountId"].as_str()), when.as_str()) {
            let d = days_ago(w);
            if d <= 30 {
                days.entry(id.to_string()).or_default().insert(d);
            }
        }
    };
    let issues = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": "updated >= -30d", "fields": ["id"]}),
        )
        .await
        .json();
    let ids: Vec<String> = issues["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids.len(),
        3,
        "ENG-1, ENG-2 and OPS-1 were updated in the window"
    );
    let logs = sim
        .post(
            &Who::Admin,
            "/rest/api/3/changelog/bulkfetch",
            json!({"issueIdsOrKeys": ids}),
        )
        .await
        .json();
    for l in logs["issueChangeLogs"].as_array().unwrap() {
        for h in l["changeHistories"].as_array().unwrap() {
            note(h.get("author"), &h["created"]);
        }
    }
    for id in &ids {
        let c = sim
            .get(&Who::Admin, &format!("/rest/api/3/issue/{id}/comment"))
            .await
            .json();
        for c in c["comments"].as_array().unwrap() {
            note(c.get("author"), &c["created"]);
            note(c.get("updateAuthor"), &c["updated"]);
        }
    }
    let updated = sim
        .get(&Who::Admin, "/rest/api/3/worklog/updated?since=0")
        .await
        .json();
    let wl_ids: Vec<u64> = updated["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["worklogId"].as_u64().unwrap())
        .collect();
    let wls = sim
        .post(
            &Who::Admin,
            "/rest/api/3/worklog/list",
            json!({"ids": wl_ids}),
        )
        .await
        .json();
    for w in wls.as_array().unwrap() {
        note(w.get("author"), &w["created"]);
        note(w.get("updateAuthor"), &w["updated"]);
    }
    let expect: BTreeMap<String, BTreeSet<i64>> = [
        (MIA, vec![3, 2, 1]),
        (EMMA, vec![2, 1]),
        (ADMIN_ID, vec![5]),
        (NOAH, vec![4]),
        ("712020:5c1f0000-0000-4000-8000-00000000a002", vec![4]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().collect()))
    .collect();
    assert_eq!(days, expect);
    let deleted = sim
        .get(&Who::Admin, "/rest/api/3/worklog/deleted?since=0")
        .await
        .json();
    assert_eq!(deleted["values"].as_array().unwrap().len(), 1);

    let roles = sim
        .get(&Who::Admin, "/rest/api/3/applicationrole")
        .await
        .json();
    let figures: BTreeMap<String, (i64, i64)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                (
                    r["numberOfSeats"].as_i64().unwrap(),
                    r["userCount"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    let expect: BTreeMap<String, (i64, i64)> = [
        ("jira-software", (10, 6)),
        ("jira-servicedesk", (5, 1)),
        ("jira-product-discovery", (10, 1)),
        ("jira-core", (20, 1)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(figures, expect);
    let software = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "jira-software")
        .unwrap();
    assert_eq!(
        software["groups"],
        json!(["jira-software-users", "jira-testers"])
    );
    let license = sim
        .get(&Who::Admin, "/rest/api/3/instance/license")
        .await
        .json();
    assert!(
        license["applications"]
            .as_array()
            .unwrap()
            .contains(&json!({"id": "jira-product-discovery", "plan": "FREE"}))
    );

    let users = sim
        .get(&Who::Admin, "/rest/api/3/users/search")
        .await
        .json();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 11);
    let humans = users
        .iter()
        .filter(|u| u["accountType"] == "atlassian")
        .count();
    assert_eq!(humans, 8);
    let managed = sim
        .get(
            &Who::Bearer("sim-admin-key".into()),
            &format!("/admin/v1/orgs/{ORG}/users"),
        )
        .await
        .json();
    assert_eq!(
        managed["meta"]["total"], 7,
        "every human but the contractor"
    );
    for (who, days) in [
        (ADMIN_ID, 1),
        (VIEWER_ID, 3),
        (MIA, 1),
        (EMMA, 2),
        (NOAH, 5),
        (LIAM, 120),
    ] {
        let r = sim
            .get(
                &Who::Bearer("sim-admin-key".into()),
                &format!("/admin/v1/orgs/{ORG}/directory/users/{who}/last-active-dates"),
            )
            .await
            .json();
        let date = r["data"]["product_access"][0]["last_active"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            days_ago(&format!("{date}T12:00:00.000+0000")),
            days,
            "{who}"
        );
    }
    sim.handle.shutdown().await;
}
