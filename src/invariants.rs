//! What must hold for every input to each parser that takes bytes from
//! outside: the stream's frames (both ways), exec frames, OTLP bodies,
//! statsd lines, journal JSON, cursors, filter and search expressions, the
//! TOML files, and the path that makes terminal text inert.
//!
//! Each function takes arbitrary bytes and panics when an invariant
//! breaks. The fuzz targets (`fuzz/`) and the property tests
//! (`tests/properties.rs`) both call these, so the two can never check
//! different things.

use crate::api::{self, ClientFrame, ClientMsg, GatewayFrame, ServerMsg};
use crate::tui::widgets::text::{inert, is_unsafe};

/// One invariant: it panics when its input breaks it.
pub type Check = fn(&[u8]);

/// Every invariant by the name of its fuzz target.
pub const ALL: [(&str, Check); 11] = [
    ("stream_client_frame", stream_client_frame),
    ("stream_server_frame", stream_server_frame),
    ("binary_frame", binary_frame),
    ("exec_frame", exec_frame),
    ("otlp", otlp),
    ("statsd", statsd),
    ("journal_json", journal_json),
    ("cursors", cursors),
    ("filters", filters),
    ("config_toml", config_toml),
    ("ansi_inert", ansi_inert),
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// A stream frame from a client, as the gateway reads it: a message, and
/// the filter of a subscription compiled. Nothing panics; what reads back
/// reads the same after a round trip.
pub fn stream_client_frame(data: &[u8]) {
    let Ok(msg) = serde_json::from_str::<ClientMsg>(&text(data)) else {
        return;
    };
    if let ClientMsg::Subscribe { filter, .. } = &msg {
        let _ = crate::gateway::Matcher::new(filter);
    }
    let again = serde_json::to_string(&msg).expect("client messages serialize");
    let back: ClientMsg = serde_json::from_str(&again).expect("what was written reads back");
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        again,
        "a round trip changes nothing"
    );
}

/// A stream frame from the gateway, as the console reads it: the fast
/// path for `event` frames agrees with plain serde on every input.
pub fn stream_server_frame(data: &[u8]) {
    let text = text(data);
    let fast = crate::client::decode_server_frame(&text);
    let slow = serde_json::from_str::<ServerMsg>(&text);
    if let (Ok(fast), Ok(slow)) = (&fast, &slow) {
        assert_eq!(fast, slow, "the fast path reads what serde reads");
    }
    // The fast path may refuse what serde takes only when it is not an event.
    if fast.is_err() && slow.is_ok() {
        assert!(!matches!(slow, Ok(ServerMsg::Event { .. })));
    }
}

/// A binary event frame from the gateway: read or refused with a reason,
/// never a panic; what reads writes back to a frame that reads the same.
pub fn binary_frame(data: &[u8]) {
    use crate::api::binary_frame;
    let Ok(ServerMsg::Event { sub, events }) = binary_frame::decode(data) else {
        return;
    };
    let mut again = binary_frame::FrameWriter::new(&sub, data.len());
    for event in &events {
        assert!(
            again.push(event.seq, event.op, &event.data),
            "a binary frame holds only what has a binary form"
        );
    }
    let again = binary_frame::decode(&again.finish());
    // Fields go as JSON, which may be spelled otherwise, and a NaN is not
    // equal to itself: what reads again is compared as JSON.
    let json = |msg: &ServerMsg| serde_json::to_value(msg).ok();
    let first = ServerMsg::Event { sub, events };
    assert_eq!(
        again.as_ref().ok().and_then(json),
        json(&first),
        "a frame written from what was read reads the same"
    );
}

/// Exec frames both ways: nothing panics, and stdin and output frames
/// carry their payload unchanged.
pub fn exec_frame(data: &[u8]) {
    let _ = ClientFrame::parse(data);
    let _ = GatewayFrame::parse(data);
    assert_eq!(
        ClientFrame::parse(&api::frame(api::channel::STDIN, data)),
        ClientFrame::Stdin(data)
    );
    assert_eq!(
        GatewayFrame::parse(&api::frame(api::channel::STDOUT, data)),
        GatewayFrame::Stdout(data)
    );
}

/// An OTLP body, gzipped or not, in either encoding: decoded within the
/// limits, and every span taken has a trace and a span id.
pub fn otlp(data: &[u8]) {
    use crate::collect::otlp::{self, Encoding};
    let limit = 1 << 20;
    let bodies = [Some(data.to_vec()), otlp::gunzip(data, limit).ok()];
    for body in bodies.into_iter().flatten() {
        assert!(body.len() <= limit.max(data.len()));
        for encoding in [Encoding::Protobuf, Encoding::Json] {
            if let Ok(request) = otlp::decode(&body, encoding) {
                let (spans, _rejected, _why) = otlp::spans(request);
                for span in spans {
                    assert!(!span.trace_id.is_empty() && !span.span_id.is_empty());
                }
            }
        }
    }
}

