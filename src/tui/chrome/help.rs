//! `?`: every binding of the active keymap, the line-editing keys and the
//! commands, built from the keymap itself so it cannot drift from it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::config::keymap::Keymap;
use crate::tui::config::theme::{Role, Theme};

pub fn draw(frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme, scroll: u16) {
    let width = area.width.min(72);
    let height = area.height.saturating_sub(2).max(area.height.min(3));
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    let key_style = theme.style(Role::HintKey);
    let text_style = theme.style(Role::Text);
    let heading = |t: &str| Line::styled(t.to_string(), theme.style(Role::Title));
    let row = |keys: String, desc: String| {
        Line::from(vec![
            Span::styled(format!(" {keys:<22}"), key_style),
            Span::styled(desc, text_style),
        ])
    };
    let mut lines = vec![heading(&format!("Keys (keymap {})", keymap.name))];
    for binding in keymap.bindings.iter().filter(|b| b.when.is_none()) {
        let keys: Vec<String> = binding.on.iter().map(|k| k.to_string()).collect();
        lines.push(row(keys.join(" "), binding.desc.clone()));
    }
    let mut views: Vec<_> = keymap.bindings.iter().filter_map(|b| b.when).collect();
    views.dedup();
    for view in views {
        lines.push(Line::raw(""));
        lines.push(heading(&format!(
            "In the {} view",
            format!("{view:?}").to_lowercase()
        )));
        for binding in keymap.bindings.iter().filter(|b| b.when == Some(view)) {
            let keys: Vec<String> = binding.on.iter().map(|k| k.to_string()).collect();
            lines.push(row(keys.join(" "), binding.desc.clone()));
        }
    }
    lines.push(Line::raw(""));
    lines.push(heading("While typing a filter (/) or a command (:)"));
    lines.push(row("<Enter>".into(), "apply / run".into()));
    lines.push(row("<Esc>".into(), "cancel (and clear the filter)".into()));
    lines.push(row("<Tab>".into(), "complete the command".into()));
    lines.push(row("<Up> <Down>".into(), "command history".into()));
    lines.push(row("<C-u>".into(), "clear the line".into()));
    lines.push(row("!text".into(), "filter: rows that do NOT match".into()));
    lines.push(Line::raw(""));
    lines.push(heading("Commands"));
    lines.push(row(":cluster :nodes".into(), "go to a view".into()));
    lines.push(row(
        ":tasks [NODE]".into(),
        "all tasks, or one node's".into(),
    ));
    lines.push(row(
        ":ctx [NAME]".into(),
        "show or switch the gateway context".into(),
    ));
    lines.push(row(
        ":theme NAME".into(),
        "default light high-contrast mono ...".into(),
    ));
    lines.push(row(":keymap NAME".into(), "default vim ...".into()));
    lines.push(row(":q".into(), "quit".into()));
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            " Help — any other key closes ",
            theme.style(Role::Title),
        ));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
}
