//! Projects and issue types in the shapes Jira answers them.

use serde_json::{Value, json};

use crate::state::{BASE_ID, ISSUE_TYPES, Project, State};

/// A project in the `ProjectDetails` shape (as embedded in an issue).
pub(crate) fn project_details(base: &str, p: &Project) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/project/{}", p.id), "id": p.id.to_string(), "key": p.key,
        "name": p.name, "projectTypeKey": p.type_key, "simplified": false,
        "avatarUrls": {"48x48": format!("{base}/rest/api/3/universal_avatar/view/type/project/avatar/10400")},
    })
}

/// An issue type in the `IssueTypeDetails` shape.
pub(crate) fn issue_type_json(base: &str, t: usize) -> Value {
    let t = &ISSUE_TYPES[t];
    json!({
        "self": format!("{base}/rest/api/3/issuetype/{}", t.id), "id": t.id.to_string(),
        "description": format!("A {}.", t.name.to_lowercase()),
        "iconUrl": format!("{base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{}", t.id),
        "name": t.name, "subtask": t.level < 0, "avatarId": t.id, "hierarchyLevel": t.level,
    })
}

/// A project in the `Project` shape, with the expansions asked for.
pub(crate) fn project_json(st: &State, base: &str, p: &Project, expand: &[&str]) -> Value {
    let mut v = project_details(base, p);
    v["style"] = json!("classic");
    v["isPrivate"] = json!(false);
    v["expand"] = json!("description,lead,issueTypes,url,projectKeys,permissions,insight");
    if expand.contains(&"description") {
        v["description"] = json!("");
    }
    if expand.contains(&"issueTypes") {
        v["issueTypes"] = Value::Array(
            (0..ISSUE_TYPES.len())
                .map(|t| issue_type_json(base, t))
                .collect(),
        );
    }
    if expand.contains(&"insight") {
        let n = st
            .issues
            .iter()
            .flatten()
            .filter(|i| i.project as u64 + BASE_ID == p.id)
            .count();
        v["insight"] = json!({"totalIssueCount": n});
    }
    v
}
