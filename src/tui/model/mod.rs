//! The console's copy of the cluster, fed by stream messages: nodes, tasks,
//! the node series the sparklines draw, and the recent state changes.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use std::sync::Arc;

use crate::tui::dash::series::SeriesCache;
use crate::tui::logs::buffer::{DEFAULT_MAX_ROWS, LogBuffer, Row};
mod counts;
pub mod signals;
mod snapshot;
pub mod touched;

use crate::api::{
    AgentStatus, CHECK_HISTORY, Check, CheckStatus, Event, Node, Op, Record, ServerMsg, Task,
    TaskState, TraceSummary, UnixMillis, now_millis,
};
use crate::client::StreamEvent;
pub use touched::{Id, Kind, Touched};

/// Subscription names the console uses.
pub const SUB_NODES: &str = "nodes";
pub const SUB_TASKS: &str = "tasks";
pub const SUB_NODE_METRICS: &str = "node-metrics";
pub const SUB_LOGS: &str = "logs";
pub const SUB_HEALTH: &str = "health";
/// Not a subscription: a hub's agents are read (`GET /api/v1/agents`)
/// while their view is up; the name marks the first read's arrival.
pub const SUB_AGENTS: &str = "agents";
pub const SUB_DASH: &str = "dash";
pub const SUB_TASK_METRICS: &str = "task-metrics";
pub const SUB_TRACES: &str = "traces";
/// Error lines (priority err and worse), always: triage counts them.
pub const SUB_ERRORS: &str = "errors";
/// Every log line, for a recording (so a replay can open any log view):
/// the live console keeps none of them.
pub const SUB_RECORDED_LOGS: &str = "recorded-logs";
/// Trace summaries the console keeps (the newest).
pub const MAX_TRACES: usize = 1000;

/// The node series the sparklines draw, by metric name.
pub const CPU_SERIES: &str = "node.cpu.percent";
pub const MEM_SERIES: &str = "node.mem.percent";
/// The task series the tasks table's sparklines draw.
pub const TASK_CPU_SERIES: &str = "task.cpu.percent";
pub const TASK_MEM_SERIES: &str = "task.mem.rss.bytes";
/// Points kept per task sparkline (there may be 10,000 tasks).
pub const TASK_SPARK_POINTS: usize = 30;
/// Points kept per sparkline.
pub const SPARK_POINTS: usize = 120;
/// State changes kept for the cluster view.
pub const MAX_CHANGES: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting {
        attempt: u32,
    },
    Connected {
        since: UnixMillis,
    },
    Disconnected {
        error: String,
        retry_at: UnixMillis,
        attempt: u32,
        since: UnixMillis,
    },
    /// The gateway refused the token: nothing is retried.
    Refused {
        error: String,
        since: UnixMillis,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub at: UnixMillis,
    pub task_id: String,
    pub task_name: String,
    pub node_id: String,
    pub from: Option<TaskState>,
    pub to: TaskState,
    pub message: String,
}

/// A node's recent CPU and memory percentages, for its sparklines.
#[derive(Debug, Default, Clone)]
pub struct NodeHistory {
    pub cpu: VecDeque<f64>,
    pub mem: VecDeque<f64>,
}

