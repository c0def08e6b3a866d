//! The simulator's control plane under `/__sim` (never used by the operator).

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::{App, read};
use crate::faults::Faults;
use crate::format::now_ms;
use crate::request::{Params, body};
use crate::scenario::Ago;
use crate::state::State;

/// `GET /__sim/health`.
pub(crate) async fn health() -> ApiResult {
    ok(json!({"status": "ok"}))
}

/// `GET /__sim/stats`.
pub(crate) async fn stats(AxState(app): AxState<App>) -> ApiResult {
    ok(serde_json::to_value(app.stats.snapshot()).unwrap_or_default())
}

/// `POST /__sim/stats/reset`.
pub(crate) async fn reset_stats(AxState(app): AxState<App>) -> Response {
    app.stats.reset();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /__sim/faults` — body: [`Faults`]; answers the faults in force.
pub(crate) async fn set_faults(AxState(app): AxState<App>, raw: Bytes) -> ApiResult {
    let f: Faults =
        serde_json::from_slice(&raw).map_err(|e| ApiError::bad(format!("invalid faults: {e}")))?;
    app.faults.set(f);
    ok(serde_json::to_value(app.faults.get()).unwrap_or_default())
}

/// `GET /__sim/requests` — the requests received outside the control plane, oldest first.
pub(crate) async fn received(AxState(app): AxState<App>) -> ApiResult {
    ok(serde_json::to_value(app.received.snapshot()).unwrap_or_default())
}

/// `DELETE /__sim/requests`.
pub(crate) async fn clear_received(AxState(app): AxState<App>) -> Response {
    app.received.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /__sim/faults`.
pub(crate) async fn clear_faults(AxState(app): AxState<App>) -> Response {
    app.faults.set(Faults::default());
    StatusCode::NO_CONTENT.into_response()
}

fn dump_state(st: &State) -> Value {
    let live_users: Vec<u32> = st.listed.clone();
    let users: Vec<Value> = live_users
        .iter()
        .map(|&u| {
            let user = &st.users[u as usize];
            json!({
                "accountId": user.account_id, "displayName": user.display_name, "email": user.email,
                "accountType": user.account_type.as_str(), "active": user.active,
                "groups": user.groups.iter().map(|&g| st.groups[g as usize].name.clone()).collect::<Vec<_>>(),
                "products": st.user_products(u), "reportedIssues": user.reported,
            })
        })
        .collect();
    let groups: Vec<Value> = st
        .groups
        .iter()
        .map(|g| {
            json!({"name": g.name, "groupId": g.id, "members": g.members.len(),
                        "activeMembers": g.active_members.len(), "products": g.products})
        })
        .collect();
    let products: Vec<Value> = st
        .products
        .iter()
        .map(
            |p| json!({"key": p.key, "seats": p.seats, "userCount": st.product_user_count(&p.key)}),
        )
        .collect();
    let mut labels: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for i in st.issues.iter().flatten() {
        for l in &i.labels {
            *labels.entry(l.as_str()).or_default() += 1;
        }
    }
    json!({
        "cloudId": st.cloud_id, "orgId": st.org_id, "directoryId": st.directory_id,
        "counts": {
            "users": live_users.len(), "groups": st.groups.len(), "issues": st.issue_count(),
            "comments": st.comments.iter().filter(|c| !c.deleted).count(),
            "changelog": st.changes.len(),
            "worklogs": st.worklog_updates.len(), "deletedWorklogs": st.worklog_deletions.len(),
        },
        "labels": labels, "products": products, "groups": groups, "users": users,
    })
}

/// `GET /__sim/state` — counts, labels, products, groups and users.
pub(crate) async fn dump(AxState(app): AxState<App>) -> ApiResult {
    ok(read(&app, dump_state))
}

/// `GET /__sim/issues?label=X` — `{"count": n, "keys": [...]}` (all issues without `label`).
pub(crate) async fn issues(AxState(app): AxState<App>, p: Params) -> ApiResult {
    let keys = read(&app, |st| match p.get("label") {
        Some(l) => st.issues_with_label(l),
        None => st.issues.iter().flatten().map(|i| i.key.clone()).collect(),
    });
    ok(json!({"count": keys.len(), "keys": keys}))
}

/// One activity item for `POST /__sim/activity`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityItem {
    /// `comment`, `changelog`, `worklog` or `worklog_deleted`.
    kind: String,
    /// Issue key or id (not needed for `worklog_deleted`).
    issue: Option<String>,
    /// Author (accountId, email or display name).
    author: Option<String>,
    /// When (default now), in the scenario time syntax.
    at: Option<Ago>,
    field: Option<String>,
    from: Option<String>,
    to: Option<String>,
    seconds: Option<u64>,
    body: Option<String>,
    /// For `worklog_deleted`: an existing worklog to delete (else a deletion of an unknown worklog).
    worklog: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ActivityBody {
    Many(Vec<ActivityItem>),
    One(ActivityItem),
}

/// `POST /__sim/activity` — appends comments, changelog entries, worklogs or worklog deletions.
pub(crate) async fn activity(AxState(app): AxState<App>, raw: Bytes) -> ApiResult {
    let items = match body::<ActivityBody>(&raw)? {
        ActivityBody::Many(v) => v,
        ActivityBody::One(i) => vec![i],
    };
    let now = now_ms();
    let mut st = app.state.write();
    let mut ids = Vec::new();
    for it in items {
        let at = it.at.map(|a| a.resolve(now)).unwrap_or(now);
        let author = match &it.author {
            Some(a) => Some(
                st.user_ref(a)
                    .ok_or_else(|| ApiError::bad(format!("unknown user '{a}'")))?,
            ),
            None => None,
        };
        if it.kind == "worklog_deleted" {
            match it.worklog {
                Some(id) if st.delete_worklog(id, at) => ids.push(id),
                Some(id) => return Err(ApiError::bad(format!("unknown worklog {id}"))),
                None => ids.push(st.add_worklog_deletion(at)),
            }
            continue;
        }
        let key = it
            .issue
            .as_deref()
            .ok_or_else(|| ApiError::bad("'issue' is required"))?;
        let ix = st
            .issue_ref(key)
            .ok_or_else(|| ApiError::bad(format!("unknown issue '{key}'")))?;
        let id = match it.kind.as_str() {
            "comment" => st.add_comment(
                ix,
                author,
                it.body.unwrap_or_else(|| "A comment.".into()),
                at,
            ),
            "changelog" => st.add_change(
                ix,
                author,
                it.field.unwrap_or_else(|| "status".into()),
                it.from,
                it.to,
                at,
            ),
            "worklog" => st.add_worklog(ix, author, it.seconds.unwrap_or(3600), at),
            k => return Err(ApiError::bad(format!("unknown kind '{k}'"))),
        };
        ids.push(id);
    }
    ok(json!({"ids": ids}))
}

/// `POST /__sim/oauth/expire` — every issued access token expires now.
pub(crate) async fn expire_tokens(AxState(app): AxState<App>) -> ApiResult {
    let mut st = app.state.write();
    let now = now_ms();
    let n = st.tokens.len();
    for t in st.tokens.values_mut() {
        t.expires_ms = t.expires_ms.min(now);
    }
    ok(json!({"expired": n}))
}
