//! The log view: the newest lines at the bottom while following, or where
//! the operator scrolled; only what fits on screen is laid out and styled.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::api::{LogEntry, UnixMillis};
use crate::tui::config::theme::{Role, Theme};
use crate::tui::feature::Scene;
use crate::tui::links::window::{Window, moment};
use crate::tui::logs::Logs;
use crate::tui::logs::ansi;
use crate::tui::logs::buffer::Row;
use crate::tui::logs::colour::{drawn, needs_ansi, syntax_runs};
use crate::tui::logs::view::{LogView, TimeMode};
use crate::tui::widgets::text::{inert, pad};
use crate::tui::widgets::units::{age, bytes};

const SOURCE_WIDTH: usize = 16;

pub fn rows_height(body: Rect) -> usize {
    body.height.saturating_sub(2) as usize
}

fn priority_role(p: u8) -> Role {
    match p {
        0..=2 => Role::PriorityCritical,
        3 => Role::PriorityError,
        4 => Role::PriorityWarning,
        5 => Role::PriorityNotice,
        6 => Role::PriorityInfo,
        _ => Role::PriorityDebug,
    }
}

/// A line's time: its age, or the wall clock in the local zone's offset at
/// that moment (the zone's rules are in the state; a draw reads no files).
fn time(ts: UnixMillis, scene: &Scene, mode: TimeMode) -> Option<String> {
    match mode {
        TimeMode::Off => None,
        TimeMode::Relative => Some(format!("{:>7}", age(scene.now - ts))),
        TimeMode::Absolute => {
            let at = jiff::Timestamp::from_millisecond(ts).ok()?;
            Some(
                at.to_zoned_datetime(scene.zone.clone())
                    .strftime("%H:%M:%S%.3f")
                    .to_string(),
            )
        }
    }
}

/// The message as spans: its own ANSI colours if it has them, else JSON or
/// logfmt colouring (cached for the row), else the priority's colour;
/// control characters inert.
fn message_spans(logs: &Logs, abs: u64, e: &LogEntry, theme: &Theme) -> Vec<Span<'static>> {
    let base = theme.style(priority_role(e.priority));
    let (text, cut) = drawn(&e.message);
    let colour = theme.has_colour();
    let runs = match logs.colours.get(&abs) {
        Some(cached) => cached.clone(),
        None => syntax_runs(&logs.syntax, &e.message),
    };
    let mut spans = if needs_ansi(text) {
        ansi::spans(ansi::pieces(text, colour), base, theme.style(Role::Inert))
    } else if let Some(runs) = runs {
        let mut at = 0;
        runs.into_iter()
            .map(|(end, role)| {
                let piece = &text[at..end.min(text.len())];
                at = end.min(text.len());
                Span::styled(
                    piece.to_string(),
                    role.map_or(base, |r| base.patch(theme.style(r))),
                )
            })
            .collect()
    } else {
        vec![Span::styled(text.to_string(), base)]
    };
    if let Some(len) = cut {
        spans.push(Span::styled(
            format!(" … [{} line, cut here]", bytes(len as f64)),
            theme.style(Role::Muted),
        ));
    }
    spans
}

