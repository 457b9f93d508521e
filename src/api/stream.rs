//! The multiplexed stream protocol of `GET /api/v1/stream`.
//!
//! The client subscribes to topics; for each subscription the server sends a
//! snapshot (or a replay of missed events) and then deltas, each with a
//! per-topic sequence number.

use serde::{Deserialize, Serialize};

use super::{
    ApiError, AuditRecord, Check, LogEntry, Node, Sample, Series, Task, TraceSummary, UnixMillis,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Nodes,
    Tasks,
    Metrics,
    Logs,
    Health,
    /// New and updated traces, as summaries.
    Spans,
    /// Audit records (the `admin` scope).
    Audit,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Nodes => "nodes",
            Topic::Tasks => "tasks",
            Topic::Metrics => "metrics",
            Topic::Logs => "logs",
            Topic::Health => "health",
            Topic::Spans => "spans",
            Topic::Audit => "audit",
        }
    }
}

/// Which items of a topic a subscription wants. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// Tasks on this node only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Tasks in this state only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// A case-insensitive substring of the id, name or group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Metric names; a trailing `*` matches a prefix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Metric tags that must all be present with these values (`k:v`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Logs of this task only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Logs of this systemd unit only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Logs at this priority or more urgent (0 emerg … 7 debug).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// Logs whose field has this value, `FIELD=value`; all must hold.
    #[serde(default, rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<String>,
    /// Logs whose message matches this regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Metrics: points of each series a snapshot carries at most (the
    /// gateway's default, 300, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<usize>,
}

/// Where a subscription starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum From {
    /// Resume after this sequence number of this gateway run: the server
    /// replays what it still holds, else sends a snapshot.
    Seq { seq: u64, epoch: String },
    /// Logs: every entry after this source cursor, exactly once: from the
    /// gateway's ring, else by seeking the source, else a `resync`.
    Cursor { cursor: String },
    /// Logs: the last N entries, then live ones.
    Tail { tail: usize },
    /// A snapshot, then live deltas (the default).
    Named(StartPoint),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartPoint {
    /// A snapshot of the current state, then deltas.
    Snapshot,
    /// No snapshot: only deltas from now on.
    Now,
}

impl Default for From {
    fn default() -> Self {
        From::Named(StartPoint::Snapshot)
    }
}

/// How a subscription's events come: JSON `event` frames, or (logs and
/// metrics, where the gateway can) binary frames laid out as in
/// [`super::binary_frame`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    #[default]
    Json,
    Binary,
}

impl Encoding {
    pub fn is_json(&self) -> bool {
        *self == Encoding::Json
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    Subscribe {
        sub: String,
        topic: Topic,
        #[serde(default)]
        filter: Box<Filter>,
        #[serde(default)]
        from: From,
        /// How the client takes this subscription's events.
        #[serde(default, skip_serializing_if = "Encoding::is_json")]
        encoding: Encoding,
    },
    Unsubscribe {
        sub: String,
    },
    Ping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Added,
    Updated,
    Removed,
}

/// One item of a topic: what snapshots list and events carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    Node(Node),
    Task(Task),
    Sample(Sample),
    Series(Series),
    Log(LogEntry),
    Check(Check),
    Trace(TraceSummary),
    Audit(AuditRecord),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub op: Op,
    pub data: Record,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The state of the topic (filtered) as of `seq`; replaces what the
    /// client held. A large one comes in parts of at most 1,024 items, all
    /// but the last with `more`: the client holds them until the last.
    Snapshot {
        sub: String,
        seq: u64,
        epoch: String,
        items: Vec<Record>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        more: bool,
    },
    /// Deltas, in sequence order, batched.
    Event {
        sub: String,
        events: Vec<Event>,
    },
    /// The server dropped `dropped` events for this subscription.
    Gap {
        sub: String,
        dropped: u64,
        reason: String,
    },
    /// The client's state for this subscription is no longer valid; a
    /// snapshot follows.
    Resync {
        sub: String,
    },
    Heartbeat {
        ts: UnixMillis,
    },
    Pong,
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sub: Option<String>,
        #[serde(flatten)]
        error: ApiError,
    },
}
