//! Trace benchmarks; prints figures. `cargo bench --bench traces`.
//!
//! - OTLP ingest over loopback, protobuf and JSON: spans a second taken in
//!   by a gateway from requests of 1,000 spans
//! - the waterfall layout of a 10,000-span trace (goal ≤ 5 ms)
//! - the waterfall's frame at 200x60 with that trace (goal ≤ 2 ms)

mod common;

use std::time::{Duration, Instant};

use common::{SECRET, runtime, stats};
use day2top::api::Span;
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::fixture;
use day2top::gateway::{self, GatewayConfig, Scope, Token, Tokens};
use day2top::tui::config::action::Action;
use day2top::tui::screen;
use day2top::tui::traces::layout::Layout;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan};
use prost::Message;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A request of 100 traces of 10 spans each.
fn request(batch: u64) -> ExportTraceServiceRequest {
    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    };
    let mut spans = Vec::with_capacity(1000);
    for t in 0..100u64 {
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&batch.to_be_bytes());
        trace_id[8..].copy_from_slice(&(t + 1).to_be_bytes());
        for s in 0..10u64 {
            spans.push(OtlpSpan {
                trace_id: trace_id.to_vec(),
                span_id: (s + 1).to_be_bytes().to_vec(),
                parent_span_id: if s == 0 {
                    Vec::new()
                } else {
                    1u64.to_be_bytes().to_vec()
                },
                name: format!("GET /api/items/{s}"),
                kind: 2,
                start_time_unix_nano: 1_700_000_000_000_000_000 + s * 1000,
                end_time_unix_nano: 1_700_000_000_000_000_000 + s * 1000 + 500_000,
                attributes: vec![kv("http.method", "GET"), kv("http.status_code", "200")],
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "bench")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn ingest() {
    let mut c = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    c.tokens = Some(Tokens::new(vec![Token::new(
        "bench",
        SECRET,
        vec![Scope::Read, Scope::Ingest],
    )]));
    c.otlp = Some("127.0.0.1:0".parse().unwrap());
    let quiet = DemoSource::new(DemoConfig {
        trace_rate: 0,
        log_rate: 0,
        nodes: 1,
        tasks: 1,
        ..Default::default()
    });
    let gw = gateway::start(c, Box::new(quiet)).await.unwrap();
    let url = format!("http://{}/v1/traces", gw.otlp_addr.unwrap());
    let tls = (*day2top::client::tls_config(None).unwrap()).clone();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    for (name, content_type, encode) in [
        (
            "protobuf",
            "application/x-protobuf",
            (|r: &ExportTraceServiceRequest| r.encode_to_vec())
                as fn(&ExportTraceServiceRequest) -> Vec<u8>,
        ),
        ("JSON", "application/json", |r| {
            serde_json::to_vec(r).unwrap()
        }),
    ] {
        let bodies: Vec<Vec<u8>> = (0..200).map(|b| encode(&request(b))).collect();
        let start = Instant::now();
        for body in bodies {
            let resp = http
                .post(&url)
                .bearer_auth(SECRET)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success());
        }
        let took = start.elapsed();
        println!(
            "OTLP ingest, {name}, 200 requests of 1,000 spans: {:.0} spans/s",
            200_000.0 / took.as_secs_f64()
        );
    }
    gw.shutdown().await;
}

/// A trace of 10,000 spans: 100 services' calls, each a chain 100 deep.
fn big_trace() -> Vec<Span> {
    let span = |id: String, parent: Option<String>, start: u64, end: u64| {
        Span::new(
            "0123456789abcdef0123456789abcdef",
            &id,
            parent.as_deref(),
            "op",
            start,
            end,
        )
    };
    let mut spans = vec![span("root".into(), None, 0, 10_000_000)];
    for i in 0..9_999u64 {
        let parent = if i % 100 == 0 {
            "root".to_string()
        } else {
            format!("s{}", i - 1)
        };
        spans.push(span(
            format!("s{i}"),
            Some(parent),
            i * 1000,
            i * 1000 + 50_000,
        ));
    }
    spans
}

fn waterfall() {
    let spans = big_trace();
    let times: Vec<Duration> = (0..30)
        .map(|_| {
            let spans = spans.clone();
            let start = Instant::now();
            let layout = Layout::new(spans);
            let took = start.elapsed();
            assert_eq!(layout.rows.len(), 10_000);
            took
        })
        .collect();
    let (p50, p99) = stats(times);
    println!("waterfall layout of a 10,000-span trace: p50 {p50:.3?}  p99 {p99:.3?}  (goal ≤ 5ms)");

    let mut app = fixture::demo_app(DemoConfig::default(), 3);
    fixture::feed_traces(&mut app, &spans);
    app.run_command("traces");
    app.size = (200, 60);
    app.prepare();
    app.act(Action::Select);
    let id = app.trace_view.id.clone();
    app.on_trace(&id, Ok(spans));
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    app.prepare();
    let frames: Vec<Duration> = (0..300)
        .map(|i| {
            app.act(if i % 2 == 0 { Action::Down } else { Action::Up });
            let start = Instant::now();
            app.prepare();
            terminal.draw(|f| screen::draw(f, &app)).unwrap();
            start.elapsed()
        })
        .collect();
    let (p50, p99) = stats(frames);
    println!("waterfall frame, 10,000 spans, 200x60: p50 {p50:.3?}  p99 {p99:.3?}  (goal ≤ 2ms)");
}

fn main() {
    runtime().block_on(ingest());
    waterfall();
}
