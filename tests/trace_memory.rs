//! The trace store's byte count against what the heap really holds, with a
//! counting allocator (a test binary of its own, so nothing else shares
//! the count). The cap on trace memory must mean what it says.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use day2top::gateway::{self, GatewayConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

/// What glibc's malloc really takes for a request: 8 bytes of header,
/// rounded up to 16, at least 32.
fn chunk(size: usize) -> isize {
    ((size + 8).div_ceil(16) * 16).max(32) as isize
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(chunk(new) - chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn text(key: String, value: String) -> KeyValue {
    KeyValue {
        key,
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    }
}

/// One trace of `spans` spans with `attributes` short attributes each.
fn request(trace: u8, spans: usize, attributes: usize) -> Vec<u8> {
    let spans = (0..spans)
        .map(|n| Span {
            trace_id: vec![trace; 16],
            span_id: (n as u64 + 1).to_be_bytes().to_vec(),
            name: format!("op-{n}"),
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 2_000 + n as u64,
            attributes: (0..attributes)
                .map(|a| text(format!("k{a}"), format!("v{a}")))
                .collect(),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name".into(), "memory".into())],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_byte_count_covers_what_the_heap_holds() {
    let mut config: GatewayConfig = common::demo_config("127.0.0.1:0".parse().unwrap());
    config.otlp = Some("127.0.0.1:0".parse().unwrap());
    let quiet = day2top::collect::demo::DemoSource::new(day2top::collect::demo::DemoConfig {
        trace_rate: 0,
        log_rate: 0,
        nodes: 1,
        tasks: 1,
        ..Default::default()
    });
    let gw = gateway::start(config, Box::new(quiet)).await.unwrap();
    let http = common::http();
    let url = format!("http://{}/v1/traces", gw.otlp_addr.unwrap());
    // Warm up: connections, buffers and lazily made things, then measure.
    let post = |body: Vec<u8>| {
        http.post(&url)
            .bearer_auth(common::INGEST)
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
    };
    assert_eq!(post(request(1, 1, 1)).await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held_before = common::exposed(
        &common::exposition(&gw.url).await,
        "day2top_gateway_trace_bytes",
    )
    .unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    for trace in 2..12u8 {
        let status = post(request(trace, 20, 2_000)).await.unwrap().status();
        assert_eq!(status, 200);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let heap = (LIVE.load(Ordering::Relaxed) - before) as f64;
    let held = common::exposed(
        &common::exposition(&gw.url).await,
        "day2top_gateway_trace_bytes",
    )
    .unwrap()
        - held_before;
    eprintln!("heap grew {heap} bytes; the store says it holds {held} more");
    assert!(
        held >= heap * 0.95 && held <= heap * 1.25,
        "the store counts {held} bytes for {heap} bytes of heap"
    );
    gw.shutdown().await;
}
