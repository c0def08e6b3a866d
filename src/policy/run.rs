//! When a policy executes a plan, and what one run changes.

use crate::api::{Plan, PolicyMode, Reclaim, Run};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::{collections::BTreeMap, time::Duration};

/// What to do with the plans of a policy now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Nothing to execute.
    Idle,
    /// The last run's actions are still running.
    RunInProgress,
    /// `spec.approvedPlan` names no plan the policy knows (neither the current nor the previous one).
    UnknownPlan(String),
    /// A plan may execute, but not before `minInterval` after the last run.
    Wait(Duration),
    /// Execute this plan.
    Execute(&'a Plan),
}

/// What the policy's mode, approval and last run allow, given the current plan and the one it replaced.
pub fn decide<'a>(
    mode: PolicyMode,
    approved: Option<&str>,
    last_run: Option<&Run>,
    current: Option<&'a Plan>,
    previous: Option<&'a Plan>,
    now: DateTime<Utc>,
    min_interval: Duration,
) -> Decision<'a> {
    let plan = match mode {
        PolicyMode::DryRun => return Decision::Idle,
        PolicyMode::Approval => {
            let Some(id) = approved.filter(|id| !id.is_empty()) else {
                return Decision::Idle;
            };
            if last_run.is_some_and(|r| r.plan_id == id) {
                return Decision::Idle;
            }
            match [current, previous]
                .into_iter()
                .flatten()
                .find(|p| p.id == id)
            {
                Some(plan) => plan,
                None => return Decision::UnknownPlan(id.to_string()),
            }
        }
        PolicyMode::Automatic => match current {
            Some(plan) if last_run.is_none_or(|r| r.plan_id != plan.id) => plan,
            _ => return Decision::Idle,
        },
    };
    if let Some(run) = last_run {
        if !run.finished {
            return Decision::RunInProgress;
        }
        let since = DateTime::from_timestamp(run.time.0.as_second(), 0).unwrap_or(now);
        let next =
            since + chrono::Duration::from_std(min_interval).unwrap_or(chrono::Duration::MAX);
        if now < next {
            return Decision::Wait((next - now).to_std().unwrap_or_default());
        }
    }
    Decision::Execute(plan)
}

/// The reclaims of `plan` that still hold now (`reclaimable`: every candidate of the latest evaluation),
/// for at most `max_users` users, and how many reclaims were skipped.
pub fn still_due(
    plan: &Plan,
    reclaimable: &BTreeMap<(String, String), Vec<String>>,
    max_users: usize,
) -> (Vec<Reclaim>, u32) {
    let mut due: Vec<Reclaim> = Vec::new();
    let mut skipped = 0;
    let mut users: Vec<&str> = Vec::new();
    for r in &plan.reclaims {
        let key = (r.account_id.clone(), r.product.clone());
        let new_user = !users.contains(&r.account_id.as_str());
        if !reclaimable.contains_key(&key) || (new_user && users.len() >= max_users) {
            skipped += 1;
            continue;
        }
        if new_user {
            users.push(&r.account_id);
        }
        due.push(r.clone());
    }
    (due, skipped)
}

/// Name of the JiraAction that removes `account_id` from `group` for plan `plan_id` of policy `policy`:
/// deterministic, so that executing the same plan again creates nothing new. At most 253 characters.
pub fn action_name(policy: &str, plan_id: &str, account_id: &str, group: &str) -> String {
    let short = |s: &str| hex::encode(Sha256::digest(s.as_bytes()))[..10].to_string();
    let prefix: String = policy.chars().take(200).collect();
    format!("{prefix}-{plan_id}-{}-{}", short(account_id), short(group))
}

/// Name of the JiraAction that opens the summary issue of plan `plan_id` of policy `policy`.
pub fn summary_action_name(policy: &str, plan_id: &str) -> String {
    let prefix: String = policy.chars().take(200).collect();
    format!("{prefix}-{plan_id}-summary")
}

#[cfg(test)]
mod tests;
