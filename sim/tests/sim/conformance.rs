//! Conformance of every route the simulator serves with the official OpenAPI documents (shared
//! reference folder beside the repository): response bodies validate against the schema of their
//! operation and status, and every query parameter the simulator reads exists in the spec. Routes that
//! are not in the official documents (tenant_info, browse, the OAuth endpoints, the Admin API v2 paths,
//! the control plane) get hand-written checks. The route table (`jira_sim::routes::ROUTES`), from which
//! the router is built, must be covered entirely, and each call must reach its route template.

use std::collections::BTreeSet;

use crate::common::*;
use jira_sim::openapi::{Spec, denull};
use jira_sim::routes::{Mount, ROUTES, RouteSpec, SpecDoc, route_of};
use serde_json::{Value, json};

/// Validates `body` against `schema`, whose references point into the document's components.
fn validate(spec: &Spec, schema: &Value, body: &Value, what: &str) -> Result<(), String> {
    let mut root = schema.clone();
    denull(&mut root);
    let root = match root {
        Value::Object(mut m) => {
            m.insert("components".into(), spec.components.clone());
            Value::Object(m)
        }
        other => other,
    };
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(false)
        .build(&root)
        .unwrap_or_else(|e| panic!("{what}: schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: body does not match the schema:\n{}\nbody: {body}",
            errors.join("\n")
        ))
    }
}

/// The JSON schema of a response, if the spec gives one.
fn response_schema(spec: &Spec, path: &str, method: &str, status: u16) -> Option<Value> {
    let responses = &spec.op(path, method)["responses"];
    let r = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))?;
    r["content"]["application/json"]["schema"]
        .as_object()
        .map(|s| Value::Object(s.clone()))
}

/// How a case's body is checked.
#[derive(Clone)]
enum Check {
    /// The spec's schema for the route and status (error statuses without a schema fall back to the
    /// Jira ErrorCollection).
    Spec,
    /// A hand-written JSON schema (route or status not in the official documents).
    Hand(Value),
    /// Empty body.
    Empty,
    /// A body containing this text (HTML pages).
    Contains(&'static str),
}

#[derive(Clone)]
struct Case {
    method: &'static str,
    template: &'static str,
    url: String,
    who: Who,
    body: Option<Value>,
    status: u16,
    check: Check,
    gateway: bool,
}

fn case(method: &'static str, template: &'static str, path: &str, who: Who, status: u16) -> Case {
    Case {
        method,
        template,
        url: path.to_string(),
        who,
        body: None,
        status,
        check: Check::Spec,
        gateway: false,
    }
}

impl Case {
    fn body(mut self, b: Value) -> Case {
        self.body = Some(b);
        self
    }
    fn check(mut self, c: Check) -> Case {
        self.check = c;
        self
    }
    fn via_gateway(mut self) -> Case {
        self.gateway = true;
        self
    }
}

fn strict_object(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "required": required, "properties": props})
}

