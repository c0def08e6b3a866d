//! Issues in the `IssueBean` shape, restricted to the fields asked for.

use serde_json::{Map, Value, json};

use super::activity::{change_json, comment_json, worklog_json};
use super::projects::{issue_type_json, project_details};
use super::users::author;
use crate::format::jira_date;
use crate::state::{Issue, State};

/// Comments embedded in the `comment` field of an issue (search and `issue/{k}`): the oldest ones; `total`
/// tells a client when there are more.
pub const EMBEDDED_COMMENTS: usize = 20;

/// Fields the simulator can return.
const NAVIGABLE: &[&str] = &[
    "summary",
    "status",
    "project",
    "issuetype",
    "reporter",
    "assignee",
    "created",
    "updated",
    "labels",
    "parent",
    "description",
    "comment",
    "worklog",
];

/// A `fields` selection (`*all`, `*navigable`, names, `-name` exclusions).
#[derive(Debug)]
pub(crate) struct FieldSel {
    all: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl FieldSel {
    /// Parses a list of field names.
    pub(crate) fn parse(list: &[String]) -> FieldSel {
        let mut sel = FieldSel {
            all: false,
            include: Vec::new(),
            exclude: Vec::new(),
        };
        for f in list
            .iter()
            .flat_map(|f| f.split(','))
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            match f {
                "*all" | "*navigable" => sel.all = true,
                _ => match f.strip_prefix('-') {
                    Some(x) => sel.exclude.push(x.to_string()),
                    None => sel.include.push(f.to_string()),
                },
            }
        }
        sel
    }

    fn wants(&self, f: &str) -> bool {
        (self.all || self.include.iter().any(|i| i == f)) && !self.exclude.iter().any(|e| e == f)
    }

    /// Only `id` and/or `key` requested (the 5000-results cap of search applies).
    pub(crate) fn ids_only(&self) -> bool {
        !self.all && self.include.iter().all(|f| f == "id" || f == "key")
    }
}

/// A status in the `StatusDetails` shape.
fn status_json(base: &str, name: &str) -> Value {
    let (id, cat, cat_key) = match name {
        "Done" => ("10002", 3, "done"),
        "To Do" => ("10000", 2, "new"),
        _ => ("3", 4, "indeterminate"),
    };
    json!({"self": format!("{base}/rest/api/3/status/{id}"), "description": "", "name": name, "id": id,
           "statusCategory": {"id": cat, "key": cat_key, "colorName": "blue-gray", "name": name}})
}

/// An issue in the `IssueBean` shape restricted to `fields`.
pub(crate) fn issue_json(
    st: &State,
    base: &str,
    issue: &Issue,
    fields: &FieldSel,
    with_changelog: bool,
    props: &[String],
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), issue.id.to_string().into());
    let named = fields.all || fields.include.iter().any(|f| f != "id");
    if named {
        m.insert("key".into(), issue.key.clone().into());
        m.insert(
            "self".into(),
            format!("{base}/rest/api/3/issue/{}", issue.id).into(),
        );
    }
    let mut f = Map::new();
    for &name in NAVIGABLE {
        if !fields.wants(name) {
            continue;
        }
        let v = match name {
            "summary" => issue.summary.clone().into(),
            "status" => status_json(base, &issue.status),
            "project" => project_details(base, &st.projects[issue.project as usize]),
            "issuetype" => issue_type_json(base, issue.issue_type),
            "reporter" => author(st, base, issue.reporter).unwrap_or(Value::Null),
            "assignee" => author(st, base, issue.assignee).unwrap_or(Value::Null),
            "created" => jira_date(issue.created_ms).into(),
            "updated" => jira_date(issue.updated_ms).into(),
            "labels" => json!(issue.labels),
            "parent" => match issue.parent.and_then(|p| st.issues[p as usize].as_ref()) {
                Some(p) => {
                    json!({"id": p.id.to_string(), "key": p.key, "self": format!("{base}/rest/api/3/issue/{}", p.id)})
                }
                None => continue,
            },
            "description" => issue.description.clone().unwrap_or(Value::Null),
            "comment" => {
                // Oldest first, like `issue/{k}/comment` without `orderBy`; `maxResults` is the number
                // embedded, `total` all of the issue's comments.
                let mut oldest: Vec<u32> = issue.comments.clone();
                oldest.sort_by_key(|&c| (st.comments[c as usize].created_ms, c));
                let items: Vec<Value> = oldest
                    .iter()
                    .take(EMBEDDED_COMMENTS)
                    .map(|&c| comment_json(st, base, c as usize))
                    .collect();
                json!({"comments": items, "maxResults": items.len(), "total": issue.comments.len(), "startAt": 0,
                       "self": format!("{base}/rest/api/3/issue/{}/comment", issue.id)})
            }
            "worklog" => {
                let items: Vec<Value> = issue
                    .worklogs
                    .iter()
                    .take(20)
                    .map(|&w| worklog_json(st, base, w as usize))
                    .collect();
                json!({"startAt": 0, "maxResults": 20, "total": issue.worklogs.len(), "worklogs": items})
            }
            _ => continue,
        };
        f.insert(name.into(), v);
    }
    if !f.is_empty() || fields.include.iter().any(|x| x != "id" && x != "key") {
        m.insert("fields".into(), Value::Object(f));
    }
    if with_changelog {
        let histories: Vec<Value> = issue
            .changes
            .iter()
            .rev()
            .take(40)
            .map(|&c| change_json(st, base, c as usize))
            .collect();
        m.insert(
            "changelog".into(),
            json!({"startAt": 0, "maxResults": histories.len(), "total": histories.len(), "histories": histories}),
        );
    }
    if !props.is_empty() {
        let p: Map<String, Value> = issue
            .properties
            .iter()
            .filter(|(k, _)| props.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        m.insert("properties".into(), Value::Object(p));
    }
    Value::Object(m)
}
