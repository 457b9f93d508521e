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
pub fn guess_priority(text: &str) -> u8 {
    let head: String = text
        .chars()
        .take(160)
        .collect::<String>()
        .to_ascii_uppercase();
    const LEVELS: [(&str, u8); 10] = [
        ("FATAL", 2),
        ("PANIC", 2),
        ("CRIT", 2),
        ("ERROR", 3),
        ("ERR", 3),
        ("WARN", 4),
        ("NOTICE", 5),
        ("INFO", 6),
        ("DEBUG", 7),
        ("TRACE", 7),
    ];
    let word_at = |at: usize, len: usize| {
        let before = head[..at].chars().next_back();
        let after = head[at + len..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        edge(before) && edge(after)
    };
    let mut best: Option<(usize, u8)> = None;
    for (word, priority) in LEVELS {
        let mut from = 0;
        while let Some(found) = head[from..].find(word) {
            let at = from + found;
            if word_at(at, word.len()) {
                if best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, priority));
                }
                break;
            }
            from = at + word.len();
        }
    }
    best.map_or(6, |(_, p)| p)
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
