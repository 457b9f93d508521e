//! Exec panes: a terminal into a task, and the list of sessions. The
//! sockets live in the event loop; everything here is plain state, so it
//! can be tested without one.

pub mod draw;
pub mod keys;
pub mod pane;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::{ExecRequest, UnixMillis};
use crate::client::{ExecInput, ExecOutput};
use crate::tui::config::action::{Action, ViewKind};
use crate::tui::effect::Effect;
use crate::tui::feature::{Cx, Feature};
use pane::{ExecEvent, ExecPane, MAX_SESSIONS, PaneState, SHELL};

/// The exec panes, oldest first.
#[derive(Default)]
pub struct Sessions {
    pub panes: Vec<ExecPane>,
    /// The id the last pane got.
    pub last_id: u64,
    /// The selected row of `:sessions`.
    pub cursor: usize,
    /// Variables every exec sets: the console's `NO_COLOR`, so programs
    /// in a pane hold back their colour as the console does.
    pub env: std::collections::BTreeMap<String, String>,
}

/// What a key in a pane did.
pub enum PaneKey {
    /// Nothing leaves the pane; maybe input went to the process.
    Stay(Vec<Effect>),
    /// The operator left the pane.
    Leave,
}

impl Sessions {
    pub fn pane(&self, id: u64) -> Option<&ExecPane> {
        self.panes.iter().find(|p| p.id == id)
    }

    fn pane_mut(&mut self, id: u64) -> Option<&mut ExecPane> {
        self.panes.iter_mut().find(|p| p.id == id)
    }

    /// Opens a pane of `size` (rows, columns) running `cmd` (a shell when
    /// empty) in `task`: its id and the effect that starts it, or why not.
    pub fn open(
        &mut self,
        task: String,
        cmd: Vec<String>,
        size: (u16, u16),
        now: UnixMillis,
    ) -> Result<(u64, Effect), String> {
        if self.panes.len() >= MAX_SESSIONS {
            match self.panes.iter().position(|p| !p.is_live()) {
                Some(ended) => {
                    self.panes.remove(ended);
                }
                None => {
                    return Err(format!(
                        "{MAX_SESSIONS} sessions are running; close one in :sessions"
                    ));
                }
            }
        }
        let cmd = if cmd.is_empty() {
            SHELL.iter().map(|s| s.to_string()).collect()
        } else {
            cmd
        };
        self.last_id += 1;
        let id = self.last_id;
        self.panes
            .push(ExecPane::new(id, &task, cmd.clone(), size, now));
        let start = Effect::StartExec {
            id,
            task,
            request: ExecRequest {
                cmd,
                tty: true,
                interactive: true,
                cols: size.1,
                rows: size.0,
                env: self.env.clone(),
                user: None,
                container: None,
            },
        };
        Ok((id, start))
    }

    /// A key in pane `id` (`page` rows tall): to the process, but for the
    /// chord that leaves and the scrollback keys (Shift-PgUp/PgDn).
    pub fn key(&mut self, id: u64, key: KeyEvent, page: isize) -> PaneKey {
        if keys::is_leave_chord(&key) {
            return PaneKey::Leave;
        }
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        let Some(pane) = self.pane_mut(id) else {
            return PaneKey::Leave;
        };
        match key.code {
            KeyCode::PageUp if shift || !pane.is_live() => pane.scroll_by(page / 2),
            KeyCode::PageDown if shift || !pane.is_live() => pane.scroll_by(-page / 2),
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter if !pane.is_live() => {
                return PaneKey::Leave;
            }
            _ if pane.is_live() => {
                let bytes = keys::encode(&key, pane.parser.screen().application_cursor());
                if !bytes.is_empty() {
                    pane.scroll_by(-(pane.scroll as isize));
                    return PaneKey::Stay(vec![Effect::ExecInput {
                        id,
                        input: ExecInput::Stdin(bytes),
                    }]);
                }
            }
            _ => {}
        }
        PaneKey::Stay(vec![])
    }

    pub fn paste(&self, id: u64, text: &str) -> Vec<Effect> {
        match self.pane(id) {
            Some(pane) if pane.is_live() => vec![Effect::ExecInput {
                id,
                input: ExecInput::Stdin(keys::paste(text, pane.parser.screen().bracketed_paste())),
            }],
            _ => vec![],
        }
    }

    /// The panes' size changed to `(rows, cols)`: every running one follows.
    pub fn resize(&mut self, (rows, cols): (u16, u16)) -> Vec<Effect> {
        let mut effects = Vec::new();
        for pane in self.panes.iter_mut().filter(|p| p.is_live()) {
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

    /// Takes one exec event; returns the bytes of output it carried.
    pub fn on_event(&mut self, event: ExecEvent) -> usize {
        match event {
            ExecEvent::Failed(id, why) => {
                self.on_failed(id, why);
                0
            }
            ExecEvent::Output(id, output) => {
                let bytes = match &output {
                    ExecOutput::Stdout(b) | ExecOutput::Stderr(b) => b.len(),
                    _ => 0,
                };
                self.on_output(id, output);
                bytes
            }
        }
    }

    /// The session could not be opened.
    pub fn on_failed(&mut self, id: u64, why: String) {
        if let Some(pane) = self.pane_mut(id) {
            pane.state = PaneState::Failed(why);
        }
    }

    pub fn on_output(&mut self, id: u64, output: ExecOutput) {
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

    /// Ends a session: its socket closes and the gateway kills the process.
    pub fn close(&mut self, id: u64) -> Effect {
        if let Some(pane) = self.pane_mut(id)
            && pane.is_live()
        {
            pane.state = PaneState::Failed("closed from the console".into());
        }
        Effect::CloseExec { id }
    }
}

const HINTS: &[Action] = &[Action::Select, Action::CloseSession];

/// The `:sessions` list. (In a pane every key is the process's.)
impl Feature for Sessions {
    fn hints(&self, view: ViewKind) -> &'static [Action] {
        match view {
            ViewKind::Sessions => HINTS,
            _ => &[],
        }
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        let last = self.panes.len().saturating_sub(1);
        let page = cx.rows.max(1) as isize;
        let move_by = |cursor: usize, delta: isize| cursor.saturating_add_signed(delta).min(last);
        match action {
            Action::Up => self.cursor = move_by(self.cursor, -1),
            Action::Down => self.cursor = move_by(self.cursor, 1),
            Action::PageUp => self.cursor = move_by(self.cursor, -page),
            Action::PageDown => self.cursor = move_by(self.cursor, page),
            Action::Top => self.cursor = 0,
            Action::Bottom => self.cursor = last,
            Action::CloseSession => {
                if let Some(id) = self.panes.get(self.cursor).map(|p| p.id) {
                    cx.effects.push(self.close(id));
                }
            }
            _ => return false,
        }
        true
    }
}
