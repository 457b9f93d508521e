//! `GET /api/v1/stream`: one WebSocket, many subscriptions.
//!
//! Each connection has one bounded queue of outgoing frames and one writer.
//! Each subscription has a forwarder that reads its topic's broadcast ring,
//! filters and batches events, and waits for room in the connection queue.
//! A client that stops reading therefore stalls only its own forwarders,
//! which fall behind in the shared ring and are told of the gap; a writer
//! that cannot deliver a frame within the write timeout drops the client.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

mod merged;
mod outbox;
mod pump;

use outbox::{Outbox, QUEUE_KIB, encode, frame_len, kib};
use pump::{Framing, Pumped, pump, send_batches, send_source_entries};

use super::Shared;
use super::filter::Matcher;
use super::request::{Actor, HttpError, require_admin};
use super::stats::GatewayStats;
use super::store::Start;
use crate::api::{
    ApiError, ClientMsg, ErrorCode, From, Record, ServerMsg, StartPoint, Topic, now_millis,
};

/// The bounds of one stream connection.
#[derive(Debug, Clone)]
pub struct StreamLimits {
    /// Frames waiting to be written to one connection.
    pub connection_queue: usize,
    /// How long one frame may take to write before the client is dropped.
    pub write_timeout: Duration,
    pub heartbeat: Duration,
    /// A client that sends nothing whole (not even the pong every
    /// WebSocket client answers the gateway's pings with) for this long is
    /// gone, or stuck in a frame it never finishes.
    pub client_silence: Duration,
    /// Events per `event` frame at most.
    pub max_batch: usize,
    /// Subscriptions one connection may hold.
    pub max_subscriptions: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            connection_queue: 64,
            write_timeout: Duration::from_secs(10),
            heartbeat: Duration::from_secs(5),
            client_silence: Duration::from_secs(30),
            max_batch: 1024,
            max_subscriptions: 64,
        }
    }
}

/// Log entries read back from a source for one resume, at most.
const SEEK_LIMIT: usize = 100_000;
/// How often, and how long apart, a resume whose source read has not met
/// the ring yet looks again: a gateway that has just started has not read
/// its sources into the ring, and the lines read back would come twice.
const BRIDGE_TRIES: u32 = 12;
const BRIDGE_WAIT: Duration = Duration::from_millis(250);
/// How long a resume waits for a starting gateway's first read of its
/// log sources.
const PRIME_WAIT: Duration = Duration::from_secs(5);

/// Client messages (and frames: a frame is never buffered past this)
/// larger than this are refused: subscriptions are small.
const MAX_CLIENT_FRAME: usize = 64 * 1024;

/// Stream connections one token may hold open, unless told otherwise.
pub const DEFAULT_STREAMS_PER_TOKEN: usize = 32;

/// A frame this large (a snapshot of a big cluster) leaves megabytes
/// behind once sent.
const LARGE_FRAME: usize = 1 << 20;

/// Open streams per token.
#[derive(Default)]
pub struct PerToken(std::sync::Mutex<HashMap<String, usize>>);

/// One token's place among its streams, given back on drop.
pub struct StreamSlot {
    gw: Arc<Shared>,
    actor: String,
}

impl PerToken {
    fn take(gw: &Arc<Shared>, actor: &str) -> Option<StreamSlot> {
        let mut open = gw.streams.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(actor.to_string()).or_default();
        if *n >= gw.max_streams_per_token {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            gw: gw.clone(),
            actor: actor.to_string(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.gw.streams.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.actor) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.actor);
            }
        }
    }
}

pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(gw): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<super::Peer>,
    Extension(actor): Extension<Actor>,
) -> Result<Response, HttpError> {
    let Some(slot) = PerToken::take(&gw, &actor.0) else {
        GatewayStats::add(&gw.stats.streams_refused, 1);
        return Err(HttpError(ApiError::new(
            ErrorCode::TooMany,
            format!(
                "token {:?} already has {} streams open (--max-streams-per-token); close one first",
                actor.0, gw.max_streams_per_token
            ),
        )));
    };
    Ok(ws
        .max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| serve(socket, gw, peer.0, actor.0, slot)))
}

