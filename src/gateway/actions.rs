//! Changes asked of a Kubernetes cluster: `POST /api/v1/tasks/{id}/restart`
//! (the exec scope and an `exec_tasks` pattern that matches the pod, as
//! for a shell in it) and `POST /api/v1/nodes/{id}/cordon` or `/uncordon`
//! (admin). Each is audited, allowed or not; the cluster's RBAC decides
//! after ours.

use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;

use super::request::{Actor, HttpError, require_admin, user_agent};
use super::{Peer, Scope, Shared};
use crate::api::{ApiError, AuditKind, AuditRecord, Decision, ErrorCode};

/// What an action answers: what was done.
#[derive(serde::Serialize)]
pub struct Done {
    pub done: String,
}

fn record(actor: &Actor, peer: &Peer, headers: &HeaderMap, what: &str) -> AuditRecord {
    let mut record = AuditRecord::new(
        AuditKind::Action,
        Decision::Deny,
        &actor.0,
        &peer.0.to_string(),
    );
    record.client = user_agent(headers);
    record.cmd = vec![what.to_string()];
    record
}

/// Audits how it went, and answers.
fn finish(
    gw: &Shared,
    mut record: AuditRecord,
    outcome: Result<String, ApiError>,
) -> Result<Json<Done>, HttpError> {
    match outcome {
        Ok(done) => {
            record.decision = Decision::Allow;
            record.reason = done.clone();
            gw.audit.record(record);
            Ok(Json(Done { done }))
        }
        Err(error) => {
            record.reason = error.error.message.clone();
            gw.audit.record(record);
            Err(HttpError(error))
        }
    }
}

fn not_kube() -> ApiError {
    ApiError::new(
        ErrorCode::BadRequest,
        "restart and cordon are for a Kubernetes cluster (a gateway started with --kube)",
    )
}

pub async fn restart(
    State(gw): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    axum::Extension(actor): axum::Extension<Actor>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Done>, HttpError> {
    let mut record = record(&actor, &peer, &headers, "restart");
    record.task = task_id.clone();
    let outcome = async {
        let token = gw
            .tokens
            .named(&actor.0)
            .filter(|t| t.allows(Scope::Exec))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Forbidden,
                    format!("token {:?} lacks the exec scope", actor.0),
                )
            })?;
        let (_, task) = gw.store.task(&task_id).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("no task with id {task_id:?}"))
        })?;
        record.node = task.node_id.clone();
        token
            .may_exec_into(&task)
            .map_err(|m| ApiError::new(ErrorCode::Forbidden, m))?;
        #[cfg(feature = "kube")]
        if let Some(kube) = &gw.kube {
            kube.restart_pod(&task).await?;
            return Ok(format!(
                "pod {task_id} deleted: its controller starts a new one"
            ));
        }
        Err(not_kube())
    }
    .await;
    finish(&gw, record, outcome)
}

/// `POST /api/v1/nodes/{id}/cordon` and `…/uncordon`.
pub async fn cordon(
    State(gw): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    axum::Extension(actor): axum::Extension<Actor>,
    Path((node, what)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Done>, HttpError> {
    let cordon = match what.as_str() {
        "cordon" => true,
        "uncordon" => false,
        _ => {
            return Err(HttpError(ApiError::new(
                ErrorCode::NotFound,
                format!("no action {what:?} on a node: cordon or uncordon"),
            )));
        }
    };
    let mut record = record(&actor, &peer, &headers, &what);
    record.node = node.clone();
    let outcome = async {
        require_admin(&gw, &actor).map_err(|HttpError(e)| e)?;
        #[cfg(feature = "kube")]
        if let Some(kube) = &gw.kube {
            kube.cordon(&node, cordon).await?;
            return Ok(format!("node {node} {what}ed"));
        }
        let _ = (&node, cordon);
        Err(not_kube())
    }
    .await;
    finish(&gw, record, outcome)
}
