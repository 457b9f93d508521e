//! What the console's state asks of the event loop: the I/O a key or a
//! message leads to (subscribe, read, write a file, run an exec session),
//! done outside, so that everything that decides stays plain and testable.

use std::path::PathBuf;

use crate::client::Subscription;

/// What handling a key or a message asks of the event loop, beyond the
/// state it changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    SwitchContext(String),
    /// A replay: go to this recorded time (`:goto` in a replay).
    Seek(crate::api::UnixMillis),
    Subscribe(Box<Subscription>),
    Unsubscribe(String),
    /// Read the dashboard's series over its window (for windows longer
    /// than a subscription's snapshot reaches back).
    FetchSeries {
        generation: u64,
        names: Vec<String>,
        window: i64,
    },
    /// Read a hub's agents (again every few seconds while their view is up).
    FetchAgents,
    /// Read the gateway's alerts (every few seconds).
    FetchAlerts,
    /// Read the page of log lines before the oldest held (scrolling back,
    /// `:goto`).
    FetchOlderLogs {
        generation: u64,
        filter: crate::api::Filter,
        ask: crate::client::PageAsk,
    },
    /// Read one trace's spans, for the waterfall.
    FetchTrace {
        id: String,
    },
    /// Put this text (base64) on the terminal's clipboard, by OSC 52.
    Copy(String),
    /// Write the shown log lines to a file.
    Save {
        path: PathBuf,
        contents: String,
    },
    /// Open an exec session for pane `id`.
    StartExec {
        id: u64,
        task: String,
        request: crate::api::ExecRequest,
    },
    /// Keys, a paste or a resize for session `id`.
    ExecInput {
        id: u64,
        input: crate::client::ExecInput,
    },
    /// Close session `id` (the gateway kills its process).
    CloseExec {
        id: u64,
    },
    /// A change asked of the cluster, confirmed: `POST path` (a pod
    /// restarted, a node cordoned); the answer goes to the footer.
    Change {
        path: String,
    },
}
