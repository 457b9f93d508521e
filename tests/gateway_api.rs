//! The gateway's REST API and auth, over real sockets.

mod common;

use common::*;
use day2top::api::{ApiError, ClusterInfo, ErrorCode, Node, Task, TaskState, VersionInfo};
use serde_json::Value;

async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = http().get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("the gateway answers");
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn rest_routes_answer_with_snapshots_and_sequence_numbers() {
    let gw = start_demo().await;
    let base = format!("{}/api/v1", gw.url);

    let (status, body) = get(&format!("{base}/version"), Some(READ)).await;
    assert_eq!(status, 200);
    let version: VersionInfo = serde_json::from_str(&body).unwrap();
    assert_eq!(version.api_version, "v1");
    assert!(version.capabilities.iter().any(|c| c == "stream:tasks"));

    let (_, body) = get(&format!("{base}/cluster"), Some(READ)).await;
    let cluster: ClusterInfo = serde_json::from_str(&body).unwrap();
    assert_eq!(cluster.source, "demo");
    assert_eq!(cluster.nodes, 10);
    assert!(cluster.tasks >= 60);
    assert!(cluster.tasks_seq > 0);

    let (_, body) = get(&format!("{base}/nodes"), Some(READ)).await;
    let listing: Value = serde_json::from_str(&body).unwrap();
    assert!(listing["seq"].as_u64().unwrap() > 0);
    let nodes: Vec<Node> = serde_json::from_value(listing["items"].clone()).unwrap();
    assert_eq!(nodes.len(), 10);

    let (status, body) = get(&format!("{base}/nodes/{}", nodes[0].id), Some(READ)).await;
    assert_eq!(status, 200);
    let one: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(one["item"]["id"], nodes[0].id);

    let agent = nodes.iter().find(|n| n.role == "agent").unwrap();
    let (_, body) = get(
        &format!("{base}/tasks?node={}&state=running", agent.id),
        Some(READ),
    )
    .await;
    let listing: Value = serde_json::from_str(&body).unwrap();
    let tasks: Vec<Task> = serde_json::from_value(listing["items"].clone()).unwrap();
    assert!(!tasks.is_empty());
    assert!(
        tasks
            .iter()
            .all(|t| t.node_id == agent.id && t.state == TaskState::Running)
    );

    let (_, body) = get(&format!("{base}/tasks?q=CASSANDRA"), Some(READ)).await;
    let listing: Value = serde_json::from_str(&body).unwrap();
    let tasks: Vec<Task> = serde_json::from_value(listing["items"].clone()).unwrap();
    assert_eq!(tasks.len(), 3, "the three ring members, case-insensitively");

    let (status, body) = get(&format!("{base}/tasks/{}", tasks[0].id), Some(READ)).await;
    assert_eq!(status, 200);
    assert!(body.contains(&tasks[0].id));

    gw.shutdown().await;
}

#[tokio::test]
async fn errors_have_one_shape() {
    let gw = start_demo().await;
    let base = format!("{}/api/v1", gw.url);
    let cases = [
        (
            format!("{base}/tasks/nope"),
            Some(READ),
            404,
            ErrorCode::NotFound,
        ),
        (
            format!("{base}/nodes/nope"),
            Some(READ),
            404,
            ErrorCode::NotFound,
        ),
        (
            format!("{base}/no/such/route"),
            Some(READ),
            404,
            ErrorCode::NotFound,
        ),
        (
            format!("{base}/tasks?state=sleeping"),
            Some(READ),
            400,
            ErrorCode::BadRequest,
        ),
        (
            format!("{base}/tasks?bogus=1"),
            Some(READ),
            400,
            ErrorCode::BadRequest,
        ),
        (
            format!("{base}/cluster"),
            None,
            401,
            ErrorCode::Unauthorized,
        ),
        (
            format!("{base}/cluster"),
            Some("wrong-secret-0123456789"),
            401,
            ErrorCode::Unauthorized,
        ),
        (
            format!("{base}/cluster"),
            Some(EXEC_ONLY),
            403,
            ErrorCode::Forbidden,
        ),
        (
            format!("{}/metrics", gw.url),
            None,
            401,
            ErrorCode::Unauthorized,
        ),
    ];
    for (url, token, status, code) in cases {
        let (got, body) = get(&url, token).await;
        assert_eq!(got, status, "{url}: {body}");
        let error: ApiError =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
        assert_eq!(error.error.code, code, "{url}");
        assert!(!error.error.message.is_empty());
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn the_stream_upgrade_needs_a_token_too() {
    let gw = start_demo().await;
    let url = format!("{}/api/v1/stream", gw.url.replacen("http", "ws", 1));
    let err = tokio_tungstenite::connect_async(url).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    gw.shutdown().await;
}

#[tokio::test]
async fn prometheus_exposition_has_cluster_and_gateway_metrics() {
    let gw = start_demo().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, body) = get(&format!("{}/metrics", gw.url), Some(READ)).await;
    assert_eq!(status, 200);
    for needle in [
        "# TYPE day2top_node_cpu_percent gauge",
        "day2top_node_cpu_percent{node_id=\"master-1-S0\"}",
        "day2top_tasks{state=\"running\"}",
        "day2top_gateway_clients 0",
        "day2top_gateway_events_dropped_total 0",
        "day2top_gateway_topic_backlog{topic=\"tasks\"}",
        "day2top_gateway_series_dropped_samples_total 0",
        "day2top_gateway_auth_failures_total",
    ] {
        assert!(body.contains(needle), "missing {needle:?} in\n{body}");
    }
    // Every sample line is `name{labels} value` with a number for a value.
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "bad sample line {line:?}");
    }
    gw.shutdown().await;
}

#[test]
fn a_public_address_needs_tls_and_tokens_or_insecure() {
    use day2top::gateway::{GatewayConfig, TlsFiles, check_exposure};
    let mut config = GatewayConfig::new("0.0.0.0:7070".parse().unwrap());
    let err = check_exposure(&config).unwrap_err();
    assert!(
        err.contains("TLS") && err.contains("token file") && err.contains("--insecure"),
        "{err}"
    );
    config.tokens = Some(tokens());
    assert!(
        check_exposure(&config)
            .unwrap_err()
            .contains("TLS (--tls-cert/--tls-key)")
    );
    config.tls = Some(TlsFiles {
        cert: "c".into(),
        key: "k".into(),
    });
    assert!(check_exposure(&config).is_ok());
    let mut open = GatewayConfig::new("0.0.0.0:7070".parse().unwrap());
    open.insecure = true;
    assert!(check_exposure(&open).is_ok());
    assert!(check_exposure(&GatewayConfig::new("127.0.0.1:7070".parse().unwrap())).is_ok());
}
