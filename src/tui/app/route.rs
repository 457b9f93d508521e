//! Where the operator is: the route stack's entries, and the modes the
//! footer line can be in.

use crate::tui::config::action::ViewKind;
use crate::tui::logs::view::LogScope;

/// Serialized into recordings, so a replay can follow the presenter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Cluster,
    Nodes,
    /// All tasks, or those of one node.
    Tasks {
        node: Option<String>,
    },
    Task {
        id: String,
    },
    Logs {
        scope: LogScope,
    },
    /// The health checks.
    Health,
    /// The dashboard.
    Dash,
    /// The series behind one of the dashboard's panels.
    DashPanel {
        panel: usize,
    },
    /// The recent traces.
    Traces,
    /// One trace's waterfall.
    Trace {
        id: String,
    },
    /// An exec session's terminal pane.
    Exec {
        id: u64,
    },
    /// The exec sessions, running and ended.
    Sessions,
    /// A hub's agents.
    Agents,
    /// The gateway's alerts.
    Alerts,
    /// What changed, ranked.
    Triage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing a filter: the table's, or in the log view the log filter.
    Filter,
    /// Typing a search in the log view.
    Search,
    Command,
    Help {
        scroll: u16,
    },
    /// The `o` menu of related views is open.
    Links,
}

impl Route {
    /// The kind of view, for view-specific key bindings and hints.
    pub fn view(&self) -> ViewKind {
        match self {
            Route::Cluster => ViewKind::Cluster,
            Route::Nodes => ViewKind::Nodes,
            Route::Tasks { .. } => ViewKind::Tasks,
            Route::Task { .. } => ViewKind::Task,
            Route::Logs { .. } => ViewKind::Logs,
            Route::Health => ViewKind::Health,
            Route::Dash | Route::DashPanel { .. } => ViewKind::Dash,
            Route::Traces => ViewKind::Traces,
            Route::Trace { .. } => ViewKind::Trace,
            Route::Exec { .. } => ViewKind::Exec,
            Route::Sessions => ViewKind::Sessions,
            Route::Agents => ViewKind::Agents,
            Route::Alerts => ViewKind::Alerts,
            Route::Triage => ViewKind::Triage,
        }
    }
}