impl NodeHistory {
    pub fn of(&self, series: &str) -> Option<&VecDeque<f64>> {
        match series {
            CPU_SERIES => Some(&self.cpu),
            MEM_SERIES => Some(&self.mem),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Model {
    /// Nodes and tasks by id. An id is held once (an `Arc`) and shared by
    /// every map, the change log and the tables' rows.
    pub nodes: HashMap<Id, Node>,
    pub tasks: HashMap<Id, Task>,
    /// Node id → recent CPU and memory values, oldest first.
    pub node_series: HashMap<Id, NodeHistory>,
    /// Task id → recent CPU values, oldest first.
    pub task_series: HashMap<Id, VecDeque<f64>>,
    /// Which nodes and tasks changed lately: a table updates only those rows.
    pub touched: Touched,
    /// Bumped when a node comes, goes or is renamed: the tasks tables show
    /// node names, so their cached row texts go then.
    pub names_generation: u64,
    /// Newest first.
    pub changes: VecDeque<Change>,
    pub connection: Connection,
    /// Whether anything has arrived yet (a first snapshot).
    pub loaded: bool,
    /// The subscriptions whose first snapshot came: until then their
    /// views say they are loading, not that nothing is there.
    pub snapshots: HashSet<String>,
    /// Events the gateway dropped for us, since the start.
    pub dropped: u64,
    /// Bumped on every change to nodes or tasks, so views know to re-sort.
    pub generation: u64,
    /// Bumped when a live figure changes (usage, a node's task counts):
    /// only a table sorted by one re-sorts for it (cells are read live).
    pub usage_generation: u64,
    /// Derived counts, kept current on every change.
    pub running_per_node: HashMap<Id, usize>,
    pub tasks_per_node: HashMap<Id, usize>,
    pub tasks_by_state: BTreeMap<TaskState, usize>,
    /// The log view's lines.
    pub logs: LogBuffer,
    /// Every health check by id.
    pub checks: BTreeMap<String, Check>,
    /// The dashboard's series, while a dashboard is open.
    pub dash: SeriesCache,
    /// Recent traces by id, at most [`MAX_TRACES`], and the longest one's
    /// duration (the traces list scales its bars to it).
    pub traces: HashMap<String, TraceSummary>,
    pub longest_trace: u64,
    /// Bumped when the traces change: only the traces list re-sorts then,
    /// not the node and task tables that `generation` drives.
    pub traces_generation: u64,
    /// Bumped when a check changes: the health table re-sorts then.
    pub checks_generation: u64,
    /// Where the gateway's cluster comes from: `host`, `demo`, `fleet` (a
    /// hub), `kube`; empty until known.
    pub source: String,
    /// A hub's agents by name, as last read (while the agents view is up).
    pub agents: BTreeMap<String, AgentStatus>,
    pub agents_generation: u64,
    /// What happened minute by minute, for triage.
    pub timeline: crate::triage::Timeline,
    /// The gateway's alerts as last read, or why they could not be.
    pub alerts: Option<Result<crate::api::AlertsReport, String>>,
    /// The newest error line's time, so a resync's overlap is not counted twice.
    newest_error: Option<UnixMillis>,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            nodes: HashMap::new(),
            tasks: HashMap::new(),
            node_series: HashMap::new(),
            task_series: HashMap::new(),
            touched: Touched::default(),
            names_generation: 0,
            changes: VecDeque::new(),
            connection: Connection::Connecting { attempt: 0 },
            loaded: false,
            snapshots: HashSet::new(),
            dropped: 0,
            generation: 0,
            usage_generation: 0,
            running_per_node: HashMap::new(),
            tasks_per_node: HashMap::new(),
            tasks_by_state: BTreeMap::new(),
            logs: LogBuffer::new(DEFAULT_MAX_ROWS),
            checks: BTreeMap::new(),
            dash: SeriesCache::default(),
            traces: HashMap::new(),
            longest_trace: 0,
            traces_generation: 0,
            checks_generation: 0,
            source: String::new(),
            agents: BTreeMap::new(),
            agents_generation: 0,
            timeline: Default::default(),
            alerts: None,
            newest_error: None,
        }
    }
}

impl Model {
    /// Whether the gateway is a hub over agents.
    pub fn is_fleet(&self) -> bool {
        self.source == "fleet"
    }

    /// Takes a read of a hub's agents.
    pub fn set_agents(&mut self, agents: Vec<AgentStatus>) {
        self.agents = agents.into_iter().map(|a| (a.name.clone(), a)).collect();
        self.agents_generation += 1;
        self.snapshots.insert(SUB_AGENTS.to_string());
    }

    pub fn is_stale(&self) -> bool {
        !matches!(self.connection, Connection::Connected { .. }) && self.loaded
    }

