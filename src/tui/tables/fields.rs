//! The fields a view definition can show, read from nodes and tasks, and
//! how each format turns a value into text.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::api::{AgentStatus, Check, CheckKind, Node, Task, TraceSummary, UnixMillis};
pub use crate::tui::config::fields::{
    AGENT_FIELDS, CHECK_FIELDS, NODE_FIELDS, TASK_FIELDS, TRACE_FIELDS,
};
use crate::tui::config::viewdef::{Column, Format};
use crate::tui::model::{CPU_SERIES, MEM_SERIES, Model};
use crate::tui::widgets::units::{age, bytes, number};

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Text(Cow<'a, str>),
    Num(f64),
    /// A timestamp, shown as an age.
    Time(UnixMillis),
    /// Recent values, oldest first: drawn as a sparkline as wide as the
    /// column; sorted and styled by the newest.
    Series(&'a VecDeque<f64>),
    Missing,
}

fn pct(part: f64, whole: f64) -> Value<'static> {
    if whole > 0.0 {
        Value::Num(100.0 * part / whole)
    } else {
        Value::Missing
    }
}

fn history(values: Option<&VecDeque<f64>>) -> Value<'_> {
    values.map_or(Value::Missing, Value::Series)
}

fn text(s: &str) -> Value<'_> {
    Value::Text(Cow::Borrowed(s))
}

/// Live figures: usage, which changes every refresh, and a node's task
/// counts, which change with its tasks. Rows sorted by one re-sort as it
/// moves; the filter does not match them.
pub fn is_live(field: &str) -> bool {
    matches!(
        field,
        "tasks"
            | "running"
            | "cpu"
            | "cpu_percent"
            | "cpu_history"
            | "mem"
            | "mem_percent"
            | "mem_history"
            | "mem_used"
            | "disk_used"
            | "disk_percent"
            | "load1"
            | "load5"
            | "load15"
    )
}

pub fn node_field<'a>(node: &'a Node, field: &str, model: &'a Model) -> Value<'a> {
    match field {
        "id" => text(&node.id),
        "hostname" => text(&node.hostname),
        "address" => text(&node.address),
        "addresses" => Value::Text(Cow::Owned(node.addresses.join(" "))),
        "role" => text(&node.role),
        // Through a hub: the node's agent cannot be reached.
        "health" if node.unreachable_since.is_some() => text("unreachable"),
        "health" => text(node.health.as_str()),
        "agent" => node.labels.get("agent").map_or(Value::Missing, |a| text(a)),
        "unreachable" => node.unreachable_since.map_or(Value::Missing, Value::Time),
        "os" => text(&node.os),
        "cpus" => Value::Num(node.capacity.cpus),
        "mem" => Value::Num(node.capacity.mem_bytes as f64),
        "disk" => Value::Num(node.capacity.disk_bytes as f64),
        // A cluster without figures says so where they would be (the
        // label says why: no metrics-server).
        "cpu_percent" | "mem_used" | "mem_percent" if node.labels.contains_key("metrics") => {
            text("n/a")
        }
        "cpu_percent" => Value::Num(node.usage.cpu_percent),
        "mem_used" => Value::Num(node.usage.mem_bytes as f64),
        "mem_percent" => pct(node.usage.mem_bytes as f64, node.capacity.mem_bytes as f64),
        "disk_used" => Value::Num(node.usage.disk_bytes as f64),
        "disk_percent" => pct(
            node.usage.disk_bytes as f64,
            node.capacity.disk_bytes as f64,
        ),
        "load1" => Value::Num(node.usage.load[0]),
        "load5" => Value::Num(node.usage.load[1]),
        "load15" => Value::Num(node.usage.load[2]),
        "cpu_history" => history(model.node_history(CPU_SERIES, &node.id)),
        "mem_history" => history(model.node_history(MEM_SERIES, &node.id)),
        "uptime" if node.boot_time > 0 => Value::Time(node.boot_time),
        "last_seen" if node.last_seen > 0 => Value::Time(node.last_seen),
        "tasks" => Value::Num(
            model
                .tasks_per_node
                .get(node.id.as_str())
                .copied()
                .unwrap_or(0) as f64,
        ),
        "running" => Value::Num(
            model
                .running_per_node
                .get(node.id.as_str())
                .copied()
                .unwrap_or(0) as f64,
        ),
        _ => label(&node.labels, field),
    }
}

