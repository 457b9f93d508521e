//! The data model: what a cluster, a node, a task and a sample are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Labels, UnixMillis};

/// `GET /api/v1/version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub api_version: String,
    pub server_version: String,
    /// Topics and features this gateway serves, e.g. `stream:tasks`.
    pub capabilities: Vec<String>,
}

/// `GET /api/v1/cluster`: who the cluster is and what is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterInfo {
    pub name: String,
    /// Which source feeds this gateway: `host` or `demo`.
    pub source: String,
    pub nodes: usize,
    pub tasks: usize,
    pub tasks_by_state: BTreeMap<TaskState, usize>,
    /// The sequence numbers a `nodes` or `tasks` subscription can start from.
    pub nodes_seq: u64,
    pub tasks_seq: u64,
    pub epoch: String,
    /// Each log source and its state ("following", "no journal on this host", …).
    #[serde(default)]
    pub log_sources: Vec<LogSourceInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSourceInfo {
    pub name: String,
    pub state: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Healthy,
    Unhealthy,
    Unknown,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
            Health::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub cpus: f64,
    pub mem_bytes: u64,
    pub disk_bytes: u64,
}

/// What a node is using right now; the history lives in the `metrics` topic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Busy CPU over all cores, 0–100.
    pub cpu_percent: f64,
    pub mem_bytes: u64,
    pub disk_bytes: u64,
    pub load: [f64; 3],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    pub mount: String,
    pub device: String,
    pub total_bytes: u64,
    pub used_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    pub hostname: String,
    /// The primary address; every address is in `addresses`.
    pub address: String,
    pub addresses: Vec<String>,
    /// `master`, `agent`, `public_agent` or `host`.
    pub role: String,
    pub labels: Labels,
    pub capacity: Capacity,
    pub usage: Usage,
    pub disks: Vec<Disk>,
    pub health: Health,
    /// Kernel and OS, e.g. `Linux 6.1.0`.
    pub os: String,
    pub boot_time: UnixMillis,
    pub last_seen: UnixMillis,
    /// Through a hub: since when the node's agent cannot be reached (the
    /// node is shown as it last stood).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable_since: Option<UnixMillis>,
}

impl Node {
    /// Whether two readings differ only in what moves every refresh: usage
    /// and when the node was last seen. CPU and memory also travel as
    /// samples (`node.cpu.percent`, `node.mem.percent`).
    pub fn same_but_usage(&self, other: &Node) -> bool {
        self.id == other.id
            && self.health == other.health
            && self.hostname == other.hostname
            && self.role == other.role
            && self.address == other.address
            && self.addresses == other.addresses
            && self.labels == other.labels
            && self.unreachable_since == other.unreachable_since
            && self.capacity == other.capacity
            && self.os == other.os
            && self.boot_time == other.boot_time
            && self.disks.len() == other.disks.len()
            && self.disks.iter().zip(&other.disks).all(|(a, b)| {
                a.mount == b.mount && a.device == b.device && a.total_bytes == b.total_bytes
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Staging,
    Starting,
    Running,
    Finished,
    Failed,
    Killed,
    Lost,
}

impl TaskState {
    pub const ALL: [TaskState; 7] = [
        TaskState::Staging,
        TaskState::Starting,
        TaskState::Running,
        TaskState::Finished,
        TaskState::Failed,
        TaskState::Killed,
        TaskState::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Staging => "staging",
            TaskState::Starting => "starting",
            TaskState::Running => "running",
            TaskState::Finished => "finished",
            TaskState::Failed => "failed",
            TaskState::Killed => "killed",
            TaskState::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<TaskState> {
        TaskState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// A task in a terminal state will not change state again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Finished | TaskState::Failed | TaskState::Killed | TaskState::Lost
        )
    }
}

/// One state transition of a task, kept in the task's `statuses` (as Mesos does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub state: TaskState,
    pub at: UnixMillis,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// `GET /api/v1/tasks/gone`: a task the gateway lately removed (it ended
/// and its source let it go), as it last stood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoneTask {
    pub gone_at: UnixMillis,
    pub task: Task,
}

/// How many status changes a task carries; older ones are dropped.
pub const MAX_TASK_STATUSES: usize = 16;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub name: String,
    /// The framework, app, systemd unit or container the task belongs to.
    pub group: String,
    pub node_id: String,
    pub state: TaskState,
    pub health: Health,
    /// CPU in use, in cores (1.0 = one core busy).
    pub cpu: f64,
    /// CPU limit in cores; 0 when unlimited or unknown.
    pub cpu_limit: f64,
    pub mem_bytes: u64,
    /// Memory limit in bytes; 0 when unlimited or unknown.
    pub mem_limit: u64,
    pub started: UnixMillis,
    pub updated: UnixMillis,
    pub version: String,
    /// Source-specific fields: `pid`, `ppid`, `user`, `cmdline`, `threads`, ...
    pub labels: Labels,
    /// Recent state changes, oldest first, at most [`MAX_TASK_STATUSES`].
    pub statuses: Vec<TaskStatus>,
    /// Through a hub: since when the task's agent cannot be reached (the
    /// task is stale: shown as it last stood).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable_since: Option<UnixMillis>,
}

impl Task {
    /// Whether two readings differ only in usage (CPU, memory), which
    /// changes every refresh and travels as metric samples
    /// (`task.cpu.percent`, `task.mem.rss.bytes`), not as a task event.
    pub fn same_but_usage(&self, other: &Task) -> bool {
        self.id == other.id
            && self.state == other.state
            && self.health == other.health
            && self.node_id == other.node_id
            && self.name == other.name
            && self.group == other.group
            && self.version == other.version
            && self.cpu_limit == other.cpu_limit
            && self.mem_limit == other.mem_limit
            && self.started == other.started
            && self.updated == other.updated
            && self.labels == other.labels
            && self.unreachable_since == other.unreachable_since
            && self.statuses == other.statuses
    }
}

/// One value of one series at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub name: String,
    pub tags: Labels,
    pub ts: UnixMillis,
    pub value: f64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
}

/// A series with its recent points, as a `metrics` snapshot carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub tags: Labels,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    /// `[timestamp, value]` pairs, oldest first.
    pub points: Vec<(UnixMillis, f64)>,
}

/// `GET /api/v1/metrics/series`: series over a range, a point a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesRange {
    pub from: UnixMillis,
    pub to: UnixMillis,
    pub step: i64,
    pub series: Vec<Series>,
}

impl Sample {
    /// The identity of the series this sample belongs to: name plus tags.
    pub fn series_key(&self) -> String {
        series_key(&self.name, &self.tags)
    }
}

impl Series {
    pub fn series_key(&self) -> String {
        series_key(&self.name, &self.tags)
    }
}

/// `name{k=v,k=v}` with tags in key order: one string per series.
pub fn series_key(name: &str, tags: &Labels) -> String {
    let mut key = String::with_capacity(name.len() + 16 * tags.len());
    key.push_str(name);
    key.push('{');
    for (i, (k, v)) in tags.iter().enumerate() {
        if i > 0 {
            key.push(',');
        }
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    key.push('}');
    key
}
