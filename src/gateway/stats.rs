//! The gateway's own counters, exposed at `/metrics`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Message;
use tokio::sync::mpsc;

#[derive(Debug, Default)]
pub struct GatewayStats {
    pub clients: AtomicU64,
    pub subscriptions: AtomicU64,
    pub frames_sent: AtomicU64,
    /// Payload bytes of the stream frames sent.
    pub bytes_sent: AtomicU64,
    pub events_sent: AtomicU64,
    /// Events a subscriber never received because it fell behind.
    pub events_dropped: AtomicU64,
    /// Metric events a subscriber skipped because it fell behind and was
    /// caught up with the newest value of each series instead.
    pub events_coalesced: AtomicU64,
    /// Clients disconnected because they stopped reading.
    pub slow_clients_cut: AtomicU64,
    pub auth_failures: AtomicU64,
    /// OTLP export requests, spans taken and refused, requests refused whole.
    pub otlp_requests: AtomicU64,
    pub otlp_spans: AtomicU64,
    pub otlp_spans_rejected: AtomicU64,
    pub otlp_refused: AtomicU64,
    pub requests: AtomicU64,
    /// Open connections (a WebSocket counts until it closes).
    pub connections: AtomicU64,
    /// Connections turned away at the connection cap.
    pub connections_refused: AtomicU64,
    /// Stream connections refused at a token's stream cap.
    pub streams_refused: AtomicU64,
}

/// The live stream connections' outgoing queues, to count what waits in
/// them without bookkeeping on every send.
#[derive(Debug, Default)]
pub struct Connections {
    next: AtomicU64,
    queues: Mutex<HashMap<u64, mpsc::WeakSender<Message>>>,
}

impl Connections {
    pub fn register(&self, queue: &mpsc::Sender<Message>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, queue.downgrade());
        id
    }

    pub fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Frames waiting in every connection's queue right now.
    pub fn queued_frames(&self) -> usize {
        self.lock()
            .values()
            .filter_map(|weak| weak.upgrade())
            .map(|queue| queue.max_capacity() - queue.capacity())
            .sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::WeakSender<Message>>> {
        self.queues
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
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
