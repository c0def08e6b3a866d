use super::*;

const D: Duration = Duration::from_secs(15);

fn spec(holder: Option<&str>, duration: Option<i32>) -> LeaseSpec {
    LeaseSpec {
        holder_identity: holder.map(str::to_string),
        lease_duration_seconds: duration,
        lease_transitions: Some(2),
        ..Default::default()
    }
}

#[test]
fn a_missing_or_free_lease_is_acquired() {
    assert_eq!(decide(None, "me", Duration::ZERO, D), Decision::Acquire);
    assert_eq!(
        decide(Some(&spec(None, Some(15))), "me", Duration::ZERO, D),
        Decision::Acquire
    );
    assert_eq!(
        decide(Some(&spec(Some(""), Some(15))), "me", Duration::ZERO, D),
        Decision::Acquire
    );
}

#[test]
fn our_own_lease_is_renewed() {
    assert_eq!(
        decide(
            Some(&spec(Some("me"), Some(15))),
            "me",
            Duration::from_secs(60),
            D
        ),
        Decision::Renew
    );
}

#[test]
fn another_holder_is_respected_until_the_record_stayed_unchanged_for_its_duration() {
    let held = spec(Some("other"), Some(10));
    assert_eq!(decide(Some(&held), "me", Duration::ZERO, D), Decision::Wait);
    assert_eq!(
        decide(Some(&held), "me", Duration::from_millis(9_999), D),
        Decision::Wait
    );
    assert_eq!(
        decide(Some(&held), "me", Duration::from_secs(10), D),
        Decision::Acquire
    );
    // Without a duration in the Lease, ours applies.
    let no_duration = spec(Some("other"), None);
    assert_eq!(
        decide(Some(&no_duration), "me", Duration::from_secs(14), D),
        Decision::Wait
    );
    assert_eq!(
        decide(Some(&no_duration), "me", Duration::from_secs(15), D),
        Decision::Acquire
    );
}

#[test]
fn taking_over_counts_a_transition_and_renewing_keeps_the_acquire_time() {
    let t0 = Timestamp::from_second(1_000).unwrap();
    let t1 = Timestamp::from_second(1_010).unwrap();
    let taken = next_spec(
        Some(&spec(Some("other"), Some(10))),
        Decision::Acquire,
        "me",
        D,
        t0,
    )
    .unwrap();
    assert_eq!(taken.holder_identity.as_deref(), Some("me"));
    assert_eq!(taken.lease_transitions, Some(3));
    assert_eq!(taken.lease_duration_seconds, Some(15));
    assert_eq!(taken.acquire_time, Some(MicroTime(t0)));

    let renewed = next_spec(Some(&taken), Decision::Renew, "me", D, t1).unwrap();
    assert_eq!(renewed.acquire_time, Some(MicroTime(t0)));
    assert_eq!(renewed.renew_time, Some(MicroTime(t1)));
    assert_eq!(renewed.lease_transitions, Some(3));

    let free = next_spec(Some(&spec(None, Some(1))), Decision::Acquire, "me", D, t1).unwrap();
    assert_eq!(
        free.lease_transitions,
        Some(2),
        "acquiring a released Lease is no takeover"
    );
    assert_eq!(next_spec(Some(&taken), Decision::Wait, "you", D, t1), None);
}

#[test]
fn a_released_lease_is_free_for_the_next_candidate() {
    let held = spec(Some("me"), Some(15));
    let released = released_spec(&held, Timestamp::from_second(5).unwrap());
    assert_eq!(released.holder_identity, None);
    assert_eq!(
        decide(Some(&released), "other", Duration::ZERO, D),
        Decision::Acquire
    );
}

#[test]
fn timings_must_leave_room_for_renewal() {
    let config = |lease, renew, retry| Config {
        namespace: "ns".into(),
        name: "lease".into(),
        identity: "me".into(),
        lease_duration: Duration::from_secs(lease),
        renew_deadline: Duration::from_secs(renew),
        retry_period: Duration::from_secs(retry),
    };
    assert!(config(15, 10, 2).validate().is_ok());
    assert!(config(10, 10, 2).validate().is_err());
    assert!(config(15, 2, 2).validate().is_err());
    assert!(config(15, 10, 0).validate().is_err());
}

#[tokio::test]
async fn work_that_outlives_the_grace_after_shutdown_is_aborted() {
    let (stop, stopped) = watch::channel(false);
    let mut stuck = tokio::spawn(std::future::pending::<()>());
    stop.send(true).unwrap();
    join_with_grace(&mut stuck, stopped.clone(), Duration::from_millis(20)).await;
    assert!(stuck.await.unwrap_err().is_cancelled());

    let (finished_tx, finished_rx) = tokio::sync::oneshot::channel();
    let mut finishing = tokio::spawn(async move {
        let _ = finished_rx.await;
    });
    finished_tx.send(()).unwrap();
    join_with_grace(&mut finishing, stopped, Duration::from_secs(3600)).await;
    assert!(finishing.is_finished());
}

#[test]
fn identities_are_unique_per_process_start() {
    assert_ne!(default_identity(), default_identity());
}
