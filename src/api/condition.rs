use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::core::{ListMerge, cel::MergeStrategy, merge_strategy};
use schemars::{Schema, SchemaGenerator, json_schema};

/// Schema of a `conditions` list: standard `metav1.Condition`s, merged by `type` under server-side apply.
pub fn conditions_schema(generator: &mut SchemaGenerator) -> Schema {
    let item = generator.subschema_for::<Condition>();
    let mut value = serde_json::to_value(json_schema!({
        "type": "array",
        "description": "Current state of the resource, one entry per condition type (Kubernetes API conventions).",
        "items": item,
    }))
    .expect("schema serializes");
    merge_strategy(
        &mut value,
        MergeStrategy::ListType(ListMerge::Map(vec!["type".into()])),
    )
    .expect("merge strategy applies");
    Schema::try_from(value).expect("a valid schema")
}

/// Condition status values.
pub mod condition_status {
    /// The condition holds.
    pub const TRUE: &str = "True";
    /// The condition does not hold.
    pub const FALSE: &str = "False";
    /// Not known yet (first visit, work in progress).
    pub const UNKNOWN: &str = "Unknown";
}

/// Sets `new` in `conditions`, keeping `lastTransitionTime` when the status did not flip.
/// Returns true when anything changed.
pub fn set_condition(conditions: &mut Vec<Condition>, mut new: Condition) -> bool {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            if existing.status == new.status {
                new.last_transition_time = existing.last_transition_time.clone();
            }
            if *existing == new {
                return false;
            }
            *existing = new;
            true
        }
        None => {
            conditions.push(new);
            true
        }
    }
}

/// Builds a condition observed at `now` for `generation`.
pub fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: impl Into<String>,
    generation: Option<i64>,
    now: Time,
) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.to_string(),
        message: message.into(),
        observed_generation: generation,
        last_transition_time: now,
    }
}

/// Finds a condition by type.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn transition_time_changes_only_on_a_flip() {
        let mut conds = vec![];
        assert!(set_condition(
            &mut conds,
            condition("Ready", "False", "A", "m", Some(1), at(10))
        ));
        // Same status, new reason: changed, but the transition time stays.
        assert!(set_condition(
            &mut conds,
            condition("Ready", "False", "B", "m", Some(1), at(20))
        ));
        assert_eq!(conds[0].last_transition_time, at(10));
        assert_eq!(conds[0].reason, "B");
        // Identical apart from the time: no change at all.
        assert!(!set_condition(
            &mut conds,
            condition("Ready", "False", "B", "m", Some(1), at(30))
        ));
        // A flip moves the time.
        assert!(set_condition(
            &mut conds,
            condition("Ready", "True", "Ok", "m", Some(1), at(40))
        ));
        assert_eq!(conds[0].last_transition_time, at(40));
        assert_eq!(conds.len(), 1);
    }

    #[test]
    fn conditions_are_a_list_map_keyed_by_type() {
        let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
        let schema = serde_json::to_value(conditions_schema(&mut generator)).unwrap();
        assert_eq!(schema["x-kubernetes-list-type"], "map");
        assert_eq!(schema["x-kubernetes-list-map-keys"][0], "type");
    }
}
