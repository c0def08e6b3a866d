//! The plan of an inventory write: what to create, update and delete so that the existing JiraUsers match the
//! synced users, made one listed page of existing objects at a time.

use super::desired::{desired, is_managed_label, key_of_name};
use super::remembered;
use crate::{
    api::JiraUser,
    sync::{UserRecord, account_key},
};
use kube::ResourceExt;
use std::collections::HashMap;

/// What to write so that the existing JiraUsers match the desired ones. Users are positions in the sync's
/// records, so that a plan stays small at any size: [`desired`] computes a user's JiraUser when it is written.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Users without an object, in record order.
    pub create: Vec<usize>,
    /// Users whose object's labels, owner, spec or status differ, in record order.
    pub update: Vec<usize>,
    /// Objects of users no longer synced, sorted.
    pub delete: Vec<String>,
    /// Objects already as desired.
    pub unchanged: usize,
}

fn owned_by(user: &JiraUser, owner_uid: &str) -> bool {
    user.owner_references()
        .iter()
        .any(|o| o.uid == owner_uid && o.controller == Some(true))
}

/// Plans an inventory one listed page of existing JiraUsers at a time, so that neither all the existing
/// objects nor all the desired ones are ever held at once: the users still unmatched are indexed by object name,
/// each listed object is compared with the desired JiraUser of its user (computed from the record and dropped at
/// once), objects whose user is gone are deleted, and the users no page held are created at the end.
#[derive(Debug)]
pub struct Planner<'a> {
    connection: &'a str,
    records: &'a mut [UserRecord],
    /// Each listed user keeps the role, roles and Admin API dates its object has (the organization part of the
    /// sync failed).
    keep_roles: bool,
    owner_uid: &'a str,
    /// Position in `records` of each user not met in a listed page yet, by the number its object's name ends
    /// with.
    pending: HashMap<u64, usize>,
    plan: Plan,
}

