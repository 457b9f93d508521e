//! Replay benchmark; prints figures. Run with `cargo bench --bench replay`
//! (`REPLAY_SECONDS=300` for a shorter recording, to profile seeks).
//!
//! A recording of one hour at about 2,000 events a second, made by the
//! real recorder from the demo cluster's own readings (100 nodes, 1,000
//! tasks: tasks changing, log lines, node samples), then: its size, the
//! time to write it and to open (index) it, and seeks to 20 points across
//! it through the real console (goal ≤ 200 ms each), with this process's
//! resident memory before and after (bounded: only the index and one
//! chunk are held, whatever the length).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use day2top::api::{Event, Op, Record, ServerMsg};
use day2top::collect::Source;
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::record::format::{Header, MAGIC, VERSION, What};
use day2top::record::player::Player;
use day2top::record::reader::Recording;
use day2top::record::writer::Recorder;
use day2top::tui::model::{SUB_NODE_METRICS, SUB_NODES, SUB_RECORDED_LOGS, SUB_TASKS};
use day2top::tui::replay::Replay;

/// The recording's length: an hour, or `REPLAY_SECONDS` (a shorter one
/// to profile seeks with: a seek's cost does not follow the length).
fn seconds() -> i64 {
    std::env::var("REPLAY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3600)
}
const T0: i64 = 1_780_000_000_000;

fn msg(sub: &str, seq: &mut u64, op: Op, records: Vec<Record>) -> What {
    let events = records
        .into_iter()
        .map(|data| {
            *seq += 1;
            Event {
                seq: *seq,
                op,
                data,
            }
        })
        .collect();
    What::Msg(ServerMsg::Event {
        sub: sub.into(),
        events,
    })
}

/// Writes the hour; gives the events written.
fn generate(path: &std::path::Path) -> u64 {
    let header = Header {
        format: MAGIC.into(),
        version: VERSION,
        written_by: "bench".into(),
        gateway: "demo".into(),
        context: None,
        subscriptions: Vec::new(),
        redaction: "none".into(),
        started: T0,
        since: None,
        part: 1,
    };
    let recorder = Recorder::create(path, header, u64::MAX).unwrap();
    let mut demo = DemoSource::new(DemoConfig {
        nodes: 100,
        tasks: 1000,
        log_rate: 1500,
        ..Default::default()
    });
    let mut seq = 0;
    let mut events = 0u64;
    let mut held: Vec<Arc<day2top::api::Task>> = Vec::new();
    for s in 0..seconds() {
        let t = T0 + s * 1000;
        let c = demo.collect(t);
        if s == 0 {
            for (sub, items) in [
                (
                    SUB_NODES,
                    c.nodes.iter().cloned().map(Record::Node).collect(),
                ),
                (
                    SUB_TASKS,
                    c.tasks
                        .iter()
                        .map(|t| Record::Task((**t).clone()))
                        .collect(),
                ),
            ] {
                let snapshot = ServerMsg::Snapshot {
                    sub: sub.into(),
                    seq,
                    epoch: "bench".into(),
                    items,
                    more: false,
                };
                recorder.record_waiting(t, What::Msg(snapshot));
            }
        } else {
            // The demo hands over an unchanged task as the same Arc.
            let unchanged: std::collections::HashSet<*const day2top::api::Task> =
                held.iter().map(Arc::as_ptr).collect();
            let changed: Vec<Record> = c
                .tasks
                .iter()
                .filter(|t| !unchanged.contains(&Arc::as_ptr(t)))
                .take(100)
                .map(|t| Record::Task((**t).clone()))
                .collect();
            events += changed.len() as u64;
            recorder.record_waiting(t, msg(SUB_TASKS, &mut seq, Op::Updated, changed));
            // The tasks the demo let go, removed as a gateway removes them
            // (else every keyframe would carry every task ever seen).
            let now: std::collections::HashSet<&str> =
                c.tasks.iter().map(|t| t.id.as_str()).collect();
            let gone: Vec<Record> = held
                .iter()
                .filter(|t| !now.contains(t.id.as_str()))
                .map(|t| Record::Task((**t).clone()))
                .collect();
            if !gone.is_empty() {
                events += gone.len() as u64;
                recorder.record_waiting(t, msg(SUB_TASKS, &mut seq, Op::Removed, gone));
            }
        }
        held = c.tasks;
        let samples: Vec<Record> = c
            .samples
            .into_iter()
            .filter(|s| s.name.starts_with("node."))
            .map(Record::Sample)
            .collect();
        events += samples.len() as u64;
        recorder.record_waiting(t, msg(SUB_NODE_METRICS, &mut seq, Op::Added, samples));
        // Log lines in tenths of a second, as they come.
        let lines = c.logs.len();
        for (i, part) in c.logs.chunks(lines.div_ceil(10).max(1)).enumerate() {
            let records = part.iter().cloned().map(Record::Log).collect();
            events += part.len() as u64;
            recorder.record_waiting(
                t + i as i64 * 100,
                msg(SUB_RECORDED_LOGS, &mut seq, Op::Added, records),
            );
        }
    }
    recorder.finish().unwrap();
    events
}

fn main() {
    let dir = std::env::temp_dir().join(format!("day2top-bench-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hour.d2rec");
    let start = Instant::now();
    let events = generate(&path);
    let wrote = start.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "a recording of {} s, {events} events ({:.0}/s): {:.0} MB, written in {wrote:.1?}",
        seconds(),
        events as f64 / seconds() as f64,
        size as f64 / 1e6
    );
    let before = common::rss_mb();
    let start = Instant::now();
    let recording = Recording::open(&path).unwrap();
    println!(
        "opened (indexed: {} chunks, {} with a keyframe) in {:.1?}",
        recording.chunks.len(),
        recording.chunks.iter().filter(|c| c.keyframe).count(),
        start.elapsed()
    );
    let mut app = day2top::fixture::demo_app(DemoConfig::default(), 1);
    let mut replay = Replay::new(Player::new(recording, 1.0), &mut app);
    app.run_command("tasks");
    // 20 points spread over the hour, each just before a keyframe (the
    // most to apply after one).
    let seeks: Vec<Duration> = (0..20)
        .map(|i| {
            let at = T0 + ((i * 179 + 29) % (seconds() - 1)) * 1000 + 900;
            let start = Instant::now();
            replay.seek(&mut app, at);
            app.prepare();
            start.elapsed()
        })
        .collect();
    let (p50, p99) = common::stats(seeks.clone());
    let worst = seeks.iter().max().unwrap();
    println!(
        "seek to 20 points through the console (tasks view): p50 {p50:.1?}, worst {worst:.1?} (p99 {p99:.1?}; goal ≤ 200 ms); RSS {before:.0} MB before opening, {:.0} MB after the seeks",
        common::rss_mb()
    );
    let _ = std::fs::remove_dir_all(dir);
}
