//! `day2top replay FILE --asciicast OUT.cast`: a recording rendered as an
//! asciicast v2 file, for people without day2top (asciinema's player,
//! `asciinema play`, a web page). The real console draws the recording
//! following the presenter's views, at a fixed size, a frame every
//! [`STEP`] of recorded time; each frame's changed cells, as the escape
//! sequences a terminal would get, are one output event at its time.

use std::io::Write;

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use crate::api::UnixMillis;
use crate::record::player::Player;
use crate::tui::app::App;
use crate::tui::replay::Replay;
use crate::tui::screen;

/// Recorded time between two frames.
pub const STEP: UnixMillis = 100;

/// What was written.
pub struct Written {
    pub frames: usize,
    pub events: usize,
    /// Seconds of recording.
    pub seconds: f64,
}

/// Renders the whole recording into `out` at `size` (columns, rows).
pub fn export(
    mut player: Player,
    app: &mut App,
    size: (u16, u16),
    out: &mut impl Write,
) -> Result<Written, String> {
    let (first, last) = player.span();
    player.playing = false;
    player.follow_presenter = true;
    app.size = size;
    let title = format!("day2top replay of {}", player.recording.base.display());
    let mut replay = Replay::new(player, app);
    let header = serde_json::json!({
        "version": 2,
        "width": size.0,
        "height": size.1,
        "timestamp": first / 1000,
        "title": title,
        "env": {"TERM": "xterm-256color"},
    });
    let io = |e: std::io::Error| format!("cannot write the asciicast: {e}");
    writeln!(out, "{header}").map_err(io)?;
    // A clear screen, the cursor hidden: where every frame's changes land.
    event(out, 0.0, "\x1b[2J\x1b[H\x1b[?25l").map_err(io)?;
    let viewport = Viewport::Fixed(Rect::new(0, 0, size.0, size.1));
    let drawn = Drawn::default();
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(drawn.clone()),
        TerminalOptions { viewport },
    )
    .map_err(|e| e.to_string())?;
    let mut written = Written {
        frames: 0,
        events: 1,
        seconds: (last - first) as f64 / 1000.0,
    };
    let mut t = first;
    loop {
        replay.advance_to(app, t);
        app.now = t;
        app.prepare();
        terminal
            .draw(|frame| screen::draw(frame, app))
            .map_err(|e| e.to_string())?;
        written.frames += 1;
        let bytes = std::mem::take(&mut *drawn.0.borrow_mut());
        if !bytes.is_empty() {
            let seconds = (t - first) as f64 / 1000.0;
            event(out, seconds, &String::from_utf8_lossy(&bytes)).map_err(io)?;
            written.events += 1;
        }
        if t >= last {
            break;
        }
        t = (t + STEP).min(last);
    }
    event(out, written.seconds, "\x1b[?25h").map_err(io)?;
    out.flush().map_err(io)?;
    Ok(written)
}

/// What the terminal was sent, kept for the next event.
#[derive(Clone, Default)]
struct Drawn(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for Drawn {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One output event: `[seconds, "o", text]`.
fn event(out: &mut impl Write, seconds: f64, text: &str) -> std::io::Result<()> {
    let line = serde_json::json!([(seconds * 1000.0).round() / 1000.0, "o", text]);
    writeln!(out, "{line}")
}
