//! The store's logs: the ring of recent entries, reads by cursor with a
//! resume across the ring's edge, the bridge from a source's history, and
//! pacing a source to its slowest subscriber.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Inner, Store};
use crate::api::{LogEntry, Op, Record, UnixMillis};
use crate::gateway::filter::Matcher;
use crate::gateway::topic::Published;

impl Inner {
    pub(super) fn append_logs(&mut self, entries: Vec<LogEntry>) -> Vec<Arc<Published>> {
        let mut evicted = Vec::new();
        for entry in entries {
            evicted.extend(self.logs_hub.publish(Op::Added, Record::Log(entry)));
        }
        evicted
    }

    /// The sequence number of the log entry with this cursor, if the ring
    /// holds it. A scan from the newest, as resumes are rare and usually
    /// recent: an index by cursor cost every entry a hash and a copy.
    pub(super) fn log_seq(&self, cursor: &str) -> Option<u64> {
        self.logs_hub
            .recent()
            .iter()
            .rev()
            .find(|e| matches!(&e.record, Record::Log(l) if l.cursor == cursor))
            .map(|e| e.seq)
    }

    /// The last `n` log entries that pass the filter, oldest first.
    pub(super) fn log_tail(&self, matcher: &Matcher, n: usize) -> Vec<Record> {
        let mut items: Vec<Record> = self
            .logs_hub
            .recent()
            .iter()
            .rev()
            .filter(|e| matcher.matches(&e.record))
            .take(n)
            .map(|e| e.record.clone())
            .collect();
        items.reverse();
        items
    }
}

/// The ring's part of an older page ([`Store::ring_older`]).
pub struct RingOlder {
    /// Oldest first.
    pub entries: Vec<LogEntry>,
    /// The sequence number of the oldest entry taken, when `limit` were
    /// found: the next page goes on in the ring from there.
    pub stopped: Option<u64>,
    /// When the ring ran out: its oldest entry's time.
    pub front_ts: Option<UnixMillis>,
    /// Each source run's oldest entry among those scanned.
    pub runs: Vec<(String, String)>,
    /// Whether entries have left the ring to make room.
    pub evicted: bool,
    /// When the ring ran out: whether its oldest entry is of a source
    /// with no history of its own (so what left before it is gone).
    pub front_unclaimed: bool,
}

impl Store {
    /// Takes log entries from a source that pushes them (journald, files).
    pub fn append_logs(&self, entries: Vec<LogEntry>) {
        if !entries.is_empty() {
            // What left the ring is freed after the lock is let go.
            let evicted = self.lock().append_logs(entries);
            drop(evicted);
        }
    }

