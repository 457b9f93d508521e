//! A console filled from the seeded demo cluster at a fixed clock, as the
//! stream would fill it: for golden screens and benchmarks.

use std::collections::BTreeMap;

use crate::api::{Check, CheckKind, CheckResult, Record, Series, ServerMsg, UnixMillis};
use crate::client::StreamEvent;
use crate::collect::Source;
use crate::collect::checks::builtin::Builtins;
use crate::collect::demo::{DemoConfig, DemoSource};
use crate::tui::app::{App, Origin};
use crate::tui::config::defs::Defs;
use crate::tui::model::{
    CPU_SERIES, MEM_SERIES, SUB_HEALTH, SUB_NODE_METRICS, SUB_NODES, SUB_TASK_METRICS, SUB_TASKS,
    TASK_CPU_SERIES,
};

/// The fixed clock the fixture starts at.
pub const T0: UnixMillis = 1_700_000_000_000;

fn snapshot(sub: &str, items: Vec<Record>) -> StreamEvent {
    StreamEvent::Message(ServerMsg::Snapshot {
        sub: sub.into(),
        seq: 1,
        epoch: "fixture".into(),
        items,
        more: false,
    })
}

/// The demo cluster after `ticks` seconds, delivered to a new console as
/// snapshots of nodes, tasks and node series.
pub fn demo_app(config: DemoConfig, ticks: i64) -> App {
    let mut demo = DemoSource::new(config);
    let mut series: BTreeMap<String, Series> = BTreeMap::new();
    let mut last = None;
    let mut checks: BTreeMap<String, Check> = BTreeMap::new();
    let mut builtins = Builtins::default();
    for i in 0..ticks.max(1) {
        let collected = demo.collect(T0 + i * 1000);
        // The gateway's built-in checks over the same readings.
        let at = T0 + i * 1000;
        builtins.note_nodes(collected.nodes.iter(), at);
        if i % 10 == 0 {
            for (check, result) in builtins.evaluate(collected.nodes.iter(), at) {
                checks
                    .entry(check.id.clone())
                    .or_insert(check)
                    .record(result, T0);
            }
            for (check, result) in probe_like_checks(i, at) {
                checks
                    .entry(check.id.clone())
                    .or_insert(check)
                    .record(result, T0);
            }
        }
        collect_series(
            &mut series,
            collected
                .samples
                .iter()
                .filter(|s| [CPU_SERIES, MEM_SERIES, TASK_CPU_SERIES].contains(&s.name.as_str())),
        );
        last = Some(collected);
    }
    let collected = last.expect("at least one tick");
    let now = T0 + (ticks.max(1) - 1) * 1000;
    let origin = Origin {
        readonly: false,
        context: "demo".into(),
        url: "http://127.0.0.1:7070".into(),
        cluster: Some(("demo".into(), "demo".into())),
    };
    let contexts = vec!["demo".into(), "prod".into()];
    let mut app = App::new(
        Defs::load(None, "default", "default"),
        origin,
        contexts,
        None,
        now,
    );
    app.on_stream(StreamEvent::Connected, now);
    app.on_stream(
        snapshot(
            SUB_NODES,
            collected.nodes.into_iter().map(Record::Node).collect(),
        ),
        now,
    );
    app.on_stream(
        snapshot(
            SUB_TASKS,
            collected
                .tasks
                .into_iter()
                .map(|t| Record::Task(std::sync::Arc::unwrap_or_clone(t)))
                .collect(),
        ),
        now,
    );
    let (tasks, nodes): (Vec<Series>, Vec<Series>) = series
        .into_values()
        .partition(|s| s.name == TASK_CPU_SERIES);
    app.on_stream(
        snapshot(
            SUB_NODE_METRICS,
            nodes.into_iter().map(Record::Series).collect(),
        ),
        now,
    );
    app.on_stream(
        snapshot(
            SUB_TASK_METRICS,
            tasks.into_iter().map(Record::Series).collect(),
        ),
        now,
    );
    app.on_stream(
        snapshot(
            SUB_HEALTH,
            checks.into_values().map(Record::Check).collect(),
        ),
        now,
    );
    app
}

/// Adds samples to their series, as a gateway's store keeps them.
fn collect_series<'a>(
    series: &mut BTreeMap<String, Series>,
    samples: impl Iterator<Item = &'a crate::api::Sample>,
) {
    for s in samples {
        series
            .entry(s.series_key())
            .or_insert_with(|| Series {
                name: s.name.clone(),
                tags: s.tags.clone(),
                unit: s.unit.clone(),
                points: Vec::new(),
            })
            .points
            .push((s.ts, s.value));
    }
}

