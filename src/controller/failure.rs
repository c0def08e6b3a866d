//! Why a step of a reconcile failed, as a condition shows it.

use crate::jira::JiraError;
use std::time::Duration;

/// Why something failed, as a condition shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// CamelCase, machine-stable reason.
    pub reason: String,
    /// What happened and what to do, for humans. Never contains a credential.
    pub message: String,
    /// True when retrying without a change may succeed (network, 5xx, 429).
    pub transient: bool,
    /// How long Jira asked to wait before the next attempt (rate limiting).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that needs a change by the user.
    pub fn permanent(reason: &str, message: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            message: message.into(),
            transient: false,
            retry_after: None,
        }
    }

    /// A failure that may go away on its own.
    pub fn transient(reason: &str, message: impl Into<String>) -> Failure {
        Failure {
            transient: true,
            ..Failure::permanent(reason, message)
        }
    }

    /// The failure of a Jira call (through the sync or the connection).
    pub fn jira(error: &JiraError) -> Failure {
        Failure {
            reason: error.reason().into(),
            message: error.to_string(),
            transient: error.is_transient(),
            retry_after: match error {
                JiraError::RateLimited { retry_after, .. } => Some(*retry_after),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_carry_the_wait() {
        let f = Failure::jira(&JiraError::RateLimited {
            reason: "jira-quota-tenant-based".into(),
            retry_after: Duration::from_secs(900),
        });
        assert_eq!(
            (f.reason.as_str(), f.transient, f.retry_after),
            ("RateLimited", true, Some(Duration::from_secs(900)))
        );
    }
}
