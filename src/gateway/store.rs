//! The gateway's view of the cluster: the latest nodes and tasks, recent
//! metric points, and one [`TopicHub`] per topic that turns every change
//! into a sequenced event.
//!
//! Sources hand over whole pictures ([`Collected`]); the store works out
//! what changed, so "only changes go out" holds for every source alike.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::filter::Matcher;
use super::objects::Objects;
use super::series::{SeriesLimits, SeriesStats, SeriesStore};
use super::topic::{Published, TopicHub};
use super::traces::{TraceLimits, TraceQuery, TraceStats, TraceStore};
use crate::api::{
    Check, CheckResult, CheckStatus, ClusterInfo, From, Health, LogEntry, Node, Op, Record, Sample,
    StartPoint, Task, TaskState, Topic, UnixMillis,
};
use crate::collect::Collected;
use crate::collect::checks::builtin::{BUILTIN_INTERVAL_MS, Builtins};

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
    pub seekers: super::seek::Seekers,
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

    /// Takes one result of a check, adding the check if it is new, and
    /// publishes it.
    /// A check new to the store goes out as `Added`, whole; after that
    /// as `Updated` with only its newest result in `history` (the client
    /// appends it): 60 results a check in every event would make the
    /// health topic the heaviest of all at a thousand nodes.
    fn record_check(&mut self, template: Check, result: CheckResult) {
        let new = !self.checks.contains_key(&template.id);
        let (check, started) = self
            .checks
            .entry(template.id.clone())
            .or_insert_with(|| (template, result.ts));
        check.record(result, *started);
        let mut event = Check {
            history: Vec::new(),
            ..check.clone()
        };
        event.history.extend(check.history.last().cloned());
        let op = if new { Op::Added } else { Op::Updated };
        self.health_hub.publish(op, Record::Check(event));
    }

    /// Health from checks, by node id and by task id, in one pass over
    /// the checks: unhealthy with a failing check, healthy when all pass;
    /// missing (the source's word stands) with none, or no verdict yet.
    fn health_from_checks(&self) -> (HashMap<String, Health>, HashMap<String, Health>) {
        // Per id: (a check fails, every check passes).
        let mut nodes: HashMap<&str, (bool, bool)> = HashMap::new();
        let mut tasks: HashMap<&str, (bool, bool)> = HashMap::new();
        for (c, _) in self.checks.values() {
            let (fails, passes) = (
                c.status == CheckStatus::Failing,
                c.status == CheckStatus::Passing,
            );
            for (map, id) in [(&mut nodes, &c.node_id), (&mut tasks, &c.task_id)] {
                if let Some(id) = id {
                    let v = map.entry(id.as_str()).or_insert((false, true));
                    *v = (v.0 || fails, v.1 && passes);
                }
            }
        }
        let verdicts = |map: HashMap<&str, (bool, bool)>| {
            map.into_iter()
                .filter_map(|(id, (fails, all_pass))| {
                    let health = if fails {
                        Health::Unhealthy
                    } else if all_pass {
                        Health::Healthy
                    } else {
                        return None;
                    };
                    Some((id.to_string(), health))
                })
                .collect()
        };
        (verdicts(nodes), verdicts(tasks))
    }

    /// The sequence number of the log entry with this cursor, if the ring
    /// holds it. A scan from the newest, as resumes are rare and usually
    /// recent: an index by cursor cost every entry a hash and a copy.
    fn log_seq(&self, cursor: &str) -> Option<u64> {
        self.logs_hub
            .recent()
            .iter()
            .rev()
            .find(|e| matches!(&e.record, Record::Log(l) if l.cursor == cursor))
            .map(|e| e.seq)
    }

    /// The last `n` log entries that pass the filter, oldest first.
    fn log_tail(&self, matcher: &Matcher, n: usize) -> Vec<Record> {
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
                .traces
                .list(&TraceQuery {
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
        if now >= inner.builtins_at + BUILTIN_INTERVAL_MS {
            inner.builtins_at = now;
            for (check, result) in inner.builtins.evaluate(collected.nodes.iter(), now) {
                inner.record_check(check, result);
            }
        }
        let (node_health, task_health) = inner.health_from_checks();
        for node in &mut collected.nodes {
            if let Some(health) = node_health.get(&node.id) {
                node.health = *health;
            }
        }
        for task in &mut collected.tasks {
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
        );
        push_samples(inner, collected.samples);
        inner.series.expire(now - self.limits.series.ttl_ms);
        append_logs(inner, collected.logs);
        add_spans(inner, collected.spans);
    }

    /// Takes a result of a check run outside the store (a probe, a
    /// DogStatsD service check).
    pub fn record_check(&self, check: Check, result: CheckResult) {
        self.lock().record_check(check, result);
    }

    /// Every check, failing ones first, and the `health` topic's sequence.
    pub fn checks(&self, matcher: &Matcher) -> (u64, Vec<Check>) {
        let inner = self.lock();
        let mut checks: Vec<Check> = inner
            .checks
            .values()
            .filter(|(c, _)| matcher.matches_check(c))
            .map(|(c, _)| c.clone())
            .collect();
        checks.sort_by(|a, b| (a.status, &a.target, &a.name).cmp(&(b.status, &b.target, &b.name)));
        (inner.health_hub.seq(), checks)
    }

    /// Takes spans (OTLP, the demo) and announces the traces they touched;
    /// returns how many were refused (their trace was full).
    pub fn add_spans(&self, spans: Vec<crate::api::Span>) -> usize {
        if spans.is_empty() {
            return 0;
        }
        add_spans(&mut self.lock(), spans)
    }

    pub fn traces(&self, query: &TraceQuery) -> Vec<crate::api::TraceSummary> {
        self.lock().traces.list(query)
    }

    pub fn trace(&self, trace_id: &str) -> Option<Vec<crate::api::Span>> {
        self.lock().traces.get(trace_id)
    }

    pub fn services(&self) -> Vec<(String, Vec<String>)> {
        self.lock().traces.services()
    }

    pub fn trace_stats(&self) -> TraceStats {
        self.lock().traces.stats()
    }

    /// Takes samples from a source that pushes them (statsd).
    pub fn add_samples(&self, samples: Vec<Sample>) {
        if !samples.is_empty() {
            push_samples(&mut self.lock(), samples);
        }
    }

    /// Takes log entries from a source that pushes them (journald, files).
    pub fn append_logs(&self, entries: Vec<LogEntry>) {
        if !entries.is_empty() {
            // What left the ring is freed after the lock is let go.
            let evicted = append_logs(&mut self.lock(), entries);
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

    /// The newest value of every series the matcher wants.
    pub fn latest_samples(&self, matcher: &Matcher) -> Vec<Sample> {
        let inner = self.lock();
        inner
            .series
            .latest()
            .filter(|s| matcher.matches_series(&s.name, &s.tags))
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

fn add_spans(inner: &mut Inner, spans: Vec<crate::api::Span>) -> usize {
    if spans.is_empty() {
        return 0;
    }
    let (touched, refused) = inner.traces.add(spans);
    for summary in touched {
        inner.spans_hub.publish(Op::Updated, Record::Trace(summary));
    }
    refused
}

fn task_record(task: Arc<Task>) -> Record {
    Record::Task(Arc::unwrap_or_clone(task))
}

fn push_samples(inner: &mut Inner, samples: Vec<Sample>) {
    for sample in samples {
        if inner.series.push(&sample) {
            inner.metrics_hub.publish(Op::Added, Record::Sample(sample));
        }
    }
}

fn append_logs(inner: &mut Inner, entries: Vec<LogEntry>) -> Vec<Arc<Published>> {
    let mut evicted = Vec::new();
    for entry in entries {
        evicted.extend(inner.logs_hub.publish(Op::Added, Record::Log(entry)));
    }
    evicted
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
