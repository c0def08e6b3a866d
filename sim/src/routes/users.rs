//! Users: myself, users/search, user, user/bulk, user/groups, user/search, DELETE user.

use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::roles::role_json;
use super::{ApiError, ApiResult, App, Caller, Params, ok, page_bean, read, scope, window};
use crate::state::{Group, State, UserIx};

/// `avatarUrls` of an account.
pub(crate) fn avatar_urls(origin: &str, account_id: &str) -> Value {
    let u = |s: u32| Value::String(format!("{origin}/avatar/{account_id}?s={s}"));
    json!({"48x48": u(48), "24x24": u(24), "16x16": u(16), "32x32": u(32)})
}

fn put_email(st: &State, u: UserIx, m: &mut Map<String, Value>) {
    match st.users[u as usize].jira_email() {
        Some(Some(e)) => {
            m.insert("emailAddress".into(), Value::String(e.into()));
        }
        Some(None) => {
            m.insert("emailAddress".into(), Value::Null);
        }
        None => {}
    }
}

/// `{name, groupId, self}`.
pub(crate) fn group_name_json(base: &str, g: &Group) -> Value {
    json!({"name": g.name, "groupId": g.id, "self": format!("{base}/rest/api/3/group?groupId={}", g.id)})
}

/// A user in the `User` shape. `full` adds the `groups` / `applicationRoles` wrappers (items listed when
/// `expand` holds `groups` / `applicationRoles`), as single-user endpoints do.
pub(crate) fn user_json(st: &State, base: &str, u: UserIx, expand: &[&str], full: bool) -> Value {
    let user = &st.users[u as usize];
    let mut m = Map::new();
    m.insert(
        "self".into(),
        format!("{base}/rest/api/3/user?accountId={}", user.account_id).into(),
    );
    m.insert("accountId".into(), user.account_id.clone().into());
    m.insert("accountType".into(), user.account_type.as_str().into());
    if let Some(t) = &user.app_type {
        m.insert("appType".into(), t.clone().into());
    }
    put_email(st, u, &mut m);
    m.insert("avatarUrls".into(), avatar_urls(base, &user.account_id));
    m.insert("displayName".into(), user.display_name.clone().into());
    m.insert("active".into(), user.active.into());
    m.insert("timeZone".into(), user.time_zone.clone().into());
    m.insert("locale".into(), "en_US".into());
    if !full {
        return Value::Object(m);
    }
    let groups: Vec<Value> = user
        .groups
        .iter()
        .map(|&g| group_name_json(base, &st.groups[g as usize]))
        .collect();
    let roles: Vec<Value> = st
        .user_products(u)
        .into_iter()
        .map(|k| role_json(st, base, k, false))
        .collect();
    let wrap = |items: Vec<Value>, expanded: bool| {
        let size = items.len();
        json!({"size": size, "items": if expanded { items } else { Vec::new() }, "max-results": 1000})
    };
    let eg = expand.contains(&"groups");
    let er = expand.contains(&"applicationRoles");
    m.insert("groups".into(), wrap(groups, eg));
    m.insert("applicationRoles".into(), wrap(roles, er));
    m.insert("expand".into(), "groups,applicationRoles".into());
    Value::Object(m)
}

/// A listed user in the `User` shape, serialised without building a JSON tree (user listings are the
/// bulkiest answers).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedUser<'a> {
    #[serde(rename = "self")]
    self_url: String,
    account_id: &'a str,
    account_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_address: Option<Option<&'a str>>,
    avatar_urls: Avatars,
    display_name: &'a str,
    active: bool,
    time_zone: &'a str,
    locale: &'static str,
}

#[derive(Serialize)]
struct Avatars {
    #[serde(rename = "48x48")]
    a48: String,
    #[serde(rename = "24x24")]
    a24: String,
    #[serde(rename = "16x16")]
    a16: String,
    #[serde(rename = "32x32")]
    a32: String,
}

fn listed_user<'a>(st: &'a State, base: &str, u: UserIx) -> ListedUser<'a> {
    let user = &st.users[u as usize];
    let avatar = |s: u32| format!("{base}/avatar/{}?s={s}", user.account_id);
    ListedUser {
        self_url: format!("{base}/rest/api/3/user?accountId={}", user.account_id),
        account_id: &user.account_id,
        account_type: user.account_type.as_str(),
        app_type: user.app_type.as_deref(),
        email_address: user.jira_email(),
        avatar_urls: Avatars {
            a48: avatar(48),
            a24: avatar(24),
            a16: avatar(16),
            a32: avatar(32),
        },
        display_name: &user.display_name,
        active: user.active,
        time_zone: &user.time_zone,
        locale: "en_US",
    }
}

/// A user in the `UserDetails` shape (authors, group members).
pub(crate) fn user_details(st: &State, base: &str, u: UserIx) -> Value {
    let user = &st.users[u as usize];
    let mut m = Map::new();
    m.insert(
        "self".into(),
        format!("{base}/rest/api/3/user?accountId={}", user.account_id).into(),
    );
    m.insert("accountId".into(), user.account_id.clone().into());
    m.insert("accountType".into(), user.account_type.as_str().into());
    put_email(st, u, &mut m);
    m.insert("avatarUrls".into(), avatar_urls(base, &user.account_id));
    m.insert("displayName".into(), user.display_name.clone().into());
    m.insert("active".into(), user.active.into());
    m.insert("timeZone".into(), user.time_zone.clone().into());
    Value::Object(m)
}

/// Optional author in the `UserDetails` shape.
pub(crate) fn author(st: &State, base: &str, u: Option<UserIx>) -> Option<Value> {
    u.map(|u| user_details(st, base, u))
}

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
