//! Log benchmarks; prints figures. Run with `cargo bench --bench logs`.
//!
//! - the log view at 200x60 following 100,000 buffered lines (goal ≤ 1 ms a frame)
//! - re-filter and search over 1,000,000 buffered lines (goal ≤ 50 ms)
//! - gateway → console over loopback: 200-byte lines a second from a log
//!   file written flat out, through the real tailer, stream and client into
//!   a console log buffer (goal ≥ 500k/s), with both sides' memory bounded
//! - share mode's cost to that pipeline: the console redacting every line
//!   against not (goal: at most 10% fewer lines a second), and the
//!   redactor alone
//! - the same journal file through the gateway beside `journalctl -o json`
//!   alone (needs systemd-journal-remote to make the file; skipped without it)

mod common;

use common::{SECRET, stats};
use std::sync::Arc;
use std::time::{Duration, Instant};

use day2top::api::{Filter, LogEntry, Record, ServerMsg, Topic};
use day2top::client::{Client, Endpoint, StreamEvent, Subscription};
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::fixture;
use day2top::gateway::{self, GatewayConfig, JournalConfig, Token, Tokens};
use day2top::tui::logs::buffer::{LogBuffer, LogFilter, Row};
use day2top::tui::logs::view::{LogView, Search};
use day2top::tui::screen;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn line(n: usize) -> LogEntry {
    let message = format!(
        "{n:08} level=info msg=\"request served\" path=/api/v1/items/{} took={}ms {}",
        n % 977,
        n % 300,
        "x".repeat(90)
    );
    LogEntry {
        cursor: format!("b:{n}"),
        ts: fixture::T0 + n as i64,
        node: "agent-001".into(),
        unit: Some("web.service".into()),
        task: None,
        file: None,
        identifier: Some("web".into()),
        stream: None,
        priority: if n.is_multiple_of(50) { 3 } else { 6 },
        message,
        message_base64: None,
        fields: Default::default(),
    }
}

fn view_and_buffer() {
    let mut app = fixture::demo_app(DemoConfig::default(), 3);
    app.run_command("logs");
    let mut buf = LogBuffer::new(100_000);
    for n in 0..100_000 {
        buf.push(Row::Line(Arc::new(line(n))));
    }
    app.model.logs = buf;
    app.size = (200, 60);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let frames: Vec<Duration> = (0..300)
        .map(|n| {
            app.model.logs.push(Row::Line(Arc::new(line(100_000 + n))));
            // As the event loop does: bring derived state up to date, then draw.
            let start = Instant::now();
            app.prepare();
            terminal.draw(|f| screen::draw(f, &app)).unwrap();
            start.elapsed()
        })
        .collect();
    let (p50, p99) = stats(frames);
    println!(
        "log view, 200x60 following 100k lines, one frame: p50 {p50:.3?}  p99 {p99:.3?}  (goal ≤ 1ms)"
    );

    let mut big = LogBuffer::new(1_000_000);
    for n in 0..1_000_000 {
        big.push(Row::Line(Arc::new(line(n))));
    }
    let refilter: Vec<Duration> = ["took=1[0-9]ms", "p<=3", "!items/9"]
        .iter()
        .map(|f| {
            let filter = LogFilter::parse(f).unwrap();
            let start = Instant::now();
            big.set_filter(filter);
            start.elapsed()
        })
        .collect();
    println!(
        "re-filter 1M lines (regex, priority, inverted): {:.1?} {:.1?} {:.1?}  (goal ≤ 50ms)",
        refilter[0], refilter[1], refilter[2]
    );
    big.set_filter(LogFilter::default());
    let mut view = LogView::new(day2top::tui::logs::view::LogScope::All);
    view.search = Search::new("path=/api/v1/items/976 took=14ms");
    let start = Instant::now();
    let found = view.find(&big, 60, false);
    println!(
        "search 1M lines back to the first match ({}): {:.1?}  (goal ≤ 50ms)",
        if found.is_some() { "found" } else { "none" },
        start.elapsed()
    );
}

async fn gateway_with(
    config: GatewayConfig,
    source: Box<dyn day2top::collect::Source>,
) -> gateway::RunningGateway {
    gateway::start(config, source).await.unwrap()
}

fn config() -> GatewayConfig {
    let mut c = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    c.tokens = Some(Tokens::new(vec![Token::new(
        "bench",
        SECRET,
        vec![gateway::Scope::Read],
    )]));
    c
}

/// What a real client took in, as the console does: every line into a
/// log buffer of the console's default size.
struct Received {
    lines: usize,
    dropped: u64,
    took: Duration,
    buffer_mb: f64,
}

