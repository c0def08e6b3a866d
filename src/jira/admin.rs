//! Atlassian Admin (organization) API: key check, users with their org-level roles and last-active dates.

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::{ErrorDetail, JiraError};
use super::paging;
use super::{Call, JiraClient};

/// Users per page asked of the Admin API.
pub const ADMIN_PAGE: usize = 100;

/// What the Admin API says about one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    /// accountId.
    pub account_id: String,
    /// Holds `atlassian/org-admin`.
    pub org_admin: bool,
    /// Holds `atlassian/site-admin`.
    pub site_admin: bool,
    /// The user's products on this site with their last-active dates (a page view, not an edit), sorted by
    /// product key.
    pub products: Vec<ProductUse>,
}

impl AdminUser {
    /// Latest last-active date of any product on this site.
    pub fn last_active(&self) -> Option<NaiveDate> {
        self.products.iter().filter_map(|p| p.last_active).max()
    }
}

/// A product a user has access to on the site, and when the user last used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductUse {
    /// The product key, as Jira names it (`jira-servicedesk` for the Admin API's `jira-service-desk`).
    pub product: String,
    /// Last UTC day the user viewed the product; `None` when the user never used it.
    pub last_active: Option<NaiveDate>,
}

/// The organization's users as seen by the Admin API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminUsers {
    /// Users.
    pub users: Vec<AdminUser>,
    /// False when the org is on the original user-management experience and roles were not available
    /// (only the v1 listing: last-active dates, no platform roles).
    pub roles_known: bool,
}

#[derive(Deserialize)]
struct Links {
    next: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    links: Option<Links>,
}

/// The query asking for the page at `cursor` (none for the first page).
fn cursor_query(cursor: Option<&str>) -> Vec<(&str, &str)> {
    cursor.map(|c| vec![("cursor", c)]).unwrap_or_default()
}

fn next_cursor(links: Option<Links>) -> Option<String> {
    let next = links?.next.filter(|n| !n.is_empty())?;
    // `next` is a cursor, or a URL carrying `cursor=`.
    if next.starts_with("http") {
        let url = url::Url::parse(&next).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned())
    } else {
        Some(next)
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    super::time::parse_datetime(s)
        .map(|t: DateTime<Utc>| t.date_naive())
        .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// The Admin API names the Jira Service Management product `jira-service-desk`, Jira `jira-servicedesk`.
fn jira_product_key(admin_key: &str) -> &str {
    match admin_key {
        "jira-service-desk" => "jira-servicedesk",
        key => key,
    }
}

/// Products and last-active dates from `(key, last active)` pairs: Jira's keys, one entry per product with
/// its latest date, sorted.
fn product_uses(values: impl Iterator<Item = (Option<String>, Option<String>)>) -> Vec<ProductUse> {
    let mut by_key: std::collections::BTreeMap<String, Option<NaiveDate>> = Default::default();
    for (key, last) in values {
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            continue;
        };
        let date = last.as_deref().and_then(parse_date);
        let entry = by_key.entry(jira_product_key(&key).to_owned()).or_default();
        *entry = (*entry).max(date);
    }
    by_key
        .into_iter()
        .map(|(product, last_active)| ProductUse {
            product,
            last_active,
        })
        .collect()
}

impl JiraClient {
    /// Checks that the Admin API key sees the configured organization.
    pub(crate) async fn check_admin_key(&self) -> Result<(), JiraError> {
        #[derive(Deserialize)]
        struct Org {
            id: String,
        }
        let org_id = self.org_id().unwrap_or_default().to_owned();
        let wanted = org_id.as_str();
        let fetch = move |cursor: Option<String>| async move {
            let query = cursor_query(cursor.as_deref());
            let page: Envelope<Org> = self
                .admin_json(Call::get("GET /admin/v1/orgs", "admin/v1/orgs", &query))
                .await?;
            let items: Vec<Org> = page.data.into_iter().filter(|o| o.id == wanted).collect();
            Ok(paging::Page {
                next: next_cursor(page.links).filter(|_| items.is_empty()),
                items,
            })
        };
        let mut found = false;
        paging::by_token("GET /admin/v1/orgs", fetch, |_| found = true).await?;
        if found {
            Ok(())
        } else {
            Err(JiraError::OrganizationNotFound { org_id })
        }
    }

