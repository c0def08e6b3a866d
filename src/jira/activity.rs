//! Usage signals: issues updated since a time with a page of their comments (`search/jql`), changelogs
//! (`changelog/bulkfetch`), the comments of issues with more than that page (`issue/{id}/comment`),
//! worklogs updated / deleted since a time (`worklog/updated`, `worklog/list`, `worklog/deleted`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::JiraError;
use super::paging;
use super::time::de_datetime;
use super::{Call, JiraClient};

/// Jira's cap on `search/jql` pages that ask for ids (or keys) only.
pub const SEARCH_PAGE: usize = 5000;
/// Page size asked of `search/jql` with the `comment` field (Jira caps pages with other fields than ids
/// at 100).
pub const SEARCH_COMMENTS_PAGE: usize = 100;
/// Issue ids per `changelog/bulkfetch` call (the endpoint's cap).
pub const BULKFETCH_IDS: usize = 1000;
/// Histories per `changelog/bulkfetch` page (the endpoint's cap).
pub const BULKFETCH_PAGE: usize = 10000;
/// Comments per page of `issue/{id}/comment`.
pub const COMMENTS_PAGE: usize = 100;
/// Ids per `worklog/list` call (the endpoint's cap).
pub const WORKLOG_LIST_IDS: usize = 1000;

/// One changelog history of an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogEntry {
    /// Issue id.
    pub issue_id: u64,
    /// Author, absent for automation/system changes.
    pub author: Option<String>,
    /// When the change happened.
    pub created: DateTime<Utc>,
}

/// A comment's creation and last edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentEvent {
    /// Author.
    pub author: Option<String>,
    /// Created at.
    pub created: DateTime<Utc>,
    /// Last editor.
    pub update_author: Option<String>,
    /// Last edited at (equals `created` when never edited).
    pub updated: Option<DateTime<Utc>>,
}

/// An issue found by [`JiraClient::issues_updated_since`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatedIssue {
    /// Issue id.
    pub id: u64,
    /// Every comment of the issue, when the search embedded all of them (oldest first); `None` when they
    /// must be read with [`JiraClient::comments_since`]: the embedded page is truncated, or missing or
    /// unusable.
    pub comments: Option<Vec<CommentEvent>>,
}

/// An entry of `worklog/updated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdatedWorklog {
    /// Worklog id.
    pub id: u64,
    /// Last update, epoch ms.
    pub updated_ms: i64,
}

/// An entry of `worklog/deleted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletedWorklog {
    /// Worklog id.
    pub id: u64,
    /// Deletion time, epoch ms.
    pub deleted_ms: i64,
}

/// A worklog's authorship (from `worklog/list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklogDetail {
    /// Worklog id.
    pub id: u64,
    /// Author.
    pub author: Option<String>,
    /// Created at.
    pub created: Option<DateTime<Utc>>,
    /// Last editor.
    pub update_author: Option<String>,
    /// Last edited at.
    pub updated: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountRef {
    account_id: Option<String>,
}

fn account(a: Option<AccountRef>) -> Option<String> {
    a.and_then(|a| a.account_id).filter(|s| !s.is_empty())
}

/// A comment as `issue/{id}/comment` and the embedded `comment` field give it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawComment {
    author: Option<AccountRef>,
    update_author: Option<AccountRef>,
    #[serde(default, deserialize_with = "de_datetime")]
    created: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "de_datetime")]
    updated: Option<DateTime<Utc>>,
}

impl RawComment {
    /// The comment's event; none without a creation time.
    fn event(self) -> Option<CommentEvent> {
        Some(CommentEvent {
            author: account(self.author),
            created: self.created?,
            update_author: account(self.update_author),
            updated: self.updated,
        })
    }
}

/// The comments of an issue's `fields` when its embedded `comment` page holds all of them: a page that
/// starts at 0 with no more comments in `total` than it holds. Jira caps that page (oldest comments
/// first), so a truncated page, like a missing or malformed one, gives `None`: read the comments instead.
fn complete_comments(fields: &serde_json::Value) -> Option<Vec<CommentEvent>> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Embedded {
        comments: Vec<RawComment>,
        total: usize,
        start_at: u64,
    }
    let page = Embedded::deserialize(fields.get("comment")?).ok()?;
    (page.start_at == 0 && page.total <= page.comments.len()).then(|| {
        page.comments
            .into_iter()
            .filter_map(RawComment::event)
            .collect()
    })
}

/// Numeric ids arrive as strings or numbers.
fn de_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    match Raw::deserialize(d)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// Minutes between `since` and `now`, rounded up, plus five minutes of margin for clock skew.
pub(crate) fn minutes_back(now: DateTime<Utc>, since: DateTime<Utc>) -> i64 {
    let secs = (now - since).num_seconds().max(0);
    (secs + 59) / 60 + 5
}