/// Who a stream belongs to, for the audit trail.
struct Who {
    actor: String,
    peer: String,
}

async fn serve(
    socket: WebSocket,
    gw: Arc<Shared>,
    peer: SocketAddr,
    actor: String,
    _slot: StreamSlot,
) {
    let who = Arc::new(Who {
        actor: actor.clone(),
        peer: peer.to_string(),
    });
    let stats = &gw.stats;
    GatewayStats::add(&stats.clients, 1);
    tracing::info!(%peer, %actor, "stream client connected");
    let (mut sink, mut incoming) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Message>(gw.stream_limits.connection_queue);
    let connection = gw.connections.register(&tx);
    let room = Arc::new(tokio::sync::Semaphore::new(QUEUE_KIB));
    let outbox = Arc::new(Outbox {
        tx,
        room: room.clone(),
    });

    let writer_gw = gw.clone();
    // Control frames (pings, the close) go ahead of the queue of frames.
    let (control, mut control_rx) = mpsc::channel::<Message>(4);
    let mut writer: JoinHandle<&'static str> = tokio::spawn(async move {
        let limits = &writer_gw.stream_limits;
        loop {
            let (message, queued) = tokio::select! {
                biased;
                Some(message) = control_rx.recv() => (message, false),
                frame = rx.recv() => match frame {
                    Some(frame) => {
                        room.add_permits(kib(&frame) as usize);
                        (frame, true)
                    }
                    None => break,
                },
            };
            let len = frame_len(&message);
            let closing = matches!(message, Message::Close(_));
            match tokio::time::timeout(limits.write_timeout, sink.send(message)).await {
                Ok(Ok(())) if closing => return "the gateway closed the stream",
                Ok(Ok(())) if queued => {
                    GatewayStats::add(&writer_gw.stats.frames_sent, 1);
                    GatewayStats::add(&writer_gw.stats.bytes_sent, len as u64);
                    if len >= LARGE_FRAME {
                        crate::memory::release_freed();
                    }
                }
                Ok(Ok(())) => {}
                Ok(Err(_)) => return "the socket closed",
                Err(_) => {
                    GatewayStats::add(&writer_gw.stats.slow_clients_cut, 1);
                    return "the client stopped reading";
                }
            }
        }
        let _ = sink.close().await;
        "the connection ended"
    });

    let mut subs: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut heartbeat = tokio::time::interval(gw.stream_limits.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutdown = gw.shutdown.clone();
    let mut heard = tokio::time::Instant::now();
    let reason = loop {
        tokio::select! {
            _ = super::listen::stopped(&mut shutdown) => {
                // 1001 "going away": the gateway is stopping, not the network.
                let close = axum::extract::ws::CloseFrame {
                    code: axum::extract::ws::close_code::AWAY,
                    reason: "the gateway is shutting down".into(),
                };
                if control.try_send(Message::Close(Some(close))).is_ok() {
                    let _ = tokio::time::timeout(Duration::from_secs(2), &mut writer).await;
                }
                break "the gateway is shutting down";
            }
            why = &mut writer => break why.unwrap_or("the writer failed"),
            _ = heartbeat.tick() => {
                if heard.elapsed() >= gw.stream_limits.client_silence {
                    break "the client sent nothing whole for too long";
                }
                outbox.try_send(encode(&ServerMsg::Heartbeat { ts: now_millis() }));
                let _ = control.try_send(Message::Ping(Default::default()));
            }
            frame = incoming.next() => {
                heard = tokio::time::Instant::now();
                match frame {
                Some(Ok(Message::Text(text))) => {
                    handle_client_msg(&text, &gw, &outbox, &mut subs, &who).await;
                }
                Some(Ok(Message::Binary(_))) => {
                    outbox.try_send(error_msg(None, "binary frames are not part of the stream protocol; send JSON text"));
                }
                Some(Ok(Message::Close(_))) | None => break "the client closed the stream",
                Some(Ok(_)) => {} // ping/pong are answered by the WebSocket layer
                Some(Err(e)) => {
                    tracing::debug!(%peer, "stream read error: {e}");
                    break "a read error";
                }
            }},
        }
    };
    for (_, forwarder) in subs.drain() {
        forwarder.abort();
        GatewayStats::sub(&stats.subscriptions, 1);
    }
    writer.abort();
    gw.connections.remove(connection);
    GatewayStats::sub(&stats.clients, 1);
    tracing::info!(%peer, %actor, "stream client gone: {reason}");
}

