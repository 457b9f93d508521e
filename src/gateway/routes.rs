//! The REST routes of API v1, the auth layer in front of them, and the
//! one error shape every failure takes.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::Shared;
use super::auth::Scope;
use super::filter::Matcher;
use super::request::{Actor, HttpError, partial, require, require_admin};
use crate::api::{API_VERSION, ApiError, ErrorCode, Filter, SeriesRange, VersionInfo};

fn not_found(what: &str, id: &str) -> HttpError {
    HttpError(ApiError::new(
        ErrorCode::NotFound,
        format!("no {what} with id {id:?}"),
    ))
}

pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/api/v1/version", get(version))
        .route("/api/v1/cluster", get(cluster))
        .route("/api/v1/nodes", get(nodes))
        .route("/api/v1/nodes/{id}", get(node))
        .route("/api/v1/tasks", get(tasks))
        .route("/api/v1/tasks/gone", get(tasks_gone))
        .route("/api/v1/tasks/{id}", get(task))
        .route("/api/v1/logs", get(super::logs::read))
        .route("/api/v1/metrics/series", get(metric_series))
        .route("/api/v1/health", get(health))
        .route("/api/v1/traces", get(traces))
        .route("/api/v1/traces/{id}", get(trace))
        .route("/api/v1/services", get(services))
        .route("/api/v1/tasks/{id}/exec", post(super::exec::start))
        .route("/api/v1/tasks/{id}/restart", post(super::actions::restart))
        .route("/api/v1/nodes/{id}/{action}", post(super::actions::cordon))
        .route("/api/v1/exec/{session}", get(super::exec::attach))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/agents", get(agents))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/stream", get(super::stream::upgrade))
        .route("/metrics", get(super::prometheus::exposition))
        .fallback(|| async {
            HttpError(ApiError::new(
                ErrorCode::NotFound,
                "no such route; see the README for the API",
            ))
        });
    api.layer(axum::middleware::from_fn_with_state(
        (shared.clone(), Scope::Read),
        require,
    ))
    .with_state(shared)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<usize>,
}

/// Audit records a read returns at most.
const MAX_AUDIT: usize = 1000;

