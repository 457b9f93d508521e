//! Exec into a pod through the API server (`pods/exec` on a WebSocket,
//! `v5.channel.k8s.io`, else v4: kube-rs negotiates), as a session the
//! gateway relays like a hub's agent's: the console's exec pane and
//! `day2top exec` need nothing else. The cluster's RBAC decides with the
//! operator's kubeconfig, and its audit sees the session besides ours.

use futures_util::SinkExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::Api;
use kube::api::{AttachParams, TerminalSize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::{Kube, map};
use crate::api::{ApiError, ErrorCode, ExecRequest, ExecSession, ExecStatus, Task};
use crate::client::{ExecConnection, ExecInput, ExecOutput};

/// Output chunks waiting for the relay; past this the pod's output waits.
const QUEUE: usize = 32;

impl Kube {
    /// Starts `request` in the pod of `task`.
    pub async fn exec(
        &self,
        task: &Task,
        request: &ExecRequest,
    ) -> Result<ExecConnection, ApiError> {
        let bad = |m: String| ApiError::new(ErrorCode::BadRequest, m);
        if request.user.is_some() {
            return Err(bad(
                "a pod's exec runs as its container's user: --user is not for Kubernetes".into(),
            ));
        }
        if !request.env.is_empty() {
            return Err(bad(
                "a pod's exec cannot set variables: put them in the command (env NAME=VALUE CMD)"
                    .into(),
            ));
        }
        let (namespace, pod) = map::split_task_id(&task.id)
            .ok_or_else(|| bad(format!("{:?} is not a pod (NAMESPACE/NAME)", task.id)))?;
        let containers: Vec<&str> = task
            .labels
            .get("containers")
            .map(|c| c.split(',').collect())
            .unwrap_or_default();
        let container = match &request.container {
            Some(c) if containers.contains(&c.as_str()) => c.clone(),
            Some(c) => {
                return Err(bad(format!(
                    "pod {} has no container {c:?}; it has {}",
                    task.id,
                    containers.join(", ")
                )));
            }
            None => task
                .labels
                .get("default_container")
                .map(String::as_str)
                .or(containers.first().copied())
                .ok_or_else(|| bad(format!("pod {} lists no container", task.id)))?
                .to_string(),
        };
        let params = AttachParams::default()
            .container(container.clone())
            .stdin(request.interactive)
            .stdout(true)
            .stderr(!request.tty)
            .tty(request.tty);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let attached = api
            .exec(pod, request.cmd.clone(), &params)
            .await
            .map_err(refusal)?;
        let (input, inputs) = mpsc::channel(QUEUE);
        let (outputs, output) = mpsc::channel(QUEUE);
        let size = TerminalSize {
            width: request.cols,
            height: request.rows,
        };
        let pump = tokio::spawn(relay(
            attached,
            inputs,
            outputs,
            request.tty.then_some(size),
        ));
        let session = ExecSession {
            session: String::new(),
            expires_in_ms: 0,
            task_id: task.id.clone(),
            node_id: task.node_id.clone(),
            user: format!("container {container}"),
        };
        Ok(ExecConnection::relayed(session, input, output, pump))
    }
}

/// The API server's refusal, in its words, as the console shows errors.
fn refusal(error: kube::Error) -> ApiError {
    match error {
        kube::Error::Api(status) => {
            let code = match status.code {
                401 | 403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                400 | 422 => ErrorCode::BadRequest,
                _ => ErrorCode::Unavailable,
            };
            ApiError::new(code, format!("Kubernetes: {}", status.message))
        }
        other => ApiError::new(ErrorCode::Unavailable, format!("Kubernetes exec: {other}")),
    }
}

/// Joins the relay's channels to the pod's streams until the command ends.
async fn relay(
    mut attached: kube::api::AttachedProcess,
    mut inputs: mpsc::Receiver<ExecInput>,
    outputs: mpsc::Sender<ExecOutput>,
    size: Option<TerminalSize>,
) {
    let mut stdin = attached.stdin();
    let mut resize = attached.terminal_size();
    if let (Some(size), Some(resize)) = (size, resize.as_mut()) {
        let _ = resize.send(size).await;
    }
    let status = attached.take_status();
    let mut readers = Vec::new();
    let streams = [
        attached.stdout().map(|r| (r, true)),
        attached.stderr().map(|r| (r, false)),
    ];
    for (mut reader, stdout) in streams.into_iter().flatten() {
        let outputs = outputs.clone();
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0; 64 * 1024];
            while let Ok(n @ 1..) = reader.read(&mut buf).await {
                let bytes = buf[..n].to_vec();
                let out = if stdout {
                    ExecOutput::Stdout(bytes)
                } else {
                    ExecOutput::Stderr(bytes)
                };
                if outputs.send(out).await.is_err() {
                    return;
                }
            }
        }));
    }
    let inputs_done = async {
        while let Some(input) = inputs.recv().await {
            match input {
                ExecInput::Stdin(bytes) => {
                    if let Some(w) = stdin.as_mut()
                        && w.write_all(&bytes).await.is_err()
                    {
                        stdin = None;
                    }
                }
                ExecInput::Resize(r) => {
                    if let Some(resize) = resize.as_mut() {
                        let size = TerminalSize {
                            width: r.cols,
                            height: r.rows,
                        };
                        let _ = resize.send(size).await;
                    }
                }
                // Its end, said to the pod (v5's close; v4 has none).
                ExecInput::CloseStdin => {
                    if let Some(mut w) = stdin.take() {
                        let _ = w.shutdown().await;
                    }
                }
            }
        }
    };
    let ended = match status {
        Some(status) => tokio::select! {
            status = status => status,
            // The relay went away: dropping `attached` ends the session.
            _ = inputs_done => return,
        },
        None => None,
    };
    for reader in readers {
        let _ = reader.await;
    }
    let _ = outputs.send(ExecOutput::Exited(exec_status(ended))).await;
    let _ = attached.join().await;
}

/// What the status channel said, as an exit: `Success` is 0, a
/// `NonZeroExitCode` carries its code; anything else is the reason.
fn exec_status(status: Option<Status>) -> ExecStatus {
    let Some(status) = status else {
        return ExecStatus {
            exit_code: None,
            signal: None,
            reason: "the API server closed the session without a status".into(),
        };
    };
    if status.status.as_deref() == Some("Success") {
        return ExecStatus {
            exit_code: Some(0),
            signal: None,
            reason: "exited with 0".into(),
        };
    }
    let code = status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message.as_deref())
        .and_then(|m| m.parse().ok());
    match code {
        Some(code) => ExecStatus {
            exit_code: Some(code),
            signal: None,
            reason: format!("exited with {code}"),
        },
        None => ExecStatus {
            exit_code: None,
            signal: None,
            reason: status
                .message
                .unwrap_or_else(|| "the command failed".into()),
        },
    }
}
