//! The journald source, with the real journalctl reading the committed
//! fixture (tests/fixtures/journal/app.journal, made by make.py with the
//! real systemd-journal-remote). Needs journalctl; without it these tests
//! say so and pass, unless DAY2TOP_REQUIRE_JOURNAL=1 (as in CI). The
//! follow test also needs systemd-journal-remote, to append while the
//! gateway follows.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use day2top::api::{FieldValue, LogEntry, Record, ServerMsg};
use day2top::gateway::{self, JournalConfig};

const REMOTE: &str = "/lib/systemd/systemd-journal-remote";

fn have(tool: &str, what: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("DAY2TOP_REQUIRE_JOURNAL").is_none(),
            "DAY2TOP_REQUIRE_JOURNAL is set but {what} is missing"
        );
        eprintln!("skipped: {what} is not installed");
    }
    found
}

fn fixture_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("day2top-journal-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("app.journal");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal/app.journal");
    std::fs::copy(fixture, &file).unwrap();
    file
}

async fn start(journal: &Path, log_bytes: Option<usize>) -> gateway::RunningGateway {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.journal = Some(JournalConfig {
        dir: None,
        files: vec![journal.display().to_string()],
        backfill: None,
    });
    if let Some(bytes) = log_bytes {
        config.store_limits.log_bytes = bytes;
    }
    let quiet = day2top::collect::demo::DemoConfig {
        log_rate: 0,
        ..Default::default()
    };
    gateway::start(
        config,
        Box::new(day2top::collect::demo::DemoSource::new(quiet)),
    )
    .await
    .unwrap()
}

async fn logs(gw: &gateway::RunningGateway, query: &str) -> (u16, Vec<LogEntry>) {
    read_logs(&gw.url, query).await
}

