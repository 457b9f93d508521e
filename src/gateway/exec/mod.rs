//! Exec sessions: `POST /api/v1/tasks/{id}/exec` decides (scope, task
//! pattern, user) and hands back a one-time session id bound to the
//! token; `GET /api/v1/exec/{session}` attaches a WebSocket to a new
//! process. Every decision and every session's end is audited.

mod cgroup;
pub use cgroup::remove_base as remove_cgroups;
#[cfg(feature = "kube")]
mod pod;
mod process;
mod relay;
mod session;
mod target;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::request::{Actor, HttpError, operator, user_agent};
use crate::api::{
    ApiError, AuditKind, AuditRecord, Decision, ErrorCode, ExecRequest, ExecSession, ExecStatus,
    Task, now_millis,
};
use target::Launch;

/// How long a session id may wait to be attached, unless configured.
pub const PENDING_TTL: Duration = Duration::from_secs(30);

/// Sessions (waiting and running) a gateway holds at most.
const MAX_SESSIONS: usize = 64;

/// Bytes a client frame may hold (a large paste).
const MAX_CLIENT_FRAME: usize = 1 << 20;

/// Where an allowed session runs.
enum Target {
    /// A process on this host.
    Local(Launch),
    /// A session elsewhere, to relay: a hub's agent's, a Kubernetes
    /// pod's; and whose it is, for what the operator reads when it breaks.
    Relayed(Box<crate::client::ExecConnection>, &'static str),
}

struct Pending {
    token: String,
    request: ExecRequest,
    target: Target,
    /// The audit record so far: who, from where, what, where.
    record: AuditRecord,
    expires: Instant,
}

enum Slot {
    Waiting(Box<Pending>),
    /// Attached: a second attach is refused while it runs.
    Running,
}

pub struct Sessions {
    slots: Mutex<HashMap<String, Slot>>,
    ttl: Duration,
}

impl Sessions {
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            slots: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops session ids nobody attached in time; returns their records.
    fn expire(&self) -> Vec<AuditRecord> {
        let now = Instant::now();
        let mut slots = self.lock();
        let expired: Vec<String> = slots
            .iter()
            .filter(|(_, s)| matches!(s, Slot::Waiting(p) if p.expires <= now))
            .map(|(id, _)| id.clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|id| match slots.remove(&id) {
                Some(Slot::Waiting(p)) => {
                    let mut record = p.record;
                    record.reason = "allowed, but never attached (the session id expired)".into();
                    record.end = Some(now_millis());
                    Some(record)
                }
                _ => None,
            })
            .collect()
    }

    fn finish(&self, id: &str) {
        self.lock().remove(id);
    }

    pub fn running(&self) -> usize {
        self.lock()
            .values()
            .filter(|s| matches!(s, Slot::Running))
            .count()
    }
}

/// Drops the session ids nobody attached in time, auditing each.
fn expire(gw: &Shared) {
    for record in gw.exec.expire() {
        gw.audit.record(record);
    }
}

/// Expires unattached session ids every few seconds.
pub async fn sweep(gw: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        expire(&gw);
    }
}

/// What the audit needs to know of a request's origin.
fn origin(kind: AuditKind, actor: &str, peer: &super::Peer, headers: &HeaderMap) -> AuditRecord {
    let mut record = AuditRecord::new(kind, Decision::Deny, actor, &peer.0.to_string());
    record.client = user_agent(headers);
    record.operator = operator(headers);
    record
}

/// `POST /api/v1/tasks/{id}/exec`.
pub async fn start(
    State(gw): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<super::Peer>,
    Extension(actor): Extension<Actor>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut record = origin(AuditKind::Exec, &actor.0, &peer, &headers);
    record.task = task_id.clone();
    let decided = match gw.fleet.clone() {
        Some(fleet) => relay::decide(&gw, &fleet, &actor.0, &task_id, &body, &mut record).await,
        #[cfg(feature = "kube")]
        None if gw.kube.is_some() => pod::decide(&gw, &actor.0, &task_id, &body, &mut record).await,
        None => decide(&gw, &actor.0, &task_id, &body, &mut record)
            .map(|(request, launch)| (request, Target::Local(launch))),
    };
    match decided {
        Ok((request, target)) => {
            let session = super::store::random_hex(16);
            record.id = gw.audit.next_id();
            record.decision = Decision::Allow;
            record.session = session.clone();
            let answer = ExecSession {
                session: session.clone(),
                expires_in_ms: gw.exec.ttl.as_millis() as u64,
                task_id: record.task.clone(),
                node_id: record.node.clone(),
                user: record.user.clone(),
            };
            let pending = Pending {
                token: actor.0.clone(),
                request,
                target,
                record,
                expires: Instant::now() + gw.exec.ttl,
            };
            gw.exec
                .lock()
                .insert(session, Slot::Waiting(Box::new(pending)));
            (StatusCode::CREATED, Json(answer)).into_response()
        }
        Err(error) => {
            record.reason = error.error.message.clone();
            gw.audit.record(record);
            HttpError(error).into_response()
        }
    }
}

/// An exec request read, into the record, and the asker's token if it
/// has the exec scope: the first steps of a decision, here or at a hub.
fn read_request<'a>(
    gw: &'a Shared,
    actor: &str,
    body: &[u8],
    record: &mut AuditRecord,
) -> Result<(ExecRequest, &'a super::Token), ApiError> {
    let forbidden = |m: String| ApiError::new(ErrorCode::Forbidden, m);
    let request: ExecRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("cannot read the exec request: {e}"),
        )
    })?;
    record.cmd = request
        .cmd
        .iter()
        .map(|a| a.chars().take(1024).collect())
        .collect();
    record.tty = request.tty;
    record.env = request.env.keys().cloned().collect();
    let token = gw
        .tokens
        .named(actor)
        .ok_or_else(|| forbidden("the token is gone".into()))?;
    if !token.allows(super::Scope::Exec) {
        return Err(forbidden(format!("token {actor:?} lacks the exec scope")));
    }
    Ok((request, token))
}

