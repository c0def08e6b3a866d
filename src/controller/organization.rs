//! The organization (Admin API) part of a JiraConnection's status, as pure functions: the roles and the
//! `OrganizationSynced` condition. The organization is optional in failure too: an Admin API problem sets
//! `OrganizationSynced=False` with the reason and keeps the last known roles, while users, licenses, usage and
//! `Ready` follow the Jira part alone. Without an organization there is no such condition and no roles.

use super::conditions::time;
use crate::error::Failure;
use crate::{
    api::{
        JiraConnectionStatus, RoleCounts, condition, condition_status, find_condition,
        set_condition,
    },
    sync::{OrganizationOutcome, RoleCounts as EngineRoles},
};
use chrono::{DateTime, Utc};

/// Condition type: the last sync read the roles and last-active dates from the Admin API.
pub const ORGANIZATION_SYNCED: &str = "OrganizationSynced";
/// Reason of `OrganizationSynced=True`.
pub const COMPLETE: &str = "Complete";

/// Whether a sync is due for the organization part alone: it failed, and the client it failed with (made from
/// the spec and the Secrets, by fingerprint) is not the current one. `failed_with` is unknown after a restart,
/// which tries once more. The part is not retried otherwise before the next scheduled sync: a connection whose
/// Admin API key is wrong must not sync the whole site again and again.
pub fn retry_due(
    st: &JiraConnectionStatus,
    failed_with: Option<&[u8; 32]>,
    current: Option<&[u8; 32]>,
) -> bool {
    let failed = find_condition(&st.conditions, ORGANIZATION_SYNCED)
        .is_some_and(|c| c.status == condition_status::FALSE);
    failed && (failed_with.is_none() || failed_with != current)
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Records how the organization part of a sync went: the roles it read (or none without an organization),
/// or, when the Admin API failed, the failure beside the last known roles. Returns the failure, for an Event.
pub fn record(
    st: &mut JiraConnectionStatus,
    outcome: &OrganizationOutcome,
    roles: Option<EngineRoles>,
    generation: Option<i64>,
    now: DateTime<Utc>,
) -> Option<Failure> {
    match outcome {
        OrganizationOutcome::NotConfigured => {
            st.conditions.retain(|c| c.type_ != ORGANIZATION_SYNCED);
            st.roles = None;
            None
        }
        OrganizationOutcome::Synced => {
            let roles = roles.unwrap_or_default();
            st.roles = Some(RoleCounts {
                org_admin: small(roles.org_admin),
                site_admin: small(roles.site_admin),
                product_admin: small(roles.product_admin),
                user: small(roles.user),
            });
            set_condition(
                &mut st.conditions,
                condition(
                    ORGANIZATION_SYNCED,
                    condition_status::TRUE,
                    COMPLETE,
                    format!(
                        "The Admin API gave the roles: {} organization admins, {} site admins, {} product admins, \
                         {} users",
                        roles.org_admin, roles.site_admin, roles.product_admin, roles.user
                    ),
                    generation,
                    time(now),
                ),
            );
            None
        }
        OrganizationOutcome::Failed(error) => {
            let failure = Failure::of(error);
            let kept = if st.roles.is_some() {
                "the roles are those of the last sync that reached it"
            } else {
                "no roles are known yet"
            };
            let message = format!(
                "The Admin API failed: {}. Users, licenses and usage are synced without it; {kept}",
                failure.message.trim_end_matches('.')
            );
            set_condition(
                &mut st.conditions,
                condition(
                    ORGANIZATION_SYNCED,
                    condition_status::FALSE,
                    failure.reason,
                    message.clone(),
                    generation,
                    time(now),
                ),
            );
            Some(Failure { message, ..failure })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::JiraError;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, hour, 0, 0).unwrap()
    }

    fn roles() -> EngineRoles {
        EngineRoles {
            org_admin: 1,
            site_admin: 2,
            product_admin: 3,
            user: 40,
        }
    }

    fn cond(st: &JiraConnectionStatus) -> Option<(&str, &str, &str)> {
        find_condition(&st.conditions, ORGANIZATION_SYNCED)
            .map(|c| (c.status.as_str(), c.reason.as_str(), c.message.as_str()))
    }

    fn synced() -> JiraConnectionStatus {
        let mut st = JiraConnectionStatus::default();
        assert_eq!(
            record(
                &mut st,
                &OrganizationOutcome::Synced,
                Some(roles()),
                Some(1),
                at(1)
            ),
            None
        );
        st
    }

    #[test]
    fn a_synced_organization_gives_the_roles() {
        let st = synced();
        assert_eq!(
            st.roles,
            Some(RoleCounts {
                org_admin: 1,
                site_admin: 2,
                product_admin: 3,
                user: 40
            })
        );
        let (status, reason, message) = cond(&st).unwrap();
        assert_eq!((status, reason), ("True", COMPLETE));
        assert!(message.contains("1 organization admins"), "{message}");
    }

    #[test]
    fn an_admin_api_failure_keeps_the_last_roles() {
        let before = synced();
        for (error, reason) in [
            (
                JiraError::OrganizationNotFound {
                    org_id: "org-1".into(),
                },
                "OrganizationNotFound",
            ),
            (
                JiraError::JiraUnavailable {
                    operation: "GET /admin/v1/orgs".into(),
                    detail: "HTTP 503".into(),
                },
                "JiraUnavailable",
            ),
        ] {
            let mut st = before.clone();
            let failure = record(
                &mut st,
                &OrganizationOutcome::Failed(error),
                None,
                Some(1),
                at(2),
            )
            .expect("a failure to report");
            assert_eq!(failure.reason, reason);
            assert_eq!(st.roles, before.roles, "{reason}");
            let (status, got, message) = cond(&st).unwrap();
            assert_eq!((status, got), ("False", reason));
            assert!(
                message.starts_with("The Admin API failed: ")
                    && message.contains("the roles are those of the last sync that reached it"),
                "{message}"
            );
            assert_eq!(failure.message, message);
            let c = find_condition(&st.conditions, ORGANIZATION_SYNCED).unwrap();
            assert_eq!(c.last_transition_time, time(at(2)));
        }
    }

    #[test]
    fn a_first_failure_says_no_roles_are_known() {
        let mut st = JiraConnectionStatus::default();
        let error = JiraError::OrganizationNotFound {
            org_id: "org-1".into(),
        };
        record(
            &mut st,
            &OrganizationOutcome::Failed(error),
            None,
            Some(1),
            at(1),
        );
        assert_eq!(st.roles, None);
        assert!(cond(&st).unwrap().2.ends_with("no roles are known yet"));
    }

    #[test]
    fn a_failed_organization_part_is_tried_again_once_the_client_changed() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let mut st = synced();
        assert!(!retry_due(&st, Some(&old), Some(&new)), "it did not fail");
        let error = JiraError::OrganizationNotFound {
            org_id: "org-1".into(),
        };
        record(
            &mut st,
            &OrganizationOutcome::Failed(error),
            None,
            Some(1),
            at(2),
        );
        assert!(!retry_due(&st, Some(&old), Some(&old)), "nothing changed");
        assert!(retry_due(&st, Some(&old), Some(&new)), "a Secret changed");
        assert!(retry_due(&st, None, Some(&old)), "after a restart, once");
    }

    #[test]
    fn without_an_organization_there_is_no_condition_and_no_roles() {
        let mut st = synced();
        record(
            &mut st,
            &OrganizationOutcome::NotConfigured,
            None,
            Some(2),
            at(2),
        );
        assert_eq!(st.roles, None);
        assert_eq!(cond(&st), None);
    }
}
