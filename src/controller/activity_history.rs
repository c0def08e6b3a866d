//! Whether a sync continues the operator's activity history of a site or starts it again after a gap.

use chrono::{DateTime, Utc};

use crate::{api::JiraConnectionStatus, sync::SETTLE, usage::inactivity::chrono_time};

/// Records in `st` (the status before this sync's times are written) whether the successful sync whose usage
/// window starts on `window_from` leaves a gap after the previous successful sync: that one counted the events
/// up to its start minus [`SETTLE`] (its end minus its duration), this one from the window's first midnight.
/// After a gap, the history starts again on `window_from` (`status.activityHistoryFrom`).
pub(super) fn continue_history(st: &mut JiraConnectionStatus, window_from: chrono::NaiveDate) {
    let Some(previous) = st.last_sync_time.as_ref().and_then(chrono_time) else {
        return;
    };
    let duration = st
        .last_sync_stats
        .as_ref()
        .map_or(0.0, |s| s.duration_seconds.max(0.0).ceil());
    let counted_until: DateTime<Utc> = previous
        - chrono::Duration::from_std(SETTLE).expect("a short duration")
        - chrono::Duration::seconds(duration as i64);
    let window_start = window_from
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    if window_start > counted_until {
        st.activity_history_from = Some(window_from.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};

    fn synced_at(t: DateTime<Utc>) -> JiraConnectionStatus {
        JiraConnectionStatus {
            last_sync_time: Some(Time(Timestamp::from_second(t.timestamp()).unwrap())),
            ..JiraConnectionStatus::default()
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn a_sync_within_the_window_continues_the_history() {
        let mut st = synced_at(Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0).unwrap());
        continue_history(&mut st, day(6));
        assert_eq!(st.activity_history_from, None);
        let mut first = JiraConnectionStatus::default();
        continue_history(&mut first, day(6));
        assert_eq!(first.activity_history_from, None, "a first sync has no gap");
    }

    #[test]
    fn a_window_that_starts_after_the_last_counted_event_starts_the_history_again() {
        let mut st = synced_at(Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap());
        continue_history(&mut st, day(3));
        assert_eq!(st.activity_history_from.as_deref(), Some("2026-12-03"));
        // The previous sync counted up to 90 s before it started: one that started just after midnight left
        // the last seconds of the day before uncounted.
        let mut just = synced_at(Utc.with_ymd_and_hms(2026, 12, 3, 0, 1, 0).unwrap());
        continue_history(&mut just, day(3));
        assert_eq!(just.activity_history_from.as_deref(), Some("2026-12-03"));
        let mut later = synced_at(Utc.with_ymd_and_hms(2026, 12, 3, 0, 3, 0).unwrap());
        later.last_sync_stats = Some(crate::api::SyncStats {
            duration_seconds: 20.5,
            ..crate::api::SyncStats::default()
        });
        later.activity_history_from = Some("2026-11-01".into());
        continue_history(&mut later, day(3));
        assert_eq!(
            later.activity_history_from.as_deref(),
            Some("2026-11-01"),
            "kept"
        );
    }
}