/// Marks the search's matches, splitting spans where a match starts or ends.
fn mark(spans: Vec<Span<'static>>, view: &LogView, style: Style) -> Vec<Span<'static>> {
    let Some(search) = &view.search else {
        return spans;
    };
    let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
    let hits: Vec<(usize, usize)> = search
        .regex
        .find_iter(&text)
        .map(|m| (m.start(), m.end()))
        .filter(|(a, b)| a < b)
        .collect();
    if hits.is_empty() {
        return spans;
    }
    let mut out = Vec::with_capacity(spans.len() + hits.len() * 2);
    let mut at = 0;
    for span in spans {
        let content = span.content.into_owned();
        let end = at + content.len();
        let mut cuts: Vec<usize> = vec![0, content.len()];
        for &(a, b) in &hits {
            for edge in [a, b] {
                if edge > at && edge < end && content.is_char_boundary(edge - at) {
                    cuts.push(edge - at);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for pair in cuts.windows(2) {
            let piece = &content[pair[0]..pair[1]];
            let hit = hits
                .iter()
                .any(|&(a, b)| at + pair[0] >= a && at + pair[1] <= b);
            let st = if hit {
                span.style.patch(style)
            } else {
                span.style
            };
            out.push(Span::styled(piece.to_string(), st));
        }
        at = end;
    }
    out
}

fn marker(text: String, theme: &Theme, width: u16) -> Line<'static> {
    let fill = (width as usize).saturating_sub(text.width() + 4) / 2;
    Line::styled(
        format!("{} {text} {}", "─".repeat(fill + 1), "─".repeat(fill + 1)),
        theme.style(Role::Warn),
    )
}

/// One row as a line: time, source, message.
fn row_line(scene: &Scene, logs: &Logs, abs: u64, row: &Row, width: u16) -> Line<'static> {
    let theme = &scene.defs.theme;
    let view = &logs.view;
    let e = match row {
        Row::Line(e) => e,
        Row::Dropped { count, reason, .. } => {
            return marker(super::buffer::dropped_text(*count, reason), theme, width);
        }
        Row::Resynced { .. } => {
            return marker(
                "the stream started over: lines may be missing here".into(),
                theme,
                width,
            );
        }
    };
    let mut spans = Vec::new();
    if let Some(t) = time(e.ts, scene, view.time) {
        spans.push(Span::styled(t, theme.style(Role::Muted)));
        spans.push(Span::raw(" "));
    }
    if view.source {
        let source = pad(&inert(e.source()), SOURCE_WIDTH, false);
        spans.push(Span::styled(source, theme.style(Role::Accent)));
        spans.push(Span::raw(" "));
    }
    spans.extend(mark(
        message_spans(logs, abs, e, theme),
        view,
        theme.style(Role::Match),
    ));
    Line::from(spans)
}

/// Why a window shows nothing: its ends, what the console holds, and
/// what to do.
fn empty_window(
    buf: &crate::tui::logs::buffer::LogBuffer,
    window: Window,
    scene: &Scene,
) -> String {
    let (from, to) = window.ends(scene.zone, scene.now);
    let held = match buf.held_span() {
        Some((first, last)) => {
            let at = |ms| moment(ms, scene.zone, scene.now, false);
            format!("the lines held run from {} to {}", at(first), at(last))
        }
        None => "no line of these logs is held yet".to_string(),
    };
    let filtered = match buf.filter().is_empty() {
        true => String::new(),
        false => " that pass the filter".to_string(),
    };
    format!("0 lines{filtered} between {from} and {to}; {held}. `:widen` doubles the window.")
}

/// Screen rows a line takes at this width.
fn height(line: &Line, width: u16, wrap: bool) -> usize {
    if !wrap || width == 0 {
        return 1;
    }
    line.width().div_ceil(width as usize).max(1)
}

pub fn draw(frame: &mut Frame, area: Rect, scene: &Scene, logs: &Logs) {
    let theme = &scene.defs.theme;
    let view = &logs.view;
    let buf = &scene.model.logs;
    let rows = rows_height(area);
    let below = view.below(buf, rows);
    let mut title = vec![
        Span::styled(" Logs ", theme.style(Role::Title)),
        Span::styled(
            format!(
                "{} shown of {} (max {}) · {} ",
                buf.shown().len(),
                buf.len(),
                buf.max_rows(),
                bytes(buf.bytes() as f64)
            ),
            theme.style(Role::Muted),
        ),
    ];
    if view.follow {
        title.push(Span::styled("following ", theme.style(Role::Ok)));
    } else {
        title.push(Span::styled(
            format!("paused · ▼ {below} below (f follows) "),
            theme.style(Role::Warn),
        ));
    }
    if buf.dropped > 0 {
        title.push(Span::styled(
            format!("{} dropped ", buf.dropped),
            theme.style(Role::Error),
        ));
    }
    if !buf.filter().is_empty() {
        title.push(Span::styled(
            format!("|{}| ", inert(&buf.filter().text)),
            theme.style(Role::Accent),
        ));
    }
    if let Some(window) = buf.filter().window {
        title.push(Span::styled(
            format!("{} ", window.label(scene.zone, scene.now)),
            theme.style(Role::Accent),
        ));
    }
    if let Some(search) = &view.search {
        title.push(Span::styled(
            format!("/{}/ ", inert(&search.text)),
            theme.style(Role::Match),
        ));
    }
    if scene.model.is_stale() {
        title.push(Span::styled("stale ", theme.style(Role::Warn)));
    }
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let shown = buf.shown();
    if shown.is_empty() {
        let what = match buf.filter().window {
            Some(window) => empty_window(buf, window, scene),
            None if buf.is_empty() => "no log lines yet".to_string(),
            None => "no line passes the filter (Esc clears it)".to_string(),
        };
        frame.render_widget(
            Paragraph::new(Span::styled(what, theme.style(Role::Muted)))
                .wrap(ratatui::widgets::Wrap { trim: false }),
            inner,
        );
        return;
    }
    let fits = inner.height as usize;
    let mut used = 0;
    // Rows until the screen is full: from the newest up when following,
    // from the top row down when paused.
    let mut take = |abs: &u64| -> Option<Line<'static>> {
        if used >= fits {
            return None;
        }
        let line = row_line(scene, logs, *abs, buf.get(*abs)?, inner.width);
        used += height(&line, inner.width, view.wrap);
        Some(line)
    };
    let lines: Vec<Line> = if view.follow {
        let mut lines: Vec<Line> = shown.iter().rev().map_while(&mut take).collect();
        lines.reverse();
        lines
    } else {
        shown
            .iter()
            .skip(view.first_shown(buf, rows))
            .map_while(&mut take)
            .collect()
    };
    let mut paragraph = Paragraph::new(lines);
    if view.wrap {
        paragraph = paragraph.wrap(ratatui::widgets::Wrap { trim: false });
        if view.follow && used > fits {
            // The top line is taller than what is left: show its end.
            paragraph = paragraph.scroll(((used - fits) as u16, 0));
        }
    }
    frame.render_widget(paragraph, inner);
}
