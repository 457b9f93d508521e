//! Exec sessions on the wire: the request that opens one, and the binary
//! frames of its WebSocket, `[channel][payload]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /api/v1/tasks/{id}/exec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecRequest {
    /// The argument vector; never passed through a shell by the gateway.
    pub cmd: Vec<String>,
    /// Run in a pseudo-terminal (stdout and stderr then arrive together).
    #[serde(default)]
    pub tty: bool,
    /// Forward stdin; without it stdin is closed at once.
    #[serde(default)]
    pub interactive: bool,
    #[serde(default = "default_cols")]
    pub cols: u16,
    #[serde(default = "default_rows")]
    pub rows: u16,
    /// Variables set over the task's environment. Only their names are audited.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Run as this user instead of the task's own (needs a grant, and a
    /// gateway running as root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A Kubernetes pod's container (default: the pod's default container,
    /// else its first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

fn default_cols() -> u16 {
    80
}

fn default_rows() -> u16 {
    24
}

/// The answer to an exec request: a one-time session to attach to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecSession {
    /// Attach with `GET /api/v1/exec/{session}` (WebSocket), with the same token.
    pub session: String,
    /// Unused, the session id expires after this long.
    pub expires_in_ms: u64,
    pub task_id: String,
    pub node_id: String,
    /// Who the command runs as.
    pub user: String,
}

/// The channels of an exec WebSocket's binary frames.
/// The header a hub names the operator in when it asks an agent for a
/// session; the agent records it beside the hub's own token name.
pub const OPERATOR_HEADER: &str = "x-day2top-operator";

pub mod channel {
    /// Client → gateway: bytes for the process's stdin.
    pub const STDIN: u8 = 0;
    pub const STDOUT: u8 = 1;
    pub const STDERR: u8 = 2;
    /// Gateway → client, once, last: an [`ExecStatus`](super::ExecStatus) as JSON.
    pub const STATUS: u8 = 3;
    /// Client → gateway: a [`Resize`](super::Resize) as JSON.
    pub const RESIZE: u8 = 4;
    /// Either way, empty: the other end is alive.
    pub const HEARTBEAT: u8 = 5;
    /// `[255, channel]`: no more data on that channel (stdin EOF).
    pub const CLOSE: u8 = 255;
}

/// How a session's process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecStatus {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Why it ended, in words: "exited", "killed by signal 9", "could not start: …".
    pub reason: String,
}

impl ExecStatus {
    /// The status a shell would report: the exit code, or 128 + the signal.
    pub fn shell_code(&self) -> i32 {
        match (self.exit_code, self.signal) {
            (Some(code), _) => code,
            (None, Some(signal)) => 128 + signal,
            (None, None) => 255,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resize {
    pub cols: u16,
    pub rows: u16,
}

/// A frame from the client, as the gateway reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame<'a> {
    Stdin(&'a [u8]),
    Resize(Resize),
    /// `[255, 0]`: stdin's end.
    CloseStdin,
    Heartbeat,
    /// A frame this side does not act on: an unknown channel, a resize it
    /// cannot read, an empty frame. Ignored, never fatal.
    Other,
}

impl ClientFrame<'_> {
    pub fn parse(frame: &[u8]) -> ClientFrame<'_> {
        match frame.split_first() {
            Some((&channel::STDIN, bytes)) => ClientFrame::Stdin(bytes),
            Some((&channel::RESIZE, json)) => serde_json::from_slice(json)
                .map(ClientFrame::Resize)
                .unwrap_or(ClientFrame::Other),
            Some((&channel::CLOSE, [channel::STDIN])) => ClientFrame::CloseStdin,
            Some((&channel::HEARTBEAT, _)) => ClientFrame::Heartbeat,
            _ => ClientFrame::Other,
        }
    }
}

/// A frame from the gateway, as the client reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayFrame<'a> {
    Stdout(&'a [u8]),
    Stderr(&'a [u8]),
    /// The end; a status the client cannot read still ends the session.
    Status(ExecStatus),
    /// Heartbeats, and channels this side does not know.
    Other,
}

impl GatewayFrame<'_> {
    pub fn parse(frame: &[u8]) -> GatewayFrame<'_> {
        match frame.split_first() {
            Some((&channel::STDOUT, bytes)) => GatewayFrame::Stdout(bytes),
            Some((&channel::STDERR, bytes)) => GatewayFrame::Stderr(bytes),
            Some((&channel::STATUS, json)) => {
                GatewayFrame::Status(serde_json::from_slice(json).unwrap_or_else(|e| ExecStatus {
                    exit_code: None,
                    signal: None,
                    reason: format!("the gateway sent an unreadable status: {e}"),
                }))
            }
            _ => GatewayFrame::Other,
        }
    }
}

/// A frame: its channel byte, then the payload.
pub fn frame(channel: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(channel);
    out.extend_from_slice(payload);
    out
}