async fn receive(url: &str, total: usize, limit: Duration, share: bool) -> Received {
    let share = day2top::redact::Share::prepare(&Default::default(), share).unwrap();
    let client = Client::new(Endpoint {
        url: url.into(),
        token: SECRET.into(),
        ca: None,
    })
    .unwrap()
    .sharing(share);
    let mut stream = client.stream(vec![Subscription {
        sub: "l".into(),
        topic: Topic::Logs,
        filter: Filter::default(),
    }]);
    let mut buffer = LogBuffer::new(100_000);
    let (mut lines, mut dropped) = (0, 0);
    let mut start = None;
    let deadline = Instant::now() + limit;
    while lines + (dropped as usize) < total && Instant::now() < deadline {
        let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_secs(5), stream.events.recv()).await
        else {
            break;
        };
        let records = match event {
            StreamEvent::Message(ServerMsg::Event { events, .. }) => {
                events.into_iter().map(|e| e.data).collect()
            }
            StreamEvent::Message(ServerMsg::Gap { dropped: n, .. }) => {
                dropped += n;
                continue;
            }
            _ => Vec::new(),
        };
        for record in records {
            if let Record::Log(entry) = record {
                start.get_or_insert_with(Instant::now);
                buffer.push(Row::Line(Arc::new(entry)));
                lines += 1;
            }
        }
    }
    Received {
        lines,
        dropped,
        took: start.map_or(Duration::ZERO, |s| s.elapsed()),
        buffer_mb: buffer.bytes() as f64 / (1 << 20) as f64,
    }
}

/// The real gateway, `day2top gateway`, in its own process as it runs
/// in use (its allocator and threads its own), following `log`.
struct GatewayProcess {
    child: std::process::Child,
    url: String,
}

