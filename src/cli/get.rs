//! `day2top get nodes|tasks|checks|traces|alerts|audit`: what the
//! console's tables show, printed once or as it changes (`-w`).
//!
//! Nodes, tasks, checks and traces come over the stream, as the console
//! gets them (a snapshot, then events), into the console's model, so the
//! table's cells are the console's own (the view definitions' columns and
//! fields). JSON, NDJSON and YAML print the API's objects as they came.
//! Alerts and the audit trail come from their REST routes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use super::output::{self, Format, Table};
use super::{EXIT_FAILED, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, Failure};
use crate::api::{AlertsReport, AuditRecord, ClusterInfo, Op, Record, ServerMsg, UnixMillis};
use crate::client::{Client, StreamEvent, Subscription};
use crate::tui::config::defs::Defs;
use crate::tui::config::viewdef::{Align, TableDef};
use crate::tui::model::{Model, SUB_HEALTH, SUB_NODES, SUB_TASKS, SUB_TRACES};
use crate::tui::tables::fields;

/// What `get` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    Nodes,
    Tasks,
    Checks,
    Traces,
    Alerts,
    Audit,
}

impl What {
    /// The subscription its rows come on, and those it needs besides (a
    /// task's node name, a node's task count).
    fn subs(self) -> (&'static str, &'static [&'static str]) {
        match self {
            What::Nodes => (SUB_NODES, &[SUB_TASKS]),
            What::Tasks => (SUB_TASKS, &[SUB_NODES]),
            What::Checks => (SUB_HEALTH, &[SUB_NODES, SUB_TASKS]),
            _ => (SUB_TRACES, &[]),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            What::Nodes => "node",
            What::Tasks => "task",
            What::Checks => "check",
            What::Traces => "trace",
            What::Alerts => "alert",
            What::Audit => "audit record",
        }
    }
}

/// What to list and how.
#[derive(Debug, Clone)]
pub struct GetOptions {
    pub what: What,
    /// Ids or names (a node's hostname, a task's or check's name); none: all.
    pub names: Vec<String>,
    /// Tasks and checks on this node (id or hostname).
    pub node: Option<String>,
    /// Tasks in this state; checks with this status.
    pub state: Option<String>,
    /// Labels that must hold (`KEY=VALUE`).
    pub labels: Vec<(String, String)>,
    /// Traces: at most this many, newest first; audit: the latest this many.
    pub limit: usize,
    pub format: Format,
    pub watch: bool,
    /// Where the user's view definitions are (the config directory).
    pub config_dir: Option<PathBuf>,
}

/// How long the first snapshot may take before the command gives up.
const FIRST_SNAPSHOT: Duration = Duration::from_secs(30);

pub async fn run(client: &Client, o: &GetOptions, out: &mut dyn Write) -> Result<(), Failure> {
    // One request first: a dead gateway or a refused token is told at
    // once, with its own exit code, and the source picks the columns.
    let info: ClusterInfo = client.get("/api/v1/cluster").await?;
    match o.what {
        What::Alerts | What::Audit if o.watch => Err(Failure::new(
            EXIT_USAGE,
            "-w is for nodes, tasks, checks and traces; alerts and the audit trail are read once",
        )),
        What::Alerts => alerts(client, o, out).await,
        What::Audit => audit(client, o, out).await,
        _ => listed(client, o, &info.source, out).await,
    }
}

/// Rows of the stream's kinds, held by id as they came.
type Held = BTreeMap<String, Record>;

fn id_of(record: &Record) -> &str {
    match record {
        Record::Node(n) => &n.id,
        Record::Task(t) => &t.id,
        Record::Check(c) => &c.id,
        Record::Trace(t) => &t.trace_id,
        _ => "",
    }
}

async fn listed(
    client: &Client,
    o: &GetOptions,
    source: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let (main, others) = o.what.subs();
    let subs: Vec<Subscription> = crate::tui::connection::subscriptions()
        .into_iter()
        .filter(|s| s.sub == main || others.contains(&s.sub.as_str()))
        .collect();
    let mut stream = client.stream(subs);
    let mut model = Model::default();
    model.source = source.to_string();
    let mut held = Held::new();
    let defs = Defs::load(o.config_dir.as_deref(), "default", "default");
    let deadline = tokio::time::Instant::now() + FIRST_SNAPSHOT;
    let mut printed = false;
    let mut widths = Vec::new();
    loop {
        let event = if printed {
            stream.events.recv().await
        } else {
            match tokio::time::timeout_at(deadline, stream.events.recv()).await {
                Ok(event) => event,
                Err(_) => {
                    return Err(Failure::new(
                        EXIT_UNREACHABLE,
                        "the gateway sent no snapshot within 30 s",
                    ));
                }
            }
        };
        let Some(event) = event else {
            return Err(Failure::new(EXIT_FAILED, "the stream ended"));
        };
        let now = crate::api::now_millis();
        let mut changed = Vec::new();
        match &event {
            StreamEvent::Refused { error } => {
                return Err(Failure::new(EXIT_REFUSED, error.clone()));
            }
            StreamEvent::Disconnected { error, .. } if !printed => {
                return Err(Failure::new(
                    EXIT_UNREACHABLE,
                    format!("lost the gateway's stream: {error}"),
                ));
            }
            StreamEvent::Disconnected {
                error, retry_in, ..
            } => {
                eprintln!(
                    "day2top: lost the gateway's stream ({error}); again in {} s, resuming where it stopped",
                    retry_in.as_secs().max(1)
                );
            }
            StreamEvent::Message(ServerMsg::Snapshot { sub, items, .. }) if sub == main => {
                held = items
                    .iter()
                    .map(|r| (id_of(r).to_string(), r.clone()))
                    .collect();
            }
            StreamEvent::Message(ServerMsg::Event { sub, events }) if sub == main => {
                for e in events {
                    let id = id_of(&e.data).to_string();
                    match e.op {
                        Op::Removed => {
                            held.remove(&id);
                        }
                        _ => {
                            held.insert(id, e.data.clone());
                        }
                    }
                    changed.push((e.op, e.data.clone()));
                }
            }
            StreamEvent::Message(ServerMsg::Gap { sub, dropped, .. }) if sub == main => {
                eprintln!(
                    "day2top: the gateway dropped {dropped} events; a fresh snapshot follows"
                );
            }
            _ => {}
        }
        model.apply(event, now);
        let ready = model.has_snapshot(main) && others.iter().all(|s| model.has_snapshot(s));
        if !ready {
            continue;
        }
        if !printed {
            printed = true;
            let rows: Vec<&Record> = select(&held, o, &model);
            if rows.is_empty() && !o.names.is_empty() && !o.watch {
                return Err(Failure::new(
                    EXIT_NOT_FOUND,
                    format!("no {} named {}", o.what.noun(), o.names.join(", ")),
                ));
            }
            widths = print(out, o, &defs, &model, &rows, Vec::new(), now)?;
            out.flush().map_err(Failure::io)?;
            if !o.watch {
                return Ok(());
            }
            continue;
        }
        for (op, record) in changed {
            if !admits(&record, o, &model) {
                continue;
            }
            if o.format.is_table() {
                let floor = std::mem::take(&mut widths);
                widths = print(out, o, &defs, &model, &[&record], floor, now)?;
            } else {
                #[derive(serde::Serialize)]
                struct Change<'a> {
                    op: Op,
                    item: Object<'a>,
                }
                let item = object(&record);
                output::one(out, o.format, &Change { op, item })?;
            }
        }
        out.flush().map_err(Failure::io)?;
    }
}

