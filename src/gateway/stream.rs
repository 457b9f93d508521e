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
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::Shared;
use super::filter::Matcher;
use super::request::{Actor, HttpError, require_admin};
use super::stats::GatewayStats;
use super::store::Start;
use super::topic::Published;
use crate::api::{
    ApiError, ClientMsg, ErrorCode, From, Op, Record, ServerMsg, StartPoint, Topic, now_millis,
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

/// Bytes waiting in one connection's queue at most (in KiB, a frame
/// counting at least one): with frames of up to 1,024 events, a queue
/// bounded by frames alone could hold tens of megabytes per console.
pub const QUEUE_KIB: usize = 4096;

/// What a frame takes of a queue's byte budget.
fn kib(frame: &str) -> u32 {
    (frame.len() / 1024 + 1).min(QUEUE_KIB) as u32
}

/// A connection's queue of outgoing frames, bounded in frames and in bytes
/// (`room`: KiB left; the writer gives a frame's back once it is written).
struct Outbox {
    tx: mpsc::Sender<Utf8Bytes>,
    room: Arc<tokio::sync::Semaphore>,
}

impl Outbox {
    /// Waits for room: this is where a slow client holds up its forwarders.
    async fn send(&self, frame: String) -> Result<(), ()> {
        let permit = self.room.acquire_many(kib(&frame)).await.map_err(|_| ())?;
        self.tx.send(frame.into()).await.map_err(|_| ())?;
        permit.forget();
        Ok(())
    }

    /// For heartbeats and replies: dropped if the queue is full, as a
    /// client that far behind will be cut off anyway.
    fn try_send(&self, frame: String) {
        if let Ok(permit) = self.room.try_acquire_many(kib(&frame))
            && self.tx.try_send(frame.into()).is_ok()
        {
            permit.forget();
        }
    }

    async fn send_msg(&self, msg: &ServerMsg) -> Result<(), ()> {
        self.send(encode(msg)).await
    }
}

fn encode(msg: &ServerMsg) -> String {
    serde_json::to_string(msg).expect("server messages always serialize")
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
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(gw.stream_limits.connection_queue);
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
            let (message, text) = tokio::select! {
                biased;
                Some(message) = control_rx.recv() => (message, false),
                frame = rx.recv() => match frame {
                    Some(frame) => {
                        room.add_permits(kib(&frame) as usize);
                        (Message::Text(frame), true)
                    }
                    None => break,
                },
            };
            let large = matches!(&message, Message::Text(t) if t.len() >= LARGE_FRAME);
            let closing = matches!(message, Message::Close(_));
            match tokio::time::timeout(limits.write_timeout, sink.send(message)).await {
                Ok(Ok(())) if closing => return "the gateway closed the stream",
                Ok(Ok(())) if text => {
                    GatewayStats::add(&writer_gw.stats.frames_sent, 1);
                    if large {
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
            let forwarder = tokio::spawn(forward(
                sub.clone(),
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
    sub: String,
    topic: Topic,
    matcher: Matcher,
    mut from: From,
    gw: Arc<Shared>,
    outbox: Arc<Outbox>,
    who: Arc<Who>,
) {
    let sub_json = serde_json::to_string(&sub).expect("strings serialize");
    loop {
        let subscription = gw.store.subscribe(topic, &matcher, &from);
        let mut rx = subscription.rx;
        let mut seq = subscription.seq;
        let sent = match subscription.start {
            Start::Snapshot { seq, items } => send_snapshot(&sub, seq, items, &gw, &outbox).await,
            Start::Replay(missed) => send_batches(&sub_json, &missed, &matcher, &gw, &outbox).await,
            Start::Seek { cursor, upto } => {
                let asker = super::seek::Asker {
                    actor: &who.actor,
                    source: &who.peer,
                    client: "",
                    route: "stream logs",
                };
                let found = super::seek::seek(&gw, &cursor, SEEK_LIMIT, &asker).await;
                match found
                    .ok()
                    .and_then(|entries| gw.store.bridge(entries, upto))
                {
                    Some((from_source, from_ring)) => {
                        match send_source_entries(&sub_json, from_source, &matcher, &gw, &outbox)
                            .await
                        {
                            Ok(()) => {
                                send_batches(&sub_json, &from_ring, &matcher, &gw, &outbox).await
                            }
                            Err(()) => Err(()),
                        }
                    }
                    None => {
                        // Exactly-once is out of reach: start over, saying so.
                        match resync(&outbox, &sub).await {
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
        match pump(
            &sub, &sub_json, topic, &matcher, &mut rx, &mut seq, &gw, &outbox,
        )
        .await
        {
            Pumped::Closed => return,
            Pumped::Resync => match resync(&outbox, &sub).await {
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

enum Pumped {
    Closed,
    /// The subscriber missed state changes; it needs a fresh snapshot.
    Resync,
}

/// Forwards a topic's events to one subscriber; `seq` follows the last
/// event taken from `rx` (the subscriber has everything up to it).
#[allow(clippy::too_many_arguments)]
async fn pump(
    sub: &str,
    sub_json: &str,
    topic: Topic,
    matcher: &Matcher,
    rx: &mut broadcast::Receiver<Arc<Published>>,
    seq: &mut u64,
    gw: &Arc<Shared>,
    outbox: &Outbox,
) -> Pumped {
    let max_batch = gw.stream_limits.max_batch;
    let mut batch = Vec::with_capacity(64);
    loop {
        let mut lagged = match rx.recv().await {
            Ok(event) => {
                batch.push(event);
                0
            }
            Err(broadcast::error::RecvError::Lagged(n)) => n,
            Err(broadcast::error::RecvError::Closed) => return Pumped::Closed,
        };
        while lagged == 0 && batch.len() < max_batch {
            match rx.try_recv() {
                Ok(event) => batch.push(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => lagged = n,
                Err(_) => break,
            }
        }
        if send_batches(sub_json, &batch, matcher, gw, outbox)
            .await
            .is_err()
        {
            return Pumped::Closed;
        }
        *seq = batch.last().map_or(*seq, |e| e.seq);
        batch.clear();
        if lagged == 0 {
            continue;
        }
        match catch_up(sub_json, topic, matcher, rx, seq, gw, outbox).await {
            Some(Ok(())) => {
                GatewayStats::add(&gw.stats.events_coalesced, lagged);
                continue;
            }
            Some(Err(())) => return Pumped::Closed,
            None => {}
        }
        GatewayStats::add(&gw.stats.events_dropped, lagged);
        let gap = ServerMsg::Gap {
            sub: sub.to_string(),
            dropped: lagged,
            reason: "the subscriber fell behind the gateway's queue".into(),
        };
        if outbox.send_msg(&gap).await.is_err() {
            return Pumped::Closed;
        }
        // Missed log lines, spans and audit records are counted in the
        // gap; node or task changes the gateway can no longer tell
        // (removals forgotten) leave the client's table wrong, so start
        // over.
        if matches!(topic, Topic::Nodes | Topic::Tasks) {
            return Pumped::Resync;
        }
    }
}

/// Catches up a subscriber that fell behind, where its topic allows:
/// nodes and tasks get the current state of what changed (a table wants
/// what its rows are now, not every step it missed), checks their current
/// state whole, metrics the newest value of each series. `None` where it
/// does not (logs, spans, audit; or removals forgotten): a gap it is.
async fn catch_up(
    sub_json: &str,
    topic: Topic,
    matcher: &Matcher,
    rx: &mut broadcast::Receiver<Arc<Published>>,
    seq: &mut u64,
    gw: &Arc<Shared>,
    outbox: &Outbox,
) -> Option<Result<(), ()>> {
    match topic {
        Topic::Nodes | Topic::Tasks => {
            let caught = gw.store.catch_up(topic, matcher, *seq)?;
            *rx = caught.rx;
            *seq = caught.seq;
            Some(send_batches(sub_json, &caught.changed, matcher, gw, outbox).await)
        }
        Topic::Health => {
            // What is still queued is older than (or as old as) the
            // store, so it goes unread; the checks go whole (`Added`).
            while !matches!(rx.try_recv(), Err(broadcast::error::TryRecvError::Empty)) {}
            let (_, checks) = gw.store.checks(matcher);
            let events: Vec<Arc<Published>> = checks
                .into_iter()
                .map(|c| Arc::new(Published::at(0, Op::Added, Record::Check(c))))
                .collect();
            Some(send_batches(sub_json, &events, matcher, gw, outbox).await)
        }
        Topic::Metrics => Some(coalesce(sub_json, matcher, rx, gw, outbox).await),
        Topic::Logs | Topic::Spans | Topic::Audit => None,
    }
}

/// After a metrics subscriber fell behind: the newest value of every
/// series it wants (unsequenced, from the store), then what is still
/// queued for it, reduced to the newest event per series (sequenced, so
/// a resume carries on from the last of them).
async fn coalesce(
    sub_json: &str,
    matcher: &Matcher,
    rx: &mut broadcast::Receiver<Arc<Published>>,
    gw: &Arc<Shared>,
    outbox: &Outbox,
) -> Result<(), ()> {
    let mut newest: HashMap<String, Arc<Published>> = HashMap::new();
    loop {
        match rx.try_recv() {
            Ok(event) => {
                if let Record::Sample(s) = &event.record {
                    newest.insert(s.series_key(), event);
                }
            }
            Err(broadcast::error::TryRecvError::Lagged(_)) => newest.clear(),
            Err(_) => break,
        }
    }
    let mut queued: Vec<Arc<Published>> = newest.into_values().collect();
    queued.sort_by_key(|e| e.seq);
    // Made into events a frame at a time: at 10,000 tasks the newest
    // values are tens of thousands of samples, for each lagging console.
    let latest = gw.store.latest_samples(matcher);
    for part in latest.chunks(gw.stream_limits.max_batch.max(1)) {
        let events: Vec<Arc<Published>> = part
            .iter()
            .map(|s| Arc::new(Published::unsequenced(Record::Sample(s.clone()))))
            .collect();
        send_batches(sub_json, &events, matcher, gw, outbox).await?;
    }
    send_batches(sub_json, &queued, matcher, gw, outbox).await
}

/// Log entries read back from a source carry no sequence number (0): they
/// come before anything the ring holds.
async fn send_source_entries(
    sub_json: &str,
    entries: Vec<crate::api::LogEntry>,
    matcher: &Matcher,
    gw: &Arc<Shared>,
    outbox: &Outbox,
) -> Result<(), ()> {
    let events: Vec<Arc<Published>> = entries
        .into_iter()
        .map(|entry| Arc::new(Published::unsequenced(Record::Log(entry))))
        .collect();
    send_batches(sub_json, &events, matcher, gw, outbox).await
}

/// Sends the events that pass the filter as `event` frames of at most
/// `max_batch` events, each event's JSON serialized once per gateway.
async fn send_batches(
    sub_json: &str,
    events: &[Arc<Published>],
    matcher: &Matcher,
    gw: &Arc<Shared>,
    outbox: &Outbox,
) -> Result<(), ()> {
    for frame in event_frames(sub_json, events, matcher, gw.stream_limits.max_batch) {
        outbox.send(frame.0).await?;
        GatewayStats::add(&gw.stats.events_sent, frame.1);
    }
    Ok(())
}

/// The `event` frames for `events`, with how many events each holds.
fn event_frames(
    sub_json: &str,
    events: &[Arc<Published>],
    matcher: &Matcher,
    max_batch: usize,
) -> Vec<(String, u64)> {
    let mut frames = Vec::new();
    let mut wanted = events
        .iter()
        .filter(|e| matcher.matches(&e.record))
        .peekable();
    while wanted.peek().is_some() {
        let mut frame = String::with_capacity(4096);
        frame.push_str("{\"type\":\"event\",\"sub\":");
        frame.push_str(sub_json);
        frame.push_str(",\"events\":[");
        let mut count = 0;
        for event in wanted.by_ref().take(max_batch.max(1)) {
            if count > 0 {
                frame.push(',');
            }
            frame.push_str(event.json());
            count += 1;
        }
        frame.push_str("]}");
        frames.push((frame, count));
    }
    frames
}
