//! Whether a sync's users listing may be applied: a pure decision, unit-tested.
//!
//! A listing can come back empty or short without the users being gone (an anonymous answer, an incident, a
//! proxy that strips the Authorization header, privacy filtering), and applying it would wipe the figures and
//! delete JiraUsers. So a listing that lacks the connection's own account (the accountId `/myself` gave, a
//! human or a service account's app account), or that holds more than `spec.sync.maxShrinkPercent` fewer
//! users than the last good sync, is not applied: the sync fails with `ImplausibleListing`. Setting the
//! annotation `jiracloud.io/accept-listing` to a value not consumed yet makes the next sync apply whatever it
//! gets, once; `status.acceptedListing` records the consumed value.

use crate::sync::Listing;

/// Reason of a sync whose listing was not applied.
pub const IMPLAUSIBLE_LISTING: &str = "ImplausibleListing";

/// What a sync saw, against what the connection knows.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The listing, before only the humans were kept.
    pub listing: Listing,
    /// Users (human accounts) in the listing.
    pub users: u64,
    /// The connection's own accountId, to name it.
    pub own_account: &'a str,
    /// `users.total` of the last good sync, if any.
    pub last_good: Option<u64>,
    /// `spec.sync.maxShrinkPercent`.
    pub max_shrink_percent: u32,
    /// The value of the accept-listing annotation, if set.
    pub accept: Option<&'a str>,
    /// `status.acceptedListing`: the value the last accepting sync consumed.
    pub accepted: Option<&'a str>,
}

/// What to do with a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Apply it. `consumed` is the accept-listing value this sync uses up (to record in the status).
    Apply {
        /// The annotation's value, when it was pending.
        consumed: Option<String>,
    },
    /// Do not apply it: the message says what was seen and what to do.
    Reject(String),
}

/// A share in percent, with one decimal when it is not whole.
fn percent(part: u64, whole: u64) -> String {
    let tenths = (u128::from(part) * 1000 + u128::from(whole) / 2) / u128::from(whole.max(1));
    if tenths % 10 == 0 {
        format!("{}%", tenths / 10)
    } else {
        format!("{}.{}%", tenths / 10, tenths % 10)
    }
}

