//! HTTP routes: the single route table ([`ROUTES`]), the router built from it, and the plumbing shared by
//! handlers (caller identity, errors, query parameters, paging).

mod activity;
mod admin;
mod control;
mod groups;
mod issues;
mod oauth;
mod permissions;
mod roles;
pub(crate) mod search;
mod site;
mod users;

pub use issues::EMBEDDED_COMMENTS;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State as AxState};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{self, Auth, HostKind};
use crate::server::Shared;
use crate::state::{State, UserIx};

/// Shared application state handed to handlers.
pub(crate) type App = Arc<Shared>;

/// Where a route is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mount {
    /// Jira REST: on the site host (`/rest/...`) and under the gateway prefix `/ex/jira/{cloudId}`.
    Rest,
    /// Site host only (`/_edge/...`, `/browse/...`).
    Site,
    /// `api.atlassian.com` (accessible-resources, Admin API).
    Api,
    /// `auth.atlassian.com` (token endpoint).
    Auth,
    /// Simulator control plane (`/__sim/...`).
    Control,
}

/// Which official OpenAPI document describes a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecDoc {
    /// `jira-platform-v3.json`.
    Jira,
    /// `admin-organization.json` (paths there are relative to `/admin`).
    Admin,
}

/// One route of the simulator.
#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: &'static str,
    /// Path template (axum syntax, names as in the official spec).
    pub path: &'static str,
    /// Where it is mounted.
    pub mount: Mount,
    /// Query parameters the simulator reads.
    pub params: &'static [&'static str],
    /// The operation in the official spec (document, path), when it is there.
    pub spec: Option<(SpecDoc, &'static str)>,
}

const fn r(
    method: &'static str,
    path: &'static str,
    mount: Mount,
    params: &'static [&'static str],
    spec: Option<(SpecDoc, &'static str)>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        mount,
        params,
        spec,
    }
}

const J: SpecDoc = SpecDoc::Jira;
const A: SpecDoc = SpecDoc::Admin;
const PAGE: &[&str] = &["startAt", "maxResults"];
const ISSUE: &str = "/rest/api/3/issue/{issueIdOrKey}";

