//! The gateway's view of the cluster: the latest nodes and tasks, recent
//! metric points, and one [`TopicHub`] per topic that turns every change
//! into a sequenced event.
//!
//! Sources hand over whole pictures ([`Collected`]); the store works out
//! what changed, so "only changes go out" holds for every source alike.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

use super::filter::Matcher;
use super::objects::Objects;
use super::series::{SeriesLimits, SeriesStats, SeriesStore};
use super::topic::{Published, TopicHub};
use super::traces::{TraceLimits, TraceStore};
use crate::api::{
    Check, ClusterInfo, Node, Op, Record, Sample, Task, TaskState, Topic, UnixMillis,
};
use crate::collect::Collected;
use crate::collect::checks::builtin::{BUILTIN_INTERVAL_MS, Builtins};

mod health;
mod logs;
mod subscribe;
mod traces;

/// Audit events (session starts and ends) kept in memory.
const AUDIT_KEPT: usize = 2000;

/// Check events a health subscriber may fall behind before it is caught up.
const HEALTH_QUEUE: usize = 4096;

/// The bounds of the store and its topics.
#[derive(Debug, Clone)]
pub struct StoreLimits {
    /// Metric events a subscriber may fall behind before it is caught up.
    /// A topic's queue keeps its last this-many events alive, read or not.
    pub subscriber_queue: usize,
    /// The same for topics whose events are whole objects of kilobytes
    /// (nodes, tasks, checks, traces, audit), and what their replay rings
    /// hold: far fewer, so the queues cannot pin hundreds of megabytes.
    pub object_queue: usize,
    /// Events kept for clients resuming from a sequence number.
    pub replay: usize,
    /// Traces: spans and bytes held.
    pub traces: TraceLimits,
    /// Metric series: how many, how far back, how much memory.
    pub series: SeriesLimits,
    /// Points of each series a `metrics` snapshot carries.
    pub snapshot_points: usize,
    /// Bytes of log entries kept for range reads and resumes.
    pub log_bytes: usize,
    /// Log entries a subscriber may fall behind before lines are dropped
    /// (with a gap). Entries can be large, so this is far below
    /// `subscriber_queue`: it bounds what a stalled subscriber pins.
    pub log_queue: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            subscriber_queue: 32_768,
            object_queue: 1_024,
            replay: 16_384,
            series: SeriesLimits::default(),
            traces: TraceLimits::default(),
            snapshot_points: 300,
            log_bytes: 64 << 20,
            log_queue: 8192,
        }
    }
}

/// How a subscription begins: a snapshot, or the events it missed.
pub enum Start {
    Snapshot {
        seq: u64,
        items: Vec<Record>,
    },
    Replay(Vec<Arc<Published>>),
    /// Logs after a cursor the ring no longer holds: ask the source, then
    /// bridge to the ring (see [`Store::bridge`]); events up to `upto` are
    /// the bridge's, later ones the receiver's.
    Seek {
        cursor: String,
        upto: u64,
    },
}

/// Log entries a subscription starts with when none is asked for.
pub const DEFAULT_LOG_TAIL: usize = 1000;

pub struct Subscription {
    pub start: Start,
    pub rx: broadcast::Receiver<Arc<Published>>,
    /// The topic's sequence number when `rx` began: it receives what comes after.
    pub seq: u64,
}

/// What a subscriber that fell behind is sent instead of a gap, and where
/// it carries on from.
pub struct CatchUp {
    pub changed: Vec<Arc<Published>>,
    pub rx: broadcast::Receiver<Arc<Published>>,
    pub seq: u64,
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
    /// The sources that can read back from their own cursors.
    pub seekers: crate::gateway::logs::seek::Seekers,
    log_sources: Mutex<Vec<crate::api::LogSourceInfo>>,
    /// Names this run of the gateway; sequence numbers are only
    /// comparable within one epoch.
    pub epoch: String,
    limits: StoreLimits,
    /// A log subscriber stayed behind through a whole wait in
    /// [`Store::pace_logs`]; no more waiting until it catches up.
    log_pacing_gave_up: AtomicBool,
}

