//! A sync parked by a long rate limit, and where it resumes: the parts it finished (the users listing, the
//! groups and members, the organization part, the issues' and the worklogs' events), the instant it counted
//! events up to, and what its pieces cost. A resumed sync reads only the unfinished parts, with the same `now`,
//! window and range, so its result is the one the sync would have had without the interruption.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{
    OrganizationOutcome, SyncCache, SyncStats,
    delta::Delta,
    directory::{Groups, Organization},
    plan::Plan,
};
use crate::jira::{JiraError, JiraUser};

/// What an interrupted sync had finished. `Debug` prints a summary.
pub struct Checkpoint {
    pub(super) cloud_id: String,
    pub(super) window_days: u32,
    /// The interrupted sync's notion of now.
    pub(super) now: DateTime<Utc>,
    pub(super) plan: Plan,
    pub(super) done: Done,
    /// The figures of the pieces so far.
    pub(super) spent: SyncStats,
}

/// The finished parts of a sync.
#[derive(Default)]
pub(super) struct Done {
    pub(super) users: Option<Vec<JiraUser>>,
    pub(super) groups: Option<Groups>,
    pub(super) organization: Option<Organization>,
    pub(super) issues: Option<Delta>,
    pub(super) worklogs: Option<Delta>,
}

/// Every part of a sync, finished.
pub(super) type All = (Vec<JiraUser>, Groups, Organization, Delta, Delta);

impl Done {
    /// Keeps the parts that finished; the errors of the others go to `errors`. A failed organization part is
    /// not kept: it is read again.
    pub(super) fn of(
        users: Result<Vec<JiraUser>, JiraError>,
        groups: Result<Groups, JiraError>,
        organization: Organization,
        issues: Result<Delta, JiraError>,
        worklogs: Result<Delta, JiraError>,
        errors: &mut Vec<JiraError>,
    ) -> Done {
        let users = keep(users, errors);
        let groups = keep(groups, errors);
        let issues = keep(issues, errors);
        let worklogs = keep(worklogs, errors);
        Done {
            users,
            groups,
            organization: Some(organization),
            issues,
            worklogs,
        }
    }

    /// Every part, when all finished.
    pub(super) fn all(self) -> Result<All, Box<Done>> {
        match self {
            Done {
                users: Some(u),
                groups: Some(g),
                organization: Some(o),
                issues: Some(i),
                worklogs: Some(w),
            } => Ok((u, g, o, i, w)),
            unfinished => Err(Box::new(unfinished)),
        }
    }

    /// Names of the finished parts, in the order they are listed.
    pub(super) fn names(&self) -> Vec<&'static str> {
        [
            ("users", self.users.is_some()),
            ("groups", self.groups.is_some()),
            (
                "organization",
                self.organization
                    .as_ref()
                    .is_some_and(|(_, o)| !matches!(o, OrganizationOutcome::Failed(_))),
            ),
            ("issues", self.issues.is_some()),
            ("worklogs", self.worklogs.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, done)| done.then_some(name))
        .collect()
    }

    /// The parts worth keeping for a resume: a failed organization part is read again.
    pub(super) fn kept(mut self) -> Done {
        if self
            .organization
            .as_ref()
            .is_some_and(|(_, o)| matches!(o, OrganizationOutcome::Failed(_)))
        {
            self.organization = None;
        }
        self
    }
}

/// A part's result, its error going to `errors`.
fn keep<T>(result: Result<T, JiraError>, errors: &mut Vec<JiraError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("cloud_id", &self.cloud_id)
            .field("window_days", &self.window_days)
            .field("now", &self.now)
            .field("finished", &self.done.names())
            .field("api_requests", &self.spent.api_requests)
            .finish()
    }
}

impl Checkpoint {
    /// The interrupted sync's notion of now.
    pub fn started(&self) -> DateTime<Utc> {
        self.now
    }

