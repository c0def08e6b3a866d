//! Request counts of a scenario: the fewest requests a sync can make with the endpoints' page caps, and the
//! requests of a naive strategy (one request per user for groups and access, per-issue activity pages),
//! either computed from the scenario or made for real against the simulator.

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use jira_cloud_operator::jira::{
    BULKFETCH_IDS, BULKFETCH_PAGE, COMMENTS_PAGE, ClientConfig, Credentials, Endpoints,
    GROUP_MEMBER_PAGE, Limits, SEARCH_COMMENTS_PAGE, SEARCH_PAGE, SecretString, USERS_PAGE,
    WORKLOG_LIST_IDS,
};
use jira_sim::Scenario;
use jira_sim::routes::EMBEDDED_COMMENTS;
use jira_sim::scenario::AccountType;
use std::time::Duration;

/// The simulator's site admin and its default classic API token.
const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_TOKEN: &str = "classic-admin-token";

/// Worklog ids per page of the `worklog/updated` feed.
const WORKLOG_FEED_PAGE: usize = 1000;
/// Page size of `issue/{k}/comment` and `issue/{k}/changelog` when none is asked for (the naive client
/// takes the defaults).
const NAIVE_PAGE: usize = 100;
/// Page size of the legacy `issue/{k}/worklog`.
const NAIVE_WORKLOG_PAGE: usize = 5000;

/// The simulator's site admin (its default classic API token), as the syncs of the benchmark connect: every
/// service at `url`, requests paced at `rate` per second or not at all.
pub fn admin_client(url: &url::Url, rate: Option<f64>, timeout: Duration) -> ClientConfig {
    ClientConfig {
        site_url: url.clone(),
        allowed_hosts: jira_cloud_operator::jira::AllowedHosts::parse("127.0.0.1").expect("a host"),
        credentials: Credentials::Basic {
            email: ADMIN_EMAIL.into(),
            api_token: SecretString::from(ADMIN_TOKEN.to_owned()),
        },
        admin: None,
        endpoints: Endpoints::same_as(url),
        limits: Limits {
            requests_per_second: rate,
            ..Limits::default()
        },
        timeout,
    }
}

/// `n` items in pages of `cap`, at least one page.
pub fn pages(n: usize, cap: usize) -> usize {
    n.div_ceil(cap).max(1)
}

/// What the scenario holds from a given instant on, as seen at `now` (the simulator's start).
struct Since {
    /// Per issue updated since then: (changelog entries, comments created since then, all comments,
    /// worklogs).
    issues: Vec<IssueSince>,
    /// Worklogs created or edited since then.
    worklogs: usize,
}

struct IssueSince {
    histories: usize,
    new_comments: usize,
    comments: usize,
    worklogs: usize,
}

fn since(s: &Scenario, from_ms: i64, now_ms: i64) -> Since {
    let mut issues = Vec::new();
    let mut worklogs = 0usize;
    for issue in &s.issues {
        let mut updated = issue.created.resolve(now_ms);
        let mut new_comments = 0usize;
        for c in &issue.comments {
            let created = c.created.resolve(now_ms);
            let edited = c.updated.map_or(created, |u| u.resolve(now_ms));
            updated = updated.max(created).max(edited);
            if created >= from_ms {
                new_comments += 1;
            }
        }
        for ch in &issue.changelog {
            updated = updated.max(ch.at.resolve(now_ms));
        }
        for w in &issue.worklogs {
            let created = w.created.resolve(now_ms);
            let edited = w.updated.map_or(created, |u| u.resolve(now_ms));
            updated = updated.max(created).max(edited);
            if edited >= from_ms {
                worklogs += 1;
            }
        }
        if updated >= from_ms {
            issues.push(IssueSince {
                histories: issue.changelog.len(),
                new_comments,
                comments: issue.comments.len(),
                worklogs: issue.worklogs.len(),
            });
        }
    }
    Since { issues, worklogs }
}

/// Requests every sync makes for the directory: users/search pages plus the closing empty page, one
/// applicationrole call, group/member pages of each product group (active members).
fn directory_requests(s: &Scenario) -> usize {
    let mut n = s.users.len() / USERS_PAGE + 1;
    n += 1;
    for g in s.groups.iter().filter(|g| !g.products.is_empty()) {
        let members = s
            .users
            .iter()
            .filter(|u| u.active && u.groups.contains(&g.name))
            .count();
        n += pages(members, GROUP_MEMBER_PAGE);
    }
    n
}

