//! `GET /metrics`: everything collected, plus the gateway's own health, in
//! the Prometheus text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::Shared;
use super::stats::GatewayStats;

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
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    gw.store.with_latest_samples(|name, tags, value| {
        let mut line = String::new();
        write_labels(
            &mut line,
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let _ = write!(line, " {}", number(value));
        by_name
            .entry(format!("day2top_{}", sanitize(name)))
            .or_default()
            .push(line);
    });
    for (name, mut lines) in by_name {
        lines.sort();
        let _ = writeln!(out, "# TYPE {name} gauge");
        for line in lines {
            let _ = writeln!(out, "{name}{line}");
        }
    }

    let info = gw.store.cluster_info();
    gauge(
        &mut out,
        "day2top_nodes",
        "Nodes in the cluster.",
        &[],
        info.nodes as f64,
    );
    let _ = writeln!(
        out,
        "# HELP day2top_tasks Tasks by state.\n# TYPE day2top_tasks gauge"
    );
    for (state, count) in &info.tasks_by_state {
        let _ = writeln!(out, "day2top_tasks{{state=\"{}\"}} {count}", state.as_str());
    }

    let stats = &gw.stats;
    let counters: [(&str, &str, &std::sync::atomic::AtomicU64); 6] = [
        (
            "day2top_gateway_requests_total",
            "HTTP requests received.",
            &stats.requests,
        ),
        (
            "day2top_gateway_auth_failures_total",
            "Requests refused for a missing or bad token or scope.",
            &stats.auth_failures,
        ),
        (
            "day2top_gateway_frames_sent_total",
            "Stream frames sent.",
            &stats.frames_sent,
        ),
        (
            "day2top_gateway_events_sent_total",
            "Stream events sent.",
            &stats.events_sent,
        ),
        (
            "day2top_gateway_events_dropped_total",
            "Stream events dropped because a subscriber fell behind.",
            &stats.events_dropped,
        ),
        (
            "day2top_gateway_slow_clients_disconnected_total",
            "Stream clients cut off because they stopped reading.",
            &stats.slow_clients_cut,
        ),
    ];
    for (name, help, counter) in &counters {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        let _ = writeln!(out, "{name} {}", GatewayStats::get(counter));
    }
    gauge(
        &mut out,
        "day2top_gateway_clients",
        "Connected stream clients.",
        &[],
        GatewayStats::get(&stats.clients) as f64,
    );
    gauge(
        &mut out,
        "day2top_gateway_subscriptions",
        "Active stream subscriptions.",
        &[],
        GatewayStats::get(&stats.subscriptions) as f64,
    );
    gauge(
        &mut out,
        "day2top_gateway_queued_frames",
        "Frames waiting in connections' outgoing queues.",
        &[],
        GatewayStats::get(&stats.queued_frames) as f64,
    );

    let _ = writeln!(
        out,
        "# HELP day2top_gateway_topic_backlog Events in a topic's ring not yet read by its slowest subscriber.\n# TYPE day2top_gateway_topic_backlog gauge"
    );
    let topics = gw.store.topic_stats();
    for t in &topics {
        let _ = writeln!(
            out,
            "day2top_gateway_topic_backlog{{topic=\"{}\"}} {}",
            t.topic, t.backlog
        );
    }
    let _ = writeln!(
        out,
        "# HELP day2top_gateway_topic_subscribers Subscriptions reading a topic.\n# TYPE day2top_gateway_topic_subscribers gauge"
    );
    for t in &topics {
        let _ = writeln!(
            out,
            "day2top_gateway_topic_subscribers{{topic=\"{}\"}} {}",
            t.topic, t.subscribers
        );
    }
    let _ = writeln!(
        out,
        "# HELP day2top_gateway_topic_seq The newest sequence number of a topic.\n# TYPE day2top_gateway_topic_seq counter"
    );
    for t in &topics {
        let _ = writeln!(
            out,
            "day2top_gateway_topic_seq{{topic=\"{}\"}} {}",
            t.topic, t.seq
        );
    }
    let (series, points, dropped) = gw.store.series_stats();
    gauge(
        &mut out,
        "day2top_gateway_series",
        "Metric series held.",
        &[],
        series as f64,
    );
    gauge(
        &mut out,
        "day2top_gateway_series_points",
        "Metric points held.",
        &[],
        points as f64,
    );
    let _ = writeln!(
        out,
        "# HELP day2top_gateway_series_dropped_samples_total Samples refused because the series limit was reached.\n# TYPE day2top_gateway_series_dropped_samples_total counter\nday2top_gateway_series_dropped_samples_total {dropped}"
    );
    out
}

fn gauge(out: &mut String, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    let _ = write!(out, "{name}");
    write_labels(out, labels.iter().copied());
    let _ = writeln!(out, " {}", number(value));
}

fn write_labels<'a>(out: &mut String, labels: impl Iterator<Item = (&'a str, &'a str)>) {
    let mut first = true;
    for (key, value) in labels {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(&sanitize(key));
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}

/// A metric or label name as Prometheus allows it: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
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
    }
}
