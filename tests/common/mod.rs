//! Shared helpers for the integration tests: a real gateway on a real
//! loopback socket, and a raw stream client.
#![allow(dead_code)]

pub mod fleet;
pub mod journal;
pub mod screen;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use day2top::api::ServerMsg;
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::gateway::{self, GatewayConfig, RunningGateway, Scope, Token, Tokens};
use futures_util::{SinkExt, StreamExt};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const READ: &str = "read-secret-0123456789";
pub const EXEC_ONLY: &str = "exec-secret-0123456789";
/// Every scope, the audit trail included.
pub const ADMIN: &str = "admin-secret-0123456789";
/// May write OTLP traces, and read nothing.
pub const INGEST: &str = "ingest-secret-0123456789";

pub fn tokens() -> Tokens {
    Tokens::new(vec![
        Token::new("viewer", READ, vec![Scope::Read]),
        Token::new("runner", EXEC_ONLY, vec![Scope::Exec]),
        Token::new("collector", INGEST, vec![Scope::Ingest]),
        Token::new("admin", ADMIN, vec![Scope::Admin]),
    ])
}

pub fn demo_config(listen: SocketAddr) -> GatewayConfig {
    let mut config = GatewayConfig::new(listen);
    config.tokens = Some(tokens());
    config.refresh = Duration::from_millis(100);
    config
}

pub fn demo(seed: u64, nodes: usize, tasks: usize) -> Box<DemoSource> {
    Box::new(DemoSource::new(DemoConfig {
        seed,
        nodes,
        tasks,
        ..Default::default()
    }))
}

