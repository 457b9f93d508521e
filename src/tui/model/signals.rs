//! What the stream tells the model, told on to triage's timeline as it
//! arrives: tasks that ended or rolled out, nodes lost and back, checks
//! that turned, error lines, node metrics, traces, gaps. Each costs what
//! it is, never a pass over the cluster.

use super::SUB_ERRORS;
use crate::api::{Check, Health, LogEntry, Node, Task, TaskState, UnixMillis};
use crate::triage::task_cpu::CpuSample;
use crate::triage::{Line, MetricKey, Signal, Subject, Timeline, What};

/// The node series triage follows.
pub const TRIAGE_SERIES: [&str; 3] = [
    super::CPU_SERIES,
    super::MEM_SERIES,
    "node.disk.used.percent",
];

pub fn subject_of(task: &Task) -> Subject {
    Subject {
        task: Some(task.id.clone()),
        node: Some(task.node_id.clone()),
        group: (!task.group.is_empty()).then(|| task.group.clone()),
    }
}

/// A task as it arrives, against what was held (`None`: new to us);
/// `snapshot`: one of a snapshot's, whose versions are where things stand.
pub fn task(t: &mut Timeline, old: Option<&Task>, task: &Task, snapshot: bool, now: UnixMillis) {
    let since = old
        .and_then(|o| o.statuses.last())
        .map_or(i64::MIN, |s| s.at);
    let subject = subject_of(task);
    for status in task.statuses.iter().filter(|s| s.at > since) {
        if matches!(
            status.state,
            TaskState::Failed | TaskState::Killed | TaskState::Lost
        ) {
            t.note(
                Signal {
                    at: status.at,
                    subject: subject.clone(),
                    what: What::TaskEnded {
                        name: task.name.clone(),
                        state: status.state,
                        message: status.message.clone(),
                    },
                },
                now,
            );
        }
    }
    let restarts = |t: &Task| {
        t.labels
            .get("restarts")
            .and_then(|r| r.parse::<u32>().ok())
            .unwrap_or(0)
    };
    // A container restarted in place (a Kubernetes pod): an ending like
    // the others, counted with its group's, so a Deployment's crash loop
    // is one finding however many pods it has.
    if let Some(old) = old
        && restarts(task) > restarts(old)
    {
        let why = task.labels.get("reason").map_or("", String::as_str);
        t.note(
            Signal {
                at: task.updated.max(since),
                subject: subject.clone(),
                what: What::TaskEnded {
                    name: task.name.clone(),
                    state: TaskState::Failed,
                    message: format!("restarted in place: {why}")
                        .trim_end_matches(": ")
                        .to_string(),
                },
            },
            now,
        );
    }
    if task.group.is_empty() || task.state.is_terminal() {
        return;
    }
    match old {
        None if snapshot => t.seed_version(&task.group, &task.version),
        // A task's own update on the version it had tells nothing.
        Some(old) if old.version == task.version => {}
        _ => {
            if let Some(from) = t.note_version(&task.group, &task.version) {
                t.note(
                    Signal {
                        at: task.started.max(task.updated.min(now)),
                        subject,
                        what: What::Rollout {
                            name: task.name.clone(),
                            from,
                            to: task.version.clone(),
                        },
                    },
                    now,
                );
            }
        }
    }
}

pub fn node(t: &mut Timeline, old: Option<&Node>, node: &Node, now: UnixMillis) {
    if t.node_names.len() < crate::triage::timeline::MAX_NODE_NAMES
        || t.node_names.contains_key(&node.id)
    {
        t.node_names.insert(node.id.clone(), node.hostname.clone());
    }
    let was = old.map(|o| o.health);
    let subject = Subject {
        node: Some(node.id.clone()),
        ..Default::default()
    };
    let what = match (was, node.health) {
        (Some(Health::Healthy), Health::Unhealthy) => What::NodeDown {
            name: node.hostname.clone(),
            unreachable: node.unreachable_since.is_some(),
        },
        (Some(Health::Unhealthy), Health::Healthy) => What::NodeUp {
            name: node.hostname.clone(),
        },
        _ => return,
    };
    let at = node.unreachable_since.unwrap_or(now);
    t.note(Signal { at, subject, what }, now);
}

