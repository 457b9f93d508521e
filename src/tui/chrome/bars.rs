//! Header, connection banner, breadcrumbs, and the footer line (hints,
//! prompt or notice).

use ratatui::Frame;
use ratatui::layout::{HorizontalAlignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::api::UnixMillis;
use crate::tui::chrome::line::LineEdit;
use crate::tui::config::theme::Role;
use crate::tui::config::theme::Theme;
use crate::tui::feature::Notice;
use crate::tui::model::{Connection, Model};
use crate::tui::widgets::text::inert;
use crate::tui::widgets::units::age;

/// What the frame around a view shows; the App fills it in.
pub struct Chrome<'a> {
    pub theme: &'a Theme,
    pub model: &'a Model,
    pub now: UnixMillis,
    pub origin: &'a Origin,
    /// Where the operator is, outermost first.
    pub crumbs: Vec<String>,
    /// The recording badge, while one is under way.
    pub recording: Option<String>,
    /// Share mode is on (with the count of strings it changed so far): a
    /// badge that never goes, and no address.
    pub sharing: Option<u64>,
    /// A recording is on screen, not a live gateway.
    pub replaying: bool,
    pub footer: Footer<'a>,
}

/// The footer: the line being typed, a notice, or the key hints.
pub enum Footer<'a> {
    Line {
        prompt: &'static str,
        line: &'a LineEdit,
        /// The completion Tab would take, shown after the text.
        completion: Option<&'a str>,
        /// A filter that is not a regex, matched as text.
        literal: bool,
    },
    Notice(&'a Notice),
    /// Each hint's key and what it does.
    Hints(Vec<(String, &'a str)>),
}

/// What the header says about where the data comes from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub context: String,
    pub url: String,
    /// The cluster's name and source (`host`, `demo`), once the gateway said.
    pub cluster: Option<(String, String)>,
    /// Exec is hidden (`--readonly`, a read-only context).
    pub readonly: bool,
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

fn spinner(chrome: &Chrome) -> &'static str {
    SPINNER[(chrome.now / 100).rem_euclid(SPINNER.len() as i64) as usize]
}

pub fn header(frame: &mut Frame, area: Rect, chrome: &Chrome) {
    let theme = chrome.theme;
    let bar = theme.style(Role::Header);
    let strong = theme.style(Role::HeaderAccent);
    let (state, state_role) = match &chrome.model.connection {
        Connection::Connected { .. } if chrome.replaying => ("⏵ replay".to_string(), None),
        Connection::Connected { .. } => ("● live".to_string(), None),
        Connection::Connecting { .. } => (format!("{} connecting", spinner(chrome)), None),
        Connection::Disconnected { since, .. } => (
            format!(
                "✗ {} {}",
                if chrome.model.loaded { "stale" } else { "down" },
                age(chrome.now - since)
            ),
            Some(Role::Banner),
        ),
        Connection::Refused { .. } => ("✗ refused".to_string(), Some(Role::Banner)),
    };
    let counts = format!(
        " {} nodes  {} tasks ",
        chrome.model.nodes.len(),
        chrome.model.tasks.len()
    );
    let mut spans = Vec::new();
    if let Some(hidden) = chrome.sharing {
        // First of all, so the narrowest terminal still says it.
        spans.push(Span::styled(
            format!(" SHARE · {hidden} hidden "),
            theme.style(Role::Banner),
        ));
    }
    spans.push(Span::styled(" day2top ", strong));
    spans.push(Span::styled(
        format!("│ {} ", inert(&chrome.origin.context)),
        bar,
    ));
    if let Some((name, source)) = &chrome.origin.cluster {
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
    if let Some(badge) = &chrome.recording {
        spans.push(Span::styled(
            format!("│ {badge} "),
            theme.style(Role::Error),
        ));
    }
    let firing = crate::tui::alerts::firing(&chrome.model.alerts);
    if firing > 0 {
        spans.push(Span::styled(
            format!("│ ▲ {firing} firing (:alerts) "),
            theme.style(Role::Error),
        ));
    }
    if chrome.model.dropped > 0 {
        spans.push(Span::styled(
            format!("│ {} dropped ", chrome.model.dropped),
            theme.style(Role::Warn),
        ));
    }
    if chrome.sharing.is_none() {
        // The address may name an internal host: not for a shared screen.
        spans.push(Span::styled(
            format!("│ {} ", inert(&chrome.origin.url)),
            bar,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

/// What to do about a refused token.
const REFUSED_HINT: &str =
    "fix the token (the context's token_file, or --token-file) and start day2top again";

/// Whether the connection has something to say above the view.
pub fn has_banner(model: &Model) -> bool {
    matches!(
        model.connection,
        Connection::Disconnected { .. } | Connection::Refused { .. }
    )
}

pub fn banner_text(chrome: &Chrome) -> Option<String> {
    match &chrome.model.connection {
        Connection::Disconnected {
            error,
            retry_at,
            attempt,
            ..
        } => {
            let retry = ((retry_at - chrome.now).max(0) + 999) / 1000;
            let shown = if chrome.model.loaded {
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

pub fn banner(frame: &mut Frame, area: Rect, chrome: &Chrome) {
    if let Some(text) = banner_text(chrome) {
        let style = chrome.theme.style(Role::Banner);
        frame.render_widget(Paragraph::new(text).style(style), area);
    }
}

pub fn breadcrumbs(frame: &mut Frame, area: Rect, chrome: &Chrome) {
    if area.height == 0 {
        return;
    }
    let theme = chrome.theme;
    let mut spans = vec![Span::raw(" ")];
    for (i, label) in chrome.crumbs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", theme.style(Role::Muted)));
        }
        let role = if i + 1 == chrome.crumbs.len() {
            Role::Breadcrumb
        } else {
            Role::Muted
        };
        spans.push(Span::styled(label.clone(), theme.style(role)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The body before the first snapshot: connecting, or why not.
pub fn waiting(frame: &mut Frame, area: Rect, chrome: &Chrome) {
    let theme = chrome.theme;
    let lines = match &chrome.model.connection {
        Connection::Disconnected { error, .. } => vec![
            Line::styled(
                format!("cannot reach the gateway at {}", inert(&chrome.origin.url)),
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
                    inert(&chrome.origin.url)
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
            format!(
                "{} connecting to {}",
                spinner(chrome),
                inert(&chrome.origin.url)
            ),
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

pub fn footer(frame: &mut Frame, area: Rect, chrome: &Chrome) {
    if area.height == 0 {
        return;
    }
    let theme = chrome.theme;
    match &chrome.footer {
        Footer::Line {
            prompt,
            line,
            completion,
            literal,
        } => {
            let mut spans = vec![
                Span::styled(*prompt, theme.style(Role::HintKey)),
                Span::styled(line.text.clone(), theme.style(Role::Input)),
            ];
            if let Some(rest) = completion.and_then(|c| c.strip_prefix(line.text.as_str())) {
                spans.push(Span::styled(
                    rest.to_string(),
                    theme.style(Role::Completion),
                ));
            }
            if *literal {
                spans.push(Span::styled(
                    "  (not a regex: matching as text)",
                    theme.style(Role::Muted),
                ));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
            let before: String = line.text.chars().take(line.cursor).collect();
            let x = area.x
                + unicode_width::UnicodeWidthStr::width(*prompt) as u16
                + unicode_width::UnicodeWidthStr::width(before.as_str()) as u16;
            frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        }
        Footer::Notice(notice) => {
            let role = if notice.error {
                Role::Error
            } else {
                Role::Info
            };
            frame.render_widget(
                Paragraph::new(format!(" {}", inert(&notice.text))).style(theme.style(role)),
                area,
            );
        }
        Footer::Hints(hints) => {
            let mut hints = hints.clone();
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
