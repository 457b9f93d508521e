//! What every request handler shares: who is asking (the token's name),
//! the check that their token may, and errors as HTTP responses. Routes,
//! the stream and exec all build on this; none of them on each other.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::auth::{Scope, Tokens};
use super::stats::GatewayStats;
use crate::api::{ApiError, ErrorCode};

/// An [`ApiError`] as an HTTP response.
pub struct HttpError(pub ApiError);

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.error.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}

impl From<QueryRejection> for HttpError {
    fn from(rejection: QueryRejection) -> Self {
        HttpError(ApiError::new(ErrorCode::BadRequest, rejection.body_text()))
    }
}

/// Who made a request: the name of the token it carried.
#[derive(Debug, Clone)]
pub struct Actor(pub String);

/// Every route needs a valid token with the router's scope (`read` for
/// the API, `ingest` for OTLP writes). Refused requests are audited.
pub async fn require(
    State((gw, scope)): State<(Arc<Shared>, Scope)>,
    ConnectInfo(peer): ConnectInfo<super::Peer>,
    mut req: Request,
    next: Next,
) -> Response {
    GatewayStats::add(&gw.stats.requests, 1);
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = gw
        .tokens
        .authenticate(header)
        .and_then(|token| Tokens::authorize(token, scope).map(|()| token));
    match token {
        Ok(token) => {
            req.extensions_mut().insert(Actor(token.name.clone()));
            next.run(req).await
        }
        Err(err) => {
            GatewayStats::add(&gw.stats.auth_failures, 1);
            gw.audit.auth_failure(
                &peer.0.to_string(),
                &user_agent(req.headers()),
                &format!("{} {}", req.method(), req.uri().path()),
                &err.error.message,
            );
            let mut response = HttpError(err).into_response();
            if response.status() == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"day2top\""),
                );
            }
            response
        }
    }
}

/// The audit trail is for tokens with the `admin` scope only.
pub fn require_admin(gw: &Shared, actor: &Actor) -> Result<(), HttpError> {
    let token = gw
        .tokens
        .named(&actor.0)
        .ok_or_else(|| HttpError(ApiError::new(ErrorCode::Forbidden, "the token is gone")))?;
    Tokens::authorize(token, Scope::Admin).map_err(HttpError)
}

/// The client's own name for itself, for the audit log (bounded).
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect())
        .unwrap_or_default()
}

/// The operator a hub names when it asks for an exec session (see
/// `api::OPERATOR_HEADER`); empty when the caller is no hub.
pub fn operator(headers: &HeaderMap) -> String {
    headers
        .get(crate::api::OPERATOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().filter(|c| !c.is_control()).take(200).collect())
        .unwrap_or_default()
}

/// An answer, saying what it lacks (a hub's agents that could not answer,
/// a Prometheus that did not) in `api::MISSING_HEADER`.
pub fn partial(answer: impl IntoResponse, missing: &[String]) -> Response {
    let mut response = answer.into_response();
    // A header is visible ASCII: what else a source said is shown as '?'.
    let value: String = missing
        .join(", ")
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    if let (false, Ok(value)) = (missing.is_empty(), header::HeaderValue::from_str(&value)) {
        response
            .headers_mut()
            .insert(crate::api::MISSING_HEADER, value);
    }
    response
}
