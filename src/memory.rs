//! The allocator's habits, tuned for a long-running process that takes in
//! large messages now and then (a snapshot of 10,000 tasks is megabytes).
//!
//! glibc gives each thread that allocates an arena of its own, and keeps
//! what is freed for reuse: a snapshot decoded on a worker thread and
//! applied on the main one leaves its peak in two arenas for good. Fewer
//! arenas and a trim after each large message keep the resident size near
//! what is really held (measured at 1,000 nodes and 10,000 tasks, one
//! arena for a console and two for a gateway: the console from 78 to
//! about 64 MB, the gateway from 215 to about 175 MB).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Does a release that was put off, if one was: call it now and then (the
/// gateway does each refresh), so the last of a burst of large messages is
/// not left held.
pub fn release_pending() {
    if PENDING.load(Ordering::Relaxed) {
        release_freed();
    }
}

/// Sets how many arenas the process may use (glibc's default is eight a
/// core). Call once, in `main`, before any thread starts.
pub fn tune(arenas: i32) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = arenas;
}

static LAST: AtomicI64 = AtomicI64::new(0);
/// A release was asked for within a second of the last one.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Gives memory freed since the last call back to the system, at most once
/// a second (a trim walks the free lists, which costs a little); one asked
/// for sooner is done by the next [`release_pending`].
pub fn release_freed() {
    let now = crate::api::now_millis();
    let last = LAST.load(Ordering::Relaxed);
    if now - last < 1000
        || LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        PENDING.store(true, Ordering::Relaxed);
        return;
    }
    PENDING.store(false, Ordering::Relaxed);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
