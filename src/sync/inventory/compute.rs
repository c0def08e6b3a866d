//! The inventory as a pure function of what the sync collected and the activity it counted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::groups::Memberships;
use super::roles::{self, AdminGroups};
use super::{
    ActivityCounts, Collected, DailyActive, Inventory, LicenseSummary, Listing, RoleCounts,
    UsageSummary, UserCounts, UserRecord, Window, role,
};
use crate::jira::time::day_number;
use crate::jira::{AdminUser, SiteInfo};
use crate::sync::SyncError;
use crate::sync::activity::ActivityStore;

/// Computes the inventory. Fails with `AllEmailsHidden` when there are humans and none shows an email.
pub fn compute(
    site: SiteInfo,
    collected: Collected,
    activity: &ActivityStore,
    window: Window,
) -> Result<Inventory, SyncError> {
    let Collected {
        users,
        roles,
        members,
        site_admin_groups,
        admin_groups,
        admin,
    } = collected;
    let listing = Listing {
        accounts: users.len() as u64,
        has_own_account: users.iter().any(|u| u.account_id == site.account_id),
    };

    let memberships = Memberships::new(&members);
    let product_groups: Vec<HashSet<u16>> =
        roles.iter().map(|r| memberships.set(&r.groups)).collect();
    let admin_groups = AdminGroups::new(&memberships, &site_admin_groups, &admin_groups);
    let admin_by_id: HashMap<&str, &AdminUser> = admin
        .as_ref()
        .map(|a| a.users.iter().map(|u| (u.account_id.as_str(), u)).collect())
        .unwrap_or_default();
    let roles_wanted = admin.is_some();

    let from = day_number(window.from);
    let to = day_number(window.to);
    let mut daily = vec![0u64; (to - from + 1) as usize];
    let mut active_humans = 0u64;
    let mut counts = UserCounts::default();
    let mut role_counts = RoleCounts::default();
    let mut used = vec![0u64; roles.len()];
    let mut active_holders = vec![0u64; roles.len()];
    // The exact size: growing by doubling would leave up to half of the largest vector of the sync unused.
    let mut records = Vec::with_capacity(
        users
            .iter()
            .filter(|u| u.is_human() && u.visible_email().is_some())
            .count(),
    );
    // Product keys and group names, and the sets of them users hold, shared by the records instead of copied
    // into each: a site has a few such sets and many users.
    let product_keys: Vec<Arc<str>> = roles.iter().map(|r| Arc::from(r.key.as_str())).collect();
    let mut product_sets = SharedSets::default();
    let mut group_sets = SharedSets::default();

    for u in users {
        if !u.is_human() {
            continue;
        }
        counts.total += 1;
        if !u.active {
            counts.deactivated += 1;
        }
        let days = activity.days_of(&u.account_id);
        let mut active_days = 0u32;
        let mut act = ActivityCounts::default();
        let mut last_in_window = None;
        for d in days.iter().filter(|d| d.day >= from && d.day <= to) {
            active_days += 1;
            daily[(d.day - from) as usize] += 1;
            act.comments += d.comments as u64;
            act.changelog += d.changelog as u64;
            act.worklogs += d.worklogs as u64;
            last_in_window = Some(d.day);
        }
        if active_days > 0 {
            active_humans += 1;
        }
        let Some(email) = u.visible_email().map(str::to_owned) else {
            counts.hidden_email += 1;
            continue;
        };
        counts.synced += 1;

        let my_groups = memberships.groups_of(&u.account_id);
        // Product access: any group of the product; a deactivated account holds no license; Jira Core is
        // implied by the other products.
        let mut held: Vec<usize> = if u.active {
            product_groups
                .iter()
                .enumerate()
                .filter(|(_, gs)| my_groups.iter().any(|g| gs.contains(g)))
                .map(|(i, _)| i)
                .collect()
        } else {
            Vec::new()
        };
        if held.iter().any(|&i| !roles[i].platform) {
            held.retain(|&i| !roles[i].platform);
        }
        for &i in &held {
            used[i] += 1;
            if active_days > 0 {
                active_holders[i] += 1;
            }
        }
        let products = product_sets.get(&held, |i| product_keys[i].clone());
        let groups = group_sets.get(my_groups, |g| memberships.name(g).clone());

        let admin_user = admin_by_id.get(u.account_id.as_str());
        let user_roles = if roles_wanted {
            admin_groups.roles_of(admin_user.copied(), my_groups)
        } else {
            Vec::new()
        };
        let role = roles_wanted.then(|| {
            let r = roles::highest(&user_roles);
            *match r {
                role::ORG_ADMIN => &mut role_counts.org_admin,
                role::SITE_ADMIN => &mut role_counts.site_admin,
                role::PRODUCT_ADMIN => &mut role_counts.product_admin,
                _ => &mut role_counts.user,
            } += 1;
            r.to_owned()
        });
        let last_active_date = last_in_window
            .map(crate::jira::time::day_from_number)
            .or_else(|| activity.last_active(&u.account_id));
        records.push(UserRecord {
            account_id: u.account_id,
            display_name: u.display_name,
            email,
            active: u.active,
            products,
            groups,
            role,
            roles: user_roles,
            last_active_date,
            first_seen: None,
            product_last_active: admin_user.map(|a| a.products.clone()).unwrap_or_default(),
            active_days,
            activity: act,
        });
    }
    if counts.total > 0 && counts.synced == 0 {
        return Err(SyncError::AllEmailsHidden {
            hidden: counts.hidden_email,
        });
    }
    // Account ids are unique, so an unstable sort orders the same; unlike a stable one it needs no scratch
    // copy of the records (12 MB at 100,000 users), and it only checks the listing's order, which is sorted.
    records.sort_unstable_by(|a, b| a.account_id.cmp(&b.account_id));

    let mut licenses: Vec<LicenseSummary> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| LicenseSummary {
            product: r.key.clone(),
            name: r.name.clone(),
            seats: r.seats,
            used: used[i],
            remaining: r.remaining,
            active_users: active_holders[i],
            inactive_users: used[i] - active_holders[i],
            groups: {
                let mut names: Vec<String> = r.groups.iter().map(|g| g.name.clone()).collect();
                names.sort();
                names
            },
        })
        .collect();
    licenses.sort_by(|a, b| a.product.cmp(&b.product));

    let usage = UsageSummary {
        window_days: window.days,
        from: window.from,
        to: window.to,
        active_users: active_humans,
        daily: daily
            .iter()
            .enumerate()
            .map(|(i, n)| DailyActive {
                date: window.from + chrono::Duration::days(i as i64),
                active_users: *n,
            })
            .collect(),
    };
    Ok(Inventory {
        site,
        listing,
        users: counts,
        roles: roles_wanted.then_some(role_counts),
        licenses,
        usage,
        records,
    })
}

/// The sorted name sets made so far, by the members they were made of.
struct SharedSets<K> {
    made: HashMap<Vec<K>, Arc<[Arc<str>]>>,
}

impl<K> Default for SharedSets<K> {
    fn default() -> Self {
        SharedSets {
            made: HashMap::new(),
        }
    }
}

impl<K: Copy + Eq + std::hash::Hash> SharedSets<K> {
    /// The sorted names of `members` (`name` gives each one's), made once per distinct `members`.
    fn get(&mut self, members: &[K], name: impl Fn(K) -> Arc<str>) -> Arc<[Arc<str>]> {
        if let Some(set) = self.made.get(members) {
            return set.clone();
        }
        let mut names: Vec<Arc<str>> = members.iter().map(|&m| name(m)).collect();
        names.sort();
        let set: Arc<[Arc<str>]> = names.into();
        self.made.insert(members.to_vec(), set.clone());
        set
    }
}

#[cfg(test)]
mod tests;
