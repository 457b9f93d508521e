//! The dashboard: panels of metric series over a time window, and the
//! drill-down into one panel's series. Its series are subscribed to only
//! while it is open: they cost memory and bandwidth only while looked at.

pub mod draw;
pub mod grid;
pub mod panels;
pub mod series;

use ratatui::layout::Rect;

use crate::api::{Topic, UnixMillis};
use crate::client::Subscription;
use crate::tui::config::action::{Action, ViewKind};
use crate::tui::config::dashboard::{DashDef, builtin_dashboard};
use crate::tui::config::defs::Defs;
use crate::tui::effect::Effect;
use crate::tui::feature::{Cx, Feature, Notice, movement};
use crate::tui::model::{Model, SUB_DASH};
use grid::{VALUE_W, cells, label_w, layout};
use panels::{PanelRow, PanelView, WINDOWS};

#[derive(Debug, Clone, Default)]
pub struct DashState {
    /// Which dashboard (of `Defs::dashboards`).
    pub index: usize,
    pub window: usize,
    /// The selected panel.
    pub selected: usize,
    /// The panel drilled into, while its series are on screen.
    pub drilled: Option<usize>,
    /// The drill-down's first row on screen.
    pub drill_offset: usize,
    /// Each panel's lines, from [`panels::compute`].
    pub panels: Vec<PanelView>,
    /// The drill-down's lines, one a series, from [`panels::compute_each`].
    pub drill: Vec<PanelRow>,
    /// Bumped with every range read asked for; answers to older ones are
    /// dropped (the window changed meanwhile).
    pub generation: u64,
}

const DASH: &[Action] = &[Action::Select, Action::CycleWindow];
const PANEL: &[Action] = &[Action::CycleWindow];

impl DashState {
    pub fn window_ms(&self) -> i64 {
        WINDOWS[self.window.min(WINDOWS.len() - 1)]
    }

    /// The shortest window that shows the last `ms` (else the longest).
    pub fn cover(&mut self, ms: i64) {
        self.window = WINDOWS
            .iter()
            .position(|w| *w >= ms)
            .unwrap_or(WINDOWS.len() - 1);
    }

    /// The dashboard on show: the chosen one, the last if the list shrank,
    /// the built-in if it is empty.
    pub fn def<'a>(&self, defs: &'a Defs) -> &'a DashDef {
        let dashboards = &defs.dashboards;
        dashboards
            .get(self.index)
            .or(dashboards.last())
            .unwrap_or_else(|| builtin_dashboard())
    }

    /// Opens the dashboard: a subscription to its metrics, and a range
    /// read if its window reaches past the subscription's snapshot.
    pub fn open(&mut self, model: &mut Model, defs: &Defs) -> Vec<Effect> {
        model.dash.clear();
        self.selected = 0;
        self.drill_offset = 0;
        model.dash.resolution = panels::resolution(self.window_ms());
        let mut effects = vec![Effect::Subscribe(Box::new(Subscription {
            sub: SUB_DASH.into(),
            topic: Topic::Metrics,
            filter: crate::api::Filter {
                names: self.def(defs).metrics(),
                ..Default::default()
            },
        }))];
        effects.extend(self.backfill(model, defs));
        effects
    }

    /// Closes it: its series go.
    pub fn close(&mut self, model: &mut Model) -> Effect {
        model.dash.clear();
        Effect::Unsubscribe(SUB_DASH.into())
    }

    /// A range read for windows longer than the subscription's snapshot
    /// (five minutes of points) reaches back.
    fn backfill(&mut self, model: &mut Model, defs: &Defs) -> Option<Effect> {
        let window = self.window_ms();
        model.dash.resolution = panels::resolution(window);
        if window <= 300_000 {
            return None;
        }
        self.generation += 1;
        Some(Effect::FetchSeries {
            generation: self.generation,
            names: self.def(defs).metrics(),
            window,
        })
    }

    /// A range read's answer: merged if it is for the window on screen.
    pub fn on_series_range(
        &mut self,
        generation: u64,
        result: Result<crate::api::SeriesRange, String>,
        model: &mut Model,
    ) -> Option<Notice> {
        if generation != self.generation {
            return None;
        }
        match result {
            Ok(range) => {
                for series in range.series {
                    model.dash.merge(series);
                }
                None
            }
            Err(e) => Notice::error(format!("cannot read the dashboard's history: {e}")),
        }
    }

    /// Works out every visible panel's lines (or the drill-down's) for
    /// this frame, in `body`.
    pub fn prepare(&mut self, model: &Model, defs: &Defs, now: UnixMillis, body: Rect) {
        let window = self.window_ms();
        let def = self.def(defs).clone();
        match self.drilled {
            Some(panel) => {
                let Some(p) = def.panels.get(panel) else {
                    return;
                };
                let inner = body.width.saturating_sub(2);
                let cells = inner
                    .saturating_sub(label_w(inner) * 2 + 4 * VALUE_W + 2)
                    .max(1) as usize;
                let mut rows = panels::compute_each(p, &model.dash, now, window, cells);
                rows.sort_by(|a, b| {
                    b.latest
                        .unwrap_or(f64::MIN)
                        .total_cmp(&a.latest.unwrap_or(f64::MIN))
                });
                let height = body.height.saturating_sub(3) as usize;
                self.drill_offset = self.drill_offset.min(rows.len().saturating_sub(height));
                self.drill = rows;
            }
            None => {
                self.selected = self.selected.min(def.panels.len().saturating_sub(1));
                let mut shown = vec![PanelView::default(); def.panels.len()];
                for (i, rect) in layout(&def, body, self.selected) {
                    let p = &def.panels[i];
                    let cells = cells(p, rect.width.saturating_sub(2));
                    shown[i] = panels::compute(p, &model.dash, model, now, window, cells);
                }
                self.panels = shown;
            }
        }
    }

    fn move_by(&mut self, delta: isize, defs: &Defs) {
        match self.drilled {
            // Clamped to the rows when the view is prepared.
            Some(_) => self.drill_offset = self.drill_offset.saturating_add_signed(delta),
            None => {
                let last = self.def(defs).panels.len().saturating_sub(1);
                self.selected = self.selected.saturating_add_signed(delta).min(last);
            }
        }
    }
}

impl Feature for DashState {
    fn hints(&self, _view: ViewKind) -> &'static [Action] {
        if self.drilled.is_some() { PANEL } else { DASH }
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        if let Some(delta) = movement(action, cx.rows) {
            self.move_by(delta, cx.defs);
            return true;
        }
        match action {
            Action::CycleWindow => {
                self.window = (self.window + 1) % WINDOWS.len();
                cx.effects.extend(self.backfill(cx.model, cx.defs));
            }
            _ => return false,
        }
        true
    }
}
