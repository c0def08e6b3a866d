//! Sync engine: collects a site through [`crate::jira`] and computes the [`Inventory`].
//!
//! Usage window: `window_days` UTC days ending on the day of `now` (`to` = today, `from` = to -
//! (window_days - 1)); today is partial. Events are counted once: each sync counts the events whose
//! time lies in `[lo, hi)`, where `hi` = `now` - 90 s (Jira's worklog feed leaves out the last minute) and
//! `lo` = the previous sync's `hi` (incremental) or the start of the window (full). The cache carries the
//! per-user per-day counts, worklog id -> author (to attribute deletions) and `hi` to the next sync, so a
//! daily sync reads only what changed since the last one.
//!
//! The parts of a sync (users, groups, organization, issues, worklogs) run at once; a part's events go to its
//! own [`delta`] and reach the cache's counts only when the whole sync completes. A part that Jira rate limits
//! for longer than the client waits lets the others finish, and the sync is [`Parked`] with a [`Checkpoint`]
//! of what it finished, from which [`resume`] reads only the rest.

mod account_key;
mod activity;
mod cache;
mod checkpoint;
mod delta;
mod directory;
mod events;
mod inventory;
mod plan;
mod snapshot;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};

pub use account_key::account_key;
pub use activity::{ActivityStore, DayCounts, EventKind};
pub use cache::SyncCache;
pub use checkpoint::{Checkpoint, Parked};
pub use inventory::{
    ActivityCounts, Collected, DailyActive, Inventory, LicenseSummary, Listing, RoleCounts,
    UsageSummary, UserCounts, UserRecord, Window, compute, role,
};
pub use snapshot::{Snapshot, SnapshotError};

use crate::error::Classify;
use crate::jira::{JiraClient, JiraError, RequestStats};
use cache::WorklogAuthor;
use checkpoint::Done;
use plan::Plan;

/// Events newer than `now - SETTLE` are left to the next sync (Jira's worklog feed hides the last minute).
pub const SETTLE: Duration = Duration::from_secs(90);

/// The longest a sync stays parked: a longer wait asked by a header (an absurd `X-RateLimit-Reset`) is cut to
/// this, so that a sync is never parked for good.
pub const LONGEST_PARK: Duration = Duration::from_secs(86400);

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
    /// The rate-limit budget the last answer that carried one said was left.
    pub rate_limit_remaining: Option<u64>,
}

impl SyncStats {
    /// The figures of a sync made of this piece and a `later` one: the sums, and the later budget if known.
    fn then(self, later: SyncStats) -> SyncStats {
        SyncStats {
            duration: self.duration + later.duration,
            api_requests: self.api_requests + later.api_requests,
            throttled: self.throttled + later.throttled,
            incremental: later.incremental,
            rate_limit_remaining: later.rate_limit_remaining.or(self.rate_limit_remaining),
        }
    }

    fn of(requests: &RequestStats, duration: Duration, incremental: bool) -> SyncStats {
        SyncStats {
            duration,
            api_requests: requests.total,
            throttled: requests.throttled,
            incremental,
            rate_limit_remaining: requests.budget.map(|b| b.remaining),
        }
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
    /// A part was rate limited for longer than the client waits: the sync stopped with what it finished.
    #[error(
        "Jira is rate limiting requests ({}); the sync resumes at {} from its last completed step",
        .0.reason,
        .0.resume_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )]
    Parked(Box<Parked>),
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
            SyncError::Parked(_) => "RateLimited",
            SyncError::InvalidOptions(_) => "InvalidSyncOptions",
            SyncError::AllEmailsHidden { .. } => "AllEmailsHidden",
        }
    }

    fn is_transient(&self) -> bool {
        match self {
            SyncError::Jira(e) => e.is_transient(),
            SyncError::Parked(_) => true,
            SyncError::InvalidOptions(_) | SyncError::AllEmailsHidden { .. } => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::Jira(e) => e.retry_after(),
            SyncError::Parked(p) => Some((p.resume_at - Utc::now()).to_std().unwrap_or_default()),
            SyncError::InvalidOptions(_) | SyncError::AllEmailsHidden { .. } => None,
        }
    }
}

#[derive(Default)]
struct Activity {
    store: ActivityStore,
    worklog_authors: HashMap<u64, WorklogAuthor>,
}

/// Runs one sync: a full one without a usable cache, an incremental one otherwise.
pub async fn run(
    client: &JiraClient,
    opts: &SyncOptions,
    cache: Option<SyncCache>,
) -> Result<SyncOutcome, SyncError> {
    resume(client, opts, cache, None).await
}

