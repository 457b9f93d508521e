//! `:alerts`: what the gateway's alert engine holds (firing first), each
//! alert's evidence, and how its receivers' deliveries went. Read with
//! `GET /api/v1/alerts` every few seconds; the header counts what fires.

pub mod draw;

use crate::api::{Alert, AlertState, AlertsReport};
use crate::tui::config::action::{Action, ViewKind};
use crate::tui::feature::{Cx, Feature, movement};

#[derive(Debug, Default)]
pub struct AlertsView {
    pub cursor: usize,
}

const HINTS: &[Action] = &[Action::Up, Action::Down];

/// What a read of the alerts gave: the board, or why there is none.
pub type Held = Option<Result<AlertsReport, String>>;

/// Whether the gateway said it has no alerting (so it is not asked again
/// until the view is opened).
pub fn off(held: &Held) -> bool {
    matches!(held, Some(Err(e)) if e.contains("alerting is off"))
}

/// Alerts firing now.
pub fn firing(held: &Held) -> usize {
    match held {
        Some(Ok(report)) => report
            .alerts
            .iter()
            .filter(|a| a.state == AlertState::Firing)
            .count(),
        _ => 0,
    }
}

impl AlertsView {
    pub fn selected<'a>(&self, held: &'a Held) -> Option<&'a Alert> {
        match held {
            Some(Ok(report)) => report.alerts.get(self.cursor),
            _ => None,
        }
    }
}

impl Feature for AlertsView {
    fn hints(&self, _view: ViewKind) -> &'static [Action] {
        HINTS
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        let Some(delta) = movement(action, cx.rows) else {
            return false;
        };
        let len = match &cx.model.alerts {
            Some(Ok(report)) => report.alerts.len(),
            _ => 0,
        };
        let next = (self.cursor as isize).saturating_add(delta);
        self.cursor = next.clamp(0, len.saturating_sub(1) as isize) as usize;
        true
    }
}
