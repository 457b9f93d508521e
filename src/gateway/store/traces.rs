//! The store's traces: spans taken in (OTLP, the demo) and announced as
//! summaries; on a hub, its agents' summaries merged by trace id.

use super::{Inner, Store};
use crate::api::{Op, Record, Span, TraceSummary};
use crate::gateway::traces::{TraceQuery, TraceStats};

impl Inner {
    pub(super) fn add_spans(&mut self, spans: Vec<Span>) -> usize {
        if spans.is_empty() {
            return 0;
        }
        let (touched, refused) = self.traces.add(spans);
        for summary in touched {
            self.spans_hub.publish(Op::Updated, Record::Trace(summary));
        }
        refused
    }

    /// Takes an agent's summary of a trace and announces the fleet's.
    pub(super) fn merge_trace(&mut self, agent: &str, summary: TraceSummary) {
        let merged = self.merged_traces.put(agent, summary);
        self.spans_hub.publish(Op::Updated, Record::Trace(merged));
    }

    pub(super) fn list_traces(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        match self.source.as_str() {
            "fleet" => self.merged_traces.list(query),
            _ => self.traces.list(query),
        }
    }
}

impl Store {
    /// Takes spans (OTLP, the demo) and announces the traces they touched;
    /// returns how many were refused (their trace was full).
    pub fn add_spans(&self, spans: Vec<Span>) -> usize {
        if spans.is_empty() {
            return 0;
        }
        self.lock().add_spans(spans)
    }

    pub fn traces(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        self.lock().list_traces(query)
    }

    pub fn trace(&self, trace_id: &str) -> Option<Vec<Span>> {
        self.lock().traces.get(trace_id)
    }

    pub fn services(&self) -> Vec<(String, Vec<String>)> {
        self.lock().traces.services()
    }

    pub fn trace_stats(&self) -> TraceStats {
        self.lock().traces.stats()
    }
}
