//! The gateway's view of the cluster: the latest nodes and tasks, recent
//! metric points, and one [`TopicHub`] per topic that turns every change
//! into a sequenced event.
//!
//! Sources hand over whole pictures ([`Collected`]); the store works out
//! what changed, so "only changes go out" holds for every source alike.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

use super::filter::Matcher;
use super::series::SeriesStore;
use super::topic::{Published, TopicHub};
use crate::api::{ClusterInfo, From, Node, Op, Record, StartPoint, Task, Topic, UnixMillis};
use crate::collect::Collected;

/// The bounds of the store and its topics.
#[derive(Debug, Clone)]
pub struct StoreLimits {
    /// Events a subscriber may fall behind before it is told of a gap.
    pub subscriber_queue: usize,
    /// Events kept for clients resuming from a sequence number.
    pub replay: usize,
    pub max_series: usize,
    pub points_per_series: usize,
    /// A series with no point for this long is forgotten.
    pub series_ttl_ms: i64,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            subscriber_queue: 65_536,
            replay: 16_384,
            max_series: 50_000,
            points_per_series: 300,
            series_ttl_ms: 10 * 60 * 1000,
        }
    }
}

/// How a subscription begins: a snapshot, or the events it missed.
pub enum Start {
    Snapshot { seq: u64, items: Vec<Record> },
    Replay(Vec<Arc<Published>>),
}

pub struct Subscription {
    pub start: Start,
    pub rx: broadcast::Receiver<Arc<Published>>,
}

#[derive(Debug, Clone, Default)]
pub struct TopicStats {
    pub topic: &'static str,
    pub seq: u64,
    pub subscribers: usize,
    pub backlog: usize,
}

pub struct Store {
    inner: Mutex<Inner>,
    /// Names this run of the gateway; sequence numbers are only
    /// comparable within one epoch.
    pub epoch: String,
    limits: StoreLimits,
}

struct Inner {
    cluster_name: String,
    source: String,
    nodes: BTreeMap<String, Node>,
    tasks: BTreeMap<String, Task>,
    series: SeriesStore,
    nodes_hub: TopicHub,
    tasks_hub: TopicHub,
    metrics_hub: TopicHub,
}

impl Inner {
    fn hub(&self, topic: Topic) -> &TopicHub {
        match topic {
            Topic::Nodes => &self.nodes_hub,
            Topic::Tasks => &self.tasks_hub,
            Topic::Metrics => &self.metrics_hub,
        }
    }

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
                .map(|t| Record::Task(t.clone()))
                .collect(),
            Topic::Metrics => self
                .series
                .snapshot(|name, tags| matcher.matches_series(name, tags))
                .into_iter()
                .map(Record::Series)
                .collect(),
        }
    }
}