/// A check's new results (all of them for one not held): each turn
/// from passing to failing and back; `group`: its task's.
pub fn check(
    t: &mut Timeline,
    held: Option<&Check>,
    check: &Check,
    group: Option<String>,
    now: UnixMillis,
) {
    let mut ok = held.and_then(|h| h.history.last()).map(|r| r.ok);
    let since = held
        .and_then(|h| h.history.last())
        .map_or(i64::MIN, |r| r.ts);
    let subject = Subject {
        task: check.task_id.clone(),
        node: check.node_id.clone(),
        group,
    };
    for result in check.history.iter().filter(|r| r.ts > since) {
        let what = match (ok, result.ok) {
            (Some(true) | None, false) => What::CheckFailed {
                id: check.id.clone(),
                name: check.name.clone(),
                output: check.last_output.clone(),
            },
            (Some(false), true) => What::CheckPassed {
                id: check.id.clone(),
                name: check.name.clone(),
            },
            _ => {
                ok = Some(result.ok);
                continue;
            }
        };
        ok = Some(result.ok);
        t.note(
            Signal {
                at: result.ts,
                subject: subject.clone(),
                what,
            },
            now,
        );
    }
}

/// An error line; `task`: the task it names, as held.
pub fn error(t: &mut Timeline, entry: &LogEntry, task: Option<&Task>, now: UnixMillis) {
    let group = task.map(|t| t.group.clone()).filter(|g| !g.is_empty());
    let source = group
        .clone()
        .or_else(|| entry.unit.clone())
        .or_else(|| entry.identifier.clone())
        .unwrap_or_else(|| format!("node {}", entry.node));
    let line = Line {
        at: entry.ts,
        message: entry.message.clone(),
        subject: Subject {
            task: entry.task.clone(),
            node: (!entry.node.is_empty()).then(|| entry.node.clone()),
            group,
        },
        source,
    };
    t.note_error(line, now);
}

pub fn sample(
    t: &mut Timeline,
    name: &str,
    node: &str,
    at: UnixMillis,
    value: f64,
    now: UnixMillis,
) {
    if TRIAGE_SERIES.contains(&name) {
        let key = MetricKey {
            name: name.to_string(),
            node: node.to_string(),
        };
        t.note_metric(&key, at, value, now);
    }
}

/// A task's CPU sample, in cores.
pub fn task_cpu(t: &mut Timeline, task: &Task, at: UnixMillis, cores: f64, now: UnixMillis) {
    let sample = CpuSample {
        task: &task.id,
        name: &task.name,
        node: &task.node_id,
        group: &task.group,
        limit: task.cpu_limit,
        at,
        cores,
    };
    t.note_task_cpu(&sample, now);
}

/// A subscription's gap or resync: data that did not arrive.
pub fn missing(t: &mut Timeline, sub: &str, detail: String, now: UnixMillis) {
    let what = match sub {
        SUB_ERRORS => "error lines".to_string(),
        other => format!("{other} stream"),
    };
    t.note(
        Signal {
            at: now,
            subject: Subject::default(),
            what: What::Missing { what, detail },
        },
        now,
    );
}

/// An exec session opened from this console, or refused.
pub fn exec(
    t: &mut Timeline,
    task: &str,
    held: Option<&Task>,
    command: &str,
    denied: Option<String>,
    now: UnixMillis,
) {
    let subject = match held {
        Some(held) => subject_of(held),
        None => Subject {
            task: Some(task.to_string()),
            ..Default::default()
        },
    };
    t.note(
        Signal {
            at: now,
            subject,
            what: What::Exec {
                command: command.to_string(),
                denied,
            },
        },
        now,
    );
}