pub fn task_field<'a>(task: &'a Task, field: &str, model: &'a Model) -> Value<'a> {
    match field {
        "id" => text(&task.id),
        "name" => text(&task.name),
        "group" => text(&task.group),
        "node" => text(model.node_name(&task.node_id)),
        "node_id" => text(&task.node_id),
        "state" => text(task.state.as_str()),
        // Through a hub: shown as it last stood, its agent unreachable.
        "health" if task.unreachable_since.is_some() => text("stale"),
        "health" => text(task.health.as_str()),
        "agent" => task.labels.get("agent").map_or(Value::Missing, |a| text(a)),
        "unreachable" => task.unreachable_since.map_or(Value::Missing, Value::Time),
        "cpu" => Value::Num(task.cpu),
        "cpu_limit" if task.cpu_limit > 0.0 => Value::Num(task.cpu_limit),
        "cpu_percent" => pct(task.cpu, task.cpu_limit),
        "mem" => Value::Num(task.mem_bytes as f64),
        "mem_limit" if task.mem_limit > 0 => Value::Num(task.mem_limit as f64),
        "mem_percent" => pct(task.mem_bytes as f64, task.mem_limit as f64),
        "started" if task.started > 0 => Value::Time(task.started),
        "updated" if task.updated > 0 => Value::Time(task.updated),
        "version" => text(&task.version),
        "cpu_history" => history(model.task_series.get(task.id.as_str())),
        // A pod's own count, where the source gives one.
        "restarts" if task.labels.contains_key("restarts") => task
            .labels
            .get("restarts")
            .and_then(|r| r.parse().ok())
            .map_or(Value::Missing, Value::Num),
        "restarts" => Value::Num(
            task.statuses
                .iter()
                .filter(|s| s.state == crate::api::TaskState::Starting)
                .count()
                .saturating_sub(1) as f64,
        ),
        _ => label(&task.labels, field),
    }
}

/// The last results of a check as a strip, oldest at the left: a low bar
/// for a pass, a full one for a failure, so failures stand out in any
/// colour scheme (and, through [`crate::tui::widgets::text::ascii`], without Unicode).
pub fn history_strip(check: &Check, width: usize) -> String {
    let start = check.history.len().saturating_sub(width);
    check.history[start..]
        .iter()
        .map(|r| if r.ok { '▁' } else { '█' })
        .collect()
}

pub fn check_field<'a>(check: &'a Check, field: &str, model: &'a Model) -> Value<'a> {
    match field {
        "id" => text(&check.id),
        "name" => text(&check.name),
        "kind" => Value::Text(Cow::Owned(format!("{:?}", check.kind).to_lowercase())),
        "target" => text(&check.target),
        "node" => check
            .node_id
            .as_deref()
            .map_or(Value::Missing, |id| text(model.node_name(id))),
        "node_id" => check.node_id.as_deref().map_or(Value::Missing, text),
        "task_id" => check.task_id.as_deref().map_or(Value::Missing, text),
        "status" => text(check.status.as_str()),
        "failures" => Value::Num(check.consecutive_failures as f64),
        "successes" => Value::Num(check.consecutive_successes as f64),
        "latency" if !check.history.is_empty() && check.kind != CheckKind::Builtin => {
            Value::Num(check.latency_ms)
        }
        "last_output" => text(&check.last_output),
        "last_success" => check.last_success.map_or(Value::Missing, Value::Time),
        "last_failure" => check.last_failure.map_or(Value::Missing, Value::Time),
        "last_run" => check
            .history
            .last()
            .map_or(Value::Missing, |r| Value::Time(r.ts)),
        "history" => Value::Text(Cow::Owned(history_strip(check, 12))),
        "interval" => Value::Num(check.interval_ms as f64 / 1000.0),
        _ => Value::Missing,
    }
}

pub fn agent_field<'a>(agent: &'a AgentStatus, field: &str) -> Value<'a> {
    match field {
        "name" => text(&agent.name),
        "url" => text(&agent.url),
        "state" => text(agent.state.as_str()),
        "since" => Value::Time(agent.since),
        "error" => agent.error.as_deref().map_or(Value::Missing, text),
        "last_contact" => agent.last_contact.map_or(Value::Missing, Value::Time),
        "clock_offset" => agent
            .clock_offset_ms
            .map_or(Value::Missing, |ms| Value::Num(ms as f64)),
        "nodes" => Value::Num(agent.nodes as f64),
        "tasks" => Value::Num(agent.tasks as f64),
        "dropped" => Value::Num(agent.dropped as f64),
        _ => Value::Missing,
    }
}

