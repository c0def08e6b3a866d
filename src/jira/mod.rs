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
mod error;
mod http;
mod issue_probe;
mod paging;
mod permissions;
pub mod time;
pub mod trust;
mod users;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

pub use actions::{CreateIssue, IssueRef, Outcome, UserRef, plain_text_to_adf};
pub use activity::{
    BULKFETCH_IDS, BULKFETCH_PAGE, COMMENTS_PAGE, ChangelogEntry, CommentEvent, DeletedWorklog,
    SEARCH_COMMENTS_PAGE, SEARCH_PAGE, UpdatedIssue, UpdatedWorklog, WORKLOG_LIST_IDS,
    WorklogDetail,
};
pub use admin::{ADMIN_PAGE, AdminUser, AdminUsers, ProductUse};
pub use allowed_hosts::{AllowedHosts, DEFAULT_ALLOWED_SITE_HOSTS};
pub(crate) use error::clip;
pub use error::{ErrorDetail, JiraError};
pub use http::{EndpointStats, Limits, RequestStats};
pub use issue_probe::ProbedIssue;
pub use permissions::{CONNECT_PERMISSIONS, Grants, OrganizationAccess, PermissionContext};
pub use secrecy::{ExposeSecret, SecretString};
pub use users::{ApplicationRole, GROUP_MEMBER_PAGE, GroupRef, JiraUser, USERS_PAGE};

use auth::OAuthTokens;
use http::{Http, Request, Response};

/// Where the Atlassian-wide services live (overridable for tests and proxies).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// `https://api.atlassian.com`: the gateway (`/ex/jira/{cloudId}`) and the Admin API.
    pub api_url: Url,
    /// `https://auth.atlassian.com`: OAuth token endpoint.
    pub auth_url: Url,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            api_url: Url::parse("https://api.atlassian.com/").expect("static URL"),
            auth_url: Url::parse("https://auth.atlassian.com/").expect("static URL"),
        }
    }
}

impl Endpoints {
    /// All services behind one URL (the simulator).
    pub fn same_as(url: &Url) -> Self {
        Endpoints {
            api_url: url.clone(),
            auth_url: url.clone(),
        }
    }
}

/// How the operator authenticates to Jira. `Debug` redacts secrets.
#[derive(Clone)]
pub enum Credentials {
    /// Atlassian account email + API token (classic or scoped; routing is chosen automatically).
    Basic {
        /// Account email.
        email: String,
        /// API token.
        api_token: SecretString,
    },
    /// OAuth 2.0 client credentials of a service account.
    ServiceAccount {
        /// cloudId of the site.
        cloud_id: String,
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret.
        client_secret: SecretString,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { email, .. } => f
                .debug_struct("Basic")
                .field("email", email)
                .field("api_token", &"[redacted]")
                .finish(),
            Credentials::ServiceAccount {
                cloud_id,
                client_id,
                ..
            } => f
                .debug_struct("ServiceAccount")
                .field("cloud_id", cloud_id)
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .finish(),
        }
    }
}

/// Atlassian Admin API access for an organization. `Debug` redacts the key.
#[derive(Clone)]
pub struct AdminCredentials {
    /// Organization id.
    pub org_id: String,
    /// Admin API key (Bearer).
    pub api_key: SecretString,
}

impl fmt::Debug for AdminCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminCredentials")
            .field("org_id", &self.org_id)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

/// Everything needed to connect to one site.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://<site>.atlassian.net` (http allowed for loopback hosts only).
    pub site_url: Url,
    /// The hosts a site may have; nothing is sent to any other.
    pub allowed_hosts: AllowedHosts,
    /// Jira credentials.
    pub credentials: Credentials,
    /// Admin API access (needed for roles).
    pub admin: Option<AdminCredentials>,
    /// Atlassian service URLs.
    pub endpoints: Endpoints,
    /// Concurrency, pacing and retry limits of this connection.
    pub limits: Limits,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
}