/// A record as the API's object (a `Task`, not `{"task": Task}`), its
/// fields in the API's order.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Object<'a> {
    Node(&'a crate::api::Node),
    Task(&'a crate::api::Task),
    Check(&'a crate::api::Check),
    Trace(&'a crate::api::TraceSummary),
    Other(&'a Record),
}

fn object(record: &Record) -> Object<'_> {
    match record {
        Record::Node(n) => Object::Node(n),
        Record::Task(t) => Object::Task(t),
        Record::Check(c) => Object::Check(c),
        Record::Trace(t) => Object::Trace(t),
        other => Object::Other(other),
    }
}

/// The held rows the options admit, in the order the console lists them.
fn select<'a>(held: &'a Held, o: &GetOptions, model: &Model) -> Vec<&'a Record> {
    let mut rows: Vec<&Record> = held.values().filter(|r| admits(r, o, model)).collect();
    let key = |r: &Record| -> (i64, String, String) {
        match r {
            Record::Node(n) => (0, n.hostname.clone(), n.id.clone()),
            Record::Task(t) => (0, t.name.clone(), t.id.clone()),
            Record::Check(c) => (
                i64::from(c.status != crate::api::CheckStatus::Failing),
                c.name.clone(),
                c.id.clone(),
            ),
            Record::Trace(t) => (-(t.start as i64), String::new(), t.trace_id.clone()),
            _ => (0, String::new(), String::new()),
        }
    };
    rows.sort_by_cached_key(|r| key(r));
    if o.what == What::Traces {
        rows.truncate(o.limit);
    }
    rows
}

fn admits(record: &Record, o: &GetOptions, model: &Model) -> bool {
    let named =
        |id: &str, name: &str| o.names.is_empty() || o.names.iter().any(|n| n == id || n == name);
    let on_node = |node: Option<&str>| {
        o.node
            .as_ref()
            .is_none_or(|want| node.is_some_and(|id| id == want || model.node_name(id) == want))
    };
    let labelled = |labels: &crate::api::Labels| {
        o.labels
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|have| have == v))
    };
    match record {
        Record::Node(n) => named(&n.id, &n.hostname) && labelled(&n.labels),
        Record::Task(t) => {
            named(&t.id, &t.name)
                && on_node(Some(&t.node_id))
                && o.state.as_ref().is_none_or(|s| t.state.as_str() == s)
                && labelled(&t.labels)
        }
        Record::Check(c) => {
            named(&c.id, &c.name)
                && on_node(c.node_id.as_deref())
                && o.state.as_ref().is_none_or(|s| c.status.as_str() == s)
        }
        Record::Trace(t) => named(&t.trace_id, &t.root_service),
        _ => false,
    }
}

