//! The figures of a JiraConnection's status (users, licenses, usage) from a sync's inventory.

use crate::{
    api::{DailyUsage, LicenseStatus, UsageStatus, UserCounts},
    sync::Inventory,
};

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn seats(n: i64) -> Option<u32> {
    u32::try_from(n).ok()
}

pub(super) fn user_counts(inventory: &Inventory) -> UserCounts {
    let u = &inventory.users;
    UserCounts {
        total: small(u.total),
        synced: small(u.synced),
        hidden_email: small(u.hidden_email),
        deactivated: small(u.deactivated),
    }
}

pub(super) fn licenses(inventory: &Inventory) -> Vec<LicenseStatus> {
    inventory
        .licenses
        .iter()
        .map(|l| LicenseStatus {
            product: l.product.clone(),
            name: l.name.clone(),
            seats: seats(l.seats),
            used: small(l.used),
            remaining: seats(l.remaining),
            active_users: small(l.active_users),
            inactive_users: small(l.inactive_users),
            groups: l.groups.clone(),
        })
        .collect()
}

pub(super) fn usage(inventory: &Inventory) -> UsageStatus {
    let u = &inventory.usage;
    UsageStatus {
        window_days: u.window_days,
        from: u.from.to_string(),
        to: u.to.to_string(),
        active_users: small(u.active_users),
        daily: u
            .daily
            .iter()
            .map(|d| DailyUsage {
                date: d.date.to_string(),
                active_users: small(d.active_users),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_seats_are_absent() {
        assert_eq!(seats(-1), None);
        assert_eq!(seats(10), Some(10));
    }
}
