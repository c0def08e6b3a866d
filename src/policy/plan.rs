//! The plan of a license policy: figures per product, the candidates in a stated order, and the first of them
//! as the plan that one run executes, identified by a hash of exactly that list.

use super::money::{Cents, format_cents, parse_cents};
use crate::api::{Candidate, JiraUserStatus, Money, Plan, ProductFigures, Reclaim};
use crate::usage::{Evidence, Inactivity, classify, inactivity::chrono_time, roles};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Most candidates listed in a policy's status (the figures count them all).
pub const MAX_LISTED_CANDIDATES: usize = 100;

/// One synced license holder, as the planner sees it: its JiraUser's status and protection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holder {
    /// The JiraUser's status (products, groups, roles, activity).
    pub status: JiraUserStatus,
    /// Annotated `jiracloud.io/protected=true`.
    pub protected: bool,
}

/// What the planner knows of the site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// What the connection observed, and the time of the evaluation.
    pub evidence: Evidence,
    /// The account the connection authenticates as: never a candidate.
    pub own_account: Option<String>,
    /// The groups that grant each product.
    pub product_groups: BTreeMap<String, Vec<String>>,
}

/// The policy's rules, from its spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Products in scope; empty: every product.
    pub products: Vec<String>,
    /// Days of inactivity that make a candidate.
    pub inactive_days: u32,
    /// Days a holder that appeared after the first sync is spared.
    pub grace_days: u32,
    /// Members of these groups are excluded.
    pub exclude_groups: BTreeSet<String>,
    /// These accountIds are excluded.
    pub exclude_accounts: BTreeSet<String>,
    /// These emails (lowercase) are excluded.
    pub exclude_emails: BTreeSet<String>,
    /// Admins are candidates too.
    pub include_admins: bool,
    /// Users per run.
    pub max_per_run: usize,
    /// Monthly seat price per product.
    pub seat_price: BTreeMap<String, Money>,
}

/// The outcome of an evaluation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Figures per product in scope, by product key.
    pub products: Vec<ProductFigures>,
    /// Every candidate, longest inactive first.
    pub candidates: Vec<Candidate>,
    /// The plan: the first `max_per_run` candidates' reclaims (`None`: no candidate).
    pub plan: Option<Plan>,
    /// Every (accountId, product) that is a candidate now, with the groups to leave.
    pub reclaimable: BTreeMap<(String, String), Vec<String>>,
}

impl Evaluation {
    /// The candidates to list in the status (bounded) and whether the list was cut.
    pub fn listed_candidates(&self) -> (Vec<Candidate>, bool) {
        let truncated = self.candidates.len() > MAX_LISTED_CANDIDATES;
        let listed = self
            .candidates
            .iter()
            .take(MAX_LISTED_CANDIDATES)
            .cloned()
            .collect();
        (listed, truncated)
    }
}

#[derive(Default)]
struct Counts {
    holders: u32,
    inactive: u32,
    unknown_yet: u32,
    excluded: u32,
    candidates: u32,
}

/// Why an inactive holder is kept, if it is.
fn exclusion(h: &Holder, site: &Site, rules: &Rules) -> Option<&'static str> {
    let st = &h.status;
    if site.own_account.as_deref() == Some(st.account_id.as_str()) {
        return Some("own account");
    }
    if h.protected {
        return Some("protected");
    }
    if rules.exclude_accounts.contains(&st.account_id)
        || rules.exclude_emails.contains(&st.email.to_lowercase())
    {
        return Some("excluded user");
    }
    if st.groups.iter().any(|g| rules.exclude_groups.contains(g)) {
        return Some("excluded group");
    }
    if roles::is_admin(st) && !rules.include_admins {
        return Some("admin");
    }
    let seen = st.first_seen_time.as_ref().and_then(chrono_time);
    let new = match (seen, site.evidence.first_sync_time) {
        (Some(seen), Some(first)) => {
            seen > first
                && site.evidence.now - seen < chrono::Duration::days(rules.grace_days.into())
        }
        _ => false,
    };
    new.then_some("grace period")
}

