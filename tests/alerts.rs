//! Alerting end to end: a demo gateway plays an OOM kill, a rule over
//! task endings fires, and local receivers made here take an
//! Alertmanager webhook, a PagerDuty event that fails twice before it is
//! taken (delivered once), and a Slack message answered 429 first (its
//! Retry-After honoured). The queue on disk outlives its process.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use day2top::alerts::config::AlertsConfig;
use day2top::alerts::queue::{Item, Queue, http_client};
use day2top::api::{AlertState, AlertsReport, now_millis};
use day2top::collect::demo::{DemoConfig, DemoSource, Scenario};
use day2top::gateway;

/// What a receiver was sent: when, on which path, the body.
type Taken = Arc<Mutex<Vec<(Instant, String, serde_json::Value)>>>;

#[derive(Clone)]
struct Receivers {
    taken: Taken,
    /// Requests answered so far, per path.
    calls: Arc<Mutex<std::collections::HashMap<String, u32>>>,
}

/// `/pd` fails its first two calls with 500, `/slack` its first with 429
/// and `Retry-After: 1`; everything else is taken.
async fn receive(
    State(r): State<Receivers>,
    Path(path): Path<String>,
    body: String,
) -> impl IntoResponse {
    let n = {
        let mut calls = r.calls.lock().unwrap();
        let n = calls.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let json: serde_json::Value = serde_json::from_str(&body).expect("every body is JSON");
    match (path.as_str(), n) {
        ("pd", 1 | 2) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("retry-after", "")],
            "down",
        )
            .into_response(),
        ("slack", 1) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response(),
        _ => {
            r.taken
                .lock()
                .unwrap()
                .push((Instant::now(), path.clone(), json));
            match path.as_str() {
                "pd" => (
                    StatusCode::ACCEPTED,
                    r#"{"status":"success","message":"Event processed"}"#,
                )
                    .into_response(),
                _ => (StatusCode::OK, "ok").into_response(),
            }
        }
    }
}

async fn receivers() -> (String, Receivers) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (url, receivers_on(listener))
}

/// The receivers, answering on `listener`.
fn receivers_on(listener: tokio::net::TcpListener) -> Receivers {
    let r = Receivers {
        taken: Arc::default(),
        calls: Arc::default(),
    };
    let app = Router::new()
        .route("/{path}", axum::routing::post(receive))
        .with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    r
}

fn taken(r: &Receivers, path: &str) -> Vec<(Instant, serde_json::Value)> {
    let taken = r.taken.lock().unwrap();
    taken
        .iter()
        .filter(|(_, p, _)| p == path)
        .map(|(at, _, b)| (*at, b.clone()))
        .collect()
}