/// Runs one sync like [`run`], or resumes the parked one of `checkpoint` when it continues it (same site,
/// window and cache): only its unfinished parts are read, with its `now`. Returns [`SyncError::Parked`] when a
/// part is rate limited for longer than the client waits and every other part finished or was rate limited
/// too; any other failure fails the sync at once.
pub async fn resume(
    client: &JiraClient,
    opts: &SyncOptions,
    cache: Option<SyncCache>,
    checkpoint: Option<Checkpoint>,
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
    let checkpoint =
        checkpoint.filter(|c| c.continues(&site.cloud_id, opts.window_days, cache.as_ref()));
    let now = checkpoint.as_ref().map_or(opts.now, |c| c.now);
    let plan = Plan::new(&site.cloud_id, opts.window_days, now, cache.as_ref());
    let mut base = match cache.filter(|_| plan.incremental) {
        Some(mut c) => {
            c.trim_before(plan.window.from);
            Activity {
                store: c.activity,
                worklog_authors: c.worklog_authors,
            }
        }
        None => Activity::default(),
    };
    let (done, spent) = checkpoint.map_or_else(Default::default, |c| (c.done, c.spent));
    let base_ref = &base;
    let (users, groups, organization, issues, worklogs) = futures::try_join!(
        part(done.users, client.all_users()),
        part(done.groups, directory::groups(client)),
        async {
            Ok(match done.organization {
                Some(kept) => kept,
                None => directory::organization(client).await,
            })
        },
        part(done.issues, events::issues(client, plan.range)),
        part(
            done.worklogs,
            events::worklogs(client, plan.range, plan.incremental, base_ref)
        ),
    )?;
    let piece = client.request_stats().since(&before);
    let stats = spent.then(SyncStats::of(&piece, started.elapsed(), plan.incremental));
    let mut errors = Vec::new();
    let done = Done::of(users, groups, organization, issues, worklogs, &mut errors);
    let (users, groups, (admin, organization), issues, worklogs) = match done.all() {
        Ok(all) => all,
        Err(done) => {
            return Err(park(
                client,
                errors,
                Checkpoint {
                    cloud_id: site.cloud_id,
                    window_days: opts.window_days,
                    now,
                    plan,
                    done: done.kept(),
                    spent: stats,
                },
            ));
        }
    };
    issues.merge_into(&mut base);
    worklogs.merge_into(&mut base);
    // The parts' responses and pages are freed by now: the records the inventory builds next start from
    // returned pages, not on top of them.
    crate::memory::release_freed();
    let collected = directory::collected(users, groups, admin);
    let inventory = compute(site.clone(), collected, &base.store, plan.window)?;
    Ok(SyncOutcome {
        inventory,
        cache: SyncCache {
            cloud_id: site.cloud_id,
            window_days: opts.window_days,
            horizon: plan.range.hi,
            activity: base.store,
            worklog_authors: base.worklog_authors,
        },
        stats,
        organization,
    })
}

/// A part's result: the one the checkpoint kept, else the part run now. A rate limit is kept as a value so
/// that the other parts finish; any other error ends the sync at once.
async fn part<T>(
    kept: Option<T>,
    run: impl Future<Output = Result<T, JiraError>>,
) -> Result<Result<T, JiraError>, JiraError> {
    if let Some(kept) = kept {
        return Ok(Ok(kept));
    }
    match run.await {
        Err(e @ JiraError::RateLimited { .. }) => Ok(Err(e)),
        Err(e) => Err(e),
        Ok(v) => Ok(Ok(v)),
    }
}

/// The rate-limited parts' errors (at least one): parked until the longest wait (at most [`LONGEST_PARK`]) when
/// it is longer than the client's own wait, else the first error.
fn park(client: &JiraClient, errors: Vec<JiraError>, checkpoint: Checkpoint) -> SyncError {
    let longest = errors
        .iter()
        .enumerate()
        .max_by_key(|(_, e)| e.retry_after().unwrap_or_default())
        .map(|(i, e)| (i, e.retry_after().unwrap_or_default()));
    match (longest, errors) {
        (Some((i, wait)), mut errors) if wait > client.max_throttle_wait() => {
            let reason = match errors.swap_remove(i) {
                JiraError::RateLimited { reason, .. } => reason,
                other => other.reason().to_string(),
            };
            let wait = chrono::Duration::from_std(wait.min(LONGEST_PARK)).expect("a day fits");
            SyncError::Parked(Box::new(Parked {
                checkpoint,
                resume_at: Utc::now() + wait,
                reason,
            }))
        }
        (_, errors) => SyncError::Jira(
            errors
                .into_iter()
                .next()
                .expect("a part that did not finish failed"),
        ),
    }
}

/// The window a sync at `now` covers.
pub fn window_for(now: DateTime<Utc>, window_days: u32) -> (NaiveDate, NaiveDate) {
    let w = Window::ending(now.date_naive(), window_days);
    (w.from, w.to)
}
