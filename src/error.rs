//! One classification of every error: the reason users see (condition, Event, metric label), whether retrying
//! without a change may help, how long Jira asked to wait, and the message for humans (the error's `Display`,
//! never a credential). Each error type maps into it once, by implementing [`Classify`]; a failure held in that
//! form, whatever its source, is a [`Failure`].

use std::fmt;
use std::time::Duration;

/// How an error shows to users and how the operator treats it.
pub trait Classify: fmt::Display {
    /// CamelCase, machine-stable reason.
    fn reason(&self) -> &'static str;

    /// True when retrying without a change may succeed (network, 5xx, 429, apiserver); false when it needs a
    /// change by the user (credentials, permissions, spec).
    fn is_transient(&self) -> bool;

    /// How long Jira asked to wait before the next attempt (rate limiting).
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// A classified failure, as a condition, an Event and the backoff use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// CamelCase, machine-stable reason.
    pub reason: &'static str,
    /// What happened and what to do, for humans. Never contains a credential.
    pub message: String,
    /// True when retrying without a change may succeed (network, 5xx, 429).
    pub transient: bool,
    /// How long Jira asked to wait before the next attempt (rate limiting).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that needs a change by the user.
    pub fn permanent(reason: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            reason,
            message: message.into(),
            transient: false,
            retry_after: None,
        }
    }

    /// A failure that may go away on its own.
    pub fn transient(reason: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            transient: true,
            ..Failure::permanent(reason, message)
        }
    }

    /// The failure an error stands for.
    pub fn of(error: &(impl Classify + ?Sized)) -> Failure {
        Failure {
            reason: error.reason(),
            message: error.to_string(),
            transient: error.is_transient(),
            retry_after: error.retry_after(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Classify for Failure {
    fn reason(&self) -> &'static str {
        self.reason
    }

    fn is_transient(&self) -> bool {
        self.transient
    }

    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::JiraError;

    #[test]
    fn rate_limits_carry_the_wait() {
        let f = Failure::of(&JiraError::RateLimited {
            reason: "jira-quota-tenant-based".into(),
            retry_after: Duration::from_secs(900),
        });
        assert_eq!(
            (f.reason, f.transient, f.retry_after),
            ("RateLimited", true, Some(Duration::from_secs(900)))
        );
        assert_eq!(Failure::of(&f), f, "a failure classifies as itself");
    }
}
