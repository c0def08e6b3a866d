//! Issues: create, get and delete.

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::permissions::need;
use crate::answer::{ApiError, ApiResult, ok};
use crate::app::{App, read};
use crate::format::now_ms;
use crate::permissions::Scope;
use crate::request::{Arg, Caller, Params, body, scope};
use crate::shapes::issues::{FieldSel, issue_json};
use crate::state::ISSUE_TYPES;

#[derive(Deserialize, Default)]
struct CreateBody {
    #[serde(default)]
    fields: Map<String, Value>,
    #[serde(default)]
    properties: Vec<PropertyBody>,
}

#[derive(Deserialize)]
struct PropertyBody {
    key: String,
    value: Value,
}

fn ref_str<'a>(v: Option<&'a Value>, keys: &[&str]) -> Option<String> {
    let v: &'a Value = v?;
    keys.iter().find_map(|k| match v.get(*k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

const CREATE: &[&str] = &["BROWSE_PROJECTS", "CREATE_ISSUES"];
const CANNOT_CREATE: &str = "You do not have permission to create issues in this project.";
const CANNOT_DELETE: &str = "You do not have permission to delete issues in this project.";

/// `POST /rest/api/3/issue` — 201 `{id, key, self}`, 400 with field errors, 403 without *Browse projects* and
/// *Create issues* in the project.
pub(crate) async fn create(AxState(app): AxState<App>, caller: Caller, raw: Bytes) -> ApiResult {
    let u = caller.user(scope::WRITE_WORK)?;
    let b: CreateBody = body(&raw)?;
    let mut st = app.state.write();
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut err = |k: &str, v: &str| errors.push((k.to_string(), v.to_string()));
    for k in b.fields.keys() {
        if ![
            "project",
            "issuetype",
            "summary",
            "description",
            "labels",
            "parent",
            "reporter",
            "assignee",
        ]
        .contains(&k.as_str())
        {
            err(
                k,
                &format!(
                    "Field '{k}' cannot be set. It is not on the appropriate screen, or unknown."
                ),
            );
        }
    }
    let project = match ref_str(b.fields.get("project"), &["key", "id"]) {
        None => None,
        Some(r) => st.project_ref(&r),
    };
    match project {
        None => err("project", "Specify a valid project ID or key"),
        Some(p) => need(&st, u, CREATE, Scope::Project(p), CANNOT_CREATE)?,
    }
    let issue_type = match ref_str(b.fields.get("issuetype"), &["id", "name"]) {
        None => {
            err("issuetype", "Specify an issue type");
            None
        }
        Some(r) => {
            let t = ISSUE_TYPES
                .iter()
                .position(|t| t.id.to_string() == r || t.name.eq_ignore_ascii_case(&r));
            if t.is_none() {
                err("issuetype", "The issue type selected is invalid.");
            }
            t
        }
    };
    let summary = b
        .fields
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if summary.trim().is_empty() {
        err("summary", "You must specify a summary of the issue.");
    } else if summary.chars().count() > 255 {
        err("summary", "Summary must be less than 255 characters.");
    } else if summary.contains('\n') || summary.contains('\r') {
        err(
            "summary",
            "The summary is invalid because it contains newline characters.",
        );
    }
    let description = match b.fields.get("description") {
        None | Some(Value::Null) => None,
        Some(d @ Value::Object(o)) if o.get("type").and_then(Value::as_str) == Some("doc") => {
            Some(d.clone())
        }
        Some(_) => {
            err(
                "description",
                "Operation value must be an Atlassian Document (see the Atlassian Document Format).",
            );
            None
        }
    };
    let mut labels = Vec::new();
    match b.fields.get("labels") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for l in items {
                match l.as_str() {
                    Some(s)
                        if !s.is_empty() && !s.contains(char::is_whitespace) && s.len() <= 255 =>
                    {
                        labels.push(s.to_string())
                    }
                    _ => err(
                        "labels",
                        &format!(
                            "The label '{}' contains spaces which is invalid.",
                            l.as_str().unwrap_or("")
                        ),
                    ),
                }
            }
        }
        Some(_) => err("labels", "Field 'labels' must be an array of strings."),
    }
    let parent = match ref_str(b.fields.get("parent"), &["key", "id"]) {
        None => None,
        Some(r) => {
            let p = st.issue_ref(&r);
            if p.is_none() {
                err("parent", "Could not find issue by id or key.");
            }
            p
        }
    };
    if let Some(t) = issue_type
        && ISSUE_TYPES[t].level < 0
        && parent.is_none()
    {
        err(
            "parent",
            "Issue type is a sub-task but parent issue key or id not specified.",
        );
    }
    let mut properties = Vec::new();
    for p in b.properties {
        if p.key.is_empty() || p.key.len() > 255 || p.value.to_string().len() > 32_768 {
            err(
                "properties",
                "The property key must be 1-255 characters and the value at most 32768 characters.",
            );
        } else {
            properties.push((p.key, p.value));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(StatusCode::BAD_REQUEST, errors));
    }
    let (Some(project), Some(issue_type)) = (project, issue_type) else {
        return Err(ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR));
    };
    let now = now_ms();
    let ix = st.create_issue(
        project,
        issue_type,
        summary,
        description,
        Some(u),
        labels,
        parent,
        properties,
        now,
    );
    app.recent_writes.lock().created(now, ix);
    let issue = st.issue(ix);
    let v = json!({"id": issue.id.to_string(), "key": issue.key, "self": format!("{}/rest/api/3/issue/{}", caller.base, issue.id)});
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

const NO_ISSUE: &str = "Issue does not exist or you do not have permission to see it.";

/// `GET /rest/api/3/issue/{issueIdOrKey}`.
pub(crate) async fn get_issue(
    AxState(app): AxState<App>,
    caller: Caller,
    Arg(key): Arg,
    p: Params,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let mut list: Vec<String> = p.all("fields").iter().map(|s| s.to_string()).collect();
    if list.is_empty() {
        list.push("*all".into());
    }
    let fields = FieldSel::parse(&list);
    let with_changelog = p.all("expand").contains(&"changelog");
    let props: Vec<String> = p.all("properties").iter().map(|s| s.to_string()).collect();
    read(&app, |st| {
        let ix = st
            .issue_ref(&key)
            .ok_or_else(|| ApiError::not_found(NO_ISSUE))?;
        let mut v = issue_json(
            st,
            &caller.base,
            st.issue(ix),
            &fields,
            with_changelog,
            &props,
        );
        v["expand"] = json!(
            "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
        );
        ok(v)
    })
}

/// `DELETE /rest/api/3/issue/{issueIdOrKey}` — 204; 400 with subtasks unless `deleteSubtasks=true`;
/// 403 without *Delete issues* for the issue (see [`crate::permissions`]).
pub(crate) async fn delete_issue(
    AxState(app): AxState<App>,
    caller: Caller,
    Arg(key): Arg,
    p: Params,
) -> ApiResult {
    let u = caller.user(scope::WRITE_WORK)?;
    let mut st = app.state.write();
    let ix = st
        .issue_ref(&key)
        .ok_or_else(|| ApiError::not_found(NO_ISSUE))?;
    need(&st, u, &["DELETE_ISSUES"], Scope::Issue(ix), CANNOT_DELETE)?;
    if !p.flag("deleteSubtasks") && !st.subtasks(ix).is_empty() {
        return Err(ApiError::bad(
            "The issue has subtasks. To delete them as well, set deleteSubtasks to true.",
        ));
    }
    let now = now_ms();
    let removed = std::iter::once(ix)
        .chain(st.subtasks(ix))
        .map(|i| (i, st.issue(i).clone()))
        .collect();
    st.delete_issue(ix, now);
    app.recent_writes.lock().deleted(now, removed);
    Ok(StatusCode::NO_CONTENT.into_response())
}
