//! The JiraUser one synced user should be: its name, labels, spec and status, a pure function of the record.

use super::remembered;
use crate::{
    api::{
        JiraUserSpec, JiraUserStatus, LABEL_ACTIVE, LABEL_CONNECTION, LABEL_PRODUCT_PREFIX,
        LocalObjectReference, UserActivity,
    },
    jira::clip,
    sync::{UserRecord, account_key},
};
use std::collections::BTreeMap;

/// Hex digits of the accountId hash in a JiraUser's name: 64 bits, so that two of a site's users sharing a name
/// is out of reach (about 3e-10 at 100,000 users; 40 bits would give 0.5 %).
const HASH_LEN: usize = 16;
/// Longest display name or email written to a JiraUser: a hostile or garbled directory entry must not push the
/// object towards the apiserver's size limit.
const FIELD_MAX: usize = 512;

/// The JiraUser one synced user should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Object name: `<connection>-<hash of accountId>`.
    pub name: String,
    /// The labels the operator manages.
    pub labels: BTreeMap<String, String>,
    /// The spec.
    pub spec: JiraUserSpec,
    /// The status.
    pub status: JiraUserStatus,
}

/// The name of the JiraUser of `account_id` in `connection`.
pub fn object_name(connection: &str, account_id: &str) -> String {
    // Names are at most 253 characters; the connection's name is at most 63 (CRD validation).
    format!("{connection}-{:0HASH_LEN$x}", account_key(account_id))
}

/// The [`account_key`] an object named `name` in `connection` carries, or `None` for a name the operator does
/// not give.
pub(super) fn key_of_name(connection: &str, name: &str) -> Option<u64> {
    let digits = name.strip_prefix(connection)?.strip_prefix('-')?;
    let lowercase_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    (digits.len() == HASH_LEN && digits.chars().all(lowercase_hex))
        .then(|| u64::from_str_radix(digits, 16).ok())
        .flatten()
}

/// The label selector of a connection's JiraUsers.
pub fn selector(connection: &str) -> String {
    format!("{LABEL_CONNECTION}={connection}")
}

/// The label key of a product (`jiracloud.io/product.jira-software`); characters a label name cannot hold
/// become `-`.
pub fn product_label(product: &str) -> String {
    let clean: String = product
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name_max = 63 - "product.".len();
    let clean = &clean[..clean.len().min(name_max)];
    format!(
        "{LABEL_PRODUCT_PREFIX}{}",
        clean.trim_matches(|c: char| !c.is_ascii_alphanumeric())
    )
}

pub(super) fn is_managed_label(key: &str) -> bool {
    key == LABEL_CONNECTION || key == LABEL_ACTIVE || key.starts_with(LABEL_PRODUCT_PREFIX)
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The JiraUser of one synced user.
pub fn desired(connection: &str, record: &UserRecord) -> Desired {
    let mut labels = BTreeMap::from([
        (LABEL_CONNECTION.to_string(), connection.to_string()),
        (
            LABEL_ACTIVE.to_string(),
            (record.active_days > 0).to_string(),
        ),
    ]);
    for product in record.products.iter() {
        labels.insert(product_label(product), "true".into());
    }
    Desired {
        name: object_name(connection, &record.account_id),
        labels,
        spec: JiraUserSpec {
            connection_ref: LocalObjectReference {
                name: connection.to_string(),
            },
            account_id: record.account_id.clone(),
        },
        status: JiraUserStatus {
            account_id: record.account_id.clone(),
            display_name: clip(&record.display_name, FIELD_MAX),
            email: clip(&record.email, FIELD_MAX),
            account_active: record.active,
            products: record.products.iter().map(|p| p.to_string()).collect(),
            groups: record.groups.iter().map(|g| g.to_string()).collect(),
            role: record.role.clone(),
            roles: record.roles.clone(),
            last_active_date: record.last_active_date.map(|d| d.to_string()),
            first_seen_time: record.first_seen.map(remembered::time),
            product_last_active: remembered::product_last_active(&record.product_last_active),
            active_days: record.active_days,
            activity: UserActivity {
                comments: small(record.activity.comments),
                changelog: small(record.activity.changelog),
                worklogs: small(record.activity.worklogs),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::record;
    use super::*;
    use sha2::Digest;

    #[test]
    fn names_and_labels_follow_the_contract() {
        let d = desired(
            "acme",
            &record("557058:abc", &["jira-software", "jira-servicedesk"], 0),
        );
        assert!(
            d.name.starts_with("acme-") && d.name.len() == "acme-".len() + HASH_LEN,
            "{}",
            d.name
        );
        assert_eq!(d.name, object_name("acme", "557058:abc"), "stable");
        assert_ne!(d.name, object_name("acme", "557058:abd"));
        assert_eq!(
            d.name,
            format!(
                "acme-{}",
                &hex::encode(sha2::Sha256::digest(b"557058:abc"))[..HASH_LEN]
            ),
            "the first 16 hex digits of the accountId's SHA-256"
        );
        assert_eq!(
            key_of_name("acme", &d.name),
            Some(account_key("557058:abc"))
        );
        for foreign in [
            "acme",
            "acme-",
            "acme-0123",
            "acme-0123456789ABCDEF",
            "acme-0123456789abcdeg",
            "acme-0123456789abcdef0",
            "acmex0123456789abcdef",
            "other-0123456789abcdef",
            "acme-+123456789abcdef",
        ] {
            assert_eq!(key_of_name("acme", foreign), None, "{foreign}");
        }
        assert_eq!(d.labels["jiracloud.io/connection"], "acme");
        assert_eq!(d.labels["jiracloud.io/active"], "false");
        assert_eq!(d.labels["jiracloud.io/product.jira-software"], "true");
        assert_eq!(d.labels["jiracloud.io/product.jira-servicedesk"], "true");
        assert_eq!(d.status.activity.changelog, 2);
        assert_eq!(d.status.last_active_date.as_deref(), Some("2026-11-27"));
        let active = desired("acme", &record("x", &[], 3));
        assert_eq!(active.labels["jiracloud.io/active"], "true");
        assert_eq!(
            product_label("weird key/€"),
            "jiracloud.io/product.weird-key"
        );
        assert!(product_label(&"p".repeat(100)).len() <= "jiracloud.io/".len() + 63);
    }

    #[test]
    fn huge_directory_fields_are_clipped() {
        let mut huge = record("x", &[], 0);
        huge.display_name = "n".repeat(1_000_000);
        huge.email = format!("{}@example.com", "e".repeat(1_000_000));
        let d = desired("acme", &huge);
        assert!(d.status.display_name.len() <= FIELD_MAX + '…'.len_utf8());
        assert!(d.status.email.len() <= FIELD_MAX + '…'.len_utf8());
    }
}
