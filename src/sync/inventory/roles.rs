//! The admin roles of a synced user, from the Admin API's platform roles and the groups with admin access.

use std::collections::HashSet;

use super::groups::Memberships;
use super::role;
use crate::jira::{AdminUser, GroupRef};

/// The groups that make their members admins, interned.
pub(super) struct AdminGroups {
    site_admin: HashSet<u16>,
    /// Product key and the groups with admin access to it, sorted by product.
    products: Vec<(String, HashSet<u16>)>,
}

impl AdminGroups {
    /// The site-admin groups and the admin groups of each product, among the groups whose members were read.
    pub(super) fn new(
        memberships: &Memberships<'_>,
        site_admin: &[GroupRef],
        products: &[(String, Vec<GroupRef>)],
    ) -> AdminGroups {
        let mut products: Vec<(String, HashSet<u16>)> = products
            .iter()
            .map(|(p, gs)| (p.clone(), memberships.set(gs)))
            .collect();
        products.sort_by(|a, b| a.0.cmp(&b.0));
        AdminGroups {
            site_admin: memberships.set(site_admin),
            products,
        }
    }

    /// Every admin role of a user in `groups`: `org-admin` and `site-admin` (the Admin API's platform roles,
    /// or a site-admin group), then `product-admin:<product>` for each product one of the groups administers.
    pub(super) fn roles_of(&self, admin_user: Option<&AdminUser>, groups: &[u16]) -> Vec<String> {
        let in_any = |set: &HashSet<u16>| groups.iter().any(|g| set.contains(g));
        let mut roles = Vec::new();
        if admin_user.is_some_and(|a| a.org_admin) {
            roles.push(role::ORG_ADMIN.to_owned());
        }
        if admin_user.is_some_and(|a| a.site_admin) || in_any(&self.site_admin) {
            roles.push(role::SITE_ADMIN.to_owned());
        }
        roles.extend(
            self.products
                .iter()
                .filter(|(_, set)| in_any(set))
                .map(|(p, _)| role::product_admin(p)),
        );
        roles
    }
}

/// The highest of a user's `roles`.
pub(super) fn highest(roles: &[String]) -> &'static str {
    let has = |r: &str| roles.iter().any(|x| x == r);
    if has(role::ORG_ADMIN) {
        role::ORG_ADMIN
    } else if has(role::SITE_ADMIN) {
        role::SITE_ADMIN
    } else if roles.iter().any(|r| role::product_of(r).is_some()) {
        role::PRODUCT_ADMIN
    } else {
        role::USER
    }
}

#[cfg(test)]
mod tests {
    use super::super::groups::group;
    use super::*;

    #[test]
    fn roles_from_platform_roles_and_groups() {
        let key = crate::sync::account_key;
        let members = vec![
            (group("site-admins"), vec![key("s")]),
            (group("jira-admins"), vec![key("j"), key("s")]),
            (group("jsm-admins"), vec![key("k")]),
        ];
        let m = Memberships::new(&members);
        let admins = AdminGroups::new(
            &m,
            &[group("site-admins")],
            &[
                ("jira-software".into(), vec![group("jira-admins")]),
                (
                    "jira-servicedesk".into(),
                    vec![group("jira-admins"), group("jsm-admins")],
                ),
                ("jira-core".into(), vec![group("not-read")]),
            ],
        );
        let org = AdminUser {
            account_id: "o".into(),
            org_admin: true,
            site_admin: true,
            products: vec![],
        };
        assert_eq!(
            admins.roles_of(Some(&org), m.groups_of("o")),
            ["org-admin", "site-admin"]
        );
        let s = admins.roles_of(None, m.groups_of("s"));
        assert_eq!(
            s,
            [
                "site-admin",
                "product-admin:jira-servicedesk",
                "product-admin:jira-software"
            ]
        );
        assert_eq!(highest(&s), role::SITE_ADMIN);
        let k = admins.roles_of(None, m.groups_of("k"));
        assert_eq!(k, ["product-admin:jira-servicedesk"]);
        assert_eq!(highest(&k), role::PRODUCT_ADMIN);
        assert!(admins.roles_of(None, m.groups_of("nobody")).is_empty());
        assert_eq!(highest(&[]), role::USER);
        assert_eq!(highest(&admins.roles_of(Some(&org), &[])), role::ORG_ADMIN);
    }
}
