//! Moving between views: what Enter opens, whose logs `l` shows, a shell
//! in the task in view, and opening the footer's line for a view.

use super::{App, Effect, Mode, Notice, Route};
use crate::api::{Check, UnixMillis};
use crate::triage::Jump;
use crate::tui::feature::LineKind;
use crate::tui::logs::view::LogScope;
use crate::tui::widgets::text::inert;

impl App {
    /// The route's breadcrumb.
    pub(super) fn crumb(&self, route: &Route) -> String {
        let app = self;
        match route {
            Route::Cluster => "cluster".to_string(),
            Route::Nodes => "nodes".to_string(),
            Route::Health => "health".to_string(),
            Route::Traces => "traces".to_string(),
            Route::Sessions => "sessions".to_string(),
            Route::Agents => "agents".to_string(),
            Route::Alerts => "alerts".to_string(),
            Route::Triage => format!("what changed · {}", app.triage.window.label()),
            Route::Exec { id } => match app.sessions.pane(*id) {
                Some(p) => format!("exec {}", inert(&p.task)),
                None => "exec".to_string(),
            },
            Route::Trace { id } => match app.model.traces.get(id) {
                Some(t) => format!("{}: {}", inert(&t.root_service), inert(&t.root_operation)),
                None => format!("trace {}", inert(id)),
            },
            Route::Dash => format!(
                "dashboard {} · {}",
                inert(&app.dash.def(&app.defs).title),
                crate::api::format_span(app.dash.window_ms())
            ),
            Route::DashPanel { panel } => app
                .dash
                .def(&app.defs)
                .panels
                .get(*panel)
                .map_or_else(|| "panel".to_string(), |p| inert(&p.title).into_owned()),
            Route::Tasks { node: None } => "tasks".to_string(),
            Route::Tasks { node: Some(id) } => {
                format!("tasks on {}", inert(app.model.node_name(id)))
            }
            Route::Logs { scope } => match scope {
                LogScope::All => "logs".to_string(),
                LogScope::Task(id) => match app.model.tasks.get(id.as_str()) {
                    Some(t) => format!("logs of {}", inert(&t.name)),
                    None => format!("logs of task {}", inert(id)),
                },
                LogScope::Node(id) => format!("logs of {}", inert(app.model.node_name(id))),
                LogScope::Unit(unit) => format!("logs of {}", inert(unit)),
                LogScope::Namespace(ns) => format!("logs of namespace {}", inert(ns)),
            },
            Route::Task { id } => match app.model.tasks.get(id.as_str()) {
                Some(t) => format!("task {}", inert(&t.name)),
                None => format!("task {}", inert(id)),
            },
        }
    }

