//! Work in a scenario: projects (with their permission schemes), issues and their comments, changelog
//! and worklogs, and deleted worklogs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ago::Ago;

/// A project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSpec {
    /// Project key, e.g. `ENG`.
    pub key: String,
    /// Name.
    pub name: String,
    /// `software`, `service_desk` or `business`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_key: Option<String>,
    /// The project's permission scheme where it differs from the default one: project permission key
    /// (`BROWSE_PROJECTS`, `CREATE_ISSUES`, `DELETE_ISSUES`, `ADMINISTER_PROJECTS`) to the groups granted it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub permissions: BTreeMap<String, Vec<String>>,
}

/// An issue with its activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IssueSpec {
    /// Issue number within its project (the key is `<project>-<number>`); next free number when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Project key.
    pub project: String,
    /// Issue type name (`Task`, `Bug`, `Story`, `Epic`, `Subtask`).
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Reporter (accountId, email or display name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    /// Assignee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Creation time.
    pub created: Ago,
    /// Labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Parent issue key (for subtasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Comments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<CommentSpec>,
    /// Changelog entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changelog: Vec<ChangeSpec>,
    /// Worklogs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worklogs: Vec<WorklogSpec>,
}

impl Default for IssueSpec {
    fn default() -> Self {
        IssueSpec {
            number: None,
            project: String::new(),
            issue_type: "Task".into(),
            summary: String::new(),
            reporter: None,
            assignee: None,
            created: Ago::Days {
                days: 60,
                secs: 9 * 3600,
            },
            labels: Vec::new(),
            parent: None,
            comments: Vec::new(),
            changelog: Vec::new(),
            worklogs: Vec::new(),
        }
    }
}

/// A comment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentSpec {
    /// Author (absent = anonymous / automation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Creation time.
    pub created: Ago,
    /// Last edit time (default: `created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Ago>,
    /// Author of the last edit (default: `author`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_author: Option<String>,
    /// Text of the comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A changelog entry (one history with one item).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeSpec {
    /// Author (absent = automation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Time of the change.
    pub at: Ago,
    /// Field id, e.g. `status`, `assignee`, `summary`, `attachment`, `labels`.
    #[serde(default = "default_field")]
    pub field: String,
    /// Old value (display string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// New value (display string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

fn default_field() -> String {
    "status".into()
}

/// A worklog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorklogSpec {
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Creation time.
    pub created: Ago,
    /// Last edit (default: `created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Ago>,
    /// Author of the last edit (default: `author`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_author: Option<String>,
    /// Work date (default: `created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Ago>,
    /// Time spent in seconds.
    #[serde(default = "default_worklog_secs")]
    pub seconds: u64,
}

fn default_worklog_secs() -> u64 {
    3600
}

/// A deleted worklog (id assigned at load).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletedWorklogSpec {
    /// Deletion time.
    pub at: Ago,
}
