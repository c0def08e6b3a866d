//! Property test of every Jira response parser, black box: a proxy on loopback sits between the Jira client and
//! the simulator and replaces the answers of one endpoint with generated garbage (truncated JSON, random bytes,
//! HTML, empty bodies, a node of the right answer turned into another type or null, keys removed, huge strings
//! and arrays, absurd numbers, deep nesting, unexpected statuses, 429s with absurd rate-limit headers, paging
//! that claims an endless listing). For each endpoint the client uses and each kind of garbage (seeded, so a
//! failure names the seed that reproduces it), connect, a full then an incremental sync and every action must
//! end with `Ok` or a clear `Err` (a known reason, a bounded message), never a panic and never a hang.
//!
//! The search answers embed a page of each issue's comments; one issue has more comments than that page, so its
//! comments are also read page by page. Each mutating kind of garbage is also aimed at the embedded comment
//! pages alone: a spoiled embedded page must only make the client read that issue's comments, so every
//! operation succeeds.
//!
//! `PARSER_FUZZ_ROUNDS` (default 1) repeats the whole matrix with further seeds; `PARSER_FUZZ_GARBAGE=HugeArray`
//! (a kind's name) runs only that kind.

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode},
    response::Response,
};
use chrono::Utc;
use jira_cloud_operator::{
    error::Classify,
    jira::{
        AdminCredentials, ClientConfig, CreateIssue, Credentials, Endpoints, JiraClient, JiraError,
        Limits, SecretString, UserRef,
    },
    sync::{self, SyncOptions},
};
use jira_sim::routes::EMBEDDED_COMMENTS;
use jira_sim::scenario::{Ago, CommentSpec};
use jira_sim::{SimConfig, SimHandle};
use serde_json::Value;
use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};
use testkit::Rng;

const MIA: &str = "5b10a2844c20165700ede003";
const AVA: &str = "5b10a2844c20165700ede008";
/// Longest acceptable error message: it ends up in a condition, an Event and the logs.
const MESSAGE_MAX: usize = 8 * 1024;
/// Every case must finish within this time.
const CASE_LIMIT: Duration = Duration::from_secs(60);

/// The kinds of garbage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Garbage {
    Truncated,
    RandomBytes,
    Html,
    Empty,
    Null,
    WrongType,
    NullNode,
    MissingKey,
    HugeString,
    HugeArray,
    AbsurdNumber,
    DeepNesting,
    HugeBody,
    UnexpectedStatus,
    AbsurdRetryAfter,
    AbsurdRateLimitReset,
    AbsurdPaging,
}

const ALL: [Garbage; 17] = [
    Garbage::Truncated,
    Garbage::RandomBytes,
    Garbage::Html,
    Garbage::Empty,
    Garbage::Null,
    Garbage::WrongType,
    Garbage::NullNode,
    Garbage::MissingKey,
    Garbage::HugeString,
    Garbage::HugeArray,
    Garbage::AbsurdNumber,
    Garbage::DeepNesting,
    Garbage::HugeBody,
    Garbage::UnexpectedStatus,
    Garbage::AbsurdRetryAfter,
    Garbage::AbsurdRateLimitReset,
    Garbage::AbsurdPaging,
];

/// The kinds of garbage that change one node of a right answer (or its paging fields).
const MUTATING: [Garbage; 7] = [
    Garbage::WrongType,
    Garbage::NullNode,
    Garbage::MissingKey,
    Garbage::HugeString,
    Garbage::HugeArray,
    Garbage::AbsurdNumber,
    Garbage::AbsurdPaging,
];

/// The issue search, whose answers embed a page of each issue's comments.
const SEARCH: &str = "POST /rest/api/3/search/jql";

/// Paging fields claiming an endless listing: a huge `total`, tiny pages, never the last one.
fn absurd_paging(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match k.as_str() {
                    "total" => *child = Value::from(u64::MAX / 2),
                    "maxResults" => *child = Value::from(1),
                    "isLast" | "lastPage" => *child = Value::Bool(false),
                    _ => absurd_paging(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(absurd_paging),
        _ => {}
    }
}

/// Applies `f` to every value under an object key named `key`.
fn under(v: &mut Value, key: &str, f: &mut dyn FnMut(&mut Value)) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == key {
                    f(child);
                } else {
                    under(child, key, f);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| under(i, key, f)),
        _ => {}
    }
}

