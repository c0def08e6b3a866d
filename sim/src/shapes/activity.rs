//! Issue activity in the shapes Jira answers it: `Comment`, `Worklog` and changelog histories.

use serde_json::{Map, Value, json};

use super::users::author;
use crate::format::jira_date;
use crate::state::{BASE_ID, State};

/// A one-paragraph ADF document.
fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

/// A comment in the `Comment` shape.
pub(crate) fn comment_json(st: &State, base: &str, c: usize) -> Value {
    let c = &st.comments[c];
    let issue_id = BASE_ID + c.issue as u64;
    let mut m = Map::new();
    m.insert(
        "self".into(),
        format!("{base}/rest/api/3/issue/{issue_id}/comment/{}", c.id).into(),
    );
    m.insert("id".into(), c.id.to_string().into());
    if let Some(a) = author(st, base, c.author) {
        m.insert("author".into(), a);
    }
    m.insert("body".into(), adf(&c.body));
    if let Some(a) = author(st, base, c.update_author) {
        m.insert("updateAuthor".into(), a);
    }
    m.insert("created".into(), jira_date(c.created_ms).into());
    m.insert("updated".into(), jira_date(c.updated_ms).into());
    m.insert("jsdPublic".into(), true.into());
    Value::Object(m)
}

fn time_spent(secs: u64) -> String {
    let (d, h, m) = (secs / 28_800, secs % 28_800 / 3600, secs % 3600 / 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d}d"));
    }
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m}m"));
    }
    parts.join(" ")
}

/// A worklog in the `Worklog` shape.
pub(crate) fn worklog_json(st: &State, base: &str, w: usize) -> Value {
    let w = &st.worklogs[w];
    let issue_id = BASE_ID + w.issue as u64;
    let mut m = Map::new();
    m.insert(
        "self".into(),
        format!("{base}/rest/api/3/issue/{issue_id}/worklog/{}", w.id).into(),
    );
    if let Some(a) = author(st, base, w.author) {
        m.insert("author".into(), a);
    }
    if let Some(a) = author(st, base, w.update_author) {
        m.insert("updateAuthor".into(), a);
    }
    m.insert("comment".into(), adf("Worked on it."));
    m.insert("created".into(), jira_date(w.created_ms).into());
    m.insert("updated".into(), jira_date(w.updated_ms).into());
    m.insert("started".into(), jira_date(w.started_ms).into());
    m.insert("timeSpent".into(), time_spent(w.seconds).into());
    m.insert("timeSpentSeconds".into(), w.seconds.into());
    m.insert("id".into(), w.id.to_string().into());
    m.insert("issueId".into(), issue_id.to_string().into());
    Value::Object(m)
}

/// A changelog history in the `Changelog` shape.
pub(crate) fn change_json(st: &State, base: &str, c: usize) -> Value {
    let c = &st.changes[c];
    let mut item = Map::new();
    item.insert("field".into(), c.field.clone().into());
    item.insert("fieldtype".into(), "jira".into());
    item.insert("fieldId".into(), c.field.to_lowercase().into());
    if let Some(f) = &c.from {
        item.insert("fromString".into(), f.clone().into());
    }
    if let Some(t) = &c.to {
        item.insert("toString".into(), t.clone().into());
    }
    let mut m = Map::new();
    m.insert("id".into(), c.id.to_string().into());
    if let Some(a) = author(st, base, c.author) {
        m.insert("author".into(), a);
    }
    m.insert("created".into(), jira_date(c.created_ms).into());
    m.insert("items".into(), Value::Array(vec![Value::Object(item)]));
    Value::Object(m)
}
