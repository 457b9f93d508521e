//! Header, connection banner, breadcrumbs, and the footer line (hints,
//! prompt or notice).

use ratatui::Frame;
use ratatui::layout::{HorizontalAlignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Mode, Route};
use crate::tui::config::theme::Role;
use crate::tui::logs::view::LogScope;
use crate::tui::model::Connection;
use crate::tui::tables::fields::age;
use crate::tui::widgets::text::inert;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

fn spinner(app: &App) -> &'static str {
    SPINNER[(app.now / 100).rem_euclid(SPINNER.len() as i64) as usize]
}

pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.defs.theme;
    let bar = theme.style(Role::Header);
    let strong = theme.style(Role::HeaderAccent);
    let (state, state_role) = match &app.model.connection {
        Connection::Connected { .. } => ("● live".to_string(), None),
        Connection::Connecting { .. } => (format!("{} connecting", spinner(app)), None),
        Connection::Disconnected { since, .. } => (
            format!(
                "✗ {} {}",
                if app.model.loaded { "stale" } else { "down" },
                age(app.now - since)
            ),
            Some(Role::Banner),
        ),
        Connection::Refused { .. } => ("✗ refused".to_string(), Some(Role::Banner)),
    };
    let counts = format!(
        " {} nodes  {} tasks ",
        app.model.nodes.len(),
        app.model.tasks.len()
    );
    let mut spans = vec![
        Span::styled(" day2top ", strong),
        Span::styled(format!("│ {} ", inert(&app.origin.context)), bar),
    ];
    if let Some((name, source)) = &app.origin.cluster {
        spans.push(Span::styled(
            format!("│ {} ({}) ", inert(name), inert(source)),
            strong,
        ));
    }
    // Most telling first: a narrow terminal cuts from the right.
    spans.extend([
        Span::styled("│ ", bar),
        Span::styled(
            format!("{state} "),
            state_role.map(|r| theme.style(r)).unwrap_or(strong),
        ),
        Span::styled(format!("│{counts}"), bar),
    ]);
    if app.model.dropped > 0 {
        spans.push(Span::styled(
            format!("│ {} dropped ", app.model.dropped),
            theme.style(Role::Warn),
        ));
    }
    spans.push(Span::styled(format!("│ {} ", inert(&app.origin.url)), bar));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

/// What to do about a refused token.
const REFUSED_HINT: &str =
    "fix the token (the context's token_file, or --token-file) and start day2top again";

pub fn banner_text(app: &App) -> Option<String> {
    match &app.model.connection {
        Connection::Disconnected {
            error,
            retry_at,
            attempt,
            ..
        } => {
            let retry = ((retry_at - app.now).max(0) + 999) / 1000;
            let shown = if app.model.loaded {
                " The data shown is stale."
            } else {
                ""
            };
            Some(format!(
                " Lost the gateway: {} — retry {attempt} in {retry}s.{shown}",
                inert(error)
            ))
        }
        Connection::Refused { error, .. } => {
            Some(format!(" {} — not retrying: {REFUSED_HINT}", inert(error)))
        }
        _ => None,
    }
}

pub fn banner(frame: &mut Frame, area: Rect, app: &App) {
    if let Some(text) = banner_text(app) {
        let style = app.defs.theme.style(Role::Banner);
        frame.render_widget(Paragraph::new(text).style(style), area);
    }
}

