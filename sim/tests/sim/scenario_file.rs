//! Hand-written scenario files give exact figures, and the binary serves them: the README's example
//! is loaded as written, and `jira-sim --print-url` prints its URL and stops on SIGTERM.

use crate::common::*;
use jira_sim::{Scenario, SimConfig};
use serde_json::json;

fn readme_example() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```yaml\n")
        .expect("a yaml block in the README")
        + "```yaml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_string()
}

#[tokio::test]
async fn the_readme_example_loads_with_exact_figures() {
    let scenario = Scenario::from_yaml(&readme_example()).expect("the README example parses");
    let sim = start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await;
    let bob = sim
        .get(&Who::Admin, "/rest/api/3/user?accountId=u-bob")
        .await
        .json();
    assert_eq!(bob["active"], false);
    assert!(bob.get("emailAddress").is_none());
    let issue = sim
        .get(
            &Who::Admin,
            "/rest/api/3/issue/ENG-1?fields=reporter,issuetype,labels,comment,worklog",
        )
        .await
        .json();
    assert_eq!(issue["fields"]["reporter"]["accountId"], "u-bob");
    assert_eq!(issue["fields"]["issuetype"]["name"], "Bug");
    assert_eq!(issue["fields"]["comment"]["total"], 1);
    let now = chrono::Utc::now();
    let day = |n: i64| {
        (now - chrono::Duration::days(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let comment = &issue["fields"]["comment"]["comments"][0];
    assert_eq!(
        comment["created"].as_str().unwrap(),
        format!("{}T10:00:00.000+0000", day(2))
    );
    assert_eq!(
        comment["updated"].as_str().unwrap(),
        format!("{}T08:00:00.000+0000", day(1))
    );
    let changes = sim
        .get(&Who::Admin, "/rest/api/3/issue/ENG-1/changelog")
        .await
        .json();
    assert_eq!(
        changes["values"][0]["created"].as_str().unwrap(),
        format!("{}T11:00:00.000+0000", day(2))
    );
    assert_eq!(changes["values"][0]["items"][0]["toString"], "Done");
    let search = sim
        .post(
            &Who::Admin,
            "/rest/api/3/search/jql",
            json!({"jql": "status = Done", "fields": ["key"]}),
        )
        .await
        .json();
    assert_eq!(search["issues"][0]["key"], "ENG-1");
    let deleted = sim
        .get(&Who::Admin, "/rest/api/3/worklog/deleted?since=0")
        .await
        .json();
    assert_eq!(deleted["values"].as_array().unwrap().len(), 1);
    let dates = sim
        .get(
            &Who::Bearer("sim-admin-key".into()),
            &format!(
                "/admin/v1/orgs/{}/directory/users/u-bob/last-active-dates",
                sim.handle.org_id()
            ),
        )
        .await
        .json();
    assert_eq!(dates["data"]["product_access"][0]["last_active"], day(3));
    sim.handle.shutdown().await;
}

#[test]
fn scenario_errors_are_reported() {
    for (yaml, expected) in [
        ("users: [{name: A, groups: [nope]}]", "unknown group"),
        ("users: [{name: A, colour: red}]", "unknown field"),
        (
            "issues: [{project: X, summary: s, created: 1d}]",
            "unknown project",
        ),
        (
            "projects: [{key: E, name: E}]\nissues: [{project: E, summary: s, created: yesterday}]",
            "invalid time",
        ),
    ] {
        let err = Scenario::from_yaml(yaml)
            .and_then(|s| jira_sim::State::from_scenario(s, 0).map(|_| ()))
            .unwrap_err();
        assert!(err.contains(expected), "{yaml}: {err}");
    }
}

#[test]
fn the_binary_prints_its_url_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jira-sim"))
        .args(["--port", "0", "--users", "30", "--print-url"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    let addr = url.strip_prefix("http://").expect("an http URL");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "GET /__sim/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}
