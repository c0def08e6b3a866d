//! Projects: project search, the issue types of a project and create meta.

use axum::extract::State as AxState;
use serde_json::{Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::{App, read};
use crate::paging::{page_bean, window};
use crate::permissions::{Scope, holds};
use crate::request::{Arg, Caller, Params, scope};
use crate::shapes::projects::{issue_type_json, project_json};
use crate::state::{ISSUE_TYPES, Project};

/// `GET /rest/api/3/project/search` — PageBean, `maxResults` capped at 100; only the projects the caller may
/// browse or administer.
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
        // Only the projects the caller may browse or administer, as Jira lists them.
        let visible = |ix: usize| {
            user.is_some_and(|u| {
                ["BROWSE_PROJECTS", "ADMINISTER_PROJECTS"]
                    .iter()
                    .any(|key| holds(st, u, key, Scope::Project(ix as u32)) == Some(true))
            })
        };
        let mut hits: Vec<&Project> = if user.is_none() {
            Vec::new()
        } else {
            st.projects
                .iter()
                .enumerate()
                .filter(|(ix, _)| visible(*ix))
                .map(|(_, pr)| pr)
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
