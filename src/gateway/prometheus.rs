//! `GET /metrics`: everything collected, plus the gateway's own health, in
//! the Prometheus text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::Shared;
use super::filter::Matcher;
use super::stats::GatewayStats;
use super::store::TopicStats;
use crate::api::{collected_name, push_quoted, sanitize};

pub async fn exposition(State(gw): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&gw),
    )
}

fn render(gw: &Shared) -> String {
    let mut out = String::with_capacity(16 * 1024);

    // Collected series, grouped by metric name so each gets one TYPE line.
    let mut by_name: BTreeMap<String, Vec<(Labels, f64)>> = BTreeMap::new();
    for sample in gw.store.latest_samples(&Matcher::default()) {
        let labels = sample.tags.into_iter().collect();
        by_name
            .entry(collected_name(&sample.name))
            .or_default()
            .push((labels, sample.value));
    }
    for (name, mut samples) in by_name {
        samples.sort_by(|a, b| a.0.cmp(&b.0));
        // Names that sanitize alike (`a.b`, `a_b`) with the same tags would
        // be one series twice, which fails the whole scrape: keep the first.
        samples.dedup_by(|later, first| later.0 == first.0);
        family(&mut out, &name, "", "gauge", samples);
    }

    let info = gw.store.cluster_info();
    family(
        &mut out,
        "day2top_nodes",
        "Nodes in the cluster.",
        "gauge",
        [(vec![], info.nodes as f64)],
    );
    let by_state = info
        .tasks_by_state
        .iter()
        .map(|(state, n)| (vec![label("state", state.as_str())], *n as f64));
    family(
        &mut out,
        "day2top_tasks",
        "Tasks by state.",
        "gauge",
        by_state,
    );

    let stats = &gw.stats;
    let own: [(&str, &str, &str, &std::sync::atomic::AtomicU64); 13] = [
        (
            "events_coalesced_total",
            "counter",
            "Metric events skipped for a subscriber that fell behind; it got each series' newest value instead.",
            &stats.events_coalesced,
        ),
        (
            "requests_total",
            "counter",
            "HTTP requests received.",
            &stats.requests,
        ),
        (
            "auth_failures_total",
            "counter",
            "Requests refused for a missing or bad token or scope.",
            &stats.auth_failures,
        ),
        (
            "frames_sent_total",
            "counter",
            "Stream frames sent.",
            &stats.frames_sent,
        ),
        (
            "stream_bytes_sent_total",
            "counter",
            "Payload bytes of the stream frames sent (JSON and binary).",
            &stats.bytes_sent,
        ),
        (
            "events_sent_total",
            "counter",
            "Stream events sent.",
            &stats.events_sent,
        ),
        (
            "events_dropped_total",
            "counter",
            "Stream events dropped because a subscriber fell behind.",
            &stats.events_dropped,
        ),
        (
            "slow_clients_disconnected_total",
            "counter",
            "Stream clients cut off because they stopped reading.",
            &stats.slow_clients_cut,
        ),
        (
            "clients",
            "gauge",
            "Connected stream clients.",
            &stats.clients,
        ),
        (
            "subscriptions",
            "gauge",
            "Active stream subscriptions.",
            &stats.subscriptions,
        ),
        (
            "connections",
            "gauge",
            "Open connections (a WebSocket counts until it closes).",
            &stats.connections,
        ),
        (
            "connections_refused_total",
            "counter",
            "Connections turned away at the connection cap (--max-connections).",
            &stats.connections_refused,
        ),
        (
            "streams_refused_total",
            "counter",
            "Stream connections refused at a token's cap (--max-streams-per-token).",
            &stats.streams_refused,
        ),
    ];
    for (name, kind, help, counter) in own {
        gateway_family(
            &mut out,
            name,
            kind,
            help,
            GatewayStats::get(counter) as f64,
        );
    }

    if let Some(statsd) = &gw.statsd {
        use crate::collect::statsd::Counters;
        let counters: [(&str, &str, &std::sync::atomic::AtomicU64); 4] = [
            ("datagrams", "statsd datagrams received.", &statsd.datagrams),
            ("lines", "statsd lines received.", &statsd.lines),
            (
                "malformed",
                "statsd lines refused as malformed.",
                &statsd.malformed,
            ),
            (
                "over_limit",
                "statsd lines refused because the most series were held.",
                &statsd.over_limit,
            ),
        ];
        for (name, help, counter) in counters {
            let name = format!("statsd_{name}_total");
            gateway_family(
                &mut out,
                &name,
                "counter",
                help,
                Counters::get(counter) as f64,
            );
        }
    }

    family(
        &mut out,
        "day2top_gateway_queued_frames",
        "Frames waiting in connections' outgoing queues.",
        "gauge",
        [(vec![], gw.connections.queued_frames() as f64)],
    );

    let topics = gw.store.topic_stats();
    let per_topic: [TopicMetric; 3] = [
        (
            "topic_backlog",
            "gauge",
            "Events in a topic's ring not yet read by its slowest subscriber.",
            |t| t.backlog as f64,
        ),
        (
            "topic_subscribers",
            "gauge",
            "Subscriptions reading a topic.",
            |t| t.subscribers as f64,
        ),
        (
            "topic_seq",
            "counter",
            "The newest sequence number of a topic.",
            |t| t.seq as f64,
        ),
    ];
    for (name, kind, help, value) in per_topic {
        let samples = topics
            .iter()
            .map(|t| (vec![label("topic", t.topic)], value(t)));
        family(
            &mut out,
            &format!("day2top_gateway_{name}"),
            help,
            kind,
            samples,
        );
    }

    let (log_entries, log_bytes) = gw.store.log_stats();
    family(
        &mut out,
        "day2top_gateway_log_entries",
        "Log entries held in the ring.",
        "gauge",
        [(vec![], log_entries as f64)],
    );
    family(
        &mut out,
        "day2top_gateway_log_bytes",
        "Bytes of log entries held in the ring.",
        "gauge",
        [(vec![], log_bytes as f64)],
    );

    let traces = gw.store.trace_stats();
    let trace_figures: [(&str, &str, &str, f64); 11] = [
        ("traces", "gauge", "Traces held.", traces.traces as f64),
        ("trace_spans", "gauge", "Spans held.", traces.spans as f64),
        (
            "trace_bytes",
            "gauge",
            "Memory the spans held take, roughly.",
            traces.bytes as f64,
        ),
        (
            "traces_evicted_total",
            "counter",
            "Traces evicted, oldest first, to stay within the bounds.",
            traces.evicted_traces as f64,
        ),
        (
            "trace_spans_evicted_total",
            "counter",
            "Spans evicted with their traces.",
            traces.evicted_spans as f64,
        ),
        (
            "trace_spans_refused_total",
            "counter",
            "Spans refused because their trace held its most.",
            traces.refused_spans as f64,
        ),
        (
            "otlp_requests_total",
            "counter",
            "OTLP export requests.",
            GatewayStats::get(&gw.stats.otlp_requests) as f64,
        ),
        (
            "otlp_spans_total",
            "counter",
            "Spans taken over OTLP.",
            GatewayStats::get(&gw.stats.otlp_spans) as f64,
        ),
        (
            "otlp_spans_rejected_total",
            "counter",
            "Spans of OTLP requests refused (partial success).",
            GatewayStats::get(&gw.stats.otlp_spans_rejected) as f64,
        ),
        (
            "otlp_requests_refused_total",
            "counter",
            "OTLP requests refused whole (undecodable, too large).",
            GatewayStats::get(&gw.stats.otlp_refused) as f64,
        ),
        (
            "exec_sessions",
            "gauge",
            "Exec sessions attached and running.",
            gw.exec.running() as f64,
        ),
    ];
    for (name, kind, help, value) in trace_figures {
        gateway_family(&mut out, name, kind, help, value);
    }

    let series = gw.store.series_stats();
    let held: [(&str, &str, &str, f64); 4] = [
        (
            "series",
            "gauge",
            "Metric series held.",
            series.series as f64,
        ),
        (
            "series_points",
            "gauge",
            "Metric points (slots of both tiers) held.",
            series.slots as f64,
        ),
        (
            "series_bytes",
            "gauge",
            "Memory the metric store holds, roughly.",
            series.bytes as f64,
        ),
        (
            "series_dropped_samples_total",
            "counter",
            "Samples refused because the series limit was reached.",
            series.dropped_samples as f64,
        ),
    ];
    for (name, kind, help, value) in held {
        gateway_family(&mut out, name, kind, help, value);
    }
    out
}

