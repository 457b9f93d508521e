//! Traces as the gateway serves them: spans from OTLP (or the demo),
//! assembled by trace id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Nanoseconds since the Unix epoch, as OTLP counts them.
pub type UnixNanos = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    #[default]
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpanStatus {
    #[default]
    Unset,
    Ok,
    Error,
}

/// Something that happened during a span ("Acquired lock").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    pub ts: UnixNanos,
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The resource's `service.name`.
    pub service: String,
    pub name: String,
    #[serde(default)]
    pub kind: SpanKind,
    pub start: UnixNanos,
    pub end: UnixNanos,
    #[serde(default)]
    pub status: SpanStatus,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_message: String,
    /// Attribute values as text (arrays and maps as JSON).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<SpanEvent>,
    /// The node and task it came from, where the resource says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
}

impl Span {
    /// A span with its identity, name and times, everything else empty.
    pub fn new(
        trace_id: &str,
        span_id: &str,
        parent_id: Option<&str>,
        name: &str,
        start: UnixNanos,
        end: UnixNanos,
    ) -> Span {
        Span {
            trace_id: trace_id.to_string(),
            span_id: span_id.to_string(),
            parent_id: parent_id.map(str::to_string),
            service: String::new(),
            name: name.to_string(),
            kind: SpanKind::Internal,
            start,
            end,
            status: SpanStatus::Unset,
            status_message: String::new(),
            attributes: BTreeMap::new(),
            resource: BTreeMap::new(),
            events: Vec::new(),
            node_id: None,
            task_id: None,
        }
    }

    pub fn duration(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// One trace as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The root span's service and name; of the earliest span when the
    /// root has not arrived (or never will).
    pub root_service: String,
    pub root_operation: String,
    pub start: UnixNanos,
    pub duration: u64,
    pub spans: usize,
    pub services: Vec<String>,
    pub errors: usize,
    /// Spans whose parent is not in the trace.
    #[serde(default)]
    pub orphans: usize,
    /// The tasks its spans ran in (at most [`SUMMARY_TASKS`]), so a task
    /// links to its traces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<String>,
    /// Its first error, `service name: status message` (at most 200
    /// bytes), so an error never seen before can be told from the usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The task of the span with that error, if it ran in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_task: Option<String>,
}

/// A span's error in a line: `service name: message`, at most 200 bytes.
fn error_text(s: &Span) -> String {
    let mut text = match s.status_message.is_empty() {
        true => format!("{} {}", s.service, s.name),
        false => format!("{} {}: {}", s.service, s.name, s.status_message),
    };
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Tasks a summary names at most: a trace through more is rare, and the
/// summary stays small on the wire.
pub const SUMMARY_TASKS: usize = 16;

fn tasks_of<'a>(tasks: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut tasks: Vec<String> = tasks.cloned().collect();
    tasks.sort();
    tasks.dedup();
    tasks.truncate(SUMMARY_TASKS);
    tasks
}

impl TraceSummary {
    /// One trace's summaries from several places (a hub's agents) as one:
    /// its span and error counts summed, its time the union of theirs, its
    /// root the earliest part's. Orphans are those of the part with the
    /// fewest: a part's orphan may have its parent in another part, which
    /// summaries cannot tell (the merged spans of `GET /traces/{id}` can).
    pub fn merge<'a>(parts: impl IntoIterator<Item = &'a TraceSummary>) -> TraceSummary {
        let mut parts = parts.into_iter();
        let first = parts
            .next()
            .cloned()
            .unwrap_or_else(|| TraceSummary::of("", &[]));
        parts.fold(first, |mut m, p| {
            let end = (m.start + m.duration).max(p.start + p.duration);
            if p.start < m.start {
                m.root_service = p.root_service.clone();
                m.root_operation = p.root_operation.clone();
                m.start = p.start;
            }
            m.duration = end - m.start;
            m.spans += p.spans;
            m.errors += p.errors;
            m.orphans = m.orphans.min(p.orphans);
            m.services.extend(p.services.iter().cloned());
            m.services.sort();
            m.services.dedup();
            m.tasks = tasks_of(m.tasks.iter().chain(&p.tasks));
            if m.error.is_none() {
                (m.error, m.error_task) = (p.error.clone(), p.error_task.clone());
            }
            m
        })
    }

    /// The summary of a trace's spans (at least one).
    pub fn of(trace_id: &str, spans: &[Span]) -> TraceSummary {
        let ids: std::collections::HashSet<&str> =
            spans.iter().map(|s| s.span_id.as_str()).collect();
        let is_orphan = |s: &&Span| s.parent_id.as_deref().is_some_and(|p| !ids.contains(p));
        let root = spans
            .iter()
            .filter(|s| s.parent_id.is_none())
            .min_by_key(|s| s.start)
            .or_else(|| spans.iter().min_by_key(|s| s.start));
        let start = spans.iter().map(|s| s.start).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.end).max().unwrap_or(start);
        let first_error = spans
            .iter()
            .filter(|s| s.status == SpanStatus::Error)
            .min_by_key(|s| s.start);
        let mut services: Vec<String> = spans.iter().map(|s| s.service.clone()).collect();
        services.sort();
        services.dedup();
        TraceSummary {
            trace_id: trace_id.to_string(),
            root_service: root.map(|r| r.service.clone()).unwrap_or_default(),
            root_operation: root.map(|r| r.name.clone()).unwrap_or_default(),
            start,
            duration: end.saturating_sub(start),
            spans: spans.len(),
            services,
            errors: spans
                .iter()
                .filter(|s| s.status == SpanStatus::Error)
                .count(),
            orphans: spans.iter().filter(is_orphan).count(),
            tasks: tasks_of(spans.iter().filter_map(|s| s.task_id.as_ref())),
            error: first_error.map(error_text),
            error_task: first_error.and_then(|s| s.task_id.clone()),
        }
    }
}
