//! The conditions through a connection's life: first visit, sync, failures, suspension.

use super::*;
use crate::controller::schedule::{Due, due};
use crate::sync::{DailyActive, LicenseSummary, UsageSummary, UserCounts as EngineCounts};
use chrono::{NaiveDate, TimeZone};
use std::time::Duration;
use url::Url;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, hour, 0, 0).unwrap()
}

fn site() -> SiteInfo {
    let url = Url::parse("https://acme.atlassian.net/").unwrap();
    SiteInfo {
        site_url: url.clone(),
        cloud_id: "cloud-1".into(),
        deployment_type: "Cloud".into(),
        base_url: url,
        via_gateway: false,
        account_id: "acc-1".into(),
        display_name: "Operator".into(),
    }
}

fn inventory() -> Inventory {
    let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    Inventory {
        site: site(),
        listing: crate::sync::Listing {
            accounts: 12,
            has_own_account: true,
        },
        users: EngineCounts {
            total: 10,
            synced: 8,
            hidden_email: 2,
            deactivated: 1,
        },
        roles: None,
        licenses: vec![LicenseSummary {
            product: "jira-software".into(),
            name: "Jira Software".into(),
            seats: 50,
            used: 7,
            remaining: 41,
            active_users: 4,
            inactive_users: 3,
            groups: vec!["jira-software-users".into()],
        }],
        usage: UsageSummary {
            window_days: 2,
            from: day(27),
            to: day(28),
            active_users: 5,
            daily: vec![
                DailyActive {
                    date: day(27),
                    active_users: 3,
                },
                DailyActive {
                    date: day(28),
                    active_users: 4,
                },
            ],
        },
        records: Vec::new(),
    }
}

fn stats() -> EngineStats {
    EngineStats {
        duration: Duration::from_millis(1234),
        api_requests: 42,
        throttled: 1,
        incremental: false,
        rate_limit_remaining: Some(90),
    }
}

fn cond<'a>(
    st: &'a JiraConnectionStatus,
    t: &str,
) -> &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    find_condition(&st.conditions, t).unwrap()
}

fn failure(reason: &'static str, transient: bool) -> Failure {
    let message = format!("{reason} happened");
    if transient {
        Failure::transient(reason, message)
    } else {
        Failure::permanent(reason, message)
    }
}

/// A connection synced once at 02:00, next sync at 03:00, generation 1.
fn synced_status() -> JiraConnectionStatus {
    let mut st = begin(None, Some(1), at(1));
    credentials_valid(&mut st, &site(), Some(1), at(2));
    sync_succeeded(
        &mut st,
        &inventory(),
        &stats(),
        Some("r1"),
        at(3),
        Some(1),
        at(2),
    );
    summarize(&mut st, Some(1), at(2));
    st
}

#[test]
fn first_visit_starts_unknown() {
    let mut st = begin(None, Some(3), at(1));
    summarize(&mut st, Some(3), at(1));
    for t in [READY, CREDENTIALS_VALID, SYNCED] {
        let c = cond(&st, t);
        assert_eq!(
            (c.status.as_str(), c.observed_generation),
            (condition_status::UNKNOWN, Some(3)),
            "{t}"
        );
    }
    assert_eq!(st.observed_generation, Some(3));
    assert_eq!(
        due(&st, Some(3), None, Duration::from_secs(3600), at(1)),
        Some(Due::NeverSynced)
    );
}

#[test]
fn a_successful_sync_fills_the_contract() {
    let st = synced_status();
    assert!(is_ready(&st));
    assert_eq!(cond(&st, READY).reason, reason::SYNCED);
    assert_eq!(cond(&st, CREDENTIALS_VALID).reason, reason::AUTHENTICATED);
    assert_eq!(cond(&st, SYNCED).reason, reason::COMPLETE);
    assert_eq!(cond(&st, READY).last_transition_time, time(at(2)));
    assert_eq!(st.users.as_ref().unwrap().hidden_email, 2);
    assert_eq!(st.licenses[0].seats, Some(50));
    assert_eq!(st.licenses[0].inactive_users, 3);
    assert_eq!(st.licenses[0].groups, ["jira-software-users"]);
    let usage = st.usage.as_ref().unwrap();
    assert_eq!(
        (usage.from.as_str(), usage.to.as_str()),
        ("2026-11-27", "2026-11-28")
    );
    assert_eq!(usage.daily[1].active_users, 4);
    assert_eq!(st.last_sync_stats.as_ref().unwrap().duration_seconds, 1.234);
    assert_eq!(
        st.last_sync_stats.as_ref().unwrap().rate_limit_remaining,
        Some(90)
    );
    assert_eq!(st.last_sync_time, Some(time(at(2))));
    assert_eq!(st.first_sync_time, Some(time(at(2))));
    assert_eq!(st.next_sync_time, Some(time(at(3))));
    assert_eq!(st.last_sync_request.as_deref(), Some("r1"));
    assert_eq!(st.site.as_ref().unwrap().cloud_id, "cloud-1");
}

