//! A reconcile that panics must not take the process down, nor stop the other objects: the panic is caught per
//! object, the object gets a condition with reason `InternalError` and a Warning Event, and the controller retries
//! it with its backoff.

use super::Context;
use crate::api::{condition, set_condition};
use futures::FutureExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};
use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams},
    runtime::events::EventType,
};
use serde::de::DeserializeOwned;
use std::{any::Any, fmt::Debug, future::Future, panic::AssertUnwindSafe};

/// The condition reason of a reconcile that panicked.
pub const INTERNAL_ERROR: &str = "InternalError";

/// Longest panic text quoted in a condition or Event.
const QUOTE_MAX: usize = 300;

/// Runs `reconcile`; a panic inside it comes back as `Err` with the panic's text instead of unwinding further.
pub async fn catch<F: Future>(reconcile: F) -> Result<F::Output, String> {
    AssertUnwindSafe(reconcile)
        .catch_unwind()
        .await
        .map_err(|payload| panic_text(payload.as_ref()))
}

/// Runs the reconcile of `object`; a panic inside it is [`record`]ed on the object (condition `type_` set to
/// `cond_status`, on top of the `conditions` it has) and comes back as `Err` with the panic's text.
pub async fn guard<K, F>(
    ctx: &Context,
    object: &K,
    (type_, cond_status): (&str, &str),
    conditions: impl FnOnce() -> Vec<Condition>,
    reconcile: F,
) -> Result<F::Output, String>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug,
    F: Future,
{
    let panic = match catch(reconcile).await {
        Ok(output) => return Ok(output),
        Err(panic) => panic,
    };
    record(ctx, object, &conditions(), type_, cond_status, &panic).await;
    Err(panic)
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    crate::jira::clip(&text, QUOTE_MAX)
}

/// The message of the `InternalError` condition.
pub fn message(panic: &str) -> String {
    format!(
        "the operator failed internally while handling this object ({panic}); it retries with backoff and keeps \
         serving other objects; please report this"
    )
}

/// Records a caught panic on the object: condition `type_` set to `cond_status` with reason `InternalError`
/// (a merge patch of the conditions, whatever else the status holds), and a Warning Event. Failures to record
/// are logged; the caller retries the object anyway.
pub async fn record<K>(
    ctx: &Context,
    object: &K,
    conditions: &[Condition],
    type_: &str,
    cond_status: &str,
    panic: &str,
) where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let message = message(panic);
    tracing::error!(
        namespace = object.namespace().unwrap_or_default(),
        name = object.name_any(),
        panic,
        "reconcile panicked; the object is retried with backoff"
    );
    let mut conditions = conditions.to_vec();
    set_condition(
        &mut conditions,
        condition(
            type_,
            cond_status,
            INTERNAL_ERROR,
            &message,
            object.meta().generation,
            Time(Timestamp::now()),
        ),
    );
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &object.namespace().unwrap_or_default());
    let patch = serde_json::json!({ "status": { "conditions": conditions } });
    if let Err(e) = api
        .patch_status(
            &object.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        tracing::warn!(error = %e, "could not record the internal error in the status");
    }
    ctx.events
        .publish(
            object.object_ref(&()),
            EventType::Warning,
            INTERNAL_ERROR,
            "Reconcile",
            message,
        )
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_become_errors_with_their_text() {
        assert_eq!(catch(async { 7 }).await, Ok(7));
        let caught = catch(async {
            let v: Vec<u8> = Vec::new();
            v[3]
        })
        .await
        .unwrap_err();
        assert!(caught.contains("index out of bounds"), "{caught}");
        let long = catch(async { panic!("{}", "x".repeat(5000)) })
            .await
            .unwrap_err();
        assert!(long.len() < 400, "{}", long.len());
        assert!(message("boom").contains("boom"));
    }
}
