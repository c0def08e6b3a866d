//! Enhanced JQL search (`search/jql`, token paging), approximate count, and the removed `/search` (410).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::App;
use crate::format::now_ms;
use crate::index_lag::LagView;
use crate::jql::{self, Field};
use crate::permissions::{Scope, holds};
use crate::request::{Caller, Params, body, scope};
use crate::shapes::issues::{FieldSel, issue_json};
use crate::state::{Issue, IssueIx, State, UserIx};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SearchBody {
    jql: Option<String>,
    next_page_token: Option<String>,
    max_results: Option<i64>,
    fields: Option<Vec<String>>,
    expand: Option<String>,
    properties: Option<Vec<String>>,
    reconcile_issues: Option<Vec<u64>>,
}

const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";

fn parse_bounded(text: &str, now: i64) -> Result<jql::Query, ApiError> {
    let q = jql::parse(text).map_err(ApiError::bad)?;
    let Some(f) = &q.filter else {
        return Err(ApiError::bad(UNBOUNDED));
    };
    let filter = Some(jql::prepare(f, now).map_err(ApiError::bad)?);
    Ok(jql::Query {
        filter,
        order: q.order,
    })
}

/// An issue as the (possibly lagging) index sees it: live, or deleted less than the lag ago.
fn seen<'a>(st: &'a State, lag: &'a LagView, ix: IssueIx) -> Option<&'a Issue> {
    st.issues[ix as usize]
        .as_ref()
        .or_else(|| lag.ghosts.get(&ix).map(|i| &**i))
}

/// Issues of projects the caller may not browse are not found (not an error), as in Jira.
fn run(
    st: &State,
    u: UserIx,
    q: &jql::Query,
    reconcile: &[u64],
    now: i64,
    lag: &LagView,
) -> Result<Vec<IssueIx>, ApiError> {
    let filter = q.filter.as_ref().expect("bounded query");
    let mut hits = Vec::new();
    for (ix, issue) in st.issues.iter().enumerate() {
        let Some(issue) = issue else { continue };
        let unseen = issue.searchable_from_ms > now || lag.unseen.contains(&(ix as IssueIx));
        let hidden = holds(st, u, "BROWSE_PROJECTS", Scope::Project(issue.project)) != Some(true);
        if hidden || (unseen && !reconcile.contains(&issue.id)) {
            continue;
        }
        if jql::matches(filter, st, issue, now).map_err(ApiError::bad)? {
            hits.push(ix as IssueIx);
        }
    }
    for (&ix, issue) in &lag.ghosts {
        if !reconcile.contains(&issue.id)
            && holds(st, u, "BROWSE_PROJECTS", Scope::Project(issue.project)) == Some(true)
            && jql::matches(filter, st, issue, now).map_err(ApiError::bad)?
        {
            hits.push(ix);
        }
    }
    let order: Vec<(Field, bool)> = if q.order.is_empty() {
        vec![(Field::Id, true)]
    } else {
        q.order.clone()
    };
    let get = |ix: IssueIx| seen(st, lag, ix).expect("a hit is live or a ghost");
    hits.sort_by(|&a, &b| {
        let (ia, ib) = (get(a), get(b));
        for &(f, desc) in &order {
            let c = match f {
                Field::Updated => ia.updated_ms.cmp(&ib.updated_ms),
                Field::Created => ia.created_ms.cmp(&ib.created_ms),
                Field::Key => {
                    (ia.project, key_number(&ia.key)).cmp(&(ib.project, key_number(&ib.key)))
                }
                Field::Project => ia.project.cmp(&ib.project),
                Field::Status => ia.status.cmp(&ib.status),
                _ => ia.id.cmp(&ib.id),
            };
            let c = if desc { c.reverse() } else { c };
            if c.is_ne() {
                return c;
            }
        }
        ia.id.cmp(&ib.id)
    });
    Ok(hits)
}

fn key_number(key: &str) -> u64 {
    key.rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn decode_token(t: &str) -> Option<(u64, usize)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, off) = text.split_once(':')?;
    Some((id.parse().ok()?, off.parse().ok()?))
}

fn encode_token(id: u64, offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{id}:{offset}"))
}

