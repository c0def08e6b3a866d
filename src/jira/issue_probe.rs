//! Reads that tell whether a create whose answer was lost happened. `GET issue/{key}` sees every create and
//! delete at once; the issue search can lag writes by seconds to minutes, so it only ever proves presence, and a
//! key it returns is only a lower bound of the keys that exist.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::actions::IssueRef;
use super::error::JiraError;
use super::time::de_datetime;
use super::{Call, JiraClient};

/// An issue read by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbedIssue {
    /// The issue.
    pub issue: IssueRef,
    /// Its labels.
    pub labels: Vec<String>,
    /// When Jira created it.
    pub created: Option<DateTime<Utc>>,
}

impl JiraClient {
    /// The issue with this key, or `None` when Jira answers 404 (it does not exist, was deleted, or is hidden
    /// from the account).
    pub async fn probe_issue(&self, key: &str) -> Result<Option<ProbedIssue>, JiraError> {
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default)]
            labels: Vec<String>,
            #[serde(default, deserialize_with = "de_datetime")]
            created: Option<DateTime<Utc>>,
        }
        #[derive(Deserialize)]
        struct Issue {
            id: String,
            key: String,
            fields: Fields,
        }
        let path = format!("rest/api/3/issue/{key}");
        let resp = self
            .jira(Call::get(
                "GET /rest/api/3/issue/{key}",
                &path,
                &[("fields", "labels,created")],
            ))
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status.is_success() {
            return Err(super::status_error("GET /rest/api/3/issue/{key}", &resp));
        }
        let issue: Issue = super::parse_json("GET /rest/api/3/issue/{key}", &resp.body)?;
        Ok(Some(ProbedIssue {
            issue: IssueRef {
                url: self.browse_url(&issue.key),
                id: issue.id,
                key: issue.key,
            },
            labels: issue.fields.labels,
            created: issue.fields.created,
        }))
    }

    /// The key of the newest issue of the project created at least `minutes` minutes ago, as far as the search
    /// sees: every issue created after that moment has a higher key. `None` when the search finds none.
    pub async fn key_created_before(
        &self,
        project_key: &str,
        minutes: i64,
    ) -> Result<Option<String>, JiraError> {
        #[derive(Deserialize)]
        struct Issue {
            key: String,
        }
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            issues: Vec<Issue>,
        }
        let jql = format!(
            "project = \"{}\" AND created <= -{}m ORDER BY created DESC",
            project_key.replace('"', "\\\""),
            minutes.max(0)
        );
        let body = json!({"jql": jql, "fields": ["key"], "maxResults": 1});
        let page: Page = self
            .jira_json(Call::post(
                "POST /rest/api/3/search/jql",
                "rest/api/3/search/jql",
                &[],
                &body,
            ))
            .await?;
        Ok(page.issues.into_iter().next().map(|i| i.key))
    }
}
