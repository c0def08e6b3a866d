//! A run of a license policy: the JiraActions it creates (owned by the policy, named from the policy, the plan
//! and the account, so a run repeated after a crash creates nothing new), and its follow-up once its actions
//! ended and the connection synced again.

use super::inputs::Loaded;
use crate::api::{
    ActionPhase, CreateIssue, GroupMembership, JiraAction, JiraActionSpec, JiraLicensePolicy,
    NotReclaimed, Plan, Reclaim, Run, UserReference,
};
use crate::controller::{action::lifecycle::is_finished, conditions::instant};
use crate::policy::{action_name, summary_action_name};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{ListParams, PostParams},
};
use std::collections::BTreeMap;

/// Label on a policy's JiraActions: the policy's name.
pub const LABEL_POLICY: &str = "jiracloud.io/policy";
/// Label on a policy's JiraActions: the plan id.
pub const LABEL_PLAN: &str = "jiracloud.io/plan";
/// Annotation on a policy's JiraActions: the product reclaimed.
pub const ANNOTATION_PRODUCT: &str = "jiracloud.io/product";

/// Most users listed in `lastRun.notReclaimedUsers` (the count covers them all).
const MAX_LISTED_NOT_RECLAIMED: usize = 100;

/// Creates the JiraActions of a run of `plan` (the reclaims `due` of it) and returns its record.
pub async fn start(
    client: &Client,
    policy: &JiraLicensePolicy,
    plan: &Plan,
    due: &[Reclaim],
    skipped: u32,
    now: Time,
) -> Result<Run, kube::Error> {
    let namespace = policy.namespace().unwrap_or_default();
    let api: Api<JiraAction> = Api::namespaced(client.clone(), &namespace);
    let policy_name = policy.name_any();
    let mut names = Vec::new();
    let mut users: Vec<&str> = Vec::new();
    for r in due {
        if !users.contains(&r.account_id.as_str()) {
            users.push(&r.account_id);
        }
        for group in &r.groups {
            let name = action_name(&policy_name, &plan.id, &r.account_id, group);
            let spec = JiraActionSpec {
                connection_ref: policy.spec.connection_ref.clone(),
                create_issue: None,
                delete_issue: None,
                add_user_to_group: None,
                remove_user_from_group: Some(GroupMembership {
                    user: UserReference {
                        account_id: Some(r.account_id.clone()),
                        email: None,
                    },
                    group: group.clone(),
                }),
                delete_user: None,
                ttl_seconds_after_finished: None,
            };
            create(&api, policy, &name, &plan.id, Some(&r.product), spec).await?;
            names.push(name);
        }
    }
    let summary_action = match &policy.spec.summary_issue {
        Some(issue) if !due.is_empty() => {
            let name = summary_action_name(&policy_name, &plan.id);
            let spec = JiraActionSpec {
                connection_ref: policy.spec.connection_ref.clone(),
                create_issue: Some(CreateIssue {
                    project: issue.project.clone(),
                    issue_type: issue.issue_type.clone(),
                    summary: format!(
                        "License reclaim {}: {} users ({policy_name} in {namespace})",
                        plan.id,
                        users.len()
                    ),
                    description: Some(summary_text(due)),
                    labels: vec!["license-reclaim".into()],
                }),
                delete_issue: None,
                add_user_to_group: None,
                remove_user_from_group: None,
                delete_user: None,
                ttl_seconds_after_finished: None,
            };
            create(&api, policy, &name, &plan.id, None, spec).await?;
            Some(name)
        }
        _ => None,
    };
    Ok(Run {
        time: now,
        plan_id: plan.id.clone(),
        reclaimed: users.len() as u32,
        skipped,
        not_reclaimed: 0,
        actions: names,
        finished: due.is_empty(),
        not_reclaimed_users: Vec::new(),
        checked_sync_time: None,
        summary_action,
    })
}

fn summary_text(due: &[Reclaim]) -> String {
    let lines: Vec<String> = due
        .iter()
        .map(|r| {
            format!(
                "{} ({}): {}, left {}",
                r.email,
                r.account_id,
                r.product,
                r.groups.join(", ")
            )
        })
        .collect();
    format!(
        "Licenses reclaimed by the operator's license policy.\n\n{}",
        lines.join("\n")
    )
}

