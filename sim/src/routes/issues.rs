//! Projects, issue types, create meta, and issues (create, get, delete).

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::activity::{change_json, comment_json, worklog_json};
use super::permissions::need;
use super::users::author;
use super::{
    ApiError, ApiResult, App, Arg, Caller, Params, body, ok, page_bean, read, scope, window,
};
use crate::format::{jira_date, now_ms};
use crate::permissions::Scope;
use crate::state::{ISSUE_TYPES, Issue, Project, State};

/// Comments embedded in the `comment` field of an issue (search and `issue/{k}`): the oldest ones; `total`
/// tells a client when there are more.
pub const EMBEDDED_COMMENTS: usize = 20;

/// Fields the simulator can return.
const NAVIGABLE: &[&str] = &[
    "summary",
    "status",
    "project",
    "issuetype",
    "reporter",
    "assignee",
    "created",
    "updated",
    "labels",
    "parent",
    "description",
    "comment",
    "worklog",
];

/// A `fields` selection (`*all`, `*navigable`, names, `-name` exclusions).
#[derive(Debug)]
pub(crate) struct FieldSel {
    all: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl FieldSel {
    /// Parses a list of field names.
    pub(crate) fn parse(list: &[String]) -> FieldSel {
        let mut sel = FieldSel {
            all: false,
            include: Vec::new(),
            exclude: Vec::new(),
        };
        for f in list
            .iter()
            .flat_map(|f| f.split(','))
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            match f {
                "*all" | "*navigable" => sel.all = true,
                _ => match f.strip_prefix('-') {
                    Some(x) => sel.exclude.push(x.to_string()),
                    None => sel.include.push(f.to_string()),
                },
            }
        }
        sel
    }

    fn wants(&self, f: &str) -> bool {
        (self.all || self.include.iter().any(|i| i == f)) && !self.exclude.iter().any(|e| e == f)
    }

    /// Only `id` and/or `key` requested (the 5000-results cap of search applies).
    pub(crate) fn ids_only(&self) -> bool {
        !self.all && self.include.iter().all(|f| f == "id" || f == "key")
    }
}

fn project_details(base: &str, p: &Project) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/project/{}", p.id), "id": p.id.to_string(), "key": p.key,
        "name": p.name, "projectTypeKey": p.type_key, "simplified": false,
        "avatarUrls": {"48x48": format!("{base}/rest/api/3/universal_avatar/view/type/project/avatar/10400")},
    })
}

fn issue_type_json(base: &str, t: usize) -> Value {
    let t = &ISSUE_TYPES[t];
    json!({
        "self": format!("{base}/rest/api/3/issuetype/{}", t.id), "id": t.id.to_string(),
        "description": format!("A {}.", t.name.to_lowercase()),
        "iconUrl": format!("{base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{}", t.id),
        "name": t.name, "subtask": t.level < 0, "avatarId": t.id, "hierarchyLevel": t.level,
    })
}

fn status_json(base: &str, name: &str) -> Value {
    let (id, cat, cat_key) = match name {
        "Done" => ("10002", 3, "done"),
        "To Do" => ("10000", 2, "new"),
        _ => ("3", 4, "indeterminate"),
    };
    json!({"self": format!("{base}/rest/api/3/status/{id}"), "description": "", "name": name, "id": id,
           "statusCategory": {"id": cat, "key": cat_key, "colorName": "blue-gray", "name": name}})
}

/// A one-paragraph ADF document.
pub(crate) fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

