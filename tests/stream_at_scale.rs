//! The stream at cluster scale: 20 clients on a 1,000-node, 10,000-task
//! demo, one of which stops reading for a while. The others see every task
//! change in order; the stalled one is caught up with what changed, without
//! a gap or a new snapshot, and ends up with the tasks a fresh client sees;
//! the gateway's queues stay within their bounds.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use day2top::api::{Op, Record, ServerMsg, Task};
use day2top::gateway;
use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const SUBSCRIBE: &str = r#"{"type":"subscribe","sub":"t","topic":"tasks"}"#;

/// A client's copy of the tasks, as the messages it read made them.
#[derive(Default)]
struct Mirror {
    tasks: HashMap<String, Task>,
    /// The last sequence number applied.
    seq: u64,
    /// Events whose sequence number did not follow the one before.
    jumps: u64,
    gaps: u64,
    resyncs: u64,
    snapshots: u64,
    /// A snapshot's parts are coming.
    in_snapshot: bool,
    /// Events read but past the point applied so far.
    pending: std::collections::VecDeque<day2top::api::Event>,
}

impl Mirror {
    /// Applies a message, up to sequence number `upto`; false once an event
    /// past it came (the rest of the frame is left unapplied).
    fn apply(&mut self, msg: ServerMsg, upto: u64) -> bool {
        match msg {
            ServerMsg::Snapshot {
                seq, items, more, ..
            } => {
                // A large snapshot comes in parts.
                if !self.in_snapshot {
                    self.tasks.clear();
                }
                self.in_snapshot = more;
                self.snapshots += u64::from(!more);
                self.seq = seq;
                self.tasks.extend(items.into_iter().filter_map(|r| match r {
                    Record::Task(t) => Some((t.id.clone(), t)),
                    _ => None,
                }));
            }
            ServerMsg::Event { events, .. } => {
                self.pending.extend(events);
                while let Some(event) = self.pending.pop_front() {
                    if event.seq > upto {
                        self.pending.push_front(event);
                        return false;
                    }
                    if event.seq != self.seq + 1 {
                        self.jumps += 1;
                    }
                    assert!(event.seq > self.seq, "events come in order");
                    self.seq = event.seq;
                    let Record::Task(task) = event.data else {
                        panic!("a tasks subscription carries tasks");
                    };
                    if event.op == Op::Removed {
                        self.tasks.remove(&task.id);
                    } else {
                        self.tasks.insert(task.id.clone(), task);
                    }
                }
            }
            ServerMsg::Gap { .. } => self.gaps += 1,
            ServerMsg::Resync { .. } => self.resyncs += 1,
            _ => {}
        }
        true
    }
}

/// Reads `ws` into `mirror` until an event past `upto` came, or `until`.
async fn read_into(ws: &mut Ws, mirror: &mut Mirror, upto: u64, until: Instant) {
    let held = ServerMsg::Event {
        sub: String::new(),
        events: Vec::new(),
    };
    if !mirror.apply(held, upto) {
        return;
    }
    loop {
        let frame = match tokio::time::timeout_at(until, ws.next()).await {
            Err(_) => return,
            Ok(frame) => frame
                .expect("the stream stays open")
                .expect("a readable frame"),
        };
        if let Message::Text(text) = frame {
            let msg: ServerMsg = serde_json::from_str(&text).expect("a protocol message");
            if !mirror.apply(msg, upto) {
                return;
            }
        }
    }
}

/// What a reader checks of a frame: its type and the events' sequence
/// numbers (parsing whole tasks in 19 clients would be the test's cost,
/// not the gateway's).
#[derive(serde::Deserialize)]
struct Light {
    #[serde(rename = "type")]
    kind: String,
    seq: Option<u64>,
    #[serde(default)]
    more: bool,
    #[serde(default)]
    events: Vec<LightEvent>,
}

#[derive(serde::Deserialize)]
struct LightEvent {
    seq: u64,
}

/// A reader that reads all along, for `secs`: (snapshots, gaps and
/// resyncs, jumps, last seq).
async fn read_all_along(url: String, secs: u64) -> (u64, u64, u64, u64) {
    let mut ws = ws_connect(&url, READ).await;
    send(&mut ws, SUBSCRIBE).await;
    let until = Instant::now() + Duration::from_secs(secs);
    let (mut snapshots, mut gaps, mut jumps, mut last) = (0, 0, 0, 0);
    while let Ok(frame) = tokio::time::timeout_at(until, ws.next()).await {
        let Message::Text(text) = frame.expect("the stream stays open").unwrap() else {
            continue;
        };
        let light: Light = serde_json::from_str(&text).expect("a protocol message");
        match light.kind.as_str() {
            "snapshot" => {
                snapshots += u64::from(!light.more);
                last = light.seq.unwrap();
            }
            "gap" | "resync" => gaps += 1,
            _ => {}
        }
        for event in light.events {
            if event.seq != last + 1 {
                jumps += 1;
            }
            last = event.seq;
        }
    }
    (snapshots, gaps, jumps, last)
}

