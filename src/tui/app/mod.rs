//! The console's state and its dispatch: every key, stream message and
//! command comes here, goes to the feature on screen, and what must happen
//! outside (subscribe, read, quit, switch gateway) comes back as an
//! [`Effect`]. App owns the route stack and the modes; each feature owns
//! its state and keys.

mod change;
pub mod commands;
mod follow;
mod frame;
mod links;
mod logs;
mod navigate;
mod prompt;
mod recording;
pub mod route;
mod share;

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::UnixMillis;
use crate::client::StreamEvent;
pub use crate::tui::chrome::bars::Origin;
use crate::tui::chrome::line::{History, LineEdit};
use crate::tui::config::action::{Action, ViewKind};
use crate::tui::config::defs::Defs;
use crate::tui::config::keymap::Run;
use crate::tui::dash::DashState;
pub use crate::tui::effect::Effect;
use crate::tui::exec::{PaneKey, Sessions};
pub use crate::tui::feature::Notice;
use crate::tui::feature::{Cx, Feature};
use crate::tui::logs::Logs;
use crate::tui::model::Model;
use crate::tui::tables::Tables;
use crate::tui::task::TaskDetail;
use crate::tui::traces::TraceView;
use crate::tui::triage::TriageView;
pub use route::{Mode, Route};

pub struct App {
    pub model: Model,
    pub defs: Defs,
    pub routes: Vec<Route>,
    pub mode: Mode,
    /// The `:` and `/` line, its history, and the command line's completions.
    pub line: LineEdit,
    pub history: History,
    pub completions: Vec<String>,
    pub completion_index: usize,
    pub tables: Tables,
    pub task: TaskDetail,
    pub logs: Logs,
    pub trace_view: TraceView,
    pub dash: DashState,
    pub sessions: Sessions,
    pub triage: TriageView,
    pub alerts: crate::tui::alerts::AlertsView,
    pub notice: Option<Notice>,
    /// The `o` menu, while open.
    pub menu: Option<crate::tui::links::Menu>,
    /// A change asked for, waiting for its `y` (see `change`).
    pub confirm: Option<change::Pending>,
    pub now: UnixMillis,
    pub origin: Origin,
    pub contexts: Vec<String>,
    pub config_dir: Option<PathBuf>,
    /// The terminal size, for paging and scrolling.
    pub size: (u16, u16),
    /// The local time zone with all its rules (daylight-saving changes
    /// included), for absolute timestamps and `:goto`: read once at start,
    /// so a draw reads no files. UTC until then.
    pub zone: jiff::tz::TimeZone,
    /// A recording under way (`R`, `:record`).
    pub recording: crate::tui::record::Recording,
    /// The replay's time bar, when the console replays a recording.
    pub replay: Option<crate::tui::chrome::timebar::ReplayBar>,
    /// Share mode: prepared at start, on from `--share` or `:share`.
    pub share: crate::redact::Share,
    pub quit: bool,
}

impl App {
    pub fn new(
        defs: Defs,
        origin: Origin,
        contexts: Vec<String>,
        config_dir: Option<PathBuf>,
        now: UnixMillis,
    ) -> App {
        let notice = (!defs.warnings.is_empty()).then(|| Notice {
            text: defs.warnings.join("; "),
            error: true,
        });
        App {
            model: Model::default(),
            defs,
            routes: vec![Route::Cluster],
            mode: Mode::Normal,
            line: LineEdit::default(),
            history: History::default(),
            completions: Vec::new(),
            completion_index: 0,
            tables: Tables::default(),
            task: TaskDetail,
            logs: Logs::default(),
            trace_view: TraceView::default(),
            dash: DashState::default(),
            sessions: Sessions::default(),
            triage: TriageView::default(),
            alerts: Default::default(),
            notice,
            menu: None,
            confirm: None,
            now,
            origin,
            contexts,
            config_dir,
            size: (80, 24),
            zone: jiff::tz::TimeZone::UTC,
            recording: Default::default(),
            replay: None,
            share: Default::default(),
            quit: false,
        }
    }

    pub fn route(&self) -> &Route {
        self.routes.last().unwrap_or(&Route::Cluster)
    }

