//! Exec panes: a vt100 emulator per session, fed by the session's output
//! and sized to the pane, and the console's side of the keys, pastes and
//! resizes that go to the process. The sockets live in the event loop;
//! everything here is plain state, so it can be tested without one.

use crate::api::{ExecStatus, UnixMillis};
use crate::client::ExecOutput;

/// Sessions the console keeps (running or ended); the oldest ended one
/// makes room for a new one.
pub const MAX_SESSIONS: usize = 16;

/// Rows of history each pane keeps for scrolling back.
pub const SCROLLBACK: usize = 2000;

/// What `s` runs: bash where the task has it, else sh. The console
/// chooses this argument vector; the gateway passes it to execve as is.
pub const SHELL: [&str; 3] = [
    "sh",
    "-c",
    "command -v bash >/dev/null 2>&1 && exec bash || exec sh",
];

#[derive(Debug, Clone, PartialEq)]
pub enum PaneState {
    Starting,
    Running,
    Exited(ExecStatus),
    /// It never started, or the connection broke.
    Failed(String),
}

pub struct ExecPane {
    pub id: u64,
    pub task: String,
    pub cmd: Vec<String>,
    pub parser: tui_term::vt100::Parser,
    pub state: PaneState,
    pub started: UnixMillis,
    /// When it exited or failed, as the console saw it.
    pub ended: Option<UnixMillis>,
    pub bytes_out: u64,
    /// Rows scrolled back into the history; 0 follows the process.
    pub scroll: usize,
}

impl ExecPane {
    pub fn new(
        id: u64,
        task: &str,
        cmd: Vec<String>,
        size: (u16, u16),
        now: UnixMillis,
    ) -> ExecPane {
        ExecPane {
            id,
            task: task.to_string(),
            cmd,
            parser: tui_term::vt100::Parser::new(size.0.max(1), size.1.max(1), SCROLLBACK),
            state: PaneState::Starting,
            started: now,
            ended: None,
            bytes_out: 0,
            scroll: 0,
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self.state, PaneState::Starting | PaneState::Running)
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.bytes_out += bytes.len() as u64;
        self.parser.process(bytes);
    }

    /// Scrolls the history by `rows` (positive: back in time).
    pub fn scroll_by(&mut self, rows: isize) {
        let screen = self.parser.screen_mut();
        screen.set_scrollback(self.scroll.saturating_add_signed(rows));
        // The emulator clamps to the history it holds.
        self.scroll = screen.scrollback();
    }

    /// `running`, `exited 3`, `killed by signal 9`, `failed: …`.
    pub fn status_text(&self) -> String {
        match &self.state {
            PaneState::Starting => "starting".into(),
            PaneState::Running => "running".into(),
            PaneState::Exited(s) => match (s.exit_code, s.signal) {
                (Some(code), _) => format!("exited {code}"),
                (None, Some(_)) => s.reason.clone(),
                (None, None) => s.reason.clone(),
            },
            PaneState::Failed(_) => "failed".into(),
        }
    }
}

/// What the exec sessions tell the console.
pub enum ExecEvent {
    Failed(u64, String),
    Output(u64, ExecOutput),
}
