//! Turning raw log lines into entries: text or bytes, and a priority
//! guessed from the common level words when the source gives none.

use base64::Engine;

use crate::api::LogEntry;

/// A longer line is cut, and says so: a log line is not a core dump.
pub const MAX_LINE: usize = 1 << 20;

/// The message text of raw bytes: the text itself, or (not UTF-8) a lossy
/// rendering plus the bytes in base64. A cut line says how long it was.
pub fn message(raw: &[u8]) -> (String, Option<String>) {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let (kept, cut) = if raw.len() > MAX_LINE {
        (&raw[..MAX_LINE], Some(raw.len()))
    } else {
        (raw, None)
    };
    let (mut text, base64) = match std::str::from_utf8(kept) {
        Ok(text) => (text.to_string(), None),
        Err(_) => (
            String::from_utf8_lossy(kept).into_owned(),
            Some(base64::engine::general_purpose::STANDARD.encode(kept)),
        ),
    };
    if let Some(len) = cut {
        text.push_str(&format!(
            " [day2top: line cut at {MAX_LINE} of {len} bytes]"
        ));
    }
    (text, base64)
}

/// A priority from the level words near the start of a line: `ERROR`,
/// `level=warn`, `"level":"debug"`, `[FATAL]`, … and 6 (info) otherwise.
/// The first word (a run of ASCII letters and digits) in the first 160
/// bytes that names a level wins. Every line a file source reads comes
/// through here, so it allocates nothing.
pub fn guess_priority(text: &str) -> u8 {
    const LEVELS: [(&[u8], u8); 10] = [
        (b"FATAL", 2),
        (b"PANIC", 2),
        (b"CRIT", 2),
        (b"ERROR", 3),
        (b"ERR", 3),
        (b"WARN", 4),
        (b"NOTICE", 5),
        (b"INFO", 6),
        (b"DEBUG", 7),
        (b"TRACE", 7),
    ];
    let head = &text.as_bytes()[..text.len().min(160)];
    head.split(|b| !b.is_ascii_alphanumeric())
        .filter(|word| (3..=6).contains(&word.len()))
        .find_map(|word| {
            LEVELS
                .iter()
                .find(|(level, _)| level.eq_ignore_ascii_case(word))
                .map(|&(_, p)| p)
        })
        .unwrap_or(6)
}

/// An entry with only the essentials set, for sources to fill in.
pub fn entry(cursor: String, ts: i64, node: &str, raw: &[u8]) -> LogEntry {
    let (message, message_base64) = message(raw);
    LogEntry {
        cursor,
        ts,
        node: node.to_string(),
        unit: None,
        task: None,
        file: None,
        identifier: None,
        stream: None,
        priority: guess_priority(&message),
        message,
        message_base64,
        fields: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_from_level_words() {
        assert_eq!(guess_priority("2024-01-01 ERROR something broke"), 3);
        assert_eq!(guess_priority("level=warn msg=slow"), 4);
        assert_eq!(guess_priority(r#"{"level":"debug","msg":"x"}"#), 7);
        assert_eq!(guess_priority("[FATAL] out of memory"), 2);
        assert_eq!(
            guess_priority("an error-free line about TERRORS"),
            3,
            "error as a word"
        );
        assert_eq!(
            guess_priority("INFO starting; an ERROR later"),
            6,
            "the first level word wins"
        );
        assert_eq!(guess_priority("just text"), 6);
        assert_eq!(guess_priority("ünïcödé WARN ok"), 4);
    }

    #[test]
    fn bytes_are_kept_and_long_lines_cut() {
        let (text, b64) = message(b"caf\xe9 ok\r");
        assert_eq!(text, "caf\u{FFFD} ok");
        assert_eq!(b64.as_deref(), Some("Y2Fm6SBvaw=="));
        let long = vec![b'x'; MAX_LINE + 10];
        let (text, _) = message(&long);
        assert!(text.ends_with(&format!(
            "line cut at {MAX_LINE} of {} bytes]",
            MAX_LINE + 10
        )));
    }
}