/// Every route the simulator serves; the router is built from this table.
pub const ROUTES: &[RouteSpec] = &[
    // The v2 serverInfo has the v3 shape; the v3 document describes it.
    r(
        "GET",
        "/rest/api/2/serverInfo",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/serverInfo")),
    ),
    r(
        "GET",
        "/rest/api/3/serverInfo",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/serverInfo")),
    ),
    r(
        "GET",
        "/rest/api/3/myself",
        Mount::Rest,
        &["expand"],
        Some((J, "/rest/api/3/myself")),
    ),
    r(
        "GET",
        "/rest/api/3/mypermissions",
        Mount::Rest,
        &[
            "permissions",
            "projectKey",
            "projectId",
            "issueKey",
            "issueId",
        ],
        Some((J, "/rest/api/3/mypermissions")),
    ),
    r(
        "GET",
        "/rest/api/3/users/search",
        Mount::Rest,
        PAGE,
        Some((J, "/rest/api/3/users/search")),
    ),
    r(
        "GET",
        "/rest/api/3/users",
        Mount::Rest,
        PAGE,
        Some((J, "/rest/api/3/users")),
    ),
    r(
        "GET",
        "/rest/api/3/user",
        Mount::Rest,
        &["accountId", "expand"],
        Some((J, "/rest/api/3/user")),
    ),
    r(
        "DELETE",
        "/rest/api/3/user",
        Mount::Rest,
        &["accountId"],
        Some((J, "/rest/api/3/user")),
    ),
    r(
        "GET",
        "/rest/api/3/user/bulk",
        Mount::Rest,
        &["accountId", "startAt", "maxResults"],
        Some((J, "/rest/api/3/user/bulk")),
    ),
    r(
        "GET",
        "/rest/api/3/user/groups",
        Mount::Rest,
        &["accountId"],
        Some((J, "/rest/api/3/user/groups")),
    ),
    r(
        "GET",
        "/rest/api/3/user/search",
        Mount::Rest,
        &["query", "accountId", "startAt", "maxResults"],
        Some((J, "/rest/api/3/user/search")),
    ),
    r(
        "GET",
        "/rest/api/3/applicationrole",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/applicationrole")),
    ),
    r(
        "GET",
        "/rest/api/3/applicationrole/{key}",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/applicationrole/{key}")),
    ),
    r(
        "GET",
        "/rest/api/3/instance/license",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/instance/license")),
    ),
    r(
        "GET",
        "/rest/api/3/group/bulk",
        Mount::Rest,
        &[
            "startAt",
            "maxResults",
            "groupId",
            "groupName",
            "accessType",
            "applicationKey",
        ],
        Some((J, "/rest/api/3/group/bulk")),
    ),
    r(
        "GET",
        "/rest/api/3/group/member",
        Mount::Rest,
        &[
            "groupId",
            "groupname",
            "includeInactiveUsers",
            "startAt",
            "maxResults",
        ],
        Some((J, "/rest/api/3/group/member")),
    ),
    r(
        "POST",
        "/rest/api/3/group/user",
        Mount::Rest,
        &["groupId", "groupname"],
        Some((J, "/rest/api/3/group/user")),
    ),
    r(
        "DELETE",
        "/rest/api/3/group/user",
        Mount::Rest,
        &["groupId", "groupname", "accountId"],
        Some((J, "/rest/api/3/group/user")),
    ),
    r(
        "GET",
        "/rest/api/3/search/jql",
        Mount::Rest,
        &[
            "jql",
            "nextPageToken",
            "maxResults",
            "fields",
            "expand",
            "properties",
            "reconcileIssues",
        ],
        Some((J, "/rest/api/3/search/jql")),
    ),
    r(
        "POST",
        "/rest/api/3/search/jql",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/search/jql")),
    ),
    r(
        "POST",
        "/rest/api/3/search/approximate-count",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/search/approximate-count")),
    ),
    // The removed search endpoints (410 Gone). Their spec entries document the old 200 shape only.
    r(
        "GET",
        "/rest/api/3/search",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/search")),
    ),
    r(
        "POST",
        "/rest/api/3/search",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/search")),
    ),
    r(
        "GET",
        "/rest/api/2/search",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/search")),
    ),
    r(
        "POST",
        "/rest/api/2/search",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/search")),
    ),
    r(
        "POST",
        "/rest/api/3/changelog/bulkfetch",
        Mount::Rest,
        &[],
        Some((J, "/rest/api/3/changelog/bulkfetch")),
    ),
    r(
        "GET",
        "/rest/api/3/issue/{issueIdOrKey}/changelog",
        Mount::Rest,
        PAGE,
        Some((J, "/rest/api/3/issue/{issueIdOrKey}/changelog")),
    ),
    r(
        "GET",
        "/rest/api/3/issue/{issueIdOrKey}/comment",
        Mount::Rest,
        &["startAt", "maxResults", "orderBy", "expand"],
        Some((J, "/rest/api/3/issue/{issueIdOrKey}/comment")),
    ),
    r(
        "POST",
        "/rest/api/3/comment/list",
        Mount::Rest,
        &["expand"],
        Some((J, "/rest/api/3/comment/list")),
    ),
    r(
        "GET",
        "/rest/api/3/worklog/updated",
        Mount::Rest,
        &["since", "expand"],
        Some((J, "/rest/api/3/worklog/updated")),
    ),
    r(
        "GET",
        "/rest/api/3/worklog/deleted",
        Mount::Rest,
        &["since"],
        Some((J, "/rest/api/3/worklog/deleted")),
    ),
    r(
        "POST",
        "/rest/api/3/worklog/list",
        Mount::Rest,
        &["expand"],
        Some((J, "/rest/api/3/worklog/list")),
    ),
    r(
        "GET",
        "/rest/api/3/issue/{issueIdOrKey}/worklog",
        Mount::Rest,
        &["startAt", "maxResults", "startedAfter", "startedBefore"],
        Some((J, "/rest/api/3/issue/{issueIdOrKey}/worklog")),
    ),
    r(
        "GET",
        "/rest/api/3/project/search",
        Mount::Rest,
        &[
            "startAt",
            "maxResults",
            "orderBy",
            "id",
            "keys",
            "query",
            "typeKey",
            "expand",
        ],
        Some((J, "/rest/api/3/project/search")),
    ),
    r(
        "GET",
        "/rest/api/3/issuetype/project",
        Mount::Rest,
        &["projectId", "level"],
        Some((J, "/rest/api/3/issuetype/project")),
    ),
    r(
        "GET",
        "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
        Mount::Rest,
        PAGE,
        Some((
            J,
            "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
        )),
    ),
    r(
        "POST",
        "/rest/api/3/issue",
        Mount::Rest,
        &["updateHistory"],
        Some((J, "/rest/api/3/issue")),
    ),
    r(
        "GET",
        ISSUE,
        Mount::Rest,
        &["fields", "expand", "properties"],
        Some((J, ISSUE)),
    ),
    r(
        "DELETE",
        ISSUE,
        Mount::Rest,
        &["deleteSubtasks"],
        Some((J, ISSUE)),
    ),
    // Not in the official documents (hand-checked in the conformance test).
    r("GET", "/_edge/tenant_info", Mount::Site, &[], None),
    r("GET", "/browse/{key}", Mount::Site, &[], None),
    r("POST", "/oauth/token", Mount::Auth, &[], None),
    r(
        "GET",
        "/oauth/token/accessible-resources",
        Mount::Api,
        &[],
        None,
    ),
    r(
        "GET",
        "/admin/v1/orgs",
        Mount::Api,
        &["cursor"],
        Some((A, "/v1/orgs")),
    ),
    r(
        "GET",
        "/admin/v1/orgs/{orgId}/users",
        Mount::Api,
        &["cursor"],
        Some((A, "/v1/orgs/{orgId}/users")),
    ),
    r(
        "GET",
        "/admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
        Mount::Api,
        &["cursor"],
        Some((
            A,
            "/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
        )),
    ),
    r(
        "GET",
        "/admin/v2/orgs/{orgId}/directories",
        Mount::Api,
        &[],
        None,
    ),
    r(
        "POST",
        "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/search",
        Mount::Api,
        &[],
        None,
    ),
    r(
        "GET",
        "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments",
        Mount::Api,
        &[],
        None,
    ),
    r("GET", "/__sim/health", Mount::Control, &[], None),
    r("GET", "/__sim/stats", Mount::Control, &[], None),
    r("POST", "/__sim/stats/reset", Mount::Control, &[], None),
    r("POST", "/__sim/faults", Mount::Control, &[], None),
    r("DELETE", "/__sim/faults", Mount::Control, &[], None),
    r("GET", "/__sim/state", Mount::Control, &[], None),
    r("GET", "/__sim/issues", Mount::Control, &["label"], None),
    r("POST", "/__sim/activity", Mount::Control, &[], None),
    r("POST", "/__sim/oauth/expire", Mount::Control, &[], None),
    r("GET", "/__sim/requests", Mount::Control, &[], None),
    r("DELETE", "/__sim/requests", Mount::Control, &[], None),
];

