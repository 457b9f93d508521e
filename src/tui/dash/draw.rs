//! The dashboard: a grid of panels, each a sparkline a group or a braille
//! line chart, over the chosen window; and the drill-down into the series
//! behind one panel. [`prepare`] works out every line for the width it
//! gets; the draw functions only lay them out.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};

use crate::api::format_span;
use crate::tui::config::dashboard::{Chart as ChartKind, PanelDef};
use crate::tui::config::theme::Role;
use crate::tui::dash::DashState;
use crate::tui::dash::grid::{VALUE_W, label_w, layout};
use crate::tui::dash::panels::{self, PanelRow};
use crate::tui::feature::Scene;
use crate::tui::widgets::sparkline::sparkline_gaps;
use crate::tui::widgets::text::{fit, inert, pad};

/// The role of a latest value against a panel's thresholds.
fn level(p: &PanelDef, latest: Option<f64>) -> Role {
    match latest {
        Some(v) if p.crit.is_some_and(|c| v >= c) => Role::Error,
        Some(v) if p.warn.is_some_and(|w| v >= w) => Role::Warn,
        Some(_) if p.warn.is_some() || p.crit.is_some() => Role::Ok,
        _ => Role::Sparkline,
    }
}

/// The top of a panel's scale: its `max`, else the largest value shown.
fn scale(p: &PanelDef, rows: &[PanelRow]) -> f64 {
    p.max.unwrap_or_else(|| {
        rows.iter()
            .flat_map(|r| r.values.iter().flatten())
            .fold(0.0, |a: f64, b| a.max(*b))
    })
}

pub fn draw(frame: &mut Frame, body: Rect, scene: &Scene, dash: &DashState) {
    let def = dash.def(scene.defs);
    let theme = &scene.defs.theme;
    let panels = layout(def, body, dash.selected);
    if panels.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "too small for the dashboard",
                theme.style(Role::Muted),
            )),
            body,
        );
        return;
    }
    for (i, rect) in panels {
        let p = &def.panels[i];
        let empty = panels::PanelView::default();
        let view = dash.panels.get(i).unwrap_or(&empty);
        let selected = i == dash.selected;
        let inner_h = rect.height.saturating_sub(2) as usize;
        let mut block = Block::bordered()
            .border_style(theme.style(if selected { Role::Accent } else { Role::Border }))
            .title(Span::styled(
                format!(" {} ", inert(&p.title)),
                theme.style(if selected {
                    Role::Selection
                } else {
                    Role::Title
                }),
            ));
        if p.chart == ChartKind::Sparkline && view.rows.len() > inner_h {
            block = block.title_top(
                Line::from(Span::styled(
                    format!(" +{} more ", view.rows.len() - inner_h),
                    theme.style(Role::Muted),
                ))
                .right_aligned(),
            );
        }
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        if inner.width == 0 || inner.height == 0 {
            continue;
        }
        if view.rows.is_empty() {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    fit(
                        &format!("no series {} yet", inert(&p.metric)),
                        inner.width as usize,
                    )
                    .into_owned(),
                    theme.style(Role::Muted),
                )),
                inner,
            );
            continue;
        }
        match p.chart {
            ChartKind::Sparkline => draw_lines(frame, inner, scene, p, &view.rows),
            ChartKind::Line => draw_chart(frame, inner, scene, dash, p, &view.rows),
        }
    }
}

