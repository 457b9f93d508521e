//! The live stream: one WebSocket carrying every subscription, reconnected
//! with backoff, resumed from the last sequence number seen.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, connect_async_tls_with_config};

use super::frames::{SnapshotParts, decode};
use super::{Endpoint, error_chain};
use crate::api::{ClientMsg, Encoding, Filter, From, Record, ServerMsg, Topic, binary_frame};
use crate::redact::Share;

#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub sub: String,
    pub topic: Topic,
    pub filter: Filter,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Connecting {
        attempt: u32,
    },
    Connected,
    Disconnected {
        error: String,
        retry_in: Duration,
        attempt: u32,
    },
    /// The gateway refused the token (401) or its scope (403). Final: the
    /// same token would be refused again, so the stream stops trying.
    Refused {
        error: String,
    },
    Message(ServerMsg),
}

/// Subscription changes asked for and not yet sent: the last word for
/// each subscription (`None` to unsubscribe). Nothing asked is lost, even
/// while the stream reconnects, and it holds no more than one entry a
/// subscription.
#[derive(Default)]
struct Intents {
    latest: std::sync::Mutex<Vec<(String, Option<Subscription>)>>,
    changed: Notify,
}

impl Intents {
    fn say(&self, sub: &str, intent: Option<Subscription>) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        latest.retain(|(s, _)| s != sub);
        latest.push((sub.to_string(), intent));
        drop(latest);
        self.changed.notify_one();
    }

    fn take(&self) -> Vec<(String, Option<Subscription>)> {
        std::mem::take(&mut *self.latest.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The receiving end of a stream. Dropping it closes the connection.
pub struct StreamHandle {
    pub events: mpsc::Receiver<StreamEvent>,
    intents: Arc<Intents>,
    task: JoinHandle<()>,
}

impl StreamHandle {
    pub fn subscribe(&self, subscription: Subscription) {
        let sub = subscription.sub.clone();
        self.intents.say(&sub, Some(subscription));
    }

    pub fn unsubscribe(&self, sub: &str) {
        self.intents.say(sub, None);
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Messages waiting for the console (each a batch of up to 1,024 events).
/// When it falls behind, the stream stops reading the socket, and the
/// gateway's own bound takes over.
const EVENT_QUEUE: usize = 32;
/// The gateway sends a heartbeat every 5 s; this much silence means it is gone.
const SILENCE_LIMIT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest frame accepted: a snapshot of a very large cluster.
const MAX_FRAME: usize = 512 << 20;

/// Opens a stream; `starts` says where subscriptions begin that should
/// not begin with a snapshot (a hub resuming an agent's logs at a cursor).
pub fn spawn(
    endpoint: Endpoint,
    tls: Arc<ClientConfig>,
    share: Share,
    subscriptions: Vec<Subscription>,
    starts: Vec<(String, From)>,
) -> StreamHandle {
    let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
    let intents = Arc::new(Intents::default());
    let resume = starts
        .into_iter()
        .map(|(sub, from)| (sub, Resume::Start(from)))
        .collect();
    let task = tokio::spawn(run(
        endpoint,
        tls,
        share,
        subscriptions,
        resume,
        events_tx,
        intents.clone(),
    ));
    StreamHandle {
        events,
        intents,
        task,
    }
}

/// The delay before reconnect attempt `attempt` (1-based): doubling from
/// 250 ms to 10 s, with a little jitter so a fleet of consoles does not
/// come back in lockstep.
pub fn backoff(attempt: u32) -> Duration {
    let base = 250u64
        .saturating_mul(1 << attempt.saturating_sub(1).min(6))
        .min(10_000);
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    Duration::from_millis(base + base * byte[0] as u64 / 1280)
}

/// The WebSocket URL of `path` on the gateway at `base`.
pub(super) fn ws_url(base: &str, path: &str) -> String {
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    format!("{ws}{path}")
}

pub(super) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a WebSocket did not open.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectError {
    /// The gateway refused the token or its scope: trying again is no use.
    Refused(String),
    /// Anything else (no answer, a network error, a busy gateway).
    Failed(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Refused(e) | ConnectError::Failed(e) => f.write_str(e),
        }
    }
}

/// Opens the WebSocket at `path` with the bearer token.
pub(super) async fn connect(
    endpoint: &Endpoint,
    tls: &Arc<ClientConfig>,
    path: &str,
) -> Result<Socket, ConnectError> {
    let failed = ConnectError::Failed;
    let mut request = ws_url(&endpoint.url, path)
        .into_client_request()
        .map_err(|e| failed(format!("bad gateway URL: {e}")))?;
    let bearer = format!("Bearer {}", endpoint.token).parse().map_err(|_| {
        ConnectError::Refused("the token holds characters a header cannot carry".to_string())
    })?;
    request.headers_mut().insert("authorization", bearer);
    request.headers_mut().insert(
        "user-agent",
        tungstenite::http::HeaderValue::from_static(super::USER_AGENT),
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME));
    let attempt = connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(Connector::Rustls(tls.clone())),
    );
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Err(_) => Err(failed(format!(
            "no answer within {}s",
            CONNECT_TIMEOUT.as_secs()
        ))),
        Ok(Err(tungstenite::Error::Http(response))) => {
            let body = response
                .body()
                .as_ref()
                .and_then(|b| serde_json::from_slice::<crate::api::ApiError>(b).ok())
                .map(|e| e.error.message)
                .unwrap_or_default();
            let status = response.status().as_u16();
            Err(match status {
                401 => ConnectError::Refused(format!("the gateway refused the token: {body}")),
                403 => {
                    ConnectError::Refused(format!("the gateway refused the token's scope: {body}"))
                }
                _ => failed(format!("HTTP {} {body}", response.status())),
            })
        }
        Ok(Err(e)) => Err(failed(error_chain(&e))),
        Ok(Ok((socket, _))) => Ok(socket),
    }
}