/// Every series of the demo over `ticks` seconds from `T0`, as a gateway's
/// snapshot would carry them (the last 300 points of each).
pub fn demo_series(config: DemoConfig, ticks: i64) -> Vec<Series> {
    let mut demo = DemoSource::new(config);
    let mut every: BTreeMap<String, Series> = BTreeMap::new();
    for i in 0..ticks.max(1) {
        collect_series(&mut every, demo.collect(T0 + i * 1000).samples.iter());
    }
    every
        .into_values()
        .map(|mut s| {
            let old = s.points.len().saturating_sub(300);
            s.points.drain(..old);
            s
        })
        .collect()
}

/// The demo's traces over `ticks` seconds from `T0`, deterministically.
pub fn demo_spans(config: DemoConfig, ticks: i64) -> Vec<crate::api::Span> {
    let mut demo = DemoSource::new(config);
    (0..ticks.max(1))
        .flat_map(|i| demo.collect(T0 + i * 1000).spans)
        .collect()
}

/// Delivers traces to the console as its `traces` subscription's snapshot.
pub fn feed_traces(app: &mut App, spans: &[crate::api::Span]) {
    let mut by: BTreeMap<&str, Vec<crate::api::Span>> = BTreeMap::new();
    for s in spans {
        by.entry(s.trace_id.as_str()).or_default().push(s.clone());
    }
    let items = by
        .iter()
        .map(|(id, spans)| Record::Trace(crate::api::TraceSummary::of(id, spans)))
        .collect();
    let now = app.now;
    app.on_stream(snapshot(crate::tui::model::SUB_TRACES, items), now);
}

/// Delivers series to an open dashboard as its subscription's snapshot.
pub fn feed_dash(app: &mut App, series: Vec<Series>) {
    let now = app.now;
    let items = series.into_iter().map(Record::Series).collect();
    app.on_stream(snapshot(crate::tui::model::SUB_DASH, items), now);
}

/// Configured checks as a gateway probing a flaky web endpoint, a steady
/// database port and a command in its grace period would report them.
fn probe_like_checks(tick: i64, at: UnixMillis) -> Vec<(Check, CheckResult)> {
    let mut web = Check::new(
        "check:web",
        "web health",
        CheckKind::Http,
        "http://web.marathon.l4lb:8080/health",
    );
    web.failure_threshold = 2;
    let web_ok = (tick / 10) % 4 != 3 && tick < 120;
    let mut db = Check::new(
        "check:db",
        "cassandra cql",
        CheckKind::Tcp,
        "node-0.cassandra:9042",
    );
    db.failure_threshold = 3;
    let mut cmd = Check::new(
        "check:backup",
        "backup fresh",
        CheckKind::Command,
        "/usr/local/bin/check-backup --max-age 1d",
    );
    cmd.grace_ms = 3_600_000;
    let result = |ok: bool, latency: f64, output: &str| CheckResult {
        ts: at,
        ok,
        latency_ms: latency,
        output: output.to_string(),
    };
    vec![
        (
            web,
            if web_ok {
                result(true, 12.5 + (tick % 7) as f64, "HTTP 200 OK")
            } else {
                result(false, 5000.0, "no answer within 5s")
            },
        ),
        (db, result(true, 0.8, "connected to node-0.cassandra:9042")),
        (
            cmd,
            result(false, 41.0, "exit status: 2 last backup 3d ago"),
        ),
    ]
}

/// The demo's log lines over `ticks` seconds from `T0`, deterministically.
pub fn demo_logs(seed: u64, ticks: i64, rate: usize) -> Vec<crate::api::LogEntry> {
    let mut demo = DemoSource::new(DemoConfig {
        seed,
        log_rate: rate,
        ..Default::default()
    });
    (0..ticks)
        .flat_map(|i| demo.collect(T0 + i * 1000).logs)
        .collect()
}

/// Delivers log lines to the console as the `logs` subscription's snapshot.
pub fn feed_logs(app: &mut App, entries: Vec<crate::api::LogEntry>) {
    let now = app.now;
    app.on_stream(
        snapshot(
            crate::tui::model::SUB_LOGS,
            entries.into_iter().map(Record::Log).collect(),
        ),
        now,
    );
}