struct Inner {
    cluster_name: String,
    source: String,
    nodes: Objects<Node>,
    /// Shared with the source that read them (see `Collected::tasks`).
    tasks: Objects<Arc<Task>>,
    series: SeriesStore,
    snapshot_points: usize,
    nodes_hub: TopicHub,
    tasks_hub: TopicHub,
    metrics_hub: TopicHub,
    logs_hub: TopicHub,
    health_hub: TopicHub,
    spans_hub: TopicHub,
    /// Audit records; its replay ring is what `GET /api/v1/audit` reads.
    audit_hub: TopicHub,
    traces: TraceStore,
    /// A hub's: its agents' trace summaries, merged by trace id.
    merged_traces: super::traces::MergedTraces,
    /// Every check by id, with when it began (its grace period's start).
    checks: BTreeMap<String, (Check, UnixMillis)>,
    builtins: Builtins,
    /// When the built-in checks last ran.
    builtins_at: UnixMillis,
    /// When each node was last published: a node whose only change is its
    /// usage is published at most every [`NODE_USAGE_EVERY_MS`].
    node_published: HashMap<String, UnixMillis>,
}

/// How often a node's usage alone makes a node event.
const NODE_USAGE_EVERY_MS: UnixMillis = 10_000;

impl Inner {
    fn hub(&self, topic: Topic) -> &TopicHub {
        match topic {
            Topic::Nodes => &self.nodes_hub,
            Topic::Tasks => &self.tasks_hub,
            Topic::Metrics => &self.metrics_hub,
            Topic::Logs => &self.logs_hub,
            Topic::Health => &self.health_hub,
            Topic::Spans => &self.spans_hub,
            Topic::Audit => &self.audit_hub,
        }
    }

    /// The last `limit` audit records held, oldest first; a session's
    /// record as it last stood.
    fn audit(&self, limit: usize) -> Vec<crate::api::AuditRecord> {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<_> = self
            .audit_hub
            .recent()
            .iter()
            .rev()
            .filter_map(|e| match &e.record {
                Record::Audit(a) if seen.insert(a.id) => Some(a.clone()),
                _ => None,
            })
            .take(limit)
            .collect();
        out.reverse();
        out
    }
}