/// An issue in the `IssueBean` shape restricted to `fields`.
pub(crate) fn issue_json(
    st: &State,
    base: &str,
    issue: &Issue,
    fields: &FieldSel,
    with_changelog: bool,
    props: &[String],
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), issue.id.to_string().into());
    let named = fields.all || fields.include.iter().any(|f| f != "id");
    if named {
        m.insert("key".into(), issue.key.clone().into());
        m.insert(
            "self".into(),
            format!("{base}/rest/api/3/issue/{}", issue.id).into(),
        );
    }
    let mut f = Map::new();
    for &name in NAVIGABLE {
        if !fields.wants(name) {
            continue;
        }
        let v = match name {
            "summary" => issue.summary.clone().into(),
            "status" => status_json(base, &issue.status),
            "project" => project_details(base, &st.projects[issue.project as usize]),
            "issuetype" => issue_type_json(base, issue.issue_type),
            "reporter" => author(st, base, issue.reporter).unwrap_or(Value::Null),
            "assignee" => author(st, base, issue.assignee).unwrap_or(Value::Null),
            "created" => jira_date(issue.created_ms).into(),
            "updated" => jira_date(issue.updated_ms).into(),
            "labels" => json!(issue.labels),
            "parent" => match issue.parent.and_then(|p| st.issues[p as usize].as_ref()) {
                Some(p) => {
                    json!({"id": p.id.to_string(), "key": p.key, "self": format!("{base}/rest/api/3/issue/{}", p.id)})
                }
                None => continue,
            },
            "description" => issue.description.clone().unwrap_or(Value::Null),
            "comment" => {
                // Oldest first, like `issue/{k}/comment` without `orderBy`; `maxResults` is the number
                // embedded, `total` all of the issue's comments.
                let mut oldest: Vec<u32> = issue.comments.clone();
                oldest.sort_by_key(|&c| (st.comments[c as usize].created_ms, c));
                let items: Vec<Value> = oldest
                    .iter()
                    .take(EMBEDDED_COMMENTS)
                    .map(|&c| comment_json(st, base, c as usize))
                    .collect();
                json!({"comments": items, "maxResults": items.len(), "total": issue.comments.len(), "startAt": 0,
                       "self": format!("{base}/rest/api/3/issue/{}/comment", issue.id)})
            }
            "worklog" => {
                let items: Vec<Value> = issue
                    .worklogs
                    .iter()
                    .take(20)
                    .map(|&w| worklog_json(st, base, w as usize))
                    .collect();
                json!({"startAt": 0, "maxResults": 20, "total": issue.worklogs.len(), "worklogs": items})
            }
            _ => continue,
        };
        f.insert(name.into(), v);
    }
    if !f.is_empty() || fields.include.iter().any(|x| x != "id" && x != "key") {
        m.insert("fields".into(), Value::Object(f));
    }
    if with_changelog {
        let histories: Vec<Value> = issue
            .changes
            .iter()
            .rev()
            .take(40)
            .map(|&c| change_json(st, base, c as usize))
            .collect();
        m.insert(
            "changelog".into(),
            json!({"startAt": 0, "maxResults": histories.len(), "total": histories.len(), "histories": histories}),
        );
    }
    if !props.is_empty() {
        let p: Map<String, Value> = issue
            .properties
            .iter()
            .filter(|(k, _)| props.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        m.insert("properties".into(), Value::Object(p));
    }
    Value::Object(m)
}

fn project_json(st: &State, base: &str, p: &Project, expand: &[&str]) -> Value {
    let mut v = project_details(base, p);
    v["style"] = json!("classic");
    v["isPrivate"] = json!(false);
    v["expand"] = json!("description,lead,issueTypes,url,projectKeys,permissions,insight");
    if expand.contains(&"description") {
        v["description"] = json!("");
    }
    if expand.contains(&"issueTypes") {
        v["issueTypes"] = Value::Array(
            (0..ISSUE_TYPES.len())
                .map(|t| issue_type_json(base, t))
                .collect(),
        );
    }
    if expand.contains(&"insight") {
        let n = st
            .issues
            .iter()
            .flatten()
            .filter(|i| i.project as u64 + crate::state::BASE_ID == p.id)
            .count();
        v["insight"] = json!({"totalIssueCount": n});
    }
    v
}