fn draw_lines(frame: &mut Frame, inner: Rect, scene: &Scene, p: &PanelDef, rows: &[PanelRow]) {
    let theme = &scene.defs.theme;
    let top = scale(p, rows);
    let lw = label_w(inner.width) as usize;
    let lines: Vec<Line> = rows
        .iter()
        .take(inner.height as usize)
        .map(|row| {
            let role = level(p, row.latest);
            let value = row.latest.map_or("-".to_string(), |v| p.unit.format(v));
            Line::from(vec![
                Span::styled(pad(&inert(&row.label), lw, false), theme.style(Role::Text)),
                Span::raw(" "),
                Span::styled(sparkline_gaps(&row.values, top), theme.style(role)),
                Span::raw(" "),
                Span::styled(
                    pad(&value, VALUE_W as usize, true),
                    theme.style(if role == Role::Sparkline {
                        Role::Text
                    } else {
                        role
                    }),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_chart(
    frame: &mut Frame,
    inner: Rect,
    scene: &Scene,
    dash: &DashState,
    p: &PanelDef,
    rows: &[PanelRow],
) {
    let theme = &scene.defs.theme;
    const ROLES: [Role; 6] = [
        Role::Sparkline,
        Role::SparklineAlt,
        Role::Info,
        Role::Accent,
        Role::Warn,
        Role::Ok,
    ];
    let top = scale(p, rows).max(f64::MIN_POSITIVE);
    let cells = rows.first().map_or(1, |r| r.values.len()) as f64;
    let points: Vec<Vec<(f64, f64)>> = rows
        .iter()
        .take(ROLES.len())
        .map(|r| {
            r.values
                .iter()
                .enumerate()
                .filter_map(|(x, v)| v.map(|v| (x as f64, v)))
                .collect()
        })
        .collect();
    let datasets: Vec<Dataset> = points
        .iter()
        .zip(rows)
        .zip(ROLES)
        .map(|((data, row), role)| {
            Dataset::default()
                .name(format!(
                    "{} {}",
                    inert(&row.label),
                    row.latest.map_or("-".into(), |v| p.unit.format(v))
                ))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.style(role))
                .data(data)
        })
        .collect();
    let window = format_span(dash.window_ms());
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([0.0, cells])
                .style(theme.style(Role::Muted))
                .labels([Span::raw(format!("-{window}")), Span::raw("now")]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .style(theme.style(Role::Muted))
                .labels([Span::raw("0"), Span::raw(p.unit.format(top))]),
        )
        .style(Style::default());
    frame.render_widget(chart, inner);
}

/// The series behind a panel: one line each, with latest, min, mean and
/// max over the window, newest-largest first.
pub fn draw_drill(frame: &mut Frame, body: Rect, scene: &Scene, dash: &DashState, panel: usize) {
    let theme = &scene.defs.theme;
    let def = dash.def(scene.defs);
    let Some(p) = def.panels.get(panel) else {
        return;
    };
    let rows = &dash.drill;
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Line::from(vec![
            Span::styled(format!(" {} ", inert(&p.title)), theme.style(Role::Title)),
            Span::styled(
                format!(
                    "{} · {} series · {} ",
                    inert(&p.metric),
                    rows.len(),
                    format_span(dash.window_ms())
                ),
                theme.style(Role::Muted),
            ),
        ]));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let lw = (label_w(inner.width) * 2) as usize;
    let v = VALUE_W as usize;
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{} {} {} {} {} HISTORY",
            pad("SERIES", lw, false),
            pad("LATEST", v, true),
            pad("MIN", v, true),
            pad("MEAN", v, true),
            pad("MAX", v, true)
        ),
        theme.style(Role::TableHeader),
    ))];
    if rows.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("no series {} yet", inert(&p.metric)),
            theme.style(Role::Muted),
        )));
    }
    let top = scale(p, rows);
    let format = |x: Option<f64>| pad(&x.map_or("-".into(), |x| p.unit.format(x)), v, true);
    for row in rows
        .iter()
        .skip(dash.drill_offset)
        .take(inner.height.saturating_sub(1) as usize)
    {
        let seen: Vec<f64> = row.values.iter().flatten().copied().collect();
        let min = seen.iter().copied().reduce(f64::min);
        let max = seen.iter().copied().reduce(f64::max);
        let mean = (!seen.is_empty()).then(|| seen.iter().sum::<f64>() / seen.len() as f64);
        let role = level(p, row.latest);
        lines.push(Line::from(vec![
            Span::styled(pad(&inert(&row.label), lw, false), theme.style(Role::Text)),
            Span::raw(" "),
            Span::styled(
                format(row.latest),
                theme.style(if role == Role::Sparkline {
                    Role::Text
                } else {
                    role
                }),
            ),
            Span::raw(" "),
            Span::styled(format(min), theme.style(Role::Muted)),
            Span::raw(" "),
            Span::styled(format(mean), theme.style(Role::Muted)),
            Span::raw(" "),
            Span::styled(format(max), theme.style(Role::Muted)),
            Span::raw(" "),
            Span::styled(sparkline_gaps(&row.values, top), theme.style(role)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