/// Width of the traces list's duration bars, in cells.
const BAR_CELLS: u64 = 12;

pub fn trace_field<'a>(trace: &'a TraceSummary, field: &str, model: &Model) -> Value<'a> {
    match field {
        "id" => text(&trace.trace_id),
        "service" => text(&trace.root_service),
        "operation" => text(&trace.root_operation),
        "start" => Value::Time((trace.start / 1_000_000) as UnixMillis),
        "duration" => Value::Num(trace.duration as f64 / 1e6),
        // Sorted and styled by the duration; drawn as a bar.
        "bar" => {
            let cells = (trace.duration * BAR_CELLS).div_ceil(model.longest_trace.max(1));
            Value::Text(Cow::Owned("█".repeat(cells.clamp(1, BAR_CELLS) as usize)))
        }
        "spans" => Value::Num(trace.spans as f64),
        "errors" => Value::Num(trace.errors as f64),
        "services" => Value::Num(trace.services.len() as f64),
        "orphans" => Value::Num(trace.orphans as f64),
        _ => Value::Missing,
    }
}

fn label<'a>(labels: &'a crate::api::Labels, field: &str) -> Value<'a> {
    field
        .strip_prefix("labels.")
        .and_then(|name| labels.get(name))
        .map(|v| text(v))
        .unwrap_or(Value::Missing)
}

/// The number a style rule compares: a number, or an age in seconds.
pub fn numeric(value: &Value, now: UnixMillis) -> Option<f64> {
    match value {
        Value::Num(n) => Some(*n),
        Value::Time(t) => Some((now - t) as f64 / 1000.0),
        Value::Text(s) => s.parse().ok(),
        Value::Series(values) => values.back().copied(),
        Value::Missing => None,
    }
}

pub fn format(value: &Value, format: Format, now: UnixMillis) -> String {
    match (value, format) {
        (Value::Missing, _) => "-".into(),
        (Value::Text(s), _) => s.to_string(),
        (Value::Time(t), _) => age(now - t),
        // Drawn by `cell` at the column's width; nothing for a filter to match.
        (Value::Series(_), _) => String::new(),
        (Value::Num(n), Format::Int) => format!("{}", n.round() as i64),
        (Value::Num(n), Format::Percent) => format!("{n:.1}%"),
        (Value::Num(n), Format::Bytes) => bytes(*n),
        (Value::Num(n), Format::Cores) => format!("{n:.2}"),
        (Value::Num(n), Format::Age) => age((*n * 1000.0) as i64),
        (Value::Num(n), Format::Number | Format::Text) => number(*n),
    }
}

/// The cell text and the style rule's role (if one matches) of a column.
pub fn cell(
    column: &Column,
    value: &Value,
    now: UnixMillis,
) -> (String, Option<crate::tui::config::theme::Role>) {
    let text = match value {
        // As wide as the column, the newest at its right edge; on a 0-100
        // scale unless the values go above (a task using several cores).
        Value::Series(values) => {
            let top = values.iter().fold(100.0_f64, |a, b| a.max(*b));
            crate::tui::widgets::sparkline::sparkline(values.iter(), top, column.width as usize)
        }
        _ => crate::tui::widgets::text::inert(&format(value, column.format, now)).into_owned(),
    };
    let role = column.style.iter().find_map(|rule| {
        let equals = rule
            .equals
            .as_ref()
            .is_none_or(|e| matches!(value, Value::Text(t) if t == e));
        let n = numeric(value, now);
        let above = rule.above.is_none_or(|a| n.is_some_and(|n| n > a));
        let below = rule.below.is_none_or(|b| n.is_some_and(|n| n < b));
        (equals && above && below).then_some(rule.role)
    });
    (text, role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_for_people() {
        assert_eq!(bytes(512.0), "512");
        assert_eq!(bytes(1536.0), "1.5Ki");
        assert_eq!(bytes(64.0 * 1024.0 * 1024.0 * 1024.0), "64Gi");
        assert_eq!(age(45_000), "45s");
        assert_eq!(age(3 * 3_600_000 + 4 * 60_000), "3h4m");
        assert_eq!(age(2 * 86_400_000 + 5 * 3_600_000), "2d5h");
        assert_eq!(age(-5), "0s");
        assert_eq!(number(1.50), "1.5");
        assert_eq!(number(2.0), "2");
    }
}
