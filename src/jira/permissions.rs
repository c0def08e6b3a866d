//! What the connected account may do, read with the calls Jira documents for it: `GET /rest/api/3/mypermissions`
//! (globally, or for one project or issue), the account's groups (`/myself?expand=groups`), the groups that grant
//! site-admin access (`group/bulk?accessType=site-admin`), the scopes of a service account's OAuth token, and
//! whether the Admin API key answers for the organization. Read-only, a handful of requests; what cannot be
//! read stays unknown.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Call, JiraAuth, JiraClient, JiraError};
use crate::error::Classify;

/// The Jira permission keys read at connect: global ones, and project ones "in any project".
pub const CONNECT_PERMISSIONS: &[&str] = &[
    "ADMINISTER",
    "USER_PICKER",
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "DELETE_ISSUES",
];

/// Where a permission is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionContext<'a> {
    /// Global permissions, and project permissions held in any project.
    Anywhere,
    /// One project, by key.
    Project(&'a str),
    /// One issue, by key or id.
    Issue(&'a str),
}

/// Whether the Admin API key answered for the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationAccess {
    /// The key sees the organization.
    Answered,
    /// The key was refused or does not see the organization (the error's message).
    Refused(String),
    /// The Admin API could not be reached (the error's message).
    Unreachable(String),
}

/// What the account was found to hold when the client connected. `None` wherever the read failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Permission key → held, for [`CONNECT_PERMISSIONS`] (project permissions: in any project).
    pub permissions: Option<BTreeMap<String, bool>>,
    /// Names of the account's groups.
    pub groups: Option<Vec<String>>,
    /// Names of the groups that grant site-admin access.
    pub site_admin_groups: Option<Vec<String>>,
    /// The scopes of the OAuth token (service accounts; API tokens do not say).
    pub scopes: Option<Vec<String>>,
    /// The Admin API, when an organization is configured.
    pub organization: Option<OrganizationAccess>,
}

impl Grants {
    /// Whether the permission was read as held; `None` when it was not read.
    pub fn has(&self, key: &str) -> Option<bool> {
        self.permissions.as_ref()?.get(key).copied()
    }
}

impl JiraClient {
    /// `GET /rest/api/3/mypermissions?permissions=…` in a context: permission key → held.
    pub async fn my_permissions(
        &self,
        context: PermissionContext<'_>,
        keys: &[&str],
    ) -> Result<BTreeMap<String, bool>, JiraError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Permission {
            #[serde(default)]
            have_permission: bool,
        }
        #[derive(Deserialize)]
        struct Permissions {
            permissions: BTreeMap<String, Permission>,
        }
        let keys = keys.join(",");
        let mut query = vec![("permissions", keys.as_str())];
        match context {
            PermissionContext::Anywhere => {}
            PermissionContext::Project(key) => query.push(("projectKey", key)),
            PermissionContext::Issue(key) => query.push(("issueKey", key)),
        }
        let answer: Permissions = self
            .jira_json(Call::get(
                "GET /rest/api/3/mypermissions",
                "rest/api/3/mypermissions",
                &query,
            ))
            .await?;
        Ok(answer
            .permissions
            .into_iter()
            .map(|(k, p)| (k, p.have_permission))
            .collect())
    }

    /// [`Self::my_permissions`] in a project, the answer shared for a few seconds by the callers that ask the
    /// same: a burst of actions on one project checks it once.
    pub async fn recent_project_permissions(
        &self,
        project: &str,
        keys: &[&str],
    ) -> Result<BTreeMap<String, bool>, JiraError> {
        self.inner
            .project_permissions
            .get_or_ask((project.to_owned(), keys.join(",")), || {
                self.my_permissions(PermissionContext::Project(project), keys)
            })
            .await
    }

    /// Reads what the account holds; every part that fails stays unknown.
    pub async fn read_grants(&self) -> Grants {
        let permissions = self
            .my_permissions(PermissionContext::Anywhere, CONNECT_PERMISSIONS)
            .await
            .ok();
        let browses = permissions
            .as_ref()
            .and_then(|p| p.get("USER_PICKER"))
            .copied()
            .unwrap_or(false);
        let groups = self.my_groups().await.ok();
        // Listing groups needs Browse users and groups.
        let site_admin_groups = if browses {
            self.site_admin_groups().await.ok()
        } else {
            None
        };
        let scopes = match &self.inner.auth {
            JiraAuth::OAuth(tokens) => tokens.scopes(&self.inner.http).await.ok(),
            JiraAuth::Basic(_) => None,
        };
        let organization = if self.has_admin() {
            Some(match self.check_admin_key().await {
                Ok(()) => OrganizationAccess::Answered,
                Err(e) if e.is_transient() => OrganizationAccess::Unreachable(e.to_string()),
                Err(e) => OrganizationAccess::Refused(e.to_string()),
            })
        } else {
            None
        };
        Grants {
            permissions,
            groups,
            site_admin_groups,
            scopes,
            organization,
        }
    }

    /// Names of the account's groups (`/myself?expand=groups`).
    async fn my_groups(&self) -> Result<Vec<String>, JiraError> {
        #[derive(Deserialize)]
        struct Items {
            #[serde(default)]
            items: Vec<Named>,
        }
        #[derive(Deserialize)]
        struct Me {
            groups: Items,
        }
        let me: Me = self
            .jira_json(Call::get(
                "GET /rest/api/3/myself",
                "rest/api/3/myself",
                &[("expand", "groups")],
            ))
            .await?;
        Ok(me.groups.items.into_iter().map(|g| g.name).collect())
    }

    /// Names of the groups that grant site-admin access (first page: there are few).
    async fn site_admin_groups(&self) -> Result<Vec<String>, JiraError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            values: Vec<Named>,
        }
        let page: Page = self
            .jira_json(Call::get(
                "GET /rest/api/3/group/bulk",
                "rest/api/3/group/bulk",
                &[("accessType", "site-admin"), ("maxResults", "50")],
            ))
            .await?;
        Ok(page.values.into_iter().map(|g| g.name).collect())
    }
}

#[derive(Deserialize)]
struct Named {
    name: String,
}
