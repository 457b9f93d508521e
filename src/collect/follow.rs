//! A log subscription served from several places at once (a hub's agents,
//! a Kubernetes pod's containers), merged: what it sends, in order, and
//! the tail a fresh one starts with. Each place has its own position in
//! the subscription's cursor (`api::FleetCursor`), so a resume is exactly
//! once for every one of them.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::LogEntry;

/// What a merged log subscription sends, in order.
#[derive(Debug)]
pub enum FollowEvent {
    /// The merged tail, oldest first, with every place's newest entry in
    /// it (so a client's resume knows every place's position). Not sent
    /// when the subscription resumed from a cursor.
    Snapshot(Vec<LogEntry>),
    Entries(Vec<LogEntry>),
    Gap {
        dropped: u64,
        reason: String,
    },
}

/// A running merged subscription; dropping it stops everything it follows.
pub struct LogFollow {
    pub events: mpsc::Receiver<FollowEvent>,
    merge: JoinHandle<()>,
}

impl LogFollow {
    /// `merge` sends into the channel `events` reads.
    pub fn new(events: mpsc::Receiver<FollowEvent>, merge: JoinHandle<()>) -> LogFollow {
        LogFollow { events, merge }
    }
}

impl Drop for LogFollow {
    fn drop(&mut self) {
        self.merge.abort();
    }
}

/// The newest `tail` entries of every place's, by time, with each place's
/// newest entry kept even when older than the rest.
pub fn merged_tail(places: Vec<Vec<LogEntry>>, tail: usize) -> Vec<LogEntry> {
    let mut all: Vec<(bool, LogEntry)> = Vec::new();
    for entries in places {
        let n = entries.len();
        all.extend(
            entries
                .into_iter()
                .enumerate()
                .map(|(i, e)| (i + 1 == n, e)),
        );
    }
    // Stable: a place's entries keep their order at equal times.
    all.sort_by_key(|(_, e)| e.ts);
    let cut = all.len().saturating_sub(tail);
    all.into_iter()
        .enumerate()
        .filter(|(i, (newest, _))| *i >= cut || *newest)
        .map(|(_, (_, e))| e)
        .collect()
}