#[tokio::test]
async fn an_oom_kill_pages_with_its_evidence_through_every_receiver() {
    let (url, r) = receivers().await;
    let queue = std::env::temp_dir().join(format!("day2top-alerts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&queue);
    let rules = format!(
        r#"
queue = "{queue}"
interval = "1s"

[[rule]]
name = "PaymentsDying"
tasks = ["failed"]
where = "/prod/payments/*"
above = 0
labels = {{ severity = "critical" }}
annotations = {{ summary = "{{value}} tasks of {{group}} failed" }}

[[receiver]]
name = "am"
kind = "webhook"
url = "{url}/am"
group_wait = "0s"

[[receiver]]
name = "pd"
kind = "pagerduty"
url = "{url}/pd"
routing_key = "R0UT1NGKEY"
group_wait = "0s"

[[receiver]]
name = "chat"
kind = "slack"
url = "{url}/slack"
group_wait = "0s"
"#,
        queue = queue.display()
    );
    let mut config = common::demo_config("127.0.0.1:0".parse().unwrap());
    config.alerts = Some(AlertsConfig::parse("rules.toml", &rules, None).unwrap());
    // Ticks are 100 ms: the kill comes 3 s in.
    let demo = DemoSource::new(DemoConfig {
        scenario: Some(Scenario::Oom),
        scenario_at: 30,
        ..Default::default()
    });
    let gw = gateway::start(config, Box::new(demo)).await.unwrap();

    let hook = common::poll_until("the webhook", Duration::from_secs(60), || async {
        taken(&r, "am").into_iter().next()
    })
    .await
    .1;
    assert_eq!(hook["version"], "4");
    assert_eq!(hook["status"], "firing");
    assert_eq!(hook["receiver"], "am");
    let alert = &hook["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "PaymentsDying");
    assert_eq!(alert["labels"]["group"], "/prod/payments/api");
    assert!(
        alert["annotations"]["summary"]
            .as_str()
            .unwrap()
            .ends_with("tasks of /prod/payments/api failed")
    );
    let evidence = alert["annotations"]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("OOM-killed"),
        "the triage finding rides along: {evidence}"
    );
    assert!(alert["startsAt"].as_str().unwrap().ends_with('Z'));

    // PagerDuty failed twice, then took it: once.
    let (_, event) = common::poll_until("the PagerDuty event", Duration::from_secs(30), || async {
        taken(&r, "pd").into_iter().next()
    })
    .await;
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(event["routing_key"], "R0UT1NGKEY");
    assert_eq!(event["payload"]["severity"], "critical");
    assert_eq!(event["payload"]["source"], "/prod/payments/api");
    // Among its evidence: the ranking may have moved on by the retry
    // that got through (a check failing since, say), so not always first.
    let evidence = event["payload"]["custom_details"]["evidence"]
        .as_array()
        .unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e.as_str().unwrap().contains("OOM-killed")),
        "the triage finding rides along: {evidence:?}"
    );

    // Slack said 429 and Retry-After: 1; the retry waited for it.
    let slack = common::poll_until("the Slack message", Duration::from_secs(30), || async {
        taken(&r, "slack").into_iter().next()
    })
    .await;
    assert!(
        slack.1["text"]
            .as_str()
            .unwrap()
            .starts_with("*FIRING* 1 alert(s)")
    );

    let report: AlertsReport = common::poll_until("the board", Duration::from_secs(10), || async {
        let report: AlertsReport = common::get_json(&format!("{}/api/v1/alerts", gw.url)).await;
        report
            .receivers
            .iter()
            .all(|s| s.queued == 0)
            .then_some(report)
    })
    .await;
    let firing: Vec<_> = report
        .alerts
        .iter()
        .filter(|a| a.state == AlertState::Firing)
        .collect();
    assert_eq!(firing.len(), 1, "{report:?}");
    assert!(firing[0].evidence.iter().any(|e| e.contains("OOM-killed")));
    let pd = report.receivers.iter().find(|s| s.name == "pd").unwrap();
    assert_eq!((pd.sent, pd.failed), (1, 2), "{pd:?}");
    let chat = report.receivers.iter().find(|s| s.name == "chat").unwrap();
    assert_eq!((chat.sent, chat.failed), (1, 1), "{chat:?}");
    let calls = r.calls.lock().unwrap().clone();
    assert_eq!(calls["slack"], 2);

    // Nothing is sent again while nothing changes (repeat is 4h).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(taken(&r, "pd").len(), 1, "delivered once");
    assert_eq!(taken(&r, "am").len(), 1);
    drop(gw);
    let _ = std::fs::remove_dir_all(&queue);
}