impl ClientConfig {
    /// A configuration with the default allow-list, endpoints, limits and a 30 s timeout.
    pub fn new(site_url: Url, credentials: Credentials) -> Self {
        ClientConfig {
            site_url,
            allowed_hosts: AllowedHosts::default(),
            credentials,
            admin: None,
            endpoints: Endpoints::default(),
            limits: Limits::default(),
            timeout: Duration::from_secs(30),
        }
    }
}

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

/// A path relative to a base, plus query parameters.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<Vec<u8>>,
    pub endpoint: &'static str,
    pub idempotent: bool,
}

impl<'a> Call<'a> {
    pub fn get(endpoint: &'static str, path: &'a str, query: &'a [(&'a str, &'a str)]) -> Self {
        Call {
            method: Method::GET,
            path,
            query,
            body: None,
            endpoint,
            idempotent: true,
        }
    }

    pub fn post(
        endpoint: &'static str,
        path: &'a str,
        query: &'a [(&'a str, &'a str)],
        body: &impl serde::Serialize,
    ) -> Self {
        Call {
            method: Method::POST,
            path,
            query,
            body: Some(serde_json::to_vec(body).expect("request bodies serialize")),
            endpoint,
            idempotent: true,
        }
    }

    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    pub fn not_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }
}

fn url_for(base: &Url, call: &Call<'_>) -> Result<Url, JiraError> {
    let mut url = base
        .join(call.path.trim_start_matches('/'))
        .map_err(|e| JiraError::Config(format!("URL: {e}")))?;
    if !call.query.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, v) in call.query {
            q.append_pair(k, v);
        }
    }
    Ok(url)
}

/// Normalizes a base URL so that `join` appends to it.
fn with_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url.set_query(None);
    url.set_fragment(None);
    url
}

pub(crate) fn parse_json<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, JiraError> {
    serde_json::from_slice(body).map_err(|e| JiraError::UnexpectedResponse {
        operation: endpoint.to_owned(),
        detail: error::clip(
            &format!("could not parse the response: {e}"),
            error::QUOTE_MAX,
        ),
    })
}

/// The Jira permission an endpoint needs, named in `InsufficientPermissions`.
fn permission_for(endpoint: &str) -> &'static str {
    if endpoint.contains("/admin/") {
        return "organization admin (Admin API key of this organization)";
    }
    if endpoint.contains("applicationrole")
        || endpoint.contains("/group/user")
        || endpoint.contains("DELETE /rest/api/3/user")
    {
        return "Administer Jira (site admin for group and user changes)";
    }
    if endpoint.contains("users/search")
        || endpoint.contains("/group")
        || endpoint.contains("/user")
    {
        return "Browse users and groups";
    }
    if endpoint.starts_with("POST /rest/api/3/issue") {
        return "Browse projects + Create issues";
    }
    if endpoint.starts_with("DELETE /rest/api/3/issue") {
        return "Browse projects + Delete issues";
    }
    "Browse projects"
}

/// Maps a non-success response to an error (generic mapping; callers handle endpoint-specific cases first).
pub(crate) fn status_error(endpoint: &str, resp: &Response) -> JiraError {
    let detail = ErrorDetail::parse(&resp.body);
    match resp.status {
        StatusCode::UNAUTHORIZED => JiraError::InvalidCredentials {
            what: if endpoint.contains("/admin/") {
                "Admin API key"
            } else {
                "Jira credentials"
            },
            detail,
        },
        StatusCode::FORBIDDEN => JiraError::InsufficientPermissions {
            permission: permission_for(endpoint),
            operation: endpoint.to_owned(),
            detail,
        },
        s if s.is_server_error() => JiraError::JiraUnavailable {
            operation: endpoint.to_owned(),
            detail: format!("HTTP {s}: {detail}"),
        },
        s => JiraError::InvalidRequest {
            operation: endpoint.to_owned(),
            status: s.as_u16(),
            detail,
        },
    }
}

