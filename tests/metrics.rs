//! Metric series over real sockets: range reads with steps, their errors,
//! and a lagging metrics subscriber caught up by coalescing instead of gaps.

mod common;

use std::time::Duration;

use common::{READ, demo, demo_config, http};
use day2top::api::{Record, ServerMsg};
use day2top::gateway;
use futures_util::StreamExt;
use serde_json::Value;

/// Status and body, for errors too.
async fn get(url: &str) -> (u16, Value) {
    let resp = http().get(url).bearer_auth(READ).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn series_over_a_range_in_steps() {
    let gw = common::start_demo().await;
    let url = format!(
        "{}/api/v1/metrics/series?name=node.cpu.percent&tag=node_id:agent-001-S4&from=-1m&step=1s",
        gw.url
    );
    // Points a step apart come as the demo's readings do.
    let (status, body) =
        common::poll_until("two steps of points", Duration::from_secs(10), || async {
            let (status, body) = get(&url).await;
            let points = body["series"][0]["points"].as_array().map_or(0, Vec::len);
            (status != 200 || points >= 2).then_some((status, body))
        })
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["step"], 1000);
    let series = body["series"].as_array().unwrap();
    assert_eq!(series.len(), 1, "{body}");
    assert_eq!(series[0]["tags"]["node_id"], "agent-001-S4");
    let points = series[0]["points"].as_array().unwrap();
    assert!(points.len() >= 2, "{body}");
    let times: Vec<i64> = points.iter().map(|p| p[0].as_i64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] >= 1000),
        "one point a step: {times:?}"
    );

    // A prefix of names, every node.
    let (_, body) = get(&format!(
        "{}/api/v1/metrics/series?name=node.*&from=now-5m",
        gw.url
    ))
    .await;
    assert!(body["series"].as_array().unwrap().len() > 10);

    for (query, says) in [
        ("step=soon", "step"),
        ("from=yesterday", "not a time"),
        ("from=-1m&to=-2m", "after"),
        ("bogus=1", "unknown parameter"),
    ] {
        let (status, body) = get(&format!("{}/api/v1/metrics/series?{query}", gw.url)).await;
        assert_eq!(status, 400, "{query}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{query}: {message}");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn a_metrics_subscriber_that_falls_behind_is_caught_up_not_told_of_a_gap() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.refresh = Duration::from_millis(50);
    config.store_limits.subscriber_queue = 256;
    config.stream_limits.connection_queue = 4;
    config.stream_limits.write_timeout = Duration::from_secs(60);
    let gw = gateway::start(config, demo(3, 200, 4000)).await.unwrap();

    let mut ws = common::slow_client(
        gw.addr,
        &[r#"{"type":"subscribe","sub":"m","topic":"metrics","from":"now"}"#],
    )
    .await;
    // Stop reading long enough to fall far behind.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut caught_up, mut events) = (0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline && (caught_up == 0 || events < 20_000) {
        let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await
        else {
            break;
        };
        let tokio_tungstenite::tungstenite::Message::Text(text) = frame else {
            continue;
        };
        match serde_json::from_str::<ServerMsg>(&text).unwrap() {
            ServerMsg::Gap { .. } => panic!("a metrics subscriber got a gap"),
            ServerMsg::Event { events: batch, .. } => {
                events += batch.len();
                caught_up += batch
                    .iter()
                    .filter(|e| e.seq == 0 && matches!(e.data, Record::Sample(_)))
                    .count();
            }
            _ => {}
        }
    }
    assert!(caught_up > 0, "no catch-up after {events} events");
    let body = common::exposition(&gw.url).await;
    let coalesced = common::exposed(&body, "day2top_gateway_events_coalesced_total ").unwrap();
    assert!(coalesced > 0.0);
    let bytes = common::exposed(&body, "day2top_gateway_stream_bytes_sent_total ").unwrap();
    assert!(bytes > 100_000.0, "{events} events in {bytes} bytes");
    gw.shutdown().await;
}

#[tokio::test]
async fn a_metrics_subscription_that_asks_for_binary_frames_gets_the_same_samples() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.refresh = Duration::from_millis(50);
    let gw = gateway::start(config, demo(5, 5, 40)).await.unwrap();
    let subscribe = |encoding: &str| {
        format!(
            r#"{{"type":"subscribe","sub":"m","topic":"metrics","from":"now","filter":{{"names":["task.*","node.cpu.percent"]}}{encoding}}}"#
        )
    };
    let mut json = common::ws_connect(&gw.url, READ).await;
    let mut binary = common::ws_connect(&gw.url, READ).await;
    common::send(&mut json, &subscribe("")).await;
    common::send(&mut binary, &subscribe(r#","encoding":"binary""#)).await;
    let (by_json, none) = common::stream_events(&mut json, 2000).await;
    let (by_binary, frames) = common::stream_events(&mut binary, 2000).await;
    assert_eq!(none, 0, "a client that did not ask gets no binary frame");
    assert!(frames > 0, "binary frames were sent");
    // Each started where it subscribed: from the later start on, the same.
    let start = by_json[0].seq.max(by_binary[0].seq);
    let from = |events: &[day2top::api::Event]| -> Vec<day2top::api::Event> {
        events
            .iter()
            .filter(|e| e.seq >= start)
            .take(1000)
            .cloned()
            .collect()
    };
    let (a, b) = (from(&by_json), from(&by_binary));
    assert_eq!(a.len(), 1000);
    assert!(a == b, "the same samples either way");
    assert!(
        a.iter()
            .all(|e| matches!(&e.data, Record::Sample(s) if !s.tags.is_empty())),
        "samples with their tags"
    );
    gw.shutdown().await;
}
