//! A replay is the live console again: a console recording a demo gateway
//! over a real socket draws frames at chosen moments; the same console
//! replaying the recording, sought to those moments, draws the same
//! frames (cluster, tasks, triage), to the cell; following the presenter
//! it goes there with no key typed; exported to asciicast, a terminal fed
//! the cast shows the same last frame.

mod common;

use std::time::Duration;

use day2top::api::now_millis;
use day2top::client::{Client, Endpoint};
use day2top::record::player::Player;
use day2top::record::reader::Recording;
use day2top::tui::app::App;
use day2top::tui::chrome::bars::Origin;
use day2top::tui::config::defs::Defs;
use day2top::tui::effect::Effect;
use day2top::tui::replay::Replay;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZE: (u16, u16) = (140, 40);

fn console() -> App {
    let origin = Origin {
        context: "demo".into(),
        url: "http://gateway".into(),
        cluster: None,
        readonly: true,
    };
    let mut app = App::new(
        Defs::load(None, "default", "default"),
        origin,
        Vec::new(),
        None,
        now_millis(),
    );
    app.size = SIZE;
    app
}

/// The frame below the header (which shows the REC badge live), without
/// a notice in the footer.
fn frame(app: &mut App) -> Vec<String> {
    app.notice = None;
    app.prepare();
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).unwrap();
    terminal
        .draw(|f| day2top::tui::screen::draw(f, app))
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    (1..SIZE.1)
        .map(|y| {
            (0..SIZE.0)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect()
        })
        .collect()
}

/// A console recording `url`'s gateway into `name` in a scratch folder
/// from its start, and the stream that feeds it.
fn recording_console(
    url: &str,
    name: &str,
) -> (App, day2top::client::StreamHandle, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("day2top-replay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.d2rec"));
    let mut live = console();
    let effects = live.run_command(&format!("record {}", path.display()));
    let client = Client::new(Endpoint {
        url: url.to_string(),
        token: common::READ.into(),
        ca: None,
    })
    .unwrap();
    let stream = client.stream(Vec::new());
    for effect in effects {
        if let Effect::Subscribe(s) = effect {
            stream.subscribe(*s);
        }
    }
    (live, stream, path)
}

