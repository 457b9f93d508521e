//! One container's log, followed: its tail first when asked, then the
//! stream from where it was, again and again while the pod is there (a
//! container restarts, a connection breaks). See `super` for positions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{AsyncBufRead, AsyncBufReadExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::LogParams;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::{FieldValue, FleetCursor, LogEntry};
use crate::collect::logline;
use crate::kubernetes::Kube;

/// A container's previous instance's place (read once, never resumed).
const PREVIOUS: &str = "#previous";

/// Where a container's lines are: a line's nanosecond timestamp and how
/// many lines before it had the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub nanos: i128,
    pub same: u32,
}

impl Position {
    pub fn parse(text: &str) -> Option<Position> {
        let (nanos, same) = text.split_once(':')?;
        Some(Position {
            nanos: nanos.parse().ok()?,
            same: same.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.nanos, self.same)
    }
}

/// One container of one pod.
#[derive(Debug, Clone)]
pub struct Container {
    /// `NAMESPACE/POD/CONTAINER`: its place in a cursor.
    pub key: String,
    pub namespace: String,
    pub pod: String,
    pub name: String,
    pub node: String,
    pub restarted: bool,
}

/// Where a container's follow starts.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// Its newest lines (and its previous instance's, if it restarted).
    Tail(usize),
    After(Position),
    /// What it writes from this second on.
    Since(i64),
}

/// A container's follow, feeding the merge; dropped, it stops.
pub struct Feed(pub JoinHandle<()>);

