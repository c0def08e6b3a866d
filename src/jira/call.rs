//! One call to Jira or the Admin API: its URL under the base, its authentication (an OAuth token renewed once
//! after a 401), and the mapping of a failed answer to a [`JiraError`] naming the permission an endpoint needs.

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::error;
use super::http::{Request, Response};
use super::{ErrorDetail, Inner, JiraAuth, JiraClient, JiraError};

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
pub(super) fn with_slash(mut url: Url) -> Url {
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

pub(super) fn to_request(base: &Url, call: &Call<'_>) -> Result<Request, JiraError> {
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

pub(super) async fn send_jira(inner: &Inner, call: &Call<'_>) -> Result<Response, JiraError> {
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

impl JiraClient {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
