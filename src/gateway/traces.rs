//! Spans assembled into traces by trace id, late spans merged in, bounded
//! by spans and bytes with the oldest traces evicted first (and counted).

use std::collections::{HashMap, VecDeque};

use crate::api::{Span, TraceSummary, UnixNanos};

#[derive(Debug, Clone)]
pub struct TraceLimits {
    pub max_spans: usize,
    pub max_bytes: usize,
    /// Spans one trace may hold; more are refused (a runaway loop).
    pub max_spans_per_trace: usize,
}

impl Default for TraceLimits {
    fn default() -> Self {
        TraceLimits {
            max_spans: 200_000,
            max_bytes: 64 << 20,
            max_spans_per_trace: 20_000,
        }
    }
}

/// What one heap allocation of `size` bytes takes from the allocator: a
/// header of 8 bytes, rounded up to 16, at least 32 (glibc's malloc).
fn chunk(size: usize) -> usize {
    if size == 0 {
        0
    } else {
        ((size + 8).div_ceil(16) * 16).max(32)
    }
}

/// A map entry's share of its B-tree nodes: a leaf of 11 slots of 48 bytes
/// is about 560 bytes, and holds 8 to 11 entries once built (measured
/// about 53 bytes an entry; a little more, to err on the safe side).
const MAP_ENTRY: usize = 60;

/// What a span holds on the heap, as the allocator counts it: the struct,
/// every string, and every map entry's share of its node. Kept close to
/// the truth (a test checks it against a counting allocator), so the
/// store's byte cap means what it says.
fn weight(s: &Span) -> usize {
    let text = |t: &String| chunk(t.capacity());
    let map = |m: &std::collections::BTreeMap<String, String>| -> usize {
        m.iter().map(|(k, v)| MAP_ENTRY + text(k) + text(v)).sum()
    };
    std::mem::size_of::<Span>()
        + text(&s.trace_id)
        + text(&s.span_id)
        + s.parent_id.as_ref().map_or(0, text)
        + text(&s.service)
        + text(&s.name)
        + text(&s.status_message)
        + s.node_id.as_ref().map_or(0, text)
        + s.task_id.as_ref().map_or(0, text)
        + map(&s.attributes)
        + map(&s.resource)
        + chunk(s.events.capacity() * std::mem::size_of::<crate::api::SpanEvent>())
        + s.events
            .iter()
            .map(|e| text(&e.name) + map(&e.attributes))
            .sum::<usize>()
}

struct Trace {
    spans: Vec<Span>,
    bytes: usize,
    summary: TraceSummary,
}

/// Which traces a list wants.
#[derive(Debug, Clone, Default)]
pub struct TraceQuery {
    pub service: Option<String>,
    pub operation: Option<String>,
    pub min_duration: Option<u64>,
    pub max_duration: Option<u64>,
    pub errors_only: bool,
    pub from: Option<UnixNanos>,
    pub to: Option<UnixNanos>,
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TraceStats {
    pub traces: usize,
    pub spans: usize,
    pub bytes: usize,
    pub evicted_traces: u64,
    pub evicted_spans: u64,
    pub refused_spans: u64,
}

#[derive(Default)]
pub struct TraceStore {
    limits: TraceLimits,
    traces: HashMap<String, Trace>,
    /// Trace ids by first arrival, oldest first.
    order: VecDeque<String>,
    spans: usize,
    bytes: usize,
    evicted_traces: u64,
    evicted_spans: u64,
    refused_spans: u64,
}

impl TraceStore {
    pub fn new(limits: TraceLimits) -> TraceStore {
        TraceStore {
            limits,
            ..Default::default()
        }
    }

