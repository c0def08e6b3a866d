//! Products: applicationrole and instance/license.

use axum::extract::State as AxState;
use serde_json::{Value, json};

use super::users::group_name_json;
use super::{ApiError, ApiResult, App, Arg, Caller, ok, read, scope};
use crate::scenario::Plan;
use crate::state::State;

/// An `ApplicationRole`; `with_counts` adds `userCount`, `remainingSeats` and `userCountDescription`.
pub(crate) fn role_json(st: &State, base: &str, key: &str, with_counts: bool) -> Value {
    let Some(p) = st.products.iter().find(|p| p.key == key) else {
        return json!({"key": key});
    };
    let groups = st.product_groups(key);
    let details: Vec<Value> = groups
        .iter()
        .map(|&g| group_name_json(base, &st.groups[g as usize]))
        .collect();
    let names: Vec<&str> = groups
        .iter()
        .map(|&g| st.groups[g as usize].name.as_str())
        .collect();
    let defaults: Vec<Value> = p
        .default_groups
        .iter()
        .filter_map(|n| st.group_ref(None, Some(n)))
        .map(|g| group_name_json(base, &st.groups[g as usize]))
        .collect();
    let mut v = json!({
        "key": p.key,
        "name": p.name,
        "groups": names,
        "groupDetails": details,
        "defaultGroups": p.default_groups,
        "defaultGroupsDetails": defaults,
        "selectedByDefault": false,
        "defined": false,
        "numberOfSeats": p.seats.map_or(-1, i64::from),
        "hasUnlimitedSeats": p.seats.is_none(),
        "platform": p.key == "jira-core",
    });
    if with_counts {
        let used = st.product_user_count(key) as i64;
        let remaining = p.seats.map(|s| s as i64 - used).unwrap_or(-1);
        v["userCount"] = json!(used);
        v["remainingSeats"] = json!(remaining);
        v["userCountDescription"] = json!(format!("{used} users"));
    }
    v
}

fn need_admin(st: &State, u: u32) -> Result<(), ApiError> {
    if st.perms(u).administer {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "You are not authorized to perform this action. Administrator privileges are required.",
        ))
    }
}

/// `GET /rest/api/3/applicationrole` — Administer Jira.
pub(crate) async fn list(AxState(app): AxState<App>, caller: Caller) -> ApiResult {
    let u = caller.user(scope::MANAGE)?;
    read(&app, |st| {
        need_admin(st, u)?;
        ok(Value::Array(
            st.products
                .iter()
                .map(|p| role_json(st, &caller.base, &p.key, true))
                .collect(),
        ))
    })
}

/// `GET /rest/api/3/applicationrole/{key}`.
pub(crate) async fn one(AxState(app): AxState<App>, caller: Caller, Arg(key): Arg) -> ApiResult {
    let u = caller.user(scope::MANAGE)?;
    read(&app, |st| {
        need_admin(st, u)?;
        if !st.products.iter().any(|p| p.key == key) {
            return Err(ApiError::not_found(format!(
                "The application role with key '{key}' does not exist."
            )));
        }
        ok(role_json(st, &caller.base, &key, true))
    })
}

/// `GET /rest/api/3/instance/license`.
pub(crate) async fn license(AxState(app): AxState<App>, caller: Caller) -> ApiResult {
    caller.user(scope::MANAGE)?;
    read(&app, |st| {
        let apps: Vec<Value> = st
            .products
            .iter()
            .map(|p| {
                let plan = match p.plan {
                    Plan::Unlicensed => "UNLICENSED",
                    Plan::Free => "FREE",
                    Plan::Paid => "PAID",
                };
                json!({"id": p.key, "plan": plan})
            })
            .collect();
        ok(json!({"applications": apps}))
    })
}
