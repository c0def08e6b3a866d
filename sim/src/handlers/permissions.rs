//! `GET /rest/api/3/mypermissions`: the caller's permissions, globally or in a project or issue context.

use axum::extract::State as AxState;
use serde_json::{Map, Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::{App, read};
use crate::permissions::{GLOBAL, PROJECT, Scope, holds};
use crate::request::{Caller, Params, scope};

/// `GET /rest/api/3/mypermissions?permissions=KEY,...[&projectKey|projectId|issueKey|issueId]` — 400 without
/// keys or with an unknown key, 404 for a project or issue that is missing. Anonymous callers hold nothing.
pub(crate) async fn my_permissions(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    let user = caller.maybe_user(scope::READ_WORK)?;
    let keys: Vec<&str> = p
        .get("permissions")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() {
        return Err(ApiError::bad("The 'permissions' parameter is required."));
    }
    read(&app, |st| {
        let issue = p.get("issueId").or_else(|| p.get("issueKey"));
        let project = p.get("projectId").or_else(|| p.get("projectKey"));
        let scope = match (issue, project) {
            (Some(i), _) => Scope::Issue(st.issue_ref(i).ok_or_else(|| {
                ApiError::not_found("Issue does not exist or you do not have permission to see it.")
            })?),
            (None, Some(r)) => Scope::Project(st.project_ref(r).ok_or_else(|| {
                ApiError::not_found(format!("No project could be found with key '{r}'."))
            })?),
            (None, None) => Scope::Anywhere,
        };
        let mut out = Map::new();
        for key in keys {
            let (kind, (_, name, description)) = GLOBAL
                .iter()
                .find(|(k, ..)| *k == key)
                .map(|e| ("GLOBAL", e))
                .or_else(|| {
                    PROJECT
                        .iter()
                        .find(|(k, ..)| *k == key)
                        .map(|e| ("PROJECT", e))
                })
                .ok_or_else(|| {
                    ApiError::bad(format!("The permission key '{key}' is not valid."))
                })?;
            let have = user.is_some_and(|u| holds(st, u, key, scope).unwrap_or(false));
            let id = GLOBAL
                .iter()
                .chain(PROJECT)
                .position(|(k, ..)| *k == key)
                .unwrap_or_default()
                + 10;
            out.insert(
                key.to_string(),
                json!({"id": id.to_string(), "key": key, "name": name, "type": kind,
                       "description": description, "havePermission": have}),
            );
        }
        ok(json!({"permissions": Value::Object(out)}))
    })
}

/// 403 with `message` unless the account holds every one of `keys` in `scope`.
pub(crate) fn need(
    st: &crate::state::State,
    u: crate::state::UserIx,
    keys: &[&str],
    scope: Scope,
    message: &str,
) -> Result<(), ApiError> {
    if keys.iter().all(|k| holds(st, u, k, scope) == Some(true)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(message))
    }
}
