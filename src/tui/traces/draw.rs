//! The trace waterfall: a time ruler, one row a span (the tree indented,
//! services coloured), bars on the window's time axis with the critical
//! path marked, and the selected span's detail below when asked for.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span as Text};
use ratatui::widgets::{Block, Paragraph};

use crate::api::{SpanStatus, TraceSummary};
use crate::tui::config::theme::Role;
use crate::tui::feature::Scene;
use crate::tui::traces::TraceView;
use crate::tui::widgets::text::{fit, inert, pad};

/// Span rows that fit, given the terminal size and whether the detail shows.
pub fn rows_height(size: (u16, u16), detail: bool) -> usize {
    // Header, banner, crumbs, footer, borders and the ruler.
    let body = size.1.saturating_sub(6) as usize;
    if detail { body / 2 } else { body }
}

/// Colours for services, in turn (the same service, the same colour).
const SERVICE_ROLES: [Role; 6] = [
    Role::Info,
    Role::Accent,
    Role::Ok,
    Role::SparklineAlt,
    Role::Warn,
    Role::Sparkline,
];

fn service_role(service: &str) -> Role {
    let hash = service
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    SERVICE_ROLES[hash as usize % SERVICE_ROLES.len()]
}

/// `1.2s`, `340ms`, `12.5µs`.
pub fn duration(ns: u64) -> String {
    match ns {
        n if n >= 1_000_000_000 => format!("{:.2}s", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1}ms", n as f64 / 1e6),
        n => format!("{:.1}µs", n as f64 / 1e3),
    }
}

pub fn draw(frame: &mut Frame, body: Rect, scene: &Scene, view: &TraceView) {
    let theme = &scene.defs.theme;
    let view = &view;
    let summary: Option<&TraceSummary> = scene.model.traces.get(&view.id);
    let mut title = vec![Text::styled(
        format!(
            " trace {} ",
            inert(&view.id.chars().take(16).collect::<String>())
        ),
        theme.style(Role::Title),
    )];
    let Some(layout) = &view.layout else {
        let what = match &view.error {
            Some(e) => format!("cannot read the trace: {}", inert(e)),
            None => "reading the trace…".into(),
        };
        let block = Block::bordered()
            .border_style(theme.style(Role::Border))
            .title(Line::from(title));
        frame.render_widget(
            Paragraph::new(Text::styled(what, theme.style(Role::Muted))).block(block),
            body,
        );
        return;
    };
    let (w0, w1) = view.window();
    title.push(Text::styled(
        format!(
            "{} spans · {}{}{} ",
            layout.spans.len(),
            duration(layout.end - layout.start),
            if layout.orphans > 0 {
                format!(" · {} orphans", layout.orphans)
            } else {
                String::new()
            },
            if view.zoom.is_some() {
                format!(" · zoomed to {}", duration(w1 - w0))
            } else {
                String::new()
            },
        ),
        theme.style(Role::Muted),
    ));
    if let Some(s) = summary.filter(|s| s.errors > 0) {
        title.push(Text::styled(
            format!(
                "{} error{} ",
                s.errors,
                if s.errors == 1 { "" } else { "s" }
            ),
            theme.style(Role::Error),
        ));
    }
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Line::from(title));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    if inner.width < 10 || inner.height < 2 {
        return;
    }
    let detail_h = if view.detail { inner.height / 2 } else { 0 };
    let list = Rect {
        height: inner.height - detail_h,
        ..inner
    };
    // The names get what they need, up to half the width; the bars the rest.
    let name_w = (view.name_width.min(u16::MAX as usize) as u16).clamp(8, (inner.width / 2).max(8));
    let bar_w = inner.width.saturating_sub(name_w + 1).max(1);
    let x_of = |t: u64| -> u16 {
        let t = t.clamp(w0, w1);
        (((t - w0) as u128 * bar_w as u128) / (w1 - w0).max(1) as u128) as u16
    };

    let mut lines = Vec::with_capacity(list.height as usize);
    // The ruler: the time from the window's start at every quarter.
    let mut labels = String::new();
    for q in 0..4u64 {
        let label = format!("┊{}", duration((w1 - w0) * q / 4));
        labels.push_str(&pad(&label, (bar_w as usize / 4).max(1), false));
    }
    lines.push(Line::from(vec![
        Text::styled(
            pad("SPAN", name_w as usize, false),
            theme.style(Role::TableHeader),
        ),
        Text::raw(" "),
        Text::styled(
            fit(&labels, bar_w as usize).into_owned(),
            theme.style(Role::Muted),
        ),
    ]));
    for (n, &row_index) in view
        .visible
        .iter()
        .enumerate()
        .skip(view.offset)
        .take(list.height.saturating_sub(1) as usize)
    {
        let row = &layout.rows[row_index];
        let s = &layout.spans[row.span];
        let selected = n == view.cursor;
        let fold = match (row.children > 0, view.collapsed.contains(&row.span)) {
            (false, _) => ' ',
            (true, true) => '▸',
            (true, false) => '▾',
        };
        let indent = "  ".repeat(row.depth.min(crate::tui::traces::layout::MAX_INDENT));
        let marker = if row.orphan { "⚠" } else { "" };
        let head = format!("{indent}{fold}{marker}");
        let name_room = (name_w as usize).saturating_sub(head.chars().count());
        let service = inert(&s.service);
        let rest = format!("{service} {}", inert(&s.name));
        let matched = view.matches.contains(&row.span);
        let name_role = match (selected, matched) {
            (true, _) => Role::Selection,
            (false, true) => Role::Match,
            (false, false) => service_role(&s.service),
        };
        let mut spans = vec![
            Text::styled(
                head,
                theme.style(if selected {
                    Role::Selection
                } else {
                    Role::Muted
                }),
            ),
            Text::styled(
                pad(&fit(&rest, name_room), name_room, false),
                theme.style(name_role),
            ),
            Text::raw(" "),
        ];
        // The bar, at least one cell, the duration after it where it fits.
        let (a, b) = (x_of(s.start), x_of(s.end).max(x_of(s.start) + 1).min(bar_w));
        let glyph = if row.critical { "█" } else { "▇" };
        let role = if s.status == SpanStatus::Error {
            Role::Error
        } else if row.critical {
            Role::Accent
        } else {
            Role::Sparkline
        };
        let label = format!(" {}", duration(s.duration()));
        spans.push(Text::raw(" ".repeat(a as usize)));
        spans.push(Text::styled(
            glyph.repeat((b - a).max(1) as usize),
            theme.style(role),
        ));
        let room = bar_w.saturating_sub(b) as usize;
        spans.push(Text::styled(
            fit(&label, room).into_owned(),
            theme.style(Role::Muted),
        ));
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), list);
    if view.detail {
        let area = Rect {
            y: list.y + list.height,
            height: detail_h,
            ..inner
        };
        draw_detail(frame, area, scene, view);
    }
}

