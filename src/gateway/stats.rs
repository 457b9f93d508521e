//! The gateway's own counters, exposed at `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct GatewayStats {
    pub clients: AtomicU64,
    pub subscriptions: AtomicU64,
    pub frames_sent: AtomicU64,
    pub events_sent: AtomicU64,
    /// Events a subscriber never received because it fell behind.
    pub events_dropped: AtomicU64,
    /// Clients disconnected because they stopped reading.
    pub slow_clients_cut: AtomicU64,
    pub auth_failures: AtomicU64,
    pub requests: AtomicU64,
    /// Frames waiting in connections' outgoing queues right now.
    pub queued_frames: AtomicU64,
}

impl GatewayStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
