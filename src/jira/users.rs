//! Users, application roles (products and seats) and group members.

use futures::{StreamExt, TryStreamExt, stream};
use serde::Deserialize;

use super::error::JiraError;
use super::paging;
use super::{Call, JiraClient};

/// Page size of `users/search` (the endpoint's cap).
pub const USERS_PAGE: usize = 1000;
/// Page size of `group/member` (the endpoint's cap).
pub const GROUP_MEMBER_PAGE: usize = 50;

/// A user as listed by `users/search`, reduced to what the sync keeps.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraUser {
    /// Opaque account id.
    pub account_id: String,
    /// `atlassian` (human), `app`, `customer`, `unknown`.
    #[serde(default)]
    pub account_type: AccountType,
    /// Email, absent when hidden.
    #[serde(default, rename = "emailAddress")]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// False for deactivated (and deleted) accounts.
    #[serde(default)]
    pub active: bool,
}

impl JiraUser {
    /// Human Atlassian account (not an app, customer or unknown account).
    pub fn is_human(&self) -> bool {
        self.account_type == AccountType::Atlassian
    }

    /// The email when it is visible and non-empty.
    pub fn visible_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|e| !e.trim().is_empty())
    }
}

/// The type of an account: a fieldless enum rather than the listed string, so that a listing of 100,000
/// accounts does not hold 100,000 copies of `"atlassian"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    /// A human Atlassian account.
    Atlassian,
    /// An app (bot or service account).
    App,
    /// A Jira Service Management customer.
    Customer,
    /// Any other type, or none given.
    #[default]
    #[serde(other)]
    Unknown,
}

/// A group, by id (preferred) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRef {
    /// Group id, when Jira gives one.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Group name.
    pub name: String,
}

/// A product (application role) with its seats and the groups granting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRole {
    /// Product key, e.g. `jira-software`.
    pub key: String,
    /// Product name.
    pub name: String,
    /// Groups granting the product.
    pub groups: Vec<GroupRef>,
    /// `numberOfSeats`.
    pub seats: i64,
    /// `remainingSeats`.
    pub remaining: i64,
    /// `userCount` (Jira's billable users).
    pub user_count: i64,
    /// `hasUnlimitedSeats`.
    pub unlimited: bool,
    /// True for the platform role (`jira-core`), implied by every other product.
    pub platform: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRole {
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    group_details: Vec<GroupRef>,
    #[serde(default)]
    number_of_seats: i64,
    #[serde(default)]
    remaining_seats: i64,
    #[serde(default)]
    user_count: i64,
    #[serde(default)]
    has_unlimited_seats: bool,
    #[serde(default)]
    platform: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageBean<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
    #[serde(default)]
    max_results: Option<usize>,
    #[serde(default)]
    total: Option<usize>,
    #[serde(default)]
    is_last: Option<bool>,
    #[serde(default)]
    next_page: Option<String>,
}

