//! What an operator changes in a cluster from the console, as k9s lets
//! them: restart a pod (delete it, and its controller makes a new one),
//! cordon or uncordon a node. The cluster's RBAC decides with the
//! operator's kubeconfig; its refusal is passed on in its words.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::DeleteParams;

use super::{Kube, map};
use crate::api::{ApiError, ErrorCode, Task};

/// The API server's refusal, as an API error of ours.
fn refused(error: kube::Error) -> ApiError {
    match error {
        kube::Error::Api(status) => {
            let code = match status.code {
                401 | 403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                409 | 400 | 422 => ErrorCode::BadRequest,
                _ => ErrorCode::Unavailable,
            };
            ApiError::new(code, format!("Kubernetes: {}", status.message))
        }
        other => ApiError::new(ErrorCode::Unavailable, format!("Kubernetes: {other}")),
    }
}

impl Kube {
    /// Deletes the pod of `task` so that its controller starts a new one. A
    /// pod of no controller would be gone for good: that is refused.
    pub async fn restart_pod(&self, task: &Task) -> Result<(), ApiError> {
        let bad = |m: String| ApiError::new(ErrorCode::BadRequest, m);
        let (namespace, pod) = map::split_task_id(&task.id)
            .ok_or_else(|| bad(format!("{:?} is not a pod (NAMESPACE/NAME)", task.id)))?;
        if task.group.starts_with("Pod/") || task.group.starts_with("Node/") {
            return Err(bad(format!(
                "pod {} has no controller to start it again ({}): deleting it would not restart it",
                task.id, task.group
            )));
        }
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        api.delete(pod, &DeleteParams::default())
            .await
            .map(|_| ())
            .map_err(refused)
    }

    /// Marks a node unschedulable (`cordon`) or schedulable again.
    pub async fn cordon(&self, node: &str, cordon: bool) -> Result<(), ApiError> {
        let api: Api<Node> = Api::all(self.client.clone());
        let done = if cordon {
            api.cordon(node).await
        } else {
            api.uncordon(node).await
        };
        done.map(|_| ()).map_err(refused)
    }
}