/// The gateway prefix (`api.atlassian.com/ex/jira/{cloudId}`) in router syntax.
pub const GATEWAY_PREFIX: &str = "/ex/jira/{cloudId}";

fn handler(method: &str, path: &str) -> MethodRouter<App> {
    match (method, path) {
        ("GET", "/rest/api/2/serverInfo" | "/rest/api/3/serverInfo") => get(site::server_info),
        ("GET", "/_edge/tenant_info") => get(site::tenant_info),
        ("GET", "/browse/{key}") => get(site::browse),
        ("GET", "/rest/api/3/myself") => get(users::myself),
        ("GET", "/rest/api/3/mypermissions") => get(permissions::my_permissions),
        ("GET", "/rest/api/3/users/search" | "/rest/api/3/users") => get(users::list_users),
        ("GET", "/rest/api/3/user") => get(users::get_user),
        ("DELETE", "/rest/api/3/user") => delete(users::delete_user),
        ("GET", "/rest/api/3/user/bulk") => get(users::bulk),
        ("GET", "/rest/api/3/user/groups") => get(users::user_groups),
        ("GET", "/rest/api/3/user/search") => get(users::user_search),
        ("GET", "/rest/api/3/applicationrole") => get(roles::list),
        ("GET", "/rest/api/3/applicationrole/{key}") => get(roles::one),
        ("GET", "/rest/api/3/instance/license") => get(roles::license),
        ("GET", "/rest/api/3/group/bulk") => get(groups::bulk),
        ("GET", "/rest/api/3/group/member") => get(groups::members),
        ("POST", "/rest/api/3/group/user") => post(groups::add_user),
        ("DELETE", "/rest/api/3/group/user") => delete(groups::remove_user),
        ("GET", "/rest/api/3/search/jql") => get(search::search_get),
        ("POST", "/rest/api/3/search/jql") => post(search::search_post),
        ("POST", "/rest/api/3/search/approximate-count") => post(search::approximate_count),
        ("GET", "/rest/api/3/search" | "/rest/api/2/search") => get(search::gone),
        ("POST", "/rest/api/3/search" | "/rest/api/2/search") => post(search::gone),
        ("POST", "/rest/api/3/changelog/bulkfetch") => post(activity::bulk_changelog),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}/changelog") => get(activity::issue_changelog),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}/comment") => get(activity::issue_comments),
        ("POST", "/rest/api/3/comment/list") => post(activity::comment_list),
        ("GET", "/rest/api/3/worklog/updated") => get(activity::worklogs_updated),
        ("GET", "/rest/api/3/worklog/deleted") => get(activity::worklogs_deleted),
        ("POST", "/rest/api/3/worklog/list") => post(activity::worklog_list),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}/worklog") => get(activity::issue_worklogs),
        ("GET", "/rest/api/3/project/search") => get(issues::project_search),
        ("GET", "/rest/api/3/issuetype/project") => get(issues::issue_types),
        ("GET", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes") => {
            get(issues::createmeta)
        }
        ("POST", "/rest/api/3/issue") => post(issues::create),
        ("GET", ISSUE) => get(issues::get_issue),
        ("DELETE", ISSUE) => delete(issues::delete_issue),
        ("POST", "/oauth/token") => post(oauth::token),
        ("GET", "/oauth/token/accessible-resources") => get(oauth::accessible_resources),
        ("GET", "/admin/v1/orgs") => get(admin::orgs),
        ("GET", "/admin/v1/orgs/{orgId}/users") => get(admin::users_v1),
        ("GET", "/admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates") => {
            get(admin::last_active_dates)
        }
        ("GET", "/admin/v2/orgs/{orgId}/directories") => get(admin::directories),
        ("POST", "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/search") => {
            post(admin::users_search)
        }
        (
            "GET",
            "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments",
        ) => get(admin::role_assignments),
        ("GET", "/__sim/health") => get(control::health),
        ("GET", "/__sim/stats") => get(control::stats),
        ("POST", "/__sim/stats/reset") => post(control::reset_stats),
        ("POST", "/__sim/faults") => post(control::set_faults),
        ("DELETE", "/__sim/faults") => delete(control::clear_faults),
        ("GET", "/__sim/state") => get(control::dump),
        ("GET", "/__sim/issues") => get(control::issues),
        ("POST", "/__sim/activity") => post(control::activity),
        ("POST", "/__sim/oauth/expire") => post(control::expire_tokens),
        ("GET", "/__sim/requests") => get(control::received),
        ("DELETE", "/__sim/requests") => delete(control::clear_received),
        _ => panic!("route table entry {method} {path} has no handler"),
    }
}

