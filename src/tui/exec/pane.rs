//! Exec panes: a vt100 emulator per session, fed by the session's output
//! and sized to the pane, and the console's side of the keys, pastes and
//! resizes that go to the process. The sockets live in the event loop;
//! everything here is plain state, so it can be tested without one.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::{ExecRequest, ExecStatus, UnixMillis};
use crate::client::{ExecInput, ExecOutput};
use crate::tui::app::{App, Effect, Notice, Route};
use crate::tui::exec::keys;

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

impl App {
    /// The emulator's size for the pane: the body inside its border.
    pub fn exec_size(&self) -> (u16, u16) {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        let body = crate::tui::screen::areas(self, area).body;
        (
            body.height.saturating_sub(2).max(1),
            body.width.saturating_sub(2).max(1),
        )
    }

    pub fn pane(&self, id: u64) -> Option<&ExecPane> {
        self.sessions.iter().find(|p| p.id == id)
    }

    fn pane_mut(&mut self, id: u64) -> Option<&mut ExecPane> {
        self.sessions.iter_mut().find(|p| p.id == id)
    }

    /// The task the view is about: the one open, or the selected row.
    fn task_in_view(&self) -> Option<String> {
        match self.route() {
            Route::Task { id } => Some(id.clone()),
            Route::Tasks { .. } => self.tasks_table.selected_id().map(str::to_string),
            _ => None,
        }
    }

    /// Opens a pane running `cmd` (a shell when empty) in the task in view.
    pub fn open_exec(&mut self, cmd: Vec<String>) -> Vec<Effect> {
        let refuse = |app: &mut App, text: String| {
            app.notice = Some(Notice { text, error: true });
            vec![]
        };
        if self.origin.readonly {
            return refuse(self, "exec is off: this context is read-only".into());
        }
        let Some(task) = self.task_in_view() else {
            return refuse(
                self,
                "open or select a task first, then s (or :exec CMD)".into(),
            );
        };
        if self.sessions.len() >= MAX_SESSIONS {
            match self.sessions.iter().position(|p| !p.is_live()) {
                Some(ended) => {
                    self.sessions.remove(ended);
                }
                None => {
                    return refuse(
                        self,
                        format!("{MAX_SESSIONS} sessions are running; close one in :sessions"),
                    );
                }
            }
        }
        let cmd = if cmd.is_empty() {
            SHELL.iter().map(|s| s.to_string()).collect()
        } else {
            cmd
        };
        self.next_session += 1;
        let id = self.next_session;
        let size = self.exec_size();
        self.sessions
            .push(ExecPane::new(id, &task, cmd.clone(), size, self.now));
        self.routes.push(Route::Exec { id });
        vec![Effect::StartExec {
            id,
            task,
            request: ExecRequest {
                cmd,
                tty: true,
                interactive: true,
                cols: size.1,
                rows: size.0,
                env: self.exec_env.clone(),
                user: None,
            },
        }]
    }

    /// A key in an exec pane: to the process, but for the chord that
    /// leaves and the scrollback keys (Shift-PgUp/PgDn).
    pub fn on_exec_key(&mut self, id: u64, key: KeyEvent) -> Vec<Effect> {
        if keys::is_leave_chord(&key) {
            self.routes.pop();
            return vec![];
        }
        let page = self.exec_size().0 as isize;
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        let Some(pane) = self.pane_mut(id) else {
            self.routes.pop();
            return vec![];
        };
        match key.code {
            KeyCode::PageUp if shift || !pane.is_live() => pane.scroll_by(page / 2),
            KeyCode::PageDown if shift || !pane.is_live() => pane.scroll_by(-page / 2),
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter if !pane.is_live() => {
                self.routes.pop();
            }
            _ if pane.is_live() => {
                let bytes = keys::encode(&key, pane.parser.screen().application_cursor());
                if !bytes.is_empty() {
                    pane.scroll_by(-(pane.scroll as isize));
                    return vec![Effect::ExecInput {
                        id,
                        input: ExecInput::Stdin(bytes),
                    }];
                }
            }
            _ => {}
        }
        vec![]
    }

    pub fn on_exec_paste(&mut self, id: u64, text: &str) -> Vec<Effect> {
        match self.pane(id) {
            Some(pane) if pane.is_live() => vec![Effect::ExecInput {
                id,
                input: ExecInput::Stdin(keys::paste(text, pane.parser.screen().bracketed_paste())),
            }],
            _ => vec![],
        }
    }

    /// The terminal changed size: every running pane follows.
    pub fn on_resize(&mut self, width: u16, height: u16) -> Vec<Effect> {
        self.size = (width, height);
        let (rows, cols) = self.exec_size();
        let mut effects = Vec::new();
        for pane in self.sessions.iter_mut().filter(|p| p.is_live()) {
            if pane.parser.screen().size() != (rows, cols) {
                pane.parser.screen_mut().set_size(rows, cols);
                effects.push(Effect::ExecInput {
                    id: pane.id,
                    input: ExecInput::Resize(crate::api::Resize { cols, rows }),
                });
            }
        }
        effects
    }

    /// The session could not be opened.
    pub fn on_exec_failed(&mut self, id: u64, why: String) {
        if let Some(pane) = self.pane_mut(id) {
            pane.state = PaneState::Failed(why);
        }
    }

    pub fn on_exec_output(&mut self, id: u64, output: ExecOutput) {
        let Some(pane) = self.pane_mut(id) else {
            return;
        };
        match output {
            ExecOutput::Stdout(bytes) | ExecOutput::Stderr(bytes) => {
                pane.state = PaneState::Running;
                pane.feed(&bytes);
            }
            ExecOutput::Exited(status) => pane.state = PaneState::Exited(status),
            ExecOutput::Lost(why) => pane.state = PaneState::Failed(why),
        }
    }

    /// Takes one exec event; returns the bytes of output it carried.
    pub fn on_exec_event(&mut self, event: ExecEvent) -> usize {
        match event {
            ExecEvent::Failed(id, why) => {
                self.on_exec_failed(id, why);
                0
            }
            ExecEvent::Output(id, output) => {
                let bytes = match &output {
                    ExecOutput::Stdout(b) | ExecOutput::Stderr(b) => b.len(),
                    _ => 0,
                };
                self.on_exec_output(id, output);
                bytes
            }
        }
    }

    /// Ends a session: its socket closes and the gateway kills the process.
    pub fn close_exec(&mut self, id: u64) -> Vec<Effect> {
        if let Some(pane) = self.pane_mut(id)
            && pane.is_live()
        {
            pane.state = PaneState::Failed("closed from the console".into());
        }
        vec![Effect::CloseExec { id }]
    }
}
