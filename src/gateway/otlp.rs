//! `POST /v1/traces` on the OTLP address: OTLP/HTTP with protobuf or JSON
//! bodies, gzip or not, behind the same token check as the API. Answers as
//! the OTLP spec asks: 200 with `partialSuccess` when some spans were
//! refused, 400 for a body that does not decode, 413 over the size limit,
//! 415 for a content type or encoding OTLP does not use.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;

use super::Shared;
use super::stats::GatewayStats;
use crate::collect::otlp::{self, Encoding, Refused};

/// The largest body taken, before and after inflating.
pub const MAX_BODY: usize = 16 << 20;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/traces", post(export))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            (shared.clone(), super::Scope::Ingest),
            super::request::require,
        ))
        .with_state(shared)
}

/// An OTLP error: a `google.rpc.Status` (code, message), in the request's
/// encoding.
fn status(http: StatusCode, encoding: Encoding, message: String) -> Response {
    // gRPC codes: 3 invalid argument, 8 resource exhausted.
    let code: i32 = if http == StatusCode::PAYLOAD_TOO_LARGE {
        8
    } else {
        3
    };
    match encoding {
        Encoding::Json => (
            http,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "code": code, "message": message }).to_string(),
        )
            .into_response(),
        Encoding::Protobuf => {
            let mut body = Vec::new();
            prost::encoding::int32::encode(1, &code, &mut body);
            prost::encoding::string::encode(2, &message, &mut body);
            (
                http,
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                body,
            )
                .into_response()
        }
    }
}

async fn export(State(gw): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    GatewayStats::add(&gw.stats.otlp_requests, 1);
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let Some(encoding) = Encoding::from_content_type(header_text(header::CONTENT_TYPE)) else {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "OTLP/HTTP takes application/x-protobuf or application/json",
        )
            .into_response();
    };
    let inflated;
    let raw: &[u8] = match header_text(header::CONTENT_ENCODING) {
        "" | "identity" => &body,
        "gzip" => match otlp::gunzip(&body, MAX_BODY) {
            Ok(bytes) => {
                inflated = bytes;
                &inflated
            }
            Err(refused) => return refusal(&gw, encoding, refused),
        },
        other => {
            return status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                encoding,
                format!("content encoding {other:?}: only gzip is taken"),
            );
        }
    };
    let request = match otlp::decode(raw, encoding) {
        Ok(r) => r,
        Err(refused) => return refusal(&gw, encoding, refused),
    };
    let (spans, mut rejected, mut reason) = otlp::spans(request);
    let accepted = spans.len();
    let full = gw.store.add_spans(spans);
    if full > 0 {
        rejected += full;
        reason.get_or_insert_with(|| "a trace holds its most spans".to_string());
    }
    GatewayStats::add(&gw.stats.otlp_spans, (accepted - full) as u64);
    GatewayStats::add(&gw.stats.otlp_spans_rejected, rejected as u64);
    let response = ExportTraceServiceResponse {
        partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: rejected as i64,
            error_message: reason.unwrap_or_default(),
        }),
    };
    match encoding {
        Encoding::Json => (
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_string(&response).unwrap_or_else(|_| "{}".into()),
        )
            .into_response(),
        Encoding::Protobuf => (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            response.encode_to_vec(),
        )
            .into_response(),
    }
}

fn refusal(gw: &Shared, encoding: Encoding, refused: Refused) -> Response {
    GatewayStats::add(&gw.stats.otlp_refused, 1);
    match refused {
        Refused::Undecodable(why) => status(StatusCode::BAD_REQUEST, encoding, why),
        Refused::TooLarge(limit) => status(
            StatusCode::PAYLOAD_TOO_LARGE,
            encoding,
            format!("the body inflates past {limit} bytes"),
        ),
    }
}
