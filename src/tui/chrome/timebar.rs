//! The replay's time bar, one row under the view: play state and speed,
//! the position's time, a track with the markers (▲) and the position
//! (●), and the recording's end.
//!
//! `▶ 2×  14:02:11 ━━━━━━▲━━━●───────▲──────── 14:31:05  ▲ the deploy`

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::api::UnixMillis;
use crate::tui::config::theme::{Role, Theme};
use crate::tui::widgets::text::inert;

/// What the bar shows; the replay loop keeps it up to date.
#[derive(Debug, Clone, Default)]
pub struct ReplayBar {
    pub position: UnixMillis,
    pub first: UnixMillis,
    pub last: UnixMillis,
    pub playing: bool,
    pub speed: f64,
    pub marks: Vec<(UnixMillis, String)>,
    /// The recording ends early (cut short, damaged): why.
    pub trouble: Option<String>,
    /// The view follows the presenter's.
    pub presenter: bool,
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    bar: &ReplayBar,
    theme: &Theme,
    zone: &jiff::tz::TimeZone,
) {
    let clock = |t: UnixMillis| {
        jiff::Timestamp::from_millisecond(t)
            .map(|ts| {
                ts.to_zoned_datetime(zone.clone())
                    .strftime("%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let state = if bar.playing { "▶" } else { "⏸" };
    let speed = match bar.speed {
        s if s < 1.0 => format!("{}×", if s == 0.25 { "¼" } else { "½" }),
        s => format!("{s}×"),
    };
    let follows = if bar.presenter { " ◉ presenter" } else { "" };
    let head = format!(" {state} {speed}{follows}  {} ", clock(bar.position));
    let tail = format!(" {} ", clock(bar.last));
    // The nearest marker before the position, named after the bar.
    let label = bar
        .marks
        .iter()
        .rev()
        .find(|(t, _)| *t <= bar.position)
        .map(|(_, l)| format!(" ▲ {}", inert(l)))
        .unwrap_or_default();
    let width = area.width as usize;
    let fixed = head.chars().count() + tail.chars().count();
    let track = width.saturating_sub(fixed + label.chars().count().min(30));
    let mut cells: Vec<char> = vec!['─'; track];
    if track > 0 {
        let span = (bar.last - bar.first).max(1) as f64;
        let at =
            |t: UnixMillis| (((t - bar.first) as f64 / span) * (track - 1) as f64).round() as usize;
        let here = at(bar.position.clamp(bar.first, bar.last));
        for c in cells.iter_mut().take(here) {
            *c = '━';
        }
        for (t, _) in &bar.marks {
            cells[at((*t).clamp(bar.first, bar.last)).min(track - 1)] = '▲';
        }
        cells[here.min(track - 1)] = '●';
    }
    let mut spans = vec![
        Span::styled(head, theme.style(Role::HeaderAccent)),
        Span::styled(
            cells.into_iter().collect::<String>(),
            theme.style(Role::Accent),
        ),
        Span::styled(tail, theme.style(Role::Muted)),
        Span::styled(label, theme.style(Role::Warn)),
    ];
    if let Some(why) = &bar.trouble {
        spans.push(Span::styled(
            format!("  {}", inert(why)),
            theme.style(Role::Error),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
