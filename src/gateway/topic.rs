//! One topic's fan-out: sequence numbers, a short replay ring, and a
//! broadcast channel whose capacity bounds every subscriber's queue.
//!
//! A broadcast channel is one shared ring with a cursor per receiver, so a
//! slow subscriber costs the gateway no memory beyond the ring: it lags, and
//! is told how much it missed.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::api::{Op, Record};

/// An event as published: typed for filtering, serialized once for every
/// subscriber that receives it.
#[derive(Debug)]
pub struct Published {
    pub seq: u64,
    pub op: Op,
    pub record: Record,
    /// Roughly what it costs to keep, for byte-bounded rings.
    pub weight: usize,
    json: OnceLock<Box<str>>,
}

#[derive(Serialize)]
struct EventRef<'a> {
    seq: u64,
    op: Op,
    data: &'a Record,
}

impl Published {
    /// An event outside any sequence (seq 0), such as a log entry read back
    /// from its source.
    pub fn unsequenced(record: Record) -> Published {
        Published::at(0, Op::Added, record)
    }

    /// An event as it was published at `seq`, made again from the current
    /// state (a catch-up).
    pub fn at(seq: u64, op: Op, record: Record) -> Published {
        Published {
            seq,
            op,
            record,
            weight: 0,
            json: OnceLock::new(),
        }
    }

    /// The event as JSON, as it goes into an `event` frame's `events` array.
    pub fn json(&self) -> &str {
        self.json.get_or_init(|| {
            // Written at about its size (a log entry's weight is about its
            // JSON), not grown from a few bytes by copies.
            let mut out = Vec::with_capacity(self.weight.clamp(128, 1 << 16));
            let event = EventRef {
                seq: self.seq,
                op: self.op,
                data: &self.record,
            };
            serde_json::to_writer(&mut out, &event).expect("wire records always serialize");
            String::from_utf8(out)
                .expect("serde_json writes UTF-8")
                .into_boxed_str()
        })
    }
}

pub struct TopicHub {
    seq: u64,
    recent: VecDeque<Arc<Published>>,
    recent_capacity: usize,
    recent_bytes: usize,
    max_recent_bytes: usize,
    tx: broadcast::Sender<Arc<Published>>,
}

impl TopicHub {
    /// `queue` bounds what a subscriber may fall behind by; `replay` (in
    /// events) and `replay_bytes` bound how far back a reconnecting client
    /// can resume without a snapshot.
    pub fn new(queue: usize, replay: usize, replay_bytes: usize) -> Self {
        let (tx, _) = broadcast::channel(queue.max(1));
        TopicHub {
            seq: 0,
            recent: VecDeque::with_capacity(replay.min(4096)),
            recent_capacity: replay,
            recent_bytes: 0,
            max_recent_bytes: replay_bytes,
            tx,
        }
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Publishes an event; returns the events that left the replay ring
    /// to make room for it.
    pub fn publish(&mut self, op: Op, record: Record) -> Vec<Arc<Published>> {
        self.seq += 1;
        let weight = match &record {
            Record::Log(entry) => entry.weight(),
            _ => 256,
        };
        let event = Arc::new(Published {
            seq: self.seq,
            op,
            record,
            weight,
            json: OnceLock::new(),
        });
        let mut evicted = Vec::new();
        if self.recent_capacity > 0 {
            self.recent_bytes += weight;
            self.recent.push_back(event.clone());
            while self.recent.len() > self.recent_capacity
                || self.recent_bytes > self.max_recent_bytes
            {
                let Some(old) = self.recent.pop_front() else {
                    break;
                };
                self.recent_bytes -= old.weight;
                evicted.push(old);
            }
        }
        // No receivers is not an error: nobody is listening yet.
        let _ = self.tx.send(event);
        evicted
    }

    /// The events in the replay ring, oldest first.
    pub fn recent(&self) -> &VecDeque<Arc<Published>> {
        &self.recent
    }

    /// Bytes held by the replay ring.
    pub fn recent_bytes(&self) -> usize {
        self.recent_bytes
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }

    /// The events after `seq`, if the ring still holds all of them.
    pub fn replay_after(&self, seq: u64) -> Option<Vec<Arc<Published>>> {
        if seq > self.seq {
            return None;
        }
        if seq == self.seq {
            return Some(Vec::new());
        }
        let first = self.recent.front()?.seq;
        if seq + 1 < first {
            return None;
        }
        Some(
            self.recent
                .iter()
                .filter(|e| e.seq > seq)
                .cloned()
                .collect(),
        )
    }

    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Events in the ring not yet read by the slowest subscriber.
    pub fn backlog(&self) -> usize {
        self.tx.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Sample;

    fn sample(v: f64) -> Record {
        Record::Sample(Sample {
            name: "x".into(),
            tags: Default::default(),
            ts: 0,
            value: v,
            unit: String::new(),
        })
    }

    #[test]
    fn replay_covers_only_what_the_ring_holds() {
        let mut hub = TopicHub::new(8, 3, usize::MAX);
        for i in 0..5 {
            hub.publish(Op::Added, sample(i as f64));
        }
        assert_eq!(hub.seq(), 5);
        assert!(hub.replay_after(1).is_none(), "seq 2 fell out of the ring");
        let replay = hub.replay_after(2).unwrap();
        assert_eq!(replay.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
        assert!(hub.replay_after(5).unwrap().is_empty());
        assert!(hub.replay_after(9).is_none(), "a seq from the future");
    }

    #[test]
    fn a_slow_receiver_lags_instead_of_growing() {
        let mut hub = TopicHub::new(4, 0, 0);
        let mut rx = hub.subscribe();
        for i in 0..10 {
            hub.publish(Op::Added, sample(i as f64));
        }
        assert_eq!(hub.backlog(), 4);
        match rx.try_recv() {
            Err(broadcast::error::TryRecvError::Lagged(n)) => assert_eq!(n, 6),
            other => panic!("expected a lag, got {other:?}"),
        }
        assert_eq!(rx.try_recv().unwrap().seq, 7);
    }

    #[test]
    fn the_ring_is_bounded_in_bytes_and_says_what_it_evicted() {
        let mut hub = TopicHub::new(8, usize::MAX, 1000);
        let mut evicted = 0;
        for i in 0..10 {
            evicted += hub.publish(Op::Added, sample(i as f64)).len();
        }
        assert_eq!(hub.recent().len(), 3, "256 bytes each, 1000 at most");
        assert_eq!(evicted, 7);
        assert!(hub.recent_bytes() <= 1000);
    }

    #[test]
    fn json_is_an_event() {
        let mut hub = TopicHub::new(4, 4, usize::MAX);
        hub.publish(Op::Added, sample(1.5));
        let event = &hub.replay_after(0).unwrap()[0];
        let parsed: crate::api::Event = serde_json::from_str(event.json()).unwrap();
        assert_eq!(parsed.seq, 1);
        assert_eq!(parsed.data, sample(1.5));
    }
}
