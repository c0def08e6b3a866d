//! Sync engine: collects a site through [`crate::jira`] and computes the [`Inventory`].
//!
//! Usage window: `window_days` UTC days ending on the day of `now` (`to` = today, `from` = to -
//! (window_days - 1)); today is partial. Events are counted once: each sync counts the events whose
//! time lies in `[lo, hi)`, where `hi` = `now` - 90 s (Jira's worklog feed leaves out the last minute) and
//! `lo` = the previous sync's `hi` (incremental) or the start of the window (full). The cache carries the
//! per-user per-day counts, worklog id -> author (to attribute deletions) and `hi` to the next sync, so a
//! daily sync reads only what changed since the last one.

mod activity;
mod inventory;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt, future, stream};

pub use activity::{ActivityStore, DayCounts, EventKind};
pub use inventory::{
    ActivityCounts, Collected, DailyActive, Inventory, LicenseSummary, Listing, RoleCounts,
    UsageSummary, UserCounts, UserRecord, Window, compute, role,
};

use crate::error::Classify;
use crate::jira::{BULKFETCH_IDS, CommentEvent, GroupRef, JiraClient, JiraError, WORKLOG_LIST_IDS};

/// Events newer than `now - SETTLE` are left to the next sync (Jira's worklog feed hides the last minute).
pub const SETTLE: Duration = Duration::from_secs(90);

/// Options of one sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Usage window in days (1..=90).
    pub window_days: u32,
    /// The sync's notion of now (UTC).
    pub now: DateTime<Utc>,
}

/// Figures of one sync.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SyncStats {
    /// Wall time.
    pub duration: Duration,
    /// HTTP requests sent during the sync (every attempt).
    pub api_requests: u64,
    /// Of those, answered 429.
    pub throttled: u64,
    /// True when the sync was incremental (used the previous cache).
    pub incremental: bool,
}

/// State carried from one sync to the next (in memory). `Debug` prints a summary.
#[derive(Clone)]
pub struct SyncCache {
    cloud_id: String,
    window_days: u32,
    horizon: DateTime<Utc>,
    activity: ActivityStore,
    worklog_authors: HashMap<u64, u32>,
}

impl std::fmt::Debug for SyncCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncCache")
            .field("cloud_id", &self.cloud_id)
            .field("window_days", &self.window_days)
            .field("horizon", &self.horizon)
            .field("accounts", &self.activity.iter().count())
            .field("worklogs", &self.worklog_authors.len())
            .finish()
    }
}

impl SyncCache {
    /// Events before this instant have been counted.
    pub fn horizon(&self) -> DateTime<Utc> {
        self.horizon
    }

    /// Per-user per-day activity known so far.
    pub fn activity(&self) -> &ActivityStore {
        &self.activity
    }
}

/// Result of a sync.
#[derive(Debug)]
pub struct SyncOutcome {
    /// The inventory.
    pub inventory: Inventory,
    /// Cache for the next (incremental) sync.
    pub cache: SyncCache,
    /// Figures.
    pub stats: SyncStats,
    /// How the organization (Admin API) part went.
    pub organization: OrganizationOutcome,
}

/// How the organization (Admin API) part of a sync went. Its failure does not fail the sync: the inventory
/// then has no roles, and the caller keeps the last known ones.
#[derive(Debug)]
pub enum OrganizationOutcome {
    /// No organization is configured.
    NotConfigured,
    /// The Admin API gave the roles and last-active dates.
    Synced,
    /// The Admin API failed (wrong key or organization, outage, ...).
    Failed(JiraError),
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Jira failed (or refused).
    #[error(transparent)]
    Jira(#[from] JiraError),
    /// The options are unusable.
    #[error("invalid sync options: {0}")]
    InvalidOptions(String),
    /// Every human account hides its email, so no user can be synced.
    #[error(
        "all {hidden} users hide their email address, so none can be synced; make emails visible (profile visibility) or use an account that can see them"
    )]
    AllEmailsHidden {
        /// Number of human accounts, all hidden.
        hidden: u64,
    },
}

