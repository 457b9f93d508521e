//! What the timeline is told: a signal (a discrete thing that happened,
//! about a task, node or group) or an error line, and the heat strips'
//! lanes they count in.

use serde::Serialize;

use crate::api::{TaskState, UnixMillis};

/// The heat strips' lanes, in the order they are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Tasks,
    Logs,
    Checks,
    Metrics,
    Traces,
    Exec,
}

impl Lane {
    pub const ALL: [Lane; 6] = [
        Lane::Tasks,
        Lane::Logs,
        Lane::Checks,
        Lane::Metrics,
        Lane::Traces,
        Lane::Exec,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Lane::Tasks => "tasks",
            Lane::Logs => "logs",
            Lane::Checks => "checks",
            Lane::Metrics => "metrics",
            Lane::Traces => "traces",
            Lane::Exec => "exec",
        }
    }
}

/// What a signal is about: the task, node and group it shares with others
/// (a change and the symptoms that follow it meet on one of these).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Subject {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Subject {
    /// Whether two subjects name the same task, node or group.
    pub fn meets(&self, other: &Subject) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        same(&self.task, &other.task)
            || same(&self.node, &other.node)
            || same(&self.group, &other.group)
    }
}

/// A discrete thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// A task ended other than finished.
    TaskEnded {
        name: String,
        state: TaskState,
        message: String,
    },
    /// A task of a group came up on a version the group did not run.
    Rollout {
        name: String,
        from: String,
        to: String,
    },
    /// A node went unhealthy; `unreachable`: its agent stopped answering.
    NodeDown {
        name: String,
        unreachable: bool,
    },
    NodeUp {
        name: String,
    },
    CheckFailed {
        id: String,
        name: String,
        output: String,
    },
    CheckPassed {
        id: String,
        name: String,
    },
    /// An exec session opened, or refused (`denied` says why).
    Exec {
        command: String,
        denied: Option<String>,
    },
    /// A task took far more CPU than it usually does, past its limit
    /// (cores; `limit` 0: none).
    CpuJump {
        name: String,
        from: f64,
        to: f64,
        limit: f64,
    },
    /// Data that did not arrive: a subscription's gap or resync.
    Missing {
        what: String,
        detail: String,
    },
}

impl What {
    pub(super) fn lane(&self) -> Lane {
        match self {
            What::TaskEnded { .. } | What::Rollout { .. } => Lane::Tasks,
            What::NodeDown { .. } | What::NodeUp { .. } => Lane::Tasks,
            What::CheckFailed { .. } | What::CheckPassed { .. } => Lane::Checks,
            What::Exec { .. } => Lane::Exec,
            What::CpuJump { .. } => Lane::Metrics,
            What::Missing { .. } => Lane::Logs,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub at: UnixMillis,
    pub subject: Subject,
    pub what: What,
}

/// An error line, as evidence: enough to show it and to find it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub at: UnixMillis,
    pub message: String,
    pub subject: Subject,
    /// Where it came from: the task's group, a unit, an identifier.
    pub source: String,
}

/// About how much memory a signal holds.
pub(super) fn size_of(signal: &Signal) -> usize {
    let s = &signal.subject;
    let text = match &signal.what {
        What::TaskEnded { name, message, .. } => name.len() + message.len(),
        What::NodeDown { name, .. } | What::NodeUp { name } => name.len(),
        What::Rollout { name, from, to } => name.len() + from.len() + to.len(),
        What::CheckFailed { id, name, output } => id.len() + name.len() + output.len(),
        What::CheckPassed { id, name } => id.len() + name.len(),
        What::Exec { command, denied } => command.len() + denied.as_ref().map_or(0, String::len),
        What::Missing { what, detail } => what.len() + detail.len(),
        What::CpuJump { name, .. } => name.len() + 24,
    };
    let len = |o: &Option<String>| o.as_ref().map_or(0, String::len);
    160 + text + len(&s.task) + len(&s.node) + len(&s.group)
}
