//! Sources: where the gateway's data comes from. They know nothing of the
//! gateway's sockets or of the console; they hand over whole pictures.

pub mod checks;
pub mod demo;
pub mod follow;
pub mod history;
pub mod host;
pub mod journal;
pub mod logfile;
pub mod logline;
pub mod otlp;
mod rng;
pub mod statsd;
pub mod watch;

use std::sync::Arc;

use crate::api::{
    Check, CheckResult, Labels, LogEntry, Node, Sample, Span, Task, TraceSummary, UnixMillis,
};

/// One reading of a source: the whole cluster as it is now, plus the
/// samples taken since the last reading. The store works out what changed.
#[derive(Debug, Default, Clone)]
pub struct Collected {
    pub nodes: Vec<Node>,
    /// Shared, so a source that keeps its tasks (the demo) hands over the
    /// unchanged ones without a copy, and the store tells them apart by
    /// pointer before it compares.
    pub tasks: Vec<Arc<Task>>,
    pub samples: Vec<Sample>,
    /// Log entries since the last reading (sources that make their own).
    pub logs: Vec<LogEntry>,
    /// Spans since the last reading (the demo's traces).
    pub spans: Vec<Span>,
    /// Checks evaluated elsewhere (a hub's agents), whole, that changed
    /// since the last reading; and those that went.
    pub checks: Vec<Check>,
    pub checks_gone: Vec<String>,
    /// Results of checks the source ran itself (a hub: each agent reachable).
    pub results: Vec<(Check, CheckResult)>,
    /// Trace summaries from elsewhere (a hub's agents, by agent name).
    pub traces: Vec<(String, TraceSummary)>,
}

pub trait Source: Send + 'static {
    /// `host` or `demo`.
    fn kind(&self) -> &'static str;
    fn cluster_name(&self) -> String;
    /// Reads the source. Blocking work is fine: it runs on its own thread.
    fn collect(&mut self, now: UnixMillis) -> Collected;

    /// Its logs' own history, if it keeps one (the demo makes its past).
    fn history(&self) -> Option<Arc<dyn history::LogSeeker>> {
        None
    }
}

/// A sample with the given tags, for sources building their readings.
pub fn sample(name: &str, tags: &[(&str, &str)], ts: UnixMillis, value: f64, unit: &str) -> Sample {
    tagged(name, &Labels::of(tags), ts, value, unit)
}

/// A sample with tags made before, by a source that keeps them for its
/// series (a clone of them is a count, not a copy).
pub fn tagged(name: &str, tags: &Labels, ts: UnixMillis, value: f64, unit: &str) -> Sample {
    Sample {
        name: name.to_string(),
        tags: tags.clone(),
        ts,
        value,
        unit: unit.to_string(),
    }
}
