use super::*;
use crate::sync::EventKind;
use chrono::TimeZone;

fn cache(accounts: usize) -> SyncCache {
    let mut activity = ActivityStore::default();
    let mut worklog_authors = HashMap::new();
    let day = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).unwrap();
    for i in 0..accounts {
        let account = format!("712020:{i:08x}-5b10-4c8d-82e0-5b22cc7d4ef5");
        for d in 1..=(1 + i as u32 % 28) {
            if !(i as u32 + d).is_multiple_of(3) {
                activity.add(&account, day(d), EventKind::Comment);
                activity.add(&account, day(d), EventKind::Worklog);
            }
        }
        let idx = activity.intern(&account);
        worklog_authors.insert(
            1000 + i as u64,
            WorklogAuthor {
                account: idx,
                day: 20400 + i as i32 % 30,
            },
        );
    }
    // An account seen active long ago, with no day in the window.
    let old = activity.intern("old-timer");
    activity.restore("old-timer", Some(19000), Vec::new());
    assert_eq!(activity.index("old-timer"), Some(old));
    SyncCache {
        cloud_id: "cloud-1".into(),
        window_days: 30,
        horizon: Utc.with_ymd_and_hms(2026, 11, 30, 10, 58, 30).unwrap(),
        activity,
        worklog_authors,
    }
}

fn same(a: &SyncCache, b: &SyncCache) {
    assert_eq!(
        (&a.cloud_id, a.window_days, a.horizon),
        (&b.cloud_id, b.window_days, b.horizon)
    );
    let mut left: Vec<_> = a.activity.iter().filter(|(_, d)| !d.is_empty()).collect();
    let mut right: Vec<_> = b.activity.iter().filter(|(_, d)| !d.is_empty()).collect();
    left.sort_by_key(|(account, _)| *account);
    right.sort_by_key(|(account, _)| *account);
    assert_eq!(left, right);
    let authors = |c: &SyncCache| {
        let mut v: Vec<(u64, String, i32)> = c
            .worklog_authors
            .iter()
            .map(|(id, w)| (*id, c.activity.account(w.account).to_owned(), w.day))
            .collect();
        v.sort();
        v
    };
    assert_eq!(authors(a), authors(b));
}

#[test]
fn a_snapshot_reads_back_as_the_same_cache() {
    let original = cache(200);
    let snapshot = original.snapshot();
    assert_eq!(snapshot.shards.len(), 1, "a small cache is one shard");
    let back = SyncCache::from_snapshot(&snapshot).unwrap();
    same(&original, &back);
    assert_eq!(
        back.activity.last_active("old-timer"),
        original.activity.last_active("old-timer")
    );
    assert_eq!(
        back.snapshot(),
        snapshot,
        "the same cache gives the same shards"
    );
}

#[test]
fn a_large_cache_is_split_into_shards_under_the_limit() {
    let original = cache(3000);
    let snapshot = original.snapshot_within(64 << 10, 48 << 10);
    assert!(
        snapshot.shards.len() >= 4,
        "{} shards",
        snapshot.shards.len()
    );
    assert!(snapshot.shards.len().is_power_of_two());
    assert!(snapshot.shards.iter().all(|s| s.len() <= 48 << 10));
    same(&original, &SyncCache::from_snapshot(&snapshot).unwrap());
}

fn gzip(json: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(json).unwrap();
    encoder.finish().unwrap()
}

fn with_shard(bytes: Vec<u8>) -> Snapshot {
    Snapshot {
        cloud_id: "cloud-1".into(),
        window_days: 30,
        horizon: Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap(),
        shards: vec![bytes],
    }
}

#[test]
fn a_hostile_shard_is_refused() {
    // A shard that inflates to far more than it claims (a compression bomb) is cut off.
    let mut bomb = b"{\"accounts\":[{\"a\":\"x\",\"d\":[],\"w\":[],\"l\":1".to_vec();
    bomb.resize((MAX_INFLATED_SHARD_BYTES + 10) as usize, b' ');
    let compressed = gzip(&bomb);
    assert!(compressed.len() < MAX_SHARD_BYTES);
    assert!(matches!(
        SyncCache::from_snapshot(&with_shard(compressed)),
        Err(SnapshotError::TooLarge)
    ));
    let refused = |json: &str| SyncCache::from_snapshot(&with_shard(gzip(json.as_bytes())));
    assert!(matches!(
        refused("not json"),
        Err(SnapshotError::Malformed(_))
    ));
    assert!(matches!(
        refused(r#"{"accounts":[],"extra":1}"#),
        Err(SnapshotError::Malformed(_))
    ));
    assert!(matches!(
        SyncCache::from_snapshot(&with_shard(b"not gzip".to_vec())),
        Err(SnapshotError::Malformed(_))
    ));
    assert!(matches!(
        refused(r#"{"accounts":[{"a":"x"},{"a":"x"}]}"#),
        Err(SnapshotError::Inconsistent(_))
    ));
    assert!(matches!(
        refused(r#"{"accounts":[{"a":"x","d":[[20400,1,0,0],[20399,1,0,0]]}]}"#),
        Err(SnapshotError::Inconsistent(_))
    ));
    assert!(matches!(
        refused(r#"{"accounts":[{"a":"x","w":[[7,20400]]},{"a":"y","w":[[7,20401]]}]}"#),
        Err(SnapshotError::Inconsistent(_))
    ));
    assert!(refused(r#"{"accounts":[{"a":"x","d":[[20400,1,0,0]],"w":[[7,20400]]}]}"#).is_ok());
}
