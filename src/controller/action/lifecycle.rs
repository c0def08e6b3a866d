//! Pure status computation of a JiraAction: the status each step of the exactly-once protocol writes, the
//! retry backoff and the marker label. No I/O here.

use crate::api::{
    ActionPhase, ActionResult, AttemptRecord, JiraActionSpec, JiraActionStatus, condition,
    condition_status, set_condition,
};
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The condition type of an action.
pub const SUCCEEDED: &str = "Succeeded";
/// The condition type that turns True when the action ends either way (reason `Succeeded` or `Failed`), for
/// `kubectl wait --for=condition=Finished`; False before, with the phase as reason.
pub const FINISHED: &str = "Finished";
/// Reason while the connection is missing, not Ready, or cannot be used.
pub const CONNECTION_NOT_READY: &str = "ConnectionNotReady";
/// Reason while an attempt is in progress.
pub const RUNNING: &str = "Running";
/// Reason of an action that changed Jira.
pub const EXECUTED: &str = "Executed";
/// Reason of an action whose goal already held.
pub const ALREADY_DONE: &str = "AlreadyDone";
/// Reason of an action whose spec names no kind (only possible if schema validation was bypassed).
pub const INVALID_SPEC: &str = "InvalidSpec";
/// Reason while an attempt may have changed Jira and the operator has not yet learned whether it did.
pub const OUTCOME_UNKNOWN: &str = "OutcomeUnknown";
/// Reason of an action whose issue or user does not exist (and no earlier attempt of it may have removed it).
pub const NOT_FOUND: &str = "NotFound";
/// Reason of an action whose connection now points at another site than the one its first attempt used.
pub const SITE_CHANGED: &str = "SiteChanged";
/// Reason of an action whose capability the connection's credentials do not have (checked in its context).
pub const NOT_PERMITTED: &str = "NotPermitted";

/// The label the operator adds to the issue it creates for an action: `jco-` and the first 16 hex digits of the
/// SHA-256 of the action's namespace, name and spec. Deterministic, so a retry after a crash finds the issue
/// instead of creating another, and so does an identical action re-created under the same name (a GitOps tool
/// re-applying an action its TTL deleted).
pub fn marker_label(namespace: &str, name: &str, spec: &JiraActionSpec) -> String {
    let mut digest = Sha256::new();
    digest.update(namespace.as_bytes());
    digest.update([0]);
    digest.update(name.as_bytes());
    digest.update([0]);
    digest.update(serde_json::to_vec(spec).expect("a spec serializes"));
    format!("jco-{}", &hex::encode(digest.finalize())[..16])
}

/// The marker label of an action (see [`marker_label`]).
pub fn marker_of(action: &crate::api::JiraAction) -> String {
    use kube::ResourceExt;
    marker_label(
        &action.namespace().unwrap_or_default(),
        &action.name_any(),
        &action.spec,
    )
}

/// True when the action has finished and must never run again.
pub fn is_finished(status: Option<&JiraActionStatus>) -> bool {
    matches!(
        status.and_then(|s| s.phase),
        Some(ActionPhase::Succeeded | ActionPhase::Failed)
    )
}

/// The `Finished` condition of a status whose phase is set.
fn finished_condition(
    s: &JiraActionStatus,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    let (finished, reason) = match s.phase {
        Some(ActionPhase::Succeeded) => (condition_status::TRUE, "Succeeded"),
        Some(ActionPhase::Failed) => (condition_status::TRUE, "Failed"),
        Some(ActionPhase::Running) => (condition_status::FALSE, "Running"),
        Some(ActionPhase::Pending) | None => (condition_status::FALSE, "Pending"),
    };
    condition(FINISHED, finished, reason, message, generation, Time(now))
}

