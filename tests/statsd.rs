//! statsd/DogStatsD through a real gateway: a real client library (cadence)
//! sending every metric type over UDP, garbage and truncated datagrams, a
//! packet near the 64 KiB limit, events and service checks; read back at
//! `/metrics` and `/api/v1/logs`.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use cadence::prelude::*;
use cadence::{StatsdClient, UdpMetricSink};
use day2top::gateway;

use common::{exposed, exposition as metrics};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_from_a_real_client_and_garbage_that_changes_nothing() {
    let mut config = common::demo_config("127.0.0.1:0".parse().unwrap());
    config.statsd = Some("127.0.0.1:0".parse().unwrap());
    config.statsd_interval = Duration::from_millis(200);
    let gw = gateway::start(config, common::demo(7, 1, 1)).await.unwrap();
    let at = gw.statsd_addr.expect("statsd listens");

    let sink = UdpMetricSink::from(at, UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    let client = StatsdClient::from_sink("app", sink);
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    // Garbage, truncated, and good lines mixed with bad in one datagram.
    for bad in [
        &b"\xff\xfe\x00 not statsd"[..],
        b"half:1|",
        b"x:1|c\nbroken line\nqueue.depth:5|g",
        b"_e{40,2}:short|ab",
    ] {
        raw.send_to(bad, at).unwrap();
    }
    // One packet at the UDP limit (65,507 bytes of payload): 5,400 lines.
    let bulk: String = (0..5400)
        .map(|i| format!("bulk.m{}:1|c\n", i % 10))
        .collect();
    assert!(bulk.len() > 64_000 && bulk.len() <= 65_507);
    raw.send_to(bulk.as_bytes(), at).unwrap();
    raw.send_to(b"_e{4,5}:boom|disk!|t:error|#team:ops", at)
        .unwrap();
    raw.send_to(b"_sc|db.up|2|m:connection refused", at)
        .unwrap();

    // Until every kind shows: the client sends again each round, as an
    // application would (UDP gives no promise about the first datagram).
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        client
            .count_with_tags("requests", 3)
            .with_tag("env", "prod")
            .send();
        client.gauge("queue", 12).unwrap();
        client.time("db.query", 25).unwrap();
        client.histogram("payload", 512).unwrap();
        client.distribution("latency", 7).unwrap();
        client.set("users", 42).unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        let text = metrics(&gw.url).await;
        let all = [
            "day2top_app_requests{env=\"prod\"}",
            "day2top_app_queue ",
            "day2top_app_db_query_p99",
            "day2top_app_payload_max",
            "day2top_app_latency_count",
            "day2top_app_users ",
        ];
        if all.iter().all(|p| exposed(&text, p).is_some()) || Instant::now() > deadline {
            break text;
        }
    };
    assert!(
        exposed(&text, "day2top_app_requests{env=\"prod\"}").unwrap() > 0.0,
        "{text}"
    );
    assert_eq!(exposed(&text, "day2top_app_queue "), Some(12.0));
    assert_eq!(exposed(&text, "day2top_app_db_query_p99"), Some(25.0));
    assert_eq!(exposed(&text, "day2top_app_payload_max"), Some(512.0));
    assert_eq!(exposed(&text, "day2top_app_users "), Some(1.0));
    assert_eq!(
        exposed(&text, "day2top_queue_depth "),
        Some(5.0),
        "the good line beside bad ones"
    );
    assert_eq!(
        exposed(&text, "day2top_statsd_service_check{check=\"db.up\"}"),
        Some(2.0)
    );
    let malformed = exposed(&text, "day2top_gateway_statsd_malformed_total").unwrap();
    assert!(malformed >= 4.0, "every bad line counted: {malformed}");
    let lines = exposed(&text, "day2top_gateway_statsd_lines_total").unwrap();
    assert!(lines >= 5400.0, "{lines}");

    let (status, logs) = common::read_logs(&gw.url, "limit=1000").await;
    assert_eq!(status, 200);
    let event = logs
        .iter()
        .find(|e| e.message == "boom: disk!")
        .expect("the event");
    assert_eq!(event.priority, 3);
    assert!(
        logs.iter()
            .any(|e| e.message == "db.up critical: connection refused" && e.priority == 3)
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn a_busy_statsd_port_is_a_clear_error() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut config = common::demo_config("127.0.0.1:0".parse().unwrap());
    config.statsd = Some(taken.local_addr().unwrap());
    let Err(e) = gateway::start(config, common::demo(7, 1, 1)).await else {
        panic!("started on a taken port")
    };
    assert!(
        e.contains("cannot listen for statsd") && e.contains("--statsd off"),
        "{e}"
    );
}
