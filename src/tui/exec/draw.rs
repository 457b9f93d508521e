//! The exec pane (the session's emulator screen in a border that says
//! what runs where and how it stands) and the list of sessions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use tui_term::widget::{Cursor, PseudoTerminal};

use crate::tui::config::theme::Role;
use crate::tui::exec::Sessions;
use crate::tui::exec::pane::{ExecPane, PaneState};
use crate::tui::feature::Scene;
use crate::tui::widgets::text::inert;
use crate::tui::widgets::units::{age, bytes};

/// How the chord that leaves a pane is written in hints.
pub const LEAVE: &str = "Ctrl-]";

fn command_line(pane: &ExecPane) -> String {
    if pane.cmd.as_slice() == crate::tui::exec::pane::SHELL {
        "shell".into()
    } else {
        inert(&pane.cmd.join(" ")).into_owned()
    }
}

fn state_role(state: &PaneState) -> Role {
    match state {
        PaneState::Starting => Role::Muted,
        PaneState::Running => Role::Ok,
        PaneState::Exited(s) if s.exit_code == Some(0) => Role::Info,
        PaneState::Exited(_) | PaneState::Failed(_) => Role::Error,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, scene: &Scene, sessions: &Sessions, id: u64) {
    let theme = &scene.defs.theme;
    let Some(pane) = sessions.pane(id) else {
        return;
    };
    let title = Line::from(vec![
        Span::styled(
            format!(" {} ", command_line(pane)),
            theme.style(Role::Title),
        ),
        Span::styled(
            format!("in {} ", inert(&pane.task)),
            theme.style(Role::Muted),
        ),
        Span::styled(
            format!(" {} ", pane.status_text()),
            theme.style(state_role(&pane.state)),
        ),
    ]);
    let mut help = format!(" {LEAVE} console · Shift-PgUp/PgDn history ");
    if pane.scroll > 0 {
        help = format!(" {} rows back · {help}", pane.scroll);
    }
    if !pane.is_live() {
        help = " Esc back · PgUp/PgDn history · :sessions ".to_string();
    }
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(title)
        .title_bottom(Line::styled(help, theme.style(Role::Muted)).right_aligned());
    // The emulator draws the process's cursor; the console's own stays hidden.
    let mut cursor = Cursor::default();
    if !pane.is_live() || pane.scroll > 0 || pane.parser.screen().hide_cursor() {
        cursor.hide();
    }
    let screen = pane.parser.screen();
    frame.render_widget(
        PseudoTerminal::new(screen).block(block).cursor(cursor),
        area,
    );
    // Why it failed, at the foot of the pane, wrapped to its width.
    if let PaneState::Failed(why) = &pane.state {
        let inner = area.inner(ratatui::layout::Margin::new(1, 1));
        let why = inert(why).into_owned();
        let width = unicode_width::UnicodeWidthStr::width(why.as_str()) as u16;
        // Words wrap a little short of the width; a spare row covers it.
        let height = (width / inner.width.max(1) + 2).min(inner.height);
        let text = Paragraph::new(Span::styled(why, theme.style(Role::Error)))
            .wrap(ratatui::widgets::Wrap { trim: true });
        let foot = Rect::new(inner.x, inner.bottom() - height, inner.width, height);
        frame.render_widget(ratatui::widgets::Clear, foot);
        frame.render_widget(text, foot);
    }
}

/// `:sessions`: every pane, running or ended, newest last.
pub fn draw_list(frame: &mut Frame, area: Rect, scene: &Scene, sessions: &Sessions) {
    let theme = &scene.defs.theme;
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            format!(" sessions ({}) ", sessions.panes.len()),
            theme.style(Role::Title),
        ));
    if sessions.panes.is_empty() {
        let text = "no exec sessions: s on a task opens a shell, :exec CMD runs a command";
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.style(Role::Muted))).block(block),
            area,
        );
        return;
    }
    let header = Line::styled(
        format!(
            " {:<4} {:<34} {:<24} {:<20} {:>6} {:>8}",
            "ID", "TASK", "COMMAND", "STATE", "AGE", "OUTPUT"
        ),
        theme.style(Role::TableHeader),
    );
    let mut lines = vec![header];
    for (i, pane) in sessions.panes.iter().enumerate() {
        let cut = |s: &str, n: usize| -> String {
            let s = inert(s);
            if s.chars().count() > n {
                format!("{}…", s.chars().take(n - 1).collect::<String>())
            } else {
                s.into_owned()
            }
        };
        let row = format!(
            " {:<4} {:<34} {:<24} {:<20} {:>6} {:>8}",
            pane.id,
            cut(&pane.task, 34),
            cut(&command_line(pane), 24),
            cut(&pane.status_text(), 20),
            age(scene.now - pane.started),
            bytes(pane.bytes_out as f64),
        );
        let style = if i == sessions.cursor {
            theme.style(Role::Selection)
        } else {
            theme.style(state_role(&pane.state))
        };
        lines.push(Line::styled(row, style));
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
