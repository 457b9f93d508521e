//! `o` in App: what the view on screen has selected becomes a link source,
//! the menu opens over the view, and the chosen target opens on top of the
//! route stack (Esc comes back).

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Effect, Mode, Notice, Route};
use crate::tui::links::window::Window;
use crate::tui::links::{Menu, Source, Target};
use crate::tui::logs::buffer::Row;
use crate::tui::tables::filter::TraceFilter;

impl App {
    /// `o`: the menu of views related to the selection.
    pub(super) fn open_links(&mut self) {
        let Some(source) = self.link_source() else {
            self.notice = Notice::info(
                "o links from a span, log lines, a check, the dashboard, a task or an exec session",
            );
            return;
        };
        let menu = Menu::new(&source, &self.defs.links, &self.model, &self.zone, self.now);
        if menu.items.is_empty() {
            self.notice = Notice::info("no link starts here (views/links.toml)");
            return;
        }
        self.menu = Some(menu);
        self.mode = Mode::Links;
    }

    /// The selection on screen, as a link source.
    fn link_source(&self) -> Option<Source> {
        let now = self.now;
        Some(match self.route() {
            Route::Trace { .. } => Source::Span(self.trace_view.selected()?.clone()),
            Route::Logs { .. } => {
                let buf = &self.model.logs;
                let rows = self.rows().max(1);
                let first = self.logs.view.first_shown(buf, rows);
                let lines: Vec<_> = (buf.shown().iter().skip(first).take(rows))
                    .filter_map(|abs| match buf.get(*abs)? {
                        Row::Line(e) => Some(e.clone()),
                        _ => None,
                    })
                    .collect();
                if lines.is_empty() {
                    return None;
                }
                Source::Log(lines)
            }
            Route::Health => {
                let id = self.tables.health.selected_id()?;
                Source::Check(self.model.checks.get(id)?.clone())
            }
            Route::Dash | Route::DashPanel { .. } => {
                let def = self.dash.def(&self.defs);
                let panel = def.panels.get(self.dash.selected);
                Source::Dash {
                    window: Window::new(now - self.dash.window_ms(), now),
                    panel: panel.map_or_else(|| def.title.clone(), |p| p.title.clone()),
                }
            }
            Route::Tasks { .. } | Route::Task { .. } => {
                let id = self.task_in_view()?;
                let sessions = self.sessions.panes.iter().filter(|p| p.task == id).count();
                Source::Task { id, sessions }
            }
            Route::Sessions => {
                let pane = self.sessions.panes.get(self.sessions.cursor)?;
                Source::Exec {
                    task: pane.task.clone(),
                    command: match pane.cmd.is_empty() {
                        true => "a shell".to_string(),
                        false => pane.cmd.join(" "),
                    },
                    started: pane.started,
                    ended: pane.ended,
                }
            }
            _ => return None,
        })
    }

    /// A key while the menu is open: move, open, or close.
    pub(super) fn on_menu_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(menu) = self.menu.as_mut() else {
            self.mode = Mode::Normal;
            return vec![];
        };
        let chosen = match key.code {
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => {
                menu.step(1);
                return vec![];
            }
            KeyCode::Up | KeyCode::Char('k') | KeyCode::BackTab => {
                menu.step(-1);
                return vec![];
            }
            KeyCode::Enter => menu.chosen().cloned(),
            KeyCode::Char(c @ '1'..='9') => {
                let n = c as usize - '1' as usize;
                match menu.items.get(n) {
                    Some(item) => match &item.target {
                        Some(target) => Some(target.clone()),
                        None => {
                            self.notice = Notice::info(format!("{}: {}", item.title, item.detail));
                            return vec![];
                        }
                    },
                    None => return vec![],
                }
            }
            _ => None,
        };
        self.menu = None;
        self.mode = Mode::Normal;
        chosen.map(|t| self.open_target(t)).unwrap_or_default()
    }

    /// Opens a link's target over the view it started from, with the
    /// subscriptions and reads it needs.
    pub fn follow_link(&mut self, target: Target) -> Vec<Effect> {
        self.following(|app| app.open_target(target))
    }

    fn open_target(&mut self, target: Target) -> Vec<Effect> {
        let route = match target {
            Target::Logs { scope, window } => {
                if self.route()
                    == &(Route::Logs {
                        scope: scope.clone(),
                    })
                {
                    // The same lines, another window: no new subscription.
                    self.model.logs.set_window(window);
                    self.logs.view.pending_at = window.map(|w| w.from);
                } else {
                    self.logs.open_window = window;
                }
                Route::Logs { scope }
            }
            Target::Trace { id } => Route::Trace { id },
            Target::Traces {
                task,
                window,
                min,
                errors,
            } => {
                self.tables.trace_filter = TraceFilter {
                    task,
                    window,
                    min_duration: min,
                    errors_only: errors,
                    service: None,
                };
                self.tables.traces.invalidate();
                Route::Traces
            }
            Target::Checks { task } => {
                self.tables.check_task = Some(task);
                self.tables.health.invalidate();
                Route::Health
            }
            Target::Task { id } => Route::Task { id },
            Target::Sessions { task } => {
                if let Some(at) = self.sessions.panes.iter().rposition(|p| p.task == task) {
                    self.sessions.cursor = at;
                }
                Route::Sessions
            }
            Target::Dash { window } => {
                self.dash.cover(window.length_ms());
                Route::Dash
            }
        };
        self.routes.push(route);
        vec![]
    }
}