    /// Keeps a trace summary, the oldest going past [`MAX_TRACES`].
    fn add_trace(&mut self, summary: TraceSummary, now: UnixMillis) {
        if !self.traces.contains_key(&summary.trace_id) {
            let task = summary
                .error_task
                .as_deref()
                .and_then(|id| self.tasks.get(id));
            let failed_in = task.map(signals::subject_of).unwrap_or_default();
            self.timeline.note_trace(&summary, failed_in, now);
        }
        self.traces.insert(summary.trace_id.clone(), summary);
        if self.traces.len() > MAX_TRACES
            && let Some(oldest) = self
                .traces
                .values()
                .min_by(|a, b| (a.start, &a.trace_id).cmp(&(b.start, &b.trace_id)))
                .map(|t| t.trace_id.clone())
        {
            self.traces.remove(&oldest);
        }
        self.longest_trace = self.traces.values().map(|t| t.duration).max().unwrap_or(0);
        self.traces_generation += 1;
    }

    /// Checks failing now.
    pub fn failing_checks(&self) -> usize {
        self.checks
            .values()
            .filter(|c| c.status == CheckStatus::Failing)
            .count()
    }

    /// A node's recent values of `series` (CPU or memory), for a sparkline.
    pub fn node_history(&self, series: &str, node_id: &str) -> Option<&VecDeque<f64>> {
        self.node_series.get(node_id)?.of(series)
    }

    pub fn node_name<'a>(&'a self, node_id: &'a str) -> &'a str {
        self.nodes
            .get(node_id)
            .map(|n| n.hostname.as_str())
            .unwrap_or(node_id)
    }

    /// Applies one stream event; returns a notice for the user, if any.
    pub fn apply(&mut self, event: StreamEvent, now: UnixMillis) -> Option<String> {
        match event {
            StreamEvent::Connecting { attempt } => {
                // While retrying, the banner keeps saying what went wrong.
                if !matches!(self.connection, Connection::Disconnected { .. }) {
                    self.connection = Connection::Connecting { attempt };
                }
            }
            StreamEvent::Connected => self.connection = Connection::Connected { since: now },
            StreamEvent::Disconnected {
                error,
                retry_in,
                attempt,
            } => {
                let since = match &self.connection {
                    Connection::Disconnected { since, .. } => *since,
                    _ => now,
                };
                self.connection = Connection::Disconnected {
                    error,
                    retry_at: now + retry_in.as_millis() as i64,
                    attempt,
                    since,
                };
            }
            StreamEvent::Refused { error } => {
                self.connection = Connection::Refused { error, since: now };
            }
            StreamEvent::Message(msg) => return self.apply_msg(msg, now),
        }
        None
    }

    fn apply_msg(&mut self, msg: ServerMsg, now: UnixMillis) -> Option<String> {
        match msg {
            ServerMsg::Snapshot { sub, .. } | ServerMsg::Event { sub, .. }
                if sub == SUB_RECORDED_LOGS =>
            {
                None
            }
            ServerMsg::Snapshot { sub, items, .. } => {
                self.apply_snapshot(&sub, items, now);
                None
            }
            ServerMsg::Event { sub, events } if sub == SUB_ERRORS => {
                for event in events {
                    if let Record::Log(entry) = event.data {
                        self.take_error(&entry, now);
                    }
                }
                None
            }
            ServerMsg::Event { sub, events } if sub == SUB_DASH => {
                for event in events {
                    if let Record::Sample(sample) = event.data {
                        self.dash.push(&sample);
                    }
                }
                None
            }
            ServerMsg::Event { events, .. } => {
                for event in events {
                    self.apply_event(event, now);
                }
                None
            }
            ServerMsg::Gap {
                sub,
                dropped,
                reason,
            } if sub == SUB_LOGS => {
                // Where lines were lost, the buffer says how many, in place.
                self.logs.push(Row::Dropped {
                    count: dropped,
                    reason,
                    at: now_millis(),
                });
                None
            }
            ServerMsg::Resync { sub } if sub == SUB_LOGS => {
                self.logs.push(Row::Resynced { at: now_millis() });
                None
            }
            ServerMsg::Gap {
                sub,
                dropped,
                reason,
            } => {
                self.dropped += dropped;
                let said = format!("{dropped} updates dropped: {reason}");
                signals::missing(&mut self.timeline, &sub, said.clone(), now);
                Some(said)
            }
            ServerMsg::Resync { sub } => {
                let said = "resynchronised: updates in between were not seen one by one".into();
                signals::missing(&mut self.timeline, &sub, said, now);
                None
            }
            ServerMsg::Error { error, .. } => Some(format!("gateway: {}", error.error.message)),
            ServerMsg::Heartbeat { .. } | ServerMsg::Pong => None,
        }
    }

