//! Connecting to a site: the allow-list check (before anything is sent), the deployment check (Server/DC
//! rejected), cloudId discovery, the credential check (`/myself`) and the routing (site or gateway).

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use url::Url;

use super::auth::{self, OAuthTokens};
use super::call::{Call, parse_json, send_jira, status_error, to_request, with_slash};
use super::error;
use super::http::{Http, Request};
use super::{
    ClientConfig, Credentials, ErrorDetail, ExposeSecret, Inner, JiraAuth, JiraClient, JiraError,
    SiteInfo,
};

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
            project_permissions: super::recent::Recent::new(super::recent::SHARED_FOR),
            create_targets: super::recent::Recent::new(super::recent::SHARED_FOR),
        };
        let me = fetch_myself(&inner).await?;
        inner.site.account_id = me.account_id;
        inner.site.display_name = me.display_name;
        Ok(JiraClient {
            inner: Arc::new(inner),
        })
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
    fn the_gateway_is_under_the_api_url() {
        let gw = gateway_base(
            &with_slash(Url::parse("https://api.atlassian.com").unwrap()),
            "c1",
        )
        .unwrap();
        assert_eq!(gw.as_str(), "https://api.atlassian.com/ex/jira/c1/");
    }
}
