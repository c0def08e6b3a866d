//! The route table ([`ROUTES`]): every route the simulator serves, each row with its method, path template,
//! mount, the query parameters it reads, its operation in the official documents and its handler. The
//! router is built from the table alone (module `router`); any other path is an HTML 404, as on a Jira
//! site. Every request goes through one pipeline (module `pipeline`).

mod pipeline;
pub(crate) mod router;

use axum::routing::{MethodFilter, MethodRouter, on};

use crate::app::App;
use crate::handlers::{
    activity, admin, control, groups, issues, oauth, permissions, projects, roles, search, site,
    users,
};
pub use crate::shapes::issues::EMBEDDED_COMMENTS;

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

/// Builds a row's handler into a method router for the given method.
pub(crate) type Endpoint = fn(MethodFilter) -> MethodRouter<App>;

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
    /// The method as the router matches it.
    pub(crate) filter: MethodFilter,
    /// The handler.
    pub(crate) endpoint: Endpoint,
}

/// An HTTP method of the table: its name and the router's filter.
struct Verb(&'static str, MethodFilter);

const GET: Verb = Verb("GET", MethodFilter::GET);
const POST: Verb = Verb("POST", MethodFilter::POST);
const DELETE: Verb = Verb("DELETE", MethodFilter::DELETE);

/// A route served where `mount` says, reading no query parameter and in no official document.
const fn route(mount: Mount, verb: Verb, path: &'static str, endpoint: Endpoint) -> RouteSpec {
    RouteSpec {
        method: verb.0,
        path,
        mount,
        params: &[],
        spec: None,
        filter: verb.1,
        endpoint,
    }
}

/// A Jira REST route, documented under its own path in the Jira platform document.
const fn rest(verb: Verb, path: &'static str, endpoint: Endpoint) -> RouteSpec {
    route(Mount::Rest, verb, path, endpoint).documented(J, path)
}

impl RouteSpec {
    /// The query parameters the route reads.
    const fn params(self, params: &'static [&'static str]) -> RouteSpec {
        RouteSpec { params, ..self }
    }

    /// The operation describing the route in an official document.
    const fn documented(self, doc: SpecDoc, path: &'static str) -> RouteSpec {
        RouteSpec {
            spec: Some((doc, path)),
            ..self
        }
    }
}

const J: SpecDoc = SpecDoc::Jira;
const A: SpecDoc = SpecDoc::Admin;
const PAGE: &[&str] = &["startAt", "maxResults"];
const ISSUE: &str = "/rest/api/3/issue/{issueIdOrKey}";

/// The gateway prefix (`api.atlassian.com/ex/jira/{cloudId}`) in router syntax.
pub const GATEWAY_PREFIX: &str = "/ex/jira/{cloudId}";

/// The route of the table a request reaches: `path` as sent (a query string is ignored), on its host or, for a
/// Jira REST route, under the gateway prefix. A literal segment wins over a template one (as in the router).
pub fn route_of(method: &str, path: &str) -> Option<&'static RouteSpec> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    let (segments, gateway) = match segments.as_slice() {
        ["", "ex", "jira", _, rest @ ..] => ([&[""][..], rest].concat(), true),
        _ => (segments, false),
    };
    ROUTES
        .iter()
        .filter(|r| r.method == method && (!gateway || r.mount == Mount::Rest))
        .filter_map(|r| {
            let template: Vec<&str> = r.path.split('/').collect();
            let matches = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == s);
            matches.then(|| (template.iter().filter(|t| !t.starts_with('{')).count(), r))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, r)| r)
}

