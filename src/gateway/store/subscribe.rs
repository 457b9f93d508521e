//! Starting a subscription (a snapshot, a replay of what was missed, or a
//! seek in a source's history) and catching up a subscriber that fell
//! behind: each taken under one lock with its receiver, so no event falls
//! between them.

use std::sync::Arc;

use super::{CatchUp, DEFAULT_LOG_TAIL, Inner, Start, Store, Subscription, task_record};
use crate::api::{From, Op, Record, StartPoint, Task, Topic};
use crate::gateway::filter::Matcher;
use crate::gateway::topic::Published;
use crate::gateway::traces::TraceQuery;

impl Inner {
    fn snapshot(&self, topic: Topic, matcher: &Matcher) -> Vec<Record> {
        match topic {
            Topic::Nodes => self
                .nodes
                .values()
                .filter(|n| matcher.matches_node(n))
                .map(|n| Record::Node(n.clone()))
                .collect(),
            Topic::Tasks => self
                .tasks
                .values()
                .filter(|t| matcher.matches_task(t))
                .map(|t| Record::Task(Task::clone(t)))
                .collect(),
            Topic::Metrics => self
                .series
                .snapshot(
                    matcher
                        .points
                        .unwrap_or(usize::MAX)
                        .min(self.snapshot_points),
                    |name, tags| matcher.matches_series(name, tags),
                )
                .into_iter()
                .map(Record::Series)
                .collect(),
            Topic::Logs => self.log_tail(matcher, DEFAULT_LOG_TAIL),
            Topic::Spans => self
                .list_traces(&TraceQuery {
                    limit: 100,
                    ..Default::default()
                })
                .into_iter()
                .map(Record::Trace)
                .filter(|r| matcher.matches(r))
                .collect(),
            Topic::Health => self
                .checks
                .values()
                .filter(|(c, _)| matcher.matches_check(c))
                .map(|(c, _)| Record::Check(c.clone()))
                .collect(),
            Topic::Audit => self
                .audit(usize::MAX)
                .into_iter()
                .map(Record::Audit)
                .collect(),
        }
    }
}

impl Store {
    /// Starts a subscription. The snapshot (or replay) and the receiver are
    /// taken under one lock, so no event falls between them.
    pub fn subscribe(&self, topic: Topic, matcher: &Matcher, from: &From) -> Subscription {
        let inner = self.lock();
        let hub = inner.hub(topic);
        let rx = hub.subscribe();
        let start = match from {
            From::Named(StartPoint::Now) => Start::Replay(Vec::new()),
            From::Tail { tail } => Start::Snapshot {
                seq: hub.seq(),
                items: inner.log_tail(matcher, *tail),
            },
            From::Cursor { cursor } => match inner.log_seq(cursor) {
                Some(seq) => Start::Replay(hub.replay_after(seq).unwrap_or_default()),
                None => Start::Seek {
                    cursor: cursor.clone(),
                    upto: hub.seq(),
                },
            },
            From::Seq { seq, epoch } if *epoch == self.epoch => match hub.replay_after(*seq) {
                Some(missed) => Start::Replay(missed),
                None => Start::Snapshot {
                    seq: hub.seq(),
                    items: inner.snapshot(topic, matcher),
                },
            },
            _ => Start::Snapshot {
                seq: hub.seq(),
                items: inner.snapshot(topic, matcher),
            },
        };
        Subscription {
            start,
            rx,
            seq: hub.seq(),
        }
    }

    /// Catches up a nodes or tasks subscriber that fell behind after
    /// `since`: what changed since, as it is now and in order, and a new
    /// receiver for what comes after (taken under one lock, so nothing
    /// falls between). `None` when that cannot be told (too many removals
    /// since, or another topic): the subscriber needs a snapshot.
    pub fn catch_up(&self, topic: Topic, matcher: &Matcher, since: u64) -> Option<CatchUp> {
        let inner = self.lock();
        fn events<T: Clone>(
            changed: Vec<(u64, Op, T)>,
            record: fn(T) -> Record,
            matcher: &Matcher,
        ) -> Vec<Arc<Published>> {
            changed
                .into_iter()
                .map(|(seq, op, item)| (seq, op, record(item)))
                .filter(|(_, _, r)| matcher.matches(r))
                .map(|(seq, op, r)| Arc::new(Published::at(seq, op, r)))
                .collect()
        }
        let changed = match topic {
            Topic::Nodes => events(inner.nodes.since(since)?, Record::Node, matcher),
            Topic::Tasks => events(inner.tasks.since(since)?, task_record, matcher),
            _ => return None,
        };
        let hub = inner.hub(topic);
        Some(CatchUp {
            changed,
            rx: hub.subscribe(),
            seq: hub.seq(),
        })
    }
}