fn view(defs: &Defs, what: What) -> &TableDef {
    match what {
        What::Nodes => &defs.nodes_view,
        What::Tasks => &defs.tasks_view,
        What::Checks => &defs.health_view,
        _ => &defs.traces_view,
    }
}

/// Fields drawn as pictures (sparklines, bars, strips): nothing for a
/// script, and no text for `table`.
fn pictured(field: &str) -> bool {
    field.ends_with("_history") || field == "bar" || field == "history"
}

fn print(
    out: &mut dyn Write,
    o: &GetOptions,
    defs: &Defs,
    model: &Model,
    rows: &[&Record],
    floor: Vec<usize>,
    now: UnixMillis,
) -> Result<Vec<usize>, Failure> {
    if !o.format.is_table() {
        let objects: Vec<Object> = rows.iter().map(|r| object(r)).collect();
        output::items(out, o.format, &objects)?;
        return Ok(Vec::new());
    }
    // The first print has the header; a watch's rows after it keep its widths.
    let whole = floor.is_empty();
    let wide = o.format == Format::Wide;
    let def = view(defs, o.what);
    let mut columns: Vec<(String, String, crate::tui::config::viewdef::Format, bool)> = def
        .columns
        .iter()
        .filter(|c| c.shown(&model.source) && !pictured(&c.field))
        .map(|c| {
            let right = c.align == Align::Right;
            (c.title.clone(), c.field.clone(), c.format, right)
        })
        .collect();
    if wide && !columns.iter().any(|c| c.1 == "id") {
        columns.insert(
            0,
            (
                "ID".into(),
                "id".into(),
                crate::tui::config::viewdef::Format::Text,
                false,
            ),
        );
    }
    let mut table = Table {
        headers: columns.iter().map(|c| c.0.clone()).collect(),
        right: columns.iter().map(|c| c.3).collect(),
        rows: Vec::with_capacity(rows.len()),
        floor,
    };
    for record in rows {
        let cells = columns
            .iter()
            .map(|(_, field, format, _)| {
                let value = match record {
                    Record::Node(n) => fields::node_field(n, field, model),
                    Record::Task(t) => fields::task_field(t, field, model),
                    Record::Check(c) => fields::check_field(c, field, model),
                    Record::Trace(t) => fields::trace_field(t, field, model),
                    _ => fields::Value::Missing,
                };
                fields::format(&value, *format, now)
            })
            .collect();
        table.rows.push(cells);
    }
    let (lines, widths) = table.render(whole, !wide);
    for line in lines {
        writeln!(out, "{line}").map_err(Failure::io)?;
    }
    Ok(widths)
}

