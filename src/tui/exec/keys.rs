//! Keys as a terminal sends them: what the exec pane writes to the
//! process for each key crossterm reports (xterm's encoding).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The bytes for `key`, or none for keys a terminal sends nothing for.
/// `app_cursor` is the program's cursor-keys mode (DECCKM, as `vi` and
/// `less` set it).
pub fn encode(key: &KeyEvent, app_cursor: bool) -> Vec<u8> {
    let mods = key.modifiers;
    let (shift, alt, ctrl) = (
        mods.contains(KeyModifiers::SHIFT),
        mods.contains(KeyModifiers::ALT),
        mods.contains(KeyModifiers::CONTROL),
    );
    // xterm's modifier parameter: 1 + shift + 2·alt + 4·ctrl.
    let param = 1 + u8::from(shift) + 2 * u8::from(alt) + 4 * u8::from(ctrl);
    let modified = param > 1;
    // A cursor-style key: ESC [ X, ESC O X in application mode, or
    // ESC [ 1 ; m X with modifiers.
    let cursor = |final_byte: u8| -> Vec<u8> {
        if modified {
            format!("\x1b[1;{param}{}", final_byte as char).into_bytes()
        } else if app_cursor {
            vec![0x1b, b'O', final_byte]
        } else {
            vec![0x1b, b'[', final_byte]
        }
    };
    // A tilde key: ESC [ n ~, or ESC [ n ; m ~.
    let tilde = |n: u8| -> Vec<u8> {
        if modified {
            format!("\x1b[{n};{param}~").into_bytes()
        } else {
            format!("\x1b[{n}~").into_bytes()
        }
    };
    let with_alt = |mut bytes: Vec<u8>| -> Vec<u8> {
        if alt {
            bytes.insert(0, 0x1b);
        }
        bytes
    };
    match key.code {
        KeyCode::Char(c) if ctrl => with_alt(match control(c) {
            Some(byte) => vec![byte],
            None => c.to_string().into_bytes(),
        }),
        KeyCode::Char(c) => with_alt(c.to_string().into_bytes()),
        KeyCode::Enter => with_alt(vec![b'\r']),
        KeyCode::Tab => with_alt(vec![b'\t']),
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Backspace if ctrl => with_alt(vec![0x08]),
        KeyCode::Backspace => with_alt(vec![0x7f]),
        KeyCode::Esc => with_alt(vec![0x1b]),
        KeyCode::Up => cursor(b'A'),
        KeyCode::Down => cursor(b'B'),
        KeyCode::Right => cursor(b'C'),
        KeyCode::Left => cursor(b'D'),
        KeyCode::Home => cursor(b'H'),
        KeyCode::End => cursor(b'F'),
        KeyCode::Insert => tilde(2),
        KeyCode::Delete => tilde(3),
        KeyCode::PageUp => tilde(5),
        KeyCode::PageDown => tilde(6),
        KeyCode::F(n @ 1..=4) => {
            let final_byte = b'P' + (n - 1);
            if modified {
                format!("\x1b[1;{param}{}", final_byte as char).into_bytes()
            } else {
                vec![0x1b, b'O', final_byte]
            }
        }
        KeyCode::F(n @ 5..=12) => tilde([15, 17, 18, 19, 20, 21, 23, 24][(n - 5) as usize]),
        _ => Vec::new(),
    }
}

/// The control character Ctrl+`c` sends. Crossterm reports the bytes
/// 0x1c–0x1f as Ctrl+4..7, so those are read both ways.
fn control(c: char) -> Option<u8> {
    Some(match c.to_ascii_lowercase() {
        c @ 'a'..='z' => c as u8 - b'a' + 1,
        '@' | ' ' | '2' => 0,
        '[' | '3' => 0x1b,
        '\\' | '4' => 0x1c,
        ']' | '5' => 0x1d,
        '^' | '6' => 0x1e,
        '_' | '-' | '7' => 0x1f,
        '?' | '8' => 0x7f,
        _ => return None,
    })
}

/// Whether `key` is the chord that leaves an exec pane for the console:
/// Ctrl-] (telnet's escape; crossterm may report it as Ctrl-5).
pub fn is_leave_chord(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char(']') | KeyCode::Char('5'))
}

