//! statsd and DogStatsD over UDP: datagrams of one or more lines, each a
//! metric, an event or a service check. Metrics are aggregated per flush
//! interval ([`aggregate`]); events and service checks become log entries
//! (and a check's status a gauge too). A malformed line is counted and a
//! few of them are logged; it never stops the listener.

pub mod aggregate;
pub mod parse;

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aggregate::Aggregator;
use parse::{Line, ParseError};

use crate::api::{Check, CheckKind, CheckResult, LogEntry, Sample, UnixMillis, now_millis};

/// The largest UDP payload; DogStatsD clients pack many lines up to it.
const MAX_DATAGRAM: usize = 65_535;
/// Asked of the kernel for the socket's receive queue, so a burst waits
/// there instead of being dropped while a flush runs.
const RECEIVE_BUFFER: usize = 8 << 20;
/// How long one receive waits: a flush is at most this late, and an idle
/// listener wakes this often (a timeout set once, not per datagram).
const RECEIVE_WAIT: Duration = Duration::from_millis(50);
/// Distinct series aggregated per interval at most.
pub const MAX_SERIES: usize = 100_000;
/// Malformed lines logged per flush interval at most (all are counted).
const LOGGED_PER_INTERVAL: u32 = 5;
/// Events and service checks kept per flush interval at most; beyond,
/// they are counted as over the limit.
const MAX_EVENTS_PER_INTERVAL: usize = 10_000;

/// What the listener has seen, for the gateway's `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub datagrams: AtomicU64,
    pub lines: AtomicU64,
    pub malformed: AtomicU64,
    /// Lines refused because the aggregator held its most series, or the
    /// interval its most events and service checks.
    pub over_limit: AtomicU64,
}

