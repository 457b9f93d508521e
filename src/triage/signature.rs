//! A log message's signature: the message with what varies between two
//! occurrences of the same error masked (numbers, hex, UUIDs, quoted
//! values), so "timeout after 3012 ms to 10.0.3.7:9042" and "timeout
//! after 2990 ms to 10.0.3.9:9042" are one error, seen twice.

/// Longest signature kept: the start of a message says which error it is.
const MAX_LEN: usize = 160;

/// The signature of `message`; of a JSON line, its message field's.
pub fn signature(message: &str) -> String {
    if message.starts_with('{')
        && let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(message)
        && let Some(text) = ["msg", "message", "error", "err"]
            .iter()
            .find_map(|k| fields.get(*k).and_then(|v| v.as_str()))
    {
        return format!("json: {}", masked(text));
    }
    masked(message)
}

fn masked(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_LEN));
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in message.chars() {
        if out.len() >= MAX_LEN {
            break;
        }
        if let Some(q) = quote {
            if c == q {
                out.push(q);
                out.push('…');
                out.push(q);
                quote = None;
            }
            continue;
        }
        if c == '"' || c == '\'' && word.is_empty() {
            flush(&mut word, &mut out);
            quote = Some(c);
            continue;
        }
        if c.is_alphanumeric() || c == '-' || c == '_' {
            if word.len() < MAX_LEN {
                word.push(c);
            }
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    if quote.is_none() {
        flush(&mut word, &mut out);
    }
    if out.len() > MAX_LEN {
        let mut cut = MAX_LEN;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// Appends `word`, masked when it varies: `#` for a number, `<hex>` and
/// `<uuid>` for identifiers.
fn flush(word: &mut String, out: &mut String) {
    if word.is_empty() {
        return;
    }
    out.push_str(&mask(word));
    word.clear();
}

fn mask(word: &str) -> std::borrow::Cow<'_, str> {
    let is_uuid = word.len() == 36
        && word.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if is_uuid {
        return "<uuid>".into();
    }
    let digits = word.chars().filter(char::is_ascii_digit).count();
    if digits == 0 {
        return word.into();
    }
    if word.chars().all(|c| c.is_ascii_digit()) {
        return "#".into();
    }
    let hex = word
        .strip_prefix("0x")
        .unwrap_or(word)
        .chars()
        .all(|c| c.is_ascii_hexdigit());
    if hex && word.len() >= 6 {
        return "<hex>".into();
    }
    // A word with digits in it (`v2`, `a3`, `3012ms`, `pod-7d9c8`): its
    // digit runs masked, its letters kept.
    let mut masked = String::with_capacity(word.len());
    let mut in_digits = false;
    for c in word.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                masked.push('#');
            }
            in_digits = true;
        } else {
            masked.push(c);
            in_digits = false;
        }
    }
    masked.into()
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn what_varies_is_masked() {
        assert_eq!(
            signature("timeout after 3012 ms to 10.0.3.7:9042"),
            signature("timeout after 2990 ms to 10.0.3.9:9042")
        );
        assert_eq!(
            signature("timeout after 3012 ms to 10.0.3.7:9042"),
            "timeout after # ms to #.#.#.#:#"
        );
        assert_eq!(
            signature("request 3f2a9c1e-4b5d-4e6f-8a9b-0c1d2e3f4a5b failed"),
            "request <uuid> failed"
        );
        assert_eq!(signature("bad block 0xdeadbeef"), "bad block <hex>");
        assert_eq!(
            signature(r#"user "alice" not found"#),
            signature(r#"user "bob" not found"#)
        );
        assert_eq!(signature("pod web-7d9c8 crashed"), "pod web-#d#c# crashed");
        assert_ne!(
            signature("connection refused"),
            signature("connection reset")
        );
    }

    #[test]
    fn a_json_line_is_its_message() {
        assert_eq!(
            signature(r#"{"ts":1,"level":"error","msg":"card declined by issuer","amount":4.5}"#),
            signature(r#"{"ts":2,"level":"error","msg":"card declined by issuer","amount":9.1}"#),
        );
        assert_ne!(
            signature(r#"{"level":"error","msg":"card declined"}"#),
            signature(r#"{"level":"error","msg":"ledger timeout"}"#),
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(10_000);
        assert!(signature(&long).len() <= 200);
        assert_eq!(signature(""), "");
    }
}
