//! Generated work: projects, issues created before the activity window, the activity of active humans
//! (comments, status changes, worklogs) in chronological order per issue, and deleted worklogs.

use crate::rng::Rng;
use crate::scenario::ago::Ago;
use crate::scenario::document::Scenario;
use crate::scenario::generate_options::GenerateOptions;
use crate::scenario::work::{
    ChangeSpec, CommentSpec, DeletedWorklogSpec, IssueSpec, ProjectSpec, WorklogSpec,
};

const PROJECT_KEYS: &[&str] = &[
    "ENG", "OPS", "SUP", "WEB", "MOB", "DATA", "QA", "FIN", "HR", "MKT", "SEC", "INFRA", "DOC",
    "PLAT", "CRM",
];
const STATUSES: &[&str] = &["To Do", "In Progress", "In Review", "Done"];

/// The projects: the first keys of a fixed list, every third a business project.
pub(super) fn projects(sc: &mut Scenario, project_count: usize) {
    for p in 0..project_count {
        let key = match PROJECT_KEYS.get(p) {
            Some(k) => k.to_string(),
            None => format!("P{p}"),
        };
        sc.projects.push(ProjectSpec {
            name: format!("Project {key}"),
            type_key: Some(if p % 3 == 2 { "business" } else { "software" }.into()),
            key,
            ..Default::default()
        });
    }
}

/// The issues, created before the activity window; returns their number.
pub(super) fn issues(
    sc: &mut Scenario,
    rng: &mut Rng,
    opts: &GenerateOptions,
    humans: usize,
    project_count: usize,
) -> usize {
    let issue_count = ((humans as f64) * opts.issues_per_user).round().max(1.0) as usize;
    let mut numbers = vec![0u64; project_count];
    for n in 0..issue_count {
        let p = rng.below(project_count as u64) as usize;
        numbers[p] += 1;
        let reporter = rng.below(humans as u64) as usize;
        sc.issues.push(IssueSpec {
            number: Some(numbers[p]),
            project: sc.projects[p].key.clone(),
            issue_type: ["Task", "Bug", "Story"][n % 3].into(),
            summary: format!("Generated issue {n}"),
            reporter: sc.users[reporter].account_id.clone(),
            assignee: None,
            created: Ago::Days {
                days: opts.days + 1 + rng.below(365) as u32,
                secs: rng.office_time(),
            },
            labels: if n % 10 == 0 {
                vec!["generated".into()]
            } else {
                Vec::new()
            },
            ..IssueSpec::default()
        });
    }
    issue_count
}

/// The activity of a share of the active humans over the window, then in chronological order per issue.
pub(super) fn activity(
    sc: &mut Scenario,
    rng: &mut Rng,
    opts: &GenerateOptions,
    active_flags: &[bool],
    issue_count: usize,
) {
    for (i, active) in active_flags.iter().enumerate() {
        if !active || !rng.chance(opts.active_share) {
            continue;
        }
        human_activity(sc, rng, opts, i, issue_count);
    }
    // Chronological order of activity within each issue.
    for issue in &mut sc.issues {
        issue
            .comments
            .sort_by_key(|c| std::cmp::Reverse(ago_key(c.created)));
        issue
            .changelog
            .sort_by_key(|c| std::cmp::Reverse(ago_key(c.at)));
        issue
            .worklogs
            .sort_by_key(|w| std::cmp::Reverse(ago_key(w.created)));
    }
}

/// The comments, status changes and worklogs of human `i`, and their last-active date.
fn human_activity(
    sc: &mut Scenario,
    rng: &mut Rng,
    opts: &GenerateOptions,
    i: usize,
    issue_count: usize,
) {
    let chance = opts.daily_activity_chance;
    let max_actions = opts.max_actions_per_day.max(1) as u64;
    let who = sc.users[i].account_id.clone();
    let mut latest: Option<Ago> = None;
    for day in (0..opts.days).rev() {
        if !rng.chance(chance) {
            continue;
        }
        let actions = 1 + rng.below(max_actions);
        for _ in 0..actions {
            let at = Ago::Days {
                days: day,
                secs: rng.office_time(),
            };
            latest = Some(match latest {
                Some(Ago::Days { days, secs }) if days == day && secs > at_secs(at) => {
                    Ago::Days { days, secs }
                }
                _ => at,
            });
            let issue = &mut sc.issues[rng.below(issue_count as u64) as usize];
            match rng.below(10) {
                0..=4 => {
                    let edited = day > 0 && rng.chance(0.1);
                    issue.comments.push(CommentSpec {
                        author: who.clone(),
                        created: at,
                        updated: edited.then(|| Ago::Days {
                            days: day - 1,
                            secs: at_secs(at),
                        }),
                        update_author: None,
                        body: None,
                    });
                }
                5..=7 => {
                    let s = rng.below(STATUSES.len() as u64 - 1) as usize;
                    issue.changelog.push(ChangeSpec {
                        author: who.clone(),
                        at,
                        field: "status".into(),
                        from: Some(STATUSES[s].into()),
                        to: Some(STATUSES[s + 1].into()),
                    });
                }
                _ => issue.worklogs.push(WorklogSpec {
                    author: who.clone(),
                    created: at,
                    updated: None,
                    update_author: None,
                    started: None,
                    seconds: 900 * (1 + rng.below(16)),
                }),
            }
        }
    }
    let u = &mut sc.users[i];
    let product = if u
        .groups
        .iter()
        .any(|g| g == "jira-software-users" || g == "jira-testers")
    {
        "jira-software"
    } else {
        "jira-core"
    };
    if let Some(at) = latest {
        u.last_active.insert(product.into(), at);
    }
}

/// Worklogs that only exist as deletions, one per hundred humans.
pub(super) fn deleted_worklogs(
    sc: &mut Scenario,
    rng: &mut Rng,
    opts: &GenerateOptions,
    humans: usize,
) {
    for _ in 0..(humans / 100).max(1) {
        sc.deleted_worklogs.push(DeletedWorklogSpec {
            at: Ago::Days {
                days: rng.below(opts.days.max(1) as u64) as u32,
                secs: rng.office_time(),
            },
        });
    }
}

fn at_secs(a: Ago) -> u32 {
    match a {
        Ago::Days { secs, .. } => secs,
        Ago::Secs(_) => 0,
    }
}

/// Seconds before "today 24:00" — larger is older.
fn ago_key(a: Ago) -> i64 {
    match a {
        Ago::Days { days, secs } => days as i64 * 86_400 + (86_400 - secs as i64),
        Ago::Secs(s) => s as i64,
    }
}