impl JiraClient {
    /// Connects to a site: allow-list check (before anything is sent), deployment check (Server/DC
    /// rejected), cloudId discovery, credential check (`/myself`), routing (site vs gateway). The Admin API
    /// key is not checked here.
    pub async fn connect(config: ClientConfig) -> Result<JiraClient, JiraError> {
        let site_url = with_slash(config.site_url.clone());
        config.allowed_hosts.check(&site_url)?;
        let api_url = with_slash(config.endpoints.api_url.clone());
        let auth_url = with_slash(config.endpoints.auth_url.clone());
        let http = Http::new(config.limits.clone(), config.timeout)?;

        let cloud_id = discover(&http, &site_url).await?;
        let (auth, base, via_gateway, cloud_id) = match &config.credentials {
            Credentials::Basic { email, api_token } => {
                let header = auth::basic(email, api_token)?;
                let cloud_id = cloud_id.ok_or_else(|| JiraError::NotJira {
                    site: site_url.to_string(),
                    detail: "no cloudId at /_edge/tenant_info".into(),
                })?;
                let gateway = gateway_base(&api_url, &cloud_id)?;
                // Classic tokens work on the site, scoped ones only through the gateway: try the site first,
                // then the gateway once. Two attempts at most, never a loop (failed logins lock accounts).
                let (base, via_gateway) = match myself_status(&http, &site_url, &header).await? {
                    StatusCode::OK => (site_url.clone(), false),
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => (gateway, true),
                    s => {
                        return Err(JiraError::UnexpectedResponse {
                            operation: "GET /rest/api/3/myself".into(),
                            detail: format!("HTTP {s}"),
                        });
                    }
                };
                (JiraAuth::Basic(header), base, via_gateway, cloud_id)
            }
            Credentials::ServiceAccount {
                cloud_id: configured,
                client_id,
                client_secret,
            } => {
                if let Some(actual) = &cloud_id
                    && actual != configured
                {
                    return Err(JiraError::CloudIdMismatch {
                        site: site_url.to_string(),
                        configured: configured.clone(),
                        actual: actual.clone(),
                    });
                }
                let tokens = OAuthTokens::new(&auth_url, client_id.clone(), client_secret.clone())?;
                (
                    JiraAuth::OAuth(Box::new(tokens)),
                    gateway_base(&api_url, configured)?,
                    true,
                    configured.clone(),
                )
            }
        };
        let admin = match &config.admin {
            Some(a) => Some((a.org_id.clone(), auth::bearer(a.api_key.expose_secret())?)),
            None => None,
        };
        let mut inner = Inner {
            http,
            auth,
            admin,
            api_url,
            site: SiteInfo {
                site_url,
                cloud_id,
                deployment_type: "Cloud".into(),
                base_url: base,
                via_gateway,
                account_id: String::new(),
                display_name: String::new(),
            },
        };
        let me = fetch_myself(&inner).await?;
        inner.site.account_id = me.account_id;
        inner.site.display_name = me.display_name;
        Ok(JiraClient {
            inner: Arc::new(inner),
        })
    }

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

    /// Sends a Jira REST call (site or gateway), renewing an OAuth token once after a 401. Returns any
    /// non-5xx, non-429 response; 401 is turned into `InvalidCredentials`.
    pub(crate) async fn jira(&self, call: Call<'_>) -> Result<Response, JiraError> {
        send_jira(&self.inner, &call).await
    }

    /// Sends a Jira REST call and parses a successful JSON answer.
    pub(crate) async fn jira_json<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<T, JiraError> {
        let endpoint = call.endpoint;
        let resp = self.jira(call).await?;
        if !resp.status.is_success() {
            return Err(status_error(endpoint, &resp));
        }
        parse_json(endpoint, &resp.body)
    }

    /// Sends an Admin API call (`api.atlassian.com/admin/...`) with the Admin API key.
    pub(crate) async fn admin(&self, call: Call<'_>) -> Result<Response, JiraError> {
        let (_, key) = self
            .inner
            .admin
            .as_ref()
            .ok_or_else(|| JiraError::Config("no organization configured".into()))?;
        let req = to_request(&self.inner.api_url, &call)?;
        let resp = self.inner.http.send(&req, Some(key)).await?;
        if resp.status == StatusCode::UNAUTHORIZED {
            return Err(status_error(call.endpoint, &resp));
        }
        Ok(resp)
    }

