//! The stream protocol over real sockets: snapshot then sequenced deltas,
//! resume after a cut connection, a stalled subscriber kept bounded, and a
//! restarted gateway picked up again by the client.

mod common;

use std::time::Duration;

use common::*;
use day2top::api::{Op, Record, ServerMsg, Topic};
use day2top::client::{Client, Endpoint, StreamEvent, Subscription};
use day2top::gateway;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn snapshot_then_deltas_in_sequence() {
    let gw = start_demo().await;
    let mut ws = ws_connect(&gw.url, READ).await;
    send(&mut ws, r#"{"type":"subscribe","sub":"t","topic":"tasks"}"#).await;
    let ServerMsg::Snapshot {
        sub, seq, items, ..
    } = next_msg(&mut ws).await
    else {
        panic!("a snapshot comes first");
    };
    assert_eq!(sub, "t");
    assert!(items.len() >= 60);
    assert!(items.iter().all(|r| matches!(r, Record::Task(_))));
    // Deltas follow, numbered one after another with no hole.
    let mut expected = seq + 1;
    let mut ops = std::collections::HashSet::new();
    while expected < seq + 40 {
        match next_msg(&mut ws).await {
            ServerMsg::Event { sub, events } => {
                assert_eq!(sub, "t");
                for event in events {
                    assert_eq!(event.seq, expected, "sequence numbers are consecutive");
                    expected += 1;
                    ops.insert(format!("{:?}", event.op));
                    assert!(matches!(event.data, Record::Task(_)));
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(ops.contains("Updated"), "{ops:?}");
    gw.shutdown().await;
}

#[tokio::test]
async fn filters_bad_messages_and_pings() {
    let gw = start_demo().await;
    let mut ws = ws_connect(&gw.url, READ).await;
    send(&mut ws, "not json").await;
    let ServerMsg::Error { error, .. } = next_msg(&mut ws).await else {
        panic!("an error")
    };
    assert!(
        error.error.message.contains("cannot read that message"),
        "{error}"
    );

    send(
        &mut ws,
        r#"{"type":"subscribe","sub":"m","topic":"metrics","filter":{"tags":["node_id"]}}"#,
    )
    .await;
    let ServerMsg::Error { sub, error } = next_msg(&mut ws).await else {
        panic!("an error")
    };
    assert_eq!(sub.as_deref(), Some("m"));
    assert!(error.error.message.contains("key:value"));

    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_msg(&mut ws).await, ServerMsg::Pong);

    // Metrics for one node only, by name prefix.
    send(
        &mut ws,
        r#"{"type":"subscribe","sub":"m","topic":"metrics","filter":{"names":["node.cpu*"],"tags":["node_id:master-1-S0"]}}"#,
    )
    .await;
    let ServerMsg::Snapshot { items, .. } = next_msg(&mut ws).await else {
        panic!("a snapshot")
    };
    assert!(!items.is_empty());
    for item in items {
        let Record::Series(s) = item else {
            panic!("series in a metrics snapshot")
        };
        assert!(s.name.starts_with("node.cpu"));
        assert_eq!(s.tags["node_id"], "master-1-S0");
        assert!(!s.points.is_empty());
    }
    let ServerMsg::Event { events, .. } = next_msg(&mut ws).await else {
        panic!("events")
    };
    for event in events {
        let Record::Sample(s) = event.data else {
            panic!("samples in metrics events")
        };
        assert_eq!(s.tags["node_id"], "master-1-S0");
        assert_eq!(event.op, Op::Added);
    }
    gw.shutdown().await;
}

/// A TCP relay whose connections the test can cut, to break a stream
/// without stopping the gateway.
struct Relay {
    addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<u64>,
}

async fn relay(target: std::net::SocketAddr) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (cut, cuts) = tokio::sync::watch::channel(0u64);
    tokio::spawn(async move {
        loop {
            let (mut inbound, _) = listener.accept().await.unwrap();
            let mut cuts = cuts.clone();
            cuts.mark_unchanged();
            tokio::spawn(async move {
                let mut outbound = TcpStream::connect(target).await.unwrap();
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cuts.changed() => {
                        let _ = inbound.shutdown().await;
                    }
                }
            });
        }
    });
    Relay { addr, cut }
}

async fn next_stream_msg(events: &mut tokio::sync::mpsc::Receiver<StreamEvent>) -> StreamEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("the stream runs")
}

#[tokio::test]
async fn a_cut_connection_resumes_from_the_last_sequence_number() {
    let gw = start_demo().await;
    let relay = relay(gw.addr).await;
    let client = Client::new(Endpoint {
        url: format!("http://{}", relay.addr),
        token: READ.into(),
        ca: None,
    })
    .unwrap();
    let mut stream = client.stream(vec![Subscription {
        sub: "t".into(),
        topic: Topic::Tasks,
        filter: Default::default(),
    }]);
    let mut last_seq = 0;
    let mut snapshots = 0;
    // Read the snapshot and some events, then cut the connection.
    while last_seq == 0 || snapshots == 0 {
        match next_stream_msg(&mut stream.events).await {
            StreamEvent::Message(ServerMsg::Snapshot { seq, .. }) => {
                snapshots += 1;
                last_seq = seq;
            }
            StreamEvent::Message(ServerMsg::Event { events, .. }) => {
                last_seq = events.last().unwrap().seq;
            }
            _ => {}
        }
    }
    relay.cut.send_modify(|n| *n += 1);
    let mut saw_disconnect = false;
    loop {
        match next_stream_msg(&mut stream.events).await {
            StreamEvent::Disconnected { .. } => saw_disconnect = true,
            StreamEvent::Message(ServerMsg::Event { events, .. }) if saw_disconnect => {
                assert_eq!(
                    events[0].seq,
                    last_seq + 1,
                    "resumed right after the last event seen, no snapshot"
                );
                break;
            }
            StreamEvent::Message(ServerMsg::Event { events, .. }) => {
                last_seq = events.last().unwrap().seq
            }
            StreamEvent::Message(ServerMsg::Snapshot { .. }) if saw_disconnect => {
                panic!("a resume within the replay ring needs no snapshot")
            }
            _ => {}
        }
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn a_restarted_gateway_is_picked_up_with_a_fresh_snapshot() {
    let gw = start_demo().await;
    let addr = gw.addr;
    let client = Client::new(Endpoint {
        url: gw.url.clone(),
        token: READ.into(),
        ca: None,
    })
    .unwrap();
    let mut stream = client.stream(vec![Subscription {
        sub: "n".into(),
        topic: Topic::Nodes,
        filter: Default::default(),
    }]);
    let first_epoch = loop {
        if let StreamEvent::Message(ServerMsg::Snapshot { epoch, .. }) =
            next_stream_msg(&mut stream.events).await
        {
            break epoch;
        }
    };
    gw.shutdown().await;
    loop {
        if let StreamEvent::Disconnected { .. } = next_stream_msg(&mut stream.events).await {
            break;
        }
    }
    // The same address, a new run: sequence numbers start over, so the
    // client must get a snapshot, not a replay.
    let again = gateway::start(demo_config(addr), demo(42, 10, 60))
        .await
        .expect("restart on the same port");
    let mut connected = false;
    loop {
        match next_stream_msg(&mut stream.events).await {
            StreamEvent::Connected => connected = true,
            StreamEvent::Message(ServerMsg::Snapshot { epoch, items, .. }) => {
                assert!(connected);
                assert_ne!(epoch, first_epoch);
                assert_eq!(items.len(), 10);
                break;
            }
            _ => {}
        }
    }
    again.shutdown().await;
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_bounded_and_cut_off() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.refresh = Duration::from_millis(50);
    config.store_limits.subscriber_queue = 256;
    config.stream_limits.connection_queue = 4;
    config.stream_limits.write_timeout = Duration::from_millis(500);
    let gw = gateway::start(config, demo(3, 200, 4000)).await.unwrap();

    // A raw client with a tiny receive buffer that subscribes and never reads.
    let ws = slow_client(
        gw.addr,
        &[
            r#"{"type":"subscribe","sub":"t","topic":"tasks"}"#,
            r#"{"type":"subscribe","sub":"m","topic":"metrics"}"#,
        ],
    )
    .await;

    let metric = |body: &str, name: &str| -> f64 {
        exposed(body, name).unwrap_or_else(|| panic!("no {name}"))
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let body = exposition(&gw.url).await;
        assert!(
            metric(&body, "day2top_gateway_queued_frames ") <= 4.0 + 2.0,
            "the connection queue stays within its bound"
        );
        if metric(&body, "day2top_gateway_slow_clients_disconnected_total ") >= 1.0 {
            assert_eq!(
                metric(&body, "day2top_gateway_clients "),
                0.0,
                "the stalled client is gone"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled client was never cut off:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(ws);
    gw.shutdown().await;
}

#[tokio::test]
async fn subscriptions_can_be_added_and_dropped_on_a_live_stream() {
    let gw = start_demo().await;
    let client = Client::new(Endpoint {
        url: gw.url.clone(),
        token: READ.into(),
        ca: None,
    })
    .unwrap();
    let mut stream = client.stream(vec![]);
    loop {
        if next_stream_msg(&mut stream.events).await == StreamEvent::Connected {
            break;
        }
    }
    stream.subscribe(Subscription {
        sub: "cpu".into(),
        topic: Topic::Metrics,
        filter: day2top::api::Filter {
            names: vec!["node.cpu.percent".into()],
            ..Default::default()
        },
    });
    // The first thing after heartbeats is the new subscription's snapshot.
    loop {
        match next_stream_msg(&mut stream.events).await {
            StreamEvent::Message(ServerMsg::Heartbeat { .. }) => continue,
            StreamEvent::Message(ServerMsg::Snapshot { sub, items, .. }) => {
                assert_eq!(sub, "cpu");
                assert_eq!(items.len(), 10, "one CPU series per node");
                break;
            }
            other => panic!("expected the new subscription's snapshot, got {other:?}"),
        }
    }
    stream.unsubscribe("cpu");
    // Events in flight may still come; within a few seconds the stream
    // falls quiet: half a second with no event at all.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let next = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                if let Some(StreamEvent::Message(ServerMsg::Event { sub, .. })) =
                    stream.events.recv().await
                {
                    return sub;
                }
            }
        })
        .await;
        let Ok(sub) = next else {
            break; // quiet
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "events kept coming after unsubscribe: {sub}"
        );
    }
    gw.shutdown().await;
}