/// Builds the router from [`ROUTES`]: REST routes are mounted twice (site and gateway prefix).
pub(crate) fn router(app: App) -> Router {
    let mut rest = Router::new();
    let mut other = Router::new();
    for route in ROUTES {
        let h = handler(route.method, route.path);
        match route.mount {
            Mount::Rest => rest = rest.route(route.path, h),
            _ => other = other.route(route.path, h),
        }
    }
    Router::new()
        .merge(rest.clone())
        .nest(GATEWAY_PREFIX, rest)
        .merge(other)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), pipeline))
        .with_state(app)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
        "<html><body>Not Found</body></html>",
    )
        .into_response()
}

/// Identity and addressing of the current request, set by the pipeline.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// Host the request was addressed to.
    pub host: HostKind,
    /// Authentication outcome.
    pub auth: Auth,
    /// Base for `self` links: `http://host[:port][/ex/jira/{cloudId}]`.
    pub base: String,
    /// Origin `http://host[:port]`.
    pub origin: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

impl Caller {
    /// The calling account, requiring authentication and (for scoped credentials) `scope`.
    pub fn user(&self, scope: &str) -> Result<UserIx, ApiError> {
        match &self.auth {
            Auth::Anonymous => Err(ApiError::Unauthenticated(self.host, false)),
            Auth::User { user, scopes } => {
                check_scope(scopes, scope)?;
                Ok(*user)
            }
        }
    }