/// Where a subscription picks up after a reconnect.
#[derive(Debug, Clone, PartialEq)]
enum Resume {
    /// After this sequence number of this gateway run.
    Seq(u64, String),
    /// Logs: after this source cursor, which outlives gateway restarts.
    Cursor(String),
    /// Where the caller asked to begin, until the first message says more.
    Start(From),
}

fn subscribe_msg(s: &Subscription, resume: Option<&Resume>) -> String {
    let from = match resume {
        Some(Resume::Seq(seq, epoch)) => From::Seq {
            seq: *seq,
            epoch: epoch.clone(),
        },
        Some(Resume::Cursor(cursor)) => From::Cursor {
            cursor: cursor.clone(),
        },
        Some(Resume::Start(from)) => from.clone(),
        None => From::default(),
    };
    serde_json::to_string(&ClientMsg::Subscribe {
        sub: s.sub.clone(),
        topic: s.topic,
        filter: Box::new(s.filter.clone()),
        from,
        // Log lines and samples are most of the bytes: taken in the lean
        // encoding.
        encoding: match s.topic {
            Topic::Logs | Topic::Metrics => Encoding::Binary,
            _ => Encoding::Json,
        },
    })
    .expect("client messages serialize")
}

async fn run(
    endpoint: Endpoint,
    tls: Arc<ClientConfig>,
    share: Share,
    mut subscriptions: Vec<Subscription>,
    // Per subscription: where to pick up after a reconnect.
    mut resume: HashMap<String, Resume>,
    events: mpsc::Sender<StreamEvent>,
    intents: Arc<Intents>,
) {
    let mut attempt: u32 = 0;
    loop {
        if events
            .send(StreamEvent::Connecting { attempt })
            .await
            .is_err()
        {
            return;
        }
        let error = match connect(&endpoint, &tls, "/api/v1/stream").await {
            Err(ConnectError::Refused(error)) => {
                tracing::warn!("stream: {error}; not retrying");
                let _ = events.send(StreamEvent::Refused { error }).await;
                return;
            }
            Err(ConnectError::Failed(e)) => e,
            Ok(mut socket) => {
                attempt = 0;
                if events.send(StreamEvent::Connected).await.is_err() {
                    return;
                }
                match pump(
                    &mut socket,
                    &share,
                    &mut subscriptions,
                    &mut resume,
                    &events,
                    &intents,
                )
                .await
                {
                    Ok(()) => return,
                    Err(e) => e,
                }
            }
        };
        attempt = attempt.saturating_add(1);
        let retry_in = backoff(attempt);
        tracing::info!("stream disconnected: {error}; retrying in {retry_in:?}");
        let gone = StreamEvent::Disconnected {
            error,
            retry_in,
            attempt,
        };
        if events.send(gone).await.is_err() {
            return;
        }
        tokio::time::sleep(retry_in).await;
    }
}

