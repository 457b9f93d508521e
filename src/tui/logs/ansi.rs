//! Log text as styled spans: SGR colour sequences (`ESC[31m`) become
//! styles, and every other escape or control character is shown inert, as
//! a visible symbol, so no log line can move the cursor, clear the screen,
//! set the clipboard or retitle the terminal.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use crate::tui::widgets::text::{inert, is_unsafe};

/// A piece of a line and how to draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub style: Style,
    /// A control sequence shown as symbols, drawn in the theme's inert role.
    pub inert: bool,
}

fn basic(n: u16) -> Color {
    [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
    ][(n % 8) as usize]
}

fn bright(n: u16) -> Color {
    [
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ][(n % 8) as usize]
}

/// Applies SGR parameters to a style; colours only when `colour`.
fn apply_sgr(mut style: Style, params: &[u16], colour: bool) -> Style {
    let mut i = 0;
    let params = if params.is_empty() { &[0][..] } else { params };
    while i < params.len() {
        let p = params[i];
        let extended = |i: &mut usize| -> Option<Color> {
            match params.get(*i + 1) {
                Some(5) => {
                    *i += 2;
                    params.get(*i).map(|n| Color::Indexed(*n as u8))
                }
                Some(2) => {
                    *i += 4;
                    match params.get(*i - 2..=*i) {
                        Some([r, g, b]) => Some(Color::Rgb(*r as u8, *g as u8, *b as u8)),
                        _ => None,
                    }
                }
                _ => None,
            }
        };
        style = match p {
            0 => Style::default(),
            1 => style.add_modifier(Modifier::BOLD),
            2 => style.add_modifier(Modifier::DIM),
            3 => style.add_modifier(Modifier::ITALIC),
            4 => style.add_modifier(Modifier::UNDERLINED),
            7 => style.add_modifier(Modifier::REVERSED),
            22 => style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style.remove_modifier(Modifier::ITALIC),
            24 => style.remove_modifier(Modifier::UNDERLINED),
            27 => style.remove_modifier(Modifier::REVERSED),
            30..=37 if colour => style.fg(basic(p - 30)),
            90..=97 if colour => style.fg(bright(p - 90)),
            40..=47 if colour => style.bg(basic(p - 40)),
            100..=107 if colour => style.bg(bright(p - 100)),
            39 => Style { fg: None, ..style },
            49 => Style { bg: None, ..style },
            38 => match extended(&mut i) {
                Some(c) if colour => style.fg(c),
                _ => style,
            },
            48 => match extended(&mut i) {
                Some(c) if colour => style.bg(c),
                _ => style,
            },
            _ => style,
        };
        i += 1;
    }
    style
}

/// Splits a line into pieces: text in the style its SGR sequences set, and
/// every other escape sequence or control character as inert symbols.
pub fn pieces(text: &str, colour: bool) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut style = Style::default();
    let mut plain = String::new();
    let flush = |plain: &mut String, style: Style, out: &mut Vec<Piece>| {
        if !plain.is_empty() {
            out.push(Piece {
                text: std::mem::take(plain),
                style,
                inert: false,
            });
        }
    };
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\x1b' && chars.peek().map(|(_, c)| *c) == Some('[') {
            // A CSI sequence: parameters, then one final byte.
            chars.next();
            let start = at;
            let mut end = text.len();
            let mut fin = None;
            for (i, c) in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    end = i + c.len_utf8();
                    fin = Some(c);
                    break;
                }
            }
            let seq = &text[start..end];
            let params = &seq[2..seq.len().saturating_sub(usize::from(fin.is_some()))];
            if fin == Some('m') && params.bytes().all(|b| b.is_ascii_digit() || b == b';') {
                flush(&mut plain, style, &mut out);
                let numbers: Vec<u16> = params.split(';').filter_map(|p| p.parse().ok()).collect();
                style = apply_sgr(style, &numbers, colour);
            } else {
                flush(&mut plain, style, &mut out);
                out.push(Piece {
                    text: inert(seq).into_owned(),
                    style,
                    inert: true,
                });
            }
        } else if c == '\t' {
            plain.push_str("    ");
        } else if is_unsafe(c) {
            flush(&mut plain, style, &mut out);
            out.push(Piece {
                text: inert(c.encode_utf8(&mut [0; 4])).into_owned(),
                style,
                inert: true,
            });
        } else {
            plain.push(c);
        }
    }
    flush(&mut plain, style, &mut out);
    out
}

/// Whether a line carries SGR colour of its own (then syntax colouring
/// stays out of its way).
pub fn has_sgr(text: &str) -> bool {
    text.contains("\x1b[")
}

/// Pieces as spans, inert ones in `inert_style`, all over `base`.
pub fn spans(pieces: Vec<Piece>, base: Style, inert_style: Style) -> Vec<Span<'static>> {
    pieces
        .into_iter()
        .map(|p| {
            let style = if p.inert {
                inert_style
            } else {
                base.patch(p.style)
            };
            Span::styled(p.text, style)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_become_styles() {
        let p = pieces(
            "\x1b[31mERROR\x1b[0m job \x1b[1;38;5;208mfailed\x1b[0m",
            true,
        );
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].text, "ERROR");
        assert_eq!(p[0].style.fg, Some(Color::Red));
        assert_eq!(p[1].text, " job ");
        assert_eq!(p[1].style, Style::default());
        assert_eq!(p[2].style.fg, Some(Color::Indexed(208)));
        assert!(p[2].style.add_modifier.contains(Modifier::BOLD));
        let rgb = pieces("\x1b[38;2;1;2;3mx", true);
        assert_eq!(rgb[0].style.fg, Some(Color::Rgb(1, 2, 3)));
    }

    #[test]
    fn no_colour_keeps_weight_only() {
        let p = pieces("\x1b[1;31mloud\x1b[0m", false);
        assert_eq!(p[0].style.fg, None);
        assert!(p[0].style.add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn everything_else_is_inert_and_visible() {
        let text = "a\x1b[2Jb\x1b]52;c;ZXZpbA==\x07c\x1b]8;;http://x\x07link\x08\0\u{202e}";
        let p = pieces(text, true);
        let shown: String = p.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(shown, "a␛[2Jb␛]52;c;ZXZpbA==␇c␛]8;;http://x␇link␈␀\u{FFFD}");
        assert!(
            p.iter()
                .filter(|p| p.inert)
                .all(|p| !p.text.chars().any(char::is_control))
        );
        assert!(
            p.iter().all(|p| !p.text.chars().any(char::is_control)),
            "nothing live reaches the terminal"
        );
        let unfinished = pieces("x\x1b[31", true);
        assert_eq!(
            unfinished
                .iter()
                .map(|p| p.text.as_str())
                .collect::<String>(),
            "x␛[31"
        );
    }
}