/// What the proxy does: which endpoint it spoils and how.
#[derive(Default)]
struct Plan {
    target: Option<String>,
    garbage: Option<(Garbage, u64)>,
    /// Mutate only nodes under an object key of this name.
    within: Option<&'static str>,
    seen: BTreeSet<String>,
    spoiled: u64,
}

#[derive(Clone)]
struct Proxy {
    upstream: url::Url,
    http: reqwest::Client,
    plan: Arc<Mutex<Plan>>,
}

/// A path with every segment of more than two characters that holds a digit (ids, issue keys, the cloudId)
/// replaced by `*` (API versions such as `3` or `v2` stay).
fn template(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.len() > 2 && s.chars().any(|c| c.is_ascii_digit()) {
                "*"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn forward(State(proxy): State<Proxy>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let url = proxy
        .upstream
        .join(
            req.uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .trim_start_matches('/'),
        )
        .expect("upstream URL");
    let mut upstream = proxy.http.request(method.clone(), url);
    for (name, value) in req.headers() {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let body = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let answer = upstream
        .body(body)
        .send()
        .await
        .expect("the simulator answers");
    let status = answer.status();
    let headers = answer.headers().clone();
    let body = answer.bytes().await.expect("the simulator's body");

    let key = format!("{method} {}", template(&path));
    let spoil = {
        let mut plan = proxy.plan.lock().unwrap();
        plan.seen.insert(key.clone());
        let hit = plan.target.as_deref() == Some(key.as_str());
        if hit {
            plan.spoiled += 1;
        }
        plan.garbage.filter(|_| hit).map(|g| (g, plan.within))
    };
    let mut response = match spoil {
        None => {
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = status;
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    r.headers_mut().insert(name, value.clone());
                }
            }
            r
        }
        Some(((garbage, seed), within)) => spoiled(garbage, seed, within, status, &body),
    };
    if !response.headers().contains_key("content-type") {
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    response
}

fn with(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    r
}

/// Every node of a JSON value, as paths of keys and indexes.
fn nodes(v: &Value, at: Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let mut p = at.clone();
                p.push(Step::Key(k.clone()));
                nodes(child, p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate().take(20) {
                let mut p = at.clone();
                p.push(Step::Index(i));
                nodes(child, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn node_mut<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

/// Picks a node of `v` that `filter` accepts (under a key named `within`, if given).
fn pick(
    v: &Value,
    rng: &mut Rng,
    within: Option<&str>,
    filter: impl Fn(&Value) -> bool,
) -> Option<Vec<Step>> {
    let mut all = Vec::new();
    nodes(v, Vec::new(), &mut all);
    let good: Vec<_> = all
        .into_iter()
        .filter(|p| within.is_none_or(|w| p.iter().any(|s| matches!(s, Step::Key(k) if k == w))))
        .filter(|p| {
            let mut copy = v.clone();
            filter(node_mut(&mut copy, p))
        })
        .collect();
    (!good.is_empty()).then(|| good[rng.index(good.len())].clone())
}

fn other_type(v: &Value, rng: &mut Rng) -> Value {
    let choices = [
        Value::Bool(true),
        Value::from(-1),
        Value::from(1.5),
        Value::from("\u{0}x\u{fffd}"),
        serde_json::json!([1, "a", null]),
        serde_json::json!({"unexpected": true}),
    ];
    loop {
        let c = choices[rng.index(choices.len())].clone();
        if std::mem::discriminant(&c) != std::mem::discriminant(v) {
            return c;
        }
    }
}

/// The garbage answer; mutations change only nodes under a key named `within`, if given.
fn spoiled(
    garbage: Garbage,
    seed: u64,
    within: Option<&str>,
    status: StatusCode,
    body: &[u8],
) -> Response {
    let mut rng = Rng::new(seed);
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let mutate = |f: &mut dyn FnMut(&mut Value, &mut Rng) -> bool, rng: &mut Rng| -> Response {
        let Some(mut v) = json.clone() else {
            return with(status, "application/json", b"{\"a\":".to_vec());
        };
        f(&mut v, rng);
        with(
            status,
            "application/json",
            serde_json::to_vec(&v).expect("serializes"),
        )
    };
    match garbage {
        Garbage::Truncated => {
            let cut = rng.index(body.len().max(1));
            with(status, "application/json", body[..cut].to_vec())
        }
        Garbage::RandomBytes => {
            let n = 1 + rng.index(2048);
            with(status, "application/octet-stream", rng.bytes(n))
        }
        Garbage::Html => with(
            StatusCode::OK,
            "text/html",
            b"<!DOCTYPE html><html><body><h1>Atlassian Cloud Notifications - Page Unavailable</h1></body></html>"
                .to_vec(),
        ),
        Garbage::Empty => with(status, "application/json", Vec::new()),
        Garbage::Null => with(status, "application/json", b"null".to_vec()),
        Garbage::WrongType => mutate(
            &mut |v, rng| match pick(v, rng, within, |_| true) {
                Some(p) => {
                    let n = node_mut(v, &p);
                    *n = other_type(n, rng);
                    true
                }
                None => false,
            },
            &mut rng,
        ),
        Garbage::NullNode => mutate(
            &mut |v, rng| match pick(v, rng, within, |n| !n.is_null()) {
                Some(p) => {
                    *node_mut(v, &p) = Value::Null;
                    true
                }
                None => false,
            },
            &mut rng,
        ),
        Garbage::MissingKey => mutate(
            &mut |v, rng| match pick(v, rng, within, |n| n.as_object().is_some_and(|m| !m.is_empty())) {
                Some(p) => {
                    let map = node_mut(v, &p).as_object_mut().expect("an object");
                    let keys: Vec<String> = map.keys().cloned().collect();
                    map.remove(&keys[rng.index(keys.len())]);
                    true
                }
                None => false,
            },
            &mut rng,
        ),
        Garbage::HugeString => mutate(
            &mut |v, rng| match pick(v, rng, within, Value::is_string) {
                Some(p) => {
                    *node_mut(v, &p) = Value::from("x".repeat(1 << 20));
                    true
                }
                None => false,
            },
            &mut rng,
        ),
        Garbage::HugeArray => mutate(
            &mut |v, rng| match pick(v, rng, within, |n| n.as_array().is_some_and(|a| !a.is_empty())) {
                Some(p) => {
                    let a = node_mut(v, &p).as_array_mut().expect("an array");
                    let first = a[0].clone();
                    a.resize(20_000, first);
                    true
                }
                None => false,
            },
            &mut rng,
        ),
        Garbage::AbsurdNumber => mutate(
            &mut |v, rng| {
                let absurd = [
                    serde_json::json!(u64::MAX),
                    serde_json::json!(i64::MIN),
                    serde_json::json!(1e300),
                    serde_json::json!(-1),
                    serde_json::json!(0),
                ];
                let x = absurd[rng.index(absurd.len())].clone();
                match pick(v, rng, within, Value::is_number) {
                    Some(p) => {
                        *node_mut(v, &p) = x;
                        true
                    }
                    None => false,
                }
            },
            &mut rng,
        ),
        Garbage::DeepNesting => {
            let depth = 200 + rng.index(5000);
            let mut text = "[".repeat(depth);
            text.push_str(&"]".repeat(depth));
            with(status, "application/json", text.into_bytes())
        }
        Garbage::HugeBody => {
            let mut text = String::from("{\"values\":[");
            text.push_str(&"\"0123456789abcdef\",".repeat(1 << 20));
            text.push_str("\"end\"]}");
            with(status, "application/json", text.into_bytes())
        }
        Garbage::UnexpectedStatus => {
            let statuses = [
                StatusCode::BAD_REQUEST,
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::NOT_FOUND,
                StatusCode::CONFLICT,
                StatusCode::GONE,
                StatusCode::IM_A_TEAPOT,
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::BAD_GATEWAY,
                StatusCode::NO_CONTENT,
                StatusCode::MOVED_PERMANENTLY,
            ];
            let s = statuses[rng.index(statuses.len())];
            let bodies: [&[u8]; 4] = [
                b"",
                b"<html>error</html>",
                b"{\"errorMessages\":null,\"errors\":[1,2]}",
                b"{\"errorMessages\":[\"x\"],\"errors\":{\"f\":{\"nested\":[]}}}",
            ];
            with(s, "application/json", bodies[rng.index(bodies.len())].to_vec())
        }
        Garbage::AbsurdRetryAfter => {
            let values = ["1e300", "-5", "NaN", "inf", "18446744073709551616", "soon", ""];
            let mut r = with(StatusCode::TOO_MANY_REQUESTS, "application/json", b"{}".to_vec());
            if let Ok(v) = HeaderValue::from_str(values[rng.index(values.len())]) {
                r.headers_mut().insert("retry-after", v);
            }
            r
        }
        Garbage::AbsurdPaging => mutate(
            &mut |v, _| {
                match within {
                    None => absurd_paging(v),
                    Some(w) => under(v, w, &mut absurd_paging),
                }
                true
            },
            &mut rng,
        ),
        Garbage::AbsurdRateLimitReset => {
            let mut r = with(StatusCode::TOO_MANY_REQUESTS, "application/json", b"{}".to_vec());
            let h = r.headers_mut();
            match rng.below(3) {
                0 => {
                    h.insert(
                        "beta-ratelimit",
                        HeaderValue::from_static("\"tenant-app-quota\";r=0;t=18446744073709551615"),
                    );
                }
                1 => {
                    h.insert(
                        "x-ratelimit-reset",
                        HeaderValue::from_static("+262143-12-31T23:59:59Z"),
                    );
                }
                _ => {
                    h.insert(
                        "x-ratelimit-reset",
                        HeaderValue::from_static("1970-01-01T00:00Z"),
                    );
                }
            }
            r
        }
    }
}

async fn start_proxy(sim: &SimHandle) -> (url::Url, Arc<Mutex<Plan>>) {
    let plan = Arc::new(Mutex::new(Plan::default()));
    let proxy = Proxy {
        upstream: sim.url(),
        http: reqwest::Client::new(),
        plan: plan.clone(),
    };
    let app = Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the proxy");
    let url = url::Url::parse(&format!(
        "http://{}/",
        listener.local_addr().expect("an address")
    ))
    .expect("a URL");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, plan)
}

/// How the client authenticates, and which Admin API the organization offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Basic auth (classic token), organization on the new user-management experience (Admin API v2).
    Basic,
    /// OAuth service account through the gateway.
    OAuth,
    /// Basic auth, organization on the original user-management experience (Admin API v1 listing).
    LegacyOrg,
}

fn config(url: &url::Url, sim: &SimHandle, mode: Mode) -> ClientConfig {
    let credentials = if mode == Mode::OAuth {
        Credentials::ServiceAccount {
            cloud_id: sim.cloud_id(),
            client_id: "sim-client-id".into(),
            client_secret: SecretString::from("sim-client-secret".to_owned()),
        }
    } else {
        Credentials::Basic {
            email: "admin@example.com".into(),
            api_token: SecretString::from("classic-admin-token".to_owned()),
        }
    };
    ClientConfig {
        site_url: url.clone(),
        allowed_hosts: jira_cloud_operator::jira::AllowedHosts::parse("127.0.0.1").expect("a host"),
        credentials,
        admin: Some(AdminCredentials {
            org_id: sim.org_id(),
            api_key: SecretString::from("sim-admin-key".to_owned()),
        }),
        endpoints: Endpoints::same_as(url),
        limits: Limits {
            max_concurrency: 4,
            requests_per_second: None,
            max_retries: 1,
            backoff_base: Duration::from_millis(5),
            backoff_max: Duration::from_millis(20),
            max_throttle_wait: Duration::from_secs(1),
            max_throttled_attempts: 2,
            ..Limits::default()
        },
        timeout: Duration::from_secs(10),
    }
}

/// What one operation ended with.
type Outcomes = Vec<(&'static str, Result<(), String>)>;

fn check(op: &'static str, result: Result<(), JiraError>, out: &mut Outcomes) {
    out.push((op, result.map_err(|e| format!("{}: {e}", e.reason()))));
}

/// Connect, a full sync and every action; each error is recorded, none stops the others (except connect).
async fn operations(config: ClientConfig) -> Outcomes {
    let mut out = Vec::new();
    let client = match JiraClient::connect(config).await {
        Ok(c) => c,
        Err(e) => {
            check("connect", Err(e), &mut out);
            return out;
        }
    };
    // What connect learned ends up in the status: it must be bounded too.
    let site = client.site_info();
    let sizes = [
        site.cloud_id.len(),
        site.account_id.len(),
        site.display_name.len(),
    ];
    out.push((
        "connect",
        if sizes.iter().all(|n| *n <= 1024) {
            Ok(())
        } else {
            Err(format!("Oversized: site information of {sizes:?} bytes"))
        },
    ));
    let synced = {
        let client = client.clone();
        // The sync's future is not `Send` (see the JiraConnection controller): drive it on a blocking thread. A
        // full sync, then an incremental one from its cache.
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            runtime.block_on(async {
                let options = || SyncOptions {
                    window_days: 30,
                    now: Utc::now(),
                };
                let full = sync::run(&client, &options(), None).await;
                let incremental = match &full {
                    Ok(outcome) => {
                        Some(sync::run(&client, &options(), Some(outcome.cache.clone())).await)
                    }
                    Err(_) => None,
                };
                // The organization part fails apart, without failing the sync.
                let organization = match &full {
                    Ok(sync::SyncOutcome {
                        organization: sync::OrganizationOutcome::Failed(e),
                        ..
                    }) => Some(format!("{}: {e}", e.reason())),
                    _ => None,
                };
                (
                    full.map(|_| ()),
                    incremental.map(|r| r.map(|_| ())),
                    organization,
                )
            })
        })
        .await
    };
    match synced {
        Ok((full, incremental, organization)) => {
            out.push(("sync", full.map_err(|e| format!("{}: {e}", e.reason()))));
            if let Some(message) = organization {
                out.push(("sync's organization part", Err(message)));
            }
            if let Some(r) = incremental {
                out.push((
                    "incremental sync",
                    r.map_err(|e| format!("{}: {e}", e.reason())),
                ));
            }
        }
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
    check(
        "find_issues_by_label",
        client.find_issues_by_label("fuzz").await.map(|_| ()),
        &mut out,
    );
    let create = CreateIssue {
        project: "ENG".into(),
        issue_type: "Task".into(),
        summary: "Fuzz".into(),
        description: Some("line one\n\nline two".into()),
        labels: vec!["fuzz".into()],
    };
    check(
        "create_issue",
        client.create_issue(&create).await.map(|_| ()),
        &mut out,
    );
    check(
        "delete_issue",
        client.delete_issue("ENG-3", false).await.map(|_| ()),
        &mut out,
    );
    check(
        "resolve_user",
        client
            .resolve_user(&UserRef::Email("mia@example.com".into()))
            .await
            .map(|_| ()),
        &mut out,
    );
    check(
        "add_user_to_group",
        client.add_user_to_group(AVA, "devs").await.map(|_| ()),
        &mut out,
    );
    check(
        "remove_user_from_group",
        client.remove_user_from_group(MIA, "devs").await.map(|_| ()),
        &mut out,
    );
    check(
        "delete_user",
        client.delete_user(AVA).await.map(|_| ()),
        &mut out,
    );
    out
}

/// One case on a fresh simulator: the operations with `target` spoiled by `garbage`. Returns the outcomes and
/// the endpoints seen.
async fn case(
    target: Option<&str>,
    garbage: Option<(Garbage, u64)>,
    within: Option<&'static str>,
    mode: Mode,
) -> (Outcomes, BTreeSet<String>, u64) {
    let mut scenario = jira_sim::default_scenario();
    scenario.settings.new_user_management = mode != Mode::LegacyOrg;
    // One issue with more comments than the search embeds: its comments are read page by page too.
    let more = (0..EMBEDDED_COMMENTS as u64 + 5).map(|i| CommentSpec {
        author: None,
        created: Ago::Secs(3600 + 60 * i),
        updated: None,
        update_author: None,
        body: None,
    });
    scenario.issues[0].comments.extend(more);
    let sim = jira_sim::start(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await
    .expect("the simulator starts");
    let (url, plan) = start_proxy(&sim).await;
    {
        let mut p = plan.lock().unwrap();
        p.target = target.map(str::to_owned);
        p.garbage = garbage;
        p.within = within;
    }
    let run = tokio::spawn(operations(config(&url, &sim, mode)));
    let what = format!("target {target:?}, garbage {garbage:?}, mode {mode:?}");
    let outcomes = match tokio::time::timeout(CASE_LIMIT, run).await {
        Err(_) => panic!("hang: the operations did not finish within {CASE_LIMIT:?} ({what})"),
        Ok(Err(e)) if e.is_panic() => {
            let msg = e.into_panic();
            let text = msg
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| msg.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("panic in the Jira client ({what}): {text}")
        }
        Ok(Err(e)) => panic!("the operations were cancelled ({what}): {e}"),
        Ok(Ok(o)) => o,
    };
    let (seen, spoiled) = {
        let p = plan.lock().unwrap();
        (p.seen.clone(), p.spoiled)
    };
    sim.shutdown().await;
    (outcomes, seen, spoiled)
}

const KNOWN_REASONS: &[&str] = &[
    "UnsupportedDeployment",
    "NotJiraCloud",
    "InvalidCredentials",
    "InsufficientPermissions",
    "AllEmailsHidden",
    "OrganizationNotFound",
    "CloudIdMismatch",
    "RateLimited",
    "JiraUnavailable",
    "ProjectNotFound",
    "IssueTypeNotFound",
    "UserNotFound",
    "GroupNotFound",
    "UserIsReporter",
    "InvalidRequest",
    "UnexpectedResponse",
    "InvalidConfiguration",
    "Redirected",
    "ResponseTooLarge",
    "OutcomeUnknown",
    "NotFound",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_answers_give_clear_errors_never_panics_or_hangs() {
    let rounds: u64 = std::env::var("PARSER_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let only = std::env::var("PARSER_FUZZ_GARBAGE").ok();

    // Fault-free baselines: every operation succeeds, and they list the endpoints the client uses.
    // Each endpoint is spoiled in the first mode that uses it: the OAuth-only ones (token, gateway) with OAuth,
    // the Admin API v1 listing with the legacy organization, the rest with Basic auth.
    let mut endpoints: Vec<(String, Mode)> = Vec::new();
    for mode in [Mode::Basic, Mode::OAuth, Mode::LegacyOrg] {
        let (outcomes, seen, _) = case(None, None, None, mode).await;
        for (op, r) in &outcomes {
            assert!(r.is_ok(), "baseline {op} ({mode:?}) failed: {r:?}");
        }
        assert_eq!(outcomes.len(), 10, "{outcomes:?}");
        for e in seen {
            if !endpoints.iter().any(|(known, _)| *known == e) {
                endpoints.push((e, mode));
            }
        }
    }
    let names: BTreeSet<&str> = endpoints.iter().map(|(e, _)| e.as_str()).collect();
    for needed in [
        "GET /rest/api/2/serverInfo",
        "GET /_edge/tenant_info",
        "GET /rest/api/3/myself",
        "POST /oauth/token",
        "GET /rest/api/3/users/search",
        "POST /rest/api/3/issue",
        "DELETE /rest/api/3/user",
        "GET /rest/api/3/worklog/deleted",
        SEARCH,
        "GET /rest/api/3/issue/*/comment",
    ] {
        assert!(names.contains(needed), "{needed} not used: {names:?}");
    }
    eprintln!("{} endpoints spoiled in turn: {names:?}", names.len());

    let mut cases = 0;
    let mut errors = 0;
    let mut by_reason = std::collections::BTreeMap::<String, u32>::new();
    for round in 0..rounds {
        for (i, (endpoint, mode)) in endpoints.iter().enumerate() {
            for (g, garbage) in ALL.iter().enumerate() {
                if only.as_deref().is_some_and(|o| o != format!("{garbage:?}")) {
                    continue;
                }
                let seed = round * 1_000_003 + (i as u64) * 1009 + g as u64;
                let (outcomes, _, spoiled) =
                    case(Some(endpoint), Some((*garbage, seed)), None, *mode).await;
                assert!(
                    spoiled > 0,
                    "{endpoint} was never called in case {garbage:?}"
                );
                cases += 1;
                for (op, r) in outcomes {
                    if let Err(message) = r {
                        errors += 1;
                        let reason = message.split(':').next().unwrap_or_default().to_string();
                        assert!(
                            KNOWN_REASONS.contains(&reason.as_str()),
                            "{op} ({endpoint}, {garbage:?}, seed {seed}): unknown reason in {message:.300}"
                        );
                        assert!(
                            message.len() <= MESSAGE_MAX,
                            "{op} ({endpoint}, {garbage:?}, seed {seed}): a {} byte error message: {message:.300}…",
                            message.len()
                        );
                        *by_reason.entry(reason).or_default() += 1;
                    }
                }
            }
        }
    }
    eprintln!("{cases} cases, {errors} operation errors, by reason: {by_reason:?}");
    assert!(errors > 0, "garbage never produced an error");

    // Garbage in the embedded comment pages alone: the client reads those issues' comments instead.
    for round in 0..rounds {
        for (g, garbage) in MUTATING.iter().enumerate() {
            if only.as_deref().is_some_and(|o| o != format!("{garbage:?}")) {
                continue;
            }
            let seed = round * 1_000_003 + 7919 + g as u64;
            let (outcomes, _, spoiled) = case(
                Some(SEARCH),
                Some((*garbage, seed)),
                Some("comment"),
                Mode::Basic,
            )
            .await;
            assert!(
                spoiled > 0,
                "the search was never called in case {garbage:?}"
            );
            for (op, r) in outcomes {
                assert!(
                    r.is_ok(),
                    "{op} with {garbage:?} in the embedded comments (seed {seed}): {r:?}"
                );
            }
        }
    }
}
