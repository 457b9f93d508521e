//! The console's state and its one `update`: every key, stream message and
//! command goes through here, and what must happen outside (quit, switch
//! gateway) comes back as an [`Effect`].

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::Topic;
use crate::api::{Check, UnixMillis};
use crate::client::{StreamEvent, Subscription};
use crate::tui::chrome::line::{History, LineEdit};
use crate::tui::config::action::{Action, ViewKind};
use crate::tui::config::dashboard::DashDef;
use crate::tui::config::defs::{self, Defs};
use crate::tui::dash::panels::DashState;
use crate::tui::logs::buffer::LogFilter;
use crate::tui::logs::buffer::Row;
use crate::tui::logs::syntax::{Runs, Syntax};
use crate::tui::logs::view::{LogScope, LogView, Search, TimeMode};
use crate::tui::model::{Model, SUB_DASH, SUB_LOGS};
use crate::tui::tables::state::{Rows, TableState};
use crate::tui::traces::layout::Layout;

#[derive(Debug, Clone, PartialEq, Eq)]
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
}

/// The waterfall on screen: its layout (once the spans came), what is
/// folded, the selected row, the zoom, and whether the span detail shows.
#[derive(Debug, Clone, Default)]
pub struct TraceView {
    pub id: String,
    pub layout: Option<Layout>,
    pub error: Option<String>,
    /// Spans whose subtrees are folded.
    pub collapsed: HashSet<usize>,
    /// Rows on show (into `layout.rows`), worked out before a frame.
    pub visible: Vec<usize>,
    /// The columns the span names on show need, worked out with them.
    pub name_width: usize,
    pub cursor: usize,
    pub offset: usize,
    /// The time window shown, when zoomed into a span.
    pub zoom: Option<(u64, u64)>,
    pub detail: bool,
    /// `/` in the waterfall: the spans it matches (service, name,
    /// attributes) are marked, their ancestors unfolded.
    pub search: Option<crate::tui::tables::state::RowFilter>,
    pub matches: HashSet<usize>,
}

impl TraceView {
    /// The selected span.
    pub fn selected(&self) -> Option<&crate::api::Span> {
        let layout = self.layout.as_ref()?;
        let row = layout.rows.get(*self.visible.get(self.cursor)?)?;
        layout.spans.get(row.span)
    }

    /// The time window on screen.
    pub fn window(&self) -> (u64, u64) {
        let layout = self.layout.as_ref();
        self.zoom
            .unwrap_or_else(|| layout.map_or((0, 1), |l| (l.start, l.end.max(l.start + 1))))
    }
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
}

/// What `update` asks of the event loop, beyond the state it changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    SwitchContext(String),
    Subscribe(Box<Subscription>),
    Unsubscribe(String),
    /// Read the dashboard's series over its window (for windows longer
    /// than a subscription's snapshot reaches back).
    FetchSeries {
        generation: u64,
        names: Vec<String>,
        window: i64,
    },
    /// Read one trace's spans, for the waterfall.
    FetchTrace {
        id: String,
    },
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// What the header says about where the data comes from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub context: String,
    pub url: String,
    /// The cluster's name and source (`host`, `demo`), once the gateway said.
    pub cluster: Option<(String, String)>,
    /// Exec is hidden (`--readonly`, a read-only context).
    pub readonly: bool,
}

pub const COMMANDS: &[&str] = &[
    "cluster", "nodes", "tasks", "logs", "health", "dash", "traces", "exec", "sessions", "goto",
    "save", "ctx", "theme", "keymap", "help", "quit", "q",
];