async fn search(app: App, caller: Caller, req: SearchBody) -> ApiResult {
    let now = now_ms();
    let jql_text = req.jql.unwrap_or_default();
    let q = parse_bounded(&jql_text, now)?;
    let Some(u) = caller.maybe_user(scope::READ_WORK)? else {
        return ok(json!({"issues": [], "isLast": true}));
    };
    let fields = FieldSel::parse(req.fields.as_deref().unwrap_or(&["id".to_string()]));
    let cap = if fields.ids_only() { 5000 } else { 100 };
    let max = req.max_results.unwrap_or(50);
    if max < 0 {
        return Err(ApiError::bad("'maxResults' must not be negative."));
    }
    let max = (max as usize).clamp(1, cap);
    let reconcile = req.reconcile_issues.unwrap_or_default();
    if reconcile.len() > 50 {
        return Err(ApiError::bad(
            "The maximum number of issues to reconcile is 50.",
        ));
    }
    let token =
        match req.next_page_token.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(decode_token(t).ok_or_else(|| {
                ApiError::bad("The provided next page token is invalid or expired.")
            })?),
        };
    let key = format!("{u}\u{0}{jql_text}\u{0}{reconcile:?}");
    let st = app.state.read();
    let lag_ms = app.faults.search_lag_ms();
    let lag = app.recent_writes.lock().view(now, lag_ms);
    let (id, hits, offset) = match token
        .and_then(|(id, off)| app.search_cache.lock().get(id, &key).map(|h| (id, h, off)))
    {
        Some(found) => found,
        None => {
            let hits = Arc::new(run(&st, u, &q, &reconcile, now, &lag)?);
            let id = app.search_cache.lock().put(key, hits.clone());
            (id, hits, token.map(|(_, off)| off).unwrap_or(0))
        }
    };
    let props = req.properties.unwrap_or_default();
    let expand = req.expand.unwrap_or_default();
    let with_changelog = expand.split(',').any(|e| e.trim() == "changelog");
    let end = offset.saturating_add(max).min(hits.len());
    let start = offset.min(end);
    // Issues deleted since the result set was computed (and out of the lag) are skipped.
    let issues: Vec<Value> = hits[start..end]
        .iter()
        .filter_map(|&ix| seen(&st, &lag, ix))
        .map(|issue| issue_json(&st, &caller.base, issue, &fields, with_changelog, &props))
        .collect();
    let mut out = json!({"issues": issues, "isLast": end >= hits.len()});
    if end < hits.len() {
        out["nextPageToken"] = Value::String(encode_token(id, end));
    }
    ok(out)
}

/// `GET /rest/api/3/search/jql`.
pub(crate) async fn search_get(AxState(app): AxState<App>, caller: Caller, p: Params) -> ApiResult {
    let fields: Vec<String> = p.all("fields").iter().map(|s| s.to_string()).collect();
    let reconcile = p
        .all("reconcileIssues")
        .iter()
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::bad(format!("'{v}' is not a valid issue id.")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max = match p.get("maxResults") {
        Some(_) => Some(p.int("maxResults", 50)?),
        None => None,
    };
    let req = SearchBody {
        jql: p.get("jql").map(str::to_string),
        next_page_token: p.get("nextPageToken").map(str::to_string),
        max_results: max,
        fields: (!fields.is_empty()).then_some(fields),
        expand: p.get("expand").map(str::to_string),
        properties: Some(p.all("properties").iter().map(|s| s.to_string()).collect()),
        reconcile_issues: Some(reconcile),
    };
    search(app, caller, req).await
}

/// `POST /rest/api/3/search/jql`.
pub(crate) async fn search_post(
    AxState(app): AxState<App>,
    caller: Caller,
    raw: Bytes,
) -> ApiResult {
    search(app, caller, body(&raw)?).await
}

#[derive(Deserialize)]
struct CountBody {
    jql: Option<String>,
}

/// `POST /rest/api/3/search/approximate-count` — `{"count": n}`.
pub(crate) async fn approximate_count(
    AxState(app): AxState<App>,
    caller: Caller,
    raw: Bytes,
) -> ApiResult {
    let b: CountBody = body(&raw)?;
    let now = now_ms();
    let q = parse_bounded(b.jql.as_deref().unwrap_or(""), now)?;
    let Some(u) = caller.maybe_user(scope::READ_WORK)? else {
        return ok(json!({"count": 0}));
    };
    let st = app.state.read();
    let lag_ms = app.faults.search_lag_ms();
    let lag = app.recent_writes.lock().view(now, lag_ms);
    let n = run(&st, u, &q, &[], now, &lag)?.len();
    ok(json!({"count": n}))
}

/// The removed `/search` endpoints: 410 Gone.
pub(crate) async fn gone() -> ApiError {
    ApiError::jira(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}
