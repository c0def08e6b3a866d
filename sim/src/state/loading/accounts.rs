//! Loading the accounts of a scenario: groups, users (with their memberships) and credentials.

use crate::scenario::{AccountType, ApiTokenSpec, GroupSpec, OAuthClientSpec, UserSpec};
use crate::state::{ApiToken, Group, GroupIx, OAuthClient, State, User, UserIx};

/// The id of a group the scenario gives no id: a stable UUID-like hash of its name.
fn group_id_from_name(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    let l = h.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        0x8000 | (l >> 48) & 0x3fff,
        l & 0xffff_ffff_ffff
    )
}

impl State {
    pub(super) fn load_groups(&mut self, groups: Vec<GroupSpec>) -> Result<(), String> {
        for g in groups {
            let ix = self.groups.len() as GroupIx;
            let id = g.id.unwrap_or_else(|| group_id_from_name(&g.name));
            if self
                .group_by_name
                .insert(g.name.to_lowercase(), ix)
                .is_some()
            {
                return Err(format!("duplicate group '{}'", g.name));
            }
            if self.group_by_id.insert(id.clone(), ix).is_some() {
                return Err(format!("duplicate group id '{id}'"));
            }
            for p in &g.products {
                if !self.products.iter().any(|x| &x.key == p) {
                    return Err(format!("group '{}' grants unknown product '{p}'", g.name));
                }
            }
            self.groups.push(Group {
                id,
                name: g.name,
                products: g.products,
                site_admin: g.site_admin,
                administer: g.administer,
                browse_users: g.browse_users,
                members: Vec::new(),
                active_members: Vec::new(),
            });
        }
        Ok(())
    }

    /// Loads the `i`-th user of the scenario; without an explicit `managed`, an Atlassian account is managed
    /// when its email domain is one of `managed_domains`.
    pub(super) fn load_user(
        &mut self,
        i: usize,
        u: UserSpec,
        managed_domains: &[String],
        now_ms: i64,
    ) -> Result<(), String> {
        let ix = i as UserIx;
        let account_id = u
            .account_id
            .unwrap_or_else(|| format!("5b10{:020x}", i + 1));
        if self.user_by_id.insert(account_id.clone(), ix).is_some() {
            return Err(format!("duplicate accountId '{account_id}'"));
        }
        if let Some(e) = &u.email {
            self.user_by_email.entry(e.to_lowercase()).or_insert(ix);
        }
        let managed = u.managed.unwrap_or_else(|| {
            u.account_type == AccountType::Atlassian
                && u.email
                    .as_deref()
                    .and_then(|e| e.rsplit_once('@'))
                    .is_some_and(|(_, d)| managed_domains.iter().any(|m| m.eq_ignore_ascii_case(d)))
        });
        let mut groups = Vec::with_capacity(u.groups.len());
        for g in &u.groups {
            let gx = *self
                .group_by_name
                .get(&g.to_lowercase())
                .ok_or_else(|| format!("user '{}' is in unknown group '{g}'", u.name))?;
            groups.push(gx);
        }
        groups.sort_unstable();
        groups.dedup();
        for &gx in &groups {
            let grp = &mut self.groups[gx as usize];
            grp.members.push(ix);
            if u.active {
                grp.active_members.push(ix);
            }
        }
        self.users.push(User {
            account_id,
            display_name: u.name,
            email: u.email,
            email_visibility: u.email_visibility,
            account_type: u.account_type,
            app_type: u.app_type,
            active: u.active,
            time_zone: u.time_zone.unwrap_or_else(|| "UTC".into()),
            groups,
            managed,
            org_admin: u.org_admin,
            added_to_org_ms: u
                .added_to_org
                .map(|a| a.resolve(now_ms))
                .unwrap_or(now_ms - 400 * 86_400_000),
            last_active: u
                .last_active
                .into_iter()
                .map(|(k, v)| (k, v.resolve(now_ms)))
                .collect(),
            deleted: false,
            reported: 0,
        });
        self.listed.push(ix);
        Ok(())
    }

    /// A user reference of the scenario (accountId, email or display name), when given.
    pub(super) fn resolve_user(&self, r: &Option<String>) -> Result<Option<UserIx>, String> {
        match r {
            None => Ok(None),
            Some(r) => self
                .user_ref(r)
                .map(Some)
                .ok_or_else(|| format!("unknown user '{r}'")),
        }
    }

    pub(super) fn load_api_tokens(&mut self, tokens: Vec<ApiTokenSpec>) -> Result<(), String> {
        for t in tokens {
            let user = self
                .user_ref(&t.email)
                .ok_or_else(|| format!("API token of unknown user '{}'", t.email))?;
            self.api_tokens.insert(
                format!("{}\0{}", t.email.to_lowercase(), t.token),
                ApiToken {
                    user,
                    scopes: t.scopes,
                },
            );
        }
        Ok(())
    }

    pub(super) fn load_oauth_clients(
        &mut self,
        clients: Vec<OAuthClientSpec>,
    ) -> Result<(), String> {
        for c in clients {
            let user = self
                .user_ref(&c.account)
                .ok_or_else(|| format!("OAuth client of unknown account '{}'", c.account))?;
            self.oauth_clients.push(OAuthClient {
                client_id: c.client_id,
                client_secret: c.client_secret,
                user,
                scopes: c.scopes,
            });
        }
        Ok(())
    }
}