impl Store {
    pub fn new(cluster_name: String, source: &str, limits: StoreLimits) -> Store {
        let hub = || {
            TopicHub::new(
                limits.object_queue,
                limits.replay.min(limits.object_queue),
                usize::MAX,
            )
        };
        Store {
            inner: Mutex::new(Inner {
                cluster_name,
                source: source.to_string(),
                nodes: Objects::default(),
                tasks: Objects::default(),
                series: SeriesStore::new(limits.series.clone()),
                snapshot_points: limits.snapshot_points,
                nodes_hub: hub(),
                tasks_hub: hub(),
                metrics_hub: TopicHub::new(limits.subscriber_queue, limits.replay, usize::MAX),
                logs_hub: TopicHub::new(limits.log_queue, usize::MAX, limits.log_bytes),
                // Built-in checks are evaluated together, three a node:
                // the queue takes a whole round at 1,000 nodes.
                health_hub: TopicHub::new(
                    limits.object_queue.max(HEALTH_QUEUE),
                    limits.replay.min(limits.object_queue),
                    usize::MAX,
                ),
                spans_hub: hub(),
                audit_hub: TopicHub::new(limits.object_queue, AUDIT_KEPT, usize::MAX),
                traces: TraceStore::new(limits.traces.clone()),
                merged_traces: Default::default(),
                checks: BTreeMap::new(),
                builtins: Builtins::default(),
                builtins_at: i64::MIN,
                node_published: HashMap::new(),
            }),
            seekers: Default::default(),
            log_sources: Mutex::new(Vec::new()),
            epoch: random_hex(8),
            limits,
            log_pacing_gave_up: AtomicBool::new(false),
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
        let mut collected = collected;
        inner.builtins.note_nodes(collected.nodes.iter(), now);
        for task in &collected.tasks {
            let ended = matches!(
                task.state,
                TaskState::Failed | TaskState::Lost | TaskState::Killed
            );
            if ended
                && inner
                    .tasks
                    .get(&task.id)
                    .is_some_and(|old| old.state != task.state)
            {
                inner.builtins.note_task_ending(now);
            }
        }
        // A hub's agents run their own built-in checks; they come whole.
        // A Kubernetes cluster has its own (`kubernetes::checks`): the
        // host's (uptime resets, memory from /proc) mean nothing there.
        let evaluates = !matches!(inner.source.as_str(), "fleet" | "kube");
        if evaluates && now >= inner.builtins_at + BUILTIN_INTERVAL_MS {
            inner.builtins_at = now;
            for (check, result) in inner.builtins.evaluate(collected.nodes.iter(), now) {
                inner.record_check(check, result);
            }
        }
        for check in std::mem::take(&mut collected.checks) {
            inner.put_check(check);
        }
        for (check, result) in std::mem::take(&mut collected.results) {
            inner.record_check(check, result);
        }
        for id in std::mem::take(&mut collected.checks_gone) {
            inner.remove_check(&id);
        }
        let (node_health, task_health) = inner.health_from_checks();
        // What cannot be reached keeps its unknown health, whatever its
        // checks said last.
        for node in collected
            .nodes
            .iter_mut()
            .filter(|n| n.unreachable_since.is_none())
        {
            if let Some(health) = node_health.get(&node.id) {
                node.health = *health;
            }
        }
        for task in collected
            .tasks
            .iter_mut()
            .filter(|t| t.unreachable_since.is_none())
        {
            if let Some(health) = task_health.get(&task.id)
                && task.health != *health
            {
                Arc::make_mut(task).health = *health;
            }
        }
        let published = &mut inner.node_published;
        inner.nodes.replace(
            collected.nodes,
            |n| &n.id,
            |old, new| {
                let due = published
                    .get(&new.id)
                    .is_none_or(|at| now - at >= NODE_USAGE_EVERY_MS);
                let same = old.same_but_usage(new) && (old == new || !due);
                if !same {
                    published.insert(new.id.clone(), now);
                }
                same
            },
            Record::Node,
            &mut inner.nodes_hub,
            now,
        );
        let nodes = &inner.nodes;
        inner.node_published.retain(|id, _| nodes.get(id).is_some());
        // A task's usage alone is no event: it travels as samples.
        inner.tasks.replace(
            collected.tasks,
            |t| &t.id,
            |old, new| Arc::ptr_eq(old, new) || old.same_but_usage(new),
            task_record,
            &mut inner.tasks_hub,
            now,
        );
        push_samples(inner, collected.samples);
        inner.series.expire(now - self.limits.series.ttl_ms);
        inner.append_logs(collected.logs);
        inner.add_spans(collected.spans);
        for (agent, summary) in std::mem::take(&mut collected.traces) {
            inner.merge_trace(&agent, summary);
        }
    }

    /// Takes samples from a source that pushes them (statsd).
    pub fn add_samples(&self, samples: Vec<Sample>) {
        if !samples.is_empty() {
            push_samples(&mut self.lock(), samples);
        }
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
            log_sources: self
                .log_sources
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// The nodes the matcher admits, by id.
    pub fn nodes(&self, matcher: &Matcher) -> (u64, Vec<Node>) {
        let inner = self.lock();
        let seq = inner.nodes_hub.seq();
        let mut nodes = inner
            .nodes
            .values()
            .filter(|n| matcher.matches_node(n))
            .cloned()
            .collect::<Vec<_>>();
        drop(inner);
        nodes.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        (seq, nodes)
    }

    pub fn node(&self, id: &str) -> Option<(u64, Node)> {
        let inner = self.lock();
        inner
            .nodes
            .get(id)
            .map(|n| (inner.nodes_hub.seq(), n.clone()))
    }

    /// The tasks the matcher admits, by id.
    pub fn tasks(&self, matcher: &Matcher) -> (u64, Vec<Task>) {
        let inner = self.lock();
        let seq = inner.tasks_hub.seq();
        let mut tasks = inner
            .tasks
            .values()
            .filter(|t| matcher.matches_task(t))
            .map(|t| Task::clone(t))
            .collect::<Vec<_>>();
        drop(inner);
        tasks.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        (seq, tasks)
    }

    /// The tasks lately removed, as they last stood, with when: oldest
    /// first (a flight recorder rebuilds the past from them).
    pub fn tasks_gone(&self, matcher: &Matcher) -> Vec<crate::api::GoneTask> {
        self.lock()
            .tasks
            .gone()
            .filter(|(t, _)| matcher.matches_task(t))
            .map(|(t, gone_at)| crate::api::GoneTask {
                gone_at,
                task: Task::clone(t),
            })
            .collect()
    }

    /// Announces an audit record (`Added` when a session starts, `Updated`
    /// when it ends) and keeps it for `GET /api/v1/audit`.
    pub fn publish_audit(&self, op: Op, record: crate::api::AuditRecord) {
        self.lock().audit_hub.publish(op, Record::Audit(record));
    }

    /// The last `limit` audit records, oldest first.
    pub fn audit(&self, limit: usize) -> Vec<crate::api::AuditRecord> {
        self.lock().audit(limit)
    }

    /// `demo` or `host`: what the tasks are.
    pub fn source_kind(&self) -> String {
        self.lock().source.clone()
    }

    pub fn task(&self, id: &str) -> Option<(u64, Task)> {
        let inner = self.lock();
        inner
            .tasks
            .get(id)
            .map(|t| (inner.tasks_hub.seq(), Task::clone(t)))
    }

    /// The newest value of every series the matcher wants.
    pub fn latest_samples(&self, matcher: &Matcher) -> Vec<Sample> {
        self.latest_samples_after(matcher, 0)
    }

    /// The newest value of every series the matcher wants with a point
    /// published after sequence number `after` on the metrics topic.
    pub fn latest_samples_after(&self, matcher: &Matcher, after: u64) -> Vec<Sample> {
        let inner = self.lock();
        inner
            .series
            .latest(after, |name, tags| matcher.matches_series(name, tags))
            .collect()
    }

    /// The wanted series over `from..=to`, a point a `step`.
    pub fn series_range(
        &self,
        matcher: &Matcher,
        from: UnixMillis,
        to: UnixMillis,
        step: i64,
    ) -> Vec<crate::api::Series> {
        let inner = self.lock();
        inner
            .series
            .range(from, to, step, |n, t| matcher.matches_series(n, t))
    }

    pub fn topic_stats(&self) -> Vec<TopicStats> {
        let inner = self.lock();
        [
            Topic::Nodes,
            Topic::Tasks,
            Topic::Metrics,
            Topic::Logs,
            Topic::Health,
            Topic::Spans,
            Topic::Audit,
        ]
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

    /// `(entries, bytes)` held in the logs ring.
    pub fn log_stats(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.logs_hub.recent().len(), inner.logs_hub.recent_bytes())
    }

    pub fn series_stats(&self) -> SeriesStats {
        self.lock().series.stats()
    }
}

fn task_record(task: Arc<Task>) -> Record {
    Record::Task(Arc::unwrap_or_clone(task))
}

fn push_samples(inner: &mut Inner, samples: Vec<Sample>) {
    for sample in samples {
        // The number the metrics topic gives it next.
        let seq = inner.metrics_hub.seq() + 1;
        if inner.series.push(&sample, seq) {
            inner.metrics_hub.publish(Op::Added, Record::Sample(sample));
        }
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_alone_makes_a_node_event_at_most_every_ten_seconds_and_a_task_event_never() {
        use crate::collect::Source;
        let store = Store::new("c".into(), "demo", StoreLimits::default());
        let mut demo = crate::collect::demo::DemoSource::new(crate::collect::demo::DemoConfig {
            nodes: 3,
            tasks: 20,
            ..Default::default()
        });
        let t0 = 1_700_000_000_000;
        let first = demo.collect(t0);
        store.apply(first.clone(), t0);
        let (nodes0, tasks0) = (
            store.cluster_info().nodes_seq,
            store.cluster_info().tasks_seq,
        );
        // Thirty seconds of readings in which only usage moves.
        for second in 1..=30 {
            let mut reading = first.clone();
            for n in &mut reading.nodes {
                n.usage.cpu_percent = second as f64;
                n.last_seen = t0 + second * 1000;
            }
            for t in &mut reading.tasks {
                let t = Arc::make_mut(t);
                t.cpu = second as f64 / 10.0;
                t.mem_bytes += second as u64;
            }
            store.apply(reading, t0 + second * 1000);
        }
        let info = store.cluster_info();
        assert_eq!(info.tasks_seq, tasks0, "usage is no task event");
        let node_events = info.nodes_seq - nodes0;
        assert!(
            (3..=3 * 4).contains(&(node_events as usize)),
            "{node_events} node events for 3 nodes in 30 s"
        );
        // The store holds the latest usage all the same.
        assert_eq!(
            store.node(&first.nodes[0].id).unwrap().1.usage.cpu_percent,
            30.0
        );
    }
}
