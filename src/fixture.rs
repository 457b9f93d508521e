//! A console filled from the seeded demo cluster at a fixed clock, as the
//! stream would fill it: for golden screens and benchmarks.

use std::collections::BTreeMap;

use crate::api::{Check, CheckKind, CheckResult, Event, Op, Record, Series, ServerMsg, UnixMillis};
use crate::client::StreamEvent;
use crate::collect::Source;
use crate::collect::checks::builtin::Builtins;
use crate::collect::demo::{DemoConfig, DemoSource};
use crate::tui::app::{App, Origin};
use crate::tui::config::defs::Defs;
use crate::tui::model::signals::TRIAGE_SERIES;
use crate::tui::model::{
    CPU_SERIES, MEM_SERIES, SUB_ERRORS, SUB_HEALTH, SUB_NODE_METRICS, SUB_NODES, SUB_TASK_METRICS,
    SUB_TASKS, SUB_TRACES, TASK_CPU_SERIES,
};

/// The fixed clock the fixture starts at.
pub const T0: UnixMillis = 1_700_000_000_000;

/// A new console on the demo context, at `now`.
fn console(now: UnixMillis) -> App {
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
    // Share mode ready and off, as the console starts it.
    app.share = crate::redact::Share::prepare(&Default::default(), false)
        .expect("the built-in share rules are valid");
    app
}

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
    let mut app = console(now);
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

fn events(sub: &str, events: Vec<(Op, Record)>) -> StreamEvent {
    StreamEvent::Message(ServerMsg::Event {
        sub: sub.into(),
        events: events
            .into_iter()
            .map(|(op, data)| Event { seq: 0, op, data })
            .collect(),
    })
}

/// The demo cluster over `ticks` seconds, delivered to a new console as
/// the stream would deliver it: snapshots first, then each second what
/// changed (tasks, nodes), the node samples, the error lines, the traces,
/// and every 10 s the built-in checks' results. What triage sees live.
pub fn demo_stream(config: DemoConfig, ticks: i64) -> App {
    let mut demo = DemoSource::new(config);
    let mut app = console(T0);
    app.on_stream(StreamEvent::Connected, T0);
    let mut tasks: BTreeMap<String, std::sync::Arc<crate::api::Task>> = BTreeMap::new();
    let mut nodes: BTreeMap<String, crate::api::Node> = BTreeMap::new();
    let mut checks: BTreeMap<String, Check> = BTreeMap::new();
    let mut builtins = Builtins::default();
    for i in 0..ticks.max(1) {
        let now = T0 + i * 1000;
        let collected = demo.collect(now);
        let mut changed = Vec::new();
        for t in &collected.tasks {
            match tasks.insert(t.id.clone(), t.clone()) {
                Some(old) if std::sync::Arc::ptr_eq(&old, t) => {}
                Some(_) => changed.push((Op::Updated, Record::Task(crate::api::Task::clone(t)))),
                None => {
                    if i > 0 {
                        changed.push((Op::Added, Record::Task(crate::api::Task::clone(t))));
                    }
                }
            }
            if t.state.is_terminal()
                && t.updated == now
                && t.state != crate::api::TaskState::Finished
            {
                builtins.note_task_ending(now);
            }
        }
        let live: std::collections::BTreeSet<&str> =
            collected.tasks.iter().map(|t| t.id.as_str()).collect();
        let gone: Vec<String> = tasks
            .keys()
            .filter(|id| !live.contains(id.as_str()))
            .cloned()
            .collect();
        for id in gone {
            if let Some(old) = tasks.remove(&id) {
                changed.push((Op::Removed, Record::Task(crate::api::Task::clone(&old))));
            }
        }
        let mut moved = Vec::new();
        for n in &collected.nodes {
            let differs = nodes.get(&n.id).is_none_or(|old| old.health != n.health);
            nodes.insert(n.id.clone(), n.clone());
            if differs && i > 0 {
                moved.push((Op::Updated, Record::Node(n.clone())));
            }
        }
        if i == 0 {
            let all_nodes = collected.nodes.iter().cloned().map(Record::Node).collect();
            app.on_stream(snapshot(SUB_NODES, all_nodes), now);
            let all_tasks = collected
                .tasks
                .iter()
                .map(|t| Record::Task(crate::api::Task::clone(t)))
                .collect();
            app.on_stream(snapshot(SUB_TASKS, all_tasks), now);
            for sub in [
                SUB_HEALTH,
                SUB_NODE_METRICS,
                SUB_TASK_METRICS,
                SUB_ERRORS,
                SUB_TRACES,
            ] {
                app.on_stream(snapshot(sub, Vec::new()), now);
            }
        }
        app.on_stream(events(SUB_NODES, moved), now);
        app.on_stream(events(SUB_TASKS, changed), now);
        let samples = collected
            .samples
            .iter()
            .filter(|s| TRIAGE_SERIES.contains(&s.name.as_str()))
            .map(|s| (Op::Updated, Record::Sample(s.clone())))
            .collect();
        app.on_stream(events(SUB_NODE_METRICS, samples), now);
        let samples = collected
            .samples
            .iter()
            .filter(|s| s.name == TASK_CPU_SERIES)
            .map(|s| (Op::Updated, Record::Sample(s.clone())))
            .collect();
        app.on_stream(events(SUB_TASK_METRICS, samples), now);
        let errors = collected
            .logs
            .into_iter()
            .filter(|e| e.priority <= 3)
            .map(|e| (Op::Added, Record::Log(e)))
            .collect();
        app.on_stream(events(SUB_ERRORS, errors), now);
        let mut by: BTreeMap<&str, Vec<crate::api::Span>> = BTreeMap::new();
        for s in &collected.spans {
            by.entry(s.trace_id.as_str()).or_default().push(s.clone());
        }
        let traces = by
            .iter()
            .map(|(id, spans)| {
                (
                    Op::Added,
                    Record::Trace(crate::api::TraceSummary::of(id, spans)),
                )
            })
            .collect();
        app.on_stream(events(SUB_TRACES, traces), now);
        builtins.note_nodes(collected.nodes.iter(), now);
        if i % 10 == 0 {
            let mut results = Vec::new();
            for (check, result) in builtins.evaluate(collected.nodes.iter(), now) {
                let held = checks.entry(check.id.clone()).or_insert(check);
                held.record(result.clone(), T0);
                let mut update = held.clone();
                update.history = vec![result];
                results.push((Op::Updated, Record::Check(update)));
            }
            app.on_stream(events(SUB_HEALTH, results), now);
        }
        app.now = now;
    }
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
    demo_lines(
        DemoConfig {
            seed,
            log_rate: rate,
            ..Default::default()
        },
        ticks,
    )
}

/// The log lines of the demo `config` over `ticks` seconds from `T0`: the
/// same cluster (and traces) as `demo_app` and `demo_spans` of it.
pub fn demo_lines(config: DemoConfig, ticks: i64) -> Vec<crate::api::LogEntry> {
    let mut demo = DemoSource::new(config);
    (0..ticks.max(1))
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
