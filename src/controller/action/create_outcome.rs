//! Whether a createIssue whose outcome is unknown created its issue, by reads that do not lag: the issue search
//! may miss an issue for minutes after it was created, so its silence proves nothing until a window has passed.
//!
//! 1. The marker search: an issue carrying the action's marker label is the result.
//! 2. The key walk: keys of a project are sequential and `GET issue/{key}` is consistent. From a key that existed
//!    before the attempt started (the search gives a lower bound), read forward: the issue carrying the marker is
//!    the result; an existing issue created after the attempt ended, reached without finding the marker, proves
//!    the create did not happen (an issue it made would have a lower key). Deleted or hidden issues answer 404
//!    and are stepped over; a run of 404s ends the walk (the end of a quiet project).
//! 3. The search window: once `window` has passed since the attempt ended and the marker search is still
//!    empty, the issue is taken as absent.
//!
//! Otherwise the outcome stays unknown and the action waits. A walk that fails for good (the project deleted or
//! hidden from the account since) leaves the search window to decide, so the action cannot wait forever.

use crate::error::Classify;
use crate::jira::{IssueRef, JiraClient, JiraError};
use k8s_openapi::jiff::Timestamp;
use std::time::Duration;

/// Keys read per check, at most.
const MAX_WALK: u64 = 200;
/// Consecutive 404s that end a walk.
const MAX_MISSES: u32 = 10;

/// What the reads showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The issue exists: the attempt created it.
    Found(IssueRef),
    /// The attempt created nothing; how that is known.
    Absent(String),
    /// Not known yet; what the action waits for.
    Unknown(String),
}

/// The number of a key `PROJ-123`.
fn key_number(key: &str) -> Option<u64> {
    key.rsplit_once('-').and_then(|(_, n)| n.parse().ok())
}

/// What the attempt is known by.
pub struct Attempt<'a> {
    /// The action's marker label.
    pub marker: &'a str,
    /// The project as the spec names it (key, id or name).
    pub project: &'a str,
    /// When the attempt started.
    pub started: Timestamp,
    /// When its outcome became unknown (the attempt ended).
    pub ended: Timestamp,
}

/// Checks whether the attempt created its issue. `window` is how long the search may lag (the settle time);
/// a twentieth of it is allowed for clock skew between the operator and Jira.
pub async fn locate(
    client: &JiraClient,
    attempt: &Attempt<'_>,
    window: Duration,
    now: Timestamp,
) -> Result<Verdict, JiraError> {
    let mut found = client.find_issues_by_label(attempt.marker).await?;
    found.sort_by_key(|i| (i.id.len(), i.id.clone()));
    if let Some(issue) = found.into_iter().next() {
        return Ok(Verdict::Found(issue));
    }
    let walk_failed = match walk(client, attempt, window, now).await {
        Ok(Some(verdict)) => return Ok(verdict),
        Ok(None) => None,
        Err(e) if e.is_transient() => return Err(e),
        // The project is gone or hidden from the account: no key walk can decide, the search window still does.
        Err(e) => Some(e),
    };
    let deadline = attempt.ended.checked_add(window).unwrap_or(attempt.ended);
    if now >= deadline {
        return Ok(Verdict::Absent(format!(
            "the marker search stayed empty for {}s after the attempt",
            window.as_secs()
        )));
    }
    let walk = walk_failed.map_or_else(
        || format!("by a newer issue of {} or", attempt.project),
        |e| format!("(the walk of the project's keys failed: {e})"),
    );
    Ok(Verdict::Unknown(format!(
        "Jira may have created the issue (the answer to the create was lost); waiting until the issue is found, or \
         proven absent {walk} by the marker search {} staying empty until {}",
        attempt.marker,
        deadline
            .round(k8s_openapi::jiff::Unit::Second)
            .unwrap_or(deadline)
    )))
}

/// The key walk (step 2): `Some` when it decides.
async fn walk(
    client: &JiraClient,
    attempt: &Attempt<'_>,
    window: Duration,
    now: Timestamp,
) -> Result<Option<Verdict>, JiraError> {
    let project = client.project_key(attempt.project).await?;
    let minutes = (now.duration_since(attempt.started).as_secs() / 60) + 1;
    let before = client.key_created_before(&project, minutes).await?;
    let first = before.as_deref().and_then(key_number).unwrap_or(0) + 1;
    let skew = window / 20;
    let newer_than = attempt
        .ended
        .checked_add(skew)
        .unwrap_or(attempt.ended)
        .as_millisecond();
    let mut misses = 0;
    for n in first..first + MAX_WALK {
        let key = format!("{project}-{n}");
        match client.probe_issue(&key).await? {
            Some(p) if p.labels.iter().any(|l| l == attempt.marker) => {
                return Ok(Some(Verdict::Found(p.issue)));
            }
            Some(p) if p.created.is_some_and(|c| c.timestamp_millis() > newer_than) => {
                return Ok(Some(Verdict::Absent(format!(
                    "{key}, created after the attempt, is reached without finding its marker"
                ))));
            }
            Some(_) => misses = 0,
            None => {
                misses += 1;
                if misses >= MAX_MISSES {
                    break;
                }
            }
        }
    }
    Ok(None)
}

/// When to check again: a tenth of the window, at least one second, never past the deadline.
pub fn recheck(window: Duration, ended: Timestamp, now: Timestamp) -> Duration {
    let left = Duration::try_from(
        ended
            .checked_add(window)
            .unwrap_or(ended)
            .duration_since(now),
    )
    .unwrap_or_default();
    (window / 10).min(left).max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_numbers_and_recheck_times() {
        assert_eq!(key_number("OPS-124"), Some(124));
        assert_eq!(key_number("MY-PROJ-7"), Some(7));
        assert_eq!(key_number("OPS"), None);
        let at = |s| Timestamp::from_second(s).unwrap();
        let w = Duration::from_secs(600);
        assert_eq!(recheck(w, at(0), at(0)), Duration::from_secs(60));
        assert_eq!(recheck(w, at(0), at(590)), Duration::from_secs(10));
        assert_eq!(recheck(w, at(0), at(700)), Duration::from_secs(1));
    }
}