impl Store {
    pub fn new(cluster_name: String, source: &str, limits: StoreLimits) -> Store {
        let hub = || TopicHub::new(limits.subscriber_queue, limits.replay);
        Store {
            inner: Mutex::new(Inner {
                cluster_name,
                source: source.to_string(),
                nodes: BTreeMap::new(),
                tasks: BTreeMap::new(),
                series: SeriesStore::new(limits.max_series, limits.points_per_series),
                nodes_hub: hub(),
                tasks_hub: hub(),
                metrics_hub: hub(),
            }),
            epoch: random_hex(8),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a source's latest picture and publishes what changed.
    pub fn apply(&self, collected: Collected, now: UnixMillis) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        publish_changes(
            &mut inner.nodes,
            collected.nodes,
            |n| &n.id,
            Record::Node,
            &mut inner.nodes_hub,
        );
        publish_changes(
            &mut inner.tasks,
            collected.tasks,
            |t| &t.id,
            Record::Task,
            &mut inner.tasks_hub,
        );
        for sample in collected.samples {
            if inner.series.push(&sample) {
                inner.metrics_hub.publish(Op::Added, Record::Sample(sample));
            }
        }
        inner.series.expire(now - self.limits.series_ttl_ms);
    }

    pub fn cluster_info(&self) -> ClusterInfo {
        let inner = self.lock();
        let mut tasks_by_state = BTreeMap::new();
        for task in inner.tasks.values() {
            *tasks_by_state.entry(task.state).or_insert(0) += 1;
        }
        ClusterInfo {
            name: inner.cluster_name.clone(),
            source: inner.source.clone(),
            nodes: inner.nodes.len(),
            tasks: inner.tasks.len(),
            tasks_by_state,
            nodes_seq: inner.nodes_hub.seq(),
            tasks_seq: inner.tasks_hub.seq(),
            epoch: self.epoch.clone(),
        }
    }

    pub fn nodes(&self, matcher: &Matcher) -> (u64, Vec<Node>) {
        let inner = self.lock();
        let nodes = inner
            .nodes
            .values()
            .filter(|n| matcher.matches_node(n))
            .cloned()
            .collect();
        (inner.nodes_hub.seq(), nodes)
    }

    pub fn node(&self, id: &str) -> Option<(u64, Node)> {
        let inner = self.lock();
        inner
            .nodes
            .get(id)
            .map(|n| (inner.nodes_hub.seq(), n.clone()))
    }

    pub fn tasks(&self, matcher: &Matcher) -> (u64, Vec<Task>) {
        let inner = self.lock();
        let tasks = inner
            .tasks
            .values()
            .filter(|t| matcher.matches_task(t))
            .cloned()
            .collect();
        (inner.tasks_hub.seq(), tasks)
    }

    pub fn task(&self, id: &str) -> Option<(u64, Task)> {
        let inner = self.lock();
        inner
            .tasks
            .get(id)
            .map(|t| (inner.tasks_hub.seq(), t.clone()))
    }

    /// Starts a subscription. The snapshot (or replay) and the receiver are
    /// taken under one lock, so no event falls between them.
    pub fn subscribe(&self, topic: Topic, matcher: &Matcher, from: &From) -> Subscription {
        let inner = self.lock();
        let hub = inner.hub(topic);
        let rx = hub.subscribe();
        let start = match from {
            From::Named(StartPoint::Now) => Start::Replay(Vec::new()),
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
        Subscription { start, rx }
    }

    /// Calls `f` with every series' newest value.
    pub fn with_latest_samples(&self, mut f: impl FnMut(&str, &BTreeMap<String, String>, f64)) {
        let inner = self.lock();
        for (name, tags, value) in inner.series.latest() {
            f(name, tags, value);
        }
    }

    pub fn topic_stats(&self) -> Vec<TopicStats> {
        let inner = self.lock();
        [Topic::Nodes, Topic::Tasks, Topic::Metrics]
            .into_iter()
            .map(|topic| {
                let hub = inner.hub(topic);
                TopicStats {
                    topic: topic.as_str(),
                    seq: hub.seq(),
                    subscribers: hub.subscribers(),
                    backlog: hub.backlog(),
                }
            })
            .collect()
    }

    /// `(series, points, samples dropped for want of room)`.
    pub fn series_stats(&self) -> (usize, usize, u64) {
        let inner = self.lock();
        (
            inner.series.series_count(),
            inner.series.points(),
            inner.series.dropped_samples,
        )
    }
}

/// Replaces `current` with `latest`, publishing an event for every item
/// added, changed or gone.
fn publish_changes<T: Clone + PartialEq>(
    current: &mut BTreeMap<String, T>,
    latest: Vec<T>,
    id: fn(&T) -> &String,
    record: fn(T) -> Record,
    hub: &mut TopicHub,
) {
    let mut next = BTreeMap::new();
    for item in latest {
        let key = id(&item).clone();
        match current.remove(&key) {
            None => hub.publish(Op::Added, record(item.clone())),
            Some(old) if old != item => hub.publish(Op::Updated, record(item.clone())),
            Some(_) => {}
        }
        next.insert(key, item);
    }
    for (_, gone) in std::mem::replace(current, next) {
        hub.publish(Op::Removed, record(gone));
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
