//! The console's real event loop, driven without a terminal: keys go in
//! through a channel, frames go to a `TestBackend`, and the effects the
//! keys ask for (write a file, read a dashboard's history, switch to
//! another gateway) run against real gateways on loopback. The test reads
//! what each frame showed and types the next keys once it shows what it
//! waits for.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use color_eyre::eyre::Result;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use day2top::api::UnixMillis;
use day2top::client::Endpoint;
use day2top::gateway::{self, RunningGateway};
use day2top::tui::app::{App, Origin};
use day2top::tui::config::defs::Defs;
use day2top::tui::event_loop::{Surface, run_loop};
use day2top::tui::{Context, screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use common::{READ, demo, demo_config, poll_until};

/// What a frame showed, as the test reads it.
#[derive(Debug, Clone, Default)]
struct Seen {
    frames: usize,
    screen: String,
    context: String,
    nodes: usize,
    log_lines: usize,
    notice: Option<String>,
    /// Per dashboard series, the times of its points.
    dash_points: Vec<Vec<UnixMillis>>,
}

/// A `TestBackend` that tells the test what each frame showed.
struct Watched {
    terminal: Terminal<TestBackend>,
    seen: Arc<Mutex<Seen>>,
}

impl Surface for Watched {
    fn show(&mut self, app: &App) -> Result<()> {
        self.terminal.draw(|frame| screen::draw(frame, app))?;
        let metrics = app.dash.def(&app.defs).metrics();
        let mut seen = self.seen.lock().unwrap();
        *seen = Seen {
            frames: seen.frames + 1,
            screen: self.terminal.backend().to_string(),
            context: app.origin.context.clone(),
            nodes: app.model.nodes.len(),
            log_lines: app.model.logs.shown().len(),
            notice: app.notice.as_ref().map(|n| n.text.clone()),
            dash_points: metrics
                .iter()
                .flat_map(|m| app.model.dash.of(m))
                .map(|s| s.points.iter().map(|p| p.0).collect())
                .collect(),
        };
        Ok(())
    }
}

fn context(name: &str, gw: &RunningGateway) -> Context {
    Context {
        prometheus: None,
        name: name.into(),
        endpoint: Endpoint {
            url: gw.url.clone(),
            token: READ.into(),
            ca: None,
        },
        readonly: false,
    }
}

/// Types `text` (`\n` is Enter).
fn typed(keys: &mpsc::UnboundedSender<Event>, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        let _ = keys.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_runs_what_keys_ask_for_save_dashboard_history_and_context() {
    // A subscription's snapshot carries one point a series here, so points
    // before the dashboard opened can only come from its range read.
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.store_limits.snapshot_points = 1;
    let first = gateway::start(config, demo(7, 10, 40)).await.unwrap();
    let started = tokio::time::Instant::now();
    let second = gateway::start(demo_config("127.0.0.1:0".parse().unwrap()), demo(8, 3, 6))
        .await
        .unwrap();
    let contexts = vec![context("first", &first), context("second", &second)];
    let origin = Origin {
        context: "first".into(),
        url: first.url.clone(),
        ..Default::default()
    };
    let names = contexts.iter().map(|c| c.name.clone()).collect();
    let mut app = App::new(
        Defs::load(None, "default", "default"),
        origin,
        names,
        None,
        day2top::api::now_millis(),
    );
    app.size = (100, 30);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut surface = Watched {
        terminal: Terminal::new(TestBackend::new(100, 30)).unwrap(),
        seen: seen.clone(),
    };
    let (keys, rx) = mpsc::unbounded_channel::<Event>();
    let input = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    let saved = std::env::temp_dir().join(format!("day2top-loop-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&saved);

    let path = saved.clone();
    let driver = tokio::spawn(async move {
        let shows = |what: &'static str, test: fn(&Seen) -> bool| {
            let seen = seen.clone();
            async move {
                poll_until(what, Duration::from_secs(20), || {
                    let now = seen.lock().unwrap().clone();
                    async move { test(&now).then_some(now) }
                })
                .await
            }
        };
        shows("the first cluster", |s| s.nodes == 10).await;

        // :save writes the log view's lines to a file.
        typed(&keys, ":logs\n");
        let before = shows("log lines", |s| s.log_lines > 20).await;
        typed(&keys, &format!(":save {}\n", path.display()));
        let after = shows("the save's notice", |s| {
            s.notice.as_deref().is_some_and(|n| n.starts_with("saved"))
        })
        .await;
        assert!(before.log_lines > 0, "{after:?}");

        // :dash 15m reads the dashboard's history: points older than the
        // moment it opened, which the subscription alone (one point a
        // series, see below) could not bring.
        // History to read: a few of the 15-minute window's 1.5 s steps.
        tokio::time::sleep_until(started + Duration::from_secs(5)).await;
        let opened = day2top::api::now_millis();
        typed(&keys, ":dash 15m\n");
        let history = seen.clone();
        poll_until("the dashboard's history", Duration::from_secs(20), || {
            let now = history.lock().unwrap().clone();
            async move {
                now.dash_points
                    .iter()
                    .any(|points| points.iter().filter(|t| **t < opened).count() >= 2)
                    .then_some(())
            }
        })
        .await;

        // :ctx second starts over on the other gateway.
        typed(&keys, ":ctx second\n");
        let other = shows("the second cluster", |s| {
            s.context == "second" && s.nodes == 3
        })
        .await;
        assert!(other.screen.contains("second"), "{}", other.screen);
        typed(&keys, "q");
    });
    run_loop(
        &mut surface,
        &mut app,
        &contexts,
        input,
        std::future::pending(),
    )
    .await
    .unwrap();
    driver.await.unwrap();

    let written = std::fs::read_to_string(&saved).unwrap();
    assert!(written.lines().count() > 20, "{written}");
    assert!(app.quit, "q ended the loop");
    assert_eq!(app.origin.context, "second");
    let _ = std::fs::remove_file(&saved);
    first.shutdown().await;
    second.shutdown().await;
}
