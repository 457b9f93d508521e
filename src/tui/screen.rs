//! The screen, top to bottom: the header, the banner, the breadcrumbs, the
//! view on screen, the footer, and help over it all. Drawing only reads:
//! no I/O, no clocks, no locks; the time to show is `app.now`, set by the
//! event loop.

use ratatui::Frame;

use crate::tui::app::{App, Mode, Route};
use crate::tui::chrome::layout::areas;
use crate::tui::chrome::{bars, help};
use crate::tui::{alerts, cluster, dash, exec, links, logs, tables, task, traces, triage};

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let chrome = app.chrome();
    let parts = areas(bars::has_banner(&app.model), area);
    bars::header(frame, parts.header, &chrome);
    if let Some(banner) = parts.banner {
        bars::banner(frame, banner, &chrome);
    }
    bars::breadcrumbs(frame, parts.crumbs, &chrome);
    let mut body = parts.body;
    if let Some(bar) = &app.replay
        && body.height > 2
    {
        body.height -= 1;
        let row = ratatui::layout::Rect {
            y: body.y + body.height,
            height: 1,
            ..body
        };
        crate::tui::chrome::timebar::draw(frame, row, bar, &app.defs.theme, &app.zone);
    }
    let (scene, body) = (&app.scene(), body);
    if !app.model.loaded {
        bars::waiting(frame, body, &chrome);
    } else {
        let t = &app.tables;
        match app.route() {
            Route::Cluster => cluster::draw::draw(frame, body, scene, &t.cluster),
            Route::Nodes => tables::draw::draw_nodes(frame, body, scene, t),
            Route::Tasks { node } => {
                tables::draw::draw_tasks(frame, body, scene, t, node.as_deref())
            }
            Route::Task { id } => task::draw::draw(frame, body, scene, id),
            Route::Logs { .. } => logs::draw::draw(frame, body, scene, &app.logs),
            Route::Health => tables::draw::draw_health(frame, body, scene, t),
            Route::Dash => dash::draw::draw(frame, body, scene, &app.dash),
            Route::DashPanel { panel } => {
                dash::draw::draw_drill(frame, body, scene, &app.dash, *panel)
            }
            Route::Traces => tables::draw::draw_traces(frame, body, scene, t),
            Route::Trace { .. } => traces::draw::draw(frame, body, scene, &app.trace_view),
            Route::Exec { id } => exec::draw::draw(frame, body, scene, &app.sessions, *id),
            Route::Sessions => exec::draw::draw_list(frame, body, scene, &app.sessions),
            Route::Agents => tables::draw::draw_agents(frame, body, scene, t),
            Route::Alerts => alerts::draw::draw(frame, body, scene, &app.alerts),
            Route::Triage => triage::draw::draw(frame, body, scene, &app.triage),
        }
    }
    bars::footer(frame, parts.footer, &chrome);
    if let Mode::Help { scroll } = app.mode {
        help::draw(frame, area, &app.defs.keymap, &app.defs.theme, scroll);
    }
    if let (Mode::Links, Some(menu)) = (app.mode, &app.menu) {
        links::draw::draw(frame, area, menu, &app.defs.theme);
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