impl Classify for SyncError {
    fn reason(&self) -> &'static str {
        match self {
            SyncError::Jira(e) => e.reason(),
            SyncError::InvalidOptions(_) => "InvalidSyncOptions",
            SyncError::AllEmailsHidden { .. } => "AllEmailsHidden",
        }
    }

    fn is_transient(&self) -> bool {
        match self {
            SyncError::Jira(e) => e.is_transient(),
            SyncError::InvalidOptions(_) | SyncError::AllEmailsHidden { .. } => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::Jira(e) => e.retry_after(),
            SyncError::InvalidOptions(_) | SyncError::AllEmailsHidden { .. } => None,
        }
    }
}

/// The time range whose events this sync counts.
#[derive(Debug, Clone, Copy)]
struct Range {
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
}

impl Range {
    fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.lo && t < self.hi
    }
}

struct Activity {
    store: ActivityStore,
    worklog_authors: HashMap<u64, u32>,
}

/// Runs one sync: a full one without a usable cache, an incremental one otherwise.
pub async fn run(
    client: &JiraClient,
    opts: &SyncOptions,
    cache: Option<SyncCache>,
) -> Result<SyncOutcome, SyncError> {
    if !(1..=90).contains(&opts.window_days) {
        return Err(SyncError::InvalidOptions(format!(
            "usageWindowDays must be 1..90 (got {})",
            opts.window_days
        )));
    }
    let started = Instant::now();
    let before = client.request_stats();
    let site = client.site_info().clone();
    let window = Window::ending(opts.now.date_naive(), opts.window_days);
    let window_start = window
        .from
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let hi = opts.now - chrono::Duration::from_std(SETTLE).expect("small");

    let usable = cache.filter(|c| {
        c.cloud_id == site.cloud_id
            && c.window_days == opts.window_days
            && c.horizon >= window_start
            && c.horizon <= hi
    });
    let incremental = usable.is_some();
    let (range, mut state) = match usable {
        Some(c) => {
            let mut store = c.activity;
            store.trim_before(window.from);
            (
                Range { lo: c.horizon, hi },
                Activity {
                    store,
                    worklog_authors: c.worklog_authors,
                },
            )
        }
        None => (
            Range {
                lo: window_start,
                hi,
            },
            Activity {
                store: ActivityStore::default(),
                worklog_authors: HashMap::new(),
            },
        ),
    };
    let state_cell = Mutex::new(&mut state);

    let ((collected, organization), ()) = futures::try_join!(
        collect_directory(client),
        collect_activity(client, range, incremental, &state_cell),
    )?;

    let inventory = compute(site.clone(), collected, &state.store, window)?;
    let stats = client.request_stats().since(&before);
    Ok(SyncOutcome {
        inventory,
        cache: SyncCache {
            cloud_id: site.cloud_id,
            window_days: opts.window_days,
            horizon: hi,
            activity: state.store,
            worklog_authors: state.worklog_authors,
        },
        stats: SyncStats {
            duration: started.elapsed(),
            api_requests: stats.total,
            throttled: stats.throttled,
            incremental,
        },
        organization,
    })
}

/// Users, products, group members and (with an organization) admin groups and Admin API users. A failure of
/// the Admin API leaves the Admin API users out and is returned beside them; any other failure fails.
async fn collect_directory(
    client: &JiraClient,
) -> Result<(Collected, OrganizationOutcome), JiraError> {
    let with_roles = client.has_admin();
    let groups_and_members = async {
        let (roles, site_admin_groups) = futures::try_join!(client.application_roles(), async {
            if with_roles {
                client.groups_with_access("site-admin", None).await
            } else {
                Ok(Vec::new())
            }
        },)?;
        // The groups with admin access to each product: a member is that product's admin.
        let admin_groups: Vec<(String, Vec<GroupRef>)> = if with_roles {
            let keys: Vec<String> = roles.iter().map(|r| r.key.clone()).collect();
            stream::iter(keys)
                .map(|key| async move {
                    let groups = client.groups_with_access("admin", Some(&key)).await?;
                    Ok::<_, JiraError>((key, groups))
                })
                .buffered(client.concurrency())
                .try_collect()
                .await?
        } else {
            Vec::new()
        };
        let mut groups: Vec<GroupRef> = roles
            .iter()
            .flat_map(|r| r.groups.iter().cloned())
            .chain(site_admin_groups.iter().cloned())
            .chain(admin_groups.iter().flat_map(|(_, gs)| gs.iter().cloned()))
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        groups.dedup_by(|a, b| a.name == b.name);
        let members: Vec<(GroupRef, Vec<String>)> = stream::iter(groups)
            .map(|g| async move {
                match client.group_members(&g).await {
                    Ok(m) => Ok((g, m)),
                    // A role may list a group that was deleted since: it grants nothing.
                    Err(JiraError::GroupNotFound(_)) => Ok((g, Vec::new())),
                    Err(e) => Err(e),
                }
            })
            .buffer_unordered(client.concurrency())
            .try_collect()
            .await?;
        Ok::<_, JiraError>((roles, site_admin_groups, admin_groups, members))
    };
    let admin = async {
        if !with_roles {
            return Ok::<_, JiraError>((None, OrganizationOutcome::NotConfigured));
        }
        // The key check names a wrong organization as such; the listing would only be refused.
        let read = async {
            client.check_admin_key().await?;
            client.admin_users().await
        };
        Ok(match read.await {
            Ok(users) => (Some(users), OrganizationOutcome::Synced),
            Err(e) => (None, OrganizationOutcome::Failed(e)),
        })
    };
    let (users, (roles, site_admin_groups, admin_groups, members), (admin, organization)) =
        futures::try_join!(client.all_users(), groups_and_members, admin)?;
    let collected = Collected {
        users,
        roles,
        members,
        site_admin_groups,
        admin_groups,
        admin,
    };
    Ok((collected, organization))
}

