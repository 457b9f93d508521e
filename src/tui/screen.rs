//! Drawing: pure functions of `&App`. No I/O, no clocks, no locks here;
//! the time to show is `app.now`, set by the event loop.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::tui::app::{App, Mode, Route};
use crate::tui::chrome::{bars, help};
use crate::tui::{cluster, dash, exec, logs, tables, task, traces};

/// The screen's parts, top to bottom.
pub struct Areas {
    pub header: Rect,
    pub banner: Option<Rect>,
    pub crumbs: Rect,
    pub body: Rect,
    pub footer: Rect,
}

pub fn areas(app: &App, area: Rect) -> Areas {
    let banner_h = u16::from(bars::banner_text(app).is_some() && area.height >= 6);
    let header_h = 1.min(area.height);
    let crumbs_h = u16::from(area.height >= 4);
    let footer_h = u16::from(area.height >= 2);
    let body_h = area
        .height
        .saturating_sub(header_h + banner_h + crumbs_h + footer_h);
    let row = |y: u16, h: u16| Rect::new(area.x, area.y + y, area.width, h);
    let header = row(0, header_h);
    let banner = (banner_h > 0).then(|| row(header_h, 1));
    let crumbs = row(header_h + banner_h, crumbs_h);
    let body = row(header_h + banner_h + crumbs_h, body_h);
    let footer = row(header_h + banner_h + crumbs_h + body_h, footer_h);
    Areas {
        header,
        banner,
        crumbs,
        body,
        footer,
    }
}

/// How many rows the current view's table shows, for paging and scrolling.
pub fn table_height(app: &App) -> usize {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    let body = areas(app, area).body;
    match app.route() {
        Route::Cluster => cluster::draw::node_rows(body),
        Route::Logs { .. } => logs::draw::rows_height(body),
        _ => tables::draw::rows_height(body),
    }
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let parts = areas(app, area);
    bars::header(frame, parts.header, app);
    if let Some(banner) = parts.banner {
        bars::banner(frame, banner, app);
    }
    bars::breadcrumbs(frame, parts.crumbs, app);
    if !app.model.loaded {
        bars::waiting(frame, parts.body, app);
    } else {
        match app.route() {
            Route::Cluster => cluster::draw::draw(frame, parts.body, app),
            Route::Nodes => tables::draw::draw_nodes(frame, parts.body, app),
            Route::Tasks { node } => {
                tables::draw::draw_tasks(frame, parts.body, app, node.as_deref())
            }
            Route::Task { id } => task::draw::draw(frame, parts.body, app, id),
            Route::Logs { .. } => logs::draw::draw(frame, parts.body, app),
            Route::Health => tables::draw::draw_health(frame, parts.body, app),
            Route::Dash => dash::draw::draw(frame, parts.body, app),
            Route::DashPanel { panel } => dash::draw::draw_drill(frame, parts.body, app, *panel),
            Route::Traces => tables::draw::draw_traces(frame, parts.body, app),
            Route::Trace { .. } => traces::draw::draw(frame, parts.body, app),
            Route::Exec { id } => exec::draw::draw(frame, parts.body, app, *id),
            Route::Sessions => exec::draw::draw_list(frame, parts.body, app),
        }
    }
    bars::footer(frame, parts.footer, app);
    if let Mode::Help { scroll } = app.mode {
        help::draw(frame, area, app, scroll);
    }
    if app.defs.ascii {
        // One place for --ascii: every glyph the console drew, mapped.
        for cell in frame.buffer_mut().content.iter_mut() {
            if let std::borrow::Cow::Owned(mapped) = crate::tui::widgets::text::ascii(cell.symbol())
            {
                cell.set_symbol(&mapped);
            }
        }
    }
}
