//! Every user intent, by name. Keymaps map keys to these and nothing else.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Back,
    Help,
    Command,
    Filter,
    Select,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    SortNext,
    SortPrev,
    SortReverse,
    ViewCluster,
    ViewNodes,
    ViewTasks,
    /// Logs of the selected task or node (everything elsewhere).
    ViewLogs,
    /// The health checks.
    ViewHealth,
    /// The dashboard.
    ViewDash,
    /// Dashboard: the next time window (1m, 5m, 15m, 1h).
    CycleWindow,
    /// The recent traces.
    ViewTraces,
    /// Waterfall: fold or unfold the selected span's subtree.
    ToggleCollapse,
    /// Waterfall: fold every subtree, or unfold them all.
    CollapseAll,
    /// Waterfall: zoom into the selected span's time, or back out.
    Zoom,
    /// Log view: follow the newest lines again.
    Follow,
    ToggleWrap,
    /// Log view: timestamps relative, absolute, or off.
    CycleTime,
    ToggleSource,
    /// Log view: search with highlights.
    Search,
    NextMatch,
    PrevMatch,
    /// Log view: the filter line (priority, source, regex).
    FilterLogs,
    /// A shell in the selected task, in an exec pane.
    Shell,
    /// The exec sessions.
    ViewSessions,
    /// Sessions: end the selected one (its process is killed).
    CloseSession,
    /// A hub's agents.
    ViewAgents,
    /// What changed, ranked with the likely cause on top.
    ViewTriage,
    /// Triage: the selected finding's score in words.
    Explain,
    /// The views related to the selection (`views/links.toml`).
    Links,
    /// The gateway's alerts.
    ViewAlerts,
}

/// Where a binding applies: everywhere, or in one view only (and there it
/// wins over a global one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    Cluster,
    Nodes,
    Tasks,
    Task,
    Logs,
    Health,
    Dash,
    Traces,
    Trace,
    Exec,
    Sessions,
    Agents,
    Triage,
    Alerts,
}