    /// Admin API call parsed as JSON.
    pub(crate) async fn admin_json<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<T, JiraError> {
        let endpoint = call.endpoint;
        let resp = self.admin(call).await?;
        if !resp.status.is_success() {
            return Err(status_error(endpoint, &resp));
        }
        parse_json(endpoint, &resp.body)
    }

    /// Requests the connection keeps in flight at once.
    pub fn concurrency(&self) -> usize {
        self.inner.http.concurrency()
    }

    pub(crate) fn org_id(&self) -> Option<&str> {
        self.inner.admin.as_ref().map(|(id, _)| id.as_str())
    }
}

fn to_request(base: &Url, call: &Call<'_>) -> Result<Request, JiraError> {
    Ok(Request {
        method: call.method.clone(),
        url: url_for(base, call)?,
        endpoint: call.endpoint,
        body: call.body.clone().map(Into::into),
        content_type: "application/json",
        idempotent: call.idempotent,
        capped: true,
    })
}

async fn send_jira(inner: &Inner, call: &Call<'_>) -> Result<Response, JiraError> {
    let req = to_request(&inner.site.base_url, call)?;
    match &inner.auth {
        JiraAuth::Basic(h) => {
            let resp = inner.http.send(&req, Some(h)).await?;
            if resp.status == StatusCode::UNAUTHORIZED {
                return Err(status_error(call.endpoint, &resp));
            }
            Ok(resp)
        }
        JiraAuth::OAuth(tokens) => {
            let header = || async { tokens.header(&inner.http).await.map(Some) };
            let (resp, used) = inner.http.send_with(&req, header).await?;
            if resp.status != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            // The token expired early or was revoked: renew once and retry once.
            if let Some(used) = used {
                tokens.invalidate(&used).await;
            }
            let (resp, _) = inner.http.send_with(&req, header).await?;
            if resp.status == StatusCode::UNAUTHORIZED {
                return Err(status_error(call.endpoint, &resp));
            }
            Ok(resp)
        }
    }
}

fn gateway_base(api_url: &Url, cloud_id: &str) -> Result<Url, JiraError> {
    api_url
        .join(&format!("ex/jira/{cloud_id}/"))
        .map_err(|e| JiraError::Config(format!("gateway URL: {e}")))
}

