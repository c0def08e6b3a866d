//! Typed errors of the Jira client, classified transient vs permanent.

use std::fmt;
use std::time::Duration;

use crate::error::Classify;

/// Longest piece of text from a response (or a request built from one) that an error message quotes.
pub(crate) const QUOTE_MAX: usize = 300;

/// `text`, cut to at most `max` bytes (on a character boundary) with `…` when it was longer: a garbled or hostile
/// answer must not turn into a megabyte-long condition message, Event or log line.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The error body Jira platform endpoints return (`ErrorCollection`), the gateway's `{code, message}`
/// shape, and the Admin API's `{errors: [{code, title, detail}]}` shape, flattened into readable text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Messages in the order Jira gave them (`errorMessages`, then `errors` as `field: message`).
    pub messages: Vec<String>,
}

impl ErrorDetail {
    /// Parses an error body; unknown or empty bodies give no messages (a short plain-text body is kept).
    pub fn parse(body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct AdminError {
            code: Option<String>,
            title: Option<String>,
            detail: Option<String>,
        }
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Errors {
            Map(std::collections::BTreeMap<String, serde_json::Value>),
            List(Vec<AdminError>),
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            #[serde(default)]
            error_messages: Vec<String>,
            errors: Option<Errors>,
            message: Option<String>,
            error_description: Option<String>,
        }
        let mut messages = Vec::new();
        if let Ok(b) = serde_json::from_slice::<Body>(body) {
            messages.extend(b.error_messages.into_iter().filter(|m| !m.is_empty()));
            match b.errors {
                Some(Errors::Map(map)) => {
                    for (field, v) in map {
                        let text = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        messages.push(format!("{field}: {text}"));
                    }
                }
                Some(Errors::List(list)) => {
                    for e in list {
                        let text = [e.code, e.title, e.detail]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ");
                        if !text.is_empty() {
                            messages.push(text);
                        }
                    }
                }
                None => {}
            }
            messages.extend(b.message.into_iter().chain(b.error_description));
        } else if let Ok(text) = std::str::from_utf8(body) {
            let text = text.trim();
            if !text.is_empty() && text.len() <= QUOTE_MAX && !text.starts_with('<') {
                messages.push(text.to_owned());
            }
        }
        messages.truncate(10);
        for m in &mut messages {
            *m = clip(m, QUOTE_MAX);
        }
        ErrorDetail { messages }
    }

    /// True when any message contains `needle` (case-insensitive).
    pub fn mentions(&self, needle: &str) -> bool {
        let needle = needle.to_ascii_lowercase();
        self.messages
            .iter()
            .any(|m| m.to_ascii_lowercase().contains(&needle))
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.messages.is_empty() {
            f.write_str("no details given")
        } else {
            f.write_str(&self.messages.join("; "))
        }
    }
}

