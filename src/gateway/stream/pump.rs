//! Forwarding one topic to one subscriber: events in batches as they come,
//! coalesced when it fell behind, caught up to a consistent point when it
//! fell out of the ring, and a source's history read back for a resume.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::outbox::Outbox;
use crate::api::{Encoding, Op, Record, ServerMsg, Topic, binary_frame};
use crate::gateway::Shared;
use crate::gateway::filter::Matcher;
use crate::gateway::stats::GatewayStats;
use crate::gateway::topic::Published;
pub enum Pumped {
    Closed,
    /// The subscriber missed state changes; it needs a fresh snapshot.
    Resync,
}

/// Forwards a topic's events to one subscriber; `seq` follows the last
/// event taken from `rx` (the subscriber has everything up to it).
#[allow(clippy::too_many_arguments)]
pub async fn pump(
    framing: &Framing,
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
        if send_batches(framing, &batch, matcher, gw, outbox)
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
        match catch_up(framing, topic, matcher, rx, seq, gw, outbox).await {
            Some(Ok(())) => {
                GatewayStats::add(&gw.stats.events_coalesced, lagged);
                continue;
            }
            Some(Err(())) => return Pumped::Closed,
            None => {}
        }
        GatewayStats::add(&gw.stats.events_dropped, lagged);
        let gap = ServerMsg::Gap {
            sub: framing.sub.clone(),
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
    framing: &Framing,
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
            Some(send_batches(framing, &caught.changed, matcher, gw, outbox).await)
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
            Some(send_batches(framing, &events, matcher, gw, outbox).await)
        }
        Topic::Metrics => Some(coalesce(framing, matcher, rx, seq, gw, outbox).await),
        Topic::Logs | Topic::Spans | Topic::Audit => None,
    }
}

/// After a metrics subscriber fell behind (it has everything up to
/// `seq`): the newest value of every series it wants that had a point
/// since, from the store (unsequenced). What is still queued is older or
/// as old, so it goes unread; `seq` moves past it.
async fn coalesce(
    framing: &Framing,
    matcher: &Matcher,
    rx: &mut broadcast::Receiver<Arc<Published>>,
    seq: &mut u64,
    gw: &Arc<Shared>,
    outbox: &Outbox,
) -> Result<(), ()> {
    let after = *seq;
    loop {
        match rx.try_recv() {
            Ok(event) => *seq = event.seq,
            Err(broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => break,
        }
    }
    // Made into events a frame at a time: at 10,000 tasks the newest
    // values are tens of thousands of samples, for each lagging console.
    let latest = gw.store.latest_samples_after(matcher, after);
    for part in latest.chunks(gw.stream_limits.max_batch.max(1)) {
        let events: Vec<Arc<Published>> = part
            .iter()
            .map(|s| Arc::new(Published::unsequenced(Record::Sample(s.clone()))))
            .collect();
        send_batches(framing, &events, matcher, gw, outbox).await?;
    }
    Ok(())
}

/// Log entries read back from a source carry no sequence number (0): they
/// come before anything the ring holds.
pub async fn send_source_entries(
    framing: &Framing,
    entries: Vec<crate::api::LogEntry>,
    matcher: &Matcher,
    gw: &Arc<Shared>,
    outbox: &Outbox,
) -> Result<(), ()> {
    let events: Vec<Arc<Published>> = entries
        .into_iter()
        .map(|entry| Arc::new(Published::unsequenced(Record::Log(entry))))
        .collect();
    send_batches(framing, &events, matcher, gw, outbox).await
}

/// A subscription's name as it goes into frames, and whether its events
/// go as binary frames (it asked, and it is a logs or metrics one).
pub struct Framing {
    sub: String,
    sub_json: String,
    binary: bool,
}

impl Framing {
    pub fn new(sub: &str, topic: Topic, encoding: Encoding) -> Framing {
        Framing {
            sub: sub.to_string(),
            sub_json: serde_json::to_string(sub).expect("strings serialize"),
            binary: matches!(topic, Topic::Logs | Topic::Metrics) && encoding == Encoding::Binary,
        }
    }

    pub fn sub(&self) -> &str {
        &self.sub
    }
}

/// Sends the events that pass the filter as frames of at most `max_batch`
/// events, a frame made only once the one before is queued (a catch-up of
/// thousands of tasks is not held as frames all at once). JSON frames take
/// each event's JSON, serialized once per gateway; binary ones (a batch of
/// log entries or samples, for a subscription that asked) have the events
/// written straight in.
pub async fn send_batches(
    framing: &Framing,
    events: &[Arc<Published>],
    matcher: &Matcher,
    gw: &Arc<Shared>,
    outbox: &Outbox,
) -> Result<(), ()> {
    let max_batch = gw.stream_limits.max_batch.max(1);
    let mut rest = events;
    while !rest.is_empty() {
        // The next `max_batch` events the filter admits, and how far that took.
        let mut batch: Vec<&Published> = Vec::new();
        let mut used = 0;
        for event in rest {
            if batch.len() == max_batch {
                break;
            }
            used += 1;
            if matcher.matches(&event.record) {
                batch.push(event);
            }
        }
        rest = &rest[used..];
        if batch.is_empty() {
            continue;
        }
        let binary = framing.binary && batch.iter().all(|e| binary_frame::encodes(&e.record));
        let frame = match binary {
            true => binary_events(&framing.sub, &batch),
            false => event_frame(&framing.sub_json, &batch).into(),
        };
        outbox.send(frame).await?;
        GatewayStats::add(&gw.stats.events_sent, batch.len() as u64);
    }
    Ok(())
}

/// One binary frame of these events, each of which has a binary form
/// (see [`binary_frame`]).
fn binary_events(sub: &str, batch: &[&Published]) -> axum::extract::ws::Message {
    let mut frame = binary_frame::FrameWriter::new(sub, batch.iter().map(|e| e.weight).sum());
    for event in batch {
        frame.push(event.seq, event.op, &event.record);
    }
    frame.finish().into()
}

/// One `event` frame holding these events' JSON.
fn event_frame(sub_json: &str, batch: &[&Published]) -> String {
    const HEAD: &str = "{\"type\":\"event\",\"sub\":";
    let batch: Vec<&str> = batch.iter().map(|e| e.json()).collect();
    // Made at its final size: a frame of a thousand log lines grown by
    // doubling would be copied over and over.
    let size = HEAD.len() + sub_json.len() + 12 + batch.iter().map(|j| j.len() + 1).sum::<usize>();
    let mut frame = String::with_capacity(size);
    frame.push_str(HEAD);
    frame.push_str(sub_json);
    frame.push_str(",\"events\":[");
    for (i, json) in batch.iter().enumerate() {
        if i > 0 {
            frame.push(',');
        }
        frame.push_str(json);
    }
    frame.push_str("]}");
    frame
}