impl Counters {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What one flush hands to the gateway.
#[derive(Debug, Default)]
pub struct Flushed {
    pub samples: Vec<Sample>,
    /// Events and service checks, as log entries.
    pub logs: Vec<LogEntry>,
    /// Service checks, as checks with their result.
    pub checks: Vec<(Check, CheckResult)>,
}

pub struct Listener {
    socket: UdpSocket,
    buf: Vec<u8>,
    aggregator: Aggregator,
    counters: Arc<Counters>,
    node: String,
    logs: Vec<LogEntry>,
    checks: Vec<(Check, CheckResult)>,
    /// Set when the listener started: part of every cursor, so cursors of
    /// two runs never meet.
    run: UnixMillis,
    next_entry: u64,
    logged: u32,
}

impl Listener {
    pub fn bind(addr: SocketAddr, node: String) -> io::Result<Listener> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_read_timeout(Some(RECEIVE_WAIT))?;
        // Best effort: the kernel may cap it (net.core.rmem_max).
        let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&socket, RECEIVE_BUFFER);
        Ok(Listener {
            socket,
            buf: vec![0; MAX_DATAGRAM],
            aggregator: Aggregator::new(MAX_SERIES),
            counters: Arc::default(),
            node,
            logs: Vec::new(),
            checks: Vec::new(),
            run: now_millis(),
            next_entry: 0,
            logged: 0,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// Takes in datagrams until `until` (at most [`RECEIVE_WAIT`] late).
    pub fn receive_until(&mut self, until: Instant) {
        while Instant::now() < until {
            match self.socket.recv(&mut self.buf) {
                Ok(n) => {
                    let data = std::mem::take(&mut self.buf);
                    self.datagram(&data[..n]);
                    self.buf = data;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    // Never a spin on an error that repeats: wait, say it a
                    // few times an interval.
                    if self.logged < LOGGED_PER_INTERVAL {
                        self.logged += 1;
                        tracing::warn!("statsd: cannot receive: {e}");
                    }
                    std::thread::sleep(RECEIVE_WAIT);
                }
            }
        }
    }

    fn datagram(&mut self, data: &[u8]) {
        Counters::add(&self.counters.datagrams, 1);
        let now = now_millis();
        let text = String::from_utf8_lossy(data);
        for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
            Counters::add(&self.counters.lines, 1);
            match parse::parse(line) {
                Ok(Line::Metric(m)) => {
                    let before = self.aggregator.dropped;
                    self.aggregator.add(m, now);
                    Counters::add(&self.counters.over_limit, self.aggregator.dropped - before);
                }
                Ok(Line::Event(_) | Line::ServiceCheck(_))
                    if self.logs.len() >= MAX_EVENTS_PER_INTERVAL =>
                {
                    Counters::add(&self.counters.over_limit, 1);
                }
                Ok(Line::Event(e)) => {
                    let priority = match e.alert_type.as_str() {
                        "error" => 3,
                        "warning" => 4,
                        "success" => 5,
                        _ => 6,
                    };
                    let text = if e.text.is_empty() {
                        e.title.clone()
                    } else {
                        format!("{}: {}", e.title, e.text)
                    };
                    self.log(now, "statsd-event", priority, text, e.host, &e.tags);
                }
                Ok(Line::ServiceCheck(c)) => {
                    const STATUS: [(&str, u8); 4] =
                        [("ok", 6), ("warning", 4), ("critical", 3), ("unknown", 5)];
                    let (word, priority) = STATUS[c.status as usize];
                    let mut tags = c.tags.clone();
                    tags.push(("check".into(), c.name.clone()));
                    self.aggregator.add(
                        parse::Metric {
                            name: "statsd.service_check".into(),
                            kind: parse::Kind::Gauge,
                            value: parse::Value::Number(c.status as f64),
                            rate: 1.0,
                            tags,
                        },
                        now,
                    );
                    let text = match &c.message {
                        Some(m) => format!("{} {word}: {m}", c.name),
                        None => format!("{} {word}", c.name),
                    };
                    let mut check = Check::new(
                        &format!("statsd:{}", c.name),
                        &c.name,
                        CheckKind::Statsd,
                        c.host.as_deref().unwrap_or("statsd"),
                    );
                    check.failure_threshold = 1;
                    check.interval_ms = 0;
                    let result = CheckResult {
                        ts: now,
                        ok: c.status == 0,
                        latency_ms: 0.0,
                        output: text.clone(),
                    };
                    self.checks.push((check, result));
                    self.log(now, "statsd-check", priority, text, c.host, &c.tags);
                }
                Err(e) => self.malformed(line, &e),
            }
        }
    }

    fn log(
        &mut self,
        now: UnixMillis,
        identifier: &str,
        priority: u8,
        message: String,
        host: Option<String>,
        tags: &[(String, String)],
    ) {
        self.next_entry += 1;
        let mut entry = super::logline::entry(
            format!("s:{}:{}", self.run, self.next_entry),
            now,
            &self.node,
            b"",
        );
        entry.message = message;
        entry.priority = priority;
        entry.identifier = Some(identifier.to_string());
        for (k, v) in tags {
            entry
                .fields
                .insert(format!("tag.{k}"), crate::api::FieldValue::Text(v.clone()));
        }
        if let Some(host) = host {
            entry
                .fields
                .insert("host".into(), crate::api::FieldValue::Text(host));
        }
        self.logs.push(entry);
    }

    fn malformed(&mut self, line: &str, why: &ParseError) {
        Counters::add(&self.counters.malformed, 1);
        if self.logged < LOGGED_PER_INTERVAL {
            self.logged += 1;
            let shown: String = line.chars().take(120).collect();
            tracing::warn!("statsd: malformed line ({why}): {shown:?}");
        }
    }

    /// Ends the interval that began `seconds` ago.
    pub fn flush(&mut self, now: UnixMillis, seconds: f64) -> Flushed {
        self.logged = 0;
        Flushed {
            samples: self.aggregator.flush(now, seconds),
            logs: std::mem::take(&mut self.logs),
            checks: std::mem::take(&mut self.checks),
        }
    }
}
