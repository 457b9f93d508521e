//! The `o` menu: over the view, each link with where it goes and over
//! what time; those that go nowhere say why, dimmed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Menu;
use crate::tui::config::theme::{Role, Theme};
use crate::tui::widgets::text::pad;

pub fn draw(frame: &mut Frame, area: Rect, menu: &Menu, theme: &Theme) {
    let width = area.width.min(96);
    let height = (menu.items.len() as u16 + 4).min(area.height);
    if width < 4 || height < 3 {
        return;
    }
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    let inner = width.saturating_sub(2) as usize;
    let widest = |text: fn(&super::Item) -> &str| {
        let width = |i: &super::Item| unicode_width::UnicodeWidthStr::width(text(i));
        menu.items.iter().map(width).max().unwrap_or(0)
    };
    // The details (targets and windows) first; titles get what is left.
    let title_width = widest(|i| &i.title)
        .min(inner.saturating_sub(5 + widest(|i| &i.detail)))
        .max(12);
    let mut lines = vec![Line::styled(
        pad(&format!(" from {}", menu.about), inner, false),
        theme.style(Role::Muted),
    )];
    lines.push(Line::raw(""));
    for (n, item) in menu.items.iter().enumerate() {
        let (key, body) = match (n == menu.cursor, item.target.is_some()) {
            (true, _) => (Role::Selection, Role::Selection),
            (false, true) => (Role::HintKey, Role::Text),
            (false, false) => (Role::Muted, Role::Muted),
        };
        let number = if n < 9 {
            format!(" {} ", n + 1)
        } else {
            "   ".to_string()
        };
        let text = format!("{}  {}", pad(&item.title, title_width, false), item.detail);
        lines.push(Line::from(vec![
            Span::styled(number, theme.style(key)),
            Span::styled(
                pad(&text, inner.saturating_sub(3), false),
                theme.style(body),
            ),
        ]));
    }
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            " Related — Enter or 1-9 opens, Esc closes ",
            theme.style(Role::Title),
        ));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