    /// The current view, for view-specific key bindings.
    pub fn view_kind(&self) -> ViewKind {
        self.route().view()
    }

    /// Runs `f` on the feature on screen, with what it may touch.
    fn with_feature<R>(
        &mut self,
        effects: &mut Vec<Effect>,
        f: impl FnOnce(&mut dyn Feature, &mut Cx) -> R,
    ) -> R {
        let view = self.view_kind();
        let rows = self.rows();
        let App {
            tables,
            task,
            logs,
            trace_view,
            dash,
            sessions,
            triage,
            alerts,
            model,
            defs,
            notice,
            ..
        } = self;
        let feature: &mut dyn Feature = match view {
            ViewKind::Cluster
            | ViewKind::Nodes
            | ViewKind::Tasks
            | ViewKind::Health
            | ViewKind::Traces
            | ViewKind::Agents => tables,
            ViewKind::Alerts => alerts,
            ViewKind::Task => task,
            ViewKind::Logs => logs,
            ViewKind::Dash => dash,
            ViewKind::Trace => trace_view,
            ViewKind::Exec | ViewKind::Sessions => sessions,
            ViewKind::Triage => triage,
        };
        let mut cx = Cx {
            view,
            model,
            defs,
            rows,
            notice,
            effects,
        };
        f(feature, &mut cx)
    }

    /// The actions the current view offers, for the hint bar: the
    /// feature's own, then the ones every view has.
    pub fn hints(&self) -> Vec<Action> {
        let view = self.view_kind();
        if view == ViewKind::Exec {
            return vec![]; // every key is the process's; the pane says how to leave
        }
        let feature: &dyn Feature = match view {
            ViewKind::Task => &self.task,
            ViewKind::Logs => &self.logs,
            ViewKind::Dash => &self.dash,
            ViewKind::Trace => &self.trace_view,
            ViewKind::Exec | ViewKind::Sessions => &self.sessions,
            ViewKind::Triage => &self.triage,
            ViewKind::Alerts => &self.alerts,
            _ => &self.tables,
        };
        let mut hints = feature.hints(view).to_vec();
        if self.origin.readonly || self.share.is_on() {
            hints.retain(|a| *a != Action::Shell);
        }
        if matches!(
            view,
            ViewKind::Trace
                | ViewKind::Logs
                | ViewKind::Health
                | ViewKind::Dash
                | ViewKind::Tasks
                | ViewKind::Task
                | ViewKind::Sessions
        ) {
            hints.push(Action::Links);
        }
        if self.routes.len() > 1 {
            hints.push(Action::Back);
        }
        hints.extend([Action::Command, Action::Help, Action::Quit]);
        hints
    }

    /// Brings derived state up to date before a frame: table rows, cursor
    /// and scroll. Draw functions only read.
    pub fn prepare(&mut self) {
        let rows = self.rows();
        let view = self.view_kind();
        match self.routes.last().cloned().unwrap_or(Route::Cluster) {
            Route::Tasks { node } => {
                let (model, defs, now) = (&self.model, &self.defs, self.now);
                self.tables
                    .prepare(view, node.as_deref(), model, defs, now, rows)
            }
            Route::Dash | Route::DashPanel { .. } => {
                let body = self.body();
                self.dash.prepare(&self.model, &self.defs, self.now, body)
            }
            Route::Trace { .. } => self.trace_view.prepare(rows),
            Route::Logs { .. } => self.logs.prepare(&self.model.logs, rows),
            Route::Sessions => {
                let last = self.sessions.panes.len().saturating_sub(1);
                self.sessions.cursor = self.sessions.cursor.min(last);
            }
            Route::Triage => {
                let rows = crate::tui::triage::draw::table_rows(self.body().height);
                self.triage.prepare(&self.model, self.now, rows)
            }
            Route::Task { .. } | Route::Exec { .. } => {}
            _ => {
                let (model, defs, now) = (&self.model, &self.defs, self.now);
                self.tables.prepare(view, None, model, defs, now, rows)
            }
        }
    }

