//! Logs through the gateway over real sockets: the demo's shapes, range
//! reads, and resumes that lose nothing and repeat nothing, across a cut
//! connection and a gateway restart.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use day2top::api::{Filter, LogEntry, Record, ServerMsg, Topic};
use day2top::client::{Client, Endpoint, StreamEvent, StreamHandle, Subscription};
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::gateway::{self, GatewayConfig, RunningGateway};

fn quiet_demo() -> Box<DemoSource> {
    Box::new(DemoSource::new(DemoConfig {
        log_rate: 0,
        nodes: 2,
        tasks: 4,
        ..Default::default()
    }))
}

/// A demo gateway writing 2,000 lines a second, of every shape it has.
async fn busy_demo() -> RunningGateway {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.refresh = Duration::from_millis(50);
    let demo = Box::new(DemoSource::new(DemoConfig {
        log_rate: 2000,
        ..Default::default()
    }));
    gateway::start(config, demo).await.unwrap()
}

#[tokio::test]
async fn demo_logs_come_in_real_shapes_and_filter() {
    let gw = busy_demo().await;
    // The demo's shapes come in their own time; rare ones (a line that is
    // not UTF-8) may take a second or two of lines.
    let every_shape = |all: &[LogEntry]| {
        let has = |f: &dyn Fn(&LogEntry) -> bool| all.iter().any(f);
        all.len() > 1000
            && has(&|e| e.message.starts_with('{'))
            && has(&|e| e.message.contains("level=info ts="))
            && has(&|e| e.message.starts_with("\tat org.apache.cassandra"))
            && has(&|e| e.message.contains("\x1b[31m"))
            && has(&|e| e.message_base64.is_some())
    };
    let (status, all) =
        common::poll_until("every shape of line", Duration::from_secs(15), || async {
            let (status, all) = read_logs(&gw.url, "limit=10000").await;
            (status != 200 || every_shape(&all)).then_some((status, all))
        })
        .await;
    assert_eq!(status, 200);
    assert!(all.len() > 1000, "{}", all.len());
    let has = |f: &dyn Fn(&LogEntry) -> bool| all.iter().any(f);
    assert!(
        has(&|e| e.message.starts_with('{') && e.message.contains("\"level\"")),
        "JSON lines"
    );
    assert!(has(&|e| e.message.contains("level=info ts=")), "logfmt");
    assert!(
        has(&|e| e.message.starts_with("\tat org.apache.cassandra")),
        "stack trace lines"
    );
    assert!(has(&|e| e.message.contains("\x1b[31m")), "ANSI colour");
    assert!(
        has(&|e| e.message_base64.is_some()),
        "bytes that are not UTF-8"
    );
    assert!(
        all.iter()
            .all(|e| e.task.is_some() && e.cursor.starts_with("d:"))
    );
    // Cursors are unique and in order.
    let mut cursors: Vec<&str> = all.iter().map(|e| e.cursor.as_str()).collect();
    cursors.dedup();
    assert_eq!(cursors.len(), all.len());

    let task = all[0].task.clone().unwrap();
    let (_, one) = read_logs(&gw.url, &format!("task={task}&limit=10000")).await;
    assert!(!one.is_empty() && one.iter().all(|e| e.task.as_deref() == Some(&task)));
    let (_, errors) = read_logs(&gw.url, "priority=3&limit=10000").await;
    assert!(!errors.is_empty() && errors.iter().all(|e| e.priority <= 3));
    let (_, stderr) = read_logs(&gw.url, "match=stream%3Dstderr&limit=50").await;
    assert!(stderr.iter().all(|e| e.stream.as_deref() == Some("stderr")));
    let (_, tail) = read_logs(&gw.url, "limit=5").await;
    assert_eq!(tail.len(), 5);
    gw.shutdown().await;
}

fn file_gateway_config(
    addr: std::net::SocketAddr,
    log: &std::path::Path,
    log_bytes: usize,
) -> GatewayConfig {
    let mut config = demo_config(addr);
    config.log_files = vec![log.display().to_string()];
    config.store_limits.log_bytes = log_bytes;
    config
}