#[test]
fn the_first_sync_time_stays_through_later_syncs() {
    let mut st = synced_status();
    sync_succeeded(&mut st, &inventory(), &stats(), None, at(6), Some(1), at(5));
    assert_eq!(st.last_sync_time, Some(time(at(5))));
    assert_eq!(st.first_sync_time, Some(time(at(2))));
}

#[test]
fn a_failed_sync_keeps_the_figures() {
    let before = synced_status();
    let mut st = before.clone();
    sync_failed(
        &mut st,
        &failure("JiraUnavailable", true),
        None,
        Some(1),
        at(4),
    );
    summarize(&mut st, Some(1), at(4));
    assert_eq!(st.users, before.users);
    assert_eq!(st.licenses, before.licenses);
    assert_eq!(st.usage, before.usage);
    assert_eq!(st.last_sync_time, before.last_sync_time);
    assert_eq!(st.first_sync_time, before.first_sync_time);
    assert_eq!(st.last_sync_stats, before.last_sync_stats);
    let ready = cond(&st, READY);
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        (condition_status::FALSE, "JiraUnavailable")
    );
    assert!(
        ready.message.starts_with("JiraUnavailable happened"),
        "{}",
        ready.message
    );
    assert!(
        ready.message.contains("2026-11-28T02:00:00Z"),
        "{}",
        ready.message
    );
    assert_eq!(ready.last_transition_time, time(at(4)));
    // Credentials stay valid: the sync failed, not the login.
    assert_eq!(cond(&st, CREDENTIALS_VALID).status, condition_status::TRUE);
    assert_eq!(
        due(&st, Some(1), None, Duration::from_secs(3600), at(4)),
        Some(Due::Retry)
    );
}

#[test]
fn failure_messages_read_as_sentences() {
    let mut st = synced_status();
    let failure = Failure::transient(
        "JiraUnavailable",
        "Jira is unavailable: Internal server error.",
    );
    sync_failed(&mut st, &failure, None, Some(1), at(4));
    assert_eq!(
        cond(&st, SYNCED).message,
        "Jira is unavailable: Internal server error. The figures are those of the last successful sync, at \
         2026-11-28T02:00:00Z"
    );
}

#[test]
fn transition_time_moves_only_on_a_flip() {
    let mut st = synced_status();
    sync_failed(&mut st, &failure("A", false), None, Some(1), at(4));
    summarize(&mut st, Some(1), at(4));
    sync_failed(&mut st, &failure("B", false), None, Some(1), at(5));
    summarize(&mut st, Some(1), at(5));
    assert_eq!(cond(&st, READY).reason, "B");
    assert_eq!(cond(&st, READY).last_transition_time, time(at(4)));
    assert_eq!(cond(&st, SYNCED).last_transition_time, time(at(4)));
    // The credentials condition never flipped.
    assert_eq!(
        cond(&st, CREDENTIALS_VALID).last_transition_time,
        time(at(2))
    );
}

#[test]
fn refused_credentials_are_false_unreachable_jira_unknown() {
    let mut st = synced_status();
    credentials_failed(
        &mut st,
        &failure("InvalidCredentials", false),
        Some(1),
        at(4),
    );
    summarize(&mut st, Some(1), at(4));
    assert_eq!(cond(&st, CREDENTIALS_VALID).status, condition_status::FALSE);
    assert_eq!(cond(&st, READY).reason, "InvalidCredentials");
    // The last sync is still good: not due before its time.
    assert_eq!(cond(&st, SYNCED).status, condition_status::TRUE);

    let mut st = begin(None, Some(1), at(1));
    credentials_failed(&mut st, &failure("JiraUnavailable", true), Some(1), at(1));
    summarize(&mut st, Some(1), at(1));
    assert_eq!(
        cond(&st, CREDENTIALS_VALID).status,
        condition_status::UNKNOWN
    );
    assert_eq!(cond(&st, READY).status, condition_status::UNKNOWN);
    assert_eq!(cond(&st, READY).reason, "JiraUnavailable");
}

#[test]
fn a_false_condition_wins_over_an_unknown_one() {
    let mut st = begin(None, Some(1), at(1));
    credentials_failed(&mut st, &failure("JiraUnavailable", true), Some(1), at(1));
    sync_failed(
        &mut st,
        &failure("JiraUnavailable", true),
        None,
        Some(1),
        at(1),
    );
    summarize(&mut st, Some(1), at(1));
    assert_eq!(cond(&st, READY).status, condition_status::FALSE);
}

