//! How a message is coloured: its own ANSI colours (control characters
//! made inert), else JSON or logfmt colouring, else its priority's colour.
//! Worked out before a frame for the rows new on screen.

use crate::tui::logs::ansi;
use crate::tui::logs::syntax::{Runs, Syntax};

/// Characters of one line drawn at most: a 1 MB line is shown cut.
const MAX_SHOWN: usize = 4000;

/// The part of a message that is drawn: all of it, or its first
/// `MAX_SHOWN` characters and the full length.
pub fn drawn(message: &str) -> (&str, Option<usize>) {
    match message.char_indices().nth(MAX_SHOWN) {
        Some((at, _)) => (&message[..at], Some(message.len())),
        None => (message, None),
    }
}

/// Whether a line is drawn through the ANSI path (its own colours, or
/// control characters to make inert) rather than syntax colouring.
pub fn needs_ansi(text: &str) -> bool {
    ansi::has_sgr(text) || text.chars().any(crate::tui::widgets::text::is_unsafe)
}

/// JSON or logfmt colouring of a message, as `prepare` caches it for the
/// rows on screen: `None` when the line is neither or draws through ANSI.
pub fn syntax_runs(syntax: &Syntax, message: &str) -> Option<Runs> {
    let (text, _) = drawn(message);
    if needs_ansi(text) {
        return None;
    }
    syntax.runs(text)
}
