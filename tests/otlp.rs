//! OTLP/HTTP traces into a real gateway over loopback: protobuf and JSON
//! (hex ids, 64-bit numbers as strings), gzip, partial success, and every
//! way a request can be refused (400, 413, 415, 401, 403) with nothing stored
//! and the gateway still serving. The request bodies are the OTLP
//! messages themselves (`opentelemetry-proto`), encoded as an exporter
//! encodes them.

mod common;

use std::io::Write;

use common::{INGEST, READ, get_json, http, next_msg, send, ws_connect};
use day2top::api::{Record, ServerMsg, Span, SpanStatus, TraceSummary};
use day2top::gateway::RunningGateway;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, span,
};
use prost::Message;

const TRACE: [u8; 16] = [
    0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c,
];

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn otlp_span(
    trace: [u8; 16],
    id: u8,
    parent: Option<u8>,
    name: &str,
    start: u64,
    end: u64,
    error: bool,
) -> OtlpSpan {
    OtlpSpan {
        trace_id: trace.to_vec(),
        span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
        parent_span_id: parent
            .map(|p| vec![0, 0, 0, 0, 0, 0, 0, p])
            .unwrap_or_default(),
        name: name.into(),
        kind: 2,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes: vec![kv("db.statement", "SELECT * FROM customer WHERE id = 123")],
        events: vec![span::Event {
            time_unix_nano: start + 430_000,
            name: "Waiting for lock behind 4 transactions".into(),
            ..Default::default()
        }],
        status: error.then(|| Status {
            code: 2,
            message: "lock timeout".into(),
        }),
        ..Default::default()
    }
}