    /// An error line of the errors subscription, for triage.
    fn take_error(&mut self, entry: &crate::api::LogEntry, now: UnixMillis) {
        self.newest_error = Some(self.newest_error.map_or(entry.ts, |n| n.max(entry.ts)));
        let task = entry.task.as_deref().and_then(|t| self.tasks.get(t));
        signals::error(&mut self.timeline, entry, task, now);
    }

    /// Whether the subscription's first snapshot came.
    pub fn has_snapshot(&self, sub: &str) -> bool {
        self.snapshots.contains(sub)
    }

    fn apply_event(&mut self, event: Event, now: UnixMillis) {
        match (event.op, event.data) {
            (Op::Removed, Record::Node(node)) => {
                if let Some((id, _)) = self.nodes.remove_entry(node.id.as_str()) {
                    self.node_series.remove(&id);
                    self.names_generation += 1;
                    self.touch(Kind::Node, id);
                }
            }
            (_, Record::Node(node)) => {
                signals::node(
                    &mut self.timeline,
                    self.nodes.get(node.id.as_str()),
                    &node,
                    now,
                );
                let id = match self.nodes.get_key_value(node.id.as_str()) {
                    Some((id, held)) => {
                        if held.hostname != node.hostname {
                            self.names_generation += 1;
                        }
                        id.clone()
                    }
                    None => {
                        self.names_generation += 1;
                        Id::from(node.id.as_str())
                    }
                };
                self.nodes.insert(id.clone(), node);
                self.touch(Kind::Node, id);
            }
            (Op::Removed, Record::Task(task)) => {
                if let Some((id, old)) = self.tasks.remove_entry(task.id.as_str()) {
                    self.count(&old, -1);
                    self.task_series.remove(&id);
                    self.timeline.task_cpu.forget(&id);
                    self.touch(Kind::Task, id);
                }
            }
            (_, Record::Task(task)) => {
                signals::task(
                    &mut self.timeline,
                    self.tasks.get(task.id.as_str()),
                    &task,
                    false,
                    now,
                );
                let before = self.tasks.get(task.id.as_str()).map(|t| t.state);
                if before != Some(task.state) {
                    self.note_change(&task, before);
                }
                self.count(&task, 1);
                // The id is made only for a task not held yet.
                let id = self.id_of(Kind::Task, &task.id);
                if let Some(old) = self.tasks.insert(id.clone(), task) {
                    self.count(&old, -1);
                }
                self.touch(Kind::Task, id);
            }
            (_, Record::Sample(sample)) if sample.name == TASK_CPU_SERIES => {
                // A task's usage comes as samples, not as task events.
                if let Some(id) = sample.tags.get("task_id")
                    && let Some(task) = self.tasks.get_mut(id.as_str())
                {
                    task.cpu = sample.value / 100.0;
                    signals::task_cpu(&mut self.timeline, task, sample.ts, task.cpu, now);
                    let ring = match self.task_series.get_mut(id.as_str()) {
                        Some(ring) => ring,
                        None => {
                            let id = self.id_of(Kind::Task, id);
                            self.task_series.entry(id).or_default()
                        }
                    };
                    if ring.len() == TASK_SPARK_POINTS {
                        ring.pop_front();
                    }
                    ring.push_back(sample.value);
                    self.usage_generation += 1;
                }
            }
            (_, Record::Sample(sample)) if sample.name == TASK_MEM_SERIES => {
                if let Some(id) = sample.tags.get("task_id")
                    && let Some(task) = self.tasks.get_mut(id.as_str())
                {
                    task.mem_bytes = sample.value as u64;
                    self.usage_generation += 1;
                }
            }
            (_, Record::Sample(sample)) => {
                // A node's CPU and memory come each second as samples; the
                // rest of its usage with its (rarer) node events.
                if let Some(node) = sample.tags.get("node_id")
                    && self.nodes.contains_key(node.as_str())
                {
                    signals::sample(
                        &mut self.timeline,
                        &sample.name,
                        node,
                        sample.ts,
                        sample.value,
                        now,
                    );
                    if !self.node_series.contains_key(node.as_str()) {
                        let id = self.id_of(Kind::Node, node);
                        self.node_series.insert(id, NodeHistory::default());
                    }
                    let (Some(held), Some(history)) = (
                        self.nodes.get_mut(node.as_str()),
                        self.node_series.get_mut(node.as_str()),
                    ) else {
                        return;
                    };
                    let ring = match sample.name.as_str() {
                        CPU_SERIES => {
                            held.usage.cpu_percent = sample.value;
                            &mut history.cpu
                        }
                        MEM_SERIES => {
                            held.usage.mem_bytes =
                                (sample.value / 100.0 * held.capacity.mem_bytes as f64) as u64;
                            &mut history.mem
                        }
                        _ => return,
                    };
                    if ring.len() == SPARK_POINTS {
                        ring.pop_front();
                    }
                    ring.push_back(sample.value);
                    self.usage_generation += 1;
                }
            }
            (_, Record::Log(entry)) => self.logs.push(Row::Line(Arc::new(entry))),
            (_, Record::Series(_) | Record::Audit(_)) => {}
            (_, Record::Trace(summary)) => self.add_trace(summary, now),
            (Op::Removed, Record::Check(check)) => {
                self.checks.remove(&check.id);
                self.checks_generation += 1;
            }
            (op, Record::Check(check)) => {
                let group = self.group_of(check.task_id.as_deref());
                signals::check(
                    &mut self.timeline,
                    self.checks.get(&check.id),
                    &check,
                    group,
                    now,
                );
                self.keep_check(op, check);
            }
        }
    }

