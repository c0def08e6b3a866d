//! Activity: changelogs (per issue and bulk), comments (per issue and by ids), worklogs (per issue,
//! updated/deleted since, by ids).

use axum::body::Bytes;
use axum::extract::State as AxState;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::{App, read};
use crate::format::now_ms;
use crate::paging::{page_bean, window};
use crate::request::{Arg, Caller, Params, body, scope};
use crate::shapes::activity::{change_json, comment_json, worklog_json};
use crate::state::{IssueIx, State};

const NO_ISSUE: &str = "Issue does not exist or you do not have permission to see it.";

fn issue_param(st: &State, key: &str) -> Result<IssueIx, ApiError> {
    st.issue_ref(key)
        .ok_or_else(|| ApiError::not_found(NO_ISSUE))
}

/// `GET /rest/api/3/issue/{k}/changelog` — PageBean, oldest first, `maxResults` capped at 100.
pub(crate) async fn issue_changelog(
    AxState(app): AxState<App>,
    caller: Caller,
    Arg(key): Arg,
    p: Params,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let (start, max) = p.page(100, 100)?;
    read(&app, |st| {
        let ix = issue_param(st, &key)?;
        let issue = st.issue(ix);
        let values = window(&issue.changes, start, max)
            .iter()
            .map(|&c| change_json(st, &caller.base, c as usize))
            .collect();
        let self_url = format!("{}/rest/api/3/issue/{}/changelog", caller.base, issue.key);
        ok(page_bean(
            &self_url,
            start,
            max,
            issue.changes.len(),
            values,
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkChangelogBody {
    #[serde(default)]
    issue_ids_or_keys: Vec<String>,
    #[serde(default)]
    field_ids: Vec<String>,
    max_results: Option<i64>,
    next_page_token: Option<String>,
}

/// `POST /rest/api/3/changelog/bulkfetch` — 1–1000 issues, ≤ 10 field ids, `maxResults` ≤ 10000,
/// sorted by date then issue id, token paging.
pub(crate) async fn bulk_changelog(
    AxState(app): AxState<App>,
    caller: Caller,
    raw: Bytes,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let b: BulkChangelogBody = body(&raw)?;
    if b.issue_ids_or_keys.is_empty() || b.issue_ids_or_keys.len() > 1000 {
        return Err(ApiError::bad(
            "issueIdsOrKeys must contain between 1 and 1000 issue ids or keys.",
        ));
    }
    if b.field_ids.len() > 10 {
        return Err(ApiError::bad("fieldIds must contain at most 10 field ids."));
    }
    let max = b.max_results.unwrap_or(1000).clamp(1, 10_000) as usize;
    let offset = match b.next_page_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|r| String::from_utf8(r).ok())
            .and_then(|s| s.strip_prefix("cl:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| ApiError::bad("The provided next page token is invalid or expired."))?,
    };
    read(&app, |st| {
        let mut changes: Vec<(i64, u64, usize)> = Vec::new();
        let mut seen: Vec<IssueIx> = Vec::new();
        for k in &b.issue_ids_or_keys {
            let Some(ix) = st.issue_ref(k) else { continue };
            if seen.contains(&ix) {
                continue;
            }
            seen.push(ix);
            let issue = st.issue(ix);
            for &c in &issue.changes {
                let ch = &st.changes[c as usize];
                if b.field_ids.is_empty()
                    || b.field_ids
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(&ch.field))
                {
                    changes.push((ch.created_ms, issue.id, c as usize));
                }
            }
        }
        changes.sort_unstable();
        let page = window(&changes, offset, max);
        let mut groups: Vec<(u64, Vec<Value>)> = Vec::new();
        for &(_, issue_id, c) in page {
            let v = change_json(st, &caller.base, c);
            match groups.iter_mut().find(|(id, _)| *id == issue_id) {
                Some((_, list)) => list.push(v),
                None => groups.push((issue_id, vec![v])),
            }
        }
        let logs: Vec<Value> = groups
            .into_iter()
            .map(|(id, h)| json!({"issueId": id.to_string(), "changeHistories": h}))
            .collect();
        let mut out = json!({"issueChangeLogs": logs});
        if offset + page.len() < changes.len() {
            out["nextPageToken"] = Value::String(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(format!("cl:{}", offset + page.len())),
            );
        }
        ok(out)
    })
}

/// `GET /rest/api/3/issue/{k}/comment` — legacy page; `orderBy` is `created`, `+created` or `-created`.
pub(crate) async fn issue_comments(
    AxState(app): AxState<App>,
    caller: Caller,
    Arg(key): Arg,
    p: Params,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let (start, max) = p.page(100, 5000)?;
    let desc = match p.get("orderBy") {
        None | Some("created") | Some("+created") => false,
        Some("-created") => true,
        Some(o) => {
            return Err(ApiError::bad(format!(
                "Invalid orderBy value '{o}'. Valid values are created, -created, +created."
            )));
        }
    };
    read(&app, |st| {
        let ix = issue_param(st, &key)?;
        let mut list: Vec<u32> = st.issue(ix).comments.clone();
        list.sort_by_key(|&c| (st.comments[c as usize].created_ms, c));
        if desc {
            list.reverse();
        }
        let items: Vec<Value> = window(&list, start, max)
            .iter()
            .map(|&c| comment_json(st, &caller.base, c as usize))
            .collect();
        ok(json!({"startAt": start, "maxResults": max, "total": list.len(), "comments": items}))
    })
}

#[derive(Deserialize)]
struct IdsBody {
    #[serde(default)]
    ids: Vec<u64>,
}

fn ids_body(raw: &Bytes) -> Result<Vec<u64>, ApiError> {
    let b: IdsBody = body(raw)?;
    if b.ids.is_empty() {
        return Err(ApiError::bad("The list of ids must not be empty."));
    }
    if b.ids.len() > 1000 {
        return Err(ApiError::bad("The number of ids must not exceed 1000."));
    }
    Ok(b.ids)
}

/// `POST /rest/api/3/comment/list` `{"ids": [...]}` (≤ 1000) — PageBean of the comments found.
pub(crate) async fn comment_list(
    AxState(app): AxState<App>,
    caller: Caller,
    raw: Bytes,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let mut ids = ids_body(&raw)?;
    ids.sort_unstable();
    ids.dedup();
    read(&app, |st| {
        let values: Vec<Value> = ids
            .iter()
            .filter(|&&id| st.comment(id).is_some())
            .map(|&id| comment_json(st, &caller.base, (id - crate::state::BASE_ID) as usize))
            .collect();
        let n = values.len();
        ok(page_bean(
            &format!("{}/rest/api/3/comment/list", caller.base),
            0,
            1000,
            n,
            values,
        ))
    })
}

/// `POST /rest/api/3/worklog/list` `{"ids": [...]}` (≤ 1000) — array of the worklogs found.
pub(crate) async fn worklog_list(
    AxState(app): AxState<App>,
    caller: Caller,
    raw: Bytes,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let ids = ids_body(&raw)?;
    read(&app, |st| {
        let values: Vec<Value> = ids
            .iter()
            .filter(|&&id| st.worklog(id).is_some())
            .map(|&id| worklog_json(st, &caller.base, (id - crate::state::BASE_ID) as usize))
            .collect();
        ok(Value::Array(values))
    })
}

/// A `since` page over a sorted `(time, id)` index: items with `since < time <= now - 60 s`, at most 1000
/// (never splitting equal timestamps), `until` = last time on the page.
fn changed_page(index: &[(i64, u64)], since: i64, now: i64, self_base: &str) -> Value {
    let cutoff = now - 60_000;
    let from = index.partition_point(|&(t, _)| t <= since);
    let to = index.partition_point(|&(t, _)| t <= cutoff);
    let mut end = (from + 1000).min(to.max(from));
    while end < to && end > from && index[end].0 == index[end - 1].0 {
        end += 1;
    }
    let page = &index[from..end];
    let until = page.last().map(|&(t, _)| t).unwrap_or(since.max(0));
    let last = end >= to;
    let values: Vec<Value> = page
        .iter()
        .map(|&(t, id)| json!({"worklogId": id, "updatedTime": t, "properties": []}))
        .collect();
    let mut v = json!({
        "values": values, "since": since, "until": until, "lastPage": last,
        "self": format!("{self_base}?since={since}"),
    });
    if !last {
        v["nextPage"] = Value::String(format!("{self_base}?since={until}"));
    }
    v
}

/// `GET /rest/api/3/worklog/updated?since=` — time cursor, ≤ 1000 per page, last minute excluded.
pub(crate) async fn worklogs_updated(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let since = p.int("since", 0)?;
    let base = format!("{}/rest/api/3/worklog/updated", caller.base);
    ok(read(&app, |st| {
        changed_page(&st.worklog_updates, since, now_ms(), &base)
    }))
}

/// `GET /rest/api/3/worklog/deleted?since=` — same envelope; no author, no issue.
pub(crate) async fn worklogs_deleted(
    AxState(app): AxState<App>,
    caller: Caller,
    p: Params,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let since = p.int("since", 0)?;
    let base = format!("{}/rest/api/3/worklog/deleted", caller.base);
    ok(read(&app, |st| {
        changed_page(&st.worklog_deletions, since, now_ms(), &base)
    }))
}

/// `GET /rest/api/3/issue/{k}/worklog` — legacy page (default and cap 5000), `startedAfter`/`startedBefore`.
pub(crate) async fn issue_worklogs(
    AxState(app): AxState<App>,
    caller: Caller,
    Arg(key): Arg,
    p: Params,
) -> ApiResult {
    caller.user(scope::READ_WORK)?;
    let (start, max) = p.page(5000, 5000)?;
    let after = p.int("startedAfter", i64::MIN)?;
    let before = p.int("startedBefore", i64::MAX)?;
    read(&app, |st| {
        let ix = issue_param(st, &key)?;
        let list: Vec<u32> = st
            .issue(ix)
            .worklogs
            .iter()
            .copied()
            .filter(|&w| {
                let s = st.worklogs[w as usize].started_ms;
                s >= after && s < before
            })
            .collect();
        let items: Vec<Value> = window(&list, start, max)
            .iter()
            .map(|&w| worklog_json(st, &caller.base, w as usize))
            .collect();
        ok(json!({"startAt": start, "maxResults": max, "total": list.len(), "worklogs": items}))
    })
}
