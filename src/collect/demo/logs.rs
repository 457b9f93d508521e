//! The demo cluster's logs, in the shapes real ones take: access-log text,
//! JSON lines, logfmt, multi-line Java stack traces, lines with ANSI colour,
//! the odd byte that is not UTF-8, and the rare 100 KB line.

use crate::api::{LogEntry, Span, SpanStatus, Task, UnixMillis};
use crate::collect::logline;
use crate::collect::rng::Rng;

/// Writes log lines for running tasks, numbered so every line has a cursor.
pub struct DemoLogs {
    cursors: Cursors,
    /// Its own generator, so the log rate never changes the cluster.
    rng: Rng,
}

/// Numbers the lines: `d:RUN:N`. A run's cursors mean nothing to another.
struct Cursors {
    run: u64,
    seq: u64,
}

const PATHS: [&str; 6] = [
    "/",
    "/api/cart",
    "/api/checkout",
    "/static/app.js",
    "/api/search?q=boots",
    "/healthz",
];

impl Cursors {
    fn push(
        &mut self,
        out: &mut Vec<LogEntry>,
        task: &Task,
        ts: UnixMillis,
        stream: &str,
        raw: &[u8],
    ) {
        self.seq += 1;
        let mut e = logline::entry(
            format!("d:{:x}:{}", self.run, self.seq),
            ts,
            &task.node_id,
            raw,
        );
        e.task = Some(task.id.clone());
        e.identifier = Some(task.name.clone());
        e.stream = Some(stream.into());
        out.push(e);
    }
}

impl DemoLogs {
    pub fn new(seed: u64) -> DemoLogs {
        DemoLogs {
            cursors: Cursors { run: seed, seq: 0 },
            rng: Rng::new(seed ^ 0x6c6f_6773),
        }
    }

    /// An error line (priority err) of `task`'s, on stderr.
    pub fn error(&mut self, task: &Task, ts: UnixMillis, message: &str, out: &mut Vec<LogEntry>) {
        self.cursors
            .push(out, task, ts, "stderr", message.as_bytes());
        if let Some(entry) = out.last_mut() {
            entry.priority = 3;
        }
    }

    /// The charge handler's line for each charge span, with the span's
    /// trace and span ids, as an instrumented service logs them: what a
    /// log line's link to its trace follows.
    pub fn spans(&mut self, tasks: &[&Task], spans: &[Span], out: &mut Vec<LogEntry>) {
        let charges: Vec<&Span> = spans.iter().filter(|s| s.name == "POST /charge").collect();
        let Some(id) = charges.iter().find_map(|s| s.task_id.as_deref()) else {
            return;
        };
        // The demo runs the service in one task: the first of its name.
        let Some(task) = tasks.iter().find(|t| t.id == id) else {
            return;
        };
        for s in charges.iter().filter(|s| s.task_id.as_deref() == Some(id)) {
            // Inside the span: its first whole millisecond after the start.
            let ts = (s.start / 1_000_000 + 1).min(s.end / 1_000_000) as UnixMillis;
            let (level, msg) = match s.status {
                SpanStatus::Error if s.status_message == "card declined" => {
                    ("error", "charge declined by issuer".to_string())
                }
                SpanStatus::Error => ("error", format!("charge failed: {}", s.status_message)),
                _ => ("info", "charge accepted".to_string()),
            };
            let line = format!(
                r#"{{"ts":{ts},"level":"{level}","msg":"{msg}","trace_id":"{}","span_id":"{}"}}"#,
                s.trace_id, s.span_id
            );
            self.cursors.push(out, task, ts, "stdout", line.as_bytes());
            if let (Some(entry), "error") = (out.last_mut(), level) {
                entry.priority = 3;
            }
        }
    }