#[tokio::test]
async fn frames_replayed_at_chosen_moments_are_the_frames_drawn_live() {
    let gw = common::start_demo().await;
    // Live: a console that records from its start.
    let (mut live, mut stream, path) = recording_console(&gw.url, "live");
    let mut moments = Vec::new();
    let mut routes = Vec::new();
    let views = ["cluster", "tasks", "triage"];
    let started = tokio::time::Instant::now();
    for (i, view) in views.iter().enumerate() {
        let until = started + Duration::from_millis(1500 * (i as u64 + 1));
        while let Ok(Some(event)) = tokio::time::timeout_at(until, stream.events.recv()).await {
            live.on_stream(event, now_millis());
        }
        live.run_command(view);
        let at = live.now;
        routes.push(live.routes.clone());
        moments.push((at, *view, frame(&mut live)));
        // What comes next is recorded after this moment, not at it.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    live.run_command("record");
    assert!(live.model.loaded, "the live console had the cluster");

    // Following the presenter: the replay goes to the views the live
    // console went to, with no key typed, and draws what it drew.
    let mut player = Player::new(Recording::open(&path).unwrap(), 1.0);
    player.follow_presenter = true;
    let mut following = console();
    let mut replay = Replay::new(player, &mut following);
    following.replay = None;
    for ((at, view, live_frame), routes) in moments.iter().zip(&routes).rev() {
        replay.seek(&mut following, *at);
        assert_eq!(&following.routes, routes, "the presenter's view at {view}");
        assert_eq!(
            &frame(&mut following),
            live_frame,
            "{view} as the presenter saw it"
        );
    }

    // Replay: the same console over the recording.
    let recording = Recording::open(&path).unwrap();
    let mut replayed = console();
    let mut replay = Replay::new(Player::new(recording, 1.0), &mut replayed);
    // The time bar takes the view's last row: the views alone are compared.
    replayed.replay = None;
    for (at, view, live_frame) in moments {
        replay.seek(&mut replayed, at);
        for effect in replayed.run_command(view) {
            replay.effect(&mut replayed, effect);
        }
        let replayed_frame = frame(&mut replayed);
        let differ: Vec<String> = live_frame
            .iter()
            .zip(&replayed_frame)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(y, (a, b))| format!("row {}:\n  live   {a}\n  replay {b}", y + 1))
            .collect();
        assert!(
            differ.is_empty(),
            "{view} at {at}: {} rows differ\n{}",
            differ.len(),
            differ.join("\n")
        );
    }
    // Exported to asciicast: a terminal fed its events shows, at the end,
    // the frame the replay following the presenter draws there.
    let mut cast = Vec::new();
    let mut exporting = console();
    let written = day2top::tui::asciicast::export(
        Player::new(Recording::open(&path).unwrap(), 1.0),
        &mut exporting,
        SIZE,
        &mut cast,
    )
    .unwrap();
    let text = String::from_utf8(cast).unwrap();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert_eq!(
        (header["width"].clone(), header["height"].clone()),
        (SIZE.0.into(), SIZE.1.into())
    );
    let mut terminal = tui_term::vt100::Parser::new(SIZE.1, SIZE.0, 0);
    let mut last = 0.0;
    for line in lines {
        let event: (f64, String, String) = serde_json::from_str(line).unwrap();
        assert!(event.0 >= last && event.1 == "o", "{line}");
        last = event.0;
        terminal.process(event.2.as_bytes());
    }
    assert!(
        written.frames > 10 && written.seconds > 3.0,
        "{} frames",
        written.frames
    );
    let mut player = Player::new(Recording::open(&path).unwrap(), 1.0);
    player.follow_presenter = true;
    player.playing = false;
    let end = player.span().1;
    let mut following = console();
    let mut replay = Replay::new(player, &mut following);
    replay.advance_to(&mut following, end);
    following.now = end;
    let mut drawn = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).unwrap();
    following.prepare();
    drawn
        .draw(|f| day2top::tui::screen::draw(f, &following))
        .unwrap();
    let buffer = drawn.backend().buffer().clone();
    let shown = terminal.screen().contents();
    for (y, row) in shown.lines().enumerate() {
        let want: String = (0..SIZE.0)
            .map(|x| buffer[(x, y as u16)].symbol().to_string())
            .collect();
        assert_eq!(
            row.trim_end(),
            want.trim_end(),
            "row {} of the cast's last frame",
            y + 1
        );
    }
    assert!(
        shown.contains("what changed"),
        "the presenter ended on triage:\n{shown}"
    );

    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// `day2top replay --share` over a recording made without it: the
/// recorded messages pass the share redactor as a live stream's do, so
/// no planted canary reaches a frame of any view (while the same replay
/// without share mode shows them: the control).
#[tokio::test]
async fn a_plain_recording_replayed_in_share_mode_shows_no_secret() {
    use day2top::collect::demo::{DemoConfig, DemoSource};
    let demo = DemoSource::new(DemoConfig {
        canaries: true,
        ..Default::default()
    });
    let config = common::demo_config("127.0.0.1:0".parse().unwrap());
    let gw = day2top::gateway::start(config, Box::new(demo))
        .await
        .unwrap();
    let (mut live, mut stream, path) = recording_console(&gw.url, "plain");
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Some(event)) = tokio::time::timeout_at(until, stream.events.recv()).await {
        live.on_stream(event, now_millis());
    }
    live.run_command("record");

    let screens = |share: bool| {
        let mut app = console();
        if share {
            app.share = day2top::redact::Share::prepare(&Default::default(), true).unwrap();
        }
        let recording = Recording::open(&path).unwrap();
        let end = recording.span().unwrap().1;
        let mut replay = Replay::new(Player::new(recording, 1.0), &mut app);
        replay.seek(&mut app, end);
        let mut text = String::new();
        for view in ["tasks", "logs", "health", "traces", "triage"] {
            for effect in app.run_command(view) {
                replay.effect(&mut app, effect);
            }
            replay.seek(&mut app, end);
            text.push_str(&frame(&mut app).join("\n").to_lowercase());
            // The selected task's labels, where canaries are planted.
            if view == "tasks" {
                for effect in app.on_key(crossterm::event::KeyEvent::from(
                    crossterm::event::KeyCode::Enter,
                )) {
                    replay.effect(&mut app, effect);
                }
                text.push_str(&frame(&mut app).join("\n").to_lowercase());
            }
        }
        text
    };
    assert!(screens(false).contains("canary"), "the control shows them");
    assert!(!screens(true).contains("canary"), "share mode hides them");
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
