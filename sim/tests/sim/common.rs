//! Helpers shared by the integration tests: a simulator on loopback and a small HTTP client.

use jira_sim::{SimConfig, SimHandle};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Default-scenario ids used across tests.
pub const ORG: &str = "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f";
pub const DIR: &str = "d1e2c3b4-a5f6-4e7d-9c8b-7a6f5e4d3c2b";
pub const CLOUD: &str = "0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
pub const ADMIN_ID: &str = "5b10a2844c20165700ede001";
pub const VIEWER_ID: &str = "5b10a2844c20165700ede002";
pub const MIA: &str = "5b10a2844c20165700ede003";
pub const EMMA: &str = "5b10a2844c20165700ede004";
pub const NOAH: &str = "5b10a2844c20165700ede005";
pub const LIAM: &str = "5b10a2844c20165700ede007";
pub const AVA: &str = "5b10a2844c20165700ede008";
pub const SOFTWARE_GROUP: &str = "0c8e2f7a-1b3d-4e5f-8a9b-000000000003";
pub const SITE_ADMINS: &str = "0c8e2f7a-1b3d-4e5f-8a9b-000000000001";
pub const DEVS: &str = "0c8e2f7a-1b3d-4e5f-8a9b-000000000008";

/// Who sends a request.
#[derive(Clone, Debug)]
pub enum Who {
    /// No Authorization header.
    Anon,
    /// Basic, classic token of the admin.
    Admin,
    /// Basic, scoped token of the admin.
    Scoped,
    /// Basic, classic token of the viewer.
    Viewer,
    /// Basic with any email/token.
    Basic(String, String),
    /// Bearer token (OAuth access token or Admin API key).
    Bearer(String),
}

/// An answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// A running simulator and a client.
pub struct Sim {
    pub handle: SimHandle,
    pub base: String,
    pub client: reqwest::Client,
}

/// Starts the default scenario.
pub async fn start() -> Sim {
    start_with(SimConfig::default()).await
}

/// Starts with a configuration.
pub async fn start_with(config: SimConfig) -> Sim {
    let handle = jira_sim::start(config).await.expect("simulator starts");
    let base = handle.url().as_str().trim_end_matches('/').to_string();
    Sim {
        handle,
        base,
        client: reqwest::Client::new(),
    }
}

impl Sim {
    /// Site URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Gateway URL of a path.
    pub fn gw(&self, path: &str) -> String {
        format!("{}/ex/jira/{}{path}", self.base, self.handle.cloud_id())
    }

    /// Sends a request to a full URL.
    pub async fn send(&self, method: &str, url: &str, who: &Who, body: Option<&Value>) -> Resp {
        let mut rb = self
            .client
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        rb = match who {
            Who::Anon => rb,
            Who::Admin => rb.basic_auth("admin@example.com", Some("classic-admin-token")),
            Who::Scoped => rb.basic_auth("admin@example.com", Some("scoped-admin-token")),
            Who::Viewer => rb.basic_auth("viewer@example.com", Some("classic-viewer-token")),
            Who::Basic(u, t) => rb.basic_auth(u, Some(t)),
            Who::Bearer(t) => rb.bearer_auth(t),
        };
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.expect("request is answered");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        Resp {
            status,
            headers,
            text,
        }
    }

    /// GET on the site host.
    pub async fn get(&self, who: &Who, path: &str) -> Resp {
        self.send("GET", &self.url(path), who, None).await
    }

    /// POST JSON on the site host.
    pub async fn post(&self, who: &Who, path: &str, body: Value) -> Resp {
        self.send("POST", &self.url(path), who, Some(&body)).await
    }

    /// DELETE on the site host.
    pub async fn delete(&self, who: &Who, path: &str) -> Resp {
        self.send("DELETE", &self.url(path), who, None).await
    }

    /// A fresh OAuth access token of the default client.
    pub async fn oauth_token(&self) -> String {
        let body = serde_json::json!({"grant_type": "client_credentials", "client_id": "sim-client-id",
            "client_secret": "sim-client-secret"});
        let r = self.post(&Who::Anon, "/oauth/token", body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["access_token"].as_str().unwrap().to_string()
    }
}
