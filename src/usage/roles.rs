//! The admin roles of a JiraUser (`status.roles`, with the highest one in `status.role`).

use crate::api::JiraUserStatus;
use crate::sync::role;

pub use crate::sync::role::{product_admin, product_of};

fn has(status: &JiraUserStatus, name: &str) -> bool {
    status.roles.iter().any(|r| r == name) || status.role.as_deref() == Some(name)
}

/// True for an organization admin.
pub fn is_org_admin(status: &JiraUserStatus) -> bool {
    has(status, role::ORG_ADMIN)
}

/// True for a site admin (granted by the Admin API's platform role or by a site-admin access group).
pub fn is_site_admin(status: &JiraUserStatus) -> bool {
    has(status, role::SITE_ADMIN)
}

/// True for an organization or site admin: the admins a license policy leaves alone unless told otherwise.
pub fn is_admin(status: &JiraUserStatus) -> bool {
    is_org_admin(status) || is_site_admin(status)
}

/// True for an admin of `product` (a member of a group with admin access to it).
pub fn is_product_admin(status: &JiraUserStatus, product: &str) -> bool {
    status.roles.iter().any(|r| product_of(r) == Some(product))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(roles: &[&str], role: Option<&str>) -> JiraUserStatus {
        JiraUserStatus {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            role: role.map(str::to_owned),
            ..JiraUserStatus::default()
        }
    }

    #[test]
    fn roles_are_read_from_the_list() {
        let u = with(
            &["site-admin", "product-admin:jira-software"],
            Some("site-admin"),
        );
        assert!(is_site_admin(&u) && is_admin(&u) && !is_org_admin(&u));
        assert!(is_product_admin(&u, "jira-software"));
        assert!(!is_product_admin(&u, "jira-servicedesk"));
        assert!(!is_product_admin(&u, "jira"), "no prefix match");
        let org = with(&["org-admin"], Some("org-admin"));
        assert!(is_org_admin(&org) && is_admin(&org) && !is_site_admin(&org));
        let nobody = with(&[], Some("user"));
        assert!(!is_admin(&nobody) && !is_product_admin(&nobody, "jira-software"));
    }

    #[test]
    fn a_status_written_before_the_list_existed_is_read_from_its_role() {
        assert!(is_org_admin(&with(&[], Some("org-admin"))));
        assert!(is_site_admin(&with(&[], Some("site-admin"))));
        assert!(!is_admin(&with(&[], None)));
    }

    #[test]
    fn product_admin_roles_round_trip() {
        assert_eq!(
            product_admin("jira-software"),
            "product-admin:jira-software"
        );
        assert_eq!(
            product_of(&product_admin("jira-servicedesk")),
            Some("jira-servicedesk")
        );
        assert_eq!(product_of("site-admin"), None);
    }
}
