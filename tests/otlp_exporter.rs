//! The real OpenTelemetry SDK and its OTLP/HTTP exporter (protobuf and
//! JSON) sending spans to a gateway over loopback, as an instrumented
//! service would.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{INGEST, get_json};
use day2top::api::{Span, TraceSummary};
use opentelemetry::trace::{Tracer, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Exports a parent and a child span of `service` with `protocol`, on a
/// thread of its own (the blocking exporter must not run on the runtime).
fn export(endpoint: String, service: &'static str, protocol: Protocol) {
    // The exporter's HTTP client shares the console's TLS setup: the
    // process-wide crypto provider it installs.
    day2top::client::tls_config(None).unwrap();
    std::thread::spawn(move || {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_endpoint(endpoint)
            .with_headers(HashMap::from([(
                "authorization".to_string(),
                format!("Bearer {INGEST}"),
            )]))
            .build()
            .expect("the exporter builds");
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(service).build())
            .build();
        let tracer = provider.tracer("day2top-test");
        tracer.in_span("HTTP GET /dispatch", |_cx| {
            tracer.in_span("SQL SELECT", |_cx| {
                std::thread::sleep(Duration::from_millis(2));
            });
        });
        let _ = provider.force_flush();
        let _ = provider.shutdown();
    })
    .join()
    .expect("the exporting thread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opentelemetry_exporter_sends_protobuf_and_json() {
    let gw = common::start_otlp().await;
    let endpoint = format!("http://{}/v1/traces", gw.otlp_addr.unwrap());
    let (e1, e2) = (endpoint.clone(), endpoint);
    tokio::task::spawn_blocking(move || {
        export(e1, "dispatch-proto", Protocol::HttpBinary);
        export(e2, "dispatch-json", Protocol::HttpJson);
    })
    .await
    .unwrap();

    let list: Vec<TraceSummary> = get_json(&format!("{}/api/v1/traces", gw.url)).await;
    for service in ["dispatch-proto", "dispatch-json"] {
        let t = list
            .iter()
            .find(|t| t.root_service == service)
            .unwrap_or_else(|| panic!("no trace from {service}: {list:?}"));
        assert_eq!((t.spans, t.orphans), (2, 0));
        assert_eq!(t.root_operation, "HTTP GET /dispatch");
        let spans: Vec<Span> = get_json(&format!("{}/api/v1/traces/{}", gw.url, t.trace_id)).await;
        let child = spans.iter().find(|s| s.name == "SQL SELECT").unwrap();
        assert!(child.parent_id.is_some() && child.duration() >= 2_000_000);
    }
    gw.shutdown().await;
}
