//! What a client needs to connect to one site: the site, the allow-list, the credentials (whose `Debug`
//! redacts secrets), the Admin API access, the Atlassian service URLs and the limits.

use std::fmt;
use std::time::Duration;

use url::Url;

use super::{AllowedHosts, Limits, SecretString};

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
}