/// Waits until the gateway holds `n` journal entries.
async fn until_loaded(gw: &gateway::RunningGateway, n: usize) -> Vec<LogEntry> {
    for _ in 0..100 {
        let (_, entries) = logs(gw, "limit=100").await;
        if entries.len() >= n {
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the journal was not read");
}

#[tokio::test]
async fn journal_fields_map_faithfully() {
    if !have("journalctl", "journalctl") {
        return;
    }
    let file = fixture_copy("map");
    let gw = start(&file, None).await;
    let entries = until_loaded(&gw, 5).await;
    assert_eq!(entries.len(), 5);
    let [started, refused, binary, tagged, escapes] = &entries[..] else {
        unreachable!()
    };

    assert!(started.cursor.starts_with("j:s="), "{}", started.cursor);
    assert_eq!(started.ts, 1_700_000_000_000);
    assert_eq!(started.message, "web started on :8080");
    assert_eq!(started.unit.as_deref(), Some("web.service"));
    assert_eq!(started.identifier.as_deref(), Some("web"));
    assert_eq!(
        started.task.as_deref(),
        Some("42"),
        "linked to the process by _PID"
    );
    assert_eq!(started.node, "fixture-host");
    assert_eq!(started.stream.as_deref(), Some("stdout"));
    assert_eq!(
        started.fields.get("_COMM"),
        Some(&FieldValue::Text("web".into()))
    );

    assert_eq!(refused.priority, 3);

    assert_eq!(binary.message, "payload \u{FFFD}\u{FFFD} not utf-8");
    let raw = base64_decode(binary.message_base64.as_deref().unwrap());
    assert_eq!(
        raw, b"payload \xff\xfe not utf-8",
        "the bytes themselves are kept"
    );

    assert_eq!(
        tagged.fields["TAG"],
        FieldValue::Many(vec![
            FieldValue::Text("alpha".into()),
            FieldValue::Text("beta".into())
        ])
    );
    assert_eq!(
        escapes.message, "escape \x1b[2J and bell \x07 inside",
        "text stays text; the console makes it inert"
    );

    // Filters: priority, unit, field match, regex.
    let (_, urgent) = logs(&gw, "priority=4").await;
    assert_eq!(urgent.len(), 2);
    let (_, ingest) = logs(&gw, "unit=ingest.service").await;
    assert_eq!(ingest.len(), 2);
    let (_, tag) = logs(&gw, "match=TAG%3Dbeta").await;
    assert_eq!(tag.len(), 1);
    let (_, re) = logs(&gw, "regex=conn.*refused").await;
    assert_eq!(re.len(), 1);

    // Range reads from a cursor, with skip and limit.
    let cursor = urlencode(&started.cursor);
    let (_, after) = logs(&gw, &format!("cursor={cursor}&limit=2")).await;
    assert_eq!(after.iter().map(|e| e.priority).collect::<Vec<_>>(), [3, 4]);
    let (_, skipped) = logs(&gw, &format!("cursor={cursor}&skip=2")).await;
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[0].message, "tagged twice");

    for bad in [
        "priority=9",
        "regex=(",
        "match=nope",
        "color=blue",
        "limit=lots",
    ] {
        assert_eq!(logs(&gw, bad).await.0, 400, "{bad}");
    }
    assert_eq!(logs(&gw, "cursor=j:nonsense").await.0, 404);
    gw.shutdown().await;
}

#[tokio::test]
async fn a_cursor_out_of_the_ring_is_found_by_seeking_the_journal() {
    if !have("journalctl", "journalctl") {
        return;
    }
    let file = fixture_copy("seek");
    // A ring so small it keeps only the newest entry or two.
    let gw = start(&file, Some(2500)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = Command::new("journalctl")
        .args([
            "-o",
            "json",
            "--no-pager",
            &format!("--file={}", file.display()),
        ])
        .output()
        .unwrap();
    let first = String::from_utf8(all.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let cursor = format!("j:{}", first["__CURSOR"].as_str().unwrap());
    let (status, after) = logs(&gw, &format!("cursor={}", urlencode(&cursor))).await;
    assert_eq!(status, 200);
    assert_eq!(
        after.len(),
        4,
        "the four entries after the first, read back from journalctl"
    );

    // A stream resumed from that cursor gets them too, then the ring.
    let mut ws = ws_connect(&gw.url, READ).await;
    let sub =
        serde_json::json!({"type":"subscribe","sub":"l","topic":"logs","from":{"cursor":cursor}});
    send(&mut ws, &sub.to_string()).await;
    let mut messages = Vec::new();
    while messages.len() < 4 {
        match next_msg(&mut ws).await {
            ServerMsg::Event { events, .. } => {
                for e in events {
                    if let Record::Log(l) = e.data {
                        messages.push(l.message);
                    }
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(messages[0], "database connection refused");
    assert_eq!(messages.len(), 4, "each once: {messages:?}");
    gw.shutdown().await;
}

#[tokio::test]
async fn follows_a_journal_being_written() {
    if !have("journalctl", "journalctl") || !Path::new(REMOTE).exists() {
        if std::env::var_os("DAY2TOP_REQUIRE_JOURNAL").is_some() {
            panic!("DAY2TOP_REQUIRE_JOURNAL is set but {REMOTE} is missing");
        }
        eprintln!("skipped: systemd-journal-remote is not installed");
        return;
    }
    let file = fixture_copy("follow");
    let gw = start(&file, None).await;
    until_loaded(&gw, 5).await;
    let mut ws = ws_connect(&gw.url, READ).await;
    // A tail of one: its snapshot says the subscription is live.
    send(
        &mut ws,
        r#"{"type":"subscribe","sub":"l","topic":"logs","from":{"tail":1}}"#,
    )
    .await;
    assert!(matches!(
        next_msg(&mut ws).await,
        ServerMsg::Snapshot { .. }
    ));
    let export = file.with_extension("export");
    let entry = "__CURSOR=appended\n__REALTIME_TIMESTAMP=1700000100000000\n__MONOTONIC_TIMESTAMP=99\n\
                 _BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE=appended while followed\nPRIORITY=2\n\n";
    std::fs::write(&export, entry).unwrap();
    let status = Command::new(REMOTE)
        .arg("-o")
        .arg(&file)
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    // The fixture's last entries may still be arriving (the gateway read
    // five when it was waited for): the appended one comes after them,
    // within next_msg's 10 s.
    loop {
        if let ServerMsg::Event { events, .. } = next_msg(&mut ws).await {
            let appended = events.iter().find_map(|e| match &e.data {
                Record::Log(l) if l.message == "appended while followed" => Some(l.clone()),
                Record::Log(_) => None,
                other => panic!("a log event, not {other:?}"),
            });
            if let Some(l) = appended {
                assert_eq!(l.priority, 2);
                break;
            }
        }
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn a_missing_journal_is_a_state_not_an_error_loop() {
    if !have("journalctl", "journalctl") {
        return;
    }
    let config = JournalConfig::default();
    let state = config.unavailable();
    let has_journal = Path::new("/var/log/journal")
        .read_dir()
        .is_ok_and(|mut d| d.next().is_some())
        || Path::new("/run/log/journal").exists();
    if !has_journal {
        assert_eq!(state.as_deref(), Some("no journal on this host"));
        let mut gw_config = demo_config("127.0.0.1:0".parse().unwrap());
        gw_config.journal = Some(config);
        let gw = gateway::start(gw_config, demo(1, 2, 2)).await.unwrap();
        let info: day2top::api::ClusterInfo = get_json(&format!("{}/api/v1/cluster", gw.url)).await;
        assert_eq!(info.log_sources[0].name, "journal");
        assert_eq!(info.log_sources[0].state, "no journal on this host");
        gw.shutdown().await;
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// Central journald: `systemd-journal-remote` writes each host's journal
/// into one directory (`remote-HOST.journal`), and a gateway pointed at it
/// with `--journal-dir` serves every host's lines, each named by its host,
/// in time order, with real cursors that resume exactly once, from the
/// ring or by seeking the journals. A lighter way than a hub to see a
/// fleet's logs.
#[tokio::test]
async fn a_directory_of_remote_journals_serves_every_host_with_real_cursors() {
    if !have("journalctl", "journalctl") || !Path::new(REMOTE).exists() {
        if std::env::var_os("DAY2TOP_REQUIRE_JOURNAL").is_some() {
            panic!("DAY2TOP_REQUIRE_JOURNAL is set but {REMOTE} is missing");
        }
        eprintln!("skipped: systemd-journal-remote is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("day2top-remote-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    const HOSTS: [&str; 3] = ["host-a", "host-b", "host-c"];
    const LINES: usize = 20;
    for (h, host) in HOSTS.iter().enumerate() {
        // Each host's lines a second apart, the hosts' interleaved.
        let mut export = String::new();
        for i in 0..LINES {
            let us = 1_700_000_000_000_000u64 + (i * HOSTS.len() + h) as u64 * 1_000_000;
            export.push_str(&format!(
                "__REALTIME_TIMESTAMP={us}\n__MONOTONIC_TIMESTAMP={}\n\
                 _BOOT_ID={:032x}\n_HOSTNAME={host}\n_SYSTEMD_UNIT=app.service\n\
                 PRIORITY=6\nMESSAGE={host} line {i}\n\n",
                i + 1,
                h + 1
            ));
        }
        let input = dir.join(format!("{host}.export"));
        std::fs::write(&input, export).unwrap();
        let out = Command::new(REMOTE)
            .arg("-o")
            .arg(dir.join(format!("remote-{host}.journal")))
            .arg(&input)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_file(&input).unwrap();
    }

    // A ring that holds about a third of the lines: older cursors are
    // found by seeking the journals.
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.journal = Some(JournalConfig {
        dir: Some(dir.clone()),
        files: vec![],
        backfill: None,
    });
    config.store_limits.log_bytes = 12_000;
    let quiet = day2top::collect::demo::DemoConfig {
        log_rate: 0,
        ..Default::default()
    };
    let gw = gateway::start(
        config,
        Box::new(day2top::collect::demo::DemoSource::new(quiet)),
    )
    .await
    .unwrap();

    // Every line, in journalctl's merged order, each named by its host.
    let all = Command::new("journalctl")
        .args(["-o", "json", "--no-pager", "-D"])
        .arg(&dir)
        .output()
        .unwrap();
    let all: Vec<serde_json::Value> = String::from_utf8(all.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(all.len(), HOSTS.len() * LINES);
    let newest = all.last().unwrap()["MESSAGE"].as_str().unwrap().to_string();
    poll_until("the newest line", Duration::from_secs(10), || async {
        let (_, tail) = logs(&gw, "limit=1").await;
        tail.first()
            .is_some_and(|e| e.message == newest)
            .then_some(())
    })
    .await;
    for host in HOSTS {
        let (status, lines) = logs(&gw, &format!("node={host}&limit=1000")).await;
        assert_eq!(status, 200);
        let (_, every) = logs(&gw, "limit=1000").await;
        assert!(
            !lines.is_empty(),
            "{host}'s lines in {:?}",
            every
                .iter()
                .map(|e| (&e.node, &e.message))
                .collect::<Vec<_>>()
        );
        assert!(
            lines
                .iter()
                .all(|e| e.node == host && e.message.starts_with(host))
        );
    }

    // From any line's cursor, every later line exactly once, in order,
    // whether the cursor is still in the ring or long gone from it.
    for from in [5, 30, 55] {
        let cursor = format!("j:{}", all[from]["__CURSOR"].as_str().unwrap());
        let (status, after) = logs(&gw, &format!("cursor={}&limit=1000", urlencode(&cursor))).await;
        assert_eq!(status, 200);
        let want: Vec<&str> = all[from + 1..]
            .iter()
            .map(|e| e["MESSAGE"].as_str().unwrap())
            .collect();
        let got: Vec<&str> = after.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(got, want, "after line {from}");
        assert!(after.iter().all(|e| e.cursor.starts_with("j:")));
    }
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