/// Every route the simulator serves; the router is built from this table.
#[rustfmt::skip]
pub const ROUTES: &[RouteSpec] = &[
    // The v2 serverInfo has the v3 shape; the v3 document describes it.
    rest(GET, "/rest/api/2/serverInfo", |m| on(m, site::server_info))
        .documented(J, "/rest/api/3/serverInfo"),
    rest(GET, "/rest/api/3/serverInfo", |m| on(m, site::server_info)),
    rest(GET, "/rest/api/3/myself", |m| on(m, users::myself)).params(&["expand"]),
    rest(GET, "/rest/api/3/mypermissions", |m| on(m, permissions::my_permissions))
        .params(&["permissions", "projectKey", "projectId", "issueKey", "issueId"]),
    rest(GET, "/rest/api/3/users/search", |m| on(m, users::list_users)).params(PAGE),
    rest(GET, "/rest/api/3/users", |m| on(m, users::list_users)).params(PAGE),
    rest(GET, "/rest/api/3/user", |m| on(m, users::get_user)).params(&["accountId", "expand"]),
    rest(DELETE, "/rest/api/3/user", |m| on(m, users::delete_user)).params(&["accountId"]),
    rest(GET, "/rest/api/3/user/bulk", |m| on(m, users::bulk))
        .params(&["accountId", "startAt", "maxResults"]),
    rest(GET, "/rest/api/3/user/groups", |m| on(m, users::user_groups)).params(&["accountId"]),
    rest(GET, "/rest/api/3/user/search", |m| on(m, users::user_search))
        .params(&["query", "accountId", "startAt", "maxResults"]),
    rest(GET, "/rest/api/3/applicationrole", |m| on(m, roles::list)),
    rest(GET, "/rest/api/3/applicationrole/{key}", |m| on(m, roles::one)),
    rest(GET, "/rest/api/3/instance/license", |m| on(m, roles::license)),
    rest(GET, "/rest/api/3/group/bulk", |m| on(m, groups::bulk))
        .params(&["startAt", "maxResults", "groupId", "groupName", "accessType", "applicationKey"]),
    rest(GET, "/rest/api/3/group/member", |m| on(m, groups::members))
        .params(&["groupId", "groupname", "includeInactiveUsers", "startAt", "maxResults"]),
    rest(POST, "/rest/api/3/group/user", |m| on(m, groups::add_user)).params(&["groupId", "groupname"]),
    rest(DELETE, "/rest/api/3/group/user", |m| on(m, groups::remove_user))
        .params(&["groupId", "groupname", "accountId"]),
    rest(GET, "/rest/api/3/search/jql", |m| on(m, search::search_get))
        .params(&["jql", "nextPageToken", "maxResults", "fields", "expand", "properties", "reconcileIssues"]),
    rest(POST, "/rest/api/3/search/jql", |m| on(m, search::search_post)),
    rest(POST, "/rest/api/3/search/approximate-count", |m| on(m, search::approximate_count)),
    // The removed search endpoints (410 Gone). Their spec entries document the old 200 shape only.
    rest(GET, "/rest/api/3/search", |m| on(m, search::gone)),
    rest(POST, "/rest/api/3/search", |m| on(m, search::gone)),
    rest(GET, "/rest/api/2/search", |m| on(m, search::gone)).documented(J, "/rest/api/3/search"),
    rest(POST, "/rest/api/2/search", |m| on(m, search::gone)).documented(J, "/rest/api/3/search"),
    rest(POST, "/rest/api/3/changelog/bulkfetch", |m| on(m, activity::bulk_changelog)),
    rest(GET, "/rest/api/3/issue/{issueIdOrKey}/changelog", |m| on(m, activity::issue_changelog))
        .params(PAGE),
    rest(GET, "/rest/api/3/issue/{issueIdOrKey}/comment", |m| on(m, activity::issue_comments))
        .params(&["startAt", "maxResults", "orderBy", "expand"]),
    rest(POST, "/rest/api/3/comment/list", |m| on(m, activity::comment_list)).params(&["expand"]),
    rest(GET, "/rest/api/3/worklog/updated", |m| on(m, activity::worklogs_updated))
        .params(&["since", "expand"]),
    rest(GET, "/rest/api/3/worklog/deleted", |m| on(m, activity::worklogs_deleted)).params(&["since"]),
    rest(POST, "/rest/api/3/worklog/list", |m| on(m, activity::worklog_list)).params(&["expand"]),
    rest(GET, "/rest/api/3/issue/{issueIdOrKey}/worklog", |m| on(m, activity::issue_worklogs))
        .params(&["startAt", "maxResults", "startedAfter", "startedBefore"]),
    rest(GET, "/rest/api/3/project/search", |m| on(m, projects::project_search))
        .params(&["startAt", "maxResults", "orderBy", "id", "keys", "query", "typeKey", "expand"]),
    rest(GET, "/rest/api/3/issuetype/project", |m| on(m, projects::issue_types))
        .params(&["projectId", "level"]),
    rest(GET, "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes", |m| on(m, projects::createmeta))
        .params(PAGE),
    rest(POST, "/rest/api/3/issue", |m| on(m, issues::create)).params(&["updateHistory"]),
    rest(GET, ISSUE, |m| on(m, issues::get_issue)).params(&["fields", "expand", "properties"]),
    rest(DELETE, ISSUE, |m| on(m, issues::delete_issue)).params(&["deleteSubtasks"]),
    // Not in the official documents (hand-checked in the conformance test).
    route(Mount::Site, GET, "/_edge/tenant_info", |m| on(m, site::tenant_info)),
    route(Mount::Site, GET, "/browse/{key}", |m| on(m, site::browse)),
    route(Mount::Auth, POST, "/oauth/token", |m| on(m, oauth::token)),
    route(Mount::Api, GET, "/oauth/token/accessible-resources",
        |m| on(m, oauth::accessible_resources)),
    route(Mount::Api, GET, "/admin/v1/orgs", |m| on(m, admin::orgs))
        .params(&["cursor"])
        .documented(A, "/v1/orgs"),
    route(Mount::Api, GET, "/admin/v1/orgs/{orgId}/users", |m| on(m, admin::users_v1))
        .params(&["cursor"])
        .documented(A, "/v1/orgs/{orgId}/users"),
    route(Mount::Api, GET, "/admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
        |m| on(m, admin::last_active_dates))
        .params(&["cursor"])
        .documented(A, "/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates"),
    route(Mount::Api, GET, "/admin/v2/orgs/{orgId}/directories", |m| on(m, admin::directories)),
    route(Mount::Api, POST, "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/search",
        |m| on(m, admin::users_search)),
    route(Mount::Api, GET, "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments",
        |m| on(m, admin::role_assignments)),
    route(Mount::Control, GET, "/__sim/health", |m| on(m, control::health)),
    route(Mount::Control, GET, "/__sim/stats", |m| on(m, control::stats)),
    route(Mount::Control, POST, "/__sim/stats/reset", |m| on(m, control::reset_stats)),
    route(Mount::Control, POST, "/__sim/faults", |m| on(m, control::set_faults)),
    route(Mount::Control, DELETE, "/__sim/faults", |m| on(m, control::clear_faults)),
    route(Mount::Control, GET, "/__sim/state", |m| on(m, control::dump)),
    route(Mount::Control, GET, "/__sim/issues", |m| on(m, control::issues)).params(&["label"]),
    route(Mount::Control, POST, "/__sim/activity", |m| on(m, control::activity)),
    route(Mount::Control, POST, "/__sim/oauth/expire", |m| on(m, control::expire_tokens)),
    route(Mount::Control, GET, "/__sim/requests", |m| on(m, control::received)),
    route(Mount::Control, DELETE, "/__sim/requests", |m| on(m, control::clear_received)),
];
