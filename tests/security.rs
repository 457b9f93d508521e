//! The gateway against a hostile client, over real sockets: forged log
//! cursors, FIFOs, idle and half-sent connections, oversized and
//! unfinished WebSocket frames, too many streams, and how it says goodbye.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use day2top::api::{AuditKind, AuditRecord, Decision};
use day2top::gateway::{self, GatewayConfig, RunningGateway};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("day2top-sec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn file_gateway(log: &Path, tweak: impl FnOnce(&mut GatewayConfig)) -> RunningGateway {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.log_files = vec![log.display().to_string()];
    tweak(&mut config);
    gateway::start(config, demo(1, 1, 1)).await.unwrap()
}

fn cursor_of(path: &Path, tail: &str) -> String {
    let m = std::fs::metadata(path).unwrap();
    format!("f:{}:{}:0{tail}", m.dev(), m.ino())
}

fn encode(cursor: &str) -> String {
    form_urlencoded::byte_serialize(cursor.as_bytes()).collect()
}

#[tokio::test]
async fn a_forged_cursor_reads_no_file_and_is_audited() {
    let dir = scratch("forged");
    let log = dir.join("app.log");
    std::fs::write(&log, "hello\n").unwrap();
    let secrets = dir.join("tokens.toml");
    std::fs::write(&secrets, "secret = \"the-admin-secret-0123456789\"\n").unwrap();
    let gw = file_gateway(&log, |_| {}).await;
    tokio::time::sleep(Duration::from_millis(400)).await;

    // The old cursor format carried a path, and a forged one read any file.
    let forged = [
        cursor_of(&secrets, &format!(":{}", secrets.display())),
        cursor_of(&secrets, ""),
        cursor_of(Path::new("/etc/passwd"), ":/etc/passwd"),
        "f:1:1:0:/etc/passwd".to_string(),
    ];
    for cursor in &forged {
        let (status, body) = get_as(
            &format!("{}/api/v1/logs?cursor={}", gw.url, encode(cursor)),
            READ,
        )
        .await;
        assert_eq!(status, 404, "{cursor}: {body}");
        assert!(!body.contains("the-admin-secret"), "{body}");
        assert!(!body.contains("root:x:0"), "{body}");
    }
    // The followed file still resumes by its cursor.
    let (status, body) = get_as(
        &format!(
            "{}/api/v1/logs?cursor={}",
            gw.url,
            encode(&cursor_of(&log, ""))
        ),
        READ,
    )
    .await;
    assert_eq!((status, body.contains("hello")), (200, true), "{body}");

    let audit: Vec<AuditRecord> = http()
        .get(format!("{}/api/v1/audit?limit=100", gw.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refused: Vec<&AuditRecord> = audit
        .iter()
        .filter(|r| r.kind == AuditKind::Cursor)
        .collect();
    assert_eq!(refused.len(), forged.len(), "{audit:?}");
    assert!(refused.iter().all(|r| r.decision == Decision::Deny
        && r.actor == "viewer"
        && r.route == "GET /api/v1/logs"));
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_cursor_naming_a_fifo_parks_nothing() {
    let dir = scratch("fifo");
    let log = dir.join("app.log");
    std::fs::write(&log, "").unwrap();
    let fifo = dir.join("pipe");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    )
    .unwrap();
    let gw = file_gateway(&log, |_| {}).await;
    let cursor = encode(&cursor_of(&fifo, &format!(":{}", fifo.display())));
    let started = Instant::now();
    let url = format!("{}/api/v1/logs?cursor={cursor}", gw.url);
    let asks = (0..8).map(|_| get_as(&url, READ));
    for (status, body) in futures_util::future::join_all(asks).await {
        // Not found, or refused as one of too many lookups at once.
        assert!(status == 404 || status == 503, "{status} {body}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered at once"
    );
    let stopping = Instant::now();
    gw.shutdown().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(4),
        "nothing left stuck"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn quick_limits(config: &mut GatewayConfig) {
    config.connection_limits.max_connections = 16;
    config.connection_limits.header_read = Duration::from_millis(700);
    config.connection_limits.idle = Duration::from_millis(700);
}

/// Reads until the gateway closes the socket; what it said, and whether
/// it closed within `within`.
fn read_to_close(mut tcp: TcpStream, within: Duration) -> (String, bool) {
    tcp.set_read_timeout(Some(within)).unwrap();
    let mut got = Vec::new();
    let closed = loop {
        let mut buf = [0u8; 4096];
        match tcp.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_and_capped() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    quick_limits(&mut config);
    let gw = gateway::start(config, demo(1, 1, 1)).await.unwrap();
    let addr = gw.addr;
    tokio::task::spawn_blocking(move || {
        // Sixteen silent connections fill the cap; the next is told so.
        let silent: Vec<TcpStream> = (0..16).map(|_| TcpStream::connect(addr).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(100));
        let (said, closed) = read_to_close(TcpStream::connect(addr).unwrap(), Duration::from_secs(2));
        assert!(closed && said.starts_with("HTTP/1.1 503"), "{said}");
        assert!(said.contains("16 connections"), "{said}");
        // Silent ones are closed at the header-read timeout, freeing the cap.
        for tcp in silent {
            let (said, closed) = read_to_close(tcp, Duration::from_secs(3));
            assert!(closed, "a silent connection is closed ({said})");
        }
        // A half-sent head.
        let mut half = TcpStream::connect(addr).unwrap();
        half.write_all(b"GET /api/v1/version HTTP/1.1\r\nHost: x\r\n").unwrap();
        assert!(read_to_close(half, Duration::from_secs(3)).1, "a half-sent head is cut");
        // A half-sent body: the head is whole, the body never comes.
        let mut body = TcpStream::connect(addr).unwrap();
        body.write_all(
            format!("POST /api/v1/tasks/x/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {EXEC_ONLY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"cmd\"").as_bytes(),
        )
        .unwrap();
        assert!(read_to_close(body, Duration::from_secs(3)).1, "a half-sent body is cut");
        // A kept-alive connection that asks no more is closed too.
        let mut kept = TcpStream::connect(addr).unwrap();
        kept.write_all(format!("GET /api/v1/version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {READ}\r\n\r\n").as_bytes())
            .unwrap();
        let (said, closed) = read_to_close(kept, Duration::from_secs(3));
        assert!(said.starts_with("HTTP/1.1 200") && closed, "{said}");
        // And the cap is free again.
        let mut again = TcpStream::connect(addr).unwrap();
        again
            .write_all(format!("GET /api/v1/version HTTP/1.1\r\nHost: x\r\nAuthorization: bearer {READ}\r\nConnection: close\r\n\r\n").as_bytes())
            .unwrap();
        let (said, _) = read_to_close(again, Duration::from_secs(3));
        assert!(said.starts_with("HTTP/1.1 200"), "lower-case bearer works too: {said}");
    })
    .await
    .unwrap();
    let metrics = exposition(&gw.url).await;
    assert!(exposed(&metrics, "day2top_gateway_connections_refused_total").unwrap() >= 1.0);
    gw.shutdown().await;
}

/// A raw WebSocket handshake for the stream, then the socket.
fn raw_stream(addr: std::net::SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.write_all(
        format!(
            "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Authorization: Bearer {READ}\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// A masked client text frame header announcing `len` bytes.
fn frame_header(len: u64) -> Vec<u8> {
    let mut h = vec![0x81];
    if len < 126 {
        h.push(0x80 | len as u8);
    } else if len <= u16::MAX as u64 {
        h.push(0x80 | 126);
        h.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        h.push(0x80 | 127);
        h.extend_from_slice(&len.to_be_bytes());
    }
    h.extend_from_slice(&[1, 2, 3, 4]); // the mask
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_unfinished_frames_end_the_stream() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.stream_limits.heartbeat = Duration::from_millis(200);
    config.stream_limits.client_silence = Duration::from_secs(1);
    let gw = gateway::start(config, demo(1, 1, 1)).await.unwrap();
    let addr = gw.addr;
    tokio::task::spawn_blocking(move || {
        // A 16 MiB frame is refused at its header, not buffered.
        let mut big = raw_stream(addr);
        big.write_all(&frame_header(16 << 20)).unwrap();
        let _ = big.write_all(&vec![b'x'; 256 << 10]);
        let started = Instant::now();
        assert!(read_to_close(big, Duration::from_secs(3)).1);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "refused at once"
        );
        // A small frame that never finishes is cut once the client is silent.
        let mut stuck = raw_stream(addr);
        stuck.write_all(&frame_header(1000)).unwrap();
        stuck.write_all(&[b'x'; 10]).unwrap();
        assert!(
            read_to_close(stuck, Duration::from_secs(4)).1,
            "cut for silence"
        );
    })
    .await
    .unwrap();
    gw.shutdown().await;
}

#[tokio::test]
async fn a_token_holds_a_bounded_number_of_streams() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.max_streams_per_token = 2;
    let gw = gateway::start(config, demo(1, 1, 1)).await.unwrap();
    let a = ws_connect(&gw.url, READ).await;
    let _b = ws_connect(&gw.url, READ).await;
    let url = format!("{}/api/v1/stream", gw.url.replacen("http", "ws", 1));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            url.as_str(),
        )
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {READ}").parse().unwrap());
    match tokio_tungstenite::connect_async(request.clone()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429)
        }
        other => panic!("a third stream is refused, got {other:?}"),
    }
    // Another token is not held back by this one's streams.
    let _admin = ws_connect(&gw.url, ADMIN).await;
    drop(a);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        tokio_tungstenite::connect_async(request).await.is_ok(),
        "a closed stream frees its place"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn a_stopping_gateway_says_going_away() {
    let gw = start_demo().await;
    let mut ws = ws_connect(&gw.url, READ).await;
    let stopping = tokio::spawn(gw.shutdown());
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("a close frame within 5 s");
    let frame = close.expect("with a code");
    assert_eq!(u16::from(frame.code), 1001, "{frame:?}");
    stopping.await.unwrap();
}

#[tokio::test]
async fn the_open_file_limit_is_raised_to_the_hard_limit() {
    let gw = start_demo().await;
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    assert_eq!(limit.current, limit.maximum);
    gw.shutdown().await;
}
