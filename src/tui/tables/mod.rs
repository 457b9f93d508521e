//! The table views (the cluster view's node list, nodes, tasks, health
//! checks, traces): rows kept up to date by what changed, filtered and
//! sorted, and drawn by a definition.

pub mod draw;
pub mod fields;
pub mod filter;
pub mod state;

use crate::api::UnixMillis;
use crate::tui::config::action::{Action, ViewKind};
use crate::tui::config::defs::Defs;
use crate::tui::feature::{Cx, Feature, LineKind};
use crate::tui::model::Model;
use filter::TraceFilter;
use state::{Rows, TableState};

/// Every table view's state; which one acts is the view on screen.
#[derive(Debug, Default)]
pub struct Tables {
    /// The node list on the cluster view.
    pub cluster: TableState,
    pub nodes: TableState,
    pub tasks: TableState,
    pub health: TableState,
    pub traces: TableState,
    pub agents: TableState,
    /// `:traces SERVICE >DURATION errors`, or a link's task and window.
    pub trace_filter: TraceFilter,
    /// The health view shows this task's checks only (a link's).
    pub check_task: Option<String>,
}

impl Tables {
    pub fn of(&self, view: ViewKind) -> Option<&TableState> {
        match view {
            ViewKind::Cluster => Some(&self.cluster),
            ViewKind::Nodes => Some(&self.nodes),
            ViewKind::Tasks => Some(&self.tasks),
            ViewKind::Health => Some(&self.health),
            ViewKind::Traces => Some(&self.traces),
            ViewKind::Agents => Some(&self.agents),
            _ => None,
        }
    }

    pub fn of_mut(&mut self, view: ViewKind) -> Option<&mut TableState> {
        match view {
            ViewKind::Cluster => Some(&mut self.cluster),
            ViewKind::Nodes => Some(&mut self.nodes),
            ViewKind::Tasks => Some(&mut self.tasks),
            ViewKind::Health => Some(&mut self.health),
            ViewKind::Traces => Some(&mut self.traces),
            ViewKind::Agents => Some(&mut self.agents),
            _ => None,
        }
    }

    /// Brings the table on screen up to date before a frame.
    pub fn prepare(
        &mut self,
        view: ViewKind,
        node: Option<&str>,
        model: &Model,
        defs: &Defs,
        now: UnixMillis,
        rows: usize,
    ) {
        match view {
            ViewKind::Cluster => {
                self.cluster
                    .refresh(&defs.nodes_view, Rows::Nodes, model, now, rows)
            }
            ViewKind::Nodes => self
                .nodes
                .refresh(&defs.nodes_view, Rows::Nodes, model, now, rows),
            ViewKind::Tasks => {
                self.tasks
                    .refresh(&defs.tasks_view, Rows::Tasks { node }, model, now, rows)
            }
            ViewKind::Health => self.health.refresh(
                &defs.health_view,
                Rows::Checks {
                    task: self.check_task.as_deref(),
                },
                model,
                now,
                rows,
            ),
            ViewKind::Agents => {
                self.agents
                    .refresh(&defs.agents_view, Rows::Agents, model, now, rows)
            }
            ViewKind::Traces => self.traces.refresh(
                &defs.traces_view,
                Rows::Traces(&self.trace_filter),
                model,
                now,
                rows,
            ),
            _ => {}
        }
    }

    /// Another gateway's data is coming: nothing held is still true.
    pub fn invalidate(&mut self) {
        for t in [
            &mut self.nodes,
            &mut self.tasks,
            &mut self.cluster,
            &mut self.agents,
        ] {
            t.invalidate();
        }
    }
}

const CLUSTER: &[Action] = &[
    Action::Select,
    Action::ViewLogs,
    Action::ViewNodes,
    Action::ViewTasks,
    Action::ViewHealth,
    Action::ViewDash,
    Action::ViewTraces,
];
const NODES: &[Action] = &[
    Action::Select,
    Action::ViewLogs,
    Action::Filter,
    Action::SortNext,
    Action::SortReverse,
];
const TASKS: &[Action] = &[
    Action::Select,
    Action::ViewLogs,
    Action::Shell,
    Action::Filter,
    Action::SortNext,
    Action::SortReverse,
];
const HEALTH: &[Action] = &[
    Action::Select,
    Action::Filter,
    Action::SortNext,
    Action::SortReverse,
];
const TRACES: &[Action] = &[Action::Select, Action::Filter, Action::SortNext];
const AGENTS: &[Action] = &[Action::Filter, Action::SortNext, Action::SortReverse];

impl Feature for Tables {
    fn hints(&self, view: ViewKind) -> &'static [Action] {
        match view {
            ViewKind::Cluster => CLUSTER,
            ViewKind::Nodes => NODES,
            ViewKind::Tasks => TASKS,
            ViewKind::Health => HEALTH,
            ViewKind::Traces => TRACES,
            ViewKind::Agents => AGENTS,
            _ => &[],
        }
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        let def = match cx.view {
            ViewKind::Nodes => Some(&cx.defs.nodes_view),
            ViewKind::Tasks => Some(&cx.defs.tasks_view),
            ViewKind::Health => Some(&cx.defs.health_view),
            ViewKind::Traces => Some(&cx.defs.traces_view),
            ViewKind::Agents => Some(&cx.defs.agents_view),
            // The cluster view's node list keeps name order.
            _ => None,
        };
        // Sorting goes through the columns shown (a hub's only through one).
        let sortable: Vec<usize> = def.map_or(Vec::new(), |d| {
            (d.columns.iter().enumerate())
                .filter(|(_, c)| c.shown(&cx.model.source))
                .map(|(i, _)| i)
                .collect()
        });
        let columns = sortable.len();
        let page = cx.rows.max(1) as isize;
        let Some(table) = self.of_mut(cx.view) else {
            return false;
        };
        match action {
            Action::Up => table.move_by(-1),
            Action::Down => table.move_by(1),
            Action::PageUp => table.move_by(-page),
            Action::PageDown => table.move_by(page),
            Action::Top | Action::Bottom => table.to_end(action == Action::Bottom),
            Action::SortNext | Action::SortPrev | Action::SortReverse if columns > 0 => {
                let at = sortable.iter().position(|&i| i == table.sort).unwrap_or(0);
                match action {
                    Action::SortNext => table.sort = sortable[(at + 1) % columns],
                    Action::SortPrev => table.sort = sortable[(at + columns - 1) % columns],
                    _ => table.descending = !table.descending,
                }
                table.invalidate();
            }
            Action::SortNext | Action::SortPrev | Action::SortReverse => {}
            // Esc first clears a filter, as in k9s; then it goes back.
            Action::Back if table.filter.is_some() => table.set_filter(""),
            _ => return false,
        }
        true
    }

    fn line(&self, kind: LineKind, cx: &Cx) -> Option<String> {
        let table = self.of(cx.view).filter(|_| kind == LineKind::Filter)?;
        Some(
            table
                .filter
                .as_ref()
                .map(|f| f.text.clone())
                .unwrap_or_default(),
        )
    }

    fn on_line(&mut self, _kind: LineKind, text: &str, cx: &mut Cx) {
        if let Some(table) = self.of_mut(cx.view) {
            table.set_filter(text);
        }
    }

    fn on_line_cancel(&mut self, kind: LineKind, cx: &mut Cx) {
        self.on_line(kind, "", cx);
    }
}