async fn create(
    api: &Api<JiraAction>,
    policy: &JiraLicensePolicy,
    name: &str,
    plan_id: &str,
    product: Option<&str>,
    spec: JiraActionSpec,
) -> Result<(), kube::Error> {
    let action = JiraAction {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(BTreeMap::from([
                (LABEL_POLICY.to_string(), policy.name_any()),
                (LABEL_PLAN.to_string(), plan_id.to_string()),
            ])),
            annotations: product
                .map(|p| BTreeMap::from([(ANNOTATION_PRODUCT.to_string(), p.to_string())])),
            owner_references: policy.controller_owner_ref(&()).map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    };
    match api.create(&PostParams::default(), &action).await {
        Ok(_) => Ok(()),
        // Created by an earlier attempt of this run: deterministic names make the run idempotent.
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// The JiraActions of a policy.
pub async fn actions_of(
    client: &Client,
    policy: &JiraLicensePolicy,
) -> Result<Vec<JiraAction>, kube::Error> {
    let api: Api<JiraAction> =
        Api::namespaced(client.clone(), &policy.namespace().unwrap_or_default());
    let params = ListParams::default().labels(&format!("{LABEL_POLICY}={}", policy.name_any()));
    Ok(api
        .list(&params)
        .await?
        .items
        .into_iter()
        .filter(|a| {
            a.owner_references()
                .iter()
                .any(|o| Some(&o.uid) == policy.meta().uid.as_ref())
        })
        .collect())
}

/// Follows `run`: finished once each of its actions ended (or is gone); once finished and the connection
/// synced after the last action ended, the reclaimed users who still hold their product are recorded.
/// Returns the users newly found not reclaimed.
pub fn follow(run: &mut Run, actions: &[JiraAction], loaded: &Loaded) -> Vec<NotReclaimed> {
    let mine: Vec<&JiraAction> = actions
        .iter()
        .filter(|a| run.actions.contains(&a.name_any()))
        .collect();
    if !run.finished {
        run.finished = mine.iter().all(|a| is_finished(a.status.as_ref()));
    }
    if !run.finished || run.checked_sync_time.is_some() {
        return Vec::new();
    }
    let ended = mine
        .iter()
        .filter_map(|a| a.status.as_ref()?.completion_time.as_ref().map(instant))
        .max();
    let synced = instant(&loaded.last_sync);
    if ended.is_some_and(|t| synced <= t) || synced <= instant(&run.time) {
        return Vec::new();
    }
    // Per (account, product): the groups left and the failed actions.
    let mut reclaims: BTreeMap<(String, String), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for a in &mine {
        let (Some(m), Some(product)) = (
            a.spec.remove_user_from_group.as_ref(),
            a.annotations().get(ANNOTATION_PRODUCT),
        ) else {
            continue;
        };
        let Some(account) = m.user.account_id.clone() else {
            continue;
        };
        let entry = reclaims.entry((account, product.clone())).or_default();
        entry.0.push(m.group.clone());
        let st = a.status.as_ref();
        if st.and_then(|s| s.phase) == Some(ActionPhase::Failed) {
            let message = st.and_then(|s| s.message.clone()).unwrap_or_default();
            entry.1.push(format!("{}: {message}", a.name_any()));
        }
    }
    let found: Vec<NotReclaimed> = reclaims
        .into_iter()
        .filter(|((account, product), _)| loaded.holds(account, product))
        .map(|((account_id, product), (groups, failed))| {
            let (reason, message) = if failed.is_empty() {
                let through = loaded.granting_groups(&account_id, &product);
                let why = if through.is_empty() {
                    "no group the operator reads grants it: a direct product assignment".to_string()
                } else {
                    format!(
                        "{} grants it (joined after the plan, or put back by an identity provider)",
                        through.join(", ")
                    )
                };
                (
                    "StillHoldsProduct",
                    format!(
                        "still holds {product} after leaving {}: {why}",
                        groups.join(", ")
                    ),
                )
            } else {
                ("ActionFailed", failed.join("; "))
            };
            NotReclaimed {
                account_id,
                product,
                reason: reason.into(),
                message,
            }
        })
        .collect();
    run.not_reclaimed = found.len() as u32;
    run.not_reclaimed_users = found
        .iter()
        .take(MAX_LISTED_NOT_RECLAIMED)
        .cloned()
        .collect();
    run.checked_sync_time = Some(loaded.last_sync.clone());
    found
}