pub struct App {
    pub model: Model,
    pub defs: Defs,
    pub routes: Vec<Route>,
    pub mode: Mode,
    pub line: LineEdit,
    pub history: History,
    /// Completions of the command line and which one Tab shows next.
    pub completions: Vec<String>,
    pub completion_index: usize,
    pub nodes_table: TableState,
    pub tasks_table: TableState,
    pub health_table: TableState,
    pub traces_table: TableState,
    pub trace_filter: crate::tui::tables::state::TraceFilter,
    pub trace_view: TraceView,
    pub dash: DashState,
    /// Where the next log view opened should pause, once its lines come.
    open_logs_at: Option<UnixMillis>,
    /// The node list on the cluster view.
    pub cluster_table: TableState,
    pub log_view: LogView,
    pub notice: Option<Notice>,
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
    /// JSON and logfmt colouring for the log view (built once).
    pub syntax: Syntax,
    /// The colouring of the log rows on screen, by row number: worked out
    /// in `prepare` for rows new on screen, so a frame parses only those.
    pub log_syntax: HashMap<u64, Option<Runs>>,
    /// Exec panes, oldest first, and the id the next one gets.
    pub sessions: Vec<crate::tui::exec::pane::ExecPane>,
    pub next_session: u64,
    /// The selected row of `:sessions`.
    pub sessions_cursor: usize,
    /// Variables every exec sets: the console's `NO_COLOR`, so programs
    /// in a pane hold back their colour as the console does.
    pub exec_env: std::collections::BTreeMap<String, String>,
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
            nodes_table: TableState::default(),
            tasks_table: TableState::default(),
            health_table: TableState::default(),
            traces_table: TableState::default(),
            trace_filter: Default::default(),
            trace_view: TraceView::default(),
            dash: DashState::default(),
            open_logs_at: None,
            cluster_table: TableState::default(),
            log_view: LogView::new(LogScope::All),
            notice,
            now,
            origin,
            contexts,
            config_dir,
            size: (80, 24),
            syntax: Syntax::new(),
            log_syntax: HashMap::new(),
            zone: jiff::tz::TimeZone::UTC,
            sessions: Vec::new(),
            next_session: 0,
            sessions_cursor: 0,
            exec_env: Default::default(),
            quit: false,
        }
    }

    pub fn route(&self) -> &Route {
        self.routes.last().unwrap_or(&Route::Cluster)
    }

    /// The current view, for view-specific key bindings.
    pub fn view_kind(&self) -> ViewKind {
        match self.route() {
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
        }
    }

    /// The log scope on screen, if the log view is.
    fn logs_scope(&self) -> Option<LogScope> {
        match self.route() {
            Route::Logs { scope } => Some(scope.clone()),
            _ => None,
        }
    }

    /// Subscribes to the logs on screen when they change, unsubscribes when
    /// they go: logs cost bandwidth only while they are looked at.
    fn follow_logs_subscription(&mut self, before: Option<LogScope>, effects: &mut Vec<Effect>) {
        let after = self.logs_scope();
        if before == after {
            return;
        }
        match after {
            Some(scope) => {
                self.model.logs.clear();
                self.log_view = LogView::new(scope.clone());
                self.log_view.pending_at = self.open_logs_at.take();
                effects.push(Effect::Subscribe(Box::new(Subscription {
                    sub: SUB_LOGS.into(),
                    topic: Topic::Logs,
                    filter: scope.filter(),
                })));
            }
            None => effects.push(Effect::Unsubscribe(SUB_LOGS.into())),
        }
    }

    /// A trace's spans came (or could not be read).
    pub fn on_trace(&mut self, id: &str, result: Result<Vec<crate::api::Span>, String>) {
        if self.trace_view.id != id {
            return; // the operator moved on
        }
        match result {
            Ok(spans) => self.trace_view.layout = Some(Layout::new(spans)),
            Err(e) => self.trace_view.error = Some(e),
        }
    }

    fn act_in_trace(&mut self, action: Action) {
        if !matches!(self.route(), Route::Trace { .. }) {
            return;
        }
        let view = &mut self.trace_view;
        let Some(layout) = &view.layout else {
            return;
        };
        let selected = view.visible.get(view.cursor).map(|&n| layout.rows[n].span);
        match action {
            Action::ToggleCollapse => {
                if let Some(span) = selected
                    && !view.collapsed.remove(&span)
                {
                    view.collapsed.insert(span);
                }
            }
            Action::CollapseAll => {
                if view.collapsed.is_empty() {
                    view.collapsed = layout
                        .rows
                        .iter()
                        .filter(|r| r.children > 0)
                        .map(|r| r.span)
                        .collect();
                } else {
                    view.collapsed.clear();
                }
            }
            Action::Zoom => {
                view.zoom = match (view.zoom, selected) {
                    (None, Some(span)) => {
                        let s = &layout.spans[span];
                        Some((s.start, s.end.max(s.start + 1)))
                    }
                    _ => None,
                };
            }
            _ => {}
        }
    }

    fn trace_on_screen(&self) -> Option<String> {
        match self.route() {
            Route::Trace { id } => Some(id.clone()),
            _ => None,
        }
    }

    /// Reads a trace when its waterfall opens.
    fn follow_trace(&mut self, before: Option<String>, effects: &mut Vec<Effect>) {
        if let Some(id) = self.trace_on_screen()
            && before.as_ref() != Some(&id)
            && self.trace_view.id != id
        {
            self.trace_view = TraceView {
                id: id.clone(),
                ..Default::default()
            };
            effects.push(Effect::FetchTrace { id });
        }
    }

    fn in_dash(&self) -> bool {
        matches!(self.route(), Route::Dash | Route::DashPanel { .. })
    }

    /// The dashboard on screen.
    /// The dashboard on show: the chosen one, the last if the list shrank,
    /// the built-in if it is empty.
    pub fn dash_def(&self) -> &DashDef {
        let dashboards = &self.defs.dashboards;
        dashboards
            .get(self.dash.index)
            .or(dashboards.last())
            .unwrap_or_else(|| crate::tui::config::dashboard::builtin_dashboard())
    }

    /// Subscribes to the dashboard's metrics while it is open: its series
    /// cost memory and bandwidth only while they are looked at.
    fn follow_dash_subscription(&mut self, before: bool, effects: &mut Vec<Effect>) {
        match (before, self.in_dash()) {
            (false, true) => effects.extend(self.open_dash()),
            (true, false) => {
                self.model.dash.clear();
                effects.push(Effect::Unsubscribe(SUB_DASH.into()));
            }
            _ => {}
        }
    }

    fn open_dash(&mut self) -> Vec<Effect> {
        self.model.dash.clear();
        self.dash.selected = 0;
        self.dash.drill_offset = 0;
        self.model.dash.resolution = crate::tui::dash::panels::resolution(self.dash.window_ms());
        let mut effects = vec![Effect::Subscribe(Box::new(Subscription {
            sub: SUB_DASH.into(),
            topic: Topic::Metrics,
            filter: crate::api::Filter {
                names: self.dash_def().metrics(),
                ..Default::default()
            },
        }))];
        effects.extend(self.dash_backfill());
        effects
    }

    /// A range read for windows longer than the subscription's snapshot
    /// (five minutes of points) reaches back.
    fn dash_backfill(&mut self) -> Vec<Effect> {
        let window = self.dash.window_ms();
        self.model.dash.resolution = crate::tui::dash::panels::resolution(window);
        if window <= 300_000 {
            return vec![];
        }
        self.dash.generation += 1;
        vec![Effect::FetchSeries {
            generation: self.dash.generation,
            names: self.dash_def().metrics(),
            window,
        }]
    }

    /// A range read's answer: merged if it is for the window on screen.
    pub fn on_series_range(
        &mut self,
        generation: u64,
        result: Result<crate::api::SeriesRange, String>,
    ) {
        if generation != self.dash.generation || !self.in_dash() {
            return;
        }
        match result {
            Ok(range) => {
                for series in range.series {
                    self.model.dash.merge(series);
                }
            }
            Err(e) => {
                self.notice = Some(Notice {
                    text: format!("cannot read the dashboard's history: {e}"),
                    error: true,
                })
            }
        }
    }

    /// The table the current view shows, if it is a table view.
    pub fn table_mut(&mut self) -> Option<&mut TableState> {
        match self.route() {
            Route::Cluster => Some(&mut self.cluster_table),
            Route::Nodes => Some(&mut self.nodes_table),
            Route::Tasks { .. } => Some(&mut self.tasks_table),
            Route::Health => Some(&mut self.health_table),
            Route::Traces => Some(&mut self.traces_table),
            Route::Task { .. }
            | Route::Logs { .. }
            | Route::Dash
            | Route::DashPanel { .. }
            | Route::Trace { .. }
            | Route::Exec { .. }
            | Route::Sessions => None,
        }
    }

    pub fn table(&self) -> Option<&TableState> {
        match self.route() {
            Route::Cluster => Some(&self.cluster_table),
            Route::Nodes => Some(&self.nodes_table),
            Route::Tasks { .. } => Some(&self.tasks_table),
            Route::Health => Some(&self.health_table),
            Route::Traces => Some(&self.traces_table),
            Route::Task { .. }
            | Route::Logs { .. }
            | Route::Dash
            | Route::DashPanel { .. }
            | Route::Trace { .. }
            | Route::Exec { .. }
            | Route::Sessions => None,
        }
    }

    /// The actions the current view offers, for the hint bar.
    pub fn hints(&self) -> Vec<Action> {
        if matches!(self.route(), Route::Exec { .. }) {
            return vec![]; // every key is the process's; the pane says how to leave
        }
        let mut hints = match self.route() {
            Route::Cluster => vec![
                Action::Select,
                Action::ViewNodes,
                Action::ViewTasks,
                Action::ViewHealth,
                Action::ViewDash,
                Action::ViewTraces,
            ],
            Route::Dash => vec![Action::Select, Action::CycleWindow],
            Route::Traces => vec![Action::Select, Action::Filter, Action::SortNext],
            Route::Trace { .. } => vec![
                Action::Select,
                Action::Filter,
                Action::ToggleCollapse,
                Action::CollapseAll,
                Action::Zoom,
                Action::ViewLogs,
            ],
            Route::DashPanel { .. } => vec![Action::CycleWindow],
            Route::Nodes | Route::Tasks { .. } | Route::Health => vec![
                Action::Select,
                Action::Filter,
                Action::SortNext,
                Action::SortReverse,
            ],
            Route::Task { .. } => vec![Action::ViewLogs, Action::Shell],
            Route::Sessions => vec![Action::Select, Action::CloseSession],
            Route::Exec { .. } => vec![],
            Route::Logs { .. } => vec![
                Action::Follow,
                Action::Search,
                Action::NextMatch,
                Action::FilterLogs,
                Action::ToggleWrap,
                Action::CycleTime,
                Action::ToggleSource,
            ],
        };
        if matches!(
            self.route(),
            Route::Cluster | Route::Nodes | Route::Tasks { .. }
        ) {
            hints.insert(1, Action::ViewLogs);
        }
        if matches!(self.route(), Route::Tasks { .. }) {
            hints.insert(2, Action::Shell);
        }
        if self.origin.readonly {
            hints.retain(|a| *a != Action::Shell);
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
        let height = crate::tui::screen::table_height(self);
        let now = self.now;
        let model = &self.model;
        match self.routes.last().cloned().unwrap_or(Route::Cluster) {
            Route::Cluster => {
                self.cluster_table
                    .refresh(&self.defs.nodes_view, Rows::Nodes, model, now, height)
            }
            Route::Nodes => {
                self.nodes_table
                    .refresh(&self.defs.nodes_view, Rows::Nodes, model, now, height)
            }
            Route::Tasks { node } => self.tasks_table.refresh(
                &self.defs.tasks_view,
                Rows::Tasks {
                    node: node.as_deref(),
                },
                model,
                now,
                height,
            ),
            Route::Health => {
                self.health_table
                    .refresh(&self.defs.health_view, Rows::Checks, model, now, height)
            }
            Route::Dash | Route::DashPanel { .. } => {
                let route = self.route().clone();
                crate::tui::dash::draw::prepare(self, &route);
            }
            Route::Traces => self.traces_table.refresh(
                &self.defs.traces_view,
                Rows::Traces(&self.trace_filter),
                model,
                now,
                height,
            ),
            Route::Trace { .. } => {
                let rows = crate::tui::traces::draw::rows_height(self.size, self.trace_view.detail);
                let view = &mut self.trace_view;
                if let Some(layout) = &view.layout {
                    view.visible = layout.visible(&view.collapsed);
                    view.name_width = layout.name_width(&view.visible);
                }
                view.cursor = view.cursor.min(view.visible.len().saturating_sub(1));
                if view.cursor < view.offset {
                    view.offset = view.cursor;
                } else if view.cursor >= view.offset + rows.max(1) {
                    view.offset = view.cursor + 1 - rows.max(1);
                }
            }
            Route::Task { .. } | Route::Exec { .. } => {}
            Route::Sessions => {
                self.sessions_cursor = self
                    .sessions_cursor
                    .min(self.sessions.len().saturating_sub(1));
            }
            Route::Logs { .. } => {
                if let Some(at) = self.log_view.pending_at {
                    let buf = &self.model.logs;
                    if !buf.shown().is_empty() {
                        self.log_view.pending_at = None;
                        self.log_view.pause_at(buf, at, height);
                    }
                }
                let buf = &self.model.logs;
                let first = self.log_view.first_shown(buf, height);
                let on_screen: Vec<u64> = buf
                    .shown()
                    .iter()
                    .skip(first)
                    .take(height)
                    .copied()
                    .collect();
                self.log_syntax.retain(|abs, _| on_screen.contains(abs));
                for abs in on_screen {
                    if let (false, Some(Row::Line(e))) =
                        (self.log_syntax.contains_key(&abs), buf.get(abs))
                    {
                        let runs = crate::tui::logs::draw::syntax_runs(&self.syntax, &e.message);
                        self.log_syntax.insert(abs, runs);
                    }
                }
            }
        }
    }

    pub fn on_stream(&mut self, event: StreamEvent, now: UnixMillis) {
        self.now = now;
        if let Some(text) = self.model.apply(event, now) {
            self.notice = Some(Notice { text, error: true });
        }
    }

    pub fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        if let (Mode::Normal, Route::Exec { id }) = (&self.mode, self.route()) {
            return self.on_exec_paste(*id, text);
        }
        if matches!(self.mode, Mode::Filter | Mode::Command) {
            for c in text.chars() {
                self.line.insert(c);
            }
            self.after_edit();
        }
        vec![]
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let before = self.logs_scope();
        let dash_before = self.in_dash();
        let trace_before = self.trace_on_screen();
        let mut effects = self.handle_key(key);
        self.follow_logs_subscription(before, &mut effects);
        self.follow_dash_subscription(dash_before, &mut effects);
        self.follow_trace(trace_before, &mut effects);
        effects
    }

    fn handle_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // In an exec pane every key is the process's (Ctrl-C too), but
        // the chord that leaves.
        if let (Mode::Normal, Route::Exec { id }) = (&self.mode, self.route()) {
            return self.on_exec_key(*id, key);
        }
        // Ctrl-C always gets out, whatever the keymap or mode.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return vec![];
        }
        match self.mode {
            Mode::Filter | Mode::Search | Mode::Command => self.on_line_key(key),
            Mode::Help { scroll } => {
                match key.code {
                    KeyCode::Down | KeyCode::Char('j') => {
                        self.mode = Mode::Help {
                            scroll: scroll.saturating_add(1),
                        }
                    }
                    KeyCode::Up | KeyCode::Char('k') => {
                        self.mode = Mode::Help {
                            scroll: scroll.saturating_sub(1),
                        }
                    }
                    KeyCode::PageDown => {
                        self.mode = Mode::Help {
                            scroll: scroll.saturating_add(10),
                        }
                    }
                    KeyCode::PageUp => {
                        self.mode = Mode::Help {
                            scroll: scroll.saturating_sub(10),
                        }
                    }
                    _ => self.mode = Mode::Normal,
                }
                vec![]
            }
            Mode::Normal => {
                self.notice = None;
                // Keys can arrive faster than frames: act on the rows as
                // they are now, not as last drawn.
                self.prepare();
                match self.defs.keymap.action_for(&key, self.view_kind()) {
                    Some(action) => self.act(action),
                    None => vec![],
                }
            }
        }
    }

    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        let page = crate::tui::screen::table_height(self).max(1) as isize;
        if matches!(self.route(), Route::Logs { .. }) && self.act_in_logs(action, page) {
            return vec![];
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Back => self.back(),
            Action::Help => self.mode = Mode::Help { scroll: 0 },
            Action::Command => {
                self.mode = Mode::Command;
                self.line = LineEdit::default();
                self.after_edit();
            }
            Action::Filter if matches!(self.route(), Route::Trace { .. }) => {
                let text = self.trace_view.search.as_ref().map(|f| f.text.clone());
                self.line.set(&text.unwrap_or_default());
                self.mode = Mode::Filter;
            }
            Action::Filter => {
                if let Some(table) = self.table_mut() {
                    let text = table
                        .filter
                        .as_ref()
                        .map(|f| f.text.clone())
                        .unwrap_or_default();
                    self.line.set(&text);
                    self.mode = Mode::Filter;
                }
            }
            Action::Select => self.select(),
            Action::Shell => return self.open_exec(Vec::new()),
            Action::ViewSessions => {
                if self.route() != &Route::Sessions {
                    self.routes.push(Route::Sessions);
                }
            }
            Action::CloseSession => {
                if let (Route::Sessions, Some(pane)) =
                    (self.route(), self.sessions.get(self.sessions_cursor))
                {
                    return self.close_exec(pane.id);
                }
            }
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::Top | Action::Bottom => {
                let far = if action == Action::Bottom {
                    isize::MAX / 2
                } else {
                    isize::MIN / 2
                };
                match self.route() {
                    Route::Dash | Route::DashPanel { .. } | Route::Trace { .. } => {
                        self.move_by(far)
                    }
                    _ => {
                        if let Some(t) = self.table_mut() {
                            t.to_end(action == Action::Bottom);
                        }
                    }
                }
            }
            Action::SortNext | Action::SortPrev | Action::SortReverse => self.sort(action),
            Action::ViewCluster => self.routes = vec![Route::Cluster],
            Action::ViewNodes => self.routes = vec![Route::Cluster, Route::Nodes],
            Action::ViewTasks => self.routes = vec![Route::Cluster, Route::Tasks { node: None }],
            Action::ViewHealth => self.routes = vec![Route::Cluster, Route::Health],
            Action::ViewDash => self.routes = vec![Route::Cluster, Route::Dash],
            Action::ViewTraces => self.routes = vec![Route::Cluster, Route::Traces],
            Action::ToggleCollapse | Action::CollapseAll | Action::Zoom => {
                self.act_in_trace(action)
            }
            Action::CycleWindow => {
                if matches!(self.route(), Route::Dash | Route::DashPanel { .. }) {
                    self.dash.window =
                        (self.dash.window + 1) % crate::tui::dash::panels::WINDOWS.len();
                    return self.dash_backfill();
                }
            }
            Action::ViewLogs => {
                let scope = match self.route() {
                    Route::Cluster => self
                        .cluster_table
                        .selected_id()
                        .map(|id| LogScope::Node(id.to_string())),
                    Route::Nodes => self
                        .nodes_table
                        .selected_id()
                        .map(|id| LogScope::Node(id.to_string())),
                    Route::Tasks { .. } => self
                        .tasks_table
                        .selected_id()
                        .map(|id| LogScope::Task(id.to_string())),
                    Route::Task { id } => Some(LogScope::Task(id.clone())),
                    Route::Health => self.selected_check().map(check_scope),
                    Route::Trace { .. } => {
                        // The span's task (else node, else all), at its start.
                        let span = self.trace_view.selected();
                        let at = span.map(|s| (s.start / 1_000_000) as UnixMillis);
                        let scope = span.map(|s| match (&s.task_id, &s.node_id) {
                            (Some(task), _) => LogScope::Task(task.clone()),
                            (None, Some(node)) => LogScope::Node(node.clone()),
                            (None, None) => LogScope::All,
                        });
                        self.open_logs_at = at;
                        scope
                    }
                    Route::Logs { .. }
                    | Route::Dash
                    | Route::DashPanel { .. }
                    | Route::Traces
                    | Route::Exec { .. }
                    | Route::Sessions => None,
                };
                self.routes.push(Route::Logs {
                    scope: scope.unwrap_or(LogScope::All),
                });
            }
            // Log-view actions elsewhere do nothing.
            Action::Follow
            | Action::ToggleWrap
            | Action::CycleTime
            | Action::ToggleSource
            | Action::Search
            | Action::NextMatch
            | Action::PrevMatch
            | Action::FilterLogs => {}
        }
        vec![]
    }

    /// The log view's own handling of an action; false when it is not one.
    fn act_in_logs(&mut self, action: Action, page: isize) -> bool {
        let height = page.max(1) as usize;
        let (view, buf) = (&mut self.log_view, &self.model.logs);
        match action {
            Action::Up => view.scroll(buf, height, -1),
            Action::Down => view.scroll(buf, height, 1),
            Action::PageUp => view.scroll(buf, height, -page),
            Action::PageDown => view.scroll(buf, height, page),
            Action::Top => view.to_top(buf),
            Action::Bottom | Action::Follow => view.follow = true,
            Action::ToggleWrap => view.wrap = !view.wrap,
            Action::ToggleSource => view.source = !view.source,
            Action::CycleTime => {
                view.time = match view.time {
                    TimeMode::Relative => TimeMode::Absolute,
                    TimeMode::Absolute => TimeMode::Off,
                    TimeMode::Off => TimeMode::Relative,
                }
            }
            Action::NextMatch | Action::PrevMatch => {
                match view.find(buf, height, action == Action::NextMatch) {
                    Some(index) => view.show(buf, index, height),
                    None if view.search.is_some() => {
                        self.notice = Some(Notice {
                            text: "no more matches".into(),
                            error: false,
                        });
                    }
                    None => {}
                }
            }
            Action::Search => {
                let text = view
                    .search
                    .as_ref()
                    .map(|s| s.text.clone())
                    .unwrap_or_default();
                self.line.set(&text);
                self.mode = Mode::Search;
            }
            Action::FilterLogs => {
                let text = buf.filter().text.clone();
                self.line.set(&text);
                self.mode = Mode::Filter;
            }
            _ => return false,
        }
        true
    }

    fn move_by(&mut self, delta: isize) {
        match self.route() {
            Route::Dash => {
                let last = self.dash_def().panels.len().saturating_sub(1);
                self.dash.selected = self.dash.selected.saturating_add_signed(delta).min(last);
            }
            Route::DashPanel { .. } => {
                // Clamped to the rows when the view is prepared.
                self.dash.drill_offset = self.dash.drill_offset.saturating_add_signed(delta);
            }
            Route::Trace { .. } => {
                let view = &mut self.trace_view;
                let last = view.visible.len().saturating_sub(1);
                view.cursor = view.cursor.saturating_add_signed(delta).min(last);
            }
            Route::Sessions => {
                let last = self.sessions.len().saturating_sub(1);
                self.sessions_cursor = self.sessions_cursor.saturating_add_signed(delta).min(last);
            }
            _ => {
                if let Some(t) = self.table_mut() {
                    t.move_by(delta);
                }
            }
        }
    }

    fn back(&mut self) {
        // In the log view Esc first clears a search, then a filter.
        if matches!(self.route(), Route::Logs { .. }) {
            if self.log_view.search.take().is_some() {
                return;
            }
            if !self.model.logs.filter().is_empty() {
                self.model.logs.set_filter(LogFilter::default());
                return;
            }
        }
        // Esc first clears a filter, as in k9s; then it goes back.
        if let Some(t) = self.table_mut()
            && t.filter.is_some()
        {
            t.set_filter("");
            return;
        }
        if self.routes.len() > 1 {
            self.routes.pop();
        }
    }

    fn select(&mut self) {
        let next = match self.route() {
            Route::Cluster => self.cluster_table.selected_id().map(|id| Route::Tasks {
                node: Some(id.to_string()),
            }),
            Route::Nodes => self.nodes_table.selected_id().map(|id| Route::Tasks {
                node: Some(id.to_string()),
            }),
            Route::Tasks { .. } => self
                .tasks_table
                .selected_id()
                .map(|id| Route::Task { id: id.to_string() }),
            Route::Health => {
                // Its logs, paused where it last failed.
                let Some(check) = self.selected_check() else {
                    return;
                };
                let at = check.last_failure;
                let scope = check_scope(check);
                self.routes.push(Route::Logs { scope });
                self.open_logs_at = at;
                return;
            }
            Route::Dash => Some(Route::DashPanel {
                panel: self.dash.selected,
            }),
            Route::Traces => self
                .traces_table
                .selected_id()
                .map(|id| Route::Trace { id: id.to_string() }),
            Route::Trace { .. } => {
                self.trace_view.detail = !self.trace_view.detail;
                return;
            }
            Route::Sessions => self
                .sessions
                .get(self.sessions_cursor)
                .map(|p| Route::Exec { id: p.id }),
            Route::Task { .. }
            | Route::Logs { .. }
            | Route::DashPanel { .. }
            | Route::Exec { .. } => None,
        };
        if let Some(route) = next {
            if matches!(route, Route::Tasks { .. }) {
                self.tasks_table.cursor = 0;
                self.tasks_table.selected = None;
                self.tasks_table.invalidate();
            }
            self.routes.push(route);
        }
    }

    fn selected_check(&self) -> Option<&Check> {
        let id = self.health_table.selected_id()?;
        self.model.checks.get(id)
    }

    fn sort(&mut self, action: Action) {
        // The cluster view's node list keeps name order.
        let (columns, table) = match self.routes.last() {
            Some(Route::Nodes) => (self.defs.nodes_view.columns.len(), &mut self.nodes_table),
            Some(Route::Tasks { .. }) => {
                (self.defs.tasks_view.columns.len(), &mut self.tasks_table)
            }
            Some(Route::Health) => (self.defs.health_view.columns.len(), &mut self.health_table),
            Some(Route::Traces) => (self.defs.traces_view.columns.len(), &mut self.traces_table),
            _ => return,
        };
        let columns = columns.max(1);
        match action {
            Action::SortNext => table.sort = (table.sort + 1) % columns,
            Action::SortPrev => table.sort = (table.sort + columns - 1) % columns,
            _ => table.descending = !table.descending,
        }
        table.invalidate();
    }

    fn on_line_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let command = self.mode == Mode::Command;
        match key.code {
            KeyCode::Esc => {
                match self.mode {
                    Mode::Search => self.log_view.search = None,
                    Mode::Filter if matches!(self.route(), Route::Logs { .. }) => {
                        self.model.logs.set_filter(LogFilter::default())
                    }
                    Mode::Filter if matches!(self.route(), Route::Trace { .. }) => {
                        self.trace_view.search = None;
                        self.trace_view.matches.clear();
                    }
                    Mode::Filter => {
                        if let Some(t) = self.table_mut() {
                            t.set_filter("");
                        }
                    }
                    _ => {}
                }
                self.mode = Mode::Normal;
                self.history.reset();
                return vec![];
            }
            KeyCode::Enter => {
                let mode = std::mem::replace(&mut self.mode, Mode::Normal);
                if command {
                    let line = self.line.text.trim().to_string();
                    self.history.push(&line);
                    return self.run_command(&line);
                }
                if mode == Mode::Search {
                    // Like less's `?`: the nearest match above the screen's bottom.
                    let height = crate::tui::screen::table_height(self).max(1);
                    let view = &mut self.log_view;
                    let found = view
                        .find(&self.model.logs, height, false)
                        .or_else(|| view.find(&self.model.logs, height, true));
                    match found {
                        Some(index) => view.show(&self.model.logs, index, height),
                        None => {
                            self.notice = Some(Notice {
                                text: format!("no line matches {:?}", self.line.text),
                                error: false,
                            })
                        }
                    }
                }
                return vec![];
            }
            KeyCode::Tab if command => {
                if let Some(c) = self.completions.get(self.completion_index).cloned() {
                    self.line.set(&c);
                    self.completion_index += 1;
                    let keep = self.completion_index;
                    self.after_edit();
                    self.completion_index = keep.min(self.completions.len());
                }
                return vec![];
            }
            KeyCode::Up if command => {
                if let Some(line) = self.history.older().map(str::to_string) {
                    self.line.set(&line);
                }
            }
            KeyCode::Down if command => {
                let line = self.history.newer().map(str::to_string).unwrap_or_default();
                self.line.set(&line);
            }
            KeyCode::Backspace => {
                if self.line.text.is_empty() {
                    self.mode = Mode::Normal;
                    return vec![];
                }
                self.line.backspace();
            }
            KeyCode::Delete => self.line.delete(),
            KeyCode::Left => self.line.left(),
            KeyCode::Right => self.line.right(),
            KeyCode::Home => self.line.home(),
            KeyCode::End => self.line.end(),
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.line.set("")
            }
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.line.insert(c)
            }
            _ => return vec![],
        }
        self.after_edit();
        vec![]
    }

    /// After the line changed: filter or search live, or refresh completions.
    fn after_edit(&mut self) {
        if self.mode == Mode::Search {
            self.log_view.search = Search::new(&self.line.text);
            return;
        }
        if self.mode == Mode::Filter && matches!(self.route(), Route::Logs { .. }) {
            match LogFilter::parse(&self.line.text) {
                Ok(filter) => {
                    self.model.logs.set_filter(filter);
                    self.notice = None;
                }
                Err(e) => {
                    self.notice = Some(Notice {
                        text: e,
                        error: true,
                    })
                }
            }
            return;
        }
        if self.mode == Mode::Filter && matches!(self.route(), Route::Trace { .. }) {
            let view = &mut self.trace_view;
            view.search = crate::tui::tables::state::RowFilter::new(&self.line.text);
            view.matches.clear();
            if let (Some(layout), Some(search)) = (&view.layout, &view.search) {
                let hits = layout.reveal(&mut view.collapsed, |s| {
                    let attrs: Vec<&str> = s.attributes.values().map(String::as_str).collect();
                    search.keeps(&format!("{} {} {}", s.service, s.name, attrs.join(" ")))
                });
                view.matches = hits.into_iter().collect();
                // To the first match, as the rows will be.
                let visible = layout.visible(&view.collapsed);
                if let Some(n) = visible
                    .iter()
                    .position(|&r| view.matches.contains(&layout.rows[r].span))
                {
                    view.cursor = n;
                }
            }
            return;
        }
        if self.mode == Mode::Filter {
            let text = self.line.text.clone();
            if let Some(t) = self.table_mut() {
                t.set_filter(&text);
            }
            return;
        }
        let contexts = self.contexts.clone();
        let dir = self.config_dir.clone();
        let nodes: Vec<String> = {
            let mut n: Vec<String> = self
                .model
                .nodes
                .values()
                .map(|n| n.hostname.clone())
                .collect();
            n.sort();
            n
        };
        self.completions =
            crate::tui::chrome::line::complete(&self.line.text, COMMANDS, |cmd| match cmd {
                "ctx" => contexts.clone(),
                "theme" => defs::names(defs::BUILTIN_THEMES, dir.as_deref(), "themes"),
                "keymap" => defs::names(defs::BUILTIN_KEYMAPS, dir.as_deref(), "keymaps"),
                "tasks" => nodes.clone(),
                _ => vec![],
            });
        self.completion_index = 0;
    }

    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        let before = self.logs_scope();
        let dash_before = self.in_dash();
        let trace_before = self.trace_on_screen();
        let mut effects = self.command(line);
        self.follow_logs_subscription(before, &mut effects);
        self.follow_dash_subscription(dash_before, &mut effects);
        self.follow_trace(trace_before, &mut effects);
        effects
    }

    fn command(&mut self, line: &str) -> Vec<Effect> {
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or("");
        let arg = words.next();
        let say = |text: String, error: bool| Some(Notice { text, error });
        match (command, arg) {
            ("", _) => {}
            ("q" | "quit" | "q!", _) => self.quit = true,
            ("cluster", _) => return self.act(Action::ViewCluster),
            ("nodes" | "node" | "no", _) => return self.act(Action::ViewNodes),
            ("tasks" | "task" | "ta", None) => return self.act(Action::ViewTasks),
            ("tasks" | "task" | "ta", Some(node)) => {
                let found = self
                    .model
                    .nodes
                    .values()
                    .find(|n| n.hostname == node || n.id == node)
                    .map(|n| n.id.clone());
                match found {
                    Some(id) => {
                        self.routes = vec![Route::Cluster, Route::Tasks { node: Some(id) }];
                        self.tasks_table.invalidate();
                    }
                    None => self.notice = say(format!("no node named {node:?}"), true),
                }
            }
            ("help", _) => self.mode = Mode::Help { scroll: 0 },
            ("exec", _) => {
                let cmd = line.split_whitespace().skip(1).map(String::from).collect();
                return self.open_exec(cmd);
            }
            ("sessions" | "session", _) => return self.act(Action::ViewSessions),
            ("health", _) => return self.act(Action::ViewHealth),
            ("traces" | "trace", _) => {
                // :traces [SERVICE] [>DURATION] [errors]
                let mut filter = crate::tui::tables::state::TraceFilter::default();
                for arg in line.split_whitespace().skip(1) {
                    if arg == "errors" {
                        filter.errors_only = true;
                    } else if let Some(d) = arg.strip_prefix('>') {
                        match crate::api::parse_span(d) {
                            Some(ms) => filter.min_duration = Some(ms.max(0) as u64 * 1_000_000),
                            None => {
                                self.notice =
                                    say(format!("{d:?} is not a duration like 500ms or 2s"), true);
                                return vec![];
                            }
                        }
                    } else {
                        filter.service = Some(arg.to_string());
                    }
                }
                self.trace_filter = filter;
                self.traces_table.invalidate();
                return self.act(Action::ViewTraces);
            }
            ("dash" | "dashboard", _) => {
                let mut args = line.split_whitespace().skip(1);
                for arg in args.by_ref() {
                    if let Some(window) = crate::api::parse_span(arg).and_then(|w| {
                        crate::tui::dash::panels::WINDOWS
                            .iter()
                            .position(|&x| x == w)
                    }) {
                        self.dash.window = window;
                    } else if let Some(index) = self.defs.dashboards.iter().position(|d| {
                        d.name == arg
                            || d.name
                                == format!(
                                    "{}-{arg}",
                                    crate::tui::config::dashboard::DEFAULT_DASHBOARD
                                )
                    }) {
                        self.dash.index = index;
                    } else {
                        let names: Vec<&str> = self
                            .defs
                            .dashboards
                            .iter()
                            .map(|d| d.name.as_str())
                            .collect();
                        self.notice = say(
                            format!(
                                "{arg:?} is neither a window (1m 5m 15m 1h) nor a dashboard ({})",
                                names.join(", ")
                            ),
                            true,
                        );
                        return vec![];
                    }
                }
                // Reopened: a fresh subscription for the dashboard now chosen.
                let reopen = matches!(self.route(), Route::Dash | Route::DashPanel { .. });
                self.routes = vec![Route::Cluster, Route::Dash];
                if reopen {
                    let mut effects = vec![Effect::Unsubscribe(SUB_DASH.into())];
                    effects.extend(self.open_dash());
                    return effects;
                }
            }
            ("logs" | "log", None) => {
                self.routes = vec![
                    Route::Cluster,
                    Route::Logs {
                        scope: LogScope::All,
                    },
                ]
            }
            ("logs" | "log", Some(kind)) => {
                let name = words.next().unwrap_or("");
                let scope = match kind {
                    "task" => Some(LogScope::Task(name.to_string())),
                    "unit" => Some(LogScope::Unit(name.to_string())),
                    "node" => self
                        .model
                        .nodes
                        .values()
                        .find(|n| n.hostname == name || n.id == name)
                        .map(|n| LogScope::Node(n.id.clone())),
                    _ => None,
                };
                match scope {
                    Some(scope) if !name.is_empty() => {
                        self.routes = vec![Route::Cluster, Route::Logs { scope }]
                    }
                    _ => {
                        self.notice = say(
                            format!(
                                "usage: :logs [task ID | node NAME | unit NAME]; no {kind} {name:?}"
                            ),
                            true,
                        )
                    }
                }
            }
            ("goto", Some(when)) => self.goto(when),
            ("save", Some(path)) => {
                if !matches!(self.route(), Route::Logs { .. }) {
                    self.notice = say(
                        ":save writes the log view's lines; open the logs first".into(),
                        true,
                    );
                } else {
                    return vec![Effect::Save {
                        path: PathBuf::from(path),
                        contents: self.model.logs.shown_text(),
                    }];
                }
            }
            ("goto" | "save", None) => {
                self.notice = say(
                    format!(":{command} needs an argument (:goto 14:02, :save FILE)"),
                    true,
                )
            }
            ("ctx", None) => {
                self.notice = say(
                    format!(
                        "context {}; others: {}",
                        self.origin.context,
                        self.contexts.join(", ")
                    ),
                    false,
                )
            }
            ("ctx", Some(name)) => {
                if self.contexts.iter().any(|c| c == name) {
                    return vec![Effect::SwitchContext(name.to_string())];
                }
                self.notice = say(
                    format!(
                        "no context named {name:?}; known: {}",
                        self.contexts.join(", ")
                    ),
                    true,
                );
            }
            ("theme", None) => self.notice = say(format!("theme {}", self.defs.theme.name), false),
            ("theme", Some(name)) => {
                if let Some(theme) = self.load_named("theme", name, defs::load_theme) {
                    self.defs.theme = theme;
                }
            }
            ("keymap", None) => {
                self.notice = say(format!("keymap {}", self.defs.keymap.name), false)
            }
            ("keymap", Some(name)) => {
                if let Some(keymap) = self.load_named("keymap", name, defs::load_keymap) {
                    self.defs.keymap = keymap;
                }
            }
            (other, _) => {
                self.notice = say(
                    format!(
                        "unknown command {other:?}; try {}",
                        COMMANDS[..7].join(", ")
                    ),
                    true,
                )
            }
        }
        vec![]
    }

    /// `:goto HH:MM[:SS]`: the first shown log line at or after that time
    /// today (local time, in the zone's rules for that day), paused there.
    fn goto(&mut self, when: &str) {
        if !matches!(self.route(), Route::Logs { .. }) {
            self.notice = Some(Notice {
                text: ":goto moves in the log view; open the logs first".into(),
                error: true,
            });
            return;
        }
        let Some(target) = local_today_at(when, self.now, &self.zone) else {
            self.notice = Some(Notice {
                text: format!("{when:?} is not a time like 14:02 or 14:02:30"),
                error: true,
            });
            return;
        };
        let buf = &self.model.logs;
        let height = crate::tui::screen::table_height(self).max(1);
        match self.log_view.pause_at(buf, target, height) {
            true => {}
            false => {
                self.notice = Some(Notice {
                    text: format!("no line at or after {when}"),
                    error: false,
                })
            }
        }
    }

    /// Loads a theme or keymap by name for `:theme`/`:keymap`; it is used
    /// only if it loaded cleanly, and the footer says which way it went.
    fn load_named<T>(
        &mut self,
        kind: &str,
        name: &str,
        load: fn(&str, Option<&std::path::Path>, &mut Vec<String>) -> T,
    ) -> Option<T> {
        let mut warnings = Vec::new();
        let loaded = load(name, self.config_dir.as_deref(), &mut warnings);
        let ok = warnings.is_empty();
        self.notice = Some(Notice {
            text: if ok {
                format!("{kind} {name}")
            } else {
                warnings.join("; ")
            },
            error: !ok,
        });
        ok.then_some(loaded)
    }

    /// Starts over on another gateway: the data goes, the views stay.
    pub fn switch_origin(&mut self, origin: Origin) {
        self.model = Model::default();
        self.origin = origin;
        for t in [
            &mut self.nodes_table,
            &mut self.tasks_table,
            &mut self.cluster_table,
        ] {
            t.invalidate();
        }
        self.routes = vec![Route::Cluster];
    }
}

