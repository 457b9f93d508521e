//! Strings from the wire, made safe and fitted to a width.
//!
//! Every string that came off the wire is drawn through [`inert`]: control
//! and escape characters become visible symbols (`␛`, `␇`, `␀`), so no task
//! name or label can move the cursor, clear the screen or retitle the
//! terminal. Only the exec pane interprets escapes, through its emulator.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A regex typed by the operator: case-insensitive, and size-limited so a
/// pathological pattern cannot eat the console's memory.
pub fn user_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
}

/// A char that must not reach the terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn visible(c: char) -> char {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\u{7f}' => '␡',
        _ => '\u{FFFD}',
    }
}

pub fn inert(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if is_unsafe(c) { visible(c) } else { c })
            .collect(),
    )
}

/// The glyphs the console draws itself (borders, sparkline and history
/// blocks, braille, `…`, arrows, bullets) as ASCII, for terminals or fonts
/// without them (`--ascii`): a block's height becomes one of ` .:-=+*#@`.
/// Other text is left as it is.
pub fn ascii(s: &str) -> Cow<'_, str> {
    const RAMP: [char; 9] = [' ', '.', ':', '-', '=', '+', '*', '#', '@'];
    let glyph = |c: char| match c {
        '▁'..='█' => Some(RAMP[(c as u32 - '▁' as u32 + 1) as usize]),
        '\u{2800}'..='\u{28FF}' => {
            // Braille: by how many dots are up.
            let dots = (c as u32 - 0x2800).count_ones() as usize;
            Some(RAMP[dots.min(8)])
        }
        '…' => Some('~'),
        '↑' | '▲' => Some('^'),
        '↓' | '▼' => Some('v'),
        '─' | '━' => Some('-'),
        '│' | '┃' => Some('|'),
        '┌' | '┐' | '└' | '┘' | '├' | '┤' | '┬' | '┴' | '┼' => Some('+'),
        '›' | '→' => Some('>'),
        '·' => Some('.'),
        '●' => Some('*'),
        _ => None,
    };
    if !s.chars().any(|c| glyph(c).is_some()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| glyph(c).unwrap_or(c)).collect())
}

/// Cuts `s` to at most `width` columns, ending in `…` when cut.
pub fn fit(s: &str, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::with_capacity(width + 2);
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    // Char by char undercounts sequences drawn wider than their parts (a
    // heart with an emoji variation selector is two columns): trim back
    // until the whole is as narrow as it must be.
    while out.width() > width - 1 {
        out.pop();
    }
    out.push('…');
    Cow::Owned(out)
}

/// `s` fitted and padded to exactly `width` columns.
pub fn pad(s: &str, width: usize, right: bool) -> String {
    let s = fit(s, width);
    let fill = width.saturating_sub(s.width());
    if right {
        format!("{}{s}", " ".repeat(fill))
    } else {
        format!("{s}{}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_counts_sequences_as_the_terminal_draws_them() {
        // A heart and an emoji variation selector: two columns, not one.
        for columns in 1..5 {
            let fitted = fit("\u{2764}\u{fe0f}=xy", columns);
            assert!(fitted.width() <= columns, "{fitted:?} in {columns}");
        }
        assert_eq!(fit("\u{2764}\u{fe0f}=xy", 4), "\u{2764}\u{fe0f}=…");
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
    }

    #[test]
    fn control_sequences_become_visible() {
        assert_eq!(inert("plain"), "plain");
        assert_eq!(inert("a\x1b[2Jb"), "a␛[2Jb");
        assert_eq!(inert("\x1b]52;c;ZXZpbA==\x07"), "␛]52;c;ZXZpbA==␇");
        assert_eq!(inert("x\u{9b}y\u{202e}z\0"), "x\u{FFFD}y\u{FFFD}z␀");
        assert_eq!(inert("back\x08space\x7f"), "back␈space␡");
    }

    #[test]
    fn fits_by_display_width() {
        assert_eq!(fit("hello", 5), "hello");
        assert_eq!(fit("hello!", 5), "hell…");
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(pad("ab", 4, true), "  ab");
        assert_eq!(pad("日本語", 5, false), "日本…");
        assert_eq!(fit("abc", 0), "");
    }
}
