//! Drawing: pure functions of `&App`. No I/O, no clocks, no locks here;
//! the time to show is `app.now`, set by the event loop.

mod chrome;
pub mod cluster;
pub mod dash;
mod exec;
mod help;
pub mod logs;
mod table;
mod task;
pub mod waterfall;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::app::{App, Mode, Route};

/// The screen's parts, top to bottom.
pub struct Areas {
    pub header: Rect,
    pub banner: Option<Rect>,
    pub crumbs: Rect,
    pub body: Rect,
    pub footer: Rect,
}

pub fn areas(app: &App, area: Rect) -> Areas {
    let banner_h = u16::from(chrome::banner_text(app).is_some() && area.height >= 6);
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
        Route::Cluster => cluster::node_rows(body),
        Route::Logs { .. } => logs::rows_height(body),
        _ => table::rows_height(body),
    }
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let parts = areas(app, area);
    chrome::header(frame, parts.header, app);
    if let Some(banner) = parts.banner {
        chrome::banner(frame, banner, app);
    }
    chrome::breadcrumbs(frame, parts.crumbs, app);
    if !app.model.loaded {
        chrome::waiting(frame, parts.body, app);
    } else {
        match app.route() {
            Route::Cluster => cluster::draw(frame, parts.body, app),
            Route::Nodes => table::draw_nodes(frame, parts.body, app),
            Route::Tasks { node } => table::draw_tasks(frame, parts.body, app, node.as_deref()),
            Route::Task { id } => task::draw(frame, parts.body, app, id),
            Route::Logs { .. } => logs::draw(frame, parts.body, app),
            Route::Health => table::draw_health(frame, parts.body, app),
            Route::Dash => dash::draw(frame, parts.body, app),
            Route::DashPanel { panel } => dash::draw_drill(frame, parts.body, app, *panel),
            Route::Traces => table::draw_traces(frame, parts.body, app),
            Route::Trace { .. } => waterfall::draw(frame, parts.body, app),
            Route::Exec { id } => exec::draw(frame, parts.body, app, *id),
            Route::Sessions => exec::draw_list(frame, parts.body, app),
        }
    }
    chrome::footer(frame, parts.footer, app);
    if let Mode::Help { scroll } = app.mode {
        help::draw(frame, area, app, scroll);
    }
    if app.defs.ascii {
        // One place for --ascii: every glyph the console drew, mapped.
        for cell in frame.buffer_mut().content.iter_mut() {
            if let std::borrow::Cow::Owned(mapped) = crate::tui::text::ascii(cell.symbol()) {
                cell.set_symbol(&mapped);
            }
        }
    }
}