/// The fewest requests a sync that reads the activity from `from` on can make with the endpoints' page caps:
/// the directory (see [`directory_requests`]); search/jql pages of the issues updated since `from` with their
/// embedded comment page (100 issues a page); bulkfetch calls per 1000 such issues (more when their histories
/// exceed a page); for each such issue with more comments than the search embeds, its comment pages since
/// `from` (at least one); worklog/updated and worklog/list pages of the worklogs updated since `from`; for an
/// incremental sync, one worklog/deleted page. Times of the scenario are resolved against `now_ms`, the
/// simulator's start.
pub fn minimal_requests(
    s: &Scenario,
    from: DateTime<Utc>,
    now_ms: i64,
    incremental: bool,
) -> usize {
    let since = since(s, from.timestamp_millis(), now_ms);
    let mut n = directory_requests(s);
    n += pages(since.issues.len(), SEARCH_COMMENTS_PAGE);
    for batch in since.issues.chunks(BULKFETCH_IDS) {
        let histories: usize = batch.iter().map(|i| i.histories).sum();
        n += pages(histories, BULKFETCH_PAGE);
    }
    n += since
        .issues
        .iter()
        .filter(|i| i.comments > EMBEDDED_COMMENTS)
        .map(|i| pages(i.new_comments, COMMENTS_PAGE))
        .sum::<usize>();
    n += pages(since.worklogs, WORKLOG_FEED_PAGE);
    n += since.worklogs.div_ceil(WORKLOG_LIST_IDS);
    n + usize::from(incremental)
}

/// Human (`atlassian`) accounts of the scenario.
fn humans(s: &Scenario) -> usize {
    s.users
        .iter()
        .filter(|u| u.account_type == AccountType::Atlassian)
        .count()
}

/// The directory part of the naive strategy: the user listing, application roles and one request per human
/// account.
pub fn naive_directory_requests(s: &Scenario) -> usize {
    s.users.len() / USERS_PAGE + 1 + 1 + humans(s)
}

/// Requests of the naive strategy, computed: the same user listing and application roles as the operator, an
/// id-only issue search (5000 issues a page), then one `GET user?expand=groups,applicationRoles` per human
/// account and, per issue updated since `from`, every page of its comments, changelog and worklogs (default
/// page sizes).
pub fn naive_requests(s: &Scenario, from: DateTime<Utc>, now_ms: i64) -> usize {
    let since = since(s, from.timestamp_millis(), now_ms);
    let per_issue: usize = since
        .issues
        .iter()
        .map(|i| {
            pages(i.comments, NAIVE_PAGE)
                + pages(i.histories, NAIVE_PAGE)
                + pages(i.worklogs, NAIVE_WORKLOG_PAGE)
        })
        .sum();
    naive_directory_requests(s) + pages(since.issues.len(), SEARCH_PAGE) + per_issue
}

/// Requests of the naive strategy made for real against the simulator at `base` (8 in flight): the per-user
/// and per-issue requests are sent and counted (following every page); the listing, roles and id-only search
/// pages are counted from the scenario, not sent. `account_ids` are the human
/// accounts, `issue_keys` the issues updated since the sync's start.
pub async fn naive_measured(
    s: &Scenario,
    base: &url::Url,
    account_ids: Vec<String>,
    issue_keys: Vec<String>,
) -> usize {
    let http = reqwest::Client::new();
    let listing = s.users.len() / USERS_PAGE + 1 + 1 + pages(issue_keys.len(), SEARCH_PAGE);
    let get = |url: String| {
        let http = http.clone();
        async move {
            let resp = http
                .get(&url)
                .basic_auth(ADMIN_EMAIL, Some(ADMIN_TOKEN))
                .send()
                .await
                .unwrap_or_else(|e| panic!("naive GET {url}: {e}"));
            assert!(
                resp.status().is_success(),
                "naive GET {url}: {}",
                resp.status()
            );
            resp.json::<serde_json::Value>()
                .await
                .unwrap_or_else(|e| panic!("naive GET {url}: {e}"))
        }
    };
    let users = stream::iter(account_ids)
        .map(|id| {
            get(format!(
                "{base}rest/api/3/user?accountId={id}&expand=groups,applicationRoles"
            ))
        })
        .buffer_unordered(8)
        .count()
        .await;
    let issues: usize = stream::iter(issue_keys)
        .map(|key| {
            let get = &get;
            async move {
                let mut n = 0;
                for (path, list, page) in [
                    ("comment", "comments", NAIVE_PAGE),
                    ("changelog", "values", NAIVE_PAGE),
                    ("worklog", "worklogs", NAIVE_WORKLOG_PAGE),
                ] {
                    let mut start = 0;
                    loop {
                        let v = get(format!(
                            "{base}rest/api/3/issue/{key}/{path}?startAt={start}&maxResults={page}"
                        ))
                        .await;
                        n += 1;
                        let got = v[list].as_array().map_or(0, Vec::len);
                        let total = v["total"].as_u64().unwrap_or(0) as usize;
                        start += got;
                        if got == 0 || start >= total {
                            break;
                        }
                    }
                }
                n
            }
        })
        .buffer_unordered(8)
        .fold(0, |a, n| async move { a + n })
        .await;
    listing + users + issues
}
