//! The activity parts of a sync, each collecting into its own [`Delta`]: the issues part (the search, the
//! changelogs and the comments of the issues updated in the range) and the worklogs part (worklogs updated and
//! deleted in the range).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt, future, stream};

use super::{Activity, EventKind, delta::Delta, plan::Range};
use crate::jira::{BULKFETCH_IDS, CommentEvent, JiraClient, JiraError, WORKLOG_LIST_IDS};

fn add_event(
    delta: &Mutex<Delta>,
    range: Range,
    who: Option<&str>,
    at: Option<DateTime<Utc>>,
    kind: EventKind,
) {
    if let (Some(who), Some(at)) = (who, at)
        && range.contains(at)
    {
        delta.lock().expect("delta lock").add(who, at, kind);
    }
}

/// A comment counts for its author when created and for its last editor when edited.
fn add_comments(delta: &Mutex<Delta>, range: Range, comments: Vec<CommentEvent>) {
    for c in comments {
        add_event(
            delta,
            range,
            c.author.as_deref(),
            Some(c.created),
            EventKind::Comment,
        );
        if c.updated.is_some_and(|u| u != c.created) {
            add_event(
                delta,
                range,
                c.update_author.as_deref(),
                c.updated,
                EventKind::Comment,
            );
        }
    }
}

/// Comments and changelogs with a time in `range`.
pub(super) async fn issues(client: &JiraClient, range: Range) -> Result<Delta, JiraError> {
    let delta = Mutex::new(Delta::default());
    let delta_ref = &delta;
    // Comments come with the search when they fit in its embedded page; the other issues' comments are
    // read page by page afterwards.
    let mut ids: Vec<u64> = Vec::new();
    let mut truncated: Vec<u64> = Vec::new();
    client
        .issues_updated_since(range.lo, |issue| {
            ids.push(issue.id);
            match issue.comments {
                Some(comments) => add_comments(delta_ref, range, comments),
                None => truncated.push(issue.id),
            }
        })
        .await?;
    let changelogs = stream::iter(ids.chunks(BULKFETCH_IDS).map(<[u64]>::to_vec))
        .map(|chunk| async move { client.changelogs(&chunk).await })
        .buffer_unordered(client.concurrency())
        .try_for_each(|entries| {
            for e in entries {
                add_event(
                    delta_ref,
                    range,
                    e.author.as_deref(),
                    Some(e.created),
                    EventKind::Changelog,
                );
            }
            future::ready(Ok(()))
        });
    let comments = stream::iter(truncated)
        .map(|id| client.comments_since(id, range.lo))
        .buffer_unordered(client.concurrency())
        .try_for_each(|comments| {
            add_comments(delta_ref, range, comments);
            future::ready(Ok(()))
        });
    futures::try_join!(changelogs, comments)?;
    Ok(delta.into_inner().expect("delta lock"))
}

/// Worklogs created, edited or deleted with a time in `range`. Deletions carry no author: only worklogs whose
/// author an earlier sync learned (`base`) are counted.
pub(super) async fn worklogs(
    client: &JiraClient,
    range: Range,
    incremental: bool,
    base: &Activity,
) -> Result<Delta, JiraError> {
    let delta = Mutex::new(Delta::default());
    let delta_ref = &delta;
    let lo_ms = range.lo.timestamp_millis();
    let hi_ms = range.hi.timestamp_millis();
    let since = lo_ms - 120_000;
    let updated = client.worklogs_updated_since(since).await?;
    let mut ids: Vec<u64> = updated
        .iter()
        .filter(|w| w.updated_ms >= lo_ms && w.updated_ms < hi_ms)
        .map(|w| w.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let details = stream::iter(ids.chunks(WORKLOG_LIST_IDS).map(<[u64]>::to_vec))
        .map(|chunk| async move { client.worklog_details(&chunk).await })
        .buffer_unordered(client.concurrency())
        .try_for_each(|details| {
            for d in details {
                add_event(
                    delta_ref,
                    range,
                    d.author.as_deref(),
                    d.created,
                    EventKind::Worklog,
                );
                if d.updated.is_some() && d.updated != d.created {
                    add_event(
                        delta_ref,
                        range,
                        d.update_author.as_deref(),
                        d.updated,
                        EventKind::Worklog,
                    );
                }
                if let Some(a) = d.author.as_deref() {
                    let updated = d.updated.or(d.created).unwrap_or(range.hi).date_naive();
                    delta_ref
                        .lock()
                        .expect("delta lock")
                        .author(d.id, a, updated);
                }
            }
            future::ready(Ok(()))
        });
    let deleted = async {
        if !incremental {
            return Ok(());
        }
        for d in client.worklogs_deleted_since(since).await? {
            let Some(at) = DateTime::from_timestamp_millis(d.deleted_ms) else {
                continue;
            };
            if !range.contains(at) {
                continue;
            }
            if let Some(author) = base.worklog_authors.get(&d.id) {
                let account = base.store.account(author.account);
                delta_ref
                    .lock()
                    .expect("delta lock")
                    .deleted(d.id, account, at.date_naive());
            }
        }
        Ok::<_, JiraError>(())
    };
    futures::try_join!(details, deleted)?;
    Ok(delta.into_inner().expect("delta lock"))
}