pub async fn start_demo() -> RunningGateway {
    gateway::start(
        demo_config("127.0.0.1:0".parse().unwrap()),
        demo(42, 10, 60),
    )
    .await
    .expect("the gateway starts")
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws_connect(url: &str, token: &str) -> Ws {
    let mut request = format!("{}/api/v1/stream", url.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the stream opens")
        .0
}

pub async fn send(ws: &mut Ws, json: &str) {
    ws.send(Message::text(json)).await.unwrap();
}

/// The next server message that is not a heartbeat, within 10 s.
pub async fn next_msg(ws: &mut Ws) -> ServerMsg {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a message within 10 s")
            .expect("the stream is open")
            .expect("a readable frame");
        if let Message::Text(text) = frame {
            let msg: ServerMsg = serde_json::from_str(&text).expect("a protocol message");
            if !matches!(msg, ServerMsg::Heartbeat { .. }) {
                return msg;
            }
        }
    }
}

/// The events of a raw stream client, as many as `want`, read from either
/// kind of frame (JSON or binary), and how many frames were binary.
pub async fn stream_events(ws: &mut Ws, want: usize) -> (Vec<day2top::api::Event>, usize) {
    let (mut events, mut binary_frames) = (Vec::new(), 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while events.len() < want {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("events within 15 s")
            .unwrap()
            .unwrap();
        let msg = match frame {
            Message::Text(text) => serde_json::from_str::<ServerMsg>(&text).unwrap(),
            Message::Binary(bytes) => {
                binary_frames += 1;
                day2top::api::binary_frame::decode(&bytes).unwrap()
            }
            _ => continue,
        };
        if let ServerMsg::Event { events: batch, .. } = msg {
            events.extend(batch);
        }
    }
    events.truncate(want);
    (events, binary_frames)
}

/// A plain HTTP client for raw checks (TLS as the console sets it up).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured((*day2top::client::tls_config(None).unwrap()).clone())
        .build()
        .unwrap()
}

/// `GET /api/v1/logs?{query}`: the status, and the entries when it is 200.
pub async fn read_logs(url: &str, query: &str) -> (u16, Vec<day2top::api::LogEntry>) {
    let resp = http()
        .get(format!("{url}/api/v1/logs?{query}"))
        .bearer_auth(READ)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    let entries = if status == 200 {
        body.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    } else {
        Vec::new()
    };
    (status, entries)
}

/// `GET {url}` with `token`: the status and the body.
pub async fn get_as(url: &str, token: &str) -> (u16, String) {
    let resp = http().get(url).bearer_auth(token).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// `GET {url}` with the read token, as JSON.
pub async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> T {
    http()
        .get(url)
        .bearer_auth(READ)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The gateway's Prometheus exposition.
pub async fn exposition(url: &str) -> String {
    http()
        .get(format!("{url}/metrics"))
        .bearer_auth(READ)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of the first exposition line that starts with `prefix`.
pub fn exposed(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// A raw stream client with a tiny receive buffer, subscribed to `subs`,
/// that reads only when the test does: a slow consumer on demand.
pub async fn slow_client(addr: SocketAddr, subs: &[&str]) -> Ws {
    client_with_buffer(addr, subs, 4096).await
}

/// A raw stream client whose socket takes in at most `buffer` bytes that
/// it has not read (so a test knows how much a stalled client absorbs).
pub async fn client_with_buffer(addr: SocketAddr, subs: &[&str], buffer: u32) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(buffer).unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let mut request = format!("ws://{addr}/api/v1/stream")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {READ}").parse().unwrap());
    let plain = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
    let (mut ws, _) = tokio_tungstenite::client_async(request, plain)
        .await
        .unwrap();
    for sub in subs {
        send(&mut ws, sub).await;
    }
    ws
}

/// A gateway taking OTLP on a loopback port, over a demo that traces
/// nothing itself: every trace it holds is the test's.
pub async fn start_otlp() -> RunningGateway {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.otlp = Some("127.0.0.1:0".parse().unwrap());
    let quiet = DemoSource::new(DemoConfig {
        trace_rate: 0,
        nodes: 1,
        tasks: 1,
        ..Default::default()
    });
    gateway::start(config, Box::new(quiet)).await.unwrap()
}

/// Polls `check` every 50 ms until it gives a value, or panics after
/// `within` saying what it waited for. For what happens in the background
/// (a gateway's reading, a process's exit, a line written), instead of
/// sleeping a while and hoping it happened.
pub async fn poll_until<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {within:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes `seq N` lines to a file, as fast as told, until stopped.
pub struct Writer {
    pub written: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    pub fn start(path: PathBuf, per_second: u64) -> Writer {
        let written = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (w, s) = (written.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            let mut n = 0;
            while !s.load(Ordering::Relaxed) {
                n += 1;
                writeln!(file, "seq {n} {}", "x".repeat(40)).unwrap();
                w.store(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(1_000_000 / per_second));
            }
        });
        Writer {
            written,
            stop,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        self.written.load(Ordering::Relaxed)
    }
}

/// A CA made here, a server certificate it signed for `hosts` and a client
/// certificate for the user `tester`, as PEM files in `dir`: ca.pem,
/// cert.pem, key.pem, client.pem, client-key.pem.
pub struct Pki {
    pub dir: std::path::PathBuf,
}

impl Pki {
    pub fn new(name: &str, hosts: &[&str]) -> Pki {
        let dir = std::env::temp_dir().join(format!("day2top-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tester");
        client.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client = client.signed_by(&client_key, &ca).unwrap();
        std::fs::write(dir.join("client.pem"), client.pem()).unwrap();
        std::fs::write(dir.join("client-key.pem"), client_key.serialize_pem()).unwrap();
        Pki { dir }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A demo gateway playing the OOM scenario 2 s in (ticks are 100 ms),
/// with canary secrets planted when asked; given back once the kill
/// happened, with the killed task's id and the kill's time.
pub async fn start_oom_demo(canaries: bool) -> (RunningGateway, String, i64) {
    use day2top::collect::demo::{DemoConfig, DemoSource, Scenario};
    let demo = DemoSource::new(DemoConfig {
        scenario: Some(Scenario::Oom),
        scenario_at: 20,
        canaries,
        ..Default::default()
    });
    let gw = gateway::start(demo_config("127.0.0.1:0".parse().unwrap()), Box::new(demo))
        .await
        .expect("the gateway starts");
    let began = day2top::api::now_millis();
    let (task, at) = poll_until("the OOM kill", Duration::from_secs(60), || async {
        let tasks: serde_json::Value = get_json(&format!("{}/api/v1/tasks", gw.url)).await;
        tasks["items"].as_array().unwrap().iter().find_map(|t| {
            let oom = t["statuses"]
                .as_array()?
                .iter()
                .find(|s| s["message"].as_str().is_some_and(|m| m.contains("OOM")))?;
            // The scenario's kill, not one from the demo's made-up past.
            let at = oom["at"].as_i64().filter(|at| *at >= began)?;
            Some((t["id"].as_str()?.to_string(), at))
        })
    })
    .await;
    (gw, task, at)
}