fn log_stream(url: &str, file: &std::path::Path) -> StreamHandle {
    let client = Client::new(Endpoint {
        url: url.to_string(),
        token: READ.into(),
        ca: None,
    })
    .unwrap();
    client.stream(vec![Subscription {
        sub: "l".into(),
        topic: Topic::Logs,
        filter: Filter {
            matches: vec![format!("file={}", file.display())],
            ..Default::default()
        },
    }])
}

/// Collects `seq N` numbers from the stream until `last` has arrived.
async fn collect_until(
    stream: &mut StreamHandle,
    seen: &mut Vec<u64>,
    last: u64,
    resyncs: &mut u32,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.last().is_none_or(|l| *l < last) {
        let event = tokio::time::timeout_at(deadline, stream.events.recv())
            .await
            .expect("all lines within 30 s")
            .unwrap();
        let records: Vec<Record> = match event {
            StreamEvent::Message(ServerMsg::Snapshot { items, .. }) => items,
            StreamEvent::Message(ServerMsg::Event { events, .. }) => {
                events.into_iter().map(|e| e.data).collect()
            }
            StreamEvent::Message(ServerMsg::Resync { .. }) => {
                *resyncs += 1;
                continue;
            }
            _ => continue,
        };
        for r in records {
            if let Record::Log(l) = r {
                let n: u64 = l.message.split(' ').nth(1).unwrap().parse().unwrap();
                seen.push(n);
            }
        }
    }
}

fn assert_exactly_once(seen: &[u64], last: u64) {
    let dups = seen.windows(2).filter(|w| w[1] <= w[0]).count();
    assert_eq!(dups, 0, "lines repeated or out of order");
    assert_eq!(
        seen.len() as u64,
        last,
        "lines lost: {} of {last}",
        last - seen.len() as u64
    );
    assert_eq!(seen.first(), Some(&1));
}