/// Reads one connection until it fails (`Err`, reconnect) or the console
/// goes away (`Ok`, stop).
async fn pump(
    socket: &mut Socket,
    share: &Share,
    subscriptions: &mut Vec<Subscription>,
    resume: &mut HashMap<String, Resume>,
    events: &mpsc::Sender<StreamEvent>,
    intents: &Intents,
) -> Result<(), String> {
    // What was asked while away is folded in before anything is sent.
    for (sub, intent) in intents.take() {
        fold_intent(subscriptions, resume, sub, intent);
    }
    for s in subscriptions.iter() {
        socket
            .send(Message::text(
                share
                    .restore(&subscribe_msg(s, resume.get(&s.sub)))
                    .into_owned(),
            ))
            .await
            .map_err(|e| error_chain(&e))?;
    }
    let mut parts = SnapshotParts::default();
    loop {
        let silence = tokio::time::sleep(SILENCE_LIMIT);
        tokio::select! {
            _ = silence => {
                return Err(format!("no word from the gateway for {}s", SILENCE_LIMIT.as_secs()));
            }
            _ = intents.changed.notified() => {
                for (sub, intent) in intents.take() {
                    parts.forget(&sub);
                    let msg = fold_intent(subscriptions, resume, sub, intent);
                    socket.send(Message::text(share.restore(&msg).into_owned())).await.map_err(|e| error_chain(&e))?;
                }
            }
            frame = socket.next() => {
                let decoded = match frame {
                    None => return Err("the gateway closed the stream".into()),
                    Some(Err(e)) => return Err(error_chain(&e)),
                    Some(Ok(Message::Text(text))) => {
                        decode(&text).map_err(|e| (text.len(), e.to_string()))
                    }
                    // Log and metric events in the lean encoding their subscriptions ask for.
                    Some(Ok(Message::Binary(bytes))) => {
                        binary_frame::decode(&bytes).map_err(|e| (bytes.len(), e))
                    }
                    Some(Ok(Message::Close(_))) => return Err("the gateway closed the stream".into()),
                    Some(Ok(_)) => continue,
                };
                let msg = match decoded {
                    Ok(msg) => msg,
                    Err((len, e)) => {
                        // One bad frame is the gateway's bug; skip it, say so, keep going.
                        tracing::warn!("unreadable stream frame ({len} bytes): {e}");
                        continue;
                    }
                };
                let Some(msg) = parts.join(msg) else {
                    continue;
                };
                track_resume(&msg, resume);
                // Redacted before anything downstream sees it; the
                // protocol's fields (cursors) are left as they are.
                let msg = match share.active() {
                    Some(redactor) => redactor.message(msg),
                    None => msg,
                };
                if events.send(StreamEvent::Message(msg)).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// Takes a subscription change into the set this stream holds; returns the
/// message that asks the gateway for it. A changed subscription starts
/// afresh, not from where the old one was.
fn fold_intent(
    subscriptions: &mut Vec<Subscription>,
    resume: &mut HashMap<String, Resume>,
    sub: String,
    intent: Option<Subscription>,
) -> String {
    subscriptions.retain(|old| old.sub != sub);
    resume.remove(&sub);
    match intent {
        Some(s) => {
            let msg = subscribe_msg(&s, None);
            subscriptions.push(s);
            msg
        }
        None => serde_json::to_string(&ClientMsg::Unsubscribe { sub })
            .expect("client messages serialize"),
    }
}

/// Where these log records leave a subscription: the last one's cursor,
/// or for a hub's entries the last cursor of each agent among them.
fn fleet_position<'a>(records: impl DoubleEndedIterator<Item = &'a Record>) -> Option<String> {
    let mut cursors = records.rev().filter_map(|r| match r {
        Record::Log(entry) => Some(entry.cursor.as_str()),
        _ => None,
    });
    let last = cursors.next()?;
    let Some(mut at) = crate::api::FleetCursor::parse(last) else {
        return Some(last.to_string());
    };
    // Newest first: an agent's first cursor met is its newest.
    for cursor in cursors {
        if let Some(older) = crate::api::FleetCursor::parse(cursor) {
            for (agent, position) in older.positions {
                at.positions.entry(agent).or_insert(position);
            }
        }
    }
    Some(at.to_string())
}

fn track_resume(msg: &ServerMsg, resume: &mut HashMap<String, Resume>) {
    match msg {
        ServerMsg::Snapshot {
            sub,
            seq,
            epoch,
            items,
            ..
        } => {
            // A hub's snapshot names the position of every agent it read.
            let at = match fleet_position(items.iter()) {
                Some(cursor) => Resume::Cursor(cursor),
                None => Resume::Seq(*seq, epoch.clone()),
            };
            resume.insert(sub.clone(), at);
        }
        ServerMsg::Event { sub, events } => {
            if let Some(cursor) = fleet_position(events.iter().map(|e| &e.data)) {
                let old = match resume.get(sub) {
                    Some(Resume::Cursor(old)) => Some(old.as_str()),
                    _ => None,
                };
                let at = crate::api::FleetCursor::merge(old, &cursor);
                resume.insert(sub.clone(), Resume::Cursor(at));
            } else if let (Some(last), Some(Resume::Seq(seq, _))) =
                (events.last(), resume.get_mut(sub))
            {
                *seq = last.seq;
            }
        }
        ServerMsg::Resync { sub } => {
            resume.remove(sub);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert!(
            backoff(1) >= Duration::from_millis(250) && backoff(1) < Duration::from_millis(300)
        );
        assert!(backoff(3) >= Duration::from_millis(1000));
        assert!(backoff(30) <= Duration::from_millis(12_000));
    }

    #[test]
    fn stream_urls() {
        assert_eq!(
            ws_url("http://127.0.0.1:7070", "/api/v1/stream"),
            "ws://127.0.0.1:7070/api/v1/stream"
        );
        assert_eq!(
            ws_url("https://gw:443", "/api/v1/stream"),
            "wss://gw:443/api/v1/stream"
        );
    }
}
