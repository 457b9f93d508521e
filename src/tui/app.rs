//! The console's state and its one `update`: every key, stream message and
//! command goes through here, and what must happen outside (quit, switch
//! gateway) comes back as an [`Effect`].

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::cmdline::{self, History, LineEdit};
use super::defs::{self, Defs};
use super::model::Model;
use super::table::{Rows, TableState};
use crate::api::UnixMillis;
use crate::client::StreamEvent;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Filter,
    Command,
    Help { scroll: u16 },
}

/// What `update` asks of the event loop, beyond the state it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    SwitchContext(String),
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
}

pub const COMMANDS: &[&str] = &[
    "cluster", "nodes", "tasks", "ctx", "theme", "keymap", "help", "quit", "q",
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
    /// The node list on the cluster view.
    pub cluster_table: TableState,
    pub notice: Option<Notice>,
    pub now: UnixMillis,
    pub origin: Origin,
    pub contexts: Vec<String>,
    pub config_dir: Option<PathBuf>,
    /// The terminal size, for paging and scrolling.
    pub size: (u16, u16),
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
            cluster_table: TableState::default(),
            notice,
            now,
            origin,
            contexts,
            config_dir,
            size: (80, 24),
            quit: false,
        }
    }

    pub fn route(&self) -> &Route {
        self.routes.last().unwrap_or(&Route::Cluster)
    }

    /// The table the current view shows, if it is a table view.
    pub fn table_mut(&mut self) -> Option<&mut TableState> {
        match self.route() {
            Route::Cluster => Some(&mut self.cluster_table),
            Route::Nodes => Some(&mut self.nodes_table),
            Route::Tasks { .. } => Some(&mut self.tasks_table),
            Route::Task { .. } => None,
        }
    }

    pub fn table(&self) -> Option<&TableState> {
        match self.route() {
            Route::Cluster => Some(&self.cluster_table),
            Route::Nodes => Some(&self.nodes_table),
            Route::Tasks { .. } => Some(&self.tasks_table),
            Route::Task { .. } => None,
        }
    }

    /// The actions the current view offers, for the hint bar.
    pub fn hints(&self) -> Vec<Action> {
        let mut hints = match self.route() {
            Route::Cluster => vec![Action::Select, Action::ViewNodes, Action::ViewTasks],
            Route::Nodes | Route::Tasks { .. } => vec![
                Action::Select,
                Action::Filter,
                Action::SortNext,
                Action::SortReverse,
            ],
            Route::Task { .. } => vec![],
        };
        if self.routes.len() > 1 {
            hints.push(Action::Back);
        }
        hints.extend([Action::Command, Action::Help, Action::Quit]);
        hints
    }

    /// Brings derived state up to date before a frame: table rows, cursor
    /// and scroll. Draw functions only read.
    pub fn prepare(&mut self) {
        let height = super::views::table_height(self);
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
            Route::Task { .. } => {}
        }
    }

    pub fn on_stream(&mut self, event: StreamEvent, now: UnixMillis) {
        self.now = now;
        if let Some(text) = self.model.apply(event, now) {
            self.notice = Some(Notice { text, error: true });
        }
    }

    pub fn on_paste(&mut self, text: &str) {
        if matches!(self.mode, Mode::Filter | Mode::Command) {
            for c in text.chars() {
                self.line.insert(c);
            }
            self.after_edit();
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // Ctrl-C always gets out, whatever the keymap or mode.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return vec![];
        }
        match self.mode {
            Mode::Filter | Mode::Command => self.on_line_key(key),
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
                match self.defs.keymap.action_for(&key) {
                    Some(action) => self.act(action),
                    None => vec![],
                }
            }
        }
    }

    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        let page = super::views::table_height(self).max(1) as isize;
        match action {
            Action::Quit => self.quit = true,
            Action::Back => self.back(),
            Action::Help => self.mode = Mode::Help { scroll: 0 },
            Action::Command => {
                self.mode = Mode::Command;
                self.line = LineEdit::default();
                self.after_edit();
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
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::Top | Action::Bottom => {
                if let Some(t) = self.table_mut() {
                    t.to_end(action == Action::Bottom);
                }
            }
            Action::SortNext | Action::SortPrev | Action::SortReverse => self.sort(action),
            Action::ViewCluster => self.routes = vec![Route::Cluster],
            Action::ViewNodes => self.routes = vec![Route::Cluster, Route::Nodes],
            Action::ViewTasks => self.routes = vec![Route::Cluster, Route::Tasks { node: None }],
        }
        vec![]
    }

    fn move_by(&mut self, delta: isize) {
        if let Some(t) = self.table_mut() {
            t.move_by(delta);
        }
    }

    fn back(&mut self) {
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
            Route::Task { .. } => None,
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

    fn sort(&mut self, action: Action) {
        // The cluster view's node list keeps name order.
        let (columns, table) = match self.routes.last() {
            Some(Route::Nodes) => (self.defs.nodes_view.columns.len(), &mut self.nodes_table),
            Some(Route::Tasks { .. }) => {
                (self.defs.tasks_view.columns.len(), &mut self.tasks_table)
            }
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
                if !command && let Some(t) = self.table_mut() {
                    t.set_filter("");
                }
                self.mode = Mode::Normal;
                self.history.reset();
                return vec![];
            }
            KeyCode::Enter => {
                self.mode = Mode::Normal;
                if command {
                    let line = self.line.text.trim().to_string();
                    self.history.push(&line);
                    return self.run_command(&line);
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

    /// After the line changed: filter live, or refresh completions.
    fn after_edit(&mut self) {
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
        self.completions = cmdline::complete(&self.line.text, COMMANDS, |cmd| match cmd {
            "ctx" => contexts.clone(),
            "theme" => defs::names(defs::BUILTIN_THEMES, dir.as_deref(), "themes"),
            "keymap" => defs::names(defs::BUILTIN_KEYMAPS, dir.as_deref(), "keymaps"),
            "tasks" => nodes.clone(),
            _ => vec![],
        });
        self.completion_index = 0;
    }

    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
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