/// Judges a listing.
pub fn judge(seen: &Seen<'_>) -> Verdict {
    if let Some(value) = seen.accept
        && !value.is_empty()
        && seen.accepted != Some(value)
    {
        return Verdict::Apply {
            consumed: Some(value.to_string()),
        };
    }
    let mut problems = Vec::new();
    if !seen.listing.has_own_account {
        problems.push(format!(
            "the users listing ({} accounts) lacks the connection's own account {}",
            seen.listing.accounts, seen.own_account
        ));
    }
    if let Some(last) = seen.last_good
        && seen.users < last
    {
        let lost = last - seen.users;
        // More than the share: lost / last > max / 100, in integers.
        if u128::from(lost) * 100 > u128::from(last) * u128::from(seen.max_shrink_percent) {
            problems.push(format!(
                "the users listing has {} users, {} fewer than the {last} of the last good sync \
                 (spec.sync.maxShrinkPercent is {})",
                seen.users,
                percent(lost, last),
                seen.max_shrink_percent
            ));
        }
    }
    if problems.is_empty() {
        return Verdict::Apply { consumed: None };
    }
    Verdict::Reject(format!(
        "{}. Nothing was applied: the figures and JiraUsers stay as they were. If the site really changed, set \
         the annotation {} to a new value to apply the next listing once",
        capitalized(&problems.join(", and ")),
        crate::api::ANNOTATION_ACCEPT_LISTING
    ))
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(users: u64, has_own_account: bool, last_good: Option<u64>) -> Seen<'static> {
        Seen {
            listing: Listing {
                accounts: users + 3,
                has_own_account,
            },
            users,
            own_account: "acc-1",
            last_good,
            max_shrink_percent: 50,
            accept: None,
            accepted: None,
        }
    }

    fn rejected(verdict: Verdict) -> String {
        match verdict {
            Verdict::Reject(message) => message,
            Verdict::Apply { .. } => panic!("applied"),
        }
    }

    const APPLY: Verdict = Verdict::Apply { consumed: None };

    #[test]
    fn a_plausible_listing_is_applied() {
        assert_eq!(judge(&seen(412, true, Some(412))), APPLY);
        assert_eq!(judge(&seen(500, true, Some(412))), APPLY, "growth");
        assert_eq!(judge(&seen(206, true, Some(412))), APPLY, "exactly half");
        assert_eq!(judge(&seen(3, true, None)), APPLY, "first sync");
        assert_eq!(judge(&seen(0, true, Some(0))), APPLY);
    }

    #[test]
    fn an_empty_listing_is_rejected_and_says_what_was_seen() {
        let message = rejected(judge(&Seen {
            listing: Listing {
                accounts: 0,
                has_own_account: false,
            },
            ..seen(0, false, Some(412))
        }));
        assert_eq!(
            message,
            "The users listing (0 accounts) lacks the connection's own account acc-1, and the users listing \
             has 0 users, 100% fewer than the 412 of the last good sync (spec.sync.maxShrinkPercent is 50). \
             Nothing was applied: the figures and JiraUsers stay as they were. If the site really changed, set \
             the annotation jiracloud.io/accept-listing to a new value to apply the next listing once"
        );
    }

    #[test]
    fn a_shrink_beyond_the_share_is_rejected() {
        let message = rejected(judge(&seen(205, true, Some(412))));
        assert!(
            message.starts_with("The users listing has 205 users, 50.2% fewer than the 412"),
            "{message}"
        );
        assert!(!message.contains("own account"), "{message}");
        let strict = Seen {
            max_shrink_percent: 0,
            ..seen(411, true, Some(412))
        };
        assert!(rejected(judge(&strict)).contains("0.2% fewer"));
        let lenient = Seen {
            max_shrink_percent: 100,
            ..seen(0, true, Some(412))
        };
        assert_eq!(judge(&lenient), APPLY);
    }

    #[test]
    fn a_listing_without_the_own_account_is_rejected_even_on_a_first_sync() {
        let message = rejected(judge(&seen(40, false, None)));
        assert!(
            message.starts_with(
                "The users listing (43 accounts) lacks the connection's own account acc-1."
            ),
            "{message}"
        );
    }

    #[test]
    fn the_annotation_accepts_the_next_listing_once() {
        let pending = Seen {
            accept: Some("v1"),
            ..seen(0, false, Some(412))
        };
        assert_eq!(
            judge(&pending),
            Verdict::Apply {
                consumed: Some("v1".into())
            }
        );
        // Consumed: the check applies again, until a new value.
        let consumed = Seen {
            accepted: Some("v1"),
            ..pending
        };
        assert!(matches!(judge(&consumed), Verdict::Reject(_)));
        let again = Seen {
            accept: Some("v2"),
            ..consumed
        };
        assert_eq!(
            judge(&again),
            Verdict::Apply {
                consumed: Some("v2".into())
            }
        );
        let empty = Seen {
            accept: Some(""),
            ..consumed
        };
        assert!(matches!(judge(&empty), Verdict::Reject(_)));
        // A plausible listing consumes a pending value too: it was the next listing.
        let plausible = Seen {
            accept: Some("v3"),
            ..seen(412, true, Some(412))
        };
        assert_eq!(
            judge(&plausible),
            Verdict::Apply {
                consumed: Some("v3".into())
            }
        );
    }

    #[test]
    fn percentages_round_to_a_tenth() {
        assert_eq!(percent(412, 412), "100%");
        assert_eq!(percent(207, 412), "50.2%");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(0, 0), "0%");
    }
}
