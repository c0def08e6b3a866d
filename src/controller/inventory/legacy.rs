//! JiraUsers written while the JiraUser CRD had a status subresource. Their status fields are owned by the
//! operator's managed-fields entry of that subresource, which a server-side apply of the whole object never
//! releases: a field the operator stops writing (a role taken away, a date) would stay. Each such object gets
//! its entries merged once, before the sync plans it: the subresource's entry joins the operator's entry of the
//! object, so the next apply owns, updates and removes every field it writes.

use crate::api::JiraUser;
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::Value;

const STATUS: &str = "status";
const APPLY: &str = "Apply";

/// The managed fields of an object once the `manager`'s status-subresource entry is merged into its Apply
/// entry of the object, or `None` when the object has no such entry (nothing to migrate).
pub fn migrated(entries: &[ManagedFieldsEntry], manager: &str) -> Option<Vec<ManagedFieldsEntry>> {
    let ours = |e: &ManagedFieldsEntry| {
        e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some(APPLY)
    };
    let legacy = entries
        .iter()
        .position(|e| ours(e) && e.subresource.as_deref() == Some(STATUS))?;
    let mut out = entries.to_vec();
    let mut status = out.remove(legacy);
    match out
        .iter_mut()
        .find(|e| ours(e) && e.subresource.as_deref().unwrap_or_default().is_empty())
    {
        Some(object) => {
            let mut fields = object.fields_v1.take().map(|f| f.0).unwrap_or(Value::Null);
            merge(&mut fields, status.fields_v1.take().map(|f| f.0));
            object.fields_v1 = Some(FieldsV1(fields));
        }
        None => {
            status.subresource = None;
            out.push(status);
        }
    }
    Some(out)
}

/// Merges the field set `from` into `into` (both in the `FieldsV1` form: nested objects of field names).
fn merge(into: &mut Value, from: Option<Value>) {
    let Some(from) = from else { return };
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in b {
                merge(a.entry(key).or_insert(Value::Null), Some(value));
            }
        }
        (into @ Value::Null, from) => *into = from,
        _ => {}
    }
}

/// Migrates the JiraUsers of `page` written with the status subresource, `concurrency` at a time: one merge
/// patch of their managed fields each, guarded by the listed resourceVersion. The values are untouched.
/// Returns how many were migrated.
pub async fn migrate(
    api: &Api<JiraUser>,
    manager: &str,
    page: &[JiraUser],
    concurrency: usize,
) -> Result<usize, kube::Error> {
    let params = PatchParams {
        field_manager: Some(manager.to_string()),
        ..PatchParams::default()
    };
    let patches: Vec<(String, Value)> = page
        .iter()
        .filter_map(|user| {
            let entries = migrated(user.managed_fields(), manager)?;
            let patch = serde_json::json!({
                "metadata": {
                    "resourceVersion": user.resource_version(),
                    "managedFields": entries,
                }
            });
            Some((user.name_any(), patch))
        })
        .collect();
    let count = patches.len();
    stream::iter(patches)
        .map(|(name, patch)| {
            let params = &params;
            async move {
                api.patch(&name, params, &Patch::Merge(&patch)).await?;
                Ok::<_, kube::Error>(())
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<()>()
        .await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(manager: &str, subresource: Option<&str>, fields: Value) -> ManagedFieldsEntry {
        ManagedFieldsEntry {
            api_version: Some("jiracloud.io/v1alpha1".into()),
            fields_type: Some("FieldsV1".into()),
            fields_v1: Some(FieldsV1(fields)),
            manager: Some(manager.into()),
            operation: Some(APPLY.into()),
            subresource: subresource.map(Into::into),
            time: None,
        }
    }

    #[test]
    fn the_status_entry_joins_the_object_entry() {
        let other = entry(
            "kubectl",
            None,
            json!({"f:metadata": {"f:labels": {"f:team": {}}}}),
        );
        let entries = vec![
            entry(
                "op",
                None,
                json!({"f:spec": {"f:accountId": {}}, "f:status": {"f:email": {}}}),
            ),
            other.clone(),
            entry(
                "op",
                Some("status"),
                json!({"f:status": {"f:role": {}, "f:activity": {"f:comments": {}}}}),
            ),
        ];
        let out = migrated(&entries, "op").expect("a legacy entry");
        assert_eq!(out.len(), 2);
        assert_eq!(out[1], other, "another manager's entry is kept as it is");
        assert_eq!(out[0].subresource, None);
        assert_eq!(
            out[0].fields_v1.as_ref().unwrap().0,
            json!({"f:spec": {"f:accountId": {}}, "f:status": {
                "f:email": {}, "f:role": {}, "f:activity": {"f:comments": {}}}})
        );
        assert_eq!(
            migrated(&out, "op"),
            None,
            "a migrated object is left alone"
        );
    }

    #[test]
    fn without_an_object_entry_the_status_entry_becomes_one() {
        let entries = vec![entry(
            "op",
            Some("status"),
            json!({"f:status": {"f:role": {}}}),
        )];
        let out = migrated(&entries, "op").unwrap();
        assert_eq!(
            out,
            vec![entry("op", None, json!({"f:status": {"f:role": {}}}))]
        );
    }

    #[test]
    fn another_managers_status_entry_is_not_ours_to_move() {
        let entries = vec![
            entry("op", None, json!({"f:spec": {}})),
            entry("someone", Some("status"), json!({"f:status": {}})),
        ];
        assert_eq!(migrated(&entries, "op"), None);
        assert_eq!(migrated(&[], "op"), None);
    }
}
