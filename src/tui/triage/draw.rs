//! The triage screen: the window and its baseline in absolute time, one
//! heat strip per signal with the selected finding's time marked in each,
//! the ranked findings, and the selected one's evidence (or, with `e`,
//! its score in words).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::TriageView;
use crate::api::UnixMillis;
use crate::triage::{Class, Finding, Report};
use crate::tui::config::theme::{Role, Theme};
use crate::tui::feature::Scene;
use crate::tui::widgets::text::{fit, inert};

const HEAT: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// The strips' label column.
const LABEL: usize = 8;

/// Rows the findings table shows for a body of `height` rows.
pub fn table_rows(height: u16) -> usize {
    let (_, table, _) = heights(height);
    table.saturating_sub(3) as usize
}

/// (strips with their axis, table with its border and header, evidence).
fn heights(height: u16) -> (u16, u16, u16) {
    let strips = if height >= 18 { 7 } else { 0 };
    let rest = height.saturating_sub(1 + strips);
    let evidence = if rest >= 10 {
        (rest / 3).clamp(4, 12)
    } else {
        0
    };
    (strips, rest - evidence, evidence)
}

fn clock(at: UnixMillis, scene: &Scene, seconds: bool) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(at) else {
        return "?".into();
    };
    let format = if seconds { "%H:%M:%S" } else { "%H:%M" };
    ts.to_zoned_datetime(scene.zone.clone())
        .strftime(format)
        .to_string()
}

pub fn draw(frame: &mut Frame, area: Rect, scene: &Scene, view: &TriageView) {
    let theme = &scene.defs.theme;
    let Some(report) = &view.report else {
        return;
    };
    if area.height == 0 || area.width == 0 {
        return;
    }
    let (strips, table, evidence) = heights(area.height);
    let [head, strips_area, table_area, evidence_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(strips),
        Constraint::Length(table),
        Constraint::Length(evidence),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header(report, scene, theme)), head);
    let cursor = view.finding().map(|f| f.at);
    if strips > 0 {
        draw_strips(frame, strips_area, scene, report, cursor);
    }
    draw_table(frame, table_area, scene, view, report);
    if evidence > 0 {
        draw_evidence(frame, evidence_area, scene, view);
    }
}

fn header<'a>(report: &Report, scene: &Scene, theme: &Theme) -> Line<'a> {
    let mut text = format!(
        " {} {}–{} · baseline {}–{}",
        report.window.label(),
        clock(report.from, scene, false),
        clock(report.to, scene, false),
        clock(report.baseline_from, scene, false),
        clock(report.from, scene, false),
    );
    if let Some(since) = report.held_since {
        text.push_str(&format!(" · held since {}", clock(since, scene, false)));
    }
    text.push_str(&format!(" · {} findings", report.findings.len()));
    if report.left_out > 0 {
        text.push_str(&format!(", {} more left out", report.left_out));
    }
    let mut spans = vec![Span::styled(text, theme.style(Role::Title))];
    if report.dropped > 0 {
        spans.push(Span::styled(
            format!(" · {} signals dropped by bounds", report.dropped),
            theme.style(Role::Warn),
        ));
    }
    Line::from(spans)
}

fn draw_strips(
    frame: &mut Frame,
    area: Rect,
    scene: &Scene,
    report: &Report,
    cursor: Option<UnixMillis>,
) {
    let theme = &scene.defs.theme;
    let width = (area.width as usize).saturating_sub(LABEL);
    if width == 0 {
        return;
    }
    let minutes = report.strips.first().map_or(0, |(_, c)| c.len()).max(1);
    // Minute `m` of the window is drawn in columns [col(m), col(m+1)).
    let col = |m: usize| m * width / minutes;
    let cursor_col = cursor.map(|at| {
        let m = ((at - report.from).max(0) / crate::triage::timeline::MINUTE) as usize;
        col(m.min(minutes - 1))
    });
    let mut lines = Vec::new();
    for (lane, counts) in &report.strips {
        let max = counts.iter().copied().max().unwrap_or(0).max(1);
        let mut cells = vec![0u32; width];
        for (m, n) in counts.iter().enumerate() {
            for cell in cells
                .iter_mut()
                .take(col(m + 1).max(col(m) + 1).min(width))
                .skip(col(m))
            {
                *cell = (*cell).max(*n);
            }
        }
        let mut spans = vec![Span::styled(
            format!("{:<LABEL$}", lane.name()),
            theme.style(Role::TableHeader),
        )];
        for (i, n) in cells.iter().enumerate() {
            let level = if *n == 0 {
                0
            } else {
                1 + (*n as usize * 7 / max as usize).min(7)
            };
            let mut style = theme.style(Role::Sparkline);
            if Some(i) == cursor_col {
                style = theme.style(Role::Selection);
            }
            spans.push(Span::styled(HEAT[level].to_string(), style));
        }
        lines.push(Line::from(spans));
    }
    let start = clock(report.from, scene, false);
    let end = clock(report.to, scene, false);
    let gap = width.saturating_sub(start.len() + end.len());
    lines.push(Line::from(Span::styled(
        format!("{:LABEL$}{start}{:gap$}{end}", "", ""),
        theme.style(Role::Muted),
    )));
    frame.render_widget(Paragraph::new(lines), area);
}