/// `GET /api/v1/audit?limit=`: the latest audit records, oldest first
/// (the `admin` scope).
async fn audit(
    State(gw): State<Arc<Shared>>,
    axum::Extension(actor): axum::Extension<Actor>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<crate::api::AuditRecord>>, HttpError> {
    let Query(q) = query?;
    require_admin(&gw, &actor)?;
    Ok(Json(gw.store.audit(q.limit.unwrap_or(100).min(MAX_AUDIT))))
}

/// `GET /api/v1/agents`: a hub's agents and how it stands with each; a
/// gateway that is no hub has none.
async fn agents(State(gw): State<Arc<Shared>>) -> Json<AgentsListing> {
    Json(match &gw.fleet {
        Some(fleet) => AgentsListing {
            items: fleet.statuses(),
            file_error: fleet.file_error(),
        },
        None => AgentsListing::default(),
    })
}

/// `GET /api/v1/alerts`: the alert engine's board.
async fn alerts(
    State(gw): State<Arc<Shared>>,
) -> Result<Json<crate::api::AlertsReport>, HttpError> {
    match &gw.alerts {
        Some(board) => Ok(Json(board.lock().map(|b| b.clone()).unwrap_or_default())),
        None => Err(HttpError(ApiError::new(
            ErrorCode::NotFound,
            "alerting is off: start the gateway with --alerts FILE",
        ))),
    }
}

#[derive(Serialize, Default)]
struct AgentsListing {
    items: Vec<crate::api::AgentStatus>,
    /// Why the agents file's latest version was not taken (the last good
    /// version's agents stay).
    #[serde(skip_serializing_if = "Option::is_none")]
    file_error: Option<String>,
}

#[derive(Serialize)]
struct Listing<T> {
    seq: u64,
    epoch: String,
    items: Vec<T>,
}

#[derive(Serialize)]
struct Item<T> {
    seq: u64,
    epoch: String,
    item: T,
}

async fn version() -> Json<VersionInfo> {
    Json(VersionInfo {
        api_version: API_VERSION.to_string(),
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        capabilities: [
            "stream:nodes",
            "stream:tasks",
            "stream:metrics",
            "stream:logs",
            "stream:health",
            "stream:spans",
            "stream:audit",
            "exec",
            "metrics:series",
            "traces",
            "prometheus",
        ]
        .map(String::from)
        .to_vec(),
    })
}

async fn cluster(State(gw): State<Arc<Shared>>) -> impl IntoResponse {
    Json(gw.store.cluster_info())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    node: Option<String>,
    state: Option<String>,
    q: Option<String>,
}

fn matcher(query: ListQuery) -> Result<Matcher, HttpError> {
    Matcher::new(&Filter {
        node: query.node,
        state: query.state,
        q: query.q,
        ..Default::default()
    })
    .map_err(|e| HttpError(ApiError::new(ErrorCode::BadRequest, e)))
}

async fn nodes(
    State(gw): State<Arc<Shared>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<impl IntoResponse, HttpError> {
    let (seq, items) = gw.store.nodes(&matcher(query?.0)?);
    Ok(Json(Listing {
        seq,
        epoch: gw.store.epoch.clone(),
        items,
    }))
}

async fn node(
    State(gw): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    let (seq, item) = gw.store.node(&id).ok_or_else(|| not_found("node", &id))?;
    Ok(Json(Item {
        seq,
        epoch: gw.store.epoch.clone(),
        item,
    }))
}

async fn tasks(
    State(gw): State<Arc<Shared>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<impl IntoResponse, HttpError> {
    let (seq, items) = gw.store.tasks(&matcher(query?.0)?);
    Ok(Json(Listing {
        seq,
        epoch: gw.store.epoch.clone(),
        items,
    }))
}

/// `GET /api/v1/tasks/gone`: the tasks lately removed (the newest
/// 4,096), as they last stood and when, oldest first; filtered as the
/// tasks listing is.
async fn tasks_gone(
    State(gw): State<Arc<Shared>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<impl IntoResponse, HttpError> {
    let items = gw.store.tasks_gone(&matcher(query?.0)?);
    Ok(Json(serde_json::json!({ "items": items })))
}

async fn task(
    State(gw): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    let (seq, item) = gw.store.task(&id).ok_or_else(|| not_found("task", &id))?;
    Ok(Json(Item {
        seq,
        epoch: gw.store.epoch.clone(),
        item,
    }))
}

/// Range reads of log entries, as NDJSON: `node task unit priority
/// match=FIELD=value (repeatable) regex cursor skip limit`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthQuery {
    node: Option<String>,
    task: Option<String>,
}

#[derive(Serialize)]
struct HealthList {
    seq: u64,
    epoch: String,
    /// Failing first, then grace, unknown, passing; by target within each.
    items: Vec<crate::api::Check>,
}

/// `GET /api/v1/health?node=&task=`: every check with its status and history.
async fn health(
    State(gw): State<Arc<Shared>>,
    query: Result<Query<HealthQuery>, QueryRejection>,
) -> Result<Json<HealthList>, HttpError> {
    let Query(q) = query?;
    let filter = Filter {
        node: q.node,
        task: q.task,
        ..Default::default()
    };
    let matcher =
        Matcher::new(&filter).map_err(|e| HttpError(ApiError::new(ErrorCode::BadRequest, e)))?;
    let (seq, items) = gw.store.checks(&matcher);
    Ok(Json(HealthList {
        seq,
        epoch: gw.store.epoch.clone(),
        items,
    }))
}

/// Traces a list returns at most.
const MAX_TRACES: usize = 1000;

/// `GET /api/v1/traces?service=&operation=&min_duration=&max_duration=&error=&from=&to=&limit=`:
/// trace summaries, newest first.
async fn traces(
    State(gw): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<crate::api::TraceSummary>>, HttpError> {
    let bad = |m: String| HttpError(ApiError::new(ErrorCode::BadRequest, m));
    let now = crate::api::now_millis();
    let mut q = super::traces::TraceQuery {
        limit: 100,
        ..Default::default()
    };
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.into_owned();
        let span_ns = |v: &str| {
            crate::api::parse_span(v)
                .map(|ms| ms.max(0) as u64 * 1_000_000)
                .ok_or_else(|| bad(format!("{key} {v:?} is not a span like 250ms or 2s")))
        };
        let time_ns = |v: &str| {
            crate::api::parse_time(v, now)
                .map(|ms| ms.max(0) as u64 * 1_000_000)
                .ok_or_else(|| {
                    bad(format!(
                        "{key} {v:?} is not a time (now, -15m or ms since the epoch)"
                    ))
                })
        };
        match key.as_ref() {
            "service" => q.service = Some(value),
            "operation" => q.operation = Some(value),
            "min_duration" => q.min_duration = Some(span_ns(&value)?),
            "max_duration" => q.max_duration = Some(span_ns(&value)?),
            "error" => {
                q.errors_only = match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(bad(format!("error {value:?} is true or false"))),
                }
            }
            "from" => q.from = Some(time_ns(&value)?),
            "to" => q.to = Some(time_ns(&value)?),
            "limit" => {
                q.limit = value
                    .parse::<usize>()
                    .map_err(|_| bad(format!("limit {value:?} is not a whole number")))?
                    .min(MAX_TRACES)
            }
            other => return Err(bad(format!("unknown parameter {other:?}"))),
        }
    }
    Ok(Json(gw.store.traces(&q)))
}

/// `GET /api/v1/traces/{trace_id}`: its spans, by start time.
async fn trace(
    State(gw): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let id_lower = id.to_ascii_lowercase();
    let (spans, missing) = match &gw.fleet {
        Some(fleet) => fleet.trace(&id_lower).await,
        None => (gw.store.trace(&id_lower), Vec::new()),
    };
    let spans = spans.ok_or_else(|| not_found("trace", &id))?;
    Ok(partial(Json(spans), &missing))
}

#[derive(Serialize, Deserialize)]
struct ServiceInfo {
    name: String,
    operations: Vec<String>,
}

/// `GET /api/v1/services`: every service in the traces held, with its operations.
async fn services(State(gw): State<Arc<Shared>>) -> Response {
    let (mut all, missing): (Vec<ServiceInfo>, _) = match &gw.fleet {
        Some(fleet) => fleet.services::<ServiceInfo>().await,
        None => (
            gw.store
                .services()
                .into_iter()
                .map(|(name, operations)| ServiceInfo { name, operations })
                .collect(),
            Vec::new(),
        ),
    };
    // A hub's agents may name the same service: one entry, every operation.
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all.dedup_by(|later, first| {
        let same = later.name == first.name;
        if same {
            first.operations.append(&mut later.operations);
            first.operations.sort();
            first.operations.dedup();
        }
        same
    });
    partial(Json(all), &missing)
}

/// Points per series a range read returns at most, whatever the step.
const MAX_RANGE_POINTS: i64 = 10_000;

/// `GET /api/v1/metrics/series?name=&tag=k:v&from=&to=&step=`: the series
/// over a time range, a point a step (the mean of the points in it).
async fn metric_series(
    State(gw): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Response, HttpError> {
    let bad = |m: String| HttpError(ApiError::new(ErrorCode::BadRequest, m));
    let now = crate::api::now_millis();
    let mut filter = Filter::default();
    let (mut from, mut to, mut step) = (now - 15 * 60_000, now, None);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let time = |v: &str| {
            crate::api::parse_time(v, now).ok_or_else(|| {
                bad(format!(
                    "{key} {v:?} is not a time (now, -15m, now-1h or ms since the epoch)"
                ))
            })
        };
        match key.as_ref() {
            "name" => filter.names.push(value.into_owned()),
            "tag" => filter.tags.push(value.into_owned()),
            "from" => from = time(&value)?,
            "to" => to = time(&value)?,
            "step" => {
                step = Some(
                    crate::api::parse_span(&value)
                        .filter(|s| *s > 0)
                        .ok_or_else(|| {
                            bad(format!("step {value:?} is not a span like 10s or 1m"))
                        })?,
                )
            }
            other => return Err(bad(format!("unknown parameter {other:?}"))),
        }
    }
    if from > to {
        return Err(bad(format!("from ({from}) is after to ({to})")));
    }
    // By default about 300 points; never more than MAX_RANGE_POINTS.
    let span = (to - from).max(1);
    let step = step
        .unwrap_or_else(|| (span / 300).max(1000))
        .max(span / MAX_RANGE_POINTS);
    let matcher = Matcher::new(&filter).map_err(bad)?;
    let (mut series, mut missing) = match &gw.fleet {
        Some(fleet) => fleet.series(&filter, from, to, step).await,
        None => (gw.store.series_range(&matcher, from, to, step), Vec::new()),
    };
    if let Some(history) = &gw.history {
        let fleet = gw.fleet.is_some();
        match history.range(&filter, from, to, step, fleet).await {
            Ok(old) => series = crate::client::join_history(series, old),
            Err(e) => {
                tracing::warn!("series history: {e}");
                missing.push(format!("prometheus ({e})"));
            }
        }
    }
    let range = Json(SeriesRange {
        from,
        to,
        step,
        series,
    });
    Ok(partial(range, &missing))
}