    /// Like [`Caller::user`] but anonymous callers are allowed (`None`).
    pub fn maybe_user(&self, scope: &str) -> Result<Option<UserIx>, ApiError> {
        match &self.auth {
            Auth::Anonymous => Ok(None),
            Auth::User { user, scopes } => {
                check_scope(scopes, scope)?;
                Ok(Some(*user))
            }
        }
    }
}

fn check_scope(scopes: &Option<Vec<String>>, scope: &str) -> Result<(), ApiError> {
    match scopes {
        Some(s) if !s.iter().any(|x| x == scope) => Err(ApiError::Gateway(
            StatusCode::UNAUTHORIZED,
            "Unauthorized; scope does not match",
        )),
        _ => Ok(()),
    }
}

/// OAuth scopes used by the Jira endpoints.
pub(crate) mod scope {
    pub const READ_USER: &str = "read:jira-user";
    pub const READ_WORK: &str = "read:jira-work";
    pub const WRITE_WORK: &str = "write:jira-work";
    pub const MANAGE: &str = "manage:jira-configuration";
}

/// An error answer in one of the shapes the real services use.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// Jira ErrorCollection.
    Jira {
        status: StatusCode,
        messages: Vec<String>,
        errors: Vec<(String, String)>,
    },
    /// Gateway / proxy `{"code":..,"message":..}`.
    Gateway(StatusCode, &'static str),
    /// 401 on the given host; `true` = credentials were presented but rejected.
    Unauthenticated(HostKind, bool),
    /// Admin API ApplicationError.
    Admin {
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: String,
    },
    /// Bare status, empty body.
    Status(StatusCode),
}

impl ApiError {
    /// ErrorCollection with one message.
    pub fn jira(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::Jira {
            status,
            messages: vec![message.into()],
            errors: Vec::new(),
        }
    }

    /// 400 ErrorCollection with one message.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::jira(StatusCode::BAD_REQUEST, message)
    }

    /// ErrorCollection with field errors.
    pub fn fields(status: StatusCode, errors: Vec<(String, String)>) -> ApiError {
        ApiError::Jira {
            status,
            messages: Vec::new(),
            errors,
        }
    }

    /// 403 ErrorCollection.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::jira(StatusCode::FORBIDDEN, message)
    }

    /// 404 ErrorCollection.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::jira(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Jira {
                status,
                messages,
                errors,
            } => {
                let errors: serde_json::Map<String, Value> = errors
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                (
                    status,
                    axum::Json(json!({"errorMessages": messages, "errors": errors})),
                )
                    .into_response()
            }
            ApiError::Gateway(status, message) => (
                status,
                axum::Json(json!({"code": status.as_u16(), "message": message})),
            )
                .into_response(),
            ApiError::Unauthenticated(host, failed) => auth::unauthenticated(host, failed),
            ApiError::Admin {
                status,
                code,
                title,
                detail,
            } => {
                let id = format!("{:x}", crate::format::now_ms());
                let body = json!({"errors": [{"id": id, "status": status.as_u16().to_string(), "code": code,
                    "title": title, "detail": detail}]});
                (status, axum::Json(body)).into_response()
            }
            ApiError::Status(status) => status.into_response(),
        }
    }
}

/// Handler result.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// 200 with a JSON body.
pub(crate) fn ok(v: Value) -> ApiResult {
    Ok(axum::Json(v).into_response())
}

/// The path parameter of a route, ignoring the gateway prefix's `cloudId`.
pub(crate) struct Arg(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Arg {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
        raw.iter()
            .filter(|(k, _)| *k != "cloudId")
            .last()
            .map(|(_, v)| Arg(v.to_string()))
            .ok_or(ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

/// Query parameters in order, repeated names kept.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query().unwrap_or("")))
    }
}

impl Params {
    /// Parses a query string.
    pub fn parse(query: &str) -> Params {
        Params(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// First value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of a repeated parameter (comma-separated values are split too).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// An integer parameter (400 when not a number).
    pub fn int(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad(format!(
                    "The value '{v}' is invalid for parameter '{name}'."
                ))
            }),
        }
    }

    /// A boolean parameter.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `startAt` (≥ 0) and `maxResults` (default `default`, silently capped at `cap`).
    pub fn page(&self, default: i64, cap: i64) -> Result<(usize, usize), ApiError> {
        let start = self.int("startAt", 0)?;
        let max = self.int("maxResults", default)?;
        if start < 0 {
            return Err(ApiError::bad("'startAt' must not be negative."));
        }
        if max < 0 {
            return Err(ApiError::bad("'maxResults' must not be negative."));
        }
        Ok((start as usize, max.min(cap) as usize))
    }
}