/// The task an exec asks for, its node in the record: the first step of a
/// decision, here, at a hub and on a cluster alike.
fn task_for(gw: &Shared, task_id: &str, record: &mut AuditRecord) -> Result<Task, ApiError> {
    let task: Task = gw.store.task(task_id).map(|(_, t)| t).ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, format!("no task with id {task_id:?}"))
    })?;
    record.node = task.node_id.clone();
    Ok(task)
}

/// Exec is into a running task only.
fn running(task: &Task) -> Result<(), ApiError> {
    if task.state == crate::api::TaskState::Running {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::BadRequest,
        format!("task {} is {}, not running", task.id, task.state.as_str()),
    ))
}

/// Writes a session's end into its record and the audit trail.
fn audit_end(gw: &Shared, mut record: AuditRecord, status: &ExecStatus, bytes: (u64, u64)) {
    record.end = Some(now_millis());
    record.exit_code = status.exit_code;
    record.signal = status.signal;
    record.reason = status.reason.clone();
    (record.bytes_in, record.bytes_out) = bytes;
    gw.audit.record(record);
}

/// The decision on an exec request, filling in the record as it learns.
fn decide(
    gw: &Shared,
    actor: &str,
    task_id: &str,
    body: &[u8],
    record: &mut AuditRecord,
) -> Result<(ExecRequest, Launch), ApiError> {
    let bad = |m: String| ApiError::new(ErrorCode::BadRequest, m);
    let forbidden = |m: String| ApiError::new(ErrorCode::Forbidden, m);
    let (request, token) = read_request(gw, actor, body, record)?;
    target::check_request(&request).map_err(bad)?;
    let task = task_for(gw, task_id, record)?;
    running(&task)?;
    let demo = gw.store.source_kind() == "demo";
    let user = target::user_for(&task, demo, request.user.as_deref()).map_err(bad)?;
    record.user = user.name.clone();
    token.may_exec(&task, &user.name).map_err(forbidden)?;
    let launch = target::launch(&task, demo, &user, &request).map_err(forbidden)?;
    room_for_a_session(gw)?;
    Ok((request, launch))
}

/// Whether a session may start now: the audit can be written, and the
/// gateway holds fewer than [`MAX_SESSIONS`].
fn room_for_a_session(gw: &Shared) -> Result<(), ApiError> {
    if !gw.audit.healthy() {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "the audit log cannot be written, so exec is refused; see the gateway's log",
        ));
    }
    expire(gw);
    if gw.exec.lock().len() >= MAX_SESSIONS {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            format!("the gateway holds {MAX_SESSIONS} exec sessions already; close one"),
        ));
    }
    Ok(())
}

/// `GET /api/v1/exec/{session}`: the session's WebSocket.
pub async fn attach(
    State(gw): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<super::Peer>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    expire(&gw);
    let pending = {
        let mut slots = gw.exec.lock();
        match slots.remove(&id) {
            None => Err(ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "exec session {id:?} is unknown or expired; a session must be attached within {} ms of its request",
                    gw.exec.ttl.as_millis()
                ),
            )),
            Some(Slot::Running) => {
                slots.insert(id.clone(), Slot::Running);
                Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("exec session {id:?} is already attached"),
                ))
            }
            Some(Slot::Waiting(p)) if p.token != actor.0 => {
                slots.insert(id.clone(), Slot::Waiting(p));
                Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!("exec session {id:?} belongs to another token"),
                ))
            }
            Some(Slot::Waiting(p)) => {
                slots.insert(id.clone(), Slot::Running);
                Ok(p)
            }
        }
    };
    match pending {
        Ok(pending) => {
            // The session for whichever of the two ends comes: it runs, or
            // a failed handshake frees its slot and says so in the audit.
            let pending = Arc::new(Mutex::new(Some(pending)));
            let (gw2, id2, failed) = (gw.clone(), id.clone(), pending.clone());
            ws.max_message_size(MAX_CLIENT_FRAME)
                .max_frame_size(MAX_CLIENT_FRAME)
                .on_failed_upgrade(move |e| {
                    tracing::info!(session = %id2, "exec attach failed: {e}");
                    gw2.exec.finish(&id2);
                    if let Some(p) = failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
                        let mut record = p.record;
                        record.reason = format!("allowed, but the WebSocket handshake failed: {e}");
                        record.end = Some(now_millis());
                        gw2.audit.record(record);
                    }
                })
                .on_upgrade(move |socket| async move {
                    let taken = pending.lock().unwrap_or_else(|p| p.into_inner()).take();
                    if let Some(p) = taken {
                        match p.target {
                            Target::Local(launch) => {
                                session::run(socket, p.request, launch, p.record, &gw, &id).await
                            }
                            Target::Relayed(connection, whose) => {
                                relay::run(socket, *connection, whose, p.record, &gw, &id).await
                            }
                        }
                    }
                    gw.exec.finish(&id);
                })
        }
        Err(error) => {
            let mut record = origin(AuditKind::Exec, &actor.0, &peer, &headers);
            record.session = id;
            record.reason = format!("attach refused: {}", error.error.message);
            gw.audit.record(record);
            HttpError(error).into_response()
        }
    }
}
