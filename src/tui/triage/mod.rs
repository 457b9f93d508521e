//! The triage view: "what changed", ranked, with the likely cause on top.
//! Its findings are worked out from the model's timeline (see
//! `crate::triage`) before a frame, only while the view is on screen and
//! only when the timeline changed (at most once a second) or the window did.

pub mod draw;

use crate::api::UnixMillis;
use crate::triage::{Finding, Report, Window, triage};
use crate::tui::config::action::{Action, ViewKind};
use crate::tui::feature::{Cx, Feature, movement};
use crate::tui::model::Model;

/// How often a live view works its findings out again, at most.
const RECOMPUTE_EVERY_MS: UnixMillis = 1000;

pub struct TriageView {
    pub window: Window,
    pub report: Option<Report>,
    pub cursor: usize,
    /// The first finding row shown.
    pub offset: usize,
    /// `e`: the selected finding's score in words, instead of its evidence.
    pub explain: bool,
    /// What the report was worked out from: the timeline's generation, the
    /// time and the window.
    computed: Option<(u64, UnixMillis, Window)>,
    /// The finding the operator moved to, by title, so the selection
    /// stays on it when the ranks move; until they move, the top one.
    selected: Option<String>,
}

impl Default for TriageView {
    fn default() -> Self {
        TriageView {
            window: Window::M15,
            report: None,
            cursor: 0,
            offset: 0,
            explain: false,
            computed: None,
            selected: None,
        }
    }
}

const HINTS: &[Action] = &[Action::Select, Action::CycleWindow, Action::Explain];

impl TriageView {
    /// Before a frame of `rows` finding rows.
    pub fn prepare(&mut self, model: &Model, now: UnixMillis, rows: usize) {
        let generation = model.timeline.generation;
        let stale = match self.computed {
            None => true,
            Some((g, at, window)) => {
                window != self.window
                    || (g != generation && now - at >= RECOMPUTE_EVERY_MS)
                    || crate::triage::timeline::minute_of(now)
                        != crate::triage::timeline::minute_of(at)
            }
        };
        if stale {
            let report = triage(&model.timeline, self.window, now);
            if let Some(title) = &self.selected
                && let Some(i) = report.findings.iter().position(|f| &f.title == title)
            {
                self.cursor = i;
            }
            self.report = Some(report);
            self.computed = Some((generation, now, self.window));
        }
        let len = self.report.as_ref().map_or(0, |r| r.findings.len());
        self.cursor = self.cursor.min(len.saturating_sub(1));
        let rows = rows.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + rows {
            self.offset = self.cursor + 1 - rows;
        }
    }

    pub fn finding(&self) -> Option<&Finding> {
        self.report.as_ref()?.findings.get(self.cursor)
    }

    /// Opens on `window`, or the one it had.
    pub fn open(&mut self, window: Option<Window>) {
        if let Some(window) = window
            && window != self.window
        {
            self.window = window;
            self.cursor = 0;
            self.selected = None;
        }
    }

    fn move_by(&mut self, delta: isize) {
        let len = self.report.as_ref().map_or(0, |r| r.findings.len());
        let next = (self.cursor as isize + delta).clamp(0, len.saturating_sub(1) as isize);
        self.cursor = next as usize;
        self.selected = self.finding().map(|f| f.title.clone());
    }
}

impl Feature for TriageView {
    fn hints(&self, _view: ViewKind) -> &'static [Action] {
        HINTS
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        if let Some(delta) = movement(action, cx.rows) {
            self.move_by(delta);
            return true;
        }
        match action {
            Action::CycleWindow => {
                self.window = self.window.next();
                self.cursor = 0;
                self.offset = 0;
                self.selected = None;
            }
            Action::Explain => self.explain = !self.explain,
            _ => return false,
        }
        true
    }
}
