//! The real hosts the simulator stands in for on its one port, told apart by the request path.

/// Which real host a request addresses (the simulator serves all of them on one port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// `{site}.atlassian.net`.
    Site,
    /// `api.atlassian.com/ex/jira/{cloudId}`.
    Gateway,
    /// `api.atlassian.com` (Admin API, accessible-resources).
    Api,
    /// `auth.atlassian.com`.
    Auth,
}

impl HostKind {
    /// Classifies a request path.
    pub fn of_path(path: &str) -> HostKind {
        if path.starts_with("/ex/jira/") {
            HostKind::Gateway
        } else if path.starts_with("/admin/") || path.starts_with("/oauth/token/") {
            HostKind::Api
        } else if path == "/oauth/token" {
            HostKind::Auth
        } else {
            HostKind::Site
        }
    }
}