/// One of the gateway's own figures: `day2top_gateway_NAME`, no labels.
fn gateway_family(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    family(
        out,
        &format!("day2top_gateway_{name}"),
        help,
        kind,
        [(vec![], value)],
    );
}

type Labels = Vec<(String, String)>;

/// A per-topic metric: name, kind, help, and how to read it.
type TopicMetric = (
    &'static str,
    &'static str,
    &'static str,
    fn(&TopicStats) -> f64,
);

fn label(key: &str, value: &str) -> (String, String) {
    (key.to_string(), value.to_string())
}

/// One metric family: its HELP and TYPE lines, then a line per sample.
fn family(
    out: &mut String,
    name: &str,
    help: &str,
    kind: &str,
    samples: impl IntoIterator<Item = (Labels, f64)>,
) {
    if !help.is_empty() {
        let _ = writeln!(out, "# HELP {name} {help}");
    }
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        out.push_str(name);
        write_labels(out, labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let _ = writeln!(out, " {}", number(value));
    }
}

fn write_labels<'a>(out: &mut String, labels: impl Iterator<Item = (&'a str, &'a str)>) {
    let mut first = true;
    let mut written: Vec<String> = Vec::new();
    for (key, value) in labels {
        // Names starting `__` are Prometheus's own; two tags that sanitize
        // to one name would be a duplicate label, which fails the scrape.
        let mut key = sanitize(key);
        if key.starts_with("__") {
            key.insert_str(0, "tag");
        }
        if written.contains(&key) {
            continue;
        }
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(&key);
        written.push(key);
        out.push('=');
        push_quoted(out, value);
    }
    if !first {
        out.push('}');
    }
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_are_made_legal() {
        assert_eq!(sanitize("node.cpu.percent"), "node_cpu_percent");
        assert_eq!(sanitize("9lives"), "_9lives");
        let mut out = String::new();
        write_labels(&mut out, [("mount", "/a\"b\\c\nd")].into_iter());
        assert_eq!(out, r#"{mount="/a\"b\\c\nd"}"#);
        // statsd tags are anyone's: no reserved names, no duplicate labels.
        let mut out = String::new();
        write_labels(
            &mut out,
            [("__name__", "x"), ("a-b", "1"), ("a_b", "2")].into_iter(),
        );
        assert_eq!(out, r#"{tag__name__="x",a_b="1"}"#);
    }

    #[test]
    fn collected_names_never_land_on_the_gateways_own_families() {
        let names = [
            "nodes",
            "tasks",
            "gateway.clients",
            "gateway_clients",
            "collected.nodes",
            "collected_collected_nodes",
            "node.cpu",
            "gateway",
        ];
        let exposed: Vec<String> = names.iter().map(|n| collected_name(n)).collect();
        for name in &exposed {
            assert!(
                !matches!(name.as_str(), "day2top_nodes" | "day2top_tasks")
                    && !name.starts_with("day2top_gateway_"),
                "{name}"
            );
        }
        assert_eq!(exposed[0], "day2top_collected_nodes");
        assert_eq!(exposed[4], "day2top_collected_collected_nodes");
        assert_eq!(exposed[6], "day2top_node_cpu");
        // One to one, but for names that sanitize alike.
        let mut unique = exposed.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            exposed.len() - 1,
            "only gateway.clients ~ gateway_clients"
        );
    }
}