impl JiraClient {
    /// The issues updated since `since` (and up to a few minutes before it), in id order, each handed to
    /// `each` as its page arrives, with its comments when the search embedded all of them. The JQL uses a
    /// relative date (`updated >= -Nm`), which, unlike an absolute one, does not depend on the caller's
    /// time zone. Asking for the `comment` field caps pages at 100 issues (instead of 5000 for ids only)
    /// but spares the per-issue comment read of every issue whose comments fit in the embedded page.
    pub async fn issues_updated_since(
        &self,
        since: DateTime<Utc>,
        mut each: impl FnMut(UpdatedIssue),
    ) -> Result<(), JiraError> {
        #[derive(Deserialize)]
        struct Issue {
            #[serde(deserialize_with = "de_id")]
            id: u64,
            // Kept as a value: an unusable embedded page means "read the comments", not a failed search.
            #[serde(default)]
            fields: serde_json::Value,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default)]
            issues: Vec<Issue>,
            next_page_token: Option<String>,
            is_last: Option<bool>,
        }
        let jql = format!(
            "updated >= -{}m ORDER BY id ASC",
            minutes_back(Utc::now(), since)
        );
        let jql = &jql;
        let fetch = move |token: Option<String>| async move {
            let body = serde_json::json!({
                "jql": jql,
                "fields": ["id", "comment"],
                "maxResults": SEARCH_COMMENTS_PAGE,
                "nextPageToken": token,
            });
            let page: Page = self
                .jira_json(Call::post(
                    "POST /rest/api/3/search/jql",
                    "rest/api/3/search/jql",
                    &[],
                    &body,
                ))
                .await?;
            Ok(paging::Page {
                items: page.issues,
                next: page.next_page_token.filter(|_| page.is_last != Some(true)),
            })
        };
        paging::by_token("POST /rest/api/3/search/jql", fetch, |issue: Issue| {
            each(UpdatedIssue {
                id: issue.id,
                comments: complete_comments(&issue.fields),
            })
        })
        .await
    }

    /// Every changelog history of up to 1000 issues (oldest first), all pages.
    pub async fn changelogs(&self, issue_ids: &[u64]) -> Result<Vec<ChangelogEntry>, JiraError> {
        #[derive(Deserialize)]
        struct History {
            author: Option<AccountRef>,
            #[serde(default, deserialize_with = "de_datetime")]
            created: Option<DateTime<Utc>>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct IssueLog {
            #[serde(deserialize_with = "de_id")]
            issue_id: u64,
            #[serde(default)]
            change_histories: Vec<History>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default)]
            issue_change_logs: Vec<IssueLog>,
            next_page_token: Option<String>,
        }
        let ids: Vec<String> = issue_ids.iter().map(u64::to_string).collect();
        let ids = &ids;
        let mut out = Vec::new();
        let fetch = move |token: Option<String>| async move {
            let body = serde_json::json!({
                "issueIdsOrKeys": ids,
                "maxResults": BULKFETCH_PAGE,
                "nextPageToken": token,
            });
            let page: Page = self
                .jira_json(Call::post(
                    "POST /rest/api/3/changelog/bulkfetch",
                    "rest/api/3/changelog/bulkfetch",
                    &[],
                    &body,
                ))
                .await?;
            Ok(paging::Page {
                items: page.issue_change_logs,
                next: page.next_page_token,
            })
        };
        paging::by_token(
            "POST /rest/api/3/changelog/bulkfetch",
            fetch,
            |log: IssueLog| {
                for h in log.change_histories {
                    if let Some(created) = h.created {
                        out.push(ChangelogEntry {
                            issue_id: log.issue_id,
                            author: account(h.author),
                            created,
                        });
                    }
                }
            },
        )
        .await?;
        Ok(out)
    }

    /// Comments of an issue, newest first, stopping after the page that reaches comments created before
    /// `since` (edits of older comments on later pages are not seen).
    pub async fn comments_since(
        &self,
        issue_id: u64,
        since: DateTime<Utc>,
    ) -> Result<Vec<CommentEvent>, JiraError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            comments: Vec<RawComment>,
            total: Option<usize>,
        }
        let path = format!("rest/api/3/issue/{issue_id}/comment");
        let max = COMMENTS_PAGE.to_string();
        let (path, max) = (&path, &max);
        let fetch = move |start: usize| async move {
            let start_s = start.to_string();
            let resp = self
                .jira(Call::get(
                    "GET /rest/api/3/issue/{id}/comment",
                    path,
                    &[
                        ("orderBy", "-created"),
                        ("startAt", &start_s),
                        ("maxResults", max),
                    ],
                ))
                .await?;
            if resp.status == reqwest::StatusCode::NOT_FOUND {
                // Deleted (or hidden) since the search: nothing to count.
                return Ok(paging::Page {
                    items: Vec::new(),
                    next: None,
                });
            }
            if !resp.status.is_success() {
                return Err(super::status_error(
                    "GET /rest/api/3/issue/{id}/comment",
                    &resp,
                ));
            }
            let page: Page = super::parse_json("GET /rest/api/3/issue/{id}/comment", &resp.body)?;
            let len = page.comments.len();
            let items: Vec<CommentEvent> = page
                .comments
                .into_iter()
                .filter_map(RawComment::event)
                .collect();
            let reached_old = items.iter().any(|c| c.created < since);
            let next = start + len;
            let ended = len == 0 || reached_old || page.total.is_none_or(|t| next >= t);
            Ok(paging::Page {
                items,
                next: (!ended).then_some(next),
            })
        };
        let mut out = Vec::new();
        paging::by_offset("GET /rest/api/3/issue/{id}/comment", 0, fetch, |c| {
            out.push(c)
        })
        .await?;
        Ok(out)
    }

    async fn worklog_feed<T>(
        &self,
        endpoint: &'static str,
        path: &str,
        since_ms: i64,
        mut keep: impl FnMut(u64, i64) -> T,
    ) -> Result<Vec<T>, JiraError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Entry {
            worklog_id: u64,
            updated_time: i64,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default)]
            values: Vec<Entry>,
            until: Option<i64>,
            #[serde(default)]
            last_page: bool,
        }
        // The position of a page: `since`, and how many pages in a row did not move it forward.
        let fetch = move |(since, stalled): (i64, u32)| async move {
            let since_s = since.to_string();
            let page: Page = self
                .jira_json(Call::get(endpoint, path, &[("since", &since_s)]))
                .await?;
            if page.last_page {
                return Ok(paging::Page {
                    items: page.values,
                    next: None,
                });
            }
            let max_seen = page.values.iter().map(|e| e.updated_time).max();
            // `nextPage` re-encodes since=until; build it here so the gateway prefix is kept.
            let next = page.until.or(max_seen).unwrap_or(since);
            // A feed that keeps saying "not the last page" without moving forward would be read forever.
            let stalled = if next > since { 0 } else { stalled + 1 };
            if stalled > 3 {
                return Err(JiraError::UnexpectedResponse {
                    operation: endpoint.to_owned(),
                    detail: format!("the feed does not move past since={since}"),
                });
            }
            let next = if next > since { next } else { since + 1 };
            Ok(paging::Page {
                items: page.values,
                next: Some((next, stalled)),
            })
        };
        let mut out = Vec::new();
        paging::by_offset(endpoint, (since_ms, 0), fetch, |e: Entry| {
            out.push(keep(e.worklog_id, e.updated_time))
        })
        .await?;
        Ok(out)
    }

    /// Worklogs created or updated since `since_ms` (epoch ms), oldest first. Jira leaves out the last minute.
    pub async fn worklogs_updated_since(
        &self,
        since_ms: i64,
    ) -> Result<Vec<UpdatedWorklog>, JiraError> {
        self.worklog_feed(
            "GET /rest/api/3/worklog/updated",
            "rest/api/3/worklog/updated",
            since_ms,
            |id, updated_ms| UpdatedWorklog { id, updated_ms },
        )
        .await
    }

    /// Worklogs deleted since `since_ms` (epoch ms): ids and deletion times, no author.
    pub async fn worklogs_deleted_since(
        &self,
        since_ms: i64,
    ) -> Result<Vec<DeletedWorklog>, JiraError> {
        self.worklog_feed(
            "GET /rest/api/3/worklog/deleted",
            "rest/api/3/worklog/deleted",
            since_ms,
            |id, deleted_ms| DeletedWorklog { id, deleted_ms },
        )
        .await
    }

    /// Authors and times of up to 1000 worklogs.
    pub async fn worklog_details(&self, ids: &[u64]) -> Result<Vec<WorklogDetail>, JiraError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(deserialize_with = "de_id")]
            id: u64,
            author: Option<AccountRef>,
            update_author: Option<AccountRef>,
            #[serde(default, deserialize_with = "de_datetime")]
            created: Option<DateTime<Utc>>,
            #[serde(default, deserialize_with = "de_datetime")]
            updated: Option<DateTime<Utc>>,
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let body = serde_json::json!({ "ids": ids });
        let raw: Vec<Raw> = self
            .jira_json(Call::post(
                "POST /rest/api/3/worklog/list",
                "rest/api/3/worklog/list",
                &[],
                &body,
            ))
            .await?;
        Ok(raw
            .into_iter()
            .map(|r| WorklogDetail {
                id: r.id,
                author: account(r.author),
                created: r.created,
                update_author: account(r.update_author),
                updated: r.updated,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;