pub fn breadcrumbs(frame: &mut Frame, area: Rect, app: &App) {
    if area.height == 0 {
        return;
    }
    let theme = &app.defs.theme;
    let mut spans = vec![Span::raw(" ")];
    for (i, route) in app.routes.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", theme.style(Role::Muted)));
        }
        let label = match route {
            Route::Cluster => "cluster".to_string(),
            Route::Nodes => "nodes".to_string(),
            Route::Health => "health".to_string(),
            Route::Traces => "traces".to_string(),
            Route::Sessions => "sessions".to_string(),
            Route::Exec { id } => match app.pane(*id) {
                Some(p) => format!("exec {}", inert(&p.task)),
                None => "exec".to_string(),
            },
            Route::Trace { id } => match app.model.traces.get(id) {
                Some(t) => format!("{}: {}", inert(&t.root_service), inert(&t.root_operation)),
                None => format!("trace {}", inert(id)),
            },
            Route::Dash => format!(
                "dashboard {} · {}",
                inert(&app.dash_def().title),
                crate::api::format_span(app.dash.window_ms())
            ),
            Route::DashPanel { panel } => app
                .dash_def()
                .panels
                .get(*panel)
                .map_or_else(|| "panel".to_string(), |p| inert(&p.title).into_owned()),
            Route::Tasks { node: None } => "tasks".to_string(),
            Route::Tasks { node: Some(id) } => {
                format!("tasks on {}", inert(app.model.node_name(id)))
            }
            Route::Logs { scope } => match scope {
                LogScope::All => "logs".to_string(),
                LogScope::Task(id) => match app.model.tasks.get(id.as_str()) {
                    Some(t) => format!("logs of {}", inert(&t.name)),
                    None => format!("logs of task {}", inert(id)),
                },
                LogScope::Node(id) => format!("logs of {}", inert(app.model.node_name(id))),
                LogScope::Unit(unit) => format!("logs of {}", inert(unit)),
            },
            Route::Task { id } => match app.model.tasks.get(id.as_str()) {
                Some(t) => format!("task {}", inert(&t.name)),
                None => format!("task {}", inert(id)),
            },
        };
        let role = if i + 1 == app.routes.len() {
            Role::Breadcrumb
        } else {
            Role::Muted
        };
        spans.push(Span::styled(label, theme.style(role)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The body before the first snapshot: connecting, or why not.
pub fn waiting(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.defs.theme;
    let lines = match &app.model.connection {
        Connection::Disconnected { error, .. } => vec![
            Line::styled(
                format!("cannot reach the gateway at {}", inert(&app.origin.url)),
                theme.style(Role::Error),
            ),
            Line::styled(inert(error).into_owned(), theme.style(Role::Text)),
            Line::styled(
                "retrying by itself; check the address, the token and that the gateway runs",
                theme.style(Role::Muted),
            ),
        ],
        Connection::Refused { error, .. } => vec![
            Line::styled(
                format!(
                    "the gateway at {} refused the token",
                    inert(&app.origin.url)
                ),
                theme.style(Role::Error),
            ),
            Line::styled(inert(error).into_owned(), theme.style(Role::Text)),
            Line::styled(
                format!("not retrying: {REFUSED_HINT}"),
                theme.style(Role::Muted),
            ),
        ],
        _ => vec![Line::styled(
            format!("{} connecting to {}", spinner(app), inert(&app.origin.url)),
            theme.style(Role::Muted),
        )],
    };
    let top = area.height.saturating_sub(lines.len() as u16) / 2;
    let area = Rect::new(area.x, area.y + top, area.width, area.height - top);
    frame.render_widget(
        Paragraph::new(lines).alignment(HorizontalAlignment::Center),
        area,
    );
}

pub fn footer(frame: &mut Frame, area: Rect, app: &App) {
    if area.height == 0 {
        return;
    }
    let theme = &app.defs.theme;
    match app.mode {
        Mode::Filter | Mode::Search | Mode::Command => {
            let in_logs = matches!(app.route(), Route::Logs { .. });
            let prompt = match app.mode {
                Mode::Filter if in_logs => "filter (p<=N src=NAME regex, ! inverts): ",
                Mode::Filter | Mode::Search => "/",
                _ => ":",
            };
            let mut spans = vec![
                Span::styled(prompt, theme.style(Role::HintKey)),
                Span::styled(app.line.text.clone(), theme.style(Role::Input)),
            ];
            if app.mode == Mode::Command
                && let Some(c) = app.completions.get(
                    app.completion_index
                        .min(app.completions.len().saturating_sub(1)),
                )
                && let Some(rest) = c.strip_prefix(app.line.text.as_str())
            {
                spans.push(Span::styled(
                    rest.to_string(),
                    theme.style(Role::Completion),
                ));
            }
            if app.mode == Mode::Filter
                && let Some(f) = app.table().and_then(|t| t.filter.as_ref())
                && f.literal
            {
                spans.push(Span::styled(
                    "  (not a regex: matching as text)",
                    theme.style(Role::Muted),
                ));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
            let before: String = app.line.text.chars().take(app.line.cursor).collect();
            let x = area.x
                + unicode_width::UnicodeWidthStr::width(prompt) as u16
                + unicode_width::UnicodeWidthStr::width(before.as_str()) as u16;
            frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        }
        _ => {
            if let Some(notice) = &app.notice {
                let role = if notice.error {
                    Role::Error
                } else {
                    Role::Info
                };
                frame.render_widget(
                    Paragraph::new(format!(" {}", inert(&notice.text))).style(theme.style(role)),
                    area,
                );
                return;
            }
            let mut hints: Vec<(String, &str)> = app
                .hints()
                .into_iter()
                .filter_map(|action| app.defs.keymap.hint(action, app.view_kind()))
                .collect();
            // Whole hints only: past the width, the view's last ones go
            // first; the command line, help and quit always stay.
            let width = |hints: &[(String, &str)]| -> usize {
                use unicode_width::UnicodeWidthStr;
                hints.iter().map(|(k, d)| k.width() + d.width() + 3).sum()
            };
            while width(&hints) > area.width as usize && hints.len() > 3 {
                hints.remove(hints.len() - 4);
            }
            let mut spans = Vec::new();
            for (key, desc) in hints {
                spans.push(Span::styled(format!(" {key}"), theme.style(Role::HintKey)));
                spans.push(Span::styled(
                    format!(" {desc} "),
                    theme.style(Role::HintDesc),
                ));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
        }
    }
}