/// `GET /rest/api/3/project/search` — PageBean, `maxResults` capped at 100.
pub(crate) async fn project_search(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    let (start, max) = p.page(50, 100)?;
    let keys = p.all("keys");
    let ids = p.all("id");
    let query = p.get("query").map(str::to_lowercase);
    let types = p.all("typeKey");
    let expand = p.all("expand");
    let user = caller.maybe_user(scope::READ_WORK)?;
    read(&app, |st| {
        let mut hits: Vec<&Project> = if user.is_none() {
            Vec::new()
        } else {
            st.projects
                .iter()
                .filter(|pr| {
                    (keys.is_empty() && ids.is_empty())
                        || keys.iter().any(|k| k.eq_ignore_ascii_case(&pr.key))
                        || ids.contains(&pr.id.to_string().as_str())
                })
                .filter(|pr| {
                    query.as_deref().is_none_or(|q| {
                        pr.key.to_lowercase().contains(q) || pr.name.to_lowercase().contains(q)
                    })
                })
                .filter(|pr| types.is_empty() || types.contains(&pr.type_key.as_str()))
                .collect()
        };
        if hits.is_empty() && (!keys.is_empty() || !ids.is_empty()) {
            return Err(ApiError::not_found(
                "No project could be found with the given keys or ids.",
            ));
        }
        match p.get("orderBy").unwrap_or("key") {
            "key" | "+key" => hits.sort_by(|a, b| a.key.cmp(&b.key)),
            "-key" => hits.sort_by(|a, b| b.key.cmp(&a.key)),
            "name" | "+name" => hits.sort_by(|a, b| a.name.cmp(&b.name)),
            "-name" => hits.sort_by(|a, b| b.name.cmp(&a.name)),
            "id" | "+id" => hits.sort_by_key(|p| p.id),
            "-id" => hits.sort_by_key(|p| std::cmp::Reverse(p.id)),
            o => return Err(ApiError::bad(format!("Invalid orderBy value '{o}'."))),
        }
        let values = window(&hits, start, max)
            .iter()
            .map(|pr| project_json(st, &caller.base, pr, &expand))
            .collect();
        ok(page_bean(
            &format!("{}/rest/api/3/project/search", caller.base),
            start,
            max,
            hits.len(),
            values,
        ))
    })
}

/// `GET /rest/api/3/issuetype/project?projectId=` — array of issue types.
pub(crate) async fn issue_types(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let pid = p
        .get("projectId")
        .ok_or_else(|| ApiError::bad("The projectId parameter is required."))?;
    let level = match p.get("level") {
        Some(_) => Some(p.int("level", 0)?),
        None => None,
    };
    read(&app, |st| {
        if pid.parse::<u64>().is_err() || st.project_ref(pid).is_none() {
            return Err(ApiError::not_found(
                "The project was not found or you do not have permission to view it.",
            ));
        }
        let types = (0..ISSUE_TYPES.len())
            .filter(|&t| level.is_none_or(|l| ISSUE_TYPES[t].level as i64 == l))
            .map(|t| issue_type_json(&caller.base, t))
            .collect();
        ok(Value::Array(types))
    })
}

/// `GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes` — `maxResults` ≤ 200 (else 400).
pub(crate) async fn createmeta(
    AxState(app): AxState<App>,
    caller: Caller,
    Arg(project): Arg,
    p: Params,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let (start, max) = p.page(50, i64::MAX)?;
    if max > 200 {
        return Err(ApiError::bad(
            "Parameter 'maxResults' must not exceed the limit '200'",
        ));
    }
    read(&app, |st| {
        if st.project_ref(&project).is_none() {
            return Err(ApiError::not_found(format!(
                "No project could be found with key '{project}'."
            )));
        }
        let all: Vec<usize> = (0..ISSUE_TYPES.len()).collect();
        let types: Vec<Value> = window(&all, start, max)
            .iter()
            .map(|&t| issue_type_json(&caller.base, t))
            .collect();
        ok(json!({"issueTypes": types, "maxResults": max, "startAt": start, "total": all.len()}))
    })
}

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
