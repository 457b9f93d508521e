//! OTLP/HTTP trace requests (`POST /v1/traces`), protobuf or JSON, turned
//! into spans. A span that cannot be kept (ids of the wrong length, an end
//! before its start) is refused and counted, as OTLP's `partialSuccess`
//! reports it; the rest of the request still counts.

use std::collections::BTreeMap;
use std::io::Read;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;

use crate::api::{Span, SpanEvent, SpanKind, SpanStatus};

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// From a `Content-Type`; `None` for one OTLP does not speak.
    pub fn from_content_type(content_type: &str) -> Option<Encoding> {
        let mime = content_type.split(';').next().unwrap_or("").trim();
        match mime {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }
}

/// Why a request was refused whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The body does not decode (400).
    Undecodable(String),
    /// The body, or what it inflates to, is over the limit (413).
    TooLarge(usize),
}

/// Inflates a gzip body, refusing to go past `limit` bytes.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Refused::Undecodable(format!("not gzip: {e}")))?;
    if out.len() > limit {
        return Err(Refused::TooLarge(limit));
    }
    Ok(out)
}

pub fn decode(body: &[u8], encoding: Encoding) -> Result<ExportTraceServiceRequest, Refused> {
    match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(body)
            .map_err(|e| Refused::Undecodable(format!("not an OTLP protobuf trace request: {e}"))),
        Encoding::Json => serde_json::from_slice(body)
            .map_err(|e| Refused::Undecodable(format!("not an OTLP JSON trace request: {e}"))),
    }
}

/// An attribute value as text: strings as they are, the rest as JSON.
fn text(value: &Option<AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => hex(b),
        Some(any_value::Value::ArrayValue(a)) => {
            let items: Vec<String> = a.values.iter().map(|v| text(&Some(v.clone()))).collect();
            serde_json::to_string(&items).unwrap_or_default()
        }
        Some(any_value::Value::KvlistValue(kv)) => {
            serde_json::to_string(&attributes(&kv.values)).unwrap_or_default()
        }
        _ => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect()
}

/// The spans of a request, and how many were refused (with the first reason).
pub fn spans(request: ExportTraceServiceRequest) -> (Vec<Span>, usize, Option<String>) {
    let (mut out, mut refused, mut reason) = (Vec::new(), 0, None);
    for resource_spans in request.resource_spans {
        let resource = attributes(
            &resource_spans
                .resource
                .map(|r| r.attributes)
                .unwrap_or_default(),
        );
        let service = resource
            .get("service.name")
            .cloned()
            .unwrap_or_else(|| "unknown_service".to_string());
        let node_id = ["host.name", "host.id", "k8s.node.name"]
            .iter()
            .find_map(|k| resource.get(*k).cloned());
        let task_id = [
            "day2top.task_id",
            "mesos.task_id",
            "k8s.pod.uid",
            "container.id",
        ]
        .iter()
        .find_map(|k| resource.get(*k).cloned());
        for scope in resource_spans.scope_spans {
            for s in scope.spans {
                let problem = if s.trace_id.len() != 16 || s.trace_id.iter().all(|b| *b == 0) {
                    Some("a trace id is 16 bytes, not all zero")
                } else if s.span_id.len() != 8 || s.span_id.iter().all(|b| *b == 0) {
                    Some("a span id is 8 bytes, not all zero")
                } else if !s.parent_span_id.is_empty() && s.parent_span_id.len() != 8 {
                    Some("a parent span id is 8 bytes")
                } else if s.end_time_unix_nano < s.start_time_unix_nano {
                    Some("a span ends before it starts")
                } else {
                    None
                };
                if let Some(why) = problem {
                    refused += 1;
                    reason.get_or_insert_with(|| why.to_string());
                    continue;
                }
                let status = s.status.as_ref();
                out.push(Span {
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_id: (!s.parent_span_id.is_empty()).then(|| hex(&s.parent_span_id)),
                    service: service.clone(),
                    name: s.name,
                    kind: match s.kind {
                        1 => SpanKind::Internal,
                        2 => SpanKind::Server,
                        3 => SpanKind::Client,
                        4 => SpanKind::Producer,
                        5 => SpanKind::Consumer,
                        _ => SpanKind::Unspecified,
                    },
                    start: s.start_time_unix_nano,
                    end: s.end_time_unix_nano,
                    status: match status.map(|st| st.code) {
                        Some(1) => SpanStatus::Ok,
                        Some(2) => SpanStatus::Error,
                        _ => SpanStatus::Unset,
                    },
                    status_message: status.map(|st| st.message.clone()).unwrap_or_default(),
                    attributes: attributes(&s.attributes),
                    resource: resource.clone(),
                    events: s
                        .events
                        .iter()
                        .map(|e| SpanEvent {
                            ts: e.time_unix_nano,
                            name: e.name.clone(),
                            attributes: attributes(&e.attributes),
                        })
                        .collect(),
                    node_id: node_id.clone(),
                    task_id: task_id.clone(),
                });
            }
        }
    }
    (out, refused, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_with_hex_ids_and_numbers_as_strings_or_numbers() {
        let body = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}},{"key":"host.name","value":{"stringValue":"agent-1"}}]},
          "scopeSpans":[{"spans":[
            {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"HTTP GET /dispatch","kind":2,
             "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
             "attributes":[{"key":"http.status_code","value":{"intValue":"200"}}],
             "events":[{"timeUnixNano":"1544712660500000000","name":"Acquired lock"}],
             "status":{"code":2,"message":"boom"}},
            {"traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b175","name":"bad"}
          ]}]}]}"#;
        let request = decode(body.as_bytes(), Encoding::Json).unwrap();
        let (spans, refused, reason) = spans(request);
        assert_eq!((spans.len(), refused), (1, 1));
        assert!(reason.unwrap().contains("trace id"));
        let s = &spans[0];
        assert_eq!(s.trace_id, "5b8efff798038103d269b633813fc60c");
        assert_eq!(
            (s.service.as_str(), s.kind, s.status),
            ("frontend", SpanKind::Server, SpanStatus::Error)
        );
        assert_eq!(s.duration(), 1_000_000_000);
        assert_eq!(s.attributes["http.status_code"], "200");
        assert_eq!(s.events[0].name, "Acquired lock");
        assert_eq!(s.node_id.as_deref(), Some("agent-1"));
    }

    #[test]
    fn garbage_refused_whole() {
        assert!(matches!(
            decode(b"\xff\xff\xff", Encoding::Protobuf),
            Err(Refused::Undecodable(_))
        ));
        assert!(matches!(
            decode(b"{\"resourceSpans\":", Encoding::Json),
            Err(Refused::Undecodable(_))
        ));
        assert!(matches!(
            gunzip(b"not gzip", 100),
            Err(Refused::Undecodable(_))
        ));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &vec![b'x'; 1000]).unwrap();
        let bomb = gz.finish().unwrap();
        assert_eq!(gunzip(&bomb, 100), Err(Refused::TooLarge(100)));
        assert_eq!(gunzip(&bomb, 1000).unwrap().len(), 1000);
        assert_eq!(
            Encoding::from_content_type("application/json; charset=utf-8"),
            Some(Encoding::Json)
        );
        assert_eq!(Encoding::from_content_type("text/plain"), None);
    }
}
