//! Idempotent issue actions (create, delete, find by label) and the outcome every one-shot action reports.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::JiraError;
use super::paging;
use super::{Call, JiraClient};

/// An issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    /// Numeric id.
    pub id: String,
    /// Key, e.g. `OPS-124`.
    pub key: String,
    /// Browse URL on the site.
    pub url: String,
}

/// An issue to create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateIssue {
    /// Project key, id or name.
    pub project: String,
    /// Issue type name or id.
    pub issue_type: String,
    /// One-line summary.
    pub summary: String,
    /// Plain text, converted to ADF.
    pub description: Option<String>,
    /// Labels (no spaces); the caller adds its idempotency label here.
    pub labels: Vec<String>,
}

/// Whether an action changed Jira or found its goal already reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Jira was changed.
    Changed,
    /// Nothing to do: the goal already held.
    AlreadyDone,
    /// The issue or user to delete does not exist (never did, or is already gone: Jira cannot tell which).
    NotFound,
}

/// Plain text to an Atlassian Document: blank lines separate paragraphs, single newlines become hard
/// breaks.
pub fn plain_text_to_adf(text: &str) -> Value {
    let normalized = text.replace("\r\n", "\n");
    let paragraphs: Vec<Value> = normalized
        .split("\n\n")
        .map(str::trim_matches_newlines)
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let mut content = Vec::new();
            for (i, line) in p.split('\n').enumerate() {
                if i > 0 {
                    content.push(json!({"type": "hardBreak"}));
                }
                if !line.is_empty() {
                    content.push(json!({"type": "text", "text": line}));
                }
            }
            json!({"type": "paragraph", "content": content})
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

trait TrimNewlines {
    fn trim_matches_newlines(&self) -> &str;
}

impl TrimNewlines for str {
    fn trim_matches_newlines(&self) -> &str {
        self.trim_matches('\n')
    }
}

#[derive(Deserialize)]
struct Project {
    id: String,
    key: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueType {
    id: String,
    name: String,
    #[serde(default)]
    subtask: bool,
}

impl JiraClient {
    pub(crate) fn browse_url(&self, key: &str) -> String {
        self.site_info()
            .site_url
            .join(&format!("browse/{key}"))
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Issues carrying `label` (used to find an issue created by an earlier attempt).
    pub async fn find_issues_by_label(&self, label: &str) -> Result<Vec<IssueRef>, JiraError> {
        #[derive(Deserialize)]
        struct Issue {
            id: String,
            key: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default)]
            issues: Vec<Issue>,
            next_page_token: Option<String>,
        }
        let jql = format!("labels = \"{}\"", label.replace('"', "\\\""));
        let jql = &jql;
        let mut out = Vec::new();
        let fetch = move |token: Option<String>| async move {
            let body = json!({"jql": jql, "fields": ["id", "key"], "maxResults": 100, "nextPageToken": token});
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
                next: page.next_page_token,
            })
        };
        paging::by_token("POST /rest/api/3/search/jql", fetch, |i: Issue| {
            out.push(IssueRef {
                url: self.browse_url(&i.key),
                id: i.id,
                key: i.key,
            })
        })
        .await?;
        Ok(out)
    }

    /// The key of a project given by key, id or name.
    pub async fn project_key(&self, wanted: &str) -> Result<String, JiraError> {
        Ok(self.find_project(wanted).await?.key)
    }

    async fn find_project(&self, wanted: &str) -> Result<Project, JiraError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            values: Vec<Project>,
        }
        let is_id = wanted.chars().all(|c| c.is_ascii_digit());
        let upper = wanted.to_ascii_uppercase();
        let lookups: Vec<Vec<(&str, &str)>> = if is_id {
            vec![vec![("id", wanted)]]
        } else {
            vec![
                vec![("keys", upper.as_str())],
                vec![("query", wanted), ("maxResults", "100")],
            ]
        };
        for query in lookups {
            let resp = self
                .jira(Call::get(
                    "GET /rest/api/3/project/search",
                    "rest/api/3/project/search",
                    &query,
                ))
                .await?;
            if resp.status == StatusCode::NOT_FOUND {
                continue;
            }
            if !resp.status.is_success() {
                return Err(super::status_error("GET /rest/api/3/project/search", &resp));
            }
            let page: Page = super::parse_json("GET /rest/api/3/project/search", &resp.body)?;
            if let Some(p) = page.values.into_iter().find(|p| {
                p.id == wanted
                    || p.key.eq_ignore_ascii_case(wanted)
                    || p.name.eq_ignore_ascii_case(wanted)
            }) {
                return Ok(p);
            }
        }
        Err(JiraError::ProjectNotFound(wanted.to_owned()))
    }

    async fn find_issue_type(
        &self,
        project: &Project,
        wanted: &str,
    ) -> Result<IssueType, JiraError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default, alias = "values")]
            issue_types: Vec<IssueType>,
        }
        let path = format!("rest/api/3/issue/createmeta/{}/issuetypes", project.id);
        let resp = self
            .jira(Call::get(
                "GET /rest/api/3/issue/createmeta/{project}/issuetypes",
                &path,
                &[("maxResults", "200")],
            ))
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Err(JiraError::ProjectNotFound(project.key.clone()));
        }
        if !resp.status.is_success() {
            return Err(super::status_error(
                "GET /rest/api/3/issue/createmeta/{project}/issuetypes",
                &resp,
            ));
        }
        let page: Page = super::parse_json(
            "GET /rest/api/3/issue/createmeta/{project}/issuetypes",
            &resp.body,
        )?;
        let available = super::error::clip(
            &page
                .issue_types
                .iter()
                .filter(|t| !t.subtask)
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            super::error::QUOTE_MAX,
        );
        page.issue_types
            .into_iter()
            .find(|t| t.id == wanted || t.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| JiraError::IssueTypeNotFound {
                project: project.key.clone(),
                issue_type: wanted.to_owned(),
                available,
            })
    }

    /// Creates an issue (project and type resolved by key/id/name, the ids shared for a few seconds by the
    /// creates that name the same; description converted to ADF). Not retried after Jira may have processed
    /// it: the caller recovers through its label.
    pub async fn create_issue(&self, req: &CreateIssue) -> Result<IssueRef, JiraError> {
        let wanted = (req.project.clone(), req.issue_type.clone());
        let (project_id, issue_type_id) = self
            .inner
            .create_targets
            .get_or_ask(wanted, || async {
                let project = self.find_project(&req.project).await?;
                let issue_type = self.find_issue_type(&project, &req.issue_type).await?;
                Ok::<_, JiraError>((project.id, issue_type.id))
            })
            .await?;
        let mut fields = json!({
            "project": {"id": project_id},
            "issuetype": {"id": issue_type_id},
            "summary": req.summary,
        });
        if let Some(d) = &req.description {
            fields["description"] = plain_text_to_adf(d);
        }
        if !req.labels.is_empty() {
            fields["labels"] = json!(req.labels);
        }
        let body = json!({ "fields": fields });
        let resp = self
            .jira(
                Call::post("POST /rest/api/3/issue", "rest/api/3/issue", &[], &body)
                    .not_idempotent(),
            )
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Err(JiraError::ProjectNotFound(req.project.clone()));
        }
        if !resp.status.is_success() {
            return Err(super::status_error("POST /rest/api/3/issue", &resp));
        }
        #[derive(Deserialize)]
        struct Created {
            id: String,
            key: String,
        }
        let c: Created = super::parse_json("POST /rest/api/3/issue", &resp.body)?;
        Ok(IssueRef {
            url: self.browse_url(&c.key),
            id: c.id,
            key: c.key,
        })
    }

    /// Deletes an issue; an issue that does not exist gives `NotFound`. Never resent after Jira may have
    /// processed it (a resent delete would meet a 404 and could not tell it from a typo).
    pub async fn delete_issue(
        &self,
        key: &str,
        delete_subtasks: bool,
    ) -> Result<Outcome, JiraError> {
        let path = format!("rest/api/3/issue/{key}");
        let resp = self
            .jira(
                Call::get(
                    "DELETE /rest/api/3/issue/{key}",
                    &path,
                    &[(
                        "deleteSubtasks",
                        if delete_subtasks { "true" } else { "false" },
                    )],
                )
                .with_method(Method::DELETE)
                .not_idempotent(),
            )
            .await?;
        match resp.status {
            s if s.is_success() => Ok(Outcome::Changed),
            StatusCode::NOT_FOUND => Ok(Outcome::NotFound),
            _ => Err(super::status_error("DELETE /rest/api/3/issue/{key}", &resp)),
        }
    }
}

#[cfg(test)]
mod tests;
