//! Products: applicationrole and instance/license.

use axum::extract::State as AxState;
use serde_json::{Value, json};

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::{App, read};
use crate::request::{Arg, Caller, scope};
use crate::scenario::Plan;
use crate::shapes::roles::role_json;
use crate::state::State;

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
