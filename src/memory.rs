//! Hands the memory a sync freed back to the system: once its parts have collected (before the inventory is
//! built) and once it is over.
//!
//! glibc's allocator keeps freed memory in its heaps (one per thread that allocated) and returns to the system
//! only what lies at the top of a heap. A sync of a large site frees tens of megabytes scattered over those
//! heaps, which then stay resident until the next sync, whose own peak comes on top. Asking the allocator to trim
//! after each sync returns every whole free page; the next sync's peak is then its own. Other C libraries (musl,
//! which the container image uses) return freed memory by themselves, so this is a no-op there.

/// Returns the whole free pages of every heap of the allocator to the system.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer; it walks the allocator's own free lists under the allocator's locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
