//! What a connection's credentials can and cannot do (pure): from the [`Grants`] read when the client
//! connected to one [`Capability`] per thing a user may want, with the reason and, when unavailable, the fix.
//! JiraActions use the same rules with the permissions read in their own context (their project or issue).

use crate::api::{Capability, CapabilityState, JiraConnectionStatus, Operation};
use crate::jira::{Grants, OrganizationAccess};

/// Listing users and their groups and products.
pub const SYNC_USERS: &str = "syncUsers";
/// Organization roles and last-active dates from the Admin API.
pub const SYNC_ROLES: &str = "syncRoles";
/// Usage: the activity in issues, comments and worklogs.
pub const SYNC_USAGE: &str = "syncUsage";
/// `createIssue` actions.
pub const CREATE_ISSUES: &str = "createIssues";
/// `deleteIssue` actions.
pub const DELETE_ISSUES: &str = "deleteIssues";
/// `addUserToGroup` and `removeUserFromGroup` actions.
pub const MANAGE_GROUP_MEMBERSHIP: &str = "manageGroupMembership";
/// `deleteUser` actions.
pub const DELETE_USERS: &str = "deleteUsers";

/// Every capability, in the order of the status.
pub const ALL: &[&str] = &[
    SYNC_USERS,
    SYNC_ROLES,
    SYNC_USAGE,
    CREATE_ISSUES,
    DELETE_ISSUES,
    MANAGE_GROUP_MEMBERSHIP,
    DELETE_USERS,
];

/// The Event reason when the set changes.
pub const CHANGED: &str = "CapabilitiesChanged";

const SITE_ADMINS: &str = "site-admins";
const SITE_ADMIN_FIX: &str = "make the account a site admin: add it to the site-admins group (admin.atlassian.com → \
     Directory → Groups → site-admins) or give it the site admin role for this site";