    /// A check's event: an update carries the newest result only, which
    /// joins the held history; `Added` is the whole check (new, or a
    /// catch-up).
    fn keep_check(&mut self, op: Op, check: Check) {
        match op {
            Op::Updated => {
                let mut check = without_outputs(check);
                if let Some(held) = self.checks.get_mut(&check.id) {
                    let mut history = std::mem::take(&mut held.history);
                    history.append(&mut check.history);
                    let over = history.len().saturating_sub(CHECK_HISTORY);
                    history.drain(..over);
                    check.history = history;
                    *held = check;
                } else {
                    self.checks.insert(check.id.clone(), check);
                }
                self.checks_generation += 1;
            }
            _ => {
                self.checks.insert(check.id.clone(), without_outputs(check));
                self.checks_generation += 1;
            }
        }
    }

    /// A task's group, if it is held and has one.
    fn group_of(&self, task: Option<&str>) -> Option<String> {
        let task = self.tasks.get(task?)?;
        (!task.group.is_empty()).then(|| task.group.clone())
    }
}

/// A check as the console keeps it: each result's ok, time and latency,
/// but not its output (the check's last output is kept on its own), which
/// at thousands of checks of 60 results each would be megabytes unshown.
fn without_outputs(mut check: Check) -> Check {
    for result in &mut check.history {
        result.output = String::new();
    }
    check
}

#[cfg(test)]
mod tests;