fn class_role(class: Class) -> Role {
    match class {
        Class::Change => Role::Warn,
        Class::Symptom => Role::Error,
        Class::Missing => Role::Muted,
    }
}

fn draw_table(frame: &mut Frame, area: Rect, scene: &Scene, view: &TriageView, report: &Report) {
    let theme = &scene.defs.theme;
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(" what changed ", theme.style(Role::Title)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let width = inner.width as usize;
    let mut lines = vec![Line::from(Span::styled(
        fit(
            &format!(
                "{:>3} {:>5} {:<8} {:<14} WHAT",
                "#", "SCORE", "WHEN", "KIND"
            ),
            width,
        )
        .into_owned(),
        theme.style(Role::TableHeader),
    ))];
    if report.findings.is_empty() {
        let text = format!(
            "nothing changed in the last {}: no task ended, no check turned, no error or metric left its baseline",
            report.window.label()
        );
        lines.push(Line::from(Span::styled(
            fit(&text, width).into_owned(),
            theme.style(Role::Muted),
        )));
    }
    let rows = (inner.height as usize).saturating_sub(1);
    let mut rank = report.findings[..view.offset.min(report.findings.len())]
        .iter()
        .filter(|f| f.under.is_none())
        .count();
    for (i, f) in report
        .findings
        .iter()
        .enumerate()
        .skip(view.offset)
        .take(rows)
    {
        let number = match f.under {
            None => {
                rank += 1;
                format!("{rank:>3}")
            }
            Some(_) => "  └".to_string(),
        };
        let text = format!(
            "{number} {:>5.0} {:<8} {:<14} {}",
            f.score,
            clock(f.at, scene, true),
            f.kind.label(),
            inert(&f.title)
        );
        let mut style = theme.style(class_role(f.class));
        if i == view.cursor {
            style = theme.style(Role::Selection).add_modifier(Modifier::BOLD);
        }
        lines.push(Line::from(Span::styled(
            fit(&text, width).into_owned(),
            style,
        )));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_evidence(frame: &mut Frame, area: Rect, scene: &Scene, view: &TriageView) {
    let theme = &scene.defs.theme;
    let title = if view.explain {
        " why this rank (e: evidence) "
    } else {
        " evidence (Enter: open it · e: why this rank) "
    };
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(title, theme.style(Role::Title)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(f) = view.finding() else {
        return;
    };
    let width = inner.width as usize;
    let lines: Vec<Line> = if view.explain {
        explanation(f)
            .into_iter()
            .map(|text| {
                Line::from(Span::styled(
                    fit(&text, width).into_owned(),
                    theme.style(Role::Text),
                ))
            })
            .collect()
    } else {
        f.evidence
            .iter()
            .map(|(at, text)| {
                Line::from(vec![
                    Span::styled(
                        format!("{} ", clock(*at, scene, true)),
                        theme.style(Role::Muted),
                    ),
                    Span::styled(
                        fit(&inert(text), width.saturating_sub(9)).into_owned(),
                        theme.style(Role::Text),
                    ),
                ])
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A finding's score, part by part, in words.
pub fn explanation(f: &Finding) -> Vec<String> {
    let mut lines = vec![format!("score {:.0}, {}:", f.score, f.kind.label())];
    lines.extend(f.parts.iter().map(|p| format!("  {p}")));
    lines
}