async fn alerts(client: &Client, o: &GetOptions, out: &mut dyn Write) -> Result<(), Failure> {
    let report: AlertsReport = client.get("/api/v1/alerts").await?;
    let alerts: Vec<_> = report
        .alerts
        .iter()
        .filter(|a| o.names.is_empty() || o.names.contains(&a.rule))
        .filter(|a| {
            o.state
                .as_ref()
                .is_none_or(|s| &output::word(&a.state) == s)
        })
        .filter(|a| {
            o.labels
                .iter()
                .all(|(k, v)| a.labels.get(k).is_some_and(|have| have == v))
        })
        .collect();
    if !o.format.is_table() {
        return output::items(out, o.format, &alerts);
    }
    let now = crate::api::now_millis();
    let table = Table {
        headers: ["STATE", "RULE", "SINCE", "VALUE", "LABELS", "SUMMARY"]
            .map(String::from)
            .to_vec(),
        right: vec![false, false, false, true, false, false],
        floor: Vec::new(),
        rows: alerts
            .iter()
            .map(|a| {
                let labels: Vec<String> = a
                    .labels
                    .iter()
                    .filter(|(k, _)| k.as_str() != "alertname")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                vec![
                    output::word(&a.state),
                    a.rule.clone(),
                    crate::tui::widgets::units::age(now - a.since),
                    crate::tui::widgets::units::number(a.value),
                    labels.join(","),
                    a.annotations.get("summary").cloned().unwrap_or_default(),
                ]
            })
            .collect(),
    };
    for line in table.lines(true, o.format == Format::Table) {
        writeln!(out, "{line}").map_err(Failure::io)?;
    }
    if let Some(problem) = &report.problem {
        eprintln!("day2top: {problem}");
    }
    Ok(())
}

async fn audit(client: &Client, o: &GetOptions, out: &mut dyn Write) -> Result<(), Failure> {
    let records: Vec<AuditRecord> = client
        .get(&format!("/api/v1/audit?limit={}", o.limit.clamp(1, 1000)))
        .await?;
    if !o.format.is_table() {
        return output::items(out, o.format, &records);
    }
    let table = Table {
        headers: [
            "TIME", "KIND", "DECISION", "ACTOR", "SOURCE", "TASK", "WHAT",
        ]
        .map(String::from)
        .to_vec(),
        right: vec![false; 7],
        floor: Vec::new(),
        rows: records
            .iter()
            .map(|r| {
                let what = if r.cmd.is_empty() {
                    [r.route.as_str(), r.reason.as_str()]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(": ")
                } else {
                    r.cmd.join(" ")
                };
                vec![
                    output::time(r.time),
                    output::word(&r.kind),
                    output::word(&r.decision),
                    r.actor.clone(),
                    r.source.clone(),
                    r.task.clone(),
                    what,
                ]
            })
            .collect(),
    };
    for line in table.lines(true, o.format == Format::Table) {
        writeln!(out, "{line}").map_err(Failure::io)?;
    }
    Ok(())
}
