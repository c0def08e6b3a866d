//! Credentials a scenario declares: API tokens (classic and scoped), OAuth clients and Admin API keys.

use serde::{Deserialize, Serialize};

/// Credentials the simulator accepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Credentials {
    /// API tokens for Basic auth.
    pub api_tokens: Vec<ApiTokenSpec>,
    /// OAuth 2.0 client-credentials clients (service accounts).
    pub oauth_clients: Vec<OAuthClientSpec>,
    /// Admin API keys (Bearer), all valid for the scenario's org.
    pub admin_keys: Vec<String>,
}

/// The scopes of a fully privileged OAuth client / scoped token.
pub fn all_scopes() -> Vec<String> {
    [
        "read:jira-user",
        "read:jira-work",
        "write:jira-work",
        "manage:jira-configuration",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            api_tokens: vec![
                ApiTokenSpec {
                    email: "admin@example.com".into(),
                    token: "classic-admin-token".into(),
                    scopes: None,
                },
                ApiTokenSpec {
                    email: "admin@example.com".into(),
                    token: "scoped-admin-token".into(),
                    scopes: Some(all_scopes()),
                },
                ApiTokenSpec {
                    email: "viewer@example.com".into(),
                    token: "classic-viewer-token".into(),
                    scopes: None,
                },
            ],
            oauth_clients: vec![OAuthClientSpec {
                client_id: "sim-client-id".into(),
                client_secret: "sim-client-secret".into(),
                account: "sim-service-account".into(),
                scopes: all_scopes(),
            }],
            admin_keys: vec!["sim-admin-key".into()],
        }
    }
}

/// An API token of an account (Basic auth with the account's email).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenSpec {
    /// Email of the account (Basic auth user name).
    pub email: String,
    /// The token (Basic auth password).
    pub token: String,
    /// `None` = classic (unscoped) token, works on the site host and the gateway. `Some` = scoped token:
    /// gateway only (401 on the site host), limited to these scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// An OAuth client of a service account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientSpec {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// The account acting (accountId, email or display name of a user in the scenario).
    pub account: String,
    /// Scopes granted to tokens of this client.
    #[serde(default = "all_scopes")]
    pub scopes: Vec<String>,
}