/// Evaluates the rules over the holders.
pub fn evaluate(holders: &[Holder], site: &Site, rules: &Rules) -> Evaluation {
    let in_scope = |p: &str| rules.products.is_empty() || rules.products.iter().any(|q| q == p);
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for p in &rules.products {
        counts.entry(p.clone()).or_default();
    }
    let grants = |g: &str, p: &str| {
        site.product_groups
            .get(p)
            .is_some_and(|gs| gs.iter().any(|x| x == g))
    };
    // (inactive since, accountId) → candidate: the earliest `since` is the longest inactive.
    let mut ranked: Vec<(NaiveDate, Candidate)> = Vec::new();
    let mut reclaimable = BTreeMap::new();
    for h in holders {
        let st = &h.status;
        let mut mine: Vec<(String, NaiveDate)> = Vec::new();
        for p in st.products.iter().filter(|p| in_scope(p)) {
            let c = counts.entry(p.clone()).or_default();
            c.holders += 1;
            match classify(st, p, &site.evidence, rules.inactive_days) {
                Inactivity::Active => {}
                Inactivity::UnknownYet => c.unknown_yet += 1,
                Inactivity::Inactive { since } => {
                    c.inactive += 1;
                    if exclusion(h, site, rules).is_some() {
                        c.excluded += 1;
                    } else {
                        mine.push((p.clone(), since));
                    }
                }
            }
        }
        if mine.is_empty() {
            continue;
        }
        mine.sort();
        let kept: BTreeSet<&str> = st
            .products
            .iter()
            .filter(|p| !mine.iter().any(|(q, _)| q == *p))
            .map(String::as_str)
            .collect();
        let mut products = Vec::new();
        let mut latest = NaiveDate::MIN;
        for (p, since) in mine {
            // Leave the groups that grant the product and no product the holder keeps.
            let groups: Vec<String> = st
                .groups
                .iter()
                .filter(|g| grants(g, &p) && !kept.iter().any(|k| grants(g, k)))
                .cloned()
                .collect();
            if groups.is_empty() {
                // Held through no group the policy may leave: not reclaimable by a group change.
                counts.get_mut(&p).expect("counted").excluded += 1;
                continue;
            }
            counts.get_mut(&p).expect("counted").candidates += 1;
            latest = latest.max(since);
            reclaimable.insert((st.account_id.clone(), p.clone()), groups);
            products.push(p);
        }
        if products.is_empty() {
            continue;
        }
        ranked.push((
            latest,
            Candidate {
                account_id: st.account_id.clone(),
                email: st.email.clone(),
                last_active_date: st.last_active_date.clone(),
                products,
            },
        ));
    }
    ranked.sort_by(|a, b| (a.0, &a.1.account_id).cmp(&(b.0, &b.1.account_id)));
    let candidates: Vec<Candidate> = ranked.into_iter().map(|(_, c)| c).collect();
    let reclaims: Vec<Reclaim> = candidates
        .iter()
        .take(rules.max_per_run)
        .flat_map(|c| {
            c.products.iter().map(|p| Reclaim {
                account_id: c.account_id.clone(),
                email: c.email.clone(),
                product: p.clone(),
                groups: reclaimable[&(c.account_id.clone(), p.clone())].clone(),
            })
        })
        .collect();
    let plan = (!reclaims.is_empty()).then(|| Plan {
        id: plan_id(&reclaims),
        reclaims,
    });
    let products = counts
        .into_iter()
        .map(|(product, c)| {
            let monthly_savings = rules.seat_price.get(&product).and_then(|price| {
                let each: Cents = parse_cents(&price.amount)?;
                Some(Money {
                    amount: format_cents(each.checked_mul(c.candidates.into())?),
                    currency: price.currency.clone(),
                })
            });
            ProductFigures {
                product,
                holders: c.holders,
                inactive: c.inactive,
                unknown_yet: c.unknown_yet,
                excluded: c.excluded,
                candidates: c.candidates,
                reclaimable_seats: c.candidates,
                monthly_savings,
            }
        })
        .collect();
    Evaluation {
        products,
        candidates,
        plan,
        reclaimable,
    }
}

/// The id of a plan: the first 12 hex digits of a SHA-256 over exactly its reclaims, in order.
pub fn plan_id(reclaims: &[Reclaim]) -> String {
    let mut hash = Sha256::new();
    for r in reclaims {
        for part in [&r.account_id, &r.product] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        for g in &r.groups {
            hash.update(g.as_bytes());
            hash.update([1]);
        }
        hash.update([2]);
    }
    hex::encode(hash.finalize())[..12].to_string()
}

#[cfg(test)]
mod tests;