    /// Enter: the selected row's view.
    pub(super) fn select(&mut self) {
        let tables = &self.tables;
        let next = match self.route() {
            Route::Cluster => tables.cluster.selected_id().map(|id| Route::Tasks {
                node: Some(id.to_string()),
            }),
            Route::Nodes => tables.nodes.selected_id().map(|id| Route::Tasks {
                node: Some(id.to_string()),
            }),
            Route::Tasks { .. } => tables
                .tasks
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
                self.logs.open_at = at;
                return;
            }
            Route::Dash => Some(Route::DashPanel {
                panel: self.dash.selected,
            }),
            Route::Traces => tables
                .traces
                .selected_id()
                .map(|id| Route::Trace { id: id.to_string() }),
            Route::Sessions => self
                .sessions
                .panes
                .get(self.sessions.cursor)
                .map(|p| Route::Exec { id: p.id }),
            Route::Triage => {
                self.jump();
                return;
            }
            Route::Task { .. }
            | Route::Logs { .. }
            | Route::DashPanel { .. }
            | Route::Trace { .. }
            | Route::Exec { .. }
            | Route::Agents
            | Route::Alerts => None,
        };
        if let Some(route) = next {
            if matches!(route, Route::Tasks { .. }) {
                let tasks = &mut self.tables.tasks;
                tasks.cursor = 0;
                tasks.selected = None;
                tasks.invalidate();
            }
            self.routes.push(route);
        }
    }

    /// `l`: the logs of what is selected, or all.
    pub(super) fn view_logs(&mut self) {
        let tables = &self.tables;
        let scope = match self.route() {
            Route::Cluster => tables
                .cluster
                .selected_id()
                .map(|id| LogScope::Node(id.to_string())),
            Route::Nodes => tables
                .nodes
                .selected_id()
                .map(|id| LogScope::Node(id.to_string())),
            Route::Tasks { .. } => tables
                .tasks
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
                self.logs.open_at = at;
                scope
            }
            Route::Triage => {
                // The finding's task (else node), at its time.
                let finding = self.triage.finding();
                self.logs.open_at = finding.map(|f| f.at);
                finding.map(|f| match (&f.subject.task, &f.subject.node) {
                    (Some(task), _) => LogScope::Task(task.clone()),
                    (None, Some(node)) => LogScope::Node(node.clone()),
                    (None, None) => LogScope::All,
                })
            }
            Route::Logs { .. }
            | Route::Dash
            | Route::DashPanel { .. }
            | Route::Traces
            | Route::Exec { .. }
            | Route::Sessions
            | Route::Agents
            | Route::Alerts => None,
        };
        self.routes.push(Route::Logs {
            scope: scope.unwrap_or(LogScope::All),
        });
    }

    /// Enter on a finding: its primary evidence, at its time. Esc comes
    /// back to the triage view with the finding still selected.
    fn jump(&mut self) {
        let Some(jump) = self.triage.finding().map(|f| f.jump.clone()) else {
            return;
        };
        let route = match jump {
            Jump::Task { id } if self.model.tasks.contains_key(id.as_str()) => Route::Task { id },
            Jump::Task { id } => {
                // Gone from the cluster: its logs still tell.
                self.logs.open_at = self.triage.finding().map(|f| f.at);
                Route::Logs {
                    scope: LogScope::Task(id),
                }
            }
            Jump::Node { id } | Jump::Series { node: id, .. } => {
                self.tables.nodes.selected = Some(crate::tui::model::Id::from(id.as_str()));
                Route::Nodes
            }
            Jump::Check { id } => {
                self.tables.health.selected = Some(crate::tui::model::Id::from(id.as_str()));
                Route::Health
            }
            Jump::Logs { task, node, at } => {
                self.logs.open_at = Some(at);
                let scope = match (task, node) {
                    (Some(task), _) => LogScope::Task(task),
                    (None, Some(node)) => LogScope::Node(node),
                    (None, None) => LogScope::All,
                };
                Route::Logs { scope }
            }
            Jump::Trace { id } if id.is_empty() => {
                self.notice = Notice::error("no trace was kept for this finding");
                return;
            }
            Jump::Trace { id } => Route::Trace { id },
        };
        self.routes.push(route);
    }

    pub(super) fn selected_check(&self) -> Option<&Check> {
        let id = self.tables.health.selected_id()?;
        self.model.checks.get(id)
    }

    /// The task the view is about: the one open, or the selected row.
    pub(super) fn task_in_view(&self) -> Option<String> {
        match self.route() {
            Route::Task { id } => Some(id.clone()),
            Route::Tasks { .. } => self.tables.tasks.selected_id().map(str::to_string),
            _ => None,
        }
    }

    /// Opens a pane running `cmd` (a shell when empty) in the task in view.
    pub fn open_exec(&mut self, cmd: Vec<String>) -> Vec<Effect> {
        if self.origin.readonly {
            self.notice = Notice::error("exec is off: this context is read-only");
            return vec![];
        }
        if self.share.is_on() {
            // A terminal shows whatever a process prints; nothing can
            // redact it reliably.
            self.notice = Notice::error("exec is off while sharing the screen");
            return vec![];
        }
        let Some(task) = self.task_in_view() else {
            self.notice = Notice::error("open or select a task first, then s (or :exec CMD)");
            return vec![];
        };
        let size = self.exec_size();
        let command = if cmd.is_empty() {
            "a shell".to_string()
        } else {
            cmd.join(" ")
        };
        match self.sessions.open(task.clone(), cmd, size, self.now) {
            Ok((id, start)) => {
                let held = self.model.tasks.get(task.as_str());
                let timeline = &mut self.model.timeline;
                crate::tui::model::signals::exec(timeline, &task, held, &command, None, self.now);
                self.routes.push(Route::Exec { id });
                vec![start]
            }
            Err(why) => {
                self.notice = Notice::error(why);
                vec![]
            }
        }
    }

    /// Opens the footer's line in `mode`, if the view has such a line.
    pub(super) fn open_line(&mut self, mode: Mode) {
        let kind = line_kind(mode);
        if let Some(text) = self.with_feature(&mut Vec::new(), |f, cx| f.line(kind, cx)) {
            self.line.set(&text);
            self.mode = mode;
        }
    }
}

/// The line a mode types into.
pub(super) fn line_kind(mode: Mode) -> LineKind {
    match mode {
        Mode::Search => LineKind::Search,
        _ => LineKind::Filter,
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
