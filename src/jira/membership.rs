//! Users and group membership in one-shot actions: resolve a user, add to or remove from a group, delete a user.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::actions::Outcome;
use super::error::{ErrorDetail, JiraError};
use super::{Call, JiraClient};

/// A user, by account id or email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// accountId.
    AccountId(String),
    /// Email address (must be visible to the operator's account).
    Email(String),
}

#[derive(Deserialize)]
struct Group {
    #[serde(rename = "groupId")]
    group_id: Option<String>,
    name: String,
}

impl JiraClient {
    /// The accountId of a user given by accountId (checked to exist) or email (exact match).
    pub async fn resolve_user(&self, user: &UserRef) -> Result<String, JiraError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Found {
            account_id: String,
            email_address: Option<String>,
        }
        match user {
            UserRef::AccountId(id) => {
                let resp = self
                    .jira(Call::get(
                        "GET /rest/api/3/user",
                        "rest/api/3/user",
                        &[("accountId", id)],
                    ))
                    .await?;
                match resp.status {
                    s if s.is_success() => Ok(id.clone()),
                    StatusCode::NOT_FOUND => Err(JiraError::UserNotFound(id.clone())),
                    _ => Err(super::status_error("GET /rest/api/3/user", &resp)),
                }
            }
            UserRef::Email(email) => {
                let found: Vec<Found> = self
                    .jira_json(Call::get(
                        "GET /rest/api/3/user/search",
                        "rest/api/3/user/search",
                        &[("query", email), ("maxResults", "50")],
                    ))
                    .await?;
                found
                    .into_iter()
                    .find(|u| {
                        u.email_address
                            .as_deref()
                            .is_some_and(|e| e.eq_ignore_ascii_case(email))
                    })
                    .map(|u| u.account_id)
                    .ok_or_else(|| JiraError::UserNotFound(email.clone()))
            }
        }
    }

    async fn find_group(&self, name: &str) -> Result<(Option<String>, String), JiraError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            values: Vec<Group>,
        }
        let page: Page = self
            .jira_json(Call::get(
                "GET /rest/api/3/group/bulk",
                "rest/api/3/group/bulk",
                &[("groupName", name), ("maxResults", "50")],
            ))
            .await?;
        page.values
            .into_iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
            .map(|g| (g.group_id, g.name))
            .ok_or_else(|| JiraError::GroupNotFound(name.to_owned()))
    }

    async fn is_member(&self, account_id: &str, group: &str) -> Result<bool, JiraError> {
        let resp = self
            .jira(Call::get(
                "GET /rest/api/3/user/groups",
                "rest/api/3/user/groups",
                &[("accountId", account_id)],
            ))
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Err(JiraError::UserNotFound(account_id.to_owned()));
        }
        if !resp.status.is_success() {
            return Err(super::status_error("GET /rest/api/3/user/groups", &resp));
        }
        let groups: Vec<Group> = super::parse_json("GET /rest/api/3/user/groups", &resp.body)?;
        Ok(groups.iter().any(|g| g.name.eq_ignore_ascii_case(group)))
    }

    /// Adds a user to a group; a member already in it gives `AlreadyDone`.
    pub async fn add_user_to_group(
        &self,
        account_id: &str,
        group: &str,
    ) -> Result<Outcome, JiraError> {
        let (group_id, name) = self.find_group(group).await?;
        if self.is_member(account_id, &name).await? {
            return Ok(Outcome::AlreadyDone);
        }
        let query: Vec<(&str, &str)> = match &group_id {
            Some(id) => vec![("groupId", id.as_str())],
            None => vec![("groupname", name.as_str())],
        };
        let body = json!({ "accountId": account_id });
        let resp = self
            .jira(
                Call::post(
                    "POST /rest/api/3/group/user",
                    "rest/api/3/group/user",
                    &query,
                    &body,
                )
                .not_idempotent(),
            )
            .await?;
        let detail = ErrorDetail::parse(&resp.body);
        match resp.status {
            s if s.is_success() => Ok(Outcome::Changed),
            StatusCode::BAD_REQUEST if detail.mentions("already") => Ok(Outcome::AlreadyDone),
            StatusCode::NOT_FOUND if detail.mentions("group") && !detail.mentions("user") => {
                Err(JiraError::GroupNotFound(name))
            }
            StatusCode::NOT_FOUND => Err(JiraError::UserNotFound(account_id.to_owned())),
            _ => Err(super::status_error("POST /rest/api/3/group/user", &resp)),
        }
    }

    /// Removes a user from a group; a user who is not a member gives `AlreadyDone`.
    pub async fn remove_user_from_group(
        &self,
        account_id: &str,
        group: &str,
    ) -> Result<Outcome, JiraError> {
        let (group_id, name) = self.find_group(group).await?;
        if !self.is_member(account_id, &name).await? {
            return Ok(Outcome::AlreadyDone);
        }
        let mut query: Vec<(&str, &str)> = match &group_id {
            Some(id) => vec![("groupId", id.as_str())],
            None => vec![("groupname", name.as_str())],
        };
        query.push(("accountId", account_id));
        let resp = self
            .jira(
                Call::get(
                    "DELETE /rest/api/3/group/user",
                    "rest/api/3/group/user",
                    &query,
                )
                .with_method(Method::DELETE)
                .not_idempotent(),
            )
            .await?;
        let detail = ErrorDetail::parse(&resp.body);
        match resp.status {
            s if s.is_success() => Ok(Outcome::Changed),
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND if detail.mentions("not a member") => {
                Ok(Outcome::AlreadyDone)
            }
            StatusCode::NOT_FOUND => Err(JiraError::UserNotFound(account_id.to_owned())),
            _ => Err(super::status_error("DELETE /rest/api/3/group/user", &resp)),
        }
    }

    /// Removes a user from Jira; an unknown user gives `NotFound`; a referenced user (reporter, lead)
    /// gives `UserIsReporter` with Jira's message; other refusals `InvalidRequest`.
    pub async fn delete_user(&self, account_id: &str) -> Result<Outcome, JiraError> {
        let resp = self
            .jira(
                Call::get(
                    "DELETE /rest/api/3/user",
                    "rest/api/3/user",
                    &[("accountId", account_id)],
                )
                .with_method(Method::DELETE)
                .not_idempotent(),
            )
            .await?;
        match resp.status {
            s if s.is_success() => Ok(Outcome::Changed),
            StatusCode::NOT_FOUND => Ok(Outcome::NotFound),
            StatusCode::BAD_REQUEST => {
                let detail = ErrorDetail::parse(&resp.body);
                // Jira's text is undocumented; it names what references the user.
                if ["report", "lead", "referenc", "cannot be removed"]
                    .iter()
                    .any(|w| detail.mentions(w))
                {
                    Err(JiraError::UserIsReporter(detail))
                } else {
                    Err(super::status_error("DELETE /rest/api/3/user", &resp))
                }
            }
            _ => Err(super::status_error("DELETE /rest/api/3/user", &resp)),
        }
    }
}
