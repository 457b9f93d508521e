//! Share mode end to end. A demo gateway with planted secrets (in log
//! lines, task labels and span attributes, `--demo-canaries`), a command
//! check whose output holds one, an exec whose command holds one (the
//! audit trail), and an alert whose label holds one. A console in share
//! mode goes through every view over the real event loop and records
//! while it does: no frame shows a planted secret, nor does the
//! recording, the alert sent, or the audit trail read through a sharing
//! client. A placeholder is the same on the screen and in the recording.

mod common;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use color_eyre::eyre::Result;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use day2top::alerts::config::AlertsConfig;
use day2top::client::{Client, Endpoint};
use day2top::collect::demo::canaries::CANARY;
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::gateway;
use day2top::redact::{Share, ShareSettings};
use day2top::tui::app::{App, Origin};
use day2top::tui::config::defs::Defs;
use day2top::tui::event_loop::{Surface, run_loop};
use day2top::tui::{Context, screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use common::{ADMIN, READ, poll_until};

#[derive(Debug, Clone, Default)]
struct Seen {
    frames: usize,
    screen: String,
    notice: Option<String>,
    log_lines: usize,
    /// The first frame that showed a planted secret, if one did.
    leaked: Option<String>,
}

struct Watched {
    terminal: Terminal<TestBackend>,
    seen: Arc<Mutex<Seen>>,
}

impl Surface for Watched {
    fn show(&mut self, app: &App) -> Result<()> {
        self.terminal.draw(|frame| screen::draw(frame, app))?;
        let text = self.terminal.backend().to_string();
        let mut seen = self.seen.lock().unwrap();
        if seen.leaked.is_none() && text.to_lowercase().contains(CANARY) {
            seen.leaked = Some(text.clone());
        }
        seen.frames += 1;
        seen.screen = text;
        seen.notice = app.notice.as_ref().map(|n| n.text.clone());
        seen.log_lines = app.model.logs.shown().len();
        Ok(())
    }
}

fn typed(keys: &mpsc::UnboundedSender<Event>, text: &str) {
    for c in text.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        let _ = keys.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

/// A webhook receiver: every body it is sent.
async fn webhook() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(b): State<Arc<Mutex<Vec<String>>>>, body: String| async move {
                    b.lock().unwrap().push(body);
                    "ok"
                },
            ),
        )
        .with_state(bodies.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, bodies)
}