/// Whose logs tell about a check: its task's, else its node's, else all.
fn check_scope(check: &Check) -> LogScope {
    match (&check.task_id, &check.node_id) {
        (Some(task), _) => LogScope::Task(task.clone()),
        (None, Some(node)) => LogScope::Node(node.clone()),
        (None, None) => LogScope::All,
    }
}

/// `HH:MM` or `HH:MM:SS` today in `zone`, as of `now`, in milliseconds. A
/// time that a daylight-saving change skips or repeats resolves as the
/// clocks on the wall would (the earlier of a repeated hour).
pub fn local_today_at(
    when: &str,
    now: crate::api::UnixMillis,
    zone: &jiff::tz::TimeZone,
) -> Option<i64> {
    let mut parts = when.trim().split(':');
    let mut part = |max: i8| -> Option<i8> {
        let p = parts.next()?;
        (p.len() == 2).then_some(())?;
        p.parse::<i8>().ok().filter(|v| (0..=max).contains(v))
    };
    let (h, m) = (part(23)?, part(59)?);
    let s = match parts.next() {
        None => 0,
        Some(p) if p.len() == 2 => p.parse::<i8>().ok().filter(|v| (0..=59).contains(v))?,
        Some(_) => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    let today = jiff::Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned_datetime(zone.clone())
        .date();
    let at = today.at(h, m, s, 0).to_zoned_datetime(zone.clone()).ok()?;
    Some(at.timestamp().as_millisecond())
}

#[cfg(test)]
mod zone_tests {
    use super::local_today_at;
    use jiff::tz::TimeZone;

    #[test]
    fn goto_times_follow_the_zones_rules_on_that_day() {
        let berlin = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2026-03-29, the day clocks go forward at 02:00 (UTC 01:00).
        let noon_utc = 1_774_785_600_000; // 2026-03-29T12:00:00Z
        assert_eq!(
            local_today_at("14:00", noon_utc, &berlin),
            Some(noon_utc),
            "14:00 summer time is 12:00 UTC"
        );
        assert_eq!(
            local_today_at("01:30", noon_utc, &berlin),
            Some(noon_utc - 41_400_000),
            "01:30 winter time is 00:30 UTC"
        );
        for bad in ["25:00", "1:30", "14:00:61", "14:00:00:00", "noon", ""] {
            assert_eq!(local_today_at(bad, noon_utc, &berlin), None, "{bad}");
        }
    }
}