fn with_condition(
    mut s: JiraActionStatus,
    cond_status: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> JiraActionStatus {
    set_condition(
        &mut s.conditions,
        condition(
            SUCCEEDED,
            cond_status,
            reason,
            message,
            generation,
            Time(now),
        ),
    );
    let finished = finished_condition(&s, message, generation, now);
    set_condition(&mut s.conditions, finished);
    s.observed_generation = generation;
    s.message = Some(message.to_string());
    s
}

/// Waiting for the connection: `Pending`, `Succeeded=Unknown/ConnectionNotReady`. Attempts are unchanged.
pub fn waiting_for_connection(
    prev: &JiraActionStatus,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> JiraActionStatus {
    let s = JiraActionStatus {
        phase: Some(ActionPhase::Pending),
        next_attempt_time: None,
        ..prev.clone()
    };
    with_condition(
        s,
        condition_status::UNKNOWN,
        CONNECTION_NOT_READY,
        message,
        generation,
        now,
    )
}

/// The record of a new attempt, written before Jira is called: `Running`, attempts + 1, start times.
pub fn attempt_started(
    prev: &JiraActionStatus,
    generation: Option<i64>,
    now: Timestamp,
) -> JiraActionStatus {
    let attempts = prev.attempts + 1;
    let s = JiraActionStatus {
        phase: Some(ActionPhase::Running),
        attempts,
        start_time: prev.start_time.clone().or(Some(Time(now))),
        last_attempt_time: Some(Time(now)),
        next_attempt_time: None,
        ..prev.clone()
    };
    with_condition(
        s,
        condition_status::UNKNOWN,
        RUNNING,
        &format!("attempt {attempts} in progress"),
        generation,
        now,
    )
}

/// Done: `Succeeded`, `Succeeded=True` with reason `Executed` or `AlreadyDone`.
pub fn succeeded(
    prev: &JiraActionStatus,
    result: ActionResult,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> JiraActionStatus {
    let reason = if result.already_done {
        ALREADY_DONE
    } else {
        EXECUTED
    };
    let s = JiraActionStatus {
        phase: Some(ActionPhase::Succeeded),
        completion_time: Some(Time(now)),
        next_attempt_time: None,
        result: Some(result),
        attempt: None,
        ..prev.clone()
    };
    with_condition(s, condition_status::TRUE, reason, message, generation, now)
}

/// Failed for good: `Failed`, `Succeeded=False` with the cause as reason.
pub fn failed(
    prev: &JiraActionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> JiraActionStatus {
    let s = JiraActionStatus {
        phase: Some(ActionPhase::Failed),
        completion_time: Some(Time(now)),
        next_attempt_time: None,
        attempt: None,
        ..prev.clone()
    };
    with_condition(s, condition_status::FALSE, reason, message, generation, now)
}

/// A transient failure: back to `Pending`, `Succeeded=Unknown` with the error's reason, next attempt due at
/// `now + delay`.
pub fn retrying(
    prev: &JiraActionStatus,
    reason: &str,
    error: &str,
    delay: Duration,
    generation: Option<i64>,
    now: Timestamp,
) -> JiraActionStatus {
    let next = now + delay;
    let message = format!(
        "attempt {} failed: {error}; retrying at {}",
        prev.attempts,
        next.round(k8s_openapi::jiff::Unit::Second).unwrap_or(next)
    );
    let s = JiraActionStatus {
        phase: Some(ActionPhase::Pending),
        next_attempt_time: Some(Time(next)),
        attempt: None,
        ..prev.clone()
    };
    with_condition(
        s,
        condition_status::UNKNOWN,
        reason,
        &message,
        generation,
        now,
    )
}

/// An attempt whose outcome is not known (its answer was lost, or the operator stopped during it): still
/// `Running`, `Succeeded=Unknown` with reason `OutcomeUnknown` and `message` saying what the operator waits
/// for. The time the outcome became unknown is kept from the first time it was recorded; the action may have
/// acted from now on.
pub fn outcome_unknown(
    prev: &JiraActionStatus,
    since: Timestamp,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> JiraActionStatus {
    let mut attempt = prev.attempt.clone().unwrap_or_else(|| AttemptRecord {
        holder: String::new(),
        lease_term: None,
        start_time: Time(since),
        outcome_unknown_since: None,
    });
    if attempt.outcome_unknown_since.is_none() {
        attempt.outcome_unknown_since = Some(Time(since));
    }
    let s = JiraActionStatus {
        phase: Some(ActionPhase::Running),
        next_attempt_time: None,
        attempt: Some(attempt),
        may_have_acted: true,
        ..prev.clone()
    };
    with_condition(
        s,
        condition_status::UNKNOWN,
        OUTCOME_UNKNOWN,
        message,
        generation,
        now,
    )
}

/// True when two statuses differ in anything but condition timestamps (to skip writes that change nothing).
pub fn differs(a: &JiraActionStatus, b: &JiraActionStatus) -> bool {
    let strip = |s: &JiraActionStatus| {
        let mut s = s.clone();
        for c in &mut s.conditions {
            c.last_transition_time = Time(Timestamp::UNIX_EPOCH);
        }
        s
    };
    strip(a) != strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::find_condition;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn marker_follows_namespace_name_and_spec_not_the_uid() {
        let spec = |summary: &str| -> JiraActionSpec {
            serde_json::from_value(serde_json::json!({
                "connectionRef": {"name": "acme"},
                "createIssue": {"project": "OPS", "issueType": "Task", "summary": summary},
            }))
            .unwrap()
        };
        let a = marker_label("it", "reclaim", &spec("s"));
        assert_eq!(a, marker_label("it", "reclaim", &spec("s")));
        assert_ne!(a, marker_label("it", "reclaim", &spec("t")));
        assert_ne!(a, marker_label("it", "reclaim-2", &spec("s")));
        assert_ne!(a, marker_label("ops", "reclaim", &spec("s")));
        assert_eq!(a.len(), 20);
        assert!(a.starts_with("jco-"));
        assert!(!a.contains(' '));
    }

    #[test]
    fn an_unknown_outcome_keeps_running_and_remembers_when() {
        let running = attempt_started(&JiraActionStatus::default(), Some(1), at(1));
        let unknown = outcome_unknown(&running, at(5), "waiting", Some(1), at(5));
        assert_eq!(unknown.phase, Some(ActionPhase::Running));
        assert!(unknown.may_have_acted);
        let since = |s: &JiraActionStatus| {
            s.attempt
                .as_ref()
                .and_then(|a| a.outcome_unknown_since.clone())
        };
        assert_eq!(since(&unknown), Some(Time(at(5))));
        let later = outcome_unknown(&unknown, at(9), "still waiting", Some(1), at(9));
        assert_eq!(since(&later), Some(Time(at(5))), "the first time is kept");
        let cond = find_condition(&later.conditions, SUCCEEDED).unwrap();
        assert_eq!(
            (cond.status.as_str(), cond.reason.as_str()),
            ("Unknown", OUTCOME_UNKNOWN)
        );
        let done = succeeded(
            &later,
            ActionResult::default(),
            "Created X",
            Some(1),
            at(10),
        );
        assert_eq!(done.attempt, None);
        assert!(done.may_have_acted);
    }

    #[test]
    fn attempts_count_and_keep_the_first_start_time() {
        let s0 = JiraActionStatus::default();
        let s1 = attempt_started(&s0, Some(1), at(100));
        assert_eq!(s1.attempts, 1);
        assert_eq!(s1.phase, Some(ActionPhase::Running));
        assert_eq!(s1.start_time, Some(Time(at(100))));
        let cond = find_condition(&s1.conditions, SUCCEEDED).unwrap();
        assert_eq!(
            (cond.status.as_str(), cond.reason.as_str()),
            ("Unknown", RUNNING)
        );

        let r = retrying(
            &s1,
            "JiraUnavailable",
            "HTTP 503",
            Duration::from_secs(2),
            Some(1),
            at(101),
        );
        assert_eq!(r.phase, Some(ActionPhase::Pending));
        assert_eq!(r.next_attempt_time, Some(Time(at(103))));
        assert!(
            r.message
                .as_deref()
                .unwrap()
                .starts_with("attempt 1 failed: HTTP 503")
        );

        let s2 = attempt_started(&r, Some(1), at(103));
        assert_eq!(s2.attempts, 2);
        assert_eq!(s2.start_time, Some(Time(at(100))));
        assert_eq!(s2.last_attempt_time, Some(Time(at(103))));
        assert_eq!(s2.next_attempt_time, None);
    }

    #[test]
    fn finished_states() {
        let running = attempt_started(&JiraActionStatus::default(), Some(1), at(1));
        assert!(!is_finished(Some(&running)));
        assert!(!is_finished(None));
        let result = ActionResult {
            already_done: true,
            ..Default::default()
        };
        let ok = succeeded(
            &running,
            result,
            "x was already a member of g",
            Some(1),
            at(2),
        );
        assert!(is_finished(Some(&ok)));
        let cond = find_condition(&ok.conditions, SUCCEEDED).unwrap();
        assert_eq!(
            (cond.status.as_str(), cond.reason.as_str()),
            ("True", ALREADY_DONE)
        );
        assert_eq!(ok.completion_time, Some(Time(at(2))));

        let bad = failed(
            &running,
            "GroupNotFound",
            "group g not found",
            Some(1),
            at(3),
        );
        assert!(is_finished(Some(&bad)));
        assert_eq!(bad.phase, Some(ActionPhase::Failed));
        let cond = find_condition(&bad.conditions, SUCCEEDED).unwrap();
        assert_eq!(
            (cond.status.as_str(), cond.reason.as_str()),
            ("False", "GroupNotFound")
        );
    }

    fn finished(s: &JiraActionStatus) -> (&str, &str) {
        let c = find_condition(&s.conditions, FINISHED).expect("a Finished condition");
        (c.status.as_str(), c.reason.as_str())
    }

    #[test]
    fn finished_turns_true_when_the_action_ends_either_way() {
        let waiting =
            waiting_for_connection(&JiraActionStatus::default(), "not ready", Some(1), at(1));
        assert_eq!(finished(&waiting), ("False", "Pending"));
        let running = attempt_started(&waiting, Some(1), at(2));
        assert_eq!(finished(&running), ("False", "Running"));
        let retry = retrying(
            &running,
            "JiraUnavailable",
            "HTTP 503",
            Duration::from_secs(1),
            Some(1),
            at(3),
        );
        assert_eq!(finished(&retry), ("False", "Pending"));

        let ok = succeeded(
            &running,
            ActionResult::default(),
            "Created OPS-1",
            Some(1),
            at(4),
        );
        assert_eq!(finished(&ok), ("True", "Succeeded"));
        let c = find_condition(&ok.conditions, FINISHED).unwrap();
        assert_eq!(c.message, "Created OPS-1");
        assert_eq!(c.observed_generation, Some(1));
        assert_eq!(c.last_transition_time, Time(at(4)));

        let bad = failed(
            &running,
            "ProjectNotFound",
            "no project OPS",
            Some(1),
            at(5),
        );
        assert_eq!(finished(&bad), ("True", "Failed"));
        assert_eq!(
            find_condition(&bad.conditions, SUCCEEDED).unwrap().status,
            "False",
            "Succeeded stays the outcome"
        );
    }

    #[test]
    fn waiting_twice_changes_nothing() {
        let w1 = waiting_for_connection(&JiraActionStatus::default(), "not ready", Some(1), at(1));
        let w2 = waiting_for_connection(&w1, "not ready", Some(1), at(50));
        assert!(!differs(&w1, &w2));
        let w3 = waiting_for_connection(&w1, "missing", Some(1), at(50));
        assert!(differs(&w1, &w3));
        assert_eq!(w1.attempts, 0);
    }
}