/// The selected span: what it is, when, its attributes and its events.
fn draw_detail(frame: &mut Frame, area: Rect, scene: &Scene, view: &TraceView) {
    let theme = &scene.defs.theme;
    let (Some(s), Some(layout)) = (view.selected(), view.layout.as_ref()) else {
        return;
    };
    let key = |k: &str| Text::styled(format!("{k} "), theme.style(Role::Muted));
    let mut lines = vec![
        Line::from(vec![
            Text::styled(format!("{} ", inert(&s.name)), theme.style(Role::Title)),
            Text::styled(
                inert(&s.service).into_owned(),
                theme.style(service_role(&s.service)),
            ),
        ]),
        Line::from(vec![
            key("kind"),
            Text::raw(format!("{:?}  ", s.kind).to_lowercase()),
            key("status"),
            Text::styled(
                format!("{:?} {}  ", s.status, inert(&s.status_message)).to_lowercase(),
                theme.style(if s.status == SpanStatus::Error {
                    Role::Error
                } else {
                    Role::Text
                }),
            ),
            key("duration"),
            Text::raw(format!("{}  ", duration(s.duration()))),
            key("at"),
            Text::raw(format!(
                "+{}",
                duration(s.start.saturating_sub(layout.start))
            )),
        ]),
    ];
    for e in &s.events {
        lines.push(Line::from(vec![
            key(&format!("  +{}", duration(e.ts.saturating_sub(s.start)))),
            Text::raw(inert(&e.name).into_owned()),
        ]));
    }
    let attrs = |map: &std::collections::BTreeMap<String, String>, lines: &mut Vec<Line>| {
        for (k, v) in map {
            lines.push(Line::from(vec![
                key(&format!("  {}", inert(k))),
                Text::raw(inert(v).into_owned()),
            ]));
        }
    };
    attrs(&s.attributes, &mut lines);
    if !s.resource.is_empty() {
        lines.push(Line::from(key("resource")));
        attrs(&s.resource, &mut lines);
    }
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Text::styled(
            " span (l: its logs at this time) ",
            theme.style(Role::Muted),
        ));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
