//! What a frame shows around and in the view: the body's size, what draws
//! read, and the chrome (breadcrumbs, the footer's line, notice or hints).

use ratatui::layout::Rect;

use super::{App, Mode, Route};
use crate::tui::chrome::bars::{self, Chrome, Footer};
use crate::tui::feature::Scene;
use crate::tui::{cluster, logs, tables, traces};

impl App {
    /// The view's body on screen.
    pub fn body(&self) -> Rect {
        let banner = bars::has_banner(&self.model);
        crate::tui::chrome::layout::areas(banner, Rect::new(0, 0, self.size.0, self.size.1)).body
    }

    /// How many rows the current view shows, for paging and scrolling.
    pub fn rows(&self) -> usize {
        let body = self.body();
        match self.route() {
            Route::Cluster => cluster::draw::node_rows(body),
            Route::Logs { .. } => logs::draw::rows_height(body),
            Route::Trace { .. } => traces::draw::rows_height(self.size, self.trace_view.detail),
            _ => tables::draw::rows_height(body),
        }
    }

    /// What draws read besides their feature's state.
    pub fn scene(&self) -> Scene<'_> {
        Scene {
            model: &self.model,
            defs: &self.defs,
            now: self.now,
            zone: &self.zone,
            size: self.size,
        }
    }

    /// The emulator's size for an exec pane: the body inside its border.
    pub fn exec_size(&self) -> (u16, u16) {
        let body = self.body();
        (
            body.height.saturating_sub(2).max(1),
            body.width.saturating_sub(2).max(1),
        )
    }

    /// What the frame around the view shows.
    pub fn chrome(&self) -> Chrome<'_> {
        let table = self.tables.of(self.view_kind());
        let footer = match self.mode {
            Mode::Filter | Mode::Search | Mode::Command => Footer::Line {
                prompt: match self.mode {
                    Mode::Filter if matches!(self.route(), Route::Logs { .. }) => {
                        "filter (p<=N src=NAME regex, ! inverts): "
                    }
                    Mode::Filter | Mode::Search => "/",
                    _ => ":",
                },
                line: &self.line,
                completion: (self.mode == Mode::Command)
                    .then(|| {
                        let last = self.completions.len().saturating_sub(1);
                        self.completions.get(self.completion_index.min(last))
                    })
                    .flatten()
                    .map(String::as_str),
                literal: self.mode == Mode::Filter
                    && table
                        .and_then(|t| t.filter.as_ref())
                        .is_some_and(|f| f.literal),
            },
            _ => match &self.notice {
                Some(notice) => Footer::Notice(notice),
                None => Footer::Hints(
                    self.hints()
                        .into_iter()
                        .filter_map(|a| self.defs.keymap.hint(a, self.view_kind()))
                        .collect(),
                ),
            },
        };
        Chrome {
            theme: &self.defs.theme,
            model: &self.model,
            now: self.now,
            origin: &self.origin,
            crumbs: self.routes.iter().map(|r| self.crumb(r)).collect(),
            recording: self.recording.badge(),
            sharing: self
                .share
                .active()
                .map(|r| r.changed.load(std::sync::atomic::Ordering::Relaxed)),
            replaying: self.replay.is_some(),
            footer,
        }
    }
}