/// statsd/DogStatsD datagrams: every line parses or is refused with a
/// reason, and what parses aggregates into finite samples.
pub fn statsd(data: &[u8]) {
    use crate::collect::statsd::aggregate::Aggregator;
    use crate::collect::statsd::parse::{Line, parse};
    let mut aggregate = Aggregator::new(100);
    for line in text(data).lines() {
        if let Ok(Line::Metric(m)) = parse(line) {
            aggregate.add(m, 1_000);
        }
    }
    for sample in aggregate.flush(2_000, 1.0) {
        assert!(!sample.name.is_empty());
    }
}

/// A line of `journalctl -o json`: an entry or nothing, and an entry's
/// cursor is a journal cursor.
pub fn journal_json(data: &[u8]) {
    if let Some(entry) = crate::collect::journal::parse(&text(data), "node") {
        assert!(entry.cursor.starts_with("j:"), "{}", entry.cursor);
        assert!(entry.priority <= 7);
    }
}

/// Cursors from clients: a file cursor resolves against no file but the
/// followed ones (here, none), and a journal cursor that passes the check
/// holds nothing a command line could misread.
pub fn cursors(data: &[u8]) {
    let text = text(data);
    let registry = crate::collect::logfile::FileRegistry::default();
    for cursor in [text.to_string(), format!("f:{text}"), format!("j:{text}")] {
        match registry.entries_after(&cursor, "node", 10) {
            None => assert!(!cursor.starts_with("f:")),
            Some(found) => assert!(found.is_err(), "no file is followed: {cursor}"),
        }
    }
    if let Some((dev, ino, offset)) = crate::collect::logfile::parse_cursor(&text) {
        assert_eq!(format!("{dev}:{ino}:{offset}"), text.as_ref());
    }
    if crate::collect::journal::is_journal_cursor(&text) {
        assert!(!text.starts_with('-') && !text.contains(char::is_whitespace));
    }
}

/// What an operator types: the log filter, table filters, search, and a
/// regex folded for case-insensitive search, which must agree with a
/// plain case-insensitive regex.
pub fn filters(data: &[u8]) {
    use crate::tui::logs::folded::{FoldedRegex, fold_into};
    let text = text(data);
    let (pattern, haystack) = text
        .split_once('\n')
        .unwrap_or((&text, "Kelvin K ſ ERROR took=12ms"));
    let _ = crate::tui::logs::buffer::LogFilter::parse(pattern);
    let _ = crate::tui::tables::filter::RowFilter::new(pattern);
    let _ = crate::tui::logs::view::Search::new(pattern);
    let _ = crate::api::parse_span(pattern);
    let Ok(folded) = FoldedRegex::new(pattern) else {
        return;
    };
    let Ok(plain) = regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .multi_line(true)
        .size_limit(1 << 20)
        .build()
    else {
        return;
    };
    for line in haystack.lines() {
        let mut folded_line = String::new();
        fold_into(line, &mut folded_line);
        assert_eq!(
            folded.is_match(line, &folded_line),
            plain.is_match(line),
            "pattern {pattern:?} on {line:?}"
        );
    }
}

/// The TOML files a user writes: config, tokens, checks, keymaps, themes,
/// views and dashboards. Each loads or says why; none panics.
pub fn config_toml(data: &[u8]) {
    use crate::tui::config::toml::parse;
    let text = text(data);
    let _ = parse::<crate::config::ConfigFile>("fuzz", &text);
    let _ = crate::gateway::Tokens::parse(&text);
    let _ = crate::collect::checks::parse(&text);
    if let Ok(file) = parse::<crate::tui::config::keymap::KeymapFile>("fuzz", &text) {
        let _ = crate::tui::config::keymap::Keymap::from_file("fuzz", file);
    }
    if let Ok(file) = parse::<crate::tui::config::theme::ThemeFile>("fuzz", &text) {
        let _ = crate::tui::config::theme::Theme::from_file("fuzz", &file);
    }
    if let Ok(file) = parse::<crate::tui::config::viewdef::TableFile>("fuzz", &text) {
        let _ = crate::tui::config::viewdef::TableDef::from_file(
            file,
            crate::tui::tables::fields::TASK_FIELDS,
        );
    }
    let _ = crate::tui::config::dashboard::parse_dash("fuzz", "dashboard", &text);
}

/// Text from a log or a terminal: the inert form holds no character a
/// terminal would act on, and the ANSI path lets none through either.
pub fn ansi_inert(data: &[u8]) {
    let text = text(data);
    assert!(!inert(&text).chars().any(is_unsafe));
    for piece in crate::tui::logs::ansi::pieces(&text, true) {
        assert!(!piece.text.chars().any(is_unsafe), "{:?}", piece.text);
    }
    // Fitting shown (inert) text never overflows its columns.
    let shown = inert(&text);
    for columns in [0, 1, 2, 7, 20] {
        let fitted = crate::tui::widgets::text::fit(&shown, columns);
        let width = unicode_width::UnicodeWidthStr::width(fitted.as_ref());
        assert!(
            width <= columns,
            "{fitted:?} is {width} columns, not {columns}"
        );
    }
}