    /// Takes spans; returns the summaries of the traces they touched, and
    /// how many were refused (a full trace).
    pub fn add(&mut self, spans: Vec<Span>) -> (Vec<TraceSummary>, usize) {
        let mut touched: Vec<String> = Vec::new();
        let mut refused = 0;
        for span in spans {
            let id = span.trace_id.clone();
            let trace = match self.traces.get_mut(&id) {
                Some(t) => t,
                None => {
                    self.order.push_back(id.clone());
                    self.traces.entry(id.clone()).or_insert_with(|| Trace {
                        spans: Vec::new(),
                        bytes: 0,
                        summary: TraceSummary::of(&id, std::slice::from_ref(&span)),
                    })
                }
            };
            let w = weight(&span);
            // A span sent again (a retry) replaces the one held.
            if let Some(old) = trace.spans.iter_mut().find(|s| s.span_id == span.span_id) {
                let old_w = weight(old);
                *old = span;
                trace.bytes = trace.bytes + w - old_w;
                self.bytes = self.bytes + w - old_w;
            } else if trace.spans.len() >= self.limits.max_spans_per_trace {
                refused += 1;
                continue;
            } else {
                trace.spans.push(span);
                trace.bytes += w;
                self.bytes += w;
                self.spans += 1;
            }
            if !touched.contains(&id) {
                touched.push(id);
            }
        }
        self.refused_spans += refused as u64;
        for id in &touched {
            if let Some(t) = self.traces.get_mut(id) {
                t.summary = TraceSummary::of(id, &t.spans);
            }
        }
        self.evict();
        let summaries = touched
            .iter()
            .filter_map(|id| self.traces.get(id).map(|t| t.summary.clone()))
            .collect();
        (summaries, refused)
    }

    fn evict(&mut self) {
        while self.spans > self.limits.max_spans || self.bytes > self.limits.max_bytes {
            let Some(id) = self.order.pop_front() else {
                break;
            };
            if let Some(t) = self.traces.remove(&id) {
                self.spans -= t.spans.len();
                self.bytes -= t.bytes;
                self.evicted_traces += 1;
                self.evicted_spans += t.spans.len() as u64;
            }
        }
    }

    /// Summaries matching the query, newest first.
    pub fn list(&self, q: &TraceQuery) -> Vec<TraceSummary> {
        let mut out: Vec<TraceSummary> = self
            .traces
            .values()
            .map(|t| &t.summary)
            .filter(|s| q.admits(s))
            .cloned()
            .collect();
        q.order(&mut out);
        out
    }

