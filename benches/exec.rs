//! Exec benchmarks, through a real gateway on loopback and the console's
//! pane: the keystroke-to-echo round trip, and bulk output
//! (`head -c 100M /dev/urandom | base64`) through the emulator while the
//! console keeps taking keys. Prints figures; run with
//! `cargo bench --bench exec`.

mod common;

use std::time::{Duration, Instant};

use common::{SECRET, runtime, stats};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use day2top::api::{ExecRequest, TaskState};
use day2top::client::{Client, Endpoint, ExecConnection, ExecInput, ExecOutput};
use day2top::collect::demo::{DemoConfig, DemoSource};
use day2top::gateway::{self, GatewayConfig, Scope, Token, Tokens};
use day2top::tui::app::{App, Effect, Route};
use day2top::tui::screen;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;

/// The console, with a pane open on `task` for session `connection`.
fn console(task: &str) -> (App, u64) {
    let mut app = day2top::fixture::demo_app(DemoConfig::default(), 2);
    app.on_resize(WIDTH, HEIGHT);
    app.routes.push(Route::Task { id: task.into() });
    let id = match app.open_exec(vec!["bench".into()]).as_slice() {
        [Effect::StartExec { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    (app, id)
}

fn request(cmd: &str) -> ExecRequest {
    ExecRequest {
        cmd: vec!["sh".into(), "-c".into(), cmd.into()],
        tty: true,
        interactive: true,
        cols: WIDTH - 2,
        rows: HEIGHT - 5,
        env: Default::default(),
        user: None,
        container: None,
    }
}

/// A key typed in the pane until its echo is on the drawn screen: the
/// console encodes it, the gateway writes it to the terminal, the
/// program (raw mode, echoing itself as a shell's line editor does)
/// writes it back, and the pane takes it and draws a frame.
async fn keystroke(connection: &mut ExecConnection, task: &str, keys: usize) {
    let (mut app, id) = console(task);
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut times = Vec::with_capacity(keys);
    for i in 0..keys + 50 {
        let c = (b'a' + (i % 26) as u8) as char;
        let start = Instant::now();
        for effect in app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)) {
            if let Effect::ExecInput { input, .. } = effect {
                connection.input.send(input).await.unwrap();
            }
        }
        loop {
            match connection.output.recv().await {
                Some(ExecOutput::Stdout(bytes)) => {
                    let echoed = bytes.contains(&(c as u8));
                    app.sessions.on_output(id, ExecOutput::Stdout(bytes));
                    if echoed {
                        break;
                    }
                }
                other => panic!("the session ended: {other:?}"),
            }
        }
        terminal.draw(|f| screen::draw(f, &app)).unwrap();
        if i >= 50 {
            times.push(start.elapsed()); // the first 50 warm up
        }
    }
    let (p50, p99) = stats(times);
    let verdict = if p99 <= Duration::from_millis(5) {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "keystroke to echo, gateway and pane on loopback ({keys} keys)  p50 {p50:>8.3?}  p99 {p99:>8.3?}  (goal p99 ≤ 5ms: {verdict})"
    );
}

/// 100 MB of random bytes as base64 (about 135 MB of text) through the
/// gateway and the emulator, taken as the console's loop takes it: in
/// slices, a frame after each. The longest slice-and-frame is how long
/// a key could wait.
async fn bulk(mut connection: ExecConnection, task: &str) {
    let (mut app, id) = console(task);
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let slice = day2top::tui::event_loop::EXEC_SLICE;
    let start = Instant::now();
    let mut total = 0usize;
    let mut turns = Vec::new();
    'session: loop {
        let turn = Instant::now();
        let mut taken = 0;
        while taken < slice {
            let next = if taken == 0 {
                connection.output.recv().await
            } else {
                match connection.output.try_recv() {
                    Ok(next) => Some(next),
                    Err(_) => break,
                }
            };
            match next {
                Some(ExecOutput::Stdout(bytes)) => {
                    taken += bytes.len();
                    app.sessions.on_output(id, ExecOutput::Stdout(bytes));
                }
                Some(ExecOutput::Exited(status)) => {
                    assert_eq!(status.exit_code, Some(0), "{status:?}");
                    break 'session;
                }
                other => panic!("{other:?}"),
            }
        }
        total += taken;
        terminal.draw(|f| screen::draw(f, &app)).unwrap();
        turns.push(turn.elapsed());
    }
    let secs = start.elapsed().as_secs_f64();
    let max = turns.iter().max().copied().unwrap_or_default();
    let (p50, p99) = stats(turns);
    println!(
        "bulk output through gateway and pane: {:.0} MB in {secs:.2} s = {:.1} MB/s",
        total as f64 / 1e6,
        total as f64 / 1e6 / secs
    );
    println!(
        "  the console's turn (a slice of output and a frame; a key waits at most one): p50 {p50:.3?}  p99 {p99:.3?}  max {max:.3?}"
    );
    println!("  process RSS after: {:.0} MB", common::rss_mb());
}

/// The emulator alone, for comparison: the same kind of text fed straight
/// into a pane, no socket.
fn emulator_alone(task: &str) {
    let (mut app, id) = console(task);
    let mut line = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut chunk = Vec::with_capacity(1 << 16);
    while chunk.len() < (1 << 16) - 80 {
        line.clear();
        for _ in 0..76 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            line.push(alphabet[(seed % 64) as usize]);
        }
        chunk.extend_from_slice(&line);
        chunk.extend_from_slice(b"\r\n");
    }
    let total = 64 << 20;
    let start = Instant::now();
    let mut fed = 0;
    while fed < total {
        app.sessions
            .on_output(id, ExecOutput::Stdout(chunk.clone()));
        fed += chunk.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  the emulator alone (vt100, {} rows of history): {:.1} MB/s",
        day2top::tui::exec::pane::SCROLLBACK,
        fed as f64 / 1e6 / secs
    );
}

fn main() {
    runtime().block_on(async {
        let mut config = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
        config.tokens = Some(Tokens::new(vec![
            Token::new("bench", SECRET, vec![Scope::Read, Scope::Exec])
                .with_exec(&["*"], &["*", "root"]),
        ]));
        let gw = gateway::start(config, Box::new(DemoSource::new(DemoConfig::default())))
            .await
            .unwrap();
        let client = Client::new(Endpoint {
            url: gw.url.clone(),
            token: SECRET.into(),
            ca: None,
        })
        .unwrap();
        let listing: serde_json::Value = client.get("/api/v1/tasks").await.unwrap();
        let tasks: Vec<day2top::api::Task> =
            serde_json::from_value(listing["items"].clone()).unwrap();
        let task = tasks
            .iter()
            .find(|t| t.state == TaskState::Running)
            .expect("a running demo task")
            .id
            .clone();

        let mut echo = client
            .exec(&task, &request("stty raw -echo; cat"))
            .await
            .unwrap();
        // Wait for the terminal to be raw before timing.
        tokio::time::sleep(Duration::from_millis(300)).await;
        keystroke(&mut echo, &task, 2000).await;
        let _ = echo.input.send(ExecInput::CloseStdin).await;
        drop(echo);

        let flood = client
            .exec(&task, &request("head -c 100M /dev/urandom | base64"))
            .await
            .unwrap();
        bulk(flood, &task).await;
        emulator_alone(&task);
        gw.shutdown().await;
    });
}