/// Parses a JSON body; empty bodies parse as `{}`.
pub(crate) fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        ApiError::bad(format!(
            "Invalid request payload. Refer to the REST API documentation and try again. ({e})"
        ))
    })
}

/// A PageBean (`self`, `nextPage`, `maxResults`, `startAt`, `total`, `isLast`, `values`).
pub(crate) fn page_bean(
    self_url: &str,
    start: usize,
    max: usize,
    total: usize,
    values: Vec<Value>,
) -> Value {
    let is_last = start + values.len() >= total;
    let sep = if self_url.contains('?') { '&' } else { '?' };
    let mut v = json!({
        "self": format!("{self_url}{sep}startAt={start}&maxResults={max}"),
        "maxResults": max,
        "startAt": start,
        "total": total,
        "isLast": is_last,
        "values": values,
    });
    if !is_last {
        v["nextPage"] = Value::String(format!(
            "{self_url}{sep}startAt={}&maxResults={max}",
            start.saturating_add(max)
        ));
    }
    v
}

/// Slice of `items` for a page.
pub(crate) fn window<T>(items: &[T], start: usize, max: usize) -> &[T] {
    let s = start.min(items.len());
    &items[s..s.saturating_add(max).min(items.len())]
}

/// The one middleware: statistics, faults, host detection and authentication.
async fn pipeline(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__sim/") {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let response = serve(&app, req, &path, next).await;
    app.stats
        .record(&method, &route, response.status().as_u16());
    response
}

async fn serve(app: &App, mut req: Request, path: &str, next: Next) -> Response {
    let credential_key = auth::credential_key(req.headers());
    if let Some(response) = app.faults.before(path, credential_key, &app.stats).await {
        return response;
    }
    let host = HostKind::of_path(path);
    let origin = origin(req.headers());
    let base = match host {
        HostKind::Gateway => {
            let cloud = path
                .trim_start_matches("/ex/jira/")
                .split('/')
                .next()
                .unwrap_or("");
            if cloud != app.state.read().cloud_id {
                return ApiError::Gateway(StatusCode::NOT_FOUND, "Not Found").into_response();
            }
            format!("{origin}/ex/jira/{cloud}")
        }
        _ => origin.clone(),
    };
    let login = auth::basic_email(req.headers());
    if let Some(email) = &login
        && app.faults.captcha_locked(email)
    {
        return auth::captcha_locked(host);
    }
    let auth = {
        let st = app.state.read();
        auth::authenticate(&st, req.headers(), host, crate::format::now_ms())
    };
    let auth = match auth {
        Ok(a) => a,
        Err(e) => {
            if let Some(email) = &login {
                app.faults.login_failed(email);
            }
            return e.into_response();
        }
    };
    let account = match &auth {
        Auth::User { user, .. } => Some(app.state.read().users[*user as usize].account_id.clone()),
        Auth::Anonymous => None,
    };
    req.extensions_mut().insert(Caller {
        host,
        auth,
        base,
        origin,
    });
    let mut response = next.run(req).await;
    if let Some(account) = account
        && response.status().is_success()
        && let Ok(v) = HeaderValue::from_str(&account)
    {
        response.headers_mut().insert("x-aaccountid", v);
    }
    app.faults
        .after(path, credential_key, response.headers_mut());
    let n = app
        .request_counter
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(v) = HeaderValue::from_str(&format!("{n:016x}")) {
        response.headers_mut().insert("x-arequestid", v.clone());
        response.headers_mut().insert("atl-traceid", v);
    }
    response
}

fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Reads the state; the closure must not block.
pub(crate) fn read<R>(app: &App, f: impl FnOnce(&State) -> R) -> R {
    f(&app.state.read())
}