fn request(service: &str, spans: Vec<OtlpSpan>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", service), kv("host.name", "agent-001-S4")],
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

async fn start() -> RunningGateway {
    common::start_otlp().await
}

async fn post(
    gw: &RunningGateway,
    content_type: &str,
    gzip: bool,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let mut req = http()
        .post(format!("http://{}/v1/traces", gw.otlp_addr.unwrap()))
        .bearer_auth(INGEST)
        .header("content-type", content_type);
    let body = if gzip {
        req = req.header("content-encoding", "gzip");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).unwrap();
        gz.finish().unwrap()
    } else {
        body
    };
    let resp = req.body(body).send().await.unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

async fn trace_count(gw: &RunningGateway) -> usize {
    get_json::<Vec<TraceSummary>>(&format!("{}/api/v1/traces?limit=1000", gw.url))
        .await
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_and_json_traces_are_assembled_and_served() {
    let gw = start().await;
    let mut ws = ws_connect(&gw.url, READ).await;
    send(&mut ws, r#"{"type":"subscribe","sub":"s","topic":"spans"}"#).await;
    // Subscribed before anything is sent (a loaded machine may take the
    // request first otherwise): the snapshot, empty, says so.
    let ServerMsg::Snapshot { items, .. } = next_msg(&mut ws).await else {
        panic!("the snapshot first")
    };
    assert!(items.is_empty());

    // The frontend's root and its child, by protobuf.
    let t0 = 1_700_000_000_000_000_000u64;
    let body = request(
        "frontend",
        vec![
            otlp_span(
                TRACE,
                1,
                None,
                "HTTP GET /dispatch",
                t0,
                t0 + 700_000_000,
                false,
            ),
            otlp_span(
                TRACE,
                2,
                Some(1),
                "HTTP GET /customer",
                t0 + 1_000_000,
                t0 + 300_000_000,
                false,
            ),
        ],
    )
    .encode_to_vec();
    let (status, answer) = post(&gw, "application/x-protobuf", false, body).await;
    assert_eq!(status, 200);
    let answer = ExportTraceServiceResponse::decode(answer.as_slice()).unwrap();
    assert!(answer.partial_success.is_none(), "all taken");

    // A late span from mysql, by JSON, gzipped, 64-bit numbers as strings.
    let json = serde_json::to_vec(&request(
        "mysql",
        vec![otlp_span(
            TRACE,
            3,
            Some(2),
            "SQL SELECT",
            t0 + 2_000_000,
            t0 + 290_000_000,
            true,
        )],
    ))
    .unwrap();
    assert!(
        String::from_utf8_lossy(&json).contains("\"startTimeUnixNano\":\""),
        "numbers as strings"
    );
    let (status, answer) = post(&gw, "application/json", true, json).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));

    let list: Vec<TraceSummary> = get_json(&format!("{}/api/v1/traces", gw.url)).await;
    assert_eq!(list.len(), 1);
    let t = &list[0];
    assert_eq!(t.trace_id, "5b8efff798038103d269b633813fc60c");
    assert_eq!(
        (t.root_service.as_str(), t.root_operation.as_str()),
        ("frontend", "HTTP GET /dispatch")
    );
    assert_eq!(
        (t.spans, t.errors, t.orphans, t.duration),
        (3, 1, 0, 700_000_000)
    );
    let spans: Vec<Span> = get_json(&format!("{}/api/v1/traces/{}", gw.url, t.trace_id)).await;
    let sql = spans.iter().find(|s| s.service == "mysql").unwrap();
    assert_eq!(sql.status, SpanStatus::Error);
    assert_eq!(sql.events[0].name, "Waiting for lock behind 4 transactions");
    assert_eq!(sql.node_id.as_deref(), Some("agent-001-S4"));
    let errors: Vec<TraceSummary> = get_json(&format!(
        "{}/api/v1/traces?error=true&min_duration=500ms&service=mysql",
        gw.url
    ))
    .await;
    assert_eq!(errors.len(), 1);
    let slow: Vec<TraceSummary> =
        get_json(&format!("{}/api/v1/traces?min_duration=1s", gw.url)).await;
    assert!(slow.is_empty());
    let services: serde_json::Value = get_json(&format!("{}/api/v1/services", gw.url)).await;
    assert_eq!(services[0]["name"], "frontend");
    assert_eq!(services.as_array().unwrap().len(), 2);

    // The stream announced the trace as it grew.
    let ServerMsg::Event { events, .. } = next_msg(&mut ws).await else {
        panic!("an event")
    };
    assert!(
        matches!(&events[0].data, Record::Trace(t) if t.trace_id == "5b8efff798038103d269b633813fc60c")
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_the_right_code_and_store_nothing() {
    let gw = start().await;
    let good = request(
        "frontend",
        vec![otlp_span(TRACE, 1, None, "GET /", 10, 20, false)],
    )
    .encode_to_vec();

    assert_eq!(
        post(
            &gw,
            "application/x-protobuf",
            false,
            b"\xff\xff\xff\xff".to_vec()
        )
        .await
        .0,
        400
    );
    let truncated = good[..good.len() - 3].to_vec();
    assert_eq!(
        post(&gw, "application/x-protobuf", false, truncated)
            .await
            .0,
        400
    );
    let (status, body) = post(
        &gw,
        "application/json",
        false,
        b"{\"resourceSpans\": [".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    let said: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(said["message"].as_str().unwrap().contains("JSON"), "{said}");
    assert_eq!(post(&gw, "text/plain", false, good.clone()).await.0, 415);
    assert_eq!(
        post(&gw, "application/x-protobuf", false, vec![0u8; 17 << 20])
            .await
            .0,
        413
    );
    // A gzip bomb: small on the wire, past the limit inflated.
    assert_eq!(
        post(&gw, "application/x-protobuf", true, vec![0u8; 20 << 20])
            .await
            .0,
        413
    );
    let anonymous = http()
        .post(format!("http://{}/v1/traces", gw.otlp_addr.unwrap()))
        .header("content-type", "application/x-protobuf")
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    // Writing is a scope of its own: a read-only token cannot add traces.
    let reader = http()
        .post(format!("http://{}/v1/traces", gw.otlp_addr.unwrap()))
        .bearer_auth(READ)
        .header("content-type", "application/x-protobuf")
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(reader.status().as_u16(), 403);
    assert_eq!(
        trace_count(&gw).await,
        0,
        "nothing stored from bad requests"
    );

    // Partial success: the bad span is refused and counted, the good one taken.
    let mixed = request(
        "frontend",
        vec![
            otlp_span(TRACE, 1, None, "GET /", 10, 20, false),
            otlp_span([0; 16], 2, None, "no trace id", 10, 20, false),
            otlp_span(TRACE, 3, Some(1), "backwards", 30, 20, false),
        ],
    )
    .encode_to_vec();
    let (status, answer) = post(&gw, "application/x-protobuf", false, mixed).await;
    assert_eq!(status, 200);
    let partial = ExportTraceServiceResponse::decode(answer.as_slice())
        .unwrap()
        .partial_success
        .expect("a partial success");
    assert_eq!(partial.rejected_spans, 2);
    assert!(
        partial.error_message.contains("trace id"),
        "{}",
        partial.error_message
    );
    assert_eq!(trace_count(&gw).await, 1, "the gateway still serves");
    gw.shutdown().await;
}
