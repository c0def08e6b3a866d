//! No object the CRDs admit can stop the operator. Every integer a user can set has a CRD maximum; specs built
//! from the CRD bounds (each integer at its minimum and its maximum, each bounded string at its longest) go
//! through the reconcile paths of both controllers against the simulator, and no reconcile panics: every
//! connection reaches a verdict, every action ends, none reports `InternalError`. An action with the largest
//! admissible `ttlSecondsAfterFinished` finishes and is kept; a larger TTL is refused at admission.

use jira_cloud_operator::api::{JiraAction, JiraConnection, crds, find_condition};
use jira_sim::{GenerateOptions, SimConfig, scenario::AccountType};
use kube::api::PostParams;
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use testkit::Harness;

/// A bounded field of a spec: its path from `spec` and the values at its bounds.
#[derive(Debug)]
struct Bound {
    path: Vec<String>,
    extremes: Vec<Value>,
}

/// The `spec` schema of a kind, from the generated CRDs (the ones the chart installs).
fn spec_schema(kind: &str) -> Value {
    let crd = crds()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .expect("a CRD of the kind");
    let crd = serde_json::to_value(crd).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].clone()
}

/// Every integer and length-bounded string under `schema`, with the values at its bounds. Integers without a
/// maximum are reported in `unbounded`.
fn bounds(
    schema: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<Bound>,
    unbounded: &mut Vec<String>,
) {
    match schema["type"].as_str() {
        Some("integer") => {
            let min = schema["minimum"].as_f64().map_or(i64::MIN, |m| m as i64);
            match schema["maximum"].as_f64().map(|m| m as i64) {
                Some(max) => out.push(Bound {
                    path: path.clone(),
                    extremes: vec![json!(min), json!(max)],
                }),
                None => unbounded.push(path.join(".")),
            }
        }
        Some("string") => {
            if let Some(max) = schema["maxLength"].as_u64() {
                out.push(Bound {
                    path: path.clone(),
                    extremes: vec![json!("x".repeat(max as usize))],
                });
            }
        }
        Some("array") => {
            path.push("[0]".into());
            bounds(&schema["items"], path, out, unbounded);
            path.pop();
        }
        _ => {}
    }
    if let Some(props) = schema["properties"].as_object() {
        for (name, sub) in props {
            path.push(name.clone());
            bounds(sub, path, out, unbounded);
            path.pop();
        }
    }
}

/// `base` with the value at `path` set, when the object holding it exists in `base`.
fn with_value(base: &Value, path: &[String], value: &Value) -> Option<Value> {
    let mut out = base.clone();
    let (last, parents) = path.split_last()?;
    let mut at = &mut out;
    for key in parents {
        at = if key == "[0]" {
            at.get_mut(0)?
        } else {
            at.get_mut(key.as_str())?
        };
    }
    if last == "[0]" {
        *at.get_mut(0)? = value.clone();
    } else {
        at.as_object_mut()?.insert(last.clone(), value.clone());
    }
    Some(out)
}