fn cases() -> Vec<Case> {
    let token = "{token}";
    let s = |v: &str| json!({"type": "string", "minLength": if v.is_empty() { 0 } else { 1 }});
    let user_v2 = strict_object(
        &[
            "accountId",
            "accountType",
            "status",
            "accountStatus",
            "name",
            "claimStatus",
        ],
        json!({"accountId": s("x"), "accountType": {"enum": ["atlassian", "app", "customer"]},
               "status": {"enum": ["active", "suspended", "not_invited", "deactivated", "for_deletion"]},
               "accountStatus": {"enum": ["active", "inactive", "closed"]}, "name": s(""),
               "email": s("x"), "platformRoles": {"type": "array", "items": s("x")},
               "productAccess": {"type": "array", "items": strict_object(&["key", "id"], json!({"key": s("x"), "id": s("x")}))},
               "groups": {"type": "array", "items": strict_object(&["id", "name"], json!({"id": s("x"), "name": s("x")}))},
               "counts": strict_object(&["resources"], json!({"resources": {"type": "integer"}}))}),
    );
    let jql = "/rest/api/3/search/jql?jql=project%20%3D%20ENG%20ORDER%20BY%20key&fields=*all&maxResults=2&expand=changelog&properties=license-operator&nextPageToken=&reconcileIssues=10000";
    vec![
        case("GET", "/rest/api/2/serverInfo", "/rest/api/2/serverInfo", Who::Anon, 200),
        case("GET", "/rest/api/3/serverInfo", "/rest/api/3/serverInfo", Who::Anon, 200),
        case("GET", "/rest/api/3/myself", "/rest/api/3/myself?expand=groups,applicationRoles", Who::Admin, 200),
        case("GET", "/rest/api/3/myself", "/rest/api/3/myself?expand=groups,applicationRoles", Who::Scoped, 200).via_gateway(),
        case("GET", "/rest/api/3/myself", "/rest/api/3/myself", Who::Bearer(token.into()), 200).via_gateway(),
        case("GET", "/rest/api/3/mypermissions", "/rest/api/3/mypermissions?permissions=USER_PICKER,CREATE_ISSUES,DELETE_ISSUES", Who::Admin, 200),
        case("GET", "/rest/api/3/mypermissions", "/rest/api/3/mypermissions?permissions=CREATE_ISSUES&projectKey=ENG", Who::Bearer(token.into()), 200).via_gateway(),
        case("GET", "/rest/api/3/mypermissions", "/rest/api/3/mypermissions?permissions=DELETE_ISSUES&issueKey=ENG-1", Who::Viewer, 200),
        case("GET", "/rest/api/3/mypermissions", "/rest/api/3/mypermissions?permissions=NOPE", Who::Admin, 400),
        case("GET", "/rest/api/3/mypermissions", "/rest/api/3/mypermissions?permissions=CREATE_ISSUES&projectKey=NOPE", Who::Admin, 404),
        case("GET", "/rest/api/3/users/search", "/rest/api/3/users/search?startAt=0&maxResults=100", Who::Admin, 200),
        case("GET", "/rest/api/3/users/search", "/rest/api/3/users/search", Who::Viewer, 403),
        case("GET", "/rest/api/3/users", "/rest/api/3/users?startAt=1&maxResults=3", Who::Admin, 200),
        case("GET", "/rest/api/3/user", &format!("/rest/api/3/user?accountId={MIA}&expand=groups,applicationRoles"), Who::Admin, 200),
        case("GET", "/rest/api/3/user", "/rest/api/3/user?accountId=nobody", Who::Admin, 404),
        case("GET", "/rest/api/3/user/bulk", &format!("/rest/api/3/user/bulk?accountId={MIA}&accountId={EMMA}&startAt=0&maxResults=1"), Who::Admin, 200),
        case("GET", "/rest/api/3/user/groups", &format!("/rest/api/3/user/groups?accountId={MIA}"), Who::Admin, 200),
        case("GET", "/rest/api/3/user/search", "/rest/api/3/user/search?query=mi&startAt=0&maxResults=10", Who::Admin, 200),
        case("GET", "/rest/api/3/user/search", &format!("/rest/api/3/user/search?accountId={MIA}"), Who::Viewer, 200),
        case("GET", "/rest/api/3/applicationrole", "/rest/api/3/applicationrole", Who::Admin, 200),
        case("GET", "/rest/api/3/applicationrole", "/rest/api/3/applicationrole", Who::Viewer, 403),
        case("GET", "/rest/api/3/applicationrole/{key}", "/rest/api/3/applicationrole/jira-software", Who::Admin, 200),
        case("GET", "/rest/api/3/instance/license", "/rest/api/3/instance/license", Who::Admin, 200),
        case("GET", "/rest/api/3/group/bulk", "/rest/api/3/group/bulk?startAt=0&maxResults=3&accessType=user&applicationKey=jira-software", Who::Admin, 200),
        case("GET", "/rest/api/3/group/bulk", &format!("/rest/api/3/group/bulk?groupId={DEVS}&groupName=site-admins"), Who::Admin, 200),
        case("GET", "/rest/api/3/group/member", &format!("/rest/api/3/group/member?groupId={SOFTWARE_GROUP}&includeInactiveUsers=true&startAt=0&maxResults=3"), Who::Admin, 200),
        case("GET", "/rest/api/3/group/member", "/rest/api/3/group/member?groupname=devs", Who::Admin, 200),
        case("GET", "/rest/api/3/group/member", "/rest/api/3/group/member?groupname=devs", Who::Viewer, 403),
        case("POST", "/rest/api/3/group/user", &format!("/rest/api/3/group/user?groupId={DEVS}"), Who::Admin, 201).body(json!({"accountId": NOAH})),
        case("POST", "/rest/api/3/group/user", "/rest/api/3/group/user?groupname=nope", Who::Admin, 404).body(json!({"accountId": NOAH})),
        case("DELETE", "/rest/api/3/group/user", &format!("/rest/api/3/group/user?groupId={DEVS}&accountId={NOAH}"), Who::Admin, 200).check(Check::Empty),
        case("DELETE", "/rest/api/3/group/user", &format!("/rest/api/3/group/user?groupname=devs&accountId={NOAH}"), Who::Admin, 400),
        case("GET", "/rest/api/3/search/jql", jql, Who::Admin, 200),
        case("GET", "/rest/api/3/search/jql", "/rest/api/3/search/jql?jql=ORDER%20BY%20key", Who::Admin, 400),
        case("POST", "/rest/api/3/search/jql", "/rest/api/3/search/jql", Who::Admin, 200)
            .body(json!({"jql": "updated >= -30d ORDER BY updated DESC", "fields": ["id"], "maxResults": 1})),
        case("POST", "/rest/api/3/search/jql", "/rest/api/3/search/jql", Who::Bearer(token.into()), 200)
            .body(json!({"jql": "labels = demo", "fields": ["key", "summary", "status", "project", "issuetype", "reporter", "assignee", "created", "updated", "labels", "comment", "worklog", "description"]}))
            .via_gateway(),
        case("POST", "/rest/api/3/search/approximate-count", "/rest/api/3/search/approximate-count", Who::Admin, 200).body(json!({"jql": "project = ENG"})),
        case("GET", "/rest/api/3/search", "/rest/api/3/search?jql=project=ENG", Who::Admin, 410).check(Check::Hand(json!({"$ref": "#/components/schemas/ErrorCollection"}))),
        case("POST", "/rest/api/3/search", "/rest/api/3/search", Who::Admin, 410).body(json!({"jql": "project = ENG"})).check(Check::Hand(json!({"$ref": "#/components/schemas/ErrorCollection"}))),
        case("GET", "/rest/api/2/search", "/rest/api/2/search?jql=project=ENG", Who::Admin, 410).check(Check::Hand(json!({"$ref": "#/components/schemas/ErrorCollection"}))),
        case("POST", "/rest/api/2/search", "/rest/api/2/search", Who::Admin, 410).body(json!({})).check(Check::Hand(json!({"$ref": "#/components/schemas/ErrorCollection"}))),
        case("POST", "/rest/api/3/changelog/bulkfetch", "/rest/api/3/changelog/bulkfetch", Who::Admin, 200)
            .body(json!({"issueIdsOrKeys": ["ENG-1", "10003"], "fieldIds": ["status", "assignee", "labels"], "maxResults": 2})),
        case("POST", "/rest/api/3/changelog/bulkfetch", "/rest/api/3/changelog/bulkfetch", Who::Admin, 400).body(json!({"issueIdsOrKeys": []})),
        case("GET", "/rest/api/3/issue/{issueIdOrKey}/changelog", "/rest/api/3/issue/ENG-1/changelog?startAt=0&maxResults=1", Who::Admin, 200),
        case("GET", "/rest/api/3/issue/{issueIdOrKey}/changelog", "/rest/api/3/issue/NOPE-1/changelog", Who::Admin, 404),
        case("GET", "/rest/api/3/issue/{issueIdOrKey}/comment", "/rest/api/3/issue/ENG-1/comment?orderBy=-created&startAt=0&maxResults=5&expand=renderedBody", Who::Admin, 200),
        case("GET", "/rest/api/3/issue/{issueIdOrKey}/comment", "/rest/api/3/issue/ENG-1/comment?orderBy=updated", Who::Admin, 400),
        case("POST", "/rest/api/3/comment/list", "/rest/api/3/comment/list", Who::Admin, 200).body(json!({"ids": [10000, 10001, 10003]})),
        case("GET", "/rest/api/3/worklog/updated", "/rest/api/3/worklog/updated?since=0&expand=properties", Who::Admin, 200),
        case("GET", "/rest/api/3/worklog/deleted", "/rest/api/3/worklog/deleted?since=0", Who::Admin, 200),
        case("POST", "/rest/api/3/worklog/list", "/rest/api/3/worklog/list", Who::Admin, 200).body(json!({"ids": [10000, 10001]})),
        case("POST", "/rest/api/3/worklog/list", "/rest/api/3/worklog/list", Who::Admin, 400).body(json!({"ids": []})),
        case("GET", "/rest/api/3/issue/{issueIdOrKey}/worklog", "/rest/api/3/issue/ENG-2/worklog?startAt=0&maxResults=10&startedAfter=0&startedBefore=99999999999999", Who::Admin, 200),
        case("GET", "/rest/api/3/project/search", "/rest/api/3/project/search?startAt=0&maxResults=1&orderBy=key&expand=description,issueTypes,insight&typeKey=software,business&query=e", Who::Admin, 200),
        case("GET", "/rest/api/3/project/search", "/rest/api/3/project/search?keys=ENG&id=10001", Who::Admin, 200),
        case("GET", "/rest/api/3/project/search", "/rest/api/3/project/search?keys=NOPE", Who::Admin, 404),
        case("GET", "/rest/api/3/issuetype/project", "/rest/api/3/issuetype/project?projectId=10000&level=0", Who::Admin, 200),
        case("GET", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes", "/rest/api/3/issue/createmeta/ENG/issuetypes?startAt=0&maxResults=2", Who::Admin, 200),
        case("GET", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes", "/rest/api/3/issue/createmeta/ENG/issuetypes?maxResults=201", Who::Admin, 400),
        case("POST", "/rest/api/3/issue", "/rest/api/3/issue?updateHistory=false", Who::Admin, 201).body(json!({
            "fields": {"project": {"key": "ENG"}, "issuetype": {"id": "10001"}, "summary": "Conformance",
                       "description": {"type": "doc", "version": 1, "content": []}, "labels": ["conformance"]},
            "properties": [{"key": "license-operator", "value": {"actionId": "c1"}}]})),
        case("POST", "/rest/api/3/issue", "/rest/api/3/issue", Who::Admin, 400).body(json!({"fields": {"project": {"key": "ENG"}}})),
        case("GET", "/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/ENG-1?fields=*all&expand=changelog&properties=license-operator", Who::Admin, 200),
        case("GET", "/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/10001", Who::Scoped, 200).via_gateway(),
        case("GET", "/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/NOPE-9", Who::Admin, 404),
        case("DELETE", "/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/ENG-4?deleteSubtasks=false", Who::Admin, 204).check(Check::Empty),
        case("DELETE", "/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/ENG-4", Who::Admin, 404),
        case("DELETE", "/rest/api/3/user", &format!("/rest/api/3/user?accountId={AVA}"), Who::Admin, 204).check(Check::Empty),
        case("DELETE", "/rest/api/3/user", &format!("/rest/api/3/user?accountId={MIA}"), Who::Admin, 400),
        // Not in the official documents: hand-written checks.
        case("GET", "/_edge/tenant_info", "/_edge/tenant_info", Who::Anon, 200)
            .check(Check::Hand(json!({"type": "object", "required": ["cloudId"], "additionalProperties": false, "properties": {"cloudId": {"type": "string", "pattern": "^[0-9a-f-]{36}$"}}}))),
        case("GET", "/browse/{key}", "/browse/ENG-1", Who::Anon, 200).check(Check::Contains("Checkout page times out")),
        case("POST", "/oauth/token", "/oauth/token", Who::Anon, 200)
            .body(json!({"grant_type": "client_credentials", "client_id": "sim-client-id", "client_secret": "sim-client-secret"}))
            .check(Check::Hand(strict_object(&["access_token", "expires_in", "token_type", "scope"],
                json!({"access_token": s("x"), "expires_in": {"type": "integer", "minimum": 1}, "token_type": {"enum": ["Bearer"]}, "scope": s("x")})))),
        case("POST", "/oauth/token", "/oauth/token", Who::Anon, 401)
            .body(json!({"grant_type": "client_credentials", "client_id": "sim-client-id", "client_secret": "wrong"}))
            .check(Check::Hand(strict_object(&["error", "error_description"], json!({"error": {"enum": ["access_denied"]}})))),
        case("GET", "/oauth/token/accessible-resources", "/oauth/token/accessible-resources", Who::Bearer(token.into()), 200)
            .check(Check::Hand(json!({"type": "array", "minItems": 1, "items": strict_object(&["id", "name", "url", "scopes", "avatarUrl"],
                json!({"id": {"enum": [CLOUD]}, "scopes": {"type": "array", "items": s("x")}}))}))),
        case("GET", "/admin/v1/orgs", "/admin/v1/orgs?cursor=", Who::Bearer("sim-admin-key".into()), 200),
        case("GET", "/admin/v1/orgs/{orgId}/users", &format!("/admin/v1/orgs/{ORG}/users?cursor="), Who::Bearer("sim-admin-key".into()), 200),
        case("GET", "/admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
             &format!("/admin/v1/orgs/{ORG}/directory/users/{NOAH}/last-active-dates?cursor="), Who::Bearer("sim-admin-key".into()), 200),
        case("GET", "/admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
             &format!("/admin/v1/orgs/{ORG}/directory/users/nobody/last-active-dates"), Who::Bearer("sim-admin-key".into()), 404),
        case("GET", "/admin/v2/orgs/{orgId}/directories", &format!("/admin/v2/orgs/{ORG}/directories"), Who::Bearer("sim-admin-key".into()), 200)
            .check(Check::Hand(strict_object(&["data", "links"], json!({"data": {"type": "array", "minItems": 1,
                "items": strict_object(&["directoryId", "name"], json!({"directoryId": {"enum": [DIR]}}))}})))),
        case("POST", "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/search", &format!("/admin/v2/orgs/{ORG}/directories/{DIR}/users/search"), Who::Bearer("sim-admin-key".into()), 200)
            .body(json!({"limit": 3, "expand": ["platformRoles", "productAccess", "groups", "counts.resources"]}))
            .check(Check::Hand(strict_object(&["data", "links"], json!({"data": {"type": "array", "minItems": 3, "maxItems": 3, "items": user_v2},
                "links": strict_object(&["self", "next"], json!({"self": s("x"), "next": s("x")}))})))),
        case("GET", "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments",
             &format!("/admin/v2/orgs/{ORG}/directories/-/users/{ADMIN_ID}/role-assignments"), Who::Bearer("sim-admin-key".into()), 200)
            .check(Check::Hand(strict_object(&["data", "links"], json!({"data": {"type": "array", "minItems": 1, "items": strict_object(
                &["resourceId", "resourceOwner", "roleAssignments"],
                json!({"resourceId": s("x"), "roleAssignments": {"type": "array", "items": strict_object(&["role", "roleAssignmentMethods"],
                    json!({"role": s("x"), "roleAssignmentMethods": {"type": "array", "items": {"enum": ["direct", "group_direct", "inferred"]}}}))}}))}})))),
        // Control plane (simulator only).
        case("GET", "/__sim/health", "/__sim/health", Who::Anon, 200).check(Check::Hand(strict_object(&["status"], json!({"status": {"enum": ["ok"]}})))),
        case("GET", "/__sim/stats", "/__sim/stats", Who::Anon, 200).check(Check::Hand(strict_object(&["total", "routes", "rate_limited"], json!({"routes": {"type": "array"}})))),
        case("POST", "/__sim/stats/reset", "/__sim/stats/reset", Who::Anon, 204).check(Check::Empty),
        case("POST", "/__sim/faults", "/__sim/faults", Who::Anon, 200).body(json!({"latency_ms": 0}))
            .check(Check::Hand(strict_object(&["latency_ms", "routes"], json!({"latency_ms": {"enum": [0]}})))),
        case("DELETE", "/__sim/faults", "/__sim/faults", Who::Anon, 204).check(Check::Empty),
        case("GET", "/__sim/state", "/__sim/state", Who::Anon, 200).check(Check::Hand(strict_object(&["counts", "users", "groups", "labels", "products"], json!({})))),
        case("GET", "/__sim/issues", "/__sim/issues?label=demo", Who::Anon, 200)
            .check(Check::Hand(strict_object(&["count", "keys"], json!({"count": {"enum": [1]}, "keys": {"type": "array", "items": {"enum": ["ENG-2"]}}})))),
        case("POST", "/__sim/activity", "/__sim/activity", Who::Anon, 200)
            .body(json!([{"kind": "comment", "issue": "ENG-2", "author": "mia@example.com"}, {"kind": "worklog_deleted"}]))
            .check(Check::Hand(strict_object(&["ids"], json!({"ids": {"type": "array", "minItems": 2}})))),
        case("POST", "/__sim/oauth/expire", "/__sim/oauth/expire", Who::Anon, 200).check(Check::Hand(strict_object(&["expired"], json!({})))),
        case("GET", "/__sim/requests", "/__sim/requests", Who::Anon, 200)
            .check(Check::Hand(json!({"type": "array", "minItems": 1, "items": strict_object(&["method", "path", "authorization", "host"],
                json!({"method": s("x"), "path": s("x"), "host": s("x")}))}))),
        case("DELETE", "/__sim/requests", "/__sim/requests", Who::Anon, 204).check(Check::Empty),
    ]
}

#[tokio::test]
async fn every_route_conforms_to_the_official_openapi_documents() {
    let jira = Spec::load(SpecDoc::Jira);
    let admin = Spec::load(SpecDoc::Admin);
    let sim = start().await;
    let token = sim.oauth_token().await;
    // Read-only Jira calls run a second time through the gateway prefix with the same credential.
    let read_only = [
        "/rest/api/3/search/jql",
        "/rest/api/3/search/approximate-count",
        "/rest/api/3/changelog/bulkfetch",
        "/rest/api/3/comment/list",
        "/rest/api/3/worklog/list",
    ];
    let mut all = Vec::new();
    for c in cases() {
        let mount = ROUTES
            .iter()
            .find(|r| r.method == c.method && r.path == c.template)
            .map(|r| r.mount);
        let twin = mount == Some(Mount::Rest)
            && !c.gateway
            && !matches!(c.who, Who::Anon)
            && (c.method == "GET" || (c.method == "POST" && read_only.contains(&c.template)));
        let copy = twin.then(|| c.clone().via_gateway());
        all.push(c);
        all.extend(copy);
    }

    // Every route of the table has at least one case, and every case names a route of the table.
    let table: BTreeSet<(&str, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let covered: BTreeSet<(&str, &str)> = all.iter().map(|c| (c.method, c.template)).collect();
    let missing: Vec<_> = table.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without a conformance case: {missing:?}"
    );
    let unknown: Vec<_> = covered.difference(&table).collect();
    assert!(
        unknown.is_empty(),
        "cases for routes the table does not have: {unknown:?}"
    );
    // A request as sent (query string, gateway prefix) is traced back to its row.
    for c in &all {
        let url = if c.gateway {
            format!("/ex/jira/{CLOUD}{}", c.url)
        } else {
            c.url.clone()
        };
        assert_eq!(
            route_of(c.method, &url).map(|r| r.path),
            Some(c.template),
            "{} {url}",
            c.method
        );
    }

    // Query parameters the simulator reads exist in the spec of the operation.
    for r in ROUTES {
        let Some((doc, path)) = r.spec else { continue };
        let spec = if doc == SpecDoc::Jira { &jira } else { &admin };
        let known = spec.query_params(path, r.method);
        for p in r.params {
            assert!(
                known.contains(*p),
                "{} {}: query parameter '{p}' is not in the spec ({known:?})",
                r.method,
                r.path
            );
        }
    }

    sim.handle.reset_stats();
    let mut gateway_hits: Vec<(String, String)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut stats = None;
    for c in &all {
        let route: &RouteSpec = ROUTES
            .iter()
            .find(|r| r.method == c.method && r.path == c.template)
            .unwrap();
        if route.mount == Mount::Control && stats.is_none() {
            // Control cases come last (one of them resets the counters).
            stats = Some(sim.handle.stats());
        }
        let url = if c.gateway {
            sim.gw(&c.url)
        } else {
            sim.url(&c.url)
        };
        let who = match &c.who {
            Who::Bearer(t) if t == "{token}" => Who::Bearer(token.clone()),
            w => w.clone(),
        };
        let r = sim.send(c.method, &url, &who, c.body.as_ref()).await;
        let what = format!("{} {}", c.method, c.url);
        if r.status != c.status {
            failures.push(format!(
                "{what}: status {} instead of {}: {}",
                r.status, c.status, r.text
            ));
            continue;
        }
        if c.gateway {
            gateway_hits.push((
                c.method.to_string(),
                format!("/ex/jira/{{cloudId}}{}", c.template),
            ));
        }
        let outcome = match &c.check {
            Check::Empty if r.text.is_empty() => Ok(()),
            Check::Empty => Err(format!("{what}: expected no body, got {}", r.text)),
            Check::Contains(t) if r.text.contains(t) => Ok(()),
            Check::Contains(_) => Err(format!("{what}: unexpected page {}", r.text)),
            Check::Hand(schema) => validate(&jira, schema, &r.json(), &what),
            Check::Spec => {
                let (doc, path) = route
                    .spec
                    .unwrap_or_else(|| panic!("{what}: route has no spec entry; use a hand check"));
                let spec = if doc == SpecDoc::Jira { &jira } else { &admin };
                match response_schema(spec, path, c.method, r.status) {
                    Some(schema) => validate(spec, &schema, &r.json(), &what),
                    None if r.status >= 400 && doc == SpecDoc::Jira => {
                        // The spec documents this error status without a body schema: Jira's ErrorCollection.
                        validate(
                            &jira,
                            &json!({"$ref": "#/components/schemas/ErrorCollection"}),
                            &r.json(),
                            &what,
                        )
                    }
                    None if r.text.is_empty() => Ok(()),
                    None => Err(format!(
                        "{what}: the spec has no body for {}, got {}",
                        r.status, r.text
                    )),
                }
            }
        };
        if let Err(e) = outcome {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} conformance failures:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );

    // Each call reached the route template it is listed under (the router is built from the table).
    let stats = stats.expect("control cases come last");
    for c in all.iter().filter(|c| !c.gateway) {
        let route = ROUTES
            .iter()
            .find(|r| r.method == c.method && r.path == c.template)
            .unwrap();
        if route.mount == Mount::Control {
            continue;
        }
        assert!(
            stats.count_status(c.method, c.template, c.status) > 0,
            "{} {} did not reach its route ({:?})",
            c.method,
            c.url,
            stats.routes
        );
    }
    for (m, t) in gateway_hits {
        assert!(stats.count(&m, &t) > 0, "gateway {m} {t} not reached");
    }
    assert_eq!(stats.count("GET", "unmatched"), 0);
    sim.handle.shutdown().await;
}
