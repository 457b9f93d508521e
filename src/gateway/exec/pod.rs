//! Exec into a Kubernetes pod: the gateway's token decides first (scope,
//! `exec_tasks`), then the cluster's RBAC with the operator's kubeconfig
//! when the API server is asked; its refusal reaches the console in its
//! own words. The session is relayed like an agent's, and audited here as
//! well as by the cluster.

use super::Target;
use crate::api::{ApiError, AuditRecord, ErrorCode, ExecRequest};
use crate::gateway::Shared;

pub async fn decide(
    gw: &Shared,
    actor: &str,
    task_id: &str,
    body: &[u8],
    record: &mut AuditRecord,
) -> Result<(ExecRequest, Target), ApiError> {
    let (request, token) = super::read_request(gw, actor, body, record)?;
    let task = super::task_for(gw, task_id, record)?;
    super::running(&task)?;
    token
        .may_exec_into(&task)
        .map_err(|m| ApiError::new(ErrorCode::Forbidden, m))?;
    super::room_for_a_session(gw)?;
    let kube = gw
        .kube
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::Unavailable, "this gateway watches no cluster"))?;
    record.agent = format!("kubernetes {}", kube.context);
    let connection = kube.exec(&task, &request).await?;
    record.user = connection.session.user.clone();
    Ok((request, Target::Relayed(Box::new(connection), "the pod's")))
}