    /// Names of the finished parts (`users`, `groups`, `organization`, `issues`, `worklogs`).
    pub fn finished(&self) -> Vec<&'static str> {
        self.done.names()
    }

    /// True when a sync at `now` may still resume from this checkpoint: at most `max_age` (the connection's
    /// sync interval) after the interrupted sync started.
    pub fn fresh(&self, now: DateTime<Utc>, max_age: Duration) -> bool {
        chrono::Duration::from_std(max_age)
            .ok()
            .and_then(|age| self.now.checked_add_signed(age))
            .is_none_or(|end| now <= end)
    }

    /// True when a sync of the site `cloud_id` over `window_days`, from `cache`, continues this checkpoint: same
    /// site and window, and the cache gives the same range at the checkpoint's `now` as it did then.
    pub(super) fn continues(
        &self,
        cloud_id: &str,
        window_days: u32,
        cache: Option<&SyncCache>,
    ) -> bool {
        self.cloud_id == cloud_id
            && self.window_days == window_days
            && Plan::new(cloud_id, window_days, self.now, cache) == self.plan
    }
}

/// A sync that stopped on a long rate limit, with what it finished.
#[derive(Debug)]
pub struct Parked {
    /// Where it resumes.
    pub checkpoint: Checkpoint,
    /// When Jira allows requests again.
    pub resume_at: DateTime<Utc>,
    /// Jira's `RateLimit-Reason`.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cache(horizon: DateTime<Utc>) -> SyncCache {
        SyncCache {
            cloud_id: "site".into(),
            window_days: 30,
            horizon,
            activity: Default::default(),
            worklog_authors: Default::default(),
        }
    }

    fn checkpoint(now: DateTime<Utc>, cache: Option<&SyncCache>) -> Checkpoint {
        Checkpoint {
            cloud_id: "site".into(),
            window_days: 30,
            now,
            plan: Plan::new("site", 30, now, cache),
            done: Done {
                users: Some(Vec::new()),
                ..Done::default()
            },
            spent: SyncStats::default(),
        }
    }

    #[test]
    fn a_checkpoint_resumes_the_same_sync_only() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap();
        let before = cache(now - chrono::Duration::days(1));
        let c = checkpoint(now, Some(&before));
        assert!(c.plan.incremental);
        assert!(c.continues("site", 30, Some(&before)));
        assert!(!c.continues("other", 30, Some(&before)), "another site");
        assert!(!c.continues("site", 7, Some(&before)), "another window");
        assert!(!c.continues("site", 30, None), "the cache is gone");
        let moved = cache(now - chrono::Duration::hours(1));
        assert!(!c.continues("site", 30, Some(&moved)), "another cache");
        let full = checkpoint(now, None);
        assert!(full.continues("site", 30, None));
        assert_eq!(full.finished(), vec!["users"]);
    }

    #[test]
    fn a_checkpoint_is_dropped_after_the_sync_interval() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap();
        let c = checkpoint(now, None);
        let day = Duration::from_secs(86400);
        assert!(c.fresh(now + chrono::Duration::hours(1), day));
        assert!(c.fresh(now + chrono::Duration::days(1), day));
        assert!(!c.fresh(now + chrono::Duration::hours(25), day));
        assert!(
            c.fresh(now, Duration::MAX),
            "an absurd interval never expires it"
        );
    }

    #[test]
    fn a_failed_organization_part_is_read_again() {
        let failed = (
            None,
            OrganizationOutcome::Failed(JiraError::Config("x".into())),
        );
        let mut errors = Vec::new();
        let done = Done::of(
            Ok(Vec::new()),
            Err(JiraError::RateLimited {
                reason: "jira-quota-tenant-based".into(),
                retry_after: Duration::from_secs(3600),
            }),
            failed,
            Ok(Delta::default()),
            Ok(Delta::default()),
            &mut errors,
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(done.names(), vec!["users", "issues", "worklogs"]);
        let kept = done.kept();
        assert!(kept.organization.is_none());
        assert!(kept.all().is_err());
    }
}
