//! The client side of an exec session: ask for it, attach its WebSocket,
//! and turn frames into input and output the console pane and the
//! `day2top exec` command both use.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::{Client, ClientError};
use crate::api::{ExecRequest, ExecSession, ExecStatus, GatewayFrame, Resize, channel, frame};

/// What the console sends to the process.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecInput {
    Stdin(Vec<u8>),
    Resize(Resize),
    /// Stdin is at its end (EOF).
    CloseStdin,
}

/// What comes back.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecOutput {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    /// The process ended; nothing follows.
    Exited(ExecStatus),
    /// The connection broke before the process's status arrived.
    Lost(String),
}

/// How often the client says it is alive (the gateway gives up after 45 s).
const HEARTBEAT: Duration = Duration::from_secs(10);

/// Output chunks waiting for the console; past this the socket is not
/// read, so a flood of output slows the process, not the console.
const OUTPUT_QUEUE: usize = 64;

/// An attached session. Dropping it closes the socket, and the gateway
/// kills the process.
pub struct ExecConnection {
    pub session: ExecSession,
    pub input: mpsc::Sender<ExecInput>,
    pub output: mpsc::Receiver<ExecOutput>,
    pump: JoinHandle<()>,
}

impl ExecConnection {
    /// A session served by `pump` (a Kubernetes pod's exec, relayed like an
    /// agent's): what is sent on `input` goes to it, what it says comes on
    /// `output`; dropping the connection stops `pump`.
    pub fn relayed(
        session: ExecSession,
        input: mpsc::Sender<ExecInput>,
        output: mpsc::Receiver<ExecOutput>,
        pump: JoinHandle<()>,
    ) -> ExecConnection {
        ExecConnection {
            session,
            input,
            output,
            pump,
        }
    }
}

impl Drop for ExecConnection {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

impl Client {
    /// Asks for a session in `task` and attaches to it.
    pub async fn exec(
        &self,
        task: &str,
        request: &ExecRequest,
    ) -> Result<ExecConnection, ClientError> {
        self.exec_for(task, request, None).await
    }

    /// The same, asked by a hub for an operator, whom the agent's audit
    /// record names.
    pub async fn exec_for(
        &self,
        task: &str,
        request: &ExecRequest,
        operator: Option<&str>,
    ) -> Result<ExecConnection, ClientError> {
        self.refuse_while_sharing("exec")?;
        let path = format!(
            "/api/v1/tasks/{}/exec",
            form_urlencoded::byte_serialize(task.as_bytes()).collect::<String>()
        );
        let headers: Vec<(&str, &str)> = operator
            .map(|o| (crate::api::OPERATOR_HEADER, o))
            .into_iter()
            .collect();
        let session: ExecSession = self.post_with(&path, request, &headers).await?;
        let socket = super::stream::connect(
            &self.endpoint,
            &self.tls,
            &format!("/api/v1/exec/{}", session.session),
        )
        .await
        .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        let (input, inputs) = mpsc::channel(256);
        let (outputs, output) = mpsc::channel(OUTPUT_QUEUE);
        let pump = tokio::spawn(pump(socket, inputs, outputs));
        Ok(ExecConnection {
            session,
            input,
            output,
            pump,
        })
    }
}

/// Reads the socket into `outputs`, while a task of its own writes
/// `inputs` and heartbeats to it: neither direction waits for the other,
/// so a process that does not read its stdin cannot stop its output.
async fn pump(
    socket: super::stream::Socket,
    inputs: mpsc::Receiver<ExecInput>,
    outputs: mpsc::Sender<ExecOutput>,
) {
    let (sink, mut incoming) = socket.split();
    // Aborted with the pump, however it ends: the writer holds half the
    // socket, and the socket must close when the session is dropped.
    let writer = AbortOnDrop(tokio::spawn(write_inputs(sink, inputs)));
    let lost = loop {
        let out = match incoming.next().await {
            Some(Ok(Message::Binary(data))) => match GatewayFrame::parse(&data) {
                GatewayFrame::Stdout(bytes) => ExecOutput::Stdout(bytes.to_vec()),
                GatewayFrame::Stderr(bytes) => ExecOutput::Stderr(bytes.to_vec()),
                GatewayFrame::Status(status) => {
                    drop(writer);
                    let _ = outputs.send(ExecOutput::Exited(status)).await;
                    return;
                }
                GatewayFrame::Other => continue,
            },
            Some(Ok(Message::Close(frame))) => {
                break match frame {
                    Some(f) if !f.reason.is_empty() => {
                        format!("the gateway closed the session: {}", f.reason)
                    }
                    _ => "the gateway closed the session without a status".to_string(),
                };
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => break format!("the connection failed: {}", super::error_chain(&e)),
            None => break "the connection ended without a status".to_string(),
        };
        if outputs.send(out).await.is_err() {
            break String::new(); // the console closed the session
        }
    };
    drop(writer);
    let _ = outputs.send(ExecOutput::Lost(lost)).await;
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type Sink = futures_util::stream::SplitSink<super::stream::Socket, Message>;

async fn write_inputs(mut sink: Sink, mut inputs: mpsc::Receiver<ExecInput>) {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut inputs_open = true;
    loop {
        let bytes = tokio::select! {
            input = inputs.recv(), if inputs_open => match input {
                Some(ExecInput::Stdin(data)) => frame(channel::STDIN, &data),
                Some(ExecInput::Resize(size)) => frame(
                    channel::RESIZE,
                    &serde_json::to_vec(&size).expect("sizes serialize"),
                ),
                Some(ExecInput::CloseStdin) => vec![channel::CLOSE, channel::STDIN],
                None => {
                    inputs_open = false;
                    continue;
                }
            },
            _ = heartbeat.tick() => vec![channel::HEARTBEAT],
        };
        if sink.send(Message::Binary(bytes.into())).await.is_err() {
            return; // the reader sees the connection fail
        }
    }
}