async fn tasks_seq(url: &str) -> u64 {
    get_json::<day2top::api::ClusterInfo>(&format!("{url}/api/v1/cluster"))
        .await
        .tasks_seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_clients_at_scale_one_stalled_and_caught_up_without_a_gap() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.refresh = Duration::from_millis(500);
    config.max_streams_per_token = 32;
    // The stalled client must fall behind the queue, not be cut off for a
    // frame it does not take or a ping it does not answer.
    config.stream_limits.write_timeout = Duration::from_secs(120);
    config.stream_limits.client_silence = Duration::from_secs(120);
    let queue = config.stream_limits.connection_queue;
    let gw = gateway::start(config, demo(11, 1_000, 10_000))
        .await
        .unwrap();

    // The stalled one: subscribed, reading its snapshot, then not reading.
    let mut stalled = client_with_buffer(gw.addr, &[SUBSCRIBE], 64 << 10).await;
    let mut behind = Mirror::default();
    read_into(
        &mut stalled,
        &mut behind,
        u64::MAX,
        Instant::now() + Duration::from_secs(20),
    )
    .await;
    assert_eq!(behind.snapshots, 1, "the snapshot came first");

    // Nineteen that read all along.
    let readers: Vec<_> = (0..19)
        .map(|_| tokio::spawn(read_all_along(gw.url.clone(), 60)))
        .collect();

    // Stalled until far more task events went by than its socket buffers,
    // its connection's queue and the topic's queue hold together.
    let deadline = Instant::now() + Duration::from_secs(90);
    while tasks_seq(&gw.url).await < behind.seq + 20_000 {
        assert!(
            Instant::now() < deadline,
            "the demo makes too few task events"
        );
        let body = exposition(&gw.url).await;
        let queued = exposed(&body, "day2top_gateway_queued_frames ").unwrap();
        assert!(
            queued <= (20 * queue) as f64,
            "the connection queues stay within their bound: {queued}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // It reads again, and a fresh client joins: both at the same point
    // hold the same tasks.
    read_into(
        &mut stalled,
        &mut behind,
        u64::MAX,
        Instant::now() + Duration::from_secs(3),
    )
    .await;
    let mut fresh_ws = ws_connect(&gw.url, READ).await;
    send(&mut fresh_ws, SUBSCRIBE).await;
    let mut fresh = Mirror::default();
    read_into(
        &mut fresh_ws,
        &mut fresh,
        0,
        Instant::now() + Duration::from_secs(20),
    )
    .await;
    assert_eq!(fresh.snapshots, 1);
    assert!(fresh.tasks.len() > 10_000, "every part of the snapshot");
    let upto = fresh.seq.max(behind.seq) + 50;
    let until = Instant::now() + Duration::from_secs(30);
    read_into(&mut stalled, &mut behind, upto, until).await;
    read_into(&mut fresh_ws, &mut fresh, upto, until).await;
    assert_eq!(behind.seq, upto, "the stalled client reached the point");
    assert_eq!(fresh.seq, upto, "the fresh client reached the point");

    assert_eq!(behind.gaps, 0, "no gap for the stalled client");
    assert_eq!(behind.resyncs, 0, "no new snapshot for the stalled client");
    assert_eq!(behind.snapshots, 1);
    assert!(
        behind.jumps > 0,
        "it was caught up, not replayed event by event"
    );
    assert_eq!(fresh.jumps, 0, "the fresh client saw every change");
    assert_eq!(behind.tasks.len(), fresh.tasks.len(), "the same tasks");
    for (id, task) in &fresh.tasks {
        let held = behind
            .tasks
            .get(id)
            .unwrap_or_else(|| panic!("{id} is held"));
        assert!(held.same_but_usage(task), "{id} is as it is now");
    }

    for reader in readers {
        // A reader the machine is too slow for (a debug build under CI's
        // load) may be caught up as the stalled one was, and that is
        // fine; what must never happen is a gap or a second snapshot.
        let (snapshots, gaps, _jumps, last) = reader.await.unwrap();
        assert_eq!(snapshots, 1, "one snapshot, never another");
        assert_eq!(gaps, 0, "no gap for a reader");
        assert!(last > 0);
    }
    gw.shutdown().await;
}
