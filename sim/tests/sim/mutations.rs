//! Mutations change the simulated state, with Jira's status codes and error bodies on each error path.

use crate::common::*;
use jira_sim::SimConfig;
use jira_sim::scenario::{AlreadyMember, default_scenario};
use serde_json::{Value, json};

fn issue(fields: Value) -> Value {
    json!({"fields": fields})
}

fn base_fields() -> Value {
    json!({"project": {"key": "ENG"}, "issuetype": {"name": "Task"}, "summary": "Review license of Emma",
           "description": {"type": "doc", "version": 1, "content": []}, "labels": ["license-operator", "op-3f9a2c"]})
}

#[tokio::test]
async fn create_issue_is_searchable_by_label_and_deletable() {
    let sim = start().await;
    let r = sim
        .post(&Who::Admin, "/rest/api/3/issue", json!({"fields": base_fields(), "properties": [{"key": "license-operator", "value": {"actionId": "3f9a2c"}}]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.json();
    assert_eq!(created["key"], "ENG-4");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(
        created["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/rest/api/3/issue/{id}"))
    );
    let found = sim
        .post(&Who::Admin, "/rest/api/3/search/jql", json!({"jql": "labels = op-3f9a2c", "fields": ["key"], "properties": ["license-operator"]}))
        .await
        .json();
    assert_eq!(found["issues"][0]["key"], "ENG-4");
    assert_eq!(
        found["issues"][0]["properties"]["license-operator"]["actionId"],
        "3f9a2c"
    );
    let dump = sim
        .get(&Who::Anon, "/__sim/issues?label=op-3f9a2c")
        .await
        .json();
    assert_eq!(dump, json!({"count": 1, "keys": ["ENG-4"]}));
    let got = sim
        .get(
            &Who::Admin,
            &format!("/rest/api/3/issue/{id}?fields=reporter,labels"),
        )
        .await
        .json();
    assert_eq!(got["fields"]["reporter"]["accountId"], ADMIN_ID);
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/issue/ENG-4")
            .await
            .status,
        204
    );
    let again = sim.delete(&Who::Admin, "/rest/api/3/issue/ENG-4").await;
    assert_eq!(again.status, 404);
    assert_eq!(
        again.json()["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
    assert_eq!(
        sim.handle
            .with_state(|st| st.issues_with_label("op-3f9a2c").len()),
        0
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn create_issue_validation_errors() {
    let sim = start().await;
    let with = |k: &str, v: Value| {
        let mut f = base_fields();
        f[k] = v;
        issue(f)
    };
    let without = |k: &str| {
        let mut f = base_fields();
        f.as_object_mut().unwrap().remove(k);
        issue(f)
    };
    let cases = [
        (
            without("summary"),
            "summary",
            "You must specify a summary of the issue.",
        ),
        (
            with("summary", json!("")),
            "summary",
            "You must specify a summary of the issue.",
        ),
        (
            with("summary", json!("a\nb")),
            "summary",
            "The summary is invalid because it contains newline characters.",
        ),
        (
            with("summary", json!("x".repeat(256))),
            "summary",
            "Summary must be less than 255 characters.",
        ),
        (without("issuetype"), "issuetype", "Specify an issue type"),
        (
            with("issuetype", json!({"id": "99999"})),
            "issuetype",
            "The issue type selected is invalid.",
        ),
        (
            with("project", json!({"key": "NOPE"})),
            "project",
            "Specify a valid project ID or key",
        ),
        (
            without("project"),
            "project",
            "Specify a valid project ID or key",
        ),
        (with("description", json!("plain text")), "description", ""),
        (with("labels", json!(["has space"])), "labels", ""),
        (
            with("priority", json!({"name": "High"})),
            "priority",
            "Field 'priority' cannot be set. It is not on the appropriate screen, or unknown.",
        ),
        (
            with("issuetype", json!({"name": "Subtask"})),
            "parent",
            "Issue type is a sub-task but parent issue key or id not specified.",
        ),
    ];
    for (body, field, message) in cases {
        let r = sim.post(&Who::Admin, "/rest/api/3/issue", body).await;
        assert_eq!(r.status, 400, "{field}: {}", r.text);
        let e = r.json();
        assert_eq!(e["errorMessages"], json!([]));
        let text = e["errors"][field]
            .as_str()
            .unwrap_or_else(|| panic!("no error for {field}: {e}"));
        assert!(text.contains(message), "{field}: {text}");
    }
    assert_eq!(
        sim.post(&Who::Anon, "/rest/api/3/issue", issue(base_fields()))
            .await
            .status,
        401
    );
    let bad_json = sim
        .client
        .post(sim.url("/rest/api/3/issue"))
        .basic_auth("admin@example.com", Some("classic-admin-token"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    assert_eq!(sim.handle.with_state(|st| st.issue_count()), 4);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn delete_issue_with_subtasks_and_permissions() {
    let sim = start().await;
    let parent = sim
        .post(&Who::Viewer, "/rest/api/3/issue", issue(base_fields()))
        .await
        .json()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let mut sub = base_fields();
    sub["issuetype"] = json!({"name": "Subtask"});
    sub["parent"] = json!({"key": parent});
    let r = sim
        .post(&Who::Viewer, "/rest/api/3/issue", issue(sub))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let sub_key = r.json()["key"].as_str().unwrap().to_string();
    // The viewer reported it and may delete it, but not someone else's issue.
    let r = sim.delete(&Who::Viewer, "/rest/api/3/issue/ENG-1").await;
    assert_eq!(r.status, 403);
    assert!(
        r.json()["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("permission")
    );
    let r = sim
        .delete(&Who::Viewer, &format!("/rest/api/3/issue/{parent}"))
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("subtasks")
    );
    assert_eq!(
        sim.delete(
            &Who::Viewer,
            &format!("/rest/api/3/issue/{parent}?deleteSubtasks=true")
        )
        .await
        .status,
        204
    );
    assert_eq!(
        sim.get(&Who::Admin, &format!("/rest/api/3/issue/{sub_key}"))
            .await
            .status,
        404
    );
    // Worklogs of deleted issues are reported as deleted (moved past the one-minute cutoff).
    let before = sim
        .get(&Who::Admin, "/rest/api/3/worklog/deleted?since=0")
        .await
        .json()["values"]
        .as_array()
        .unwrap()
        .len();
    sim.post(
        &Who::Anon,
        "/__sim/activity",
        json!({"kind": "worklog", "issue": "ENG-3", "author": "mia@example.com", "at": "5m"}),
    )
    .await;
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/issue/ENG-3")
            .await
            .status,
        204
    );
    let deleted_at = sim.handle.with_state(|st| {
        let last = st.worklog_deletions.last().unwrap().0;
        for d in st.worklog_deletions.iter_mut() {
            if d.0 == last {
                d.0 -= 120_000;
            }
        }
        st.worklog_deletions.sort_unstable();
        last
    });
    assert!(deleted_at > 0);
    let after = sim
        .get(&Who::Admin, "/rest/api/3/worklog/deleted?since=0")
        .await
        .json()["values"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before + 1);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn group_membership_add_and_remove() {
    let sim = start().await;
    let add = |group: &str| format!("/rest/api/3/group/user?groupId={group}");
    let r = sim
        .post(&Who::Admin, &add(DEVS), json!({"accountId": NOAH}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["name"], "devs");
    let groups = sim
        .get(
            &Who::Admin,
            &format!("/rest/api/3/user/groups?accountId={NOAH}"),
        )
        .await
        .json();
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "devs")
    );
    // Already a member: 201 by default.
    assert_eq!(
        sim.post(&Who::Admin, &add(DEVS), json!({"accountId": NOAH}))
            .await
            .status,
        201
    );
    for (url, body, status, text) in [
        (
            add("nope"),
            json!({"accountId": NOAH}),
            404,
            "Specified group does not exist or you do not have required permissions",
        ),
        (
            add(DEVS),
            json!({"accountId": "nobody"}),
            404,
            "Specified user does not exist or you do not have required permissions",
        ),
        (add(DEVS), json!({}), 400, "accountId"),
        (
            "/rest/api/3/group/user".to_string(),
            json!({"accountId": NOAH}),
            400,
            "group",
        ),
    ] {
        let r = sim.post(&Who::Admin, &url, body).await;
        assert_eq!(r.status, status, "{url}: {}", r.text);
        assert!(
            r.json()["errorMessages"][0]
                .as_str()
                .unwrap()
                .contains(text),
            "{}",
            r.text
        );
    }
    assert_eq!(
        sim.post(&Who::Viewer, &add(DEVS), json!({"accountId": NOAH}))
            .await
            .status,
        403
    );
    let remove = format!("/rest/api/3/group/user?groupId={DEVS}&accountId={NOAH}");
    assert_eq!(sim.delete(&Who::Viewer, &remove).await.status, 403);
    let r = sim.delete(&Who::Admin, &remove).await;
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    let r = sim.delete(&Who::Admin, &remove).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("not a member")
    );
    assert_eq!(
        sim.delete(
            &Who::Admin,
            &format!("/rest/api/3/group/user?groupId={DEVS}")
        )
        .await
        .status,
        400
    );
    // Product access follows group membership.
    let path = "/rest/api/3/applicationrole/jira-servicedesk";
    let before = sim.get(&Who::Admin, path).await.json()["userCount"]
        .as_u64()
        .unwrap();
    let sd = sim.handle.with_state(|st| {
        st.groups[st.group_ref(None, Some("jira-servicedesk-users")).unwrap() as usize]
            .id
            .clone()
    });
    sim.post(&Who::Admin, &add(&sd), json!({"accountId": MIA}))
        .await;
    let after = sim.get(&Who::Admin, path).await.json();
    assert_eq!(after["userCount"].as_u64(), Some(before + 1));
    assert_eq!(
        after["remainingSeats"].as_i64(),
        Some(5 - before as i64 - 1)
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn already_member_can_be_an_error_and_the_last_site_admin_stays() {
    let mut scenario = default_scenario();
    scenario.settings.already_member = AlreadyMember::Error;
    let sim = start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await;
    let r = sim
        .post(
            &Who::Admin,
            &format!("/rest/api/3/group/user?groupId={DEVS}"),
            json!({"accountId": MIA}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("already a member")
    );
    let svc = "712020:5c1f0000-0000-4000-8000-00000000a001";
    assert_eq!(
        sim.delete(
            &Who::Admin,
            &format!("/rest/api/3/group/user?groupId={SITE_ADMINS}&accountId={svc}")
        )
        .await
        .status,
        200
    );
    let r = sim
        .delete(
            &Who::Admin,
            &format!("/rest/api/3/group/user?groupId={SITE_ADMINS}&accountId={ADMIN_ID}"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("last site administrator")
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn delete_user_follows_the_reporter_rule() {
    let sim = start().await;
    let r = sim
        .delete(&Who::Admin, &format!("/rest/api/3/user?accountId={MIA}"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"errorMessages": ["Cannot delete user 'Mia Krystof' because they have reported 1 issue(s)."], "errors": {}})
    );
    assert_eq!(
        sim.delete(&Who::Viewer, &format!("/rest/api/3/user?accountId={AVA}"))
            .await
            .status,
        403
    );
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/user?accountId=nobody")
            .await
            .status,
        404
    );
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/user").await.status,
        400
    );
    let r = sim
        .delete(&Who::Admin, &format!("/rest/api/3/user?accountId={AVA}"))
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert_eq!(
        sim.get(&Who::Admin, &format!("/rest/api/3/user?accountId={AVA}"))
            .await
            .status,
        404
    );
    let listed = sim
        .get(&Who::Admin, "/rest/api/3/users/search?maxResults=100")
        .await
        .json();
    assert!(
        !listed
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["accountId"] == AVA)
    );
    // Once Mia's issue is gone she can be deleted.
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/issue/ENG-1")
            .await
            .status,
        204
    );
    assert_eq!(
        sim.delete(&Who::Admin, &format!("/rest/api/3/user?accountId={MIA}"))
            .await
            .status,
        204
    );
    let dump = sim.get(&Who::Anon, "/__sim/state").await.json();
    assert_eq!(dump["counts"]["users"], 9);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn search_lag_hides_new_issues_until_reconciled() {
    let mut scenario = default_scenario();
    scenario.settings.search_lag_secs = 3600;
    let sim = start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await;
    let created = sim
        .post(&Who::Admin, "/rest/api/3/issue", issue(base_fields()))
        .await
        .json();
    let id: u64 = created["id"].as_str().unwrap().parse().unwrap();
    let q = json!({"jql": "labels = op-3f9a2c", "fields": ["key"]});
    assert_eq!(
        sim.post(&Who::Admin, "/rest/api/3/search/jql", q)
            .await
            .json()["issues"],
        json!([])
    );
    let q = json!({"jql": "labels = op-3f9a2c", "fields": ["key"], "reconcileIssues": [id]});
    assert_eq!(
        sim.post(&Who::Admin, "/rest/api/3/search/jql", q)
            .await
            .json()["issues"][0]["key"],
        "ENG-4"
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn deleting_an_issue_while_paging_a_search_skips_it() {
    let sim = start().await;
    let page = |token: Option<String>| json!({"jql": "project = ENG ORDER BY key", "fields": ["key"], "maxResults": 1, "nextPageToken": token});
    let first = sim
        .post(&Who::Admin, "/rest/api/3/search/jql", page(None))
        .await
        .json();
    assert_eq!(first["issues"][0]["key"], "ENG-1");
    assert_eq!(
        sim.delete(&Who::Admin, "/rest/api/3/issue/ENG-2")
            .await
            .status,
        204
    );
    let token = first["nextPageToken"].as_str().map(str::to_string);
    let second = sim
        .post(&Who::Admin, "/rest/api/3/search/jql", page(token))
        .await
        .json();
    assert_eq!(second["issues"], json!([]));
    let third = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            page(second["nextPageToken"].as_str().map(str::to_string)),
        )
        .await
        .json();
    assert_eq!(third["issues"][0]["key"], "ENG-3");
    assert_eq!(third["isLast"], true);
    let zero = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": "project = ENG", "maxResults": 0}),
        )
        .await
        .json();
    assert_eq!(
        zero["issues"].as_array().unwrap().len(),
        1,
        "maxResults 0 still makes progress"
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn control_plane_deletes_existing_worklogs() {
    let sim = start().await;
    let r = sim
        .post(
            &Who::Anon,
            "/__sim/activity",
            json!({"kind": "worklog_deleted", "worklog": 10001, "at": "5m"}),
        )
        .await;
    assert_eq!(r.json()["ids"], json!([10001]));
    let deleted = sim
        .get(&Who::Admin, "/rest/api/3/worklog/deleted?since=0")
        .await
        .json();
    assert!(
        deleted["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["worklogId"] == 10001)
    );
    let updated = sim
        .get(&Who::Admin, "/rest/api/3/worklog/updated?since=0")
        .await
        .json();
    assert!(
        !updated["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["worklogId"] == 10001)
    );
    assert_eq!(
        sim.get(&Who::Admin, "/rest/api/3/issue/ENG-2/worklog")
            .await
            .json()["total"],
        0
    );
    let again = sim
        .post(
            &Who::Anon,
            "/__sim/activity",
            json!({"kind": "worklog_deleted", "worklog": 10001}),
        )
        .await;
    assert_eq!(again.status, 400);
    sim.handle.shutdown().await;
}
