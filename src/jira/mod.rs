//! Jira Cloud client: one per connection, reused across syncs and actions. Knows nothing of Kubernetes.
//!
//! [`JiraClient::connect`] rejects Jira Server / Data Center, discovers the cloudId, validates the
//! credentials with `/myself` (never trusting an anonymous empty answer), routes requests to the site URL
//! (classic API tokens) or the `api.atlassian.com/ex/jira/{cloudId}` gateway (scoped tokens, service
//! accounts). The Admin API key is checked apart, by the sync's organization part: an Admin API problem never
//! makes the Jira client unusable.

mod actions;
mod activity;
mod admin;
mod allowed_hosts;
mod auth;
mod call;
mod config;
mod connect;
mod error;
mod http;
mod issue_probe;
mod membership;
mod paging;
mod permissions;
mod recent;
mod stats;
mod throttle;
pub mod time;
pub mod trust;
mod users;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;
use url::Url;

pub use actions::{CreateIssue, IssueRef, Outcome, plain_text_to_adf};
pub use activity::{
    BULKFETCH_IDS, BULKFETCH_PAGE, COMMENTS_PAGE, ChangelogEntry, CommentEvent, DeletedWorklog,
    SEARCH_COMMENTS_PAGE, SEARCH_PAGE, UpdatedIssue, UpdatedWorklog, WORKLOG_LIST_IDS,
    WorklogDetail,
};
pub use admin::{ADMIN_PAGE, AdminUser, AdminUsers, ProductUse};
pub use allowed_hosts::{AllowedHosts, DEFAULT_ALLOWED_SITE_HOSTS};
pub(crate) use error::clip;
pub use error::{ErrorDetail, JiraError};
pub use http::Limits;
pub use issue_probe::ProbedIssue;
pub use membership::UserRef;
pub use permissions::{CONNECT_PERMISSIONS, Grants, OrganizationAccess, PermissionContext};
pub use secrecy::{ExposeSecret, SecretString};
pub use stats::{Budget, EndpointStats, RequestStats};
pub use users::{AccountType, ApplicationRole, GROUP_MEMBER_PAGE, GroupRef, JiraUser, USERS_PAGE};

use auth::OAuthTokens;
use http::Http;

pub(crate) use call::{Call, parse_json, status_error};
pub use config::{AdminCredentials, ClientConfig, Credentials, Endpoints};

/// What `connect` learned about the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    /// Site URL as configured.
    pub site_url: Url,
    /// cloudId of the site.
    pub cloud_id: String,
    /// `deploymentType` (always `Cloud` once connected).
    pub deployment_type: String,
    /// Base URL the Jira REST calls go to (the site, or the gateway for scoped tokens and service accounts).
    pub base_url: Url,
    /// True when calls go through the `api.atlassian.com/ex/jira/{cloudId}` gateway.
    pub via_gateway: bool,
    /// accountId of the authenticated caller.
    pub account_id: String,
    /// Display name of the caller.
    pub display_name: String,
}

enum JiraAuth {
    Basic(HeaderValue),
    OAuth(Box<OAuthTokens>),
}

struct Inner {
    http: Http,
    auth: JiraAuth,
    admin: Option<(String, HeaderValue)>,
    api_url: Url,
    site: SiteInfo,
    /// The account's permissions in a project, by project and permission keys, shared by a burst of actions.
    project_permissions: recent::Recent<(String, String), BTreeMap<String, bool>>,
    /// The project and issue type ids of an issue to create, by the project and type as given, shared by a
    /// burst of actions.
    create_targets: recent::Recent<(String, String), (String, String)>,
}

/// The client of one Jira Cloud site. Cheap to clone; share one per connection.
#[derive(Clone)]
pub struct JiraClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraClient")
            .field("site", &self.inner.site)
            .finish_non_exhaustive()
    }
}

impl JiraClient {
    /// What `connect` learned about the site.
    pub fn site_info(&self) -> &SiteInfo {
        &self.inner.site
    }

    /// Request counters since the client was created.
    pub fn request_stats(&self) -> RequestStats {
        self.inner.http.stats()
    }

    /// True when an organization (Admin API) is configured.
    pub fn has_admin(&self) -> bool {
        self.inner.admin.is_some()
    }

    /// The longest wait a 429 may ask for that the client waits out itself; a longer one fails the request
    /// with `RateLimited`.
    pub fn max_throttle_wait(&self) -> std::time::Duration {
        self.inner.http.max_throttle_wait()
    }

    /// Requests the connection keeps in flight at once.
    pub fn concurrency(&self) -> usize {
        self.inner.http.concurrency()
    }

    pub(crate) fn org_id(&self) -> Option<&str> {
        self.inner.admin.as_ref().map(|(id, _)| id.as_str())
    }
}