fn error_msg(sub: Option<String>, message: impl Into<String>) -> String {
    encode(&ServerMsg::Error {
        sub,
        error: ApiError::new(ErrorCode::BadRequest, message),
    })
}

async fn handle_client_msg(
    text: &str,
    gw: &Arc<Shared>,
    outbox: &Arc<Outbox>,
    subs: &mut HashMap<String, JoinHandle<()>>,
    who: &Arc<Who>,
) {
    let msg = match serde_json::from_str::<ClientMsg>(text) {
        Ok(msg) => msg,
        Err(e) => {
            outbox.try_send(error_msg(None, format!("cannot read that message: {e}")));
            return;
        }
    };
    match msg {
        ClientMsg::Ping => outbox.try_send(encode(&ServerMsg::Pong)),
        ClientMsg::Unsubscribe { sub } => {
            if let Some(forwarder) = subs.remove(&sub) {
                forwarder.abort();
                GatewayStats::sub(&gw.stats.subscriptions, 1);
            }
        }
        ClientMsg::Subscribe {
            sub,
            topic,
            filter,
            from,
            encoding,
        } => {
            let matcher = match Matcher::new(&filter) {
                Ok(m) => m,
                Err(e) => return outbox.try_send(error_msg(Some(sub), e)),
            };
            if topic == Topic::Audit
                && let Err(HttpError(error)) = require_admin(gw, &Actor(who.actor.clone()))
            {
                return outbox.try_send(encode(&ServerMsg::Error {
                    sub: Some(sub),
                    error,
                }));
            }
            if let Some(old) = subs.remove(&sub) {
                old.abort();
                GatewayStats::sub(&gw.stats.subscriptions, 1);
            }
            if subs.len() >= gw.stream_limits.max_subscriptions {
                return outbox.try_send(error_msg(
                    Some(sub),
                    format!(
                        "too many subscriptions on one stream (limit {})",
                        gw.stream_limits.max_subscriptions
                    ),
                ));
            }
            GatewayStats::add(&gw.stats.subscriptions, 1);
            if topic == Topic::Logs
                && let Some(hub) = gw.fleet.clone()
            {
                let follow = hub.follow_logs(*filter, from);
                let forwarder = tokio::spawn(merged::forward(
                    sub.clone(),
                    follow,
                    None,
                    gw.clone(),
                    outbox.clone(),
                ));
                subs.insert(sub, forwarder);
                return;
            }
            #[cfg(feature = "kube")]
            if topic == Topic::Logs
                && let Some(kube) = gw.kube.clone()
            {
                // Pod lines are picked by pod; the rest of the filter
                // (priority, fields, a pattern) holds here.
                let follow = kube.follow_logs((*filter).clone(), from);
                let forwarder = tokio::spawn(merged::forward(
                    sub.clone(),
                    follow,
                    Some(matcher),
                    gw.clone(),
                    outbox.clone(),
                ));
                subs.insert(sub, forwarder);
                return;
            }
            let forwarder = tokio::spawn(forward(
                Framing::new(&sub, topic, encoding),
                topic,
                matcher,
                from,
                gw.clone(),
                outbox.clone(),
                who.clone(),
            ));
            subs.insert(sub, forwarder);
        }
    }
}