    /// Lets the slowest log subscriber catch up before a source that can
    /// wait (a file, the journal) hands over more: a burst bigger than a
    /// subscriber's queue would otherwise become a gap, though the lines
    /// were safe on disk. Bounded: a client that stopped reading holds
    /// reading up once, for 50 ms, and is then left to its gaps until it
    /// catches up (or is cut off).
    pub fn pace_logs(&self) {
        let behind = || self.lock().logs_hub.backlog() > self.limits.log_queue / 2;
        if !behind() {
            self.log_pacing_gave_up.store(false, Ordering::Relaxed);
            return;
        }
        if self.log_pacing_gave_up.load(Ordering::Relaxed) {
            return;
        }
        let deadline = Instant::now() + Duration::from_millis(50);
        while behind() {
            if Instant::now() >= deadline {
                self.log_pacing_gave_up.store(true, Ordering::Relaxed);
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Records what a log source is doing, for `/api/v1/cluster`.
    pub fn set_log_source(&self, name: &str, state: &str) {
        let mut sources = self.log_sources.lock().unwrap_or_else(|p| p.into_inner());
        match sources.iter_mut().find(|s| s.name == name) {
            Some(s) => s.state = state.to_string(),
            None => sources.push(crate::api::LogSourceInfo {
                name: name.to_string(),
                state: state.to_string(),
            }),
        }
    }

    /// Log entries for a range read: without a cursor the last `limit`
    /// that pass the filter; with one, those after it (moved by `skip`,
    /// which may be negative). `None`: the cursor is not in the ring.
    pub fn read_logs(
        &self,
        matcher: &Matcher,
        cursor: Option<&str>,
        skip: i64,
        limit: usize,
    ) -> Option<Vec<LogEntry>> {
        let inner = self.lock();
        let ring = inner.logs_hub.recent();
        let entries = ring.iter().filter_map(|e| match &e.record {
            Record::Log(l) if matcher.matches_log(l) => Some(l),
            _ => None,
        });
        let Some(cursor) = cursor else {
            let all: Vec<&LogEntry> = entries.collect();
            let end = all.len().saturating_sub(skip.max(0) as usize);
            let start = end.saturating_sub(limit);
            return Some(all[start..end].iter().map(|l| (*l).clone()).collect());
        };
        let seq = inner.log_seq(cursor)?;
        let first = ring.front().map_or(0, |e| e.seq);
        let at = (seq - first) as usize; // the ring is contiguous in seq
        let start = (at as i64 + 1 + skip).max(0) as usize;
        Some(
            ring.iter()
                .skip(start)
                .filter_map(|e| match &e.record {
                    Record::Log(l) if matcher.matches_log(l) => Some(l.clone()),
                    _ => None,
                })
                .take(limit)
                .collect(),
        )
    }

    /// The ring's part of an older page: the newest `limit` entries that
    /// pass the filter and the range, of those before sequence number
    /// `before`; and where each source run (see
    /// [`crate::collect::history::LogSeeker::run_of`]) is covered to: the
    /// cursor its history goes on from.
    pub fn ring_older(
        &self,
        keep: impl Fn(&LogEntry) -> bool,
        before: u64,
        limit: usize,
    ) -> RingOlder {
        let seekers = self.seekers.list();
        let inner = self.lock();
        let ring = inner.logs_hub.recent();
        let mut page = RingOlder {
            entries: Vec::new(),
            stopped: None,
            front_ts: None,
            runs: Vec::new(),
            evicted: ring.front().is_some_and(|e| e.seq > 1),
            front_unclaimed: false,
        };
        // Every entry scanned is covered by this page: each source run's
        // oldest among them is where that run goes on from.
        let mut note_run = |l: &LogEntry| {
            for run in seekers.iter().filter_map(|s| s.run_of(l)) {
                match page.runs.iter_mut().find(|(key, _)| *key == run) {
                    Some((_, cursor)) => l.cursor.clone_into(cursor),
                    None => page.runs.push((run, l.cursor.clone())),
                }
            }
        };
        // The entry at `before` itself is covered too (the reader has it):
        // with nothing older in the ring, its run goes on from it.
        for e in ring.iter().rev().skip_while(|e| e.seq > before) {
            let Record::Log(l) = &e.record else { continue };
            note_run(l);
            if e.seq != before && keep(l) {
                page.entries.push(l.clone());
                if page.entries.len() == limit {
                    page.stopped = Some(e.seq);
                    break;
                }
            }
        }
        page.entries.reverse();
        if page.stopped.is_none() {
            let front = ring.iter().find_map(|e| match &e.record {
                Record::Log(l) => Some(l),
                _ => None,
            });
            page.front_ts = front.map(|l| l.ts);
            page.front_unclaimed =
                front.is_some_and(|l| seekers.iter().all(|s| s.run_of(l).is_none()));
        }
        page
    }

    /// The ring's part of a newer page: the first `limit` entries that
    /// pass the filter and the range, and the oldest entry's time.
    pub fn ring_newer(
        &self,
        keep: impl Fn(&LogEntry) -> bool,
        limit: usize,
    ) -> (Vec<LogEntry>, Option<UnixMillis>) {
        let inner = self.lock();
        let ring = inner.logs_hub.recent();
        let front = ring.iter().find_map(|e| match &e.record {
            Record::Log(l) => Some(l.ts),
            _ => None,
        });
        let entries = ring
            .iter()
            .filter_map(|e| match &e.record {
                Record::Log(l) if keep(l) => Some(l.clone()),
                _ => None,
            })
            .take(limit)
            .collect();
        (entries, front)
    }

    /// The ring's sequence number of the entry with this cursor.
    pub fn log_seq(&self, cursor: &str) -> Option<u64> {
        self.lock().log_seq(cursor)
    }

    /// Joins entries read from a source to the ring: the entries up to the
    /// first one the ring holds, then the ring from there to `upto`. `None`
    /// when none of them reaches the ring, so exactly-once cannot be kept.
    pub fn bridge(
        &self,
        from_source: Vec<LogEntry>,
        upto: u64,
    ) -> Option<(Vec<LogEntry>, Vec<Arc<Published>>)> {
        let inner = self.lock();
        // Entries of one source are in the same order in the ring, so the
        // first ring entry the source read back is where the two meet.
        let read: HashMap<&str, usize> = from_source
            .iter()
            .enumerate()
            .map(|(i, e)| (e.cursor.as_str(), i))
            .collect();
        let met = inner
            .logs_hub
            .recent()
            .iter()
            .find_map(|e| match &e.record {
                Record::Log(l) => read.get(l.cursor.as_str()).map(|&i| (i, e.seq)),
                _ => None,
            });
        drop(read);
        let Some((meet, seq)) = met else {
            // The source had nothing after the cursor, and the ring is not newer.
            return (from_source.is_empty() && inner.logs_hub.seq() == 0)
                .then(|| (from_source, Vec::new()));
        };
        let ring = inner
            .logs_hub
            .recent()
            .iter()
            .filter(|e| e.seq >= seq && e.seq <= upto)
            .cloned()
            .collect();
        let mut before = from_source;
        before.truncate(meet);
        Some((before, ring))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::store::StoreLimits;

    fn entries(n: usize) -> Vec<LogEntry> {
        (0..n)
            .map(|i| crate::collect::logline::entry(format!("t:{i}"), 0, "n", b"line"))
            .collect()
    }

    #[test]
    fn pacing_waits_for_a_slow_subscriber_once_then_gives_up_until_it_catches_up() {
        let store = Store::new(
            "c".into(),
            "test",
            StoreLimits {
                log_queue: 8,
                ..Default::default()
            },
        );
        let mut rx = store.lock().logs_hub.subscribe();
        store.append_logs(entries(3));
        store.pace_logs();
        assert!(!store.log_pacing_gave_up.load(Ordering::Relaxed));
        store.append_logs(entries(3));
        // Nobody reads: the wait ends, and later batches do not wait.
        let started = Instant::now();
        store.pace_logs();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(store.log_pacing_gave_up.load(Ordering::Relaxed));
        // Caught up: pacing is back.
        while rx.try_recv().is_ok() {}
        store.pace_logs();
        assert!(!store.log_pacing_gave_up.load(Ordering::Relaxed));
    }

    #[test]
    fn a_cursor_in_the_ring_resumes_from_the_ring() {
        let store = Store::new("c".into(), "test", StoreLimits::default());
        store.append_logs(entries(5));
        let inner = store.lock();
        assert_eq!(inner.log_seq("t:2"), Some(3));
        assert_eq!(inner.log_seq("t:9"), None);
    }
}