#[tokio::test]
async fn a_slack_429_waits_its_retry_after() {
    let (url, r) = receivers().await;
    let dir = std::env::temp_dir().join(format!("day2top-alerts-429-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = AlertsConfig::parse(
        "rules.toml",
        &format!("queue = \"{}\"\n[[receiver]]\nname = \"chat\"\nkind = \"slack\"\nurl = \"{url}/slack\"\n", dir.display()),
        None,
    )
    .unwrap();
    let queue = Queue::open(&dir, &config.receivers).unwrap();
    let item = Item {
        receiver: "chat".into(),
        body: serde_json::json!({"text": "hello"}),
        created: now_millis(),
        attempts: 0,
        next_at: 0,
    };
    queue.push(item).unwrap();
    let http = http_client().unwrap();
    let first = Instant::now();
    queue
        .send_due(&config.receivers[0], &http, now_millis())
        .await;
    assert!(taken(&r, "slack").is_empty(), "429 first");
    // Retried at once: not due yet.
    queue
        .send_due(&config.receivers[0], &http, now_millis())
        .await;
    assert_eq!(
        r.calls.lock().unwrap()["slack"],
        1,
        "the retry waits its second"
    );
    common::poll_until("the retry", Duration::from_secs(5), || async {
        queue
            .send_due(&config.receivers[0], &http, now_millis())
            .await;
        (!taken(&r, "slack").is_empty()).then_some(())
    })
    .await;
    assert!(taken(&r, "slack")[0].0 - first >= Duration::from_millis(1_000));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_queued_notification_outlives_its_process_and_is_delivered_once() {
    let dir = std::env::temp_dir().join(format!("day2top-alerts-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // A receiver that is not there yet: its port, then nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = format!(
        "queue = \"{}\"\n[[receiver]]\nname = \"am\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/am\"\n",
        dir.display()
    );
    let config = AlertsConfig::parse("rules.toml", &text, None).unwrap();
    let http = http_client().unwrap();
    {
        let queue = Queue::open(&dir, &config.receivers).unwrap();
        queue
            .push(Item {
                receiver: "am".into(),
                body: serde_json::json!({"version": "4", "status": "firing"}),
                created: now_millis(),
                attempts: 0,
                next_at: 0,
            })
            .unwrap();
        queue
            .send_due(&config.receivers[0], &http, now_millis())
            .await;
        let status = queue.status.lock().unwrap()[0].clone();
        assert_eq!((status.sent, status.failed, status.queued), (0, 1, 1));
        let why = status.last_error.unwrap();
        assert!(why.contains("onnect"), "says why: {why}");
        assert!(
            !why.contains("127.0.0.1"),
            "never the receiver's URL (a Slack URL is a secret): {why}"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(mode(&file), 0o600, "a notification may hold a routing key");
    } // the process "ends"
    // The receiver comes up on that port; a new process finds the file.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let r = receivers_on(listener);
    let queue = Queue::open(&dir, &config.receivers).unwrap();
    assert_eq!(queue.status.lock().unwrap()[0].queued, 1);
    // Its backoff (2 s) passes, then it goes, once.
    common::poll_until("the delivery", Duration::from_secs(10), || async {
        queue
            .send_due(&config.receivers[0], &http, now_millis())
            .await;
        (!taken(&r, "am").is_empty()).then_some(())
    })
    .await;
    for _ in 0..3 {
        queue
            .send_due(&config.receivers[0], &http, now_millis() + 600_000)
            .await;
    }
    assert_eq!(taken(&r, "am").len(), 1, "delivered once");
    assert_eq!(queue.status.lock().unwrap()[0].queued, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The console's `:alerts` and the header's count, over a board as the
/// gateway serves it.
#[test]
fn the_alerts_view_and_the_headers_count() {
    use day2top::api::{Alert, ReceiverStatus};
    let mut app = day2top::fixture::demo_app(DemoConfig::default(), 5);
    let alert = |name: &str, state, since: i64| {
        Alert {
        rule: name.into(),
        state,
        labels: [("alertname", name), ("group", "/prod/payments/api"), ("severity", "critical")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: [("summary".to_string(), "1 tasks of /prod/payments/api failed".to_string())].into(),
        since: app.now - since,
        fired_at: Some(app.now - since),
        resolved_at: None,
        value: 1.0,
        fingerprint: "2b0edac4205db9df".into(),
        evidence: vec![
            "payments-api (/prod/payments/api) OOM-killed on agent-001-S4: exit status 137 (OOM killed)".into(),
            "error spike in /prod/payments/api: 578 errors, 144/min against 10/min".into(),
        ],
    }
    };
    app.model.alerts = Some(Ok(AlertsReport {
        evaluated: app.now - 2_000,
        rules: 3,
        alerts: vec![
            alert("PaymentsDying", AlertState::Firing, 95_000),
            alert("MemoryHigh", AlertState::Pending, 20_000),
        ],
        receivers: vec![ReceiverStatus {
            name: "pd".into(),
            kind: "pagerduty".into(),
            sent: 1,
            failed: 2,
            queued: 0,
            last_error: None,
        }],
        dropped: 0,
        problem: None,
    }));
    common::screen::typed(&mut app, ":alerts\n");
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = common::screen::render(&mut app, w, h);
        common::screen::golden(&format!("alerts_{w}x{h}"), screen);
    }
    // A gateway without alerting: said in the view, and not asked again.
    app.model.alerts = Some(Err(
        "gateway refused: alerting is off: start the gateway with --alerts FILE".into(),
    ));
    assert!(day2top::tui::alerts::off(&app.model.alerts));
}
