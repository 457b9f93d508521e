//! Traces: the waterfall of one trace's spans, folded, zoomed and searched.
//! (The list of recent traces is a table view.)

pub mod draw;
pub mod layout;

use std::collections::HashSet;

use crate::tui::config::action::{Action, ViewKind};
use crate::tui::feature::{Cx, Feature, LineKind, movement};
use crate::tui::tables::filter::RowFilter;
use layout::Layout;

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
    pub search: Option<RowFilter>,
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

impl TraceView {
    /// A view of trace `id`, empty until its spans come.
    pub fn new(id: &str) -> TraceView {
        TraceView {
            id: id.to_string(),
            ..Default::default()
        }
    }

    /// The trace's spans came (or could not be read).
    pub fn on_trace(&mut self, id: &str, result: Result<Vec<crate::api::Span>, String>) {
        if self.id != id {
            return; // the operator moved on
        }
        match result {
            Ok(spans) => self.layout = Some(Layout::new(spans)),
            Err(e) => self.error = Some(e),
        }
    }

    /// The rows on show and the scroll, for `rows` rows of spans.
    pub fn prepare(&mut self, rows: usize) {
        if let Some(layout) = &self.layout {
            self.visible = layout.visible(&self.collapsed);
            self.name_width = layout.name_width(&self.visible);
        }
        self.cursor = self.cursor.min(self.visible.len().saturating_sub(1));
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + rows.max(1) {
            self.offset = self.cursor + 1 - rows.max(1);
        }
    }

    fn move_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
    }
}

const HINTS: &[Action] = &[
    Action::Select,
    Action::Filter,
    Action::ToggleCollapse,
    Action::CollapseAll,
    Action::Zoom,
    Action::ViewLogs,
];

impl Feature for TraceView {
    fn hints(&self, _view: ViewKind) -> &'static [Action] {
        HINTS
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        if let Some(delta) = movement(action, cx.rows) {
            self.move_by(delta);
            return true;
        }
        match action {
            Action::Select => self.detail = !self.detail,
            Action::ToggleCollapse | Action::CollapseAll | Action::Zoom => self.fold(action),
            _ => return false,
        }
        true
    }

    fn line(&self, kind: LineKind, _cx: &Cx) -> Option<String> {
        (kind == LineKind::Filter).then(|| {
            self.search
                .as_ref()
                .map(|f| f.text.clone())
                .unwrap_or_default()
        })
    }

    /// `/` in the waterfall: the spans it matches (service, name,
    /// attributes) are marked and their ancestors unfolded.
    fn on_line(&mut self, _kind: LineKind, text: &str, _cx: &mut Cx) {
        self.search = RowFilter::new(text);
        self.matches.clear();
        if let (Some(layout), Some(search)) = (&self.layout, &self.search) {
            let hits = layout.reveal(&mut self.collapsed, |s| {
                let attrs: Vec<&str> = s.attributes.values().map(String::as_str).collect();
                search.keeps(&format!("{} {} {}", s.service, s.name, attrs.join(" ")))
            });
            self.matches = hits.into_iter().collect();
            // To the first match, as the rows will be.
            let visible = layout.visible(&self.collapsed);
            if let Some(n) = visible
                .iter()
                .position(|&r| self.matches.contains(&layout.rows[r].span))
            {
                self.cursor = n;
            }
        }
    }

    fn on_line_cancel(&mut self, _kind: LineKind, _cx: &mut Cx) {
        self.search = None;
        self.matches.clear();
    }
}

impl TraceView {
    fn fold(&mut self, action: Action) {
        let Some(layout) = &self.layout else {
            return;
        };
        let selected = self.visible.get(self.cursor).map(|&n| layout.rows[n].span);
        match action {
            Action::ToggleCollapse => {
                if let Some(span) = selected
                    && !self.collapsed.remove(&span)
                {
                    self.collapsed.insert(span);
                }
            }
            Action::CollapseAll => {
                if self.collapsed.is_empty() {
                    self.collapsed = layout
                        .rows
                        .iter()
                        .filter(|r| r.children > 0)
                        .map(|r| r.span)
                        .collect();
                } else {
                    self.collapsed.clear();
                }
            }
            _ => {
                self.zoom = match (self.zoom, selected) {
                    (None, Some(span)) => {
                        let s = &layout.spans[span];
                        Some((s.start, s.end.max(s.start + 1)))
                    }
                    _ => None,
                };
            }
        }
    }
}