/// The capability an action needs.
pub fn for_operation(operation: &Operation<'_>) -> &'static str {
    match operation {
        Operation::CreateIssue(_) => CREATE_ISSUES,
        Operation::DeleteIssue(_) => DELETE_ISSUES,
        Operation::AddUserToGroup(_) | Operation::RemoveUserFromGroup(_) => MANAGE_GROUP_MEMBERSHIP,
        Operation::DeleteUser(_) => DELETE_USERS,
    }
}

/// Every capability of the grants.
pub fn all(grants: &Grants) -> Vec<Capability> {
    ALL.iter().map(|name| evaluate(name, grants, "")).collect()
}

/// Writes the capabilities and their count (`5/7`) into the status.
pub fn record(st: &mut JiraConnectionStatus, grants: &Grants) {
    st.capabilities = all(grants);
    let available = st
        .capabilities
        .iter()
        .filter(|c| c.state == CapabilityState::Available)
        .count();
    st.capabilities_available = Some(format!("{available}/{}", st.capabilities.len()));
}

/// The note of the Event when the capabilities changed (`None` when they did not): the count and what is
/// unavailable.
pub fn change(before: &[Capability], after: &[Capability]) -> Option<String> {
    let states = |c: &[Capability]| {
        c.iter()
            .map(|c| (c.name.clone(), c.state))
            .collect::<Vec<_>>()
    };
    if after.is_empty() || states(before) == states(after) {
        return None;
    }
    let count = |s| after.iter().filter(|c| c.state == s).count();
    let mut note = format!(
        "{}/{} capabilities available",
        count(CapabilityState::Available),
        after.len()
    );
    let unavailable: Vec<&str> = after
        .iter()
        .filter(|c| c.state == CapabilityState::Unavailable)
        .map(|c| c.name.as_str())
        .collect();
    if !unavailable.is_empty() {
        note.push_str(&format!("; unavailable: {}", unavailable.join(", ")));
    }
    let unknown = count(CapabilityState::Unknown);
    if unknown > 0 {
        note.push_str(&format!("; {unknown} unknown"));
    }
    Some(note)
}

/// One capability. `place` (for example ` in project OPS`) names the context the permissions were read in.
pub fn evaluate(name: &str, grants: &Grants, place: &str) -> Capability {
    let (state, reason, fix) = match name {
        SYNC_USERS => needs(
            grants,
            "read:jira-user",
            &["USER_PICKER"],
            place,
            "grant the global permission Browse users and groups to a group the account is in (Jira settings → \
             System → Global permissions)",
        ),
        SYNC_USAGE => needs(
            grants,
            "read:jira-work",
            &["BROWSE_PROJECTS"],
            place,
            "grant Browse projects to the account or one of its groups in the permission scheme of the projects \
             whose activity counts (Project settings → Permissions)",
        ),
        CREATE_ISSUES => needs(
            grants,
            "write:jira-work",
            &["BROWSE_PROJECTS", "CREATE_ISSUES"],
            place,
            "grant Browse projects and Create issues in the project's permission scheme (Project settings → \
             Permissions), or make the account an administrator of the project",
        ),
        DELETE_ISSUES => needs(
            grants,
            "write:jira-work",
            &["DELETE_ISSUES"],
            place,
            "grant Delete issues in the project's permission scheme (Project settings → Permissions, on the \
             Standard and Premium plans); on the Free plan permission schemes cannot be edited, so make the \
             account a Jira administrator (jira-admins) or an administrator of the project",
        ),
        SYNC_ROLES => roles(grants),
        MANAGE_GROUP_MEMBERSHIP | DELETE_USERS => site_admin(grants),
        other => (
            CapabilityState::Unknown,
            format!("{other} is not a capability the operator knows"),
            None,
        ),
    };
    Capability {
        name: name.to_string(),
        state,
        reason: crate::jira::clip(&reason, 512),
        fix: fix.map(str::to_string),
    }
}

type Verdict = (CapabilityState, String, Option<&'static str>);

fn permission_name(key: &str) -> &str {
    match key {
        "USER_PICKER" => "Browse users and groups",
        "BROWSE_PROJECTS" => "Browse projects",
        "CREATE_ISSUES" => "Create issues",
        "DELETE_ISSUES" => "Delete issues",
        "ADMINISTER" => "Administer Jira",
        other => other,
    }
}

/// A service account's token lacking `scope` makes a capability unavailable whatever the account's permissions.
fn lacks_scope(grants: &Grants, scope: &str) -> Option<Verdict> {
    let scopes = grants.scopes.as_ref()?;
    if scopes.iter().any(|s| s == scope) {
        return None;
    }
    Some((
        CapabilityState::Unavailable,
        format!("the service account's OAuth token lacks the scope {scope}"),
        Some(
            "create a new OAuth 2.0 credential for the service account that includes the missing scope \
             (admin.atlassian.com → Directory → Service accounts → the account → Credentials) and store its \
             client id and secret in the connection's Secret",
        ),
    ))
}

fn needs(grants: &Grants, scope: &str, keys: &[&str], place: &str, fix: &'static str) -> Verdict {
    if let Some(verdict) = lacks_scope(grants, scope) {
        return verdict;
    }
    let names = |keys: &[&str]| {
        keys.iter()
            .map(|k| permission_name(k))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let missing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| grants.has(k) == Some(false))
        .collect();
    if !missing.is_empty() {
        let anywhere = if place.is_empty() {
            " in any project"
        } else {
            ""
        };
        let project = keys.iter().any(|k| *k != "USER_PICKER");
        return (
            CapabilityState::Unavailable,
            format!(
                "the account lacks {}{}{place}",
                names(&missing),
                if project { anywhere } else { "" }
            ),
            Some(fix),
        );
    }
    if keys.iter().any(|k| grants.has(k).is_none()) {
        return (
            CapabilityState::Unknown,
            format!(
                "Jira did not say whether the account has {}{place}",
                names(keys)
            ),
            None,
        );
    }
    (
        CapabilityState::Available,
        format!("the account has {}{place}", names(keys)),
        None,
    )
}

fn roles(grants: &Grants) -> Verdict {
    match &grants.organization {
        None => (
            CapabilityState::Unavailable,
            "no organization is configured".into(),
            Some(
                "set spec.organization: the organization id and a Secret with an Admin API key created without \
                 scopes by an organization admin (admin.atlassian.com → Settings → API keys)",
            ),
        ),
        Some(OrganizationAccess::Answered) => (
            CapabilityState::Available,
            "the Admin API key sees the organization".into(),
            None,
        ),
        Some(OrganizationAccess::Refused(why)) => (
            CapabilityState::Unavailable,
            why.clone(),
            Some(
                "create an Admin API key without scopes as an admin of this organization (admin.atlassian.com → \
                 Settings → API keys) and store it in the Secret of spec.organization.secretRef",
            ),
        ),
        Some(OrganizationAccess::Unreachable(why)) => (
            CapabilityState::Unknown,
            format!("the Admin API did not answer: {why}"),
            None,
        ),
    }
}

fn site_admin(grants: &Grants) -> Verdict {
    if let Some(verdict) = lacks_scope(grants, "manage:jira-configuration") {
        return verdict;
    }
    // Site admins hold every global permission: lacking one settles it.
    if let Some(key) = ["ADMINISTER", "USER_PICKER"]
        .into_iter()
        .find(|k| grants.has(k) == Some(false))
    {
        return (
            CapabilityState::Unavailable,
            format!(
                "the account lacks {}, which every site admin holds",
                permission_name(key)
            ),
            Some(SITE_ADMIN_FIX),
        );
    }
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    // Every site has a group that grants site-admin access: an empty listing says nothing.
    let site_admin_groups = grants.site_admin_groups.as_ref().filter(|g| !g.is_empty());
    match (&grants.groups, site_admin_groups) {
        (Some(mine), Some(admin)) => match mine.iter().find(|g| admin.iter().any(|a| is(a, g))) {
            Some(group) => (
                CapabilityState::Available,
                format!("the account is in {group}, which grants site-admin access"),
                None,
            ),
            None => (
                CapabilityState::Unavailable,
                "the account is in no group that grants site-admin access".into(),
                Some(SITE_ADMIN_FIX),
            ),
        },
        (Some(mine), None) if mine.iter().any(|g| is(g, SITE_ADMINS)) => (
            CapabilityState::Available,
            "the account is in site-admins".into(),
            None,
        ),
        _ => (
            CapabilityState::Unknown,
            "could not read whether the account is in a group that grants site-admin access".into(),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn everything() -> Grants {
        Grants {
            permissions: Some(
                crate::jira::CONNECT_PERMISSIONS
                    .iter()
                    .map(|k| (k.to_string(), true))
                    .collect(),
            ),
            groups: Some(vec!["site-admins".into(), "jira-admins".into()]),
            site_admin_groups: Some(vec!["site-admins".into()]),
            scopes: None,
            organization: Some(OrganizationAccess::Answered),
        }
    }

    fn state(grants: &Grants, name: &str) -> CapabilityState {
        evaluate(name, grants, "").state
    }

    fn without(key: &str) -> Grants {
        let mut g = everything();
        g.permissions.as_mut().unwrap().insert(key.into(), false);
        g
    }

    #[test]
    fn everything_granted_is_all_available() {
        let mut st = JiraConnectionStatus::default();
        record(&mut st, &everything());
        assert_eq!(st.capabilities.len(), 7);
        assert!(
            st.capabilities
                .iter()
                .all(|c| c.state == CapabilityState::Available && c.fix.is_none()),
            "{:?}",
            st.capabilities
        );
        assert_eq!(st.capabilities_available.as_deref(), Some("7/7"));
    }

    #[test]
    fn each_missing_permission_makes_its_capability_unavailable_with_the_fix() {
        for (key, capability, fix) in [
            ("USER_PICKER", SYNC_USERS, "Browse users and groups"),
            ("BROWSE_PROJECTS", SYNC_USAGE, "Browse projects"),
            ("CREATE_ISSUES", CREATE_ISSUES, "Create issues"),
            ("DELETE_ISSUES", DELETE_ISSUES, "Delete issues"),
        ] {
            let caps = all(&without(key));
            let c = caps.iter().find(|c| c.name == capability).unwrap();
            assert_eq!(c.state, CapabilityState::Unavailable, "{key}");
            assert!(c.fix.as_deref().unwrap().contains(fix), "{key}: {c:?}");
            let others: Vec<&Capability> = caps
                .iter()
                .filter(|c| c.state != CapabilityState::Available)
                .collect();
            // Browse projects is also needed to create issues; every site admin browses users.
            let expected = match key {
                "BROWSE_PROJECTS" => 2,
                "USER_PICKER" => 3,
                _ => 1,
            };
            assert_eq!(others.len(), expected, "{key}: {others:?}");
        }
    }

    #[test]
    fn site_admin_comes_from_the_groups() {
        let mut g = everything();
        g.groups = Some(vec!["jira-admins".into()]);
        assert_eq!(
            state(&g, MANAGE_GROUP_MEMBERSHIP),
            CapabilityState::Unavailable
        );
        let c = evaluate(DELETE_USERS, &g, "");
        assert!(c.fix.unwrap().contains("site-admins"));
        // Another group may grant site-admin access.
        g.site_admin_groups = Some(vec!["org-admins".into()]);
        g.groups = Some(vec!["Org-Admins".into()]);
        assert_eq!(state(&g, DELETE_USERS), CapabilityState::Available);
        // Without the list of access groups, membership of site-admins still tells; nothing else does.
        g.site_admin_groups = None;
        assert_eq!(state(&g, DELETE_USERS), CapabilityState::Unknown);
        g.groups = Some(vec!["site-admins".into()]);
        assert_eq!(state(&g, DELETE_USERS), CapabilityState::Available);
        g.groups = None;
        assert_eq!(state(&g, MANAGE_GROUP_MEMBERSHIP), CapabilityState::Unknown);
        // Without Browse users and groups the access groups cannot be listed, but no site admin lacks it.
        let g = without("USER_PICKER");
        assert_eq!(state(&g, DELETE_USERS), CapabilityState::Unavailable);
    }

    #[test]
    fn an_empty_listing_of_site_admin_groups_is_unknown_not_unavailable() {
        let mut g = everything();
        g.site_admin_groups = Some(vec![]);
        g.groups = Some(vec!["jira-admins".into()]);
        for name in [MANAGE_GROUP_MEMBERSHIP, DELETE_USERS] {
            let c = evaluate(name, &g, "");
            assert_eq!(c.state, CapabilityState::Unknown, "{c:?}");
            assert!(c.fix.is_none(), "{c:?}");
        }
        // Membership of site-admins still tells.
        g.groups = Some(vec!["site-admins".into()]);
        assert_eq!(state(&g, DELETE_USERS), CapabilityState::Available);
    }

    #[test]
    fn unread_permissions_are_unknown_not_unavailable() {
        let mut g = everything();
        g.permissions = None;
        for name in [SYNC_USERS, SYNC_USAGE, CREATE_ISSUES, DELETE_ISSUES] {
            assert_eq!(state(&g, name), CapabilityState::Unknown, "{name}");
        }
        g.permissions = Some(BTreeMap::from([("CREATE_ISSUES".to_string(), true)]));
        assert_eq!(state(&g, CREATE_ISSUES), CapabilityState::Unknown);
    }

    #[test]
    fn a_service_account_token_needs_the_scopes() {
        let mut g = everything();
        g.scopes = Some(vec!["read:jira-user".into(), "read:jira-work".into()]);
        assert_eq!(state(&g, SYNC_USERS), CapabilityState::Available);
        let c = evaluate(CREATE_ISSUES, &g, "");
        assert_eq!(c.state, CapabilityState::Unavailable);
        assert!(c.reason.contains("write:jira-work"), "{c:?}");
        assert_eq!(
            state(&g, MANAGE_GROUP_MEMBERSHIP),
            CapabilityState::Unavailable
        );
    }

    #[test]
    fn roles_need_an_organization_that_answers() {
        let mut g = everything();
        g.organization = None;
        let c = evaluate(SYNC_ROLES, &g, "");
        assert_eq!(c.state, CapabilityState::Unavailable);
        assert!(c.fix.unwrap().contains("spec.organization"));
        g.organization = Some(OrganizationAccess::Refused(
            "the Admin API key was refused".into(),
        ));
        assert_eq!(state(&g, SYNC_ROLES), CapabilityState::Unavailable);
        g.organization = Some(OrganizationAccess::Unreachable("HTTP 503".into()));
        assert_eq!(state(&g, SYNC_ROLES), CapabilityState::Unknown);
    }

    #[test]
    fn the_context_is_named() {
        let c = evaluate(CREATE_ISSUES, &without("CREATE_ISSUES"), " in project OPS");
        assert_eq!(c.reason, "the account lacks Create issues in project OPS");
        let c = evaluate(CREATE_ISSUES, &without("CREATE_ISSUES"), "");
        assert_eq!(c.reason, "the account lacks Create issues in any project");
    }

    #[test]
    fn changes_are_noted_once() {
        let before = all(&everything());
        assert_eq!(change(&before, &before), None);
        assert_eq!(change(&before, &[]), None);
        let after = all(&without("DELETE_ISSUES"));
        assert_eq!(
            change(&before, &after).unwrap(),
            "6/7 capabilities available; unavailable: deleteIssues"
        );
        assert_eq!(change(&[], &before).unwrap(), "7/7 capabilities available");
    }
}
