//! One task's detail: what it is, where it runs, its usage and labels.

pub mod draw;

use crate::tui::config::action::{Action, ViewKind};
use crate::tui::feature::{Cx, Feature};

/// The task detail has no state of its own: the task is the route's.
#[derive(Debug, Default)]
pub struct TaskDetail;

const HINTS: &[Action] = &[Action::ViewLogs, Action::Shell];

impl Feature for TaskDetail {
    fn hints(&self, _view: ViewKind) -> &'static [Action] {
        HINTS
    }

    /// Its keys (logs, shell) open other views: the App's to route.
    fn act(&mut self, _action: Action, _cx: &mut Cx) -> bool {
        false
    }
}
