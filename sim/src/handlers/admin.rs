//! Atlassian Admin API (organization): orgs, managed users (v1, snake_case), last-active dates,
//! directories and user search (v2, camelCase), role assignments. Bearer admin keys only.

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::App;
use crate::auth::admin_key;
use crate::format::{date_only, iso_millis, iso_secs};
use crate::paging::window;
use crate::request::{Caller, Params, body};
use crate::scenario::AccountType;
use crate::state::{State, UserIx};

const V1_PAGE: usize = 100;

fn check(st: &State, headers: &HeaderMap, org: &str) -> Result<(), ApiError> {
    if !admin_key(st, headers) {
        return Err(ApiError::Gateway(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    if org != st.org_id {
        return Err(ApiError::Admin {
            status: StatusCode::NOT_FOUND,
            code: "ADMIN-404-2",
            title: "Org not found",
            detail: format!("The organization {org} was not found."),
        });
    }
    Ok(())
}

fn check_directory(st: &State, dir: &str) -> Result<(), ApiError> {
    if !st.settings.new_user_management {
        return Err(ApiError::Admin {
            status: StatusCode::BAD_REQUEST,
            code: "ADMIN-400-4",
            title: "Invalid resource",
            detail: format!(
                "Organization {} is not with the new user management experience.",
                st.org_id
            ),
        });
    }
    if dir != "-" && dir != st.directory_id {
        return Err(ApiError::Admin {
            status: StatusCode::NOT_FOUND,
            code: "ADMIN-404-1",
            title: "Unknown resource",
            detail: format!("The directory {dir} was not found."),
        });
    }
    Ok(())
}

fn user_not_found(account: &str) -> ApiError {
    ApiError::Admin {
        status: StatusCode::NOT_FOUND,
        code: "ADMIN-404-8",
        title: "User not found",
        detail: format!("The user {account} was not found in the organization."),
    }
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("c:{offset}"))
}

fn decode_cursor(c: Option<&str>) -> Result<usize, ApiError> {
    let Some(c) = c.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|r| String::from_utf8(r).ok())
        .and_then(|s| s.strip_prefix("c:").and_then(|n| n.parse().ok()))
        .ok_or(ApiError::Admin {
            status: StatusCode::BAD_REQUEST,
            code: "ADMIN-400-1",
            title: "Invalid cursor",
            detail: "The page cursor is invalid.".into(),
        })
}

/// Admin API product key of a Jira application role key.
fn admin_product_key(key: &str) -> &str {
    if key == "jira-servicedesk" {
        "jira-service-desk"
    } else {
        key
    }
}

fn last_active(st: &State, u: UserIx, product: &str) -> Option<i64> {
    st.users[u as usize]
        .last_active
        .iter()
        .find(|(k, _)| k == product)
        .map(|(_, t)| *t)
}

/// `GET /admin/v1/orgs`.
pub(crate) async fn orgs(
    AxState(app): AxState<App>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult {
    let st = app.state.read();
    if !admin_key(&st, &headers) {
        return Err(ApiError::Gateway(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    let base = format!("{}/admin/v1/orgs", caller.origin);
    ok(json!({
        "data": [{
            "id": st.org_id, "type": "orgs", "attributes": {"name": st.org_name},
            "relationships": {
                "domains": {"links": {"related": format!("{base}/{}/domains", st.org_id)}},
                "users": {"links": {"related": format!("{base}/{}/users", st.org_id)}},
            },
            "links": {"self": format!("{base}/{}", st.org_id)},
        }],
        "links": {"self": base},
    }))
}

/// `GET /admin/v1/orgs/{orgId}/users` — managed accounts, snake_case, cursor paging.
pub(crate) async fn users_v1(
    AxState(app): AxState<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(org): Path<String>,
    p: Params,
) -> ApiResult {
    let st = app.state.read();
    check(&st, &headers, &org)?;
    let offset = decode_cursor(p.get("cursor"))?;
    let managed: Vec<UserIx> = st
        .listed
        .iter()
        .copied()
        .filter(|&u| st.users[u as usize].managed)
        .collect();
    let base = format!("{}/admin/v1/orgs/{org}/users", caller.origin);
    let page = window(&managed, offset, V1_PAGE);
    let data: Vec<Value> = page
        .iter()
        .map(|&u| {
            let user = &st.users[u as usize];
            let products = st.user_products(u);
            let access: Vec<Value> = products
                .iter()
                .map(|k| {
                    let mut v = json!({"key": admin_product_key(k), "name": st.products.iter().find(|p| p.key == *k).map(|p| p.name.clone()).unwrap_or_default(),
                        "url": format!("{}.atlassian.net", st.site_name)});
                    if let Some(t) = last_active(&st, u, k) {
                        v["last_active"] = json!(iso_millis(t));
                    }
                    v
                })
                .collect();
            let mut m = Map::new();
            m.insert("account_id".into(), user.account_id.clone().into());
            m.insert("account_type".into(), user.account_type.as_str().into());
            m.insert("account_status".into(), if user.active { "active" } else { "inactive" }.into());
            m.insert("name".into(), user.display_name.clone().into());
            m.insert("picture".into(), format!("{}/avatar/{}?s=48", caller.origin, user.account_id).into());
            if let Some(e) = &user.email {
                m.insert("email".into(), e.clone().into());
            }
            m.insert("access_billable".into(), (user.active && !products.is_empty()).into());
            if let Some(t) = user.last_active.iter().map(|(_, t)| *t).max() {
                m.insert("last_active".into(), iso_millis(t).into());
            }
            m.insert("product_access".into(), Value::Array(access));
            m.insert("links".into(), json!({"self": format!("{base}/{}", user.account_id)}));
            Value::Object(m)
        })
        .collect();
    let mut links = json!({"self": format!("{base}?cursor={}", encode_cursor(offset))});
    if offset + page.len() < managed.len() {
        links["next"] = json!(encode_cursor(offset + page.len()));
    }
    ok(json!({"data": data, "meta": {"total": managed.len()}, "links": links}))
}

/// `GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates`.
pub(crate) async fn last_active_dates(
    AxState(app): AxState<App>,
    headers: HeaderMap,
    Path((org, account)): Path<(String, String)>,
) -> ApiResult {
    let st = app.state.read();
    check(&st, &headers, &org)?;
    let u = st
        .user_by_account(&account)
        .ok_or_else(|| user_not_found(&account))?;
    let user = &st.users[u as usize];
    let access: Vec<Value> = user
        .last_active
        .iter()
        .map(|(k, t)| {
            json!({"id": st.cloud_id, "key": admin_product_key(k), "last_active": date_only(*t),
                   "last_active_timestamp": iso_secs(*t)})
        })
        .collect();
    ok(json!({
        "data": {"product_access": access, "added_to_org": date_only(user.added_to_org_ms),
                 "added_to_org_timestamp": iso_secs(user.added_to_org_ms)},
        "links": {},
    }))
}

/// `GET /admin/v2/orgs/{orgId}/directories` (not in the official document of the shared folder).
pub(crate) async fn directories(
    AxState(app): AxState<App>,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> ApiResult {
    let st = app.state.read();
    check(&st, &headers, &org)?;
    check_directory(&st, "-")?;
    ok(
        json!({"data": [{"directoryId": st.directory_id, "name": st.org_name, "icon": ""}], "links": {"self": encode_cursor(0)}}),
    )
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SearchBody {
    cursor: Option<String>,
    limit: Option<usize>,
    account_ids: Vec<String>,
    emails: Vec<String>,
    search_term: Option<String>,
    status: Vec<String>,
    account_status: Vec<String>,
    expand: Vec<String>,
}

/// `POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search` — camelCase, cursor paging.
pub(crate) async fn users_search(
    AxState(app): AxState<App>,
    headers: HeaderMap,
    Path((org, dir)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    let st = app.state.read();
    check(&st, &headers, &org)?;
    check_directory(&st, &dir)?;
    let b: SearchBody = body(&raw).map_err(|_| ApiError::Admin {
        status: StatusCode::BAD_REQUEST,
        code: "ADMIN-400-24",
        title: "Invalid body",
        detail: "The request body is invalid.".into(),
    })?;
    if b.search_term.is_some() && !b.emails.is_empty() {
        return Err(ApiError::Admin {
            status: StatusCode::BAD_REQUEST,
            code: "ADMIN-400-24",
            title: "Invalid body",
            detail: "searchTerm and emails cannot be used together.".into(),
        });
    }
    let offset = decode_cursor(b.cursor.as_deref())?;
    let limit = b.limit.unwrap_or(50).clamp(1, 1000);
    let term = b.search_term.as_deref().map(str::to_lowercase);
    let emails: Vec<String> = b.emails.iter().map(|e| e.to_lowercase()).collect();
    let hits: Vec<UserIx> = st
        .listed
        .iter()
        .copied()
        .filter(|&u| {
            let user = &st.users[u as usize];
            let status = if user.active { "active" } else { "deactivated" };
            let account_status = if user.active { "active" } else { "inactive" };
            let email = user.email.as_deref().map(str::to_lowercase);
            user.account_type != AccountType::Customer
                && (b.account_ids.is_empty() || b.account_ids.contains(&user.account_id))
                && (emails.is_empty() || email.as_ref().is_some_and(|e| emails.contains(e)))
                && (b.status.is_empty() || b.status.iter().any(|s| s == status))
                && (b.account_status.is_empty()
                    || b.account_status.iter().any(|s| s == account_status))
                && term.as_deref().is_none_or(|t| {
                    user.display_name.to_lowercase().contains(t)
                        || email.as_deref().is_some_and(|e| e.contains(t))
                })
        })
        .collect();
    let page = window(&hits, offset, limit);
    let has = |x: &str| b.expand.iter().any(|e| e == x);
    let data: Vec<Value> = page
        .iter()
        .map(|&u| {
            let user = &st.users[u as usize];
            let products = st.user_products(u);
            let mut m = Map::new();
            m.insert("accountId".into(), user.account_id.clone().into());
            m.insert("accountType".into(), user.account_type.as_str().into());
            m.insert("status".into(), if user.active { "active" } else { "deactivated" }.into());
            m.insert("accountStatus".into(), if user.active { "active" } else { "inactive" }.into());
            m.insert("membershipStatus".into(), "active".into());
            m.insert("addedToOrg".into(), iso_secs(user.added_to_org_ms).into());
            m.insert("name".into(), user.display_name.clone().into());
            m.insert("nickname".into(), user.display_name.split(' ').next().unwrap_or("").to_lowercase().into());
            if let Some(e) = &user.email
                && (user.managed || user.jira_email() == Some(Some(e.as_str())))
            {
                m.insert("email".into(), e.clone().into());
                m.insert("emailVerified".into(), true.into());
            }
            m.insert("claimStatus".into(), if user.managed { "managed" } else { "unmanaged" }.into());
            m.insert("mfaEnabled".into(), false.into());
            m.insert("timeZone".into(), user.time_zone.clone().into());
            m.insert("jobTitle".into(), Value::Null);
            m.insert("department".into(), Value::Null);
            m.insert("deactivatedOn".into(), Value::Null);
            m.insert("forDeletion".into(), false.into());
            if has("platformRoles") {
                let mut roles = Vec::new();
                if user.org_admin {
                    roles.push("atlassian/org-admin");
                }
                if st.perms(u).site_admin {
                    roles.push("atlassian/site-admin");
                }
                m.insert("platformRoles".into(), json!(roles));
            }
            if has("productAccess") {
                let access: Vec<Value> = products
                    .iter()
                    .map(|k| {
                        let mut v = json!({"key": k, "id": format!("ari:cloud:{k}::site/{}", st.cloud_id)});
                        if let Some(t) = last_active(&st, u, k) {
                            v["lastActiveTimestamp"] = json!(iso_secs(t));
                        }
                        v
                    })
                    .collect();
                m.insert("productAccess".into(), Value::Array(access));
            }
            if has("groups") {
                let groups: Vec<Value> = user
                    .groups
                    .iter()
                    .map(|&g| json!({"id": st.groups[g as usize].id, "name": st.groups[g as usize].name}))
                    .collect();
                m.insert("groups".into(), Value::Array(groups));
            }
            if has("counts.resources") {
                m.insert("counts".into(), json!({"resources": products.len()}));
            }
            Value::Object(m)
        })
        .collect();
    let mut links = json!({"self": encode_cursor(offset)});
    if offset + page.len() < hits.len() {
        links["next"] = json!(encode_cursor(offset + page.len()));
    }
    if offset > 0 {
        links["prev"] = json!(encode_cursor(offset.saturating_sub(limit)));
    }
    ok(json!({"data": data, "links": links}))
}

/// `GET /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments`.
pub(crate) async fn role_assignments(
    AxState(app): AxState<App>,
    headers: HeaderMap,
    Path((org, dir, account)): Path<(String, String, String)>,
) -> ApiResult {
    let st = app.state.read();
    check(&st, &headers, &org)?;
    check_directory(&st, &dir)?;
    let u = st
        .user_by_account(&account)
        .ok_or_else(|| user_not_found(&account))?;
    let user = &st.users[u as usize];
    let admin = st.perms(u).administer;
    let status = if user.active { "active" } else { "deactivated" };
    let mut data: Vec<Value> = st
        .user_products(u)
        .into_iter()
        .map(|k| {
            let mut assignments =
                vec![json!({"role": "atlassian/user", "roleAssignmentMethods": ["group_direct"]})];
            let mut roles = vec!["atlassian/user"];
            if admin {
                assignments.push(
                    json!({"role": "atlassian/admin", "roleAssignmentMethods": ["group_direct"]}),
                );
                roles.push("atlassian/admin");
            }
            json!({"resourceId": format!("ari:cloud:{k}::site/{}", st.cloud_id), "resourceOwner": k,
                   "roleAssignments": assignments, "roles": roles, "directoryId": st.directory_id,
                   "userDirectoryStatus": status})
        })
        .collect();
    if user.org_admin {
        data.push(json!({"resourceId": format!("ari:cloud:platform::org/{}", st.org_id), "resourceOwner": "platform",
            "roleAssignments": [{"role": "atlassian/org-admin", "roleAssignmentMethods": ["direct"]}],
            "roles": ["atlassian/org-admin"], "directoryId": null, "userDirectoryStatus": null}));
    }
    ok(json!({"data": data, "links": {}}))
}