    /// A read of a hub's agents came back.
    pub fn on_agents(&mut self, result: Result<Vec<crate::api::AgentStatus>, String>) {
        match result {
            Ok(agents) => self.model.set_agents(agents),
            Err(e) => {
                self.notice = Some(Notice {
                    text: format!("cannot read the agents: {e}"),
                    error: true,
                })
            }
        }
    }

    pub fn on_stream(&mut self, event: StreamEvent, now: UnixMillis) {
        self.now = now;
        if let StreamEvent::Message(msg) = &event {
            self.recording.message(msg, now);
        }
        if let Some(text) = self.model.apply(event, now) {
            self.notice = Some(Notice { text, error: true });
        }
    }

    /// An exec session's event; returns the bytes of output it carried. A
    /// session that could not open is a triage signal.
    pub fn on_exec(&mut self, event: crate::tui::exec::pane::ExecEvent) -> usize {
        if let crate::tui::exec::pane::ExecEvent::Failed(id, why) = &event
            && let Some(pane) = self.sessions.pane(*id)
        {
            let held = self.model.tasks.get(pane.task.as_str());
            let timeline = &mut self.model.timeline;
            let why = Some(why.clone());
            crate::tui::model::signals::exec(timeline, &pane.task, held, "exec", why, self.now);
        }
        let bytes = self.sessions.on_event(event);
        for pane in &mut self.sessions.panes {
            if !pane.is_live() && pane.ended.is_none() {
                pane.ended = Some(self.now);
            }
        }
        bytes
    }

    /// A trace's spans came (or could not be read).
    /// A page of older log lines came (scrolling back, `:goto`).
    pub fn on_older_logs(
        &mut self,
        generation: u64,
        result: Result<crate::client::LogPage, String>,
    ) -> Vec<Effect> {
        let rows = self.rows().max(1);
        let mut effects = Vec::new();
        let notice =
            self.logs
                .on_older(generation, result, &mut self.model.logs, rows, &mut effects);
        if notice.is_some() {
            self.notice = notice;
        }
        effects
    }

    pub fn on_trace(&mut self, id: &str, result: Result<Vec<crate::api::Span>, String>) {
        self.trace_view.on_trace(id, result);
    }

    /// A range read's answer for the dashboard.
    pub fn on_series_range(
        &mut self,
        generation: u64,
        result: Result<crate::api::SeriesRange, String>,
    ) {
        if matches!(self.route(), Route::Dash | Route::DashPanel { .. })
            && let Some(notice) = self
                .dash
                .on_series_range(generation, result, &mut self.model)
        {
            self.notice = Some(notice);
        }
    }