/// Everything that can go wrong talking to Jira Cloud. `Display` is a human message saying what to do;
/// it never contains credentials.
#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// The site answered but is Jira Server or Data Center.
    #[error(
        "{site} runs Jira {deployment} (version {version}); only Jira Cloud is supported: point siteUrl at an *.atlassian.net site"
    )]
    UnsupportedDeployment {
        /// Site URL as configured.
        site: String,
        /// `deploymentType` reported by the site.
        deployment: String,
        /// Version reported by the site.
        version: String,
    },
    /// The URL does not look like a Jira site at all.
    #[error("{site} does not look like a Jira Cloud site ({detail}); check siteUrl")]
    NotJira {
        /// Site URL as configured.
        site: String,
        /// What was observed.
        detail: String,
    },
    /// The credentials were rejected (401). Never retried in a loop: repeated failures lock accounts.
    #[error(
        "Jira rejected the credentials ({what}): {detail}; check the email and API token (or client id/secret) in the Secret"
    )]
    InvalidCredentials {
        /// Which credential failed.
        what: &'static str,
        /// Jira's message.
        detail: ErrorDetail,
    },
    /// Authenticated but a permission is missing (403), with the permission named.
    #[error("the account lacks the {permission} permission needed for {operation}: {detail}")]
    InsufficientPermissions {
        /// The permission or scope that is needed.
        permission: &'static str,
        /// What the operator tried to do.
        operation: String,
        /// Jira's message.
        detail: ErrorDetail,
    },
    /// The configured organization is not reachable with the Admin API key.
    #[error(
        "the Admin API key cannot see organization {org_id}; check the organization id and that the key belongs to it"
    )]
    OrganizationNotFound {
        /// Configured organization id.
        org_id: String,
    },
    /// The service account's configured cloudId does not belong to the site.
    #[error(
        "cloudId {configured} does not belong to {site} (its cloudId is {actual}); fix spec.auth.serviceAccount.cloudId"
    )]
    CloudIdMismatch {
        /// Site URL.
        site: String,
        /// Configured cloudId.
        configured: String,
        /// cloudId the site reports.
        actual: String,
    },
    /// Throttled for longer than the client is willing to wait.
    #[error("Jira is rate limiting requests ({reason}); retry after {retry_after:?}")]
    RateLimited {
        /// `RateLimit-Reason` header, or "unknown".
        reason: String,
        /// How long Jira asked to wait.
        retry_after: Duration,
    },
    /// Network failure, timeout or 5xx after retries.
    #[error("Jira is unavailable ({operation}): {detail}")]
    JiraUnavailable {
        /// What the operator tried to do.
        operation: String,
        /// What failed.
        detail: String,
    },
    /// The project of an issue to create does not exist or is hidden.
    #[error("project {0} not found (or not visible to the account)")]
    ProjectNotFound(String),
    /// The issue type does not exist in the project.
    #[error("issue type {issue_type} not found in project {project}; available: {available}")]
    IssueTypeNotFound {
        /// Requested project.
        project: String,
        /// Requested issue type.
        issue_type: String,
        /// Names of the types that exist.
        available: String,
    },
    /// The issue or account an action names does not exist (or is hidden from the account).
    #[error(
        "{0} not found: check the spelling; Jira keeps no trace of a deletion, so if an earlier JiraAction removed \
         it, there is nothing left to do"
    )]
    NotFound(String),
    /// No user with that account id or email.
    #[error("user {0} not found (or email hidden from the account)")]
    UserNotFound(String),
    /// No group with that name.
    #[error("group {0} not found")]
    GroupNotFound(String),
    /// Jira refuses to delete a user who is referenced (reporter of issues, project lead, ...).
    #[error("Jira cannot delete the user: {0}")]
    UserIsReporter(ErrorDetail),
    /// 400/404/409/422 on a request: Jira's message says why.
    #[error("Jira rejected the request ({operation}, HTTP {status}): {detail}")]
    InvalidRequest {
        /// What the operator tried to do.
        operation: String,
        /// HTTP status.
        status: u16,
        /// Jira's message.
        detail: ErrorDetail,
    },
    /// The response could not be understood.
    #[error("unexpected response from Jira ({operation}): {detail}")]
    UnexpectedResponse {
        /// What the operator tried to do.
        operation: String,
        /// What was wrong.
        detail: String,
    },
    /// The client configuration is unusable (bad URL, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The site's host is outside the operator's allow-list: nothing is sent to it.
    #[error(
        "the siteUrl host {host:?} is not allowed by the operator (allowed: {allowed}); nothing was sent to it. If it \
         is your Jira Cloud site (a custom domain), ask the cluster admin to add it to --allowed-site-hosts (Helm \
         value allowedSiteHosts)"
    )]
    SiteNotAllowed {
        /// The host of `siteUrl`.
        host: String,
        /// The allow-list in force.
        allowed: String,
    },
    /// An answer redirected elsewhere; redirects are never followed (credentials would go along).
    #[error(
        "{operation} answered HTTP {status} redirecting to {location}; the operator never follows redirects: point \
         siteUrl at the Jira Cloud site itself (https://<site>.atlassian.net)"
    )]
    Redirected {
        /// What the operator tried to do.
        operation: String,
        /// The 3xx status.
        status: u16,
        /// The scheme and host of the `Location` header (never its path or query).
        location: String,
    },
    /// A change was sent and Jira may have made it, but its answer never arrived (timeout, dropped connection,
    /// any 5xx: a gateway may answer 503 after the backend acted): never resent blindly.
    #[error("Jira may have made the change ({operation}), but its answer was lost: {detail}")]
    OutcomeUnknown {
        /// What the operator tried to do.
        operation: String,
        /// What failed.
        detail: String,
    },
    /// An answer was larger than the operator accepts (`--jira-max-response-bytes`).
    #[error("the answer to {operation} is larger than {limit} bytes; it was not read")]
    ResponseTooLarge {
        /// What the operator tried to do.
        operation: String,
        /// The limit in bytes.
        limit: u64,
    },
}

