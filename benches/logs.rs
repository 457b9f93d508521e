//! Log benchmarks; prints figures. Run with `cargo bench --bench logs`.
//!
//! - the log view at 200x60 following 100,000 buffered lines (goal ≤ 1 ms a frame)
//! - re-filter and search over 1,000,000 buffered lines (goal ≤ 50 ms)
//! - gateway → console over loopback: 200-byte lines a second through the
//!   real stream and client (goal ≥ 500k/s), with both sides' memory bounded
//! - the same journal file through the gateway beside `journalctl -o json`
//!   alone (needs systemd-journal-remote to make the file; skipped without it)

use std::sync::Arc;
use std::time::{Duration, Instant};

use day2top::api::{Filter, LogEntry, Record, ServerMsg, Topic};
use day2top::client::{Client, Endpoint, StreamEvent, Subscription};
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::fixture;
use day2top::gateway::{self, GatewayConfig, JournalConfig, Token, Tokens};
use day2top::tui::logbuf::{LogBuffer, LogFilter, Row};
use day2top::tui::logview::{LogView, Search};
use day2top::tui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn stats(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

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
            terminal.draw(|f| views::draw(f, &app)).unwrap();
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
    let mut view = LogView::new(day2top::tui::logview::LogScope::All);
    view.search = Search::new("path=/api/v1/items/976 took=14ms");
    let start = Instant::now();
    let found = view.find(&big, 60, false);
    println!(
        "search 1M lines back to the first match ({}): {:.1?}  (goal ≤ 50ms)",
        if found.is_some() { "found" } else { "none" },
        start.elapsed()
    );
}

const SECRET: &str = "bench-secret-0123456789";

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

/// Lines a second received by a real client, until `total` or `limit`.
async fn receive(url: &str, total: usize, limit: Duration) -> (usize, Duration) {
    let client = Client::new(Endpoint {
        url: url.into(),
        token: SECRET.into(),
        ca: None,
    })
    .unwrap();
    let mut stream = client.stream(vec![Subscription {
        sub: "l".into(),
        topic: Topic::Logs,
        filter: Filter::default(),
    }]);
    let mut got = 0;
    let mut start = None;
    let deadline = Instant::now() + limit;
    while got < total && Instant::now() < deadline {
        let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_secs(5), stream.events.recv()).await
        else {
            break;
        };
        let n = match event {
            StreamEvent::Message(ServerMsg::Event { events, .. }) => events
                .iter()
                .filter(|e| matches!(e.data, Record::Log(_)))
                .count(),
            StreamEvent::Message(ServerMsg::Snapshot { items, .. }) => items.len(),
            _ => 0,
        };
        if n > 0 && start.is_none() {
            start = Some(Instant::now());
        }
        got += n;
    }
    (got, start.map_or(Duration::ZERO, |s| s.elapsed()))
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn loopback() {
    let mut c = config();
    c.refresh = Duration::from_millis(50);
    let demo = DemoSource::new(DemoConfig {
        log_rate: 1_000_000,
        nodes: 10,
        tasks: 60,
        ..Default::default()
    });
    let gw = gateway_with(c, Box::new(demo)).await;
    let (got, took) = receive(&gw.url, 3_000_000, Duration::from_secs(8)).await;
    let rate = got as f64 / took.as_secs_f64().max(1e-9);
    println!(
        "gateway → console over loopback (demo burst, ~200-byte lines): {got} lines in {took:.2?} = {:.0} lines/s  (goal ≥ 500k/s); process RSS {:.0} MB (both sides, bounded rings)",
        rate,
        rss_mb()
    );
    gw.shutdown().await;
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
    let _ = std::fs::remove_file(&journal);
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
    let start = Instant::now();
    let out = std::process::Command::new("journalctl")
        .args(["-o", "json", "--no-pager"])
        .arg(format!("--file={}", journal.display()))
        .output()
        .unwrap();
    let alone = start.elapsed();
    let lines = out.stdout.iter().filter(|&&b| b == b'\n').count();

    let mut c = config();
    // The whole file through the gateway to a client, from the gateway's
    // start (it reads the file with journalctl) to the last entry received.
    c.journal = Some(JournalConfig {
        dir: None,
        files: vec![journal.display().to_string()],
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
    // The loopback run first: its memory figure is this process's RSS, which
    // the million-line buffers below would leave inflated.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        loopback().await;
        versus_journalctl().await;
    });
    view_and_buffer();
}