    pub fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        if let (Mode::Normal, Route::Exec { id }) = (&self.mode, self.route()) {
            return self.sessions.paste(*id, text);
        }
        if matches!(self.mode, Mode::Filter | Mode::Command) {
            for c in text.chars() {
                self.line.insert(c);
            }
            self.after_edit();
        }
        vec![]
    }

    /// The terminal changed size: every running pane follows.
    pub fn on_resize(&mut self, width: u16, height: u16) -> Vec<Effect> {
        self.size = (width, height);
        let size = self.exec_size();
        self.sessions.resize(size)
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.following(|app| app.handle_key(key))
    }

    /// A `:` line or a keymap's `run`: one grammar for both.
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        self.following(|app| app.run_line(line))
    }

    fn handle_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // In an exec pane every key is the process's (Ctrl-C too), but
        // the chord that leaves.
        if let (Mode::Normal, Route::Exec { id }) = (&self.mode, self.route()) {
            let page = self.exec_size().0 as isize;
            return match self.sessions.key(*id, key, page) {
                PaneKey::Stay(effects) => effects,
                PaneKey::Leave => {
                    self.routes.pop();
                    vec![]
                }
            };
        }
        // Ctrl-C always gets out, whatever the keymap or mode.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return vec![];
        }
        match self.mode {
            Mode::Filter | Mode::Search | Mode::Command => self.on_line_key(key),
            Mode::Links => self.on_menu_key(key),
            Mode::Help { scroll } => {
                self.mode = match key.code {
                    KeyCode::Down | KeyCode::Char('j') => Mode::Help {
                        scroll: scroll.saturating_add(1),
                    },
                    KeyCode::Up | KeyCode::Char('k') => Mode::Help {
                        scroll: scroll.saturating_sub(1),
                    },
                    KeyCode::PageDown => Mode::Help {
                        scroll: scroll.saturating_add(10),
                    },
                    KeyCode::PageUp => Mode::Help {
                        scroll: scroll.saturating_sub(10),
                    },
                    _ => Mode::Normal,
                };
                vec![]
            }
            Mode::Normal => {
                if let Some(pending) = self.confirm.take() {
                    return self.answer(pending, key);
                }
                self.notice = None;
                // Keys can arrive faster than frames: act on the rows as
                // they are now, not as last drawn.
                self.prepare();
                match self.defs.keymap.run_for(&key, self.view_kind()) {
                    Some(Run::Action(action)) => self.act(action),
                    Some(Run::Line(line)) => self.run_line(&line),
                    None => vec![],
                }
            }
        }
    }

    /// An action: the feature on screen first, then what every view does.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.with_feature(&mut effects, |f, cx| f.act(action, cx)) {
            return effects;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Back if self.routes.len() > 1 => {
                self.routes.pop();
            }
            Action::Help => self.mode = Mode::Help { scroll: 0 },
            Action::Command => {
                self.mode = Mode::Command;
                self.line = LineEdit::default();
                self.after_edit();
            }
            Action::Filter if self.view_kind() != ViewKind::Logs => self.open_line(Mode::Filter),
            Action::FilterLogs if self.view_kind() == ViewKind::Logs => {
                self.open_line(Mode::Filter)
            }
            Action::Search if self.view_kind() == ViewKind::Logs => self.open_line(Mode::Search),
            Action::Select => self.select(),
            Action::Shell => return self.open_exec(Vec::new()),
            Action::ViewSessions if self.route() != &Route::Sessions => {
                self.routes.push(Route::Sessions);
            }
            Action::ViewCluster => self.routes = vec![Route::Cluster],
            Action::ViewNodes => self.go(Route::Nodes),
            Action::ViewTasks => self.go(Route::Tasks { node: None }),
            Action::ViewHealth => {
                self.tables.check_task = None;
                self.go(Route::Health)
            }
            Action::ViewDash => self.go(Route::Dash),
            Action::ViewTraces => {
                // A link's task and window end here; `:traces`'s own stay.
                (
                    self.tables.trace_filter.task,
                    self.tables.trace_filter.window,
                ) = (None, None);
                self.go(Route::Traces)
            }
            Action::Links => self.open_links(),
            Action::ViewTriage => self.go(Route::Triage),
            Action::ViewAlerts => {
                self.go(Route::Alerts);
                effects.push(Effect::FetchAlerts);
            }
            Action::ViewAgents => {
                self.go(Route::Agents);
                effects.push(Effect::FetchAgents);
            }
            Action::ViewLogs => self.view_logs(),
            // Another view's action does nothing here.
            _ => {}
        }
        effects
    }

    /// A top-level view, over the cluster view.
    fn go(&mut self, route: Route) {
        self.routes = vec![Route::Cluster, route];
    }

    /// Starts over on another gateway: the data goes, the views stay.
    pub fn switch_origin(&mut self, origin: Origin) {
        self.origin = origin;
        self.forget_wire_data();
    }

    /// Drops everything that came from the gateway: the model (its log
    /// buffer as large as before), what views fetched and hold, and the
    /// views themselves, back to the cluster.
    pub fn forget_wire_data(&mut self) {
        let log_lines = self.model.logs.max_rows();
        self.model = Model::default();
        self.model.logs = crate::tui::logs::buffer::LogBuffer::new(log_lines);
        self.task = TaskDetail;
        self.logs = Logs::default();
        self.trace_view = TraceView::default();
        self.dash = DashState::default();
        self.triage = TriageView::default();
        self.alerts = Default::default();
        self.menu = None;
        self.confirm = None;
        self.mode = Mode::Normal;
        self.tables.invalidate();
        self.routes = vec![Route::Cluster];
    }
}
