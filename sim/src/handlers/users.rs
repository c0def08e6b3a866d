//! Users: myself, users/search, user, user/bulk, user/groups, user/search, DELETE user.

use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::{App, read};
use crate::paging::{page_bean, window};
use crate::request::{Caller, Params, scope};
use crate::shapes::groups::group_name_json;
use crate::shapes::users::{ListedUser, listed_user, user_json};
use crate::state::{Group, State, UserIx};

fn need_browse(st: &State, u: UserIx) -> Result<(), ApiError> {
    if st.perms(u).browse_users {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Browse users and groups permission is required to view users.",
        ))
    }
}

fn account_param(p: &Params) -> Result<&str, ApiError> {
    p.get("accountId")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::bad("The query parameter 'accountId' is required."))
}

/// `GET /rest/api/3/myself`.
pub(crate) async fn myself(AxState(app): AxState<App>, caller: Caller, p: Params) -> ApiResult {
    let u = caller.user(scope::READ_USER)?;
    let expand = p.all("expand");
    ok(read(&app, |st| {
        user_json(st, &caller.base, u, &expand, true)
    }))
}

/// `GET /rest/api/3/users/search` and `/users` — bare array, `maxResults` capped at 1000.
pub(crate) async fn list_users(AxState(app): AxState<App>, caller: Caller, p: Params) -> ApiResult {
    let (start, max) = p.page(50, 1000)?;
    let Some(u) = caller.maybe_user(scope::READ_USER)? else {
        return ok(json!([]));
    };
    read(&app, |st| need_browse(st, u))?;
    if app.faults.empty_listing() {
        return ok(json!([]));
    }
    read(&app, |st| {
        let items: Vec<ListedUser> = window(&st.listed, start, max)
            .iter()
            .map(|&x| listed_user(st, &caller.base, x))
            .collect();
        Ok(axum::Json(items).into_response())
    })
}

/// `GET /rest/api/3/user?accountId=`.
pub(crate) async fn get_user(AxState(app): AxState<App>, caller: Caller, p: Params) -> ApiResult {
    let u = caller.user(scope::READ_USER)?;
    let account = account_param(&p)?;
    let expand = p.all("expand");
    read(&app, |st| {
        need_browse(st, u)?;
        let x = st
            .user_by_account(account)
            .ok_or_else(|| ApiError::not_found("User not found"))?;
        ok(user_json(st, &caller.base, x, &expand, true))
    })
}

/// `GET /rest/api/3/user/bulk?accountId=..` — PageBean, default 10, capped at 200.
pub(crate) async fn bulk(AxState(app): AxState<App>, caller: Caller, p: Params) -> ApiResult {
    caller.user(scope::READ_USER)?;
    let ids = p.all("accountId");
    if ids.is_empty() {
        return Err(ApiError::bad(
            "The query parameter 'accountId' is required.",
        ));
    }
    let (start, max) = p.page(10, 200)?;
    read(&app, |st| {
        let found: Vec<UserIx> = ids.iter().filter_map(|a| st.user_by_account(a)).collect();
        let values = window(&found, start, max)
            .iter()
            .map(|&x| user_json(st, &caller.base, x, &[], false))
            .collect();
        let ids_q: String = ids.iter().map(|a| format!("accountId={a}&")).collect();
        let self_url = format!(
            "{}/rest/api/3/user/bulk?{}",
            caller.base,
            ids_q.trim_end_matches('&')
        );
        ok(page_bean(&self_url, start, max, found.len(), values))
    })
}

/// `GET /rest/api/3/user/groups?accountId=` — array of groups, not paged.
pub(crate) async fn user_groups(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    let u = caller.user(scope::READ_USER)?;
    let account = account_param(&p)?;
    read(&app, |st| {
        need_browse(st, u)?;
        let x = st
            .user_by_account(account)
            .ok_or_else(|| ApiError::not_found("User not found"))?;
        let mut groups: Vec<&Group> = st.users[x as usize]
            .groups
            .iter()
            .map(|&g| &st.groups[g as usize])
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        ok(Value::Array(
            groups
                .into_iter()
                .map(|g| group_name_json(&caller.base, g))
                .collect(),
        ))
    })
}

/// `GET /rest/api/3/user/search?query=|accountId=` — active users whose display name or visible email
/// starts with the query (hidden emails match exactly); empty for anonymous or unprivileged callers.
pub(crate) async fn user_search(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    let (start, max) = p.page(50, 1000)?;
    let query = p.get("query").map(str::to_lowercase);
    let account = p.get("accountId");
    if query.is_none() && account.is_none() {
        return Err(ApiError::bad(
            "One of 'query' or 'accountId' parameters must be provided.",
        ));
    }
    let Some(u) = caller.maybe_user(scope::READ_USER)? else {
        return ok(json!([]));
    };
    read(&app, |st| {
        if !st.perms(u).browse_users {
            return ok(json!([]));
        }
        let hits: Vec<UserIx> = st
            .listed
            .iter()
            .copied()
            .filter(|&x| {
                let user = &st.users[x as usize];
                if !user.active {
                    return false;
                }
                if let Some(a) = account
                    && user.account_id != a
                {
                    return false;
                }
                let Some(q) = &query else { return true };
                let email = user.email.as_deref().map(str::to_lowercase);
                user.display_name.to_lowercase().starts_with(q.as_str())
                    || user
                        .display_name
                        .to_lowercase()
                        .split(' ')
                        .any(|w| w.starts_with(q.as_str()))
                    || match (user.jira_email(), &email) {
                        (Some(Some(_)), Some(e)) => e.starts_with(q.as_str()),
                        (_, Some(e)) => e == q,
                        _ => false,
                    }
            })
            .take(1000)
            .collect();
        ok(Value::Array(
            window(&hits, start, max)
                .iter()
                .map(|&x| user_json(st, &caller.base, x, &[], false))
                .collect(),
        ))
    })
}

/// `DELETE /rest/api/3/user?accountId=` — 204; 400 when the user reported issues; site admins only.
pub(crate) async fn delete_user(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    let u = caller.user(scope::MANAGE)?;
    let account = account_param(&p)?.to_string();
    let mut st = app.state.write();
    if !st.perms(u).site_admin {
        return Err(ApiError::forbidden(
            "You do not have permission to delete users.",
        ));
    }
    let x = st
        .user_by_account(&account)
        .ok_or_else(|| ApiError::not_found("User not found"))?;
    if x == u {
        return Err(ApiError::bad("You cannot delete your own user."));
    }
    let user = &st.users[x as usize];
    if user.reported > 0 {
        let msg = st
            .settings
            .delete_reporter_message
            .replace("{name}", &user.display_name)
            .replace("{count}", &user.reported.to_string());
        return Err(ApiError::bad(msg));
    }
    st.delete_user(x);
    Ok(StatusCode::NO_CONTENT.into_response())
}