    /// A trace's spans, by start time.
    pub fn get(&self, trace_id: &str) -> Option<Vec<Span>> {
        let mut spans = self.traces.get(trace_id)?.spans.clone();
        spans.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then_with(|| a.span_id.cmp(&b.span_id))
        });
        Some(spans)
    }

    /// Every service seen in the traces held, with its operations.
    pub fn services(&self) -> Vec<(String, Vec<String>)> {
        let mut by: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
            Default::default();
        for t in self.traces.values() {
            for s in &t.spans {
                by.entry(s.service.clone())
                    .or_default()
                    .insert(s.name.clone());
            }
        }
        by.into_iter()
            .map(|(service, ops)| (service, ops.into_iter().collect()))
            .collect()
    }

    pub fn stats(&self) -> TraceStats {
        TraceStats {
            traces: self.traces.len(),
            spans: self.spans,
            bytes: self.bytes,
            evicted_traces: self.evicted_traces,
            evicted_spans: self.evicted_spans,
            refused_spans: self.refused_spans,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(trace: &str, id: &str, parent: Option<&str>, start: u64, end: u64) -> Span {
        Span::new(trace, id, parent, &format!("op-{id}"), start, end)
    }

    #[test]
    fn assembles_merges_late_spans_and_evicts_oldest() {
        let mut store = TraceStore::new(TraceLimits {
            max_spans: 4,
            max_bytes: usize::MAX,
            max_spans_per_trace: 3,
        });
        let (touched, _) = store.add(vec![span("t1", "b", Some("a"), 20, 30)]);
        assert_eq!(touched[0].orphans, 1, "the root has not come yet");
        let (touched, _) = store.add(vec![span("t1", "a", None, 10, 50)]);
        assert_eq!(
            (touched[0].spans, touched[0].orphans, touched[0].duration),
            (2, 0, 40)
        );
        assert_eq!(touched[0].root_operation, "op-a");
        // A duplicate replaces; a full trace refuses.
        store.add(vec![span("t1", "b", Some("a"), 20, 35)]);
        assert_eq!(store.stats().spans, 2);
        let (_, refused) = store.add(vec![
            span("t1", "c", Some("a"), 1, 2),
            span("t1", "d", Some("a"), 1, 2),
        ]);
        assert_eq!(refused, 1);
        // Over the bound: the oldest trace goes, counted.
        store.add(vec![
            span("t2", "x", None, 100, 200),
            span("t2", "y", Some("x"), 110, 120),
        ]);
        let stats = store.stats();
        assert!(stats.spans <= 4);
        assert_eq!((stats.evicted_traces, stats.evicted_spans), (1, 3));
        assert!(store.get("t1").is_none());
        assert_eq!(
            store
                .list(&TraceQuery {
                    limit: 10,
                    ..Default::default()
                })
                .len(),
            1
        );
        assert_eq!(
            store
                .list(&TraceQuery {
                    min_duration: Some(1000),
                    limit: 10,
                    ..Default::default()
                })
                .len(),
            0
        );
    }
}

impl TraceQuery {
    pub fn admits(&self, s: &TraceSummary) -> bool {
        self.service.as_ref().is_none_or(|x| s.services.contains(x))
            && self
                .operation
                .as_ref()
                .is_none_or(|x| &s.root_operation == x)
            && self.min_duration.is_none_or(|d| s.duration >= d)
            && self.max_duration.is_none_or(|d| s.duration <= d)
            && (!self.errors_only || s.errors > 0)
            && self.from.is_none_or(|f| s.start >= f)
            && self.to.is_none_or(|t| s.start <= t)
    }

    /// Newest first, at most `limit`.
    pub fn order(&self, out: &mut Vec<TraceSummary>) {
        out.sort_by(|a, b| {
            b.start
                .cmp(&a.start)
                .then_with(|| a.trace_id.cmp(&b.trace_id))
        });
        out.truncate(self.limit.max(1));
    }
}

/// Trace summaries a hub keeps at most; the oldest seen go first.
const MERGED_TRACES: usize = 10_000;

/// A hub's trace summaries: each agent's part of a trace, and the whole
/// they make. Spans stay on the agents (a trace's are asked for when
/// someone opens it).
#[derive(Default)]
pub struct MergedTraces {
    parts: HashMap<String, Vec<(String, TraceSummary)>>,
    /// Trace ids, oldest first seen first, for eviction.
    order: VecDeque<String>,
}

impl MergedTraces {
    /// Takes an agent's latest summary of a trace; returns the fleet's.
    pub fn put(&mut self, agent: &str, summary: TraceSummary) -> TraceSummary {
        let id = summary.trace_id.clone();
        let parts = self.parts.entry(id.clone()).or_insert_with(|| {
            self.order.push_back(id.clone());
            Vec::new()
        });
        match parts.iter_mut().find(|(a, _)| a == agent) {
            Some((_, held)) => *held = summary,
            None => parts.push((agent.to_string(), summary)),
        }
        let merged = TraceSummary::merge(parts.iter().map(|(_, s)| s));
        while self.order.len() > MERGED_TRACES {
            if let Some(old) = self.order.pop_front() {
                self.parts.remove(&old);
            }
        }
        merged
    }

    pub fn list(&self, q: &TraceQuery) -> Vec<TraceSummary> {
        let mut out: Vec<TraceSummary> = self
            .parts
            .values()
            .map(|parts| TraceSummary::merge(parts.iter().map(|(_, s)| s)))
            .filter(|s| q.admits(s))
            .collect();
        q.order(&mut out);
        out
    }
}