/// The variants of `bases`: each bounded field of the kind at each of its extremes, where the base has it.
fn variants(kind: &str, bases: &[Value]) -> Vec<Value> {
    let mut found = Vec::new();
    let mut unbounded = Vec::new();
    bounds(
        &spec_schema(kind),
        &mut Vec::new(),
        &mut found,
        &mut unbounded,
    );
    assert!(
        unbounded.is_empty(),
        "{kind}: every integer a user can set needs a CRD maximum: {unbounded:?}"
    );
    let mut out = Vec::new();
    for base in bases {
        // A connection that does not exist keeps an action waiting, which is not what this test is about.
        for bound in found.iter().filter(|b| b.path[0] != "connectionRef") {
            for value in &bound.extremes {
                if let Some(v) = with_value(base, &bound.path, value) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// The reason of condition `type_`, if set.
fn reason_of(
    conditions: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>>,
    type_: &str,
) -> Option<String> {
    conditions
        .and_then(|c| find_condition(c, type_))
        .map(|c| c.reason.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn specs_at_the_crd_bounds_never_panic_a_reconcile() {
    let panics = Arc::new(AtomicUsize::new(0));
    {
        let panics = panics.clone();
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            panics.fetch_add(1, Ordering::SeqCst);
            default_hook(info);
        }));
    }
    let w = Harness::new(
        "bounds",
        SimConfig {
            scenario: jira_sim::generate(&GenerateOptions {
                seed: 11,
                users: 60,
                ..Default::default()
            }),
            ..SimConfig::default()
        },
    )
    .await;
    let (member, outsider, issues) = w.sim.with_state(|st| {
        let humans: Vec<_> = st
            .users
            .iter()
            .filter(|u| u.active && u.account_type == AccountType::Atlassian && u.email.is_some())
            .map(|u| u.account_id.clone())
            .collect();
        let issues: Vec<String> = st.issues.iter().flatten().map(|i| i.key.clone()).collect();
        (humans[0].clone(), humans[1].clone(), issues)
    });
    let operator = w.start(w.fault_settings(Duration::from_secs(10)));
    w.secret(
        "basic",
        json!({"email": "admin@example.com", "apiToken": "classic-admin-token"}),
    )
    .await;

    // Connections: the basic connection with each bounded field at each extreme.
    let connection_base = json!({
        "siteUrl": w.site(),
        "auth": {"basic": {"secretRef": {"name": "basic"}}},
        "sync": {"interval": "24h", "usageWindowDays": 30},
        "inventory": "Summary",
    });
    let mut connections = Vec::new();
    for (i, spec) in variants("JiraConnection", std::slice::from_ref(&connection_base))
        .into_iter()
        .enumerate()
    {
        let c: JiraConnection = serde_json::from_value(json!({
            "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraConnection",
            "metadata": {"name": format!("c{i}")}, "spec": spec,
        }))
        .unwrap();
        if w.connections()
            .create(&PostParams::default(), &c)
            .await
            .is_ok()
        {
            connections.push(format!("c{i}"));
        }
    }
    w.create_connection("acme", connection_base).await;

    // Actions: one base per kind, with each bounded field (TTL, strings) at each extreme.
    let kinds = [
        json!({"createIssue": {"project": "ENG", "issueType": "Task", "summary": "bounds", "description": "d", "labels": ["l"]}}),
        json!({"deleteIssue": {"issue": issues[0], "deleteSubtasks": true}}),
        json!({"addUserToGroup": {"user": {"accountId": outsider}, "group": "jira-testers"}}),
        json!({"removeUserFromGroup": {"user": {"accountId": member}, "group": "jira-testers"}}),
        json!({"deleteUser": {"user": {"email": "nobody@example.com"}}}),
    ];
    let bases: Vec<Value> = kinds
        .iter()
        .map(|k| {
            let mut spec = json!({"connectionRef": {"name": "acme"}, "ttlSecondsAfterFinished": 0});
            for (key, v) in k.as_object().unwrap() {
                spec[key] = v.clone();
            }
            spec
        })
        .collect();
    let mut actions = Vec::new();
    for (i, spec) in variants("JiraAction", &bases).into_iter().enumerate() {
        let a: JiraAction = serde_json::from_value(json!({
            "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraAction",
            "metadata": {"name": format!("a{i}")}, "spec": spec,
        }))
        .unwrap();
        if w.actions().create(&PostParams::default(), &a).await.is_ok() {
            actions.push(format!("a{i}"));
        }
    }
    assert!(
        connections.len() >= 2 && actions.len() >= 10,
        "the CRD bounds admitted too few objects: {connections:?} {actions:?}"
    );

    // Every connection reaches a verdict, every action ends (or its TTL of 0 deleted it).
    for name in &connections {
        w.wait_connection(name, "a Ready verdict", |c| {
            c.status
                .as_ref()
                .and_then(|s| find_condition(&s.conditions, "Ready"))
                .is_some_and(|r| r.status != "Unknown")
        })
        .await;
    }
    let api = w.actions();
    for name in &actions {
        testkit::wait::eventually(
            &format!("action {name} to end"),
            testkit::wait::LIMIT,
            || async {
                match api.get_opt(name).await {
                    Ok(None) => Some(()),
                    Ok(Some(a)) => jira_cloud_operator::controller::action::lifecycle::is_finished(
                        a.status.as_ref(),
                    )
                    .then_some(()),
                    Err(_) => None,
                }
            },
        )
        .await;
    }
    for c in w.connections().list(&Default::default()).await.unwrap() {
        let conditions = c.status.as_ref().map(|s| &s.conditions);
        assert_ne!(
            reason_of(conditions, "Ready").as_deref(),
            Some("InternalError"),
            "{}",
            c.metadata.name.unwrap()
        );
    }
    for a in api.list(&Default::default()).await.unwrap() {
        let conditions = a.status.as_ref().map(|s| &s.conditions);
        assert_ne!(
            reason_of(conditions, "Succeeded").as_deref(),
            Some("InternalError")
        );
    }
    assert_eq!(panics.load(Ordering::SeqCst), 0, "a reconcile panicked");
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_admissible_ttl_keeps_the_action_and_a_larger_one_is_refused() {
    let schema = spec_schema("JiraAction");
    let max = schema["properties"]["ttlSecondsAfterFinished"]["maximum"]
        .as_f64()
        .map_or(i64::MAX, |m| m as i64);
    let w = Harness::new("ttl-bounds", SimConfig::default()).await;
    let operator = w.start(w.fault_settings(Duration::from_secs(10)));
    w.basic_connection("acme").await;
    let group = json!({"addUserToGroup": {"user": {"email": "admin@example.com"}, "group": "jira-testers"}});
    let mut spec = json!({"connectionRef": {"name": "acme"}, "ttlSecondsAfterFinished": max});
    for (k, v) in group.as_object().unwrap() {
        spec[k] = v.clone();
    }
    let action: JiraAction = serde_json::from_value(json!({
        "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraAction",
        "metadata": {"name": "longest"}, "spec": spec.clone(),
    }))
    .unwrap();
    w.actions()
        .create(&PostParams::default(), &action)
        .await
        .expect("the largest admissible TTL is admitted");
    let done = w.finished_all(&["longest".to_string()]).await;
    assert_eq!(
        done[0].status.as_ref().and_then(|s| s.phase),
        Some(jira_cloud_operator::api::ActionPhase::Succeeded)
    );
    // The action stays (its TTL is far away) and the operator keeps serving: a second action still runs.
    w.create_on("after", "acme", json!({"removeUserFromGroup": {"user": {"email": "admin@example.com"}, "group": "jira-testers"}}))
        .await;
    w.finished_all(&["after".to_string()]).await;
    assert!(w.actions().get_opt("longest").await.unwrap().is_some());

    for too_long in [max.saturating_add(1), i64::MAX] {
        if too_long == max {
            continue;
        }
        spec["ttlSecondsAfterFinished"] = json!(too_long);
        let refused: JiraAction = serde_json::from_value(json!({
            "apiVersion": "jiracloud.io/v1alpha1", "kind": "JiraAction",
            "metadata": {"name": format!("too-long-{}", too_long % 1000)}, "spec": spec.clone(),
        }))
        .unwrap();
        match w.actions().create(&PostParams::default(), &refused).await {
            Err(kube::Error::Api(s)) => {
                assert_eq!(s.code, 422, "{s:?}");
                assert!(
                    s.message.contains("ttlSecondsAfterFinished"),
                    "{}",
                    s.message
                );
            }
            other => panic!("a TTL of {too_long} was admitted: {other:?}"),
        }
    }
    assert!(
        max <= 366 * 86400,
        "the TTL maximum is about a year, not {max}"
    );
    operator.stop().await;
}