impl GatewayProcess {
    fn start(dir: &std::path::Path, log: &std::path::Path) -> GatewayProcess {
        let tokens = dir.join("tokens.toml");
        std::fs::write(
            &tokens,
            format!("[[token]]\nname = \"bench\"\nsecret = \"{SECRET}\"\nscopes = [\"read\"]\n"),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_day2top"))
            .args([
                "gateway",
                "--demo",
                "--demo-nodes",
                "1",
                "--demo-tasks",
                "1",
            ])
            .args(["--demo-log-rate", "0", "--otlp", "off", "--statsd", "off"])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--token-file")
            .arg(&tokens)
            .arg("--log-file")
            .arg(log)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the day2top binary runs");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the gateway listens within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        GatewayProcess { child, url }
    }

    fn rss_mb(&self) -> f64 {
        common::rss_mb_of(&self.child.id().to_string())
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A log file written in 200-byte lines, `rate` lines a second (`None`:
/// as fast as the disk cache takes them), followed by the gateway like
/// `tail -F`, streamed to a client that keeps them as the console does.
/// Then lnav reads the same file, for comparison. The gateway is the
/// console's own (embedded, as when no gateway is configured), or
/// `day2top gateway` in a process of its own. In share mode the console
/// redacts every line. Returns the lines a second received.
async fn loopback(lines: usize, rate: Option<usize>, own_process: bool, share: bool) -> f64 {
    let dir = std::env::temp_dir().join(format!("day2top-bench-tail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.log");
    std::fs::write(&path, "").unwrap();
    // The console's own gateway (embedded, the default for this host) on
    // the same runtime, or `day2top gateway` on its own.
    let (embedded, process) = if own_process {
        (None, Some(GatewayProcess::start(&dir, &path)))
    } else {
        let mut c = config();
        c.log_files = vec![path.display().to_string()];
        let quiet = DemoSource::new(DemoConfig {
            log_rate: 0,
            nodes: 1,
            tasks: 1,
            ..Default::default()
        });
        (Some(gateway_with(c, Box::new(quiet)).await), None)
    };
    let url = match (&embedded, &process) {
        (Some(gw), _) => gw.url.clone(),
        (_, Some(gw)) => gw.url.clone(),
        _ => unreachable!("one gateway or the other"),
    };
    let log = path.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        // 4,096 different lines made once, so the writer costs little;
        // each begins with its time, as most application logs do.
        let text: String = (0..4096)
            .map(|n| {
                let stamp = format!(
                    "2026-12-02T10:{:02}:{:02}.{:03}Z ",
                    n / 60_000 % 60,
                    n / 1000 % 60,
                    n % 1000
                );
                // One line in a hundred holds a secret, for share mode
                // to hide.
                let secret = if n % 100 == 0 {
                    " password=hunter2"
                } else {
                    ""
                };
                let text = stamp + &line(n).message + secret + &"x".repeat(199);
                text[..199].to_string() + "\n"
            })
            .collect();
        // Every 10 ms, the lines due by then.
        let per_tick = rate.map_or(usize::MAX, |r| r / 100);
        let start = Instant::now();
        let mut n = 0;
        for tick in 1u32.. {
            let due = (n + per_tick).min(lines);
            while n < due {
                let k = (due - n).min(4096);
                file.write_all(&text.as_bytes()[..k * 200]).unwrap();
                n += k;
            }
            if n == lines {
                break;
            }
            std::thread::sleep(
                (start + Duration::from_millis(10) * tick)
                    .saturating_duration_since(Instant::now()),
            );
        }
    });
    let got = receive(&url, lines, Duration::from_secs(30), share).await;
    writer.join().unwrap();
    let received = got.lines as f64 / got.took.as_secs_f64().max(1e-9);
    let written = rate.map_or("flat out".to_string(), |r| format!("{}k lines/s", r / 1000));
    let (setup, memory) = match &process {
        Some(gw) => (
            "gateway in its own process",
            format!(
                "RSS console {:.0} MB, gateway {:.0} MB",
                common::rss_mb_of("self"),
                gw.rss_mb()
            ),
        ),
        None if share => (
            "embedded gateway, console in share mode",
            format!("RSS of both {:.0} MB", common::rss_mb_of("self")),
        ),
        None => (
            "embedded gateway",
            format!("RSS of both {:.0} MB", common::rss_mb_of("self")),
        ),
    };
    println!(
        "{setup} → console over loopback, a log file written {written} in 200-byte lines: {} lines in {:.2?} = {:.0} lines/s received, {} dropped  (goal ≥ 500k/s, none dropped); console buffer {:.0} MB, {memory} (bounded)",
        got.lines, got.took, received, got.dropped, got.buffer_mb,
    );
    drop(process);
    if let Some(gw) = embedded {
        gw.shutdown().await;
    }
    if rate.is_none() && own_process {
        versus_lnav(&path, lines);
    }
    let _ = std::fs::remove_dir_all(dir);
    received
}

/// What share mode costs the pipeline: the same flat-out run with the
/// console redacting and without, taken in turns (the machine's speed
/// drifts more than the difference), medians compared; and the redactor
/// alone over the same lines.
async fn share_cost() {
    let (mut plain, mut shared) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        plain.push(loopback(1_000_000, None, false, false).await);
        shared.push(loopback(1_000_000, None, false, true).await);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (plain, shared) = (median(&mut plain), median(&mut shared));
    println!(
        "share mode's cost to the pipeline: {plain:.0} lines/s plain, {shared:.0} redacted (medians of 3 in turns) = {:+.1}%  (goal: at most 10% fewer)",
        (shared / plain - 1.0) * 100.0
    );
    redactor_alone();
}

/// The redactor over log entries as the console gets them, every field.
fn redactor_alone() {
    let redactor = day2top::redact::Redactor::new(&Default::default()).unwrap();
    let entries: Vec<LogEntry> = (0..100_000)
        .map(|n| {
            let mut e = line(n);
            if n % 100 == 0 {
                e.message.push_str(" password=hunter2");
            }
            e
        })
        .collect();
    let start = Instant::now();
    for _ in 0..10 {
        for e in &entries {
            let mut e = e.clone();
            redactor.log_entry(&mut e);
            std::hint::black_box(e);
        }
    }
    let took = start.elapsed();
    let changed = redactor.changed.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "the redactor alone, built-in rules over log entries of 200-byte lines (1 in 100 holding a secret), every field: {:.0} entries/s on one core, {changed} of 1000000 changed (a clone each, included)",
        1_000_000.0 / took.as_secs_f64()
    );
}

/// lnav reading the same file: loading and indexing it (a query over its
/// lines, which waits for the whole file), and printing it headless.
fn versus_lnav(path: &std::path::Path, lines: usize) {
    let Ok(version) = std::process::Command::new("lnav").arg("-V").output() else {
        println!("lnav comparison skipped: lnav is not installed");
        return;
    };
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let start = Instant::now();
    let query = std::process::Command::new("lnav")
        .args(["-n", "-c", ";SELECT count(*) FROM all_logs"])
        .arg(path)
        .output()
        .unwrap();
    let indexed = start.elapsed();
    let counted = String::from_utf8_lossy(&query.stdout)
        .split_whitespace()
        .last()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    println!(
        "{version} on the same file of {lines} lines: loaded and indexed in {indexed:.2?} ({:.0} lines/s, {counted} log lines)",
        lines as f64 / indexed.as_secs_f64()
    );
}

async fn versus_journalctl() {
    let remote = "/lib/systemd/systemd-journal-remote";
    if !std::path::Path::new(remote).exists() {
        println!("journal comparison skipped: {remote} is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("day2top-bench-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (export, journal) = (dir.join("bench.export"), dir.join("bench.journal"));
    let n = 200_000;
    let mut text = String::with_capacity(n * 300);
    for i in 0..n {
        text.push_str(&format!(
            "__CURSOR=c{i}\n__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=0123456789abcdef0123456789abcdef\nPRIORITY=6\n_SYSTEMD_UNIT=web.service\nMESSAGE={}\n\n",
            1_700_000_000_000_000u64 + i as u64,
            i + 1,
            &line(i).message[..150]
        ));
    }
    std::fs::write(&export, text).unwrap();
    for old in std::fs::read_dir(&dir).unwrap().flatten() {
        if old.path().extension().is_some_and(|e| e == "journal") {
            let _ = std::fs::remove_file(old.path());
        }
    }
    let made = std::process::Command::new(remote)
        .arg("-o")
        .arg(&journal)
        .arg(&export)
        .output()
        .unwrap();
    if !made.status.success() {
        println!(
            "journal comparison skipped: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        return;
    }
    // journal-remote starts a new file when one grows past its limit.
    let files = format!("{}/bench*.journal", dir.display());
    let start = Instant::now();
    let out = std::process::Command::new("journalctl")
        .args(["-o", "json", "--no-pager"])
        .arg(format!("--file={files}"))
        .output()
        .unwrap();
    let alone = start.elapsed();
    let lines = out.stdout.iter().filter(|&&b| b == b'\n').count();

    let mut c = config();
    // The whole file through the gateway to a client, from the gateway's
    // start (it reads the file with journalctl) to the last entry received.
    c.journal = Some(JournalConfig {
        dir: None,
        files: vec![files],
        backfill: Some(lines),
    });
    c.store_limits.log_bytes = 512 << 20;
    c.store_limits.log_queue = 1 << 20;
    let quiet = DemoSource::new(DemoConfig {
        log_rate: 0,
        nodes: 1,
        tasks: 1,
        ..Default::default()
    });
    let start = Instant::now();
    let gw = gateway_with(c, Box::new(quiet)).await;
    let client = Client::new(Endpoint {
        url: gw.url.clone(),
        token: SECRET.into(),
        ca: None,
    })
    .unwrap();
    let mut stream = client.stream(vec![]);
    stream.subscribe(Subscription {
        sub: "l".into(),
        topic: Topic::Logs,
        filter: Filter::default(),
    });
    let mut got = 0;
    // The snapshot (the last 1,000) and the live entries: count until the file is through.
    let mut seen = std::collections::HashSet::new();
    while seen.len() < lines {
        let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_secs(10), stream.events.recv()).await
        else {
            break;
        };
        let records: Vec<Record> = match event {
            StreamEvent::Message(ServerMsg::Event { events, .. }) => {
                events.into_iter().map(|e| e.data).collect()
            }
            StreamEvent::Message(ServerMsg::Snapshot { items, .. }) => items,
            _ => continue,
        };
        for r in records {
            if let Record::Log(l) = r {
                got += 1;
                seen.insert(l.cursor);
            }
        }
    }
    let through = start.elapsed();
    println!(
        "journal file of {lines} entries: journalctl -o json alone {alone:.2?} ({:.0}/s); through the gateway to a client {through:.2?} ({:.0}/s, {got} received); ratio {:.2}",
        lines as f64 / alone.as_secs_f64(),
        seen.len() as f64 / through.as_secs_f64(),
        alone.as_secs_f64() / through.as_secs_f64()
    );
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

fn main() {
    // `cargo bench --bench logs -- share`: share mode's cost alone;
    // `-- redactor`: the redactor alone.
    if std::env::args().any(|a| a == "share") {
        common::runtime().block_on(share_cost());
        return;
    }
    if std::env::args().any(|a| a == "redactor") {
        redactor_alone();
        return;
    }
    // The loopback run first: its memory figure is this process's RSS, which
    // the million-line buffers below would leave inflated.
    common::runtime().block_on(async {
        for own_process in [false, true] {
            loopback(3_000_000, None, own_process, false).await;
            loopback(3_000_000, Some(500_000), own_process, false).await;
        }
        share_cost().await;
        versus_journalctl().await;
    });
    view_and_buffer();
}
