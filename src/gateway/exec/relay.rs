//! Exec through a hub: the operator's token is checked here, the session
//! is asked of the agent that owns the task with the hub's own token (and
//! the operator named), and the two WebSockets are joined. Both ends
//! audit: here the operator and the agent, there the hub and the operator.
//! The agent needs no port but its API's, and no SSH.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;

use super::Target;
use super::session::{CLIENT_SILENCE, HEARTBEAT, closing_handshake, send_status, send_within};
use crate::api::{
    ApiError, AuditRecord, ClientFrame, ErrorCode, ExecRequest, ExecStatus, channel, frame,
    now_millis,
};
use crate::client::{ClientError, ExecInput, ExecOutput};
use crate::fleet::Fleet;
use crate::gateway::Shared;

/// The hub's decision, then the agent's: `Err` with the reason either gave.
pub async fn decide(
    gw: &Shared,
    fleet: &Arc<Fleet>,
    actor: &str,
    task_id: &str,
    body: &[u8],
    record: &mut AuditRecord,
) -> Result<(ExecRequest, Target), ApiError> {
    let forbidden = |m: String| ApiError::new(ErrorCode::Forbidden, m);
    let (request, token) = super::read_request(gw, actor, body, record)?;
    let task = super::task_for(gw, task_id, record)?;
    let (agent, local_id) = fleet.owner(task_id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("task {task_id:?} belongs to no agent of this hub"),
        )
    })?;
    record.agent = agent.name().to_string();
    if task.unreachable_since.is_some() || !agent.is_up() {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            format!(
                "agent {} cannot be reached; try again when it is up",
                agent.name()
            ),
        ));
    }
    super::running(&task)?;
    // The agent decides the user; the operator's token must allow the one
    // asked for, or the task's own.
    let user = request
        .user
        .clone()
        .or_else(|| task.labels.get("user").cloned())
        .unwrap_or_default();
    match user.is_empty() {
        false => token.may_exec(&task, &user),
        true => token.may_exec_into(&task),
    }
    .map_err(forbidden)?;
    super::room_for_a_session(gw)?;
    let client = agent.client.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            format!("agent {} is misconfigured", agent.name()),
        )
    })?;
    let connection = client
        .exec_for(local_id, &request, Some(actor))
        .await
        .map_err(|e| match e {
            ClientError::Api(mut api) => {
                api.error.message = format!("agent {}: {}", agent.name(), api.error.message);
                api
            }
            other => ApiError::new(
                ErrorCode::Unavailable,
                format!("agent {}: {other}", agent.name()),
            ),
        })?;
    record.user = connection.session.user.clone();
    Ok((
        request,
        Target::Relayed(Box::new(connection), "the agent's"),
    ))
}

/// Joins the operator's socket to the session elsewhere (an agent's, a
/// pod's) until either ends.
pub async fn run(
    socket: WebSocket,
    mut connection: crate::client::ExecConnection,
    whose: &str,
    mut record: AuditRecord,
    gw: &Shared,
    id: &str,
) {
    record.start = Some(now_millis());
    gw.audit.started(&record);
    let (mut sink, mut incoming) = socket.split();
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut heard = Instant::now();
    let mut shutdown = gw.shutdown.clone();
    let status = loop {
        tokio::select! {
            out = connection.output.recv() => {
                let (channel, bytes) = match out {
                    Some(ExecOutput::Stdout(b)) => (channel::STDOUT, b),
                    Some(ExecOutput::Stderr(b)) => (channel::STDERR, b),
                    Some(ExecOutput::Exited(status)) => break status,
                    Some(ExecOutput::Lost(why)) => break lost(whose, &why),
                    None => break lost(whose, "it ended"),
                };
                bytes_out += bytes.len() as u64;
                if !matches!(send_within(&mut sink, frame(channel, &bytes)).await, Ok(Ok(()))) {
                    break gone("the client stopped reading");
                }
            }
            msg = incoming.next() => {
                heard = Instant::now();
                let input = match msg {
                    Some(Ok(Message::Binary(data))) => match ClientFrame::parse(&data) {
                        ClientFrame::Stdin(bytes) => {
                            bytes_in += bytes.len() as u64;
                            ExecInput::Stdin(bytes.to_vec())
                        }
                        ClientFrame::Resize(size) => ExecInput::Resize(size),
                        ClientFrame::CloseStdin => ExecInput::CloseStdin,
                        ClientFrame::Heartbeat | ClientFrame::Other => continue,
                    },
                    Some(Ok(Message::Close(_))) | None => break gone("the client closed the session"),
                    Some(Err(_)) => break gone("the connection failed"),
                    Some(Ok(_)) => continue,
                };
                // Waiting here is how a full stdin at the agent slows the client.
                if connection.input.send(input).await.is_err() {
                    break lost(whose, "it ended");
                }
            }
            _ = heartbeat.tick() => {
                if heard.elapsed() >= CLIENT_SILENCE {
                    break gone("the client fell silent");
                }
                if !matches!(send_within(&mut sink, vec![channel::HEARTBEAT]).await, Ok(Ok(()))) {
                    break gone("the client went away");
                }
            }
            _ = shutdown.changed() => break gone("the hub shut down"),
        }
    };
    // Dropping the agent's session closes it there; the agent kills the
    // process if it still runs and audits the end on its side.
    drop(connection);
    tracing::info!(session = id, reason = %status.reason, "relayed exec ended");
    super::audit_end(gw, record, &status, (bytes_in, bytes_out));
    let _ = send_status(&mut sink, &status, None).await;
    closing_handshake(&mut incoming).await;
}

fn gone(why: &str) -> ExecStatus {
    ExecStatus {
        exit_code: None,
        signal: Some(9),
        reason: format!("{why}; the process was killed"),
    }
}

fn lost(whose: &str, why: &str) -> ExecStatus {
    ExecStatus {
        exit_code: None,
        signal: None,
        reason: format!("{whose} session broke: {why}"),
    }
}
