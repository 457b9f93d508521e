//! Property tests over every parser that takes bytes from outside, with
//! the invariants the fuzz targets check (`day2top::invariants`): a few
//! hundred generated inputs each, in seconds. `benches/fuzz.sh` runs the
//! same invariants for millions of inputs. The fuzz seeds and every input
//! a fuzzer found a crash with (`tests/fuzz-regressions/TARGET/`) are run
//! here too, so a fixed crash stays fixed.

use day2top::invariants;
use proptest::prelude::*;

/// Structured inputs: text built from the pieces a parser cares about, so
/// generated inputs get past the first check.
fn pieces(parts: Vec<&'static str>) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(parts).prop_map(String::from),
            1 => "[a-zA-Z0-9 ._:=,-]{0,6}".prop_map(String::from),
            1 => any::<char>().prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        // Failures are kept as files in tests/fuzz-regressions by hand, not by proptest.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn stream_client_frames(text in pieces(vec![
        r#"{"type":"subscribe","sub":"s","topic":"logs","filter":{"#, r#"{"type":"unsubscribe","sub":""#,
        r#"{"type":"ping"}"#, r#""regex":""#, r#""node":"#, r#""priority":"#, r#""from":{"cursor":""#,
        r#""from":{"seq":"#, r#""epoch":""#, r#""tail":"#, "}", "\"", ",", "[", "]", "(", "*", "\\",
    ])) {
        invariants::stream_client_frame(text.as_bytes());
    }

    #[test]
    fn stream_server_frames(text in pieces(vec![
        r#"{"type":"event","sub":"l","events":["#, r#"{"seq":1,"op":"added","data":"#,
        r#"{"sample":{"name":"x","tags":{},"ts":1,"value":2.5}}"#, r#"{"type":"gap","sub":"l","dropped":"#,
        r#"{"type":"snapshot","sub":"n","seq":7,"epoch":"e","items":[]}"#, "}", "]", ",", "\"",
    ])) {
        invariants::stream_server_frame(text.as_bytes());
    }

    #[test]
    fn exec_frames(data in prop::collection::vec(any::<u8>(), 0..64)) {
        invariants::exec_frame(&data);
    }

    #[test]
    fn otlp_bodies(data in prop::collection::vec(any::<u8>(), 0..256)) {
        invariants::otlp(&data);
    }

    #[test]
    fn otlp_json(text in pieces(vec![
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"#, r#""traceId":"5b8efff798038103d269b633813fc60c","#,
        r#""spanId":"eee19b7ec3c1b174","#, r#""parentSpanId":"","#, r#""startTimeUnixNano":"1","#,
        r#""endTimeUnixNano":"2","#, r#""name":"x""#, "}]}]}]}", ",", r#""attributes":[{"key":"k","value":{"intValue":"1"}}]"#,
    ])) {
        invariants::otlp(text.as_bytes());
    }

    #[test]
    fn statsd_lines(text in pieces(vec![
        "page.views", ":", "1", "-3", "+2", "1.5e3", "|c", "|g", "|ms", "|h", "|s", "|d", "|@0.5", "|@0",
        "|#", "env:prod", ",", "\n", "_e{5,4}:", "_sc|", "|m:", "nan", "inf",
    ])) {
        invariants::statsd(text.as_bytes());
    }

    #[test]
    fn journal_lines(text in pieces(vec![
        r#"{"__CURSOR":"s=1;i=2","#, r#""__REALTIME_TIMESTAMP":"1700000000000000","#, r#""MESSAGE":"#,
        r#""PRIORITY":"#, "\"3\"", "[104,105,255]", r#""_PID":"42""#, "}", ",", "\"", "null", "[]",
    ])) {
        invariants::journal_json(text.as_bytes());
    }

    #[test]
    fn cursors(text in pieces(vec!["f:", "j:", ":", "0", "18446744073709551615", "-1", "s=", ";", "/etc/passwd", "\n", " "])) {
        invariants::cursors(text.as_bytes());
    }

    #[test]
    fn filters_and_search(text in pieces(vec![
        "p<=", "p=", "3", "src=", "!", "(?i)", "(?-i)", "ERROR", "error", "took=1[0-9]ms", "K", "ſ", "k", "s",
        "\\b", "^", "$", "|", "(", ")", "[", "]", "[^a-z]", "\\w", "*", "+", "?", "{2}", ".", "\n", " ", "1h30m",
    ])) {
        invariants::filters(text.as_bytes());
    }

    #[test]
    fn toml_files(text in pieces(vec![
        "[[token]]\n", "name = \"a\"\n", "secret = \"0123456789abcdef\"\n", "scopes = [\"read\"]\n",
        "[[check]]\n", "kind = \"http\"\n", "interval = \"1h30m\"\n", "[[bind]]\n", "on = [\"ctrl-x\"]\n",
        "run = \"quit\"\n", "[colors]\n", "header = \"#ff0000\"\n", "[[column]]\n", "field = \"cpu\"\n",
        "width = 0\n", "[[panel]]\n", "metric = \"x\"\n", "[gateway]\n", "theme = \"\"\n", "=", "\"", "[",
    ])) {
        invariants::config_toml(text.as_bytes());
    }

    #[test]
    fn terminal_text(text in pieces(vec![
        "\x1b[", "31", ";", "1", "38;5;208", "m", "\x1b]", "52;c;ZXZpbA==", "\x07", "\x1b\\", "\x08", "\x00",
        "\u{202e}", "\u{9b}", "\r", "\t", "\n", "é", "😀", "漢", "❤\u{fe0f}", "👩\u{200d}💻",
        "\u{fe0f}", "\u{200d}", "\u{301}", "🇩🇪",
    ])) {
        invariants::ansi_inert(text.as_bytes());
    }
}

/// Every seed of the fuzz targets, and every input a fuzzer found a crash
/// with, through its invariant.
#[test]
fn fuzz_seeds_and_regressions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    for (target, check) in invariants::ALL {
        for dir in ["fuzz/seeds", "tests/fuzz-regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
                continue;
            };
            for entry in entries.flatten() {
                check(&std::fs::read(entry.path()).unwrap());
                ran += 1;
            }
        }
    }
    assert!(ran >= 20, "the seeds are where they should be ({ran})");
}
