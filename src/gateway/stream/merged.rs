//! A log subscription served from several places (a hub's agents, a
//! Kubernetes pod's containers; see `collect::follow`), framed like any
//! other subscription's. Entries the places could only roughly select
//! (a pod's lines) are held to the subscription's filter here.

use std::sync::Arc;

use super::outbox::Outbox;
use super::send_snapshot;
use crate::api::{Event, LogEntry, Op, Record, ServerMsg};
use crate::collect::follow::{FollowEvent, LogFollow};
use crate::gateway::Shared;
use crate::gateway::filter::Matcher;
use crate::gateway::stats::GatewayStats;

pub async fn forward(
    sub: String,
    mut follow: LogFollow,
    matcher: Option<Matcher>,
    gw: Arc<Shared>,
    outbox: Arc<Outbox>,
) {
    let admits = |e: &LogEntry| matcher.as_ref().is_none_or(|m| m.matches_log(e));
    // Sequence numbers of this subscription alone: a hub's log positions
    // are its agents' cursors, so these only order the frames.
    let mut seq = 0u64;
    let batch = gw.stream_limits.max_batch.max(1);
    while let Some(event) = follow.events.recv().await {
        let sent = match event {
            FollowEvent::Snapshot(mut entries) => {
                entries.retain(admits);
                seq += entries.len() as u64;
                let items = entries.into_iter().map(Record::Log).collect();
                send_snapshot(&sub, seq, items, &gw, &outbox).await
            }
            FollowEvent::Entries(mut entries) => {
                entries.retain(admits);
                let mut sent = Ok(());
                let mut entries = entries.into_iter().peekable();
                while sent.is_ok() && entries.peek().is_some() {
                    let events: Vec<Event> = entries
                        .by_ref()
                        .take(batch)
                        .map(|entry| {
                            seq += 1;
                            Event {
                                seq,
                                op: Op::Added,
                                data: Record::Log(entry),
                            }
                        })
                        .collect();
                    GatewayStats::add(&gw.stats.events_sent, events.len() as u64);
                    sent = outbox
                        .send_msg(&ServerMsg::Event {
                            sub: sub.clone(),
                            events,
                        })
                        .await;
                }
                sent
            }
            FollowEvent::Gap { dropped, reason } => {
                outbox
                    .send_msg(&ServerMsg::Gap {
                        sub: sub.clone(),
                        dropped,
                        reason,
                    })
                    .await
            }
        };
        if sent.is_err() {
            return;
        }
    }
}
