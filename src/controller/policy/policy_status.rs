//! The status of a license policy, computed from an evaluation (pure: no I/O).

use super::inputs::{Loaded, NotReady};
use crate::api::{
    JiraLicensePolicyStatus, condition, condition_status, find_condition, set_condition,
};
use crate::policy::Evaluation;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Condition type: the plan is evaluated.
pub const READY: &str = "Ready";
/// Condition type: which activity the policy can see (`WritesOnly` without an organization).
pub const ACTIVITY_SIGNAL: &str = "ActivitySignal";
/// Condition type: what the policy executes (`DryRun`, `WaitingForApproval`, `UnknownPlan`, `Waiting`,
/// `Running`, `Executed`).
pub const EXECUTION: &str = "Execution";

/// Records that the policy cannot be evaluated. Returns true when the Ready condition changed its reason.
pub fn not_ready(
    st: &mut JiraLicensePolicyStatus,
    why: &NotReady,
    generation: Option<i64>,
    now: Time,
) -> bool {
    let before = find_condition(&st.conditions, READY).map(|c| c.reason.clone());
    set_condition(
        &mut st.conditions,
        condition(
            READY,
            condition_status::FALSE,
            why.reason,
            &why.message,
            generation,
            now,
        ),
    );
    before.as_deref() != Some(why.reason)
}

/// Writes an evaluation into the status. Returns the new plan id when the plan changed.
pub fn evaluated(
    st: &mut JiraLicensePolicyStatus,
    eval: &Evaluation,
    loaded: &Loaded,
    generation: Option<i64>,
    now: Time,
) -> Option<String> {
    let (listed, truncated) = eval.listed_candidates();
    st.products = eval.products.clone();
    st.candidate_count = eval.candidates.len() as u32;
    st.candidates = listed;
    st.candidates_truncated = truncated;
    st.inventory_time = Some(loaded.last_sync.clone());
    let changed = st.plan.as_ref().map(|p| &p.id) != eval.plan.as_ref().map(|p| &p.id);
    if changed {
        // The replaced plan stays approvable, unless it is the one executed last.
        let executed = st.last_run.as_ref().map(|r| r.plan_id.as_str());
        st.previous_plan = st.plan.take().filter(|p| Some(p.id.as_str()) != executed);
        st.plan = eval.plan.clone();
    }
    let message = match &eval.plan {
        Some(plan) => format!(
            "{} candidates; plan {} reclaims {} licenses",
            eval.candidates.len(),
            plan.id,
            plan.reclaims.len()
        ),
        None => "no candidates".to_string(),
    };
    set_condition(
        &mut st.conditions,
        condition(
            READY,
            condition_status::TRUE,
            "Evaluated",
            message,
            generation,
            now.clone(),
        ),
    );
    let signal = if loaded.organization {
        condition(
            ACTIVITY_SIGNAL,
            condition_status::TRUE,
            "ReadsAndWrites",
            "the Admin API's last-active dates count reads too: a holder is inactive only when they agree",
            generation,
            now,
        )
    } else {
        condition(
            ACTIVITY_SIGNAL,
            condition_status::FALSE,
            "WritesOnly",
            "without an organization on the connection only writes (comments, issue changes, worklogs) count as activity: people who only read look inactive",
            generation,
            now,
        )
    };
    set_condition(&mut st.conditions, signal);
    changed.then(|| {
        eval.plan
            .as_ref()
            .map_or_else(String::new, |p| p.id.clone())
    })
}

/// Sets the Execution condition. Returns true when its reason changed.
pub fn execution(
    st: &mut JiraLicensePolicyStatus,
    status: &str,
    reason: &str,
    message: impl Into<String>,
    generation: Option<i64>,
    now: Time,
) -> bool {
    let before = find_condition(&st.conditions, EXECUTION).map(|c| c.reason.clone());
    set_condition(
        &mut st.conditions,
        condition(EXECUTION, status, reason, message, generation, now),
    );
    before.as_deref() != Some(reason)
}
