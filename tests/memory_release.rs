//! Memory a sync freed goes back to the system: tens of megabytes freed in small pieces below a live allocation
//! stay resident under glibc until [`release_freed`] trims the heaps. Alone in its binary, so that no other test
//! allocates meanwhile.

use jira_cloud_operator::memory::release_freed;

/// The process's resident memory in KiB.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn freed_memory_leaves_the_process_after_a_release() {
    // 64 MiB in 1 KiB pieces, each written so that its page is resident, like a sync's records.
    let pieces: Vec<Vec<u8>> = (0..65_536).map(|i| vec![i as u8; 1024]).collect();
    // A live allocation above them keeps the allocator from giving the top of its heap back by itself.
    let pin = vec![1u8; 1024];
    let full = rss_kb();
    drop(pieces);
    let freed = rss_kb();
    assert!(
        full - freed.min(full) < 16 * 1024,
        "the freed pieces stayed resident before the release ({full} KiB, then {freed} KiB)"
    );
    release_freed();
    let released = rss_kb();
    assert!(
        freed.saturating_sub(released) > 48 * 1024,
        "the release returned {} KiB of 64 MiB freed ({freed} KiB resident before it, {released} KiB after)",
        freed.saturating_sub(released)
    );
    assert_eq!(pin[0], 1);
}
