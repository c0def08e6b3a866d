//! Products in the `ApplicationRole` shape.

use serde_json::{Value, json};

use super::groups::group_name_json;
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
