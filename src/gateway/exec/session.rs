//! One attached exec session: frames from the WebSocket to the process,
//! output from the process to the WebSocket, until one side ends. The
//! process never outlives the socket, and the session's end is audited.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};

use super::process::Process;
use super::target::Launch;
use crate::api::{
    AuditRecord, ClientFrame, ExecRequest, ExecStatus, Resize, channel, frame, now_millis,
};
use crate::gateway::Shared;

/// How often the gateway says it is alive.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(10);

/// A client silent this long (no frame, not even a heartbeat) is gone;
/// so is one that takes no output for this long. One number, so a client
/// that neither sends nor reads is cut at the same time either way.
pub(super) const CLIENT_SILENCE: Duration = Duration::from_secs(45);

/// Chunks of stdin waiting for the process.
const STDIN_QUEUE: usize = 64;

/// Output bytes one frame carries at most.
const MAX_FRAME_PAYLOAD: usize = 64 * 1024;

/// How long the client's Close is waited for at the end.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Output a client has not taken for this long ends the session.
const SEND_TIMEOUT: Duration = CLIENT_SILENCE;

/// After the process exits, output still buffered is sent for this long.
const DRAIN: Duration = Duration::from_millis(500);

/// Why a session ended, when the process did not end it.
enum Ended {
    Exited(ExecStatus),
    ClientGone(&'static str),
    Shutdown,
}

pub async fn run(
    socket: WebSocket,
    request: ExecRequest,
    launch: Launch,
    mut record: AuditRecord,
    gw: &Shared,
    id: &str,
) {
    record.start = Some(now_millis());
    gw.audit.started(&record);
    let (mut sink, mut incoming) = socket.split();
    let size = Resize {
        cols: request.cols,
        rows: request.rows,
    };
    let (mut process, mut output) = match Process::spawn(
        &launch,
        &request.cmd,
        request.tty,
        request.interactive,
        size,
        id,
    ) {
        Ok(p) => p,
        Err(e) => {
            let status = ExecStatus {
                exit_code: Some(if e.kind() == std::io::ErrorKind::NotFound {
                    127
                } else {
                    126
                }),
                signal: None,
                reason: format!("could not start {:?}: {e}", request.cmd[0]),
            };
            // Said on stderr too, as a shell says "not found".
            let eol = if request.tty { "\r\n" } else { "\n" };
            let said = format!("day2top: {}{eol}", status.reason);
            let _ = sink
                .send(Message::Binary(
                    frame(channel::STDERR, said.as_bytes()).into(),
                ))
                .await;
            // Audited before the client hears: once it sees the end, so
            // does the audit trail.
            super::audit_end(gw, record, &status, (0, 0));
            let _ = send_status(&mut sink, &status, None).await;
            closing_handshake(&mut incoming).await;
            return;
        }
    };
    tracing::info!(session = id, pid = process.pid, task = %record.task, actor = %record.actor, "exec started");
    // Stdin is written by a task of its own through a bounded queue; when
    // the queue is full the socket is not read until it drains, and output
    // keeps flowing meanwhile. `None` is stdin's end.
    let (stdin_tx, mut stdin_rx) = tokio::sync::mpsc::channel::<Option<Vec<u8>>>(STDIN_QUEUE);
    let mut stdin = process.take_stdin();
    let stdin_task = tokio::spawn(async move {
        while let Some(Some(data)) = stdin_rx.recv().await {
            if stdin.write(&data).await.is_err() {
                break; // the process closed its stdin; output and exit still come
            }
        }
        stdin.close().await;
    });
    let mut blocked: Option<Option<Vec<u8>>> = None;
    let to_stdin = |msg: Option<Vec<u8>>, blocked: &mut Option<Option<Vec<u8>>>| {
        if let Err(tokio::sync::mpsc::error::TrySendError::Full(msg)) = stdin_tx.try_send(msg) {
            *blocked = Some(msg);
        }
    };

    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut heard = Instant::now();
    let mut shutdown = gw.shutdown.clone();
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    let mut exited: Option<(ExecStatus, Instant)> = None;
    let mut output_done = false;
    let ended = loop {
        if let Some((status, at)) = &exited
            && (output_done || at.elapsed() >= DRAIN)
        {
            break Ended::Exited(status.clone());
        }
        let drain_left = exited
            .as_ref()
            .map_or(DRAIN, |(_, at)| DRAIN.saturating_sub(at.elapsed()));
        tokio::select! {
            out = output.recv(), if !output_done => match out {
                Some((ch, data)) => {
                    // A terminal hands over at most 4 KiB a read: what is
                    // already queued on the same channel goes in the same
                    // frame, so a flood costs far fewer frames.
                    let mut payload = frame(ch, &data);
                    let mut next = None;
                    while payload.len() < MAX_FRAME_PAYLOAD {
                        match output.try_recv() {
                            Ok((more_ch, more)) if more_ch == ch => payload.extend_from_slice(&more),
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    bytes_out += payload.len() as u64 - 1;
                    // A client that takes nothing for this long is gone
                    // (a dead peer without a FIN would block here for good).
                    let mut sent = send_within(&mut sink, payload).await;
                    if let (Ok(Ok(())), Some((ch, data))) = (&sent, next) {
                        bytes_out += data.len() as u64;
                        sent = send_within(&mut sink, frame(ch, &data)).await;
                    }
                    match sent {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break Ended::ClientGone("the client went away"),
                        Err(_) => break Ended::ClientGone("the client stopped reading"),
                    }
                }
                None => output_done = true,
            },
            status = process.wait(), if exited.is_none() => exited = Some((status, Instant::now())),
            _ = tokio::time::sleep(drain_left), if exited.is_some() => {}
            permit = stdin_tx.reserve(), if blocked.is_some() => match permit {
                Ok(permit) => permit.send(blocked.take().flatten()),
                Err(_) => blocked = None, // the writer is gone: stdin is closed
            },
            msg = incoming.next(), if blocked.is_none() => {
                heard = Instant::now();
                match msg {
                    Some(Ok(Message::Binary(data))) => match ClientFrame::parse(&data) {
                        ClientFrame::Stdin(bytes) => {
                            bytes_in += bytes.len() as u64;
                            to_stdin(Some(bytes.to_vec()), &mut blocked);
                        }
                        ClientFrame::Resize(size) => process.resize(size),
                        ClientFrame::CloseStdin => to_stdin(None, &mut blocked),
                        ClientFrame::Heartbeat | ClientFrame::Other => {}
                    },
                    Some(Ok(Message::Close(_))) | None => break Ended::ClientGone("the client closed the session"),
                    Some(Err(_)) => break Ended::ClientGone("the connection failed"),
                    Some(Ok(_)) => {} // text, ping and pong carry nothing for the process
                }
            }
            _ = heartbeat.tick() => {
                // While stdin is full the socket is not read, so silence means nothing.
                if blocked.is_none() && heard.elapsed() >= CLIENT_SILENCE {
                    break Ended::ClientGone("the client fell silent");
                }
                if !matches!(send_within(&mut sink, vec![channel::HEARTBEAT]).await, Ok(Ok(()))) {
                    break Ended::ClientGone("the client went away");
                }
            }
            _ = shutdown.changed() => break Ended::Shutdown,
        }
    };
    process.kill_session();
    stdin_task.abort();
    let shutting_down = matches!(ended, Ended::Shutdown);
    let status = match ended {
        Ended::Exited(status) => status,
        Ended::ClientGone(why) => ExecStatus {
            exit_code: None,
            signal: Some(9),
            reason: format!("{why}; the process was killed"),
        },
        Ended::Shutdown => ExecStatus {
            exit_code: None,
            signal: Some(9),
            reason: "the gateway shut down; the process was killed".into(),
        },
    };
    tracing::info!(session = id, reason = %status.reason, "exec ended");
    // Audited before the client hears: once it sees the end, so does the
    // audit trail.
    super::audit_end(gw, record, &status, (bytes_in, bytes_out));
    // 1001 "going away" when the gateway stops, so the client can tell
    // that from a broken network.
    let close = shutting_down.then(|| axum::extract::ws::CloseFrame {
        code: axum::extract::ws::close_code::AWAY,
        reason: "the gateway is shutting down".into(),
    });
    let _ = send_status(&mut sink, &status, close).await;
    closing_handshake(&mut incoming).await;
}

/// Waits (briefly) for the client's Close after ours. Dropping the socket
/// with the client's frames unread would answer them with a reset, and a
/// reset can cost the client the status it has not read yet.
pub(super) async fn closing_handshake(incoming: &mut futures_util::stream::SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(msg)) = incoming.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

pub(super) async fn send_within(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    bytes: Vec<u8>,
) -> Result<Result<(), axum::Error>, tokio::time::error::Elapsed> {
    tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Binary(bytes.into()))).await
}

pub(super) async fn send_status(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    status: &ExecStatus,
    close: Option<axum::extract::ws::CloseFrame>,
) -> Result<(), axum::Error> {
    let json = serde_json::to_vec(status).expect("statuses serialize");
    sink.send(Message::Binary(frame(channel::STATUS, &json).into()))
        .await?;
    sink.send(Message::Close(close)).await?;
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.flush()).await;
    Ok(())
}