impl<T> PageBean<T> {
    /// PageBean termination: `isLast`, else the absence of `nextPage`.
    fn last(&self) -> bool {
        self.is_last.unwrap_or(self.next_page.is_none()) || self.values.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Member {
    account_id: String,
}

/// Most pages of one group's members (a larger `total` is a garbled answer, not a group).
const MAX_MEMBER_PAGES: usize = 100_000;

/// Offsets of the pages after the first one, from the first page's `total` and the page size Jira applied.
pub(crate) fn remaining_offsets(total: usize, first_len: usize, page: usize) -> Vec<usize> {
    if page == 0 || first_len == 0 {
        return Vec::new();
    }
    (1..total.div_ceil(page)).map(|k| k * page).collect()
}

impl JiraClient {
    /// One page of `users/search` (bare array; only an empty page ends the listing).
    pub async fn users_page(
        &self,
        start_at: usize,
        max_results: usize,
    ) -> Result<Vec<JiraUser>, JiraError> {
        let start = start_at.to_string();
        let max = max_results.to_string();
        self.jira_json(Call::get(
            "GET /rest/api/3/users/search",
            "rest/api/3/users/search",
            &[("startAt", &start), ("maxResults", &max)],
        ))
        .await
    }

    /// Every account of the site (all types, active and not), paging until an empty page: a short page is
    /// not the end (Jira may return fewer items than asked and caps `maxResults` silently).
    pub async fn all_users(&self) -> Result<Vec<JiraUser>, JiraError> {
        let fetch = move |start: usize| async move {
            let page = self.users_page(start, USERS_PAGE).await?;
            Ok(paging::Page {
                next: (!page.is_empty()).then_some(start + page.len()),
                items: page,
            })
        };
        let mut all = Vec::new();
        paging::by_offset("GET /rest/api/3/users/search", 0, fetch, |u| all.push(u)).await?;
        // Accounts created while paging shift the offsets: drop the duplicates this causes.
        all.sort_unstable_by(|a: &JiraUser, b: &JiraUser| a.account_id.cmp(&b.account_id));
        all.dedup_by(|a, b| a.account_id == b.account_id);
        // Pushing doubled the capacity: at 100,000 accounts a third of it would stay unused.
        all.shrink_to_fit();
        Ok(all)
    }

    /// Products with seats and the groups granting them (`GET /rest/api/3/applicationrole`).
    pub async fn application_roles(&self) -> Result<Vec<ApplicationRole>, JiraError> {
        let raw: Vec<RawRole> = self
            .jira_json(Call::get(
                "GET /rest/api/3/applicationrole",
                "rest/api/3/applicationrole",
                &[],
            ))
            .await?;
        Ok(raw
            .into_iter()
            .map(|r| {
                let groups = if r.group_details.is_empty() {
                    r.groups
                        .into_iter()
                        .map(|name| GroupRef {
                            group_id: None,
                            name,
                        })
                        .collect()
                } else {
                    r.group_details
                };
                ApplicationRole {
                    platform: r.platform || r.key == "jira-core",
                    key: r.key,
                    name: r.name,
                    groups,
                    seats: r.number_of_seats,
                    remaining: r.remaining_seats,
                    user_count: r.user_count,
                    unlimited: r.has_unlimited_seats,
                }
            })
            .collect())
    }

    /// Groups granting an access type (`site-admin`, `admin`, `user`) through `group/bulk`, to the product
    /// `application_key` when given.
    pub async fn groups_with_access(
        &self,
        access_type: &str,
        application_key: Option<&str>,
    ) -> Result<Vec<GroupRef>, JiraError> {
        let fetch = move |start: usize| async move {
            let start_s = start.to_string();
            let mut query = vec![
                ("accessType", access_type),
                ("startAt", &start_s),
                ("maxResults", "50"),
            ];
            if let Some(key) = application_key {
                query.push(("applicationKey", key));
            }
            let page: PageBean<GroupRef> = self
                .jira_json(Call::get(
                    "GET /rest/api/3/group/bulk",
                    "rest/api/3/group/bulk",
                    &query,
                ))
                .await?;
            Ok(paging::Page {
                next: (!page.last()).then_some(start + page.values.len()),
                items: page.values,
            })
        };
        let mut out = Vec::new();
        paging::by_offset("GET /rest/api/3/group/bulk", 0, fetch, |g| out.push(g)).await?;
        Ok(out)
    }

    async fn members_page(
        &self,
        group: &GroupRef,
        start_at: usize,
    ) -> Result<PageBean<Member>, JiraError> {
        let start = start_at.to_string();
        let max = GROUP_MEMBER_PAGE.to_string();
        let (key, value) = match &group.group_id {
            Some(id) => ("groupId", id.as_str()),
            None => ("groupname", group.name.as_str()),
        };
        let resp = self
            .jira(Call::get(
                "GET /rest/api/3/group/member",
                "rest/api/3/group/member",
                &[
                    (key, value),
                    ("includeInactiveUsers", "false"),
                    ("startAt", &start),
                    ("maxResults", &max),
                ],
            ))
            .await?;
        if resp.status == reqwest::StatusCode::NOT_FOUND {
            return Err(JiraError::GroupNotFound(group.name.clone()));
        }
        if !resp.status.is_success() {
            return Err(super::status_error("GET /rest/api/3/group/member", &resp));
        }
        super::parse_json("GET /rest/api/3/group/member", &resp.body)
    }

    /// Account ids of the active members of a group. The first page tells the total; the other pages are
    /// fetched in parallel within the connection's concurrency cap.
    pub async fn group_members(&self, group: &GroupRef) -> Result<Vec<String>, JiraError> {
        let first = self.members_page(group, 0).await?;
        let page = first.max_results.unwrap_or(GROUP_MEMBER_PAGE).max(1);
        let mut last = first.last();
        let mut ids: Vec<String> = first.values.into_iter().map(|m| m.account_id).collect();
        if last {
            return Ok(ids);
        }
        let total = first.total.unwrap_or(0);
        if total.div_ceil(page) > MAX_MEMBER_PAGES {
            return Err(JiraError::UnexpectedResponse {
                operation: "GET /rest/api/3/group/member".into(),
                detail: format!(
                    "group {} claims {total} members in pages of {page}",
                    super::error::clip(&group.name, super::error::QUOTE_MAX)
                ),
            });
        }
        let offsets = remaining_offsets(total, ids.len(), page);
        let mut next = ids.len();
        if let Some(&last_offset) = offsets.last() {
            let pages: Vec<PageBean<Member>> = stream::iter(offsets.iter().copied())
                .map(|o| self.members_page(group, o))
                .buffered(self.concurrency())
                .try_collect()
                .await?;
            let mut last_len = 0;
            for p in pages {
                last = p.last();
                last_len = p.values.len();
                ids.extend(p.values.into_iter().map(|m| m.account_id));
            }
            next = last_offset + last_len;
        }
        // `total` may change between pages: keep going sequentially until Jira says it was the last page.
        ids.sort_unstable();
        ids.dedup();
        while !last {
            let p = self.members_page(group, next).await?;
            last = p.last();
            next += p.values.len();
            let before = ids.len();
            ids.extend(p.values.into_iter().map(|m| m.account_id));
            ids.sort_unstable();
            ids.dedup();
            // A page that brings no new member would repeat forever.
            if !last && ids.len() == before {
                return Err(JiraError::UnexpectedResponse {
                    operation: "GET /rest/api/3/group/member".into(),
                    detail: format!("page at {next} repeats members already listed"),
                });
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_offsets() {
        assert_eq!(remaining_offsets(73, 50, 50), vec![50]);
        assert_eq!(remaining_offsets(50, 50, 50), Vec::<usize>::new());
        assert_eq!(remaining_offsets(151, 50, 50), vec![50, 100, 150]);
        assert_eq!(remaining_offsets(0, 0, 50), Vec::<usize>::new());
    }

    #[test]
    fn page_bean_termination() {
        let p: PageBean<Member> =
            serde_json::from_str(r#"{"values":[{"accountId":"a"}],"isLast":false}"#).unwrap();
        assert!(!p.last());
        let p: PageBean<Member> =
            serde_json::from_str(r#"{"values":[{"accountId":"a"}]}"#).unwrap();
        assert!(p.last(), "no nextPage and no isLast: last");
        let p: PageBean<Member> =
            serde_json::from_str(r#"{"values":[{"accountId":"a"}],"nextPage":"x"}"#).unwrap();
        assert!(!p.last());
        let p: PageBean<Member> = serde_json::from_str(r#"{"values":[],"isLast":false}"#).unwrap();
        assert!(p.last(), "an empty page ends the listing");
    }

    #[test]
    fn user_filters() {
        let u: JiraUser = serde_json::from_str(
            r#"{"accountId":"1","accountType":"atlassian","emailAddress":null,"displayName":"E","active":false}"#,
        )
        .unwrap();
        assert!(u.is_human() && u.visible_email().is_none() && !u.active);
        let u: JiraUser = serde_json::from_str(
            r#"{"accountId":"2","accountType":"app","emailAddress":"x@y","active":true}"#,
        )
        .unwrap();
        assert!(!u.is_human() && u.visible_email() == Some("x@y"));
    }
}
