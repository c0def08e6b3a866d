//! Groups: group/bulk, group/member, group/user (add, remove).

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::{App, read};
use crate::paging::{page_bean, window};
use crate::request::{Caller, Params, body, scope};
use crate::scenario::AlreadyMember;
use crate::shapes::users::user_details;
use crate::state::{GroupIx, State};

fn group_param(st: &State, p: &Params) -> Result<GroupIx, ApiError> {
    let id = p.get("groupId").filter(|v| !v.is_empty());
    let name = p.get("groupname").filter(|v| !v.is_empty());
    if id.is_none() && name.is_none() {
        return Err(ApiError::bad(
            "You must provide either a group name or a group ID.",
        ));
    }
    st.group_ref(id, name).ok_or_else(|| {
        ApiError::not_found(
            "Specified group does not exist or you do not have required permissions",
        )
    })
}

/// `GET /rest/api/3/group/bulk` — PageBean of `{groupId, name}`, sorted by name.
pub(crate) async fn bulk(AxState(app): AxState<App>, caller: Caller, p: Params) -> ApiResult {
    let u = caller.user(scope::READ_USER)?;
    let (start, max) = p.page(50, 1000)?;
    let ids = p.all("groupId");
    let names: Vec<String> = p
        .all("groupName")
        .iter()
        .map(|n| n.to_lowercase())
        .collect();
    let access = p.get("accessType");
    let app_key = p.get("applicationKey");
    if let Some(a) = access
        && !matches!(a, "site-admin" | "admin" | "user")
    {
        return Err(ApiError::bad(format!("Invalid access type '{a}'.")));
    }
    read(&app, |st| {
        if !st.perms(u).browse_users {
            return Err(ApiError::forbidden(
                "Browse users and groups permission is required to view groups.",
            ));
        }
        let mut hits: Vec<GroupIx> = (0..st.groups.len() as GroupIx)
            .filter(|&g| {
                let grp = &st.groups[g as usize];
                (ids.is_empty() || ids.contains(&grp.id.as_str()))
                    && (names.is_empty() || names.contains(&grp.name.to_lowercase()))
                    && match access {
                        Some("site-admin") => grp.site_admin,
                        Some("admin") => grp.administer || grp.site_admin,
                        Some(_) => !grp.products.is_empty(),
                        None => true,
                    }
                    && app_key.is_none_or(|k| {
                        access.is_some_and(|a| a != "user") || grp.products.iter().any(|p| p == k)
                    })
            })
            .collect();
        hits.sort_by(|a, b| {
            st.groups[*a as usize]
                .name
                .cmp(&st.groups[*b as usize].name)
        });
        let values: Vec<Value> = window(&hits, start, max)
            .iter()
            .map(|&g| json!({"groupId": st.groups[g as usize].id, "name": st.groups[g as usize].name}))
            .collect();
        ok(page_bean(
            &format!("{}/rest/api/3/group/bulk", caller.base),
            start,
            max,
            hits.len(),
            values,
        ))
    })
}

/// `GET /rest/api/3/group/member` — PageBean of members, `maxResults` capped at 50.
pub(crate) async fn members(AxState(app): AxState<App>, caller: Caller, p: Params) -> ApiResult {
    let u = caller.user(scope::MANAGE)?;
    let (start, max) = p.page(50, 50)?;
    let inactive = p.flag("includeInactiveUsers");
    read(&app, |st| {
        if !st.perms(u).browse_users {
            return Err(ApiError::forbidden(
                "Browse users and groups permission is required to view groups.",
            ));
        }
        let g = group_param(st, &p)?;
        let grp = &st.groups[g as usize];
        let list = if inactive {
            &grp.members
        } else {
            &grp.active_members
        };
        let values = window(list, start, max)
            .iter()
            .map(|&x| user_details(st, &caller.base, x))
            .collect();
        let self_url = format!(
            "{}/rest/api/3/group/member?groupId={}&includeInactiveUsers={inactive}",
            caller.base, grp.id
        );
        ok(page_bean(&self_url, start, max, list.len(), values))
    })
}

#[derive(Deserialize)]
struct AddBody {
    #[serde(rename = "accountId")]
    account_id: Option<String>,
}

fn need_site_admin(st: &State, u: u32) -> Result<(), ApiError> {
    if st.perms(u).site_admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "You do not have permission to manage group memberships. Site administrator access is required.",
        ))
    }
}

fn user_param(st: &State, account: Option<&str>) -> Result<u32, ApiError> {
    let account = account
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::bad("accountId must be provided."))?;
    st.user_by_account(account).ok_or_else(|| {
        ApiError::not_found("Specified user does not exist or you do not have required permissions")
    })
}

/// `POST /rest/api/3/group/user?groupId=` with `{"accountId": ...}` — 201 with the group.
pub(crate) async fn add_user(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
    raw: Bytes,
) -> ApiResult {
    let u = caller.user(scope::MANAGE)?;
    let b: AddBody = body(&raw)?;
    let mut st = app.state.write();
    need_site_admin(&st, u)?;
    let g = group_param(&st, &p)?;
    let x = user_param(&st, b.account_id.as_deref())?;
    if !st.add_member(g, x) && st.settings.already_member == AlreadyMember::Error {
        return Err(ApiError::bad(format!(
            "Cannot add user. '{}' is already a member of '{}'.",
            st.users[x as usize].display_name, st.groups[g as usize].name
        )));
    }
    let grp = &st.groups[g as usize];
    let v = json!({
        "name": grp.name, "groupId": grp.id,
        "self": format!("{}/rest/api/3/group?groupId={}", caller.base, grp.id),
        "users": {"size": grp.members.len(), "items": [], "max-results": 50, "start-index": 0, "end-index": 0},
        "expand": "users",
    });
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// `DELETE /rest/api/3/group/user?groupId=&accountId=` — 200 with an empty body.
pub(crate) async fn remove_user(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    let u = caller.user(scope::MANAGE)?;
    let mut st = app.state.write();
    need_site_admin(&st, u)?;
    let g = group_param(&st, &p)?;
    let x = user_param(&st, p.get("accountId"))?;
    let grp = &st.groups[g as usize];
    if !grp.members.contains(&x) {
        return Err(ApiError::bad(format!(
            "Cannot remove user '{}' from group '{}': the user is not a member of the group.",
            st.users[x as usize].display_name, grp.name
        )));
    }
    if grp.site_admin {
        let others = st
            .groups
            .iter()
            .filter(|g| g.site_admin)
            .flat_map(|g| g.active_members.iter())
            .any(|&m| m != x);
        if !others {
            return Err(ApiError::bad(
                "You cannot remove the last site administrator.",
            ));
        }
    }
    st.remove_member(g, x);
    Ok(StatusCode::OK.into_response())
}
