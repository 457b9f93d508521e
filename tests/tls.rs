//! TLS end to end: a certificate made here, signed by a CA made here; the
//! gateway serves HTTPS and WSS, and the client trusts the CA given to it.

mod common;

use common::*;
use day2top::api::{ServerMsg, Topic, VersionInfo};
use day2top::client::{Client, ClientError, Endpoint, StreamEvent, Subscription};
use day2top::gateway::{self, TlsFiles};

#[tokio::test]
async fn https_and_wss_with_a_private_ca() {
    let pki = Pki::new("ok", &["localhost", "127.0.0.1"]);
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsFiles {
        cert: pki.dir.join("cert.pem"),
        key: pki.dir.join("key.pem"),
    });
    let gw = gateway::start(config, demo(1, 5, 20)).await.unwrap();
    assert!(gw.url.starts_with("https://127.0.0.1:"));

    let trusted = Client::new(Endpoint {
        url: gw.url.clone(),
        token: READ.into(),
        ca: Some(pki.dir.join("ca.pem")),
    })
    .unwrap();
    let version: VersionInfo = trusted.get("/api/v1/version").await.unwrap();
    assert_eq!(version.api_version, "v1");

    let mut stream = trusted.stream(vec![Subscription {
        sub: "n".into(),
        topic: Topic::Nodes,
        filter: Default::default(),
    }]);
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), stream.events.recv())
            .await
            .unwrap()
            .unwrap();
        match event {
            StreamEvent::Message(ServerMsg::Snapshot { items, .. }) => {
                assert_eq!(items.len(), 5);
                break;
            }
            StreamEvent::Disconnected { error, .. } => panic!("the TLS stream failed: {error}"),
            _ => {}
        }
    }

    let untrusted = Client::new(Endpoint {
        url: gw.url.clone(),
        token: READ.into(),
        ca: None,
    })
    .unwrap();
    match untrusted.get::<VersionInfo>("/api/v1/version").await {
        Err(ClientError::Unreachable(e)) => {
            assert!(e.to_lowercase().contains("certificate"), "{e}")
        }
        other => panic!("an unknown CA must be refused, got {other:?}"),
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn bad_tls_files_are_named_in_the_error() {
    let pki = Pki::new("bad", &["localhost", "127.0.0.1"]);
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsFiles {
        cert: pki.dir.join("missing.pem"),
        key: pki.dir.join("key.pem"),
    });
    let err = gateway::start(config, demo(1, 2, 2)).await.err().unwrap();
    assert!(err.contains("missing.pem"), "{err}");

    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsFiles {
        cert: pki.dir.join("ca.pem"),
        key: pki.dir.join("key.pem"),
    });
    let err = gateway::start(config, demo(1, 2, 2)).await.err().unwrap();
    assert!(err.contains("do not fit together"), "{err}");
}

#[tokio::test]
async fn exec_over_tls_with_a_private_ca() {
    use day2top::api::{ExecRequest, TaskState};
    use day2top::client::ExecOutput;
    use day2top::gateway::{Scope, Token, Tokens};
    let pki = Pki::new("exec", &["localhost", "127.0.0.1"]);
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsFiles {
        cert: pki.dir.join("cert.pem"),
        key: pki.dir.join("key.pem"),
    });
    config.tokens = Some(Tokens::new(vec![
        Token::new("ops", EXEC_ONLY, vec![Scope::Read, Scope::Exec])
            .with_exec(&["*"], &["*", "root"]),
    ]));
    let gw = gateway::start(config, demo(7, 3, 12)).await.unwrap();
    let client = Client::new(Endpoint {
        url: gw.url.clone(),
        token: EXEC_ONLY.into(),
        ca: Some(pki.dir.join("ca.pem")),
    })
    .unwrap();
    let listing: serde_json::Value = client.get("/api/v1/tasks").await.unwrap();
    let tasks: Vec<day2top::api::Task> = serde_json::from_value(listing["items"].clone()).unwrap();
    let task = tasks
        .iter()
        .find(|t| t.state == TaskState::Running)
        .expect("a running task");
    let request = ExecRequest {
        cmd: vec!["sh".into(), "-c".into(), "echo over-tls; exit 2".into()],
        tty: true,
        interactive: false,
        cols: 80,
        rows: 24,
        env: Default::default(),
        user: None,
        container: None,
    };
    let mut session = client.exec(&task.id, &request).await.unwrap();
    let mut out = Vec::new();
    let status = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), session.output.recv())
            .await
            .unwrap()
        {
            Some(ExecOutput::Stdout(d)) => out.extend(d),
            Some(ExecOutput::Exited(status)) => break status,
            other => panic!("{other:?}"),
        }
    };
    assert!(String::from_utf8_lossy(&out).contains("over-tls"));
    assert_eq!(status.exit_code, Some(2));
    gw.shutdown().await;
}