#[tokio::test]
async fn a_gateway_restart_mid_stream_loses_and_repeats_nothing() {
    let dir = std::env::temp_dir().join(format!("day2top-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("seq.log");
    std::fs::write(&log, "").unwrap();
    let gw = gateway::start(
        file_gateway_config("127.0.0.1:0".parse().unwrap(), &log, 64 << 20),
        quiet_demo(),
    )
    .await
    .unwrap();
    let addr = gw.addr;
    let mut stream = log_stream(&gw.url, &log);
    let writer = Writer::start(log.clone(), 2000);
    let (mut seen, mut resyncs) = (Vec::new(), 0);
    let first = || async { (writer.written.load(Ordering::Relaxed) >= 500).then_some(()) };
    common::poll_until("500 lines written", Duration::from_secs(10), first).await;
    collect_until(&mut stream, &mut seen, 500, &mut resyncs).await;

    // Kill the gateway while lines keep coming, then start it again.
    gw.shutdown().await;
    let down_at = writer.written.load(Ordering::Relaxed);
    let written = |n: u64| {
        let writer = &writer;
        move || async move { (writer.written.load(Ordering::Relaxed) >= n).then_some(()) }
    };
    common::poll_until(
        "lines written while it is down",
        Duration::from_secs(10),
        written(down_at + 500),
    )
    .await;
    let again: RunningGateway =
        gateway::start(file_gateway_config(addr, &log, 64 << 20), quiet_demo())
            .await
            .expect("restart on the same port");
    let up_at = writer.written.load(Ordering::Relaxed);
    common::poll_until(
        "lines written after the restart",
        Duration::from_secs(10),
        written(up_at + 500),
    )
    .await;
    let last = writer.finish();
    collect_until(&mut stream, &mut seen, last, &mut resyncs).await;
    assert_eq!(resyncs, 0);
    assert_exactly_once(&seen, last);
    again.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_cursor_that_left_the_ring_is_bridged_through_the_file() {
    let dir = std::env::temp_dir().join(format!("day2top-bridge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("seq.log");
    std::fs::write(&log, "").unwrap();
    // A ring of ~150 lines; the client is away while thousands are written.
    let gw = gateway::start(
        file_gateway_config("127.0.0.1:0".parse().unwrap(), &log, 48 << 10),
        quiet_demo(),
    )
    .await
    .unwrap();
    let mut stream = log_stream(&gw.url, &log);
    let writer = Writer::start(log.clone(), 3000);
    let (mut seen, mut resyncs) = (Vec::new(), 0);
    let written = |n: u64| {
        let writer = &writer;
        move || async move { (writer.written.load(Ordering::Relaxed) >= n).then_some(()) }
    };
    common::poll_until("200 lines written", Duration::from_secs(10), written(200)).await;
    collect_until(&mut stream, &mut seen, 200, &mut resyncs).await;
    drop(stream); // the console goes away
    // Many times the ring's worth written while it is away.
    common::poll_until("2,000 more lines", Duration::from_secs(10), written(2200)).await;
    let last = writer.finish();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ring = common::exposed(
        &common::exposition(&gw.url).await,
        "day2top_gateway_log_entries",
    )
    .unwrap();
    assert!(
        ring < last as f64 / 2.0,
        "the ring ({ring}) is much smaller than what was written ({last})"
    );
    // A read of more than the ring holds pages back into the file.
    let (_, back) = read_logs(&gw.url, "limit=10000").await;
    let numbers: Vec<u64> = back
        .iter()
        .map(|e| e.message.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        numbers,
        (1..=last).collect::<Vec<_>>(),
        "every line, in order"
    );

    // Resume from the last line seen: older than anything in the ring.
    // The file cursor of line n: the file's identity and the offset after it.
    let cursor = {
        use std::os::unix::fs::MetadataExt;
        let n = *seen.last().unwrap();
        let offset: u64 = (1..=n)
            .map(|i| format!("seq {i} {}\n", "x".repeat(40)).len() as u64)
            .sum();
        let meta = std::fs::metadata(&log).unwrap();
        format!("f:{}:{}:{offset}", meta.dev(), meta.ino())
    };
    let mut ws = ws_connect(&gw.url, READ).await;
    let sub =
        serde_json::json!({"type":"subscribe","sub":"l","topic":"logs","from":{"cursor":cursor}});
    send(&mut ws, &sub.to_string()).await;
    while seen.last().is_none_or(|l| *l < last) {
        match next_msg(&mut ws).await {
            ServerMsg::Event { events, .. } => {
                for e in events {
                    if let Record::Log(l) = e.data {
                        seen.push(l.message.split(' ').nth(1).unwrap().parse().unwrap());
                    }
                }
            }
            other => panic!("expected the missed lines, got {other:?}"),
        }
    }
    assert_exactly_once(&seen, last);
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Paging back while the ring moves on: a position taken inside the ring
/// still leads to exactly the lines before it, once the ring has let them
/// go, because it names where each source was covered to.
#[tokio::test]
async fn an_older_position_holds_while_the_ring_moves_on() {
    let dir = std::env::temp_dir().join(format!("day2top-older-moves-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("seq.log");
    let lines = |from: u64, to: u64| -> String {
        (from..=to)
            .map(|n| format!("line {n} of the file\n"))
            .collect()
    };
    std::fs::write(&log, lines(1, 1000)).unwrap();
    let gw = gateway::start(
        file_gateway_config("127.0.0.1:0".parse().unwrap(), &log, 48 << 10),
        quiet_demo(),
    )
    .await
    .unwrap();
    let last_is = |n: u64| {
        let url = gw.url.clone();
        move || {
            let url = url.clone();
            async move {
                let (_, tail) = read_logs(&url, "limit=1").await;
                tail.first()
                    .is_some_and(|e| e.message == format!("line {n} of the file"))
                    .then_some(())
            }
        }
    };
    common::poll_until("line 1000", Duration::from_secs(10), last_is(1000)).await;
    let older = |query: String| {
        let url = gw.url.clone();
        async move {
            let resp = common::http()
                .get(format!("{url}/api/v1/logs?{query}"))
                .bearer_auth(common::READ)
                .send()
                .await
                .unwrap();
            let token = resp
                .headers()
                .get(day2top::api::OLDER_HEADER)
                .map(|v| v.to_str().unwrap().to_string());
            let numbers: Vec<u64> = resp
                .text()
                .await
                .unwrap()
                .lines()
                .map(|l| {
                    let e: day2top::api::LogEntry = serde_json::from_str(l).unwrap();
                    e.message.split(' ').nth(1).unwrap().parse().unwrap()
                })
                .collect();
            (numbers, token)
        }
    };
    let (first, token) = older("limit=50".into()).await;
    assert_eq!(first, (951..=1000).collect::<Vec<_>>());
    // Many rings' worth more: every line of the first page leaves the ring.
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut file, lines(1001, 4000).as_bytes()).unwrap();
    common::poll_until("line 4000", Duration::from_secs(10), last_is(4000)).await;
    let token: String = form_urlencoded::byte_serialize(token.unwrap().as_bytes()).collect();
    let (rest, _) = older(format!("limit=10000&before={token}")).await;
    assert_eq!(
        rest,
        (1..=950).collect::<Vec<_>>(),
        "the lines before, once each"
    );
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A client that resumes the moment a gateway starts (a hub reconnecting
/// to an agent that came back) gets exactly the lines after its cursor:
/// the resume waits for the gateway's first read of its files, which it
/// does not know before, instead of giving up and starting over.
#[tokio::test]
async fn a_resume_as_the_gateway_starts_waits_for_its_first_read() {
    let dir = std::env::temp_dir().join(format!("day2top-prime-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("seq.log");
    let line = |i: u64| format!("seq {i} {}\n", "x".repeat(40));
    let text: String = (1..=20_000).map(line).collect();
    std::fs::write(&log, &text).unwrap();
    let from = 19_990;
    let cursor = {
        use std::os::unix::fs::MetadataExt;
        let offset: u64 = (1..=from).map(|i| line(i).len() as u64).sum();
        let meta = std::fs::metadata(&log).unwrap();
        format!("f:{}:{}:{offset}", meta.dev(), meta.ino())
    };
    // A few starts, each resumed from at once, for the race to show.
    for _ in 0..5 {
        let config = file_gateway_config("127.0.0.1:0".parse().unwrap(), &log, 64 << 20);
        let gw = gateway::start(config, quiet_demo()).await.unwrap();
        let mut ws = ws_connect(&gw.url, READ).await;
        let sub = serde_json::json!({"type":"subscribe","sub":"l","topic":"logs","from":{"cursor":cursor}});
        send(&mut ws, &sub.to_string()).await;
        let mut seen = Vec::new();
        while seen.len() < 10 {
            match next_msg(&mut ws).await {
                ServerMsg::Event { events, .. } => {
                    for e in events {
                        if let Record::Log(l) = e.data {
                            seen.push(l.message.split(' ').nth(1).unwrap().parse::<u64>().unwrap());
                        }
                    }
                }
                other => panic!("expected the lines after the cursor, got {other:?}"),
            }
        }
        assert_eq!(seen, (from + 1..=20_000).collect::<Vec<_>>());
        gw.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_subscription_that_asks_for_binary_log_frames_gets_the_same_events() {
    let gw = busy_demo().await;
    // The demo's lines hold every shape (JSON, escapes, bytes that are not
    // UTF-8 and their base64): both clients start after the same cursor.
    let (_, first) = common::poll_until("lines", Duration::from_secs(10), || async {
        let (_, lines) = read_logs(&gw.url, "limit=1").await;
        (!lines.is_empty()).then_some(((), lines))
    })
    .await;
    let from = serde_json::json!({ "cursor": first[0].cursor }).to_string();
    let mut json = ws_connect(&gw.url, READ).await;
    let mut binary = ws_connect(&gw.url, READ).await;
    send(
        &mut json,
        &format!(r#"{{"type":"subscribe","sub":"l","topic":"logs","from":{from}}}"#),
    )
    .await;
    send(
        &mut binary,
        &format!(
            r#"{{"type":"subscribe","sub":"l","topic":"logs","from":{from},"encoding":"binary"}}"#
        ),
    )
    .await;
    let (by_json, none) = stream_events(&mut json, 3000).await;
    let (by_binary, frames) = stream_events(&mut binary, 3000).await;
    assert_eq!(none, 0, "a client that did not ask gets no binary frame");
    assert!(frames > 0, "binary frames were sent");
    assert!(by_json == by_binary, "the same events either way");
    let shapes = |e: &day2top::api::Event| match &e.data {
        Record::Log(l) => (l.message_base64.is_some(), l.message.contains('\u{1b}')),
        _ => panic!("a log event"),
    };
    assert!(by_binary.iter().any(|e| shapes(e).0), "lines with bytes");
    assert!(by_binary.iter().any(|e| shapes(e).1), "lines with escapes");
    gw.shutdown().await;
}
