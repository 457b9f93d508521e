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

use common::{demo, demo_config, exposed, exposition, exposition as metrics};

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

/// Each family once: a second `# TYPE` line for a name makes Prometheus
/// drop the whole scrape.
fn type_lines_are_unique(text: &str) {
    let mut seen = std::collections::HashSet::new();
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(
            seen.insert(name.to_string()),
            "a second TYPE line for {name}"
        );
    }
}

#[tokio::test]
async fn statsd_names_cannot_break_the_prometheus_exposition() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.statsd = Some("127.0.0.1:0".parse().unwrap());
    config.statsd_interval = Duration::from_millis(200);
    let gw = gateway::start(config, demo(1, 2, 3)).await.unwrap();
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    for line in [
        "nodes:5|g",
        "tasks:7|g",
        "gateway.clients:9|g",
        "gateway_clients:9|g",
        "collected.nodes:1|g",
        "a.b:1|g",
        "a_b:2|g",
    ] {
        raw.send_to(line.as_bytes(), gw.statsd_addr.unwrap())
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let text = exposition(&gw.url).await;
    type_lines_are_unique(&text);
    assert_eq!(
        exposed(&text, "day2top_collected_nodes "),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        exposed(&text, "day2top_nodes "),
        Some(2.0),
        "the built-in is untouched"
    );
    assert_eq!(
        exposed(&text, "day2top_collected_collected_nodes "),
        Some(1.0)
    );
    // Checked by Prometheus's own linter where it is installed.
    if let Ok(mut promtool) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        promtool
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = promtool.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        // promtool also lints style (units, _total); only errors fail a scrape.
        assert!(!said.contains("error while linting"), "{said}");
        assert!(!said.contains("second TYPE line"), "{said}");
    } else {
        assert!(
            std::env::var_os("DAY2TOP_REQUIRE_PROMETHEUS").is_none(),
            "DAY2TOP_REQUIRE_PROMETHEUS is set but promtool is missing"
        );
        eprintln!("skipped: promtool check (promtool is not installed)");
    }
    gw.shutdown().await;
}
