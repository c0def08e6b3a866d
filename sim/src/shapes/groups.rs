//! Groups in the shapes Jira answers them.

use serde_json::{Value, json};

use crate::state::Group;

/// `{name, groupId, self}`.
pub(crate) fn group_name_json(base: &str, g: &Group) -> Value {
    json!({"name": g.name, "groupId": g.id, "self": format!("{base}/rest/api/3/group?groupId={}", g.id)})
}
