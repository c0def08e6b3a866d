//! The directory parts of a sync, each run on its own so that a checkpoint can keep the finished ones: the
//! users listing, the products with their groups and members (and the admin groups when roles are wanted), and
//! the organization (Admin API) part.

use futures::{StreamExt, TryStreamExt, stream};

use super::{Collected, OrganizationOutcome, account_key};
use crate::jira::{AdminUsers, ApplicationRole, GroupRef, JiraClient, JiraError};

/// Products, the groups granting access or admin rights, and the members of each.
#[derive(Debug, Clone)]
pub(super) struct Groups {
    roles: Vec<ApplicationRole>,
    site_admin_groups: Vec<GroupRef>,
    admin_groups: Vec<(String, Vec<GroupRef>)>,
    /// Each group's active members, by [`account_key`].
    members: Vec<(GroupRef, Vec<u64>)>,
}

/// What the organization part gave: the Admin API users, and how it went.
pub(super) type Organization = (Option<AdminUsers>, OrganizationOutcome);

/// Products, group members and (with an organization) the admin groups.
pub(super) async fn groups(client: &JiraClient) -> Result<Groups, JiraError> {
    let with_roles = client.has_admin();
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
    let members: Vec<(GroupRef, Vec<u64>)> = stream::iter(groups)
        .map(|g| async move {
            match client.group_members(&g).await {
                Ok(m) => Ok((g, m.iter().map(|id| account_key(id)).collect())),
                // A role may list a group that was deleted since: it grants nothing.
                Err(JiraError::GroupNotFound(_)) => Ok((g, Vec::new())),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(client.concurrency())
        .try_collect()
        .await?;
    Ok(Groups {
        roles,
        site_admin_groups,
        admin_groups,
        members,
    })
}

/// The Admin API users, when an organization is configured. Its failure does not fail the sync: it is
/// returned as the outcome.
pub(super) async fn organization(client: &JiraClient) -> Organization {
    if !client.has_admin() {
        return (None, OrganizationOutcome::NotConfigured);
    }
    // The key check names a wrong organization as such; the listing would only be refused.
    let read = async {
        client.check_admin_key().await?;
        client.admin_users().await
    };
    match read.await {
        Ok(users) => (Some(users), OrganizationOutcome::Synced),
        Err(e) => (None, OrganizationOutcome::Failed(e)),
    }
}

/// The directory the inventory is computed from.
pub(super) fn collected(
    users: Vec<crate::jira::JiraUser>,
    groups: Groups,
    admin: Option<AdminUsers>,
) -> Collected {
    Collected {
        users,
        roles: groups.roles,
        members: groups.members,
        site_admin_groups: groups.site_admin_groups,
        admin_groups: groups.admin_groups,
        admin,
    }
}