/// Feeds one subscription until the connection goes away.
async fn forward(
    framing: Framing,
    topic: Topic,
    matcher: Matcher,
    mut from: From,
    gw: Arc<Shared>,
    outbox: Arc<Outbox>,
    who: Arc<Who>,
) {
    let sub = framing.sub();
    let (mut bridge_tries, mut waited_for_sources) = (0, false);
    loop {
        let subscription = gw.store.subscribe(topic, &matcher, &from);
        let mut rx = subscription.rx;
        let mut seq = subscription.seq;
        let sent = match subscription.start {
            Start::Snapshot { seq, items } => send_snapshot(sub, seq, items, &gw, &outbox).await,
            Start::Replay(missed) => send_batches(&framing, &missed, &matcher, &gw, &outbox).await,
            Start::Seek { .. } if !waited_for_sources => {
                // Likely a gateway that has just started: once its sources
                // are read, the cursor may well be in the ring.
                waited_for_sources = true;
                gw.store.seekers.primed(PRIME_WAIT).await;
                continue;
            }
            Start::Seek { cursor, upto } => {
                let asker = crate::gateway::logs::seek::Asker {
                    actor: &who.actor,
                    source: &who.peer,
                    client: "",
                    route: "stream logs",
                };
                let found =
                    crate::gateway::logs::seek::seek(&gw, &cursor, SEEK_LIMIT, &asker).await;
                let read_back = found.is_ok();
                match found
                    .ok()
                    .and_then(|entries| gw.store.bridge(entries, upto))
                {
                    Some((from_source, from_ring)) => {
                        match send_source_entries(&framing, from_source, &matcher, &gw, &outbox)
                            .await
                        {
                            Ok(()) => {
                                send_batches(&framing, &from_ring, &matcher, &gw, &outbox).await
                            }
                            Err(()) => Err(()),
                        }
                    }
                    None if read_back && bridge_tries < BRIDGE_TRIES => {
                        // The ring may not have caught up with the source
                        // yet: look again with a fresh subscription.
                        bridge_tries += 1;
                        tokio::time::sleep(BRIDGE_WAIT).await;
                        continue;
                    }
                    None => {
                        // Exactly-once is out of reach: start over, saying so.
                        match resync(&outbox, sub).await {
                            Ok(fresh) => from = fresh,
                            Err(()) => return,
                        }
                        continue;
                    }
                }
            }
        };
        if sent.is_err() {
            return;
        }
        match pump(&framing, topic, &matcher, &mut rx, &mut seq, &gw, &outbox).await {
            Pumped::Closed => return,
            Pumped::Resync => match resync(&outbox, sub).await {
                Ok(fresh) => from = fresh,
                Err(()) => return,
            },
        }
    }
}

/// Sends a snapshot in parts of at most `max_batch` items: one frame of a
/// 10,000-task snapshot would be megabytes held at once by the encoder,
/// the queue and the socket's buffers, for every console that connects.
async fn send_snapshot(
    sub: &str,
    seq: u64,
    items: Vec<Record>,
    gw: &Shared,
    outbox: &Outbox,
) -> Result<(), ()> {
    let size = gw.stream_limits.max_batch.max(1);
    let mut items = items.into_iter().peekable();
    loop {
        let part: Vec<Record> = items.by_ref().take(size).collect();
        let more = items.peek().is_some();
        outbox
            .send_msg(&ServerMsg::Snapshot {
                sub: sub.to_string(),
                seq,
                epoch: gw.store.epoch.clone(),
                items: part,
                more,
            })
            .await?;
        if !more {
            return Ok(());
        }
    }
}

/// Tells the client its state is void; a fresh snapshot follows from where
/// this returns.
async fn resync(outbox: &Outbox, sub: &str) -> Result<From, ()> {
    outbox
        .send_msg(&ServerMsg::Resync {
            sub: sub.to_string(),
        })
        .await?;
    Ok(From::Named(StartPoint::Snapshot))
}