fn add_event(
    state: &Mutex<&mut Activity>,
    range: Range,
    who: Option<&str>,
    at: Option<DateTime<Utc>>,
    kind: EventKind,
) {
    if let (Some(who), Some(at)) = (who, at)
        && range.contains(at)
    {
        state
            .lock()
            .expect("activity lock")
            .store
            .add(who, at, kind);
    }
}

/// A comment counts for its author when created and for its last editor when edited.
fn add_comments(state: &Mutex<&mut Activity>, range: Range, comments: Vec<CommentEvent>) {
    for c in comments {
        add_event(
            state,
            range,
            c.author.as_deref(),
            Some(c.created),
            EventKind::Comment,
        );
        if c.updated.is_some_and(|u| u != c.created) {
            add_event(
                state,
                range,
                c.update_author.as_deref(),
                c.updated,
                EventKind::Comment,
            );
        }
    }
}

/// Comments, changelogs and worklogs with a time in `range`.
async fn collect_activity(
    client: &JiraClient,
    range: Range,
    incremental: bool,
    state: &Mutex<&mut Activity>,
) -> Result<(), JiraError> {
    let issues_part = async {
        // Comments come with the search when they fit in its embedded page; the other issues' comments are
        // read page by page afterwards.
        let mut ids: Vec<u64> = Vec::new();
        let mut truncated: Vec<u64> = Vec::new();
        client
            .issues_updated_since(range.lo, |issue| {
                ids.push(issue.id);
                match issue.comments {
                    Some(comments) => add_comments(state, range, comments),
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
                        state,
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
                add_comments(state, range, comments);
                future::ready(Ok(()))
            });
        futures::try_join!(changelogs, comments).map(|_| ())
    };
    let worklogs_part = async {
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
                        state,
                        range,
                        d.author.as_deref(),
                        d.created,
                        EventKind::Worklog,
                    );
                    if d.updated.is_some() && d.updated != d.created {
                        add_event(
                            state,
                            range,
                            d.update_author.as_deref(),
                            d.updated,
                            EventKind::Worklog,
                        );
                    }
                    if let Some(a) = d.author.as_deref() {
                        let mut s = state.lock().expect("activity lock");
                        let idx = s.store.intern(a);
                        s.worklog_authors.insert(d.id, idx);
                    }
                }
                future::ready(Ok(()))
            });
        let deleted = async {
            // Deletions carry no author: only worklogs seen by an earlier sync can be attributed.
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
                let mut s = state.lock().expect("activity lock");
                if let Some(idx) = s.worklog_authors.remove(&d.id) {
                    s.store.add_idx(idx, at.date_naive(), EventKind::Worklog);
                }
            }
            Ok::<_, JiraError>(())
        };
        futures::try_join!(details, deleted).map(|_| ())
    };
    futures::try_join!(issues_part, worklogs_part).map(|_| ())
}

/// The window a sync at `now` covers.
pub fn window_for(now: DateTime<Utc>, window_days: u32) -> (NaiveDate, NaiveDate) {
    let w = Window::ending(now.date_naive(), window_days);
    (w.from, w.to)
}
