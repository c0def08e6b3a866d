//! Paging exactly as the endpoints behave, against a minimal stand-in site that caps page sizes below
//! what the client asks for: a short page is not the end of `users/search`, and `group/member` pages are
//! computed from the page size Jira applied.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::Query;
use axum::routing::{get, post};
use axum::{Json, Router};
use jira_cloud_operator::jira::{
    ClientConfig, Credentials, Endpoints, JiraClient, Limits, SecretString,
};
use jira_cloud_operator::sync::{self, SyncOptions};
use serde_json::{Value, json};

const USERS: usize = 700;
const USERS_CAP: usize = 300;
const MEMBERS: usize = 120;
const MEMBERS_CAP: usize = 40;

fn param(q: &HashMap<String, String>, k: &str, default: usize) -> usize {
    q.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn users(Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let start = param(&q, "startAt", 0);
    let max = param(&q, "maxResults", 50).min(USERS_CAP);
    let page: Vec<Value> = (start..(start + max).min(USERS))
        .map(|i| {
            json!({"accountId": format!("u{i:03}"), "accountType": "atlassian",
                   "emailAddress": format!("u{i}@example.com"), "displayName": format!("U {i}"),
                   "active": true})
        })
        .collect();
    Json(Value::Array(page))
}

async fn members(Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let start = param(&q, "startAt", 0);
    let max = param(&q, "maxResults", 50).min(MEMBERS_CAP);
    let end = (start + max).min(MEMBERS);
    let values: Vec<Value> = (start..end)
        .map(|i| json!({"accountId": format!("u{i:03}"), "accountType": "atlassian", "active": true}))
        .collect();
    let mut page = json!({"startAt": start, "maxResults": max, "total": MEMBERS,
                          "isLast": end >= MEMBERS, "values": values});
    if end < MEMBERS {
        page["nextPage"] = json!(format!("/rest/api/3/group/member?startAt={end}"));
    }
    Json(page)
}

async fn site() -> url::Url {
    let app = Router::new()
        .route(
            "/rest/api/2/serverInfo",
            get(|| async {
                Json(json!({"deploymentType": "Cloud", "version": "1001.0.0-SNAPSHOT"}))
            }),
        )
        .route(
            "/_edge/tenant_info",
            get(|| async { Json(json!({"cloudId": "c-1"})) }),
        )
        .route(
            "/rest/api/3/myself",
            get(|| async { Json(json!({"accountId": "u000", "displayName": "U 0"})) }),
        )
        .route("/rest/api/3/users/search", get(users))
        .route(
            "/rest/api/3/applicationrole",
            get(|| async {
                Json(json!([{"key": "jira-software", "name": "Jira Software",
                    "groupDetails": [{"groupId": "g1", "name": "sw"}],
                    "numberOfSeats": 1000, "remainingSeats": 880, "platform": false}]))
            }),
        )
        .route("/rest/api/3/group/member", get(members))
        .route(
            "/rest/api/3/search/jql",
            post(|| async { Json(json!({"issues": [], "isLast": true})) }),
        )
        .route(
            "/rest/api/3/worklog/updated",
            get(|| async { Json(json!({"values": [], "lastPage": true})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url::Url::parse(&format!("http://{addr}/")).unwrap()
}

#[tokio::test]
async fn short_pages_do_not_end_a_listing() {
    let url = site().await;
    let client = JiraClient::connect(ClientConfig {
        site_url: url.clone(),
        allowed_hosts: jira_cloud_operator::jira::AllowedHosts::parse("127.0.0.1").expect("a host"),
        credentials: Credentials::Basic {
            email: "u0@example.com".into(),
            api_token: SecretString::from("t".to_owned()),
        },
        admin: None,
        endpoints: Endpoints::same_as(&url),
        limits: Limits {
            requests_per_second: None,
            ..Limits::default()
        },
        timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    let out = sync::run(
        &client,
        &SyncOptions {
            window_days: 30,
            now: chrono::Utc::now(),
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(out.inventory.users.total, USERS as u64);
    assert_eq!(out.inventory.records.len(), USERS);
    let sw = &out.inventory.licenses[0];
    assert_eq!(
        (sw.seats, sw.used, sw.remaining),
        (1000, MEMBERS as u64, 880)
    );
    let stats = client.request_stats();
    let requests = |e: &str| stats.by_endpoint.get(e).map_or(0, |s| s.requests);
    // 300 + 300 + 100, then the empty page that ends the listing.
    assert_eq!(requests("GET /rest/api/3/users/search"), 4);
    // Pages of the 40 the site applied: 0, 40, 80.
    assert_eq!(requests("GET /rest/api/3/group/member"), 3);
}