impl Drop for Feed {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a container's follow sends the merge.
pub enum Fed {
    /// Its tail (and previous instance's), once, when it started from a tail.
    Tail(Vec<LogEntry>),
    Lines(Vec<LogEntry>),
    /// It cannot read the container's log, in the API server's words.
    Refused(String),
}

pub fn open(
    kube: &Arc<Kube>,
    container: Container,
    start: Start,
    tx: mpsc::Sender<(String, Fed)>,
) -> Feed {
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &container.namespace);
    let kube = kube.clone();
    Feed(tokio::spawn(async move {
        let key = container.key.clone();
        let fed = |fed| (key.clone(), fed);
        let mut at = match start {
            Start::After(at) => Some(at),
            _ => None,
        };
        let mut since = match start {
            Start::Since(second) => Some(second),
            _ => None,
        };
        if let Start::Tail(tail) = start {
            let mut entries = Vec::new();
            if container.restarted {
                let params = params(&container, false, true, None, Some(tail));
                if let Ok(text) = api.logs(&container.pod, &params).await {
                    entries.extend(lines(
                        &container,
                        text.as_bytes(),
                        &mut None,
                        &mut None,
                        true,
                    ));
                }
            }
            let params = params(&container, false, false, None, Some(tail));
            match api.logs(&container.pod, &params).await {
                Ok(text) => entries.extend(lines(
                    &container,
                    text.as_bytes(),
                    &mut None,
                    &mut at,
                    false,
                )),
                Err(e) => {
                    if refused(&e) {
                        let _ = tx.send(fed(Fed::Refused(why(&container, &e)))).await;
                        return;
                    }
                }
            }
            if at.is_none() {
                since = Some(jiff::Timestamp::now().as_second());
            }
            if tx.send(fed(Fed::Tail(entries))).await.is_err() {
                return;
            }
        }
        let mut backoff = Duration::from_millis(500);
        loop {
            let from_second = at
                .map(|p| (p.nanos.div_euclid(1_000_000_000)) as i64)
                .or(since);
            let params = params(&container, true, false, from_second, None);
            match api.log_stream(&container.pod, &params).await {
                Ok(stream) => {
                    backoff = Duration::from_millis(500);
                    let mut stream = std::pin::pin!(stream);
                    let mut pending: Vec<u8> = Vec::new();
                    let mut counted = None;
                    loop {
                        let chunk = match stream.as_mut().fill_buf().await {
                            Ok([]) | Err(_) => break,
                            Ok(chunk) => chunk.to_vec(),
                        };
                        AsyncBufRead::consume(stream.as_mut(), chunk.len());
                        pending.extend_from_slice(&chunk);
                        // The whole lines that came together are one batch;
                        // a line longer than a line may be is cut there.
                        let end = match pending.iter().rposition(|b| *b == b'\n') {
                            Some(end) => end + 1,
                            None if pending.len() > 2 * logline::MAX_LINE => pending.len(),
                            None => continue,
                        };
                        let whole: Vec<u8> = pending.drain(..end).collect();
                        let batch = lines(&container, &whole, &mut counted, &mut at, false);
                        if !batch.is_empty() && tx.send(fed(Fed::Lines(batch))).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) if refused(&e) => {
                    let _ = tx.send(fed(Fed::Refused(why(&container, &e)))).await;
                    return;
                }
                Err(_) => {}
            }
            // The stream ended: the container restarted, the pod went, or
            // the connection broke. Carry on from where it was while the
            // pod is there.
            let there = kube
                .held()
                .tasks
                .contains_key(&format!("{}/{}", container.namespace, container.pod));
            if !there {
                return;
            }
            if at.is_none() && since.is_none() {
                since = Some(jiff::Timestamp::now().as_second());
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }))
}

fn params(
    container: &Container,
    follow: bool,
    previous: bool,
    since: Option<i64>,
    tail: Option<usize>,
) -> LogParams {
    LogParams {
        container: Some(container.name.clone()),
        follow,
        previous,
        timestamps: true,
        since_time: since.and_then(|s| k8s_openapi::jiff::Timestamp::from_second(s).ok()),
        tail_lines: tail.map(|t| t as i64),
        ..LogParams::default()
    }
}

/// Whether the API server said no for good (no right, no such pod or
/// container), rather than not yet (a container still starting).
fn refused(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if matches!(status.code, 401 | 403 | 404))
}

fn why(container: &Container, error: &kube::Error) -> String {
    let said = match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    };
    format!("logs of {}: {said}", container.key)
}

/// The entries of raw lines `TIMESTAMP TEXT` that come after `at` (which
/// moves on). `counted` is the last line's position in this answer of the
/// API server: lines with one timestamp are counted from the answer's
/// first, so a resume from the second they are in counts them alike. A
/// previous instance's lines have a place of their own, never resumed.
fn lines(
    container: &Container,
    raw: &[u8],
    counted: &mut Option<Position>,
    at: &mut Option<Position>,
    previous: bool,
) -> Vec<LogEntry> {
    let mut out = Vec::new();
    for line in raw.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let (stamp, text) = match line.iter().position(|b| *b == b' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &line[line.len()..]),
        };
        let Some(nanos) = std::str::from_utf8(stamp)
            .ok()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_nanosecond())
        else {
            continue;
        };
        let position = match *counted {
            Some(p) if p.nanos == nanos => Position {
                nanos,
                same: p.same + 1,
            },
            _ => Position { nanos, same: 0 },
        };
        *counted = Some(position);
        if previous {
            let place = format!("{}{PREVIOUS}", container.key);
            out.push(entry(container, text, nanos, &place, position, true));
            continue;
        }
        // Not after where the subscription is: it has it.
        if at.is_some_and(|p| position <= p) {
            continue;
        }
        *at = Some(position);
        out.push(entry(
            container,
            text,
            nanos,
            &container.key,
            position,
            false,
        ));
    }
    out
}

fn entry(
    container: &Container,
    text: &[u8],
    nanos: i128,
    place: &str,
    position: Position,
    previous: bool,
) -> LogEntry {
    let (message, message_base64) = logline::message(text);
    let mut fields = BTreeMap::from([
        (
            "NAMESPACE".to_string(),
            FieldValue::Text(container.namespace.clone()),
        ),
        ("POD".to_string(), FieldValue::Text(container.pod.clone())),
        (
            "CONTAINER".to_string(),
            FieldValue::Text(container.name.clone()),
        ),
    ]);
    if previous {
        fields.insert("PREVIOUS".into(), FieldValue::Text("1".into()));
    }
    LogEntry {
        cursor: FleetCursor::one(place, &position.to_string()),
        ts: (nanos / 1_000_000) as i64,
        node: container.node.clone(),
        unit: None,
        task: Some(format!("{}/{}", container.namespace, container.pod)),
        file: None,
        identifier: Some(if previous {
            format!("{} (prev)", container.name)
        } else {
            container.name.clone()
        }),
        stream: None,
        priority: logline::guess_priority(&message),
        message,
        message_base64,
        fields,
    }
}
