//! A lagging search index: `search/jql` and `search/approximate-count` miss recent creates and still
//! show recent deletes while `GET issue/{key}` is consistent; issue keys are sequential and never reused.

use std::time::Duration;

use crate::common::*;
use jira_sim::Faults;
use serde_json::{Value, json};

fn issue(label: &str) -> Value {
    json!({"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Task"}, "summary": "Lagging",
                      "labels": [label]}})
}

async fn create(sim: &Sim, label: &str) -> (String, String) {
    let r = sim
        .post(&Who::Admin, "/rest/api/3/issue", issue(label))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    (
        v["key"].as_str().unwrap().to_string(),
        v["id"].as_str().unwrap().to_string(),
    )
}

/// Keys found by `search/jql`, through GET and POST (both must agree).
async fn search(sim: &Sim, jql: &str) -> Vec<String> {
    let keys = |v: Value| -> Vec<String> {
        v["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap().to_string())
            .collect()
    };
    let post = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": jql, "fields": ["key", "labels"]}),
        )
        .await;
    assert_eq!(post.status, 200, "{}", post.text);
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("jql", jql)
        .append_pair("fields", "key")
        .finish();
    let get = sim
        .get(&Who::Admin, &format!("/rest/api/3/search/jql?{query}"))
        .await;
    assert_eq!(get.status, 200, "{}", get.text);
    let (from_post, from_get) = (keys(post.json()), keys(get.json()));
    assert_eq!(from_post, from_get, "GET and POST search agree");
    from_post
}

async fn count(sim: &Sim, jql: &str) -> u64 {
    let r = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/approximate-count",
            json!({"jql": jql}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["count"].as_u64().unwrap()
}

fn lag(ms: u64) -> Faults {
    Faults {
        search_lag_ms: ms,
        ..Faults::default()
    }
}

#[tokio::test]
async fn search_lags_behind_creates_and_deletes_while_get_issue_is_consistent() {
    let sim = start().await;
    sim.handle.set_faults(lag(600_000));
    let (key, id) = create(&sim, "lagging").await;
    assert_eq!(key, "ENG-4");

    // The issue exists for GET issue/{key}, with its labels and creation time.
    let r = sim
        .get(
            &Who::Admin,
            &format!("/rest/api/3/issue/{key}?fields=labels,created"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["fields"]["labels"], json!(["lagging"]));
    assert!(
        v["fields"]["created"].as_str().unwrap().starts_with("20"),
        "{v}"
    );
    assert!(v["fields"].get("summary").is_none(), "{v}");

    // Search does not see it yet, unless asked to reconcile it.
    assert!(search(&sim, "labels = lagging").await.is_empty());
    assert_eq!(count(&sim, "labels = lagging").await, 0);
    let r = sim
        .post(&Who::Admin, "/rest/api/3/search/jql",
              json!({"jql": "labels = lagging", "fields": ["key"], "reconcileIssues": [id.parse::<u64>().unwrap()]}))
        .await;
    assert_eq!(r.json()["issues"][0]["key"], "ENG-4");

    // A deleted issue is gone for GET at once, but search still shows it as it was.
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/issue/ENG-2")
            .await
            .status,
        204
    );
    assert_eq!(
        sim.get(&Who::Admin, "/rest/api/3/issue/ENG-2").await.status,
        404
    );
    assert_eq!(search(&sim, "labels = demo").await, ["ENG-2"]);
    assert_eq!(count(&sim, "labels = demo").await, 1);
    let r = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": "project = ENG ORDER BY key ASC", "fields": ["key", "labels"]}),
        )
        .await
        .json();
    assert_eq!(r["issues"][1]["key"], "ENG-2");
    assert_eq!(r["issues"][1]["fields"]["labels"], json!(["infra", "demo"]));
    assert_eq!(
        r["issues"].as_array().unwrap().len(),
        3,
        "ENG-1..3, not ENG-4: {r}"
    );

    // An issue created and deleted within the lag never shows up.
    let (brief, _) = create(&sim, "brief").await;
    assert_eq!(
        sim.delete(&Who::Admin, &format!("/rest/api/3/issue/{brief}"))
            .await
            .status,
        204
    );
    assert!(search(&sim, "labels = brief").await.is_empty());

    // Once the index catches up: the new issue is found, the deleted one is not.
    sim.handle.set_faults(Faults::default());
    assert_eq!(search(&sim, "labels = lagging").await, ["ENG-4"]);
    assert_eq!(count(&sim, "labels = lagging").await, 1);
    assert!(search(&sim, "labels = demo").await.is_empty());
    assert_eq!(count(&sim, "labels = demo").await, 0);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_lag_counts_from_the_write() {
    let sim = start().await;
    let r = sim
        .post(&Who::Anon, "/__sim/faults", json!({"search_lag_ms": 20}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["search_lag_ms"], 20);
    create(&sim, "soon").await;
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/issue/ENG-3")
            .await
            .status,
        204
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(search(&sim, "labels = soon").await, ["ENG-4"]);
    assert!(search(&sim, "labels = legacy").await.is_empty());
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn issue_keys_are_sequential_and_never_reused() {
    let sim = start().await;
    let (first, _) = create(&sim, "seq").await;
    assert_eq!(first, "ENG-4");
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/issue/ENG-4")
            .await
            .status,
        204
    );
    let (second, _) = create(&sim, "seq").await;
    assert_eq!(second, "ENG-5");
    let (third, _) = create(&sim, "seq").await;
    assert_eq!(third, "ENG-6");
    assert_eq!(
        sim.get(&Who::Admin, "/rest/api/3/issue/ENG-4").await.status,
        404
    );
    for key in ["ENG-5", "ENG-6"] {
        let r = sim
            .get(
                &Who::Admin,
                &format!("/rest/api/3/issue/{key}?fields=labels"),
            )
            .await;
        assert_eq!(r.json()["key"], key);
    }
    sim.handle.shutdown().await;
}