/// Deployment check and cloudId discovery, both anonymous. `None` when tenant_info is unavailable on a
/// site that says it is Cloud.
async fn discover(http: &Http, site: &Url) -> Result<Option<String>, JiraError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ServerInfo {
        deployment_type: Option<String>,
        version: Option<String>,
    }
    let get = |path: &str, endpoint: &'static str| -> Result<Request, JiraError> {
        to_request(site, &Call::get(endpoint, path, &[]))
    };
    let resp = http
        .send(
            &get("rest/api/2/serverInfo", "GET /rest/api/2/serverInfo")?,
            None,
        )
        .await?;
    let info = if resp.status.is_success() {
        serde_json::from_slice::<ServerInfo>(&resp.body).ok()
    } else {
        None
    };
    if let Some(info) = &info {
        let dt = info.deployment_type.as_deref().unwrap_or("");
        if !dt.eq_ignore_ascii_case("cloud") && !dt.is_empty() {
            return Err(JiraError::UnsupportedDeployment {
                site: site.to_string(),
                deployment: error::clip(dt, 40),
                version: error::clip(info.version.as_deref().unwrap_or("unknown"), 40),
            });
        }
    }
    let resp = http
        .send(&get("_edge/tenant_info", "GET /_edge/tenant_info")?, None)
        .await?;
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct TenantInfo {
        cloud_id: String,
    }
    // A cloudId is a UUID; anything else (it ends up in URLs and the status) is no cloudId at all.
    let tenant = if resp.status.is_success() {
        serde_json::from_slice::<TenantInfo>(&resp.body)
            .ok()
            .filter(|t| {
                (1..=64).contains(&t.cloud_id.len())
                    && t.cloud_id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    } else {
        None
    };
    match (info, tenant) {
        (_, Some(t)) => Ok(Some(t.cloud_id)),
        (Some(_), None) => Ok(None),
        (None, None) => Err(JiraError::NotJira {
            site: site.to_string(),
            detail: format!(
                "neither /rest/api/2/serverInfo nor /_edge/tenant_info answered (HTTP {})",
                resp.status
            ),
        }),
    }
}

async fn myself_status(
    http: &Http,
    base: &Url,
    header: &HeaderValue,
) -> Result<StatusCode, JiraError> {
    let req = to_request(
        base,
        &Call::get("GET /rest/api/3/myself", "rest/api/3/myself", &[]),
    )?;
    Ok(http.send(&req, Some(header)).await?.status)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Myself {
    account_id: Option<String>,
    #[serde(default)]
    display_name: String,
}

struct Me {
    account_id: String,
    display_name: String,
}

async fn fetch_myself(inner: &Inner) -> Result<Me, JiraError> {
    let call = Call::get("GET /rest/api/3/myself", "rest/api/3/myself", &[]);
    let resp = send_jira(inner, &call).await?;
    if !resp.status.is_success() {
        return Err(status_error(call.endpoint, &resp));
    }
    let me: Myself = parse_json(call.endpoint, &resp.body)?;
    // Server/DC answers /myself without an accountId; an anonymous answer has none either.
    let account_id = me
        .account_id
        .filter(|a| !a.is_empty() && a.len() <= 128)
        .ok_or_else(|| JiraError::InvalidCredentials {
            what: "Jira credentials",
            detail: ErrorDetail {
                messages: vec!["/myself did not identify an Atlassian account".into()],
            },
        })?;
    Ok(Me {
        account_id,
        // Shown in the CredentialsValid condition: bounded like any text quoted from an answer.
        display_name: error::clip(&me.display_name, error::QUOTE_MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let c = Credentials::Basic {
            email: "a@example.com".into(),
            api_token: SecretString::from("super-secret".to_owned()),
        };
        let s = format!("{c:?}");
        assert!(
            !s.contains("super-secret") && s.contains("a@example.com"),
            "{s}"
        );
        let c = Credentials::ServiceAccount {
            cloud_id: "c".into(),
            client_id: "id".into(),
            client_secret: SecretString::from("shh".to_owned()),
        };
        assert!(!format!("{c:?}").contains("shh"));
        let a = AdminCredentials {
            org_id: "o".into(),
            api_key: SecretString::from("key-123".to_owned()),
        };
        assert!(!format!("{a:?}").contains("key-123"));
    }

    #[test]
    fn urls_join_under_base() {
        let base = with_slash(Url::parse("http://127.0.0.1:8080/ex/jira/abc").unwrap());
        let call = Call::get(
            "GET x",
            "/rest/api/3/users/search",
            &[("startAt", "0"), ("maxResults", "1000")],
        );
        assert_eq!(
            url_for(&base, &call).unwrap().as_str(),
            "http://127.0.0.1:8080/ex/jira/abc/rest/api/3/users/search?startAt=0&maxResults=1000"
        );
        let gw = gateway_base(
            &with_slash(Url::parse("https://api.atlassian.com").unwrap()),
            "c1",
        )
        .unwrap();
        assert_eq!(gw.as_str(), "https://api.atlassian.com/ex/jira/c1/");
    }

    #[test]
    fn permissions_are_named() {
        assert_eq!(
            permission_for("GET /rest/api/3/applicationrole"),
            "Administer Jira (site admin for group and user changes)"
        );
        assert_eq!(
            permission_for("GET /rest/api/3/users/search"),
            "Browse users and groups"
        );
        assert_eq!(
            permission_for("GET /rest/api/3/group/member"),
            "Browse users and groups"
        );
        assert_eq!(
            permission_for("POST /rest/api/3/search/jql"),
            "Browse projects"
        );
    }
}
