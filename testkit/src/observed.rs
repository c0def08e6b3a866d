//! Reading what the operator wrote: conditions, phases and figures of the custom resources, counters of the
//! metrics text, and the simulator's view of an action's effect.

use jira_cloud_operator::{
    api::{ActionPhase, JiraAction, JiraConnection, find_condition},
    controller::action::lifecycle::marker_of,
};
use jira_sim::SimHandle;
use serde_json::{Value, json};

/// `(status, reason)` of a connection's condition, if present.
pub fn condition(c: &JiraConnection, type_: &str) -> Option<(String, String)> {
    let st = c.status.as_ref()?;
    find_condition(&st.conditions, type_).map(|c| (c.status.clone(), c.reason.clone()))
}

/// The message of a connection's condition, if present.
pub fn condition_message(c: &JiraConnection, type_: &str) -> Option<String> {
    let st = c.status.as_ref()?;
    find_condition(&st.conditions, type_).map(|c| c.message.clone())
}

/// True when the condition has this status and reason and describes the current generation.
pub fn has(c: &JiraConnection, type_: &str, status: &str, reason: &str) -> bool {
    let Some(st) = c.status.as_ref() else {
        return false;
    };
    find_condition(&st.conditions, type_).is_some_and(|cond| {
        cond.status == status
            && cond.reason == reason
            && cond.observed_generation == c.metadata.generation
    })
}

/// True when the connection's Ready condition is True.
pub fn connection_ready(c: &JiraConnection) -> bool {
    c.status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, "Ready"))
        .is_some_and(|c| c.status == "True")
}

/// The figures of a connection's status: users, roles, licenses and usage.
pub fn figures(c: &JiraConnection) -> Value {
    let st = serde_json::to_value(c.status.as_ref().expect("a status")).expect("serializes");
    json!({
        "users": st["users"],
        "roles": st["roles"],
        "licenses": st["licenses"],
        "usage": st["usage"],
    })
}

/// The action's phase.
pub fn phase(action: &JiraAction) -> Option<ActionPhase> {
    action.status.as_ref().and_then(|s| s.phase)
}

/// True when the action finished (Succeeded or Failed).
pub fn finished(action: &JiraAction) -> bool {
    matches!(
        phase(action),
        Some(ActionPhase::Succeeded | ActionPhase::Failed)
    )
}

/// True when the action succeeded.
pub fn action_succeeded(a: &JiraAction) -> bool {
    phase(a) == Some(ActionPhase::Succeeded)
}

/// The action's `Succeeded` condition as (status, reason).
pub fn succeeded(action: &JiraAction) -> (String, String) {
    action
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, "Succeeded"))
        .map(|c| (c.status.clone(), c.reason.clone()))
        .unwrap_or_default()
}

/// The action's status message.
pub fn message(action: &JiraAction) -> String {
    action
        .status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_default()
}

/// The action's attempt count.
pub fn attempts(action: &JiraAction) -> u32 {
    action.status.as_ref().map_or(0, |s| s.attempts)
}

/// Keys of the simulator's issues that carry the marker label of `action`.
pub fn marked_issues(sim: &SimHandle, action: &JiraAction) -> Vec<String> {
    let marker = marker_of(action);
    sim.with_state(|st| st.issues_with_label(&marker))
}

/// Group names of a simulator user, by accountId.
pub fn groups_of(sim: &SimHandle, account_id: &str) -> Vec<String> {
    sim.with_state(|st| {
        let u = st.user_by_account(account_id).expect("a known user");
        st.users[u as usize]
            .groups
            .iter()
            .map(|g| st.groups[*g as usize].name.clone())
            .collect()
    })
}

/// The value of one series (`name{labels}`) in OpenMetrics text; 0 when absent.
pub fn counter(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// The value of a counter or gauge sample in Prometheus text (`name{labels}`), summed over the samples whose
/// name and labels start with `prefix`.
pub fn sample_sum(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