/// Pasted text as the program asked for it: inside bracketed-paste
/// markers when it turned that mode on (so a shell does not run each
/// line), with line ends as a terminal sends them.
pub fn paste(text: &str, bracketed: bool) -> Vec<u8> {
    let body = text.replace("\r\n", "\r").replace('\n', "\r");
    if bracketed {
        // A paste must not end the bracket early.
        let body = body.replace("\x1b[201~", "");
        format!("\x1b[200~{body}\x1b[201~").into_bytes()
    } else {
        body.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    fn plain(code: KeyCode) -> Vec<u8> {
        encode(&key(code, KeyModifiers::NONE), false)
    }

    #[test]
    fn keys_encode_as_xterm_sends_them() {
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        let alt = KeyModifiers::ALT;
        assert_eq!(plain(KeyCode::Char('a')), b"a");
        assert_eq!(plain(KeyCode::Char('é')), "é".as_bytes());
        assert_eq!(plain(KeyCode::Enter), b"\r");
        assert_eq!(plain(KeyCode::Backspace), b"\x7f");
        assert_eq!(plain(KeyCode::Up), b"\x1b[A");
        assert_eq!(
            encode(&key(KeyCode::Up, none), true),
            b"\x1bOA",
            "application cursor mode"
        );
        assert_eq!(plain(KeyCode::Home), b"\x1b[H");
        assert_eq!(plain(KeyCode::End), b"\x1b[F");
        assert_eq!(plain(KeyCode::PageUp), b"\x1b[5~");
        assert_eq!(plain(KeyCode::PageDown), b"\x1b[6~");
        assert_eq!(plain(KeyCode::Delete), b"\x1b[3~");
        assert_eq!(plain(KeyCode::F(1)), b"\x1bOP");
        assert_eq!(plain(KeyCode::F(4)), b"\x1bOS");
        assert_eq!(plain(KeyCode::F(5)), b"\x1b[15~");
        assert_eq!(plain(KeyCode::F(12)), b"\x1b[24~");
        assert_eq!(plain(KeyCode::BackTab), b"\x1b[Z");
        assert_eq!(encode(&key(KeyCode::Char('c'), ctrl), false), [3]);
        assert_eq!(encode(&key(KeyCode::Char('d'), ctrl), false), [4]);
        assert_eq!(encode(&key(KeyCode::Char('@'), ctrl), false), [0]);
        assert_eq!(encode(&key(KeyCode::Char('\\'), ctrl), false), [0x1c]);
        assert_eq!(encode(&key(KeyCode::Char('x'), alt), false), b"\x1bx");
        assert_eq!(
            encode(&key(KeyCode::Char('b'), ctrl | alt), false),
            b"\x1b\x02"
        );
        assert_eq!(encode(&key(KeyCode::Right, ctrl), false), b"\x1b[1;5C");
        assert_eq!(
            encode(&key(KeyCode::Left, KeyModifiers::SHIFT), true),
            b"\x1b[1;2D"
        );
        assert_eq!(encode(&key(KeyCode::PageUp, alt), false), b"\x1b[5;3~");
        assert_eq!(encode(&key(KeyCode::F(2), ctrl), false), b"\x1b[1;5Q");
    }

    #[test]
    fn the_leave_chord_is_ctrl_right_bracket_however_reported() {
        let ctrl = KeyModifiers::CONTROL;
        assert!(is_leave_chord(&key(KeyCode::Char(']'), ctrl)));
        assert!(is_leave_chord(&key(KeyCode::Char('5'), ctrl)));
        assert!(!is_leave_chord(&key(
            KeyCode::Char(']'),
            KeyModifiers::NONE
        )));
    }

    #[test]
    fn pastes_are_bracketed_when_asked_and_cannot_close_the_bracket() {
        assert_eq!(paste("a\nb", false), b"a\rb");
        assert_eq!(paste("ls\n", true), b"\x1b[200~ls\r\x1b[201~");
        assert_eq!(
            paste("x\x1b[201~rm -rf", true),
            b"\x1b[200~xrm -rf\x1b[201~"
        );
    }
}
