//! Health checks against real servers the test starts on loopback: 200,
//! 500, a body that does not match, slow beyond the timeout, connection
//! refused, commands that pass and fail; grace periods and thresholds; a
//! node's health following its check; the built-in checks.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{demo, demo_config};
use day2top::api::{Check, CheckStatus, Health, Node};
use day2top::collect::checks;
use day2top::gateway;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A tiny HTTP server: every request gets `status` and `body`, after `delay`.
async fn http_server(status: u16, body: &'static str, delay: Duration) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                tokio::time::sleep(delay).await;
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_against_real_servers_with_grace_and_thresholds() {
    let ok = http_server(200, "all ok", Duration::ZERO).await;
    let broken = http_server(500, "boom", Duration::ZERO).await;
    let slow = http_server(200, "late", Duration::from_secs(3)).await;
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }; // dropped: nothing listens there now
    let file = format!(
        r#"
        [[check]]
        name = "ok"
        http = "http://{ok}/health"
        body = "ok$"
        interval = "200ms"
        [[check]]
        name = "wrong body"
        http = "http://{ok}/health"
        body = "^fine"
        interval = "200ms"
        failures = 2
        [[check]]
        name = "broken"
        http = "http://{broken}/health"
        interval = "200ms"
        failures = 2
        node = "agent-001-S4"
        [[check]]
        name = "broken in grace"
        http = "http://{broken}/health"
        interval = "200ms"
        grace = "1h"
        [[check]]
        name = "slow"
        http = "http://{slow}/"
        interval = "200ms"
        timeout = "300ms"
        failures = 1
        [[check]]
        name = "refused"
        tcp = "{refused}"
        interval = "200ms"
        failures = 1
        [[check]]
        name = "open port"
        tcp = "{ok}"
        interval = "200ms"
        [[check]]
        name = "command passes"
        command = ["sh", "-c", "echo fine"]
        interval = "200ms"
        [[check]]
        name = "command fails"
        command = ["sh", "-c", "echo no disk >&2; exit 4"]
        interval = "200ms"
        failures = 1
        "#
    );
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.checks = checks::parse(&file).unwrap();
    let gw = gateway::start(config, demo(42, 10, 60)).await.unwrap();

    let wanted = [
        ("ok", CheckStatus::Passing),
        ("wrong body", CheckStatus::Failing),
        ("broken", CheckStatus::Failing),
        ("broken in grace", CheckStatus::Grace),
        ("slow", CheckStatus::Failing),
        ("refused", CheckStatus::Failing),
        ("open port", CheckStatus::Passing),
        ("command passes", CheckStatus::Passing),
        ("command fails", CheckStatus::Failing),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let checks: Vec<Check> = loop {
        let body = common::get_json::<Value>(&format!("{}/api/v1/health", gw.url)).await;
        let checks: Vec<Check> = serde_json::from_value(body["items"].clone()).unwrap();
        let status = |name: &str| checks.iter().find(|c| c.name == name).map(|c| c.status);
        if wanted.iter().all(|(n, s)| status(n) == Some(*s)) {
            break checks;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:#?}",
            checks
                .iter()
                .map(|c| (&c.name, c.status, &c.last_output))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let by = |name: &str| checks.iter().find(|c| c.name == name).unwrap();
    assert!(by("broken").last_output.contains("500"));
    assert!(by("broken").consecutive_failures >= 2);
    assert!(by("wrong body").last_output.contains("does not match"));
    assert!(by("slow").last_output.contains("no answer within"));
    assert!(by("refused").last_output.contains("cannot connect"));
    assert!(by("command fails").last_output.contains("no disk"));
    assert!(by("command passes").last_output.contains("fine"));
    assert!(by("ok").history.iter().all(|r| r.ok && r.latency_ms >= 0.0));
    assert_eq!(
        checks[0].status,
        CheckStatus::Failing,
        "failing checks come first"
    );

    // The built-in checks are there too, and the node follows its check.
    assert!(checks.iter().any(|c| c.id == "builtin:quorum"));
    assert!(checks.iter().any(|c| c.id.starts_with("builtin:disk:")));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let body =
            common::get_json::<Value>(&format!("{}/api/v1/nodes/agent-001-S4", gw.url)).await;
        let node: Node = serde_json::from_value(body["item"].clone()).unwrap();
        if node.health == Health::Unhealthy {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node health {:?}",
            node.health
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let only =
        common::get_json::<Value>(&format!("{}/api/v1/health?node=agent-001-S4", gw.url)).await;
    let names: Vec<&str> = only["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"broken") && !names.contains(&"ok"),
        "{names:?}"
    );
    gw.shutdown().await;
}
