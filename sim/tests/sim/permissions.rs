//! `mypermissions` answers from the same permission model the routes enforce: global permissions from the
//! account's groups, project permissions from each project's scheme.

use crate::common::*;
use jira_sim::SimConfig;
use jira_sim::scenario::default_scenario;
use serde_json::{Value, json};

async fn have(sim: &Sim, who: &Who, query: &str) -> Value {
    let r = sim
        .get(who, &format!("/rest/api/3/mypermissions?{query}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let mut out = serde_json::Map::new();
    for (key, p) in body["permissions"].as_object().unwrap() {
        assert_eq!(p["key"], key.as_str());
        out.insert(key.clone(), p["havePermission"].clone());
    }
    Value::Object(out)
}

fn create_in(project: &str) -> Value {
    json!({"fields": {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": "Reclaim"}})
}

#[tokio::test]
async fn default_scheme_answers_as_documented() {
    let sim = start().await;
    let keys = "permissions=ADMINISTER,USER_PICKER,SYSTEM_ADMIN,BROWSE_PROJECTS,CREATE_ISSUES,DELETE_ISSUES";
    assert_eq!(
        have(&sim, &Who::Admin, keys).await,
        json!({"ADMINISTER": true, "USER_PICKER": true, "SYSTEM_ADMIN": true, "BROWSE_PROJECTS": true,
               "CREATE_ISSUES": true, "DELETE_ISSUES": true})
    );
    // Any account can be a reporter: Delete issues holds in a project, not for another's issue.
    assert_eq!(
        have(&sim, &Who::Viewer, keys).await,
        json!({"ADMINISTER": false, "USER_PICKER": false, "SYSTEM_ADMIN": false, "BROWSE_PROJECTS": true,
               "CREATE_ISSUES": true, "DELETE_ISSUES": true})
    );
    assert_eq!(
        have(
            &sim,
            &Who::Viewer,
            "permissions=DELETE_ISSUES&issueKey=ENG-1"
        )
        .await,
        json!({"DELETE_ISSUES": false})
    );
    assert_eq!(
        sim.delete(&Who::Viewer, "/rest/api/3/issue/ENG-1")
            .await
            .status,
        403
    );
    // Anonymous callers hold nothing; the gateway answers too.
    assert_eq!(
        have(&sim, &Who::Anon, "permissions=BROWSE_PROJECTS").await,
        json!({"BROWSE_PROJECTS": false})
    );
    let token = sim.oauth_token().await;
    let r = sim
        .send(
            "GET",
            &sim.gw("/rest/api/3/mypermissions?permissions=CREATE_ISSUES&projectKey=ENG"),
            &Who::Bearer(token),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["permissions"]["CREATE_ISSUES"]["type"], "PROJECT");
    // Errors as documented: keys required and known, the project must exist.
    for (query, status) in [
        ("", 400),
        ("permissions=", 400),
        ("permissions=NOT_A_PERMISSION", 400),
        ("permissions=CREATE_ISSUES&projectKey=NOPE", 404),
        ("permissions=DELETE_ISSUES&issueKey=ENG-999", 404),
    ] {
        let r = sim
            .get(&Who::Admin, &format!("/rest/api/3/mypermissions?{query}"))
            .await;
        assert_eq!(r.status, status, "{query}: {}", r.text);
        assert!(r.json()["errorMessages"][0].is_string(), "{}", r.text);
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_project_scheme_withholds_permissions_and_the_routes_agree() {
    let mut scenario = default_scenario();
    let ops = scenario
        .projects
        .iter_mut()
        .find(|p| p.key == "OPS")
        .unwrap();
    ops.permissions
        .insert("CREATE_ISSUES".into(), vec!["jira-admins".into()]);
    ops.permissions.insert("DELETE_ISSUES".into(), vec![]);
    let sim = start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await;
    let q = "permissions=CREATE_ISSUES,DELETE_ISSUES";
    assert_eq!(
        have(&sim, &Who::Viewer, &format!("{q}&projectKey=OPS")).await,
        json!({"CREATE_ISSUES": false, "DELETE_ISSUES": false})
    );
    assert_eq!(
        have(&sim, &Who::Viewer, &format!("{q}&projectKey=ENG")).await,
        json!({"CREATE_ISSUES": true, "DELETE_ISSUES": true})
    );
    assert_eq!(
        have(&sim, &Who::Admin, &format!("{q}&projectKey=OPS")).await,
        json!({"CREATE_ISSUES": true, "DELETE_ISSUES": false})
    );
    let refused = sim
        .post(&Who::Viewer, "/rest/api/3/issue", create_in("OPS"))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(
        refused.json()["errorMessages"][0],
        "You do not have permission to create issues in this project."
    );
    assert_eq!(
        sim.post(&Who::Viewer, "/rest/api/3/issue", create_in("ENG"))
            .await
            .status,
        201
    );
    let created = sim
        .post(&Who::Admin, "/rest/api/3/issue", create_in("OPS"))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let key = created.json()["key"].as_str().unwrap().to_string();
    // Issues of a project the caller may not browse are not found by search.
    let mut scenario = default_scenario();
    scenario
        .projects
        .iter_mut()
        .find(|p| p.key == "OPS")
        .unwrap()
        .permissions
        .insert("BROWSE_PROJECTS".into(), vec!["jira-admins".into()]);
    let hidden = start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await;
    let count = |who: Who| {
        let hidden = &hidden;
        async move {
            let r = hidden
                .post(
                    &who,
                    "/rest/api/3/search/jql",
                    json!({"jql": "project = OPS ORDER BY key", "fields": ["key"]}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json()["issues"].as_array().unwrap().len()
        }
    };
    assert!(count(Who::Admin).await > 0);
    assert_eq!(count(Who::Viewer).await, 0);
    hidden.handle.shutdown().await;
    let r = sim
        .delete(&Who::Admin, &format!("/rest/api/3/issue/{key}"))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    sim.handle.shutdown().await;
}

#[test]
fn a_scheme_must_name_known_permissions_and_groups() {
    let mut scenario = default_scenario();
    scenario.projects[0]
        .permissions
        .insert("CREATE_ISSUE".into(), vec![]);
    let err = jira_sim::state::State::from_scenario(scenario, 0).unwrap_err();
    assert!(err.contains("unknown permission 'CREATE_ISSUE'"), "{err}");
    let mut scenario = default_scenario();
    scenario.projects[0]
        .permissions
        .insert("CREATE_ISSUES".into(), vec!["nobody".into()]);
    let err = jira_sim::state::State::from_scenario(scenario, 0).unwrap_err();
    assert!(err.contains("unknown group 'nobody'"), "{err}");
}