impl Classify for JiraError {
    fn reason(&self) -> &'static str {
        match self {
            JiraError::UnsupportedDeployment { .. } => "UnsupportedDeployment",
            JiraError::NotJira { .. } => "NotJiraCloud",
            JiraError::InvalidCredentials { .. } => "InvalidCredentials",
            JiraError::InsufficientPermissions { .. } => "InsufficientPermissions",
            JiraError::OrganizationNotFound { .. } => "OrganizationNotFound",
            JiraError::CloudIdMismatch { .. } => "CloudIdMismatch",
            JiraError::RateLimited { .. } => "RateLimited",
            JiraError::JiraUnavailable { .. } => "JiraUnavailable",
            JiraError::ProjectNotFound(_) => "ProjectNotFound",
            JiraError::IssueTypeNotFound { .. } => "IssueTypeNotFound",
            JiraError::UserNotFound(_) => "UserNotFound",
            JiraError::NotFound(_) => "NotFound",
            JiraError::GroupNotFound(_) => "GroupNotFound",
            JiraError::UserIsReporter(_) => "UserIsReporter",
            JiraError::InvalidRequest { .. } => "InvalidRequest",
            JiraError::UnexpectedResponse { .. } => "UnexpectedResponse",
            JiraError::Config(_) => "InvalidConfiguration",
            JiraError::SiteNotAllowed { .. } => "SiteNotAllowed",
            JiraError::Redirected { .. } => "Redirected",
            JiraError::ResponseTooLarge { .. } => "ResponseTooLarge",
            JiraError::OutcomeUnknown { .. } => "OutcomeUnknown",
        }
    }

    /// Retrying later may succeed after network trouble, a 5xx, a 429, a garbled response or a lost answer.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            JiraError::RateLimited { .. }
                | JiraError::JiraUnavailable { .. }
                | JiraError::UnexpectedResponse { .. }
                | JiraError::OutcomeUnknown { .. }
        )
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            JiraError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_collection() {
        let d = ErrorDetail::parse(
            br#"{"errorMessages":["Field 'priority' is required"],"errors":{"summary":"You must specify a summary of the issue."},"status":400}"#,
        );
        assert_eq!(
            d.messages,
            vec![
                "Field 'priority' is required".to_owned(),
                "summary: You must specify a summary of the issue.".to_owned()
            ]
        );
        assert!(d.mentions("PRIORITY"));
    }

    #[test]
    fn parses_gateway_admin_and_plain_bodies() {
        let gw =
            ErrorDetail::parse(br#"{"code":401,"message":"Unauthorized; scope does not match"}"#);
        assert_eq!(
            gw.messages,
            vec!["Unauthorized; scope does not match".to_owned()]
        );
        let admin = ErrorDetail::parse(
            br#"{"errors":[{"id":"x","status":"404","code":"ADMIN-404-8","title":"User not found"}]}"#,
        );
        assert_eq!(
            admin.messages,
            vec!["ADMIN-404-8 User not found".to_owned()]
        );
        let plain = ErrorDetail::parse(b"Client must be authenticated to access this resource.");
        assert_eq!(
            plain.to_string(),
            "Client must be authenticated to access this resource."
        );
        assert_eq!(
            ErrorDetail::parse(b"<html>oops</html>").to_string(),
            "no details given"
        );
    }

    #[test]
    fn classification() {
        let unavailable = JiraError::JiraUnavailable {
            operation: "x".into(),
            detail: "503".into(),
        };
        assert!(unavailable.is_transient());
        assert_eq!(unavailable.reason(), "JiraUnavailable");
        let creds = JiraError::InvalidCredentials {
            what: "API token",
            detail: ErrorDetail::default(),
        };
        assert!(!creds.is_transient());
        assert_eq!(creds.reason(), "InvalidCredentials");
        assert!(!JiraError::UserIsReporter(ErrorDetail::default()).is_transient());
    }
}