    /// About `lines` lines spread over `tasks`, at time `now`.
    pub fn write(
        &mut self,
        tasks: &[&Task],
        now: UnixMillis,
        lines: usize,
        out: &mut Vec<LogEntry>,
    ) {
        let (rng, cursors) = (&mut self.rng, &mut self.cursors);
        if tasks.is_empty() {
            return;
        }
        // In burst mode (load tests) the oddities would only measure themselves.
        let oddities = lines <= 1000;
        for i in 0..lines {
            let task = tasks[rng.range(0, tasks.len() as u64) as usize];
            let ts = now - 1000 + (i as i64 * 1000 / lines.max(1) as i64);
            let n = rng.range(0, 1000);
            let ms = rng.range(1, 900);
            match task.name.split('-').next().unwrap_or("") {
                "frontend" | "marathon" => {
                    let status = if n < 15 {
                        500
                    } else if n < 60 {
                        404
                    } else {
                        200
                    };
                    let line = format!(
                        "10.0.{}.{} - - \"GET {} HTTP/1.1\" {status} {} {}ms",
                        rng.range(1, 4),
                        rng.range(2, 250),
                        PATHS[n as usize % PATHS.len()],
                        rng.range(120, 40_000),
                        ms
                    );
                    cursors.push(out, task, ts, "stdout", line.as_bytes());
                }
                "payments" => {
                    let level = if n < 20 {
                        "error"
                    } else if n < 80 {
                        "warn"
                    } else {
                        "info"
                    };
                    let msg = if level == "error" {
                        "card declined by issuer"
                    } else {
                        "charge accepted"
                    };
                    let line = format!(
                        r#"{{"ts":{ts},"level":"{level}","msg":"{msg}","amount":{}.{:02},"currency":"EUR","latency_ms":{ms},"request_id":"{}"}}"#,
                        rng.range(1, 500),
                        rng.range(0, 100),
                        rng.hex(16)
                    );
                    cursors.push(out, task, ts, "stdout", line.as_bytes());
                }
                "kafka" | "zookeeper" => {
                    let line = format!(
                        "level=info ts={ts} component=log-manager msg=\"Rolled new log segment\" partition={} offset={} took={ms}ms",
                        n % 12,
                        rng.range(1_000, 9_000_000)
                    );
                    cursors.push(out, task, ts, "stdout", line.as_bytes());
                }
                "cassandra" if n < 25 => {
                    // A Java stack trace: one entry per line, as a container runtime logs it.
                    let head = "WARN  [ReadStage-2] ReadCommand.java:569 - Read 5001 live rows and 12 tombstones; query timed out";
                    cursors.push(out, task, ts, "stderr", head.as_bytes());
                    for frame in [
                        "java.util.concurrent.TimeoutException: Operation timed out - received only 1 responses.",
                        "\tat org.apache.cassandra.service.ReadCallback.awaitResults(ReadCallback.java:133)",
                        "\tat org.apache.cassandra.service.StorageProxy.read(StorageProxy.java:1812)",
                        "\tat org.apache.cassandra.cql3.statements.SelectStatement.execute(SelectStatement.java:268)",
                        "\t... 14 more",
                    ] {
                        cursors.push(out, task, ts, "stderr", frame.as_bytes());
                    }
                }
                "cassandra" => {
                    let line = format!(
                        "INFO  [CompactionExecutor:{}] CompactionTask.java:241 - Compacted {} sstables in {ms}ms",
                        n % 8,
                        n % 5 + 2
                    );
                    cursors.push(out, task, ts, "stdout", line.as_bytes());
                }
                "flaky" if n < 8 && oddities => {
                    // Bytes that are not UTF-8 in the middle of a line.
                    let mut raw = b"worker: corrupt payload: ".to_vec();
                    raw.extend_from_slice(&[0xff, 0xfe, 0x00, 0xc3, 0x28]);
                    cursors.push(out, task, ts, "stderr", &raw);
                }
                "flaky" if n < 10 && oddities => {
                    let big = format!("worker: dumping state {}", "x".repeat(100 * 1024));
                    cursors.push(out, task, ts, "stdout", big.as_bytes());
                }
                "flaky" => {
                    let line = if n < 300 {
                        "\x1b[31mERROR\x1b[0m job \x1b[1mfailed\x1b[0m: connection reset by peer; retrying".to_string()
                    } else {
                        format!(
                            "\x1b[32mINFO\x1b[0m processed batch {} in {ms}ms",
                            rng.range(1, 100_000)
                        )
                    };
                    cursors.push(
                        out,
                        task,
                        ts,
                        if n < 300 { "stderr" } else { "stdout" },
                        line.as_bytes(),
                    );
                }
                _ => {
                    let line = format!("Stage {}: {}% ({}/{}) ", n % 9, n / 10, n * 3, 3000);
                    cursors.push(out, task, ts, "stdout", line.as_bytes());
                }
            }
        }
    }
}
