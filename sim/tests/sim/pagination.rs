//! Pagination edges of each paging style: bare arrays, PageBeans, legacy pages, tokens, time cursors,
//! Admin cursors.

use std::collections::BTreeSet;

use crate::common::*;
use jira_sim::{GenerateOptions, SimConfig};
use serde_json::{Value, json};

async fn big() -> Sim {
    let scenario = jira_sim::generate(&GenerateOptions {
        users: 2500,
        ..GenerateOptions::default()
    });
    start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await
}

#[tokio::test]
async fn users_search_is_a_bare_array_capped_at_1000() {
    let sim = big().await;
    let total = sim.handle.with_state(|st| st.listed.len());
    let mut seen = BTreeSet::new();
    let mut start = 0;
    loop {
        let r = sim
            .get(
                &Who::Admin,
                &format!("/rest/api/3/users/search?startAt={start}&maxResults=5000"),
            )
            .await;
        let page = r.json();
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 1000);
        for u in page {
            assert!(seen.insert(u["accountId"].as_str().unwrap().to_string()));
        }
        start += page.len();
    }
    assert_eq!(seen.len(), total);
    assert_eq!(start, total);
    let first = sim
        .get(&Who::Admin, "/rest/api/3/users?maxResults=5000")
        .await
        .json();
    assert_eq!(first.as_array().unwrap().len(), 1000);
    let default = sim
        .get(&Who::Admin, "/rest/api/3/users/search")
        .await
        .json();
    assert_eq!(default.as_array().unwrap().len(), 50);
    let last = sim
        .get(
            &Who::Admin,
            &format!("/rest/api/3/users/search?startAt={}", total - 1),
        )
        .await
        .json();
    assert_eq!(last.as_array().unwrap().len(), 1);
    let zero = sim
        .get(&Who::Admin, "/rest/api/3/users/search?maxResults=0")
        .await
        .json();
    assert_eq!(zero, json!([]));
    let far = sim
        .get(
            &Who::Admin,
            &format!("/rest/api/3/users/search?startAt={}", i64::MAX),
        )
        .await;
    assert_eq!((far.status, far.json()), (200, json!([])));
    let far = sim
        .get(
            &Who::Admin,
            &format!(
                "/rest/api/3/group/member?groupname=site-admins&startAt={}",
                i64::MAX
            ),
        )
        .await;
    assert_eq!(far.json()["isLast"], true);
    let huge = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": "updated >= -99999999999999d"}),
        )
        .await;
    assert_eq!(huge.status, 400);
    for bad in ["startAt=-1", "maxResults=abc", "startAt=x"] {
        assert_eq!(
            sim.get(&Who::Admin, &format!("/rest/api/3/users/search?{bad}"))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn hidden_emails_inactive_and_app_accounts_show_in_listings() {
    let sim = start().await;
    let users = sim
        .get(&Who::Admin, "/rest/api/3/users/search?maxResults=100")
        .await
        .json();
    let find = |id: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["accountId"] == id)
            .unwrap()
            .clone()
    };
    assert!(
        find(EMMA).get("emailAddress").is_none(),
        "hidden email: key absent"
    );
    assert_eq!(find(MIA)["emailAddress"], "mia@example.com");
    assert_eq!(find(LIAM)["active"], false);
    let apps: Vec<&Value> = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["accountType"] == "app")
        .collect();
    assert_eq!(apps.len(), 2);
    assert!(apps.iter().any(|u| u["appType"] == "service"));
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["accountType"] == "customer")
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn null_emails_are_written_as_null() {
    let scenario = jira_sim::generate(&GenerateOptions {
        users: 50,
        hidden_email_share: 0.0,
        null_email_share: 1.0,
        ..GenerateOptions::default()
    });
    let sim = start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await;
    let users = sim
        .get(&Who::Admin, "/rest/api/3/users/search?maxResults=100")
        .await
        .json();
    let nulls = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u.get("emailAddress") == Some(&Value::Null))
        .count();
    assert_eq!(
        nulls, 48,
        "every generated human but the admin and the viewer"
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn group_members_page_bean_caps_at_50_and_filters_inactive_users() {
    let sim = big().await;
    let (gid, all, active) = sim.handle.with_state(|st| {
        let g = st.group_ref(None, Some("jira-software-users")).unwrap() as usize;
        (
            st.groups[g].id.clone(),
            st.groups[g].members.len(),
            st.groups[g].active_members.len(),
        )
    });
    assert!(all > active && active > 1000);
    for (inactive, expected) in [(true, all), (false, active)] {
        let mut start = 0;
        let mut seen = 0;
        loop {
            let r = sim
                .get(&Who::Admin, &format!("/rest/api/3/group/member?groupId={gid}&includeInactiveUsers={inactive}&startAt={start}&maxResults=500"))
                .await
                .json();
            assert_eq!(r["maxResults"], 50);
            assert_eq!(r["total"], expected);
            let n = r["values"].as_array().unwrap().len();
            seen += n;
            start += n;
            if r["isLast"] == true {
                assert!(r.get("nextPage").is_none());
                break;
            }
            assert_eq!(n, 50);
            assert!(
                r["nextPage"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("startAt={start}"))
            );
        }
        assert_eq!(seen, expected);
    }
    let missing = sim.get(&Who::Admin, "/rest/api/3/group/member").await;
    assert_eq!(missing.status, 400);
    let unknown = sim
        .get(&Who::Admin, "/rest/api/3/group/member?groupId=nope")
        .await;
    assert_eq!(unknown.status, 404);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn search_jql_token_paging_covers_every_issue_once() {
    let sim = big().await;
    let jql = "updated >= -400d ORDER BY updated DESC";
    let count = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/approximate-count",
            json!({"jql": jql}),
        )
        .await
        .json()["count"]
        .as_u64()
        .unwrap();
    assert_eq!(count as usize, sim.handle.with_state(|st| st.issue_count()));
    let mut token: Option<String> = None;
    let mut keys = BTreeSet::new();
    let mut last_updated = String::from("9999");
    let mut pages = 0;
    loop {
        let r = sim
            .post(&Who::Admin, "/rest/api/3/search/jql", json!({"jql": jql, "fields": ["updated"], "maxResults": 1000, "nextPageToken": token}))
            .await
            .json();
        let issues = r["issues"].as_array().unwrap();
        assert!(
            issues.len() <= 100,
            "more than 100 issues with non-id fields"
        );
        for i in issues {
            assert!(keys.insert(i["key"].as_str().unwrap().to_string()));
            let u = i["fields"]["updated"].as_str().unwrap().to_string();
            assert!(u <= last_updated, "ORDER BY updated DESC");
            last_updated = u;
        }
        pages += 1;
        match r.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => {
                assert_eq!(r["isLast"], false);
                token = Some(t.to_string());
            }
            None => {
                assert_eq!(r["isLast"], true);
                break;
            }
        }
    }
    assert_eq!(keys.len() as u64, count);
    assert_eq!(pages, count.div_ceil(100));
    // ids only: up to 5000 per page, and the default is `id` only.
    let r = sim
        .get(
            &Who::Admin,
            "/rest/api/3/search/jql?jql=updated%20%3E%3D%20-400d&maxResults=10000",
        )
        .await
        .json();
    let issues = r["issues"].as_array().unwrap();
    assert_eq!(issues.len() as u64, count.min(5000));
    assert_eq!(
        issues[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["id"]
    );
    let bad = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": jql, "nextPageToken": "!!"}),
        )
        .await;
    assert_eq!(bad.status, 400);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn jql_subset_filters_and_bounded_queries() {
    let sim = start().await;
    let keys = |r: Value| -> Vec<String> {
        r["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap().to_string())
            .collect()
    };
    let q = |jql: &str| json!({"jql": jql, "fields": ["key"]});
    assert_eq!(
        keys(
            sim.post(
                &Who::Admin,
                "/rest/api/3/search/jql",
                q("project = ENG ORDER BY key ASC")
            )
            .await
            .json()
        ),
        ["ENG-1", "ENG-2", "ENG-3"]
    );
    assert_eq!(
        keys(
            sim.post(&Who::Admin, "/rest/api/3/search/jql", q("labels = demo"))
                .await
                .json()
        ),
        ["ENG-2"]
    );
    assert_eq!(
        keys(
            sim.post(
                &Who::Admin,
                "/rest/api/3/search/jql",
                q("key in (ENG-3, OPS-1) ORDER BY key")
            )
            .await
            .json()
        ),
        ["ENG-3", "OPS-1"]
    );
    assert_eq!(
        keys(
            sim.post(
                &Who::Admin,
                "/rest/api/3/search/jql",
                q("updated >= -30d AND project = ENG ORDER BY key")
            )
            .await
            .json()
        ),
        ["ENG-1", "ENG-2"]
    );
    assert_eq!(
        keys(
            sim.post(
                &Who::Admin,
                "/rest/api/3/search/jql",
                q("project = OPS OR labels in (legacy) ORDER BY key DESC")
            )
            .await
            .json()
        ),
        ["OPS-1", "ENG-3"]
    );
    assert_eq!(
        keys(
            sim.post(
                &Who::Admin,
                "/rest/api/3/search/jql",
                q("worklogDate >= -30d ORDER BY key")
            )
            .await
            .json()
        ),
        ["ENG-1", "ENG-2"]
    );
    assert_eq!(
        keys(
            sim.post(
                &Who::Admin,
                "/rest/api/3/search/jql",
                q("worklogDate >= -30d AND project = OPS")
            )
            .await
            .json()
        ),
        Vec::<String>::new()
    );
    for unbounded in ["", "ORDER BY updated DESC"] {
        let r = sim
            .post(&Who::Admin, "/rest/api/3/search/jql", q(unbounded))
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json()["errorMessages"][0],
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
        );
    }
    for bad in ["nosuchfield = 1", "project = ", "updated >= yesterday"] {
        assert_eq!(
            sim.post(&Who::Admin, "/rest/api/3/search/jql", q(bad))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    let gone = sim
        .get(&Who::Admin, "/rest/api/2/search?jql=project=ENG")
        .await;
    assert_eq!(gone.status, 410);
    assert!(
        gone.json()["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("/rest/api/3/search/jql")
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn worklog_time_cursor_pages_and_excludes_the_last_minute() {
    let sim = big().await;
    let mut since = 0i64;
    let mut ids = BTreeSet::new();
    loop {
        let r = sim
            .get(
                &Who::Admin,
                &format!("/rest/api/3/worklog/updated?since={since}"),
            )
            .await
            .json();
        let values = r["values"].as_array().unwrap();
        assert!(values.len() <= 1000);
        for v in values {
            assert!(ids.insert(v["worklogId"].as_u64().unwrap()));
            assert!(v["updatedTime"].as_i64().unwrap() > since);
        }
        if r["lastPage"] == true {
            assert!(r.get("nextPage").is_none());
            break;
        }
        let until = r["until"].as_i64().unwrap();
        assert_eq!(
            Some(until),
            values.last().and_then(|v| v["updatedTime"].as_i64())
        );
        assert!(
            r["nextPage"]
                .as_str()
                .unwrap()
                .ends_with(&format!("since={until}"))
        );
        since = until;
    }
    assert_eq!(
        ids.len(),
        sim.handle.with_state(|st| st.worklog_updates.len())
    );
    // A worklog logged now is not listed yet; one from two minutes ago is.
    let added = sim
        .post(
            &Who::Anon,
            "/__sim/activity",
            json!([{"kind": "worklog", "issue": "ACME-1", "author": "admin@example.com"}]),
        )
        .await;
    assert_eq!(added.status, 400, "unknown issue key");
    let key = sim
        .handle
        .with_state(|st| st.issues.iter().flatten().next().unwrap().key.clone());
    let now_id = sim
        .post(
            &Who::Anon,
            "/__sim/activity",
            json!({"kind": "worklog", "issue": key, "author": "admin@example.com"}),
        )
        .await
        .json()["ids"][0]
        .as_u64()
        .unwrap();
    let old_id = sim
        .post(
            &Who::Anon,
            "/__sim/activity",
            json!({"kind": "worklog", "issue": key, "author": "admin@example.com", "at": "2m"}),
        )
        .await
        .json()["ids"][0]
        .as_u64()
        .unwrap();
    let recent = sim
        .get(
            &Who::Admin,
            &format!("/rest/api/3/worklog/updated?since={since}"),
        )
        .await
        .json();
    let listed: Vec<u64> = recent["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["worklogId"].as_u64().unwrap())
        .collect();
    assert!(listed.contains(&old_id));
    assert!(!listed.contains(&now_id));
    let deleted = sim
        .get(&Who::Admin, "/rest/api/3/worklog/deleted?since=0")
        .await
        .json();
    let first = &deleted["values"][0];
    assert!(first.get("worklogId").is_some() && first.get("updatedTime").is_some());
    assert!(first.get("author").is_none() && first.get("issueId").is_none());
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn changelog_bulkfetch_limits_and_token_paging() {
    let sim = start().await;
    let ids: Vec<String> = (0..1001).map(|i| format!("ENG-{i}")).collect();
    for body in [
        json!({"issueIdsOrKeys": []}),
        json!({"issueIdsOrKeys": ids}),
        json!({"issueIdsOrKeys": ["ENG-1"], "fieldIds": (0..11).map(|i| format!("f{i}")).collect::<Vec<_>>()}),
    ] {
        assert_eq!(
            sim.post(&Who::Admin, "/rest/api/3/changelog/bulkfetch", body)
                .await
                .status,
            400
        );
    }
    let mut token: Option<String> = None;
    let mut dates = Vec::new();
    loop {
        let r = sim
            .post(&Who::Admin, "/rest/api/3/changelog/bulkfetch", json!({"issueIdsOrKeys": ["ENG-1", "OPS-1"], "maxResults": 1, "nextPageToken": token}))
            .await
            .json();
        let logs = r["issueChangeLogs"].as_array().unwrap();
        assert_eq!(logs.len(), 1);
        dates.push(
            logs[0]["changeHistories"][0]["created"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        match r.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(dates.len(), 4);
    assert!(
        dates.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {dates:?}"
    );
    let filtered = sim
        .post(
            &Who::Admin,
            "/rest/api/3/changelog/bulkfetch",
            json!({"issueIdsOrKeys": ["ENG-1", "OPS-1"], "fieldIds": ["status"]}),
        )
        .await
        .json();
    let n: usize = filtered["issueChangeLogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["changeHistories"].as_array().unwrap().len())
        .sum();
    assert_eq!(n, 2);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn embedded_comment_pages_hold_the_oldest_comments() {
    let sim = start().await;
    let now = jira_sim::format::now_ms();
    // Appended newest first: the embedded page must still be the oldest comments, oldest first.
    sim.handle.with_state(|st| {
        let ix = st.issue_ref("ENG-1").expect("ENG-1");
        for i in 0..25 {
            st.add_comment(
                ix,
                None,
                format!("comment {i}"),
                now - 3_600_000 - i * 60_000,
            );
        }
    });
    let all = sim
        .get(
            &Who::Admin,
            "/rest/api/3/issue/ENG-1/comment?maxResults=100",
        )
        .await
        .json();
    assert_eq!(all["total"], 27);
    let oldest: Vec<Value> = all["comments"].as_array().unwrap()
        [..jira_sim::routes::EMBEDDED_COMMENTS]
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    let search = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": "key in (ENG-1, ENG-2)", "fields": ["id", "comment"], "maxResults": 5000}),
        )
        .await
        .json();
    let issue = sim
        .get(&Who::Admin, "/rest/api/3/issue/ENG-1?fields=comment")
        .await
        .json();
    let issues = search["issues"].as_array().unwrap();
    let found = issues.iter().find(|i| i["key"] == "ENG-1").unwrap();
    for embedded in [&found["fields"]["comment"], &issue["fields"]["comment"]] {
        assert_eq!(
            (
                &embedded["startAt"],
                &embedded["maxResults"],
                &embedded["total"]
            ),
            (&json!(0), &json!(20), &json!(27))
        );
        let ids: Vec<Value> = embedded["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect();
        assert_eq!(ids, oldest);
    }
    // A page that holds every comment says so: maxResults = total = the comments embedded.
    let small = &issues.iter().find(|i| i["key"] == "ENG-2").unwrap()["fields"]["comment"];
    let n = small["comments"].as_array().unwrap().len();
    assert_eq!(
        (small["total"].as_u64(), small["maxResults"].as_u64()),
        (Some(n as u64), Some(n as u64))
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn legacy_pages_comment_order_and_caps() {
    let sim = start().await;
    let asc = sim
        .get(&Who::Admin, "/rest/api/3/issue/ENG-1/comment")
        .await
        .json();
    let desc = sim
        .get(
            &Who::Admin,
            "/rest/api/3/issue/ENG-1/comment?orderBy=-created",
        )
        .await
        .json();
    assert_eq!(asc["total"], 2);
    assert_eq!(asc["comments"][0]["id"], desc["comments"][1]["id"]);
    assert_ne!(
        asc["comments"][1]["created"], asc["comments"][1]["updated"],
        "edited comment"
    );
    let page = sim
        .get(
            &Who::Admin,
            "/rest/api/3/issue/ENG-1/comment?startAt=1&maxResults=1",
        )
        .await
        .json();
    assert_eq!(
        (
            page["startAt"].as_u64(),
            page["comments"].as_array().unwrap().len()
        ),
        (Some(1), 1)
    );
    assert_eq!(
        sim.get(
            &Who::Admin,
            "/rest/api/3/issue/ENG-1/comment?orderBy=updated"
        )
        .await
        .status,
        400
    );
    let meta = sim
        .get(
            &Who::Admin,
            "/rest/api/3/issue/createmeta/ENG/issuetypes?maxResults=200",
        )
        .await;
    assert_eq!(meta.status, 200);
    let over = sim
        .get(
            &Who::Admin,
            "/rest/api/3/issue/createmeta/ENG/issuetypes?maxResults=201",
        )
        .await;
    assert_eq!(
        over.json()["errorMessages"][0],
        "Parameter 'maxResults' must not exceed the limit '200'"
    );
    let projects = sim
        .get(&Who::Admin, "/rest/api/3/project/search?maxResults=1000")
        .await
        .json();
    assert_eq!(projects["maxResults"], 100);
    let one = sim
        .get(&Who::Admin, "/rest/api/3/project/search?maxResults=1")
        .await
        .json();
    assert_eq!(
        (one["isLast"].as_bool(), one["total"].as_u64()),
        (Some(false), Some(2))
    );
    let wl = sim
        .get(&Who::Admin, "/rest/api/3/issue/ENG-2/worklog")
        .await
        .json();
    assert_eq!(
        (wl["total"].as_u64(), wl["maxResults"].as_u64()),
        (Some(1), Some(5000))
    );
    assert!(
        wl["worklogs"][0]["created"]
            .as_str()
            .unwrap()
            .ends_with(".000+0000")
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn admin_cursors_walk_every_user() {
    let sim = big().await;
    let key = Who::Bearer("sim-admin-key".into());
    let org = sim.handle.org_id();
    let managed = sim.handle.with_state(|st| {
        st.listed
            .iter()
            .filter(|&&u| st.users[u as usize].managed)
            .count()
    });
    let mut cursor = String::new();
    let mut n = 0;
    loop {
        let r = sim
            .get(&key, &format!("/admin/v1/orgs/{org}/users?cursor={cursor}"))
            .await
            .json();
        assert_eq!(r["meta"]["total"], managed);
        let data = r["data"].as_array().unwrap();
        n += data.len();
        assert!(
            data.iter()
                .all(|u| u.get("account_id").is_some() && u.get("email").is_some())
        );
        match r["links"].get("next").and_then(Value::as_str) {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(n, managed);
    let dir = "-";
    let mut cursor: Option<String> = None;
    let mut n = 0;
    loop {
        let r = sim
            .send(
                "POST",
                &sim.url(&format!(
                    "/admin/v2/orgs/{org}/directories/{dir}/users/search"
                )),
                &key,
                Some(&json!({"limit": 500, "cursor": cursor})),
            )
            .await
            .json();
        let data = r["data"].as_array().unwrap();
        n += data.len();
        assert!(data.iter().all(|u| u.get("accountId").is_some()));
        match r["links"].get("next").and_then(Value::as_str) {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let humans_and_apps = sim.handle.with_state(|st| {
        st.listed
            .iter()
            .filter(|&&u| {
                st.users[u as usize].account_type != jira_sim::scenario::AccountType::Customer
            })
            .count()
    });
    assert_eq!(n, humans_and_apps);
    let bad = sim
        .get(&key, &format!("/admin/v1/orgs/{org}/users?cursor=bogus"))
        .await;
    assert_eq!(
        (bad.status, bad.json()["errors"][0]["code"].as_str()),
        (400, Some("ADMIN-400-1"))
    );
    sim.handle.shutdown().await;
}
