//! Credentials turned into `Authorization` headers: Basic (email + API token), OAuth 2.0 client
//! credentials for service accounts (token cached, renewed before expiry and once after a 401), and the
//! Admin API key (Bearer).

use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::error::{ErrorDetail, JiraError};
use super::http::{Http, Request};

/// A header value that must never be logged.
pub(crate) fn sensitive(value: &str) -> Result<HeaderValue, JiraError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        JiraError::Config("credential contains characters not allowed in an HTTP header".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Basic auth header for `email:token`.
pub(crate) fn basic(email: &str, token: &SecretString) -> Result<HeaderValue, JiraError> {
    let raw = format!("{email}:{}", token.expose_secret());
    sensitive(&format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

/// Bearer header for a token or key.
pub(crate) fn bearer(token: &str) -> Result<HeaderValue, JiraError> {
    sensitive(&format!("Bearer {token}"))
}

struct Token {
    header: HeaderValue,
    renew_at: Instant,
    /// The scopes the token carries, as the token endpoint listed them.
    scopes: Vec<String>,
}

/// OAuth 2.0 client-credentials token source with a cache.
pub(crate) struct OAuthTokens {
    token_url: Url,
    client_id: String,
    client_secret: SecretString,
    current: Mutex<Option<Token>>,
}

impl OAuthTokens {
    pub fn new(
        auth_url: &Url,
        client_id: String,
        client_secret: SecretString,
    ) -> Result<Self, JiraError> {
        let token_url = auth_url
            .join("oauth/token")
            .map_err(|e| JiraError::Config(format!("auth URL: {e}")))?;
        Ok(OAuthTokens {
            token_url,
            client_id,
            client_secret,
            current: Mutex::new(None),
        })
    }

    /// A valid token header, fetching a new token when none is cached or the cached one is about to expire.
    pub async fn header(&self, http: &Http) -> Result<HeaderValue, JiraError> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref()
            && Instant::now() < t.renew_at
        {
            return Ok(t.header.clone());
        }
        let token = self.fetch(http).await?;
        let header = token.header.clone();
        *current = Some(token);
        Ok(header)
    }

    /// The scopes of the current token (fetching one when none is cached).
    pub async fn scopes(&self, http: &Http) -> Result<Vec<String>, JiraError> {
        self.header(http).await?;
        let current = self.current.lock().await;
        Ok(current
            .as_ref()
            .map(|t| t.scopes.clone())
            .unwrap_or_default())
    }

    /// Drops the cached token if it is still `used` (after a 401), so the next call fetches a new one.
    pub async fn invalidate(&self, used: &HeaderValue) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.header == used) {
            *current = None;
        }
    }

    async fn fetch(&self, http: &Http) -> Result<Token, JiraError> {
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
        });
        let req = Request {
            method: Method::POST,
            url: self.token_url.clone(),
            endpoint: "POST /oauth/token",
            body: Some(serde_json::to_vec(&body).expect("json").into()),
            content_type: "application/json",
            idempotent: true,
            capped: false,
        };
        let resp = http.send(&req, None).await?;
        if !resp.status.is_success() {
            return Err(JiraError::InvalidCredentials {
                what: "service account client id/secret",
                detail: ErrorDetail::parse(&resp.body),
            });
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: Option<u64>,
            #[serde(default)]
            scope: String,
        }
        let t: TokenResponse =
            serde_json::from_slice(&resp.body).map_err(|e| JiraError::UnexpectedResponse {
                operation: "POST /oauth/token".into(),
                detail: super::error::clip(&e.to_string(), super::error::QUOTE_MAX),
            })?;
        let lifetime = Duration::from_secs(t.expires_in.unwrap_or(3600));
        Ok(Token {
            header: bearer(&t.access_token)?,
            renew_at: Instant::now() + renew_after(lifetime),
            scopes: t.scope.split_whitespace().map(str::to_owned).collect(),
        })
    }
}

/// Renew five minutes before expiry, or after 80 % of a short lifetime.
fn renew_after(lifetime: Duration) -> Duration {
    let margin = Duration::from_secs(300).min(lifetime / 5);
    lifetime - margin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_sensitive_and_encoded() {
        let h = basic("a@example.com", &SecretString::from("tok".to_owned())).unwrap();
        assert!(h.is_sensitive());
        assert_eq!(h.to_str().unwrap(), "Basic YUBleGFtcGxlLmNvbTp0b2s=");
    }

    #[test]
    fn renewal_margin() {
        assert_eq!(
            renew_after(Duration::from_secs(3600)),
            Duration::from_secs(3300)
        );
        assert_eq!(renew_after(Duration::from_secs(10)), Duration::from_secs(8));
    }
}
