//! The client against a misbehaving server: a real WebSocket server in the
//! test that sends garbage and then the truth. The client must skip what it
//! cannot read, keep the connection, and deliver the good messages.

use std::time::Duration;

use day2top::api::{ServerMsg, Topic};
use day2top::client::{Client, Endpoint, StreamEvent, Subscription};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn unreadable_frames_are_skipped_not_fatal() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let _subscribe = ws.next().await;
        for bad in [
            "{not json",
            r#"{"type":"snapshot"}"#,
            r#"{"type":"teleport","sub":"n"}"#,
            "\u{1b}[2J\u{7}",
        ] {
            ws.send(Message::text(bad)).await.unwrap();
        }
        ws.send(Message::binary(vec![0xff, 0xfe, 0x00]))
            .await
            .unwrap();
        let good = r#"{"type":"snapshot","sub":"n","seq":7,"epoch":"e","items":[]}"#;
        ws.send(Message::text(good)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let client = Client::new(Endpoint {
        url: format!("http://{addr}"),
        token: "0123456789abcdef".into(),
        ca: None,
    })
    .unwrap();
    let mut stream = client.stream(vec![Subscription {
        sub: "n".into(),
        topic: Topic::Nodes,
        filter: Default::default(),
    }]);
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.events.recv())
            .await
            .expect("the good snapshot arrives")
            .unwrap();
        match event {
            StreamEvent::Message(ServerMsg::Snapshot { seq, .. }) => {
                assert_eq!(seq, 7);
                break;
            }
            StreamEvent::Message(other) => panic!("garbage came through as {other:?}"),
            StreamEvent::Disconnected { error, .. } => {
                panic!("bad frames dropped the connection: {error}")
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn bad_urls_and_tokens_are_refused_with_a_reason() {
    let err = Client::new(Endpoint {
        url: "ftp://x".into(),
        token: "t".into(),
        ca: None,
    })
    .err()
    .unwrap();
    assert!(err.contains("http:// or https://"), "{err}");
    let err = Client::new(Endpoint {
        url: "https://x".into(),
        token: "t".into(),
        ca: Some("/nonexistent/ca.pem".into()),
    })
    .err()
    .unwrap();
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");

    let dir = std::env::temp_dir().join(format!("day2top-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("plain");
    std::fs::write(&plain, "  s3cret-value-0123456789\n").unwrap();
    assert_eq!(
        day2top::client::read_token_file(&plain).unwrap(),
        "s3cret-value-0123456789"
    );
    let toml = dir.join("tokens.toml");
    std::fs::write(
        &toml,
        "[[token]]\nname='a'\nsecret='first-0123456789abc'\nscopes=['read']\n",
    )
    .unwrap();
    assert_eq!(
        day2top::client::read_token_file(&toml).unwrap(),
        "first-0123456789abc"
    );
    let empty = dir.join("empty");
    std::fs::write(&empty, "\n").unwrap();
    assert!(
        day2top::client::read_token_file(&empty)
            .unwrap_err()
            .contains("empty")
    );
    assert!(
        day2top::client::read_token_file(&dir.join("missing"))
            .unwrap_err()
            .contains("cannot read")
    );
    let _ = std::fs::remove_dir_all(dir);
}

mod common;

fn client_for(url: &str, token: &str) -> Client {
    Client::new(Endpoint {
        url: url.to_string(),
        token: token.into(),
        ca: None,
    })
    .unwrap()
}

#[tokio::test]
async fn a_refused_token_is_reported_once_and_not_retried() {
    let gw = common::start_demo().await;
    for (token, says) in [
        (
            "not-a-token-0123456789",
            "refused the token: invalid bearer token",
        ),
        (common::INGEST, "refused the token's scope"),
    ] {
        let mut stream = client_for(&gw.url, token).stream(vec![Subscription {
            sub: "n".into(),
            topic: Topic::Nodes,
            filter: Default::default(),
        }]);
        let mut refused = 0;
        let mut attempts = 0;
        // Long enough for several retries, were there any.
        let until = tokio::time::Instant::now() + Duration::from_millis(2500);
        while let Ok(Some(event)) = tokio::time::timeout_at(until, stream.events.recv()).await {
            match event {
                StreamEvent::Refused { error } => {
                    assert!(error.contains(says), "{error}");
                    refused += 1;
                }
                StreamEvent::Connecting { .. } => attempts += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((refused, attempts), (1, 1), "told once, tried once");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn subscriptions_asked_while_reconnecting_are_all_kept() {
    // Nothing listens yet: the client keeps retrying while it is asked for
    // far more changes than a queue would have held.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut stream = client_for(&url, common::READ).stream(vec![]);
    let mut failed = 0;
    while failed < 2 {
        if let Some(StreamEvent::Disconnected { .. }) = stream.events.recv().await {
            failed += 1;
        }
    }
    for n in 0..60 {
        stream.subscribe(Subscription {
            sub: format!("s{n}"),
            topic: Topic::Nodes,
            filter: Default::default(),
        });
    }
    for n in 0..30 {
        stream.unsubscribe(&format!("s{n}"));
    }
    let gw = day2top::gateway::start(
        common::demo_config(format!("127.0.0.1:{port}").parse().unwrap()),
        common::demo(1, 2, 2),
    )
    .await
    .unwrap();
    let mut snapshots = std::collections::BTreeSet::new();
    let until = tokio::time::Instant::now() + Duration::from_secs(8);
    while snapshots.len() < 30 {
        match tokio::time::timeout_at(until, stream.events.recv()).await {
            Ok(Some(StreamEvent::Message(ServerMsg::Snapshot { sub, .. }))) => {
                snapshots.insert(sub);
            }
            Ok(Some(StreamEvent::Message(ServerMsg::Error { error, .. }))) => {
                panic!("{error:?}")
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let expected: std::collections::BTreeSet<String> = (30..60).map(|n| format!("s{n}")).collect();
    assert_eq!(snapshots, expected);
    // Nothing more comes for the ones unsubscribed.
    if let Ok(Some(StreamEvent::Message(ServerMsg::Snapshot { sub, .. }))) =
        tokio::time::timeout(Duration::from_millis(500), stream.events.recv()).await
    {
        panic!("a snapshot for {sub}");
    }
    gw.shutdown().await;
}