#[test]
fn when_a_sync_is_due() {
    let st = synced_status();
    let hour = Duration::from_secs(3600);
    assert_eq!(due(&st, Some(1), None, hour, at(2)), None);
    assert_eq!(
        due(&st, Some(1), Some("r1"), hour, at(2)),
        None,
        "already handled"
    );
    assert_eq!(due(&st, Some(1), Some(""), hour, at(2)), None);
    assert_eq!(
        due(&st, Some(1), Some("r2"), hour, at(2)),
        Some(Due::Requested)
    );
    assert_eq!(due(&st, Some(2), None, hour, at(2)), Some(Due::SpecChanged));
    assert_eq!(due(&st, Some(1), None, hour, at(3)), Some(Due::Scheduled));
    let mut no_next = st.clone();
    no_next.next_sync_time = None;
    assert_eq!(due(&no_next, Some(1), None, hour, at(2)), None);
    assert_eq!(
        due(&no_next, Some(1), None, hour, at(3)),
        Some(Due::Scheduled)
    );
}

#[test]
fn suspension_is_a_reason_not_a_loss_of_data() {
    let before = synced_status();
    let mut st = before.clone();
    suspended(&mut st, Some(2), at(4));
    summarize(&mut st, Some(2), at(4));
    assert_eq!(cond(&st, READY).reason, reason::SUSPENDED);
    assert_eq!(st.users, before.users);
    assert_eq!(st.next_sync_time, None);
    // Resuming bumps the generation again, and the sync runs.
    assert_eq!(
        due(&st, Some(3), None, Duration::from_secs(3600), at(4)),
        Some(Due::Retry)
    );
}

#[test]
fn an_unchanged_outcome_gives_an_equal_status() {
    let a = synced_status();
    let b = synced_status();
    assert_eq!(a, b);
    let mut c = a.clone();
    summarize(&mut c, Some(1), at(9));
    assert_eq!(a, c, "summarizing again changes nothing");
}

#[test]
fn times_are_whole_seconds() {
    let t =
        Utc.with_ymd_and_hms(2026, 11, 28, 1, 2, 3).unwrap() + chrono::Duration::milliseconds(999);
    assert_eq!(
        instant(&time(t)),
        Utc.with_ymd_and_hms(2026, 11, 28, 1, 2, 3).unwrap()
    );
}

#[test]
fn a_parked_sync_keeps_the_figures_and_ready_and_waits_for_its_resume_time() {
    let before = synced_status();
    let mut st = before.clone();
    let hour = Duration::from_secs(3600);
    sync_parked(
        &mut st,
        "jira-quota-tenant-based",
        at(5),
        &["users", "groups"],
        Some(1),
        at(4),
    );
    summarize(&mut st, Some(1), at(4));
    assert!(is_parked(&st));
    assert_eq!(st.users, before.users);
    assert_eq!(st.licenses, before.licenses);
    assert_eq!(st.usage, before.usage);
    assert_eq!(st.last_sync_time, before.last_sync_time);
    assert_eq!(st.last_sync_stats, before.last_sync_stats);
    assert_eq!(st.next_sync_time, Some(time(at(5))));
    let synced = cond(&st, SYNCED);
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        (condition_status::UNKNOWN, reason::RATE_LIMITED)
    );
    for part in [
        "jira-quota-tenant-based",
        "resumes at 2026-11-28T05:00:00Z",
        "finished: users, groups",
        "last successful sync, at 2026-11-28T02:00:00Z",
    ] {
        assert!(synced.message.contains(part), "{}", synced.message);
    }
    assert_eq!(
        cond(&st, READY),
        cond(&before, READY),
        "parking is no failure"
    );
    // Jira asked to wait: a request waits for the resume time, a spec change does not.
    assert_eq!(due(&st, Some(1), Some("r2"), hour, at(4)), None);
    assert_eq!(due(&st, Some(1), None, hour, at(5)), Some(Due::Resume));
    assert_eq!(due(&st, Some(2), None, hour, at(4)), Some(Due::SpecChanged));

    // After a failed sync, a parked one leaves Ready unknown instead of false.
    let mut failed = before.clone();
    sync_failed(
        &mut failed,
        &failure("JiraUnavailable", true),
        None,
        Some(1),
        at(4),
    );
    summarize(&mut failed, Some(1), at(4));
    sync_parked(&mut failed, "jira-burst-based", at(5), &[], Some(1), at(4));
    summarize(&mut failed, Some(1), at(4));
    let ready = cond(&failed, READY);
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        (condition_status::UNKNOWN, reason::RATE_LIMITED)
    );
    assert!(
        cond(&failed, SYNCED)
            .message
            .contains("nothing finished yet"),
        "{}",
        cond(&failed, SYNCED).message
    );
}
