//! Where a dashboard's panels go on screen, and how many value cells each
//! line gets: worked out the same way before a frame and in the draw.

use ratatui::layout::Rect;

use crate::tui::config::dashboard::{Chart as ChartKind, DashDef, PanelDef};

/// Columns a value takes at the right of a sparkline row.
pub const VALUE_W: u16 = 9;
/// The fewest rows a panel gets (borders and two lines).
const MIN_PANEL_H: u16 = 4;

/// The panels on screen and where: `columns` across (fewer on a narrow
/// terminal), rows of equal height, scrolled so the selected panel shows.
pub fn layout(def: &DashDef, body: Rect, selected: usize) -> Vec<(usize, Rect)> {
    if body.width < 8 || body.height < MIN_PANEL_H {
        return Vec::new();
    }
    let columns = def.columns.min((body.width / 30).max(1));
    let rows = (def.panels.len() as u16).div_ceil(columns);
    let fit_rows = (body.height / MIN_PANEL_H).clamp(1, rows.max(1));
    let height = body.height / fit_rows;
    let selected_row = selected as u16 / columns;
    let first_row = selected_row.saturating_sub(fit_rows - 1);
    let width = body.width / columns;
    (0..def.panels.len())
        .filter_map(|i| {
            let (row, col) = (i as u16 / columns, i as u16 % columns);
            if row < first_row || row >= first_row + fit_rows {
                return None;
            }
            let last_col = col == columns - 1;
            let last_row = row == first_row + fit_rows - 1;
            Some((
                i,
                Rect {
                    x: body.x + col * width,
                    y: body.y + (row - first_row) * height,
                    width: if last_col {
                        body.width - col * width
                    } else {
                        width
                    },
                    height: if last_row {
                        body.height - (row - first_row) * height
                    } else {
                        height
                    },
                },
            ))
        })
        .collect()
}

/// A label's width in a panel `inner` columns wide.
pub fn label_w(inner: u16) -> u16 {
    (inner / 4).clamp(4, 16)
}

/// Value cells a panel's lines get.
pub fn cells(panel: &PanelDef, inner: u16) -> usize {
    match panel.chart {
        ChartKind::Line => inner.saturating_sub(8).max(1) as usize * 2,
        ChartKind::Sparkline => inner.saturating_sub(label_w(inner) + VALUE_W + 2).max(1) as usize,
    }
}
