//! The alerts view: one row an alert (state, since, rule, labels,
//! summary), then the selected alert's evidence and the receivers.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::AlertsView;
use crate::api::{AlertState, ReceiverStatus};
use crate::tui::config::theme::Role;
use crate::tui::feature::Scene;
use crate::tui::widgets::text::{inert, pad};
use crate::tui::widgets::units::age;

pub fn draw(frame: &mut Frame, area: Rect, scene: &Scene, view: &AlertsView) {
    let theme = &scene.defs.theme;
    let block = |title: String| {
        Block::bordered()
            .border_style(theme.style(Role::Border))
            .title(Span::styled(title, theme.style(Role::Title)))
    };
    let report = match &scene.model.alerts {
        None => {
            let text = Span::styled("reading the gateway's alerts…", theme.style(Role::Muted));
            frame.render_widget(Paragraph::new(text).block(block(" Alerts ".into())), area);
            return;
        }
        Some(Err(why)) => {
            let text = Span::styled(inert(why).into_owned(), theme.style(Role::Muted));
            let p = Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: false });
            frame.render_widget(p.block(block(" Alerts ".into())), area);
            return;
        }
        Some(Ok(report)) => report,
    };
    let count = |s: AlertState| report.alerts.iter().filter(|a| a.state == s).count();
    let title = format!(
        " Alerts {} firing · {} pending · {} rules · evaluated {} ago ",
        count(AlertState::Firing),
        count(AlertState::Pending),
        report.rules,
        age(scene.now - report.evaluated)
    );
    // The evidence (a line, then up to 3), the receivers (a line, then
    // one each), and the borders.
    let evidence = view
        .selected(&scene.model.alerts)
        .map_or(0, |a| a.evidence.len().max(1) + 1);
    let below = ((evidence + report.receivers.len() + 3) as u16).min(area.height / 2);
    let [list, detail] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(below)]).areas(area);
    let width = list.width.saturating_sub(2) as usize;
    let mut lines = vec![Line::styled(
        pad(
            "STATE     SINCE    RULE                 SUMMARY · LABELS",
            width,
            false,
        ),
        theme.style(Role::TableHeader),
    )];
    if let Some(problem) = &report.problem {
        lines.push(Line::styled(
            inert(problem).into_owned(),
            theme.style(Role::Warn),
        ));
    }
    if report.alerts.is_empty() {
        lines.push(Line::styled(
            "no alert: every rule's condition is false",
            theme.style(Role::Muted),
        ));
    }
    let rows = list.height.saturating_sub(3) as usize;
    let offset = view.cursor.saturating_sub(rows.saturating_sub(1));
    for (i, a) in report
        .alerts
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows.max(1))
    {
        let (state, role) = match a.state {
            AlertState::Firing => ("firing", Role::Error),
            AlertState::Pending => ("pending", Role::Warn),
            AlertState::Resolved => ("resolved", Role::Ok),
        };
        let mut labels = a.labels.clone();
        labels.remove("alertname");
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", inert(v)))
            .collect();
        // The summary reads best; the labels say the rest.
        let what = match a.annotations.get("summary") {
            Some(s) => format!("{} · {}", inert(s), labels.join(" ")),
            None => labels.join(" "),
        };
        let text = format!(
            "{} {} {} {what}",
            pad(state, 9, false),
            pad(&age(scene.now - a.since), 8, false),
            pad(&inert(&a.rule), 20, false),
        );
        let style = if i == view.cursor {
            theme.style(Role::Selection)
        } else {
            theme.style(role)
        };
        lines.push(Line::styled(pad(&text, width, false), style));
    }
    frame.render_widget(Paragraph::new(lines).block(block(title)), list);

    let mut lines = Vec::new();
    match view.selected(&scene.model.alerts) {
        Some(a) if !a.evidence.is_empty() => {
            lines.push(Line::styled(
                "what changed when it fired:",
                theme.style(Role::Muted),
            ));
            for (n, e) in a.evidence.iter().enumerate() {
                lines.push(Line::raw(format!(" {}. {}", n + 1, inert(e))));
            }
        }
        Some(_) => lines.push(Line::styled(
            "no triage finding when it fired",
            theme.style(Role::Muted),
        )),
        None => {}
    }
    lines.push(Line::styled(
        format!(
            "receivers{}:",
            match report.dropped {
                0 => String::new(),
                n => format!(" ({n} notifications dropped: the queue was full or a day old)"),
            }
        ),
        theme.style(Role::Muted),
    ));
    for r in &report.receivers {
        lines.push(receiver(r, theme));
    }
    frame.render_widget(
        Paragraph::new(lines).block(block(" Evidence and receivers ".into())),
        detail,
    );
}

fn receiver<'a>(r: &ReceiverStatus, theme: &crate::tui::config::theme::Theme) -> Line<'a> {
    let mut spans = vec![Span::raw(format!(
        " {} ({}) sent {} · failed {} · queued {}",
        inert(&r.name),
        r.kind,
        r.sent,
        r.failed,
        r.queued
    ))];
    if let Some(e) = &r.last_error {
        spans.push(Span::styled(
            format!(" · last error: {}", inert(e)),
            theme.style(Role::Error),
        ));
    }
    Line::from(spans)
}