impl<'a> Planner<'a> {
    /// A plan for the `records` of `connection`, whose objects must be controlled by the owner `owner_uid`.
    /// The record of each user whose object exists takes the latest activity and the first-seen time the object
    /// remembers and, with `keep_roles`, its role, roles and Admin API dates.
    pub fn new(
        connection: &'a str,
        records: &'a mut [UserRecord],
        owner_uid: &'a str,
        keep_roles: bool,
    ) -> Planner<'a> {
        let mut pending = HashMap::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            // Two accountIds whose hashes share the name's digits: the first keeps the name.
            pending.entry(account_key(&record.account_id)).or_insert(i);
        }
        Planner {
            connection,
            records,
            keep_roles,
            owner_uid,
            pending,
            plan: Plan::default(),
        }
    }

    /// Plans one page of the existing JiraUsers (those labelled with the connection).
    pub fn page(&mut self, page: &[JiraUser]) {
        for current in page {
            let name = current.metadata.name.as_deref().unwrap_or_default();
            let pending = key_of_name(self.connection, name).and_then(|k| self.pending.remove(&k));
            let Some(i) = pending else {
                self.plan.delete.push(name.to_string());
                continue;
            };
            match current.status.as_ref() {
                Some(previous) => {
                    remembered::carry(&mut self.records[i], previous, self.keep_roles)
                }
                None if self.keep_roles => self.records[i].role = None,
                None => {}
            }
            let d = desired(self.connection, &self.records[i]);
            let labels = current.labels().iter().filter(|(k, _)| is_managed_label(k));
            let differs = !labels.eq(&d.labels)
                || current.spec != d.spec
                || current.status.as_ref() != Some(&d.status)
                || !owned_by(current, self.owner_uid);
            if differs {
                self.plan.update.push(i);
            } else {
                self.plan.unchanged += 1;
            }
        }
    }

    /// The plan, once every page is planned: the users no page held are created.
    pub fn finish(self) -> Plan {
        let mut plan = self.plan;
        plan.create = self.pending.into_values().collect();
        plan.create.sort_unstable();
        plan.update.sort_unstable();
        plan.delete.sort();
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::super::desired::{object_name, product_label};
    use super::super::fixtures::{record, stored};
    use super::*;

    /// Plans `records` against the existing objects listed in `pages`.
    fn plan_pages(records: &[UserRecord], pages: &[Vec<JiraUser>], uid: &str) -> Plan {
        let mut records = records.to_vec();
        let mut planner = Planner::new("acme", &mut records, uid, false);
        for page in pages {
            planner.page(page);
        }
        planner.finish()
    }

    #[test]
    fn without_the_admin_api_existing_users_keep_their_role() {
        let mut with_roles = records(&["a", "b"]);
        with_roles[0].role = Some("org-admin".into());
        with_roles[1].role = Some("user".into());
        let existing = stored_all(&with_roles, "uid-1");
        // The Admin API failed: no roles in the records, and a new user "c".
        let mut wanted = records(&["a", "b", "c"]);
        let mut planner = Planner::new("acme", &mut wanted, "uid-1", true);
        planner.page(&existing);
        let plan = planner.finish();
        assert_eq!(
            plan,
            Plan {
                create: vec![2],
                unchanged: 2,
                ..Plan::default()
            }
        );
        let roles: Vec<Option<&str>> = wanted.iter().map(|r| r.role.as_deref()).collect();
        assert_eq!(roles, vec![Some("org-admin"), Some("user"), None]);
        // Without keep_roles, the same records would take the roles away.
        let p = plan_pages(&records(&["a", "b"]), &[existing], "uid-1");
        assert_eq!(p.update, vec![0, 1]);
    }

    fn records(ids: &[&str]) -> Vec<UserRecord> {
        ids.iter()
            .map(|id| record(id, &["jira-software"], 1))
            .collect()
    }

    fn stored_all(records: &[UserRecord], uid: &str) -> Vec<JiraUser> {
        records
            .iter()
            .map(|r| stored(&desired("acme", r), uid))
            .collect()
    }

    fn ids(records: &[UserRecord], positions: &[usize]) -> Vec<String> {
        positions
            .iter()
            .map(|&i| records[i].account_id.clone())
            .collect()
    }

    #[test]
    fn an_unchanged_site_writes_nothing() {
        let wanted = records(&["a", "b", "c", "d", "e"]);
        let existing = stored_all(&wanted, "uid-1");
        // However the objects are paged and ordered.
        let pages = vec![
            vec![existing[3].clone(), existing[0].clone()],
            vec![existing[4].clone()],
            vec![],
            vec![existing[2].clone(), existing[1].clone()],
        ];
        let p = plan_pages(&wanted, &pages, "uid-1");
        assert_eq!(
            p,
            Plan {
                unchanged: 5,
                ..Plan::default()
            }
        );
        assert_eq!(plan_pages(&wanted, &[existing], "uid-1").unchanged, 5);
    }

    #[test]
    fn an_empty_listing_creates_every_user_in_record_order() {
        let wanted = records(&["a", "b", "c"]);
        let p = plan_pages(&wanted, &[], "uid-1");
        assert_eq!(p.create, vec![0, 1, 2]);
        assert!(p.update.is_empty() && p.delete.is_empty());
        assert_eq!(
            plan_pages(&wanted, &[vec![]], "uid-1").create,
            vec![0, 1, 2]
        );
    }

    #[test]
    fn plans_creates_updates_and_deletes() {
        let old = records(&["a", "b", "c", "gone"]);
        let mut existing = stored_all(&old, "uid-1");
        // Someone else's label is left alone.
        existing[2]
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("team".into(), "blue".into());
        let wanted = vec![
            record("a", &["jira-software"], 1),    // unchanged
            record("b", &["jira-servicedesk"], 1), // product moved: labels and status
            record("c", &["jira-software"], 4),    // activity only: status
            record("new", &["jira-software"], 0),  // created
        ];
        let p = plan_pages(&wanted, &[existing], "uid-1");
        assert_eq!(p.unchanged, 1);
        assert_eq!(ids(&wanted, &p.create), vec!["new"]);
        assert_eq!(ids(&wanted, &p.update), vec!["b", "c"], "one write each");
        assert_eq!(p.delete, vec![object_name("acme", "gone")]);
    }

    #[test]
    fn pages_are_planned_apart_and_the_users_no_page_held_are_created() {
        let old = records(&["a", "b", "c", "d", "gone-1", "gone-2"]);
        let mut existing = stored_all(&old, "uid-1");
        existing[1].status.as_mut().unwrap().active_days = 9; // b: status only
        existing[3].spec.account_id = "tampered".into(); // d: object only
        let wanted = records(&["a", "b", "c", "d", "new-1", "new-2"]);
        // Deletions on the first and the last page, updates on both, the users of the middle page unchanged.
        let pages = vec![
            vec![existing[4].clone(), existing[3].clone()],
            vec![existing[0].clone(), existing[2].clone()],
            vec![existing[1].clone(), existing[5].clone()],
        ];
        let p = plan_pages(&wanted, &pages, "uid-1");
        assert_eq!(ids(&wanted, &p.create), vec!["new-1", "new-2"]);
        assert_eq!(ids(&wanted, &p.update), vec!["b", "d"]);
        assert_eq!(p.unchanged, 2);
        let mut gone = vec![object_name("acme", "gone-1"), object_name("acme", "gone-2")];
        gone.sort();
        assert_eq!(p.delete, gone);
        // The same objects on one page plan the same.
        let one_page: Vec<JiraUser> = pages.into_iter().flatten().collect();
        assert_eq!(plan_pages(&wanted, &[one_page], "uid-1"), p);
    }

    #[test]
    fn every_user_is_gone_from_an_emptied_site() {
        let old = records(&["a", "b", "c"]);
        let existing = stored_all(&old, "uid-1");
        let p = plan_pages(
            &[],
            &[existing[..2].to_vec(), existing[2..].to_vec()],
            "uid-1",
        );
        let mut names: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|id| object_name("acme", id))
            .collect();
        names.sort();
        assert_eq!(p.delete, names);
        assert!(p.create.is_empty() && p.update.is_empty() && p.unchanged == 0);
    }

    #[test]
    fn a_user_of_a_previous_connection_with_the_same_name_is_adopted() {
        let wanted = records(&["a", "b"]);
        let mut existing = stored_all(&wanted, "uid-1");
        existing[1] = stored(&desired("acme", &wanted[1]), "old-uid");
        let p = plan_pages(
            &wanted,
            &[vec![existing[0].clone()], vec![existing[1].clone()]],
            "new-uid",
        );
        assert_eq!(ids(&wanted, &p.update), vec!["a", "b"]);
        assert!(p.create.is_empty() && p.delete.is_empty());
        // A reference to the owner that is not the controller reference does not count either.
        let mut shared = stored(&desired("acme", &wanted[0]), "uid-1");
        shared.metadata.owner_references.as_mut().unwrap()[0].controller = None;
        let p = plan_pages(&wanted[..1], &[vec![shared]], "uid-1");
        assert_eq!(p.update, vec![0]);
    }

    #[test]
    fn an_object_with_the_connections_label_and_a_name_the_operator_does_not_give_is_deleted() {
        let wanted = records(&["a"]);
        let existing = stored_all(&wanted, "uid-1");
        let renamed = |name: &str| {
            let mut u = existing[0].clone();
            u.metadata.name = Some(name.into());
            u
        };
        let upper = existing[0]
            .name_any()
            .to_uppercase()
            .replace("ACME-", "acme-");
        let page = vec![
            renamed("acme-hand-made"),
            renamed(&upper),
            renamed("acme"),
            existing[0].clone(),
        ];
        let p = plan_pages(&wanted, &[page], "uid-1");
        let mut foreign = vec!["acme".to_string(), "acme-hand-made".into(), upper];
        foreign.sort();
        assert_eq!(p.delete, foreign);
        assert_eq!(p.unchanged, 1, "the user's own object is still matched");
        assert!(p.create.is_empty() && p.update.is_empty());
    }

    #[test]
    fn a_managed_label_the_user_lost_is_removed() {
        let wanted = records(&["a"]);
        let mut existing = stored_all(&wanted, "uid-1");
        existing[0]
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert(product_label("jira-servicedesk"), "true".into());
        let p = plan_pages(&wanted, &[existing], "uid-1");
        assert_eq!(p.update, vec![0]);
    }
}