    /// Users of the organization with platform roles and last-active dates (v2 directory search; falls back
    /// to the v1 listing when the org is on the original user-management experience).
    pub async fn admin_users(&self) -> Result<AdminUsers, JiraError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Access {
            key: Option<String>,
            id: Option<String>,
            last_active_timestamp: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct V2User {
            account_id: String,
            #[serde(default)]
            platform_roles: Vec<String>,
            #[serde(default)]
            product_access: Vec<Access>,
        }
        let org = self.org_id().unwrap_or_default().to_owned();
        let cloud_id = self.site_info().cloud_id.clone();
        let path = format!("admin/v2/orgs/{org}/directories/-/users/search");
        let (path, cloud) = (&path, cloud_id.as_str());
        // Set when the org answers that it is on the original user-management experience.
        let v1_only = &AtomicBool::new(false);
        let fetch = move |cursor: Option<String>| async move {
            let body = serde_json::json!({
                "limit": ADMIN_PAGE,
                "cursor": cursor,
                "expand": ["platformRoles", "productAccess"],
            });
            let resp = self
                .admin(Call::post(
                    "POST /admin/v2/orgs/{org}/directories/{dir}/users/search",
                    path,
                    &[],
                    &body,
                ))
                .await?;
            if resp.status == reqwest::StatusCode::BAD_REQUEST
                && ErrorDetail::parse(&resp.body).mentions("ADMIN-400-4")
            {
                v1_only.store(true, Ordering::Relaxed);
                return Ok(paging::Page {
                    items: Vec::new(),
                    next: None,
                });
            }
            if !resp.status.is_success() {
                return Err(super::status_error(
                    "POST /admin/v2/orgs/{org}/directories/{dir}/users/search",
                    &resp,
                ));
            }
            let page: Envelope<V2User> =
                super::parse_json("POST /admin/v2/users/search", &resp.body)?;
            let items = page.data.into_iter().map(|u| AdminUser {
                org_admin: u.platform_roles.iter().any(|r| r == "atlassian/org-admin"),
                site_admin: u.platform_roles.iter().any(|r| r == "atlassian/site-admin"),
                products: product_uses(
                    u.product_access
                        .into_iter()
                        .filter(|a| a.id.as_deref().is_none_or(|id| id.contains(cloud)))
                        .map(|a| (a.key, a.last_active_timestamp)),
                ),
                account_id: u.account_id,
            });
            Ok(paging::Page {
                items: items.collect(),
                next: next_cursor(page.links),
            })
        };
        let mut users = Vec::new();
        let operation = "POST /admin/v2/orgs/{org}/directories/{dir}/users/search";
        paging::by_token(operation, fetch, |u| users.push(u)).await?;
        if v1_only.load(Ordering::Relaxed) {
            return self.admin_users_v1(&org, &cloud_id).await;
        }
        Ok(AdminUsers {
            users,
            roles_known: true,
        })
    }

    async fn admin_users_v1(&self, org: &str, cloud_id: &str) -> Result<AdminUsers, JiraError> {
        #[derive(Deserialize)]
        struct Access {
            key: Option<String>,
            url: Option<String>,
            last_active: Option<String>,
        }
        #[derive(Deserialize)]
        struct V1User {
            account_id: String,
            #[serde(default)]
            product_access: Vec<Access>,
        }
        let site_host = self
            .site_info()
            .site_url
            .host_str()
            .unwrap_or_default()
            .to_owned();
        let path = format!("admin/v1/orgs/{org}/users");
        let (path, site_host) = (&path, site_host.as_str());
        let fetch = move |cursor: Option<String>| async move {
            let query = cursor_query(cursor.as_deref());
            let page: Envelope<V1User> = self
                .admin_json(
                    Call::get("GET /admin/v1/orgs/{org}/users", path, &query)
                        .with_method(Method::GET),
                )
                .await?;
            let items = page.data.into_iter().map(|u| AdminUser {
                org_admin: false,
                site_admin: false,
                products: product_uses(
                    u.product_access
                        .into_iter()
                        .filter(|a| {
                            a.url
                                .as_deref()
                                .is_none_or(|url| url.contains(site_host) || url.contains(cloud_id))
                        })
                        .map(|a| (a.key, a.last_active)),
                ),
                account_id: u.account_id,
            });
            Ok(paging::Page {
                items: items.collect(),
                next: next_cursor(page.links),
            })
        };
        let mut users = Vec::new();
        paging::by_token("GET /admin/v1/orgs/{org}/users", fetch, |u| users.push(u)).await?;
        Ok(AdminUsers {
            users,
            roles_known: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_from_links() {
        assert_eq!(
            next_cursor(Some(Links {
                next: Some("abc".into())
            })),
            Some("abc".into())
        );
        assert_eq!(
            next_cursor(Some(Links {
                next: Some("https://api.atlassian.com/admin/v1/orgs/o/users?cursor=xyz".into())
            })),
            Some("xyz".into())
        );
        assert_eq!(next_cursor(Some(Links { next: None })), None);
        assert_eq!(next_cursor(None), None);
    }

    #[test]
    fn products_with_their_latest_dates_in_jira_s_keys() {
        let s = |v: &str| Some(v.to_owned());
        let uses = product_uses(
            [
                (s("jira-software"), s("2026-09-20T08:11:04Z")),
                (s("jira-software"), s("2026-08-02")),
                (s("jira-service-desk"), None),
                (s("confluence"), s("2026-08-02")),
                (None, s("2026-10-01")),
                (s("jira-product-discovery"), s("not a date")),
            ]
            .into_iter(),
        );
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let got: Vec<(&str, Option<NaiveDate>)> = uses
            .iter()
            .map(|u| (u.product.as_str(), u.last_active))
            .collect();
        assert_eq!(
            got,
            vec![
                ("confluence", day(2026, 8, 2)),
                ("jira-product-discovery", None),
                ("jira-servicedesk", None),
                ("jira-software", day(2026, 9, 20)),
            ]
        );
        let user = AdminUser {
            account_id: "a".into(),
            org_admin: false,
            site_admin: false,
            products: uses,
        };
        assert_eq!(user.last_active(), day(2026, 9, 20));
    }
}