/// Every line of a recording, its gzip members read through.
fn recording_text(path: &std::path::Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_planted_shows_on_any_screen_recording_alert_or_audit_read() {
    let dir = std::env::temp_dir().join(format!("day2top-share-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (hook, bodies) = webhook().await;
    let alerts = format!(
        r#"
queue = "{queue}"
interval = "1s"
redact = true

[[rule]]
name = "DbLogin"
check = "db*"
labels = {{ contact = "canary.oncall@example.com" }}

[[receiver]]
name = "hook"
kind = "webhook"
url = "{hook}"
group_wait = "0s"
"#,
        queue = dir.join("queue").display()
    );
    let mut config = common::demo_config("127.0.0.1:0".parse().unwrap());
    config.alerts = Some(AlertsConfig::parse("alerts.toml", &alerts, None).unwrap());
    config.checks = day2top::collect::checks::parse(
        "[[check]]\nname = \"db login\"\ncommand = [\"sh\", \"-c\", \"echo login failed token=CanaryCheckToken42; exit 1\"]\ninterval = \"500ms\"\nfailures = 1\n",
    )
    .unwrap();
    let demo = DemoSource::new(DemoConfig {
        canaries: true,
        ..Default::default()
    });
    let gw = gateway::start(config, Box::new(demo)).await.unwrap();
    let endpoint = |token: &str| Endpoint {
        url: gw.url.clone(),
        token: token.into(),
        ca: None,
    };

    // An exec whose command line holds a secret: the audit trail has it.
    let admin = Client::new(endpoint(ADMIN)).unwrap();
    let tasks: serde_json::Value = admin.get("/api/v1/tasks").await.unwrap();
    let task = tasks["items"][0]["id"].as_str().unwrap().to_string();
    let request: day2top::api::ExecRequest = serde_json::from_value(serde_json::json!({
        "cmd": ["sh", "-c", "echo password=CanaryExecPw1"]
    }))
    .unwrap();
    let _ = admin.exec(&task, &request).await;
    let audit_path = "/api/v1/audit?limit=100";
    let plain: serde_json::Value = admin.get(audit_path).await.unwrap();
    assert!(
        plain.to_string().to_lowercase().contains(CANARY),
        "the control: without share mode the audit trail shows it"
    );
    let sharing = Share::prepare(&ShareSettings::default(), true).unwrap();
    let shared: serde_json::Value = admin
        .clone()
        .sharing(sharing.clone())
        .get(audit_path)
        .await
        .unwrap();
    assert!(
        !shared.to_string().to_lowercase().contains(CANARY),
        "{shared}"
    );
    assert!(
        admin
            .clone()
            .sharing(sharing)
            .exec(&task, &request)
            .await
            .is_err(),
        "no exec while sharing"
    );

    // The console, in share mode from the start, over the real loop.
    let context = Context {
        prometheus: None,
        name: "demo".into(),
        endpoint: endpoint(READ),
        readonly: false,
    };
    let origin = Origin {
        context: "demo".into(),
        url: gw.url.clone(),
        ..Default::default()
    };
    let mut app = App::new(
        Defs::load(None, "high-contrast", "default"),
        origin,
        vec!["demo".into()],
        None,
        day2top::api::now_millis(),
    );
    app.share = Share::prepare(
        &ShareSettings {
            ips: true,
            literals: vec![READ.into()],
            ..Default::default()
        },
        true,
    )
    .unwrap();
    app.size = (160, 40);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut surface = Watched {
        terminal: Terminal::new(TestBackend::new(160, 40)).unwrap(),
        seen: seen.clone(),
    };
    let (keys, rx) = mpsc::unbounded_channel::<Event>();
    let input = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    let recording = dir.join("shared.d2rec");
    let file = recording.clone();
    let watched = seen.clone();
    let driver = tokio::spawn(async move {
        let shows = |what: &'static str, test: Box<dyn Fn(&Seen) -> bool + Send + Sync>| {
            let seen = seen.clone();
            async move {
                poll_until(what, Duration::from_secs(30), || {
                    let now = seen.lock().unwrap().clone();
                    let hit = test(&now);
                    async move { hit.then_some(now) }
                })
                .await
            }
        };
        let says = |text: &'static str| -> Box<dyn Fn(&Seen) -> bool + Send + Sync> {
            Box::new(move |s: &Seen| s.screen.contains(text))
        };
        let notice = |text: &'static str| -> Box<dyn Fn(&Seen) -> bool + Send + Sync> {
            Box::new(move |s: &Seen| s.notice.as_deref().is_some_and(|n| n.contains(text)))
        };
        shows("the cluster", says("SHARE")).await;
        typed(&keys, &format!(":record {}\n", file.display()));
        shows("the recording", says("REC")).await;

        typed(&keys, ":tasks\n");
        shows("the tasks", says("cluster › tasks")).await;
        typed(&keys, "\n");
        let task = shows("a task's labels", says("DB_PASSWORD=")).await;
        typed(&keys, ":share why\n");
        let why = shows("share why", notice("e-mail")).await;
        assert!(why.notice.unwrap().contains("secret#"));
        typed(&keys, "s");
        shows("exec refused", notice("exec is off while sharing")).await;
        typed(&keys, "y");
        shows("copy refused", notice("copying is off")).await;

        typed(&keys, ":logs\n");
        shows("a planted line, hidden", says("login ok for email#")).await;
        shows("lines with URLs", says("postgres://app:url-password#")).await;
        typed(&keys, ":health\n");
        shows("the check's failure", says("db login")).await;
        typed(&keys, "\n");
        tokio::time::sleep(Duration::from_millis(500)).await;
        typed(&keys, ":traces\n");
        shows("traces", says("HTTP GET /checkout")).await;
        typed(&keys, "\n");
        shows("a trace", says("cluster › traces › ")).await;
        typed(&keys, "\n");
        shows("a span's attributes", says("enduser.email email#")).await;
        for view in [
            ":triage\n",
            ":dash\n",
            ":nodes\n",
            ":alerts\n",
            ":sessions\n",
        ] {
            typed(&keys, view);
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        typed(&keys, "?");
        tokio::time::sleep(Duration::from_millis(300)).await;
        typed(&keys, "\x1b:record\n");
        shows(
            "the recording stopped",
            Box::new(|s: &Seen| !s.screen.contains("● REC")),
        )
        .await;
        typed(&keys, "q");
        task.screen
    });
    run_loop(
        &mut surface,
        &mut app,
        std::slice::from_ref(&context),
        input,
        std::future::pending(),
    )
    .await
    .unwrap();
    let task_screen = driver.await.unwrap();
    let seen = watched.lock().unwrap().clone();
    assert!(
        seen.leaked.is_none(),
        "a frame showed a secret:\n{}",
        seen.leaked.unwrap()
    );

    // The narrowest terminal still says it is sharing.
    let mut tiny = Terminal::new(TestBackend::new(10, 3)).unwrap();
    app.prepare();
    tiny.draw(|frame| screen::draw(frame, &app)).unwrap();
    let top: String = (0..10)
        .map(|x| tiny.backend().buffer()[(x, 0)].symbol().to_string())
        .collect();
    assert!(top.contains("SHARE"), "{top:?}");

    // The recording: redacted as the screen was, with the same placeholders.
    let text = recording_text(&recording);
    assert!(text.contains(r#""redaction":"share""#), "{}", &text[..300]);
    assert!(
        text.contains("(hidden: share mode)"),
        "no gateway address kept"
    );
    assert!(
        !text.to_lowercase().contains(CANARY),
        "the recording holds a secret"
    );
    let owner = app
        .share
        .active()
        .unwrap()
        .text("canary.owner@example.com")
        .into_owned();
    assert!(owner.starts_with("email#"), "{owner}");
    assert!(
        task_screen.contains(&owner),
        "{owner} on the task view:\n{task_screen}"
    );
    assert!(text.contains(&owner), "{owner} the same in the recording");

    // The alert went out redacted.
    let sent = poll_until("the alert", Duration::from_secs(30), || async {
        bodies.lock().unwrap().first().cloned()
    })
    .await;
    assert!(!sent.to_lowercase().contains(CANARY), "{sent}");
    assert!(
        sent.contains("email#"),
        "the label was there, and hidden: {sent}"
    );
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
