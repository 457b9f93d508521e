//! A hub's log subscription: what the fleet's agents send, merged (see
//! `fleet::logs`), framed like any other subscription's.

use std::sync::Arc;

use super::outbox::Outbox;
use super::send_snapshot;
use crate::api::{Event, Filter, From, Op, Record, ServerMsg};
use crate::fleet::{Fleet, FleetLogEvent};
use crate::gateway::Shared;
use crate::gateway::stats::GatewayStats;

pub async fn forward(
    sub: String,
    filter: Filter,
    from: From,
    fleet: Arc<Fleet>,
    gw: Arc<Shared>,
    outbox: Arc<Outbox>,
) {
    let mut follow = fleet.follow_logs(filter, from);
    // Sequence numbers of this subscription alone: a hub's log positions
    // are its agents' cursors, so these only order the frames.
    let mut seq = 0u64;
    let batch = gw.stream_limits.max_batch.max(1);
    while let Some(event) = follow.events.recv().await {
        let sent = match event {
            FleetLogEvent::Snapshot(entries) => {
                seq += entries.len() as u64;
                let items = entries.into_iter().map(Record::Log).collect();
                send_snapshot(&sub, seq, items, &gw, &outbox).await
            }
            FleetLogEvent::Entries(entries) => {
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
            FleetLogEvent::Gap { dropped, reason } => {
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
